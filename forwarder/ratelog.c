/* ratelog.c - rate-limited log lines (see ratelog.h). */
#include "ratelog.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"

/* The summary of a flood that stopped: without it the count would wait for
 * the next line, which may never come. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct ratelog *r = arg;
	(void)fd;
	(void)what;
	if (r->quiet)
		info("%s%" PRIu64 " %s", r->prefix, r->quiet, r->dropped);
	r->quiet = 0;
}

int ratelog_init(struct ratelog *r, struct event_base *base, const char *prefix,
		 const char *dropped, unsigned per_s)
{
	*r = (struct ratelog){ .prefix = prefix, .dropped = dropped, .per_s = per_s };
	r->flush = evtimer_new(base, on_flush, r);
	return r->flush ? 0 : -1;
}

void ratelog_free(struct ratelog *r)
{
	if (r->flush)
		event_free(r->flush);
	r->flush = NULL;
}

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
	if (!ok) {
		struct timeval one = { 1, 0 };
		if (r->quiet == 1 && r->flush)
			evtimer_add(r->flush, &one);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	info("%s%s", r->prefix, msg);
}
