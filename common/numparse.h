/* numparse.h - strict number parsing: the whole string, decimal digits only,
 * range checked.  No sign, no white space, no trailing junk, no hex/octal. */
#ifndef PVF_NUMPARSE_H
#define PVF_NUMPARSE_H

#include <stdint.h>

/* 0 and *out set when s is digits only and min <= value <= max; -1 otherwise. */
int parse_ulong(const char *s, unsigned long min, unsigned long max,
		unsigned long *out);
/* A TCP port: 1..65535. */
int parse_port(const char *s, uint16_t *out);
/* "LO-HI" with 1 <= LO <= HI <= 65535. */
int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi);

#endif
