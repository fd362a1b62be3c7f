/* check_site_args.c - plugstack.conf arguments of pv_forward.so. */
#include <check.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "site_args.h"

static int parse(struct site_args *sa, char *a, char *b, char *c)
{
	char *av[] = { a, b, c, NULL };
	int ac = 0;
	while (ac < 3 && av[ac])
		ac++;
	site_args_init(sa);
	return site_args_parse(sa, ac, av);
}

START_TEST(test_defaults)
{
	struct site_args sa;
	ck_assert_int_eq(parse(&sa, NULL, NULL, NULL), 0);
	ck_assert_str_eq(sa.forwarder, PV_FORWARDER_PATH);
	ck_assert_str_eq(sa.exec_helper, PV_EXEC_HELPER_PATH);
	ck_assert_str_eq(sa.advertise, "");
	ck_assert_str_eq(sa.bind, "");
	ck_assert_uint_eq(sa.port_lo, 0);
	ck_assert_uint_eq(sa.port_hi, 0);
	ck_assert_uint_eq(sa.nallow, 0);
	ck_assert_uint_eq(sa.hold, 60);
	ck_assert_uint_eq(sa.fin_timeout, 60);
	ck_assert_uint_eq(sa.max_conns, SITE_DEFAULT_MAX_CONNS);
	ck_assert_int_eq(sa.nerrors, 0);
	ck_assert_str_eq(sa.error, "");
}
END_TEST

START_TEST(test_all_keys)
{
	struct site_args sa;
	char *av[] = {
		"forwarder=/opt/pv/bin/pv-forwarder", "exec=/opt/pv/libexec/pv-forward-exec",
		"advertise=login1.cluster", "bind=10.0.0.1", "ports=20000-20099",
		"allow=10.0.0.0/8,desktop.example.org", "allow=2001:db8::/32,192.0.2.7",
		"hold=120", "max_conns=4", "fin_timeout=300",
	};
	site_args_init(&sa);
	ck_assert_int_eq(site_args_parse(&sa, 10, av), 0);
	ck_assert_str_eq(sa.forwarder, "/opt/pv/bin/pv-forwarder");
	ck_assert_str_eq(sa.exec_helper, "/opt/pv/libexec/pv-forward-exec");
	ck_assert_str_eq(sa.advertise, "login1.cluster");
	ck_assert_str_eq(sa.bind, "10.0.0.1");
	ck_assert_uint_eq(sa.port_lo, 20000);
	ck_assert_uint_eq(sa.port_hi, 20099);
	ck_assert_uint_eq(sa.hold, 120);
	ck_assert_uint_eq(sa.fin_timeout, 300);
	ck_assert_uint_eq(sa.max_conns, 4);
	ck_assert_uint_eq(sa.nallow, 4);
	ck_assert(sa.allow[0].is_cidr);
	ck_assert_int_eq(sa.allow[0].cidr.family, AF_INET);
	ck_assert_uint_eq(sa.allow[0].cidr.prefix, 8);
	ck_assert(!sa.allow[1].is_cidr);
	ck_assert_str_eq(sa.allow[1].host, "desktop.example.org");
	ck_assert(sa.allow[2].is_cidr);
	ck_assert_int_eq(sa.allow[2].cidr.family, AF_INET6);
	ck_assert_uint_eq(sa.allow[2].cidr.prefix, 32);
	ck_assert(sa.allow[3].is_cidr);
	ck_assert_uint_eq(sa.allow[3].cidr.prefix, 32);
}
END_TEST

START_TEST(test_values)
{
	struct site_args sa;
	ck_assert_int_eq(parse(&sa, "advertise=[2001:db8::1]", "bind=::", NULL), 0);
	ck_assert_str_eq(sa.advertise, "2001:db8::1");
	ck_assert_str_eq(sa.bind, "::");
	ck_assert_int_eq(parse(&sa, "hold=0", "ports=5-5", "max_conns=65536"), 0);
	ck_assert_uint_eq(sa.hold, 0);
	ck_assert_uint_eq(sa.port_lo, 5);
	ck_assert_uint_eq(sa.port_hi, 5);
	ck_assert_uint_eq(sa.max_conns, 65536);
	ck_assert_int_eq(parse(&sa, "hold=86400", "hold=5", NULL), 0);   /* last wins */
	ck_assert_uint_eq(sa.hold, 5);
	ck_assert_int_eq(parse(&sa, "allow=desktop", NULL, NULL), 0);
	ck_assert_str_eq(sa.allow[0].host, "desktop");
	ck_assert_int_eq(parse(&sa, "allow=0.0.0.0/0", NULL, NULL), 0);
	ck_assert_uint_eq(sa.allow[0].cidr.prefix, 0);
}
END_TEST

struct bad_case {
	const char *arg;
	const char *reason;  /* a part of the message */
};

