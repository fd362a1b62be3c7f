/* pv_forward.c - the SPANK callbacks of pv_forward.so (decisions live in
 * site_args.c, pvf_value.c, argv_rewrite.c; the forwarder start in launch.c).
 *
 * srun (local), sbatch/salloc (allocator) on the submit host:
 *   init            parse the plugstack arguments, register --pv-forward
 *   option          check DEST (syntax, port, resolution, allow= policy)
 *   init_post_opt   start pv-forwarder once (--starter, --control, a token
 *                   in its environment), setenv SLURM_PV_FORWARD_HOST/PORT/
 *                   CONTROL/TOKEN
 *   local_user_init (srun) tell the forwarder the job id over the lifeline
 *   salloc: the job id goes over the lifeline when salloc forks the command.
 *   exit            srun, salloc: say so when their forwarder was killed
 *                   (fwd_gone.c)
 * slurmstepd (remote):
 *   user_init       HELLO <jobid> <token> to the forwarder's control port
 *                   (every step, every node; ctl_client.c, at most 3 s)
 *   task_init       PV_FORWARD_HOST/PORT for every task; pvserver's argv[0]
 *                   slot becomes pv-forward-exec, which adds the arguments.
 *   exit            batch step only: BYE <jobid> <token> (the job ends).
 * slurmd, epilog (job_epilog.c): sbatch's and salloc's jobs END <jobid>
 * <token>, from the job's control environment.  Jobs without --pv-forward
 * are not touched in any context. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/spank.h>

#include "argv_rewrite.h"
#include "ctl_client.h"
#include "ctlproto.h"
#include "fwd_gone.h"
#include "starter.h"
#include "pvf_value.h"
#include "hostport.h"
#include "job_epilog.h"
#include "launch.h"
#include "numparse.h"
#include "site_args.h"
#include "slurm_release.h"
#include "sockpath.h"

SPANK_PLUGIN(pv_forward, 1);

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 5, 0)
/* Slurm 25.05+ drains the node when slurm_spank_init fails unless told otherwise: a problem of
 * this plugin may fail the job that asked for --pv-forward, never take a node out of service.
 * (Our init returns 0 in every case; this is the rule should that ever change.) */
int slurm_spank_init_failure_mode = ESPANK_JOB_FAILURE;
#endif

#define ENV_HOST "SLURM_PV_FORWARD_HOST"
#define ENV_PORT "SLURM_PV_FORWARD_PORT"
#define ENV_CONTROL "SLURM_PV_FORWARD_CONTROL"
#define ENV_TOKEN "SLURM_PV_FORWARD_TOKEN"
/* How Slurm carries the option into the job (and into sruns inside it). */
#define OPTION_ENV "SLURM_SPANK__SLURM_SPANK_OPTION_pv_forward_pv_forward"

static struct site_args site;
static int site_ok;

static struct {
	int requested;        /* --pv-forward given and checked (local/allocator) */
	int inherited;        /* a forwarder of the enclosing job already exists */
	int started;          /* forwarder start attempted */
	int remote_opt;       /* --pv-forward seen in remote context */
	struct pvf_dest dest;
	char login[HOSTPORT_HOST_MAX + 1];
	uint16_t lport;
	int lifeline;         /* write end, close-on-exec; -1 */
	int job_line_sent;
	int build_said;       /* srun: say_build() done */
	char salloc_prev_job[32];   /* SLURM_JOB_ID before salloc's allocation */
} st = { .lifeline = -1 };

/* Remote: what user_init learnt, for exit.  slurmstepd runs one step and
 * lives as long as it, so these describe this step only. */
static struct {
	int have;             /* the job has a forwarder with a control port */
	char host[HOSTPORT_HOST_MAX + 1];
	uint16_t port;        /* the relay port, for messages */
	uint16_t control;
	char token[CTL_TOKEN_LEN + 1];
	uint32_t job_id, step_id;
} rst;

static int opt_cb(int val, const char *arg, int remote);

