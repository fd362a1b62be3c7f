/* job.c - binding to the Slurm job and living as long as it (see job.h). */
#define _GNU_SOURCE
#include "job.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>     /* MIN */
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "control.h"
#include "control_line.h"
#include "clock.h"
#include "fwd.h"
#include "hostport.h"
#include "jobrules.h"
#include "lifeline.h"
#include "listener.h"
#include "log.h"
#include "netaddr.h"
#include "slurmjob.h"
#include "state.h"
#include "staterec.h"

/* A control request waiting for an answer from slurmctld. */
struct waiter {
	struct waiter *next;
	uint64_t ctl_id;           /* control_reply() */
	enum ctl_verb verb;
	uint32_t job_id;           /* as in the request */
	uint32_t load_id;          /* the load it waits for ... */
	uint64_t seq;              /* ... one asked with this tag or later */
	char peer[72];
};

/* A slurmjob_load() asked and not answered yet. */
struct inflight {
	struct inflight *next;
	uint32_t id;
	uint64_t seq;
	const char *why;           /* "poll", "HELLO", "lifeline", ... (static) */
};

struct job {
	struct fwd *f;
	struct event_base *base;
	enum pvf_starter starter;
	uint32_t arg_job_id;       /* --job-id */
	char listen[HOSTPORT_HOST_MAX + 16];
	char dest[HOSTPORT_HOST_MAX + 16];
	char token[CTL_TOKEN_LEN + 1];
	int ctl_fd;
	unsigned ctl_port;
	struct control *ctl;
	struct slurmjob *sj;
	struct state *st;
	struct event *poll_ev, *tick_ev;
	char host[256];
	uint32_t uid;
	uint32_t sid;              /* the starter's session (sbatch's alloc_sid) */
	pid_t starter_pid;         /* the starter (our parent at start) */
	struct event *watch_ev;    /* salloc: its activity */
	unsigned long long starter_io;   /* its syscr + syscw when last seen */
	double activity_load;      /* monotonic time of the last load it caused */
	time_t started;            /* wall clock, for the candidate window */

	uint32_t bound;            /* 0: not bound yet */
	uint32_t *ids;             /* the bound job's ids (a het job's components) */
	size_t nids;
	enum job_phase phase;
	char state_name[48];       /* its last job_state, "PENDING", ... */
	char *nodes;               /* its last node list (NULL: none) */
	struct cidr *addrs;        /* their addresses: who may connect */
	size_t naddrs;
	double loaded_at;          /* monotonic time of the last answer about it */

	uint64_t seq;
	struct inflight *inflight;
	struct waiter *waiters;
	uint32_t hinted;           /* unbound: a job named by HELLO, BYE, the lifeline or
				      --job-id whose check failed for want of slurmctld */
	int searching;             /* slurm_load_job_user asked */
	size_t last_candidates;    /* candidates the last search found (SIZE_MAX: none yet) */
	int eof;                   /* the lifeline said EOF */
	time_t eof_time;
	/* sbatch: the submission window (jobrules_by_order), ns since the epoch */
	int submit_lock;           /* the state directory's submit lock, -1 */
	int64_t submit_from, submit_to;
	int order_wait_s;          /* next retry while a sibling's sbatch runs */
	char order_why[100];       /* the last reason it could not tell (logged once) */
	int inferred;              /* bound by the order, not yet by the job's HELLO:
				      nobody may connect until the HELLO comes */
	int rpc_failing;           /* the last RPC failed (logged once) */
	int draining;

	/* what the state file says */
	char last_state[16];
	uint32_t last_bound;
	unsigned last_conns;
	uint64_t last_up, last_down;
	unsigned long last_rpcs;
	double last_write;
};

/* ---- the state file */

static const char *state_word(const struct job *j)
{
	if (j->draining)
		return "draining";
	return j->bound && j->phase == JOB_PHASE_ACTIVE ? "running" : "waiting";
}

static void write_state(struct job *j)
{
	struct staterec r;
	struct listener_stats ls;
	if (!j->st)
		return;
	memset(&r, 0, sizeof r);
	listener_stats(fwd_listener(j->f), &ls);
	r.job = j->bound;
	snprintf(r.state, sizeof r.state, "%s", state_word(j));
	snprintf(r.starter, sizeof r.starter, "%s", jobargs_starter_name(j->starter));
	snprintf(r.listen, sizeof r.listen, "%s", j->listen);
	r.control = j->ctl_port;
	snprintf(r.dest, sizeof r.dest, "%s", j->dest);
	r.conns = ls.open;
	r.up = ls.up;
	r.down = ls.down;
	r.started = j->started;
	r.updated = time(NULL);
	r.rpcs = j->sj ? slurmjob_rpcs(j->sj) : 0;
	r.sid = j->sid;
	r.submit_from = j->submit_from;
	r.submit_to = j->submit_to;
	state_write(j->st, &r);
	snprintf(j->last_state, sizeof j->last_state, "%s", r.state);
	j->last_bound = j->bound;
	j->last_conns = ls.open;
	j->last_up = ls.up;
	j->last_down = ls.down;
	j->last_rpcs = r.rpcs;
	j->last_write = clock_mono_s();
}

