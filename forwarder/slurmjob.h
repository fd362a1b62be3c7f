/* slurmjob.h - what a forwarder asks slurmctld, through libslurm, off the
 * event loop: each question runs in one worker thread (a slurmctld that is
 * restarting or slow must not stall the bytes), its answer comes back into
 * the loop through a pipe.  Questions run one at a time, in order.
 *
 *   slurmjob_load()       slurm_load_job(id): the job's records (a het job's
 *                         leader gives every component; a component id is
 *                         followed to its leader), and when the job has
 *                         nodes: their names (slurm_hostlist_*) and
 *                         addresses (getaddrinfo; a name that does not
 *                         resolve is looked up once more as its NodeAddr,
 *                         slurm_load_node_single)
 *   slurmjob_load_user()  slurm_load_job_user(uid): the user's jobs
 *
 * The SLURM_CONF environment variable says where slurm.conf is. */
#ifndef PVF_SLURMJOB_H
#define PVF_SLURMJOB_H

#include <stddef.h>
#include <stdint.h>

#include "ctld.h"

struct event_base;
struct slurmjob;


/* slurm_init(): reads the configuration.  Once, before any thread exists
 * (and before detaching, so that a broken slurm.conf shows up at start). */
void slurmjob_init(void);
/* Starts the worker.  NULL with errno on failure. */
struct slurmjob *slurmjob_new(struct event_base *base);
/* Drops unanswered questions (their fn is not called) and ends the worker;
 * a worker stuck in an RPC for more than 100 ms (workq.c) is left to the process's
 * exit. */
void slurmjob_free(struct slurmjob *sj);
/* The job id.  prev_nodes: the node list of the last answer (NULL or ""
 * for none); the same list is not resolved again.  fn runs later in the
 * loop, never inside this call.  0, or -1 (out of memory). */
int slurmjob_load(struct slurmjob *sj, uint32_t id, const char *prev_nodes, uint64_t tag,
		  sj_fn fn, void *arg);
int slurmjob_load_user(struct slurmjob *sj, uint32_t uid, uint64_t tag, sj_fn fn, void *arg);
/* The table the lifetime asks through (ctld.h), served by sj. */
void slurmjob_ctld(struct slurmjob *sj, struct ctld *out);
/* Questions asked and not yet answered. */
unsigned slurmjob_busy(const struct slurmjob *sj);
/* RPCs sent to slurmctld so far. */
unsigned long slurmjob_rpcs(const struct slurmjob *sj);

#endif
