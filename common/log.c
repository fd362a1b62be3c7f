/* log.c - OpenSSH-style fatal/error/info/debug.  stderr until the program
 * detaches, syslog afterwards (a detached daemon has no terminal to write to). */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static const char *log_progname = "pv-forward";
static int log_level_debug;
static int log_syslog;

void log_init(const char *progname, int debug_level)
{
	log_progname = progname;
	log_level_debug = debug_level;
}

void log_to_syslog(void)
{
	openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
}

int log_debug_level(void)
{
	return log_level_debug;
}

static void log_emit(int priority, const char *fmt, va_list ap)
{
	int saved = errno; /* callers may print strerror(errno) after logging */
	if (log_syslog) {
		vsyslog(priority, fmt, ap);
	} else {
		char line[1024];
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "%s: %s\n", log_progname, line);
	}
	errno = saved;
}

void fatal(int exit_code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(exit_code);
}

void error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_ERR, fmt, ap);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_INFO, fmt, ap);
	va_end(ap);
}

void debug(const char *fmt, ...)
{
	if (log_level_debug < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void debug2(const char *fmt, ...)
{
	if (log_level_debug < 2)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, fmt, ap);
	va_end(ap);
}
