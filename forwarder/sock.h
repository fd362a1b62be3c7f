/* sock.h - socket set-up shared by the listener and the upstream connects. */
#ifndef PVF_SOCK_H
#define PVF_SOCK_H

#include <sys/socket.h>

/* Keepalive for both sockets of a pair: modest values, so a peer that
 * vanished (a node rebooted, a NAT forgot us) is noticed within minutes
 * while an idle ParaView session (quiet for minutes) is kept. */
#define SOCK_KEEPIDLE_S   60
#define SOCK_KEEPINTVL_S  10
#define SOCK_KEEPCNT      6
/* TCP_USER_TIMEOUT: how long sent data may stay unacknowledged before the
 * kernel gives the connection up.  Keepalive probes are only sent on an idle
 * connection; with data in flight when a link goes down the kernel would
 * retransmit for about 15 minutes (tcp_retries2), and the pair would hang
 * that long.  With this bound both sides of a relayed pair are closed within
 * about two minutes of the last acknowledgement (README, "When things
 * break").  Long enough for a congested or briefly flapping link. */
#define SOCK_USER_TIMEOUT_MS 120000
/* Room for a burst of connects: the default 128 drops SYNs of a burst of
 * 200 (retried only after 1 s; on gVisor's netstack some were lost for
 * good).  The kernel caps it at net.core.somaxconn. */
#define SOCK_BACKLOG      1024

/* TCP_NODELAY, SO_KEEPALIVE (+ TCP_KEEPIDLE/INTVL/CNT) and TCP_USER_TIMEOUT
 * on fd; failures are logged at debug level only. */
void sock_tune(int fd);

/* A non-blocking, close-on-exec socket bound to sa and listening.  The IPv6
 * any-address accepts IPv4 as well.  -1 with errno on failure. */
int sock_listen(const struct sockaddr *sa, socklen_t len);

/* Starts a non-blocking connect to sa (from src when srclen > 0).  Returns the
 * socket, with *in_progress = 1 when the connect is pending; -1 with errno. */
int sock_connect(const struct sockaddr *sa, socklen_t len,
		 const struct sockaddr *src, socklen_t srclen, int *in_progress);

/* Whether a failed accept() (errno e) should pause accepting: yes for all but
 * EINTR and ECONNABORTED (the peer gave up).  EMFILE and the like leave the
 * connection in the backlog and the socket readable, so accepting again at
 * once would spin; accept_pause.c pauses for a second. */
int sock_accept_error_pauses(int e);

/* The port a bound socket has, 0 on failure. */
unsigned sock_local_port(int fd);

#endif
