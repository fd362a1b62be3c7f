/* listener.c - accept, check who may connect, hand over to conn.c (see
 * listener.h). */
#define _GNU_SOURCE
#include "listener.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "accept_pause.h"
#include "conn.h"
#include "log.h"
#include "ratelog.h"

struct lsock {
	struct listener *l;
	struct evconnlistener *ev;
	struct service *svc;
	char name[72];
};

struct listener {
	struct event_base *base;
	unsigned max_conns;
	struct lsock **socks;
	size_t nsocks;
	struct service_list svcs;
	int allow_any;
	struct cidr *fixed, *job;
	size_t nfixed, njob;
	struct conn_set conns;
	int conns_ready;             /* conn_set_init() succeeded */
	uint64_t total, refused;
	struct accept_pause *pause;  /* after EMFILE & co */
	struct ratelog refusals;
};

int listener_source_allowed(int allow_any, const struct cidr *fixed, size_t nfixed,
			    const struct cidr *job, size_t njob, const struct sockaddr *sa)
{
	return allow_any || cidr_list_match(fixed, nfixed, sa) || cidr_list_match(job, njob, sa);
}

/* Closes fd at once (with a reset) and logs why (rate-limited, so a port
 * scan can't flood the log). */
static void refuse(struct listener *l, int fd, const char *peer, const char *why)
{
	ratelog(&l->refusals, "refused connection from %s: %s", peer, why);
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

	if (conn_set_from_ourselves(&l->conns, sa, fd)) {
		refuse(l, fd, peer, "it comes from this forwarder (the destination loops back here)");
		return;
	}
	if (!listener_source_allowed(l->allow_any, l->fixed, l->nfixed, l->job, l->njob, sa)) {
		refuse(l, fd, peer, "not an allowed source");
		return;
	}
	struct route *rt = service_route_for(ls->svc, sa);
	if (!rt) {
		refuse(l, fd, peer, "no rule for this source");
		return;
	}
	if (l->conns.n >= l->max_conns) {
		char why[80];
		snprintf(why, sizeof why, "%u connections open (--max-conns)", l->conns.n);
		refuse(l, fd, peer, why);
		return;
	}
	if (conn_start(&l->conns, fd, peer, ls->svc, rt, ls->name) < 0) {
		refuse(l, fd, peer, "out of memory");
		return;
	}
	l->total++;
}

static void set_accepting(void *arg, int on)
{
	struct listener *l = arg;
	for (size_t i = 0; i < l->nsocks; i++) {
		if (!l->socks[i]->ev)
			continue;
		if (on)
			evconnlistener_enable(l->socks[i]->ev);
		else
			evconnlistener_disable(l->socks[i]->ev);
	}
}

/* accept() failed (out of descriptors, most likely): every listening socket
 * pauses. */
static void on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct lsock *ls = arg;
	char what[96];
	int e = EVUTIL_SOCKET_ERROR();
	(void)evl;
	snprintf(what, sizeof what, "accept on %s", ls->name);
	accept_pause_error(ls->l->pause, e, what);
}

struct listener *listener_new(struct event_base *base, unsigned max_conns)
{
	struct listener *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->base = base;
	l->max_conns = max_conns;
	l->allow_any = 1;
	l->conns_ready = conn_set_init(&l->conns, base) == 0;
	l->pause = accept_pause_new(base, set_accepting, l);
	if (!l->conns_ready || !l->pause ||
	    ratelog_init(&l->refusals, base, "", "more refused connections were not logged",
			 LISTENER_REFUSE_LOGS_PER_S) < 0) {
		listener_free(l);
		return NULL;
	}
	return l;
}

int listener_take_services(struct listener *l, struct service_list *svcs)
{
	return service_list_move(&l->svcs, svcs);
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
	conn_set_close_all(&l->conns, reason);
}

void listener_free(struct listener *l)
{
	if (!l)
		return;
	if (l->conns_ready)
		conn_set_free(&l->conns);
	accept_pause_free(l->pause);
	ratelog_free(&l->refusals);
	for (size_t i = 0; i < l->nsocks; i++) {
		if (l->socks[i]->ev)
			evconnlistener_free(l->socks[i]->ev);
		free(l->socks[i]);
	}
	free(l->socks);
	service_list_free(&l->svcs);
	free(l->fixed);
	free(l->job);
	free(l);
}

void listener_stats(const struct listener *l, struct listener_stats *st)
{
	st->open = l->conns.n;
	st->total = l->total;
	st->refused = l->refused;
	conn_set_bytes(&l->conns, &st->up, &st->down);
}

void listener_on_change(struct listener *l, void (*cb)(void *arg), void *arg)
{
	l->conns.on_change = cb;
	l->conns.on_change_arg = arg;
}

void listener_log_stats(const struct listener *l)
{
	struct listener_stats st;
	listener_stats(l, &st);
	info("stats: %u open, %" PRIu64 " total, %" PRIu64 " refused, %" PRIu64
	     " B to destinations, %" PRIu64 " B to clients", st.open, st.total, st.refused, st.up, st.down);
}
