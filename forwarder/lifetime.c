/* lifetime.c - a --slurm-job forwarder's lifetime (see lifetime.h): the
 * transitions (bind_to, confirm, unbind, end) and the handlers of the
 * events that drive them. */
#include "lifetime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asks.h"
#include "binding.h"
#include "log.h"
#include "search.h"
#include "waiters.h"

struct lifetime {
	struct lifetime_cfg cfg;
	struct ctld ctld;
	struct lifetime_io io;
	enum life_state state;
	enum end_cause cause;      /* LIFE_ENDED */
	struct binding b;
	struct asks asks;          /* questions about single jobs in flight */
	struct waiters waiters;    /* control requests waiting for them */
	struct search search;      /* unbound: the user's jobs */
	double bound_at;           /* now() when bound, or requeued */
	uint32_t hinted;           /* unbound: a job named by HELLO, BYE, the lifeline or
				      --job-id whose check failed for want of slurmctld */
	int eof;                   /* the lifeline said EOF */
	time_t eof_time;
	int64_t submit_from, submit_to;   /* sbatch: the submission window, ns */
	int rpc_failing;           /* the last RPC failed (logged once) */
};

const char *life_state_name(enum life_state s)
{
	switch (s) {
	case LIFE_UNBOUND:  return "unbound";
	case LIFE_INFERRED: return "inferred";
	case LIFE_BOUND:    return "bound";
	case LIFE_ENDED:    return "ended";
	}
	return "?";
}

static double now(struct lifetime *l)
{
	return l->io.now(l->io.arg);
}

static void changed(struct lifetime *l)
{
	l->io.changed(l->io.arg);
}

static void arm_poll(struct lifetime *l, int seconds)
{
	l->io.arm_poll(l->io.arg, seconds);
}

/* ---- who may connect */

static void apply_allowed(struct lifetime *l)
{
	const struct cidr *list;
	size_t n = binding_allowed(&l->b, l->state == LIFE_INFERRED, &list);
	l->io.allow(l->io.arg, list, n);
}

/* apply_allowed(), and the log line and state file that say what it did. */
static void allow_and_say(struct lifetime *l)
{
	const struct binding *b = &l->b;
	char text[600];
	apply_allowed(l);
	if (b->phase == JOB_PHASE_ACTIVE && l->state == LIFE_INFERRED) {
		info("job %" PRIu32 ": %s on %s: nobody may connect until the job's HELLO",
		     b->bound, b->state_name, b->nodes ? b->nodes : "(no nodes)");
	} else if (b->phase == JOB_PHASE_ACTIVE) {
		binding_addrs_text(b, text, sizeof text);
		info("job %" PRIu32 ": %s on %s: %s may connect", b->bound, b->state_name,
		     b->nodes ? b->nodes : "(no nodes)", b->naddrs ? text : "no address");
	} else if (b->phase == JOB_PHASE_WAITING) {
		info("job %" PRIu32 ": %s: no node may connect until it runs", b->bound, b->state_name);
	}
	changed(l);
}

/* ---- the transitions */

/* How often a bound forwarder looks at its job (lifetime.h, "Timing"). */
static int bound_poll_s(struct lifetime *l)
{
	if (l->cfg.starter == PVF_STARTER_SRUN)
		return LIFE_POLL_SRUN_S;
	if (l->state == LIFE_BOUND && l->b.phase == JOB_PHASE_ACTIVE)
		return LIFE_POLL_BOUND_S;
	return now(l) - l->bound_at < LIFE_WAIT_FAST_S ? LIFE_POLL_WAIT_S : LIFE_POLL_BOUND_S;
}

/* Just bound, or requeued: the job may wait, and is looked at often for a
 * while from now. */
static void poll_fast_from_now(struct lifetime *l)
{
	l->bound_at = now(l);
	arm_poll(l, bound_poll_s(l));
}

/* UNBOUND -> BOUND, or INFERRED when only the order of submission says so. */
static void bind_to(struct lifetime *l, uint32_t id, const char *how, int inferred)
{
	binding_set(&l->b, id);
	l->state = inferred ? LIFE_INFERRED : LIFE_BOUND;
	l->hinted = 0;
	info("job %" PRIu32 ": bound (%s)", id, how);
	poll_fast_from_now(l);
	changed(l);     /* at once: other forwarders read the claim from it */
}

/* INFERRED -> BOUND: the job's own step said HELLO (or BYE). */
static void confirm(struct lifetime *l, const char *how)
{
	if (l->state != LIFE_INFERRED)
		return;
	l->state = LIFE_BOUND;
	info("job %" PRIu32 ": confirmed (%s)", l->b.bound, how);
	allow_and_say(l);
	arm_poll(l, bound_poll_s(l));   /* a running job's end comes by BYE/END now */
}

