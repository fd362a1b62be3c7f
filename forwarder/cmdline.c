/* cmdline.c - pv-forwarder's command line, every mode (see cmdline.h).  Pure. */
#include "cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "hostport.h"
#include "netaddr.h"
#include "numparse.h"
#include "quote.h"
#include "sockpath.h"

enum opt_id {
	O_CONFIG, O_FOREGROUND, O_DEBUG, O_HELP, O_VERSION, O_JOB, O_TO,
	O_LISTEN, O_PORTS, O_ALLOW, O_HOLD, O_FIN_TIMEOUT, O_MAX_CONNS, O_READY_FD,
	O_LIFELINE_FD, O_SLURM_JOB, O_JOB_ID, O_PIDFILE, O_STARTER, O_CONTROL,
	O_LIST, O_COUNT
};

struct opt {
	enum opt_id id;
	char shortname;     /* 0 = none */
	const char *longname;
	int has_value;
	int job_only;
};

static const struct opt opts[] = {
	{ O_CONFIG,      'c', "config",      1, 0 },
	{ O_FOREGROUND,  'g', "foreground",  0, 0 },
	{ O_DEBUG,       'd', "debug",       0, 0 },
	{ O_HELP,        'h', "help",        0, 0 },
	{ O_VERSION,     'v', "version",     0, 0 },
	{ O_JOB,          0,  "job",         0, 1 },
	{ O_TO,           0,  "to",          1, 1 },
	{ O_LISTEN,       0,  "listen",      1, 1 },
	{ O_PORTS,        0,  "ports",       1, 1 },
	{ O_ALLOW,        0,  "allow",       1, 1 },
	{ O_HOLD,         0,  "hold",        1, 0 },
	{ O_FIN_TIMEOUT,  0,  "fin-timeout", 1, 0 },
	{ O_MAX_CONNS,    0,  "max-conns",   1, 0 },
	{ O_READY_FD,     0,  "ready-fd",    1, 1 },
	{ O_LIFELINE_FD,  0,  "lifeline-fd", 1, 1 },
	{ O_SLURM_JOB,    0,  "slurm-job",   0, 1 },
	{ O_JOB_ID,       0,  "job-id",      1, 1 },
	{ O_PIDFILE,      0,  "pidfile",     1, 0 },
	{ O_STARTER,      0,  "starter",     1, 1 },
	{ O_CONTROL,      0,  "control",     0, 1 },
	{ O_LIST,         0,  "list",        0, 0 },
};
#define NOPTS (sizeof opts / sizeof opts[0])

/* "--to" or "-c" for messages. */
static const char *optname(const struct opt *o, char *buf, size_t len)
{
	if (o->longname)
		snprintf(buf, len, "--%s", o->longname);
	else
		snprintf(buf, len, "-%c", o->shortname);
	return buf;
}

