/* search.c - the sbatch search and the order of submission (see search.h). */
#include "search.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/param.h>     /* MIN */

#include "log.h"

void search_init(struct search *s)
{
	memset(s, 0, sizeof *s);
	s->order_wait_s = 1;
}

/* sbatch: the candidate the order of the session's sbatch says is ours
 * (jobrules_by_order), so that a job cancelled before it ever started ends
 * its forwarder; the job's HELLO confirms it later. */
static enum order_answer by_order(struct search *s, const struct search_self *self,
				  const struct sj_answer *a, const struct cand_rules *r,
				  const struct state_peers *peers, uint32_t *id)
{
	if (!self->by_order)
		return ORDER_UNKNOWN;
	struct submit_window me = { self->pid, self->sid, 1, self->submit_from, self->submit_to };
	const char *why = NULL;
	enum order_answer ans = jobrules_by_order(&me, peers->unbound, peers->nunbound, a->recs,
						  a->nrecs, r, id, &why);
	if (ans != ORDER_BOUND && strcmp(why, s->order_why) != 0) {
		/* once per reason: the poll asks again every 30 s */
		info("the order of submission does not tell which job is ours yet: %s", why);
		snprintf(s->order_why, sizeof s->order_why, "%s", why);
	}
	return ans;
}

enum search_verdict search_judge(struct search *s, const struct search_self *self,
				 const struct sj_answer *a, const struct state_peers *peers,
				 int max_wait_s, uint32_t *id, int *wait_s)
{
	uint32_t first = 0;
	struct cand_rules r = {
		.uid = self->uid, .hosts = (const char (*)[JOBREC_HOST_MAX])a->hosts,
		.nhosts = a->nhosts, .sid = self->sid, .not_before = self->started - 1,
		.not_after = self->eof_time ? self->eof_time + 5 : 0,
		.claimed = peers->claimed, .nclaimed = peers->nclaimed,
	};
	if (log_debug_level() && s->seen == SEARCH_NOTHING_SEEN)
		for (size_t i = 0; i < a->nhosts; i++)
			debug("this host may be alloc_node '%s'", a->hosts[i]);
	size_t n = jobrules_count_candidates(a->recs, a->nrecs, &r, &first);
	if (n == 0)
		return s->seen == SEARCH_NOTHING_SEEN ? SEARCH_NOT_SUBMITTED : SEARCH_NONE_LEFT;
	if (s->seen == SEARCH_NOTHING_SEEN || n != s->last_n)
		info("waiting for the job to start: %zu candidate job%s (%s%" PRIu32 ")", n,
		     n == 1 ? "" : "s", n == 1 ? "" : "first ", first);
	s->seen = SEARCH_CANDIDATES_SEEN;
	s->last_n = n;
	switch (by_order(s, self, a, &r, peers, id)) {
	case ORDER_BOUND:
		return SEARCH_BY_ORDER;
	case ORDER_WAIT:
		*wait_s = s->order_wait_s;
		s->order_wait_s = MIN(2 * s->order_wait_s, max_wait_s);   /* 1, 2, 4 ... */
		return SEARCH_ORDER_WAIT;
	case ORDER_UNKNOWN:
		break;
	}
	return SEARCH_WAITING;
}