/* Every second while connections are open, and after each change of them
 * and each answer from slurmctld: rewrite the state on a change (`rpcs`
 * included), and every JOB_STATE_BYTES_S while bytes move.  Without
 * connections nothing ticks: an idle forwarder sleeps until something
 * happens. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	struct listener_stats ls;
	(void)fd, (void)what;
	listener_stats(fwd_listener(j->f), &ls);
	int changed = ls.open != j->last_conns || j->bound != j->last_bound ||
		      strcmp(state_word(j), j->last_state) != 0 ||
		      (j->sj && slurmjob_rpcs(j->sj) != j->last_rpcs);
	int moved = ls.up != j->last_up || ls.down != j->last_down;
	if (changed || (moved && clock_mono_s() - j->last_write >= JOB_STATE_BYTES_S))
		write_state(j);
	if (!ls.open)
		event_del(j->tick_ev);
	else if (!event_pending(j->tick_ev, EV_TIMEOUT, NULL))
		event_add(j->tick_ev, &(struct timeval){ 1, 0 });
}

static void on_conns_changed(void *arg)
{
	on_tick(-1, 0, arg);
}

/* ---- ending */

static void job_exit(struct job *j, const char *why)
{
	if (j->draining)
		return;
	j->draining = 1;
	write_state(j);
	if (j->poll_ev)
		event_del(j->poll_ev);
	if (j->watch_ev)
		event_del(j->watch_ev);
	fwd_exit(j->f, EXIT_OK, why);
}

/* ---- who may connect */

static void cidr_text(const struct cidr *c, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (c->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, c->addr, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, c->addr, 16);
	}
	sockaddr_format((struct sockaddr *)&ss, buf, len, 0);
}

static void addrs_text(const struct cidr *list, size_t n, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used + 60 < len; i++) {
		char one[64];
		cidr_text(&list[i], one, sizeof one);
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", one);
	}
	if (used + 60 >= len && n)
		snprintf(buf + used, len - used, ", ...");
}

/* Sets who may connect: the job's addresses while it is active, nobody
 * otherwise -- and nobody while the binding is only inferred: a wrong
 * guess must not open the desktop to another job's nodes. */
static void apply_allowed(struct job *j)
{
	struct listener *l = fwd_listener(j->f);
	if (j->phase == JOB_PHASE_ACTIVE && !j->inferred)
		listener_set_allowed(l, j->addrs, j->naddrs);
	else
		listener_set_allowed(l, NULL, 0);
}

/* apply_allowed(), and the log line and state file that say what it did. */
static void allow_and_say(struct job *j)
{
	char text[600];
	apply_allowed(j);
	if (j->phase == JOB_PHASE_ACTIVE && j->inferred) {
		info("job %" PRIu32 ": %s on %s: nobody may connect until the job's HELLO",
		     j->bound, j->state_name, j->nodes ? j->nodes : "(no nodes)");
	} else if (j->phase == JOB_PHASE_ACTIVE) {
		addrs_text(j->addrs, j->naddrs, text, sizeof text);
		info("job %" PRIu32 ": %s on %s: %s may connect", j->bound, j->state_name,
		     j->nodes ? j->nodes : "(no nodes)", j->naddrs ? text : "no address");
	} else if (j->phase == JOB_PHASE_WAITING) {
		info("job %" PRIu32 ": %s: no node may connect until it runs", j->bound, j->state_name);
	}
	write_state(j);
}

static int knows(const struct job *j, uint32_t id)
{
	if (!j->bound)
		return 0;
	if (id == j->bound)
		return 1;
	for (size_t i = 0; i < j->nids; i++)
		if (j->ids[i] == id)
			return 1;
	return 0;
}

/* Takes in an answer about the bound job: its ids, phase, nodes and
 * addresses; logs what changed. */
