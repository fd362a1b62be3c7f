/* quote.h - text from outside (a user's option value, a file, a network
 * peer) as it may appear in a message or a log line: one line of printable
 * ASCII, so that no input can break a message into two, forge a log line or
 * send terminal escapes to whoever reads it.  Pure. */
#ifndef PVF_QUOTE_H
#define PVF_QUOTE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define QUOTE_ALL SIZE_MAX
/* Room for one value in a one-line message: about 120 characters shown. */
#define QUOTE_BUF 128

/* A value that will stand between single quotes: writes s[0..n) (up to a
 * NUL byte) into out with a byte outside ' '..'~' as \xNN and a backslash or
 * single quote with a backslash before it; after max bytes of s (QUOTE_ALL:
 * no limit), or where out is full, "..." ends it.  out always ends with a
 * NUL (outlen >= 5 leaves room for "...").  Returns out (a printf argument). */
const char *quote_text(char *out, size_t outlen, const char *s, size_t n, size_t max);

/* The same for a whole string (NULL shows as ""). */
static inline const char *quote_str(char *out, size_t outlen, const char *s)
{
	return quote_text(out, outlen, s ? s : "", s ? strlen(s) : 0, QUOTE_ALL);
}

/* A message or reason from elsewhere (a peer's reply, a child's error line),
 * shown as it is: like quote_text, but quotes and backslashes stay as they
 * are. */
const char *printable_text(char *out, size_t outlen, const char *s, size_t n);

#endif
