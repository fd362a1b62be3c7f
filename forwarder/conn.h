/* conn.h - one client connection from the moment it is let in until it is
 * closed: resolve -> connect -> (hold) -> relay.
 *
 *   RESOLVING   the current destination's name is being resolved (a
 *               destination beginning with '/' is a Unix socket instead,
 *               checked and connected at once: sockpath.h)
 *   CONNECTING  a non-blocking connect to one of its addresses is pending
 *               (at most CONN_CONNECT_TIMEOUT_S, cut to the hold left)
 *   HELD        every destination failed this round: the client is held -
 *               nothing is read from it, its bytes stay in the kernel - and
 *               a new round starts after CONN_RETRY_S, up to the service's
 *               hold time
 *   RELAYING    connected: relay.c moves the bytes until one side is done
 *
 * A failed address goes on to the next address, then the next destination
 * of the route (in rotation), then ends the round.  Closed (the one log line
 * "conn N closed: ...") when the relay ends, when the hold time is over,
 * when a held client resets or leaves without sending, when a socket
 * destination belongs to someone else, or by conn_set_close_all().
 *
 * listener.c owns one struct conn_set, decides who is let in and calls
 * conn_start(); conn.c never calls the listener. */
#ifndef PVF_CONN_H
#define PVF_CONN_H

#include <stdint.h>
#include <sys/socket.h>

#include "service.h"

struct event_base;
struct resolver;
struct conn;

#define CONN_RETRY_S            1    /* between connect rounds while holding */
#define CONN_CONNECT_TIMEOUT_S  10   /* one connect attempt (the hold deadline cuts it shorter) */

enum conn_state {
	CONN_RESOLVING,
	CONN_CONNECTING,
	CONN_HELD,
	CONN_RELAYING,
};

/* The open connections of one listener and the bytes of the closed ones. */
struct conn_set {
	struct event_base *base;
	struct resolver *rs;
	struct conn *head;
	unsigned n;                 /* open now */
	uint64_t ids;               /* the last connection number given */
	uint64_t closed_up, closed_down;
	/* after a connection opened and after one closed (not from
	 * conn_set_free): the owner's listener_on_change() */
	void (*on_change)(void *arg);
	void *on_change_arg;
};

/* 0, or -1 (out of memory). */
int conn_set_init(struct conn_set *s, struct event_base *base);
/* Frees every connection without a log line, and the resolver. */
void conn_set_free(struct conn_set *s);
/* Closes every connection with reason in its log line. */
void conn_set_close_all(struct conn_set *s, const char *reason);
/* Bytes to destinations and to clients, closed and open connections. */
void conn_set_bytes(const struct conn_set *s, uint64_t *up, uint64_t *down);

/* Whether a client at sa, accepted on fd, is one of our own upstream
 * connections (a destination leading back to this forwarder), which would
 * otherwise open connections until no descriptor is left. */
int conn_set_from_ourselves(const struct conn_set *s, const struct sockaddr *sa, int fd);

/* Starts a connection for the accepted client fd (peer printable) along
 * route rt of svc; via names the listening socket for the log.  0: fd is
 * owned by the connection; -1 (out of memory): fd is untouched. */
int conn_start(struct conn_set *s, int fd, const char *peer, const struct service *svc,
	       struct route *rt, const char *via);

/* Pure: seconds left to hold a client accepted elapsed seconds ago by a
 * service with hold_s (-1: no limit, a large number). */
double conn_hold_left(int hold_s, double elapsed);
/* Pure: the timeout of one connect attempt with left seconds of hold. */
double conn_connect_timeout(double left);

#endif
