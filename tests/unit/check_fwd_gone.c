/* check_fwd_gone.c - a forwarder that ended before its time
 * (spank/fwd_gone.c): its state file recognised, when srun and salloc say
 * so, the messages, and the look into a state directory. */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwd_gone.h"

/* As forwarder/staterec.c writes it. */
static const char *state_text(char *buf, size_t len, long pid, const char *starter,
			      const char *listen, unsigned control)
{
	snprintf(buf, len, "pid=%ld\njob=42\nstate=running\nstarter=%s\nlisten=%s\ncontrol=%u\n"
		 "dest=desktop:11111\nconns=1\nup=5\ndown=7\nstarted=1700000000\n"
		 "updated=1700000100\nrpcs=3\nsid=0\nsubmit_from=0\nsubmit_to=0\n",
		 pid, starter, listen, control);
	return buf;
}

START_TEST(test_is_ours)
{
	char t[1024];
	long pid = 0;
	struct fwd_gone_want w = { "salloc", 40123, 40124 };

	ck_assert_int_eq(fwd_gone_is_ours(state_text(t, sizeof t, 4242, "salloc", "10.0.0.2:40123", 40124),
					  &w, &pid), 1);
	ck_assert_int_eq(pid, 4242);
	/* IPv6 listen address */
	ck_assert_int_eq(fwd_gone_is_ours(state_text(t, sizeof t, 7, "salloc", "[fd00::2]:40123", 40124),
					  &w, &pid), 1);
	ck_assert_int_eq(pid, 7);
	/* another forwarder: starter, relay port or control port differ */
	ck_assert_int_eq(fwd_gone_is_ours(state_text(t, sizeof t, 1, "srun", "10.0.0.2:40123", 40124),
					  &w, &pid), 0);
	ck_assert_int_eq(fwd_gone_is_ours(state_text(t, sizeof t, 1, "salloc", "10.0.0.2:40125", 40124),
					  &w, &pid), 0);
	ck_assert_int_eq(fwd_gone_is_ours(state_text(t, sizeof t, 1, "salloc", "10.0.0.2:40123", 40126),
					  &w, &pid), 0);
	/* a port that only begins like ours */
	ck_assert_int_eq(fwd_gone_is_ours(state_text(t, sizeof t, 1, "salloc", "10.0.0.2:401234", 40124),
					  &w, &pid), 0);
	/* control port not known: relay port and starter decide */
	w.control = 0;
	ck_assert_int_eq(fwd_gone_is_ours(state_text(t, sizeof t, 9, "salloc", "0.0.0.0:40123", 1),
					  &w, &pid), 1);
	ck_assert_int_eq(pid, 9);
	/* not a state file, or a broken one */
	ck_assert_int_eq(fwd_gone_is_ours("", &w, &pid), 0);
	ck_assert_int_eq(fwd_gone_is_ours("starter=salloc\nlisten=x:40123\n", &w, &pid), 0);
	ck_assert_int_eq(fwd_gone_is_ours("pid=0\nstarter=salloc\nlisten=x:40123\n", &w, &pid), 0);
	ck_assert_int_eq(fwd_gone_is_ours("pid=5\nstarted=1\nstarter=salloc\nlisten=x:40123", &w, &pid), 1);
	ck_assert_int_eq(fwd_gone_is_ours("pid=5\nstarter=salloc\nlisten=bad host:40123\n", &w, &pid), 0);
	ck_assert_int_eq(fwd_gone_is_ours("xpid=5\nstarter=salloc\nlisten=x:40123\n", &w, &pid), 0);
	ck_assert_int_eq(fwd_gone_is_ours(NULL, &w, &pid), 0);
}
END_TEST

START_TEST(test_say_at_exit)
{
	/* srun: a lifeline without reader is enough (its forwarder ends after srun) */
	ck_assert_int_eq(fwd_gone_say_at_exit("srun", 1, 0), 1);
	ck_assert_int_eq(fwd_gone_say_at_exit("srun", 1, 1), 1);
	ck_assert_int_eq(fwd_gone_say_at_exit("srun", 0, 1), 0);
	/* salloc: only when the state file is left too (not after scancel or
	 * the time limit, when the forwarder removed it and ended) */
	ck_assert_int_eq(fwd_gone_say_at_exit("salloc", 1, 1), 1);
	ck_assert_int_eq(fwd_gone_say_at_exit("salloc", 1, 0), 0);
	ck_assert_int_eq(fwd_gone_say_at_exit("salloc", 0, 1), 0);
	/* sbatch exits long before its forwarder should */
	ck_assert_int_eq(fwd_gone_say_at_exit("sbatch", 1, 1), 0);
	ck_assert_int_eq(fwd_gone_say_at_exit(NULL, 1, 1), 0);
}
END_TEST

