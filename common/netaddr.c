/* netaddr.c - CIDR blocks and sockaddr printing (see netaddr.h).  Pure. */
#include "netaddr.h"
#include "errmsg.h"
#include "numparse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void clear_host_bits(struct cidr *c)
{
	unsigned bytes = c->family == AF_INET ? 4 : 16;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bit0 = i * 8;
		if (c->prefix >= bit0 + 8)
			continue;
		unsigned keep = c->prefix > bit0 ? c->prefix - bit0 : 0;
		c->addr[i] &= (unsigned char)(0xff00u >> keep);
	}
}

int cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix;

	memset(out, 0, sizeof(*out));
	if (alen == 0)
		return errmsg(err, errlen, "missing address before '/'");
	if (alen >= sizeof(addr))
		return errmsg(err, errlen, "not an IP address");
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		out->prefix = 128;
	} else {
		return errmsg(err, errlen, "not an IP address");
	}
	if (slash) {
		if (parse_ulong(slash + 1, 0, out->prefix, &prefix) < 0)
			return errmsg(err, errlen, out->family == AF_INET
					 ? "mask length must be 0-32"
					 : "mask length must be 0-128");
		out->prefix = (unsigned)prefix;
	}
	clear_host_bits(out);
	return 0;
}

void cidr_from_sockaddr(const struct sockaddr *sa, struct cidr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = sa->sa_family;
	if (sa->sa_family == AF_INET) {
		memcpy(out->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		out->prefix = 32;
	} else {
		memcpy(out->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		out->prefix = 128;
	}
}

int cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	unsigned char a[16];
	int family = sa->sa_family;

	if (family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (c->family == AF_INET && IN6_IS_ADDR_V4MAPPED(a6)) {
			memcpy(a, &a6->s6_addr[12], 4);
			family = AF_INET;
		} else {
			memcpy(a, a6->s6_addr, 16);
		}
	} else {
		return 0;
	}
	if (family != c->family)
		return 0;
	unsigned full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(a, c->addr, full) != 0)
		return 0;
	if (rest && ((a[full] ^ c->addr[full]) & (0xff00u >> rest) & 0xff))
		return 0;
	return 1;
}

int cidr_list_match(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_match(&list[i], sa))
			return 1;
	return 0;
}

const struct sockaddr *sockaddr_unmap_v4(const struct sockaddr *sa, struct sockaddr_in *buf)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return sa;
	memset(buf, 0, sizeof(*buf));
	buf->sin_family = AF_INET;
	buf->sin_port = s6->sin6_port;
	memcpy(&buf->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	return (const struct sockaddr *)buf;
}

void sockaddr_format(const struct sockaddr *sa, char *buf, size_t len, int with_port)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	} else {
		snprintf(buf, len, "(unknown address family %d)", sa->sa_family);
		return;
	}
	if (!with_port || port == 0)
		snprintf(buf, len, "%s", host);
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
}
