/* fuzz_parsers.c - every pure parser that reads what a user, a site or a
 * network peer wrote, fed the same fuzzer input (`make fuzz`, libFuzzer with
 * AddressSanitizer and UndefinedBehaviorSanitizer; not part of `make check`).
 *
 * What each must do with any input is what the unit tests check for chosen
 * ones: answer 0 or -1, never crash, read out of bounds or leak; and a
 * refusal comes with one message (check_message: not empty, one line, no
 * control characters, so that a hostile file or peer cannot forge log lines
 * or send terminal escapes to whoever reads them).  The input is used whole
 * (a config file, a control line, a reply, a ready line, a lifeline line)
 * and split at NUL and newline bytes into an argument vector (the command
 * line, plugstack args, the pvserver command line to rewrite, the
 * --pv-forward value). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv_rewrite.h"
#include "cmdline.h"
#include "config.h"
#include "ctlproto.h"
#include "hostport.h"
#include "lifeline_line.h"
#include "netaddr.h"
#include "numparse.h"
#include "pvf_value.h"
#include "site_args.h"
#include "staterec.h"

#define MAX_WORDS 64

/* A refusal's message, as the file's header says; prefix: how it starts. */
static void check_message(const char *what, const char *msg, const char *prefix)
{
	if (!msg || !msg[0] || strncmp(msg, prefix, strlen(prefix)) != 0) {
		fprintf(stderr, "%s: refused without a proper message: '%s'\n", what, msg ? msg : "(null)");
		abort();
	}
	for (const char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "%s: control character 0x%02x in its message: '%s'\n", what,
				(unsigned char)*p, msg);
			abort();
		}
}

/* Every name resolves to one documentation address (192.0.2.1):
 * pvf_value_check's own rules run, without a DNS query per input. */
static int fake_resolve(void *ctx, const char *host, struct sockaddr_storage *addrs, size_t max,
			size_t *n, char *err, size_t errlen)
{
	(void)ctx, (void)host, (void)err, (void)errlen;
	*n = 0;
	if (max == 0)
		return 0;
	struct sockaddr_in *sin = (struct sockaddr_in *)&addrs[0];
	memset(&addrs[0], 0, sizeof addrs[0]);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0xc0000201);
	*n = 1;
	return 0;
}

static void whole(const char *s, const uint8_t *data, size_t size)
{
	char err[512];
	struct fwd_config cfg;
	if (fwd_config_parse_buf((const char *)data, size, "fuzz.cfg", &cfg, err, sizeof err) == 0)
		fwd_config_free(&cfg);
	else
		check_message("fwd_config_parse_buf", err, "fuzz.cfg:");

	struct ctl_req req;
	const char *why = NULL;
	if (ctl_parse_request((const char *)data, size, &req, &why) < 0)
		check_message("ctl_parse_request", why, "");

	struct hostport hp;
	if (hostport_parse(s, &hp, err, sizeof err) < 0)
		check_message("hostport_parse", err, "");
	struct cidr c;
	if (cidr_parse(s, &c, err, sizeof err) < 0)
		check_message("cidr_parse", err, "");
	uint16_t lo, hi;
	parse_port_range(s, &lo, &hi);
	unsigned long id;
	lifeline_parse_line(s, &id);
	struct staterec rec;
	staterec_parse(s, &rec);
	ctl_parse_reply(s, err, sizeof err);
	uint16_t port, control;
	ctl_parse_ready(s, &port, &control, err, sizeof err);
}

static void words(int argc, char **argv)
{
	char err[512];
	struct cmdline ja;
	if (cmdline_parse(argc, argv, &ja, err, sizeof err) == 0)
		cmdline_free(&ja);
	else
		check_message("cmdline_parse", err, "");

	struct site_args sa;
	site_args_init(&sa);
	if (site_args_parse(&sa, argc - 1, argv + 1) < 0)
		check_message("site_args_parse", sa.error, "");

	argv_runs_pvserver(argc - 1, argv + 1);
	int newc;
	char **rewritten = argv_rewrite(argc - 1, argv + 1, "login", 40123, &newc);
	free(rewritten);     /* one block */

	if (argc > 1) {
		struct pvf_value_env env = { .ssh_connection = argc > 2 ? argv[2] : NULL,
					     .ssh_client = argc > 3 ? argv[3] : NULL };
		struct site_args site;
		site_args_init(&site);
		struct pvf_dest d;
		if (pvf_value_check(argv[1], &env, &site, fake_resolve, NULL, &d, err, sizeof err) < 0)
			check_message("pvf_value_check", err, "pv-forward: ");
		/* the socket form: the grammar only (no file system behind it) */
		if (pvf_value_check_socket(argv[1], argc > 2 ? argv[2] : "/home/u", 1000, NULL, &d,
					   err, sizeof err) < 0)
			check_message("pvf_value_check_socket", err, "pv-forward: ");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	whole(s, data, size);

	/* argv[0] is the program; the words follow, split at '\0' and '\n'. */
	char *argv[MAX_WORDS + 2] = { "pv-forwarder" };
	int argc = 1;
	char *p = s, *end = s + size;
	while (p <= end && argc <= MAX_WORDS) {
		char *q = p;
		while (q < end && *q != '\0' && *q != '\n')
			q++;
		*q = '\0';
		argv[argc++] = p;
		p = q + 1;
	}
	argv[argc] = NULL;
	words(argc, argv);
	free(s);
	return 0;
}
