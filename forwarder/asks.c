/* asks.c - questions to slurmctld waiting for an answer (see asks.h). */
#include "asks.h"

#include <stdlib.h>

const char *ask_reason_name(enum ask_reason r)
{
	switch (r) {
	case ASK_POLL:            return "poll";
	case ASK_HELLO:           return "HELLO";
	case ASK_BYE:             return "BYE";
	case ASK_LIFELINE:        return "lifeline";
	case ASK_JOB_ID:          return "--job-id";
	case ASK_RETRY:           return "retry";
	case ASK_ORDER:           return "order";
	case ASK_END:             return "END";
	case ASK_NONE:            break;
	}
	return "?";
}

int ask_reason_is_request(enum ask_reason r)
{
	return r == ASK_HELLO || r == ASK_BYE || r == ASK_END;
}

uint64_t asks_next_tag(struct asks *q)
{
	return ++q->seq;
}

struct ask *asks_find(struct asks *q, uint32_t id)
{
	for (struct ask *a = q->head; a; a = a->next)
		if (a->id == id)
			return a;
	return NULL;
}

uint64_t asks_add(struct asks *q, uint32_t id, enum ask_reason why)
{
	struct ask *a = calloc(1, sizeof *a), **tail = &q->head;
	if (!a)
		return 0;
	a->id = id;
	a->seq = asks_next_tag(q);
	a->why = why;
	while (*tail)
		tail = &(*tail)->next;
	*tail = a;
	return a->seq;
}

static struct ask *unlink_seq(struct asks *q, uint64_t seq)
{
	for (struct ask **pa = &q->head; *pa; pa = &(*pa)->next)
		if ((*pa)->seq == seq) {
			struct ask *a = *pa;
			*pa = a->next;
			return a;
		}
	return NULL;
}

void asks_drop(struct asks *q, uint64_t seq)
{
	free(unlink_seq(q, seq));
}

enum ask_reason asks_take(struct asks *q, uint64_t seq)
{
	struct ask *a = unlink_seq(q, seq);
	enum ask_reason why = a ? a->why : ASK_NONE;
	free(a);
	return why;
}

void asks_free(struct asks *q)
{
	while (q->head) {
		struct ask *a = q->head;
		q->head = a->next;
		free(a);
	}
}
