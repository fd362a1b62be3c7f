/* splicefloor.c - the least a user-space splice relay can do, for tests/bench.
 *
 *   splicefloor LPORT DPORT    relays 127.0.0.1:LPORT to 127.0.0.1:DPORT until killed
 *
 * Each accepted connection gets a connection to the destination and two
 * threads, one per direction, each a blocking splice(2) loop through its own
 * 1 MiB pipe (the size pv-forwarder asks for): no event loop, no access check,
 * no limits, no accounting.  What pv-forwarder costs beyond this is its own
 * doing; what this costs is the kernel's (the second TCP hop), which no relay
 * that moves bytes with splice can avoid.  The bench runs it as one more
 * relay and prints pv-forwarder's ratio to it.
 *
 * Built by tests/bench into its temp dir (cc -O2 -pthread); not part of the
 * project's build. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPE_SIZE (1024 * 1024)

struct pair {
	int fd[2];              /* client, destination */
	int running;            /* directions still going (under lock) */
	pthread_mutex_t lock;
};

struct dir {
	struct pair *p;
	int src, dst;
};

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The last direction to end closes the pair. */
static void pair_release(struct pair *p)
{
	pthread_mutex_lock(&p->lock);
	int last = --p->running == 0;
	pthread_mutex_unlock(&p->lock);
	if (last) {
		close(p->fd[0]);
		close(p->fd[1]);
		pthread_mutex_destroy(&p->lock);
		free(p);
	}
}

/* src -> dst until EOF or an error; then passes the half-close on. */
static void *pump(void *arg)
{
	struct dir *d = arg;
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) == 0) {
		fcntl(pfd[1], F_SETPIPE_SZ, PIPE_SIZE);
		for (;;) {
			ssize_t n = splice(d->src, NULL, pfd[1], NULL, PIPE_SIZE, SPLICE_F_MOVE);
			if (n <= 0)
				break;
			while (n > 0) {
				ssize_t m = splice(pfd[0], NULL, d->dst, NULL, (size_t)n, SPLICE_F_MOVE);
				if (m <= 0)
					goto out;
				n -= m;
			}
		}
out:
		close(pfd[0]);
		close(pfd[1]);
	}
	shutdown(d->dst, SHUT_WR);
	struct pair *p = d->p;
	free(d);
	pair_release(p);
	return NULL;
}

static int start(struct pair *p, int src, int dst)
{
	struct dir *d = malloc(sizeof *d);
	pthread_t t;
	if (!d)
		return -1;
	*d = (struct dir){ p, src, dst };
	if (pthread_create(&t, NULL, pump, d) != 0) {
		free(d);
		return -1;
	}
	pthread_detach(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: splicefloor LPORT DPORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in da = la;
	da.sin_port = htons((uint16_t)atoi(argv[2]));
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(ls, (struct sockaddr *)&la, sizeof la) < 0 || listen(ls, 128) < 0) {
		perror("splicefloor: listen");
		return 1;
	}
	for (;;) {
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("splicefloor: accept");
			return 1;
		}
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct pair *p = calloc(1, sizeof *p);
		if (s < 0 || !p || connect(s, (struct sockaddr *)&da, sizeof da) < 0) {
			perror("splicefloor: connect");
			close(c);
			if (s >= 0)
				close(s);
			free(p);
			continue;
		}
		nodelay(c);
		nodelay(s);
		*p = (struct pair){ .fd = { c, s }, .running = 2 };
		pthread_mutex_init(&p->lock, NULL);
		/* Both threads or neither: a pair with one direction would never close. */
		if (start(p, c, s) < 0) {
			close(c);
			close(s);
			pthread_mutex_destroy(&p->lock);
			free(p);
			continue;
		}
		if (start(p, s, c) < 0) {
			shutdown(c, SHUT_RDWR);   /* ends the started direction */
			pair_release(p);
		}
	}
}
