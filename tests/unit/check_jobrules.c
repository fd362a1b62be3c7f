/* check_jobrules.c - job decisions (forwarder/jobrules.c), the state file
 * text (forwarder/staterec.c) and the job-mode flags of the command line
 * (forwarder/cmdline.c). */
#include <check.h>
#include <string.h>

#include <slurm/slurm.h>

#include "cmdline.h"
#include "jobrules.h"
#include "staterec.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

/* ---- phases */

START_TEST(phases)
{
	ck_assert_int_eq(jobrules_phase(JOB_PENDING), JOB_PHASE_WAITING);
	ck_assert_int_eq(jobrules_phase(JOB_PENDING | JOB_REQUEUE), JOB_PHASE_WAITING);
	ck_assert_int_eq(jobrules_phase(JOB_PENDING | JOB_COMPLETING), JOB_PHASE_WAITING);
	ck_assert_int_eq(jobrules_phase(JOB_RUNNING), JOB_PHASE_ACTIVE);
	ck_assert_int_eq(jobrules_phase(JOB_RUNNING | JOB_CONFIGURING), JOB_PHASE_ACTIVE);
	ck_assert_int_eq(jobrules_phase(JOB_SUSPENDED), JOB_PHASE_ACTIVE);
	ck_assert_int_eq(jobrules_phase(JOB_RUNNING | JOB_REQUEUE), JOB_PHASE_WAITING);
	ck_assert_int_eq(jobrules_phase(JOB_COMPLETE), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_COMPLETE | JOB_COMPLETING), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_CANCELLED), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_CANCELLED | JOB_COMPLETING), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_FAILED), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_TIMEOUT), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_NODE_FAIL), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_PREEMPTED), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_BOOT_FAIL), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_DEADLINE), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_OOM), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_END + 3), JOB_PHASE_FINISHED);
	ck_assert_int_eq(jobrules_phase(JOB_PENDING | JOB_REQUEUE_HOLD), JOB_PHASE_WAITING);
	ck_assert_int_eq(jobrules_phase(JOB_COMPLETE | JOB_SPECIAL_EXIT), JOB_PHASE_WAITING);
	ck_assert_int_eq(jobrules_phase(JOB_RUNNING | JOB_REVOKED), JOB_PHASE_FINISHED);
	ck_assert_str_eq(jobrules_phase_name(JOB_PHASE_WAITING), "waiting");
	ck_assert_str_eq(jobrules_phase_name(JOB_PHASE_ACTIVE), "active");
	ck_assert_str_eq(jobrules_phase_name(JOB_PHASE_FINISHED), "finished");
}
END_TEST

START_TEST(state_names)
{
	char b[48];
	ck_assert_str_eq(jobrules_state_name(JOB_RUNNING, b, sizeof b), "RUNNING");
	ck_assert_str_eq(jobrules_state_name(JOB_COMPLETE, b, sizeof b), "COMPLETED");
	ck_assert_str_eq(jobrules_state_name(JOB_OOM, b, sizeof b), "OUT_OF_MEMORY");
	ck_assert_str_eq(jobrules_state_name(JOB_CANCELLED | JOB_COMPLETING, b, sizeof b),
			 "CANCELLED+COMPLETING");
	ck_assert_str_eq(jobrules_state_name(JOB_PENDING | JOB_REQUEUE | JOB_COMPLETING, b, sizeof b),
			 "PENDING+REQUEUE+COMPLETING");
	ck_assert_str_eq(jobrules_state_name(200, b, sizeof b), "UNKNOWN(200)");
	ck_assert_str_eq(jobrules_state_name(JOB_CANCELLED | JOB_COMPLETING, b, 6), "CANCE");
	ck_assert_str_eq(jobrules_state_name(JOB_RUNNING, NULL, 0), "");
}
END_TEST

