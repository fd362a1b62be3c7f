/* ctl_client.c - one line to a forwarder's control port and its reply (see
 * ctl_client.h).  Everything here is bounded by one deadline. */
#define _GNU_SOURCE
#include "ctl_client.h"
#include "clock.h"
#include "hostport.h"
#include "netaddr.h"

#include <errno.h>
#include <features.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* getaddrinfo_a moved into libc proper in glibc 2.34 (before, it needed
 * -lanl, which a plugin loaded by Slurm should not drag in). */
#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 34)
#define HAVE_GAI_A 1
#endif
#endif

#define MAX_ADDRS 8
#define REPLY_MAX 256

static struct {
	char host[HOSTPORT_HOST_MAX + 1];
	size_t n;
	struct sockaddr_storage addr[MAX_ADDRS];
	socklen_t len[MAX_ADDRS];
} cache;

static void cache_fill(const char *host, const struct addrinfo *res)
{
	cache.n = 0;
	for (const struct addrinfo *ai = res; ai && cache.n < MAX_ADDRS; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(cache.addr[0]))
			continue;
		memcpy(&cache.addr[cache.n], ai->ai_addr, ai->ai_addrlen);
		cache.len[cache.n] = ai->ai_addrlen;
		cache.n++;
	}
	snprintf(cache.host, sizeof(cache.host), "%s", cache.n ? host : "");
}

#ifdef HAVE_GAI_A
struct gai_req {
	struct gaicb cb;
	struct addrinfo hints;
	char name[];
};

/* A name lookup that gives up at the deadline.  A request the resolver
 * thread is already working on cannot be cancelled: it is left to finish
 * on its own (and its small allocation with it). */
static int lookup(const char *host, const struct addrinfo *hints, long deadline,
		  struct addrinfo **res, char *err, size_t errlen)
{
	size_t l = strlen(host) + 1;
	struct gai_req *req = calloc(1, sizeof(*req) + l);
	struct gaicb *list[1];
	int rc;

	if (req == NULL) {
		snprintf(err, errlen, "cannot resolve %s: out of memory", host);
		return -1;
	}
	memcpy(req->name, host, l);
	req->hints = *hints;
	req->cb.ar_name = req->name;
	req->cb.ar_request = &req->hints;
	list[0] = &req->cb;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		free(req);
		return -1;
	}
	for (;;) {
		rc = gai_error(&req->cb);
		if (rc != EAI_INPROGRESS)
			break;
		long left = deadline - clock_mono_ms();
		if (left <= 0) {
			if (gai_cancel(&req->cb) == EAI_CANCELED)
				free(req);
			snprintf(err, errlen, "cannot resolve %s in time", host);
			return -1;
		}
		struct timespec ts = { left / 1000, (left % 1000) * 1000000 };
		(void)gai_suspend((const struct gaicb *const *)list, 1, &ts);
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		free(req);
		return -1;
	}
	*res = req->cb.ar_result;
	free(req);
	return 0;
}
#else
/* Older glibc: a plain lookup, bounded only by the resolver's own timeouts
 * (resolv.conf).  Literal addresses and /etc/hosts names return at once. */
static int lookup(const char *host, const struct addrinfo *hints, long deadline,
		  struct addrinfo **res, char *err, size_t errlen)
{
	int rc;

	(void)deadline;
	rc = getaddrinfo(host, NULL, hints, res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	return 0;
}
#endif

/* Fills the cache for host: literals at once, names through lookup(). */
static int resolve(const char *host, long deadline, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	if (cache.n && strcmp(cache.host, host) == 0)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		hints.ai_flags = 0;
		res = NULL;
		if (lookup(host, &hints, deadline, &res, err, errlen) < 0)
			return -1;
	}
	cache_fill(host, res);
	freeaddrinfo(res);
	if (cache.n == 0) {
		snprintf(err, errlen, "cannot resolve %s: no IPv4 or IPv6 address", host);
		return -1;
	}
	return 0;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long deadline)
{
	for (;;) {
		long left = deadline - clock_mono_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (rc > 0)
			return 1;
	}
}

/* A connected, non-blocking, close-on-exec socket to one address, or -1
 * with the reason in err and its errno in *why (0: it took too long). */