static int add_allow(struct cmdline *a, const char *list, char *err, size_t errlen)
{
	const char *p = list;
	char q[QUOTE_BUF];
	for (;;) {
		/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): --allow always has a value */
		size_t n = strcspn(p, ",");
		char item[HOSTPORT_HOST_MAX + 8];
		if (n == 0)
			return errmsg(err, errlen, "--allow: empty entry in '%s'", quote_str(q, sizeof q, list));
		if (n >= sizeof item)
			return errmsg(err, errlen, "--allow: entry too long in '%s'", quote_str(q, sizeof q, list));
		memcpy(item, p, n);
		item[n] = '\0';

		struct cidr c;
		char why[128] = "";
		if (strchr(item, '/') ? cidr_parse(item, &c, why, sizeof why) != 0
				      : !host_is_valid(item, why, sizeof why))
			return errmsg(err, errlen, "--allow: '%s' is not an address, CIDR block or host name: %s",
				    quote_str(q, sizeof q, item), why);

		char **grown = realloc(a->allow, (a->nallow + 1) * sizeof *grown);
		if (!grown)
			return errmsg(err, errlen, "out of memory");
		a->allow = grown;
		if (!(a->allow[a->nallow] = strdup(item)))
			return errmsg(err, errlen, "out of memory");
		a->nallow++;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

static int parse_fd(const char *name, const char *v, int *out, char *err, size_t errlen)
{
	unsigned long n;
	char q[QUOTE_BUF];
	if (parse_ulong(v, 0, 1048576, &n) != 0)
		return errmsg(err, errlen, "%s needs a file descriptor number, not '%s'", name,
			    quote_str(q, sizeof q, v));
	*out = (int)n;
	return 0;
}

/* Applies one option with its value (NULL for flags). */
static int apply(struct cmdline *a, const struct opt *o, const char *v, char *err, size_t errlen)
{
	char nb[32], why[128] = "", q[QUOTE_BUF];
	const char *name = optname(o, nb, sizeof nb);
	const char *qv = v ? quote_str(q, sizeof q, v) : "";   /* v as messages show it */
	unsigned long n;

	switch (o->id) {
	case O_CONFIG:
		if (!*v)
			return errmsg(err, errlen, "%s needs a file name", name);
		a->config = v;
		break;
	case O_FOREGROUND: a->foreground = 1; break;
	case O_DEBUG:      a->debug++; break;
	case O_JOB:        a->mode = PVF_MODE_JOB; break;
	case O_SLURM_JOB:  a->slurm_job = 1; break;
	case O_CONTROL:    a->control = 1; break;
	case O_LIST:       break;   /* check() sets the mode */
	case O_STARTER:
		if (strcmp(v, "srun") == 0)
			a->starter = PVF_STARTER_SRUN;
		else if (strcmp(v, "sbatch") == 0)
			a->starter = PVF_STARTER_SBATCH;
		else if (strcmp(v, "salloc") == 0)
			a->starter = PVF_STARTER_SALLOC;
		else
			return errmsg(err, errlen, "--starter needs srun, sbatch or salloc, not '%s'", qv);
		break;
	case O_HELP: case O_VERSION: break;   /* handled by the caller */
	case O_TO:
		if (v[0] == '/') {        /* a Unix socket (sockpath.h); checked at every connect */
			char path[SOCKPATH_BUF];
			if (sockpath_parse(v, NULL, path, sizeof path, why, sizeof why) != 0)
				return errmsg(err, errlen, "--to needs HOST:PORT or /SOCKET, not '%s': %s", qv, why);
			memset(&a->to, 0, sizeof a->to);
			snprintf(a->to.host, sizeof a->to.host, "%s", path);
			break;
		}
		if (hostport_parse(v, &a->to, why, sizeof why) != 0)
			return errmsg(err, errlen, "--to needs HOST:PORT, not '%s': %s", qv, why);
		if (!a->to.host[0] || !a->to.port)
			return errmsg(err, errlen, "--to needs HOST:PORT, not '%s': %s missing", qv,
				    a->to.host[0] ? "port" : "host");
		break;
	case O_LISTEN: {
		struct hostport hp;
		if (hostport_parse(v, &hp, why, sizeof why) != 0)
			return errmsg(err, errlen, "--listen needs an address, not '%s': %s", qv, why);
		if (!hp.host[0])
			return errmsg(err, errlen, "--listen needs an address, not '%s'", qv);
		if (hp.port)
			return errmsg(err, errlen, "--listen takes an address only, not '%s' (the port comes from --ports)", qv);
		memcpy(a->listen, hp.host, sizeof a->listen);
		break;
	}
	case O_PORTS:
		if (parse_port_range(v, &a->port_lo, &a->port_hi) != 0) {
			if (parse_port(v, &a->port_lo) != 0)
				return errmsg(err, errlen, "--ports needs LO-HI with 1 <= LO <= HI <= 65535, not '%s'", qv);
			a->port_hi = a->port_lo;
		}
		break;
	case O_ALLOW:
		return add_allow(a, v, err, errlen);
	case O_HOLD:
		if (parse_ulong(v, 0, FWD_HOLD_MAX_S, &n) != 0)
			return errmsg(err, errlen, "--hold needs seconds 0-%u, not '%s'", FWD_HOLD_MAX_S, qv);
		a->hold_s = (unsigned)n;
		break;
	case O_FIN_TIMEOUT:
		if (parse_ulong(v, 1, FWD_FIN_TIMEOUT_MAX_S, &n) != 0)
			return errmsg(err, errlen, "--fin-timeout needs seconds 1-%u, not '%s'", FWD_FIN_TIMEOUT_MAX_S, qv);
		a->fin_timeout_s = (unsigned)n;
		break;
	case O_MAX_CONNS:
		if (parse_ulong(v, 1, FWD_MAX_CONNS_MAX, &n) != 0)
			return errmsg(err, errlen, "--max-conns needs a number 1-%u, not '%s'", FWD_MAX_CONNS_MAX, qv);
		a->max_conns = (unsigned)n;
		break;
	case O_READY_FD:
		return parse_fd(name, v, &a->ready_fd, err, errlen);
	case O_LIFELINE_FD:
		return parse_fd(name, v, &a->lifeline_fd, err, errlen);
	case O_JOB_ID:
		if (parse_ulong(v, 1, 4294967295UL, &n) != 0)
			return errmsg(err, errlen, "--job-id needs a Slurm job id (a number), not '%s'", qv);
		a->job_id = n;
		break;
	case O_PIDFILE:
		if (!*v)
			return errmsg(err, errlen, "%s needs a file name", name);
		a->pidfile = v;
		break;
	case O_COUNT: break;
	}
	return 0;
}

/* The consistency rules once every option is known. */
static int check(struct cmdline *a, const unsigned seen[O_COUNT], char *err, size_t errlen)
{
	if (seen[O_LIST]) {
		for (size_t i = 0; i < NOPTS; i++)
			if (seen[opts[i].id] && opts[i].id != O_LIST && opts[i].id != O_DEBUG)
				return errmsg(err, errlen, "--list takes no option but -d, not --%s",
					    opts[i].longname);
		a->mode = PVF_MODE_LIST;
		return 0;
	}
	if (a->mode == PVF_MODE_JOB) {
		if (seen[O_CONFIG])
			return errmsg(err, errlen, "-c/--config is for portfwd mode; it does not go with --job");
		if (!seen[O_TO])
			return errmsg(err, errlen, "--job needs --to HOST:PORT");
		if (seen[O_JOB_ID] && !a->slurm_job)
			return errmsg(err, errlen, "--job-id needs --slurm-job");
		if (seen[O_STARTER] && !a->slurm_job)
			return errmsg(err, errlen, "--starter needs --slurm-job");
		if (seen[O_CONTROL] && !a->slurm_job)
			return errmsg(err, errlen, "--control needs --slurm-job");
		if (a->ready_fd >= 0 && a->ready_fd == a->lifeline_fd)
			return errmsg(err, errlen, "--ready-fd and --lifeline-fd must differ");
		return 0;
	}
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].job_only && seen[opts[i].id])
			return errmsg(err, errlen, "--%s is only valid with --job", opts[i].longname);
	if (!seen[O_CONFIG])
		return errmsg(err, errlen, "nothing to do: give -c FILE (portfwd mode) or --job (job mode); see --help");
	a->mode = PVF_MODE_PORTFWD;
	return 0;
}