static void update_bound(struct job *j, const struct sj_answer *a)
{
	size_t found;
	enum job_phase old = j->phase;
	char old_state[48];
	snprintf(old_state, sizeof old_state, "%s", j->state_name);

	uint32_t *ids = calloc(a->nrecs ? a->nrecs : 1, sizeof *ids);
	size_t nids = 0;
	for (size_t i = 0; ids && i < a->nrecs; i++)
		if (jobrules_belongs(&a->recs[i], j->bound))
			ids[nids++] = a->recs[i].job_id;
	if (ids) {
		free(j->ids);
		j->ids = ids;
		j->nids = nids;
	}
	j->phase = jobrules_phase_of(a->recs, a->nrecs, j->bound, &found);
	for (size_t i = 0; i < a->nrecs; i++)
		if (a->recs[i].job_id == j->bound ||
		    (a->recs[i].job_id == a->asked && jobrules_belongs(&a->recs[i], j->bound))) {
			jobrules_state_name(a->recs[i].job_state, j->state_name, sizeof j->state_name);
			break;
		}
	j->loaded_at = clock_mono_s();

	int nodes_changed = (a->nodes == NULL) != (j->nodes == NULL) ||
			    (a->nodes && strcmp(a->nodes, j->nodes) != 0);
	if (nodes_changed) {
		free(j->nodes);
		j->nodes = a->nodes ? strdup(a->nodes) : NULL;
	}
	if (a->resolved) {
		struct cidr *copy = a->naddrs ? malloc(a->naddrs * sizeof *copy) : NULL;
		if (copy || !a->naddrs) {
			if (a->naddrs)
				memcpy(copy, a->addrs, a->naddrs * sizeof *copy);
			free(j->addrs);
			j->addrs = copy;
			j->naddrs = a->naddrs;
		}
	} else if (!a->nodes) {
		free(j->addrs);
		j->addrs = NULL;
		j->naddrs = 0;
	}
	if (a->unresolved[0] && (nodes_changed || a->resolved))
		error("job %" PRIu32 ": no address for node(s) %s: they cannot connect", j->bound,
		      a->unresolved);

	if (j->phase == old && !nodes_changed && !a->resolved &&
	    strcmp(old_state, j->state_name) == 0)
		return;
	allow_and_say(j);
}

static void watch_starter(struct job *j);

/* Forgets an inferred binding: the job's own HELLO or BYE named another. */
static void unbind(struct job *j, uint32_t told)
{
	info("job %" PRIu32 ": not ours after all (the job's steps name job %" PRIu32
	     "); unbound", j->bound, told);
	j->bound = 0;
	j->inferred = 0;
	free(j->ids);
	j->ids = NULL;
	j->nids = 0;
	free(j->nodes);
	j->nodes = NULL;
	free(j->addrs);
	j->addrs = NULL;
	j->naddrs = 0;
	j->phase = JOB_PHASE_WAITING;
	j->state_name[0] = '\0';
	apply_allowed(j);
	write_state(j);
}

/* The job's own step said HELLO (or BYE) for the inferred job. */
static void confirm(struct job *j, const char *how)
{
	if (!j->inferred)
		return;
	j->inferred = 0;
	info("job %" PRIu32 ": confirmed (%s)", j->bound, how);
	allow_and_say(j);
}

static void bind_to(struct job *j, uint32_t id, const char *how)
{
	j->bound = id;
	j->hinted = 0;
	j->phase = JOB_PHASE_WAITING;
	j->state_name[0] = '\0';
	info("job %" PRIu32 ": bound (%s)", id, how);
	if (j->poll_ev) {
		struct timeval tv = { j->starter == PVF_STARTER_SRUN ? JOB_POLL_SRUN_S : JOB_POLL_BOUND_S, 0 };
		event_add(j->poll_ev, &tv);
	}
	watch_starter(j);
	write_state(j);     /* at once: other forwarders read the claim from it */
}

/* ---- asking slurmctld */

static void on_job_answer(const struct sj_answer *a, void *arg);
static void on_user_answer(const struct sj_answer *a, void *arg);
static void arm_poll(struct job *j, int seconds);

static struct inflight *inflight_find(struct job *j, uint32_t id)
{
	for (struct inflight *q = j->inflight; q; q = q->next)
		if (q->id == id)
			return q;
	return NULL;
}

/* Asks about job id (fresh: always a new question; else joins one already
 * asked).  The tag of the question, 0 on failure. */
static uint64_t load(struct job *j, uint32_t id, int fresh, const char *why)
{
	struct inflight *q = fresh ? NULL : inflight_find(j, id);
	if (q)
		return q->seq;
	if (!(q = calloc(1, sizeof *q)))
		return 0;
	q->id = id;
	q->seq = ++j->seq;
	q->why = why;
	if (slurmjob_load(j->sj, id, id == j->bound ? j->nodes : NULL, q->seq, on_job_answer, j) < 0) {
		free(q);
		return 0;
	}
	/* kept in order: the worker answers in this order */
	struct inflight **tail = &j->inflight;
	while (*tail)
		tail = &(*tail)->next;
	*tail = q;
	debug("slurm: asking about job %" PRIu32 " (%s)", id, why);
	return q->seq;
}

static void rpc_failed(struct job *j, const char *what, const char *err)
{
	if (!j->rpc_failing)
		error("slurmctld: %s: %s (carrying on; asking again later)", what, err);
	else
		debug("slurmctld: %s: %s", what, err);
	j->rpc_failing = 1;
}

