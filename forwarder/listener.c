/* listener.c - accept, check, hold and connect (see listener.h). */
#define _GNU_SOURCE
#include "listener.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "hostport.h"
#include "log.h"
#include "clock.h"
#include "relay.h"
#include "resolve.h"
#include "sock.h"
#include "sockpath.h"

struct lsock {
	struct listener *l;
	struct evconnlistener *ev;
	struct service *svc;
	char name[72];
};

struct conn {
	struct listener *l;
	struct conn *prev, *next;
	uint64_t id;
	const struct service *svc;
	struct route *route;
	int cfd, sfd;                /* client; upstream socket while connecting */
	struct sockaddr_storage local;   /* the upstream socket's own address ... */
	struct sockaddr_storage remote;  /* ... and the address it connects to */
	char peer[72];               /* "10.0.0.7:41234" */
	char dest[HOSTPORT_HOST_MAX + 16];  /* the destination being tried / used */
	char addr[SOCKPATH_BUF];     /* its address (or socket path) being tried / connected */
	double t0;                   /* accepted (monotonic seconds) */
	size_t dest_first, dest_k;   /* this round: first destination, how many tried */
	struct resolve_req *rq;
	struct addrinfo *ai_list, *ai;
	struct event *wait_ev;       /* upstream connect in progress */
	struct event *retry_ev;      /* the pause between rounds */
	struct event *gone_ev;       /* the client went away while held */
	char last_err[192];
	int held;                    /* a round failed and the hold was logged */
	struct relay *relay;
};

struct listener {
	struct event_base *base;
	struct resolver *rs;
	unsigned max_conns;
	struct lsock **socks;
	size_t nsocks;
	struct service **svcs;
	size_t nsvcs;
	int allow_any;
	struct cidr *fixed, *job;
	size_t nfixed, njob;
	struct conn *conns;
	unsigned nconns;
	uint64_t ids, total, refused, closed_up, closed_down;
	struct event *resume_ev;     /* accepting again after EMFILE & co */
	long refuse_sec;             /* refusal log rate limit: this second, */
	unsigned refuse_logged;      /* lines logged in it, */
	uint64_t refuse_quiet;       /* refusals not logged */
	void (*on_change)(void *);   /* listener_on_change() */
	void *on_change_arg;
};

static struct timeval tv_of(double s)
{
	if (s < 0.001)
		s = 0.001;
	return (struct timeval){ (time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6) };
}

void service_free(struct service *svc)
{
	if (!svc)
		return;
	for (size_t i = 0; i < svc->nroutes; i++) {
		free(svc->routes[i].from);
		free(svc->routes[i].dest);
	}
	free(svc->routes);
	free(svc);
}

/* ---- one connection */

static void conn_try_dest(struct conn *c);
static void conn_try_addr(struct conn *c);

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

/* Frees c and everything it holds, without a log line. */
static void conn_free(struct conn *c)
{
	struct listener *l = c->l;
	if (c->rq)
		resolver_cancel(l->rs, c->rq);
	if (c->ai_list)
		freeaddrinfo(c->ai_list);
	conn_free_events(c);
	if (c->sfd >= 0)
		close(c->sfd);
	if (c->cfd >= 0)
		close(c->cfd);
	relay_free(c->relay);
	*(c->prev ? &c->prev->next : &l->conns) = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->nconns--;
	free(c);
}

/* The one log line for the end of a connection, then conn_free(). */
static void conn_close(struct conn *c, const char *reason)
{
	struct listener *l = c->l;
	uint64_t up = 0, down = 0;
	if (c->relay)
		relay_bytes(c->relay, &up, &down);
	info("conn %" PRIu64 " closed: %s -> %s, %" PRIu64 " B to destination, %" PRIu64
	     " B to client, %.3f s: %s", c->id, c->peer, c->dest, up, down, clock_mono_s() - c->t0, reason);
	l->closed_up += up;
	l->closed_down += down;
	conn_free(c);
	if (l->on_change)
		l->on_change(l->on_change_arg);
}

static void on_relay_done(struct relay *r, const char *reason, void *arg)
{
	(void)r;
	conn_close(arg, reason);
}

static void conn_connected(struct conn *c, int fd)
{
	if (c->held)
		info("conn %" PRIu64 ": connected to %s (%s) after %.1f s", c->id, c->dest, c->addr,
		     clock_mono_s() - c->t0);
	else
		debug("conn %" PRIu64 ": connected to %s (%s)", c->id, c->dest, c->addr);
	event_free(c->gone_ev);       /* the relay watches the client from now on */
	c->gone_ev = NULL;
	freeaddrinfo(c->ai_list);
	c->ai_list = c->ai = NULL;
	sock_tune(c->cfd);
	sock_tune(fd);
	c->relay = relay_new(c->l->base, c->cfd, fd, c->svc->fin_idle_s, on_relay_done, c);
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
	if (c->sfd >= 0) {
		close(c->sfd);
		c->sfd = -1;
	}
	c->local.ss_family = AF_UNSPEC;
	c->ai = c->ai->ai_next;
	conn_try_addr(c);
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
	conn_connected(c, fd);
}

