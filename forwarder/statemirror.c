/* statemirror.c - the state-file mirror (see statemirror.h). */
#include "statemirror.h"

#include <stdio.h>
#include <string.h>

#include "state.h"

int statemirror_due(const struct statemirror *m, const struct mirror_now *n, double now)
{
	int changed = n->conns != m->last.conns || n->job != m->last.job ||
		      strcmp(n->state, m->last_state) != 0 || n->rpcs != m->last.rpcs;
	int moved = n->up != m->last.up || n->down != m->last.down;
	return changed || (moved && now - m->last_write >= STATEMIRROR_BYTES_S);
}

void statemirror_write(struct statemirror *m, const struct mirror_now *n, double now)
{
	if (!m->st)
		return;
	struct staterec r = m->fixed;
	r.job = n->job;
	snprintf(r.state, sizeof r.state, "%s", n->state);
	r.conns = n->conns;
	r.up = n->up;
	r.down = n->down;
	r.updated = time(NULL);
	r.rpcs = n->rpcs;
	r.submit_from = n->submit_from;
	r.submit_to = n->submit_to;
	state_write(m->st, &r);
	m->last = *n;
	m->last.state = NULL;
	snprintf(m->last_state, sizeof m->last_state, "%s", r.state);
	m->last_write = now;
}