START_TEST(bye)
{
	ck_assert_int_eq(jobrules_bye_stays(JOB_RUNNING), 0);        /* the normal end */
	ck_assert_int_eq(jobrules_bye_stays(JOB_RUNNING | JOB_COMPLETING), 0);
	ck_assert_int_eq(jobrules_bye_stays(JOB_COMPLETE), 0);
	ck_assert_int_eq(jobrules_bye_stays(JOB_CANCELLED | JOB_COMPLETING), 0);
	ck_assert_int_eq(jobrules_bye_stays(JOB_TIMEOUT), 0);
	ck_assert_int_eq(jobrules_bye_stays(JOB_FAILED), 0);
	ck_assert_int_eq(jobrules_bye_stays(JOB_PENDING), 1);        /* scontrol requeue */
	ck_assert_int_eq(jobrules_bye_stays(JOB_PENDING | JOB_COMPLETING), 1);
	ck_assert_int_eq(jobrules_bye_stays(JOB_RUNNING | JOB_REQUEUE), 1);
	ck_assert_int_eq(jobrules_bye_stays(JOB_PENDING | JOB_REQUEUE_HOLD), 1);
	ck_assert_int_eq(jobrules_bye_stays(JOB_COMPLETE | JOB_SPECIAL_EXIT), 1);
}
END_TEST

static struct jobrec rec(uint32_t id, uint32_t het, uint32_t uid, uint32_t state,
			 time_t submit, const char *node)
{
	struct jobrec r;
	memset(&r, 0, sizeof r);
	r.job_id = id;
	r.het_job_id = het;
	r.user_id = uid;
	r.job_state = state;
	r.submit_time = submit;
	snprintf(r.alloc_node, sizeof r.alloc_node, "%s", node);
	return r;
}

START_TEST(binding_and_het)
{
	struct jobrec recs[3] = {
		rec(100, 100, 7, JOB_PENDING, 0, "login"),
		rec(101, 100, 7, JOB_RUNNING, 0, "login"),
		rec(200, 0, 7, JOB_COMPLETE, 0, "login"),
	};
	size_t found;
	ck_assert_uint_eq(jobrules_binding_id(&recs[1]), 100);
	ck_assert_uint_eq(jobrules_binding_id(&recs[2]), 200);
	ck_assert_int_eq(jobrules_belongs(&recs[1], 100), 1);
	ck_assert_int_eq(jobrules_belongs(&recs[1], 101), 1);
	ck_assert_int_eq(jobrules_belongs(&recs[1], 200), 0);
	ck_assert_int_eq(jobrules_belongs(&recs[2], 0), 0);
	ck_assert_int_eq(jobrules_phase_of(recs, 3, 100, &found), JOB_PHASE_ACTIVE);
	ck_assert_uint_eq(found, 2);
	ck_assert_int_eq(jobrules_phase_of(recs, 3, 200, &found), JOB_PHASE_FINISHED);
	ck_assert_uint_eq(found, 1);
	ck_assert_int_eq(jobrules_phase_of(recs, 3, 300, &found), JOB_PHASE_FINISHED);
	ck_assert_uint_eq(found, 0);
	ck_assert_int_eq(jobrules_phase_of(recs, 1, 100, NULL), JOB_PHASE_WAITING);
}
END_TEST

START_TEST(owner)
{
	char b[100];
	struct jobrec r = rec(12, 0, 7, JOB_RUNNING, 0, "login");
	ck_assert_ptr_null(jobrules_check_owner(&r, 7, b, sizeof b));
	ck_assert_str_eq(jobrules_check_owner(&r, 8, b, sizeof b), "job 12 belongs to another user");
	r.job_state = JOB_PENDING;
	ck_assert_ptr_null(jobrules_check_owner(&r, 7, b, sizeof b));
	r.job_state = JOB_CANCELLED;
	ck_assert_str_eq(jobrules_check_owner(&r, 7, b, sizeof b), "job 12 has ended (CANCELLED)");
}
END_TEST

START_TEST(same_host)
{
	ck_assert_int_eq(jobrules_same_host("login", "login"), 1);
	ck_assert_int_eq(jobrules_same_host("login", "login.cluster.example"), 1);
	ck_assert_int_eq(jobrules_same_host("LOGIN.a", "login.b"), 1);
	ck_assert_int_eq(jobrules_same_host("login1", "login"), 0);
	ck_assert_int_eq(jobrules_same_host("login", "login1"), 0);
	ck_assert_int_eq(jobrules_same_host("", ""), 0);
	ck_assert_int_eq(jobrules_same_host(".x", ".x"), 0);
	ck_assert_int_eq(jobrules_same_host(NULL, "login"), 0);
	ck_assert_int_eq(jobrules_same_host("10.0.0.1", "10.0.0.2"), 0);   /* literals: whole */
	ck_assert_int_eq(jobrules_same_host("10.0.0.1", "10.0.0.1"), 1);
	ck_assert_int_eq(jobrules_same_host("10.0.0.1", "10"), 0);
	ck_assert_int_eq(jobrules_same_host("fe80::1", "FE80::1"), 1);
	ck_assert_int_eq(jobrules_same_host("fe80::1", "fe80::2"), 0);
}
END_TEST