/* Seconds left to hold the client; a large number for "no limit". */
static double hold_left(const struct conn *c)
{
	return c->svc->hold_s < 0 ? 1e9 : c->svc->hold_s - (clock_mono_s() - c->t0);
}

static void conn_try_addr(struct conn *c)
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
		if (!pending) {
			conn_connected(c, fd);
			return;
		}
		c->sfd = fd;
		double left = hold_left(c);
		struct timeval tv = tv_of(left > 0 && left < LISTENER_CONNECT_TIMEOUT_S
					  ? left : LISTENER_CONNECT_TIMEOUT_S);
		event_assign(c->wait_ev, c->l->base, fd, EV_WRITE, on_connect_ready, c);
		event_add(c->wait_ev, &tv);
		return;
	}
	freeaddrinfo(c->ai_list);          /* every address of this destination failed */
	c->ai_list = NULL;
	c->dest_k++;
	conn_try_dest(c);
}

static void on_resolved(struct addrinfo *res, int gai_err, void *arg)
{
	struct conn *c = arg;
	c->rq = NULL;
	if (!res) {
		snprintf(c->last_err, sizeof c->last_err, "cannot resolve: %s", gai_strerror(gai_err));
		c->dest_k++;
		conn_try_dest(c);
		return;
	}
	c->ai_list = c->ai = res;
	conn_try_addr(c);
}

/* A Unix socket destination (sockpath.h), checked afresh for every attempt:
 * missing, or nobody listening (the desktop's ssh has not started or has
 * ended) -> held like an unreachable TCP destination; anything another user
 * could control -> the client is closed before a byte has moved. */
static void conn_try_socket(struct conn *c, const char *path)
{
	char real[SOCKPATH_BUF], why[300];
	uid_t me = getuid();
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
			conn_connected(c, fd);
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
	conn_try_dest(c);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd, (void)what;
	c->dest_k = 0;
	conn_try_dest(c);
}

/* The next destination of this round, or the end of the round. */
static void conn_try_dest(struct conn *c)
{
	const struct route *rt = c->route;
	if (c->dest_k < rt->ndest) {
		const struct fwd_dest *d = &rt->dest[(c->dest_first + c->dest_k) % rt->ndest];
		hostport_format(c->dest, sizeof c->dest, d->host, d->port);
		c->addr[0] = '\0';
		if (d->host[0] == '/') {
			conn_try_socket(c, d->host);
			return;
		}
		c->rq = resolver_start(c->l->rs, d->host, d->port, on_resolved, c);
		if (!c->rq)
			conn_close(c, "out of memory");
		return;
	}
	/* Every destination failed this round: hold on, or give up. */
	double left = hold_left(c);
	if (left <= 0) {
		char why[300];
		snprintf(why, sizeof why, "destination unreachable for %.0f s (last error: %s)",
			 clock_mono_s() - c->t0, c->last_err);
		conn_close(c, why);
		return;
	}
	if (!c->held) {
		c->held = 1;
		if (c->svc->hold_s < 0)
			info("conn %" PRIu64 ": %s not reachable (%s); holding the client until it is",
			     c->id, c->dest, c->last_err);
		else
			info("conn %" PRIu64 ": %s not reachable (%s); holding the client for up to %d s",
			     c->id, c->dest, c->last_err, c->svc->hold_s);
	}
	struct timeval tv = tv_of(left < LISTENER_RETRY_S ? left : LISTENER_RETRY_S);
	evtimer_add(c->retry_ev, &tv);
}

/* EV_CLOSED on a held client: a reset, or a close before it sent anything,
 * ends the wait.  A client that sent bytes and then half-closed stays: its
 * bytes and its EOF are passed on once the destination answers. */
static void on_client_gone(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int err = 0, unread = 0;
	socklen_t len = sizeof err;
	(void)what;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (ioctl(fd, FIONREAD, &unread) < 0)
		unread = 0;
	if (err || unread == 0) {
		conn_close(c, err ? strerror(err) : "client closed while waiting for the destination");
		return;
	}
	debug("conn %" PRIu64 ": client half-closed with %d bytes waiting; still holding it", c->id, unread);
}

/* ---- accepting */

