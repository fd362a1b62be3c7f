/* setup.c - services and listening sockets from the configuration or the
 * job-mode command line (see setup.h). */
#include "setup.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "log.h"
#include "resolve.h"
#include "sock.h"

static int add_sock(struct setup *st, int fd, struct service *svc, const struct sockaddr *sa)
{
	struct bound_sock *grown = realloc(st->socks, (st->nsocks + 1) * sizeof *grown);
	if (!grown)
		return -1;
	st->socks = grown;
	struct bound_sock *b = &st->socks[st->nsocks++];
	b->fd = fd;
	b->svc = svc;
	sockaddr_format(sa, b->name, sizeof b->name, 1);
	return 0;
}

static void set_port(struct sockaddr *sa, uint16_t port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

/* Listens on every address of host ("" = all) at port for svc. */
static int listen_all(struct setup *st, const char *host, uint16_t port, struct service *svc,
		      char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	char why[256], name[72];
	if (resolve_bind(host, port, &res, why, sizeof why) < 0)
		return errmsg_rc(EXIT_RUNTIME, err, errlen, "listen-on: %s", why);
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = sock_listen(ai->ai_addr, ai->ai_addrlen);
		if (fd < 0 && !host[0] && ai->ai_family == AF_INET6 &&
		    (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) {
			/* IPv6 switched off: all addresses = 0.0.0.0 */
			struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(port) };
			fd = sock_listen((struct sockaddr *)&v4, sizeof v4);
			if (fd >= 0 && add_sock(st, fd, svc, (struct sockaddr *)&v4) < 0)
				goto oom;
			if (fd >= 0)
				continue;
		}
		if (fd < 0) {
			int e = errno;
			sockaddr_format(ai->ai_addr, name, sizeof name, 1);
			freeaddrinfo(res);
			return errmsg_rc(EXIT_RUNTIME, err, errlen, "cannot listen on %s: %s", name, strerror(e));
		}
		if (add_sock(st, fd, svc, ai->ai_addr) < 0) {
			close(fd);
			goto oom;
		}
	}
	freeaddrinfo(res);
	return 0;
oom:
	freeaddrinfo(res);
	return errmsg_rc(EXIT_RUNTIME, err, errlen, "out of memory");
}

static int source_address(struct service *svc, const char *host, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0)
		return errmsg_rc(EXIT_RUNTIME, err, errlen, "source-address: cannot resolve '%s': %s",
			    host, gai_strerror(rc));
	memcpy(&svc->source, res->ai_addr, res->ai_addrlen);
	svc->source_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int route_from_rule(struct route *rt, const struct fwd_rule *rule, char *err, size_t errlen)
{
	char why[256];
	for (size_t i = 0; i < rule->nfrom; i++) {
		const struct fwd_from *f = &rule->from[i];
		struct cidr *blocks = NULL;
		size_t nblocks = 0;
		struct src_match any = { .any_host = 1 };
		if (f->host[0] && resolve_source(f->host, f->masklen, &blocks, &nblocks, why, sizeof why) < 0)
			return errmsg_rc(EXIT_RUNTIME, err, errlen, "from: %s", why);
		size_t add = f->host[0] ? nblocks : 1;
		struct src_match *grown = realloc(rt->from, (rt->nfrom + add) * sizeof *grown);
		if (!grown) {
			free(blocks);
			return errmsg_rc(EXIT_RUNTIME, err, errlen, "out of memory");
		}
		rt->from = grown;
		for (size_t j = 0; j < add; j++) {
			struct src_match *m = &rt->from[rt->nfrom++];
			*m = any;
			if (f->host[0]) {
				m->any_host = 0;
				m->net = blocks[j];
			}
			m->port_lo = f->port_lo;
			m->port_hi = f->port_hi;
		}
		free(blocks);
	}
	if (!(rt->dest = malloc(rule->ndest * sizeof *rt->dest)))
		return errmsg_rc(EXIT_RUNTIME, err, errlen, "out of memory");
	memcpy(rt->dest, rule->dest, rule->ndest * sizeof *rt->dest);
	rt->ndest = rule->ndest;
	return 0;
}

