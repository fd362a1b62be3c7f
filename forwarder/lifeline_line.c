/* lifeline_line.c - lifeline pipe lines (see lifeline_line.h).  Pure. */
#include "lifeline_line.h"

#include <string.h>

#include "numparse.h"

int lifeline_parse_line(const char *line, unsigned long *job_id)
{
	unsigned long id;
	if (strncmp(line, "JOB", 3) != 0 || (line[3] != ' ' && line[3] != '\0'))
		return 0;
	if (line[3] == '\0' || parse_ulong(line + 4, 1, 4294967295UL, &id) != 0)
		return -1;
	*job_id = id;
	return 1;
}