START_TEST(candidates)
{
	uint32_t claimed[] = { 15, 300 };
	static const char hosts[][JOBREC_HOST_MAX] = { "login.example", "10.0.0.1" };
	struct cand_rules r = {
		.uid = 7, .hosts = hosts, .nhosts = 2, .not_before = 1000, .not_after = 1010,
		.claimed = claimed, .nclaimed = 2,
	};
	struct jobrec recs[] = {
		rec(10, 0, 7, JOB_PENDING, 1000, "login"),      /* yes */
		rec(11, 0, 8, JOB_PENDING, 1000, "login"),      /* another user */
		rec(12, 0, 7, JOB_PENDING, 999, "login"),       /* before the forwarder */
		rec(13, 0, 7, JOB_PENDING, 1011, "login"),      /* after sbatch ended */
		rec(14, 0, 7, JOB_PENDING, 1005, "login2"),     /* another host */
		rec(15, 0, 7, JOB_RUNNING, 1005, "login"),      /* claimed */
		rec(16, 0, 7, JOB_CANCELLED, 1005, "login"),    /* over */
		rec(17, 0, 7, JOB_RUNNING, 1010, "LOGIN"),      /* yes */
		rec(300, 300, 7, JOB_RUNNING, 1005, "login"),   /* a het job, claimed */
		rec(301, 300, 7, JOB_RUNNING, 1005, "login"),   /* its component */
		rec(400, 400, 7, JOB_PENDING, 1005, "login"),   /* a het job: counts once */
		rec(401, 400, 7, JOB_PENDING, 1005, "login"),
		rec(18, 0, 7, JOB_PENDING, 1003, ""),           /* alloc_node unknown */
	};
	size_t n = sizeof recs / sizeof recs[0];
	const int want[] = { 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0 };
	uint32_t first = 0;
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(jobrules_is_candidate(&recs[i], &r) == want[i], "record %zu (job %u)", i,
			      recs[i].job_id);
	ck_assert_uint_eq(jobrules_count_candidates(recs, n, &r, &first), 3);
	ck_assert_uint_eq(first, 10);
	ck_assert_uint_eq(jobrules_count_candidates(recs + 1, 6, &r, NULL), 0);
	r.not_after = 0;      /* sbatch still running: no upper limit */
	ck_assert_int_eq(jobrules_is_candidate(&recs[3], &r), 1);
	r.nclaimed = 0;
	ck_assert_int_eq(jobrules_is_candidate(&recs[5], &r), 1);
	ck_assert_int_eq(jobrules_is_candidate(&recs[9], &r), 1);
	ck_assert_uint_eq(jobrules_count_candidates(recs, n, &r, &first), 6);
}
END_TEST

START_TEST(candidates_by_session)
{
	static const char hosts[][JOBREC_HOST_MAX] = { "login", "10.0.0.1" };
	struct cand_rules r = { .uid = 7, .hosts = hosts, .nhosts = 2, .not_before = 1000 };
	struct jobrec j = rec(10, 0, 7, JOB_PENDING, 1000, "localhost");
	ck_assert_int_eq(jobrules_is_candidate(&j, &r), 0);     /* the name does not match */
	j.alloc_sid = 4242;
	ck_assert_int_eq(jobrules_is_candidate(&j, &r), 0);     /* sbatch's session unknown */
	r.sid = 4242;
	ck_assert_int_eq(jobrules_is_candidate(&j, &r), 1);     /* the session matches */
	snprintf(j.alloc_node, sizeof j.alloc_node, "login");
	r.sid = 4243;
	ck_assert_int_eq(jobrules_is_candidate(&j, &r), 0);     /* another session */
	j.alloc_sid = 0;
	ck_assert_int_eq(jobrules_is_candidate(&j, &r), 1);     /* job's session unknown: name */
	snprintf(j.alloc_node, sizeof j.alloc_node, "10.0.0.1");
	ck_assert_int_eq(jobrules_is_candidate(&j, &r), 1);
	snprintf(j.alloc_node, sizeof j.alloc_node, "10.0.0.2");
	ck_assert_int_eq(jobrules_is_candidate(&j, &r), 0);
	r.nhosts = 0;
	snprintf(j.alloc_node, sizeof j.alloc_node, "login");
	ck_assert_int_eq(jobrules_is_candidate(&j, &r), 0);
}
END_TEST

