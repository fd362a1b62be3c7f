/* binding.c - the bound job and who may connect (see binding.h). */
#include "binding.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void binding_set(struct binding *b, uint32_t id)
{
	b->bound = id;
	b->phase = JOB_PHASE_WAITING;
	b->state_name[0] = '\0';
	b->job_state = 0;
}

void binding_clear(struct binding *b)
{
	binding_free(b);
	memset(b, 0, sizeof *b);
	b->phase = JOB_PHASE_WAITING;
}

void binding_free(struct binding *b)
{
	free(b->ids);
	free(b->nodes);
	free(b->addrs);
	b->ids = NULL;
	b->nodes = NULL;
	b->addrs = NULL;
	b->nids = b->naddrs = 0;
}

int binding_knows(const struct binding *b, uint32_t id)
{
	if (!b->bound)
		return 0;
	if (id == b->bound)
		return 1;
	for (size_t i = 0; i < b->nids; i++)
		if (b->ids[i] == id)
			return 1;
	return 0;
}

int binding_update(struct binding *b, const struct sj_answer *a, double now)
{
	size_t found;
	enum job_phase old = b->phase;
	char old_state[48];
	snprintf(old_state, sizeof old_state, "%s", b->state_name);

	uint32_t *ids = calloc(a->nrecs ? a->nrecs : 1, sizeof *ids);
	size_t nids = 0;
	for (size_t i = 0; ids && i < a->nrecs; i++)
		if (jobrules_belongs(&a->recs[i], b->bound))
			ids[nids++] = a->recs[i].job_id;
	if (ids) {
		free(b->ids);
		b->ids = ids;
		b->nids = nids;
	}
	b->phase = jobrules_phase_of(a->recs, a->nrecs, b->bound, &found);
	for (size_t i = 0; i < a->nrecs; i++)
		if (a->recs[i].job_id == b->bound ||
		    (a->recs[i].job_id == a->asked && jobrules_belongs(&a->recs[i], b->bound))) {
			jobrules_state_name(a->recs[i].job_state, b->state_name, sizeof b->state_name);
			b->job_state = a->recs[i].job_state;
			break;
		}
	b->loaded_at = now;

	int nodes_changed = (a->nodes == NULL) != (b->nodes == NULL) ||
			    (a->nodes && strcmp(a->nodes, b->nodes) != 0);
	if (nodes_changed) {
		free(b->nodes);
		b->nodes = a->nodes ? strdup(a->nodes) : NULL;
	}
	if (a->resolved) {
		struct cidr *copy = a->naddrs ? malloc(a->naddrs * sizeof *copy) : NULL;
		if (copy || !a->naddrs) {
			if (a->naddrs)
				memcpy(copy, a->addrs, a->naddrs * sizeof *copy);
			free(b->addrs);
			b->addrs = copy;
			b->naddrs = a->naddrs;
		}
	} else if (!a->nodes) {
		free(b->addrs);
		b->addrs = NULL;
		b->naddrs = 0;
	}
	if (a->unresolved[0] && (nodes_changed || a->resolved))
		error("job %" PRIu32 ": no address for node(s) %s: they cannot connect", b->bound,
		      a->unresolved);

	return !(b->phase == old && !nodes_changed && !a->resolved &&
		 strcmp(old_state, b->state_name) == 0);
}

size_t binding_allowed(const struct binding *b, int inferred, const struct cidr **list)
{
	if (b->bound && b->phase == JOB_PHASE_ACTIVE && !inferred) {
		*list = b->addrs;
		return b->naddrs;
	}
	*list = NULL;
	return 0;
}

int binding_hello_at_once(const struct binding *b, int inferred, uint32_t job_id,
			  const struct sockaddr *peer, double now, double fresh_s)
{
	return binding_knows(b, job_id) && b->phase == JOB_PHASE_ACTIVE && !inferred &&
	       (cidr_list_match(b->addrs, b->naddrs, peer) || now - b->loaded_at < fresh_s);
}

static void cidr_text(const struct cidr *c, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (c->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, c->addr, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, c->addr, 16);
	}
	sockaddr_format((struct sockaddr *)&ss, buf, len, 0);
}

void binding_addrs_text(const struct binding *b, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < b->naddrs && used + 60 < len; i++) {
		char one[64];
		cidr_text(&b->addrs[i], one, sizeof one);
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", one);
	}
	if (used + 60 >= len && b->naddrs)
		snprintf(buf + used, len - used, ", ...");
}