static const struct bad_case bad[] = {
	{ "colour=red", "unknown argument 'colour=red'" },
	{ "noequals", "unknown argument 'noequals'" },
	{ "=x", "unknown argument '=x'" },
	{ "HOLD=5", "unknown argument 'HOLD=5'" },
	{ "forwarder", "unknown argument 'forwarder'" },
	{ "a_very_long_key_name=1", "unknown argument" },
	{ "forwarder=relative/pv-forwarder", "absolute path" },
	{ "forwarder=", "absolute path" },
	{ "exec=pv-forward-exec", "absolute path" },
	{ "advertise=", "'advertise=': empty host" },
	{ "advertise=bad_name", "invalid character '_'" },
	{ "advertise=-login", "starts with '-'" },
	{ "advertise=[2001:db8::1", "unbalanced '['" },
	{ "advertise=[login]", "not an IPv6 address" },
	{ "bind=10.0.0.1:5", "invalid character ':'" },
	{ "ports=5", "LO-HI" },
	{ "ports=6-5", "LO-HI" },
	{ "ports=0-10", "LO-HI" },
	{ "ports=1-65536", "LO-HI" },
	{ "ports=", "LO-HI" },
	{ "allow=", "a list of CIDR blocks" },
	{ "allow=a,,b", "empty entry" },
	{ "allow=10.0.0.0/8,", "empty entry" },
	{ "allow=10.0.0.0/33", "mask length" },
	{ "allow=300.1.1.1", "not an IP address" },
	{ "allow=bad_host", "neither a CIDR block nor a host name" },
	{ "allow=2001:db8::/129", "mask length" },
	{ "hold=-1", "seconds 0-86400" },
	{ "hold=86401", "seconds 0-86400" },
	{ "hold=abc", "seconds 0-86400" },
	{ "hold=", "seconds 0-86400" },
	{ "hold= 5", "seconds 0-86400" },
	{ "fin_timeout=0", "seconds 1-86400" },
	{ "fin_timeout=86401", "seconds 1-86400" },
	{ "fin_timeout=1m", "seconds 1-86400" },
	{ "fin_timeout=", "seconds 1-86400" },
	{ "max_conns=0", "1-65536" },
	{ "max_conns=65537", "1-65536" },
	{ "max_conns=4x", "1-65536" },
};

START_TEST(test_bad)
{
	struct site_args sa;
	const struct bad_case *c = &bad[_i];
	char arg[128];
	snprintf(arg, sizeof(arg), "%s", c->arg);
	ck_assert_int_eq(parse(&sa, arg, NULL, NULL), -1);
	ck_assert_int_eq(sa.nerrors, 1);
	ck_assert_msg(strstr(sa.error, c->reason) != NULL, "'%s': '%s' lacks '%s'",
		      c->arg, sa.error, c->reason);
	/* the argument's text is quoted */
	ck_assert_msg(strstr(sa.error, c->arg) != NULL, "'%s' not quoted in '%s'",
		      c->arg, sa.error);
}
END_TEST

START_TEST(test_errors_keep_the_rest)
{
	struct site_args sa;
	ck_assert_int_eq(parse(&sa, "hold=x", "ports=20000-20001", "colour=red"), -1);
	ck_assert_int_eq(sa.nerrors, 2);
	ck_assert_ptr_nonnull(strstr(sa.error, "hold=x"));     /* the first one */
	ck_assert_uint_eq(sa.port_lo, 20000);                  /* valid ones apply */
	ck_assert_uint_eq(sa.hold, 60);
}
END_TEST

START_TEST(test_shown_text)
{
	struct site_args sa;
	char longarg[400];
	memset(longarg, 'x', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	ck_assert_int_eq(parse(&sa, longarg, NULL, NULL), -1);
	ck_assert_ptr_nonnull(strstr(sa.error, "...'"));
	ck_assert_uint_lt(strlen(sa.error), sizeof(sa.error) - 1);
	ck_assert_int_eq(parse(&sa, "col\nour=1\x01", NULL, NULL), -1);
	ck_assert_ptr_nonnull(strstr(sa.error, "'col\\x0aour=1\\x01'"));
	ck_assert_ptr_null(strchr(sa.error, '\n'));
	/* an allow= entry is shown the same way */
	ck_assert_int_eq(parse(&sa, "allow=a\tb", NULL, NULL), -1);
	ck_assert_ptr_nonnull(strstr(sa.error, "'a\\x09b' is neither a CIDR block nor a host name"));
}
END_TEST

START_TEST(test_allow_limit)
{
	struct site_args sa;
	char list[4096] = "allow=";
	for (int i = 0; i <= SITE_ALLOW_MAX; i++) {
		char one[24];
		snprintf(one, sizeof(one), "%s10.0.%d.0/24", i ? "," : "", i);
		strcat(list, one);
	}
	ck_assert_int_eq(parse(&sa, list, NULL, NULL), -1);
	ck_assert_ptr_nonnull(strstr(sa.error, "more than 64 entries"));
	ck_assert_uint_eq(sa.nallow, SITE_ALLOW_MAX);
}
END_TEST

Suite *site_args_suite(void)
{
	Suite *s = suite_create("site_args");
	TCase *tc = tcase_create("plugstack");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_all_keys);
	tcase_add_test(tc, test_values);
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_errors_keep_the_rest);
	tcase_add_test(tc, test_shown_text);
	tcase_add_test(tc, test_allow_limit);
	suite_add_tcase(s, tc);
	return s;
}