/* ---- the state file */

START_TEST(state_roundtrip)
{
	struct staterec s, t;
	char text[STATEREC_TEXT_MAX];
	memset(&s, 0, sizeof s);
	s.pid = 4242;
	s.job = 1234;
	snprintf(s.state, sizeof s.state, "running");
	snprintf(s.starter, sizeof s.starter, "sbatch");
	snprintf(s.listen, sizeof s.listen, "[fe80::1]:40000");
	s.control = 40001;
	snprintf(s.dest, sizeof s.dest, "desktop:11111");
	s.conns = 2;
	s.up = 18446744073709551615ull;
	s.down = 7;
	s.started = 1700000000;
	s.updated = 1700000100;
	s.rpcs = 9;
	s.sid = 4100;
	s.submit_from = 1700000000123456789LL;
	s.submit_to = 1700000000987654321LL;
	ck_assert_uint_gt(staterec_format(text, sizeof text, &s), 0);
	ck_assert_ptr_nonnull(strstr(text, "\nstate=running\n"));
	ck_assert_int_eq(staterec_parse(text, &t), 0);
	ck_assert_int_eq(t.pid, 4242);
	ck_assert_uint_eq(t.job, 1234);
	ck_assert_str_eq(t.state, "running");
	ck_assert_str_eq(t.starter, "sbatch");
	ck_assert_str_eq(t.listen, "[fe80::1]:40000");
	ck_assert_uint_eq(t.control, 40001);
	ck_assert_str_eq(t.dest, "desktop:11111");
	ck_assert_uint_eq(t.conns, 2);
	ck_assert(t.up == s.up);
	ck_assert(t.down == 7);
	ck_assert(t.started == s.started);
	ck_assert(t.updated == s.updated);
	ck_assert_uint_eq(t.rpcs, 9);
	ck_assert_uint_eq(t.sid, 4100);
	ck_assert(t.submit_from == 1700000000123456789LL);
	ck_assert(t.submit_to == 1700000000987654321LL);
	ck_assert_uint_eq(staterec_format(text, 20, &s), 0);
}
END_TEST

START_TEST(state_parse_rules)
{
	struct staterec t;
	ck_assert_int_eq(staterec_parse("pid=1\nstarted=5\nfuture=x\n", &t), 0);
	ck_assert_int_eq(t.pid, 1);
	ck_assert_uint_eq(t.job, 0);
	ck_assert_int_eq(staterec_parse("pid=1\nstarted=5", &t), 0);
	ck_assert_int_eq(staterec_parse("pid=1\n", &t), -1);
	ck_assert_int_eq(staterec_parse("started=5\n", &t), -1);
	ck_assert_int_eq(staterec_parse("pid=x\nstarted=5\n", &t), -1);
	ck_assert_int_eq(staterec_parse("pid=1\nstarted=5\njob=-1\n", &t), -1);
	ck_assert_int_eq(staterec_parse("pid=1\nstarted=5\nup=1e5\n", &t), -1);
	ck_assert_int_eq(staterec_parse("pid=1\nstarted=5\nsubmit_from=-3\n", &t), -1);
	ck_assert_int_eq(staterec_parse("pid=1\nstarted=5\nsubmit_to=9223372036854775808\n", &t), -1);
	ck_assert_int_eq(staterec_parse("pid=1\nstarted=5\nsid=4294967296\n", &t), -1);
	ck_assert_int_eq(staterec_parse("", &t), -1);
}
END_TEST

START_TEST(ages_and_lines)
{
	char b[200];
	staterec_age(b, sizeof b, -3);
	ck_assert_str_eq(b, "0s");
	staterec_age(b, sizeof b, 59);
	ck_assert_str_eq(b, "59s");
	staterec_age(b, sizeof b, 247);
	ck_assert_str_eq(b, "4m07s");
	staterec_age(b, sizeof b, 3 * 3600 + 125);
	ck_assert_str_eq(b, "3h02m");
	staterec_age(b, sizeof b, 2 * 86400 + 5 * 3600 + 7);
	ck_assert_str_eq(b, "2d05h");

	struct staterec s;
	memset(&s, 0, sizeof s);
	s.pid = 77;
	s.started = 1000;
	snprintf(s.state, sizeof s.state, "waiting");
	snprintf(s.listen, sizeof s.listen, "10.0.0.1:40000");
	snprintf(s.dest, sizeof s.dest, "desktop:11111");
	staterec_list_line(b, sizeof b, &s, 1065);
	ck_assert_msg(strncmp(b, "-          waiting  10.0.0.1:40000", 34) == 0, "%s", b);
	ck_assert_ptr_nonnull(strstr(b, " 1m05s "));
	ck_assert_ptr_nonnull(strstr(b, " 77"));
	staterec_list_header(b, sizeof b);
	ck_assert_msg(strncmp(b, "JOB        STATE    LISTEN", 26) == 0, "%s", b);
}
END_TEST

