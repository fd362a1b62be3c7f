/* check_lifetime.c - a --slurm-job forwarder's lifetime (forwarder/lifetime.c
 * and its parts) driven through a fake slurmctld and a fake clock, without
 * root and without Slurm: each path the integration tests 30-35 take with
 * a real cluster, asserted on the decisions (bound to which job, who may
 * connect, what a HELLO/BYE gets, when and why the forwarder ends). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <slurm/slurm.h>

#include "asks.h"
#include "binding.h"
#include "lifetime.h"
#include "state.h"
#include "waiters.h"

#define UID   1000
#define SID   4100
#define T0    1700000000
#define NODE_ADDR "10.0.0.1"

/* One forwarder's world: what it asked slurmctld, what it did. */
struct fake {
	struct question {
		int user;              /* load_user, else load */
		uint32_t id;
		uint64_t tag;
		sj_fn fn;
		void *arg;
	} q[16];
	size_t nq;
	int allow_calls;
	struct cidr allowed[8];
	size_t nallowed;
	struct {
		uint64_t id;
		int ok;
		char reason[300];
	} rep[16];
	size_t nrep;
	int changed, poll_s, locks_released, ended, answered;
	enum end_cause cause;
	char why[400];
	struct submit_window wins[4];
	size_t nwins;
	uint32_t claimed[4];
	size_t nclaimed;
	double now;
	time_t wall;
	int64_t wall_ns;
	struct lifetime *l;
};

static int f_load(void *impl, uint32_t id, const char *prev, uint64_t tag, sj_fn fn, void *arg)
{
	struct fake *f = impl;
	(void)prev;
	ck_assert_uint_lt(f->nq, 16);
	f->q[f->nq++] = (struct question){ 0, id, tag, fn, arg };
	return 0;
}

static int f_load_user(void *impl, uint32_t uid, uint64_t tag, sj_fn fn, void *arg)
{
	struct fake *f = impl;
	ck_assert_uint_eq(uid, UID);
	ck_assert_uint_lt(f->nq, 16);
	f->q[f->nq++] = (struct question){ 1, uid, tag, fn, arg };
	return 0;
}

static void f_allow(void *arg, const struct cidr *list, size_t n)
{
	struct fake *f = arg;
	f->allow_calls++;
	ck_assert_uint_le(n, 8);
	if (n)
		memcpy(f->allowed, list, n * sizeof *list);
	f->nallowed = n;
}

static int f_reply(void *arg, uint64_t id, const char *reason)
{
	struct fake *f = arg;
	ck_assert_uint_lt(f->nrep, 16);
	f->rep[f->nrep].id = id;
	f->rep[f->nrep].ok = reason == NULL;
	snprintf(f->rep[f->nrep].reason, sizeof f->rep[0].reason, "%s", reason ? reason : "");
	f->nrep++;
	return 0;
}

static void f_changed(void *arg) { ((struct fake *)arg)->changed++; }
static void f_answered(void *arg) { ((struct fake *)arg)->answered++; }
static void f_arm_poll(void *arg, int s) { ((struct fake *)arg)->poll_s = s; }

static void f_peers(void *arg, struct state_peers *p)
{
	struct fake *f = arg;
	p->claimed = f->claimed;
	p->nclaimed = f->nclaimed;
	p->unbound = f->wins;
	p->nunbound = f->nwins;
}

static void f_peers_free(void *arg, struct state_peers *p) { (void)arg, (void)p; }
static void f_release(void *arg) { ((struct fake *)arg)->locks_released++; }

static void f_ended(void *arg, enum end_cause cause, const char *why)
{
	struct fake *f = arg;
	ck_assert_int_eq(f->ended, 0);     /* once */
	f->ended = 1;
	f->cause = cause;
	snprintf(f->why, sizeof f->why, "%s", why);
}

static double f_now(void *arg) { return ((struct fake *)arg)->now; }
static time_t f_wall(void *arg) { return ((struct fake *)arg)->wall; }
static int64_t f_wall_ns(void *arg) { return ((struct fake *)arg)->wall_ns; }

static struct fake *fake_new(enum pvf_starter starter, long pid)
{
	struct fake *f = calloc(1, sizeof *f);
	ck_assert_ptr_nonnull(f);
	f->now = 1000.0;
	f->wall = T0;
	f->wall_ns = (int64_t)T0 * 1000000000;
	f->poll_s = -1;
	struct lifetime_cfg cfg = { starter, UID, SID, 777, pid, T0 };
	struct ctld ctld = { f_load, f_load_user, f };
	struct lifetime_io io = {
		f_allow, f_reply, f_changed, f_arm_poll, f_peers,
		f_peers_free, f_release, f_ended, f_now, f_wall, f_wall_ns, f_answered, f,
	};
	f->l = lifetime_new(&cfg, &ctld, &io);
	ck_assert_ptr_nonnull(f->l);
	return f;
}

static void fake_free(struct fake *f)
{
	lifetime_free(f->l);
	free(f);
}

static struct jobrec rec(uint32_t id, uint32_t state)
{
	struct jobrec r = { .job_id = id, .user_id = UID, .job_state = state,
			    .submit_time = T0 + 1, .alloc_sid = SID };
	snprintf(r.alloc_node, sizeof r.alloc_node, "login1");
	return r;
}

