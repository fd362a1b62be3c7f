/* starter.c - the --starter value (see starter.h). */
#include "starter.h"

#include <string.h>

const char *starter_for(int allocator_ctx, const char *progname)
{
	if (!allocator_ctx)
		return "srun";
	if (progname && strcmp(progname, "salloc") == 0)
		return "salloc";
	return "sbatch";
}
