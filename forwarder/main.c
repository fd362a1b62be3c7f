/* main.c - pv-forwarder: command line, start-up, detaching, the pidfile;
 * the running forwarder is fwd.c.  Two modes, one data path (listener.c,
 * relay.c):
 *   portfwd mode  -c FILE: portfwd's configuration file
 *   job mode      --job --to HOST:PORT ...: what the SPANK plugin starts
 *                 (DESIGN.md: ready-fd and lifeline protocols) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "ctlproto.h"
#include "fwd.h"
#include "hostport.h"
#include "job.h"
#include "cmdline.h"
#include "log.h"
#include "setup.h"
#include "slurm_release.h"
#include "state.h"

#define PROGNAME "pv-forwarder"
#define CONFIG_MAX_BYTES (1024 * 1024)

static const char usage_text[] =
"Usage: " PROGNAME " -c FILE [-g] [-d]... [--hold SECONDS] [--fin-timeout SECONDS]\n"
"                           [--max-conns N] [--pidfile FILE]\n"
"       " PROGNAME " --job --to HOST:PORT|/SOCKET [job options] [-g] [-d]...\n"
"       " PROGNAME " --list\n"
"       " PROGNAME " -h | -v\n"
"\n"
"A TCP forwarder for ParaView reverse connections (splice(2) data path).\n"
"\n"
"portfwd mode:\n"
"  -c, --config FILE     portfwd configuration file, e.g.\n"
"                          tcp { 11111 { => client_host:11111 } }\n"
"                        names are resolved at start (listen-on, from, source-address);\n"
"                        destinations again for every connection attempt.  A 'fragile'\n"
"                        map holds a client for as long as its destination is down.\n"
"\n"
"job mode (started by the pv_forward SPANK plugin):\n"
"  --job                 forward one listening port to --to\n"
"  --to HOST:PORT        the destination (the desktop's ParaView client)\n"
"  --to /SOCKET          or a Unix socket on this host: the far end of the user's\n"
"                        ssh -R /SOCKET:localhost:PORT; used only while it, and every\n"
"                        directory above it, is the user's alone and the process\n"
"                        listening on it runs as the user (checked at every connect)\n"
"  --listen ADDR         address to listen on (default " CMDLINE_DEFAULT_LISTEN "; [IPv6] allowed)\n"
"  --ports LO-HI         listen on the first free port of the range (default: ephemeral)\n"
"  --allow SRC[,SRC...]  sources allowed to connect: address, CIDR block or host name\n"
"                        (resolved at start; repeatable).  Without --allow and\n"
"                        --slurm-job every source is allowed.\n"
"  --slurm-job           also allow the Slurm job's nodes; until they are known only\n"
"                        --allow sources are accepted\n"
"  --job-id ID           the Slurm job (with --slurm-job)\n"
"  --ready-fd FD         once listening write 'PORT <n>\\n' to FD and close it;\n"
"                        on a start-up failure write 'ERROR <message>\\n'\n"
"  --lifeline-fd FD      read end of the starter's pipe: 'JOB <id>' lines; EOF (the\n"
"                        starter is gone) makes the forwarder close everything and exit 0\n"
"  --starter CLIENT      srun, sbatch or salloc: who started it (with --slurm-job);\n"
"                        sbatch: lifeline EOF does not end it, the job does\n"
"  --control             also listen on a control port for HELLO/BYE from the job's\n"
"                        steps (token in PV_FORWARD_TOKEN); ready line\n"
"                        'PORT <n> CONTROL <m>'\n"
"\n"
"  --list                the caller's forwarders: job, state, listen address,\n"
"                        destination, connections, bytes each way, age\n"
"\n"
"both modes:\n"
"  --hold SECONDS        hold a client (unread) while its destination is down, retrying\n"
"                        every second, for up to SECONDS (default %u, 0-%u)\n"
"  --fin-timeout SECONDS once one side of a connection has closed its sending side\n"
"                        (FIN), close the connection when no byte has moved either\n"
"                        way for SECONDS (default %u, 1-%u); traffic the other way\n"
"                        keeps it open\n"
"  --max-conns N         refuse connections beyond N open ones (default %u)\n"
"  --pidfile FILE        write the process id to FILE; removed at exit\n"
"  -g, --foreground      stay in the foreground and log to stderr; otherwise detach\n"
"                        once listening (the first process exits 0) and log to syslog\n"
"  -d, --debug           more log detail; repeat for more\n"
"  -h, --help            this text\n"
"  -v, --version         the version\n"
"\n"
"Signals: SIGTERM/SIGINT close everything and exit 0; SIGUSR1 logs one stats line.\n"
"Never runs as root.\n"
"\n"
"Exit status: %d success; %d failure while running (bind, resolve, ...);\n"
"             %d bad command line or configuration file, or started as root.\n";


/* Start-up reporting: the --ready-fd (job mode) and the pipe a detaching
 * parent waits on.  -1 once used. */
