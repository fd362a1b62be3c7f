/* pv_forward.c - the SPANK callbacks of pv_forward.so (decisions live in
 * site_args.c, dest.c, argv_rewrite.c; the forwarder start in launch.c).
 *
 * srun (local), sbatch/salloc (allocator) on the submit host:
 *   init            parse the plugstack arguments, register --pv-forward
 *   option          check DEST (syntax, port, resolution, allow= policy)
 *   init_post_opt   start pv-forwarder once, setenv SLURM_PV_FORWARD_HOST/PORT
 *   local_user_init (srun) tell the forwarder the job id over the lifeline
 *   salloc: the job id goes over the lifeline when salloc forks the command.
 * slurmstepd (remote):
 *   task_init       PV_FORWARD_HOST/PORT for every task; pvserver's argv[0]
 *                   slot becomes pv-forward-exec, which adds the arguments.
 * slurmd and prolog/epilog contexts: nothing.  Jobs without --pv-forward are
 * not touched in any context. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/spank.h>

#include "argv_rewrite.h"
#include "dest.h"
#include "hostport.h"
#include "launch.h"
#include "numparse.h"
#include "site_args.h"

SPANK_PLUGIN(pv_forward, 1);

#define ENV_HOST "SLURM_PV_FORWARD_HOST"
#define ENV_PORT "SLURM_PV_FORWARD_PORT"
/* How Slurm carries the option into the job (and into sruns inside it). */
#define OPTION_ENV "SLURM_SPANK__SLURM_SPANK_OPTION_pv_forward_pv_forward"

static struct site_args site;
static int site_ok;

static struct {
	int requested;        /* --pv-forward given and checked (local/allocator) */
	int inherited;        /* a forwarder of the enclosing job already exists */
	int started;          /* forwarder start attempted */
	int remote_opt;       /* --pv-forward seen in remote context */
	struct dest dest;
	char login[HOSTPORT_HOST_MAX + 1];
	uint16_t lport;
	int lifeline;         /* write end, close-on-exec; -1 */
	int job_line_sent;
	char salloc_prev_job[32];   /* SLURM_JOB_ID before salloc's allocation */
} st = { .lifeline = -1 };

static int opt_cb(int val, const char *optarg, int remote);

static char opt_name[] = "pv-forward";
static char opt_arginfo[] = "HOST[:PORT]";
static char opt_usage[] =
	"Relay pvserver's reverse connection through this login node to the "
	"ParaView client at HOST:PORT (default: your SSH client's address, port "
	"11111); pvserver gets --reverse-connection --client-host --server-port "
	"pointing at the relay.";
static struct spank_option pv_option = {
	opt_name, opt_arginfo, opt_usage, 2, 0, opt_cb
};

static const char *program(void)
{
	return program_invocation_short_name ? program_invocation_short_name : "";
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	spank_context_t ctx = spank_context();
	spank_err_t rc;

	if (ctx != S_CTX_LOCAL && ctx != S_CTX_ALLOCATOR && ctx != S_CTX_REMOTE &&
	    ctx != S_CTX_SLURMD)
		return 0;

	site_args_init(&site);
	site_ok = site_args_parse(&site, ac, av) == 0;
	if (!site_ok) {
		/* Daemons' logs get it; users only when they ask for the
		 * option, so everybody else's jobs run exactly as before. */
		if (ctx == S_CTX_SLURMD || ctx == S_CTX_REMOTE)
			slurm_error("pv-forward: plugstack.conf: %s (%d bad argument%s); "
				    "--pv-forward is refused on submit hosts until it is fixed",
				    site.error, site.nerrors, site.nerrors == 1 ? "" : "s");
		else
			slurm_debug("pv-forward: plugstack.conf: %s", site.error);
	}
	if (ctx == S_CTX_SLURMD)
		return 0;

	rc = spank_option_register(sp, &pv_option);
	if (rc != ESPANK_SUCCESS)
		slurm_error("pv-forward: cannot register --pv-forward: %s",
			    spank_strerror(rc));
	return 0;
}

