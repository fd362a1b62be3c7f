/* netaddr.h - address literals, CIDR blocks and their matching (pure).
 * Used for the forwarder's allowed sources and the plugin's allow= policy. */
#ifndef PVF_NETADDR_H
#define PVF_NETADDR_H

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct cidr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network byte order; 4 bytes used for AF_INET */
	unsigned prefix;         /* 0..32 or 0..128 */
};

/* "ADDR" or "ADDR/LEN" with ADDR an IPv4/IPv6 literal.  Host bits beyond the
 * prefix are cleared.  0, or -1 with the reason in err. */
int cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen);

/* A /32 or /128 for one resolved address. */
void cidr_from_sockaddr(const struct sockaddr *sa, struct cidr *out);

/* 1 when sa lies in c.  IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match
 * IPv4 blocks, so a dual-stack listener behaves like an IPv4 one. */
int cidr_match(const struct cidr *c, const struct sockaddr *sa);

/* 1 when sa matches any of the n blocks. */
int cidr_list_match(const struct cidr *list, size_t n, const struct sockaddr *sa);

/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: returns sa itself,
 * or, for such an address, buf filled with the plain IPv4 address it is. */
const struct sockaddr *sockaddr_unmap_v4(const struct sockaddr *sa, struct sockaddr_in *buf);

/* "1.2.3.4:5" or "[::1]:5" (port omitted when 0 or when with_port is 0). */
void sockaddr_format(const struct sockaddr *sa, char *buf, size_t len, int with_port);

#endif
