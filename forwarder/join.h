/* join.h - end a worker thread at exit without waiting on a stuck call.
 *
 * The workers (name resolution, slurmctld RPCs) may sit in a blocking call for
 * seconds; a forwarder whose job has ended must not wait for that (the job's
 * lifetime bounds are counted in seconds).  Join briefly, else detach and let
 * the process's exit end the thread. */
#ifndef PVF_JOIN_H
#define PVF_JOIN_H

#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#define WORKER_JOIN_MS 100

/* 0 when joined; -1 when the thread was detached instead. */
static inline int join_or_detach(pthread_t tid)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += WORKER_JOIN_MS * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(tid, NULL, &deadline) == 0)
		return 0;
	pthread_detach(tid);
	return -1;
}

#endif