/* INFERRED -> UNBOUND: the job's steps name another job. */
static void unbind(struct lifetime *l, uint32_t told)
{
	info("job %" PRIu32 ": not ours after all (the job's steps name job %" PRIu32
	     "); unbound", l->b.bound, told);
	binding_clear(&l->b);
	l->state = LIFE_UNBOUND;
	apply_allowed(l);
	changed(l);
}

/* any -> ENDED. */
static void end(struct lifetime *l, enum end_cause cause, const char *why)
{
	if (l->state == LIFE_ENDED)
		return;
	l->state = LIFE_ENDED;
	l->cause = cause;
	l->io.ended(l->io.arg, cause, why);
}

/* ---- asking slurmctld */

static void on_job_answer(const struct sj_answer *a, void *arg);
static void on_user_answer(const struct sj_answer *a, void *arg);

/* Asks about job id (fresh: always a new question; else joins one already
 * asked).  The tag of the question, 0 on failure. */
static uint64_t load(struct lifetime *l, uint32_t id, int fresh, enum ask_reason why)
{
	struct ask *q = fresh ? NULL : asks_find(&l->asks, id);
	if (q)
		return q->seq;
	uint64_t seq = asks_add(&l->asks, id, why);
	if (!seq)
		return 0;
	if (l->ctld.load(l->ctld.impl, id, id == l->b.bound ? l->b.nodes : NULL, seq,
			 on_job_answer, l) < 0) {
		asks_drop(&l->asks, seq);
		return 0;
	}
	debug("slurm: asking about job %" PRIu32 " (%s)", id, ask_reason_name(why));
	return seq;
}

static void rpc_failed(struct lifetime *l, const char *what, const char *err)
{
	if (!l->rpc_failing)
		error("slurmctld: %s: %s (carrying on; asking again later)", what, err);
	else
		debug("slurmctld: %s: %s", what, err);
	l->rpc_failing = 1;
}

static void rpc_ok(struct lifetime *l)
{
	if (l->rpc_failing)
		info("slurmctld answers again");
	l->rpc_failing = 0;
}

/* ---- control requests */

static void reply(struct lifetime *l, const struct waiter *w, const char *reason)
{
	if (l->io.reply(l->io.arg, w->ctl_id, reason) < 0)
		debug("control: %s for job %" PRIu32 " from %s: the connection is gone",
		      ctl_verb_name(w->verb), w->job_id, w->peer);
	else if (reason)
		info("control: %s for job %" PRIu32 " from %s: ERR %s", ctl_verb_name(w->verb),
		     w->job_id, w->peer, reason);
	else
		debug("control: %s for job %" PRIu32 " from %s: OK", ctl_verb_name(w->verb),
		      w->job_id, w->peer);
}

void lifetime_request(struct lifetime *l, uint64_t ctl_id, const struct ctl_req *req,
		      const struct sockaddr *peer, const char *peer_name)
{
	struct waiter now_w = { .ctl_id = ctl_id, .verb = req->verb, .job_id = req->job_id };
	snprintf(now_w.peer, sizeof now_w.peer, "%s", peer_name);

	if (l->state == LIFE_ENDED) {
		reply(l, &now_w, "the forwarder is shutting down");
		return;
	}
	if (l->state == LIFE_INFERRED && !binding_knows(&l->b, req->job_id))
		unbind(l, req->job_id);
	if (req->verb == CTL_HELLO &&
	    binding_hello_at_once(&l->b, l->state == LIFE_INFERRED, req->job_id, peer, now(l),
				  LIFE_HELLO_FRESH_S)) {
		reply(l, &now_w, NULL);    /* the usual case: a step of the bound job */
		return;
	}
	info("control: %s for job %" PRIu32 " from %s", ctl_verb_name(req->verb), req->job_id,
	     peer_name);
	/* Ask slurmctld: about the bound job itself when the id is one of its
	 * own, else about the id given.  BYE and END always ask afresh: a
	 * requeue must be seen as it is now. */
	uint32_t load_id = binding_knows(&l->b, req->job_id) ? l->b.bound : req->job_id;
	uint64_t seq = load(l, load_id, req->verb != CTL_HELLO,
			    req->verb == CTL_HELLO ? ASK_HELLO
			    : req->verb == CTL_BYE ? ASK_BYE : ASK_END);
	if (!seq || waiters_add(&l->waiters, ctl_id, req->verb, req->job_id, peer_name, load_id,
				seq) < 0)
		reply(l, &now_w, "out of memory");
}

