/* binding.h - the job a forwarder is bound to, as slurmctld last described
 * it, and who may connect because of it; pure (no I/O but a log line).
 * Owned by lifetime.c, which decides when to bind and unbind:
 *   binding_set()     bind to a job id (phase waiting until an answer)
 *   binding_update()  take in an answer about it
 *   binding_clear()   forget it
 * The job's addresses may connect only while it is active and the binding
 * confirmed (binding_allowed). */
#ifndef PVF_BINDING_H
#define PVF_BINDING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ctld.h"
#include "jobrules.h"
#include "netaddr.h"

struct binding {
	uint32_t bound;            /* 0: not bound */
	uint32_t *ids;             /* the bound job's ids (a het job's components) */
	size_t nids;
	enum job_phase phase;
	char state_name[48];       /* its last job_state, "PENDING", ... ("" unknown) */
	uint32_t job_state;        /* and as slurm.h has it */
	char *nodes;               /* its last node list (NULL: none) */
	struct cidr *addrs;        /* their addresses */
	size_t naddrs;
	double loaded_at;          /* monotonic time of the last answer about it */
};

void binding_set(struct binding *b, uint32_t id);
void binding_clear(struct binding *b);
/* 1 when id is the bound job or one of its components. */
int binding_knows(const struct binding *b, uint32_t id);
/* Takes in an answer about the bound job (a->bound == b->bound, SJ_OK):
 * its ids, phase, state, nodes and addresses; now: monotonic seconds.
 * 1 when what a log line or the allow list shows has changed. */
int binding_update(struct binding *b, const struct sj_answer *a, double now);
/* Who may connect: the job's addresses while it is active, nobody
 * otherwise -- and nobody while the binding is only inferred: a wrong
 * guess must not open the desktop to another job's nodes.  The count;
 * *list is NULL for nobody. */
size_t binding_allowed(const struct binding *b, int inferred, const struct cidr **list);
/* A HELLO for job_id from peer may be answered OK at once, without asking
 * slurmctld: a step of the active, confirmed job, from one of its nodes or
 * while the nodes were loaded less than fresh_s ago. */
int binding_hello_at_once(const struct binding *b, int inferred, uint32_t job_id,
			  const struct sockaddr *peer, double now, double fresh_s);
/* "10.0.0.1, 10.0.0.2, ..." into buf. */
void binding_addrs_text(const struct binding *b, char *buf, size_t len);
void binding_free(struct binding *b);

#endif
