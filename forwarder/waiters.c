/* waiters.c - control requests waiting for slurmctld (see waiters.h). */
#include "waiters.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int waiters_add(struct waiters *ws, uint64_t ctl_id, enum ctl_verb verb, uint32_t job_id,
		const char *peer, uint32_t load_id, uint64_t seq)
{
	struct waiter *w = calloc(1, sizeof *w), **tail = &ws->head;
	if (!w)
		return -1;
	w->ctl_id = ctl_id;
	w->verb = verb;
	w->job_id = job_id;
	w->load_id = load_id;
	w->seq = seq;
	snprintf(w->peer, sizeof w->peer, "%s", peer);
	while (*tail)
		tail = &(*tail)->next;
	*tail = w;
	return 0;
}

struct waiter *waiters_next(struct waiters *ws, const struct sj_answer *a)
{
	for (struct waiter **pw = &ws->head; *pw; pw = &(*pw)->next) {
		struct waiter *w = *pw;
		if (w->load_id == a->asked && w->seq <= a->tag) {
			*pw = w->next;
			return w;
		}
	}
	return NULL;
}

void waiters_free(struct waiters *ws)
{
	while (ws->head) {
		struct waiter *w = ws->head;
		ws->head = w->next;
		free(w);
	}
}

enum verdict waiter_judge(const struct waiter *w, const struct sj_answer *a,
			  const struct binding *b, uint32_t uid, enum refusal *refusal,
			  const struct jobrec **rec, char *reason, size_t len)
{
	*rec = NULL;
	*refusal = REFUSE_NONE;
	reason[0] = '\0';
	for (size_t i = 0; a->rc == SJ_OK && i < a->nrecs && !*rec; i++)
		if (a->recs[i].job_id == w->job_id)
			*rec = &a->recs[i];
	if (w->verb != CTL_HELLO && b->bound && a->rc == SJ_ERROR)
		return VERDICT_BYE_NO_CTLD;
	if (a->rc == SJ_ERROR) {
		*refusal = REFUSE_NO_CTLD;
		snprintf(reason, len, "cannot ask slurmctld about job %" PRIu32 ": %s", w->job_id,
			 a->error);
	} else if (a->rc == SJ_UNKNOWN || !*rec) {
		*refusal = REFUSE_UNKNOWN_JOB;
		snprintf(reason, len, "slurmctld does not know job %" PRIu32, w->job_id);
	} else if (!b->bound) {
		const char *bad = jobrules_check_owner(*rec, uid, reason, len);
		*refusal = bad ? REFUSE_NOT_OURS : REFUSE_NOT_BOUND;
		if (!bad)
			snprintf(reason, len, "not bound to a job");
	} else if (a->bound != b->bound) {
		*refusal = REFUSE_OTHER_JOB;
		snprintf(reason, len, "this forwarder serves job %" PRIu32 ", not %" PRIu32, b->bound,
			 w->job_id);
	} else if (w->verb == CTL_HELLO) {
		if (b->phase != JOB_PHASE_FINISHED)
			return VERDICT_HELLO_OK;
		*refusal = REFUSE_ENDED;
		snprintf(reason, len, "job %" PRIu32 " has ended (%s)", b->bound, b->state_name);
	} else {
		return jobrules_bye_stays((*rec)->job_state) ? VERDICT_BYE_STAYS : VERDICT_BYE_ENDS;
	}
	return VERDICT_REFUSE;
}
