/* fwd.h - the running forwarder, as main.c sets it up; what job.c (binding
 * to a Slurm job) plugs into:
 *   fwd_listener() + listener_set_allowed()  the job's nodes may connect
 *   fwd_set_lifeline_ops()                   its own handling of "JOB <id>"
 *                                            and of the starter going away
 *   fwd_exit()                               the job ended: close and exit
 * Everything runs in the one event-loop thread. */
#ifndef PVF_FWD_H
#define PVF_FWD_H

struct event_base;
struct listener;
struct lifeline_ops;
struct fwd;

struct event_base *fwd_base(struct fwd *f);
struct listener *fwd_listener(struct fwd *f);
/* Replaces the default lifeline handling (remember the job id; exit 0 on
 * EOF).  No-op without --lifeline-fd. */
void fwd_set_lifeline_ops(struct fwd *f, const struct lifeline_ops *ops);
/* The last job id: --job-id, or the last "JOB <id>" line; 0 when unknown. */
unsigned long fwd_job_id(const struct fwd *f);
/* Stops accepting, closes every connection (why goes into their log lines),
 * and makes main() return code once the loop is left.  The first call
 * counts; later ones are ignored. */
void fwd_exit(struct fwd *f, int code, const char *why);

#endif
