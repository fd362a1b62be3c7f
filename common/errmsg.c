/* errmsg.c - failure messages into the caller's buffer (see errmsg.h). */
#include "errmsg.h"

#include <stdio.h>

static void put(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
}

int errmsg(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int errmsg_rc(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}
