/* job.c - a --slurm-job forwarder's job: the lifetime (lifetime.c) wired to
 * the lifeline, the control port, slurmctld, the listener, the timers and
 * the state file (see job.h). */
#define _GNU_SOURCE
#include "job.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "ctl_server.h"
#include "ctlproto.h"
#include "hostport.h"
#include "lifeline.h"
#include "lifetime.h"
#include "listener.h"
#include "log.h"
#include "slurmjob.h"
#include "state.h"
#include "statemirror.h"

struct job {
	struct job_host host;
	struct lifetime_cfg cfg;
	uint32_t arg_job_id;       /* --job-id */
	char token[CTL_TOKEN_LEN + 1];
	int ctl_fd;
	unsigned ctl_port;
	struct ctl_server *ctl;
	struct slurmjob *sj;
	struct lifetime *life;
	struct statemirror mirror;
	struct event *poll_ev, *tick_ev;
	char hostname[256];
	int submit_lock;           /* the state directory's submit lock, -1 */
};

/* ---- the state file */

static void mirror_now(const struct job *j, struct mirror_now *n)
{
	struct listener_stats ls;
	listener_stats(j->host.listener, &ls);
	memset(n, 0, sizeof *n);
	n->job = lifetime_bound(j->life);
	n->state = lifetime_state(j->life) == LIFE_ENDED ? "draining"
		   : lifetime_active(j->life) ? "running" : "waiting";
	n->conns = ls.open;
	n->up = ls.up;
	n->down = ls.down;
	n->rpcs = j->sj ? slurmjob_rpcs(j->sj) : 0;
	lifetime_submit_window(j->life, &n->submit_from, &n->submit_to);
}

static void write_state(struct job *j)
{
	struct mirror_now n;
	mirror_now(j, &n);
	statemirror_write(&j->mirror, &n, clock_mono_s());
}

/* Every second while connections are open, and after each change of them
 * and each answer from slurmctld: rewrite the state on a change (`rpcs`
 * included), and every STATEMIRROR_BYTES_S while bytes move.  Without
 * connections nothing ticks: an idle forwarder sleeps until something
 * happens. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	struct mirror_now n;
	(void)fd, (void)what;
	mirror_now(j, &n);
	if (statemirror_due(&j->mirror, &n, clock_mono_s()))
		statemirror_write(&j->mirror, &n, clock_mono_s());
	if (!n.conns)
		event_del(j->tick_ev);
	else if (!event_pending(j->tick_ev, EV_TIMEOUT, NULL))
		event_add(j->tick_ev, &(struct timeval){ 1, 0 });
}

static void on_conns_changed(void *arg)
{
	on_tick(-1, 0, arg);
}

/* ---- what the lifetime does to the world (lifetime_io) */

static void io_allow(void *arg, const struct cidr *list, size_t n)
{
	struct job *j = arg;
	listener_set_allowed(j->host.listener, list, n);
}

static int io_reply(void *arg, uint64_t ctl_id, const char *reason)
{
	struct job *j = arg;
	return ctl_server_reply(j->ctl, ctl_id, reason);
}

static void io_changed(void *arg)
{
	write_state(arg);
}

static void io_answered(void *arg)
{
	on_tick(-1, 0, arg);
}

static void io_arm_poll(void *arg, int seconds)
{
	struct job *j = arg;
	struct timeval tv = { seconds, 0 };
	event_add(j->poll_ev, &tv);
}

static void io_peers(void *arg, struct state_peers *p)
{
	(void)arg;
	state_peers(p);
}

static void io_peers_free(void *arg, struct state_peers *p)
{
	(void)arg;
	state_peers_free(p);
}

static void io_release_submit_lock(void *arg)
{
	struct job *j = arg;
	if (j->submit_lock >= 0) {
		close(j->submit_lock);
		j->submit_lock = -1;
	}
}

static void io_ended(void *arg, enum end_cause cause, const char *why)
{
	struct job *j = arg;
	debug("job: ended (%s)", end_cause_name(cause));
	write_state(j);
	event_del(j->poll_ev);
	j->host.exit(j->host.host, EXIT_OK, why);
}

static double io_now(void *arg)
{
	(void)arg;
	return clock_mono_s();
}

static time_t io_wall(void *arg)
{
	(void)arg;
	return time(NULL);
}

static int64_t io_wall_ns(void *arg)
{
	(void)arg;
	return clock_wall_ns();
}

/* ---- events into the lifetime */

static void on_request(uint64_t ctl_id, const struct ctl_req *req, const struct sockaddr *peer,
		       const char *peer_name, void *arg)
{
	struct job *j = arg;
	lifetime_request(j->life, ctl_id, req, peer, peer_name);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	(void)fd, (void)what;
	lifetime_poll(j->life);
}

static void on_lifeline_job(unsigned long id, void *arg)
{
	struct job *j = arg;
	lifetime_lifeline_job(j->life, id);
}

static void on_lifeline_eof(void *arg)
{
	struct job *j = arg;
	lifetime_lifeline_eof(j->life);
}

/* ---- set-up */

