/* listener.h - the data port: accepting connections and deciding who is let
 * in.
 *
 * Each accepted connection is checked, in this order, and closed at once
 * (with a reset and one log line, at most LISTENER_REFUSE_LOGS_PER_S such
 * lines a second: ratelog.h) when it fails: not from one of our own
 * upstream sockets, an allowed source (before any upstream connect), a
 * route for its source (service.h), --max-conns.  Then conn.c takes it:
 * resolve, connect, hold while the destination is down, relay.  accept()
 * failing for want of descriptors pauses every listening socket
 * (accept_pause.h).
 *
 * Order: listener_new(), listener_take_services(), listener_add_socket()
 * for each socket (setup.c does these), then the allow lists at any time;
 * listener_stop() when the forwarder ends, listener_free() last. */
#ifndef PVF_LISTENER_H
#define PVF_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "service.h"

struct event_base;
struct listener;

#define LISTENER_REFUSE_LOGS_PER_S  10   /* "refused connection" lines per second, at most */

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

/* Takes every service of svcs (freed by listener_free; svcs is empty
 * afterwards).  0, or -1 (out of memory: svcs keeps them). */
int listener_take_services(struct listener *l, struct service_list *svcs);
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

/* Pure: whether a client at sa may connect, given the allow-any switch and
 * the fixed and job lists. */
int listener_source_allowed(int allow_any, const struct cidr *fixed, size_t nfixed,
			    const struct cidr *job, size_t njob, const struct sockaddr *sa);

/* Stops accepting (closes the listening sockets) and closes every connection
 * with reason in its log line. */
void listener_stop(struct listener *l, const char *reason);

void listener_stats(const struct listener *l, struct listener_stats *st);
/* cb(arg) runs after a connection is let in and after one is closed (not
 * from listener_free): what listener_stats() says about it changed. */
void listener_on_change(struct listener *l, void (*cb)(void *arg), void *arg);
void listener_log_stats(const struct listener *l);

#endif
