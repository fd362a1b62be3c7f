/* job.h - a job-mode forwarder with --slurm-job: binding to its Slurm job
 * and living exactly as long as the job (DESIGN.md, "A forwarder's job and
 * lifetime"; issue 5).
 *
 * Binding: "JOB <id>" on the lifeline (srun, salloc), --job-id, or HELLO on
 * the control port (every step of the job, the batch step included); HELLO
 * and BYE carry the token from PV_FORWARD_TOKEN.  Once per job the
 * forwarder asks slurmctld (slurmjob.c) that the job is the user's, then
 * allows the job's nodes on the relay port (listener_set_allowed) while the
 * job runs; nothing before (or while it is pending again after a requeue).
 *
 * Lifetime:
 *   lifeline EOF   srun, salloc (or no --starter): exit.  sbatch, and
 *                  salloc before its JOB line (failed, or --no-shell):
 *                  when unbound, look at once for candidate jobs
 *                  (jobrules.h); none -> exit ("no job was submitted")
 *   salloc         after an scancel salloc lives on with its command: its
 *                  activity (slurmctld's messages) makes the forwarder
 *                  look at the job at once (JOB_WATCH_MS)
 *   unbound        (sbatch, after EOF) every JOB_POLL_UNBOUND_S the user's
 *                  jobs; no candidate left -> exit
 *   bound          every JOB_POLL_BOUND_S (srun: JOB_POLL_SRUN_S) the job:
 *                  finished or unknown -> exit; waiting -> no node allowed;
 *                  active -> its nodes
 *   BYE            the batch script ended: one more look at the job; exit
 *                  unless it was requeued
 *   RPC errors     logged (once per streak) and otherwise ignored
 *
 * State for --list (state.c): waiting / running / draining, written on
 * every change and every JOB_STATE_BYTES_S while bytes move. */
#ifndef PVF_JOB_H
#define PVF_JOB_H

#include <stddef.h>

#include "jobargs.h"

/* 30 s keeps every forwarder within 1 RPC per 30 s (issue 5) and still notices a
 * job cancelled before it started within a minute. */
#define JOB_POLL_UNBOUND_S   30
#define JOB_POLL_BOUND_S     30
/* srun: the lifeline ends the forwarder when srun exits, and srun exits when
 * its job ends; the poll is a backstop, seldom enough for an idle forwarder
 * to sleep (each look wakes its two threads ~13 times). */
#define JOB_POLL_SRUN_S      300
#define JOB_STATE_BYTES_S    5
/* Unbound, a job named by HELLO/BYE/the lifeline could not be checked
 * (slurmctld did not answer): asked again this often. */
#define JOB_RETRY_S          5
/* A HELLO from an address not (yet) allowed asks slurmctld again, unless
 * the job's nodes were loaded less than this long ago. */
#define JOB_HELLO_FRESH_S    10
/* salloc, bound: its /proc/PID/io is read this often; when it moved (salloc
 * is idle but for slurmctld's messages: allocation revoked, time limit) the
 * job is asked about, at most once per JOB_WATCH_LOAD_S. */
#define JOB_WATCH_MS         500
#define JOB_WATCH_LOAD_S     1
/* sbatch: how long a forwarder waits for the user's submit lock (another
 * sbatch of the user still submitting) before it goes on without it. */
#define JOB_SUBMIT_LOCK_WAIT_MS 10000
#define JOB_TOKEN_ENV        "PV_FORWARD_TOKEN"

struct fwd;
struct job;

/* Before detaching (no threads, no event loop yet): takes the token out of
 * the environment (PV_FORWARD_TOKEN, unset and wiped; a malformed one is an
 * error; --control needs one), reads slurm.conf (slurm_init), binds the
 * control port.  relay_port: the port bound (for --list).  *jp is NULL when a has no --slurm-job (nothing to do).
 * 0, or an exit code with the reason in err. */
int job_prepare(struct job **jp, const struct jobargs *a, unsigned relay_port,
		char *err, size_t errlen);
/* The control port (0: none); for the ready line. */
unsigned job_control_port(const struct job *j);
/* In the event loop, before the ready line: the control listener, the
 * slurmctld worker, the lifeline handling, the state file and log, the
 * timers; binds at once with --job-id.  0, or -1 with the reason in err. */
int job_start(struct job *j, struct fwd *f, char *err, size_t errlen);
/* After the loop: removes the state entry, frees everything (NULL is fine). */
void job_free(struct job *j);

#endif