int job_prepare(struct job **jp, const struct cmdline *a, unsigned relay_port,
		char *err, size_t errlen)
{
	char token[CTL_TOKEN_LEN + 1] = "";
	char *t = getenv(CTL_TOKEN_ENV);
	int bad_token = 0;

	*jp = NULL;
	if (t) {
		size_t len = strlen(t);
		if (ctl_token_valid(t))
			memcpy(token, t, sizeof token);
		else
			bad_token = 1;
		explicit_bzero(t, len);     /* also out of /proc/PID/environ */
		unsetenv(CTL_TOKEN_ENV);
	}
	if (bad_token) {
		snprintf(err, errlen, "%s is not %d lowercase hex digits", CTL_TOKEN_ENV, CTL_TOKEN_LEN);
		return EXIT_USAGE;
	}
	if (a->control && !token[0]) {
		snprintf(err, errlen, "--control needs the token in the environment (%s)", CTL_TOKEN_ENV);
		return EXIT_USAGE;
	}
	if (!a->slurm_job)
		return 0;

	struct job *j = calloc(1, sizeof *j);
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return EXIT_RUNTIME;
	}
	j->ctl_fd = -1;
	j->submit_lock = -1;
	j->arg_job_id = (uint32_t)a->job_id;
	j->cfg.starter = a->starter;
	j->cfg.uid = (uint32_t)getuid();
	j->cfg.starter_pid = getppid();     /* before detaching: the parent is the starter */
	pid_t sid = getsid(j->cfg.starter_pid);
	j->cfg.sid = sid > 1 ? (uint32_t)sid : 0;
	j->cfg.started = time(NULL);
	memcpy(j->token, token, sizeof token);
	explicit_bzero(token, sizeof token);

	struct staterec *r = &j->mirror.fixed;
	snprintf(r->starter, sizeof r->starter, "%s", cmdline_starter_name(a->starter));
	hostport_format(r->listen, sizeof r->listen, a->listen, (uint16_t)relay_port);
	hostport_format(r->dest, sizeof r->dest, a->to.host, a->to.port);
	r->started = j->cfg.started;
	r->sid = j->cfg.sid;
	if (gethostname(j->hostname, sizeof j->hostname - 1) < 0)
		j->hostname[0] = '\0';
	if (a->control && ctl_server_bind(a->listen, &j->ctl_fd, &j->ctl_port, err, errlen) < 0) {
		job_free(j);
		return EXIT_RUNTIME;
	}
	r->control = j->ctl_port;
	slurmjob_init();
	*jp = j;
	return 0;
}

unsigned job_control_port(const struct job *j)
{
	return j ? j->ctl_port : 0;
}

int job_start(struct job *j, const struct job_host *h, char *err, size_t errlen)
{
	char why[512];
	j->host = *h;
	j->cfg.pid = (long)getpid();
	if (!(j->sj = slurmjob_new(h->base))) {
		snprintf(err, errlen, "cannot start the slurmctld worker: %s", strerror(errno));
		return -1;
	}
	struct ctld ctld;
	struct lifetime_io io = {
		io_allow, io_reply, io_changed, io_arm_poll, io_peers,
		io_peers_free, io_release_submit_lock, io_ended, io_now, io_wall, io_wall_ns,
		io_answered, j,
	};
	slurmjob_ctld(j->sj, &ctld);
	if (!(j->life = lifetime_new(&j->cfg, &ctld, &io))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (j->ctl_fd >= 0) {
		struct ctl_server_ops ops = { on_request, j };
		int fd = j->ctl_fd;
		j->ctl_fd = -1;
		if (!(j->ctl = ctl_server_new(h->base, fd, j->token, &ops))) {
			snprintf(err, errlen, "cannot watch the control port");
			return -1;
		}
		explicit_bzero(j->token, sizeof j->token);
	}
	struct lifeline_ops lops = { on_lifeline_job, on_lifeline_eof, j };
	h->set_lifeline_ops(h->host, &lops);
	if (!(j->poll_ev = evtimer_new(h->base, on_poll, j)) ||
	    !(j->tick_ev = event_new(h->base, -1, EV_PERSIST, on_tick, j))) {
		snprintf(err, errlen, "cannot set up the timers");
		return -1;
	}
	listener_on_change(h->listener, on_conns_changed, j);
	struct state *st = state_open(1, why, sizeof why);
	j->mirror.st = st;
	if (!st)
		error("state directory: %s; `pv-forwarder --list` will not show this forwarder", why);
	if (st && j->cfg.starter == PVF_STARTER_SBATCH && !j->arg_job_id) {
		/* before the ready line: sbatch submits only after it */
		j->submit_lock = state_submit_lock(st, JOB_SUBMIT_LOCK_WAIT_MS, why, sizeof why);
		if (j->submit_lock >= 0)
			lifetime_submit_opened(j->life, clock_wall_ns());
		else
			info("submit lock: %s; going on (this job is then known by its HELLO only)", why);
	}
	if (j->ctl_port)
		info("control port %u (HELLO/BYE from the job's steps, END from its epilog)",
		     j->ctl_port);
	info("slurm: %s%s; user %" PRIu32 ", host %s, session %" PRIu32 "%s%s",
	     j->cfg.starter ? "started by " : "no --starter", cmdline_starter_name(j->cfg.starter),
	     j->cfg.uid, j->hostname, j->cfg.sid, st ? ", state in " : "", state_dir(st));
	write_state(j);
	if (j->arg_job_id)
		lifetime_job_id(j->life, j->arg_job_id);
	return 0;
}

void job_free(struct job *j)
{
	if (!j)
		return;
	ctl_server_free(j->ctl);
	slurmjob_free(j->sj);
	if (j->submit_lock >= 0)
		close(j->submit_lock);
	if (j->ctl_fd >= 0)
		close(j->ctl_fd);
	if (j->poll_ev)
		event_free(j->poll_ev);
	if (j->tick_ev)
		event_free(j->tick_ev);
	state_close(j->mirror.st);
	lifetime_free(j->life);
	explicit_bzero(j->token, sizeof j->token);
	free(j);
}
