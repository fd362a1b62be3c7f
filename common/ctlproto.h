/* ctlproto.h - the lines pv_forward.so and pv-forwarder exchange (DESIGN.md,
 * "A forwarder's job and lifetime"), both sides of each, as pure functions:
 * no I/O, no randomness, no global state.  The plugin's client is
 * spank/ctl_client.c, the forwarder's server forwarder/ctl_server.c; the
 * ready pipe is written by the forwarder's start-up and read by
 * spank/launch.c.
 *
 *   ready pipe    forwarder -> plugin: "PORT <n> CONTROL <m>\n", the older
 *                 "PORT <n>\n" (no control port), or "ERROR <msg>\n"
 *   control port  plugin -> forwarder: "HELLO <jobid> <token>\n",
 *                 "BYE <jobid> <token>\n" or "END <jobid> <token>\n"; one
 *                 reply line "OK\n" or
 *                 "ERR <reason>\n", then the connection closes
 *   token         CTL_TOKEN_LEN lowercase hex digits (128 random bits),
 *                 given to the forwarder only in its environment
 *                 (CTL_TOKEN_ENV) */
#ifndef PVF_CTLPROTO_H
#define PVF_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#define CTL_TOKEN_ENV   "PV_FORWARD_TOKEN"
#define CTL_TOKEN_BYTES 16
#define CTL_TOKEN_LEN   (2 * CTL_TOKEN_BYTES)   /* hex digits */
/* The longest request line accepted, "\n" included (the longest verb, a
 * 10-digit job id and the token take 49), and the buffer for one. */
#define CTL_LINE_MAX    64

enum ctl_verb {
	CTL_HELLO,   /* a step of the job started on this node */
	CTL_BYE,     /* the batch script ended: the job is ending */
	CTL_END,     /* the job's epilog ran on a node: the job has ended (or
		      * is being requeued) */
};

/* "HELLO", "BYE" or "END". */
const char *ctl_verb_name(enum ctl_verb v);

/* ---- the token */

/* 1 when s is exactly CTL_TOKEN_LEN lowercase hex digits, else 0. */
int ctl_token_valid(const char *s);
/* 1 when a and b (both CTL_TOKEN_LEN characters) are equal, in time that
 * does not depend on where they differ. */
int ctl_token_equal(const char *a, const char *b);
/* Writes the CTL_TOKEN_LEN lowercase hex digits of raw and a NUL to out
 * (CTL_TOKEN_LEN + 1 bytes). */
void ctl_token_hex(const unsigned char raw[CTL_TOKEN_BYTES], char *out);

/* ---- requests (plugin -> forwarder) */

struct ctl_req {
	enum ctl_verb verb;
	uint32_t job_id;               /* 1..4294967295 */
	char token[CTL_TOKEN_LEN + 1];
};

/* Formats "<VERB> <jobid> <token>\n" into buf.  Returns the length (without
 * the NUL), or -1 when job_id is 0, the token is not valid or buf is too
 * small (buf then holds "" when len > 0). */
int ctl_format_request(char *buf, size_t len, enum ctl_verb v, uint32_t job_id, const char *token);

/* One request line of len bytes (without its "\n"; a "\r" before it is
 * dropped here).  0 with *out filled in; -1 with *why set to a short
 * reason ("unknown request", "bad job id", "malformed token").  Words are
 * separated by exactly one space; nothing may follow the token. */
int ctl_parse_request(const char *line, size_t len, struct ctl_req *out, const char **why);

/* ---- replies (forwarder -> plugin) */

/* Formats the reply line: "OK\n" when reason is NULL, else "ERR <reason>\n"
 * with the reason made printable and cut to fit.  Returns the length. */
size_t ctl_format_reply(char *buf, size_t len, const char *reason);

enum ctl_reply {
	CTL_REPLY_BAD = -1,  /* empty or not OK/ERR */
	CTL_REPLY_OK = 0,    /* "OK" (anything after "OK " is ignored) */
	CTL_REPLY_ERR = 1,   /* "ERR" or "ERR <reason>" */
};

/* Classifies one reply line (without or with its "\n"; a "\r" before it is
 * dropped).  For ERR, reason gets the text after "ERR " (or "no reason
 * given"); for a bad reply, the line itself ("an empty reply" when it is
 * empty).  reason is always made printable (other bytes as \xNN: quote.h),
 * cut with "..." to fit and NUL-terminated when reasonlen > 0; it may be
 * NULL. */
enum ctl_reply ctl_parse_reply(const char *line, char *reason, size_t reasonlen);

/* ---- the ready pipe (forwarder -> plugin, once) */

/* "PORT <port>\n", or "PORT <port> CONTROL <control>\n" when control > 0.
 * Returns the length (0 when buf is too small). */
size_t ctl_format_ready(char *buf, size_t len, unsigned port, unsigned control);
/* "ERROR <msg>\n" with every newline of msg made a space (one line), cut to
 * fit.  Returns the length. */
size_t ctl_format_ready_error(char *buf, size_t len, const char *msg);

enum ctl_ready {
	CTL_READY_BAD = -1,    /* anything else */
	CTL_READY_PORT = 0,    /* PORT <n> [CONTROL <m>] */
	CTL_READY_ERROR = 1,   /* ERROR <msg> */
};

/* Classifies the first line of what the forwarder wrote to its ready pipe.
 * CTL_READY_PORT: *port set, *control set to the control port or 0 for the
 * older "PORT <n>" line.  CTL_READY_ERROR: msg gets the message.
 * CTL_READY_BAD: msg gets the line.  msg is printable and NUL-terminated as
 * above. */
enum ctl_ready ctl_parse_ready(const char *buf, uint16_t *port, uint16_t *control,
			       char *msg, size_t msglen);

#endif
