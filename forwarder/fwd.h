/* fwd.h - the running forwarder: the event loop, the signals, the exit and
 * the default lifeline handling.  main.c owns the command line, detaching
 * and the pidfile, and calls, in this order:
 *   fwd_new()       before the ready line: loop, listener, signals, lifeline
 *   fwd_job_host()  what a --slurm-job forwarder's job.c plugs into
 *   fwd_run()       the loop, until fwd's exit (signal, lifeline EOF, job end)
 *   fwd_free()      after job_free(): the job's events live on fwd's loop
 * Everything runs in the one event-loop thread. */
#ifndef PVF_FWD_H
#define PVF_FWD_H

#include <stddef.h>

struct fwd;
struct job_host;
struct cmdline;
struct setup;

/* The loop, the listener with st's sockets, the signals (SIGTERM/SIGINT
 * exit 0, SIGUSR1 logs the stats, SIGHUP is ignored) and, with
 * --lifeline-fd, the lifeline (EOF: exit 0).  0 with *fp set, or an exit
 * code with the reason in err. */
int fwd_new(struct fwd **fp, const struct cmdline *a, struct setup *st, char *err, size_t errlen);
/* Fills h: the loop, the listener, the exit and the lifeline hook. */
void fwd_job_host(struct fwd *f, struct job_host *h);
/* Runs the loop; the exit code given to the exit that ended it. */
int fwd_run(struct fwd *f);
void fwd_free(struct fwd *f);

#endif
