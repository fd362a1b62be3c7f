/* service.c - services, routes and the lists that own them (see service.h). */
#include "service.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

void service_free(struct service *svc)
{
	if (!svc)
		return;
	for (size_t i = 0; i < svc->nroutes; i++) {
		free(svc->routes[i].from);
		free(svc->routes[i].dest);
	}
	free(svc->routes);
	free(svc);
}

struct route *service_route_for(const struct service *svc, const struct sockaddr *sa)
{
	uint16_t port = ntohs(sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
				  : ((const struct sockaddr_in6 *)sa)->sin6_port);
	for (size_t i = 0; i < svc->nroutes; i++) {
		struct route *rt = &svc->routes[i];
		if (rt->nfrom == 0)
			return rt;
		for (size_t j = 0; j < rt->nfrom; j++) {
			const struct src_match *m = &rt->from[j];
			if ((m->any_host || cidr_match(&m->net, sa)) &&
			    (!m->port_lo || (port >= m->port_lo && port <= m->port_hi)))
				return rt;
		}
	}
	return NULL;
}

int service_list_add(struct service_list *list, struct service *svc)
{
	struct service **grown = realloc(list->v, (list->n + 1) * sizeof *grown);
	if (!grown)
		return -1;
	list->v = grown;
	list->v[list->n++] = svc;
	return 0;
}

int service_list_move(struct service_list *to, struct service_list *from)
{
	if (!from->n)
		return 0;
	struct service **grown = realloc(to->v, (to->n + from->n) * sizeof *grown);
	if (!grown)
		return -1;
	to->v = grown;
	memcpy(to->v + to->n, from->v, from->n * sizeof *from->v);
	to->n += from->n;
	free(from->v);
	from->v = NULL;
	from->n = 0;
	return 0;
}

void service_list_free(struct service_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		service_free(list->v[i]);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}
