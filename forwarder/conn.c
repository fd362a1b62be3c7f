/* conn.c - one connection: resolve, connect, hold, relay (see conn.h).
 * One function per transition (conn_to_*); the state is read where a
 * decision depends on it. */
#define _GNU_SOURCE
#include "conn.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "hostport.h"
#include "log.h"
#include "relay.h"
#include "resolve.h"
#include "sock.h"
#include "sockpath.h"

struct conn {
	struct conn_set *set;
	struct conn *prev, *next;
	enum conn_state state;
	uint64_t id;
	const struct service *svc;
	struct route *route;
	int cfd;                     /* the client, until the relay takes it */
	int sfd;                     /* CONNECTING: the upstream socket */
	struct sockaddr_storage local;   /* the upstream socket's own address ... */
	struct sockaddr_storage remote;  /* ... and the address it connects to */
	char peer[72];               /* "10.0.0.7:41234" */
	char dest[HOSTPORT_HOST_MAX + 16];  /* the destination being tried / used */
	char addr[SOCKPATH_BUF];     /* its address (or socket path) being tried / connected */
	double t0;                   /* accepted (monotonic seconds) */
	size_t dest_first, dest_k;   /* this round: first destination, how many tried */
	struct resolve_req *rq;      /* RESOLVING */
	struct addrinfo *ai_list, *ai;   /* the addresses of the destination being tried */
	struct event *wait_ev;       /* CONNECTING: the connect's completion */
	struct event *retry_ev;      /* HELD: the pause between rounds */
	struct event *gone_ev;       /* until RELAYING: the client went away */
	char last_err[192];
	unsigned held_rounds;        /* rounds that failed (the first was logged) */
	struct relay *relay;         /* RELAYING */
};

static void conn_next_dest(struct conn *c);
static void conn_next_addr(struct conn *c);

static struct timeval tv_of(double s)
{
	if (s < 0.001)
		s = 0.001;
	return (struct timeval){ (time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6) };
}

double conn_hold_left(int hold_s, double elapsed)
{
	return hold_s < 0 ? 1e9 : hold_s - elapsed;
}

double conn_connect_timeout(double left)
{
	return left > 0 && left < CONN_CONNECT_TIMEOUT_S ? left : CONN_CONNECT_TIMEOUT_S;
}

static double hold_left(const struct conn *c)
{
	return conn_hold_left(c->svc->hold_s, clock_mono_s() - c->t0);
}

/* The three events every connection has (some NULL if allocation failed). */
static void conn_free_events(struct conn *c)
{
	if (c->wait_ev)
		event_free(c->wait_ev);
	if (c->retry_ev)
		event_free(c->retry_ev);
	if (c->gone_ev)
		event_free(c->gone_ev);
}

/* Frees c and everything it holds in its state, without a log line. */
static void conn_free(struct conn *c)
{
	struct conn_set *s = c->set;
	switch (c->state) {
	case CONN_RESOLVING:
		if (c->rq)
			resolver_cancel(s->rs, c->rq);
		break;
	case CONN_CONNECTING:
		if (c->sfd >= 0)
			close(c->sfd);
		break;
	case CONN_RELAYING:
		relay_free(c->relay);
		break;
	case CONN_HELD:
		break;
	}
	if (c->ai_list)
		freeaddrinfo(c->ai_list);
	conn_free_events(c);
	if (c->cfd >= 0)
		close(c->cfd);
	*(c->prev ? &c->prev->next : &s->head) = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n--;
	free(c);
}

/* The end, from any state: the one log line, then conn_free(). */
static void conn_close(struct conn *c, const char *reason)
{
	struct conn_set *s = c->set;
	uint64_t up = 0, down = 0;
	if (c->state == CONN_RELAYING && c->relay)
		relay_bytes(c->relay, &up, &down);
	info("conn %" PRIu64 " closed: %s -> %s, %" PRIu64 " B to destination, %" PRIu64
	     " B to client, %.3f s: %s", c->id, c->peer, c->dest, up, down, clock_mono_s() - c->t0, reason);
	s->closed_up += up;
	s->closed_down += down;
	conn_free(c);
	if (s->on_change)
		s->on_change(s->on_change_arg);
}

