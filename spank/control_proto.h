/* control_proto.h - the lines pv_forward.so exchanges with pv-forwarder
 * (DESIGN.md, "A forwarder's job and lifetime"), as pure functions: no I/O,
 * no randomness, no global state.  control.c does the network part,
 * launch.c the ready pipe.
 *
 *   ready pipe    forwarder -> plugin: "PORT <n> CONTROL <m>\n", the older
 *                 "PORT <n>\n" (no control port), or "ERROR <msg>\n"
 *   control port  plugin -> forwarder: "HELLO <jobid> <token>\n" or
 *                 "BYE <jobid> <token>\n"; one reply line "OK\n" or
 *                 "ERR <reason>\n", then the connection closes
 *   token         32 lowercase hex digits (128 random bits), given to the
 *                 forwarder only in its environment (PV_FORWARD_TOKEN) */
#ifndef PVF_CONTROL_PROTO_H
#define PVF_CONTROL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

#define CONTROL_TOKEN_BYTES 16
#define CONTROL_TOKEN_LEN   (2 * CONTROL_TOKEN_BYTES)   /* hex digits */
/* "HELLO 4294967295 <32 hex>\n" and a NUL fit with room to spare. */
#define CONTROL_LINE_MAX    64

enum control_verb {
	CONTROL_HELLO,   /* a step of the job started on this node */
	CONTROL_BYE,     /* the batch script ended: the job is ending */
};

/* "HELLO" or "BYE". */
const char *control_verb_name(enum control_verb v);

/* 1 when s is exactly CONTROL_TOKEN_LEN lowercase hex digits, else 0. */
int control_token_valid(const char *s);

/* Writes the CONTROL_TOKEN_LEN lowercase hex digits of raw and a NUL to out
 * (CONTROL_TOKEN_LEN + 1 bytes). */
void control_token_hex(const unsigned char raw[CONTROL_TOKEN_BYTES], char *out);

/* Formats "<VERB> <jobid> <token>\n" into buf.  Returns the length (without
 * the NUL), or -1 when job_id is 0, the token is not valid or buf is too
 * small (buf then holds "" when len > 0). */
int control_format(char *buf, size_t len, enum control_verb v,
		   uint32_t job_id, const char *token);

enum control_reply {
	CONTROL_REPLY_BAD = -1,  /* empty or not OK/ERR */
	CONTROL_REPLY_OK = 0,    /* "OK" (anything after "OK " is ignored) */
	CONTROL_REPLY_ERR = 1,   /* "ERR" or "ERR <reason>" */
};

/* Classifies one reply line (without or with its "\n"; a "\r" before it is
 * dropped).  For ERR, reason gets the text after "ERR " (or "no reason
 * given"); for a bad reply, the line itself ("an empty reply" when it is
 * empty).  reason is always made printable (other bytes as \xNN: quote.h), cut with
 * "..." to fit and NUL-terminated when reasonlen > 0; it may be NULL. */
enum control_reply control_parse_reply(const char *line, char *reason,
				       size_t reasonlen);

enum ready_kind {
	READY_BAD = -1,    /* anything else */
	READY_PORT = 0,    /* PORT <n> [CONTROL <m>] */
	READY_ERROR = 1,   /* ERROR <msg> */
};

/* Classifies the first line of what the forwarder wrote to its ready pipe.
 * READY_PORT: *port set, *control set to the control port or 0 for the
 * older "PORT <n>" line.  READY_ERROR: msg gets the message.  READY_BAD:
 * msg gets the line.  msg is printable and NUL-terminated as above. */
enum ready_kind ready_parse(const char *buf, uint16_t *port, uint16_t *control,
			    char *msg, size_t msglen);

/* The --starter value for the client that runs the plugin.  srun is the
 * only client in the local context: "srun" whatever its name.  In the
 * allocator context "salloc" is recognised by name; every other name there
 * (sbatch, or a site's renamed or wrapped copy) gets "sbatch", the semantics
 * that never end a forwarder before its job: the forwarder then binds to the
 * job from HELLO or its own search and lives as long as the job. */
const char *control_starter(int allocator_ctx, const char *progname);

#pragma GCC visibility pop

#endif
