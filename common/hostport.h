/* hostport.h - the HOST[:PORT] grammar shared by the plugin's --pv-forward
 * value and the forwarder's command line and configuration file.
 *
 *   HOST | HOST:PORT | [IPV6] | [IPV6]:PORT | :PORT | (empty)
 *
 * HOST is an IPv4 literal, an IPv6 literal (bracketed when a port may follow;
 * a bare IPv6 literal with two or more colons is accepted as a host only) or
 * an RFC 1123 host name of at most 253 characters.  PORT is 1..65535, digits
 * only.  Pure functions: no I/O, no name resolution. */
#ifndef PVF_HOSTPORT_H
#define PVF_HOSTPORT_H

#include <stddef.h>
#include <stdint.h>

#define HOSTPORT_HOST_MAX 253

struct hostport {
	char host[HOSTPORT_HOST_MAX + 1]; /* "" when no host was given; IPv6 without brackets */
	uint16_t port;                    /* 0 when no port was given */
	int is_ipv6;                      /* host is an IPv6 literal */
};

/* Parses s.  0 on success; -1 with a short reason in err ("port 0 is out of
 * range 1-65535", "unbalanced '['", ...) that does not repeat the value. */
int hostport_parse(const char *s, struct hostport *hp, char *err, size_t errlen);

/* 1 when host is an IPv4 literal, an IPv6 literal (no brackets) or a valid
 * RFC 1123 name; 0 otherwise, with the reason in err when err is not NULL. */
int host_is_valid(const char *host, char *err, size_t errlen);

/* "host:port", "[v6]:port"; a Unix socket's path (host beginning with
 * '/', see sockpath.h) as it is.  Returns snprintf's result. */
int hostport_format(char *buf, size_t len, const char *host, uint16_t port);

#endif