/* An srun inside a batch job or an allocation that already has a forwarder
 * (the option propagates there through the environment). */
static int have_enclosing_forwarder(void)
{
	const char *h = getenv(ENV_HOST), *p = getenv(ENV_PORT);
	return h && *h && p && *p;
}

static int opt_cb(int val, const char *optarg, int remote)
{
	spank_context_t ctx;
	struct dest_env env;
	char msg[1024];

	(void)val;
	if (remote) {
		st.remote_opt = 1;
		return 0;   /* never fail a step on the compute side */
	}
	ctx = spank_context();
	if (ctx != S_CTX_LOCAL && ctx != S_CTX_ALLOCATOR)
		return 0;
	if (have_enclosing_forwarder()) {
		/* The job's forwarder serves this step too.  Only a value that
		 * differs from the propagated one was typed here: say so. */
		static int told;
		const char *prop = getenv(OPTION_ENV);
		if (optarg && *optarg && strcmp(optarg, "(null)") != 0 &&
		    (prop == NULL || strcmp(prop, optarg) != 0) && !told++)
			slurm_info("pv-forward: this job already relays through %s:%s; "
				   "--pv-forward=%s is ignored here",
				   getenv(ENV_HOST), getenv(ENV_PORT), optarg);
		st.inherited = 1;
		return 0;
	}
	if (!site_ok) {
		slurm_error("pv-forward: --pv-forward is unavailable: this cluster's "
			    "pv_forward.so settings in plugstack.conf are invalid (%s); "
			    "please tell the administrators. Nothing was submitted.",
			    site.error);
		return -1;
	}
	if (getuid() == 0 || geteuid() == 0) {
		slurm_error("pv-forward: refusing to start a forwarder as root; "
			    "submit the job as an ordinary user");
		return -1;
	}
	env.ssh_connection = getenv("SSH_CONNECTION");
	env.ssh_client = getenv("SSH_CLIENT");
	if (dest_check(optarg, &env, &site, dest_resolve_getaddrinfo, NULL, &st.dest,
		       msg, sizeof(msg)) < 0) {
		slurm_error("%s", msg);
		return -1;
	}
	st.requested = 1;
	return 0;
}

static void format_pair(char *buf, size_t len, const char *host, uint16_t port)
{
	hostport_format(buf, len, host, port);
}

/* salloc: the command is forked right after the allocation, with
 * SLURM_JOB_ID already in salloc's environment.  Runs in the parent, in the
 * forking thread, before fork(). */
