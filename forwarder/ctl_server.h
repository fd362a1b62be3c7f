/* ctl_server.h - the forwarder's control port, the server side of the
 * control protocol (--control; DESIGN.md, "A forwarder's job and
 * lifetime"): the plugin, in every step of the job, says
 * "HELLO <jobid> <token>\n" or, at the end of the batch script,
 * "BYE <jobid> <token>\n", and gets one line back, "OK\n" or
 * "ERR <reason>\n", then the connection is closed.
 *
 * ctl_server.c does the network part on the event loop; the lines themselves
 * are common/ctlproto.c.  A connection that sends something that is not a
 * request (ERR, closed), a line longer than CTL_LINE_MAX, or no complete
 * line within CTL_SERVER_READ_S is closed with one log line (at most
 * CTL_SERVER_LOGS_PER_S such lines a second).  The token is compared in
 * constant time; a wrong one gets "ERR bad token".  A good request goes to
 * the owner (job.c), which answers with ctl_server_reply() at once or later;
 * without an answer within CTL_SERVER_REPLY_MS the connection gets
 * "ERR no answer in time" and is closed.  At most CTL_SERVER_MAX_CONNS
 * connections are open at once; more are closed at once.  accept() failing
 * for want of descriptors pauses the port (accept_pause.h). */
#ifndef PVF_CTL_SERVER_H
#define PVF_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ctlproto.h"

struct event_base;
struct ctl_server;

#define CTL_SERVER_READ_S      2
#define CTL_SERVER_REPLY_MS    1800
#define CTL_SERVER_MAX_CONNS   64
#define CTL_SERVER_LOGS_PER_S  10

struct ctl_server_ops {
	/* A well-formed request with the right token, from peer (printable in
	 * peer_name).  id names the connection for ctl_server_reply(). */
	void (*on_request)(uint64_t id, const struct ctl_req *req, const struct sockaddr *peer,
			   const char *peer_name, void *arg);
	void *arg;
};

/* Before the event loop: a listening socket on host (an address, "" for
 * all) at an ephemeral port.  0 with *fd and *port set, or -1 with the
 * reason in err. */
int ctl_server_bind(const char *host, int *fd, unsigned *port, char *err, size_t errlen);

/* Accepts on fd (owned from now on, also on failure) and checks requests
 * against token (CTL_TOKEN_LEN hex digits, copied).  NULL on failure. */
struct ctl_server *ctl_server_new(struct event_base *base, int fd, const char *token,
				  const struct ctl_server_ops *ops);
/* Closes the socket and every connection (without replies) and wipes the
 * token. */
void ctl_server_free(struct ctl_server *c);

/* Answers the request of connection id: "OK" when reason is NULL, else
 * "ERR <reason>"; then closes it.  0, or -1 when that connection is gone
 * (it timed out). */
int ctl_server_reply(struct ctl_server *c, uint64_t id, const char *reason);

#endif
