/* clock.h - the clocks the forwarder and the plugin read (header only). */
#ifndef PVF_CLOCK_H
#define PVF_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic seconds: for durations and timeouts. */
static inline double clock_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Monotonic milliseconds. */
static inline long clock_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wall-clock nanoseconds since the epoch: comparable between processes. */
static inline int64_t clock_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
