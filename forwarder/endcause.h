/* endcause.h - why a --slurm-job forwarder ends (lifetime.c decides when),
 * and what a finished job's state says about it; pure. */
#ifndef PVF_ENDCAUSE_H
#define PVF_ENDCAUSE_H

#include <stdint.h>

enum end_cause {
	END_STARTER_GONE = 0,    /* srun or salloc (or no --starter) exited or was killed */
	END_JOB_COMPLETED,       /* the bound job finished: COMPLETED */
	END_JOB_FAILED,          /* FAILED, NODE_FAIL, BOOT_FAIL, OUT_OF_MEMORY */
	END_JOB_CANCELLED,       /* CANCELLED (scancel) */
	END_JOB_TIMEOUT,         /* TIMEOUT: the time limit */
	END_JOB_ENDED,           /* any other end (PREEMPTED, DEADLINE, REVOKED...) */
	END_JOB_GONE,            /* slurmctld no longer knows the bound job */
	END_BATCH_DONE,          /* BYE: the batch script ended, no requeue */
	END_BATCH_CTLD_LOST,     /* BYE while slurmctld did not answer */
	END_EPILOG_CTLD_LOST,    /* END (the job's epilog) while slurmctld did not answer */
	END_NOT_SUBMITTED,       /* the starter exited and no job was submitted */
	END_NEVER_STARTED,       /* the candidates went away before one started */
};

const char *end_cause_name(enum end_cause c);
/* The cause for a bound job that slurmctld reports finished in job_state. */
enum end_cause end_cause_of_state(uint32_t job_state);

#endif
