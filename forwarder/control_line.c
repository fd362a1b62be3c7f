/* control_line.c - control request lines (see control_line.h).  Pure. */
#include "control_line.h"

#include <stdio.h>
#include <string.h>

#include "numparse.h"
#include "quote.h"

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

const char *ctl_verb_name(enum ctl_verb v)
{
	return v == CTL_BYE ? "BYE" : "HELLO";
}

int ctl_parse(const char *line, size_t len, struct ctl_req *out, const char **why)
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
