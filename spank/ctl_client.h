/* ctl_client.h - the client side of the control protocol: the plugin's
 * client for a forwarder's control port, one line out, one line back
 * (common/ctlproto.h has the lines themselves).
 *
 * Runs inside slurmstepd, so it never holds a step up for long: name
 * resolution (getaddrinfo_a where glibc has it in libc, 2.34+), every
 * connect, the send and the reply share one deadline; sockets are
 * non-blocking and close-on-exec; no SIGPIPE; nothing is left open. */
#ifndef PVF_CTL_CLIENT_H
#define PVF_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* The whole exchange, resolution included. */
#define CTL_CLIENT_TIMEOUT_MS 3000

/* ctl_client_send() when every address of the host refused the connection
 * (ECONNREFUSED): the host is up and nothing listens on the port. */
#define CTL_CLIENT_REFUSED (-2)

/* Sends line (one "...\n") to host:port and reads one reply line.
 * 0: reply holds the reply line without its "\n" (possibly empty when the
 * forwarder closed without a newline).  -1 or CTL_CLIENT_REFUSED: reply
 * holds a one-line reason ("cannot resolve login: ...", "login:40123:
 * Connection refused", "no reply within 3000 ms").  The last successful
 * resolution of host is kept, so a later call for the same host (BYE at the
 * end of a step) needs no DNS. */
int ctl_client_send(const char *host, uint16_t port, const char *line,
		    int timeout_ms, char *reply, size_t replylen);

#pragma GCC visibility pop

#endif