static struct route *find_route(const struct service *svc, const struct sockaddr *sa)
{
	uint16_t port = ntohs(sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
				  : ((const struct sockaddr_in6 *)sa)->sin6_port);
	for (size_t i = 0; i < svc->nroutes; i++) {
		struct route *rt = &svc->routes[i];
		if (rt->nfrom == 0)
			return rt;
		for (size_t j = 0; j < rt->nfrom; j++) {
			const struct src_match *m = &rt->from[j];
			if ((m->any_host || cidr_match(&m->net, sa)) &&
			    (!m->port_lo || (port >= m->port_lo && port <= m->port_hi)))
				return rt;
		}
	}
	return NULL;
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

/* A connection from one of our own upstream sockets: a destination that
 * leads back to this forwarder would otherwise open connections until no
 * descriptor is left.  Both ends must match (client = our upstream's own
 * address, here = where it connects to): the kernel gives one local port
 * to connections towards different peers, so a client's source port alone
 * may equal an upstream socket's by chance (seen with 200 loopback
 * connections at once). */
static int from_ourselves(const struct listener *l, const struct sockaddr *sa, int fd)
{
	struct sockaddr_storage here_ss;
	struct sockaddr_in here_v4;
	const struct sockaddr *here = NULL;
	for (const struct conn *c = l->conns; c; c = c->next) {
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

/* Closes fd at once (with a reset) and logs why - at most
 * LISTENER_REFUSE_LOGS_PER_S lines a second, so a port scan can't flood the log. */
static void refuse(struct listener *l, int fd, const char *peer, const char *why)
{
	long sec = (long)clock_mono_s();
	if (sec != l->refuse_sec) {
		if (l->refuse_quiet)
			info("%" PRIu64 " more refused connections were not logged", l->refuse_quiet);
		l->refuse_sec = sec;
		l->refuse_logged = 0;
		l->refuse_quiet = 0;
	}
	if (l->refuse_logged++ < LISTENER_REFUSE_LOGS_PER_S)
		info("refused connection from %s: %s", peer, why);
	else
		l->refuse_quiet++;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 }, sizeof(struct linger));
	close(fd);
	l->refused++;
}

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct lsock *ls = arg;
	struct listener *l = ls->l;
	struct sockaddr_in v4;
	char peer[72];
	(void)evl, (void)salen;

	/* A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; log and
	 * match them as the IPv4 addresses they are. */
	sa = (struct sockaddr *)sockaddr_unmap_v4(sa, &v4);
	sockaddr_format(sa, peer, sizeof peer, 1);

	if (from_ourselves(l, sa, fd)) {
		refuse(l, fd, peer, "it comes from this forwarder (the destination loops back here)");
		return;
	}
	if (!l->allow_any && !cidr_list_match(l->fixed, l->nfixed, sa) &&
	    !cidr_list_match(l->job, l->njob, sa))
		{
		refuse(l, fd, peer, "not an allowed source");
		return;
	}
	struct route *rt = find_route(ls->svc, sa);
	if (!rt) {
		refuse(l, fd, peer, "no rule for this source");
		return;
	}
	if (l->nconns >= l->max_conns) {
		char why[80];
		snprintf(why, sizeof why, "%u connections open (--max-conns)", l->nconns);
		refuse(l, fd, peer, why);
		return;
	}

	struct conn *c = calloc(1, sizeof *c);
	if (c) {
		/* wait_ev gets its socket with event_assign() for every attempt */
		c->wait_ev = event_new(l->base, -1, 0, on_connect_ready, c);
		c->retry_ev = evtimer_new(l->base, on_retry, c);
		c->gone_ev = event_new(l->base, fd, EV_CLOSED, on_client_gone, c);
	}
	if (!c || !c->wait_ev || !c->retry_ev || !c->gone_ev) {
		if (c)
			conn_free_events(c);
		free(c);
		refuse(l, fd, peer, "out of memory");
		return;
	}
	c->l = l;
	c->id = ++l->ids;
	c->svc = ls->svc;
	c->route = rt;
	c->cfd = fd;
	c->sfd = -1;
	c->t0 = clock_mono_s();
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	c->dest_first = rt->next++ % rt->ndest;   /* several destinations rotate */
	const struct fwd_dest *d = &rt->dest[c->dest_first];
	hostport_format(c->dest, sizeof c->dest, d->host, d->port);
	if ((c->next = l->conns))
		c->next->prev = c;
	l->conns = c;
	l->nconns++;
	l->total++;
	info("conn %" PRIu64 " open: %s -> %s (via %s)", c->id, peer, c->dest, ls->name);
	if (l->on_change)
		l->on_change(l->on_change_arg);
	event_add(c->gone_ev, NULL);
	conn_try_dest(c);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	(void)fd, (void)what;
	for (size_t i = 0; i < l->nsocks; i++)
		if (l->socks[i]->ev)
			evconnlistener_enable(l->socks[i]->ev);
}

/* accept() failed (out of descriptors, most likely): pause every listening
 * socket for a second instead of spinning on a connection we can't take
 * (sock_accept_error_pauses). */