static void rpc_ok(struct job *j)
{
	if (j->rpc_failing)
		info("slurmctld answers again");
	j->rpc_failing = 0;
}

/* ---- control requests */

static void reply(struct job *j, const struct waiter *w, const char *reason)
{
	if (control_reply(j->ctl, w->ctl_id, reason) < 0)
		debug("control: %s for job %" PRIu32 " from %s: the connection is gone",
		      ctl_verb_name(w->verb), w->job_id, w->peer);
	else if (reason)
		info("control: %s for job %" PRIu32 " from %s: ERR %s", ctl_verb_name(w->verb),
		     w->job_id, w->peer, reason);
	else
		debug("control: %s for job %" PRIu32 " from %s: OK", ctl_verb_name(w->verb),
		      w->job_id, w->peer);
}

static void add_waiter(struct job *j, uint64_t ctl_id, const struct ctl_req *req,
		       const char *peer, uint32_t load_id, uint64_t seq)
{
	struct waiter *w = calloc(1, sizeof *w), **tail = &j->waiters;
	if (!w || !seq) {
		struct waiter tmp = { .ctl_id = ctl_id, .verb = req->verb, .job_id = req->job_id };
		snprintf(tmp.peer, sizeof tmp.peer, "%s", peer);
		reply(j, &tmp, "out of memory");
		free(w);
		return;
	}
	w->ctl_id = ctl_id;
	w->verb = req->verb;
	w->job_id = req->job_id;
	w->load_id = load_id;
	w->seq = seq;
	snprintf(w->peer, sizeof w->peer, "%s", peer);
	while (*tail)
		tail = &(*tail)->next;
	*tail = w;
}

static void on_request(uint64_t ctl_id, const struct ctl_req *req, const struct sockaddr *peer,
		       const char *peer_name, void *arg)
{
	struct job *j = arg;
	struct waiter now = { .ctl_id = ctl_id, .verb = req->verb, .job_id = req->job_id };
	snprintf(now.peer, sizeof now.peer, "%s", peer_name);

	if (j->draining) {
		reply(j, &now, "the forwarder is shutting down");
		return;
	}
	if (j->inferred && !knows(j, req->job_id))
		unbind(j, req->job_id);
	if (req->verb == CTL_HELLO && knows(j, req->job_id) && j->phase == JOB_PHASE_ACTIVE &&
	    !j->inferred &&
	    (cidr_list_match(j->addrs, j->naddrs, peer) || clock_mono_s() - j->loaded_at < JOB_HELLO_FRESH_S)) {
		reply(j, &now, NULL);    /* the usual case: a step of the bound job */
		return;
	}
	info("control: %s for job %" PRIu32 " from %s", ctl_verb_name(req->verb), req->job_id,
	     peer_name);
	/* Ask slurmctld: about the bound job itself when the id is one of its
	 * own, else about the id given.  BYE always asks afresh: a requeue
	 * must be seen as it is now. */
	uint32_t load_id = knows(j, req->job_id) ? j->bound : req->job_id;
	uint64_t seq = load(j, load_id, req->verb == CTL_BYE,
			    req->verb == CTL_BYE ? "BYE" : "HELLO");
	add_waiter(j, ctl_id, req, peer_name, load_id, seq);
}

/* Answers the waiters for this answer.  *exit_why is set when a BYE ends
 * the job. */
