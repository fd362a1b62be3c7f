/* fwd_gone.c - a forwarder that ended before its time (see fwd_gone.h). */
#define _GNU_SOURCE
#include "fwd_gone.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostport.h"
#include "quote.h"
#include "statedir.h"
#include "staterec.h"

int fwd_gone_is_ours(const char *text, const struct fwd_gone_want *w, long *pid)
{
	struct staterec rec;
	struct hostport hp;

	if (text == NULL || w == NULL || w->starter == NULL || w->lport == 0 ||
	    staterec_parse(text, &rec) < 0 || strcmp(rec.starter, w->starter) != 0)
		return 0;
	/* listen=ADDR:PORT as hostport_format() wrote it */
	if (hostport_parse(rec.listen, &hp, NULL, 0) < 0 || hp.port != w->lport ||
	    (w->control && rec.control != w->control) || rec.pid <= 0)
		return 0;
	*pid = rec.pid;
	return 1;
}

int fwd_gone_say_at_exit(const char *starter, int lifeline_gone, int state_left)
{
	if (!lifeline_gone || starter == NULL)
		return 0;
	if (strcmp(starter, "srun") == 0)
		return 1;       /* it ends after srun, never before */
	/* salloc's may have ended with its job; one that did removed its
	 * state file before its lifeline closed */
	return strcmp(starter, "salloc") == 0 && state_left;
}

void fwd_gone_exit_msg(char *buf, size_t len, const char *starter, const char *via,
		       const char *login, const char *log, int log_is_file)
{
	char qs[QUOTE_BUF], qv[QUOTE_BUF], ql[QUOTE_BUF], qlog[PATH_MAX + 64];

	quote_str(qs, sizeof qs, starter);
	quote_str(qv, sizeof qv, via);
	quote_str(ql, sizeof ql, login);
	quote_str(qlog, sizeof qlog, log);
	snprintf(buf, len, "pv-forward: the forwarder on '%s' ended before %s did (killed?); "
		 "connections through it were cut then. Its log %s '%s' on '%s'.", qv, qs,
		 log_is_file ? "is" : "is in", qlog, ql);
}

void fwd_gone_hello_msg(char *buf, size_t len, const char *step, const char *via,
			const char *login, uid_t uid)
{
	char qs[QUOTE_BUF], qv[QUOTE_BUF], ql[QUOTE_BUF];

	quote_str(qs, sizeof qs, step);
	quote_str(qv, sizeof qv, via);
	quote_str(ql, sizeof ql, login);
	/* the state directory on the login node depends on XDG_RUNTIME_DIR
	 * there, which this node cannot see: both places are named */
	snprintf(buf, len, "pv-forward: step %s: the job's forwarder on '%s' is not running "
		 "(it ended or was killed; its control port refused the connection), so pvserver "
		 "in this step cannot reach the desktop through it. Its log is in "
		 "'$XDG_RUNTIME_DIR/pv-forward' or '/tmp/pv-forward-%lu' on '%s' "
		 "(pv-forwarder --list there shows the forwarders still running).", qs, qv,
		 (unsigned long)uid, ql);
}

/* The pid of w's state file in the directory dfd, or 0. */
static long find_in(int dfd, const struct fwd_gone_want *w)
{
	DIR *dp;
	struct dirent *de;
	long found = 0;
	int fd = dup(dfd);

	if (fd < 0 || (dp = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (!found && (de = readdir(dp)) != NULL) {
		char text[STATEREC_TEXT_MAX];
		long pid, name_pid = statedir_name_pid(de->d_name, ".state");

		/* the file's name and its pid= must agree, as for --list */
		if (name_pid && statedir_read_small(dfd, de->d_name, text, sizeof text) == 0 &&
		    fwd_gone_is_ours(text, w, &pid) && pid == name_pid)
			found = pid;
	}
	closedir(dp);
	return found;
}

int fwd_gone_find(const struct fwd_gone_want *w, char *log, size_t loglen)
{
	char dirs[2][PATH_MAX], err[PATH_MAX + 200];

	statedir_candidates(dirs);
	snprintf(log, loglen, "%s", dirs[0]);
	for (int d = 0; d < 2; d++) {
		int dfd;
		long pid;

		if (!dirs[d][0] || (dfd = statedir_open(dirs[d], 0, err, sizeof err)) < 0)
			continue;
		pid = find_in(dfd, w);
		close(dfd);
		if (pid) {
			snprintf(log, loglen, "%s/%ld.log", dirs[d], pid);
			return 1;
		}
	}
	return 0;
}

int fwd_gone_at_exit(const struct fwd_gone_want *w, const char *login, char *msg,
		     size_t msglen)
{
	char via[HOSTPORT_HOST_MAX + 16], log[PATH_MAX + 32];
	int left = fwd_gone_find(w, log, sizeof log);

	if (!fwd_gone_say_at_exit(w->starter, 1, left))
		return 0;
	hostport_format(via, sizeof via, login, w->lport);
	fwd_gone_exit_msg(msg, msglen, w->starter, via, login, log, left);
	return 1;
}