static void on_relay_done(struct relay *r, const char *reason, void *arg)
{
	(void)r;
	conn_close(arg, reason);
}

/* -> RELAYING: fd is connected to the destination. */
static void conn_to_relaying(struct conn *c, int fd)
{
	if (c->held_rounds)
		info("conn %" PRIu64 ": connected to %s (%s) after %.1f s", c->id, c->dest, c->addr,
		     clock_mono_s() - c->t0);
	else
		debug("conn %" PRIu64 ": connected to %s (%s)", c->id, c->dest, c->addr);
	c->state = CONN_RELAYING;
	event_free(c->gone_ev);       /* the relay watches the client from now on */
	c->gone_ev = NULL;
	if (c->ai_list)
		freeaddrinfo(c->ai_list);
	c->ai_list = c->ai = NULL;
	sock_tune(c->cfd);
	sock_tune(fd);
	c->relay = relay_new(c->set->base, c->cfd, fd, c->svc->fin_idle_s, on_relay_done, c);
	c->cfd = c->sfd = -1;         /* the relay owns (or has closed) both */
	if (!c->relay)
		conn_close(c, "out of memory or file descriptors");
	else
		debug2("conn %" PRIu64 ": relaying with %s", c->id,
		       relay_uses_splice(c->relay) ? "splice" : "read/write");
}

/* One address failed: note why, try the next. */
static void conn_addr_failed(struct conn *c, const char *why)
{
	snprintf(c->last_err, sizeof c->last_err, "%s: %s", c->addr, why);
	debug2("conn %" PRIu64 ": %s", c->id, c->last_err);
	if (c->state == CONN_CONNECTING && c->sfd >= 0) {
		close(c->sfd);
		c->sfd = -1;
	}
	c->local.ss_family = AF_UNSPEC;
	c->ai = c->ai->ai_next;
	conn_next_addr(c);
}

static void on_connect_ready(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int err = 0;
	socklen_t len = sizeof err;
	if (what & EV_TIMEOUT) {
		conn_addr_failed(c, "connect timed out");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_addr_failed(c, strerror(err));
		return;
	}
	c->sfd = -1;
	conn_to_relaying(c, fd);
}

/* -> CONNECTING: fd's connect is pending. */
static void conn_to_connecting(struct conn *c, int fd)
{
	c->state = CONN_CONNECTING;
	c->sfd = fd;
	struct timeval tv = tv_of(conn_connect_timeout(hold_left(c)));
	event_assign(c->wait_ev, c->set->base, fd, EV_WRITE, on_connect_ready, c);
	event_add(c->wait_ev, &tv);
}

/* The next address of the destination being tried, or the next destination. */
static void conn_next_addr(struct conn *c)
{
	const struct service *svc = c->svc;
	for (; c->ai; c->ai = c->ai->ai_next) {
		struct addrinfo *ai = c->ai;
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		sockaddr_format(ai->ai_addr, c->addr, sizeof c->addr, 1);
		if (svc->source_len && svc->source.ss_family != ai->ai_family)
			continue;   /* source-address is of the other family */
		int pending;
		int fd = sock_connect(ai->ai_addr, ai->ai_addrlen, (const struct sockaddr *)&svc->source,
				      svc->source_len, &pending);
		if (fd < 0) {
			conn_addr_failed(c, strerror(errno));
			return;
		}
		socklen_t len = sizeof c->local;
		if (getsockname(fd, (struct sockaddr *)&c->local, &len) < 0 ||
		    ai->ai_addrlen > sizeof c->remote)
			c->local.ss_family = AF_UNSPEC;
		else
			memcpy(&c->remote, ai->ai_addr, ai->ai_addrlen);
		if (pending)
			conn_to_connecting(c, fd);
		else
			conn_to_relaying(c, fd);
		return;
	}
	freeaddrinfo(c->ai_list);          /* every address of this destination failed */
	c->ai_list = NULL;
	c->dest_k++;
	conn_next_dest(c);
}

static void on_resolved(struct addrinfo *res, int gai_err, void *arg)
{
	struct conn *c = arg;
	c->rq = NULL;
	if (!res) {
		snprintf(c->last_err, sizeof c->last_err, "cannot resolve: %s", gai_strerror(gai_err));
		c->dest_k++;
		conn_next_dest(c);
		return;
	}
	c->ai_list = c->ai = res;
	conn_next_addr(c);
}

