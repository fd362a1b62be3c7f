/* job_epilog.c - END from the job's epilog (see job_epilog.h). */
#include "job_epilog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/slurm.h>

#include "ctl_client.h"
#include "ctlproto.h"
#include "hostport.h"
#include "numparse.h"

int job_epilog_export(spank_t sp, const char *host, uint16_t control, const char *token,
		      char *err, size_t errlen)
{
	char port[8];
	spank_err_t rc;

	snprintf(port, sizeof port, "%u", control);
	if ((rc = spank_job_control_setenv(sp, JOB_EPILOG_HOST_ENV, host, 1)) != ESPANK_SUCCESS ||
	    (rc = spank_job_control_setenv(sp, JOB_EPILOG_CONTROL_ENV, port, 1)) != ESPANK_SUCCESS ||
	    (rc = spank_job_control_setenv(sp, JOB_EPILOG_TOKEN_ENV, token, 1)) != ESPANK_SUCCESS) {
		snprintf(err, errlen, "%s", spank_strerror(rc));
		return -1;
	}
	return 0;
}

/* The epilog's environment holds the job's control environment. */
static const char *control_env(const char *name)
{
	char full[64];
	snprintf(full, sizeof full, "SPANK_%s", name);
	return getenv(full);
}

/* Logged at info at most: the forwarder may well be gone already (the
 * batch step's BYE ended it, or another node's END), and its own polling
 * covers an END that did not get through. */
int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	const char *host = control_env(JOB_EPILOG_HOST_ENV);
	const char *port = control_env(JOB_EPILOG_CONTROL_ENV);
	const char *token = control_env(JOB_EPILOG_TOKEN_ENV);
	char line[CTL_LINE_MAX], reply[512];
	uint32_t job_id = 0;
	uint16_t control;
	unsigned long v;

	(void)ac;
	(void)av;
	if (spank_context() != S_CTX_JOB_SCRIPT || !host || !port || !token)
		return 0;
	if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS || job_id == 0) {
		const char *id = getenv("SLURM_JOB_ID");
		if (!id || parse_ulong(id, 1, 0xffffffffUL, &v) < 0)
			return 0;
		job_id = (uint32_t)v;
	}
	if (!host_is_valid(host, NULL, 0) || parse_port(port, &control) < 0 ||
	    ctl_format_request(line, sizeof line, CTL_END, job_id, token) < 0) {
		slurm_info("pv-forward: job %u: invalid %s/%s/%s in the job's control "
			   "environment; the forwarder is not told that the job ended", job_id,
			   JOB_EPILOG_HOST_ENV, JOB_EPILOG_CONTROL_ENV, JOB_EPILOG_TOKEN_ENV);
		return 0;
	}
	if (ctl_client_send(host, control, line, JOB_EPILOG_TIMEOUT_MS, reply, sizeof reply) < 0)
		slurm_info("pv-forward: job %u: could not tell the job's forwarder that the job "
			   "ended: %s; it finds out from Slurm", job_id, reply);
	else
		slurm_debug("pv-forward: job %u: END: %s", job_id, reply);
	memset(line, 0, sizeof line);
	return 0;
}
