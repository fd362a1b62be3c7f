/* slurm_release.h - the Slurm release these headers are from, as Slurm writes it
 * ("22.05.8"): the plugin logs it at load and pv-forwarder --version prints it, so a site
 * can tell which build it runs (Slurm loads only plugins of its own major.minor). */
#ifndef PVF_SLURM_RELEASE_H
#define PVF_SLURM_RELEASE_H

#include <stdio.h>
#include <slurm/slurm_version.h>

/* Writes the release into buf (16 bytes are enough) and returns buf. */
static inline const char *slurm_release(char *buf, size_t size)
{
	snprintf(buf, size, "%d.%02d.%d", SLURM_VERSION_MAJOR(SLURM_VERSION_NUMBER),
		 SLURM_VERSION_MINOR(SLURM_VERSION_NUMBER),
		 SLURM_VERSION_MICRO(SLURM_VERSION_NUMBER));
	return buf;
}

#endif
