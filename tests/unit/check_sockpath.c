/* check_sockpath.c - a Unix socket destination: the value's grammar, the
 * judgement of directories, the socket and its listener, the plugin's check
 * of the value (a table stands for the file system), and sockpath_check on a
 * private temporary directory (cases that need a second user are in
 * tests/integration/50-nat-ssh-socket.sh). */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pvf_value.h"
#include "hostport.h"
#include "cmdline.h"
#include "sockpath.h"

#define ME 1000
#define OTHER 1001

START_TEST(test_is_socket_value)
{
	ck_assert_int_eq(sockpath_is_socket_value("/a/b.sock"), 1);
	ck_assert_int_eq(sockpath_is_socket_value("~"), 1);
	ck_assert_int_eq(sockpath_is_socket_value("~/x"), 1);
	ck_assert_int_eq(sockpath_is_socket_value("desktop:11111"), 0);
	ck_assert_int_eq(sockpath_is_socket_value(":5"), 0);
	ck_assert_int_eq(sockpath_is_socket_value(""), 0);
	ck_assert_int_eq(sockpath_is_socket_value(NULL), 0);
}
END_TEST

START_TEST(test_parse_good)
{
	char out[SOCKPATH_BUF], why[256];
	ck_assert_int_eq(sockpath_parse("/home/a/x.sock", NULL, out, sizeof out, why, sizeof why), 0);
	ck_assert_str_eq(out, "/home/a/x.sock");
	ck_assert_int_eq(sockpath_parse("~", "/home/alice", out, sizeof out, why, sizeof why), 0);
	ck_assert_str_eq(out, "/home/alice/" SOCKPATH_DEFAULT_NAME);
	ck_assert_int_eq(sockpath_parse("~/d/pv.sock", "/home/alice", out, sizeof out, why, sizeof why), 0);
	ck_assert_str_eq(out, "/home/alice/d/pv.sock");
	ck_assert_int_eq(sockpath_parse("~/x", "/", out, sizeof out, why, sizeof why), 0);
	ck_assert_str_eq(out, "/x");
	ck_assert_int_eq(sockpath_parse("/x", NULL, out, sizeof out, why, sizeof why), 0);
	/* exactly sun_path's 107 bytes */
	char v[SOCKPATH_MAX + 2];
	memset(v, 'a', SOCKPATH_MAX);
	v[0] = '/';
	v[SOCKPATH_MAX] = '\0';
	ck_assert_int_eq(sockpath_parse(v, NULL, out, sizeof out, why, sizeof why), 0);
	ck_assert_uint_eq(strlen(out), SOCKPATH_MAX);
}
END_TEST

struct bad { const char *value, *home, *why; };
static const struct bad bad_values[] = {
	{ "", NULL, "no socket path" },
	{ "rel/x.sock", NULL, "relative path" },
	{ "~bob/x", "/home/a", "'~USER' is not supported" },
	{ "~", NULL, "home directory" },
	{ "~/x", "relative", "home directory" },
	{ "/a//b", NULL, "empty path component" },
	{ "/a/b/", NULL, "ends with '/'" },
	{ "/", NULL, "ends with '/'" },
	{ "/a/../b", NULL, "'..'" },
	{ "/a/./b", NULL, "'..'" },
	{ "/a/..", NULL, "'..'" },
	{ "/a b", NULL, "byte 0x20" },
	{ "/a\nb", NULL, "byte 0x0a" },
	{ "/a\xc3\xa9", NULL, "byte 0xc3" },
	{ "/a:b", NULL, "':' in the path" },
};

START_TEST(test_parse_bad)
{
	const struct bad *b = &bad_values[_i];
	char out[SOCKPATH_BUF], why[256] = "";
	ck_assert_int_eq(sockpath_parse(b->value, b->home, out, sizeof out, why, sizeof why), -1);
	ck_assert_msg(strstr(why, b->why), "'%s': reason '%s' lacks '%s'", b->value, why, b->why);
	ck_assert_str_eq(out, "");
	ck_assert_ptr_null(strchr(why, '\n'));
}
END_TEST

