/* pv_forward_exec.c - pv-forward-exec, the helper pv_forward.so puts in
 * pvserver's place on compute nodes.
 *
 *   Slurm 22.05..23.02: the plugin replaced argv[0] with this helper and put
 *     the original argv[0] in PV_FORWARD_EXEC_PROGRAM:  helper ARGS...
 *   Slurm 23.11+: the plugin prepended the helper:       helper PROGRAM ARGS...
 *
 * It rebuilds [PROGRAM, ARGS...], points pvserver at the forwarder
 * (PV_FORWARD_HOST / PV_FORWARD_PORT) with argv_rewrite(), removes
 * PV_FORWARD_EXEC_PROGRAM from the environment and execvp()s the result.
 * Failures: a `pv-forward:` line on stderr and exit 127 (126 when the program
 * exists but cannot be run), like a shell. */
#include "argv_rewrite.h"
#include "hostport.h"
#include "numparse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PV_FORWARD_VERSION
#define PV_FORWARD_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pv-forward-exec PROGRAM [ARGS...]\n"
		"Runs PROGRAM; when it is pvserver (also behind env, xvfb-run, apptainer/\n"
		"singularity exec, mpirun/mpiexec) its arguments become\n"
		"  --reverse-connection --client-host=$%s --server-port=$%s ARGS\n"
		"without the user's own client-host/server-port/reverse-connection options.\n"
		"The pv_forward Slurm plugin runs it on compute nodes; with $%s set,\n"
		"that variable names PROGRAM and every argument is an ARG.\n"
		"Exit status: PROGRAM's, or 127/126 when it cannot be started.\n",
		PV_FORWARD_HOST_ENV, PV_FORWARD_PORT_ENV, PV_FORWARD_EXEC_PROGRAM_ENV);
}

/* Points CMD at the forwarder and execs it; returns only on failure, with the
 * exit status (the caller owns cmd and frees it). */
static int run(int cmdc, char **cmd, const char *host, const char *port_s)
{
	char **out;
	int outc;
	uint16_t port;

	if (host == NULL || *host == '\0' || port_s == NULL || *port_s == '\0') {
		fprintf(stderr, "pv-forward: %s and %s must be set (the pv_forward Slurm "
			"plugin sets them in --pv-forward jobs); not running %s\n",
			PV_FORWARD_HOST_ENV, PV_FORWARD_PORT_ENV, cmd[0]);
		return 127;
	}
	if (!host_is_valid(host, NULL, 0) || parse_port(port_s, &port) < 0) {
		fprintf(stderr, "pv-forward: invalid %s='%s' or %s='%s'; not running %s\n",
			PV_FORWARD_HOST_ENV, host, PV_FORWARD_PORT_ENV, port_s, cmd[0]);
		return 127;
	}

	out = argv_rewrite(cmdc, cmd, host, port, &outc);
	if (out == NULL) {
		fprintf(stderr, "pv-forward: out of memory\n");
		return 127;
	}
	execvp(out[0], out);
	int e = errno;
	fprintf(stderr, "pv-forward: cannot run '%s': %s\n", out[0], strerror(e));
	free(out);            /* its strings are cmd's or in its own block */
	return e == ENOENT || e == ENOTDIR ? 127 : 126;
}

int main(int argc, char **argv)
{
	const char *prog = getenv(PV_FORWARD_EXEC_PROGRAM_ENV);
	const char *host = getenv(PV_FORWARD_HOST_ENV);
	const char *port_s = getenv(PV_FORWARD_PORT_ENV);
	char **cmd;
	int cmdc;

	if (prog && *prog) {
		/* argv[0] was pvserver's slot: [prog, argv[1..]] */
		cmdc = argc;
		cmd = calloc((size_t)cmdc + 1, sizeof(char *));
		if (cmd == NULL) {
			fprintf(stderr, "pv-forward: out of memory\n");
			return 127;
		}
		cmd[0] = strdup(prog);
		if (cmd[0] == NULL) {
			fprintf(stderr, "pv-forward: out of memory\n");
			free(cmd);
			return 127;
		}
		for (int i = 1; i < argc; i++)
			cmd[i] = argv[i];
		unsetenv(PV_FORWARD_EXEC_PROGRAM_ENV);
	} else {
		if (argc < 2) {
			usage(stderr);
			return 127;
		}
		if (argc == 2 && strcmp(argv[1], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (argc == 2 && strcmp(argv[1], "--version") == 0) {
			printf("pv-forward-exec %s\n", PV_FORWARD_VERSION);
			return 0;
		}
		cmdc = argc - 1;
		cmd = argv + 1;
	}

	int rc = run(cmdc, cmd, host, port_s);
	if (cmd != argv + 1) {
		free(cmd[0]);
		free(cmd);
	}
	return rc;
}
