/* jobrules.h - the decisions a forwarder makes about Slurm jobs (DESIGN.md,
 * "A forwarder's job and lifetime"), as pure functions: no I/O, no clock, no
 * libslurm calls (slurm.h only for its state constants).  slurmjob.c turns
 * libslurm's job_info_t into struct jobrec; lifetime.c acts on the answers.
 *
 *   jobrules_phase()         what a job_state means: waiting for nodes,
 *                            active (its nodes may connect), finished
 *   jobrules_bye_stays()     BYE: stay because the job was requeued?
 *   jobrules_is_candidate()  sbatch, unbound: could this be our job?
 *   jobrules_check_owner()   HELLO: may this forwarder bind to the job?
 *   jobrules_by_order()      sbatch, unbound: which candidate is ours, from
 *                            the order the session's sbatch ran in? */
#ifndef PVF_JOBRULES_H
#define PVF_JOBRULES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define JOBREC_HOST_MAX 64

enum job_phase {
	JOB_PHASE_WAITING = 0,   /* pending, held or requeued: no nodes */
	JOB_PHASE_ACTIVE,        /* running or suspended: its nodes may connect */
	JOB_PHASE_FINISHED,      /* ended in any way (still completing included) */
};

/* The part of a job record the rules look at. */
struct jobrec {
	uint32_t job_id;
	uint32_t het_job_id;     /* the het job's leader, 0 when not a het job */
	uint32_t array_job_id;   /* 0 when not an array */
	uint32_t user_id;
	uint32_t job_state;      /* base state | flags, as in slurm.h */
	time_t submit_time;
	char alloc_node[JOBREC_HOST_MAX];   /* where it was submitted ("" unknown) */
	uint32_t alloc_sid;      /* the submitting process's session, 0 unknown */
};

/* job_state (slurm.h: JOB_PENDING... | JOB_REQUEUE...) as a phase.  Pending,
 * and any state with a requeue flag, is waiting; running and suspended are
 * active; every other base state is finished. */
enum job_phase jobrules_phase(uint32_t job_state);
/* "waiting", "active", "finished". */
const char *jobrules_phase_name(enum job_phase p);
/* "PENDING", "RUNNING", "COMPLETED", ... with "+REQUEUE" and "+COMPLETING"
 * when those flags are set; "UNKNOWN(n)" for a base state this build does
 * not know.  Writes into buf and returns it. */
const char *jobrules_state_name(uint32_t job_state, char *buf, size_t len);

/* BYE (the batch script ended): 1 when the forwarder stays because the job
 * was requeued (it is pending again, or carries a requeue flag), 0 when the
 * job is ending. */
int jobrules_bye_stays(uint32_t job_state);

/* The id a forwarder binds to: the het job's leader, else the job itself. */
uint32_t jobrules_binding_id(const struct jobrec *j);
/* 1 when j is (a component of) the job bound_id. */
int jobrules_belongs(const struct jobrec *j, uint32_t bound_id);
/* The phase of the job bound_id from its records (a het job has one per
 * component): active when any component is, else waiting when any is,
 * else finished.  *found = how many records belong to it (0: the answer
 * is JOB_PHASE_FINISHED and means "not in the answer"). */
enum job_phase jobrules_phase_of(const struct jobrec *recs, size_t n, uint32_t bound_id,
				 size_t *found);

/* HELLO/BYE for job j: NULL when a forwarder of uid may bind to it, else
 * the reason ("job 12 belongs to another user", "job 12 has ended"). */
const char *jobrules_check_owner(const struct jobrec *j, uint32_t uid, char *buf, size_t len);

/* 1 when a and b name the same host: equal up to their first '.', ignoring
 * case; address literals must be equal as a whole.  Empty names match
 * nothing. */
int jobrules_same_host(const char *a, const char *b);

/* What an unbound sbatch forwarder accepts as a candidate for its job.
 * slurmctld sets alloc_node to the name its reverse lookup gives for the
 * address in the submitter's munge credential (the test bed gets
 * "localhost"), so hosts holds every name this host may go by; sbatch sets
 * alloc_sid to its session, which the forwarder knows from its parent. */
struct cand_rules {
	uint32_t uid;                /* the user's own jobs only */
	const char (*hosts)[JOBREC_HOST_MAX];   /* this host's names */
	size_t nhosts;
	uint32_t sid;                /* sbatch's session; 0 unknown */
	time_t not_before;           /* submit_time >= this (forwarder start - 1 s) */
	time_t not_after;            /* and <= this (sbatch gone + 1 s); 0: no limit */
	const uint32_t *claimed;     /* jobs other live forwarders are bound to */
	size_t nclaimed;
};

/* 1 when j could be the job this forwarder was started for: the user's, not
 * finished, submitted inside the time window from sbatch's session (when
 * both sides know it) and from this host (alloc_node is one of hosts, or
 * the sessions matched), and neither it nor its het leader is claimed. */
int jobrules_is_candidate(const struct jobrec *j, const struct cand_rules *r);
/* How many distinct jobs (a het job counts once) among recs are candidates;
 * *first gets the binding id of the first one (when non-NULL). */
size_t jobrules_count_candidates(const struct jobrec *recs, size_t n,
				 const struct cand_rules *r, uint32_t *first);

/* One unbound forwarder's submission window, from the state files: its
 * sbatch submitted the job after from_ns (the forwarder held the session's
 * submit lock from then) and before to_ns (sbatch exited: the lifeline's
 * EOF).  Nanoseconds since the epoch, this host's clock; to_ns 0 while
 * sbatch still runs. */
struct submit_window {
	long pid;
	uint32_t sid;            /* sbatch's session, 0 unknown */
	int by_sbatch;           /* started by sbatch (not srun/salloc) */
	int64_t from_ns, to_ns;
};

enum order_answer {
	ORDER_BOUND = 0,         /* *job is ours */
	ORDER_WAIT,              /* a sibling's sbatch still runs, or fewer candidates
				    than windows (a sibling about to claim its job):
				    ask again soon */
	ORDER_UNKNOWN,           /* cannot tell: wait for the job's HELLO */
};

/* Which candidate job is self's, when a session's sbatch ran one after the
 * other: slurmctld numbers jobs in the order it accepts them, so the k-th
 * window (by time) submitted the k-th candidate (by job id) -- provided the
 * windows do not overlap, every sibling's sbatch has exited, there are as
 * many candidates as windows (no job from a plain sbatch, no failed
 * submission) and each candidate's submit_time lies in its window (+-1 s,
 * slurmctld keeps seconds).  others: the other unbound forwarders of this
 * user on this host (any session; only self's counts).  r: as for
 * jobrules_is_candidate; its time window is widened to the group's.  *why
 * gets a short reason for ORDER_WAIT/ORDER_UNKNOWN (static text). */
enum order_answer jobrules_by_order(const struct submit_window *self,
				    const struct submit_window *others, size_t nothers,
				    const struct jobrec *recs, size_t nrecs,
				    const struct cand_rules *r, uint32_t *job, const char **why);

#endif