static const struct opt *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strlen(opts[i].longname) == len && strncmp(opts[i].longname, name, len) == 0)
			return &opts[i];
	return NULL;
}

static const struct opt *find_short(char c)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].shortname && opts[i].shortname == c)
			return &opts[i];
	return NULL;
}

/* Records o (with value v) and reports whether parsing should stop for help
 * or version (1), go on (0) or failed (-1). */
static int take(struct cmdline *a, unsigned seen[O_COUNT], const struct opt *o,
		const char *v, char *err, size_t errlen)
{
	char nb[32];
	if (o->id == O_HELP || o->id == O_VERSION) {
		a->mode = o->id == O_HELP ? PVF_MODE_HELP : PVF_MODE_VERSION;
		return 1;
	}
	if (seen[o->id] && o->id != O_DEBUG && o->id != O_ALLOW)
		return errmsg(err, errlen, "%s given twice", optname(o, nb, sizeof nb));
	seen[o->id]++;
	return apply(a, o, v, err, errlen);
}

int cmdline_parse(int argc, char *const argv[], struct cmdline *out, char *err, size_t errlen)
{
	struct cmdline a;
	unsigned seen[O_COUNT] = { 0 };
	int rc = 0, i;
	char q[QUOTE_BUF];

	memset(&a, 0, sizeof a);
	a.hold_s = FWD_HOLD_DEFAULT_S;
	a.fin_timeout_s = FWD_FIN_TIMEOUT_DEFAULT_S;
	a.max_conns = FWD_MAX_CONNS_DEFAULT;
	a.ready_fd = a.lifeline_fd = -1;
	snprintf(a.listen, sizeof a.listen, "%s", CMDLINE_DEFAULT_LISTEN);
	if (err && errlen)
		err[0] = '\0';

	for (i = 1; i < argc && rc == 0; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			if (i + 1 < argc)
				rc = errmsg(err, errlen, "unexpected argument '%s'", quote_str(q, sizeof q, argv[i + 1]));
			break;
		}
		if (arg[0] == '-' && arg[1] == '-') {             /* --name[=value] */
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct opt *o = find_long(name, len);
			const char *v = NULL;
			if (!o) {
				rc = errmsg(err, errlen, "unknown option '--%s'",
					  quote_text(q, sizeof q, name, len, QUOTE_ALL));
				break;
			}
			if (!o->has_value && eq) {
				rc = errmsg(err, errlen, "--%s takes no value", o->longname);
				break;
			}
			if (o->has_value) {
				if (eq)
					v = eq + 1;
				else if (i + 1 < argc)
					v = argv[++i];
				else {
					rc = errmsg(err, errlen, "--%s needs a value", o->longname);
					break;
				}
			}
			rc = take(&a, seen, o, v, err, errlen);
		} else if (arg[0] == '-' && arg[1]) {             /* -x, -xy, -cFILE */
			for (const char *p = arg + 1; *p && rc == 0; p++) {
				const struct opt *o = find_short(*p);
				const char *v = NULL;
				if (!o) {
					rc = errmsg(err, errlen, "unknown option '-%s'", quote_text(q, sizeof q, p, 1, 1));
					break;
				}
				if (o->has_value) {
					if (p[1])
						v = p + 1;
					else if (i + 1 < argc)
						v = argv[++i];
					else {
						rc = errmsg(err, errlen, "-%c needs a value", *p);
						break;
					}
					rc = take(&a, seen, o, v, err, errlen);
					break;
				}
				rc = take(&a, seen, o, v, err, errlen);
			}
		} else {
			rc = errmsg(err, errlen, "unexpected argument '%s'", quote_str(q, sizeof q, arg));
		}
	}

	if (rc == 0)
		rc = check(&a, seen, err, errlen);
	if (rc < 0) {
		cmdline_free(&a);
		memset(out, 0, sizeof *out);
		out->ready_fd = out->lifeline_fd = -1;
		return -1;
	}
	*out = a;                 /* rc == 1: help or version, mode already set */
	return 0;
}

const char *cmdline_starter_name(enum pvf_starter s)
{
	switch (s) {
	case PVF_STARTER_SRUN:   return "srun";
	case PVF_STARTER_SBATCH: return "sbatch";
	case PVF_STARTER_SALLOC: return "salloc";
	case PVF_STARTER_NONE:   break;
	}
	return "";
}

void cmdline_free(struct cmdline *a)
{
	for (size_t i = 0; i < a->nallow; i++)
		free(a->allow[i]);
	free(a->allow);
	a->allow = NULL;
	a->nallow = 0;
}
