/* setup.h - turns the command line (job mode) or the configuration (portfwd
 * mode) into services and bound, listening sockets, resolving every name
 * that is resolved once at start (allowed sources, listen-on, from, source-
 * address).  Runs before the event loop exists (and before detaching), so
 * every start-up error reaches the user's terminal and the ready pipe. */
#ifndef PVF_SETUP_H
#define PVF_SETUP_H

#include <stddef.h>

#include "config.h"
#include "cmdline.h"
#include "listener.h"
#include "netaddr.h"
#include "service.h"

struct bound_sock {
	int fd;                    /* listening, non-blocking, close-on-exec */
	struct service *svc;
	char name[72];             /* "0.0.0.0:11111" */
};

struct setup {
	struct service_list svcs;  /* owned until setup_install() */
	struct bound_sock *socks;
	size_t nsocks;
	int allow_any;             /* no source restriction */
	struct cidr *allow;        /* job mode: --allow, resolved */
	size_t nallow;
	unsigned port;             /* job mode: the port bound */
};

/* 0, or an exit code (EXIT_RUNTIME, ...) with the reason in err. */
int setup_portfwd(struct setup *st, const struct fwd_config *cfg, unsigned hold_s,
		  unsigned fin_timeout_s, char *err, size_t errlen);
int setup_job(struct setup *st, const struct cmdline *a, char *err, size_t errlen);
/* Hands services, sockets and allowed sources to l (st keeps nothing).
 * 0, or -1 with the reason in err. */
int setup_install(struct setup *st, struct listener *l, char *err, size_t errlen);
void setup_free(struct setup *st);

#endif
