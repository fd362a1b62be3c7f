/* sockpath.c - a Unix socket destination and its safety checks (see
 * sockpath.h).  The sockpath_judge_* functions and sockpath_parse are pure;
 * the rest asks the file system and the kernel and hands the answers to them. */
#define _GNU_SOURCE
#include "sockpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "errmsg.h"
#include "quote.h"

_Static_assert(SOCKPATH_BUF == sizeof(((struct sockaddr_un *)0)->sun_path),
	       "SOCKPATH_MAX follows sun_path");

int sockpath_is_socket_value(const char *value)
{
	return value && (value[0] == '/' || value[0] == '~');
}

int sockpath_parse(const char *value, const char *home, char *out, size_t outlen,
		   char *why, size_t whylen)
{
	char full[PATH_MAX + SOCKPATH_BUF];
	int n;

	if (outlen)
		out[0] = '\0';
	if (!value || !*value)
		return errmsg(why, whylen, "no socket path given");
	if (value[0] == '~') {
		if (value[1] != '\0' && value[1] != '/')
			return errmsg(why, whylen, "'~USER' is not supported: write ~/PATH or /PATH");
		if (!home || home[0] != '/')
			return errmsg(why, whylen, "cannot tell your home directory for '~'");
		if (value[1] == '\0')
			n = snprintf(full, sizeof full, "%s/%s", strcmp(home, "/") ? home : "",
				     SOCKPATH_DEFAULT_NAME);
		else
			n = snprintf(full, sizeof full, "%s%s", strcmp(home, "/") ? home : "",
				     value + 1);
	} else if (value[0] == '/') {
		n = snprintf(full, sizeof full, "%s", value);
	} else {
		return errmsg(why, whylen, "a relative path (the socket's path must begin with '/' or '~/')");
	}
	if (n < 0 || (size_t)n >= sizeof full)
		return errmsg(why, whylen, "the path is too long");
	for (const char *p = full; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c >= 0x7f)
			return errmsg(why, whylen, "byte 0x%02x in the path (only printable ASCII "
				   "without spaces is accepted)", c);
		if (c == ':')
			return errmsg(why, whylen, "':' in the path (ssh -R would split the path there)");
	}
	/* Components: no empty ones, no "." or "..": the path that is
	 * checked is the path that is connected to, plainly. */
	for (const char *p = full + 1;; ) {
		size_t l = strcspn(p, "/");
		if (l == 0)
			return errmsg(why, whylen, p[0] ? "an empty path component ('//')"
					      : "the path ends with '/' (a directory, not a socket)");
		if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return errmsg(why, whylen, "'.' or '..' in the path (write the path plainly)");
		if (!p[l])
			break;
		p += l + 1;
	}
	if (strlen(full) > SOCKPATH_MAX)
		return errmsg(why, whylen, "the path has %zu bytes; a Unix socket's path has at most %d",
			   strlen(full), SOCKPATH_MAX);
	if (strlen(full) >= outlen)
		return errmsg(why, whylen, "the path is too long");
	memcpy(out, full, strlen(full) + 1);
	return 0;
}

enum sockpath_verdict sockpath_judge_dir(const char *dir, mode_t mode, uid_t owner,
					 uid_t user, char *why, size_t whylen)
{
	char q[QUOTE_BUF];

	if (!S_ISDIR(mode)) {
		errmsg(why, whylen, "'%s' is not a directory", quote_str(q, sizeof q, dir));
		return SOCKPATH_REFUSED;
	}
	if (owner != 0 && owner != user) {
		errmsg(why, whylen, "directory '%s' belongs to another user (uid %lu)",
		    quote_str(q, sizeof q, dir), (unsigned long)owner);
		return SOCKPATH_REFUSED;
	}
	/* A sticky directory lets others add entries but not rename or remove
	 * ours; what lies below it is checked entry by entry. */
	if ((mode & (S_IWGRP | S_IWOTH)) && !(mode & S_ISVTX)) {
		errmsg(why, whylen, "directory '%s' is writable by %s (mode %04o): another user "
		    "could put a socket of theirs there", quote_str(q, sizeof q, dir),
		    (mode & S_IWOTH) ? "others" : "its group", (unsigned)(mode & 07777));
		return SOCKPATH_REFUSED;
	}
	return SOCKPATH_OK;
}

static const char *kind_of(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "not a socket";
}

