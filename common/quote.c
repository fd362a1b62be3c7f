/* quote.c - text from outside made fit for a message (see quote.h). */
#include "quote.h"

#include <stdio.h>

/* The escaped form of c into piece; its length. */
static size_t piece_of(unsigned char c, int quotes, char piece[5])
{
	if (c < 0x20 || c > 0x7e)
		return (size_t)snprintf(piece, 5, "\\x%02x", c);
	if (quotes && (c == '\\' || c == '\''))
		return piece[0] = '\\', piece[1] = (char)c, 2;
	piece[0] = (char)c;
	return 1;
}

static const char *escape(char *out, size_t outlen, const char *s, size_t n, size_t max,
			  int quotes)
{
	char piece[5];
	size_t end = 0, whole = 0;
	if (outlen == 0)
		return out;
	while (end < n && s[end])
		end++;
	for (size_t i = 0; i < end && i < max; i++)
		whole += piece_of((unsigned char)s[i], quotes, piece);
	/* All of it when it fits; else as much as fits before a "...", and
	 * never half an escape. */
	int cut = end > max || whole >= outlen;
	size_t room = cut ? (outlen > 3 ? outlen - 4 : 0) : outlen - 1, o = 0;
	for (size_t i = 0; i < end && i < max; i++) {
		size_t len = piece_of((unsigned char)s[i], quotes, piece);
		if (o + len > room)
			break;
		memcpy(out + o, piece, len);
		o += len;
	}
	if (cut && outlen > 3) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

const char *quote_text(char *out, size_t outlen, const char *s, size_t n, size_t max)
{
	return escape(out, outlen, s, n, max, 1);
}

const char *printable_text(char *out, size_t outlen, const char *s, size_t n)
{
	return escape(out, outlen, s, n, QUOTE_ALL, 0);
}