static struct question pop(struct fake *f)
{
	ck_assert_uint_gt(f->nq, 0);
	struct question x = f->q[0];
	memmove(f->q, f->q + 1, --f->nq * sizeof f->q[0]);
	return x;
}

/* slurmctld answers the oldest question, about job id: rc, and recs. */
static void answer(struct fake *f, uint32_t id, enum sj_rc rc, struct jobrec *recs, size_t n)
{
	struct question x = pop(f);
	char nodes[] = "node1";
	struct cidr addr;
	char err[100];
	ck_assert_int_eq(x.user, 0);
	ck_assert_uint_eq(x.id, id);
	ck_assert_int_eq(cidr_parse(NODE_ADDR, &addr, err, sizeof err), 0);
	struct sj_answer a = { .rc = rc, .recs = recs, .nrecs = rc == SJ_OK ? n : 0,
			       .asked = id, .bound = id, .tag = x.tag };
	if (rc != SJ_OK)
		snprintf(a.error, sizeof a.error, rc == SJ_UNKNOWN ? "Invalid job id specified"
								  : "Unable to contact slurm controller");
	for (size_t i = 0; rc == SJ_OK && i < n; i++)
		if (jobrules_phase(recs[i].job_state) == JOB_PHASE_ACTIVE) {
			a.nodes = nodes;
			a.resolved = 1;
			a.addrs = &addr;
			a.naddrs = 1;
		}
	x.fn(&a, x.arg);
}

static void answer_state(struct fake *f, uint32_t id, uint32_t state)
{
	struct jobrec r = rec(id, state);
	answer(f, id, SJ_OK, &r, 1);
}

/* slurmctld answers the oldest question, the user's jobs. */
static void answer_user(struct fake *f, enum sj_rc rc, struct jobrec *recs, size_t n)
{
	struct question x = pop(f);
	char hosts[1][JOBREC_HOST_MAX] = { "login1" };
	ck_assert_int_eq(x.user, 1);
	struct sj_answer a = { .rc = rc, .recs = recs, .nrecs = n, .hosts = hosts, .nhosts = 1,
			       .tag = x.tag };
	if (rc != SJ_OK)
		snprintf(a.error, sizeof a.error, "Unable to contact slurm controller");
	x.fn(&a, x.arg);
}

static void request(struct fake *f, uint64_t ctl_id, enum ctl_verb verb, uint32_t job,
		    const char *from)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct ctl_req req = { .verb = verb, .job_id = job };
	inet_pton(AF_INET, from, &sin.sin_addr);
	lifetime_request(f->l, ctl_id, &req, (struct sockaddr *)&sin, from);
}

/* The job's node (NODE_ADDR) may connect, and nobody else. */
static int node_allowed(const struct fake *f)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, NODE_ADDR, &sin.sin_addr);
	return f->nallowed == 1 && cidr_list_match(f->allowed, 1, (struct sockaddr *)&sin);
}

/* srun or salloc: "JOB <id>" and a running job. */
static struct fake *bound_by_lifeline(enum pvf_starter starter, uint32_t id)
{
	struct fake *f = fake_new(starter, 5000);
	lifetime_lifeline_job(f->l, id);
	ck_assert_uint_eq(f->nq, 1);
	answer_state(f, id, JOB_RUNNING);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_BOUND);
	ck_assert_uint_eq(lifetime_bound(f->l), id);
	return f;
}

/* sbatch: the batch step's HELLO for job 42 (from 10.0.0.1), a running job. */
static struct fake *bound_by_hello(void)
{
	struct fake *f = fake_new(PVF_STARTER_SBATCH, 5000);
	request(f, 1, CTL_HELLO, 42, "10.0.0.1");
	answer_state(f, 42, JOB_RUNNING);
	return f;
}

/* ---- srun */

START_TEST(srun_binds_and_allows_its_nodes)
{
	struct fake *f = fake_new(PVF_STARTER_SRUN, 5000);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_UNBOUND);
	lifetime_lifeline_job(f->l, 42);
	ck_assert_int_eq(f->nallowed, 0);
	answer_state(f, 42, JOB_RUNNING);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_BOUND);
	ck_assert(node_allowed(f));
	ck_assert(lifetime_active(f->l));
	ck_assert_int_eq(f->poll_s, LIFE_POLL_SRUN_S);   /* srun's exit ends it: seldom */
	ck_assert_int_gt(f->changed, 0);
	ck_assert_int_eq(f->answered, 1);      /* the state file's RPC count moved */
	fake_free(f);
}
END_TEST

/* A running job's end comes by an event (srun's exit, BYE, END): its
 * forwarder looks seldom.  A job that has not run has no epilog: looked at
 * often at first, seldom after LIFE_WAIT_FAST_S, often again after a
 * requeue. */
