/* site_args.h - the plugin's arguments from plugstack.conf (pure).
 *
 *   required|optional /path/pv_forward.so [key=value]...
 *
 *   forwarder=PATH      the pv-forwarder program (absolute; default PV_FORWARDER_PATH)
 *   exec=PATH           the pv-forward-exec helper on compute nodes (absolute;
 *                       default PV_EXEC_HELPER_PATH)
 *   advertise=HOST      the login node's address as compute nodes must use it
 *                       (default: the submit host's name)
 *   bind=ADDR           the address the forwarder listens on (default: the
 *                       advertised address)
 *   ports=LO-HI         listening port range (default: an ephemeral port)
 *   allow=CIDR|HOST[,...]  destinations users may forward to (default: any);
 *                       may be given more than once
 *   hold=SECONDS        how long a connection waits for the desktop (default 60)
 *   fin_timeout=SECONDS close a half-closed connection idle this long (default 60)
 *   max_conns=N         concurrent connections per job (default 4: ParaView opens one,
 *                       two in split data/render mode)
 *
 * Values are checked here; nothing is resolved.  Later keys override earlier
 * ones except allow=, which accumulates. */
#ifndef PVF_SITE_ARGS_H
#define PVF_SITE_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include "fwd_limits.h"
#include "hostport.h"
#include "netaddr.h"

#pragma GCC visibility push(hidden)

#ifndef PV_FORWARDER_PATH
#define PV_FORWARDER_PATH "/usr/local/bin/pv-forwarder"
#endif
#ifndef PV_EXEC_HELPER_PATH
#define PV_EXEC_HELPER_PATH "/usr/local/libexec/pv-forward/pv-forward-exec"
#endif

#define SITE_PATH_MAX     1024
#define SITE_ALLOW_MAX    64
/* small: a job's pvserver opens one connection, two in split mode (the
 * other limits and defaults are the forwarder's: fwd_limits.h) */
#define SITE_DEFAULT_MAX_CONNS 4

struct site_allow {
	int is_cidr;                        /* 1: cidr is set; 0: host is set */
	struct cidr cidr;
	char host[HOSTPORT_HOST_MAX + 1];
};

struct site_args {
	char forwarder[SITE_PATH_MAX];
	char exec_helper[SITE_PATH_MAX];
	char advertise[HOSTPORT_HOST_MAX + 1];  /* "" = the submit host's name */
	char bind[HOSTPORT_HOST_MAX + 1];       /* "" = the advertised address */
	uint16_t port_lo, port_hi;              /* 0,0 = an ephemeral port */
	struct site_allow allow[SITE_ALLOW_MAX];
	size_t nallow;                          /* 0 = any destination */
	unsigned hold;                          /* seconds */
	unsigned fin_timeout;                   /* seconds */
	unsigned max_conns;                     /* per job; SITE_DEFAULT_MAX_CONNS */
	int nerrors;
	char error[512];                        /* the first problem, "" when none */
};

/* Fills in the defaults. */
void site_args_init(struct site_args *sa);

/* Parses av[0..ac-1] into sa (which site_args_init prepared).  Every valid
 * argument takes effect even when others are wrong.  0 when all were valid;
 * -1 otherwise, with sa->nerrors counting the bad ones and sa->error
 * describing the first, quoting its text ("unknown argument 'colour=red'
 * (known: ...)", "invalid hold= in 'hold=-1': ..."). */
int site_args_parse(struct site_args *sa, int ac, char *const av[]);

#pragma GCC visibility pop

#endif
