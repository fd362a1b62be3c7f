/* resolve.h - name resolution: blocking helpers for start-up (allowed
 * sources, listen and source addresses) and an asynchronous getaddrinfo for
 * the event loop (destinations are re-resolved on every connection attempt;
 * a slow or dead DNS server must not stall the bytes of other connections,
 * so getaddrinfo runs in one worker thread and its answer comes back through
 * a pipe into the loop). */
#ifndef PVF_RESOLVE_H
#define PVF_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <netdb.h>
#include <sys/socket.h>

#include "netaddr.h"

struct event_base;

/* Appends the blocks for one source to *list: a CIDR or address literal as
 * is; a name as one /32 or /128 per address (or /masklen when masklen >= 0).
 * 0, or -1 with the reason in err. */
int resolve_source(const char *src, int masklen, struct cidr **list, size_t *n,
		   char *err, size_t errlen);

/* The addresses to bind for host ("" = all addresses: one dual-stack IPv6
 * socket when the kernel has IPv6, else 0.0.0.0) and port.  The caller
 * freeaddrinfo()s *res.  0, or -1 with the reason in err. */
int resolve_bind(const char *host, uint16_t port, struct addrinfo **res,
		 char *err, size_t errlen);

/* Asynchronous resolution in the loop. */
struct resolver;
struct resolve_req;
/* res is NULL when gai_err != 0; the callee owns res (freeaddrinfo). */
typedef void (*resolve_fn)(struct addrinfo *res, int gai_err, void *arg);

struct resolver *resolver_new(struct event_base *base);
/* Ends the worker and frees everything; when the worker is stuck in
 * getaddrinfo for more than 100 ms (workq.c), it is left to the process's exit. */
void resolver_free(struct resolver *rs);
/* fn is always called later from the loop, never from inside this call. */
struct resolve_req *resolver_start(struct resolver *rs, const char *host, uint16_t port,
				   resolve_fn fn, void *arg);
/* fn will not be called. */
void resolver_cancel(struct resolver *rs, struct resolve_req *rq);

#endif