START_TEST(bound_poll_by_starter_and_phase)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SALLOC, 43);
	ck_assert_int_eq(f->poll_s, LIFE_POLL_BOUND_S);   /* running when bound */
	lifetime_poll(f->l);
	ck_assert_int_eq(f->poll_s, LIFE_POLL_BOUND_S);
	fake_free(f);
	f = bound_by_lifeline(PVF_STARTER_SRUN, 44);
	lifetime_poll(f->l);
	ck_assert_int_eq(f->poll_s, LIFE_POLL_SRUN_S);
	fake_free(f);

	f = bound_by_hello();      /* bound by HELLO: running */
	lifetime_poll(f->l);
	answer_state(f, 42, JOB_RUNNING);
	ck_assert_int_eq(f->poll_s, LIFE_POLL_BOUND_S);
	request(f, 2, CTL_BYE, 42, "10.0.0.1");    /* requeued: pending again */
	answer_state(f, 42, JOB_PENDING | JOB_REQUEUE);
	ck_assert_int_eq(f->poll_s, LIFE_POLL_WAIT_S);
	f->now += LIFE_WAIT_FAST_S - 1;
	lifetime_poll(f->l);
	ck_assert_int_eq(f->poll_s, LIFE_POLL_WAIT_S);
	answer_state(f, 42, JOB_PENDING);
	f->now += 2;
	lifetime_poll(f->l);
	ck_assert_int_eq(f->poll_s, LIFE_POLL_BOUND_S);
	fake_free(f);
}
END_TEST

START_TEST(srun_exit_ends)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SRUN, 42);
	lifetime_lifeline_eof(f->l);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_ENDED);
	ck_assert_int_eq(f->cause, END_STARTER_GONE);
	ck_assert_str_eq(f->why, "lifeline closed (srun is gone)");
	ck_assert_int_eq(f->locks_released, 1);
	fake_free(f);
}
END_TEST

START_TEST(srun_killed_before_its_job_ends)
{
	/* killed before the JOB line (EOF is all a kill shows): ends at once */
	struct fake *f = fake_new(PVF_STARTER_SRUN, 5000);
	lifetime_lifeline_eof(f->l);
	ck_assert_int_eq(f->ended, 1);
	ck_assert_int_eq(f->cause, END_STARTER_GONE);
	ck_assert_uint_eq(f->nq, 0);
	fake_free(f);
}
END_TEST

START_TEST(no_starter_eof_ends)
{
	struct fake *f = fake_new(PVF_STARTER_NONE, 5000);
	lifetime_lifeline_eof(f->l);
	ck_assert_str_eq(f->why, "lifeline closed (the starting process is gone)");
	fake_free(f);
}
END_TEST

START_TEST(another_users_job_does_not_bind)
{
	struct fake *f = fake_new(PVF_STARTER_SRUN, 5000);
	struct jobrec r = rec(42, JOB_RUNNING);
	r.user_id = UID + 1;
	lifetime_lifeline_job(f->l, 42);
	answer(f, 42, SJ_OK, &r, 1);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_UNBOUND);
	ck_assert_int_eq(f->nallowed, 0);
	fake_free(f);
}
END_TEST

START_TEST(pending_job_allows_nobody_until_it_runs)
{
	struct fake *f = fake_new(PVF_STARTER_SRUN, 5000);
	lifetime_job_id(f->l, 42);
	answer_state(f, 42, JOB_PENDING);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_BOUND);
	ck_assert(!lifetime_active(f->l));
	ck_assert_int_eq(f->nallowed, 0);
	lifetime_poll(f->l);
	answer_state(f, 42, JOB_RUNNING);
	ck_assert(node_allowed(f));
	lifetime_poll(f->l);                    /* requeued: nobody again */
	answer_state(f, 42, JOB_PENDING | JOB_REQUEUE);
	ck_assert_int_eq(f->nallowed, 0);
	ck_assert_int_eq(f->ended, 0);
	fake_free(f);
}
END_TEST

START_TEST(job_completed_ends)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SRUN, 42);
	lifetime_poll(f->l);
	answer_state(f, 42, JOB_COMPLETE | JOB_COMPLETING);
	ck_assert_int_eq(f->cause, END_JOB_COMPLETED);
	ck_assert_str_eq(f->why, "job 42 has ended (COMPLETED+COMPLETING)");
	ck_assert_int_eq(f->nallowed, 0);
	fake_free(f);
}
END_TEST

START_TEST(job_gone_ends)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SRUN, 42);
	lifetime_poll(f->l);
	answer(f, 42, SJ_UNKNOWN, NULL, 0);
	ck_assert_int_eq(f->cause, END_JOB_GONE);
	ck_assert_str_eq(f->why, "job 42 is gone (slurmctld: Invalid job id specified)");
	fake_free(f);
}
END_TEST

START_TEST(poll_joins_a_question_in_flight)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SRUN, 42);
	lifetime_poll(f->l);
	lifetime_poll(f->l);
	ck_assert_uint_eq(f->nq, 1);            /* one question, not two */
	fake_free(f);
}
END_TEST

START_TEST(lifeline_second_job_ignored)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SRUN, 42);
	lifetime_lifeline_job(f->l, 43);
	lifetime_lifeline_job(f->l, 42);
	ck_assert_uint_eq(f->nq, 0);
	ck_assert_uint_eq(lifetime_bound(f->l), 42);
	fake_free(f);
}
END_TEST

/* ---- salloc */

START_TEST(salloc_exit_ends)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SALLOC, 42);
	lifetime_lifeline_eof(f->l);
	ck_assert_int_eq(f->cause, END_STARTER_GONE);
	ck_assert_str_eq(f->why, "lifeline closed (salloc is gone)");
	fake_free(f);
}
END_TEST

/* salloc runs on with its command after scancel: the epilog's END on the
 * job's node tells its forwarder. */
