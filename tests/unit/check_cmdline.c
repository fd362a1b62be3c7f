/* check_cmdline.c - pv-forwarder's command line (forwarder/cmdline.c). */
#include <check.h>
#include <string.h>

#include "cmdline.h"

/* Parses a NULL-terminated list of arguments (argv[0] is added). */
#define PARSE(a, err, ...) parse_list((a), (err), (const char *[]){ "pv-forwarder", __VA_ARGS__, NULL })

static int parse_list(struct cmdline *a, char *err, const char **list)
{
	int argc = 0;
	while (list[argc])
		argc++;
	return cmdline_parse(argc, (char *const *)list, a, err, 256);
}

START_TEST(portfwd_minimal)
{
	struct cmdline a;
	char err[256];
	ck_assert_int_eq(PARSE(&a, err, "-c", "fwd.cfg"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_PORTFWD);
	ck_assert_str_eq(a.config, "fwd.cfg");
	ck_assert_int_eq(a.foreground, 0);
	ck_assert_int_eq(a.debug, 0);
	ck_assert_uint_eq(a.hold_s, FWD_HOLD_DEFAULT_S);
	ck_assert_uint_eq(a.fin_timeout_s, FWD_FIN_TIMEOUT_DEFAULT_S);
	ck_assert_uint_eq(FWD_FIN_TIMEOUT_DEFAULT_S, 60);
	ck_assert_uint_eq(a.max_conns, FWD_MAX_CONNS_DEFAULT);
	ck_assert_ptr_null(a.pidfile);
	ck_assert_int_eq(a.ready_fd, -1);
	ck_assert_int_eq(a.lifeline_fd, -1);
	cmdline_free(&a);
}
END_TEST

START_TEST(portfwd_spellings)
{
	struct cmdline a;
	char err[256];
	ck_assert_int_eq(PARSE(&a, err, "--config=x.cfg", "--foreground", "--debug", "-d"), 0);
	ck_assert_str_eq(a.config, "x.cfg");
	ck_assert_int_eq(a.foreground, 1);
	ck_assert_int_eq(a.debug, 2);
	cmdline_free(&a);

	ck_assert_int_eq(PARSE(&a, err, "-gddcy.cfg"), 0);
	ck_assert_str_eq(a.config, "y.cfg");
	ck_assert_int_eq(a.foreground, 1);
	ck_assert_int_eq(a.debug, 2);
	cmdline_free(&a);

	ck_assert_int_eq(PARSE(&a, err, "--config", "z.cfg", "--hold", "0", "--max-conns=3",
			       "--pidfile", "/run/p.pid", "--fin-timeout=1", "--"), 0);
	ck_assert_str_eq(a.config, "z.cfg");
	ck_assert_uint_eq(a.hold_s, 0);
	ck_assert_uint_eq(a.fin_timeout_s, 1);
	ck_assert_uint_eq(a.max_conns, 3);
	ck_assert_str_eq(a.pidfile, "/run/p.pid");
	cmdline_free(&a);
}
END_TEST

START_TEST(help_and_version)
{
	struct cmdline a;
	char err[256];
	ck_assert_int_eq(PARSE(&a, err, "-h"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_HELP);
	ck_assert_int_eq(PARSE(&a, err, "--help"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_HELP);
	ck_assert_int_eq(PARSE(&a, err, "-v"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_VERSION);
	ck_assert_int_eq(PARSE(&a, err, "--version"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_VERSION);
	/* help wins over what would be an error later on */
	ck_assert_int_eq(PARSE(&a, err, "--job", "--help", "--bogus"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_HELP);
	ck_assert_int_eq(PARSE(&a, err, "-gh"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_HELP);
	cmdline_free(&a);
}
END_TEST

START_TEST(job_full)
{
	struct cmdline a;
	char err[256];
	ck_assert_int_eq(PARSE(&a, err, "--job", "--to", "desk.example.org:11111",
			       "--listen", "[2001:db8::1]", "--ports", "20000-20100",
			       "--allow", "10.1.0.0/16,node7", "--allow=fe80::1",
			       "--slurm-job", "--job-id", "4242", "--hold", "90",
			       "--max-conns", "8", "--ready-fd", "5", "--lifeline-fd=0",
			       "--foreground", "-d", "--pidfile", "p", "--fin-timeout", "86400"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_JOB);
	ck_assert_str_eq(a.to.host, "desk.example.org");
	ck_assert_uint_eq(a.to.port, 11111);
	ck_assert_str_eq(a.listen, "2001:db8::1");
	ck_assert_uint_eq(a.port_lo, 20000);
	ck_assert_uint_eq(a.port_hi, 20100);
	ck_assert_uint_eq(a.nallow, 3);
	ck_assert_str_eq(a.allow[0], "10.1.0.0/16");
	ck_assert_str_eq(a.allow[1], "node7");
	ck_assert_str_eq(a.allow[2], "fe80::1");
	ck_assert_int_eq(a.slurm_job, 1);
	ck_assert_uint_eq(a.job_id, 4242);
	ck_assert_uint_eq(a.hold_s, 90);
	ck_assert_uint_eq(a.fin_timeout_s, 86400);
	ck_assert_uint_eq(a.max_conns, 8);
	ck_assert_int_eq(a.ready_fd, 5);
	ck_assert_int_eq(a.lifeline_fd, 0);
	ck_assert_int_eq(a.foreground, 1);
	ck_assert_int_eq(a.debug, 1);
	ck_assert_str_eq(a.pidfile, "p");
	cmdline_free(&a);
}
END_TEST

START_TEST(job_defaults)
{
	struct cmdline a;
	char err[256];
	ck_assert_int_eq(PARSE(&a, err, "--job", "--to=[::1]:11111"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_JOB);
	ck_assert_str_eq(a.to.host, "::1");
	ck_assert_int_eq(a.to.is_ipv6, 1);
	ck_assert_str_eq(a.listen, CMDLINE_DEFAULT_LISTEN);
	ck_assert_uint_eq(a.port_lo, 0);
	ck_assert_uint_eq(a.port_hi, 0);
	ck_assert_uint_eq(a.nallow, 0);
	ck_assert_int_eq(a.slurm_job, 0);
	ck_assert_uint_eq(a.job_id, 0);
	ck_assert_int_eq(a.ready_fd, -1);
	ck_assert_int_eq(a.lifeline_fd, -1);
	ck_assert_int_eq(a.foreground, 0);
	ck_assert_uint_eq(a.hold_s, FWD_HOLD_DEFAULT_S);
	ck_assert_uint_eq(a.fin_timeout_s, FWD_FIN_TIMEOUT_DEFAULT_S);
	cmdline_free(&a);

	/* a single port is a range of one; an option may come before --job */
	ck_assert_int_eq(PARSE(&a, err, "--ports", "30000", "--job", "--to", "1.2.3.4:5"), 0);
	ck_assert_uint_eq(a.port_lo, 30000);
	ck_assert_uint_eq(a.port_hi, 30000);
	cmdline_free(&a);
}
END_TEST

/* Each case must fail and its message must contain the given text.  (cppcheck does not
 * see the uses through check's START_TEST/loop macros.) */
static const struct {
	// cppcheck-suppress unusedStructMember
	const char *args[8];
	// cppcheck-suppress unusedStructMember
	const char *msg;
} bad[] = {
	{ { NULL }, "nothing to do" },
	{ { "--bogus" }, "unknown option '--bogus'" },
	{ { "-x" }, "unknown option '-x'" },
	{ { "--conf=x" }, "unknown option '--conf'" },          /* no prefixes */
	{ { "-c" }, "-c needs a value" },
	{ { "--config" }, "--config needs a value" },
	{ { "-c", "" }, "needs a file name" },
	{ { "-c", "a", "-c", "b" }, "given twice" },
	{ { "-c", "a", "stray" }, "unexpected argument 'stray'" },
	{ { "-c", "a", "--", "stray" }, "unexpected argument 'stray'" },
	{ { "-c", "a", "--foreground=1" }, "takes no value" },
	{ { "-c", "a", "--to", "h:1" }, "--to is only valid with --job" },
	{ { "-c", "a", "--ready-fd", "3" }, "--ready-fd is only valid with --job" },
	{ { "-c", "a", "--hold", "-1" }, "--hold needs seconds" },
	{ { "-c", "a", "--hold", "86401" }, "--hold needs seconds" },
	{ { "-c", "a", "--fin-timeout", "0" }, "--fin-timeout needs seconds 1-86400, not '0'" },
	{ { "-c", "a", "--fin-timeout", "86401" }, "--fin-timeout needs seconds 1-86400, not '86401'" },
	{ { "-c", "a", "--fin-timeout", "-5" }, "not '-5'" },
	{ { "-c", "a", "--fin-timeout", "+5" }, "not '+5'" },
	{ { "-c", "a", "--fin-timeout", "5s" }, "not '5s'" },
	{ { "-c", "a", "--fin-timeout", " 5" }, "not ' 5'" },
	{ { "-c", "a", "--fin-timeout", "0x10" }, "not '0x10'" },
	{ { "-c", "a", "--fin-timeout=" }, "--fin-timeout needs seconds 1-86400, not ''" },
	{ { "-c", "a", "--fin-timeout" }, "--fin-timeout needs a value" },
	{ { "-c", "a", "--fin-timeout", "5", "--fin-timeout", "6" }, "--fin-timeout given twice" },
	{ { "--job", "--to", "h:1", "--fin-timeout", "99999999999999999999" }, "--fin-timeout needs seconds" },
	{ { "--list", "--fin-timeout", "5" }, "--list takes no option but -d" },
	{ { "-c", "a", "--max-conns", "0" }, "--max-conns needs" },
	{ { "-c", "a", "--max-conns", "12x" }, "--max-conns needs" },
	{ { "--job" }, "--job needs --to" },
	{ { "--job", "-c", "a", "--to", "h:1" }, "does not go with --job" },
	{ { "--job", "--to", "host" }, "port missing" },
	{ { "--job", "--to", ":11111" }, "host missing" },
	{ { "--job", "--to", "h:0" }, "--to needs HOST:PORT" },
	{ { "--job", "--to", "h:1", "--to", "h:2" }, "--to given twice" },
	{ { "--job", "--to", "h:1", "--listen", "1.2.3.4:5" }, "address only" },
	{ { "--job", "--to", "h:1", "--listen", "" }, "--listen needs an address" },
	{ { "--job", "--to", "h:1", "--ports", "9-8" }, "--ports needs LO-HI" },
	{ { "--job", "--to", "h:1", "--ports", "0-8" }, "--ports needs LO-HI" },
	{ { "--job", "--to", "h:1", "--allow", "a,,b" }, "empty entry" },
	{ { "--job", "--to", "h:1", "--allow", "10.0.0.0/33" }, "--allow: '10.0.0.0/33'" },
	{ { "--job", "--to", "h:1", "--allow", "bad_name!" }, "--allow: 'bad_name!'" },
	{ { "--job", "--to", "h:1", "--job-id", "5" }, "--job-id needs --slurm-job" },
	{ { "--job", "--to", "h:1", "--slurm-job", "--job-id", "0" }, "--job-id needs" },
	{ { "--job", "--to", "h:1", "--ready-fd", "x" }, "--ready-fd needs a file descriptor" },
	{ { "--job", "--to", "h:1", "--ready-fd", "4", "--lifeline-fd", "4" }, "must differ" },
	/* values from outside appear printable, on one line (quote.h) */
	{ { "-c", "a", "--hold", "5\n6" }, "--hold needs seconds 0-86400, not '5\\x0a6'" },
	{ { "--job", "--to", "h\x1b[31m:1" }, "--to needs HOST:PORT, not 'h\\x1b[31m:1'" },
	{ { "--bo\ngus" }, "unknown option '--bo\\x0agus'" },
	{ { "-\x01" }, "unknown option '-\\x01'" },
	{ { "-c", "a", "it's\r" }, "unexpected argument 'it\\'s\\x0d'" },
	{ { "--job", "--to", "h:1", "--allow", "a\tb" }, "--allow: 'a\\x09b'" },
};

START_TEST(bad_command_lines)
{
	const char *argv[10] = { "pv-forwarder" };
	int argc = 1;
	for (; bad[_i].args[argc - 1]; argc++)
		argv[argc] = bad[_i].args[argc - 1];
	argv[argc] = NULL;

	struct cmdline a;
	char err[256] = "";
	ck_assert_int_eq(cmdline_parse(argc, (char *const *)argv, &a, err, sizeof err), -1);
	ck_assert_msg(strstr(err, bad[_i].msg) != NULL, "case %d: '%s' lacks '%s'",
		      _i, err, bad[_i].msg);
	ck_assert_ptr_null(a.allow);
	ck_assert_int_eq(a.ready_fd, -1);
}
END_TEST

Suite *cmdline_suite(void)
{
	Suite *s = suite_create("cmdline");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, portfwd_minimal);
	tcase_add_test(tc, portfwd_spellings);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, job_full);
	tcase_add_test(tc, job_defaults);
	tcase_add_loop_test(tc, bad_command_lines, 0, (int)(sizeof bad / sizeof bad[0]));
	suite_add_tcase(s, tc);
	return s;
}
