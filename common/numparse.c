/* numparse.c - strict decimal parsing (see numparse.h). */
#include "numparse.h"

#include <string.h>

int parse_ulong(const char *s, unsigned long min, unsigned long max,
		unsigned long *out)
{
	unsigned long v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		unsigned d = (unsigned)(*p - '0');
		if (d > max || v > (max - d) / 10) /* would exceed max; no overflow */
			return -1;
		v = v * 10 + d;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

int parse_port(const char *s, uint16_t *out)
{
	unsigned long v;
	if (parse_ulong(s, 1, 65535, &v) < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	const char *dash = s ? strchr(s, '-') : NULL;
	char first[8];
	uint16_t a, b;

	if (dash == NULL || (size_t)(dash - s) >= sizeof(first))
		return -1;
	memcpy(first, s, (size_t)(dash - s));
	first[dash - s] = '\0';
	if (parse_port(first, &a) < 0 || parse_port(dash + 1, &b) < 0 || a > b)
		return -1;
	*lo = a;
	*hi = b;
	return 0;
}
