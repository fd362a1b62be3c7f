/* pingpong.c - 1-byte TCP round-trip latency, for tests/bench.
 *
 *   pingpong serve PORT              echo server on 127.0.0.1:PORT (one connection at a
 *                                    time, TCP_NODELAY, until killed)
 *   pingpong client HOST PORT N      N round trips of 1 byte (after 200 warm-up ones);
 *                                    prints "median_us p10_us p90_us mean_us N"
 *
 * Built by tests/bench into its temp dir (cc -O2); not part of the project's build. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void __attribute__((noreturn)) serve(int port)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (ls < 0)
		die("socket");
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 64) < 0)
		die("bind/listen");
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		nodelay(c);
		char buf[4096];
		ssize_t n;
		while ((n = read(c, buf, sizeof buf)) > 0)
			if (write(c, buf, n) != n)
				break;
		close(c);
	}
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int client(const char *host, const char *port, int n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		fprintf(stderr, "cannot resolve %s:%s\n", host, port);
		return 1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0)
		die("connect");
	freeaddrinfo(res);
	nodelay(fd);
	double *t = malloc(sizeof *t * n);
	if (!t)
		die("malloc");
	char b = 'x';
	for (int i = -200; i < n; i++) {
		double t0 = now_us();
		if (write(fd, &b, 1) != 1)
			die("write");
		ssize_t r = read(fd, &b, 1);
		if (r != 1) {
			fprintf(stderr, "read: %s\n", r == 0 ? "EOF" : strerror(errno));
			return 1;
		}
		if (i >= 0)
			t[i] = now_us() - t0;
	}
	close(fd);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += t[i];
	qsort(t, n, sizeof *t, cmp);
	printf("%.1f %.1f %.1f %.1f %d\n", t[n / 2], t[n / 10], t[n * 9 / 10], sum / n, n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		serve(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "client") == 0 && atoi(argv[4]) > 0)
		return client(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: pingpong serve PORT | pingpong client HOST PORT N\n");
	return 2;
}
