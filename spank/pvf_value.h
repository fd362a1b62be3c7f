/* pvf_value.h - where the --pv-forward=DEST value is checked (on the submit
 * host), into the destination the forwarder gets.
 *
 *   DEST := HOST | HOST:PORT | [IPV6] | [IPV6]:PORT | :PORT | (nothing)
 *         | /PATH | ~/PATH | ~        (a Unix socket: pvf_value_check_socket)
 *
 * No host: the address the user's SSH session comes from (first field of
 * SSH_CONNECTION, else of SSH_CLIENT).  No port: 11111.  Checks, in order:
 * characters, syntax and port (common/hostport.h), the SSH address when no
 * host is given, name resolution, the site's allow= policy.  Pure except for
 * the resolver, which the caller passes in (tests use a table). */
#ifndef PVF_PVF_VALUE_H
#define PVF_PVF_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "hostport.h"
#include "site_args.h"
#include "sockpath.h"

#pragma GCC visibility push(hidden)

#define PVF_DEFAULT_PORT 11111
#define PVF_VALUE_MAX_ADDRS    16

/* Fills addrs[0..*n-1] with host's addresses (IP literals included).  0, or
 * -1 with a short reason in err ("Name or service not known"). */
typedef int (*pvf_value_resolver)(void *ctx, const char *host,
			     struct sockaddr_storage *addrs, size_t max, size_t *n,
			     char *err, size_t errlen);

/* The real resolver: getaddrinfo(3), TCP, any family.  ctx is unused. */
int pvf_value_resolve_getaddrinfo(void *ctx, const char *host,
			     struct sockaddr_storage *addrs, size_t max, size_t *n,
			     char *err, size_t errlen);

/* What the environment offers (NULL: not set). */
struct pvf_value_env {
	const char *ssh_connection;
	const char *ssh_client;
};

struct pvf_dest {
	char host[HOSTPORT_HOST_MAX + 1];  /* as given, or the SSH client address */
	uint16_t port;
	int from_ssh;                      /* host came from SSH_CONNECTION/SSH_CLIENT */
	char to[HOSTPORT_HOST_MAX + 1];    /* what the forwarder connects to: host, or
					      under an allow= policy the address that
					      passed it */
	int loopback;                      /* every address of host is a loopback one
					      (reachable by every user of this node) */
	int socket;                        /* host and to are a Unix socket's path, port 0 */
	int missing;                       /* that socket (or its directory) is not there yet */
};

/* The SSH client address from env: "" -> -1.  IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) become IPv4. */
int pvf_value_ssh_host(const struct pvf_value_env *env, char *out, size_t outlen,
		  char *why, size_t whylen);

/* Checks value (NULL, "" and "(null)" mean no value).  0 with *out filled, or
 * -1 with msg holding the one line for the user:
 *   pv-forward: <what is wrong> in '<VALUE>' (expected HOST[:PORT])
 * site may be NULL (no policy); resolve may be NULL (no resolution check). */
int pvf_value_check(const char *value, const struct pvf_value_env *env,
	       const struct site_args *site, pvf_value_resolver resolve, void *ctx,
	       struct pvf_dest *out, char *msg, size_t msglen);

/* Checks a value naming a Unix socket (sockpath_is_socket_value): the path
 * (home expands '~'), then, when check is not NULL, the file system through it
 * (sockpath_check; tests pass a table).  A socket or directory that is not there
 * yet is fine (out->missing): the user may start ssh after submitting.  0 with
 * *out filled in (host = to = the path, port 0), or -1 with msg:
 *   pv-forward: <what is wrong> in '<VALUE>' (expected /PATH or ~/PATH ...) */
typedef enum sockpath_verdict (*pvf_value_sock_checker)(const char *path, uid_t user,
						   char *resolved, size_t resolvedlen,
						   char *why, size_t whylen);
int pvf_value_check_socket(const char *value, const char *home, uid_t user,
		      pvf_value_sock_checker check, struct pvf_dest *out, char *msg, size_t msglen);

#pragma GCC visibility pop

#endif
