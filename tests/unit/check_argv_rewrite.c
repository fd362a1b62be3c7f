/* check_argv_rewrite.c - pvserver found behind wrappers; every client-host /
 * server-port / reverse-connection syntax of ParaView <= 5.9 and >= 5.10
 * removed; the portable triple inserted right after pvserver. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "argv_rewrite.h"

#define H "--reverse-connection --client-host=login --server-port=40001"

/* Splits s on single spaces into a NULL-terminated array (one allocation). */
static char **split(const char *s, int *argc)
{
	size_t len = strlen(s);
	int n = len ? 1 : 0;
	for (const char *p = s; *p; p++)
		n += *p == ' ';
	char **v = malloc((size_t)(n + 1) * sizeof(char *) + len + 1);
	char *buf = (char *)(v + n + 1);
	memcpy(buf, s, len + 1);
	int i = 0;
	if (len) {
		v[i++] = buf;
		for (char *p = buf; *p; p++)
			if (*p == ' ') {
				*p = '\0';
				v[i++] = p + 1;
			}
	}
	v[i] = NULL;
	*argc = n;
	return v;
}

static char *join(char **v)
{
	size_t len = 1;
	for (char **p = v; *p; p++)
		len += strlen(*p) + 1;
	char *s = malloc(len), *q = s;
	*s = '\0';
	for (char **p = v; *p; p++) {
		if (p != v)
			*q++ = ' ';
		size_t l = strlen(*p);
		memcpy(q, *p, l + 1);
		q += l;
	}
	return s;
}

/* Rewrites cmd for login:40001 and returns the joined result (malloc'd). */
static char *rewrite(const char *cmd, int *hits)
{
	int argc, outc = -1;
	char **argv = split(cmd, &argc);
	char **out = argv_rewrite(argc, argv, "login", 40001, &outc);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_null(out[outc]);
	if (hits)
		*hits = argv_runs_pvserver(argc, argv);
	char *s = join(out);
	free(out);
	free(argv);
	return s;
}

struct rw_case {
	const char *in, *out;
	int hits;
};

