/* ctlproto.c - plugin <-> forwarder lines (see ctlproto.h).  Pure. */
#include "ctlproto.h"

#include <stdio.h>
#include <string.h>

#include "numparse.h"
#include "quote.h"

const char *ctl_verb_name(enum ctl_verb v)
{
	switch (v) {
	case CTL_HELLO: return "HELLO";
	case CTL_BYE:   return "BYE";
	case CTL_END:   return "END";
	}
	return "?";
}

int ctl_token_valid(const char *s)
{
	size_t n;
	if (!s)
		return 0;
	for (n = 0; s[n]; n++)
		if (n >= CTL_TOKEN_LEN || !((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == CTL_TOKEN_LEN;
}

int ctl_token_equal(const char *a, const char *b)
{
	volatile unsigned char diff = 0;
	for (size_t i = 0; i < CTL_TOKEN_LEN; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

void ctl_token_hex(const unsigned char raw[CTL_TOKEN_BYTES], char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < CTL_TOKEN_BYTES; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 0x0f];
	}
	out[CTL_TOKEN_LEN] = '\0';
}

/* ---- requests */

int ctl_format_request(char *buf, size_t len, enum ctl_verb v, uint32_t job_id, const char *token)
{
	int n;
	if (len > 0)
		buf[0] = '\0';
	if (job_id == 0 || !ctl_token_valid(token) || (v != CTL_HELLO && v != CTL_BYE && v != CTL_END))
		return -1;
	n = snprintf(buf, len, "%s %u %s\n", ctl_verb_name(v), job_id, token);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return n;
}

int ctl_parse_request(const char *line, size_t len, struct ctl_req *out, const char **why)
{
	char id[16];
	const char *sp1, *sp2, *end;
	size_t vlen, idlen, toklen;
	unsigned long v;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	end = line + len;
	if (memchr(line, '\0', len)) {
		*why = "NUL byte in the request";
		return -1;
	}
	sp1 = memchr(line, ' ', len);
	if (!sp1) {
		*why = len ? "unknown request" : "empty request";
		return -1;
	}
	vlen = (size_t)(sp1 - line);
	if (vlen == 5 && memcmp(line, "HELLO", 5) == 0)
		out->verb = CTL_HELLO;
	else if (vlen == 3 && memcmp(line, "BYE", 3) == 0)
		out->verb = CTL_BYE;
	else if (vlen == 3 && memcmp(line, "END", 3) == 0)
		out->verb = CTL_END;
	else {
		*why = "unknown request";
		return -1;
	}
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	idlen = sp2 ? (size_t)(sp2 - sp1 - 1) : 0;
	if (!sp2 || idlen == 0 || idlen >= sizeof id) {
		*why = "bad job id";
		return -1;
	}
	memcpy(id, sp1 + 1, idlen);
	id[idlen] = '\0';
	if (parse_ulong(id, 1, 4294967295UL, &v) != 0) {
		*why = "bad job id";
		return -1;
	}
	toklen = (size_t)(end - sp2 - 1);
	if (toklen != CTL_TOKEN_LEN) {
		*why = "malformed token";
		return -1;
	}
	memcpy(out->token, sp2 + 1, CTL_TOKEN_LEN);
	out->token[CTL_TOKEN_LEN] = '\0';
	if (!ctl_token_valid(out->token)) {
		memset(out->token, 0, sizeof out->token);
		*why = "malformed token";
		return -1;
	}
	out->job_id = (uint32_t)v;
	return 0;
}

/* ---- replies */

size_t ctl_format_reply(char *buf, size_t len, const char *reason)
{
	size_t n = 0;
	if (!len)
		return 0;
	if (!reason) {
		snprintf(buf, len, "OK\n");
		return strlen(buf);
	}
	if (len < 6) {                     /* "ERR x\n" does not fit: plain "ERR" */
		snprintf(buf, len, "%s", len >= 5 ? "ERR\n" : "");
		return strlen(buf);
	}
	memcpy(buf, "ERR ", 4);
	printable_text(buf + 4, len - 5, reason, strlen(reason));   /* room for "\n" */
	n = 4 + strlen(buf + 4);
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

/* Copies at most n bytes of s (up to its end) into out, printable
 * (quote.h); out may be NULL. */
static void printable(const char *s, size_t n, char *out, size_t outlen)
{
	if (out != NULL)
		printable_text(out, outlen, s, n);
}

static void set_text(char *out, size_t outlen, const char *s)
{
	printable(s, strlen(s), out, outlen);
}

/* The length of the first line of s without "\n" and a "\r" before it. */
static size_t line_len(const char *s)
{
	size_t n = strcspn(s, "\n");
	if (n > 0 && s[n - 1] == '\r')
		n--;
	return n;
}

enum ctl_reply ctl_parse_reply(const char *line, char *reason, size_t reasonlen)
{
	size_t n;

	if (reason && reasonlen)
		reason[0] = '\0';
	if (line == NULL || (n = line_len(line)) == 0) {
		set_text(reason, reasonlen, "an empty reply");
		return CTL_REPLY_BAD;
	}
	if ((n == 2 && strncmp(line, "OK", 2) == 0) ||
	    (n > 2 && strncmp(line, "OK ", 3) == 0))
		return CTL_REPLY_OK;
	if (n == 3 && strncmp(line, "ERR", 3) == 0) {
		set_text(reason, reasonlen, "no reason given");
		return CTL_REPLY_ERR;
	}
	if (n > 3 && strncmp(line, "ERR ", 4) == 0) {
		size_t skip = 4;
		while (skip < n && line[skip] == ' ')
			skip++;
		if (skip == n)
			set_text(reason, reasonlen, "no reason given");
		else
			printable(line + skip, n - skip, reason, reasonlen);
		return CTL_REPLY_ERR;
	}
	printable(line, n, reason, reasonlen);
	return CTL_REPLY_BAD;
}

/* ---- the ready pipe */

size_t ctl_format_ready(char *buf, size_t len, unsigned port, unsigned control)
{
	int n = control ? snprintf(buf, len, "PORT %u CONTROL %u\n", port, control)
			: snprintf(buf, len, "PORT %u\n", port);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

size_t ctl_format_ready_error(char *buf, size_t len, const char *msg)
{
	if (len < 8) {                     /* "ERROR x\n" does not fit */
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	snprintf(buf, len - 1, "ERROR %s", msg);   /* room for "\n" */
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	size_t n = strlen(buf);
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

/* Next space-separated word of line[*pos..n) into w; 0 or -1 (none, or
 * longer than wlen - 1).  Exactly one space between words. */
static int next_word(const char *line, size_t n, size_t *pos, char *w, size_t wlen)
{
	size_t start = *pos, l;

	if (start >= n)
		return -1;
	l = 0;
	while (start + l < n && line[start + l] != ' ')
		l++;
	if (l == 0 || l >= wlen)
		return -1;
	memcpy(w, line + start, l);
	w[l] = '\0';
	*pos = start + l;
	if (*pos < n) {
		(*pos)++;          /* the separating space */
		if (*pos == n)     /* a trailing space */
			return -1;
	}
	return 0;
}

enum ctl_ready ctl_parse_ready(const char *buf, uint16_t *port, uint16_t *control,
			       char *msg, size_t msglen)
{
	char key[32], val[32];
	size_t n, pos;
	int have_control = 0;

	if (msg && msglen)
		msg[0] = '\0';
	if (buf == NULL)
		return CTL_READY_BAD;
	n = line_len(buf);
	if (n >= 6 && strncmp(buf, "ERROR ", 6) == 0) {
		printable(buf + 6, n - 6, msg, msglen);
		return CTL_READY_ERROR;
	}
	printable(buf, n, msg, msglen);

	/* PORT <n> [CONTROL <m>], then KEY VALUE pairs a later forwarder may
	 * add (ignored: this plugin does not need them). */
	pos = 0;
	if (next_word(buf, n, &pos, key, sizeof(key)) < 0 || strcmp(key, "PORT") != 0 ||
	    next_word(buf, n, &pos, val, sizeof(val)) < 0 || parse_port(val, port) < 0)
		return CTL_READY_BAD;
	*control = 0;
	while (pos < n) {
		if (next_word(buf, n, &pos, key, sizeof(key)) < 0 ||
		    next_word(buf, n, &pos, val, sizeof(val)) < 0)
			return CTL_READY_BAD;
		if (strcmp(key, "CONTROL") == 0) {
			if (have_control++ || parse_port(val, control) < 0)
				return CTL_READY_BAD;
		}
	}
	if (msg && msglen)
		msg[0] = '\0';
	return CTL_READY_PORT;
}
