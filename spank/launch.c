/* launch.c - start pv-forwarder for a job (see launch.h). */
#define _GNU_SOURCE
#include "launch.h"
#include "clock.h"
#include "ctlproto.h"
#include "hostport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define READY_FD    3
#define LIFELINE_FD 4

/* Async-signal-safe helpers for the child between fork and exec. */
static size_t put(char *buf, size_t n, size_t cap, const char *s)
{
	while (*s && n + 1 < cap)
		buf[n++] = *s++;
	return n;
}

static size_t put_uint(char *buf, size_t n, size_t cap, unsigned long v)
{
	char tmp[24];
	int i = 0;
	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i > 0 && n + 1 < cap)
		buf[n++] = tmp[--i];
	return n;
}

static const char *errno_text(int e)
{
	switch (e) {
	case ENOENT: return "No such file or directory";
	case EACCES: return "Permission denied";
	case ENOEXEC: return "Exec format error";
	case ENOTDIR: return "Not a directory";
	case ENOMEM: return "Cannot allocate memory";
	case E2BIG: return "Argument list too long";
	case ELOOP: return "Too many levels of symbolic links";
	case ETXTBSY: return "Text file busy";
	default: return NULL;
	}
}

static void close_from(int lowfd, long maxfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	for (long fd = lowfd; fd < maxfd; fd++)
		close((int)fd);
}

__attribute__((noreturn))
static void child(int ready_w, int life_r, int devnull, const char *path,
		  char *const argv[], char *const envp[], long maxfd)
{
	char msg[600];
	size_t n = 0;
	sigset_t none;
	struct sigaction dfl;
	int r, l, d, e;

	/* srun/sbatch/salloc block SIGINT/TERM/HUP and may ignore others:
	 * the forwarder starts with a clean slate. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	setsid();

	/* Move the fds out of the way before stdio and 3/4 are taken. */
	r = fcntl(ready_w, F_DUPFD, 10);
	l = fcntl(life_r, F_DUPFD, 10);
	d = fcntl(devnull, F_DUPFD, 10);
	if (r < 0 || l < 0 || d < 0 ||
	    dup2(d, 0) < 0 || dup2(d, 1) < 0 || dup2(d, 2) < 0 ||
	    dup2(r, READY_FD) < 0 || dup2(l, LIFELINE_FD) < 0) {
		e = errno;
		n = put(msg, n, sizeof(msg), "ERROR cannot set up the forwarder's file descriptors: errno ");
		n = put_uint(msg, n, sizeof(msg), (unsigned long)e);
		n = put(msg, n, sizeof(msg), "\n");
		if (write(r >= 0 ? r : ready_w, msg, n) < 0)
			_exit(127);
		_exit(127);
	}
	close_from(LIFELINE_FD + 1, maxfd);

	execve(path, argv, envp);
	e = errno;
	n = put(msg, n, sizeof(msg), "ERROR cannot execute ");
	n = put(msg, n, sizeof(msg), path);
	n = put(msg, n, sizeof(msg), ": ");
	if (errno_text(e)) {
		n = put(msg, n, sizeof(msg), errno_text(e));
	} else {
		n = put(msg, n, sizeof(msg), "errno ");
		n = put_uint(msg, n, sizeof(msg), (unsigned long)e);
	}
	n = put(msg, n, sizeof(msg), "\n");
	if (write(READY_FD, msg, n) < 0)
		_exit(127);
	_exit(127);
}

/* Reaps the forwarder's first process, which exits once its detached child
 * listens.  Returns its wait status, or -1 when it is still running after
 * wait_ms (it is left alone) or cannot be waited for.  Waits on a pidfd
 * where the kernel has them (no sleep granularity on srun's start-up path),
 * else polls every millisecond. */
static int reap(pid_t pid, long wait_ms)
{
	long deadline = clock_mono_ms() + wait_ms;
	int status, pidfd = -1;

#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		long left = deadline - clock_mono_ms();
		if (left <= 0) {
			status = -1;
			break;
		}
		if (pidfd >= 0) {
			struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
			if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
				close(pidfd);
				pidfd = -1;
			}
		} else {
			struct timespec ts = { 0, 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return status;
}

/* 128 random bits as 32 lowercase hex digits. */
static int make_token(char *out, char *err, size_t errlen)
{
	unsigned char raw[CTL_TOKEN_BYTES];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t r = getrandom(raw + got, sizeof(raw) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "cannot make a token (getrandom: %s)",
				 r < 0 ? strerror(errno) : "no bytes");
			return -1;
		}
		got += (size_t)r;
	}
	ctl_token_hex(raw, out);
	memset(raw, 0, sizeof(raw));
	return 0;
}

