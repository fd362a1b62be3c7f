/* argv_rewrite.h - point pvserver's command line at the forwarder (pure).
 *
 * A task's command runs pvserver when its program's basename is `pvserver`
 * or `pvserver-VERSION` (digits and dots, e.g. pvserver-5.11), directly or
 * behind the launch wrappers sites use:
 *
 *   env [OPTIONS] [NAME=VALUE]... CMD        xvfb-run [OPTIONS] CMD
 *   apptainer|singularity [GLOBAL] exec [OPTIONS] IMAGE CMD
 *   mpirun|mpiexec|orterun[.SUFFIX] [OPTIONS] CMD [: [OPTIONS] CMD]...
 *
 * (wrappers nest, e.g. `env A=b mpirun -np 4 xvfb-run -a pvserver`).  The
 * rewrite removes every client-host / server-port / reverse-connection
 * argument of ParaView <= 5.9 and >= 5.10 from pvserver's own arguments
 *
 *   --client-host[=X] [X]  -ch[=X] [X]  --server-port[=P] [P]  --sp[=P] [P]
 *   -sp[=P] [P]  -p[=P] [P]  -pP  --reverse-connection[=V]  --rc[=V]  -rc[=V]  -r
 *
 * (a separate value word is taken only when it does not start with '-';
 * nothing after a `--` word is touched) and inserts, right after the
 * pvserver word, the one form every version accepts:
 *
 *   --reverse-connection --client-host=HOST --server-port=PORT
 *
 * Wrapper arguments and other programs are left alone.  No I/O. */
#ifndef PVF_ARGV_REWRITE_H
#define PVF_ARGV_REWRITE_H

#pragma GCC visibility push(hidden)

/* The helper's environment: the program whose argv[0] slot it took. */
#define PV_FORWARD_EXEC_PROGRAM_ENV "PV_FORWARD_EXEC_PROGRAM"
/* What every task of a --pv-forward job sees. */
#define PV_FORWARD_HOST_ENV "PV_FORWARD_HOST"
#define PV_FORWARD_PORT_ENV "PV_FORWARD_PORT"

/* 1 when basename(prog) is pvserver or pvserver-VERSION. */
int argv_is_pvserver_name(const char *prog);

/* Number of pvserver programs the command argv[0..argc-1] starts (0: none;
 * more than one only with mpirun's `:`-separated contexts). */
int argv_runs_pvserver(int argc, char *const argv[]);

/* The rewritten command: a NULL-terminated array in one malloc'd block
 * (release it with free()) whose strings point into argv or into the block;
 * *newc receives its length.  When the command runs no pvserver the result
 * is a plain copy.  NULL when memory runs out or host is NULL/empty. */
char **argv_rewrite(int argc, char *const argv[], const char *host,
		    unsigned port, int *newc);

#pragma GCC visibility pop

#endif
