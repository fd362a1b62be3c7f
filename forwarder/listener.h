/* listener.h - accepting connections: allowed sources, routes, the connection
 * limit, and holding a client (unread) while its destination is down.
 *
 * Each accepted connection is checked, in this order, and closed at once
 * with one log line when it fails: allowed source (before any upstream
 * connect), a route for its source, --max-conns.  Then the destination is
 * resolved (again for every attempt) and connected without blocking; while
 * that fails the client is held - nothing is read from it, its bytes stay in
 * the kernel - and the attempt is repeated every LISTENER_RETRY_S up to the
 * service's hold time.  A destination host beginning with '/' is a Unix
 * socket, checked before every attempt (sockpath.h): missing or not
 * listening is held the same way, someone else's closes the client at once.
 * Once connected, relay.c moves the bytes. */
#ifndef PVF_LISTENER_H
#define PVF_LISTENER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "netaddr.h"

struct event_base;
struct listener;

#define LISTENER_RETRY_S            1    /* between connect rounds while holding */
#define LISTENER_CONNECT_TIMEOUT_S  10   /* one connect attempt (the hold deadline cuts it shorter) */
#define LISTENER_REFUSE_LOGS_PER_S  10   /* "refused connection" lines per second, at most */

struct src_match {              /* one "from" of a route */
	struct cidr net;
	int any_host;               /* 1: any address */
	uint16_t port_lo, port_hi;  /* 0,0: any source port */
};

struct route {                  /* first matching route wins */
	struct src_match *from;     /* nfrom == 0: any source */
	size_t nfrom;
	struct fwd_dest *dest;      /* ndest >= 1, tried in rotation */
	size_t ndest;
	size_t next;                /* rotation: the first destination for the next client */
};

struct service {                /* what a group of listening sockets does */
	struct route *routes;
	size_t nroutes;
	struct sockaddr_storage source;  /* bind outgoing connections here ... */
	socklen_t source_len;            /* ... when > 0 */
	int hold_s;                      /* -1: hold while the client stays (portfwd "fragile") */
	unsigned fin_idle_s;             /* --fin-timeout: close a half-closed, idle pair */
};

void service_free(struct service *svc);

struct listener_stats {
	unsigned open;              /* connections now (held or relaying) */
	uint64_t total;             /* accepted and let in */
	uint64_t refused;           /* closed at once: source, route or limit */
	uint64_t up, down;          /* bytes to destinations / to clients, open ones included */
};

/* Connections above max_conns are refused. */
struct listener *listener_new(struct event_base *base, unsigned max_conns);
/* Closes everything without logging and frees the services. */
void listener_free(struct listener *l);

/* Takes ownership of svc (freed by listener_free). */
int listener_add_service(struct listener *l, struct service *svc);
/* Accepts on fd (bound, listening, non-blocking; closed by the listener from
 * now on, also on failure) for svc.  name is for logs.  0 or -1. */
int listener_add_socket(struct listener *l, int fd, struct service *svc, const char *name);

/* Who may connect.  any: every source (portfwd mode; job mode without
 * --allow and --slurm-job).  Otherwise a source must match the fixed list
 * (--allow, set at start) or the job list. */
void listener_allow_any(struct listener *l, int any);
int listener_set_fixed_allowed(struct listener *l, const struct cidr *list, size_t n);
/* The job's sources (job.c: the allocated nodes), replacing the previous job
 * list; open connections are not touched.  0 or -1 (out of memory). */
int listener_set_allowed(struct listener *l, const struct cidr *list, size_t n);

/* Stops accepting (closes the listening sockets) and closes every connection
 * with reason in its log line. */
void listener_stop(struct listener *l, const char *reason);

void listener_stats(const struct listener *l, struct listener_stats *st);
/* cb(arg) runs after a connection is let in and after one is closed (not
 * from listener_free): what listener_stats() says about it changed. */
void listener_on_change(struct listener *l, void (*cb)(void *arg), void *arg);
void listener_log_stats(const struct listener *l);

#endif