/* What a BYE or END waiter was told, for log lines: "its batch script
 * ended", "its epilog ran on 10.0.0.1". */
static void told(const struct waiter *w, char *buf, size_t len)
{
	if (w->verb == CTL_BYE)
		snprintf(buf, len, "its batch script ended");
	else
		snprintf(buf, len, "its epilog ran on %s", w->peer);
}

/* Answers the waiters for this answer.  *why is set when a BYE or END ends
 * the job. */
static void serve_waiters(struct lifetime *l, const struct sj_answer *a, const char **why,
			  enum end_cause *cause, char *why_buf, size_t why_len)
{
	struct waiter *w;
	while ((w = waiters_next(&l->waiters, a))) {
		char reason[300], st[48], what[120];
		enum refusal refusal;
		const struct jobrec *rec;
		told(w, what, sizeof what);
		switch (waiter_judge(w, a, &l->b, l->cfg.uid, &refusal, &rec, reason, sizeof reason)) {
		case VERDICT_REFUSE:
			reply(l, w, reason);
			break;
		case VERDICT_HELLO_OK:
			reply(l, w, NULL);
			confirm(l, "HELLO");
			break;
		case VERDICT_BYE_NO_CTLD:
			reply(l, w, NULL);
			snprintf(why_buf, why_len, "job %" PRIu32 ": %s (slurmctld did not answer: %s)",
				 l->b.bound, what, a->error);
			*why = why_buf;
			*cause = w->verb == CTL_BYE ? END_BATCH_CTLD_LOST : END_EPILOG_CTLD_LOST;
			break;
		case VERDICT_BYE_STAYS:
			jobrules_state_name(rec->job_state, st, sizeof st);
			reply(l, w, NULL);
			confirm(l, ctl_verb_name(w->verb));
			info("job %" PRIu32 ": %s, but the job was requeued (%s): staying",
			     l->b.bound, what, st);
			if (l->b.phase != JOB_PHASE_WAITING) {
				l->b.phase = JOB_PHASE_WAITING;
				poll_fast_from_now(l);
				apply_allowed(l);
				changed(l);
			}
			break;
		case VERDICT_BYE_ENDS:
			jobrules_state_name(rec->job_state, st, sizeof st);
			reply(l, w, NULL);
			confirm(l, ctl_verb_name(w->verb));
			snprintf(why_buf, why_len, "job %" PRIu32 ": %s (%s)", l->b.bound, what, st);
			*why = why_buf;
			*cause = w->verb == CTL_BYE ? END_BATCH_DONE : end_cause_of_state(rec->job_state);
			break;
		}
		free(w);
	}
}

/* Unbound: the job named by HELLO, BYE, the lifeline or --job-id is
 * ours when it is the user's and has not ended. */
static void bind_if_ours(struct lifetime *l, const struct sj_answer *a, enum ask_reason why)
{
	const struct jobrec *rec = NULL;
	const char *bad;
	char reason[160];
	for (size_t i = 0; i < a->nrecs && !rec; i++)
		if (a->recs[i].job_id == a->asked)
			rec = &a->recs[i];
	if (rec && !(bad = jobrules_check_owner(rec, l->cfg.uid, reason, sizeof reason))) {
		char how[120];
		if (a->bound != a->asked)
			snprintf(how, sizeof how, "%s for job %" PRIu32 ", a component",
				 ask_reason_name(why), a->asked);
		else
			snprintf(how, sizeof how, "%s", ask_reason_name(why));
		bind_to(l, a->bound, how, 0);
	} else if (rec && !ask_reason_is_request(why)) {
		error("job %" PRIu32 " (%s): %s; not bound", a->asked, ask_reason_name(why), bad);
	}
}

/* After an answer from slurmctld: the state file's RPC count moved. */
static void answered(struct lifetime *l)
{
	if (l->state != LIFE_ENDED && l->io.answered)
		l->io.answered(l->io.arg);
}

