/* statemirror.h - the forwarder's entry in the state directory (state.h),
 * kept equal to what it is: written on every change, and every
 * STATEMIRROR_BYTES_S while bytes move.  Owned by job.c, which fills
 * struct mirror_now from the lifetime, the listener and slurmjob. */
#ifndef PVF_STATEMIRROR_H
#define PVF_STATEMIRROR_H

#include <stdint.h>
#include <time.h>

#include "staterec.h"

#define STATEMIRROR_BYTES_S 5

struct state;

/* What changes. */
struct mirror_now {
	uint32_t job;
	const char *state;         /* "waiting", "running", "draining" */
	unsigned conns;
	uint64_t up, down;
	unsigned long rpcs;
	int64_t submit_from, submit_to;
};

struct statemirror {
	struct state *st;          /* NULL: no state directory, nothing is written */
	struct staterec fixed;     /* starter, listen, control, dest, started, sid */
	struct mirror_now last;    /* as last written (state copied into last_state) */
	char last_state[16];
	double last_write;         /* monotonic */
};

/* 1 when the entry is to be written now: something changed, or bytes moved
 * and the last write is STATEMIRROR_BYTES_S old (now: monotonic). */
int statemirror_due(const struct statemirror *m, const struct mirror_now *n, double now);
void statemirror_write(struct statemirror *m, const struct mirror_now *n, double now);

#endif
