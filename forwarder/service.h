/* service.h - what a group of listening sockets does: its routes (which
 * sources go to which destinations), the source address of outgoing
 * connections, how long a client is held while its destination is down and
 * when a half-closed pair is closed.
 *
 * setup.c builds services from the command line (job mode) or the
 * configuration (portfwd mode) into a service_list; setup_install() moves
 * them into the listener's list, which frees them with the listener.
 * listener.c picks a client's route with service_route_for(); conn.c reads
 * the destinations and limits.  service_route_for() is pure. */
#ifndef PVF_SERVICE_H
#define PVF_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "netaddr.h"

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

struct service {
	struct route *routes;
	size_t nroutes;
	struct sockaddr_storage source;  /* bind outgoing connections here ... */
	socklen_t source_len;            /* ... when > 0 */
	int hold_s;                      /* -1: hold while the client stays (portfwd "fragile") */
	unsigned fin_idle_s;             /* --fin-timeout: close a half-closed, idle pair */
};

void service_free(struct service *svc);

/* The first route of svc whose "from" matches the client address sa (an
 * IPv4 client on a dual-stack socket already unmapped), or NULL: no rule
 * for this source. */
struct route *service_route_for(const struct service *svc, const struct sockaddr *sa);

/* An owning list of services. */
struct service_list {
	struct service **v;
	size_t n;
};

/* Appends svc (owned by the list from now on).  0, or -1 (out of memory:
 * svc is not taken). */
int service_list_add(struct service_list *list, struct service *svc);
/* Moves every service of from to the end of to; from is empty afterwards.
 * 0, or -1 (out of memory: nothing moved). */
int service_list_move(struct service_list *to, struct service_list *from);
/* Frees every service and the list's array; the list is empty afterwards. */
void service_list_free(struct service_list *list);

#endif
