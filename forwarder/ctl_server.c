/* ctl_server.c - the control port on the event loop (see ctl_server.h). */
#define _GNU_SOURCE
#include "ctl_server.h"

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
#include "log.h"
#include "netaddr.h"
#include "ratelog.h"
#include "resolve.h"
#include "sock.h"

struct cconn {
	struct ctl_server *c;
	struct cconn *prev, *next;
	uint64_t id;
	int fd;
	struct event *rd, *timer;
	struct sockaddr_storage peer;
	char name[72];
	char line[CTL_LINE_MAX + 1];
	size_t len;
	int answering;               /* the request went to the owner */
	enum ctl_verb verb;
	uint32_t job_id;
};

struct ctl_server {
	struct event_base *base;
	struct evconnlistener *ev;
	struct accept_pause *pause;  /* after EMFILE & co */
	char token[CTL_TOKEN_LEN + 1];
	struct ctl_server_ops ops;
	struct cconn *conns;
	unsigned nconns;
	uint64_t ids;
	struct ratelog notes;        /* connections that get nowhere */
};

static void conn_free(struct cconn *k)
{
	struct ctl_server *c = k->c;
	if (k->rd)
		event_free(k->rd);
	if (k->timer)
		event_free(k->timer);
	if (k->fd >= 0)
		close(k->fd);
	*(k->prev ? &k->prev->next : &c->conns) = k->next;
	if (k->next)
		k->next->prev = k->prev;
	c->nconns--;
	memset(k->line, 0, sizeof k->line);
	free(k);
}

static void send_reply(struct cconn *k, const char *reason)
{
	char buf[200];
	size_t n = ctl_format_reply(buf, sizeof buf, reason);
	/* One short line into an empty socket buffer: it fits at once. */
	if (send(k->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		debug("control: reply to %s: %s", k->name, strerror(errno));
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cconn *k = arg;
	(void)fd, (void)what;
	if (k->answering) {
		info("control: %s for job %" PRIu32 " from %s: no answer within %d ms",
		     ctl_verb_name(k->verb), k->job_id, k->name, CTL_SERVER_REPLY_MS);
		send_reply(k, "no answer in time (slurmctld slow?)");
	} else {
		ratelog(&k->c->notes, "%s sent %s within %d s; closed", k->name,
		     k->len ? "no complete line" : "nothing", CTL_SERVER_READ_S);
	}
	conn_free(k);
}

static void handle_line(struct cconn *k)
{
	struct ctl_server *c = k->c;
	struct ctl_req req;
	const char *why;

	event_del(k->rd);
	if (ctl_parse_request(k->line, k->len, &req, &why) < 0) {
		ratelog(&c->notes, "%s: %s; closed", k->name, why);
		send_reply(k, why);
		conn_free(k);
		return;
	}
	memset(k->line, 0, sizeof k->line);
	if (!ctl_token_equal(req.token, c->token)) {
		memset(req.token, 0, sizeof req.token);
		ratelog(&c->notes, "%s: %s for job %" PRIu32 " with a wrong token; refused", k->name,
		     ctl_verb_name(req.verb), req.job_id);
		send_reply(k, "bad token");
		conn_free(k);
		return;
	}
	k->answering = 1;
	k->verb = req.verb;
	k->job_id = req.job_id;
	struct timeval tv = { CTL_SERVER_REPLY_MS / 1000, CTL_SERVER_REPLY_MS % 1000 * 1000 };
	evtimer_add(k->timer, &tv);
	uint64_t id = k->id;
	c->ops.on_request(id, &req, (struct sockaddr *)&k->peer, k->name, c->ops.arg);
	memset(&req, 0, sizeof req);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct cconn *k = arg;
	char buf[CTL_LINE_MAX + 1];
	(void)what;
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ratelog(&k->c->notes, "%s closed the connection %s", k->name,
		     k->len ? "before the end of its line" : "without a request");
		conn_free(k);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			memset(buf, 0, sizeof buf);
			handle_line(k);       /* anything after the line is ignored */
			return;
		}
		if (k->len >= CTL_LINE_MAX - 1) {
			memset(buf, 0, sizeof buf);
			ratelog(&k->c->notes, "%s: line longer than %d bytes; closed", k->name, CTL_LINE_MAX - 1);
			send_reply(k, "line too long");
			conn_free(k);
			return;
		}
		k->line[k->len++] = buf[i];
	}
	memset(buf, 0, sizeof buf);
}

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct ctl_server *c = arg;
	struct sockaddr_in v4;
	char name[72];
	(void)evl;

	/* a dual-stack socket's ::ffff:a.b.c.d is the IPv4 peer it stands for */
	if (sockaddr_unmap_v4(sa, &v4) != sa) {
		sa = (struct sockaddr *)&v4;
		salen = sizeof v4;
	}
	sockaddr_format(sa, name, sizeof name, 1);
	if (c->nconns >= CTL_SERVER_MAX_CONNS) {
		ratelog(&c->notes, "%s: %u control connections open already; closed", name, c->nconns);
		close(fd);
		return;
	}
	struct cconn *k = calloc(1, sizeof *k);
	if (!k) {
		close(fd);
		return;
	}
	k->c = c;
	k->fd = fd;
	k->id = ++c->ids;
	memcpy(&k->peer, sa, (size_t)salen < sizeof k->peer ? (size_t)salen : sizeof k->peer);
	snprintf(k->name, sizeof k->name, "%s", name);
	if ((k->next = c->conns))
		k->next->prev = k;
	c->conns = k;
	c->nconns++;
	k->rd = event_new(c->base, fd, EV_READ | EV_PERSIST, on_read, k);
	k->timer = evtimer_new(c->base, on_timer, k);
	struct timeval tv = { CTL_SERVER_READ_S, 0 };
	if (!k->rd || !k->timer || event_add(k->rd, NULL) < 0 || evtimer_add(k->timer, &tv) < 0) {
		conn_free(k);
		return;
	}
	debug("control: connection from %s", name);
}

