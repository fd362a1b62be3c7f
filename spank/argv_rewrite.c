/* argv_rewrite.c - find pvserver behind launch wrappers and point its
 * arguments at the forwarder (see argv_rewrite.h).  Pure: no I/O. */
#include "argv_rewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HITS  64   /* pvserver contexts in one command line */
#define MAX_DEPTH 16   /* nested wrappers */

struct hit {
	int idx;  /* the pvserver word */
	int end;  /* one past its last argument */
};

struct hits {
	struct hit h[MAX_HITS];
	int n;
};

static const char *base_name(const char *s)
{
	const char *slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int argv_is_pvserver_name(const char *prog)
{
	const char *b, *v;

	if (prog == NULL)
		return 0;
	b = base_name(prog);
	if (strcmp(b, "pvserver") == 0)
		return 1;
	if (!starts_with(b, "pvserver-"))
		return 0;
	/* pvserver-VERSION: digits separated by single dots, starting and
	 * ending with a digit (5, 5.11, 5.11.2). */
	v = b + strlen("pvserver-");
	if (*v < '0' || *v > '9')
		return 0;
	for (; *v; v++) {
		if (*v >= '0' && *v <= '9')
			continue;
		if (*v == '.' && v[1] >= '0' && v[1] <= '9')
			continue;
		return 0;
	}
	return 1;
}

/* Words a getopt-style option word uses (1 or 2): `-abc` clusters where a
 * letter in with_arg takes the rest of the word or else the next word;
 * `--name=value` is one word; `--name` takes the next word when listed in
 * long_with_arg.  `-` alone is one word. */
static int option_words(const char *a, const char *with_arg,
			const char *const *long_with_arg)
{
	if (a[1] == '-') {
		if (strchr(a, '='))
			return 1;
		return in_list(a, long_with_arg) ? 2 : 1;
	}
	for (const char *p = a + 1; *p; p++)
		if (strchr(with_arg, *p))
			return p[1] ? 1 : 2;
	return 1;
}

static void scan_cmd(char *const argv[], int b, int e, struct hits *h, int depth);

/* env [-i] [-0] [-v] [-u NAME] [-C DIR] [--unset=NAME] ... [NAME=VALUE]... CMD
 * (-S / --split-string re-splits a word: not followed). */
static void scan_env(char *const argv[], int b, int e, struct hits *h, int depth)
{
	static const char *const long_arg[] = { "--unset", "--chdir", NULL };
	int j = b + 1;

	while (j < e && argv[j][0] == '-') {
		const char *a = argv[j];
		if (strcmp(a, "--") == 0) {
			j++;
			break;
		}
		if (strcmp(a, "-") == 0) {   /* same as -i */
			j++;
			continue;
		}
		if (starts_with(a, "--split-string"))
			return;
		if (a[1] != '-')
			for (const char *p = a + 1; *p && *p != 'u' && *p != 'C'; p++)
				if (*p == 'S')
					return;
		j += option_words(a, "uC", long_arg);
	}
	while (j < e && strchr(argv[j], '=') != NULL)
		j++;
	scan_cmd(argv, j, e, h, depth + 1);
}

/* xvfb-run [-a] [-e FILE] [-f FILE] [-n NUM] [-l] [-p PROTO] [-s ARGS] [-w DELAY] CMD */
static void scan_xvfb_run(char *const argv[], int b, int e, struct hits *h, int depth)
{
	static const char *const long_arg[] = {
		"--error-file", "--auth-file", "--server-num", "--xauth-protocol",
		"--server-args", "--wait", NULL
	};
	int j = b + 1;

	while (j < e && argv[j][0] == '-' && argv[j][1] != '\0') {
		if (strcmp(argv[j], "--") == 0) {
			j++;
			break;
		}
		j += option_words(argv[j], "efnpsw", long_arg);
	}
	scan_cmd(argv, j, e, h, depth + 1);
}

/* apptainer|singularity [GLOBAL OPTIONS] exec [OPTIONS] IMAGE CMD */
static void scan_container(char *const argv[], int b, int e, struct hits *h, int depth)
{
	static const char *const global_long_arg[] = { "--config", NULL };
	static const char *const exec_long_arg[] = {
		"--add-caps", "--app", "--apply-cgroups", "--arch", "--authfile",
		"--bind", "--blkio-weight", "--blkio-weight-device", "--cpu-shares",
		"--cpus", "--cpuset-cpus", "--cpuset-mems", "--device", "--dns",
		"--docker-host", "--drop-caps", "--env", "--env-file", "--fusemount",
		"--home", "--hostname", "--library", "--memory", "--memory-reservation",
		"--memory-swap", "--mount", "--network", "--network-args", "--oci-conf",
		"--overlay", "--pem-path", "--pids-limit", "--platform", "--pwd",
		"--scratch", "--security", "--sif-fuse-opts", "--workdir", NULL
	};
	int j = b + 1;

	while (j < e && argv[j][0] == '-' && argv[j][1] != '\0')
		j += option_words(argv[j], "c", global_long_arg);
	if (j >= e || strcmp(argv[j], "exec") != 0)
		return;
	j++;
	while (j < e && argv[j][0] == '-' && argv[j][1] != '\0') {
		if (strcmp(argv[j], "--") == 0) {
			j++;
			break;
		}
		j += option_words(argv[j], "BHoSW", exec_long_arg);
	}
	j++;   /* IMAGE */
	scan_cmd(argv, j, e, h, depth + 1);
}

/* mpirun/mpiexec of Open MPI, MPICH (Hydra) and Intel MPI:
 * [OPTIONS] CMD [ARGS] [: [OPTIONS] CMD [ARGS]]... */
static void scan_mpirun(char *const argv[], int b, int e, struct hits *h, int depth)
{
	static const char *const two_args[] = {
		"-mca", "--mca", "-gmca", "--gmca", "-pmixmca", "--pmixmca",
		"-prtemca", "--prtemca", "-genv", "-env", "--genv", "--env", NULL
	};
	static const char *const one_arg[] = {
		"-np", "--np", "-n", "--n", "-c", "-N", "-npernode", "--npernode",
		"-npersocket", "--npersocket", "-map-by", "--map-by", "-rank-by",
		"--rank-by", "-bind-to", "--bind-to", "-binding", "-H", "-host",
		"--host", "-hosts", "-hostfile", "--hostfile", "-default-hostfile",
		"--default-hostfile", "-machinefile", "--machinefile", "-machine",
		"-f", "-x", "-wdir", "--wdir", "-wd", "--wd", "-dir", "-prefix",
		"--prefix", "-path", "--path", "-am", "--am", "-tune", "--tune",
		"-rf", "-rankfile", "--rankfile", "-output-filename",
		"--output-filename", "-output", "--output", "-preload-files",
		"--preload-files", "-timeout", "--timeout", "-ppn", "-perhost",
		"-rr", "-launcher", "-bootstrap", "-launcher-exec", "-bootstrap-exec",
		"-iface", "-errfile-pattern", "-outfile-pattern", "-genvlist",
		"-envlist", "-genvexcept", "-envexcept", "-configfile", "-slot-list",
		"--slot-list", "-cpus-per-proc", "--cpus-per-proc", "-cpus-per-rank",
		"--cpus-per-rank", "-cpu-set", "--cpu-set", "-max-vm-size",
		"--max-vm-size", "-ompi-server", "--ompi-server", "-personality",
		"--personality", "-report-uri", "--report-uri", "-report-pid",
		"--report-pid", "-stream-buffering", "--stream-buffering",
		"-membind", "-gpus-per-proc", "-dvm", "--dvm", "-runtime-options",
		"--runtime-options", "-mca-param-file", "--tmpdir", "-tmpdir",
		"--app", NULL
	};
	int j = b + 1;

	while (j < e) {
		int c;

		while (j < e && argv[j][0] == '-' && argv[j][1] != '\0') {
			const char *a = argv[j];
			if (strcmp(a, "--") == 0) {
				j++;
				break;
			}
			/* --name=value carries its value in the same word */
			int inline_value = a[1] == '-' && strchr(a, '=') != NULL;
			if (!inline_value && in_list(a, two_args))
				j += 3;
			else if (!inline_value && in_list(a, one_arg))
				j += 2;
			else
				j += 1;
		}
		for (c = j; c < e && strcmp(argv[c], ":") != 0; c++)
			;
		scan_cmd(argv, j, c, h, depth + 1);
		j = c + 1;
	}
}

static int is_mpi_launcher(const char *name)
{
	static const char *const names[] = { "mpirun", "mpiexec", "orterun", NULL };
	for (const char *const *n = names; *n; n++) {
		size_t l = strlen(*n);
		/* mpirun, mpirun.openmpi, mpiexec.hydra, mpiexec.mpich, ... */
		if (strncmp(name, *n, l) == 0 && (name[l] == '\0' || name[l] == '.'))
			return 1;
	}
	return 0;
}

/* argv[b] is a program word; its arguments run to e. */
static void scan_cmd(char *const argv[], int b, int e, struct hits *h, int depth)
{
	const char *name;

	if (b >= e || depth > MAX_DEPTH || argv[b] == NULL)
		return;
	name = base_name(argv[b]);
	if (argv_is_pvserver_name(argv[b])) {
		if (h->n < MAX_HITS) {
			h->h[h->n].idx = b;
			h->h[h->n].end = e;
			h->n++;
		}
	} else if (strcmp(name, "env") == 0) {
		scan_env(argv, b, e, h, depth);
	} else if (strcmp(name, "xvfb-run") == 0) {
		scan_xvfb_run(argv, b, e, h, depth);
	} else if (strcmp(name, "apptainer") == 0 || strcmp(name, "singularity") == 0) {
		scan_container(argv, b, e, h, depth);
	} else if (is_mpi_launcher(name)) {
		scan_mpirun(argv, b, e, h, depth);
	}
}

static void find(int argc, char *const argv[], struct hits *h)
{
	h->n = 0;
	if (argc <= 0 || argv == NULL)
		return;
	for (int i = 0; i < argc; i++)
		if (argv[i] == NULL) {   /* argc larger than the array: trust the NULL */
			argc = i;
			break;
		}
	scan_cmd(argv, 0, argc, h, 0);
}

int argv_runs_pvserver(int argc, char *const argv[])
{
	struct hits h;

	find(argc, argv, &h);
	return h.n;
}

/* What a pvserver argument is to the rewrite. */
enum kind {
	KEEP,
	DROP,            /* this word only */
	DROP_WITH_VALUE, /* this word and a following value word, if any */
};

static enum kind classify(const char *a)
{
	static const char *const with_value[] = {
		"--client-host", "-ch", "--server-port", "--sp", "-sp", "-p", NULL
	};
	static const char *const flags[] = {
		"--reverse-connection", "--rc", "-rc", "-r", NULL
	};
	const char *eq;

	if (in_list(a, with_value))
		return DROP_WITH_VALUE;
	if (in_list(a, flags))
		return DROP;
	eq = strchr(a, '=');
	if (eq) {
		char name[32];
		size_t l = (size_t)(eq - a);
		if (l < sizeof(name)) {
			memcpy(name, a, l);
			name[l] = '\0';
			if (in_list(name, with_value) || in_list(name, flags))
				return DROP;
		}
	}
	/* -pPORT (CLI11 short option with its value attached) */
	if (a[0] == '-' && a[1] == 'p' && a[2] != '\0' &&
	    strspn(a + 2, "0123456789") == strlen(a + 2))
		return DROP;
	return KEEP;
}

char **argv_rewrite(int argc, char *const argv[], const char *host,
		    unsigned port, int *newc)
{
	static const char reverse[] = "--reverse-connection";
	struct hits h;
	char **out;
	char *strings;
	size_t hostarg_len, portarg_len, size;
	int n = 0, k = 0;

	if (host == NULL || *host == '\0')
		return NULL;
	if (argc < 0 || argv == NULL)
		argc = 0;
	for (int i = 0; i < argc; i++)
		if (argv[i] == NULL) {
			argc = i;
			break;
		}
	find(argc, argv, &h);   /* on the argv that is copied: up to its first NULL */

	hostarg_len = strlen("--client-host=") + strlen(host) + 1;
	portarg_len = strlen("--server-port=") + 10 + 1;
	size = ((size_t)argc + 3 * (size_t)h.n + 1) * sizeof(char *) +
	       sizeof(reverse) + hostarg_len + portarg_len;
	out = malloc(size);
	if (out == NULL)
		return NULL;
	strings = (char *)(out + argc + 3 * h.n + 1);
	char *rev = strings;
	memcpy(rev, reverse, sizeof(reverse));
	char *hostarg = rev + sizeof(reverse);
	snprintf(hostarg, hostarg_len, "--client-host=%s", host);
	char *portarg = hostarg + hostarg_len;
	snprintf(portarg, portarg_len, "--server-port=%u", port);

	for (int i = 0; i < argc;) {
		if (k < h.n && h.h[k].idx == i) {
			int end = h.h[k].end, j = i + 1;
			out[n++] = argv[i];
			out[n++] = rev;
			out[n++] = hostarg;
			out[n++] = portarg;
			while (j < end) {
				const char *a = argv[j];
				if (strcmp(a, "--") == 0) {
					while (j < end)
						out[n++] = argv[j++];
					break;
				}
				switch (classify(a)) {
				case KEEP:
					out[n++] = argv[j++];
					break;
				case DROP:
					j++;
					break;
				case DROP_WITH_VALUE:
					j++;
					if (j < end && argv[j][0] != '-')
						j++;
					break;
				}
			}
			i = end;
			k++;
			continue;
		}
		out[n++] = argv[i++];
	}
	out[n] = NULL;
	if (newc)
		*newc = n;
	return out;
}
