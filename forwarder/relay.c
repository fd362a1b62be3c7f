/* relay.c - the data path: two sockets, two directions, each direction a
 * pipe moved with splice(2) (zero-copy for the relay), or a buffer moved with
 * read/send when splice is refused.  See relay.h for the contract.
 *
 * One direction ("half") goes src -> dst and is in one of these states:
 *   empty, src open   -> watch src for reading
 *   holding bytes     -> watch dst for writing, NOT src: a direction never
 *                        holds more than one pipe/buffer, so a destination
 *                        that stops reading leaves the data in the kernel's
 *                        socket buffers (and TCP's window) instead of making
 *                        this process grow
 *   src at EOF, empty -> shutdown(dst, SHUT_WR) once; the half is done
 * Both halves done: close.  One done: close when no byte has moved for
 * fin_idle_s (the timer restarts on every wake-up that moves bytes).  An
 * error on either socket closes both with a reset.
 *
 * Cost (iperf3 on loopback, 2-vCPU VM, 2026-11): 2.3-4.4 splice calls and
 * 0.3-1.5 epoll wake-ups per MB (depending on where the scheduler puts the
 * three processes), a few dozen epoll_ctl per GB; 0.15-0.20 CPU s per GB, of
 * which perf finds 97-98 % in the kernel: the TCP work of the second hop, not
 * this loop, is what a relay costs here (2026-12: make bench's splice-floor,
 * two threads in blocking splice loops and nothing else, gets the same
 * throughput at the same CPU per GB).  Tried and not kept (A/B in one run,
 * 6 x 5 s each way): reading src into the pipe while dst is busy (throughput
 * +-3 %, CPU/GB +15 %: more, smaller splices), SPLICE_F_MORE, PUMP_ROUNDS 1
 * or 32 (no change beyond the noise); a 256 KiB pipe costs +60 % CPU/GB, and
 * 1 MiB is the most an unprivileged user gets (fs.pipe-max-size). */
#define _GNU_SOURCE
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

#define PUMP_ROUNDS 8   /* read+write rounds per wake-up, so one busy pair can't starve others */

struct half {
	struct relay *r;
	int src, dst;
	const char *src_name, *dst_name;
	int pipe[2];            /* splice mode; {-1,-1} in copy mode */
	char *buf;              /* copy mode */
	size_t cap;             /* pipe or buffer size */
	size_t off, pending;    /* bytes held (copy mode: from buf + off) */
	uint64_t moved;         /* bytes written to dst */
	int eof, shut, drained; /* drained: the last read emptied src */
	int reading, writing;   /* which event is added */
	struct event *rev, *wev;
};

struct relay {
	struct half h[2];       /* [0] client -> server, [1] server -> client */
	struct event *fin_timer;
	struct timeval fin_idle; /* --fin-timeout */
	int fin_armed;           /* one half is done: fin_timer runs */
	int failed;             /* close with a reset */
	char why[128];
	relay_done_fn done;
	void *arg;
};

/* Splice refused (EINVAL/ENOSYS): carry on with a buffer.  Bytes that are
 * already in the pipe move into it. */
static int to_copy_mode(struct half *h)
{
	size_t cap = h->pending > RELAY_COPY_BUF_SIZE ? h->pending : RELAY_COPY_BUF_SIZE;
	char *b = malloc(cap);
	if (!b || (h->pending && read(h->pipe[0], b, h->pending) != (ssize_t)h->pending)) {
		free(b);
		errno = ENOMEM;
		return -1;
	}
	debug("relay: splice refused, %s -> %s uses read/write", h->src_name, h->dst_name);
	close(h->pipe[0]);
	close(h->pipe[1]);
	h->pipe[0] = h->pipe[1] = -1;
	h->buf = b;
	h->cap = cap;
	h->off = 0;
	return 0;
}

static int splice_refused(const struct half *h)
{
	return h->pipe[0] >= 0 && (errno == EINVAL || errno == ENOSYS);
}