START_TEST(salloc_scancel_end_from_epilog)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SALLOC, 42);
	request(f, 1, CTL_END, 42, NODE_ADDR);
	ck_assert_uint_eq(f->nq, 1);            /* always asks: a requeue is no end */
	answer_state(f, 42, JOB_CANCELLED | JOB_COMPLETING);
	ck_assert(f->rep[0].ok);
	ck_assert_int_eq(f->cause, END_JOB_CANCELLED);
	ck_assert_str_eq(f->why, "job 42: its epilog ran on " NODE_ADDR " (CANCELLED+COMPLETING)");
	fake_free(f);
}
END_TEST

START_TEST(salloc_time_limit_ends)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SALLOC, 42);
	request(f, 1, CTL_END, 42, NODE_ADDR);
	answer_state(f, 42, JOB_TIMEOUT);
	ck_assert_int_eq(f->cause, END_JOB_TIMEOUT);
	fake_free(f);
}
END_TEST

START_TEST(end_without_ctld_ends)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SALLOC, 42);
	request(f, 1, CTL_END, 42, NODE_ADDR);
	answer(f, 42, SJ_ERROR, NULL, 0);
	ck_assert(f->rep[0].ok);
	ck_assert_int_eq(f->cause, END_EPILOG_CTLD_LOST);
	fake_free(f);
}
END_TEST

START_TEST(end_from_another_job_refused)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SALLOC, 42);
	request(f, 1, CTL_END, 43, NODE_ADDR);
	struct jobrec r = rec(43, JOB_CANCELLED);
	answer(f, 43, SJ_OK, &r, 1);
	ck_assert(!f->rep[0].ok);
	ck_assert_str_eq(f->rep[0].reason, "this forwarder serves job 42, not 43");
	ck_assert_int_eq(f->ended, 0);
	ck_assert(node_allowed(f));
	fake_free(f);
}
END_TEST

/* The batch step's BYE did not come (its slurmstepd was killed): the
 * epilog's END ends the forwarder with the job's own state. */
START_TEST(sbatch_end_without_bye_ends)
{
	struct fake *f = bound_by_hello();
	request(f, 2, CTL_END, 42, NODE_ADDR);
	answer_state(f, 42, JOB_FAILED | JOB_COMPLETING);
	ck_assert(f->rep[1].ok);
	ck_assert_int_eq(f->cause, END_JOB_FAILED);
	fake_free(f);
}
END_TEST

START_TEST(salloc_failed_allocation_ends)
{
	/* salloc exits before its JOB line: no job of it among the user's */
	struct fake *f = fake_new(PVF_STARTER_SALLOC, 5000);
	lifetime_lifeline_eof(f->l);
	ck_assert_int_eq(f->ended, 0);
	answer_user(f, SJ_OK, NULL, 0);
	ck_assert_int_eq(f->cause, END_NOT_SUBMITTED);
	ck_assert_str_eq(f->why, "salloc has exited and no job was submitted");
	fake_free(f);
}
END_TEST

/* ---- sbatch */

/* sbatch took the submit lock, the job was submitted, sbatch exited. */
static struct fake *sbatch_exited(long pid, int64_t from_ns, int64_t to_ns)
{
	struct fake *f = fake_new(PVF_STARTER_SBATCH, pid);
	lifetime_submit_opened(f->l, from_ns);
	f->wall = (time_t)(to_ns / 1000000000);
	f->wall_ns = to_ns;
	lifetime_lifeline_eof(f->l);
	int64_t from, to;
	lifetime_submit_window(f->l, &from, &to);
	ck_assert(from == from_ns && to == (from_ns ? to_ns : 0));   /* a window only when opened */
	return f;
}

static const int64_t S = 1000000000;

START_TEST(sbatch_failed_submission_ends)
{
	struct fake *f = sbatch_exited(5000, T0 * S + S / 10, (T0 + 1) * S);
	ck_assert_int_eq(f->locks_released, 0);  /* held until the first look */
	answer_user(f, SJ_OK, NULL, 0);
	ck_assert_int_eq(f->cause, END_NOT_SUBMITTED);
	ck_assert_str_eq(f->why, "sbatch has exited and no job was submitted");
	ck_assert_int_eq(f->locks_released, 1);
	fake_free(f);
}
END_TEST

START_TEST(sbatch_never_started_ends)
{
	/* no submit lock: the order cannot tell; the pending job is cancelled */
	struct fake *f = sbatch_exited(5000, 0, T0 * S + S);
	struct jobrec r = rec(42, JOB_PENDING);
	ck_assert_int_eq(f->locks_released, 0);  /* released after the first look */
	answer_user(f, SJ_OK, &r, 1);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_UNBOUND);
	ck_assert_int_eq(f->poll_s, LIFE_POLL_UNBOUND_S);
	lifetime_poll(f->l);
	r.job_state = JOB_CANCELLED;
	answer_user(f, SJ_OK, &r, 1);
	ck_assert_int_eq(f->cause, END_NEVER_STARTED);
	ck_assert_str_eq(f->why, "no job of this forwarder is left (cancelled before it started?)");
	fake_free(f);
}
END_TEST

