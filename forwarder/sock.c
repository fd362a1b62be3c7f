/* sock.c - socket set-up (see sock.h). */
#include "sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void setint(int fd, int level, int name, int value, const char *what)
{
	if (setsockopt(fd, level, name, &value, sizeof value) < 0)
		debug("setsockopt(%s): %s", what, strerror(errno));
}

void sock_tune(int fd)
{
	setint(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	setint(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
	setint(fd, IPPROTO_TCP, TCP_KEEPIDLE, SOCK_KEEPIDLE_S, "TCP_KEEPIDLE");
	setint(fd, IPPROTO_TCP, TCP_KEEPINTVL, SOCK_KEEPINTVL_S, "TCP_KEEPINTVL");
	setint(fd, IPPROTO_TCP, TCP_KEEPCNT, SOCK_KEEPCNT, "TCP_KEEPCNT");
	setint(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, SOCK_USER_TIMEOUT_MS, "TCP_USER_TIMEOUT");
}

int sock_listen(const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setint(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		setint(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		       !IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr), "IPV6_V6ONLY");
	}
	if (bind(fd, sa, len) < 0 || listen(fd, SOCK_BACKLOG) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int sock_connect(const struct sockaddr *sa, socklen_t len,
		 const struct sockaddr *src, socklen_t srclen, int *in_progress)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	*in_progress = 0;
	if (srclen > 0 && bind(fd, src, srclen) < 0)
		goto fail;
	if (connect(fd, sa, len) == 0)
		return fd;
	if (errno == EINPROGRESS) {
		*in_progress = 1;
		return fd;
	}
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

int sock_accept_error_pauses(int e)
{
	return e != EINTR && e != ECONNABORTED;
}

unsigned sock_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}
