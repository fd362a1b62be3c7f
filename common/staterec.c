/* staterec.c - the forwarder's state file as text (see staterec.h).  Pure. */
#include "staterec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"

size_t staterec_format(char *buf, size_t len, const struct staterec *s)
{
	int n = snprintf(buf, len,
			 "pid=%ld\njob=%" PRIu32 "\nstate=%s\nstarter=%s\nlisten=%s\ncontrol=%u\n"
			 "dest=%s\nconns=%u\nup=%" PRIu64 "\ndown=%" PRIu64 "\nstarted=%lld\nupdated=%lld\n"
			 "rpcs=%lu\nsid=%" PRIu32 "\nsubmit_from=%lld\nsubmit_to=%lld\n",
			 s->pid, s->job, s->state, s->starter, s->listen, s->control, s->dest,
			 s->conns, s->up, s->down, (long long)s->started, (long long)s->updated, s->rpcs,
			 s->sid, (long long)s->submit_from, (long long)s->submit_to);
	if (n < 0 || (size_t)n >= len) {
		if (len)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

static int num(const char *v, unsigned long max, unsigned long *out)
{
	return parse_ulong(v, 0, max, out);
}

static int num64(const char *v, uint64_t *out)
{
	char *end;
	if (!*v || *v < '0' || *v > '9')
		return -1;
	unsigned long long x = strtoull(v, &end, 10);
	if (*end)
		return -1;
	*out = x;
	return 0;
}

static void copy(char *dst, size_t len, const char *v)
{
	snprintf(dst, len, "%s", v);
}

int staterec_parse(const char *text, struct staterec *s)
{
	int have_pid = 0, have_started = 0;
	memset(s, 0, sizeof *s);
	while (*text) {
		char line[400];
		size_t n = strcspn(text, "\n");
		if (n < sizeof line) {
			memcpy(line, text, n);
			line[n] = '\0';
			char *eq = strchr(line, '=');
			if (eq) {
				unsigned long u;
				uint64_t u64;
				const char *k = line, *v = eq + 1;
				*eq = '\0';
				if (strcmp(k, "pid") == 0) {
					if (parse_ulong(v, 1, 4194304, &u) != 0)
						return -1;
					s->pid = (long)u;
					have_pid = 1;
				} else if (strcmp(k, "job") == 0) {
					if (num(v, 4294967295UL, &u) != 0)
						return -1;
					s->job = (uint32_t)u;
				} else if (strcmp(k, "state") == 0) {
					copy(s->state, sizeof s->state, v);
				} else if (strcmp(k, "starter") == 0) {
					copy(s->starter, sizeof s->starter, v);
				} else if (strcmp(k, "listen") == 0) {
					copy(s->listen, sizeof s->listen, v);
				} else if (strcmp(k, "control") == 0) {
					if (num(v, 65535, &u) != 0)
						return -1;
					s->control = (unsigned)u;
				} else if (strcmp(k, "dest") == 0) {
					copy(s->dest, sizeof s->dest, v);
				} else if (strcmp(k, "conns") == 0) {
					if (num(v, 4294967295UL, &u) != 0)
						return -1;
					s->conns = (unsigned)u;
				} else if (strcmp(k, "up") == 0 || strcmp(k, "down") == 0) {
					if (num64(v, &u64) != 0)
						return -1;
					*(k[0] == 'u' ? &s->up : &s->down) = u64;
				} else if (strcmp(k, "rpcs") == 0) {
					if (num64(v, &u64) != 0)
						return -1;
					s->rpcs = (unsigned long)u64;
				} else if (strcmp(k, "sid") == 0) {
					if (num(v, 4294967295UL, &u) != 0)
						return -1;
					s->sid = (uint32_t)u;
				} else if (strcmp(k, "submit_from") == 0 || strcmp(k, "submit_to") == 0) {
					if (num64(v, &u64) != 0 || u64 > INT64_MAX)
						return -1;
					*(k[7] == 'f' ? &s->submit_from : &s->submit_to) = (int64_t)u64;
				} else if (strcmp(k, "started") == 0 || strcmp(k, "updated") == 0) {
					if (num64(v, &u64) != 0)
						return -1;
					*(k[0] == 's' ? &s->started : &s->updated) = (time_t)u64;
					have_started |= k[0] == 's';
				}
			}
		}
		text += n;
		if (*text == '\n')
			text++;
	}
	return have_pid && have_started ? 0 : -1;
}

void staterec_age(char *buf, size_t len, long t)
{
	if (t < 0)
		t = 0;
	if (t < 60)
		snprintf(buf, len, "%lds", t);
	else if (t < 3600)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, t % 3600 / 60);
	else
		snprintf(buf, len, "%ldd%02ldh", t / 86400, t % 86400 / 3600);
}

#define LIST_FMT "%-10s %-8s %-22s %-24s %5s %14s %14s %7s %8s"

void staterec_list_header(char *buf, size_t len)
{
	snprintf(buf, len, LIST_FMT, "JOB", "STATE", "LISTEN", "DEST", "CONNS",
		 "TO_DEST", "TO_CLIENT", "AGE", "PID");
}

void staterec_list_line(char *buf, size_t len, const struct staterec *s, time_t now)
{
	char job[16], conns[16], up[24], down[24], age[16], pid[16];
	if (s->job)
		snprintf(job, sizeof job, "%" PRIu32, s->job);
	else
		snprintf(job, sizeof job, "-");
	snprintf(conns, sizeof conns, "%u", s->conns);
	snprintf(up, sizeof up, "%" PRIu64, s->up);
	snprintf(down, sizeof down, "%" PRIu64, s->down);
	staterec_age(age, sizeof age, (long)(now - s->started));
	snprintf(pid, sizeof pid, "%ld", s->pid);
	snprintf(buf, len, LIST_FMT, job, s->state[0] ? s->state : "?", s->listen,
		 s->dest, conns, up, down, age, pid);
}