static void on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct lsock *ls = arg;
	struct listener *l = ls->l;
	int e = EVUTIL_SOCKET_ERROR();
	(void)evl;
	if (!sock_accept_error_pauses(e))
		return;
	error("accept on %s: %s; not accepting for %d s", ls->name, strerror(e), LISTENER_RETRY_S);
	for (size_t i = 0; i < l->nsocks; i++)
		if (l->socks[i]->ev)
			evconnlistener_disable(l->socks[i]->ev);
	event_add(l->resume_ev, &(struct timeval){ LISTENER_RETRY_S, 0 });
}

/* ---- the listener */

struct listener *listener_new(struct event_base *base, unsigned max_conns)
{
	struct listener *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->base = base;
	l->max_conns = max_conns;
	l->allow_any = 1;
	l->rs = resolver_new(base);
	l->resume_ev = evtimer_new(base, on_resume, l);
	if (!l->rs || !l->resume_ev) {
		listener_free(l);
		return NULL;
	}
	return l;
}

int listener_add_service(struct listener *l, struct service *svc)
{
	struct service **grown = realloc(l->svcs, (l->nsvcs + 1) * sizeof *grown);
	if (!grown)
		return -1;
	l->svcs = grown;
	l->svcs[l->nsvcs++] = svc;
	return 0;
}

int listener_add_socket(struct listener *l, int fd, struct service *svc, const char *name)
{
	struct lsock *ls = calloc(1, sizeof *ls);
	struct lsock **grown = ls ? realloc(l->socks, (l->nsocks + 1) * sizeof *grown) : NULL;
	if (!grown) {
		free(ls);
		close(fd);
		return -1;
	}
	l->socks = grown;
	ls->l = l;
	ls->svc = svc;
	snprintf(ls->name, sizeof ls->name, "%s", name);
	/* backlog 0: fd listens already (sock_listen, SOCK_BACKLOG); -1 would
	 * make libevent listen() again with 128 */
	ls->ev = evconnlistener_new(l->base, on_accept, ls,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!ls->ev) {
		free(ls);
		close(fd);
		return -1;
	}
	evconnlistener_set_error_cb(ls->ev, on_accept_error);
	l->socks[l->nsocks++] = ls;
	return 0;
}

void listener_allow_any(struct listener *l, int any)
{
	l->allow_any = any;
}

static int set_list(struct cidr **dst, size_t *dn, const struct cidr *list, size_t n)
{
	struct cidr *copy = NULL;
	if (n && !(copy = malloc(n * sizeof *copy)))
		return -1;
	if (n)
		memcpy(copy, list, n * sizeof *copy);
	free(*dst);
	*dst = copy;
	*dn = n;
	return 0;
}

int listener_set_fixed_allowed(struct listener *l, const struct cidr *list, size_t n)
{
	return set_list(&l->fixed, &l->nfixed, list, n);
}

int listener_set_allowed(struct listener *l, const struct cidr *list, size_t n)
{
	return set_list(&l->job, &l->njob, list, n);
}

void listener_stop(struct listener *l, const char *reason)
{
	for (size_t i = 0; i < l->nsocks; i++) {
		if (l->socks[i]->ev)
			evconnlistener_free(l->socks[i]->ev);
		l->socks[i]->ev = NULL;
	}
	while (l->conns)
		conn_close(l->conns, reason);
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	while (l->conns)
		conn_free(l->conns);
	for (size_t i = 0; i < l->nsocks; i++) {
		if (l->socks[i]->ev)
			evconnlistener_free(l->socks[i]->ev);
		free(l->socks[i]);
	}
	free(l->socks);
	for (size_t i = 0; i < l->nsvcs; i++)
		service_free(l->svcs[i]);
	free(l->svcs);
	if (l->resume_ev)
		event_free(l->resume_ev);
	resolver_free(l->rs);
	free(l->fixed);
	free(l->job);
	free(l);
}

void listener_stats(const struct listener *l, struct listener_stats *st)
{
	st->open = l->nconns;
	st->total = l->total;
	st->refused = l->refused;
	st->up = l->closed_up;
	st->down = l->closed_down;
	for (const struct conn *c = l->conns; c; c = c->next) {
		uint64_t up, down;
		if (!c->relay)
			continue;
		relay_bytes(c->relay, &up, &down);
		st->up += up;
		st->down += down;
	}
}

void listener_on_change(struct listener *l, void (*cb)(void *arg), void *arg)
{
	l->on_change = cb;
	l->on_change_arg = arg;
}

void listener_log_stats(const struct listener *l)
{
	struct listener_stats st;
	listener_stats(l, &st);
	info("stats: %u open, %" PRIu64 " total, %" PRIu64 " refused, %" PRIu64
	     " B to destinations, %" PRIu64 " B to clients", st.open, st.total, st.refused, st.up, st.down);
}