static const struct rw_case cases[] = {
	/* plain pvserver, every syntax */
	{ "pvserver", "pvserver " H, 1 },
	{ "pvserver --reverse-connection", "pvserver " H, 1 },
	{ "/usr/bin/pvserver --client-host=elsewhere --server-port=1",
	  "/usr/bin/pvserver " H, 1 },
	{ "pvserver -rc -ch=x -sp=1", "pvserver " H, 1 },
	{ "pvserver --client-host elsewhere --server-port 1 --rc", "pvserver " H, 1 },
	{ "pvserver -ch x -sp 1 -r", "pvserver " H, 1 },
	{ "pvserver -p 1 --sp 2 --sp=3 -p=4 -p5", "pvserver " H, 1 },
	{ "pvserver --reverse-connection=1 --rc=true -rc=1", "pvserver " H, 1 },
	{ "pvserver --client-host= --server-port=", "pvserver " H, 1 },
	{ "pvserver --reverse-connection --client-host=a --client-host b -ch=c -ch d",
	  "pvserver " H, 1 },
	{ "pvserver --connect-id 5 --timeout 10 --no-mpi -rc",
	  "pvserver " H " --connect-id 5 --timeout 10 --no-mpi", 1 },
	{ "pvserver --multi-clients --client-host=a --force-offscreen-rendering",
	  "pvserver " H " --multi-clients --force-offscreen-rendering", 1 },
	{ "pvserver --hostname=node1 --sp=1 --dr", "pvserver " H " --hostname=node1 --dr", 1 },
	{ "pvserver -p 11111 --data=/x", "pvserver " H " --data=/x", 1 },
	{ "pvserver -pv -px1 --spx", "pvserver " H " -pv -px1 --spx", 1 },
	{ "pvserver --client-host --no-mpi", "pvserver " H " --no-mpi", 1 },
	{ "pvserver --no-mpi --server-port", "pvserver " H " --no-mpi", 1 },
	{ "pvserver -ch -rc -sp", "pvserver " H, 1 },
	{ "pvserver -- --client-host=x -rc", "pvserver " H " -- --client-host=x -rc", 1 },
	{ "pvserver --CLIENT-HOST=x", "pvserver " H " --CLIENT-HOST=x", 1 },
	{ "pvserver-5.11 --sp=1", "pvserver-5.11 " H, 1 },
	{ "/opt/pv/bin/pvserver-5.9.1 -rc -ch=desk", "/opt/pv/bin/pvserver-5.9.1 " H, 1 },
	{ "./pvserver -r", "./pvserver " H, 1 },
	/* env */
	{ "env A=b pvserver -rc", "env A=b pvserver " H, 1 },
	{ "env -i -u X PATH=/bin pvserver", "env -i -u X PATH=/bin pvserver " H, 1 },
	{ "env -i PATH=/bin -u X pvserver", "env -i PATH=/bin -u X pvserver", 0 },
	{ "/usr/bin/env -- pvserver --sp 3", "/usr/bin/env -- pvserver " H, 1 },
	{ "env --unset=X --chdir /tmp A=1 B=2 pvserver -r",
	  "env --unset=X --chdir /tmp A=1 B=2 pvserver " H, 1 },
	{ "env -iuX pvserver", "env -iuX pvserver " H, 1 },
	{ "env -iu X pvserver", "env -iu X pvserver " H, 1 },
	{ "env - A=1 pvserver", "env - A=1 pvserver " H, 1 },
	{ "env -S pvserver", "env -S pvserver", 0 },
	{ "env --split-string=pvserver", "env --split-string=pvserver", 0 },
	{ "env A=b", "env A=b", 0 },
	{ "env", "env", 0 },
	/* xvfb-run */
	{ "xvfb-run -a pvserver --sp=1", "xvfb-run -a pvserver " H, 1 },
	{ "xvfb-run --server-args=-noreset -n 5 pvserver",
	  "xvfb-run --server-args=-noreset -n 5 pvserver " H, 1 },
	{ "xvfb-run -an5 -w 3 --auth-file /tmp/x pvserver -rc",
	  "xvfb-run -an5 -w 3 --auth-file /tmp/x pvserver " H, 1 },
	{ "xvfb-run -a -- pvserver", "xvfb-run -a -- pvserver " H, 1 },
	{ "xvfb-run -a python3 -rc", "xvfb-run -a python3 -rc", 0 },
	{ "xvfb-run", "xvfb-run", 0 },
	/* apptainer / singularity */
	{ "apptainer exec img.sif pvserver -rc", "apptainer exec img.sif pvserver " H, 1 },
	{ "singularity --quiet exec --nv -B /data:/data --env=A=1 img.sif pvserver --client-host=x",
	  "singularity --quiet exec --nv -B /data:/data --env=A=1 img.sif pvserver " H, 1 },
	{ "apptainer -d exec --bind /a --home /h --cleanenv docker://kitware/pv pvserver -p 1",
	  "apptainer -d exec --bind /a --home /h --cleanenv docker://kitware/pv pvserver " H, 1 },
	{ "apptainer exec img.sif env A=b pvserver", "apptainer exec img.sif env A=b pvserver " H, 1 },
	{ "apptainer run img.sif pvserver", "apptainer run img.sif pvserver", 0 },
	{ "apptainer exec pvserver.sif python3", "apptainer exec pvserver.sif python3", 0 },
	{ "apptainer exec", "apptainer exec", 0 },
	/* mpirun / mpiexec */
	{ "mpirun -np 4 pvserver --sp 1", "mpirun -np 4 pvserver " H, 1 },
	{ "mpiexec -n 2 --bind-to core pvserver", "mpiexec -n 2 --bind-to core pvserver " H, 1 },
	{ "mpirun --mca btl self,tcp -x FOO=1 --oversubscribe pvserver -rc",
	  "mpirun --mca btl self,tcp -x FOO=1 --oversubscribe pvserver " H, 1 },
	{ "mpirun -np 1 pvserver -sp=1 : -np 3 pvserver -sp=1",
	  "mpirun -np 1 pvserver " H " : -np 3 pvserver " H, 2 },
	{ "mpirun -np 1 pvserver -p : -np 3 pvserver",
	  "mpirun -np 1 pvserver " H " : -np 3 pvserver " H, 2 },
	{ "mpirun -np 1 python3 x.py : -np 3 pvserver -ch=a",
	  "mpirun -np 1 python3 x.py : -np 3 pvserver " H, 1 },
	{ "mpirun.openmpi -np 2 xvfb-run -a pvserver", "mpirun.openmpi -np 2 xvfb-run -a pvserver " H, 1 },
	{ "mpiexec.hydra -genv A b -ppn 2 pvserver", "mpiexec.hydra -genv A b -ppn 2 pvserver " H, 1 },
	{ "mpirun --map-by=node:PE=2 --report-bindings pvserver-5.11 -r",
	  "mpirun --map-by=node:PE=2 --report-bindings pvserver-5.11 " H, 1 },
	{ "mpirun -np 4", "mpirun -np 4", 0 },
	{ "mpirun -np 4 ./a.out -p 1", "mpirun -np 4 ./a.out -p 1", 0 },
	/* nested */
	{ "env A=b xvfb-run -a apptainer exec img mpirun -np 4 pvserver -r",
	  "env A=b xvfb-run -a apptainer exec img mpirun -np 4 pvserver " H, 1 },
	{ "mpirun -np 4 env OMP_NUM_THREADS=1 pvserver --client-host=x --no-mpi",
	  "mpirun -np 4 env OMP_NUM_THREADS=1 pvserver " H " --no-mpi", 1 },
	/* not pvserver: untouched */
	{ "python3 script.py --client-host=x", "python3 script.py --client-host=x", 0 },
	{ "pvpython -rc --client-host=x", "pvpython -rc --client-host=x", 0 },
	{ "pvbatch -rc", "pvbatch -rc", 0 },
	{ "pvserver.sh -rc", "pvserver.sh -rc", 0 },
	{ "mypvserver -rc", "mypvserver -rc", 0 },
	{ "pvserver-abc -rc", "pvserver-abc -rc", 0 },
	{ "pvserver- -rc", "pvserver- -rc", 0 },
	{ "pvserver-5. -rc", "pvserver-5. -rc", 0 },
	{ "pvserver-5..1 -rc", "pvserver-5..1 -rc", 0 },
	{ "echo pvserver -rc", "echo pvserver -rc", 0 },
	{ "bash -c pvserver", "bash -c pvserver", 0 },
	{ "/usr/bin/pvserver/ -rc", "/usr/bin/pvserver/ -rc", 0 },
	{ "hostname", "hostname", 0 },
};

