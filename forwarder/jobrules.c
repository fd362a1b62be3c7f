/* jobrules.c - decisions about Slurm jobs (see jobrules.h).  Pure. */
#include "jobrules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <slurm/slurm.h>

/* Every flag that means "being requeued" in the Slurm this is built for. */
static const uint32_t requeue_flags = JOB_REQUEUE | JOB_REQUEUE_HOLD | JOB_SPECIAL_EXIT
#ifdef JOB_REQUEUE_FED
	| JOB_REQUEUE_FED
#endif
#ifdef JOB_REQUEUE_CRON
	| JOB_REQUEUE_CRON
#endif
	;

enum job_phase jobrules_phase(uint32_t job_state)
{
	uint32_t base = job_state & JOB_STATE_BASE;
#ifdef JOB_REVOKED
	if (job_state & JOB_REVOKED)
		return JOB_PHASE_FINISHED;     /* a federation sibling: runs elsewhere */
#endif
	if (base == JOB_PENDING || (job_state & requeue_flags))
		return JOB_PHASE_WAITING;
	if (base == JOB_RUNNING || base == JOB_SUSPENDED)
		return JOB_PHASE_ACTIVE;
	return JOB_PHASE_FINISHED;
}

const char *jobrules_phase_name(enum job_phase p)
{
	switch (p) {
	case JOB_PHASE_WAITING:  return "waiting";
	case JOB_PHASE_ACTIVE:   return "active";
	case JOB_PHASE_FINISHED: break;
	}
	return "finished";
}

const char *jobrules_state_name(uint32_t job_state, char *buf, size_t len)
{
	static const char *const names[] = {
		[JOB_PENDING] = "PENDING", [JOB_RUNNING] = "RUNNING",
		[JOB_SUSPENDED] = "SUSPENDED", [JOB_COMPLETE] = "COMPLETED",
		[JOB_CANCELLED] = "CANCELLED", [JOB_FAILED] = "FAILED",
		[JOB_TIMEOUT] = "TIMEOUT", [JOB_NODE_FAIL] = "NODE_FAIL",
		[JOB_PREEMPTED] = "PREEMPTED", [JOB_BOOT_FAIL] = "BOOT_FAIL",
		[JOB_DEADLINE] = "DEADLINE", [JOB_OOM] = "OUT_OF_MEMORY",
	};
	uint32_t base = job_state & JOB_STATE_BASE;
	const char *name = base < sizeof names / sizeof names[0] ? names[base] : NULL;
	int n;

	if (!buf || !len)
		return "";
	n = name ? snprintf(buf, len, "%s", name) : snprintf(buf, len, "UNKNOWN(%u)", base);
	if (n >= 0 && (size_t)n < len && (job_state & requeue_flags))
		n += snprintf(buf + n, len - (size_t)n, "+REQUEUE");
	if (n >= 0 && (size_t)n < len && (job_state & JOB_COMPLETING))
		snprintf(buf + n, len - (size_t)n, "+COMPLETING");
	return buf;
}

int jobrules_bye_stays(uint32_t job_state)
{
	return (job_state & JOB_STATE_BASE) == JOB_PENDING || (job_state & requeue_flags) != 0;
}

uint32_t jobrules_binding_id(const struct jobrec *j)
{
	return j->het_job_id ? j->het_job_id : j->job_id;
}

int jobrules_belongs(const struct jobrec *j, uint32_t bound_id)
{
	return bound_id != 0 && (j->job_id == bound_id || j->het_job_id == bound_id);
}

enum job_phase jobrules_phase_of(const struct jobrec *recs, size_t n, uint32_t bound_id,
				 size_t *found)
{
	enum job_phase best = JOB_PHASE_FINISHED;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!jobrules_belongs(&recs[i], bound_id))
			continue;
		k++;
		enum job_phase p = jobrules_phase(recs[i].job_state);
		if (p == JOB_PHASE_ACTIVE || (p == JOB_PHASE_WAITING && best == JOB_PHASE_FINISHED))
			best = p;
	}
	if (found)
		*found = k;
	return best;
}

const char *jobrules_check_owner(const struct jobrec *j, uint32_t uid, char *buf, size_t len)
{
	char st[48];
	if (j->user_id != uid) {
		snprintf(buf, len, "job %u belongs to another user", j->job_id);
		return buf;
	}
	if (jobrules_phase(j->job_state) == JOB_PHASE_FINISHED) {
		snprintf(buf, len, "job %u has ended (%s)", j->job_id,
			 jobrules_state_name(j->job_state, st, sizeof st));
		return buf;
	}
	return NULL;
}

/* An address literal (alloc_node when the reverse lookup failed). */
static int is_literal(const char *s)
{
	return strchr(s, ':') || strspn(s, "0123456789.") == strlen(s);
}

int jobrules_same_host(const char *a, const char *b)
{
	size_t la, lb;
	if (!a || !b)
		return 0;
	if (is_literal(a) || is_literal(b))
		return *a && strcasecmp(a, b) == 0;
	la = strcspn(a, ".");
	lb = strcspn(b, ".");
	return la > 0 && la == lb && strncasecmp(a, b, la) == 0;
}

static int claimed(const struct cand_rules *r, uint32_t id)
{
	for (size_t i = 0; i < r->nclaimed; i++)
		if (r->claimed[i] == id)
			return 1;
	return 0;
}