static void on_job_answer(const struct sj_answer *a, void *arg)
{
	struct lifetime *l = arg;
	enum ask_reason why = asks_take(&l->asks, a->tag);
	const char *end_why = NULL;
	enum end_cause cause = END_JOB_ENDED;
	char why_buf[300];

	if (l->state == LIFE_ENDED)
		return;
	if (a->rc == SJ_ERROR) {
		char what[64];
		snprintf(what, sizeof what, "job %" PRIu32, a->asked);
		rpc_failed(l, what, a->error);
		if (!l->b.bound) {       /* ask again soon: it may well be ours */
			l->hinted = a->asked;
			arm_poll(l, LIFE_RETRY_S);
		}
	} else {
		rpc_ok(l);
		if (a->asked == l->hinted)
			l->hinted = 0;
	}
	if (a->rc == SJ_OK && !l->b.bound)
		bind_if_ours(l, a, why);

	if (l->b.bound && a->bound == l->b.bound) {
		if (a->rc == SJ_OK) {
			enum job_phase was = l->b.phase;
			if (binding_update(&l->b, a, now(l)))
				allow_and_say(l);
			if (was == JOB_PHASE_ACTIVE && l->b.phase == JOB_PHASE_WAITING)
				poll_fast_from_now(l);     /* requeued */
			else if (was != l->b.phase)
				arm_poll(l, bound_poll_s(l));   /* it runs: seldom from now */
			if (l->b.phase == JOB_PHASE_FINISHED) {
				snprintf(why_buf, sizeof why_buf, "job %" PRIu32 " has ended (%s)",
					 l->b.bound, l->b.state_name);
				end_why = why_buf;
				cause = end_cause_of_state(l->b.job_state);
			}
		} else if (a->rc == SJ_UNKNOWN) {
			snprintf(why_buf, sizeof why_buf, "job %" PRIu32 " is gone (slurmctld: %s)",
				 l->b.bound, a->error);
			end_why = why_buf;
			cause = END_JOB_GONE;
		}
	}
	char bye_buf[400];
	const char *bye_why = NULL;
	enum end_cause bye_cause = END_BATCH_DONE;
	serve_waiters(l, a, &bye_why, &bye_cause, bye_buf, sizeof bye_buf);
	if (bye_why) {
		end_why = bye_why;
		cause = bye_cause;
	}
	if (end_why)
		end(l, cause, end_why);
	answered(l);
}

/* ---- unbound after the starter's exit: the user's jobs */

static void search_start(struct lifetime *l)
{
	if (l->search.asking || l->b.bound || l->state == LIFE_ENDED)
		return;
	if (l->ctld.load_user(l->ctld.impl, l->cfg.uid, asks_next_tag(&l->asks), on_user_answer,
			      l) < 0) {
		error("out of memory");
		return;
	}
	l->search.asking = 1;
	debug("slurm: looking for this forwarder's job among the user's jobs");
}

static void user_answer(struct lifetime *l, const struct sj_answer *a)
{
	if (l->b.bound || l->state == LIFE_ENDED)
		return;
	if (a->rc != SJ_OK) {
		rpc_failed(l, "the user's jobs", a->error);
		arm_poll(l, LIFE_POLL_UNBOUND_S);
		return;
	}
	rpc_ok(l);

	struct state_peers peers;
	struct search_self self = {
		.uid = l->cfg.uid, .sid = l->cfg.sid, .started = l->cfg.started,
		.eof_time = l->eof ? l->eof_time : 0,
		.by_order = l->cfg.starter == PVF_STARTER_SBATCH && l->eof,
		.pid = l->cfg.pid, .submit_from = l->submit_from, .submit_to = l->submit_to,
	};
	uint32_t id = 0;
	int wait_s = LIFE_POLL_UNBOUND_S;
	char why[100];
	l->io.peers(l->io.arg, &peers);
	enum search_verdict v = search_judge(&l->search, &self, a, &peers, LIFE_POLL_UNBOUND_S,
					     &id, &wait_s);
	l->io.peers_free(l->io.arg, &peers);
	switch (v) {
	case SEARCH_NOT_SUBMITTED:
		snprintf(why, sizeof why, "%s has exited and no job was submitted",
			 cmdline_starter_name(l->cfg.starter));
		end(l, END_NOT_SUBMITTED, why);
		return;
	case SEARCH_NONE_LEFT:
		end(l, END_NEVER_STARTED,
		    "no job of this forwarder is left (cancelled before it started?)");
		return;
	case SEARCH_ORDER_WAIT:
		arm_poll(l, wait_s);
		return;
	case SEARCH_BY_ORDER:
		bind_to(l, id, "the order of this session's sbatch; nobody may connect "
			"until its HELLO", 1);
		load(l, id, 0, ASK_ORDER);
		break;
	case SEARCH_WAITING:
		break;
	}
	if (!l->b.bound)
		arm_poll(l, l->hinted ? LIFE_RETRY_S : LIFE_POLL_UNBOUND_S);
}

static void on_user_answer(const struct sj_answer *a, void *arg)
{
	struct lifetime *l = arg;
	l->search.asking = 0;
	user_answer(l, a);
	answered(l);
	/* the first look after sbatch's exit is done (see lifetime_lifeline_eof) */
	l->io.release_submit_lock(l->io.arg);
}