START_TEST(test_table)
{
	const struct rw_case *c = &cases[_i];
	int hits = -1;
	char *got = rewrite(c->in, &hits);
	ck_assert_msg(strcmp(got, c->out) == 0, "'%s'\n  gave '%s'\n  want '%s'", c->in, got, c->out);
	ck_assert_msg(hits == c->hits, "'%s': %d pvserver, want %d", c->in, hits, c->hits);
	free(got);
}
END_TEST

START_TEST(test_names)
{
	ck_assert(argv_is_pvserver_name("pvserver"));
	ck_assert(argv_is_pvserver_name("/usr/bin/pvserver"));
	ck_assert(argv_is_pvserver_name("pvserver-5"));
	ck_assert(argv_is_pvserver_name("pvserver-5.11"));
	ck_assert(argv_is_pvserver_name("pvserver-5.11.2"));
	ck_assert(argv_is_pvserver_name("../pvserver-6.0"));
	ck_assert(!argv_is_pvserver_name(NULL));
	ck_assert(!argv_is_pvserver_name(""));
	ck_assert(!argv_is_pvserver_name("pvserver-"));
	ck_assert(!argv_is_pvserver_name("pvserver-5."));
	ck_assert(!argv_is_pvserver_name("pvserver-.5"));
	ck_assert(!argv_is_pvserver_name("pvserver-5.x"));
	ck_assert(!argv_is_pvserver_name("pvserverx"));
	ck_assert(!argv_is_pvserver_name("PVSERVER"));
	ck_assert(!argv_is_pvserver_name("pvserver/"));
	ck_assert(!argv_is_pvserver_name("pvdataserver"));
}
END_TEST