static int connect_one(const struct sockaddr *sa, socklen_t salen, long deadline,
		       char *err, size_t errlen, int *why)
{
	int fd, rc, soerr = 0;
	socklen_t sl = sizeof(soerr);

	*why = 0;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, sa, salen);
	if (rc == 0)
		return fd;
	/* EINTR: the connection goes on being set up, as for EINPROGRESS. */
	if (errno != EINPROGRESS && errno != EINTR) {
		*why = errno;
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	rc = wait_fd(fd, POLLOUT, deadline);
	if (rc == 0) {
		snprintf(err, errlen, "no connection in time");
		close(fd);
		return -1;
	}
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
		*why = errno;
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (soerr != 0) {
		*why = soerr;
		snprintf(err, errlen, "%s", strerror(soerr));
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len, long deadline,
		    char *err, size_t errlen)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(fd, POLLOUT, deadline);
			if (rc > 0)
				continue;
			snprintf(err, errlen, "%s", rc == 0 ? "cannot send in time"
				 : strerror(errno));
			return -1;
		}
		snprintf(err, errlen, "send: %s", w < 0 ? strerror(errno) : "nothing sent");
		return -1;
	}
	return 0;
}

/* One reply line (without "\n") into out; 0, or -1 with err. */
static int read_line(int fd, long deadline, int timeout_ms, char *out, size_t outlen,
		     char *err, size_t errlen)
{
	char buf[REPLY_MAX];
	size_t got = 0;

	for (;;) {
		ssize_t r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (r > 0) {
			got += (size_t)r;
			if (memchr(buf, '\n', got) || got == sizeof(buf) - 1)
				break;
			continue;
		}
		if (r == 0) {
			if (got == 0) {
				snprintf(err, errlen, "the connection closed without a reply");
				return -1;
			}
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int rc = wait_fd(fd, POLLIN, deadline);
			if (rc > 0)
				continue;
			if (rc == 0)
				snprintf(err, errlen, "no reply within %d ms", timeout_ms);
			else
				snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		snprintf(err, errlen, "recv: %s", strerror(errno));
		return -1;
	}
	/* The line up to "\n"; NULs and other bytes that are not printable
	 * become '?' so that nothing hides in or garbles a log line. */
	size_t n = 0;
	while (n < got && buf[n] != '\n')
		n++;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)buf[i];
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
	return 0;
}

int ctl_client_send(const char *host, uint16_t port, const char *line,
		    int timeout_ms, char *reply, size_t replylen)
{
	char where[HOSTPORT_HOST_MAX + 80], addr[80], why[200], err[300];
	long deadline;
	int fd = -1, why_errno = 0;
	size_t refused = 0;

	if (timeout_ms <= 0)
		timeout_ms = CTL_CLIENT_TIMEOUT_MS;
	deadline = clock_mono_ms() + timeout_ms;
	if (reply == NULL || replylen == 0)
		return -1;
	reply[0] = '\0';
	hostport_format(where, sizeof(where), host, port);
	if (resolve(host, deadline, err, sizeof(err)) < 0) {
		snprintf(reply, replylen, "%s", err);
		return -1;
	}

	/* Each address gets an equal share of what is left, so one that
	 * drops packets does not use up the time of the next. */
	snprintf(err, sizeof(err), "no address");
	for (size_t i = 0; i < cache.n && fd < 0; i++) {
		struct sockaddr_storage ss = cache.addr[i];
		long left = deadline - clock_mono_ms();
		if (left <= 0)
			break;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sockaddr_format((struct sockaddr *)&ss, addr, sizeof(addr), 0);
		fd = connect_one((struct sockaddr *)&ss, cache.len[i],
				 clock_mono_ms() + left / (long)(cache.n - i), why, sizeof(why),
				 &why_errno);
		if (fd < 0) {
			refused += why_errno == ECONNREFUSED;
			if (strcmp(addr, host) == 0)
				snprintf(err, sizeof(err), "%s", why);
			else
				snprintf(err, sizeof(err), "%s (%s)", why, addr);
		}
	}
	if (fd < 0) {
		snprintf(reply, replylen, "%s: %s", where, err);
		/* every address said at once that nothing listens there (a
		 * timeout says nothing of the kind): callers tell the user so */
		return refused == cache.n ? CTL_CLIENT_REFUSED : -1;
	}
	if (send_all(fd, line, strlen(line), deadline, why, sizeof(why)) < 0 ||
	    read_line(fd, deadline, timeout_ms, reply, replylen, why, sizeof(why)) < 0) {
		snprintf(reply, replylen, "%s: %s", where, why);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
