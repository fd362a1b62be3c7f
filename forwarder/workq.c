/* workq.c - one worker thread behind the event loop (see workq.h): a FIFO
 * under a mutex and condition variable, finished items handed back through a
 * pipe that the loop watches. */
#define _GNU_SOURCE
#include "workq.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

/* How long workq_free waits for a busy worker.  A forwarder whose job has
 * ended must not wait for a slow DNS server or slurmctld: the job's lifetime
 * bounds are counted in seconds. */
#define WORKQ_JOIN_MS 100

struct workq {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct work *todo, **todo_tail;    /* under lock */
	struct work *done, **done_tail;    /* under lock: finished, not yet handed to done */
	int stop;                          /* under lock: the worker should end */
	int pipe[2];                       /* worker -> loop: "something is done" */
	struct event *ev;
	pthread_t tid;
	workq_fn run, done_fn;
	void *ctx;
};

static void *worker(void *arg)
{
	struct workq *q = arg;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->todo && !q->stop)
			pthread_cond_wait(&q->wake, &q->lock);
		if (q->stop)
			break;
		struct work *w = q->todo;
		if (!(q->todo = w->next))
			q->todo_tail = &q->todo;
		w->next = NULL;
		if (!w->cancelled) {
			pthread_mutex_unlock(&q->lock);
			q->run(w, q->ctx);
			pthread_mutex_lock(&q->lock);
		}
		*q->done_tail = w;
		q->done_tail = &w->next;
		while (write(q->pipe[1], "", 1) < 0 && errno == EINTR)
			;   /* EAGAIN: the pipe is full, so a wake-up is pending anyway */
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct workq *q = arg;
	char drain[256];
	(void)what;
	while (read(fd, drain, sizeof drain) > 0)
		;
	pthread_mutex_lock(&q->lock);
	struct work *list = q->done;
	q->done = NULL;
	q->done_tail = &q->done;
	pthread_mutex_unlock(&q->lock);
	/* done frees the item: take the next one first.  It may cancel an item
	 * further on in this list, which then arrives with cancelled set. */
	while (list) {
		struct work *w = list;
		list = w->next;
		q->done_fn(w, q->ctx);
	}
}

struct workq *workq_new(struct event_base *base, workq_fn run, workq_fn done, void *ctx)
{
	struct workq *q = calloc(1, sizeof *q);
	sigset_t all, old;
	int err = ENOMEM;
	if (!q)
		return NULL;
	if (pipe2(q->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		err = errno;
		free(q);
		errno = err;
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	q->todo_tail = &q->todo;
	q->done_tail = &q->done;
	q->run = run;
	q->done_fn = done;
	q->ctx = ctx;
	q->ev = event_new(base, q->pipe[0], EV_READ | EV_PERSIST, on_ready, q);
	if (!q->ev || event_add(q->ev, NULL) < 0)
		goto fail;
	/* Signals go to the loop thread only: the worker starts with all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&q->tid, NULL, worker, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		err = rc;
		goto fail;
	}
	return q;
fail:
	if (q->ev)
		event_free(q->ev);
	close(q->pipe[0]);
	close(q->pipe[1]);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->wake);
	free(q);
	errno = err;
	return NULL;
}

void workq_push(struct workq *q, struct work *w)
{
	w->next = NULL;
	w->cancelled = 0;
	pthread_mutex_lock(&q->lock);
	*q->todo_tail = w;
	q->todo_tail = &w->next;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

void workq_cancel(struct workq *q, struct work *w)
{
	/* under the lock: the worker reads it there when the item's turn comes */
	pthread_mutex_lock(&q->lock);
	w->cancelled = 1;
	pthread_mutex_unlock(&q->lock);
}

/* 0 when joined; -1 when the thread was detached instead (the process's
 * exit ends it). */
static int join_or_detach(pthread_t tid)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += WORKQ_JOIN_MS * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(tid, NULL, &deadline) == 0)
		return 0;
	pthread_detach(tid);
	return -1;
}

static void discard_list(struct workq *q, struct work *w, workq_fn discard)
{
	while (w) {
		struct work *next = w->next;
		discard(w, q->ctx);
		w = next;
	}
}

int workq_free(struct workq *q, workq_fn discard)
{
	if (!q)
		return 0;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	if (join_or_detach(q->tid) != 0) {
		/* The worker still uses q (and ctx) and will write to the pipe when
		 * its call returns: keep them, but no callback after this. */
		event_del(q->ev);
		return -1;
	}
	event_free(q->ev);
	close(q->pipe[0]);
	close(q->pipe[1]);
	discard_list(q, q->todo, discard);
	discard_list(q, q->done, discard);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->wake);
	free(q);
	return 0;
}