static void salloc_before_fork(void)
{
	const char *id = getenv("SLURM_JOB_ID");
	char line[48];
	unsigned long v;

	if (st.lifeline < 0 || st.job_line_sent || id == NULL ||
	    strcmp(id, st.salloc_prev_job) == 0 || parse_ulong(id, 1, 0xffffffffUL, &v) < 0)
		return;
	snprintf(line, sizeof(line), "JOB %lu\n", v);
	launch_lifeline_write(st.lifeline, line);
	st.job_line_sent = 1;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	spank_context_t ctx = spank_context();
	struct launch_params lp;
	char bind[HOSTPORT_HOST_MAX + 1], err[768], port[8];
	char to[HOSTPORT_HOST_MAX + 16], via[HOSTPORT_HOST_MAX + 16];

	(void)sp;
	(void)ac;
	(void)av;
	if (ctx != S_CTX_LOCAL && ctx != S_CTX_ALLOCATOR)
		return 0;
	/* Once per job: init_post_opt runs once per het-job component. */
	if (!st.requested || st.inherited || st.started)
		return 0;
	st.started = 1;

	if (site.advertise[0]) {
		snprintf(st.login, sizeof(st.login), "%s", site.advertise);
	} else if (gethostname(st.login, sizeof(st.login)) != 0 || st.login[0] == '\0') {
		slurm_error("pv-forward: cannot tell this host's name (%s); the "
			    "administrators can set advertise= in plugstack.conf. "
			    "Nothing was submitted.", strerror(errno));
		return -1;
	}
	st.login[sizeof(st.login) - 1] = '\0';
	if (site.bind[0])
		snprintf(bind, sizeof(bind), "%s", site.bind);
	else
		launch_default_bind(st.login, bind, sizeof(bind));

	memset(&lp, 0, sizeof(lp));
	lp.forwarder = site.forwarder;
	lp.to_host = st.dest.to;
	lp.to_port = st.dest.port;
	lp.listen = bind;
	lp.port_lo = site.port_lo;
	lp.port_hi = site.port_hi;
	lp.hold = site.hold;
	lp.max_conns = site.max_conns;
	if (launch_forwarder(&lp, &st.lport, &st.lifeline, err, sizeof(err)) < 0) {
		slurm_error("pv-forward: could not start the forwarder: %s. "
			    "Nothing was submitted; try again, and tell the administrators "
			    "if it persists.", err);
		return -1;
	}

	snprintf(port, sizeof(port), "%u", st.lport);
	if (setenv(ENV_HOST, st.login, 1) != 0 || setenv(ENV_PORT, port, 1) != 0) {
		slurm_error("pv-forward: cannot set %s/%s: %s. Nothing was submitted.",
			    ENV_HOST, ENV_PORT, strerror(errno));
		close(st.lifeline);   /* the forwarder exits on EOF */
		st.lifeline = -1;
		return -1;
	}

	if (ctx == S_CTX_ALLOCATOR) {
		format_pair(to, sizeof(to), st.dest.host, st.dest.port);
		format_pair(via, sizeof(via), st.login, st.lport);
		slurm_info("pv-forward: compute nodes reach %s through %s", to, via);
		if (strcmp(program(), "salloc") == 0) {
			const char *prev = getenv("SLURM_JOB_ID");
			snprintf(st.salloc_prev_job, sizeof(st.salloc_prev_job), "%s",
				 prev ? prev : "");
			pthread_atfork(salloc_before_fork, NULL, NULL);
		}
	}
	/* srun prints its line in local_user_init, where the job id is known. */
	return 0;
}

int slurm_spank_local_user_init(spank_t sp, int ac, char **av)
{
	char to[HOSTPORT_HOST_MAX + 16], via[HOSTPORT_HOST_MAX + 16], line[48];
	uint32_t job_id = 0;

	(void)ac;
	(void)av;
	if (spank_context() != S_CTX_LOCAL || st.lifeline < 0 || st.job_line_sent)
		return 0;
	st.job_line_sent = 1;   /* once, not per het-job component */
	format_pair(to, sizeof(to), st.dest.host, st.dest.port);
	format_pair(via, sizeof(via), st.login, st.lport);
	if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS || job_id == 0) {
		slurm_info("pv-forward: compute nodes reach %s through %s", to, via);
		return 0;
	}
	snprintf(line, sizeof(line), "JOB %u\n", job_id);
	if (launch_lifeline_write(st.lifeline, line) < 0) {
		slurm_error("pv-forward: job %u: the forwarder on %s has exited, so "
			    "pvserver could not reach %s; the step is not started. "
			    "Run srun again.", job_id, via, to);
		return -1;
	}
	slurm_info("pv-forward: job %u: compute nodes reach %s through %s", job_id, to, via);
	return 0;
}

/* Remote: was --pv-forward given?  The option callback says so for steps
 * srun launches; for a batch step submitted with --export=NONE Slurm 22.05
 * does not call it although the job's environment carries the option (seen),
 * so that variable counts as well. */
