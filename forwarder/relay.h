/* relay.h - moves bytes both ways between two connected TCP sockets.
 *
 * Each direction runs through its own pipe with splice(2) (a plain read/write
 * buffer when the kernel refuses splice for these sockets), holds at most one
 * pipe (or buffer) of data, and passes a half-close on: EOF from one side
 * becomes shutdown(SHUT_WR) on the other once everything before it is
 * written.  The relay owns both descriptors from relay_new() on. */
#ifndef PVF_RELAY_H
#define PVF_RELAY_H

#include <stdint.h>

struct event_base;
struct relay;

/* Bytes buffered per direction (the pipe size asked for with F_SETPIPE_SZ,
 * and the size of the copy buffer of the read/write fallback). */
#define RELAY_PIPE_SIZE      (1024 * 1024)
#define RELAY_COPY_BUF_SIZE  (256 * 1024)

/* Called once when the relay is over: both directions closed, an error, or
 * the FIN timeout.  reason is a short phrase for the log ("closed by both
 * sides", "client: Connection reset by peer").  The callee may (and should)
 * relay_free() r. */
typedef void (*relay_done_fn)(struct relay *r, const char *reason, void *arg);

/* Starts relaying between client and server (non-blocking, connected).
 * fin_idle_s (>= 1, --fin-timeout): once one direction has closed, the pair
 * is closed when no byte has moved for this long (no FIN_WAIT/CLOSE_WAIT
 * leak, but a slow reply to a half-closed request still gets through while
 * it keeps flowing: every byte moved restarts the count).
 * NULL on failure (out of memory/descriptors) - then both are closed. */
struct relay *relay_new(struct event_base *base, int client_fd, int server_fd,
			unsigned fin_idle_s, relay_done_fn done, void *arg);
/* Closes both sockets (with a reset after an error) and frees r. */
void relay_free(struct relay *r);
/* Bytes delivered so far client -> server (up) and server -> client (down). */
void relay_bytes(const struct relay *r, uint64_t *up, uint64_t *down);
/* 1 when the directions use splice, 0 for the read/write fallback. */
int relay_uses_splice(const struct relay *r);

#endif