static void serve_waiters(struct job *j, const struct sj_answer *a, const char **exit_why,
			  char *why_buf, size_t why_len)
{
	struct waiter **pw = &j->waiters;
	while (*pw) {
		struct waiter *w = *pw;
		if (w->load_id != a->asked || w->seq > a->tag) {
			pw = &w->next;
			continue;
		}
		*pw = w->next;
		char reason[300];
		const struct jobrec *rec = NULL;
		for (size_t i = 0; a->rc == SJ_OK && i < a->nrecs && !rec; i++)
			if (a->recs[i].job_id == w->job_id)
				rec = &a->recs[i];
		if (w->verb == CTL_BYE && j->bound && a->rc == SJ_ERROR) {
			/* the batch script has ended; without slurmctld nothing tells
			 * a requeue apart: go */
			reply(j, w, NULL);
			snprintf(why_buf, why_len, "job %" PRIu32 ": its batch script ended "
				 "(slurmctld did not answer: %s)", j->bound, a->error);
			*exit_why = why_buf;
		} else if (a->rc == SJ_ERROR) {
			snprintf(reason, sizeof reason, "cannot ask slurmctld about job %" PRIu32 ": %s",
				 w->job_id, a->error);
			reply(j, w, reason);
		} else if (a->rc == SJ_UNKNOWN || !rec) {
			snprintf(reason, sizeof reason, "slurmctld does not know job %" PRIu32, w->job_id);
			reply(j, w, reason);
		} else if (!j->bound) {
			const char *bad = jobrules_check_owner(rec, j->uid, reason, sizeof reason);
			reply(j, w, bad ? bad : "not bound to a job");
		} else if (a->bound != j->bound) {
			snprintf(reason, sizeof reason, "this forwarder serves job %" PRIu32 ", not %" PRIu32,
				 j->bound, w->job_id);
			reply(j, w, reason);
		} else if (w->verb == CTL_HELLO) {
			if (j->phase == JOB_PHASE_FINISHED) {
				snprintf(reason, sizeof reason, "job %" PRIu32 " has ended (%s)", j->bound,
					 j->state_name);
				reply(j, w, reason);
			} else {
				reply(j, w, NULL);
				confirm(j, "HELLO");
			}
		} else {          /* BYE about our job */
			char st[48];
			jobrules_state_name(rec->job_state, st, sizeof st);
			reply(j, w, NULL);
			confirm(j, "BYE");
			if (jobrules_bye_stays(rec->job_state)) {
				info("job %" PRIu32 ": its batch script ended, but the job was requeued "
				     "(%s): staying", j->bound, st);
				if (j->phase != JOB_PHASE_WAITING) {
					j->phase = JOB_PHASE_WAITING;
					apply_allowed(j);
					write_state(j);
				}
			} else {
				snprintf(why_buf, why_len, "job %" PRIu32 ": its batch script ended (%s)",
					 j->bound, st);
				*exit_why = why_buf;
			}
		}
		free(w);
	}
}

static void on_job_answer(const struct sj_answer *a, void *arg)
{
	struct job *j = arg;
	const char *exit_why = NULL, *why = "?";
	char why_buf[300];

	for (struct inflight **pq = &j->inflight; *pq; pq = &(*pq)->next)
		if ((*pq)->seq == a->tag) {
			struct inflight *q = *pq;
			why = q->why;
			*pq = q->next;
			free(q);
			break;
		}
	if (j->draining)
		return;

	if (a->rc == SJ_ERROR) {
		char what[64];
		snprintf(what, sizeof what, "job %" PRIu32, a->asked);
		rpc_failed(j, what, a->error);
		if (!j->bound) {       /* ask again soon: it may well be ours */
			j->hinted = a->asked;
			arm_poll(j, JOB_RETRY_S);
		}
	} else {
		rpc_ok(j);
		if (a->asked == j->hinted)
			j->hinted = 0;
	}

	if (a->rc == SJ_OK && !j->bound) {
		/* HELLO, BYE, the lifeline or --job-id named a job: ours? */
		const struct jobrec *rec = NULL;
		const char *bad;
		char reason[160];
		for (size_t i = 0; i < a->nrecs && !rec; i++)
			if (a->recs[i].job_id == a->asked)
				rec = &a->recs[i];
		if (rec && !(bad = jobrules_check_owner(rec, j->uid, reason, sizeof reason))) {
			char how[120];
			if (a->bound != a->asked)
				snprintf(how, sizeof how, "%s for job %" PRIu32 ", a component", why, a->asked);
			else
				snprintf(how, sizeof how, "%s", why);
			bind_to(j, a->bound, how);
		} else if (rec && strcmp(why, "HELLO") != 0 && strcmp(why, "BYE") != 0) {
			error("job %" PRIu32 " (%s): %s; not bound", a->asked, why, bad);
		}
	}

	if (j->bound && a->bound == j->bound) {
		if (a->rc == SJ_OK) {
			update_bound(j, a);
			if (j->phase == JOB_PHASE_FINISHED && !exit_why) {
				snprintf(why_buf, sizeof why_buf, "job %" PRIu32 " has ended (%s)", j->bound,
					 j->state_name);
				exit_why = why_buf;
			}
		} else if (a->rc == SJ_UNKNOWN) {
			snprintf(why_buf, sizeof why_buf, "job %" PRIu32 " is gone (slurmctld: %s)",
				 j->bound, a->error);
			exit_why = why_buf;
		}
	}
	char bye_buf[300];
	const char *bye_why = NULL;
	serve_waiters(j, a, &bye_why, bye_buf, sizeof bye_buf);
	if (bye_why)
		exit_why = bye_why;
	if (exit_why)
		job_exit(j, exit_why);
	else
		on_tick(-1, 0, j);
}

/* ---- sbatch before its job is known: candidates */

static void search(struct job *j)
{
	if (j->searching || j->bound || j->draining)
		return;
	if (slurmjob_load_user(j->sj, j->uid, ++j->seq, on_user_answer, j) < 0) {
		error("out of memory");
		return;
	}
	j->searching = 1;
	debug("slurm: looking for this forwarder's job among the user's jobs");
}

static void arm_poll(struct job *j, int seconds)
{
	struct timeval tv = { seconds, 0 };
	event_add(j->poll_ev, &tv);
}

