/* site_args.c - plugstack.conf arguments (see site_args.h).  Pure. */
#include "site_args.h"
#include "numparse.h"
#include "quote.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define KNOWN "forwarder= exec= advertise= bind= ports= allow= hold= fin_timeout= max_conns="

/* The built-in program paths, kept whole in the plugin's read-only data so that
 * `strings pv_forward.so` shows a site what the plugin runs without forwarder=/exec=.
 * Copied from a constant, they would be compiled into immediate stores instead. */
static const char default_forwarder[] = PV_FORWARDER_PATH;
static const char default_exec_helper[] = PV_EXEC_HELPER_PATH;

static void copy_default(char *dst, size_t size, const char *src)
{
	__asm__("" : "+r"(src));   /* opaque to the optimizer: the copy reads the array */
	snprintf(dst, size, "%s", src);
}

void site_args_init(struct site_args *sa)
{
	memset(sa, 0, sizeof(*sa));
	copy_default(sa->forwarder, sizeof(sa->forwarder), default_forwarder);
	copy_default(sa->exec_helper, sizeof(sa->exec_helper), default_exec_helper);
	sa->hold = FWD_HOLD_DEFAULT_S;
	sa->fin_timeout = FWD_FIN_TIMEOUT_DEFAULT_S;
	sa->max_conns = SITE_DEFAULT_MAX_CONNS;
}

__attribute__((format(printf, 3, 4)))
static int bad(struct site_args *sa, const char *arg, const char *fmt, ...)
{
	char why[256], text[128];
	va_list ap;

	if (sa->nerrors++ == 0) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		quote_str(text, sizeof(text), arg);
		snprintf(sa->error, sizeof(sa->error), "invalid argument '%s': %s", text, why);
	}
	return -1;
}

static int unknown(struct site_args *sa, const char *arg)
{
	char text[128];

	if (sa->nerrors++ == 0) {
		quote_str(text, sizeof(text), arg);
		snprintf(sa->error, sizeof(sa->error),
			 "unknown argument '%s' (known: " KNOWN ")", text);
	}
	return -1;
}

static int set_path(struct site_args *sa, const char *arg, const char *v,
		    char *dst, size_t dstlen)
{
	if (*v != '/')
		return bad(sa, arg, "an absolute path is expected");
	if (strlen(v) >= dstlen)
		return bad(sa, arg, "the path is longer than %zu characters", dstlen - 1);
	snprintf(dst, dstlen, "%s", v);
	return 0;
}

static int set_host(struct site_args *sa, const char *arg, const char *v,
		    char *dst, size_t dstlen)
{
	char why[128];

	/* Accept an IPv6 literal in brackets too. */
	if (*v == '[') {
		size_t l = strlen(v);
		if (l < 3 || v[l - 1] != ']' || l - 2 >= dstlen)
			return bad(sa, arg, "unbalanced '[' (write IPv6 as [ADDR] or ADDR)");
		char tmp[HOSTPORT_HOST_MAX + 1];
		memcpy(tmp, v + 1, l - 2);
		tmp[l - 2] = '\0';
		if (!host_is_valid(tmp, why, sizeof(why)) || !strchr(tmp, ':'))
			return bad(sa, arg, "not an IPv6 address in brackets");
		snprintf(dst, dstlen, "%s", tmp);
		return 0;
	}
	if (!host_is_valid(v, why, sizeof(why)))
		return bad(sa, arg, "%s (a host name or an IP address is expected)", why);
	snprintf(dst, dstlen, "%s", v);
	return 0;
}

static int add_allow(struct site_args *sa, const char *arg, const char *v)
{
	const char *p = v;
	char item[HOSTPORT_HOST_MAX + 8], why[128], q[QUOTE_BUF];

	if (*v == '\0')
		return bad(sa, arg, "a list of CIDR blocks or host names is expected");
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);

		if (l == 0)
			return bad(sa, arg, "empty entry in the list");
		if (l >= sizeof(item))
			return bad(sa, arg, "entry longer than %d characters", HOSTPORT_HOST_MAX);
		memcpy(item, p, l);
		item[l] = '\0';
		if (sa->nallow >= SITE_ALLOW_MAX)
			return bad(sa, arg, "more than %d entries in allow=", SITE_ALLOW_MAX);

		struct site_allow *a = &sa->allow[sa->nallow];
		memset(a, 0, sizeof(*a));
		if (strchr(item, '/') || strchr(item, ':') ||
		    strspn(item, "0123456789.") == l) {
			/* looks like an address: must be a valid CIDR block */
			if (cidr_parse(item, &a->cidr, why, sizeof(why)) < 0)
				return bad(sa, arg, "'%s': %s", quote_str(q, sizeof(q), item), why);
			a->is_cidr = 1;
		} else {
			if (!host_is_valid(item, why, sizeof(why)))
				return bad(sa, arg, "'%s' is neither a CIDR block nor a host name: %s",
					   quote_str(q, sizeof(q), item), why);
			if (l >= sizeof(a->host))
				return bad(sa, arg, "host name longer than %d characters",
					   HOSTPORT_HOST_MAX);
			memcpy(a->host, item, l + 1);
		}
		sa->nallow++;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static int parse_one(struct site_args *sa, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[16];
	unsigned long n;
	size_t kl;

	if (eq == NULL || eq == arg || (kl = (size_t)(eq - arg)) >= sizeof(key))
		return unknown(sa, arg);
	memcpy(key, arg, kl);
	key[kl] = '\0';
	const char *v = eq + 1;

	if (strcmp(key, "forwarder") == 0)
		return set_path(sa, arg, v, sa->forwarder, sizeof(sa->forwarder));
	if (strcmp(key, "exec") == 0)
		return set_path(sa, arg, v, sa->exec_helper, sizeof(sa->exec_helper));
	if (strcmp(key, "advertise") == 0)
		return set_host(sa, arg, v, sa->advertise, sizeof(sa->advertise));
	if (strcmp(key, "bind") == 0)
		return set_host(sa, arg, v, sa->bind, sizeof(sa->bind));
	if (strcmp(key, "ports") == 0) {
		if (parse_port_range(v, &sa->port_lo, &sa->port_hi) < 0)
			return bad(sa, arg, "LO-HI with 1 <= LO <= HI <= 65535 is expected");
		return 0;
	}
	if (strcmp(key, "allow") == 0)
		return add_allow(sa, arg, v);
	if (strcmp(key, "hold") == 0) {
		if (parse_ulong(v, 0, FWD_HOLD_MAX_S, &n) < 0)
			return bad(sa, arg, "seconds 0-%u are expected", FWD_HOLD_MAX_S);
		sa->hold = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "fin_timeout") == 0) {
		if (parse_ulong(v, 1, FWD_FIN_TIMEOUT_MAX_S, &n) < 0)
			return bad(sa, arg, "seconds 1-%u are expected", FWD_FIN_TIMEOUT_MAX_S);
		sa->fin_timeout = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "max_conns") == 0) {
		if (parse_ulong(v, 1, FWD_MAX_CONNS_MAX, &n) < 0)
			return bad(sa, arg, "a number 1-%u is expected", FWD_MAX_CONNS_MAX);
		sa->max_conns = (unsigned)n;
		return 0;
	}
	return unknown(sa, arg);
}

int site_args_parse(struct site_args *sa, int ac, char *const av[])
{
	int rc = 0;

	for (int i = 0; i < ac; i++) {
		if (av[i] == NULL)
			break;
		if (parse_one(sa, av[i]) < 0)
			rc = -1;
	}
	return rc;
}
