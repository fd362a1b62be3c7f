/* check_pvf_value.c - the --pv-forward=DEST value: grammar, defaults, SSH address,
 * resolution (a table, no DNS) and the site's allow= policy. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pvf_value.h"
#include "site_args.h"

/* The fake resolver: a few names, and IP literals. */
static const struct {
	const char *name;
	const char *addrs[3];
} names[] = {
	{ "desktop", { "192.0.2.10" } },
	{ "desktop.example.org", { "2001:db8::11", "192.0.2.11" } },
	{ "v6only", { "2001:db8::5" } },
	{ "allowed-host", { "198.51.100.7" } },
	{ "desktop-alias", { "192.0.2.10" } },
	{ "a", { "203.0.113.1" } },
};

static int resolver_calls;

static int add_literal(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 1;
	}
	return 0;
}

static int fake_resolve(void *ctx, const char *host, struct sockaddr_storage *addrs,
			size_t max, size_t *n, char *err, size_t errlen)
{
	(void)ctx;
	resolver_calls++;
	*n = 0;
	if (add_literal(host, &addrs[0])) {
		*n = 1;
		return 0;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(names[i].name, host) != 0)
			continue;
		for (size_t j = 0; j < 3 && names[i].addrs[j] && *n < max; j++)
			*n += (size_t)add_literal(names[i].addrs[j], &addrs[*n]);
		return 0;
	}
	snprintf(err, errlen, "Name or service not known");
	return -1;
}

static const struct pvf_value_env no_ssh = { NULL, NULL };
static const struct pvf_value_env ssh = { "203.0.113.9 50022 10.0.0.1 22", "198.51.100.1 50022 22" };
static const struct pvf_value_env ssh_client_only = { NULL, "198.51.100.1 50022 22" };

static int check(const char *v, const struct pvf_value_env *env, const struct site_args *site,
		 struct pvf_dest *d, char *msg, size_t msglen)
{
	msg[0] = '\0';
	return pvf_value_check(v, env, site, fake_resolve, NULL, d, msg, msglen);
}

struct good_case {
	const char *value;
	const struct pvf_value_env *env;
	const char *host;
	unsigned port;
	int from_ssh;
};

static const struct good_case good[] = {
	{ "desktop", &no_ssh, "desktop", 11111, 0 },
	{ "desktop:12345", &no_ssh, "desktop", 12345, 0 },
	{ "desktop:1", &no_ssh, "desktop", 1, 0 },
	{ "desktop:65535", &no_ssh, "desktop", 65535, 0 },
	{ "desktop.example.org:11111", &no_ssh, "desktop.example.org", 11111, 0 },
	{ "192.0.2.1", &no_ssh, "192.0.2.1", 11111, 0 },
	{ "192.0.2.1:22222", &no_ssh, "192.0.2.1", 22222, 0 },
	{ "[2001:db8::1]:5", &no_ssh, "2001:db8::1", 5, 0 },
	{ "[::1]", &no_ssh, "::1", 11111, 0 },
	{ "2001:db8::1", &no_ssh, "2001:db8::1", 11111, 0 },
	{ "a", &no_ssh, "a", 11111, 0 },
	{ ":22222", &ssh, "203.0.113.9", 22222, 1 },
	{ "", &ssh, "203.0.113.9", 11111, 1 },
	{ NULL, &ssh, "203.0.113.9", 11111, 1 },
	{ "(null)", &ssh, "203.0.113.9", 11111, 1 },
	{ NULL, &ssh_client_only, "198.51.100.1", 11111, 1 },
	{ "desktop", &ssh, "desktop", 11111, 0 },
};

START_TEST(test_good)
{
	const struct good_case *c = &good[_i];
	struct pvf_dest d;
	char msg[1024];
	int rc = check(c->value, c->env, NULL, &d, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "'%s' refused: %s", c->value ? c->value : "(NULL)", msg);
	ck_assert_str_eq(d.host, c->host);
	ck_assert_str_eq(d.to, c->host);
	ck_assert_uint_eq(d.port, c->port);
	ck_assert_int_eq(d.from_ssh, c->from_ssh);
}
END_TEST

