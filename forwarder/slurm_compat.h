/* slurm_compat.h - the one place where libslurm's API differs between the Slurm releases
 * pv-forwarder builds against (22.05 to 26.05).  slurmjob.c is its only user.
 *
 * What differs, and how the rest of the code avoids an #if:
 * - hostlist_t was a pointer typedef up to 22.05 and is the struct itself in 24.11 and later
 *   (slurm_hostlist_create() returns hostlist_t *): slurmjob.c writes `struct hostlist *`,
 *   the same type under both.
 * - slurm_get_errno() is gone in 24.11; on every release it only returned errno, which
 *   libslurm sets in the calling thread: slurmjob.c reads errno.
 * - 26.05's slurm_load_job() takes a slurm_step_id_t (sluid, job id, step) instead of a job
 *   id (the uint32_t form remains only behind SLURM_BACKWARD_COMPAT): below.
 */
#ifndef PVF_SLURM_COMPAT_H
#define PVF_SLURM_COMPAT_H

#include <stdint.h>

#include <slurm/slurm.h>

/* slurm_load_job() for one job id; *msg as slurm_load_job() leaves it. */
static inline int compat_load_job(job_info_msg_t **msg, uint32_t job_id, uint16_t show_flags)
{
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(26, 5, 0)
	slurm_step_id_t id = SLURM_STEP_ID_INITIALIZER;
	id.job_id = job_id;
	return slurm_load_job(msg, id, show_flags);
#else
	return slurm_load_job(msg, job_id, show_flags);
#endif
}

#endif