START_TEST(test_messages)
{
	char m[1024];

	fwd_gone_exit_msg(m, sizeof m, "salloc", "login:40123", "login", "/tmp/pv-forward-1001/4242.log", 1);
	ck_assert_str_eq(m, "pv-forward: the forwarder on 'login:40123' ended before salloc did (killed?); "
			 "connections through it were cut then. Its log is '/tmp/pv-forward-1001/4242.log' "
			 "on 'login'.");
	fwd_gone_exit_msg(m, sizeof m, "srun", "login:40123", "login", "/run/user/1001/pv-forward", 0);
	ck_assert_str_eq(m, "pv-forward: the forwarder on 'login:40123' ended before srun did (killed?); "
			 "connections through it were cut then. Its log is in '/run/user/1001/pv-forward' "
			 "on 'login'.");
	/* a directory from the environment stays one printable line */
	fwd_gone_exit_msg(m, sizeof m, "salloc", "login:1", "login", "/tmp/x\ny'z/1.log", 1);
	ck_assert_ptr_null(strchr(m, '\n'));
	ck_assert_ptr_nonnull(strstr(m, "'/tmp/x\\x0ay\\'z/1.log'"));

	fwd_gone_hello_msg(m, sizeof m, "12.0", "login:40123", "login", 1001);
	ck_assert_str_eq(m, "pv-forward: step 12.0: the job's forwarder on 'login:40123' is not running "
			 "(it ended or was killed; its control port refused the connection), so pvserver "
			 "in this step cannot reach the desktop through it. Its log is in "
			 "'$XDG_RUNTIME_DIR/pv-forward' or '/tmp/pv-forward-1001' on 'login' "
			 "(pv-forwarder --list there shows the forwarders still running).");
}
END_TEST

static char xdg[PATH_MAX], sdir[PATH_MAX + 16];
static char *saved_xdg;

static void put_file(const char *name, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", sdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void dir_setup(void)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	saved_xdg = x ? strdup(x) : NULL;
	snprintf(xdg, sizeof xdg, "%s/check_fwd_gone.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(xdg));
	snprintf(sdir, sizeof sdir, "%s/pv-forward", xdg);
	ck_assert_int_eq(mkdir(sdir, 0700), 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
}

static void dir_teardown(void)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", xdg);
	ck_assert_int_eq(system(cmd), 0);
	if (saved_xdg)
		setenv("XDG_RUNTIME_DIR", saved_xdg, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(saved_xdg);
}

START_TEST(test_find)
{
	char t[1024], log[PATH_MAX + 64], want_log[PATH_MAX + 64], msg[1024];
	struct fwd_gone_want w = { "salloc", 40123, 40124 };

	/* nothing there: the directory is named */
	ck_assert_int_eq(fwd_gone_find(&w, log, sizeof log), 0);
	ck_assert_str_eq(log, sdir);
	ck_assert_int_eq(fwd_gone_at_exit(&w, "login", msg, sizeof msg), 0);
	/* others' files, a name that does not match its pid, a temporary file */
	put_file("100.state", state_text(t, sizeof t, 100, "salloc", "10.0.0.2:40999", 41000));
	put_file("101.state", state_text(t, sizeof t, 102, "salloc", "10.0.0.2:40123", 40124));
	put_file("103.state.tmp", state_text(t, sizeof t, 103, "salloc", "10.0.0.2:40123", 40124));
	put_file("104.log", "not a state file\n");
	ck_assert_int_eq(fwd_gone_find(&w, log, sizeof log), 0);
	ck_assert_int_eq(fwd_gone_at_exit(&w, "login", msg, sizeof msg), 0);
	/* srun says it in any case, naming the directory */
	w.starter = "srun";
	ck_assert_int_eq(fwd_gone_at_exit(&w, "login", msg, sizeof msg), 1);
	ck_assert_ptr_nonnull(strstr(msg, "ended before srun did"));
	ck_assert_ptr_nonnull(strstr(msg, sdir));
	w.starter = "salloc";
	/* the file a killed forwarder left */
	put_file("4242.state", state_text(t, sizeof t, 4242, "salloc", "10.0.0.2:40123", 40124));
	ck_assert_int_eq(fwd_gone_find(&w, log, sizeof log), 1);
	snprintf(want_log, sizeof want_log, "%s/4242.log", sdir);
	ck_assert_str_eq(log, want_log);
	ck_assert_int_eq(fwd_gone_at_exit(&w, "login", msg, sizeof msg), 1);
	ck_assert_ptr_nonnull(strstr(msg, "the forwarder on 'login:40123' ended before salloc did"));
	ck_assert_ptr_nonnull(strstr(msg, want_log));
	/* a directory that is not private is not looked into */
	ck_assert_int_eq(chmod(sdir, 0755), 0);
	ck_assert_int_eq(fwd_gone_find(&w, log, sizeof log), 0);
	ck_assert_int_eq(chmod(sdir, 0700), 0);
}
END_TEST

Suite *fwd_gone_suite(void)
{
	Suite *s = suite_create("fwd_gone");
	TCase *tc = tcase_create("fwd_gone");
	tcase_add_test(tc, test_is_ours);
	tcase_add_test(tc, test_say_at_exit);
	tcase_add_test(tc, test_messages);
	suite_add_tcase(s, tc);
	tc = tcase_create("fwd_gone_dir");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_find);
	suite_add_tcase(s, tc);
	return s;
}