START_TEST(sbatch_hello_binds_bye_ends)
{
	struct fake *f = sbatch_exited(5000, 0, T0 * S + S);
	struct jobrec r = rec(42, JOB_RUNNING);
	answer_user(f, SJ_OK, &r, 1);
	request(f, 1, CTL_HELLO, 42, "10.0.0.1");
	answer_state(f, 42, JOB_RUNNING);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_BOUND);
	ck_assert(f->nrep == 1 && f->rep[0].id == 1 && f->rep[0].ok);
	ck_assert(node_allowed(f));
	request(f, 2, CTL_HELLO, 42, "10.0.0.1");  /* a step from its node: no question */
	ck_assert_uint_eq(f->nq, 0);
	ck_assert(f->nrep == 2 && f->rep[1].ok);
	request(f, 3, CTL_BYE, 42, "10.0.0.1");
	answer_state(f, 42, JOB_RUNNING | JOB_COMPLETING);
	ck_assert(f->nrep == 3 && f->rep[2].ok);
	ck_assert_int_eq(f->cause, END_BATCH_DONE);
	ck_assert_str_eq(f->why, "job 42: its batch script ended (RUNNING+COMPLETING)");
	fake_free(f);
}
END_TEST

START_TEST(sbatch_bye_after_requeue_stays)
{
	struct fake *f = sbatch_exited(5000, 0, T0 * S + S);
	answer_user(f, SJ_OK, NULL, 0);
	fake_free(f);
	f = bound_by_hello();
	request(f, 2, CTL_BYE, 42, "10.0.0.1");
	answer_state(f, 42, JOB_PENDING | JOB_REQUEUE);
	ck_assert(f->rep[1].ok);
	ck_assert_int_eq(f->ended, 0);
	ck_assert_int_eq(f->nallowed, 0);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_BOUND);
	fake_free(f);
}
END_TEST

START_TEST(sbatch_job_failed_ends)
{
	struct fake *f = bound_by_hello();
	lifetime_lifeline_eof(f->l);
	ck_assert_int_eq(f->ended, 0);          /* bound: the job decides */
	lifetime_poll(f->l);
	answer_state(f, 42, JOB_FAILED);
	ck_assert_int_eq(f->cause, END_JOB_FAILED);
	fake_free(f);
}
END_TEST

START_TEST(sbatch_bound_by_order_until_its_hello)
{
	struct fake *f = sbatch_exited(5000, T0 * S + S / 10, (T0 + 1) * S);
	struct jobrec r = rec(42, JOB_PENDING);
	r.submit_time = T0;
	answer_user(f, SJ_OK, &r, 1);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_INFERRED);
	ck_assert_uint_eq(lifetime_bound(f->l), 42);
	ck_assert_int_eq(f->locks_released, 1);
	answer_state(f, 42, JOB_RUNNING);        /* the "order" question */
	ck_assert(lifetime_active(f->l));
	ck_assert_int_eq(f->nallowed, 0);        /* a guess opens nothing */
	ck_assert_int_eq(f->poll_s, LIFE_POLL_WAIT_S);    /* no HELLO yet: often */
	request(f, 1, CTL_HELLO, 42, "10.0.0.1");
	ck_assert_uint_eq(f->nq, 1);             /* inferred: always asks */
	answer_state(f, 42, JOB_RUNNING);
	ck_assert(f->rep[0].ok);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_BOUND);
	ck_assert(node_allowed(f));
	ck_assert_int_eq(f->poll_s, LIFE_POLL_BOUND_S);   /* confirmed and running */
	fake_free(f);
}
END_TEST

START_TEST(sbatch_by_order_cancelled_before_start_ends)
{
	struct fake *f = sbatch_exited(5000, T0 * S + S / 10, (T0 + 1) * S);
	struct jobrec r = rec(42, JOB_PENDING);
	r.submit_time = T0;
	answer_user(f, SJ_OK, &r, 1);
	answer_state(f, 42, JOB_PENDING);
	lifetime_poll(f->l);
	answer_state(f, 42, JOB_CANCELLED);
	ck_assert_int_eq(f->cause, END_JOB_CANCELLED);
	fake_free(f);
}
END_TEST

START_TEST(sbatch_inferred_unbound_by_another_jobs_hello)
{
	struct fake *f = sbatch_exited(5000, T0 * S + S / 10, (T0 + 1) * S);
	struct jobrec r = rec(42, JOB_PENDING);
	r.submit_time = T0;
	answer_user(f, SJ_OK, &r, 1);
	answer_state(f, 42, JOB_RUNNING);
	request(f, 1, CTL_HELLO, 43, "10.0.0.1");
	ck_assert_int_eq(lifetime_state(f->l), LIFE_UNBOUND);
	ck_assert_int_eq(f->nallowed, 0);
	answer_state(f, 43, JOB_RUNNING);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_BOUND);
	ck_assert_uint_eq(lifetime_bound(f->l), 43);
	ck_assert(f->rep[0].ok);
	fake_free(f);
}
END_TEST