int jobrules_is_candidate(const struct jobrec *j, const struct cand_rules *r)
{
	if (j->user_id != r->uid || jobrules_phase(j->job_state) == JOB_PHASE_FINISHED)
		return 0;
	int sid_match = r->sid && j->alloc_sid && j->alloc_sid == r->sid;
	if (r->sid && j->alloc_sid && !sid_match)
		return 0;
	int host_match = 0;
	for (size_t i = 0; i < r->nhosts && !host_match; i++)
		host_match = jobrules_same_host(j->alloc_node, r->hosts[i]);
	if (!host_match && !sid_match)
		return 0;
	if (j->submit_time < r->not_before || (r->not_after && j->submit_time > r->not_after))
		return 0;
	return !claimed(r, j->job_id) && !(j->het_job_id && claimed(r, j->het_job_id));
}

size_t jobrules_count_candidates(const struct jobrec *recs, size_t n,
				 const struct cand_rules *r, uint32_t *first)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!jobrules_is_candidate(&recs[i], r))
			continue;
		uint32_t id = jobrules_binding_id(&recs[i]);
		int seen = 0;
		/* a het job's components (and an array's tasks, by job id) count once */
		for (size_t k = 0; k < i && !seen; k++)
			seen = jobrules_is_candidate(&recs[k], r) && jobrules_binding_id(&recs[k]) == id;
		if (seen)
			continue;
		if (count++ == 0 && first)
			*first = id;
	}
	return count;
}

/* ---- the order of a session's sbatch */

#define ORDER_GROUP_MAX 64

static int by_from(const void *a, const void *b)
{
	const struct submit_window *x = *(const struct submit_window *const *)a;
	const struct submit_window *y = *(const struct submit_window *const *)b;
	return x->from_ns < y->from_ns ? -1 : x->from_ns > y->from_ns;
}

struct order_cand {
	uint32_t id;
	time_t submit;           /* the earliest of its records */
};

static int by_id(const void *a, const void *b)
{
	const struct order_cand *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static time_t ns_to_s(int64_t ns)
{
	return (time_t)(ns / 1000000000);
}

enum order_answer jobrules_by_order(const struct submit_window *self,
				    const struct submit_window *others, size_t nothers,
				    const struct jobrec *recs, size_t nrecs,
				    const struct cand_rules *r, uint32_t *job, const char **why)
{
	const struct submit_window *group[ORDER_GROUP_MAX];
	struct order_cand cand[ORDER_GROUP_MAX];
	size_t ng = 0, nc = 0, rank = 0;

	*job = 0;
	if (!self->by_sbatch || !self->sid || !self->to_ns) {
		*why = "not an sbatch of a known session that has exited";
		return ORDER_UNKNOWN;
	}
	if (!self->from_ns) {
		*why = "this forwarder went on without the submit lock";
		return ORDER_UNKNOWN;
	}
	group[ng++] = self;
	for (size_t i = 0; i < nothers; i++) {
		const struct submit_window *o = &others[i];
		if (o->pid == self->pid || o->sid != self->sid)
			continue;
		if (!o->by_sbatch) {
			*why = "an srun or salloc of this session is waiting for its job too";
			return ORDER_UNKNOWN;
		}
		if (!o->from_ns) {
			*why = "a forwarder of this session has no submission window";
			return ORDER_UNKNOWN;
		}
		if (ng == ORDER_GROUP_MAX) {
			*why = "too many forwarders of this session are waiting";
			return ORDER_UNKNOWN;
		}
		group[ng++] = o;
	}
	qsort(group, ng, sizeof group[0], by_from);
	for (size_t k = 0; k < ng; k++) {
		if (!group[k]->to_ns) {
			*why = "another sbatch of this session is still submitting";
			return ORDER_WAIT;
		}
		if (k && group[k]->from_ns <= group[k - 1]->to_ns) {
			*why = "two sbatch of this session submitted at the same time";
			return ORDER_UNKNOWN;
		}
		if (group[k] == self)
			rank = k;
	}

	/* the candidates of the whole group: this session's, in its time span */
	struct cand_rules gr = *r;
	gr.sid = self->sid;
	gr.not_before = ns_to_s(group[0]->from_ns) - 1;
	gr.not_after = ns_to_s(group[ng - 1]->to_ns) + 1;
	for (size_t i = 0; i < nrecs; i++) {
		if (!jobrules_is_candidate(&recs[i], &gr))
			continue;
		if (recs[i].alloc_sid != self->sid) {
			*why = "a candidate job's session is not known";
			return ORDER_UNKNOWN;
		}
		uint32_t id = jobrules_binding_id(&recs[i]);
		size_t k = 0;
		while (k < nc && cand[k].id != id)
			k++;
		if (k == nc) {
			if (nc == ORDER_GROUP_MAX) {
				*why = "too many candidate jobs";
				return ORDER_UNKNOWN;
			}
			cand[nc].id = id;
			cand[nc++].submit = recs[i].submit_time;
		} else if (recs[i].submit_time < cand[k].submit) {
			cand[k].submit = recs[i].submit_time;
		}
	}
	if (nc < ng) {
		/* a sibling whose sbatch has just exited may be about to claim its
		 * job (then ours is the one left), or a submission failed, or a
		 * job was cancelled before anyone looked: ask again soon */
		*why = "fewer candidate jobs than sbatch (one about to be claimed? a failed submission?)";
		return ORDER_WAIT;
	}
	if (nc > ng) {
		*why = "more candidate jobs than sbatch with --pv-forward";
		return ORDER_UNKNOWN;
	}
	qsort(cand, nc, sizeof cand[0], by_id);
	for (size_t k = 0; k < ng; k++)
		if (cand[k].submit < ns_to_s(group[k]->from_ns) - 1 ||
		    cand[k].submit > ns_to_s(group[k]->to_ns) + 1) {
			*why = "a candidate job's submit time does not fit the order";
			return ORDER_UNKNOWN;
		}
	*job = cand[rank].id;
	*why = NULL;
	return ORDER_BOUND;
}
