/* errmsg.h - how a parser or a set-up step reports why it failed: a
 * one-line message into the caller's buffer (err, errlen; nothing written
 * when err is NULL or errlen 0, cut to fit otherwise) and a return code, so
 * that "return errmsg(err, errlen, "...", ...);" is the whole failure path.
 * Pure. */
#ifndef PVF_ERRMSG_H
#define PVF_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>

/* Returns -1. */
int errmsg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Returns rc (an exit code, say). */
int errmsg_rc(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
