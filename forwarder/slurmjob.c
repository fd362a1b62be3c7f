/* slurmjob.c - libslurm questions in a worker thread (see slurmjob.h). */
#define _GNU_SOURCE
#include "slurmjob.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#include "log.h"
#include "slurm_compat.h"
#include "workq.h"

enum sj_kind { Q_JOB, Q_USER };

struct sj_q {
	struct work w;             /* first: the queue's link */
	enum sj_kind kind;
	uint32_t id;               /* job id or uid */
	char *prev_nodes;
	sj_fn fn;
	void *arg;
	struct sj_answer a;
};

struct slurmjob {
	struct workq *q;
	char (*hosts)[JOBREC_HOST_MAX];   /* worker only: this host's names */
	size_t nhosts;
	int hosts_known;
	unsigned busy;             /* loop thread only */
	unsigned long rpcs;        /* the worker counts, the loop reads: __atomic_* */
};

static void answer_free(struct sj_answer *a)
{
	free(a->recs);
	free(a->addrs);
	free(a->nodes);
	free(a->hosts);
	a->hosts = NULL;
	a->recs = NULL;
	a->addrs = NULL;
	a->nodes = NULL;
}

static void q_free(struct sj_q *q)
{
	answer_free(&q->a);
	free(q->prev_nodes);
	free(q);
}

/* ---- in the worker */

/* One more RPC, for the answer and in all (the loop reads the total at any
 * time: atomic, not the queue's lock). */
static void count_rpc(struct slurmjob *sj, struct sj_answer *a)
{
	__atomic_add_fetch(&sj->rpcs, 1, __ATOMIC_RELAXED);
	a->rpcs++;
}

static void set_error(struct sj_answer *a, int err)
{
	a->rc = err == ESLURM_INVALID_JOB_ID ? SJ_UNKNOWN : SJ_ERROR;
	snprintf(a->error, sizeof a->error, "%s", slurm_strerror(err));
}

static int copy_records(struct sj_answer *a, const job_info_msg_t *msg)
{
	if (!msg->record_count)
		return 0;
	if (!(a->recs = calloc(msg->record_count, sizeof *a->recs)))
		return -1;
	for (uint32_t i = 0; i < msg->record_count; i++) {
		const slurm_job_info_t *j = &msg->job_array[i];
		struct jobrec *r = &a->recs[a->nrecs++];
		r->job_id = j->job_id;
		r->het_job_id = j->het_job_id == NO_VAL ? 0 : j->het_job_id;
		r->array_job_id = j->array_job_id;
		r->user_id = j->user_id;
		r->job_state = j->job_state;
		r->submit_time = j->submit_time;
		snprintf(r->alloc_node, sizeof r->alloc_node, "%s", j->alloc_node ? j->alloc_node : "");
		r->alloc_sid = j->alloc_sid;
	}
	return 0;
}

static void append(char *buf, size_t len, const char *sep, const char *s)
{
	size_t n = strlen(buf);
	if (n && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s", sep);
	if (n < len)
		snprintf(buf + n, len - n, "%s", s);
}

static int add_addrs(struct sj_answer *a, const struct addrinfo *res)
{
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		struct cidr c;
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		cidr_from_sockaddr(ai->ai_addr, &c);
		int dup = 0;
		for (size_t i = 0; i < a->naddrs && !dup; i++)
			dup = a->addrs[i].family == c.family && a->addrs[i].prefix == c.prefix &&
			      memcmp(a->addrs[i].addr, c.addr, sizeof c.addr) == 0;
		if (dup)
			continue;
		struct cidr *grown = realloc(a->addrs, (a->naddrs + 1) * sizeof *grown);
		if (!grown)
			return -1;
		a->addrs = grown;
		a->addrs[a->naddrs++] = c;
	}
	return 0;
}

static int lookup(const char *host, struct addrinfo **res)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	return getaddrinfo(host, NULL, &hints, res);
}

/* One node's addresses: its name, else its NodeAddr from slurmctld. */
static void resolve_node(struct slurmjob *sj, struct sj_answer *a, char *node)
{
	struct addrinfo *res = NULL;
	if (lookup(node, &res) == 0) {
		add_addrs(a, res);
		freeaddrinfo(res);
		return;
	}
	node_info_msg_t *ni = NULL;
	int ok = 0;
	count_rpc(sj, a);
	if (slurm_load_node_single(&ni, node, SHOW_ALL) == SLURM_SUCCESS && ni &&
	    ni->record_count > 0 && ni->node_array[0].node_addr &&
	    strcmp(ni->node_array[0].node_addr, node) != 0 &&
	    lookup(ni->node_array[0].node_addr, &res) == 0) {
		add_addrs(a, res);
		freeaddrinfo(res);
		ok = 1;
	}
	if (ni)
		slurm_free_node_info_msg(ni);
	if (!ok)
		append(a->unresolved, sizeof a->unresolved, ",", node);
}

