/* starter.h - the --starter value the plugin gives the forwarder: which
 * Slurm client started it, and so which lifetime it gets (DESIGN.md, "A
 * forwarder's job and lifetime").  Pure. */
#ifndef PVF_STARTER_H
#define PVF_STARTER_H

#pragma GCC visibility push(hidden)

/* The --starter value for the client that runs the plugin.  srun is the
 * only client in the local context: "srun" whatever its name.  In the
 * allocator context "salloc" is recognised by name; every other name there
 * (sbatch, or a site's renamed or wrapped copy) gets "sbatch", the semantics
 * that never end a forwarder before its job: the forwarder then binds to the
 * job from HELLO or its own search and lives as long as the job. */
const char *starter_for(int allocator_ctx, const char *progname);

#pragma GCC visibility pop

#endif
