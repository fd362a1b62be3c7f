/* ratelog.c - rate-limited log lines (see ratelog.h). */
#include "ratelog.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "clock.h"
#include "log.h"

int ratelog_admit(struct ratelog *r, long sec, uint64_t *report)
{
	*report = 0;
	if (sec != r->sec) {
		*report = r->quiet;
		r->sec = sec;
		r->logged = 0;
		r->quiet = 0;
	}
	if (r->logged >= r->per_s) {
		r->quiet++;
		return 0;
	}
	r->logged++;
	return 1;
}

void ratelog(struct ratelog *r, const char *fmt, ...)
{
	char msg[400];
	uint64_t report;
	va_list ap;
	int ok = ratelog_admit(r, (long)clock_mono_s(), &report);
	if (report)
		info("%s%" PRIu64 " %s", r->prefix, report, r->dropped);
	if (!ok)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	info("%s%s", r->prefix, msg);
}