enum sockpath_verdict sockpath_judge_sock(const char *path, int exists, mode_t mode,
					  uid_t owner, uid_t user, char *why, size_t whylen)
{
	char q[QUOTE_BUF];

	quote_str(q, sizeof q, path);
	if (!exists) {
		errmsg(why, whylen, "no socket at '%s' yet (is the desktop's ssh -R running?)", q);
		return SOCKPATH_MISSING;
	}
	if (S_ISLNK(mode)) {
		errmsg(why, whylen, "'%s' is a symbolic link; name the socket itself", q);
		return SOCKPATH_REFUSED;
	}
	if (!S_ISSOCK(mode)) {
		errmsg(why, whylen, "'%s' is not a socket (%s)", q, kind_of(mode));
		return SOCKPATH_REFUSED;
	}
	if (owner != user) {
		errmsg(why, whylen, "socket '%s' belongs to another user (uid %lu)", q,
		    (unsigned long)owner);
		return SOCKPATH_REFUSED;
	}
	if (mode & (S_IWGRP | S_IWOTH)) {
		errmsg(why, whylen, "socket '%s' is writable by %s (mode %04o): other users could "
		    "connect through it", q, (mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(mode & 07777));
		return SOCKPATH_REFUSED;
	}
	return SOCKPATH_OK;
}

enum sockpath_verdict sockpath_judge_peer(const char *path, uid_t peer, uid_t user,
					  char *why, size_t whylen)
{
	char q[QUOTE_BUF];

	if (peer == user)
		return SOCKPATH_OK;
	errmsg(why, whylen, "the process listening on '%s' runs as another user (uid %lu)",
	    quote_str(q, sizeof q, path), (unsigned long)peer);
	return SOCKPATH_REFUSED;
}

int sockpath_unix_line_listens(const char *line, const char *path)
{
	unsigned long refs, proto, flags, type, st, inode;
	int end = 0;

	/* "Num: RefCount Protocol Flags Type St Inode Path" (hex but Inode) */
	if (sscanf(line, "%*[0-9a-fA-F]: %lx %lx %lx %lx %lx %lu %n", &refs, &proto, &flags,
		   &type, &st, &inode, &end) != 6 || end == 0)
		return 0;
	size_t l = strlen(line + end);
	while (l && (line[end + l - 1] == '\n' || line[end + l - 1] == ' '))
		l--;
	return type == 1 && (flags & 0x10000) && st == 1 && l == strlen(path) &&
	       memcmp(line + end, path, l) == 0;    /* 0x10000: __SO_ACCEPTCON, listening */
}

/* ---- I/O */

int sockpath_listening(const char *path)
{
	char line[SOCKPATH_BUF + 128];
	int found = 0;
	FILE *f = fopen("/proc/net/unix", "re");

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof line, f))
		found = sockpath_unix_line_listens(line, path);
	fclose(f);
	return found;
}

enum sockpath_verdict sockpath_check(const char *path, uid_t user, char *resolved,
				     size_t resolvedlen, char *why, size_t whylen)
{
	char dir[SOCKPATH_BUF], real[PATH_MAX], q[QUOTE_BUF];
	const char *slash = strrchr(path, '/'), *base;
	enum sockpath_verdict v;
	struct stat sb;

	if (resolvedlen)
		resolved[0] = '\0';
	if (path[0] != '/' || !slash || !slash[1] || strlen(path) > SOCKPATH_MAX) {
		errmsg(why, whylen, "'%s' is not an absolute path of at most %d bytes",
		    quote_str(q, sizeof q, path), SOCKPATH_MAX);
		return SOCKPATH_REFUSED;
	}
	base = slash + 1;
	if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);

	if (!realpath(dir, real)) {
		int e = errno;
		quote_str(q, sizeof q, dir);
		if (e == ENOENT) {
			errmsg(why, whylen, "directory '%s' does not exist (yet)", q);
			return SOCKPATH_MISSING;
		}
		errmsg(why, whylen, "directory '%s': %s", q, strerror(e));
		return SOCKPATH_REFUSED;
	}
	/* Every directory from / down, each as an entry of the one above. */
	for (size_t i = 0; real[i]; i++) {
		char prefix[PATH_MAX];
		if (i > 0 && real[i + 1] != '/' && real[i + 1] != '\0')
			continue;
		snprintf(prefix, sizeof prefix, "%.*s", i ? (int)i + 1 : 1, real);
		if (lstat(prefix, &sb) < 0) {
			errmsg(why, whylen, "directory '%s': %s", quote_str(q, sizeof q, prefix),
			    strerror(errno));
			return SOCKPATH_REFUSED;
		}
		v = sockpath_judge_dir(prefix, sb.st_mode, sb.st_uid, user, why, whylen);
		if (v != SOCKPATH_OK)
			return v;
	}
	int n = snprintf(resolved, resolvedlen, "%s/%s", strcmp(real, "/") ? real : "", base);
	if (n < 0 || (size_t)n >= resolvedlen || (size_t)n > SOCKPATH_MAX) {
		if (resolvedlen)
			resolved[0] = '\0';
		errmsg(why, whylen, "'%s' resolves to a path longer than %d bytes",
		    quote_str(q, sizeof q, path), SOCKPATH_MAX);
		return SOCKPATH_REFUSED;
	}
	if (lstat(resolved, &sb) < 0) {
		if (errno == ENOENT)
			return sockpath_judge_sock(resolved, 0, 0, 0, user, why, whylen);
		errmsg(why, whylen, "'%s': %s", quote_str(q, sizeof q, resolved), strerror(errno));
		return SOCKPATH_REFUSED;
	}
	return sockpath_judge_sock(resolved, 1, sb.st_mode, sb.st_uid, user, why, whylen);
}

int sockpath_connect(const char *path)
{
	struct sockaddr_un sun;
	size_t l = strlen(path);

	if (l > SOCKPATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, l + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

enum sockpath_verdict sockpath_peer_check(int fd, const char *path, uid_t user,
					  char *why, size_t whylen)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	char q[QUOTE_BUF];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof cred) {
		errmsg(why, whylen, "cannot tell who listens on '%s': %s",
		    quote_str(q, sizeof q, path), strerror(errno));
		return SOCKPATH_REFUSED;
	}
	return sockpath_judge_peer(path, cred.uid, user, why, whylen);
}