struct bad_case {
	const char *value;
	const struct pvf_value_env *env;
	const char *reason;   /* a part of the message */
};

static char long_name[301];
static char long_label[80];

static const struct bad_case bad[] = {
	{ ":", &ssh, "neither host nor port" },
	{ "::", &no_ssh, "unspecified (any) address" },
	{ "[::]:11111", &no_ssh, "unspecified (any) address" },
	{ "0.0.0.0:11111", &no_ssh, "unspecified (any) address" },
	{ "desktop:", &no_ssh, "missing port" },
	{ "[::1]:", &no_ssh, "missing port" },
	{ "desktop:0", &no_ssh, "out of range" },
	{ "desktop:65536", &no_ssh, "out of range" },
	{ "desktop:111111", &no_ssh, "out of range" },
	{ "desktop:99999999999999999999", &no_ssh, "out of range" },
	{ "desktop:-1", &no_ssh, "not a number" },
	{ "desktop:11111x", &no_ssh, "not a number" },
	{ "desktop:0x10", &no_ssh, "not a number" },
	{ "desktop:+1", &no_ssh, "character '+'" },
	{ ":-1", &ssh, "not a number" },
	{ "desktop: 11111", &no_ssh, "white space" },
	{ " desktop", &no_ssh, "white space" },
	{ "desk top", &no_ssh, "white space" },
	{ "desktop\t", &no_ssh, "white space" },
	{ "desktop\n", &no_ssh, "white space" },
	{ "desk\x01top", &no_ssh, "control character 0x01" },
	{ "d\xc3\xa8sktop", &no_ssh, "non-ASCII byte 0xc3" },
	{ "desktop;rm -rf /", &no_ssh, "character ';'" },
	{ "$(reboot)", &no_ssh, "character '$'" },
	{ "`id`", &no_ssh, "character '`'" },
	{ "desktop|cat", &no_ssh, "character '|'" },
	{ "desktop&", &no_ssh, "character '&'" },
	{ "desktop>x", &no_ssh, "character '>'" },
	{ "'desktop'", &no_ssh, "character \"'\" is not allowed" },
	{ "\"desktop\"", &no_ssh, "character '\"'" },
	{ "*", &no_ssh, "character '*'" },
	{ "user@desktop", &no_ssh, "character '@'" },
	{ "desktop/24", &no_ssh, "character '/'" },
	{ "http://desktop:11111", &no_ssh, "character '/'" },
	{ "desktop,other", &no_ssh, "character ','" },
	{ "desk_top", &no_ssh, "invalid character '_'" },
	{ "-desktop", &no_ssh, "starts with '-'" },
	{ "desktop-", &no_ssh, "ends with '-'" },
	{ "desk..top", &no_ssh, "empty label" },
	{ ".desktop", &no_ssh, "empty label" },
	{ long_name, &no_ssh, "longer than 253" },
	{ long_label, &no_ssh, "longer than 63" },
	{ "[2001:db8::1", &no_ssh, "unbalanced '['" },
	{ "2001:db8::1]", &no_ssh, "unbalanced ']'" },
	{ "[2001:db8::1]x", &no_ssh, "after ']'" },
	{ "[]", &no_ssh, "empty IPv6" },
	{ "[desktop]:1", &no_ssh, "not an IPv6 address" },
	{ "[192.0.2.1]:1", &no_ssh, "not an IPv6 address" },
	{ "desktop:1:2", &no_ssh, "more than one ':'" },
	{ "host::1", &no_ssh, "more than one ':'" },
	{ "2001:db8::1:11111:", &no_ssh, "more than one ':'" },
	{ "nosuchhost", &no_ssh, "does not resolve" },
	{ "nosuchhost:11111", &no_ssh, "does not resolve" },
	{ "", &no_ssh, "neither SSH_CONNECTION nor SSH_CLIENT" },
	{ NULL, &no_ssh, "neither SSH_CONNECTION nor SSH_CLIENT" },
	{ ":11111", &no_ssh, "neither SSH_CONNECTION nor SSH_CLIENT" },
};

