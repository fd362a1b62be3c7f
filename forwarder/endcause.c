/* endcause.c - why a forwarder ends (see endcause.h). */
#include "endcause.h"

#include <slurm/slurm.h>

const char *end_cause_name(enum end_cause c)
{
	switch (c) {
	case END_STARTER_GONE:    return "starter gone";
	case END_JOB_COMPLETED:   return "job completed";
	case END_JOB_FAILED:      return "job failed";
	case END_JOB_CANCELLED:   return "job cancelled";
	case END_JOB_TIMEOUT:     return "job timed out";
	case END_JOB_ENDED:       return "job ended";
	case END_JOB_GONE:        return "job gone";
	case END_BATCH_DONE:      return "batch script ended";
	case END_BATCH_CTLD_LOST: return "batch script ended, slurmctld lost";
	case END_EPILOG_CTLD_LOST: return "job's epilog ran, slurmctld lost";
	case END_NOT_SUBMITTED:   return "no job submitted";
	case END_NEVER_STARTED:   return "job never started";
	}
	return "?";
}

enum end_cause end_cause_of_state(uint32_t job_state)
{
	switch (job_state & JOB_STATE_BASE) {
	case JOB_COMPLETE:  return END_JOB_COMPLETED;
	case JOB_CANCELLED: return END_JOB_CANCELLED;
	case JOB_TIMEOUT:   return END_JOB_TIMEOUT;
	case JOB_FAILED:
	case JOB_NODE_FAIL:
	case JOB_BOOT_FAIL:
	case JOB_OOM:       return END_JOB_FAILED;
	default:            return END_JOB_ENDED;
	}
}
