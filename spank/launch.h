/* launch.h - start pv-forwarder for a job from srun/sbatch/salloc.
 *
 * Runs (as the calling user, never root)
 *   FORWARDER --job --slurm-job --starter srun|sbatch|salloc --control
 *             --to HOST:PORT --listen ADDR [--ports LO-HI] --hold S
 *             [--max-conns N] --ready-fd 3 --lifeline-fd 4
 * with PV_FORWARD_TOKEN=<32 hex digits> added to its environment only (the
 * token is never on a command line: other users can read those), in a
 * child that execs at once with an empty signal mask, default signal
 * dispositions, its own session and stdio on /dev/null.  Reads the ready
 * pipe (`PORT n CONTROL m`, the older `PORT n`, or `ERROR msg`) and keeps
 * the write end of the lifeline pipe open, close-on-exec, in the calling
 * process. */
#ifndef PVF_LAUNCH_H
#define PVF_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"

#pragma GCC visibility push(hidden)

#define LAUNCH_READY_TIMEOUT_MS 30000

struct launch_params {
	const char *forwarder;  /* absolute path */
	const char *to_host;    /* destination host (IPv6 without brackets) */
	uint16_t to_port;
	const char *listen;     /* address to bind */
	uint16_t port_lo, port_hi;  /* 0,0: ephemeral */
	unsigned hold;
	unsigned fin_timeout;   /* 0: the forwarder's default */
	unsigned max_conns;     /* 0: the forwarder's default */
	const char *starter;    /* --starter value (starter_for()); NULL: none */
};

struct launch_result {
	uint16_t port;          /* the relay port */
	uint16_t control;       /* the control port; 0 when the forwarder
				   reported the older "PORT n" line */
	int lifeline_fd;        /* write end, close-on-exec, non-blocking */
	char token[CTL_TOKEN_LEN + 1];      /* what the forwarder got in
					       PV_FORWARD_TOKEN */
};

/* 0 with *r filled in; -1 with a one-line reason in err. */
int launch_forwarder(const struct launch_params *p, struct launch_result *r,
		     char *err, size_t errlen);

/* Writes one line ("JOB 123\n") to the lifeline without blocking and without
 * SIGPIPE.  0, or -1 (the forwarder is gone or not reading). */
int launch_lifeline_write(int fd, const char *line);
/* Whether the forwarder's end of the lifeline is closed (it has exited or
 * was killed): 1 yes, 0 no.  Does not block. */
int launch_lifeline_gone(int fd);

/* The address to bind when the site gave none: host's first non-loopback
 * address (IPv4 preferred), else "0.0.0.0". */
void launch_default_bind(const char *host, char *out, size_t outlen);

#pragma GCC visibility pop

#endif