int setup_portfwd(struct setup *st, const struct fwd_config *cfg, unsigned hold_s,
		  unsigned fin_timeout_s, char *err, size_t errlen)
{
	int rc;
	memset(st, 0, sizeof *st);
	st->allow_any = 1;    /* portfwd: the rules' "from" decide */
	for (size_t i = 0; i < cfg->nmaps; i++) {
		const struct fwd_map *map = &cfg->maps[i];
		struct service *svc = calloc(1, sizeof *svc);
		if (!svc || service_list_add(&st->svcs, svc) < 0) {
			free(svc);
			return errmsg_rc(EXIT_RUNTIME, err, errlen, "out of memory");
		}
		svc->hold_s = map->fragile ? -1 : (int)hold_s;
		svc->fin_idle_s = fin_timeout_s;
		if (!(svc->routes = calloc(map->nrules, sizeof *svc->routes)))
			return errmsg_rc(EXIT_RUNTIME, err, errlen, "out of memory");
		for (size_t r = 0; r < map->nrules; r++) {
			svc->nroutes++;
			if ((rc = route_from_rule(&svc->routes[r], &map->rules[r], err, errlen)) != 0)
				return rc;
		}
		if (map->source_address[0] &&
		    (rc = source_address(svc, map->source_address, err, errlen)) != 0)
			return rc;
		for (size_t p = 0; p < map->nports; p++)
			if ((rc = listen_all(st, map->listen_on, map->ports[p], svc, err, errlen)) != 0)
				return rc;
	}
	return 0;
}

int setup_job(struct setup *st, const struct cmdline *a, char *err, size_t errlen)
{
	char why[256], name[72];
	struct addrinfo *res;
	memset(st, 0, sizeof *st);

	for (size_t i = 0; i < a->nallow; i++)
		if (resolve_source(a->allow[i], -1, &st->allow, &st->nallow, why, sizeof why) < 0)
			return errmsg_rc(EXIT_RUNTIME, err, errlen, "--allow: %s", why);
	st->allow_any = a->nallow == 0 && !a->slurm_job;

	struct service *svc = calloc(1, sizeof *svc);
	if (!svc || service_list_add(&st->svcs, svc) < 0) {
		free(svc);
		return errmsg_rc(EXIT_RUNTIME, err, errlen, "out of memory");
	}
	svc->hold_s = (int)a->hold_s;
	svc->fin_idle_s = a->fin_timeout_s;
	if (!(svc->routes = calloc(1, sizeof *svc->routes)) ||
	    !(svc->routes[0].dest = calloc(1, sizeof *svc->routes[0].dest)))
		return errmsg_rc(EXIT_RUNTIME, err, errlen, "out of memory");
	svc->nroutes = 1;
	svc->routes[0].ndest = 1;
	snprintf(svc->routes[0].dest[0].host, sizeof svc->routes[0].dest[0].host, "%s", a->to.host);
	svc->routes[0].dest[0].port = a->to.port;

	if (resolve_bind(a->listen, 0, &res, why, sizeof why) < 0)
		return errmsg_rc(EXIT_RUNTIME, err, errlen, "--listen: %s", why);
	struct sockaddr_storage ss;
	socklen_t sslen = res->ai_addrlen;
	memcpy(&ss, res->ai_addr, sslen);
	freeaddrinfo(res);
	struct sockaddr *sa = (struct sockaddr *)&ss;

	/* --ports: the first free port of the range; else an ephemeral one. */
	unsigned lo = a->port_lo, hi = a->port_lo ? a->port_hi : 0;
	int fd = -1, e = 0;
	for (unsigned port = lo; port <= hi && fd < 0; port++) {
		set_port(sa, (uint16_t)port);
		fd = sock_listen(sa, sslen);
		e = errno;
		if (fd < 0 && e != EADDRINUSE && e != EACCES)
			break;
	}
	sockaddr_format(sa, name, sizeof name, 0);
	if (fd < 0 && lo && (e == EADDRINUSE || e == EACCES))
		return errmsg_rc(EXIT_RUNTIME, err, errlen, "no free port in %u-%u on %s", lo, hi, name);
	if (fd < 0)
		return errmsg_rc(EXIT_RUNTIME, err, errlen, "cannot listen on %s: %s", name, strerror(e));
	st->port = sock_local_port(fd);
	set_port(sa, (uint16_t)st->port);
	if (add_sock(st, fd, svc, sa) < 0) {
		close(fd);
		return errmsg_rc(EXIT_RUNTIME, err, errlen, "out of memory");
	}
	return 0;
}

int setup_install(struct setup *st, struct listener *l, char *err, size_t errlen)
{
	listener_allow_any(l, st->allow_any);
	if (listener_set_fixed_allowed(l, st->allow, st->nallow) < 0)
		return errmsg(err, errlen, "out of memory");
	if (listener_take_services(l, &st->svcs) < 0)
		return errmsg(err, errlen, "out of memory");
	for (size_t i = 0; i < st->nsocks; i++) {
		struct bound_sock *b = &st->socks[i];
		int fd = b->fd;
		b->fd = -1;     /* the listener owns it now, also when this fails */
		if (listener_add_socket(l, fd, b->svc, b->name) < 0)
			return errmsg(err, errlen, "cannot watch %s", b->name);
	}
	return 0;
}

void setup_free(struct setup *st)
{
	for (size_t i = 0; i < st->nsocks; i++)
		if (st->socks[i].fd >= 0)
			close(st->socks[i].fd);
	free(st->socks);
	service_list_free(&st->svcs);
	free(st->allow);
	memset(st, 0, sizeof *st);
}
