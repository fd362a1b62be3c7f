/* accept_pause.c - a pause in accepting after accept() failed (see accept_pause.h). */
#include "accept_pause.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "sock.h"

struct accept_pause {
	struct event *resume_ev;
	void (*set_accepting)(void *arg, int on);
	void *arg;
};

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct accept_pause *p = arg;
	(void)fd, (void)what;
	p->set_accepting(p->arg, 1);
}

struct accept_pause *accept_pause_new(struct event_base *base, void (*set_accepting)(void *arg, int on),
				      void *arg)
{
	struct accept_pause *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->set_accepting = set_accepting;
	p->arg = arg;
	if (!(p->resume_ev = evtimer_new(base, on_resume, p))) {
		free(p);
		return NULL;
	}
	return p;
}

void accept_pause_free(struct accept_pause *p)
{
	if (!p)
		return;
	event_free(p->resume_ev);
	free(p);
}

void accept_pause_error(struct accept_pause *p, int e, const char *what)
{
	if (!sock_accept_error_pauses(e))
		return;
	error("%s: %s; not accepting for %d s", what, strerror(e), ACCEPT_PAUSE_S);
	p->set_accepting(p->arg, 0);
	event_add(p->resume_ev, &(struct timeval){ ACCEPT_PAUSE_S, 0 });
}
