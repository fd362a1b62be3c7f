/* config.h - portfwd's configuration grammar, parsed into plain data (pure:
 * no name resolution, no sockets).  The forwarder resolves names at start.
 *
 *   file      := { global | [fragile] tcp '{' map { ';' map } [';'] '}' }
 *   global    := listen-on HOST | source-address HOST      (positional: apply to what follows)
 *   map       := PORT { ',' PORT } '{' hostmap { ';' hostmap } [';'] '}'
 *   hostmap   := [ from { ',' from } ] '=>' dest { ',' dest }
 *   from      := HOST [ '/' MASKLEN ] [ ':' PORTRANGE ] | ':' PORTRANGE
 *   dest      := HOST ':' PORT
 *   comments  := '/' '*' ... '*' '/' (nestable)
 * Unsupported portfwd features (udp, ftp-active/ftp-passive-mode-on, [program] destinations,
 * transparent proxy, user, group, ...) are refused with file:line:col. */
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

/* Parses text (the contents of filename, used only in messages).  0 on
 * success; -1 with err = "FILE:LINE:COL: what is wrong (expected ...)". */
int fwd_config_parse(const char *text, const char *filename,
		     struct fwd_config *out, char *err, size_t errlen);
void fwd_config_free(struct fwd_config *cfg);

#endif
