/* statedir.h - where a user's forwarders keep their state files and logs
 * (forwarder/state.h describes what is in it), for the forwarder and for the
 * plugin, which looks there for the state file a killed forwarder left.
 *
 * The directory is $XDG_RUNTIME_DIR/pv-forward when XDG_RUNTIME_DIR is an
 * absolute path to a directory of the user's, else /tmp/pv-forward-$UID; it
 * is used only when it is a real directory owned by the user with mode 0700
 * (no group or other access). */
#ifndef PVF_STATEDIR_H
#define PVF_STATEDIR_H

#include <limits.h>
#include <stddef.h>

/* The possible directories: [0] the one a forwarder uses, [1] the other
 * ("" when there is none). */
void statedir_candidates(char dirs[2][PATH_MAX]);

/* Opens dir (creating it with mode 0700 when create) as a private directory
 * of the user's.  The descriptor (O_DIRECTORY, close-on-exec), or -1 with
 * the reason in err and errno set (ENOENT when it does not exist and create
 * is 0, EPERM when it is not private). */
int statedir_open(const char *dir, int create, char *err, size_t errlen);

/* Pure: the pid of an entry named "<pid><suffix>" (".state", ".log", ...),
 * else 0. */
long statedir_name_pid(const char *name, const char *suffix);

/* Reads the small file name in the directory dfd (no symbolic link) into
 * buf as a string, at most len - 1 bytes: 0, or -1. */
int statedir_read_small(int dfd, const char *name, char *buf, size_t len);

#endif