/* -> RESOLVING: the name of destination d. */
static void conn_to_resolving(struct conn *c, const struct fwd_dest *d)
{
	c->state = CONN_RESOLVING;
	c->rq = resolver_start(c->set->rs, d->host, d->port, on_resolved, c);
	if (!c->rq)
		conn_close(c, "out of memory");
}

/* A Unix socket destination (sockpath.h), checked afresh for every attempt
 * and connected at once (CONNECTING only for that moment): missing, or
 * nobody listening (the desktop's ssh has not started or has ended) -> held
 * like an unreachable TCP destination; anything another user could control
 * -> the client is closed before a byte has moved. */
static void conn_try_socket(struct conn *c, const char *path)
{
	char real[SOCKPATH_BUF], why[300];
	uid_t me = getuid();
	c->state = CONN_CONNECTING;
	c->sfd = -1;
	enum sockpath_verdict v = sockpath_check(path, me, real, sizeof real, why, sizeof why);
	if (v == SOCKPATH_OK) {
		snprintf(c->addr, sizeof c->addr, "%s", real);
		int fd = sockpath_connect(real);
		if (fd < 0) {
			v = SOCKPATH_MISSING;
			snprintf(why, sizeof why, "%s", strerror(errno));
		} else if ((v = sockpath_peer_check(fd, real, me, why, sizeof why)) != SOCKPATH_OK) {
			close(fd);
		} else {
			conn_to_relaying(c, fd);
			return;
		}
	}
	if (v == SOCKPATH_REFUSED) {
		char reason[320];
		snprintf(reason, sizeof reason, "refused: %s", why);
		conn_close(c, reason);
		return;
	}
	snprintf(c->last_err, sizeof c->last_err, "%.*s", (int)sizeof c->last_err - 1, why);
	c->dest_k++;
	conn_next_dest(c);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd, (void)what;
	if (c->state != CONN_HELD)
		return;
	c->dest_k = 0;
	conn_next_dest(c);
}

/* -> HELD, or closed when the hold time is over: every destination failed
 * this round. */
static void conn_to_held(struct conn *c)
{
	double left = hold_left(c);
	if (left <= 0) {
		char why[300];
		snprintf(why, sizeof why, "destination unreachable for %.0f s (last error: %s)",
			 clock_mono_s() - c->t0, c->last_err);
		conn_close(c, why);
		return;
	}
	c->state = CONN_HELD;
	if (c->held_rounds++ == 0) {
		if (c->svc->hold_s < 0)
			info("conn %" PRIu64 ": %s not reachable (%s); holding the client until it is",
			     c->id, c->dest, c->last_err);
		else
			info("conn %" PRIu64 ": %s not reachable (%s); holding the client for up to %d s",
			     c->id, c->dest, c->last_err, c->svc->hold_s);
	}
	struct timeval tv = tv_of(left < CONN_RETRY_S ? left : CONN_RETRY_S);
	evtimer_add(c->retry_ev, &tv);
}

/* The next destination of this round, or the end of the round. */
static void conn_next_dest(struct conn *c)
{
	const struct route *rt = c->route;
	if (c->dest_k >= rt->ndest) {
		conn_to_held(c);
		return;
	}
	const struct fwd_dest *d = &rt->dest[(c->dest_first + c->dest_k) % rt->ndest];
	hostport_format(c->dest, sizeof c->dest, d->host, d->port);
	c->addr[0] = '\0';
	if (d->host[0] == '/')
		conn_try_socket(c, d->host);
	else
		conn_to_resolving(c, d);
}

/* EV_CLOSED on a client not yet relayed: a reset, or a close before it
 * sent anything, ends the wait.  A client that sent bytes and then
 * half-closed stays: its bytes and its EOF are passed on once the
 * destination answers. */
