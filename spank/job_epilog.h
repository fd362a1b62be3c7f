/* job_epilog.h - the job's epilog tells its forwarder that the job ended.
 *
 * sbatch and salloc do not see their job's end: sbatch has exited long
 * before, and salloc runs on with its command after scancel or the time
 * limit.  slurmd runs every plugin's job epilog on each of the job's nodes
 * when the job ends (or is requeued), so the epilog is the one event that
 * tells such a forwarder at once; without it the forwarder would have to
 * ask slurmctld often (DESIGN.md, "A forwarder's job and lifetime").
 *
 * Call order:
 *   allocator context (sbatch, salloc), init_post_opt, after the forwarder
 *   started: job_epilog_export() puts the control port's host, port and
 *   token into the job's control environment, which Slurm gives only to the
 *   job's prolog and epilog (as SPANK_<name>), never to its tasks.
 *   job_script context (slurmd's epilog, as root): slurm_spank_job_epilog
 *   sends "END <jobid> <token>" when those are there; a job without
 *   --pv-forward has none and nothing is done.  It returns 0 whatever
 *   happens: a failing epilog would drain the node. */
#ifndef PVF_JOB_EPILOG_H
#define PVF_JOB_EPILOG_H

#include <stddef.h>
#include <stdint.h>

#include <slurm/spank.h>

#pragma GCC visibility push(hidden)

/* Names in the job's control environment (Slurm prefixes SPANK_). */
#define JOB_EPILOG_HOST_ENV    "PV_FORWARD_EPILOG_HOST"
#define JOB_EPILOG_CONTROL_ENV "PV_FORWARD_EPILOG_CONTROL"
#define JOB_EPILOG_TOKEN_ENV   "PV_FORWARD_EPILOG_TOKEN"
/* The whole exchange in the epilog: the job's end waits for it on every
 * node, and the forwarder's own polling covers an END that did not come. */
#define JOB_EPILOG_TIMEOUT_MS  1000

/* 0, or -1 with a reason in err (the spank error). */
int job_epilog_export(spank_t sp, const char *host, uint16_t control, const char *token,
		      char *err, size_t errlen);

#pragma GCC visibility pop

#endif