START_TEST(test_bad)
{
	const struct bad_case *c = &bad[_i];
	struct pvf_dest d;
	char msg[1024];
	const char *tail = "' (expected HOST[:PORT])";
	int rc = check(c->value, c->env, NULL, &d, msg, sizeof(msg));
	ck_assert_msg(rc == -1, "'%s' accepted", c->value ? c->value : "(NULL)");
	ck_assert_msg(strncmp(msg, "pv-forward: ", 12) == 0, "prefix: %s", msg);
	ck_assert_msg(strstr(msg, c->reason) != NULL, "'%s' lacks '%s'", msg, c->reason);
	ck_assert_msg(strstr(msg, " in '") != NULL, "no value quoted: %s", msg);
	ck_assert_msg(strlen(msg) > strlen(tail) &&
		      strcmp(msg + strlen(msg) - strlen(tail), tail) == 0, "tail: %s", msg);
	ck_assert_msg(strchr(msg, '\n') == NULL && strchr(msg, '\t') == NULL, "one line: %s", msg);
	for (const char *p = msg; *p; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
			      "unprintable byte in: %s", msg);
}
END_TEST

START_TEST(test_message_format)
{
	struct pvf_dest d;
	char msg[1024];
	ck_assert_int_eq(check("desktop:0", &no_ssh, NULL, &d, msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, "pv-forward: port 0 is out of range 1-65535 in 'desktop:0' "
			      "(expected HOST[:PORT])");
	ck_assert_int_eq(check("nosuchhost", &no_ssh, NULL, &d, msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, "pv-forward: host 'nosuchhost' does not resolve on this login "
			      "node (Name or service not known) in 'nosuchhost' (expected HOST[:PORT])");
	ck_assert_int_eq(check("desktop\n", &no_ssh, NULL, &d, msg, sizeof(msg)), -1);
	ck_assert_ptr_nonnull(strstr(msg, "in 'desktop\\x0a'"));
	ck_assert_int_eq(check("'x", &no_ssh, NULL, &d, msg, sizeof(msg)), -1);
	ck_assert_ptr_nonnull(strstr(msg, "in '\\'x'"));
	ck_assert_int_eq(check(long_name, &no_ssh, NULL, &d, msg, sizeof(msg)), -1);
	ck_assert_ptr_nonnull(strstr(msg, "...' (expected"));
	/* a small buffer still ends in a terminated string */
	char small[16];
	ck_assert_int_eq(check(":", &ssh, NULL, &d, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "pv-forward: nei");
}
END_TEST

START_TEST(test_no_resolver)
{
	struct pvf_dest d;
	char msg[256];
	ck_assert_int_eq(pvf_value_check("nosuchhost:5", &no_ssh, NULL, NULL, NULL, &d, msg,
				    sizeof(msg)), 0);
	ck_assert_str_eq(d.host, "nosuchhost");
	ck_assert_uint_eq(d.port, 5);
}
END_TEST

START_TEST(test_ssh_host)
{
	char host[64], why[256];
	struct pvf_value_env e = { "203.0.113.9 1 2 3", NULL };
	ck_assert_int_eq(pvf_value_ssh_host(&e, host, sizeof(host), why, sizeof(why)), 0);
	ck_assert_str_eq(host, "203.0.113.9");
	e.ssh_connection = "::ffff:203.0.113.9 1 2 3";
	ck_assert_int_eq(pvf_value_ssh_host(&e, host, sizeof(host), why, sizeof(why)), 0);
	ck_assert_str_eq(host, "203.0.113.9");
	e.ssh_connection = "::FFFF:203.0.113.9 1 2 3";
	ck_assert_int_eq(pvf_value_ssh_host(&e, host, sizeof(host), why, sizeof(why)), 0);
	ck_assert_str_eq(host, "203.0.113.9");
	e.ssh_connection = "2001:db8::9 1 2001:db8::1 22";
	ck_assert_int_eq(pvf_value_ssh_host(&e, host, sizeof(host), why, sizeof(why)), 0);
	ck_assert_str_eq(host, "2001:db8::9");
	e.ssh_connection = "";    /* empty: fall back to SSH_CLIENT */
	e.ssh_client = "198.51.100.1 5 22";
	ck_assert_int_eq(pvf_value_ssh_host(&e, host, sizeof(host), why, sizeof(why)), 0);
	ck_assert_str_eq(host, "198.51.100.1");
	e.ssh_connection = "notanip 1 2 3";
	ck_assert_int_eq(pvf_value_ssh_host(&e, host, sizeof(host), why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "SSH_CONNECTION starts with 'notanip'"));
	e.ssh_connection = "   ";
	e.ssh_client = NULL;
	ck_assert_int_eq(pvf_value_ssh_host(&e, host, sizeof(host), why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "does not start with an IP address"));
	e.ssh_connection = "fe80::1%eth0 1 2 3";
	ck_assert_int_eq(pvf_value_ssh_host(&e, host, sizeof(host), why, sizeof(why)), -1);
	ck_assert_int_eq(pvf_value_ssh_host(NULL, host, sizeof(host), why, sizeof(why)), -1);
	/* through pvf_value_check: a bad SSH_CONNECTION is reported as such */
	struct pvf_dest d;
	char msg[512];
	e.ssh_connection = "notanip 1 2 3";
	ck_assert_int_eq(check("", &e, NULL, &d, msg, sizeof(msg)), -1);
	ck_assert_ptr_nonnull(strstr(msg, "SSH_CONNECTION"));
	ck_assert_ptr_nonnull(strstr(msg, "in '' (expected HOST[:PORT])"));
}
END_TEST

static void policy(struct site_args *sa, char *allow)
{
	char *av[] = { allow };
	site_args_init(sa);
	ck_assert_int_eq(site_args_parse(sa, 1, av), 0);
}

START_TEST(test_policy)
{
	struct site_args sa;
	struct pvf_dest d;
	char msg[1024];

	policy(&sa, "allow=192.0.2.0/24");
	ck_assert_int_eq(check("desktop:5", &no_ssh, &sa, &d, msg, sizeof(msg)), 0);
	ck_assert_str_eq(d.host, "desktop");
	ck_assert_str_eq(d.to, "192.0.2.10");        /* the checked address */
	ck_assert_int_eq(check("allowed-host", &no_ssh, &sa, &d, msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, "pv-forward: this site does not allow forwarding to "
			      "'allowed-host' (allowed: 192.0.2.0/24) in 'allowed-host' "
			      "(expected HOST[:PORT])");
	ck_assert_int_eq(check("v6only", &no_ssh, &sa, &d, msg, sizeof(msg)), -1);
	/* dual-stack name: the allowed IPv4 address is chosen */
	ck_assert_int_eq(check("desktop.example.org", &no_ssh, &sa, &d, msg, sizeof(msg)), 0);
	ck_assert_str_eq(d.to, "192.0.2.11");
	/* the SSH address is subject to the policy too */
	ck_assert_int_eq(check("", &ssh, &sa, &d, msg, sizeof(msg)), -1);
	ck_assert_ptr_nonnull(strstr(msg, "'203.0.113.9'"));

	policy(&sa, "allow=2001:db8::/32");
	ck_assert_int_eq(check("desktop.example.org", &no_ssh, &sa, &d, msg, sizeof(msg)), 0);
	ck_assert_str_eq(d.to, "2001:db8::11");
	ck_assert_int_eq(check("[2001:db8::77]:9", &no_ssh, &sa, &d, msg, sizeof(msg)), 0);
	ck_assert_str_eq(d.to, "2001:db8::77");

	policy(&sa, "allow=192.0.2.0/24,2001:db8::/32");
	ck_assert_int_eq(check("desktop.example.org", &no_ssh, &sa, &d, msg, sizeof(msg)), 0);
	ck_assert_str_eq(d.to, "192.0.2.11");          /* IPv4 preferred */

	/* by name: the name is kept for the forwarder */
	policy(&sa, "allow=allowed-host");
	ck_assert_int_eq(check("allowed-host", &no_ssh, &sa, &d, msg, sizeof(msg)), 0);
	ck_assert_str_eq(d.to, "allowed-host");
	ck_assert_int_eq(check("ALLOWED-HOST", &no_ssh, &sa, &d, msg, sizeof(msg)), 0);
	/* its address, given as a literal, matches too */
	ck_assert_int_eq(check("198.51.100.7", &no_ssh, &sa, &d, msg, sizeof(msg)), 0);
	ck_assert_str_eq(d.to, "198.51.100.7");
	ck_assert_int_eq(check("desktop", &no_ssh, &sa, &d, msg, sizeof(msg)), -1);

	/* another name for an allowed host's address */
	policy(&sa, "allow=desktop");
	ck_assert_int_eq(check("desktop-alias", &no_ssh, &sa, &d, msg, sizeof(msg)), 0);
	ck_assert_str_eq(d.to, "192.0.2.10");
	/* an allow= name that does not resolve allows only itself */
	policy(&sa, "allow=gone.example.org");
	ck_assert_int_eq(check("desktop", &no_ssh, &sa, &d, msg, sizeof(msg)), -1);

	/* a syntax error is reported before any resolution */
	resolver_calls = 0;
	ck_assert_int_eq(check("desktop:0", &no_ssh, &sa, &d, msg, sizeof(msg)), -1);
	ck_assert_int_eq(resolver_calls, 0);
}
END_TEST

START_TEST(test_policy_message_list)
{
	struct site_args sa;
	struct pvf_dest d;
	char msg[1024];
	char *av[] = { "allow=10.0.0.0/8,172.16.0.0/12,desk.example.org",
		       "allow=2001:db8::/48" };
	site_args_init(&sa);
	ck_assert_int_eq(site_args_parse(&sa, 2, av), 0);
	ck_assert_int_eq(check("desktop", &no_ssh, &sa, &d, msg, sizeof(msg)), -1);
	ck_assert_ptr_nonnull(strstr(msg, "(allowed: 10.0.0.0/8, 172.16.0.0/12, "
					  "desk.example.org, 2001:db8::/48)"));
}
END_TEST

/* The real resolver on literals (no DNS needed). */
START_TEST(test_getaddrinfo_literals)
{
	struct sockaddr_storage a[PVF_VALUE_MAX_ADDRS];
	size_t n = 0;
	char err[128];
	ck_assert_int_eq(pvf_value_resolve_getaddrinfo(NULL, "127.0.0.1", a, PVF_VALUE_MAX_ADDRS, &n,
						  err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(a[0].ss_family, AF_INET);
	ck_assert_int_eq(pvf_value_resolve_getaddrinfo(NULL, "::1", a, PVF_VALUE_MAX_ADDRS, &n,
						  err, sizeof(err)), 0);
	ck_assert_int_eq(a[0].ss_family, AF_INET6);
	ck_assert_int_eq(pvf_value_resolve_getaddrinfo(NULL, "no-such-host.invalid", a,
						  PVF_VALUE_MAX_ADDRS, &n, err, sizeof(err)), -1);
	ck_assert_uint_gt(strlen(err), 0);
}
END_TEST

static void setup_names(void)
{
	memset(long_name, 'a', 300);
	for (int i = 50; i < 300; i += 51)
		long_name[i] = '.';
	long_name[300] = '\0';
	memset(long_label, 'b', 64);
	memcpy(long_label + 64, ".example.org", 13);
}

Suite *pvf_value_suite(void)
{
	Suite *s = suite_create("pvf_value");
	TCase *tc = tcase_create("dest");
	setup_names();
	tcase_add_loop_test(tc, test_good, 0, (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_message_format);
	tcase_add_test(tc, test_no_resolver);
	tcase_add_test(tc, test_ssh_host);
	tcase_add_test(tc, test_policy);
	tcase_add_test(tc, test_policy_message_list);
	tcase_add_test(tc, test_getaddrinfo_literals);
	suite_add_tcase(s, tc);
	return s;
}
