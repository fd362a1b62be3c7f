/* state.h - the per-user state directory (DESIGN.md): what `pv-forwarder
 * --list` shows and where a forwarder's own log goes.
 *
 * The directory is $XDG_RUNTIME_DIR/pv-forward when XDG_RUNTIME_DIR is an
 * absolute path to a directory of the user's, else /tmp/pv-forward-$UID.
 * It is created with mode 0700 and used only when it is a real directory
 * (no symbolic link) owned by the user with no group or other access; any
 * other is refused (with a reason).  In it, per forwarder:
 *   <pid>.state  key=value lines (staterec.h), replaced atomically
 *                (written to <pid>.state.tmp, then renamed)
 *   <pid>.log    its log (log_to_file), kept after it exits
 * Readers (--list, the claimed jobs) look into both possible directories,
 * so forwarders started with and without XDG_RUNTIME_DIR are all seen.
 * An entry is stale when its pid is gone or is not a pv-forwarder of the
 * user; --list and every forwarder start remove it, the <pid>.state.tmp of
 * a gone forwarder, and the logs the retention rule of logkeep.h lets go. */
#ifndef PVF_STATE_H
#define PVF_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "staterec.h"

struct state;

/* Creates or checks the directory, starts the log file there (when
 * with_log) and returns a writer for this process's entry.  NULL with the
 * reason in err when the directory cannot be used. */
struct state *state_open(int with_log, char *err, size_t errlen);
/* Writes the entry (pid is filled in).  When the directory has vanished
 * (XDG_RUNTIME_DIR is removed at the user's last logout) it is made again
 * and the log reopened.  0 or -1 (logged once per failure streak). */
int state_write(struct state *s, const struct staterec *r);
/* Removes the entry (the log stays) and frees s. */
void state_close(struct state *s);
/* The directory in use ("" for NULL). */
const char *state_dir(const struct state *s);

/* The user's other live pv-forwarders, from one look at the directory:
 * the jobs those bound to a job claim, and the others' submission windows
 * (see jobrules_by_order).  Free with state_peers_free(). */
struct submit_window;
struct state_peers {
	uint32_t *claimed;
	size_t nclaimed;
	struct submit_window *unbound;
	size_t nunbound;
};
void state_peers(struct state_peers *p);
void state_peers_free(struct state_peers *p);

/* The submit lock of the user's sbatch forwarders (STATE_SUBMIT_LOCK in the
 * state directory): held by a forwarder from its start until its sbatch
 * exits, so that the sbatch of one user on one host submit one after the
 * other, and job ids follow the order of the forwarders' windows.  Waits
 * at most wait_ms.  The lock's fd, or -1 (not got: timeout or error, in
 * err) -- the forwarder then goes on without an order. */
#define STATE_SUBMIT_LOCK "sbatch.lock"
int state_submit_lock(struct state *s, int wait_ms, char *err, size_t errlen);

/* --list: prints the user's forwarders to out, removes stale entries.
 * Returns an exit code. */
int state_list(FILE *out);

#endif