/* sbatch: binds to the candidate the order of the session's sbatch says
 * is ours (jobrules_by_order), so that a job cancelled before it ever
 * started ends its forwarder; the job's HELLO confirms it later. */
static enum order_answer by_order(struct job *j, const struct sj_answer *a,
				  const struct cand_rules *r, const struct state_peers *peers)
{
	if (j->starter != PVF_STARTER_SBATCH || !j->eof)
		return ORDER_UNKNOWN;
	struct submit_window self = { (long)getpid(), j->sid, 1, j->submit_from, j->submit_to };
	uint32_t id = 0;
	const char *why = NULL;
	enum order_answer ans = jobrules_by_order(&self, peers->unbound, peers->nunbound, a->recs,
						  a->nrecs, r, &id, &why);
	if (ans == ORDER_BOUND) {
		j->inferred = 1;
		bind_to(j, id, "the order of this session's sbatch; nobody may connect "
			"until its HELLO");
		load(j, id, 0, "order");
	} else if (strcmp(why, j->order_why) != 0) {
		/* once per reason: the poll asks again every 30 s */
		info("the order of submission does not tell which job is ours yet: %s", why);
		snprintf(j->order_why, sizeof j->order_why, "%s", why);
	}
	return ans;
}

static void release_submit_lock(struct job *j)
{
	if (j->submit_lock >= 0) {
		close(j->submit_lock);
		j->submit_lock = -1;
	}
}

static void user_answer(struct job *j, const struct sj_answer *a)
{
	if (j->bound || j->draining)
		return;
	if (a->rc != SJ_OK) {
		rpc_failed(j, "the user's jobs", a->error);
		arm_poll(j, JOB_POLL_UNBOUND_S);
		return;
	}
	rpc_ok(j);

	uint32_t first = 0;
	struct state_peers peers;
	struct cand_rules r = {
		.uid = j->uid, .hosts = (const char (*)[JOBREC_HOST_MAX])a->hosts, .nhosts = a->nhosts,
		.sid = j->sid, .not_before = j->started - 1, .not_after = j->eof ? j->eof_time + 5 : 0,
	};
	if (log_debug_level() && j->last_candidates == (size_t)-1)
		for (size_t i = 0; i < a->nhosts; i++)
			debug("this host may be alloc_node '%s'", a->hosts[i]);
	state_peers(&peers);
	r.claimed = peers.claimed;
	r.nclaimed = peers.nclaimed;
	size_t n = jobrules_count_candidates(a->recs, a->nrecs, &r, &first);
	if (n == 0) {
		state_peers_free(&peers);
		char why[100];
		snprintf(why, sizeof why, "%s has exited and no job was submitted",
			 jobargs_starter_name(j->starter));
		job_exit(j, j->last_candidates == (size_t)-1 ? why
			 : "no job of this forwarder is left (cancelled before it started?)");
		return;
	}
	if (n != j->last_candidates)
		info("waiting for the job to start: %zu candidate job%s (%s%" PRIu32 ")", n,
		     n == 1 ? "" : "s", n == 1 ? "" : "first ", first);
	j->last_candidates = n;
	enum order_answer ord = by_order(j, a, &r, &peers);
	state_peers_free(&peers);
	if (ord == ORDER_WAIT) {
		arm_poll(j, j->order_wait_s);
		j->order_wait_s = MIN(2 * j->order_wait_s, JOB_POLL_UNBOUND_S);   /* 1, 2, 4 ... 30 s */
		return;
	}
	if (!j->bound)
		arm_poll(j, j->hinted ? JOB_RETRY_S : JOB_POLL_UNBOUND_S);
}

static void on_user_answer(const struct sj_answer *a, void *arg)
{
	struct job *j = arg;
	j->searching = 0;
	user_answer(j, a);
	if (!j->draining)
		on_tick(-1, 0, j);
	/* the first look after sbatch's exit is done (see on_lifeline_eof) */
	release_submit_lock(j);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	(void)fd, (void)what;
	if (j->draining)
		return;
	if (j->bound) {
		if (!inflight_find(j, j->bound))
			load(j, j->bound, 0, "poll");
		arm_poll(j, j->starter == PVF_STARTER_SRUN ? JOB_POLL_SRUN_S : JOB_POLL_BOUND_S);
		return;
	}
	if (j->hinted && !inflight_find(j, j->hinted))
		load(j, j->hinted, 0, "retry");
	if (j->eof && (j->starter == PVF_STARTER_SBATCH || j->starter == PVF_STARTER_SALLOC))
		search(j);      /* its answer arms the next one */
	else if (j->hinted)
		arm_poll(j, JOB_RETRY_S);
}

