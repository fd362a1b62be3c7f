/* workq.h - one worker thread behind the event loop, for calls that block
 * (getaddrinfo in resolve.c, slurmctld RPCs in slurmjob.c): items queued in
 * the loop run one at a time, in order, in the worker; each comes back into
 * the loop through a pipe, in the same order.  A stuck call never holds up
 * the loop, nor the process's exit. */
#ifndef PVF_WORKQ_H
#define PVF_WORKQ_H

struct event_base;
struct workq;

/* The first member of each caller's item (the caller allocates it and casts
 * back); the queue owns it from workq_push until it hands it to done or
 * discard. */
struct work {
	struct work *next;
	int cancelled;             /* workq_cancel: run is skipped if it has not begun */
};

/* run: in the worker, for an item not cancelled when its turn comes.
 * done: in the loop, for every finished item (cancelled or not), in the
 * order pushed; it owns the item (frees it).
 * discard: from workq_free, for the items never handed to done. */
typedef void (*workq_fn)(struct work *w, void *ctx);

/* Starts the worker (with every signal blocked: signals belong to the
 * loop).  ctx goes to run, done and discard.  NULL with errno on failure. */
struct workq *workq_new(struct event_base *base, workq_fn run, workq_fn done, void *ctx);
/* Behind the others.  done runs later, never inside this call. */
void workq_push(struct workq *q, struct work *w);
/* run will not be called for w unless it has begun; done still gets w (and
 * sees w->cancelled) so that its owner can free it. */
void workq_cancel(struct workq *q, struct work *w);
/* Ends the worker: 0 when it ended, every item not handed to done went to
 * discard and q is freed; -1 when it is stuck in run (for more than
 * 100 ms): it is detached, done is not called again, and q, its items and
 * whatever run uses (ctx) are left to the process's exit. */
int workq_free(struct workq *q, workq_fn discard);

#endif
