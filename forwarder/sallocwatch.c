/* sallocwatch.c - salloc's activity (see sallocwatch.h). */
#include "sallocwatch.h"

#include <stdio.h>

int sallocwatch_read(pid_t pid, unsigned long long *out)
{
	char path[64], line[128];
	unsigned long long r = 0, w = 0;
	int have = 0;
	snprintf(path, sizeof path, "/proc/%ld/io", (long)pid);
	FILE *fp = fopen(path, "re");
	if (!fp)
		return -1;
	while (fgets(line, sizeof line, fp))
		have += sscanf(line, "syscr: %llu", &r) == 1 || sscanf(line, "syscw: %llu", &w) == 1;
	fclose(fp);
	if (have != 2)
		return -1;
	*out = r + w;
	return 0;
}

int sallocwatch_moved(struct sallocwatch *w, unsigned long long io, double now, int busy,
		      double min_gap_s)
{
	int ask = io != w->io && !busy && now - w->last_ask >= min_gap_s;
	if (ask)
		w->last_ask = now;
	w->io = io;
	return ask;
}