/* ---- the job-mode flags: --slurm-job, --starter, --control (forwarder/cmdline.c) */

static int parse_args(struct cmdline *a, char *err, const char **list)
{
	int argc = 0;
	while (list[argc])
		argc++;
	return cmdline_parse(argc, (char *const *)list, a, err, 256);
}
#define ARGS(a, err, ...) parse_args((a), (err), (const char *[]){ "pv-forwarder", __VA_ARGS__, NULL })

START_TEST(starter_and_control)
{
	struct cmdline a;
	char err[256];
	ck_assert_int_eq(ARGS(&a, err, "--job", "--slurm-job", "--starter", "sbatch", "--control",
			      "--to", "d:1", "--listen", "10.0.0.1", "--hold", "5", "--ready-fd", "3",
			      "--lifeline-fd", "4"), 0);
	ck_assert_int_eq(a.starter, PVF_STARTER_SBATCH);
	ck_assert_int_eq(a.control, 1);
	cmdline_free(&a);
	ck_assert_int_eq(ARGS(&a, err, "--job", "--slurm-job", "--starter=srun", "--to", "d:1"), 0);
	ck_assert_int_eq(a.starter, PVF_STARTER_SRUN);
	ck_assert_int_eq(a.control, 0);
	ck_assert_str_eq(cmdline_starter_name(a.starter), "srun");
	cmdline_free(&a);
	ck_assert_int_eq(ARGS(&a, err, "--job", "--slurm-job", "--starter", "salloc", "--to", "d:1"), 0);
	ck_assert_int_eq(a.starter, PVF_STARTER_SALLOC);
	ck_assert_str_eq(cmdline_starter_name(PVF_STARTER_NONE), "");
	ck_assert_str_eq(cmdline_starter_name(PVF_STARTER_SBATCH), "sbatch");
	cmdline_free(&a);
	ck_assert_int_eq(ARGS(&a, err, "--job", "--slurm-job", "--starter", "mpirun", "--to", "d:1"), -1);
	ck_assert_str_eq(err, "--starter needs srun, sbatch or salloc, not 'mpirun'");
	ck_assert_int_eq(ARGS(&a, err, "--job", "--starter", "srun", "--to", "d:1"), -1);
	ck_assert_str_eq(err, "--starter needs --slurm-job");
	ck_assert_int_eq(ARGS(&a, err, "--job", "--control", "--to", "d:1"), -1);
	ck_assert_str_eq(err, "--control needs --slurm-job");
	ck_assert_int_eq(ARGS(&a, err, "-c", "x.cfg", "--control"), -1);
	ck_assert_int_eq(ARGS(&a, err, "--job", "--slurm-job", "--control", "--control", "--to", "d:1"), -1);
	ck_assert_int_eq(ARGS(&a, err, "--job", "--slurm-job", "--control=1", "--to", "d:1"), -1);
}
END_TEST

