/* sallocwatch.h - salloc, bound: slurmctld tells salloc (not the forwarder)
 * when the allocation ends (scancel, time limit), and salloc keeps running
 * its command; salloc is idle otherwise, so any system call it makes (its
 * /proc/PID/io counters move) is worth one look at the job.  Owned by
 * lifetime.c: sallocwatch_moved() decides on each reading that job.c's
 * timer takes with sallocwatch_read(). */
#ifndef PVF_SALLOCWATCH_H
#define PVF_SALLOCWATCH_H

#include <sys/types.h>

struct sallocwatch {
	unsigned long long io;     /* its syscr + syscw when last read */
	double last_ask;           /* monotonic time of the last look it caused */
};

/* syscr + syscw of /proc/PID/io into *out.  0, or -1 (gone, not readable). */
int sallocwatch_read(pid_t pid, unsigned long long *out);
/* A new reading io at monotonic time now: 1 when the job is to be asked
 * about (salloc moved, no question about it is open (busy 0), and the last
 * look it caused is min_gap_s old); remembers io. */
int sallocwatch_moved(struct sallocwatch *w, unsigned long long io, double now, int busy,
		      double min_gap_s);

#endif