START_TEST(sbatch_concurrent_pair_each_its_own)
{
	/* one session's two sbatch, one after the other: jobs 100 and 101 */
	int64_t a_from = T0 * S + S / 10, a_to = (T0 + 1) * S;
	int64_t b_from = (T0 + 1) * S + S / 2, b_to = (T0 + 2) * S;
	struct fake *a = fake_new(PVF_STARTER_SBATCH, 5000);
	struct fake *b = fake_new(PVF_STARTER_SBATCH, 5001);
	a->wins[0] = (struct submit_window){ 5001, SID, 1, b_from, 0 };
	a->nwins = 1;
	b->wins[0] = (struct submit_window){ 5000, SID, 1, a_from, a_to };
	b->nwins = 1;
	lifetime_submit_opened(a->l, a_from);
	a->wall = T0 + 1, a->wall_ns = a_to;
	lifetime_lifeline_eof(a->l);
	struct jobrec r[2] = { rec(100, JOB_PENDING), rec(101, JOB_PENDING) };
	r[0].submit_time = T0 + 1;
	answer_user(a, SJ_OK, r, 1);             /* b's sbatch still submits: wait */
	ck_assert_int_eq(lifetime_state(a->l), LIFE_UNBOUND);
	ck_assert_int_eq(a->poll_s, 1);
	lifetime_submit_opened(b->l, b_from);
	b->wall = T0 + 2, b->wall_ns = b_to;
	lifetime_lifeline_eof(b->l);
	a->wins[0].to_ns = b_to;
	r[1].submit_time = T0 + 2;
	answer_user(b, SJ_OK, r, 2);
	lifetime_poll(a->l);
	answer_user(a, SJ_OK, r, 2);
	ck_assert_int_eq(lifetime_state(a->l), LIFE_INFERRED);
	ck_assert_int_eq(lifetime_state(b->l), LIFE_INFERRED);
	ck_assert_uint_eq(lifetime_bound(a->l), 100);
	ck_assert_uint_eq(lifetime_bound(b->l), 101);
	fake_free(a);
	fake_free(b);
}
END_TEST

START_TEST(sbatch_order_wait_backs_off)
{
	struct fake *f = sbatch_exited(5000, T0 * S + S / 10, (T0 + 1) * S);
	struct jobrec r = rec(100, JOB_PENDING);
	f->wins[0] = (struct submit_window){ 5001, SID, 1, (T0 + 1) * S + S / 2, 0 };
	f->nwins = 1;
	int want[] = { 1, 2, 4, 8, 16, 30, 30 };
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (i)
			lifetime_poll(f->l);
		answer_user(f, SJ_OK, &r, 1);
		ck_assert_int_eq(f->poll_s, want[i]);
	}
	fake_free(f);
}
END_TEST

START_TEST(sbatch_claimed_job_is_no_candidate)
{
	struct fake *f = sbatch_exited(5000, 0, T0 * S + S);
	struct jobrec r = rec(42, JOB_PENDING);
	f->claimed[0] = 42;
	f->nclaimed = 1;
	answer_user(f, SJ_OK, &r, 1);
	ck_assert_int_eq(f->cause, END_NOT_SUBMITTED);
	fake_free(f);
}
END_TEST

/* ---- slurmctld down */

START_TEST(ctld_down_unbound_retries)
{
	struct fake *f = fake_new(PVF_STARTER_SRUN, 5000);
	lifetime_lifeline_job(f->l, 42);
	answer(f, 42, SJ_ERROR, NULL, 0);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_UNBOUND);
	ck_assert_int_eq(f->poll_s, LIFE_RETRY_S);
	lifetime_poll(f->l);
	answer(f, 42, SJ_ERROR, NULL, 0);
	ck_assert_int_eq(f->poll_s, LIFE_RETRY_S);
	lifetime_poll(f->l);                      /* slurmctld is back */
	answer_state(f, 42, JOB_RUNNING);
	ck_assert_int_eq(lifetime_state(f->l), LIFE_BOUND);
	ck_assert(node_allowed(f));
	fake_free(f);
}
END_TEST

START_TEST(ctld_down_bound_carries_on)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SRUN, 42);
	for (int i = 0; i < 3; i++) {
		lifetime_poll(f->l);
		answer(f, 42, SJ_ERROR, NULL, 0);
	}
	ck_assert_int_eq(f->ended, 0);
	ck_assert(node_allowed(f));              /* the nodes stay allowed */
	lifetime_poll(f->l);
	answer_state(f, 42, JOB_COMPLETE);
	ck_assert_int_eq(f->cause, END_JOB_COMPLETED);
	fake_free(f);
}
END_TEST

START_TEST(ctld_down_search_asks_again)
{
	struct fake *f = sbatch_exited(5000, 0, T0 * S + S);
	answer_user(f, SJ_ERROR, NULL, 0);
	ck_assert_int_eq(f->ended, 0);
	ck_assert_int_eq(f->poll_s, LIFE_POLL_UNBOUND_S);
	ck_assert_int_eq(f->locks_released, 1);  /* the first look is done */
	fake_free(f);
}
END_TEST

START_TEST(ctld_down_bye_ends)
{
	struct fake *f = bound_by_hello();
	request(f, 2, CTL_BYE, 42, "10.0.0.1");
	answer(f, 42, SJ_ERROR, NULL, 0);
	ck_assert(f->rep[1].ok);
	ck_assert_int_eq(f->cause, END_BATCH_CTLD_LOST);
	fake_free(f);
}
END_TEST