static void resolve_nodes(struct slurmjob *sj, struct sj_q *q)
{
	struct sj_answer *a = &q->a;
	struct hostlist *hl = slurm_hostlist_create(a->nodes);
	if (!hl)
		return;
	char *node;
	while ((node = slurm_hostlist_shift(hl))) {
		resolve_node(sj, a, node);
		free(node);
	}
	slurm_hostlist_destroy(hl);
	a->resolved = 1;
}

static int rpc_load_job(struct slurmjob *sj, struct sj_q *q, uint32_t id, job_info_msg_t **msg)
{
	count_rpc(sj, &q->a);
	*msg = NULL;
	/* SHOW_LOCAL: without it every call first asks for the federation
	 * (REQUEST_FED_INFO), two RPCs instead of one. */
	if (compat_load_job(msg, id, SHOW_ALL | SHOW_LOCAL) != SLURM_SUCCESS) {
		int err = errno;
		if (*msg)
			slurm_free_job_info_msg(*msg);
		*msg = NULL;
		set_error(&q->a, err);
		return -1;
	}
	return 0;
}

static void do_load_job(struct slurmjob *sj, struct sj_q *q)
{
	struct sj_answer *a = &q->a;
	job_info_msg_t *msg;
	a->asked = a->bound = q->id;
	if (rpc_load_job(sj, q, q->id, &msg) < 0)
		return;
	/* A het job component: ask its leader, which answers for every component. */
	for (uint32_t i = 0; i < msg->record_count; i++) {
		const slurm_job_info_t *j = &msg->job_array[i];
		if (j->job_id == q->id && j->het_job_id && j->het_job_id != NO_VAL &&
		    j->het_job_id != q->id) {
			a->bound = j->het_job_id;
			slurm_free_job_info_msg(msg);
			if (rpc_load_job(sj, q, a->bound, &msg) < 0)
				return;
			break;
		}
	}
	if (copy_records(a, msg) < 0) {
		slurm_free_job_info_msg(msg);
		a->rc = SJ_ERROR;
		snprintf(a->error, sizeof a->error, "out of memory");
		return;
	}
	size_t len = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < msg->record_count; i++) {
			const slurm_job_info_t *j = &msg->job_array[i];
			if (!jobrules_belongs(&a->recs[i], a->bound) ||
			    jobrules_phase(j->job_state) != JOB_PHASE_ACTIVE || !j->nodes || !*j->nodes)
				continue;
			if (pass == 0)
				len += strlen(j->nodes) + 1;
			else
				append(a->nodes, len, ",", j->nodes);
		}
		if (pass == 0 && (!len || !(a->nodes = calloc(1, len))))
			break;
	}
	slurm_free_job_info_msg(msg);
	a->rc = SJ_OK;
	if (a->nodes && !(q->prev_nodes && strcmp(q->prev_nodes, a->nodes) == 0))
		resolve_nodes(sj, q);
}

static void add_host(struct slurmjob *sj, const char *name)
{
	if (!name[0] || strlen(name) >= JOBREC_HOST_MAX)
		return;
	for (size_t i = 0; i < sj->nhosts; i++)
		if (strcmp(sj->hosts[i], name) == 0)
			return;
	char (*grown)[JOBREC_HOST_MAX] = realloc(sj->hosts, (sj->nhosts + 1) * sizeof *grown);
	if (!grown)
		return;
	sj->hosts = grown;
	snprintf(sj->hosts[sj->nhosts++], JOBREC_HOST_MAX, "%s", name);
}

/* The names slurmctld may have recorded as alloc_node for this host. */
static void find_hosts(struct slurmjob *sj)
{
	char name[NI_MAXHOST];
	struct ifaddrs *ifa = NULL;
	if (gethostname(name, sizeof name - 1) == 0) {
		name[sizeof name - 1] = '\0';
		add_host(sj, name);
	}
	if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
					     i->ifa_addr->sa_family != AF_INET6))
				continue;
			socklen_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
									: sizeof(struct sockaddr_in6);
			if (getnameinfo(i->ifa_addr, len, name, sizeof name, NULL, 0, NI_NUMERICHOST) == 0)
				add_host(sj, name);
			if (getnameinfo(i->ifa_addr, len, name, sizeof name, NULL, 0, NI_NAMEREQD) == 0)
				add_host(sj, name);
		}
		freeifaddrs(ifa);
	}
	sj->hosts_known = 1;
}

