/* search.h - an unbound forwarder looking for its job among the user's jobs
 * (sbatch after its exit, salloc that exited before its JOB line), and the
 * order of submission that tells a session's sbatch jobs apart; pure but
 * for log lines.  Owned by lifetime.c, which asks slurmctld for the user's
 * jobs and hands each answer to search_judge(). */
#ifndef PVF_SEARCH_H
#define PVF_SEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ctld.h"
#include "state.h"

/* Whether any look found a candidate yet: no candidate at the first looks
 * means no job was submitted; none later, that it went away. */
enum search_seen {
	SEARCH_NOTHING_SEEN = 0,
	SEARCH_CANDIDATES_SEEN,
};

struct search {
	int asking;                /* the user's jobs asked, no answer yet */
	enum search_seen seen;
	size_t last_n;             /* candidates at the last look (for the log) */
	int order_wait_s;          /* next look while a sibling's sbatch runs: 1, 2, 4 ... */
	char order_why[100];       /* the last reason the order did not tell (logged once) */
};

/* This forwarder, as the rules need it. */
struct search_self {
	uint32_t uid;
	uint32_t sid;              /* the starter's session, 0 unknown */
	time_t started;            /* wall clock */
	time_t eof_time;           /* the starter exited (0: still runs) */
	int by_order;              /* sbatch, exited: the order of submission may bind */
	long pid;
	int64_t submit_from, submit_to;   /* its submission window, ns */
};

enum search_verdict {
	SEARCH_NOT_SUBMITTED,      /* no candidate and none ever seen: nothing was submitted */
	SEARCH_NONE_LEFT,          /* no candidate left (cancelled before it started?) */
	SEARCH_BY_ORDER,           /* *id is ours by the order: bind, inferred */
	SEARCH_ORDER_WAIT,         /* look again in *wait_s */
	SEARCH_WAITING,            /* candidates: wait for the job's HELLO, look again later */
};

void search_init(struct search *s);
/* One answer (SJ_OK) about the user's jobs; peers: the user's other live
 * forwarders. */
enum search_verdict search_judge(struct search *s, const struct search_self *self,
				 const struct sj_answer *a, const struct state_peers *peers,
				 int max_wait_s, uint32_t *id, int *wait_s);

#endif
