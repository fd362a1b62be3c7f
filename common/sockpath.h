/* sockpath.h - a Unix socket on the login node as the destination: the far
 * end of the user's own `ssh -R /PATH:localhost:PORT login`, for desktops
 * the login node cannot reach (NAT, firewalls).
 *
 * The forwarder relays a user's pvserver into such a socket only when the
 * user controls it alone, judged like OpenSSH's StrictModes:
 *   - the socket itself (not a symbolic link) belongs to the user and is not
 *     writable by group or others (sshd makes it 0600: StreamLocalBindMask);
 *   - every directory from / down to it (symbolic links resolved) belongs to
 *     root or the user and is not writable by group or others, except a
 *     sticky one (/tmp): there nobody else can rename or remove the user's
 *     entry, and the entry's own owner is checked;
 *   - once connected, the process listening on it (SO_PEERCRED: the user's
 *     sshd) runs as the user.  The path checks can be raced (an entry may be
 *     swapped between the check and the connect); the peer's uid cannot.
 * Anything else is refused with one reason naming the path.
 *
 * The value the user types (--pv-forward=VALUE):
 *   /PATH        an absolute path
 *   ~/PATH       PATH in the user's home directory (from the password
 *                database; sshd does not expand '~' or relative -R paths, so
 *                the desktop's ssh names the absolute path)
 *   ~            SOCKPATH_DEFAULT_NAME in the user's home directory
 *
 * Pure: the sockpath_judge_* and sockpath_parse functions.  I/O:
 * sockpath_check (stat, realpath), sockpath_connect, sockpath_peer_check. */
#ifndef PVF_SOCKPATH_H
#define PVF_SOCKPATH_H

#include <stddef.h>
#include <sys/types.h>

/* sun_path holds 108 bytes with its NUL. */
#define SOCKPATH_MAX 107
#define SOCKPATH_BUF (SOCKPATH_MAX + 1)
#define SOCKPATH_DEFAULT_NAME ".pv-forward.sock"

enum sockpath_verdict {
	SOCKPATH_OK = 0,
	SOCKPATH_MISSING,     /* not there (yet): hold and try again */
	SOCKPATH_REFUSED,     /* there, but not the user's alone: never use it */
};

/* 1 when value names a socket (begins with '/' or '~'), 0 for HOST[:PORT]. */
int sockpath_is_socket_value(const char *value);

/* value -> absolute path in out (SOCKPATH_BUF bytes).  home: the user's home
 * directory (needed for '~' forms only; NULL or "" refuses them).  Refused:
 * relative paths, '~USER', empty components ("//"), "." and ".." components,
 * a trailing '/', bytes outside printable ASCII, more than SOCKPATH_MAX
 * bytes.  0, or -1 with a reason in why that does not repeat the value. */
int sockpath_parse(const char *value, const char *home, char *out, size_t outlen,
		   char *why, size_t whylen);

/* One directory of the chain (lstat of an entry without symbolic links). */
enum sockpath_verdict sockpath_judge_dir(const char *dir, mode_t mode, uid_t owner,
					 uid_t user, char *why, size_t whylen);
/* The socket's entry: exists 0 -> SOCKPATH_MISSING. */
enum sockpath_verdict sockpath_judge_sock(const char *path, int exists, mode_t mode,
					  uid_t owner, uid_t user, char *why, size_t whylen);
/* The listening process's uid. */
enum sockpath_verdict sockpath_judge_peer(const char *path, uid_t peer, uid_t user,
					  char *why, size_t whylen);

/* The checks above on the file system for path (absolute, from
 * sockpath_parse): the directory is resolved with realpath(3) and walked from
 * /; resolved (SOCKPATH_BUF) gets the path to connect to (the resolved
 * directory + the socket's name), also for SOCKPATH_MISSING when the
 * directory exists.  why: the reason for anything but SOCKPATH_OK. */
enum sockpath_verdict sockpath_check(const char *path, uid_t user, char *resolved,
				     size_t resolvedlen, char *why, size_t whylen);

/* One line of /proc/net/unix: 1 when it is a stream socket listening on
 * exactly path (sshd's end of an ssh -R), else 0.  Pure. */
int sockpath_unix_line_listens(const char *line, const char *path);
/* Whether a stream socket of this network namespace listens on path, from
 * /proc/net/unix (nothing is connected: a connect would reach the desktop).
 * 1 yes, 0 no, -1 cannot tell. */
int sockpath_listening(const char *path);

/* A non-blocking, close-on-exec AF_UNIX stream socket connected to path
 * (a Unix connect completes at once or fails).  -1 with errno. */
int sockpath_connect(const char *path);

/* SO_PEERCRED of the connected fd against user. */
enum sockpath_verdict sockpath_peer_check(int fd, const char *path, uid_t user,
					  char *why, size_t whylen);

#endif
