/* log.h - fatal/error/info/debug for the forwarder and the exec helper.
 *
 * Messages go to stderr (prefixed with the program name) until log_to_syslog()
 * is called, then to syslog(3) only.  log_to_file() adds a file that gets
 * every message as well (a detached pv-forwarder's per-job log).  The SPANK plugin does not use this: it
 * reports through slurm_error()/slurm_info() so srun shows its messages. */
#ifndef PVF_LOG_H
#define PVF_LOG_H

#include <stdarg.h>

/* Exit codes shared by pv-forwarder and pv-forward-exec (documented in --help). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1, /* something failed while running (bind, resolve, slurm) */
	EXIT_USAGE = 2,   /* bad command line or configuration file */
};

void log_init(const char *progname, int debug_level);
void log_to_syslog(void);
/* From now on every message is also appended to path (created with mode
 * 0600, emptied first when truncate), one line each with the local time:
 * "2024-05-01 12:00:00 [4242] refused connection from ...".  Replaces the
 * file of an earlier call.  0, or -1 with errno set (nothing changed). */
int log_to_file(const char *path, int truncate);
/* Stops writing to the file. */
void log_close_file(void);
int log_debug_level(void);

void fatal(int exit_code, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debug2(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