/* ---- salloc: slurmctld tells salloc (not us) when the allocation ends,
 * and salloc keeps running its command; salloc is idle otherwise, so any
 * system call it makes (its /proc/PID/io counters move) is worth one look
 * at the job. */

static int starter_io(pid_t pid, unsigned long long *out)
{
	char path[64], line[128];
	unsigned long long r = 0, w = 0;
	int have = 0;
	snprintf(path, sizeof path, "/proc/%ld/io", (long)pid);
	FILE *fp = fopen(path, "re");
	if (!fp)
		return -1;
	while (fgets(line, sizeof line, fp))
		have += sscanf(line, "syscr: %llu", &r) == 1 || sscanf(line, "syscw: %llu", &w) == 1;
	fclose(fp);
	if (have != 2)
		return -1;
	*out = r + w;
	return 0;
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	unsigned long long io;
	(void)fd, (void)what;
	if (j->draining || j->eof || !j->bound)
		return;
	if (starter_io(j->starter_pid, &io) < 0) {
		debug("salloc (pid %ld): cannot read its /proc/PID/io; not watching it",
		      (long)j->starter_pid);
		event_del(j->watch_ev);
		return;
	}
	if (io != j->starter_io && !inflight_find(j, j->bound) &&
	    clock_mono_s() - j->activity_load >= JOB_WATCH_LOAD_S) {
		debug("salloc (pid %ld) is active: asking about job %" PRIu32, (long)j->starter_pid,
		      j->bound);
		j->activity_load = clock_mono_s();
		load(j, j->bound, 0, "salloc activity");
	}
	j->starter_io = io;
}

static void watch_starter(struct job *j)
{
	if (j->starter != PVF_STARTER_SALLOC || !j->watch_ev || j->starter_pid <= 1 ||
	    starter_io(j->starter_pid, &j->starter_io) < 0)
		return;
	struct timeval tv = { 0, JOB_WATCH_MS * 1000 };
	event_add(j->watch_ev, &tv);
	debug("watching salloc (pid %ld) for activity", (long)j->starter_pid);
}

/* ---- the lifeline */

static void on_lifeline_job(unsigned long id, void *arg)
{
	struct job *j = arg;
	if (j->draining || knows(j, (uint32_t)id))
		return;
	if (j->bound) {
		info("lifeline: job %lu, but bound to job %" PRIu32 " already; ignored", id, j->bound);
		return;
	}
	load(j, (uint32_t)id, 0, "lifeline");
}

static void on_lifeline_eof(void *arg)
{
	struct job *j = arg;
	j->eof = 1;
	j->eof_time = time(NULL);
	if (j->starter == PVF_STARTER_SBATCH && j->submit_from) {
		/* the window closes (in the state file) before the next sbatch
		 * may open its own */
		j->submit_to = clock_wall_ns();
		write_state(j);
	}
	/* An unbound sbatch forwarder keeps the submit lock until its first look
	 * at the user's jobs is done (on_user_answer): the session's next sbatch
	 * opens its window only after this one has bound its job by the order or
	 * found that it cannot.  Released at once, a sibling whose submission
	 * then failed could close its window beside ours with one job between
	 * the two, and both would wait for the job's HELLO. */
	if (j->starter != PVF_STARTER_SBATCH || j->bound)
		release_submit_lock(j);
	if (j->starter == PVF_STARTER_SALLOC && !j->bound) {
		/* no JOB line: the allocation failed, or salloc --no-shell */
		info("lifeline closed: salloc has exited before its command started; "
		     "looking for its job");
		search(j);
		return;
	}
	if (j->starter != PVF_STARTER_SBATCH) {
		char why[80];
		snprintf(why, sizeof why, "lifeline closed (%s is gone)",
			 j->starter == PVF_STARTER_NONE ? "the starting process"
							: jobargs_starter_name(j->starter));
		job_exit(j, why);
		return;
	}
	if (j->bound) {
		info("lifeline closed: sbatch has exited; job %" PRIu32 " decides from now on", j->bound);
		return;
	}
	info("lifeline closed: sbatch has exited; looking for its job");
	search(j);
	if (!j->searching)      /* nothing asked: no answer will release it */
		release_submit_lock(j);
}

/* ---- set-up */

