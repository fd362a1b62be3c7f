/* waiters.h - control requests (HELLO, BYE) waiting for slurmctld's answer
 * about their job, and what each gets when it comes; pure.  Owned by
 * lifetime.c: waiters_add() when a request had to ask, waiters_next() for
 * each answer, waiter_judge() decides. */
#ifndef PVF_WAITERS_H
#define PVF_WAITERS_H

#include <stddef.h>
#include <stdint.h>

#include "binding.h"
#include "ctlproto.h"
#include "ctld.h"

/* Why a request gets "ERR <reason>"; the reason's text is refusal_text(). */
enum refusal {
	REFUSE_NONE = 0,          /* "OK" */
	REFUSE_SHUTTING_DOWN,     /* the forwarder is ending */
	REFUSE_NO_MEMORY,
	REFUSE_NO_CTLD,           /* slurmctld did not answer */
	REFUSE_UNKNOWN_JOB,       /* slurmctld does not know the job */
	REFUSE_NOT_OURS,          /* unbound, the job is another user's or has ended */
	REFUSE_NOT_BOUND,         /* unbound, and the job did not bind it */
	REFUSE_OTHER_JOB,         /* bound to another job */
	REFUSE_ENDED,             /* the bound job has ended */
};

struct waiter {
	struct waiter *next;
	uint64_t ctl_id;           /* for the reply */
	enum ctl_verb verb;
	uint32_t job_id;           /* as in the request */
	uint32_t load_id;          /* the question it waits for ... */
	uint64_t seq;              /* ... one asked with this tag or later */
	char peer[72];
};

struct waiters {
	struct waiter *head;       /* in the order they came */
};

/* 0, or -1 (out of memory). */
int waiters_add(struct waiters *ws, uint64_t ctl_id, enum ctl_verb verb, uint32_t job_id,
		const char *peer, uint32_t load_id, uint64_t seq);
/* The next waiter this answer serves, taken off the list (the caller frees
 * it); NULL when none is left. */
struct waiter *waiters_next(struct waiters *ws, const struct sj_answer *a);
void waiters_free(struct waiters *ws);

enum verdict {
	VERDICT_REFUSE,            /* ERR, *refusal says why */
	VERDICT_HELLO_OK,          /* OK: a step of the bound job (confirms an inferred binding) */
	/* BYE (the batch script ended) and END (the job's epilog ran) alike: */
	VERDICT_BYE_STAYS,         /* OK: the job was requeued */
	VERDICT_BYE_ENDS,          /* OK: the job ended: the forwarder ends */
	VERDICT_BYE_NO_CTLD,       /* OK: ended, and without slurmctld nothing tells a
				      requeue apart: the forwarder ends */
};

/* What waiter w gets from answer a, given the binding b of a forwarder of
 * uid.  *rec: the answer's record of w's job (NULL when none); reason gets
 * the ERR text for VERDICT_REFUSE. */
enum verdict waiter_judge(const struct waiter *w, const struct sj_answer *a,
			  const struct binding *b, uint32_t uid, enum refusal *refusal,
			  const struct jobrec **rec, char *reason, size_t len);

#endif