static void set_accepting(void *arg, int on)
{
	struct ctl_server *c = arg;
	if (on)
		evconnlistener_enable(c->ev);
	else
		evconnlistener_disable(c->ev);
}

static void on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct ctl_server *c = arg;
	(void)evl;
	accept_pause_error(c->pause, EVUTIL_SOCKET_ERROR(), "control: accept");
}

int ctl_server_bind(const char *host, int *fd, unsigned *port, char *err, size_t errlen)
{
	struct addrinfo *res;
	char why[256], name[72];
	if (resolve_bind(host, 0, &res, why, sizeof why) < 0) {
		snprintf(err, errlen, "control port: %s", why);
		return -1;
	}
	*fd = sock_listen(res->ai_addr, res->ai_addrlen);
	if (*fd < 0) {
		int e = errno;
		sockaddr_format(res->ai_addr, name, sizeof name, 0);
		freeaddrinfo(res);
		snprintf(err, errlen, "control port: cannot listen on %s: %s", name, strerror(e));
		return -1;
	}
	freeaddrinfo(res);
	*port = sock_local_port(*fd);
	return 0;
}

struct ctl_server *ctl_server_new(struct event_base *base, int fd, const char *token,
				  const struct ctl_server_ops *ops)
{
	struct ctl_server *c = calloc(1, sizeof *c);
	if (!c || !ctl_token_valid(token)) {
		free(c);
		close(fd);
		return NULL;
	}
	c->base = base;
	c->ops = *ops;
	memcpy(c->token, token, CTL_TOKEN_LEN + 1);
	c->ev = evconnlistener_new(base, on_accept, c, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
				   0, fd);    /* 0: sock_listen() has listened */
	if (!c->ev)
		close(fd);
	if (!c->ev || !(c->pause = accept_pause_new(base, set_accepting, c)) ||
	    ratelog_init(&c->notes, base, "control: ", "more lines like the last were not logged",
			 CTL_SERVER_LOGS_PER_S) < 0) {
		ctl_server_free(c);
		return NULL;
	}
	evconnlistener_set_error_cb(c->ev, on_accept_error);
	return c;
}

void ctl_server_free(struct ctl_server *c)
{
	if (!c)
		return;
	if (c->ev)
		evconnlistener_free(c->ev);
	accept_pause_free(c->pause);
	ratelog_free(&c->notes);
	for (struct cconn *k = c->conns, *next; k; k = next) {
		next = k->next;     /* conn_free() unlinks k, and only k */
		conn_free(k);
	}
	memset(c->token, 0, sizeof c->token);
	free(c);
}

int ctl_server_reply(struct ctl_server *c, uint64_t id, const char *reason)
{
	for (struct cconn *k = c->conns; k; k = k->next) {
		if (k->id != id || !k->answering)
			continue;
		send_reply(k, reason);
		conn_free(k);
		return 0;
	}
	return -1;
}
