/* lifeline.c - reads the lifeline pipe (see lifeline.h); the lines are
 * parsed by lifeline_parse_line() in lifeline_line.c. */
#include "lifeline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "lifeline_line.h"
#include "log.h"

#define LIFELINE_LINE_MAX 256

struct lifeline {
	int fd;
	struct event *ev;
	struct lifeline_ops ops;
	char line[LIFELINE_LINE_MAX];
	size_t len;
	int overlong;             /* dropping the rest of a too long line */
	unsigned long job_id;
};

static void handle_line(struct lifeline *ll)
{
	unsigned long id;
	ll->line[ll->len] = '\0';
	switch (lifeline_parse_line(ll->line, &id)) {
	case 1:
		if (id != ll->job_id)
			info("lifeline: job %lu", id);
		ll->job_id = id;
		if (ll->ops.on_job)
			ll->ops.on_job(id, ll->ops.arg);
		break;
	case 0:
		if (ll->len)
			debug("lifeline: ignoring '%s'", ll->line);
		break;
	default:
		error("lifeline: malformed line '%s'", ll->line);
	}
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct lifeline *ll = arg;
	char buf[512];
	(void)what;
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			error("lifeline: read: %s", strerror(errno));
		if (ll->len && !ll->overlong)
			handle_line(ll);             /* a last line without its '\n' */
		ll->len = 0;
		event_del(ll->ev);
		if (ll->ops.on_eof)
			ll->ops.on_eof(ll->ops.arg);   /* may free ll */
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (!ll->overlong)
				handle_line(ll);
			ll->len = 0;
			ll->overlong = 0;
		} else if (ll->len + 1 < sizeof ll->line) {
			ll->line[ll->len++] = buf[i];
		} else if (!ll->overlong) {
			error("lifeline: line longer than %d bytes ignored", LIFELINE_LINE_MAX - 1);
			ll->overlong = 1;
		}
	}
}

struct lifeline *lifeline_new(struct event_base *base, int fd, const struct lifeline_ops *ops)
{
	struct lifeline *ll = calloc(1, sizeof *ll);
	if (!ll)
		return NULL;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    !(ll->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_read, ll)) ||
	    event_add(ll->ev, NULL) < 0) {
		if (ll->ev)
			event_free(ll->ev);
		free(ll);
		return NULL;
	}
	ll->fd = fd;
	ll->ops = *ops;
	return ll;
}

void lifeline_free(struct lifeline *ll)
{
	if (!ll)
		return;
	event_free(ll->ev);
	close(ll->fd);
	free(ll);
}

unsigned long lifeline_job_id(const struct lifeline *ll)
{
	return ll->job_id;
}

void lifeline_set_ops(struct lifeline *ll, const struct lifeline_ops *ops)
{
	ll->ops = *ops;
}
