/* pvf_value.c - the --pv-forward=DEST value checked (see pvf_value.h).
 * Pure except for the resolver passed in; pvf_value_resolve_getaddrinfo is
 * the real one. */
#include "pvf_value.h"
#include "netaddr.h"
#include "quote.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int pvf_value_resolve_getaddrinfo(void *ctx, const char *host,
			     struct sockaddr_storage *addrs, size_t max, size_t *n,
			     char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	(void)ctx;
	*n = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai && *n < max; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(addrs[0]))
			continue;
		memset(&addrs[*n], 0, sizeof(addrs[0]));
		memcpy(&addrs[*n], ai->ai_addr, ai->ai_addrlen);
		(*n)++;
	}
	freeaddrinfo(res);
	if (*n == 0) {
		snprintf(err, errlen, "no IPv4 or IPv6 address");
		return -1;
	}
	return 0;
}

__attribute__((format(printf, 4, 5)))
static int refuse(char *msg, size_t msglen, const char *value, const char *fmt, ...)
{
	char what[512], shown[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	quote_str(shown, sizeof(shown), value);
	snprintf(msg, msglen, "pv-forward: %s in '%s' (expected HOST[:PORT])", what, shown);
	return -1;
}

/* Characters no DEST can contain, with a reason that names them. */
static int check_chars(const char *v, char *why, size_t len)
{
	static const char shell[] = ";&|<>$`'\"\\()*?!{}~#,=/@%^+";

	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			snprintf(why, len, "white space is not allowed");
			return -1;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(why, len, "control character 0x%02x is not allowed", c);
			return -1;
		}
		if (c >= 0x80) {
			snprintf(why, len, "non-ASCII byte 0x%02x is not allowed", c);
			return -1;
		}
		if (strchr(shell, c)) {
			/* a quote is shown in the other kind of quotes */
			snprintf(why, len, c == '\'' ? "character \"%c\" is not allowed"
						     : "character '%c' is not allowed", c);
			return -1;
		}
	}
	return 0;
}

static int is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int pvf_value_ssh_host(const struct pvf_value_env *env, char *out, size_t outlen,
		  char *why, size_t whylen)
{
	const char *src = NULL, *name = NULL;
	char field[HOSTPORT_HOST_MAX + 1];
	size_t l;

	if (env && env->ssh_connection && *env->ssh_connection) {
		src = env->ssh_connection;
		name = "SSH_CONNECTION";
	} else if (env && env->ssh_client && *env->ssh_client) {
		src = env->ssh_client;
		name = "SSH_CLIENT";
	}
	if (src == NULL) {
		snprintf(why, whylen,
			 "no HOST given and this session has neither SSH_CONNECTION nor "
			 "SSH_CLIENT to take the desktop's address from");
		return -1;
	}
	src += strspn(src, " \t");
	l = strcspn(src, " \t");
	if (l == 0 || l >= sizeof(field)) {
		snprintf(why, whylen, "no HOST given and %s does not start with an IP address",
			 name);
		return -1;
	}
	memcpy(field, src, l);
	field[l] = '\0';
	/* ::ffff:a.b.c.d -> a.b.c.d (ParaView 5.11 speaks IPv4 only) */
	if (strncasecmp(field, "::ffff:", 7) == 0 && strchr(field + 7, '.') &&
	    is_ip_literal(field + 7))
		memmove(field, field + 7, strlen(field + 7) + 1);
	if (!is_ip_literal(field)) {
		char shown[64];
		quote_str(shown, sizeof(shown), field);
		snprintf(why, whylen,
			 "no HOST given and %s starts with '%s', not an IP address", name, shown);
		return -1;
	}
	if (strlen(field) >= outlen) {
		snprintf(why, whylen, "no HOST given and %s's address is too long", name);
		return -1;
	}
	snprintf(out, outlen, "%s", field);
	return 0;
}

static int host_entry_matches(const struct site_allow *a, const char *host,
			      const struct sockaddr *sa, pvf_value_resolver resolve, void *ctx)
{
	struct sockaddr_storage addrs[PVF_VALUE_MAX_ADDRS];
	char err[128];
	size_t n = 0;

	if (strcasecmp(a->host, host) == 0)
		return 1;
	if (resolve == NULL || resolve(ctx, a->host, addrs, PVF_VALUE_MAX_ADDRS, &n, err,
				       sizeof(err)) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct cidr one;
		cidr_from_sockaddr((const struct sockaddr *)&addrs[i], &one);
		if (cidr_match(&one, sa))
			return 1;
	}
	return 0;
}

static int addr_allowed(const struct site_args *site, const char *host,
			const struct sockaddr *sa, pvf_value_resolver resolve, void *ctx)
{
	for (size_t i = 0; i < site->nallow; i++) {
		const struct site_allow *a = &site->allow[i];
		if (a->is_cidr ? cidr_match(&a->cidr, sa)
			       : host_entry_matches(a, host, sa, resolve, ctx))
			return 1;
	}
	return 0;
}

static void allow_list_text(const struct site_args *site, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < site->nallow && n + 1 < len; i++) {
		const struct site_allow *a = &site->allow[i];
		char item[HOSTPORT_HOST_MAX + 8];

		if (a->is_cidr) {
			char addr[INET6_ADDRSTRLEN];
			inet_ntop(a->cidr.family, a->cidr.addr, addr, sizeof(addr));
			snprintf(item, sizeof(item), "%s/%u", addr, a->cidr.prefix);
		} else {
			snprintf(item, sizeof(item), "%s", a->host);
		}
		int w = snprintf(out + n, len - n, "%s%s", i ? ", " : "", item);
		if (w < 0 || (size_t)w >= len - n) {
			if (len > 4)
				snprintf(out + (len - 4), 4, "...");
			return;
		}
		n += (size_t)w;
	}
}