int job_prepare(struct job **jp, const struct jobargs *a, unsigned relay_port,
		char *err, size_t errlen)
{
	char token[CTL_TOKEN_LEN + 1] = "";
	char *t = getenv(JOB_TOKEN_ENV);
	int bad_token = 0;

	*jp = NULL;
	if (t) {
		size_t len = strlen(t);
		if (ctl_token_valid(t))
			memcpy(token, t, sizeof token);
		else
			bad_token = 1;
		explicit_bzero(t, len);     /* also out of /proc/PID/environ */
		unsetenv(JOB_TOKEN_ENV);
	}
	if (bad_token) {
		snprintf(err, errlen, "%s is not %d lowercase hex digits", JOB_TOKEN_ENV, CTL_TOKEN_LEN);
		return EXIT_USAGE;
	}
	if (a->control && !token[0]) {
		snprintf(err, errlen, "--control needs the token in the environment (%s)", JOB_TOKEN_ENV);
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
	j->order_wait_s = 1;
	j->starter = a->starter;
	j->arg_job_id = (uint32_t)a->job_id;
	j->uid = (uint32_t)getuid();
	j->starter_pid = getppid();         /* before detaching: the parent is the starter */
	pid_t sid = getsid(j->starter_pid);
	j->sid = sid > 1 ? (uint32_t)sid : 0;
	j->started = time(NULL);
	j->last_candidates = (size_t)-1;
	memcpy(j->token, token, sizeof token);
	explicit_bzero(token, sizeof token);
	hostport_format(j->listen, sizeof j->listen, a->listen, (uint16_t)relay_port);
	hostport_format(j->dest, sizeof j->dest, a->to.host, a->to.port);
	if (gethostname(j->host, sizeof j->host - 1) < 0)
		j->host[0] = '\0';
	if (a->control && control_bind(a->listen, &j->ctl_fd, &j->ctl_port, err, errlen) < 0) {
		job_free(j);
		return EXIT_RUNTIME;
	}
	slurmjob_init();
	*jp = j;
	return 0;
}

unsigned job_control_port(const struct job *j)
{
	return j ? j->ctl_port : 0;
}

int job_start(struct job *j, struct fwd *f, char *err, size_t errlen)
{
	char why[512];
	j->f = f;
	j->base = fwd_base(f);
	if (!(j->sj = slurmjob_new(j->base))) {
		snprintf(err, errlen, "cannot start the slurmctld worker: %s", strerror(errno));
		return -1;
	}
	if (j->ctl_fd >= 0) {
		struct control_ops ops = { on_request, j };
		int fd = j->ctl_fd;
		j->ctl_fd = -1;
		if (!(j->ctl = control_new(j->base, fd, j->token, &ops))) {
			snprintf(err, errlen, "cannot watch the control port");
			return -1;
		}
		explicit_bzero(j->token, sizeof j->token);
	}
	struct lifeline_ops lops = { on_lifeline_job, on_lifeline_eof, j };
	fwd_set_lifeline_ops(f, &lops);
	if (!(j->poll_ev = evtimer_new(j->base, on_poll, j)) ||
	    !(j->tick_ev = event_new(j->base, -1, EV_PERSIST, on_tick, j)) ||
	    !(j->watch_ev = event_new(j->base, -1, EV_PERSIST, on_watch, j))) {
		snprintf(err, errlen, "cannot set up the timers");
		return -1;
	}
	listener_on_change(fwd_listener(f), on_conns_changed, j);
	if (!(j->st = state_open(1, why, sizeof why)))
		error("state directory: %s; `pv-forwarder --list` will not show this forwarder", why);
	if (j->st && j->starter == PVF_STARTER_SBATCH && !j->arg_job_id) {
		/* before the ready line: sbatch submits only after it */
		j->submit_lock = state_submit_lock(j->st, JOB_SUBMIT_LOCK_WAIT_MS, why, sizeof why);
		if (j->submit_lock >= 0)
			j->submit_from = clock_wall_ns();
		else
			info("submit lock: %s; going on (this job is then known by its HELLO only)", why);
	}
	if (j->ctl_port)
		info("control port %u (HELLO/BYE from the job's steps)", j->ctl_port);
	info("slurm: %s%s; user %" PRIu32 ", host %s, session %" PRIu32 "%s%s",
	     j->starter ? "started by " : "no --starter", jobargs_starter_name(j->starter), j->uid,
	     j->host, j->sid, j->st ? ", state in " : "", state_dir(j->st));
	write_state(j);
	if (j->arg_job_id)
		load(j, j->arg_job_id, 0, "--job-id");
	return 0;
}

void job_free(struct job *j)
{
	if (!j)
		return;
	control_free(j->ctl);
	slurmjob_free(j->sj);
	if (j->submit_lock >= 0)
		close(j->submit_lock);
	if (j->ctl_fd >= 0)
		close(j->ctl_fd);
	if (j->poll_ev)
		event_free(j->poll_ev);
	if (j->tick_ev)
		event_free(j->tick_ev);
	if (j->watch_ev)
		event_free(j->watch_ev);
	state_close(j->st);
	while (j->waiters) {
		struct waiter *w = j->waiters;
		j->waiters = w->next;
		free(w);
	}
	while (j->inflight) {
		struct inflight *q = j->inflight;
		j->inflight = q->next;
		free(q);
	}
	free(j->ids);
	free(j->nodes);
	free(j->addrs);
	explicit_bzero(j->token, sizeof j->token);
	free(j);
}
