/* statedir.c - the user's state directory (see statedir.h). */
#define _GNU_SOURCE
#include "statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numparse.h"

void statedir_candidates(char dirs[2][PATH_MAX])
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	dirs[0][0] = dirs[1][0] = '\0';
	if (x && x[0] == '/' && strlen(x) + 16 < PATH_MAX && stat(x, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == getuid())
		snprintf(dirs[0], PATH_MAX, "%s/pv-forward", x);
	snprintf(dirs[dirs[0][0] ? 1 : 0], PATH_MAX, "/tmp/pv-forward-%lu", (unsigned long)getuid());
}

int statedir_open(const char *dir, int create, char *err, size_t errlen)
{
	struct stat st;
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", dir, e == ELOOP || e == ENOTDIR
			 ? "not a directory (a symbolic link?)" : strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 077)) {
		snprintf(err, errlen, "%s is not a private directory of this user "
			 "(owner %lu, mode %04o; it must be yours with mode 0700); not used",
			 dir, (unsigned long)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

long statedir_name_pid(const char *name, const char *suffix)
{
	char num[24];
	size_t n = strcspn(name, ".");
	unsigned long v;
	if (n == 0 || n >= sizeof num || strcmp(name + n, suffix) != 0)
		return 0;
	memcpy(num, name, n);
	num[n] = '\0';
	/* 4194304: the kernel's largest pid_max */
	return parse_ulong(num, 1, 4194304, &v) == 0 ? (long)v : 0;
}

int statedir_read_small(int dfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}
