/* cmdline.h - pv-forwarder's command line (every mode), parsed into plain data (pure: no
 * I/O, no name resolution, no global state such as getopt's optind).
 *
 *   portfwd mode: -c/--config FILE [-g/--foreground] [-d/--debug]...
 *                 [--hold SECONDS] [--fin-timeout SECONDS] [--max-conns N]
 *                 [--pidfile FILE]
 *   job mode:     --job --to HOST:PORT|/SOCKET [--listen ADDR] [--ports LO-HI]
 *                 [--allow SRC[,SRC...]] [--slurm-job [--job-id ID]]
 *                 [--hold SECONDS] [--fin-timeout SECONDS] [--max-conns N] [--ready-fd FD]
 *                 [--lifeline-fd FD] [--foreground] [-d]... [--pidfile FILE]
 *                 [--starter srun|sbatch|salloc] [--control]   (with --slurm-job)
 *   list mode:    --list [-d]...   (the caller's forwarders)
 *   -h/--help, -v/--version (win over everything after them)
 *
 * Long options take their value as "--opt VALUE" or "--opt=VALUE"; short
 * ones as "-c FILE" or "-cFILE" and flags cluster ("-gdd").  Long names must
 * be spelt in full (no prefixes), single-valued options may not repeat,
 * --allow may.  "--" ends the options; no positional arguments exist. */
#ifndef PVF_CMDLINE_H
#define PVF_CMDLINE_H

#include <stddef.h>
#include <stdint.h>
#include "fwd_limits.h"
#include "hostport.h"

enum pvf_mode {
	PVF_MODE_NONE = 0,
	PVF_MODE_HELP,
	PVF_MODE_VERSION,
	PVF_MODE_PORTFWD,
	PVF_MODE_JOB,
	PVF_MODE_LIST,
};

/* --starter: which client started the forwarder (DESIGN.md, "A forwarder's job and lifetime"). */
enum pvf_starter {
	PVF_STARTER_NONE = 0,     /* not given: lifeline EOF ends the forwarder */
	PVF_STARTER_SRUN,
	PVF_STARTER_SBATCH,
	PVF_STARTER_SALLOC,
};

/* --hold, --fin-timeout, --max-conns: their defaults and limits are in
 * fwd_limits.h (the plugin checks the same). */
#define CMDLINE_DEFAULT_LISTEN     "0.0.0.0"

struct cmdline {
	enum pvf_mode mode;
	int debug;                /* how many -d */
	int foreground;           /* -g/--foreground */
	const char *config;       /* -c FILE (points into argv), portfwd mode */
	const char *pidfile;      /* --pidfile FILE (points into argv) or NULL */
	unsigned hold_s;          /* --hold, default FWD_HOLD_DEFAULT_S */
	unsigned fin_timeout_s;   /* --fin-timeout, 1.., default FWD_FIN_TIMEOUT_DEFAULT_S */
	unsigned max_conns;       /* --max-conns, default FWD_MAX_CONNS_DEFAULT */

	/* job mode only */
	struct hostport to;                       /* --to: host and port both set, or
						     host = a Unix socket's path, port 0 */
	char listen[HOSTPORT_HOST_MAX + 1];       /* --listen, IPv6 without brackets */
	uint16_t port_lo, port_hi;                /* --ports; 0,0 = an ephemeral port */
	char **allow;                             /* --allow entries (malloc'd), CIDR or name */
	size_t nallow;
	int ready_fd;                             /* -1 = none */
	int lifeline_fd;                          /* -1 = none */
	int slurm_job;                            /* --slurm-job */
	unsigned long job_id;                     /* --job-id, 0 = not given */
	enum pvf_starter starter;                 /* --starter */
	int control;                              /* --control: also a control port */
};

/* "srun", "sbatch", "salloc" or "" (none). */
const char *cmdline_starter_name(enum pvf_starter s);

/* Parses argv[1..argc-1].  0 on success (mode set, defaults filled in); -1
 * with a one-line reason in err ("unknown option '--foo'", "--to needs
 * HOST:PORT: ...").  On failure *out holds nothing to free. */
int cmdline_parse(int argc, char *const argv[], struct cmdline *out,
		  char *err, size_t errlen);
void cmdline_free(struct cmdline *a);

#endif
