/* control.h - the forwarder's control port (--control; DESIGN.md, "A
 * forwarder's job and lifetime"): the plugin, in every step of the job, says
 * "HELLO <jobid> <token>\n" or, at the end of the batch script,
 * "BYE <jobid> <token>\n", and gets one line back, "OK\n" or
 * "ERR <reason>\n", then the connection is closed.
 *
 * control.c does the network part on the event loop; the lines themselves
 * are control_line.c.  A connection that sends something that is not a
 * request (ERR, closed), a line longer than CTL_LINE_MAX, or no complete
 * line within CONTROL_READ_S is closed with one log line (at most
 * CONTROL_LOGS_PER_S such lines a second).  The token is compared in
 * constant time; a wrong one gets "ERR bad token".  A good request goes to
 * the owner (job.c), which answers with control_reply() at once or later;
 * without an answer within CONTROL_REPLY_MS the connection gets
 * "ERR no answer in time" and is closed.  At most CONTROL_MAX_CONNS
 * connections are open at once; more are closed at once. */
#ifndef PVF_CONTROL_H
#define PVF_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "control_line.h"

struct event_base;
struct control;

#define CONTROL_READ_S      2
#define CONTROL_REPLY_MS    1800
#define CONTROL_MAX_CONNS   64
#define CONTROL_RETRY_S     1      /* accepting paused this long after accept() failed */
#define CONTROL_LOGS_PER_S  10

struct control_ops {
	/* A well-formed request with the right token, from peer (printable in
	 * peer_name).  id names the connection for control_reply(). */
	void (*on_request)(uint64_t id, const struct ctl_req *req, const struct sockaddr *peer,
			   const char *peer_name, void *arg);
	void *arg;
};

/* Before the event loop: a listening socket on host (an address, "" for
 * all) at an ephemeral port.  0 with *fd and *port set, or -1 with the
 * reason in err. */
int control_bind(const char *host, int *fd, unsigned *port, char *err, size_t errlen);

/* Accepts on fd (owned from now on, also on failure) and checks requests
 * against token (CTL_TOKEN_LEN hex digits, copied).  NULL on failure. */
struct control *control_new(struct event_base *base, int fd, const char *token,
			    const struct control_ops *ops);
/* Closes the socket and every connection (without replies) and wipes the
 * token. */
void control_free(struct control *c);

/* Answers the request of connection id: "OK" when reason is NULL, else
 * "ERR <reason>"; then closes it.  0, or -1 when that connection is gone
 * (it timed out). */
int control_reply(struct control *c, uint64_t id, const char *reason);

#endif
