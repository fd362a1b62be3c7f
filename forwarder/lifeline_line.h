/* lifeline_line.h - the lines a starter writes into the lifeline pipe
 * (lifeline.h reads them): "JOB <id>" once the starter knows its job.
 * Pure. */
#ifndef PVF_LIFELINE_LINE_H
#define PVF_LIFELINE_LINE_H

/* One line read from the lifeline pipe, without its '\n'.  Returns 1 and sets
 * *job_id for "JOB <id>"; 0 for an empty line or a keyword this version does
 * not know (ignored, so the starter may say more later); -1 for a malformed
 * JOB line. */
int lifeline_parse_line(const char *line, unsigned long *job_id);

#endif
