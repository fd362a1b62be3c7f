/* resolve.c - start-up name resolution and the loop's asynchronous
 * getaddrinfo (see resolve.h). */
#define _GNU_SOURCE
#include "resolve.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "workq.h"

static int add_block(struct cidr **list, size_t *n, const struct cidr *c)
{
	struct cidr *grown = realloc(*list, (*n + 1) * sizeof *grown);
	if (!grown)
		return -1;
	grown[(*n)++] = *c;
	*list = grown;
	return 0;
}

/* Clears the host bits beyond prefix. */
static void apply_mask(struct cidr *c, unsigned prefix)
{
	unsigned bits = c->family == AF_INET ? 32 : 128;
	if (prefix > bits)
		prefix = bits;
	c->prefix = prefix;
	for (unsigned i = 0; i < bits / 8; i++) {
		unsigned keep = prefix > i * 8 ? prefix - i * 8 : 0;
		if (keep < 8)
			c->addr[i] &= (unsigned char)(0xff00u >> keep);
	}
}

int resolve_source(const char *src, int masklen, struct cidr **list, size_t *n,
		   char *err, size_t errlen)
{
	struct cidr c;
	char why[128];
	if (cidr_parse(src, &c, why, sizeof why) == 0) {
		if (masklen >= 0)
			apply_mask(&c, (unsigned)masklen);
		return add_block(list, n, &c) == 0 ? 0
			: (snprintf(err, errlen, "out of memory"), -1);
	}
	if (strchr(src, '/')) {
		snprintf(err, errlen, "'%s': %s", src, why);
		return -1;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int rc = getaddrinfo(src, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", src, gai_strerror(rc));
		return -1;
	}
	size_t before = *n;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		cidr_from_sockaddr(ai->ai_addr, &c);
		if (masklen >= 0 && c.family == AF_INET)   /* portfwd's masks are IPv4 ones; */
			apply_mask(&c, (unsigned)masklen);  /* a name's IPv6 addresses stay /128 */
		if (add_block(list, n, &c) < 0) {
			freeaddrinfo(res);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	freeaddrinfo(res);
	if (*n == before) {     /* never let a source turn into "no restriction" */
		snprintf(err, errlen, "'%s' has no IPv4 or IPv6 address", src);
		return -1;
	}
	return 0;
}

int resolve_bind(const char *host, uint16_t port, struct addrinfo **res,
		 char *err, size_t errlen)
{
	char ps[8];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	snprintf(ps, sizeof ps, "%u", port);
	if (!host[0]) {
		int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		hints.ai_family = probe >= 0 ? AF_INET6 : AF_INET;
		if (probe >= 0)
			close(probe);
	}
	int rc = getaddrinfo(host[0] ? host : NULL, ps, &hints, res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- asynchronous getaddrinfo: in a workq (one worker thread) */

struct resolve_req {
	struct work w;             /* first: the queue's link */
	char host[NI_MAXHOST];
	char port[8];
	resolve_fn fn;
	void *arg;
	int gai_err;
	struct addrinfo *res;
};

struct resolver {
	struct workq *q;
};

static void req_free(struct work *w, void *ctx)
{
	struct resolve_req *rq = (struct resolve_req *)w;
	(void)ctx;
	if (rq->res)
		freeaddrinfo(rq->res);
	free(rq);
}

/* In the worker. */
static void req_run(struct work *w, void *ctx)
{
	struct resolve_req *rq = (struct resolve_req *)w;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	(void)ctx;
	rq->gai_err = getaddrinfo(rq->host, rq->port, &hints, &rq->res);
}

/* In the loop.  A request cancelled while getaddrinfo ran still has its
 * answer to free. */
static void req_done(struct work *w, void *ctx)
{
	struct resolve_req *rq = (struct resolve_req *)w;
	if (!w->cancelled) {
		rq->fn(rq->gai_err ? NULL : rq->res, rq->gai_err, rq->arg);
		rq->res = NULL;    /* fn owns it now */
	}
	req_free(w, ctx);
}

struct resolver *resolver_new(struct event_base *base)
{
	struct resolver *rs = calloc(1, sizeof *rs);
	if (!rs || !(rs->q = workq_new(base, req_run, req_done, NULL))) {
		free(rs);
		return NULL;
	}
	return rs;
}

struct resolve_req *resolver_start(struct resolver *rs, const char *host, uint16_t port,
				   resolve_fn fn, void *arg)
{
	struct resolve_req *rq = calloc(1, sizeof *rq);
	if (!rq)
		return NULL;
	snprintf(rq->host, sizeof rq->host, "%s", host);
	snprintf(rq->port, sizeof rq->port, "%u", port);
	rq->fn = fn;
	rq->arg = arg;
	workq_push(rs->q, &rq->w);
	return rq;
}

void resolver_cancel(struct resolver *rs, struct resolve_req *rq)
{
	workq_cancel(rs->q, &rq->w);
}

void resolver_free(struct resolver *rs)
{
	if (!rs)
		return;
	/* Stuck in getaddrinfo: the queue is left to the process's exit; rs is
	 * not the worker's (its ctx is NULL). */
	if (workq_free(rs->q, req_free) != 0)
		debug("resolver: worker still busy at exit");
	free(rs);
}
