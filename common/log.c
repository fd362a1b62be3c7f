/* log.c - OpenSSH-style fatal/error/info/debug.  stderr until the program
 * detaches, syslog afterwards (a detached daemon has no terminal to write to),
 * and a log file as well when one is set. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_progname = "pv-forward";
static int log_level_debug;
static int log_syslog;
static int log_fd = -1;

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

int log_to_file(const char *path, int truncate)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
		      (truncate ? O_TRUNC : 0), 0600);
	if (fd < 0)
		return -1;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	return 0;
}

void log_close_file(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
}

int log_debug_level(void)
{
	return log_level_debug;
}

static void file_emit(const char *line)
{
	char buf[1200];
	struct tm tm;
	time_t t = time(NULL);
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	int k = snprintf(buf + n, sizeof(buf) - n, " [%ld] %s\n", (long)getpid(), line);
	if (k < 0)
		return;
	n += (size_t)k < sizeof(buf) - n ? (size_t)k : sizeof(buf) - n - 1;
	buf[n - 1] = '\n';
	if (write(log_fd, buf, n) < 0) {
		/* nothing sensible to do: the other log still has it */
	}
}

static void log_emit(int priority, const char *fmt, va_list ap)
{
	int saved = errno; /* callers may print strerror(errno) after logging */
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_syslog)
		syslog(priority, "%s", line);
	else
		fprintf(stderr, "%s: %s\n", log_progname, line);
	if (log_fd >= 0)
		file_emit(line);
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
