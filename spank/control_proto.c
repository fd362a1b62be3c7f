/* control_proto.c - plugin <-> forwarder lines (see control_proto.h). */
#include "control_proto.h"
#include "numparse.h"
#include "quote.h"

#include <stdio.h>
#include <string.h>

const char *control_verb_name(enum control_verb v)
{
	return v == CONTROL_BYE ? "BYE" : "HELLO";
}

int control_token_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')) ||
		    n >= CONTROL_TOKEN_LEN)
			return 0;
	return n == CONTROL_TOKEN_LEN;
}

void control_token_hex(const unsigned char raw[CONTROL_TOKEN_BYTES], char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < CONTROL_TOKEN_BYTES; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 0x0f];
	}
	out[CONTROL_TOKEN_LEN] = '\0';
}

int control_format(char *buf, size_t len, enum control_verb v,
		   uint32_t job_id, const char *token)
{
	int n;

	if (len > 0)
		buf[0] = '\0';
	if (job_id == 0 || !control_token_valid(token) ||
	    (v != CONTROL_HELLO && v != CONTROL_BYE))
		return -1;
	n = snprintf(buf, len, "%s %u %s\n", control_verb_name(v), job_id, token);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
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

enum control_reply control_parse_reply(const char *line, char *reason,
				       size_t reasonlen)
{
	size_t n;

	if (reason && reasonlen)
		reason[0] = '\0';
	if (line == NULL || (n = line_len(line)) == 0) {
		set_text(reason, reasonlen, "an empty reply");
		return CONTROL_REPLY_BAD;
	}
	if ((n == 2 && strncmp(line, "OK", 2) == 0) ||
	    (n > 2 && strncmp(line, "OK ", 3) == 0))
		return CONTROL_REPLY_OK;
	if (n == 3 && strncmp(line, "ERR", 3) == 0) {
		set_text(reason, reasonlen, "no reason given");
		return CONTROL_REPLY_ERR;
	}
	if (n > 3 && strncmp(line, "ERR ", 4) == 0) {
		size_t skip = 4;
		while (skip < n && line[skip] == ' ')
			skip++;
		if (skip == n)
			set_text(reason, reasonlen, "no reason given");
		else
			printable(line + skip, n - skip, reason, reasonlen);
		return CONTROL_REPLY_ERR;
	}
	printable(line, n, reason, reasonlen);
	return CONTROL_REPLY_BAD;
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

enum ready_kind ready_parse(const char *buf, uint16_t *port, uint16_t *control,
			    char *msg, size_t msglen)
{
	char key[32], val[32];
	size_t n, pos;
	int have_control = 0;

	if (msg && msglen)
		msg[0] = '\0';
	if (buf == NULL)
		return READY_BAD;
	n = line_len(buf);
	if (n >= 6 && strncmp(buf, "ERROR ", 6) == 0) {
		printable(buf + 6, n - 6, msg, msglen);
		return READY_ERROR;
	}
	printable(buf, n, msg, msglen);

	/* PORT <n> [CONTROL <m>], then KEY VALUE pairs a later forwarder may
	 * add (ignored: this plugin does not need them). */
	pos = 0;
	if (next_word(buf, n, &pos, key, sizeof(key)) < 0 || strcmp(key, "PORT") != 0 ||
	    next_word(buf, n, &pos, val, sizeof(val)) < 0 || parse_port(val, port) < 0)
		return READY_BAD;
	*control = 0;
	while (pos < n) {
		if (next_word(buf, n, &pos, key, sizeof(key)) < 0 ||
		    next_word(buf, n, &pos, val, sizeof(val)) < 0)
			return READY_BAD;
		if (strcmp(key, "CONTROL") == 0) {
			if (have_control++ || parse_port(val, control) < 0)
				return READY_BAD;
		}
	}
	if (msg && msglen)
		msg[0] = '\0';
	return READY_PORT;
}

const char *control_starter(int allocator_ctx, const char *progname)
{
	if (!allocator_ctx)
		return "srun";
	if (progname && strcmp(progname, "salloc") == 0)
		return "salloc";
	return "sbatch";
}