/* ---- the events */

void lifetime_poll(struct lifetime *l)
{
	if (l->state == LIFE_ENDED)
		return;
	if (l->b.bound) {
		if (!asks_find(&l->asks, l->b.bound))
			load(l, l->b.bound, 0, ASK_POLL);
		arm_poll(l, bound_poll_s(l));
		return;
	}
	if (l->hinted && !asks_find(&l->asks, l->hinted))
		load(l, l->hinted, 0, ASK_RETRY);
	if (l->eof && (l->cfg.starter == PVF_STARTER_SBATCH || l->cfg.starter == PVF_STARTER_SALLOC))
		search_start(l);      /* its answer arms the next one */
	else if (l->hinted)
		arm_poll(l, LIFE_RETRY_S);
}

void lifetime_job_id(struct lifetime *l, uint32_t id)
{
	load(l, id, 0, ASK_JOB_ID);
}

void lifetime_lifeline_job(struct lifetime *l, unsigned long id)
{
	if (l->state == LIFE_ENDED || binding_knows(&l->b, (uint32_t)id))
		return;
	if (l->b.bound) {
		info("lifeline: job %lu, but bound to job %" PRIu32 " already; ignored", id, l->b.bound);
		return;
	}
	load(l, (uint32_t)id, 0, ASK_LIFELINE);
}

void lifetime_lifeline_eof(struct lifetime *l)
{
	enum pvf_starter starter = l->cfg.starter;
	l->eof = 1;
	l->eof_time = l->io.wall(l->io.arg);
	if (starter == PVF_STARTER_SBATCH && l->submit_from) {
		/* the window closes (in the state file) before the next sbatch
		 * may open its own */
		l->submit_to = l->io.wall_ns(l->io.arg);
		changed(l);
	}
	/* An unbound sbatch forwarder keeps the submit lock until its first look
	 * at the user's jobs is done (on_user_answer): the session's next sbatch
	 * opens its window only after this one has bound its job by the order or
	 * found that it cannot.  Released at once, a sibling whose submission
	 * then failed could close its window beside ours with one job between
	 * the two, and both would wait for the job's HELLO. */
	if (starter != PVF_STARTER_SBATCH || l->b.bound)
		l->io.release_submit_lock(l->io.arg);
	if (starter == PVF_STARTER_SALLOC && !l->b.bound) {
		/* no JOB line: the allocation failed, or salloc --no-shell */
		info("lifeline closed: salloc has exited before its command started; "
		     "looking for its job");
		search_start(l);
		return;
	}
	if (starter != PVF_STARTER_SBATCH) {
		char why[80];
		snprintf(why, sizeof why, "lifeline closed (%s is gone)",
			 starter == PVF_STARTER_NONE ? "the starting process"
						     : cmdline_starter_name(starter));
		end(l, END_STARTER_GONE, why);
		return;
	}
	if (l->b.bound) {
		info("lifeline closed: sbatch has exited; job %" PRIu32 " decides from now on",
		     l->b.bound);
		return;
	}
	info("lifeline closed: sbatch has exited; looking for its job");
	search_start(l);
	if (!l->search.asking)      /* nothing asked: no answer will release it */
		l->io.release_submit_lock(l->io.arg);
}

void lifetime_submit_opened(struct lifetime *l, int64_t from_ns)
{
	l->submit_from = from_ns;
}

/* ---- set-up and what it is */

struct lifetime *lifetime_new(const struct lifetime_cfg *cfg, const struct ctld *ctld,
			      const struct lifetime_io *io)
{
	struct lifetime *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->cfg = *cfg;
	l->ctld = *ctld;
	l->io = *io;
	l->state = LIFE_UNBOUND;
	l->b.phase = JOB_PHASE_WAITING;
	search_init(&l->search);
	return l;
}

void lifetime_free(struct lifetime *l)
{
	if (!l)
		return;
	waiters_free(&l->waiters);
	asks_free(&l->asks);
	binding_free(&l->b);
	free(l);
}

enum life_state lifetime_state(const struct lifetime *l)
{
	return l->state;
}

uint32_t lifetime_bound(const struct lifetime *l)
{
	return l->b.bound;
}

int lifetime_active(const struct lifetime *l)
{
	return l->b.bound && l->b.phase == JOB_PHASE_ACTIVE;
}

enum end_cause lifetime_end_cause(const struct lifetime *l)
{
	return l->cause;
}

void lifetime_submit_window(const struct lifetime *l, int64_t *from, int64_t *to)
{
	*from = l->submit_from;
	*to = l->submit_to;
}
