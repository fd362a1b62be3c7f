/* ratelog.h - log lines about connections that get nowhere (refused by the
 * data port, malformed on the control port), at most per_s of them a
 * second, so a port scan or a flood cannot fill the log.  The lines not
 * logged are counted in one line: at the next logged one, or a second after
 * the first of them when nothing follows (a flood that stopped).
 *
 * The owner embeds a struct ratelog and calls ratelog_init() before the
 * first line and ratelog_free() at the end; ratelog_admit() is the
 * decision (pure), ratelog() logs. */
#ifndef PVF_RATELOG_H
#define PVF_RATELOG_H

#include <stdint.h>

struct event;
struct event_base;

struct ratelog {
	const char *prefix;        /* before every line: "" or "control: " */
	const char *dropped;       /* after the count: "more refused connections were not logged" */
	unsigned per_s;            /* lines a second, at most */
	long sec;                  /* the second counted in, */
	unsigned logged;           /* lines logged in it, */
	uint64_t quiet;            /* lines not logged in it */
	struct event *flush;       /* says quiet a second after its first line */
};

/* 0, or -1 when the timer cannot be made. */
int ratelog_init(struct ratelog *r, struct event_base *base, const char *prefix,
		 const char *dropped, unsigned per_s);
void ratelog_free(struct ratelog *r);

/* One line in second sec: 1 when it may be logged, 0 when not.  *report is
 * set to the number of lines not logged in the previous second when this
 * line is the first of a new second (0 otherwise): say it first. */
int ratelog_admit(struct ratelog *r, long sec, uint64_t *report);

/* Logs prefix and the formatted line with info(), if ratelog_admit() lets it. */
void ratelog(struct ratelog *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
