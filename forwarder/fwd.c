/* fwd.c - the running forwarder (see fwd.h). */
#define _GNU_SOURCE
#include "fwd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "job.h"
#include "cmdline.h"
#include "lifeline.h"
#include "listener.h"
#include "log.h"
#include "setup.h"

static const int fwd_sigs[] = { SIGTERM, SIGINT, SIGUSR1, SIGHUP };
#define NSIGS (sizeof fwd_sigs / sizeof fwd_sigs[0])

struct fwd {
	struct event_base *base;
	struct listener *l;
	struct lifeline *ll;
	struct event *sig[NSIGS];
	int exiting, exit_code;
};

/* Stops accepting, closes every connection (why goes into their log lines)
 * and leaves the loop; fwd_run() returns code.  The first call counts. */
static void fwd_exit(struct fwd *f, int code, const char *why)
{
	if (f->exiting)
		return;
	f->exiting = 1;
	f->exit_code = code;
	char reason[160];
	snprintf(reason, sizeof reason, "shutting down (%s)", why);
	info("exiting: %s", why);
	listener_stop(f->l, reason);
	event_base_loopexit(f->base, NULL);
}

/* ---- the default lifeline handling: exit when the starter goes.  Without
 * --slurm-job the job id of a "JOB <id>" line is not needed. */

static void on_lifeline_job(unsigned long job_id, void *arg)
{
	(void)arg;
	debug("lifeline: job %lu", job_id);
}

static void on_lifeline_eof(void *arg)
{
	fwd_exit(arg, EXIT_OK, "lifeline closed (the starting process is gone)");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct fwd *f = arg;
	(void)what;
	switch (sig) {
	case SIGUSR1:
		listener_log_stats(f->l);
		break;
	case SIGHUP:
		info("SIGHUP ignored (no reload; restart to read the configuration again)");
		break;
	default:
		fwd_exit(f, EXIT_OK, sig == SIGTERM ? "SIGTERM" : "SIGINT");
	}
}

/* libevent's own warnings go to our log, not to a stderr that may be /dev/null. */
static void on_libevent_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		error("libevent: %s", msg);
	else
		debug("libevent: %s", msg);
}

int fwd_new(struct fwd **fp, const struct cmdline *a, struct setup *st, char *err, size_t errlen)
{
	struct fwd *f = calloc(1, sizeof *f);
	*fp = f;
	event_set_log_callback(on_libevent_log);
	if (!f || !(f->base = event_base_new()) || !(f->l = listener_new(f->base, a->max_conns))) {
		snprintf(err, errlen, "cannot set up the event loop");
		return EXIT_RUNTIME;
	}
	if (setup_install(st, f->l, err, errlen) < 0)
		return EXIT_RUNTIME;
	for (size_t i = 0; i < NSIGS; i++)
		if (!(f->sig[i] = evsignal_new(f->base, fwd_sigs[i], on_signal, f)) ||
		    event_add(f->sig[i], NULL) < 0) {
			snprintf(err, errlen, "cannot watch signal %d", fwd_sigs[i]);
			return EXIT_RUNTIME;
		}
	if (a->lifeline_fd >= 0) {
		struct lifeline_ops ops = { on_lifeline_job, on_lifeline_eof, f };
		if (!(f->ll = lifeline_new(f->base, a->lifeline_fd, &ops))) {
			snprintf(err, errlen, "--lifeline-fd: cannot watch it (%s); it must be the read end of a pipe",
				 strerror(errno));
			return EXIT_USAGE;
		}
	}
	return 0;
}

static void host_exit(void *host, int code, const char *why)
{
	fwd_exit(host, code, why);
}

static void host_set_lifeline_ops(void *host, const struct lifeline_ops *ops)
{
	struct fwd *f = host;
	if (f->ll)
		lifeline_set_ops(f->ll, ops);
}

void fwd_job_host(struct fwd *f, struct job_host *h)
{
	h->base = f->base;
	h->listener = f->l;
	h->exit = host_exit;
	h->set_lifeline_ops = host_set_lifeline_ops;
	h->host = f;
}

int fwd_run(struct fwd *f)
{
	event_base_dispatch(f->base);
	return f->exit_code;
}

void fwd_free(struct fwd *f)
{
	if (!f)
		return;
	listener_free(f->l);
	lifeline_free(f->ll);
	for (size_t i = 0; i < NSIGS; i++)
		if (f->sig[i])
			event_free(f->sig[i]);
	if (f->base)
		event_base_free(f->base);
	free(f);
}