static int ready_fd = -1, detach_fd = -1;
static char pidfile_path[PATH_MAX];

/* Reports a start-up failure on the ready pipe too, then exits. */
static void startup_fail(int code, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
static void startup_fail(int code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (ready_fd >= 0) {
		char line[sizeof msg + 8];
		size_t n = ctl_format_ready_error(line, sizeof line, msg);
		if (write(ready_fd, line, n) < 0)
			debug("ready pipe: %s", strerror(errno));
		close(ready_fd);
		ready_fd = -1;
	}
	fatal(code, "%s", msg);
}

/* ---- start-up helpers */

static char *read_config(const char *path, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat stt;
	if (fd < 0 || fstat(fd, &stt) < 0)
		fatal(EXIT_USAGE, "cannot read %s: %s", path, strerror(errno));
	if (!S_ISREG(stt.st_mode) || stt.st_size > CONFIG_MAX_BYTES)
		fatal(EXIT_USAGE, "%s: not a regular file of at most %d bytes", path, CONFIG_MAX_BYTES);
	char *text = malloc((size_t)stt.st_size + 1);
	size_t len = 0;
	ssize_t n;
	if (!text)
		fatal(EXIT_RUNTIME, "out of memory");
	while (len < (size_t)stt.st_size &&
	       ((n = read(fd, text + len, (size_t)stt.st_size - len)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	close(fd);
	text[len] = '\0';
	*lenp = len;
	return text;
}

/* An inherited descriptor given on the command line: must be open; moved
 * above stdio, which a detaching forwarder replaces with /dev/null. */
static int take_fd(int fd, const char *opt)
{
	if (fd < 0)
		return -1;
	if (fcntl(fd, F_GETFD) < 0)
		fatal(EXIT_USAGE, "%s %d: not an open file descriptor", opt, fd);
	if (fd > 2) {
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		return fd;
	}
	int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (high < 0)
		fatal(EXIT_RUNTIME, "%s %d: %s", opt, fd, strerror(errno));
	return high;
}

/* Closes every inherited descriptor above stdio but the two given ones: a
 * long-lived daemon must not keep its starter's pipes and sockets open. */
static void close_inherited(int keep1, int keep2)
{
	int lo = keep1 < keep2 ? keep1 : keep2, hi = keep1 < keep2 ? keep2 : keep1;
	int from = 3;
	int keep[2] = { lo, hi };
	for (int i = 0; i < 2; i++) {
		if (keep[i] < from)
			continue;
		if (keep[i] > from)
			close_range((unsigned)from, (unsigned)keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	close_range((unsigned)from, ~0U, 0);
}

/* Each connection takes two sockets and up to four pipe ends. */
static void raise_nofile(unsigned max_conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_conns * 6 + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		debug("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
}

/* Forks.  The parent waits until the child reports (one byte on the pipe)
 * and exits 0, or exits with the child's status when the child dies first.
 * The child returns in a new session with an empty signal mask. */
static void detach(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		startup_fail(EXIT_RUNTIME, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		startup_fail(EXIT_RUNTIME, "fork: %s", strerror(errno));
	if (pid > 0) {
		char c;
		ssize_t n;
		int st;
		close(p[1]);
		if (ready_fd >= 0)
			close(ready_fd);     /* the child reports there */
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1)
			_exit(EXIT_OK);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_RUNTIME);
	}
	close(p[0]);
	detach_fd = p[1];
	setsid();
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void remove_pidfile(void)
{
	if (pidfile_path[0])
		unlink(pidfile_path);
	pidfile_path[0] = '\0';
}

static void write_pidfile(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || dprintf(fd, "%ld\n", (long)getpid()) < 0 || close(fd) < 0)
		startup_fail(EXIT_RUNTIME, "--pidfile %s: %s", path, strerror(errno));
	/* an absolute path, so the removal works after chdir("/") */
	if (path[0] == '/' || !getcwd(pidfile_path, sizeof pidfile_path - 1) ||
	    strlen(pidfile_path) + 1 + strlen(path) >= sizeof pidfile_path)
		snprintf(pidfile_path, sizeof pidfile_path, "%s", path);
	else
		strcat(strcat(pidfile_path, "/"), path);
	atexit(remove_pidfile);
}

static void stdio_to_devnull(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static int run(const struct cmdline *a, struct setup *st, struct job *job)
{
	struct fwd *f;
	char err[256];
	int rc = fwd_new(&f, a, st, err, sizeof err);
	if (rc != 0)
		startup_fail(rc, "%s", err);
	if (a->pidfile)
		write_pidfile(a->pidfile);

	if (!a->foreground) {
		log_to_syslog();
		stdio_to_devnull();
		if (chdir("/") < 0)
			debug("chdir /: %s", strerror(errno));
	}
	/* job.c, binding to the Slurm job: it replaces the lifeline handling,
	 * allows the job's nodes and ends everything through the host's exit. */
	if (job) {
		struct job_host host;
		fwd_job_host(f, &host);
		if (job_start(job, &host, err, sizeof err) < 0)
			startup_fail(EXIT_RUNTIME, "%s", err);
	}
	for (size_t i = 0; i < st->nsocks; i++)
		info("listening on %s%s", st->socks[i].name,
		     a->mode == PVF_MODE_JOB ? "" : " (portfwd)");
	if (a->mode == PVF_MODE_JOB) {
		char to[HOSTPORT_HOST_MAX + 16];
		hostport_format(to, sizeof to, a->to.host, a->to.port);
		info("forwarding to %s%s%s, hold %u s, FIN timeout %u s, at most %u connections", to,
		     st->allow_any ? "" : ", allowed sources only",
		     a->slurm_job ? " (--slurm-job: the job's nodes are not known yet)" : "",
		     a->hold_s, a->fin_timeout_s, a->max_conns);
	}
	if (ready_fd >= 0) {
		char line[64];
		size_t n = ctl_format_ready(line, sizeof line, st->port, job_control_port(job));
		if (write(ready_fd, line, n) < 0)
			debug("ready pipe: %s", strerror(errno));
		close(ready_fd);
		ready_fd = -1;
	}
	if (detach_fd >= 0) {
		while (write(detach_fd, "", 1) < 0 && errno == EINTR)
			;
		close(detach_fd);
		detach_fd = -1;
	}

	rc = fwd_run(f);

	job_free(job);
	fwd_free(f);
	remove_pidfile();
	return rc;
}

int main(int argc, char **argv)
{
	struct cmdline a;
	struct setup st;
	struct job *job = NULL;     /* --slurm-job: job.c */
	char err[600];
	int rc;

	signal(SIGPIPE, SIG_IGN);   /* a peer gone mid-write is an EPIPE, not a death */
	log_init(PROGNAME, 0);
	if (cmdline_parse(argc, argv, &a, err, sizeof err) < 0)
		fatal(EXIT_USAGE, "%s (see --help)", err);
	if (a.mode == PVF_MODE_HELP) {
		printf(usage_text, FWD_HOLD_DEFAULT_S, FWD_HOLD_MAX_S, FWD_FIN_TIMEOUT_DEFAULT_S,
		       FWD_FIN_TIMEOUT_MAX_S, FWD_MAX_CONNS_DEFAULT,
		       EXIT_OK, EXIT_RUNTIME, EXIT_USAGE);
		return EXIT_OK;
	}
	if (a.mode == PVF_MODE_VERSION) {
		/* The plugin of the same build logs the same at load. */
		char rel[16];
		printf("%s %s (built for Slurm %s)\n", PROGNAME, PV_FORWARD_VERSION,
		       slurm_release(rel, sizeof rel));
		return EXIT_OK;
	}
	log_init(PROGNAME, a.debug);
	ready_fd = take_fd(a.ready_fd, "--ready-fd");
	a.lifeline_fd = take_fd(a.lifeline_fd, "--lifeline-fd");
	close_inherited(ready_fd, a.lifeline_fd);
	if (getuid() == 0 || geteuid() == 0)
		startup_fail(EXIT_USAGE, "refusing to run as root (uid %ld, euid %ld); run it as the user",
			     (long)getuid(), (long)geteuid());

	if (a.mode == PVF_MODE_LIST)
		return state_list(stdout);
	if (a.mode == PVF_MODE_PORTFWD) {
		struct fwd_config cfg;
		size_t len;
		char *text = read_config(a.config, &len);
		if (fwd_config_parse_buf(text, len, a.config, &cfg, err, sizeof err) < 0)
			fatal(EXIT_USAGE, "%s", err);
		free(text);
		rc = setup_portfwd(&st, &cfg, a.hold_s, a.fin_timeout_s, err, sizeof err);
		fwd_config_free(&cfg);
	} else {
		rc = setup_job(&st, &a, err, sizeof err);
		if (rc == 0)
			rc = job_prepare(&job, &a, st.port, err, sizeof err);
	}
	if (rc != 0)
		startup_fail(rc, "%s", err);
	raise_nofile(a.max_conns);

	if (!a.foreground)
		detach();
	rc = run(&a, &st, job);
	setup_free(&st);
	cmdline_free(&a);
	return rc;
}