START_TEST(test_parse_too_long)
{
	char v[SOCKPATH_MAX + 3], out[SOCKPATH_BUF], why[256];
	memset(v, 'a', SOCKPATH_MAX + 1);
	v[0] = '/';
	v[SOCKPATH_MAX + 1] = '\0';
	ck_assert_int_eq(sockpath_parse(v, NULL, out, sizeof out, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "has 108 bytes; a Unix socket's path has at most 107"));
	/* the home directory counts */
	char home[100];
	memset(home, 'h', sizeof home - 1);
	home[0] = '/';
	home[sizeof home - 1] = '\0';
	ck_assert_int_eq(sockpath_parse("~", home, out, sizeof out, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "at most 107"));
}
END_TEST

START_TEST(test_judge_dir)
{
	char why[256];
	ck_assert_int_eq(sockpath_judge_dir("/", S_IFDIR | 0755, 0, ME, why, sizeof why), SOCKPATH_OK);
	ck_assert_int_eq(sockpath_judge_dir("/home/a", S_IFDIR | 0700, ME, ME, why, sizeof why), SOCKPATH_OK);
	ck_assert_int_eq(sockpath_judge_dir("/home/a", S_IFDIR | 0755, ME, ME, why, sizeof why), SOCKPATH_OK);
	/* /tmp: sticky, writable by all, root's */
	ck_assert_int_eq(sockpath_judge_dir("/tmp", S_IFDIR | 01777, 0, ME, why, sizeof why), SOCKPATH_OK);
	/* the user's own sticky shared directory */
	ck_assert_int_eq(sockpath_judge_dir("/tmp/d", S_IFDIR | 01770, ME, ME, why, sizeof why), SOCKPATH_OK);

	ck_assert_int_eq(sockpath_judge_dir("/home/b", S_IFDIR | 0700, OTHER, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_str_eq(why, "directory '/home/b' belongs to another user (uid 1001)");
	ck_assert_int_eq(sockpath_judge_dir("/tmp/b", S_IFDIR | 01777, OTHER, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_int_eq(sockpath_judge_dir("/srv/g", S_IFDIR | 0775, ME, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_str_eq(why, "directory '/srv/g' is writable by its group (mode 0775): another user "
			      "could put a socket of theirs there");
	ck_assert_int_eq(sockpath_judge_dir("/srv/o", S_IFDIR | 0757, 0, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "writable by others (mode 0757)"));
	ck_assert_int_eq(sockpath_judge_dir("/f", S_IFREG | 0600, ME, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_str_eq(why, "'/f' is not a directory");
	ck_assert_int_eq(sockpath_judge_dir("/l", S_IFLNK | 0777, ME, ME, why, sizeof why), SOCKPATH_REFUSED);
}
END_TEST

START_TEST(test_judge_sock)
{
	char why[256];
	const char *p = "/home/a/.pv-forward.sock";
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFSOCK | 0600, ME, ME, why, sizeof why), SOCKPATH_OK);
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFSOCK | 0700, ME, ME, why, sizeof why), SOCKPATH_OK);
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFSOCK | 0644, ME, ME, why, sizeof why), SOCKPATH_OK);

	ck_assert_int_eq(sockpath_judge_sock(p, 0, 0, 0, ME, why, sizeof why), SOCKPATH_MISSING);
	ck_assert_ptr_nonnull(strstr(why, "no socket at '/home/a/.pv-forward.sock' yet"));
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFSOCK | 0600, OTHER, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_str_eq(why, "socket '/home/a/.pv-forward.sock' belongs to another user (uid 1001)");
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFSOCK | 0600, 0, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFSOCK | 0666, ME, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "writable by others (mode 0666)"));
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFSOCK | 0620, ME, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "writable by its group (mode 0620)"));
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFLNK | 0777, ME, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "is a symbolic link"));
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFREG | 0600, ME, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_str_eq(why, "'/home/a/.pv-forward.sock' is not a socket (a regular file)");
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFDIR | 0700, ME, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_int_eq(sockpath_judge_sock(p, 1, S_IFIFO | 0600, ME, ME, why, sizeof why), SOCKPATH_REFUSED);
	/* a path from outside is quoted */
	ck_assert_int_eq(sockpath_judge_sock("/a\nb", 1, S_IFREG, ME, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_ptr_null(strchr(why, '\n'));
}
END_TEST

START_TEST(test_judge_peer)
{
	char why[256];
	ck_assert_int_eq(sockpath_judge_peer("/s", ME, ME, why, sizeof why), SOCKPATH_OK);
	ck_assert_int_eq(sockpath_judge_peer("/s", OTHER, ME, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_str_eq(why, "the process listening on '/s' runs as another user (uid 1001)");
	ck_assert_int_eq(sockpath_judge_peer("/s", 0, ME, why, sizeof why), SOCKPATH_REFUSED);
}
END_TEST

/* ---- the plugin's check of the value, with a table for the file system */

static enum sockpath_verdict table_verdict;
static char table_seen[SOCKPATH_BUF];

static enum sockpath_verdict table_check(const char *path, uid_t user, char *resolved,
					 size_t resolvedlen, char *why, size_t whylen)
{
	(void)user;
	snprintf(table_seen, sizeof table_seen, "%s", path);
	snprintf(resolved, resolvedlen, "%s", path);
	snprintf(why, whylen, table_verdict == SOCKPATH_REFUSED
		 ? "socket '%s' belongs to another user (uid 1001)" : "no socket at '%s' yet", path);
	return table_verdict;
}

START_TEST(test_dest_check_socket)
{
	struct pvf_dest d;
	char msg[1024];

	table_verdict = SOCKPATH_OK;
	ck_assert_int_eq(pvf_value_check_socket("~", "/home/alice", ME, table_check, &d, msg, sizeof msg), 0);
	ck_assert_str_eq(d.host, "/home/alice/.pv-forward.sock");
	ck_assert_str_eq(d.to, "/home/alice/.pv-forward.sock");
	ck_assert_str_eq(table_seen, "/home/alice/.pv-forward.sock");
	ck_assert_int_eq(d.port, 0);
	ck_assert_int_eq(d.socket, 1);
	ck_assert_int_eq(d.missing, 0);

	char shown[SOCKPATH_BUF + 16];
	hostport_format(shown, sizeof shown, d.host, d.port);
	ck_assert_str_eq(shown, "/home/alice/.pv-forward.sock");

	table_verdict = SOCKPATH_MISSING;
	ck_assert_int_eq(pvf_value_check_socket("/tmp/pv.sock", NULL, ME, table_check, &d, msg, sizeof msg), 0);
	ck_assert_int_eq(d.missing, 1);
	ck_assert_str_eq(d.host, "/tmp/pv.sock");

	table_verdict = SOCKPATH_REFUSED;
	ck_assert_int_eq(pvf_value_check_socket("/tmp/pv.sock", NULL, ME, table_check, &d, msg, sizeof msg), -1);
	ck_assert_str_eq(msg, "pv-forward: socket '/tmp/pv.sock' belongs to another user (uid 1001) in "
			      "'/tmp/pv.sock' (expected /PATH or ~/PATH of a Unix socket that only you "
			      "control: the far end of your ssh -R)");

	/* refused before the file system is asked */
	table_seen[0] = '\0';
	table_verdict = SOCKPATH_OK;
	ck_assert_int_eq(pvf_value_check_socket("/a/../b", NULL, ME, table_check, &d, msg, sizeof msg), -1);
	ck_assert_str_eq(table_seen, "");
	ck_assert_ptr_nonnull(strstr(msg, "'..' in the path"));
	ck_assert_ptr_nonnull(strstr(msg, "in '/a/../b'"));
	ck_assert_int_eq(pvf_value_check_socket("~", NULL, ME, table_check, &d, msg, sizeof msg), -1);
	ck_assert_ptr_nonnull(strstr(msg, "cannot tell your home directory"));
	/* no file system check at all */
	ck_assert_int_eq(pvf_value_check_socket("/x/y", NULL, ME, NULL, &d, msg, sizeof msg), 0);
}
END_TEST

/* A loopback TCP destination is flagged (the plugin warns: every user of the
 * login node can reach it); literals need no DNS. */
START_TEST(test_dest_loopback)
{
	struct pvf_dest d;
	char msg[1024];
	ck_assert_int_eq(pvf_value_check("127.0.0.1:11111", NULL, NULL, pvf_value_resolve_getaddrinfo, NULL,
				    &d, msg, sizeof msg), 0);
	ck_assert_int_eq(d.loopback, 1);
	ck_assert_int_eq(pvf_value_check("127.1.2.3", NULL, NULL, pvf_value_resolve_getaddrinfo, NULL,
				    &d, msg, sizeof msg), 0);
	ck_assert_int_eq(d.loopback, 1);
	ck_assert_int_eq(pvf_value_check("[::1]:11111", NULL, NULL, pvf_value_resolve_getaddrinfo, NULL,
				    &d, msg, sizeof msg), 0);
	ck_assert_int_eq(d.loopback, 1);
	ck_assert_int_eq(pvf_value_check("192.0.2.1:11111", NULL, NULL, pvf_value_resolve_getaddrinfo, NULL,
				    &d, msg, sizeof msg), 0);
	ck_assert_int_eq(d.loopback, 0);
	ck_assert_int_eq(d.socket, 0);
}
END_TEST

/* The forwarder's --to takes the path the plugin passes on. */
START_TEST(test_cmdline_to_socket)
{
	struct cmdline a;
	char err[256];
	char *good[] = { "pv-forwarder", "--job", "--to", "/home/a/.pv-forward.sock", NULL };
	ck_assert_int_eq(cmdline_parse(4, good, &a, err, sizeof err), 0);
	ck_assert_str_eq(a.to.host, "/home/a/.pv-forward.sock");
	ck_assert_uint_eq(a.to.port, 0);
	cmdline_free(&a);
	char *bad[] = { "pv-forwarder", "--job", "--to=/a/../b.sock", NULL };
	ck_assert_int_eq(cmdline_parse(3, bad, &a, err, sizeof err), -1);
	ck_assert_str_eq(err, "--to needs HOST:PORT or /SOCKET, not '/a/../b.sock': "
			      "'.' or '..' in the path (write the path plainly)");
	char *tilde[] = { "pv-forwarder", "--job", "--to", "~/x.sock", NULL };
	ck_assert_int_eq(cmdline_parse(4, tilde, &a, err, sizeof err), -1);
}
END_TEST

START_TEST(test_unix_line)
{
	const char *p = "/home/a/.pv-forward.sock";
	/* a listening stream socket, as /proc/net/unix shows sshd's */
	ck_assert_int_eq(sockpath_unix_line_listens("0000000012345678: 00000002 00000000 00010000 0001 01 "
						    "73155 /home/a/.pv-forward.sock\n", p), 1);
	ck_assert_int_eq(sockpath_unix_line_listens("ffff8881e8f3c000: 00000002 00000000 00010000 0001 01 "
						    "73155 /home/a/.pv-forward.sock", p), 1);
	/* connected, not listening; a datagram socket; another path; a prefix */
	ck_assert_int_eq(sockpath_unix_line_listens("0000000012345678: 00000003 00000000 00000000 0001 03 "
						    "73156 /home/a/.pv-forward.sock\n", p), 0);
	ck_assert_int_eq(sockpath_unix_line_listens("0000000012345678: 00000002 00000000 00010000 0002 01 "
						    "73155 /home/a/.pv-forward.sock\n", p), 0);
	ck_assert_int_eq(sockpath_unix_line_listens("0000000012345678: 00000002 00000000 00010000 0001 01 "
						    "73155 /home/a/.pv-forward.sock2\n", p), 0);
	ck_assert_int_eq(sockpath_unix_line_listens("0000000012345678: 00000002 00000000 00010000 0001 01 "
						    "73155 /home/a/.pv-forward\n", p), 0);
	/* the header, no path, garbage */
	ck_assert_int_eq(sockpath_unix_line_listens("Num       RefCount Protocol Flags    Type St Inode Path\n", p), 0);
	ck_assert_int_eq(sockpath_unix_line_listens("0000000012345678: 00000002 00000000 00010000 0001 01 73155\n", p), 0);
	ck_assert_int_eq(sockpath_unix_line_listens("", p), 0);
}
END_TEST

/* ---- sockpath_check and the connect on a private directory */

static char tmpdir[64];

static void rm_rf(const char *d)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", d, d);
	ck_assert_int_eq(system(cmd), 0);
}

static int listen_at(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(path), sizeof sun.sun_path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

START_TEST(test_check_fs)
{
	char dir[80], sock[96], real[SOCKPATH_BUF], why[300], link[96], file[112];
	uid_t me = getuid();

	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_sockpath.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));        /* 0700, ours, in sticky /tmp */
	snprintf(dir, sizeof dir, "%s/d", tmpdir);
	snprintf(sock, sizeof sock, "%s/pv.sock", dir);

	/* no directory, then no socket: both "not yet" */
	ck_assert_int_eq(sockpath_check(sock, me, real, sizeof real, why, sizeof why), SOCKPATH_MISSING);
	ck_assert_ptr_nonnull(strstr(why, "does not exist"));
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(sockpath_check(sock, me, real, sizeof real, why, sizeof why), SOCKPATH_MISSING);
	ck_assert_str_eq(real, sock);

	ck_assert_int_eq(sockpath_listening(sock), 0);
	int lfd = listen_at(sock);
	ck_assert_int_eq(sockpath_listening(sock), 1);
	ck_assert_int_eq(chmod(sock, 0600), 0);
	ck_assert_int_eq(sockpath_check(sock, me, real, sizeof real, why, sizeof why), SOCKPATH_OK);
	int fd = sockpath_connect(real);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sockpath_peer_check(fd, real, me, why, sizeof why), SOCKPATH_OK);
	ck_assert_int_eq(sockpath_peer_check(fd, real, me + 1, why, sizeof why), SOCKPATH_REFUSED);
	close(fd);

	/* a group-writable directory in the chain */
	ck_assert_int_eq(chmod(dir, 0770), 0);
	ck_assert_int_eq(sockpath_check(sock, me, real, sizeof real, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "is writable by its group (mode 0770)"));
	ck_assert_int_eq(chmod(dir, 01777), 0);   /* sticky: fine */
	ck_assert_int_eq(sockpath_check(sock, me, real, sizeof real, why, sizeof why), SOCKPATH_OK);
	ck_assert_int_eq(chmod(dir, 0700), 0);

	/* the socket writable by others */
	ck_assert_int_eq(chmod(sock, 0666), 0);
	ck_assert_int_eq(sockpath_check(sock, me, real, sizeof real, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_int_eq(chmod(sock, 0600), 0);

	/* a symbolic link as the last component is refused; a linked directory
	 * is resolved and the real chain is checked */
	snprintf(link, sizeof link, "%s/link.sock", tmpdir);
	ck_assert_int_eq(symlink(sock, link), 0);
	ck_assert_int_eq(sockpath_check(link, me, real, sizeof real, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "is a symbolic link"));
	snprintf(link, sizeof link, "%s/dirlink", tmpdir);
	ck_assert_int_eq(symlink(dir, link), 0);
	snprintf(file, sizeof file, "%s/pv.sock", link);
	ck_assert_int_eq(sockpath_check(file, me, real, sizeof real, why, sizeof why), SOCKPATH_OK);
	ck_assert_str_eq(real, sock);

	/* not a socket */
	snprintf(file, sizeof file, "%s/file", dir);
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(sockpath_check(file, me, real, sizeof real, why, sizeof why), SOCKPATH_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "is not a socket (a regular file)"));

	/* nobody listening: the connect fails (held by the forwarder) */
	close(lfd);
	ck_assert_int_eq(sockpath_listening(sock), 0);
	fd = sockpath_connect(sock);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(errno, ECONNREFUSED);

	/* judged for another user, the same socket is refused */
	ck_assert_int_eq(sockpath_check(sock, me + 1, real, sizeof real, why, sizeof why), SOCKPATH_REFUSED);
	rm_rf(tmpdir);
}
END_TEST

Suite *sockpath_suite(void)
{
	Suite *s = suite_create("sockpath");
	TCase *tc = tcase_create("sockpath");
	tcase_add_test(tc, test_is_socket_value);
	tcase_add_test(tc, test_parse_good);
	tcase_add_loop_test(tc, test_parse_bad, 0, (int)(sizeof bad_values / sizeof bad_values[0]));
	tcase_add_test(tc, test_parse_too_long);
	tcase_add_test(tc, test_judge_dir);
	tcase_add_test(tc, test_judge_sock);
	tcase_add_test(tc, test_judge_peer);
	tcase_add_test(tc, test_dest_check_socket);
	tcase_add_test(tc, test_dest_loopback);
	tcase_add_test(tc, test_cmdline_to_socket);
	tcase_add_test(tc, test_unix_line);
	tcase_add_test(tc, test_check_fs);
	suite_add_tcase(s, tc);
	return s;
}