/* Reads into the empty pipe/buffer.  >0 bytes, 0 EOF, -1 errno. */
static ssize_t half_in(struct half *h)
{
	ssize_t n;
	if (h->pipe[0] >= 0) {
		n = splice(h->src, NULL, h->pipe[1], NULL, h->cap, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n >= 0 || !splice_refused(h))
			return n;
		if (to_copy_mode(h) < 0)
			return -1;
	}
	h->off = 0;
	do
		n = read(h->src, h->buf, h->cap);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Writes what is held.  >0 bytes, -1 errno.  (SIGPIPE is ignored: splice
 * into a socket has no MSG_NOSIGNAL.) */
static ssize_t half_out(struct half *h)
{
	ssize_t n;
	if (h->pipe[0] >= 0) {
		n = splice(h->pipe[0], NULL, h->dst, NULL, h->pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n >= 0 || !splice_refused(h))
			return n;
		if (to_copy_mode(h) < 0)
			return -1;
	}
	do
		n = send(h->dst, h->buf + h->off, h->pending, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		h->off += (size_t)n;
	return n;
}

static int fail(struct half *h, const char *side)
{
	snprintf(h->r->why, sizeof h->r->why, "%s: %s", side, strerror(errno));
	return -1;
}

/* Moves what can move now.  0, or -1 with r->why set. */
static int pump(struct half *h)
{
	for (int round = 0; round < PUMP_ROUNDS; round++) {
		if (h->pending > 0) {
			ssize_t n = half_out(h);
			if (n < 0 && errno != EAGAIN)
				return fail(h, h->dst_name);
			if (n > 0) {
				h->pending -= (size_t)n;
				h->moved += (uint64_t)n;
			}
			if (h->pending > 0)
				return 0;            /* dst is full: wait until writable */
		}
		if (h->eof || (round > 0 && h->drained))
			return 0;                    /* src is empty: wait until readable */
		ssize_t n = half_in(h);
		if (n < 0)
			return errno == EAGAIN ? 0 : fail(h, h->src_name);
		if (n == 0) {
			h->eof = 1;
			return 0;
		}
		h->pending = (size_t)n;
		h->drained = (size_t)n < h->cap;
	}
	return 0;
}

/* Empty: wait for src.  Holding bytes: wait for dst (and leave src alone). */
static void watch(struct half *h)
{
	int want_read = !h->eof && h->pending == 0, want_write = h->pending > 0;
	if (want_read && !h->reading)
		event_add(h->rev, NULL);
	else if (!want_read && h->reading)
		event_del(h->rev);
	if (want_write && !h->writing)
		event_add(h->wev, NULL);
	else if (!want_write && h->writing)
		event_del(h->wev);
	h->reading = want_read;
	h->writing = want_write;
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct half *h = arg;
	struct relay *r = h->r;
	uint64_t moved = h->moved;
	(void)fd, (void)what;

	if (pump(h) < 0) {
		r->failed = 1;
		r->done(r, r->why, r->arg);          /* frees r */
		return;
	}
	if (r->fin_armed && h->moved != moved)
		event_add(r->fin_timer, &r->fin_idle);   /* traffic: count the idle time afresh */
	if (h->eof && h->pending == 0 && !h->shut) {
		h->shut = 1;                         /* pass the half-close on */
		if (shutdown(h->dst, SHUT_WR) < 0 && errno != ENOTCONN)
			debug("relay: shutdown(%s): %s", h->dst_name, strerror(errno));
		if (r->h[0].shut && r->h[1].shut) {
			r->done(r, "closed by both sides", r->arg);
			return;
		}
		r->fin_armed = 1;
		event_add(r->fin_timer, &r->fin_idle);
	}
	watch(h);
}

static void on_fin_timer(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	(void)fd, (void)what;
	snprintf(r->why, sizeof r->why, "half-closed and idle for %ld s", (long)r->fin_idle.tv_sec);
	r->done(r, r->why, r->arg);
}

static int half_init(struct relay *r, struct half *h, struct event_base *base,
		     int src, int dst, const char *src_name, const char *dst_name)
{
	h->r = r;
	h->src = src;
	h->dst = dst;
	h->src_name = src_name;
	h->dst_name = dst_name;
	h->pipe[0] = h->pipe[1] = -1;
	h->rev = event_new(base, src, EV_READ | EV_PERSIST, on_io, h);
	h->wev = event_new(base, dst, EV_WRITE | EV_PERSIST, on_io, h);
	if (!h->rev || !h->wev)
		return -1;
	if (getenv("PV_FORWARDER_NO_SPLICE") != NULL)    /* tests, or a kernel whose splice misbehaves */
		debug("relay: PV_FORWARDER_NO_SPLICE is set, %s -> %s uses read/write", src_name, dst_name);
	else if (pipe2(h->pipe, O_NONBLOCK | O_CLOEXEC) == 0) {
		/* A bigger pipe means fewer wake-ups; the kernel may refuse (a
		 * user's pipe memory is limited by fs.pipe-user-pages-soft). */
		if (fcntl(h->pipe[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE) < 0)
			debug("relay: F_SETPIPE_SZ %d: %s", RELAY_PIPE_SIZE, strerror(errno));
		int sz = fcntl(h->pipe[1], F_GETPIPE_SZ);
		if (sz >= 65536) {
			h->cap = (size_t)sz;
			return 0;
		}
		/* A user over the limit gets tiny pipes: the buffer moves more. */
		debug("relay: pipe of %d bytes only, using read/write", sz);
		close(h->pipe[0]);
		close(h->pipe[1]);
	}
	h->pipe[0] = h->pipe[1] = -1;
	h->cap = RELAY_COPY_BUF_SIZE;
	return (h->buf = malloc(h->cap)) ? 0 : -1;
}

struct relay *relay_new(struct event_base *base, int client_fd, int server_fd,
			unsigned fin_idle_s, relay_done_fn done, void *arg)
{
	struct relay *r = calloc(1, sizeof *r);
	if (!r) {
		close(client_fd);
		close(server_fd);
		return NULL;
	}
	r->done = done;
	r->arg = arg;
	r->fin_idle.tv_sec = fin_idle_s;
	r->h[0].src = r->h[1].dst = client_fd;   /* so relay_free closes them */
	r->h[0].dst = r->h[1].src = server_fd;
	r->h[0].pipe[0] = r->h[0].pipe[1] = r->h[1].pipe[0] = r->h[1].pipe[1] = -1;
	if (half_init(r, &r->h[0], base, client_fd, server_fd, "client", "destination") < 0 ||
	    half_init(r, &r->h[1], base, server_fd, client_fd, "destination", "client") < 0 ||
	    !(r->fin_timer = evtimer_new(base, on_fin_timer, r))) {
		relay_free(r);
		return NULL;
	}
	watch(&r->h[0]);
	watch(&r->h[1]);
	return r;
}

void relay_free(struct relay *r)
{
	if (!r)
		return;
	for (int i = 0; i < 2; i++) {
		struct half *h = &r->h[i];
		if (h->rev)
			event_free(h->rev);
		if (h->wev)
			event_free(h->wev);
		if (h->pipe[0] >= 0) {
			close(h->pipe[0]);
			close(h->pipe[1]);
		}
		free(h->buf);
		if (r->failed)   /* pass the failure on as a reset, not a clean FIN */
			setsockopt(h->src, SOL_SOCKET, SO_LINGER,
				   &(struct linger){ .l_onoff = 1, .l_linger = 0 }, sizeof(struct linger));
		close(h->src);
	}
	if (r->fin_timer)
		event_free(r->fin_timer);
	free(r);
}

void relay_bytes(const struct relay *r, uint64_t *up, uint64_t *down)
{
	*up = r->h[0].moved;
	*down = r->h[1].moved;
}

int relay_uses_splice(const struct relay *r)
{
	return r->h[0].pipe[0] >= 0 && r->h[1].pipe[0] >= 0;
}
