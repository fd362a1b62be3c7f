/* logkeep.c - the log retention rule (see logkeep.h). */
#include "logkeep.h"

#include <stdlib.h>

static int newest_first(const void *a, const void *b)
{
	const struct logkeep_item *x = a, *y = b;
	if (x->mtime != y->mtime)
		return x->mtime > y->mtime ? -1 : 1;
	return x->pid > y->pid ? -1 : x->pid < y->pid;
}

size_t logkeep_decide(struct logkeep_item *items, size_t n, time_t now)
{
	size_t ended = 0, removed = 0;
	if (n > 1)
		qsort(items, n, sizeof *items, newest_first);
	for (size_t i = 0; i < n; i++) {
		struct logkeep_item *it = &items[i];
		time_t age = now - it->mtime;
		it->verdict = LOGKEEP_KEEP;
		if (it->live)
			continue;
		ended++;        /* its rank among the ended logs, newest first */
		if (age < LOGKEEP_MIN_AGE_S)
			continue;
		if (age > LOGKEEP_MAX_AGE_S || ended > LOGKEEP_COUNT) {
			it->verdict = LOGKEEP_REMOVE;
			removed++;
		}
	}
	return removed;
}