static void on_client_gone(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int err = 0, unread = 0;
	socklen_t len = sizeof err;
	(void)what;
	if (c->state == CONN_RELAYING)
		return;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (ioctl(fd, FIONREAD, &unread) < 0)
		unread = 0;
	if (err || unread == 0) {
		conn_close(c, err ? strerror(err) : "client closed while waiting for the destination");
		return;
	}
	debug("conn %" PRIu64 ": client half-closed with %d bytes waiting; still holding it", c->id, unread);
}

int conn_start(struct conn_set *s, int fd, const char *peer, const struct service *svc,
	       struct route *rt, const char *via)
{
	struct conn *c = calloc(1, sizeof *c);
	if (c) {
		/* wait_ev gets its socket with event_assign() for every attempt */
		c->wait_ev = event_new(s->base, -1, 0, on_connect_ready, c);
		c->retry_ev = evtimer_new(s->base, on_retry, c);
		c->gone_ev = event_new(s->base, fd, EV_CLOSED, on_client_gone, c);
	}
	if (!c || !c->wait_ev || !c->retry_ev || !c->gone_ev) {
		if (c)
			conn_free_events(c);
		free(c);
		return -1;
	}
	c->set = s;
	c->state = CONN_RESOLVING;
	c->id = ++s->ids;
	c->svc = svc;
	c->route = rt;
	c->cfd = fd;
	c->sfd = -1;
	c->t0 = clock_mono_s();
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	c->dest_first = rt->next++ % rt->ndest;   /* several destinations rotate */
	const struct fwd_dest *d = &rt->dest[c->dest_first];
	hostport_format(c->dest, sizeof c->dest, d->host, d->port);
	if ((c->next = s->head))
		c->next->prev = c;
	s->head = c;
	s->n++;
	info("conn %" PRIu64 " open: %s -> %s (via %s)", c->id, peer, c->dest, via);
	if (s->on_change)
		s->on_change(s->on_change_arg);
	event_add(c->gone_ev, NULL);
	conn_next_dest(c);
	return 0;
}

/* ---- the set */

int conn_set_init(struct conn_set *s, struct event_base *base)
{
	memset(s, 0, sizeof *s);
	s->base = base;
	s->rs = resolver_new(base);
	return s->rs ? 0 : -1;
}

void conn_set_free(struct conn_set *s)
{
	for (struct conn *c = s->head, *next; c; c = next) {
		next = c->next;     /* conn_free() unlinks c, and only c */
		conn_free(c);
	}
	resolver_free(s->rs);
	s->rs = NULL;
}

void conn_set_close_all(struct conn_set *s, const char *reason)
{
	for (struct conn *c = s->head, *next; c; c = next) {
		next = c->next;     /* conn_close() unlinks c, and only c */
		conn_close(c, reason);
	}
}

void conn_set_bytes(const struct conn_set *s, uint64_t *up, uint64_t *down)
{
	*up = s->closed_up;
	*down = s->closed_down;
	for (const struct conn *c = s->head; c; c = c->next) {
		uint64_t u, d;
		if (c->state != CONN_RELAYING || !c->relay)
			continue;
		relay_bytes(c->relay, &u, &d);
		*up += u;
		*down += d;
	}
}

static int same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return a->sa_family == AF_INET6 && x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

/* Both ends must match (client = our upstream's own address, here = where
 * it connects to): the kernel gives one local port to connections towards
 * different peers, so a client's source port alone may equal an upstream
 * socket's by chance (seen with 200 loopback connections at once).  Only a
 * connection with an upstream TCP socket (CONNECTING, RELAYING) has one. */
int conn_set_from_ourselves(const struct conn_set *s, const struct sockaddr *sa, int fd)
{
	struct sockaddr_storage here_ss;
	struct sockaddr_in here_v4;
	const struct sockaddr *here = NULL;
	for (const struct conn *c = s->head; c; c = c->next) {
		if (c->state != CONN_CONNECTING && c->state != CONN_RELAYING)
			continue;
		if (!same_addr(sa, &c->local))
			continue;
		if (!here) {    /* asked only when the first end matches: rare */
			socklen_t len = sizeof here_ss;
			if (getsockname(fd, (struct sockaddr *)&here_ss, &len) < 0)
				return 0;
			here = sockaddr_unmap_v4((struct sockaddr *)&here_ss, &here_v4);
		}
		if (same_addr(here, &c->remote))
			return 1;
	}
	return 0;
}
