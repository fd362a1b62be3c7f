/* lifetime.h - a --slurm-job forwarder's lifetime as a state machine: which
 * job it is bound to, who may connect, and when it ends (DESIGN.md, "A
 * forwarder's job and lifetime" and "The lifetime in the code").
 *
 *   LIFE_UNBOUND  --bind_to------>  LIFE_BOUND     a job named by the lifeline,
 *                                                  --job-id, HELLO or BYE, and
 *                                                  slurmctld says it is the user's
 *   LIFE_UNBOUND  --bind_to------>  LIFE_INFERRED  sbatch: the order of submission
 *                                                  names it; nobody may connect
 *   LIFE_INFERRED --confirm------>  LIFE_BOUND     the job's own HELLO or BYE
 *   LIFE_INFERRED --unbind------->  LIFE_UNBOUND   a step names another job
 *   any           --end---------->  LIFE_ENDED     enum end_cause says why
 *
 * Events come in through the lifetime_* functions below (job.c calls them
 * from the lifeline, the control port and its timers); slurmctld is asked
 * through struct ctld, and everything the lifetime does to the world goes
 * through struct lifetime_io.  No I/O of its own but log lines, no clock of
 * its own: the unit tests drive it with a fake slurmctld and a fake clock.
 *
 * Timing:
 *   unbound   (sbatch, after EOF) every LIFE_POLL_UNBOUND_S the user's jobs;
 *             a named job whose check failed for want of slurmctld again
 *             every LIFE_RETRY_S
 *   bound     the job: finished or unknown -> end; waiting -> no node
 *             allowed; active -> its nodes.  srun: every LIFE_POLL_SRUN_S;
 *             sbatch, salloc: every LIFE_POLL_WAIT_S for LIFE_WAIT_FAST_S
 *             after binding (or a requeue), then every LIFE_POLL_BOUND_S;
 *             once the job runs and its step said HELLO, every
 *             LIFE_POLL_BOUND_S at once
 *   RPC errors logged once per streak and otherwise ignored, but BYE
 *             without slurmctld ends (nothing tells a requeue apart) */
#ifndef PVF_LIFETIME_H
#define PVF_LIFETIME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "ctlproto.h"
#include "ctld.h"
#include "endcause.h"
#include "cmdline.h"
#include "netaddr.h"

/* Each look at a job wakes the forwarder's two threads 7 to 13 times (the
 * RPC's connect, munge, the reply, the hand-over): an idle forwarder that
 * is to sleep (0.1 wake-ups per second at most) looks seldom, and learns
 * of its job's end from an event instead.
 *
 * Unbound (sbatch after its exit): the user's jobs every 30 s until it
 * binds, mostly at the first look. */
#define LIFE_POLL_UNBOUND_S   30
/* srun: the lifeline ends the forwarder when srun exits, and srun exits when
 * its job ends; the poll is a backstop. */
#define LIFE_POLL_SRUN_S      300
/* sbatch, salloc, the job running: its end comes by the batch step's BYE
 * and the epilog's END on every node; the poll is a backstop for a node
 * that died with the job. */
#define LIFE_POLL_BOUND_S     120
/* A job that has not run (yet), or runs without a HELLO: cancelled before
 * it ran, it has no epilog, and only a look tells.  Often at first (a job
 * cancelled right after submission is noticed within a minute), then at
 * LIFE_POLL_BOUND_S: nobody may connect meanwhile, so a late look only
 * keeps an idle process a little longer. */
#define LIFE_POLL_WAIT_S      30
#define LIFE_WAIT_FAST_S      300
/* Unbound, a job named by HELLO/BYE/the lifeline could not be checked
 * (slurmctld did not answer): asked again this often. */
#define LIFE_RETRY_S          5
/* A HELLO from an address not (yet) allowed asks slurmctld again, unless
 * the job's nodes were loaded less than this long ago. */
#define LIFE_HELLO_FRESH_S    10

enum life_state {
	LIFE_UNBOUND = 0,
	LIFE_INFERRED,           /* bound by the order of submission, not yet by the job */
	LIFE_BOUND,
	LIFE_ENDED,
};

const char *life_state_name(enum life_state s);

struct state_peers;

/* What the lifetime does to the world (job.c in the forwarder). */
struct lifetime_io {
	/* who may connect on the relay port: list (n), or nobody (NULL, 0) */
	void (*allow)(void *arg, const struct cidr *list, size_t n);
	/* answers control request ctl_id: OK (reason NULL) or ERR reason;
	 * 0, or -1 when its connection is gone */
	int (*reply)(void *arg, uint64_t ctl_id, const char *reason);
	/* what the state file shows changed: write it now */
	void (*changed)(void *arg);
	/* lifetime_poll() after seconds (replaces an earlier arming) */
	void (*arm_poll)(void *arg, int seconds);
	/* the user's other live forwarders; released with peers_free */
	void (*peers)(void *arg, struct state_peers *p);
	void (*peers_free)(void *arg, struct state_peers *p);
	/* sbatch: the session's next sbatch may submit now */
	void (*release_submit_lock)(void *arg);
	/* the forwarder ends: why is the log line's text */
	void (*ended)(void *arg, enum end_cause cause, const char *why);
	double (*now)(void *arg);        /* monotonic seconds */
	time_t (*wall)(void *arg);       /* time(NULL) */
	int64_t (*wall_ns)(void *arg);   /* ns since the epoch */
	/* an answer from slurmctld was taken in (the state file's RPC count
	 * moved); NULL: nothing to do */
	void (*answered)(void *arg);
	void *arg;
};

struct lifetime_cfg {
	enum pvf_starter starter;
	uint32_t uid;
	uint32_t sid;              /* the starter's session, 0 unknown */
	pid_t starter_pid;         /* the forwarder's parent at start */
	long pid;                  /* the forwarder's own */
	time_t started;            /* wall clock, for the candidate window */
};

struct lifetime;

/* NULL when out of memory.  ctld and io are copied. */
struct lifetime *lifetime_new(const struct lifetime_cfg *cfg, const struct ctld *ctld,
			      const struct lifetime_io *io);
void lifetime_free(struct lifetime *l);

/* ---- events, in any order */
/* sbatch got the submit lock at from_ns: its job is submitted after that. */
void lifetime_submit_opened(struct lifetime *l, int64_t from_ns);
/* --job-id at start. */
void lifetime_job_id(struct lifetime *l, uint32_t id);
/* "JOB <id>" on the lifeline. */
void lifetime_lifeline_job(struct lifetime *l, unsigned long id);
/* The lifeline's EOF: the starter is gone. */
void lifetime_lifeline_eof(struct lifetime *l);
/* A HELLO or BYE with the right token from peer. */
void lifetime_request(struct lifetime *l, uint64_t ctl_id, const struct ctl_req *req,
		      const struct sockaddr *peer, const char *peer_name);
/* The timer of io->arm_poll. */
void lifetime_poll(struct lifetime *l);

/* ---- what it is now */
enum life_state lifetime_state(const struct lifetime *l);
/* The job bound to (also inferred, or after the end), 0 when none. */
uint32_t lifetime_bound(const struct lifetime *l);
/* The bound job is active (running or suspended). */
int lifetime_active(const struct lifetime *l);
/* LIFE_ENDED: why. */
enum end_cause lifetime_end_cause(const struct lifetime *l);
/* sbatch's submission window, ns (0: not known / still open). */
void lifetime_submit_window(const struct lifetime *l, int64_t *from, int64_t *to);

#endif