static int is_unspecified_v6(const char *host)
{
	struct in6_addr a;
	return inet_pton(AF_INET6, host, &a) == 1 && IN6_IS_ADDR_UNSPECIFIED(&a);
}

/* 127.0.0.0/8, ::1 and ::ffff:127.x.y.z. */
static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

int pvf_value_check_socket(const char *value, const char *home, uid_t user,
		      pvf_value_sock_checker check, struct pvf_dest *out, char *msg, size_t msglen)
{
	char path[SOCKPATH_BUF], resolved[SOCKPATH_BUF], why[512], shown[300];

	memset(out, 0, sizeof(*out));
	if (sockpath_parse(value, home, path, sizeof(path), why, sizeof(why)) == 0 && check)
		switch (check(path, user, resolved, sizeof(resolved), why, sizeof(why))) {
		case SOCKPATH_OK:
			break;
		case SOCKPATH_MISSING:
			out->missing = 1;
			break;
		case SOCKPATH_REFUSED:
			path[0] = '\0';
			break;
		}
	if (!path[0]) {
		quote_str(shown, sizeof(shown), value);
		snprintf(msg, msglen, "pv-forward: %s in '%s' (expected /PATH or ~/PATH of a "
			 "Unix socket that only you control: the far end of your ssh -R)", why, shown);
		return -1;
	}
	snprintf(out->host, sizeof(out->host), "%s", path);
	snprintf(out->to, sizeof(out->to), "%s", path);
	out->socket = 1;
	return 0;
}

int pvf_value_check(const char *value, const struct pvf_value_env *env,
	       const struct site_args *site, pvf_value_resolver resolve, void *ctx,
	       struct pvf_dest *out, char *msg, size_t msglen)
{
	struct sockaddr_storage addrs[PVF_VALUE_MAX_ADDRS];
	struct hostport hp;
	char why[256];
	size_t naddrs = 0;

	if (value == NULL || strcmp(value, "(null)") == 0)
		value = "";
	memset(out, 0, sizeof(*out));

	if (check_chars(value, why, sizeof(why)) < 0)
		return refuse(msg, msglen, value, "%s", why);
	if (hostport_parse(value, &hp, why, sizeof(why)) < 0)
		return refuse(msg, msglen, value, "%s", why);

	/* "Any address" is where one listens, not a desktop one can reach. */
	if (strcmp(hp.host, "0.0.0.0") == 0 || (hp.is_ipv6 && is_unspecified_v6(hp.host)))
		return refuse(msg, msglen, value,
			      "'%s' is the unspecified (any) address, not a host", hp.host);

	out->port = hp.port ? hp.port : PVF_DEFAULT_PORT;
	if (hp.host[0]) {
		snprintf(out->host, sizeof(out->host), "%s", hp.host);
	} else {
		if (pvf_value_ssh_host(env, out->host, sizeof(out->host), why, sizeof(why)) < 0)
			return refuse(msg, msglen, value, "%s", why);
		out->from_ssh = 1;
	}
	snprintf(out->to, sizeof(out->to), "%s", out->host);

	if (resolve == NULL)
		return 0;
	if (resolve(ctx, out->host, addrs, PVF_VALUE_MAX_ADDRS, &naddrs, why, sizeof(why)) < 0 ||
	    naddrs == 0) {
		char shown[300];
		quote_str(shown, sizeof(shown), out->host);
		if (out->from_ssh)
			return refuse(msg, msglen, value,
				      "the SSH client address '%s' is not usable (%s)", shown, why);
		return refuse(msg, msglen, value,
			      "host '%s' does not resolve on this login node (%s)", shown, why);
	}

	out->loopback = 1;
	for (size_t i = 0; i < naddrs; i++)
		if (!is_loopback((const struct sockaddr *)&addrs[i]))
			out->loopback = 0;

	if (site == NULL || site->nallow == 0)
		return 0;
	/* Under a policy the forwarder gets the very address that was checked,
	 * an IPv4 one when there is one (ParaView 5.11 is IPv4 only). */
	int chosen = -1;
	for (size_t i = 0; i < naddrs; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&addrs[i];
		if (!addr_allowed(site, out->host, sa, resolve, ctx))
			continue;
		if (chosen < 0 || (sa->sa_family == AF_INET &&
				   addrs[chosen].ss_family != AF_INET))
			chosen = (int)i;
	}
	if (chosen < 0) {
		char list[256], shown[300];
		allow_list_text(site, list, sizeof(list));
		quote_str(shown, sizeof(shown), out->host);
		return refuse(msg, msglen, value,
			      "this site does not allow forwarding to '%s' (allowed: %s)",
			      shown, list);
	}
	for (size_t i = 0; i < site->nallow; i++)
		if (!site->allow[i].is_cidr && strcasecmp(site->allow[i].host, out->host) == 0)
			return 0;   /* allowed by name: keep the name */
	sockaddr_format((const struct sockaddr *)&addrs[chosen], out->to, sizeof(out->to), 0);
	return 0;
}