START_TEST(ctld_down_hello_refused)
{
	struct fake *f = fake_new(PVF_STARTER_SBATCH, 5000);
	request(f, 1, CTL_HELLO, 42, "10.0.0.1");
	answer(f, 42, SJ_ERROR, NULL, 0);
	ck_assert(!f->rep[0].ok);
	ck_assert_str_eq(f->rep[0].reason,
			 "cannot ask slurmctld about job 42: Unable to contact slurm controller");
	ck_assert_int_eq(f->poll_s, LIFE_RETRY_S);   /* it may well be ours */
	fake_free(f);
}
END_TEST

/* ---- HELLO/BYE from the wrong job */

START_TEST(hello_from_another_job_refused)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SRUN, 42);
	request(f, 1, CTL_HELLO, 77, "10.0.0.9");
	answer_state(f, 77, JOB_RUNNING);
	ck_assert(!f->rep[0].ok);
	ck_assert_str_eq(f->rep[0].reason, "this forwarder serves job 42, not 77");
	ck_assert_uint_eq(lifetime_bound(f->l), 42);
	fake_free(f);
}
END_TEST

START_TEST(bye_from_another_job_refused)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SRUN, 42);
	request(f, 1, CTL_BYE, 77, "10.0.0.9");
	answer_state(f, 77, JOB_RUNNING);
	ck_assert_str_eq(f->rep[0].reason, "this forwarder serves job 42, not 77");
	ck_assert_int_eq(f->ended, 0);
	fake_free(f);
}
END_TEST

START_TEST(hello_other_user_unknown_ended)
{
	struct fake *f = fake_new(PVF_STARTER_SBATCH, 5000);
	struct jobrec r = rec(77, JOB_RUNNING);
	r.user_id = UID + 1;
	request(f, 1, CTL_HELLO, 77, "10.0.0.9");
	answer(f, 77, SJ_OK, &r, 1);
	ck_assert_str_eq(f->rep[0].reason, "job 77 belongs to another user");
	request(f, 2, CTL_HELLO, 78, "10.0.0.9");
	answer(f, 78, SJ_UNKNOWN, NULL, 0);
	ck_assert_str_eq(f->rep[1].reason, "slurmctld does not know job 78");
	request(f, 3, CTL_HELLO, 79, "10.0.0.9");
	answer_state(f, 79, JOB_COMPLETE);
	ck_assert_str_eq(f->rep[2].reason, "job 79 has ended (COMPLETED)");
	ck_assert_int_eq(lifetime_state(f->l), LIFE_UNBOUND);
	ck_assert_int_eq(f->ended, 0);
	fake_free(f);
}
END_TEST

START_TEST(hello_when_bound_job_ended)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SRUN, 42);
	f->now += 60;
	request(f, 1, CTL_HELLO, 42, "10.0.0.9");  /* not from its node, nodes old: asks */
	ck_assert_uint_eq(f->nq, 1);
	answer_state(f, 42, JOB_COMPLETE);
	ck_assert_str_eq(f->rep[0].reason, "job 42 has ended (COMPLETED)");
	ck_assert_int_eq(f->cause, END_JOB_COMPLETED);
	request(f, 2, CTL_HELLO, 42, NODE_ADDR);
	ck_assert_str_eq(f->rep[1].reason, "the forwarder is shutting down");
	fake_free(f);
}
END_TEST

START_TEST(hello_fresh_nodes_answered_at_once)
{
	struct fake *f = bound_by_lifeline(PVF_STARTER_SRUN, 42);
	request(f, 1, CTL_HELLO, 42, "10.0.0.9");  /* nodes loaded just now */
	ck_assert_uint_eq(f->nq, 0);
	ck_assert(f->rep[0].ok);
	f->now += LIFE_HELLO_FRESH_S;
	request(f, 2, CTL_HELLO, 42, "10.0.0.9");
	ck_assert_uint_eq(f->nq, 1);
	fake_free(f);
}
END_TEST

/* ---- the parts */

START_TEST(end_causes_of_states)
{
	ck_assert_int_eq(end_cause_of_state(JOB_COMPLETE), END_JOB_COMPLETED);
	ck_assert_int_eq(end_cause_of_state(JOB_CANCELLED | JOB_COMPLETING), END_JOB_CANCELLED);
	ck_assert_int_eq(end_cause_of_state(JOB_TIMEOUT), END_JOB_TIMEOUT);
	ck_assert_int_eq(end_cause_of_state(JOB_FAILED), END_JOB_FAILED);
	ck_assert_int_eq(end_cause_of_state(JOB_NODE_FAIL), END_JOB_FAILED);
	ck_assert_int_eq(end_cause_of_state(JOB_OOM), END_JOB_FAILED);
	ck_assert_int_eq(end_cause_of_state(JOB_PREEMPTED), END_JOB_ENDED);
	ck_assert_str_eq(end_cause_name(END_BATCH_CTLD_LOST), "batch script ended, slurmctld lost");
	ck_assert_str_eq(life_state_name(LIFE_INFERRED), "inferred");
}
END_TEST

START_TEST(asks_in_order_with_reasons)
{
	struct asks q = { 0 };
	uint64_t a = asks_add(&q, 42, ASK_HELLO), b = asks_add(&q, 43, ASK_LIFELINE);
	ck_assert(a && b > a);
	ck_assert_ptr_eq(asks_find(&q, 43)->next, NULL);
	ck_assert_int_eq(asks_take(&q, b), ASK_LIFELINE);
	ck_assert_int_eq(asks_take(&q, b), ASK_NONE);
	ck_assert(ask_reason_is_request(ASK_BYE) && !ask_reason_is_request(ASK_RETRY));
	ck_assert_str_eq(ask_reason_name(ASK_JOB_ID), "--job-id");
	asks_free(&q);
	ck_assert_ptr_eq(q.head, NULL);
}
END_TEST

