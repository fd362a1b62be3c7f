/* lifeline.h - the read end of the starter's lifeline pipe (DESIGN.md):
 * lines such as "JOB <id>\n" while the starter (srun/sbatch/salloc) lives,
 * EOF once it is gone, whether it exited or was killed. */
#ifndef PVF_LIFELINE_H
#define PVF_LIFELINE_H

struct event_base;
struct lifeline;

struct lifeline_ops {
	/* "JOB <id>" arrived (possibly more than once). */
	void (*on_job)(unsigned long job_id, void *arg);
	/* EOF or a read error: the starter is gone.  Called once; the lifeline
	 * stops watching the descriptor. */
	void (*on_eof)(void *arg);
	void *arg;
};

/* Watches fd (made non-blocking and close-on-exec; closed by lifeline_free).
 * NULL on failure. */
struct lifeline *lifeline_new(struct event_base *base, int fd, const struct lifeline_ops *ops);
void lifeline_free(struct lifeline *ll);
/* Replaces the callbacks. */
void lifeline_set_ops(struct lifeline *ll, const struct lifeline_ops *ops);
/* The last job id received, 0 when none. */
unsigned long lifeline_job_id(const struct lifeline *ll);

#endif
