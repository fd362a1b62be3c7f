/* resolve.c - start-up name resolution and the loop's asynchronous
 * getaddrinfo (see resolve.h). */
#define _GNU_SOURCE
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "join.h"
#include "log.h"

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

/* ---- asynchronous getaddrinfo: one worker thread, answers through a pipe */

struct resolve_req {
	struct resolve_req *next;
	char host[NI_MAXHOST];
	char port[8];
	resolve_fn fn;
	void *arg;
	int cancelled;             /* under rs->lock */
	int gai_err;
	struct addrinfo *res;
};

struct resolver {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct resolve_req *todo, **todo_tail, *done;
	int pipe[2];               /* worker -> loop: "something is done" */
	struct event *ev;
	pthread_t tid;
	int stop;                  /* under lock: the worker should end */
};

static void *worker(void *arg)
{
	struct resolver *rs = arg;
	pthread_mutex_lock(&rs->lock);
	for (;;) {
		while (!rs->todo && !rs->stop)
			pthread_cond_wait(&rs->wake, &rs->lock);
		if (rs->stop)
			break;
		struct resolve_req *rq = rs->todo;
		if (!(rs->todo = rq->next))
			rs->todo_tail = &rs->todo;
		if (!rq->cancelled) {
			pthread_mutex_unlock(&rs->lock);
			struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
			rq->gai_err = getaddrinfo(rq->host, rq->port, &hints, &rq->res);
			pthread_mutex_lock(&rs->lock);
		}
		rq->next = rs->done;
		rs->done = rq;
		while (write(rs->pipe[1], "", 1) < 0 && errno == EINTR)
			;   /* EAGAIN: the pipe is full, so a wake-up is pending anyway */
	}
	pthread_mutex_unlock(&rs->lock);
	return NULL;
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *rs = arg;
	char drain[256];
	(void)what;
	while (read(fd, drain, sizeof drain) > 0)
		;
	pthread_mutex_lock(&rs->lock);
	struct resolve_req *list = rs->done;
	rs->done = NULL;
	pthread_mutex_unlock(&rs->lock);
	while (list) {
		struct resolve_req *rq = list;
		list = rq->next;
		if (rq->cancelled) {
			if (rq->res)
				freeaddrinfo(rq->res);
		} else {
			rq->fn(rq->gai_err ? NULL : rq->res, rq->gai_err, rq->arg);
		}
		free(rq);
	}
}

struct resolver *resolver_new(struct event_base *base)
{
	struct resolver *rs = calloc(1, sizeof *rs);
	sigset_t all, old;
	if (!rs || pipe2(rs->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		free(rs);
		return NULL;
	}
	pthread_mutex_init(&rs->lock, NULL);
	pthread_cond_init(&rs->wake, NULL);
	rs->todo_tail = &rs->todo;
	rs->ev = event_new(base, rs->pipe[0], EV_READ | EV_PERSIST, on_done, rs);
	if (!rs->ev || event_add(rs->ev, NULL) < 0)
		goto fail;
	/* Signals go to the loop thread only: the worker starts with all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&rs->tid, NULL, worker, rs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		goto fail;
	return rs;
fail:
	if (rs->ev)
		event_free(rs->ev);
	close(rs->pipe[0]);
	close(rs->pipe[1]);
	free(rs);
	return NULL;
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
	pthread_mutex_lock(&rs->lock);
	*rs->todo_tail = rq;
	rs->todo_tail = &rq->next;
	pthread_cond_signal(&rs->wake);
	pthread_mutex_unlock(&rs->lock);
	return rq;
}

void resolver_cancel(struct resolver *rs, struct resolve_req *rq)
{
	pthread_mutex_lock(&rs->lock);
	rq->cancelled = 1;
	pthread_mutex_unlock(&rs->lock);
}

static void free_list(struct resolve_req *rq)
{
	while (rq) {
		struct resolve_req *next = rq->next;
		if (rq->res)
			freeaddrinfo(rq->res);
		free(rq);
		rq = next;
	}
}

void resolver_free(struct resolver *rs)
{
	if (!rs)
		return;
	pthread_mutex_lock(&rs->lock);
	rs->stop = 1;
	pthread_cond_signal(&rs->wake);
	pthread_mutex_unlock(&rs->lock);
	if (join_or_detach(rs->tid) != 0) {
		/* stuck in getaddrinfo: leave it all to the process's exit */
		debug("resolver: worker still busy at exit");
		return;
	}
	event_free(rs->ev);
	close(rs->pipe[0]);
	close(rs->pipe[1]);
	free_list(rs->todo);
	free_list(rs->done);
	pthread_mutex_destroy(&rs->lock);
	pthread_cond_destroy(&rs->wake);
	free(rs);
}