/* The forwarder's environment: ours without any PV_FORWARD_TOKEN, plus
 * tokenvar.  Built before fork (the child may not allocate). */
static char **child_env(char *tokenvar)
{
	size_t n = 0, k = 0;
	char **envp;

	for (char **e = environ; e && *e; e++)
		n++;
	envp = malloc((n + 2) * sizeof(char *));
	if (envp == NULL)
		return NULL;
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, CTL_TOKEN_ENV "=", sizeof(CTL_TOKEN_ENV)) != 0)
			envp[k++] = *e;
	envp[k++] = tokenvar;
	envp[k] = NULL;
	return envp;
}

int launch_forwarder(const struct launch_params *p, struct launch_result *res,
		     char *err, size_t errlen)
{
	char to[HOSTPORT_HOST_MAX + 16], ports[16], hold[16], fin[16], maxc[16];
	char rfd[8], lfd[8];
	char tokenvar[sizeof(CTL_TOKEN_ENV) + CTL_TOKEN_LEN + 1];
	char *argv[32];
	char **envp = NULL;
	int ac = 0, ready[2] = { -1, -1 }, life[2] = { -1, -1 }, devnull = -1;
	long maxfd;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->lifeline_fd = -1;
	if (getuid() == 0 || geteuid() == 0) {
		snprintf(err, errlen, "refusing to run the forwarder as root");
		return -1;
	}
	if (make_token(res->token, err, errlen) < 0)
		return -1;
	snprintf(tokenvar, sizeof(tokenvar), "%s=%s", CTL_TOKEN_ENV, res->token);
	hostport_format(to, sizeof(to), p->to_host, p->to_port);
	snprintf(hold, sizeof(hold), "%u", p->hold);
	snprintf(rfd, sizeof(rfd), "%d", READY_FD);
	snprintf(lfd, sizeof(lfd), "%d", LIFELINE_FD);
	argv[ac++] = (char *)p->forwarder;
	argv[ac++] = (char *)"--job";
	argv[ac++] = (char *)"--slurm-job";
	if (p->starter) {
		argv[ac++] = (char *)"--starter";
		argv[ac++] = (char *)p->starter;
	}
	argv[ac++] = (char *)"--control";
	argv[ac++] = (char *)"--to";
	argv[ac++] = to;
	argv[ac++] = (char *)"--listen";
	argv[ac++] = (char *)p->listen;
	if (p->port_lo) {
		snprintf(ports, sizeof(ports), "%u-%u", p->port_lo, p->port_hi);
		argv[ac++] = (char *)"--ports";
		argv[ac++] = ports;
	}
	argv[ac++] = (char *)"--hold";
	argv[ac++] = hold;
	if (p->fin_timeout) {
		snprintf(fin, sizeof(fin), "%u", p->fin_timeout);
		argv[ac++] = (char *)"--fin-timeout";
		argv[ac++] = fin;
	}
	if (p->max_conns) {
		snprintf(maxc, sizeof(maxc), "%u", p->max_conns);
		argv[ac++] = (char *)"--max-conns";
		argv[ac++] = maxc;
	}
	argv[ac++] = (char *)"--ready-fd";
	argv[ac++] = rfd;
	argv[ac++] = (char *)"--lifeline-fd";
	argv[ac++] = lfd;
	argv[ac] = NULL;

	maxfd = sysconf(_SC_OPEN_MAX);
	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	if ((envp = child_env(tokenvar)) == NULL) {
		snprintf(err, errlen, "cannot allocate the forwarder's environment");
		goto fail;
	}
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(life, O_CLOEXEC) < 0 ||
	    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot create pipes: %s", strerror(errno));
		goto fail;
	}

	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child(ready[1], life[0], devnull, p->forwarder, argv, envp, maxfd);

	free(envp);
	envp = NULL;
	memset(tokenvar, 0, sizeof(tokenvar));
	close(ready[1]);
	ready[1] = -1;
	close(life[0]);
	life[0] = -1;
	close(devnull);
	devnull = -1;

	/* Read the ready pipe: "PORT n CONTROL m\n" or "ERROR msg\n", or its end. */
	char buf[1024];
	size_t got = 0;
	long deadline = clock_mono_ms() + LAUNCH_READY_TIMEOUT_MS;
	int timed_out = 0;
	for (;;) {
		long left = deadline - clock_mono_ms();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
		int rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			kill(pid, SIGTERM);
			reap(pid, 1000);
			goto fail;
		}
		if (rc == 0)
			continue;
		ssize_t r = read(ready[0], buf + got, sizeof(buf) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		/* One line is the whole report; do not depend on every
		 * forwarder process having closed its copy of the pipe. */
		if (got == sizeof(buf) - 1 || memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	close(ready[0]);
	ready[0] = -1;

	if (timed_out) {
		kill(pid, SIGTERM);
		reap(pid, 1000);
		snprintf(err, errlen, "%s did not report a listening port within %d s",
			 p->forwarder, LAUNCH_READY_TIMEOUT_MS / 1000);
		goto fail;
	}
	int status = reap(pid, 5000);

	char line[600];
	switch (ctl_parse_ready(buf, &res->port, &res->control, line, sizeof(line))) {
	case CTL_READY_PORT: {
		int fl = fcntl(life[1], F_GETFL);
		if (fl >= 0)
			fcntl(life[1], F_SETFL, fl | O_NONBLOCK);
		res->lifeline_fd = life[1];
		return 0;
	}
	case CTL_READY_ERROR:
		snprintf(err, errlen, "%s", line[0] ? line : "it reported an error without a message");
		goto fail;
	case CTL_READY_BAD:
		break;
	}
	if (got > 0) {
		line[200] = '\0';
		if (strncmp(buf, "PORT", 4) == 0)
			snprintf(err, errlen, "%s reported '%s', not 'PORT n CONTROL m'",
				 p->forwarder, line);
		else
			snprintf(err, errlen, "%s said '%s' instead of 'PORT n CONTROL m'",
				 p->forwarder, line);
	} else if (status >= 0 && WIFEXITED(status)) {
		snprintf(err, errlen, "%s exited with status %d without reporting a port",
			 p->forwarder, WEXITSTATUS(status));
	} else if (status >= 0 && WIFSIGNALED(status)) {
		snprintf(err, errlen, "%s was killed by signal %d before reporting a port",
			 p->forwarder, WTERMSIG(status));
	} else {
		snprintf(err, errlen, "%s closed its ready pipe without reporting a port",
			 p->forwarder);
	}
fail:
	{
		int fds[] = { ready[0], ready[1], life[0], life[1], devnull };
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	free(envp);
	memset(tokenvar, 0, sizeof(tokenvar));
	memset(res->token, 0, sizeof(res->token));
	return -1;
}

int launch_lifeline_gone(int fd)
{
	/* a pipe's write end polls POLLERR once no reader is left */
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

int launch_lifeline_write(int fd, const char *line)
{
	sigset_t pipe_set, old, pending;
	size_t len = strlen(line);
	ssize_t w;
	int saved, was_pending;

	if (fd < 0)
		return -1;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigemptyset(&pending);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	do
		w = write(fd, line, len);
	while (w < 0 && errno == EINTR);
	saved = errno;
	if (w < 0 && saved == EPIPE && !was_pending) {
		struct timespec zero = { 0, 0 };
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return w == (ssize_t)len ? 0 : -1;
}

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return 0;
}

void launch_default_bind(const char *host, char *out, size_t outlen)
{
	struct addrinfo hints, *res = NULL, *v6 = NULL, *pick = NULL;

	snprintf(out, outlen, "0.0.0.0");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (host == NULL || *host == '\0' || getaddrinfo(host, NULL, &hints, &res) != 0)
		return;
	/* A name the login node maps to itself through 127.0.1.1 (Debian's
	 * /etc/hosts) must not make the forwarder unreachable: loopback-only
	 * names bind every address instead. */
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (is_loopback(ai->ai_addr))
			continue;
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
		if (ai->ai_family == AF_INET6 && v6 == NULL)
			v6 = ai;
	}
	if (pick == NULL)
		pick = v6;
	if (pick) {
		char addr[INET6_ADDRSTRLEN];
		const void *a = pick->ai_family == AF_INET
			? (const void *)&((struct sockaddr_in *)pick->ai_addr)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr;
		if (inet_ntop(pick->ai_family, a, addr, sizeof(addr)))
			snprintf(out, outlen, "%s", addr);
	}
	freeaddrinfo(res);
}