/* Arguments with spaces and the argv contract: untouched words are the
 * caller's own pointers, the result is NULL-terminated, argc counted. */
START_TEST(test_pointers_and_spaces)
{
	char *argv[] = { "xvfb-run", "-a", "-s", "-screen 0 1024x768x24", "pvserver",
			 "--client-host", "a b", "--displays", ":0", NULL };
	int n = -1;
	char **out = argv_rewrite(9, argv, "10.1.2.3", 5, &n);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(n, 10);
	ck_assert_ptr_eq(out[0], argv[0]);
	ck_assert_ptr_eq(out[3], argv[3]);
	ck_assert_ptr_eq(out[4], argv[4]);
	ck_assert_str_eq(out[5], "--reverse-connection");
	ck_assert_str_eq(out[6], "--client-host=10.1.2.3");
	ck_assert_str_eq(out[7], "--server-port=5");
	ck_assert_ptr_eq(out[8], argv[7]);
	ck_assert_ptr_eq(out[9], argv[8]);
	ck_assert_ptr_null(out[10]);
	free(out);
}
END_TEST

START_TEST(test_edges)
{
	char *argv[] = { "pvserver", "-rc", NULL };
	char *empty[] = { NULL };
	int n = -1;
	char **out;

	/* IPv6 host: the --client-host=H form needs no brackets */
	out = argv_rewrite(2, argv, "2001:db8::1", 65535, &n);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(out[2], "--client-host=2001:db8::1");
	ck_assert_str_eq(out[3], "--server-port=65535");
	free(out);
	/* no host: nothing to point at */
	ck_assert_ptr_null(argv_rewrite(2, argv, "", 1, &n));
	ck_assert_ptr_null(argv_rewrite(2, argv, NULL, 1, &n));
	/* empty command: an empty copy */
	out = argv_rewrite(0, empty, "h", 1, &n);
	ck_assert_int_eq(n, 0);
	ck_assert_ptr_null(out[0]);
	free(out);
	ck_assert_int_eq(argv_runs_pvserver(0, empty), 0);
	ck_assert_int_eq(argv_runs_pvserver(0, NULL), 0);
	/* argc larger than the array: the NULL ends it */
	ck_assert_int_eq(argv_runs_pvserver(5, argv), 1);
	out = argv_rewrite(5, argv, "h", 1, &n);
	ck_assert_int_eq(n, 4);
	free(out);
	/* idempotent: the helper may see an already rewritten line */
	char *once = rewrite("mpirun -np 2 pvserver -rc -ch=x", NULL);
	char *twice = rewrite(once, NULL);
	ck_assert_str_eq(once, twice);
	free(once);
	free(twice);
}
END_TEST

/* Pathological nesting stops instead of recursing without end. */
START_TEST(test_deep_nesting)
{
	enum { N = 200 };
	char *argv[N + 2];
	for (int i = 0; i < N; i++)
		argv[i] = "env";
	argv[N] = "pvserver";
	argv[N + 1] = NULL;
	ck_assert_int_eq(argv_runs_pvserver(N + 1, argv), 0);
	argv[0] = "env";
	ck_assert_int_eq(argv_runs_pvserver(2, argv + N - 1), 1);
}
END_TEST

Suite *argv_rewrite_suite(void)
{
	Suite *s = suite_create("argv_rewrite");
	TCase *tc = tcase_create("rewrite");
	tcase_add_loop_test(tc, test_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_pointers_and_spaces);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_deep_nesting);
	suite_add_tcase(s, tc);
	return s;
}
