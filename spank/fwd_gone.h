/* fwd_gone.h - telling the user that the job's forwarder ended before its
 * time (killed, or crashed): srun and salloc at their exit, and a step whose
 * HELLO found nothing listening on the forwarder's control port.
 *
 * srun's forwarder ends only after srun: a lifeline pipe without a reader
 * at srun's exit means it was killed.  salloc's forwarder also ends, as it
 * should, when salloc's job ends (scancel, the time limit) while salloc runs
 * on with its command, so there the lifeline alone says nothing.  What tells
 * the two apart: a forwarder that ends by itself removes its <pid>.state in
 * the state directory before it closes its end of the lifeline (its job
 * part is freed before the lifeline, forwarder/main.c run()); one killed by
 * SIGKILL, or one that crashed, leaves the file.  Looked at in that order -
 * the lifeline first, then the file - a forwarder that ended by itself is
 * never taken for a killed one.  The converse can happen: `pv-forwarder
 * --list` and every forwarder start remove a dead forwarder's state file,
 * and then salloc says nothing. */
#ifndef PVF_FWD_GONE_H
#define PVF_FWD_GONE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#pragma GCC visibility push(hidden)

/* What the plugin knows of the forwarder it started. */
struct fwd_gone_want {
	const char *starter;    /* its --starter: "srun", "salloc" */
	uint16_t lport;         /* its relay port */
	uint16_t control;       /* its control port; 0: not known */
};

/* Pure: 1 when text, the contents of a <pid>.state file, is the state of
 * the forwarder w describes (same starter, relay port and, when known,
 * control port), with *pid set from it; 0 otherwise.  Two forwarders of a
 * user cannot hold the same ports at once, and every forwarder's start
 * removes the state files of the dead, so at most one file matches. */
int fwd_gone_is_ours(const char *text, const struct fwd_gone_want *w, long *pid);

/* Pure: whether the starter says at its exit that its forwarder ended
 * before it did.  lifeline_gone: nobody reads the lifeline any more
 * (launch_lifeline_gone), looked at before state_left: the forwarder's
 * state file is still there. */
int fwd_gone_say_at_exit(const char *starter, int lifeline_gone, int state_left);

/* Pure: the message at the starter's exit, one line: the forwarder's relay
 * address (via, "login:40123"), the login node's name and where its log is:
 * the file when log_is_file, else the directory it is in. */
void fwd_gone_exit_msg(char *buf, size_t len, const char *starter, const char *via,
		       const char *login, const char *log, int log_is_file);

/* Pure: a step's HELLO that nothing listened to, one line: the step
 * ("12.0"), the forwarder's relay address (via), the login node and the
 * user whose state directory holds the log. */
void fwd_gone_hello_msg(char *buf, size_t len, const char *step, const char *via,
			const char *login, uid_t uid);

/* Looks into the user's state directories (common/statedir.h) for the
 * state file of w's forwarder.  1 found: log holds the path of its log
 * (DIR/PID.log); 0 not found: log holds the directory a forwarder of this
 * process's environment uses. */
int fwd_gone_find(const struct fwd_gone_want *w, char *log, size_t loglen);

/* At the exit of srun or salloc (starter in w) whose lifeline has no reader
 * any more (the caller looked first): 1 with the message in msg when the
 * user is to be told, 0 otherwise. */
int fwd_gone_at_exit(const struct fwd_gone_want *w, const char *login, char *msg,
		     size_t msglen);

#pragma GCC visibility pop

#endif