static int remote_requested(spank_t sp)
{
	char v[HOSTPORT_HOST_MAX + 16];

	if (!st.remote_opt) {
		spank_err_t rc = spank_getenv(sp, OPTION_ENV, v, sizeof(v));
		if (rc == ESPANK_SUCCESS || rc == ESPANK_NOSPACE)
			st.remote_opt = 1;
	}
	return st.remote_opt;
}

/* Remote: the forwarder's address from the job's environment, checked. */
static int job_forwarder(spank_t sp, char *host, size_t hostlen, char *port,
			 size_t portlen)
{
	uint16_t p;

	if (spank_getenv(sp, ENV_HOST, host, (int)hostlen) != ESPANK_SUCCESS ||
	    spank_getenv(sp, ENV_PORT, port, (int)portlen) != ESPANK_SUCCESS)
		return -1;
	if (!host_is_valid(host, NULL, 0) || parse_port(port, &p) < 0)
		return -2;
	return 0;
}

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
	char host[HOSTPORT_HOST_MAX + 1], port[16];

	(void)ac;
	(void)av;
	if (!spank_remote(sp) || !remote_requested(sp))
		return 0;
	/* Said once per step here; task_init quietly does nothing then. */
	switch (job_forwarder(sp, host, sizeof(host), port, sizeof(port))) {
	case -1:
		slurm_error("pv-forward: --pv-forward is set but the job has no %s/%s; "
			    "pvserver is left unchanged", ENV_HOST, ENV_PORT);
		break;
	case -2:
		slurm_error("pv-forward: invalid %s/%s in the job's environment; "
			    "pvserver is left unchanged", ENV_HOST, ENV_PORT);
		break;
	}
	return 0;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	char host[HOSTPORT_HOST_MAX + 1], port[16];
	char **argv = NULL;
	int argc = 0;

	(void)ac;
	(void)av;
	if (!spank_remote(sp) || !remote_requested(sp))
		return 0;
	if (job_forwarder(sp, host, sizeof(host), port, sizeof(port)) < 0)
		return 0;
	spank_setenv(sp, PV_FORWARD_HOST_ENV, host, 1);
	spank_setenv(sp, PV_FORWARD_PORT_ENV, port, 1);

	if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) != ESPANK_SUCCESS ||
	    argv == NULL || argc < 1 || argv[0] == NULL ||
	    argv_runs_pvserver(argc, argv) == 0)
		return 0;

	const char *helper = site.exec_helper;
	if (access(helper, X_OK) != 0) {
		slurm_error("pv-forward: %s is missing or not executable on this node (%s); "
			    "pvserver runs without --client-host/--server-port. Use "
			    "--client-host=$PV_FORWARD_HOST --server-port=$PV_FORWARD_PORT",
			    helper, strerror(errno));
		return 0;
	}
#if defined(SLURM_VERSION_NUMBER) && SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 11, 0)
	/* The helper takes the program from its argv[1]. */
	{
		const char *prefix[] = { helper };
		spank_unsetenv(sp, PV_FORWARD_EXEC_PROGRAM_ENV);
		if (spank_prepend_task_argv(sp, 1, prefix) != ESPANK_SUCCESS)
			slurm_error("pv-forward: cannot prepend %s to the task's command; "
				    "pvserver runs unchanged", helper);
	}
#else
	/* argc cannot grow here: the argv[0] slot becomes the helper, which
	 * finds the program in its environment.  The array is the one given
	 * to execve (see ../shared/notes/spank.md). */
	{
		size_t l = strlen(argv[0]);
		if (l == 0 || argv[0][l - 1] == '/')   /* srun --bcast=DIR/ */
			return 0;
		if (spank_setenv(sp, PV_FORWARD_EXEC_PROGRAM_ENV, argv[0], 1) != ESPANK_SUCCESS) {
			slurm_error("pv-forward: cannot set %s; pvserver runs unchanged",
				    PV_FORWARD_EXEC_PROGRAM_ENV);
			return 0;
		}
		argv[0] = (char *)helper;
	}
#endif
	return 0;
}
