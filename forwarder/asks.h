/* asks.h - the questions about single jobs asked of slurmctld (ctld.h load)
 * and not answered yet, each with the reason it was asked; pure.  Owned
 * by lifetime.c: asks_add() before the question, asks_take() when its
 * answer comes (answers come in the order asked). */
#ifndef PVF_ASKS_H
#define PVF_ASKS_H

#include <stdint.h>

enum ask_reason {
	ASK_NONE = 0,            /* not found among the questions */
	ASK_POLL,                /* the bound job's periodic look */
	ASK_HELLO,               /* a step's HELLO named it */
	ASK_BYE,                 /* the batch script's BYE named it */
	ASK_LIFELINE,            /* "JOB <id>" from srun or salloc */
	ASK_JOB_ID,              /* --job-id */
	ASK_RETRY,               /* a named job whose check failed for want of slurmctld */
	ASK_ORDER,               /* bound by the order of submission */
	ASK_END,                 /* the job's epilog's END named it */
};

/* "poll", "HELLO", "BYE", "lifeline", "--job-id", ... (for log lines). */
const char *ask_reason_name(enum ask_reason r);
/* 1 when the job was named by a control request (HELLO, BYE), whose
 * requester gets the answer itself: no log line of its own. */
int ask_reason_is_request(enum ask_reason r);

struct ask {
	struct ask *next;
	uint32_t id;
	uint64_t seq;
	enum ask_reason why;
};

struct asks {
	struct ask *head;          /* in the order asked */
	uint64_t seq;              /* the last tag given out */
};

/* A new tag (also for questions not kept here). */
uint64_t asks_next_tag(struct asks *q);
/* The question about id waiting for its answer, NULL when none. */
struct ask *asks_find(struct asks *q, uint32_t id);
/* Notes a question about id; its tag, 0 when out of memory. */
uint64_t asks_add(struct asks *q, uint32_t id, enum ask_reason why);
/* Forgets the question tagged seq (it could not be asked). */
void asks_drop(struct asks *q, uint64_t seq);
/* The answer tagged seq came: removes its question and returns its reason
 * (ASK_NONE when no question has that tag). */
enum ask_reason asks_take(struct asks *q, uint64_t seq);
void asks_free(struct asks *q);

#endif
