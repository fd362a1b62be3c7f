/* staterec.h - the "<pid>.state" file of a forwarder (DESIGN.md: state for
 * `pv-forwarder --list`) as text, and the --list line, pure.
 *
 *   pid=4242            job=1234 (0: not bound yet)
 *   state=running       waiting | running | draining
 *   starter=sbatch      srun | sbatch | salloc | "" (none)
 *   listen=10.0.0.1:40123   control=40124 (0: none)
 *   dest=desktop:11111
 *   conns=1  up=123 (bytes to the destination)  down=456 (to the clients)
 *   started=1700000000 (epoch seconds)  updated=1700000100
 *   rpcs=12 (slurmctld RPCs so far)
 *   sid=4100 (the starter's session, 0 unknown)
 *   submit_from=1700000000123456789 submit_to=... (sbatch: ns since the epoch
 *      between which it submitted the job; 0: not known / still running)
 * One key=value a line; unknown keys are ignored when read. */
#ifndef PVF_STATEREC_H
#define PVF_STATEREC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STATEREC_TEXT_MAX 1024

struct staterec {
	long pid;
	uint32_t job;
	char state[16];
	char starter[8];
	char listen[300];
	unsigned control;
	char dest[300];
	unsigned conns;
	uint64_t up, down;
	time_t started, updated;
	unsigned long rpcs;
	uint32_t sid;
	int64_t submit_from, submit_to;
};

/* The file's text into buf; its length, or 0 when it does not fit. */
size_t staterec_format(char *buf, size_t len, const struct staterec *s);
/* Fills *s from text (missing keys stay zero/empty).  0, or -1 when pid or
 * started is missing or a number is malformed. */
int staterec_parse(const char *text, struct staterec *s);

/* "5s", "4m07s", "3h02m", "2d05h" (negative ages count as 0). */
void staterec_age(char *buf, size_t len, long seconds);

/* The --list header and one line for s as it is at time now. */
void staterec_list_header(char *buf, size_t len);
void staterec_list_line(char *buf, size_t len, const struct staterec *s, time_t now);

#endif