static char opt_name[] = "pv-forward";
static char opt_arginfo[] = "HOST[:PORT]|/SOCKET|~/SOCKET";
static char opt_usage[] =
	"Relay pvserver's reverse connection through this login node to the "
	"ParaView client at HOST:PORT (default: your SSH client's address, port "
	"11111), or to the Unix socket of your ssh -R on this node (~ is "
	"~/" SOCKPATH_DEFAULT_NAME "); pvserver gets --reverse-connection "
	"--client-host --server-port pointing at the relay.";
static struct spank_option pv_option = {
	opt_name, opt_arginfo, opt_usage, 2, 0, opt_cb
};

static const char *program(void)
{
	return program_invocation_short_name ? program_invocation_short_name : "";
}

/* Which build this is, at debug level: the loader refuses a plugin of another Slurm
 * major.minor, and a site upgrading both wants to see which one loaded.  slurmd and
 * slurmstepd log it from init; srun from local_user_init, because its -v options take
 * effect only after init and init_post_opt have run. */
static void say_build(void)
{
	char rel[16];
	slurm_debug("pv-forward: pv_forward.so %s, built for Slurm %s", PV_FORWARD_VERSION,
		    slurm_release(rel, sizeof rel));
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	spank_context_t ctx = spank_context();
	spank_err_t rc;

	if (ctx != S_CTX_LOCAL && ctx != S_CTX_ALLOCATOR && ctx != S_CTX_REMOTE &&
	    ctx != S_CTX_SLURMD)
		return 0;
	if (ctx == S_CTX_SLURMD || ctx == S_CTX_REMOTE)
		say_build();

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

/* The login node's name as the desktop's ssh would name it, for messages. */
static const char *this_host(void)
{
	static char name[HOSTPORT_HOST_MAX + 1];

	if (!name[0] && (gethostname(name, sizeof(name) - 1) != 0 || !name[0]))
		snprintf(name, sizeof(name), "LOGIN");
	return name;
}

static int opt_cb(int val, const char *arg, int remote)
{
	spank_context_t ctx;
	struct pvf_value_env env;
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
		if (arg && *arg && strcmp(arg, "(null)") != 0 &&
		    (prop == NULL || strcmp(prop, arg) != 0) && !told++)
			slurm_info("pv-forward: this job already relays through %s:%s; "
				   "--pv-forward=%s is ignored here",
				   getenv(ENV_HOST), getenv(ENV_PORT), arg);
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
	if (sockpath_is_socket_value(arg)) {
		struct passwd *pw = getpwuid(getuid());
		if (pvf_value_check_socket(arg, pw ? pw->pw_dir : NULL, getuid(), sockpath_check,
				      &st.dest, msg, sizeof(msg)) < 0) {
			slurm_error("%s", msg);
			return -1;
		}
		if (!st.dest.missing && sockpath_listening(st.dest.host) == 0)
			slurm_info("pv-forward: nothing listens on %s: is it left from an ssh "
				   "session that has ended (sshd does not remove it, and a new "
				   "ssh -R cannot bind over it)? On your desktop run ssh %s rm -f "
				   "%s, then ssh -o ExitOnForwardFailure=yes -R %s:localhost:11111 %s "
				   "(pvserver's connection waits up to %u s for it)", st.dest.host,
				   this_host(), st.dest.host, st.dest.host, this_host(), site.hold);
		if (st.dest.missing)
			slurm_info("pv-forward: nothing listens on %s yet; on your desktop run "
				   "ssh -o ExitOnForwardFailure=yes -R %s:localhost:11111 %s (pvserver's connection waits up to "
				   "%u s for it)", st.dest.host, st.dest.host, this_host(), site.hold);
		st.requested = 1;
		return 0;
	}
	env.ssh_connection = getenv("SSH_CONNECTION");
	env.ssh_client = getenv("SSH_CLIENT");
	if (pvf_value_check(arg, &env, &site, pvf_value_resolve_getaddrinfo, NULL, &st.dest,
		       msg, sizeof(msg)) < 0) {
		slurm_error("%s", msg);
		return -1;
	}
	if (st.dest.loopback) {
		char to[HOSTPORT_HOST_MAX + 16], sock[SOCKPATH_BUF], why[128];
		struct passwd *pw = getpwuid(getuid());
		hostport_format(to, sizeof(to), st.dest.host, st.dest.port);
		if (sockpath_parse("~", pw ? pw->pw_dir : NULL, sock, sizeof(sock), why,
				   sizeof(why)) < 0)
			snprintf(sock, sizeof(sock), "~/%s", SOCKPATH_DEFAULT_NAME);
		slurm_info("pv-forward: warning: %s is on this login node's loopback, which "
			   "every user of this node can connect to (ParaView's protocol runs "
			   "Python). A socket only you control: on the desktop ssh -o "
			   "ExitOnForwardFailure=yes -R %s:localhost:%u %s, here --pv-forward=~ (see the README)",
			   to, sock, st.dest.port, this_host());
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
	struct launch_result lr;
	char bind[HOSTPORT_HOST_MAX + 1], err[768], port[8], control[8];
	char to[HOSTPORT_HOST_MAX + 16], via[HOSTPORT_HOST_MAX + 16];

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
	lp.fin_timeout = site.fin_timeout;
	lp.max_conns = site.max_conns;
	lp.starter = starter_for(ctx == S_CTX_ALLOCATOR, program());
	if (launch_forwarder(&lp, &lr, err, sizeof(err)) < 0) {
		slurm_error("pv-forward: could not start the forwarder: %s. "
			    "Nothing was submitted; try again, and tell the administrators "
			    "if it persists.", err);
		return -1;
	}

	st.lport = lr.port;
	st.lifeline = lr.lifeline_fd;
	snprintf(port, sizeof(port), "%u", lr.port);
	snprintf(control, sizeof(control), "%u", lr.control);
	/* Without a control port (a forwarder that wrote the older "PORT n")
	 * the job relies on the lifeline and the forwarder's own polling. */
	if (setenv(ENV_HOST, st.login, 1) != 0 || setenv(ENV_PORT, port, 1) != 0 ||
	    (lr.control ? setenv(ENV_CONTROL, control, 1) != 0 ||
			  setenv(ENV_TOKEN, lr.token, 1) != 0
			: unsetenv(ENV_CONTROL) != 0 || unsetenv(ENV_TOKEN) != 0)) {
		slurm_error("pv-forward: cannot set %s/%s/%s/%s: %s. Nothing was submitted.",
			    ENV_HOST, ENV_PORT, ENV_CONTROL, ENV_TOKEN, strerror(errno));
		memset(lr.token, 0, sizeof(lr.token));
		close(st.lifeline);   /* the forwarder exits on EOF */
		st.lifeline = -1;
		return -1;
	}
	/* sbatch, salloc: the job's epilog says when the job ended (an srun's
	 * forwarder ends with srun).  Without it the forwarder still finds out
	 * by asking slurmctld, later. */
	if (ctx == S_CTX_ALLOCATOR && lr.control &&
	    job_epilog_export(sp, st.login, lr.control, lr.token, err, sizeof(err)) < 0)
		slurm_info("pv-forward: cannot give the job's epilog the forwarder's control "
			   "port (%s); the forwarder learns the job's end from slurmctld", err);
	memset(lr.token, 0, sizeof(lr.token));

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
	if (spank_context() != S_CTX_LOCAL)
		return 0;
	if (!st.build_said) {
		st.build_said = 1;
		say_build();
	}
	if (st.lifeline < 0 || st.job_line_sent)
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

/* Remote: the control port and token from the job's environment.  1 both
 * there and valid, 0 neither there (a forwarder without a control port),
 * -1 otherwise. */
static int job_control(spank_t sp, uint16_t *control, char *token, size_t tokenlen)
{
	char c[16];
	spank_err_t rc_c = spank_getenv(sp, ENV_CONTROL, c, sizeof(c));
	spank_err_t rc_t = spank_getenv(sp, ENV_TOKEN, token, (int)tokenlen);

	if (rc_c == ESPANK_ENV_NOEXIST && rc_t == ESPANK_ENV_NOEXIST)
		return 0;
	if (rc_c != ESPANK_SUCCESS || rc_t != ESPANK_SUCCESS ||
	    parse_port(c, control) < 0 || !ctl_token_valid(token))
		return -1;
	return 1;
}

/* "12.batch", "12.0": the step as Slurm's own messages write it. */
static void step_name(char *buf, size_t len, uint32_t job_id, uint32_t step_id)
{
	if (step_id == SLURM_BATCH_SCRIPT)
		snprintf(buf, len, "%u.batch", job_id);
	else if (step_id == SLURM_INTERACTIVE_STEP)
		snprintf(buf, len, "%u.interactive", job_id);
	else
		snprintf(buf, len, "%u.%u", job_id, step_id);
}

/* Remote: one control line to the job's forwarder (at most
 * CTL_CLIENT_TIMEOUT_MS), and one log line when it did not work out: an error
 * for HELLO (pvserver will likely not get through either, or the forwarder
 * refuses this job), information for BYE (the job is ending anyway and the
 * forwarder also learns that from Slurm).  Never fails the step. */
static void tell_forwarder(enum ctl_verb v)
{
	char line[CTL_LINE_MAX], reply[512], reason[300], msg[1024];
	char where[HOSTPORT_HOST_MAX + 16], via[HOSTPORT_HOST_MAX + 16], step[48];
	const char *verb = ctl_verb_name(v);
	int rc;

	step_name(step, sizeof(step), rst.job_id, rst.step_id);
	hostport_format(where, sizeof(where), rst.host, rst.control);
	if (ctl_format_request(line, sizeof(line), v, rst.job_id, rst.token) < 0) {
		slurm_error("pv-forward: step %s: cannot format %s", step, verb);
		return;
	}
	rc = ctl_client_send(rst.host, rst.control, line, CTL_CLIENT_TIMEOUT_MS, reply,
			     sizeof(reply));
	if (rc == CTL_CLIENT_REFUSED && v == CTL_HELLO && rst.port) {
		/* nothing listens: the forwarder was killed or has ended,
		 * which the user learns nowhere else */
		hostport_format(via, sizeof(via), rst.host, rst.port);
		fwd_gone_hello_msg(msg, sizeof(msg), step, via, rst.host, geteuid());
	} else if (rc < 0) {
		/* reply names host:port */
		snprintf(msg, sizeof(msg), "pv-forward: step %s: could not tell the "
			 "job's forwarder %s: %s", step,
			 v == CTL_HELLO ? "that the step started"
					    : "that the batch script ended", reply);
	} else {
		switch (ctl_parse_reply(reply, reason, sizeof(reason))) {
		case CTL_REPLY_OK:
			slurm_debug("pv-forward: step %s: %s to %s: OK", step, verb, where);
			memset(line, 0, sizeof(line));
			return;
		case CTL_REPLY_ERR:
			snprintf(msg, sizeof(msg), "pv-forward: step %s: the job's forwarder "
				 "(control port %s) refused %s: %s", step, where, verb, reason);
			break;
		default:
			snprintf(msg, sizeof(msg), "pv-forward: step %s: the job's forwarder "
				 "(control port %s) answered %s with '%s'", step, where, verb,
				 reason);
			break;
		}
	}
	memset(line, 0, sizeof(line));
	if (v == CTL_HELLO)
		slurm_error("%s", msg);
	else
		slurm_info("%s; it finds out from Slurm", msg);
}

/* Remote, every step (the batch step included) on every node, as the user,
 * before the tasks start: report the forwarder's address problems once,
 * and say HELLO to the forwarder so that it binds to this job (and allows
 * its nodes) at once instead of finding it by polling. */
int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
	char host[HOSTPORT_HOST_MAX + 1], port[16], token[CTL_TOKEN_LEN + 1];
	uint16_t control = 0;
	uint32_t job_id = 0, step_id = 0;

	(void)ac;
	(void)av;
	if (!spank_remote(sp) || !remote_requested(sp))
		return 0;
	/* Said once per step here; task_init quietly does nothing then. */
	switch (job_forwarder(sp, host, sizeof(host), port, sizeof(port))) {
	case -1:
		slurm_error("pv-forward: --pv-forward is set but the job has no %s/%s; "
			    "pvserver is left unchanged", ENV_HOST, ENV_PORT);
		return 0;
	case -2:
		slurm_error("pv-forward: invalid %s/%s in the job's environment; "
			    "pvserver is left unchanged", ENV_HOST, ENV_PORT);
		return 0;
	}
	switch (job_control(sp, &control, token, sizeof(token))) {
	case 0:
		return 0;   /* no control port: the lifeline and polling only */
	case -1:
		slurm_error("pv-forward: invalid %s/%s in the job's environment; "
			    "the forwarder is not told about this step", ENV_CONTROL, ENV_TOKEN);
		memset(token, 0, sizeof(token));
		return 0;
	}
	if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS || job_id == 0 ||
	    spank_get_item(sp, S_JOB_STEPID, &step_id) != ESPANK_SUCCESS) {
		slurm_error("pv-forward: cannot tell this step's job id; the forwarder "
			    "is not told about this step");
		memset(token, 0, sizeof(token));
		return 0;
	}
	snprintf(rst.host, sizeof(rst.host), "%s", host);
	if (parse_port(port, &rst.port) < 0)
		rst.port = 0;
	rst.control = control;
	memcpy(rst.token, token, sizeof(rst.token));
	memset(token, 0, sizeof(token));
	rst.job_id = job_id;
	rst.step_id = step_id;
	rst.have = 1;
	tell_forwarder(CTL_HELLO);
	return 0;
}

/* Remote, batch step only: the batch script has ended, so the job ends;
 * BYE lets the forwarder go at once instead of at its next poll.
 *
 * In Slurm 22.05 slurmstepd's job_manager() (src/slurmd/slurmstepd/mgr.c)
 * calls spank_fini() -> slurm_spank_exit once the step's tasks are gone,
 * as root, before batch_finish() sends the batch-complete message to
 * slurmctld.  This holds after scancel and the time limit too: slurmd has
 * the stepd SIGKILL the step's processes (req.c, _handle_terminate), the
 * stepd itself carries on, its wait for the tasks returns and it reaches
 * spank_fini().  It is skipped when the stepd never got that far (spank_init
 * failed) or dies itself (node failure or reboot, slurmstepd killed): the
 * forwarder's own polling of slurmctld covers those.  A requeued job (scontrol
 * requeue) also passes through here: BYE then precedes the job's next run.
 * Seen in the test bed: BYE arrives 20-120 ms after scancel, at the time
 * limit's kill, and after a batch script that failed. */
int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	spank_context_t ctx = spank_context();

	(void)ac;
	(void)av;
	if ((ctx == S_CTX_LOCAL || ctx == S_CTX_ALLOCATOR) && st.job_line_sent &&
	    launch_lifeline_gone(st.lifeline)) {
		/* srun, salloc: the forwarder has gone before them.  Killed or
		 * crashed, the connections through it were cut then, and
		 * nothing else tells the user; salloc's may also have ended
		 * with its job (fwd_gone.c tells which, from what it left
		 * behind, looked at only now that the lifeline says gone). */
		const char *c = getenv(ENV_CONTROL);
		struct fwd_gone_want w = { starter_for(ctx == S_CTX_ALLOCATOR, program()), st.lport, 0 };
		char msg[1024];
		if (c == NULL || parse_port(c, &w.control) < 0)
			w.control = 0;
		if (fwd_gone_at_exit(&w, st.login, msg, sizeof(msg)))
			slurm_error("%s", msg);
		return 0;
	}
	if (!spank_remote(sp) || !rst.have)
		return 0;
	if (rst.step_id == SLURM_BATCH_SCRIPT)
		tell_forwarder(CTL_BYE);
	memset(rst.token, 0, sizeof(rst.token));
	rst.have = 0;
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
	 * finds the program in its environment.  The array S_JOB_ARGV returns
	 * is the one slurmstepd gives to execve, so replacing a slot changes
	 * what runs (relied-on behaviour up to 23.02; tests 20 and 21). */
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