static void do_load_user(struct slurmjob *sj, struct sj_q *q)
{
	if (!sj->hosts_known)
		find_hosts(sj);
	if (sj->nhosts && (q->a.hosts = malloc(sj->nhosts * sizeof *q->a.hosts))) {
		memcpy(q->a.hosts, sj->hosts, sj->nhosts * sizeof *q->a.hosts);
		q->a.nhosts = sj->nhosts;
	}
	job_info_msg_t *msg = NULL;
	count_rpc(sj, &q->a);
	if (slurm_load_job_user(&msg, q->id, SHOW_ALL | SHOW_LOCAL) != SLURM_SUCCESS) {
		int err = errno;
		if (msg)
			slurm_free_job_info_msg(msg);
		set_error(&q->a, err);
		if (q->a.rc == SJ_UNKNOWN) {     /* no jobs at all */
			q->a.rc = SJ_OK;
			q->a.error[0] = '\0';
		}
		return;
	}
	if (copy_records(&q->a, msg) < 0) {
		q->a.rc = SJ_ERROR;
		snprintf(q->a.error, sizeof q->a.error, "out of memory");
	} else {
		q->a.rc = SJ_OK;
	}
	slurm_free_job_info_msg(msg);
}

/* One question, its answer in q->a. */
static void q_run(struct work *w, void *ctx)
{
	struct sj_q *q = (struct sj_q *)w;
	if (q->kind == Q_JOB)
		do_load_job(ctx, q);
	else
		do_load_user(ctx, q);
}

/* ---- in the loop */

/* Questions are never cancelled: each gets its answer, in order. */
static void q_done(struct work *w, void *ctx)
{
	struct slurmjob *sj = ctx;
	struct sj_q *q = (struct sj_q *)w;
	sj->busy--;
	q->fn(&q->a, q->arg);
	q_free(q);
}

void slurmjob_init(void)
{
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(22, 5, 0)
	slurm_init(NULL);
#endif
}

struct slurmjob *slurmjob_new(struct event_base *base)
{
	struct slurmjob *sj = calloc(1, sizeof *sj);
	if (!sj || !(sj->q = workq_new(base, q_run, q_done, sj))) {
		free(sj);
		return NULL;
	}
	return sj;
}

static int enqueue(struct slurmjob *sj, struct sj_q *q)
{
	workq_push(sj->q, &q->w);
	sj->busy++;
	return 0;
}

int slurmjob_load(struct slurmjob *sj, uint32_t id, const char *prev_nodes, uint64_t tag,
		  sj_fn fn, void *arg)
{
	struct sj_q *q = calloc(1, sizeof *q);
	if (!q || (prev_nodes && *prev_nodes && !(q->prev_nodes = strdup(prev_nodes)))) {
		free(q);
		return -1;
	}
	q->kind = Q_JOB;
	q->id = id;
	q->fn = fn;
	q->arg = arg;
	q->a.tag = tag;
	return enqueue(sj, q);
}

int slurmjob_load_user(struct slurmjob *sj, uint32_t uid, uint64_t tag, sj_fn fn, void *arg)
{
	struct sj_q *q = calloc(1, sizeof *q);
	if (!q)
		return -1;
	q->kind = Q_USER;
	q->id = uid;
	q->fn = fn;
	q->arg = arg;
	q->a.tag = tag;
	return enqueue(sj, q);
}

static int ctld_load(void *impl, uint32_t id, const char *prev_nodes, uint64_t tag,
		     sj_fn fn, void *arg)
{
	return slurmjob_load(impl, id, prev_nodes, tag, fn, arg);
}

static int ctld_load_user(void *impl, uint32_t uid, uint64_t tag, sj_fn fn, void *arg)
{
	return slurmjob_load_user(impl, uid, tag, fn, arg);
}

void slurmjob_ctld(struct slurmjob *sj, struct ctld *out)
{
	out->load = ctld_load;
	out->load_user = ctld_load_user;
	out->impl = sj;
}

unsigned slurmjob_busy(const struct slurmjob *sj)
{
	return sj->busy;
}

unsigned long slurmjob_rpcs(const struct slurmjob *sj)
{
	return __atomic_load_n(&sj->rpcs, __ATOMIC_RELAXED);
}

static void q_discard(struct work *w, void *ctx)
{
	(void)ctx;
	q_free((struct sj_q *)w);
}

void slurmjob_free(struct slurmjob *sj)
{
	if (!sj)
		return;
	if (workq_free(sj->q, q_discard) != 0) {
		/* stuck in an RPC: leave it all to the process's exit */
		debug("slurm: worker still busy at exit");
		return;
	}
	free(sj->hosts);
	free(sj);
}
