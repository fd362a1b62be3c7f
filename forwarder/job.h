/* job.h - a job-mode forwarder with --slurm-job: binding to its Slurm job
 * and living exactly as long as the job (DESIGN.md, "A forwarder's job and
 * lifetime" and "The lifetime in the code").
 *
 * job.c wires the job's lifetime (lifetime.h: the state machine and its
 * decisions) to the world: the lifeline ("JOB <id>", EOF), the control
 * port (HELLO/BYE with the token from PV_FORWARD_TOKEN), slurmctld
 * (slurmjob.c, through ctld.h), the relay port's allow list, the timers,
 * the sbatch submit lock and the state file (statemirror.h) for --list:
 * waiting / running / draining, written on every change and every
 * STATEMIRROR_BYTES_S while bytes move.
 *
 * What it needs from the running forwarder (fwd.c) comes in struct
 * job_host; it calls nothing else of the host's. */
#ifndef PVF_JOB_H
#define PVF_JOB_H

#include <stddef.h>

#include "cmdline.h"

/* sbatch: how long a forwarder waits for the user's submit lock (another
 * sbatch of the user still submitting) before it goes on without it. */
#define JOB_SUBMIT_LOCK_WAIT_MS 10000

struct event_base;
struct job;
struct lifeline_ops;
struct listener;

/* The running forwarder, as the job sees it. */
struct job_host {
	struct event_base *base;
	struct listener *listener;     /* listener_set_allowed(): the job's nodes */
	/* the job ended: stop accepting, close every connection, leave the
	 * loop with code; the first call counts */
	void (*exit)(void *host, int code, const char *why);
	/* replaces the default lifeline handling (no-op without --lifeline-fd) */
	void (*set_lifeline_ops)(void *host, const struct lifeline_ops *ops);
	void *host;
};

/* Before detaching (no threads, no event loop yet): takes the token out of
 * the environment (PV_FORWARD_TOKEN, unset and wiped; a malformed one is an
 * error; --control needs one), reads slurm.conf (slurm_init), binds the
 * control port.  relay_port: the port bound (for --list).  *jp is NULL
 * when a has no --slurm-job (nothing to do).  0, or an exit code with the
 * reason in err. */
int job_prepare(struct job **jp, const struct cmdline *a, unsigned relay_port,
		char *err, size_t errlen);
/* The control port (0: none); for the ready line. */
unsigned job_control_port(const struct job *j);
/* In the event loop, before the ready line: the control listener, the
 * slurmctld worker, the lifeline handling, the state file and log, the
 * timers; binds at once with --job-id.  h is copied.  0, or -1 with the
 * reason in err. */
int job_start(struct job *j, const struct job_host *h, char *err, size_t errlen);
/* After the loop: removes the state entry, frees everything (NULL is fine). */
void job_free(struct job *j);

#endif
