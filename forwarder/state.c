/* state.c - the per-user state directory (see state.h). */
#define _GNU_SOURCE
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jobrules.h"
#include "log.h"
#include "logkeep.h"
#include "statedir.h"

#define PROGNAME "pv-forwarder"

struct state {
	char dir[PATH_MAX];
	int dfd;
	int with_log;
	int failing;               /* the last write failed (logged once) */
	char name[32], tmp[40], log[32];
};

struct entry;
static size_t scan(struct entry **out, int prune);

/* ---- the writer */

static int start_log(struct state *s)
{
	char path[PATH_MAX + 40];
	snprintf(path, sizeof path, "%s/%s", s->dir, s->log);
	if (log_to_file(path, 1) < 0) {
		error("cannot write the log file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct state *state_open(int with_log, char *err, size_t errlen)
{
	char dirs[2][PATH_MAX];
	struct state *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	statedir_candidates(dirs);
	snprintf(s->dir, sizeof s->dir, "%s", dirs[0]);
	if ((s->dfd = statedir_open(s->dir, 1, err, errlen)) < 0) {
		free(s);
		return NULL;
	}
	long pid = (long)getpid();
	snprintf(s->name, sizeof s->name, "%ld.state", pid);
	snprintf(s->tmp, sizeof s->tmp, "%ld.state.tmp", pid);
	snprintf(s->log, sizeof s->log, "%ld.log", pid);
	s->with_log = with_log;
	if (with_log)
		start_log(s);
	/* what a killed forwarder left and logs beyond the retention rule go
	 * now, so that the directory stays bounded without a --list */
	struct entry *list;
	scan(&list, 1);
	free(list);
	return s;
}

const char *state_dir(const struct state *s)
{
	return s ? s->dir : "";
}

/* The directory was removed under us: make it again, log there again. */
static int reopen(struct state *s)
{
	char err[PATH_MAX + 200];
	int fd = statedir_open(s->dir, 1, err, sizeof err);
	if (fd < 0) {
		if (!s->failing)
			error("state: %s", err);
		return -1;
	}
	close(s->dfd);
	s->dfd = fd;
	if (s->with_log && start_log(s) == 0)
		info("state: %s was removed; made it again (the log before this is lost)", s->dir);
	return 0;
}

int state_write(struct state *s, const struct staterec *r0)
{
	struct staterec r = *r0;
	struct stat st;
	char text[STATEREC_TEXT_MAX];

	if (!s)
		return -1;
	if (fstat(s->dfd, &st) < 0 || st.st_nlink == 0) {
		if (reopen(s) < 0) {
			s->failing = 1;
			return -1;
		}
	}
	r.pid = (long)getpid();
	size_t n = staterec_format(text, sizeof text, &r);
	int fd = openat(s->dfd, s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	ssize_t w = fd >= 0 ? write(fd, text, n) : -1;
	int e = errno;
	if (fd >= 0 && close(fd) < 0 && w >= 0) {
		w = -1;
		e = errno;
	}
	if (w != (ssize_t)n || renameat(s->dfd, s->tmp, s->dfd, s->name) < 0) {
		if (w == (ssize_t)n)
			e = errno;
		if (!s->failing)
			error("state: cannot write %s/%s: %s", s->dir, s->name, strerror(e));
		unlinkat(s->dfd, s->tmp, 0);
		s->failing = 1;
		return -1;
	}
	if (s->failing)
		info("state: %s/%s written again", s->dir, s->name);
	s->failing = 0;
	return 0;
}

void state_close(struct state *s)
{
	if (!s)
		return;
	unlinkat(s->dfd, s->name, 0);
	unlinkat(s->dfd, s->tmp, 0);
	close(s->dfd);
	free(s);
}

/* ---- readers */

/* 1 when pid is a live pv-forwarder of this user (a zombie is not). */
static int live_forwarder(long pid)
{
	char path[64], buf[256];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = fstat(fd, &st) == 0 && st.st_uid == getuid() ? read(fd, buf, sizeof buf - 1) : -1;
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "PID (COMM) S ...": COMM may hold anything, so from the last ')' */
	char *open_p = strchr(buf, '('), *close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p || close_p[1] != ' ')
		return 0;
	*close_p = '\0';
	return strcmp(open_p + 1, PROGNAME) == 0 && close_p[2] != 'Z' && close_p[2] != 'X';
}

struct entry {
	struct staterec r;
	char dir[PATH_MAX];
};

/* Every live entry of both directories into *out (malloc'd).  With prune,
 * stale entries, the .state.tmp of gone forwarders and the logs that
 * logkeep_decide lets go are removed. */
static size_t scan(struct entry **out, int prune)
{
	char dirs[2][PATH_MAX], err[PATH_MAX + 200];
	struct entry *list = NULL;
	struct logkeep_item *logs = NULL;
	size_t n = 0, nlogs = 0, caplogs = 0;
	statedir_candidates(dirs);
	for (int d = 0; d < 2; d++) {
		if (!dirs[d][0])
			continue;
		int dfd = statedir_open(dirs[d], 0, err, sizeof err);
		if (dfd < 0) {
			if (errno != ENOENT)
				error("%s", err);
			continue;
		}
		DIR *dp = fdopendir(dup(dfd));
		struct dirent *de;
		while (dp && (de = readdir(dp))) {
			long pid;
			char text[STATEREC_TEXT_MAX];
			struct staterec r;
			if ((pid = statedir_name_pid(de->d_name, ".state"))) {
				int ok = statedir_read_small(dfd, de->d_name, text, sizeof text) == 0 &&
					 staterec_parse(text, &r) == 0 && r.pid == pid && live_forwarder(pid);
				if (!ok) {
					if (prune && !live_forwarder(pid)) {
						unlinkat(dfd, de->d_name, 0);
						debug("removed the stale entry %s/%s", dirs[d], de->d_name);
					}
					continue;
				}
				struct entry *grown = realloc(list, (n + 1) * sizeof *grown);
				if (!grown)
					continue;
				list = grown;
				list[n].r = r;
				memcpy(list[n].dir, dirs[d], sizeof list[n].dir);
				n++;
			} else if (prune && (pid = statedir_name_pid(de->d_name, ".state.tmp"))) {
				/* left by a forwarder killed between write and rename */
				if (!live_forwarder(pid))
					unlinkat(dfd, de->d_name, 0);
			} else if (prune && (pid = statedir_name_pid(de->d_name, ".log"))) {
				struct stat st;
				if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
					continue;
				if (nlogs == caplogs) {
					size_t cap = caplogs ? 2 * caplogs : 64;
					struct logkeep_item *g = realloc(logs, cap * sizeof *g);
					if (!g)
						continue;       /* out of memory: this one is kept */
					logs = g;
					caplogs = cap;
				}
				logs[nlogs++] = (struct logkeep_item){ .pid = pid, .mtime = st.st_mtime,
								       .live = live_forwarder(pid) };
			}
		}
		if (dp)
			closedir(dp);
		if (nlogs && logkeep_decide(logs, nlogs, time(NULL)) > 0)
			for (size_t i = 0; i < nlogs; i++) {
				char name[32];
				if (logs[i].verdict != LOGKEEP_REMOVE)
					continue;
				snprintf(name, sizeof name, "%ld.log", logs[i].pid);
				if (unlinkat(dfd, name, 0) == 0)
					debug("removed the old log %s/%s", dirs[d], name);
			}
		nlogs = 0;
		close(dfd);
	}
	free(logs);
	*out = list;
	return n;
}

void state_peers(struct state_peers *p)
{
	struct entry *list;
	size_t n = scan(&list, 0);
	long self = (long)getpid();
	memset(p, 0, sizeof *p);
	if (n && (!(p->claimed = calloc(n, sizeof *p->claimed)) ||
		  !(p->unbound = calloc(n, sizeof *p->unbound))))
		n = 0;          /* out of memory: as if alone */
	for (size_t i = 0; i < n; i++) {
		const struct staterec *r = &list[i].r;
		if (r->pid == self)
			continue;
		if (r->job) {
			p->claimed[p->nclaimed++] = r->job;
			continue;
		}
		struct submit_window *w = &p->unbound[p->nunbound++];
		w->pid = r->pid;
		w->sid = r->sid;
		w->by_sbatch = strcmp(r->starter, "sbatch") == 0;
		w->from_ns = r->submit_from;
		w->to_ns = r->submit_to;
	}
	free(list);
}

void state_peers_free(struct state_peers *p)
{
	free(p->claimed);
	free(p->unbound);
	memset(p, 0, sizeof *p);
}

int state_submit_lock(struct state *s, int wait_ms, char *err, size_t errlen)
{
	int fd = openat(s->dfd, STATE_SUBMIT_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s/%s: %s", s->dir, STATE_SUBMIT_LOCK, strerror(errno));
		return -1;
	}
	/* a short poll, not a blocking flock: the wait must stay bounded (an
	 * `sbatch --wait` holds the lock for its job's whole life) */
	for (int waited = 0;; waited += 20) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(err, errlen, "%s/%s: %s", s->dir, STATE_SUBMIT_LOCK, strerror(errno));
			break;
		}
		if (waited >= wait_ms) {
			snprintf(err, errlen, "another sbatch of this user has held %s/%s for %d s",
				 s->dir, STATE_SUBMIT_LOCK, wait_ms / 1000);
			break;
		}
		nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
	}
	close(fd);
	return -1;
}

static int by_start(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->r.started != y->r.started)
		return x->r.started < y->r.started ? -1 : 1;
	return x->r.pid < y->r.pid ? -1 : x->r.pid > y->r.pid;
}

int state_list(FILE *out)
{
	struct entry *list;
	size_t n = scan(&list, 1);
	char line[512];
	time_t now = time(NULL);
	if (n > 0)     /* scan() leaves list NULL when there is nothing */
		qsort(list, n, sizeof *list, by_start);
	staterec_list_header(line, sizeof line);
	fprintf(out, "%s\n", line);
	for (size_t i = 0; i < n; i++) {
		staterec_list_line(line, sizeof line, &list[i].r, now);
		fprintf(out, "%s\n", line);
	}
	for (size_t i = 0; i < n; i++)
		debug("%ld: state %s/%ld.state, log %s/%ld.log", list[i].r.pid, list[i].dir,
		      list[i].r.pid, list[i].dir, list[i].r.pid);
	free(list);
	return fflush(out) == 0 ? EXIT_OK : EXIT_RUNTIME;
}
