/* logkeep.h - which per-forwarder logs of the state directory to remove
 * (state.h), pure.  The state directory collects one <pid>.log per forwarder
 * (one per --pv-forward job); kept forever it grows without bound (60 after
 * one afternoon of tests).  The rule, applied by `pv-forwarder --list` and at
 * every forwarder start:
 *   - the log of a live forwarder is kept;
 *   - a log written to less than LOGKEEP_MIN_AGE_S ago is kept (a job that
 *     just ended: its user may still look);
 *   - a log not written to for LOGKEEP_MAX_AGE_S is removed;
 *   - of the others, those among the LOGKEEP_COUNT newest ended logs are
 *     kept (the young ones count towards that number).
 * The caller (state.c) fills the items from one readdir and removes those
 * marked LOGKEEP_REMOVE. */
#ifndef PVF_LOGKEEP_H
#define PVF_LOGKEEP_H

#include <stddef.h>
#include <time.h>

#define LOGKEEP_COUNT      50
#define LOGKEEP_MIN_AGE_S  3600
#define LOGKEEP_MAX_AGE_S  (7 * 86400)

enum logkeep_verdict {
	LOGKEEP_KEEP,
	LOGKEEP_REMOVE,
};

struct logkeep_item {
	long pid;                    /* from the name <pid>.log */
	time_t mtime;                /* last written */
	int live;                    /* its forwarder still runs */
	enum logkeep_verdict verdict;        /* set by logkeep_decide */
};

/* Sets the verdict of each of the n items at time now.  Reorders the items
 * (newest first; equal times by pid, highest first).  Returns how many are
 * to be removed. */
size_t logkeep_decide(struct logkeep_item *items, size_t n, time_t now);

#endif