START_TEST(list_mode)
{
	struct cmdline a;
	char err[256];
	ck_assert_int_eq(ARGS(&a, err, "--list"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_LIST);
	ck_assert_int_eq(ARGS(&a, err, "--list", "-dd"), 0);
	ck_assert_int_eq(a.mode, PVF_MODE_LIST);
	ck_assert_int_eq(a.debug, 2);
	ck_assert_int_eq(ARGS(&a, err, "--list", "--job", "--to", "d:1"), -1);
	ck_assert_int_eq(ARGS(&a, err, "--list", "-c", "f"), -1);
	ck_assert_int_eq(ARGS(&a, err, "--list", "-g"), -1);
	ck_assert_str_eq(err, "--list takes no option but -d, not --foreground");
}
END_TEST

/* ---- the order of a session's sbatch */

#define S(x) ((int64_t)(x) * 1000000000)   /* seconds -> ns */

static struct jobrec srec(uint32_t id, uint32_t state, time_t submit, uint32_t sid)
{
	struct jobrec r = rec(id, 0, 7, state, submit, "login");
	r.alloc_sid = sid;
	return r;
}

static enum order_answer order(const struct submit_window *self, const struct submit_window *o,
			       size_t no, const struct jobrec *recs, size_t nrecs, uint32_t *job)
{
	static const char hosts[][JOBREC_HOST_MAX] = { "login" };
	struct cand_rules r = { .uid = 7, .hosts = hosts, .nhosts = 1, .sid = 500,
				.not_before = 999, .not_after = 1006 };
	const char *why = "unset";
	enum order_answer a = jobrules_by_order(self, o, no, recs, nrecs, &r, job, &why);
	ck_assert_msg((a == ORDER_BOUND) == (why == NULL), "why: %s", why ? why : "(null)");
	return a;
}

START_TEST(order_pair)
{
	/* a then b from session 500, one after the other in the same second */
	struct submit_window a = { 101, 500, 1, S(1000) + 100, S(1000) + 400000000 };
	struct submit_window b = { 102, 500, 1, S(1000) + 500000000, S(1000) + 900000000 };
	struct submit_window other_session = { 103, 600, 1, S(1000) + 450000000, 0 };
	struct submit_window both[] = { a, b, other_session };
	struct jobrec recs[] = { srec(21, JOB_PENDING, 1000, 500), srec(20, JOB_PENDING, 1000, 500),
				 srec(22, JOB_PENDING, 1000, 600) };
	uint32_t job = 99;
	ck_assert_int_eq(order(&a, both, 3, recs, 3, &job), ORDER_BOUND);
	ck_assert_uint_eq(job, 20);
	ck_assert_int_eq(order(&b, both, 3, recs, 3, &job), ORDER_BOUND);
	ck_assert_uint_eq(job, 21);
	/* a alone, before b existed */
	ck_assert_int_eq(order(&a, NULL, 0, recs + 1, 1, &job), ORDER_BOUND);
	ck_assert_uint_eq(job, 20);
	/* a bound already (20 claimed: not a candidate, a not in the list) */
	static const char hosts[][JOBREC_HOST_MAX] = { "login" };
	uint32_t claimed[] = { 20 };
	struct cand_rules r = { .uid = 7, .hosts = hosts, .nhosts = 1, .sid = 500,
				.not_before = 999, .claimed = claimed, .nclaimed = 1 };
	const char *why;
	ck_assert_int_eq(jobrules_by_order(&b, both + 2, 1, recs, 3, &r, &job, &why), ORDER_BOUND);
	ck_assert_uint_eq(job, 21);
}
END_TEST

START_TEST(order_cannot_tell)
{
	struct submit_window a = { 101, 500, 1, S(1000) + 100, S(1000) + 400000000 };
	struct submit_window b = { 102, 500, 1, S(1000) + 500000000, S(1000) + 900000000 };
	struct jobrec two[] = { srec(20, JOB_PENDING, 1000, 500), srec(21, JOB_PENDING, 1000, 500) };
	struct jobrec three[] = { srec(20, JOB_PENDING, 1000, 500), srec(21, JOB_PENDING, 1000, 500),
				  srec(23, JOB_PENDING, 1000, 500) };
	uint32_t job = 99;

	/* b's sbatch still submitting: wait */
	struct submit_window b_running = b;
	b_running.to_ns = 0;
	ck_assert_int_eq(order(&a, &b_running, 1, two, 2, &job), ORDER_WAIT);
	ck_assert_uint_eq(job, 0);
	/* one job fewer than windows (cancelled before we looked, a failed
	 * submission, or a sibling about to claim its own): look again soon */
	ck_assert_int_eq(order(&a, &b, 1, two + 1, 1, &job), ORDER_WAIT);
	ck_assert_int_eq(order(&b, &a, 1, two + 1, 1, &job), ORDER_WAIT);
	ck_assert_uint_eq(job, 0);
	/* a plain sbatch in between: one job too many */
	ck_assert_int_eq(order(&a, &b, 1, three, 3, &job), ORDER_UNKNOWN);
	/* windows overlap (no lock) */
	struct submit_window b_early = b;
	b_early.from_ns = S(1000) + 300000000;
	ck_assert_int_eq(order(&a, &b_early, 1, two, 2, &job), ORDER_UNKNOWN);
	/* a sibling without a window, or started by salloc */
	struct submit_window b_nowin = b, b_salloc = b;
	b_nowin.from_ns = 0;
	b_salloc.by_sbatch = 0;
	ck_assert_int_eq(order(&a, &b_nowin, 1, two, 2, &job), ORDER_UNKNOWN);
	ck_assert_int_eq(order(&a, &b_salloc, 1, two, 2, &job), ORDER_UNKNOWN);
	/* self: sbatch still running, unknown session, not sbatch */
	struct submit_window x = a;
	x.to_ns = 0;
	ck_assert_int_eq(order(&x, NULL, 0, two, 1, &job), ORDER_UNKNOWN);
	x = a;
	x.sid = 0;
	ck_assert_int_eq(order(&x, NULL, 0, two, 1, &job), ORDER_UNKNOWN);
	x = a;
	x.by_sbatch = 0;
	ck_assert_int_eq(order(&x, NULL, 0, two, 1, &job), ORDER_UNKNOWN);
	x = a;
	x.from_ns = 0;         /* it went on without the submit lock */
	ck_assert_int_eq(order(&x, NULL, 0, two, 1, &job), ORDER_UNKNOWN);
	/* the job's submit time lies outside its window (b's job in a's second
	 * is fine, but a job stamped 3 s after a's sbatch ended is not a's) */
	struct submit_window late_b = { 102, 500, 1, S(1004), S(1005) };
	struct jobrec odd[] = { srec(20, JOB_PENDING, 1004, 500), srec(21, JOB_PENDING, 1004, 500) };
	ck_assert_int_eq(order(&a, &late_b, 1, odd, 2, &job), ORDER_UNKNOWN);
	/* a candidate whose session slurmctld did not record */
	struct jobrec nosid[] = { srec(20, JOB_PENDING, 1000, 0) };
	ck_assert_int_eq(order(&a, NULL, 0, nosid, 1, &job), ORDER_UNKNOWN);
	ck_assert_uint_eq(job, 0);
}
END_TEST

START_TEST(order_many)
{
	/* five sbatch in a row; a het job counts once; finished jobs are not candidates */
	struct submit_window w[5];
	for (int i = 0; i < 5; i++)
		w[i] = (struct submit_window){ 200 + i, 500, 1, S(1000) + i * 100000000 + 1,
					       S(1000) + i * 100000000 + 50000000 };
	struct jobrec recs[] = {
		srec(34, JOB_PENDING, 1000, 500), srec(30, JOB_PENDING, 1000, 500),
		srec(32, JOB_PENDING, 1000, 500), srec(33, JOB_PENDING, 1000, 500),
		srec(31, JOB_PENDING, 1000, 500), srec(29, JOB_CANCELLED, 1000, 500),
	};
	recs[2].het_job_id = 32;
	struct jobrec het_part = srec(35, JOB_PENDING, 1000, 500);
	het_part.het_job_id = 32;
	struct jobrec all[7];
	memcpy(all, recs, sizeof recs);
	all[6] = het_part;
	for (int i = 0; i < 5; i++) {
		uint32_t job = 0;
		ck_assert_int_eq(order(&w[i], w, 5, all, 7, &job), ORDER_BOUND);
		ck_assert_uint_eq(job, 30 + (uint32_t)i);
	}
}
END_TEST

Suite *jobrules_suite(void)
{
	Suite *s = suite_create("jobrules");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, phases);
	tcase_add_test(tc, state_names);
	tcase_add_test(tc, bye);
	tcase_add_test(tc, binding_and_het);
	tcase_add_test(tc, owner);
	tcase_add_test(tc, same_host);
	tcase_add_test(tc, candidates);
	tcase_add_test(tc, candidates_by_session);
	tcase_add_test(tc, order_pair);
	tcase_add_test(tc, order_cannot_tell);
	tcase_add_test(tc, order_many);
	suite_add_tcase(s, tc);
	tc = tcase_create("staterec");
	tcase_add_test(tc, state_roundtrip);
	tcase_add_test(tc, state_parse_rules);
	tcase_add_test(tc, ages_and_lines);
	suite_add_tcase(s, tc);
	tc = tcase_create("args");
	tcase_add_test(tc, starter_and_control);
	tcase_add_test(tc, list_mode);
	suite_add_tcase(s, tc);
	return s;
}
