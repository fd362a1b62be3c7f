/* ctld.h - what the job's lifetime (lifetime.c) asks slurmctld, as a narrow
 * table of functions: slurmjob.c fills it in the forwarder (libslurm, off
 * the event loop), the unit tests fill it with a fake slurmctld.  The
 * answer comes later through fn, in the loop, never inside the call;
 * answers come in the order the questions were asked. */
#ifndef PVF_CTLD_H
#define PVF_CTLD_H

#include <stddef.h>
#include <stdint.h>

#include "jobrules.h"
#include "netaddr.h"

enum sj_rc {
	SJ_OK = 0,
	SJ_UNKNOWN,    /* slurmctld does not know the job (never was, or purged) */
	SJ_ERROR,      /* the RPC failed (slurmctld down or restarting, ...) */
};

struct sj_answer {
	enum sj_rc rc;
	char error[200];           /* SJ_UNKNOWN / SJ_ERROR: slurm_strerror() */
	struct jobrec *recs;       /* SJ_OK */
	size_t nrecs;
	/* slurmjob_load() only: */
	uint32_t asked;            /* the id asked for */
	uint32_t bound;            /* its binding id (the het leader, else asked) */
	char *nodes;               /* the active records' node lists, joined with ','
				      (NULL when none) */
	int resolved;              /* 1: addrs holds nodes' addresses; 0: nodes equals
				      the prev_nodes given (not resolved again) or "" */
	struct cidr *addrs;        /* one /32 or /128 per address */
	size_t naddrs;
	char unresolved[256];      /* node names without an address, "" when none */
	/* slurmjob_load_user() only: the names this host may go by for
	 * alloc_node (gethostname, and the reverse lookups and literals of
	 * its interfaces' addresses; found once, at the first question) */
	char (*hosts)[JOBREC_HOST_MAX];
	size_t nhosts;
	unsigned rpcs;             /* slurmctld RPCs this answer took */
	uint64_t tag;              /* as given to slurmjob_load*() */
};

typedef void (*sj_fn)(const struct sj_answer *a, void *arg);

struct ctld {
	/* slurm_load_job(id) and its nodes' addresses; prev_nodes: the node
	 * list of the last answer (NULL for none), not resolved again.
	 * 0, or -1 (out of memory: no answer will come). */
	int (*load)(void *impl, uint32_t id, const char *prev_nodes, uint64_t tag,
		    sj_fn fn, void *arg);
	/* slurm_load_job_user(uid).  0 or -1 as load. */
	int (*load_user)(void *impl, uint32_t uid, uint64_t tag, sj_fn fn, void *arg);
	void *impl;
};

#endif