START_TEST(waiters_served_by_later_answers_only)
{
	struct waiters ws = { 0 };
	struct binding b = { 0 };
	struct sj_answer a = { .rc = SJ_OK, .asked = 42, .bound = 42, .tag = 4 };
	ck_assert_int_eq(waiters_add(&ws, 1, CTL_HELLO, 42, "p", 42, 5), 0);
	ck_assert_ptr_eq(waiters_next(&ws, &a), NULL);     /* tag 4 < 5: an older answer */
	a.tag = 5;
	struct waiter *w = waiters_next(&ws, &a);
	ck_assert_ptr_nonnull(w);
	enum refusal r;
	const struct jobrec *rp;
	char reason[100];
	ck_assert_int_eq(waiter_judge(w, &a, &b, UID, &r, &rp, reason, sizeof reason),
			 VERDICT_REFUSE);
	ck_assert_int_eq(r, REFUSE_UNKNOWN_JOB);
	free(w);
	waiters_free(&ws);
}
END_TEST


/* The lifetime's log lines (stderr) would bury the summary; they are not
 * what is asserted.  LIFETIME_TEST_LOG=1 keeps them. */
static void quiet(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && !getenv("LIFETIME_TEST_LOG"))
		dup2(fd, 2);
	if (fd >= 0)
		close(fd);
}

Suite *lifetime_suite(void)
{
	Suite *s = suite_create("lifetime");
	TCase *t = tcase_create("srun");
	tcase_add_test(t, srun_binds_and_allows_its_nodes);
	tcase_add_test(t, srun_exit_ends);
	tcase_add_test(t, srun_killed_before_its_job_ends);
	tcase_add_test(t, no_starter_eof_ends);
	tcase_add_test(t, bound_poll_by_starter_and_phase);
	tcase_add_test(t, another_users_job_does_not_bind);
	tcase_add_test(t, pending_job_allows_nobody_until_it_runs);
	tcase_add_test(t, job_completed_ends);
	tcase_add_test(t, job_gone_ends);
	tcase_add_test(t, poll_joins_a_question_in_flight);
	tcase_add_test(t, lifeline_second_job_ignored);
	tcase_add_checked_fixture(t, quiet, NULL);
	suite_add_tcase(s, t);
	t = tcase_create("salloc");
	tcase_add_test(t, salloc_exit_ends);
	tcase_add_test(t, salloc_scancel_end_from_epilog);
	tcase_add_test(t, salloc_time_limit_ends);
	tcase_add_test(t, end_without_ctld_ends);
	tcase_add_test(t, end_from_another_job_refused);
	tcase_add_test(t, sbatch_end_without_bye_ends);
	tcase_add_test(t, salloc_failed_allocation_ends);
	tcase_add_checked_fixture(t, quiet, NULL);
	suite_add_tcase(s, t);
	t = tcase_create("sbatch");
	tcase_add_test(t, sbatch_failed_submission_ends);
	tcase_add_test(t, sbatch_never_started_ends);
	tcase_add_test(t, sbatch_hello_binds_bye_ends);
	tcase_add_test(t, sbatch_bye_after_requeue_stays);
	tcase_add_test(t, sbatch_job_failed_ends);
	tcase_add_test(t, sbatch_bound_by_order_until_its_hello);
	tcase_add_test(t, sbatch_by_order_cancelled_before_start_ends);
	tcase_add_test(t, sbatch_inferred_unbound_by_another_jobs_hello);
	tcase_add_test(t, sbatch_concurrent_pair_each_its_own);
	tcase_add_test(t, sbatch_order_wait_backs_off);
	tcase_add_test(t, sbatch_claimed_job_is_no_candidate);
	tcase_add_checked_fixture(t, quiet, NULL);
	suite_add_tcase(s, t);
	t = tcase_create("slurmctld down");
	tcase_add_test(t, ctld_down_unbound_retries);
	tcase_add_test(t, ctld_down_bound_carries_on);
	tcase_add_test(t, ctld_down_search_asks_again);
	tcase_add_test(t, ctld_down_bye_ends);
	tcase_add_test(t, ctld_down_hello_refused);
	tcase_add_checked_fixture(t, quiet, NULL);
	suite_add_tcase(s, t);
	t = tcase_create("wrong job");
	tcase_add_test(t, hello_from_another_job_refused);
	tcase_add_test(t, bye_from_another_job_refused);
	tcase_add_test(t, hello_other_user_unknown_ended);
	tcase_add_test(t, hello_when_bound_job_ended);
	tcase_add_test(t, hello_fresh_nodes_answered_at_once);
	tcase_add_checked_fixture(t, quiet, NULL);
	suite_add_tcase(s, t);
	t = tcase_create("parts");
	tcase_add_test(t, end_causes_of_states);
	tcase_add_test(t, asks_in_order_with_reasons);
	tcase_add_test(t, waiters_served_by_later_answers_only);
	tcase_add_checked_fixture(t, quiet, NULL);
	suite_add_tcase(s, t);
	return s;
}
