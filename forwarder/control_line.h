/* control_line.h - the forwarder's side of the control protocol (DESIGN.md;
 * the plugin's side is spank/control_proto.c), pure:
 *   request  "HELLO <jobid> <token>\n" or "BYE <jobid> <token>\n"
 *   reply    "OK\n" or "ERR <reason>\n"
 *   token    32 lowercase hex digits, from PV_FORWARD_TOKEN */
#ifndef PVF_CONTROL_LINE_H
#define PVF_CONTROL_LINE_H

#include <stddef.h>
#include <stdint.h>

#define CTL_TOKEN_LEN 32
/* The longest request line accepted, "\n" included ("BYE"/"HELLO", a
 * 10-digit job id and the token take 49). */
#define CTL_LINE_MAX  64

enum ctl_verb { CTL_HELLO, CTL_BYE };

struct ctl_req {
	enum ctl_verb verb;
	uint32_t job_id;               /* 1..4294967295 */
	char token[CTL_TOKEN_LEN + 1];
};

/* 1 when s is exactly CTL_TOKEN_LEN lowercase hex digits. */
int ctl_token_valid(const char *s);
/* 1 when a and b (both CTL_TOKEN_LEN characters) are equal, in time that
 * does not depend on where they differ. */
int ctl_token_equal(const char *a, const char *b);

/* One request line of len bytes (without its "\n"; a "\r" before it is
 * dropped here).  0 with *out filled in; -1 with *why set to a short
 * reason ("unknown request", "bad job id", "malformed token").  Words are
 * separated by exactly one space; nothing may follow the token. */
int ctl_parse(const char *line, size_t len, struct ctl_req *out, const char **why);

/* "HELLO" or "BYE". */
const char *ctl_verb_name(enum ctl_verb v);

/* Formats the reply line: "OK\n" when reason is NULL, else "ERR <reason>\n"
 * with the reason made printable and cut to fit.  Returns the length. */
size_t ctl_format_reply(char *buf, size_t len, const char *reason);

#endif
