/* config.h - portfwd's configuration grammar, parsed into plain data (pure:
 * no name resolution, no sockets, no file I/O).  The forwarder resolves names at start.
 *
 *   file      := { global | [fragile] tcp '{' map { ';' map } [';'] '}' }
 *   global    := listen-on HOST | source-address HOST      (positional: apply to what follows)
 *              | bind-address HOST                          (portfwd's old spelling of listen-on)
 *   map       := PORT { ',' PORT } '{' hostmap { ';' hostmap } [';'] '}'
 *   hostmap   := [ from { ',' from } ] '=>' dest { ',' dest }
 *   from      := HOST [ '/' MASKLEN ] [ ':' PORTRANGE ] | ':' PORTRANGE
 *   PORTRANGE := PORT | PORT '+' PORT | PORT '+' | '+' PORT    (portfwd's spelling)
 *              | PORT '-' PORT                              (also accepted, one word)
 *   dest      := HOST ':' PORT
 *   comments  := '/' '*' ... '*' '/' (nestable)
 *
 * HOST: an IPv4 literal, an IPv6 literal in brackets ([::1]:5, [fe80::1]/64,
 * listen-on [::]) or a host name of letters, digits, '-', '_' and '.' (RFC 1123
 * plus '_', so /etc/hosts names such as client_host work).  Stored without
 * brackets.  PORT: a number 1..65535 (service names such as 'telnet' are
 * refused: no /etc/services lookup).  MASKLEN: 0-32 after an IPv4 literal or
 * a name (portfwd is IPv4-only), 0-128 after an IPv6 literal.  'PORT+' means
 * PORT-65535, '+PORT' 1-PORT.  Line and column numbers in messages count from 1;
 * a column counts bytes (a tab is one column).
 *
 * Refused, never ignored ("FILE:LINE:COL: 'udp' is not supported by
 * pv-forwarder (...)"): udp, ftp-active-mode-on, ftp-passive-mode-on, user,
 * group, and '[program args]' destinations (portfwd's director).  Also
 * refused: a file without any tcp map, a global that no map follows, a port
 * used twice with the same listen-on address, '#' comments.  portfwd's
 * transparent proxy and on-the-fly DNS are command-line options, not
 * configuration keywords. */
#ifndef PVF_CONFIG_H
#define PVF_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "hostport.h"

struct fwd_from {
	char host[HOSTPORT_HOST_MAX + 1]; /* "" = any host */
	int masklen;                      /* -1 when no /MASKLEN was given */
	uint16_t port_lo, port_hi;        /* 0,0 = any source port */
};

struct fwd_dest {
	char host[HOSTPORT_HOST_MAX + 1];
	uint16_t port;
};

struct fwd_rule {                  /* one hostmap: first matching rule wins */
	struct fwd_from *from;     /* nfrom == 0: any source */
	size_t nfrom;
	struct fwd_dest *dest;     /* ndest >= 1; several rotate */
	size_t ndest;
};

struct fwd_map {                   /* one listening port set */
	uint16_t *ports;
	size_t nports;
	struct fwd_rule *rules;
	size_t nrules;
	char listen_on[HOSTPORT_HOST_MAX + 1];      /* "" = all addresses */
	char source_address[HOSTPORT_HOST_MAX + 1]; /* "" = kernel's choice */
	int fragile;                                /* keep the client and retry a down destination */
};

struct fwd_config {
	struct fwd_map *maps;
	size_t nmaps;
};

/* Limits; going beyond one is an error with file:line:col. */
#define FWD_CONFIG_MAX_MAPS 256          /* maps in a file */
#define FWD_CONFIG_MAX_PORTS 64          /* ports of one map */
#define FWD_CONFIG_MAX_RULES 64          /* hostmaps of one map */
#define FWD_CONFIG_MAX_FROM 64           /* sources of one hostmap */
#define FWD_CONFIG_MAX_DEST 64           /* destinations of one hostmap */
#define FWD_CONFIG_MAX_COMMENT_DEPTH 64  /* nesting of comments */

/* Parses text (the contents of filename, used only in messages).  0 on
 * success (out->nmaps >= 1); -1 with err = "FILE:LINE:COL: what is wrong
 * (expected ...)" and *out empty (nothing to free, freeing is harmless).
 * The text ends at its first NUL byte. */
int fwd_config_parse(const char *text, const char *filename,
		     struct fwd_config *out, char *err, size_t errlen);
/* The same for len bytes that need not be NUL-terminated; a NUL byte inside
 * is an error (use this when the text comes from a file). */
int fwd_config_parse_buf(const char *text, size_t len, const char *filename,
			 struct fwd_config *out, char *err, size_t errlen);
/* Frees what a successful parse allocated and empties *cfg; cfg may be NULL. */
void fwd_config_free(struct fwd_config *cfg);

#endif
