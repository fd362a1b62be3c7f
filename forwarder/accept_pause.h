/* accept_pause.h - what a listening port does when accept() fails for want
 * of descriptors or memory (sock_accept_error_pauses()): it stops
 * accepting for ACCEPT_PAUSE_S instead of spinning on a connection it
 * cannot take, then accepts again.  Shared by the data port (listener.c,
 * every listening socket at once) and the control port (ctl_server.c).
 *
 * The owner creates one pause with the function that switches its
 * accepting off (on = 0) and on again (on = 1), calls accept_pause_error()
 * from its evconnlistener error callback, and frees the pause before the
 * sockets the function touches. */
#ifndef PVF_ACCEPT_PAUSE_H
#define PVF_ACCEPT_PAUSE_H

struct event_base;
struct accept_pause;

#define ACCEPT_PAUSE_S 1

struct accept_pause *accept_pause_new(struct event_base *base, void (*set_accepting)(void *arg, int on),
				      void *arg);
void accept_pause_free(struct accept_pause *p);

/* accept() failed with errno e: when it is one that pauses, logs
 * "<what>: <error>; not accepting for 1 s" and pauses. */
void accept_pause_error(struct accept_pause *p, int e, const char *what);

#endif
