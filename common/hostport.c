/* hostport.c - the HOST[:PORT] grammar (see hostport.h).  Pure. */
#include "hostport.h"
#include "errmsg.h"
#include "numparse.h"
#include "quote.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int is_ipv4_literal(const char *s)
{
	struct in_addr a;
	return inet_pton(AF_INET, s, &a) == 1;
}

static int is_ipv6_literal(const char *s)
{
	struct in6_addr a;
	return inet_pton(AF_INET6, s, &a) == 1;
}

/* RFC 1123: dot-separated labels of 1..63 letters, digits and hyphens, a label
 * neither starting nor ending with a hyphen, 253 characters in all. */
static int is_rfc1123_name(const char *s, char *err, size_t errlen)
{
	char msg[96];
	size_t label = 0;

	if (strlen(s) > HOSTPORT_HOST_MAX)
		return errmsg(err, errlen, "host name is longer than 253 characters"), 0;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0)
				return errmsg(err, errlen, "empty label in host name"), 0;
			if (p[-1] == '-')
				return errmsg(err, errlen, "host name label ends with '-'"), 0;
			if (*p == '\0')
				return 1;
			label = 0;
			continue;
		}
		if (!isascii((unsigned char)*p) || !(isalnum((unsigned char)*p) || *p == '-')) {
			if (isprint((unsigned char)*p))
				snprintf(msg, sizeof(msg), "invalid character '%c' in host name", *p);
			else
				snprintf(msg, sizeof(msg), "invalid character 0x%02x in host name",
					 (unsigned char)*p);
			return errmsg(err, errlen, "%s", msg), 0;
		}
		if (label == 0 && *p == '-')
			return errmsg(err, errlen, "host name label starts with '-'"), 0;
		if (++label > 63)
			return errmsg(err, errlen, "host name label is longer than 63 characters"), 0;
	}
}

int host_is_valid(const char *host, char *err, size_t errlen)
{
	if (host == NULL || *host == '\0')
		return errmsg(err, errlen, "empty host"), 0;
	if (is_ipv4_literal(host) || is_ipv6_literal(host))
		return 1;
	return is_rfc1123_name(host, err, errlen);
}

static int parse_port_text(const char *s, uint16_t *port, char *err, size_t errlen)
{
	char msg[96];
	unsigned long v;

	if (*s == '\0')
		return errmsg(err, errlen, "missing port after ':'");
	if (strspn(s, "0123456789") != strlen(s)) {
		char q[QUOTE_BUF];
		snprintf(msg, sizeof(msg), "port '%s' is not a number",
			 quote_text(q, sizeof(q), s, strlen(s), 16));
		return errmsg(err, errlen, "%s", msg);
	}
	if (parse_ulong(s, 1, 65535, &v) < 0) {
		snprintf(msg, sizeof(msg), "port %.16s%s is out of range 1-65535", s,
			 strlen(s) > 16 ? "..." : "");
		return errmsg(err, errlen, "%s", msg);
	}
	*port = (uint16_t)v;
	return 0;
}

int hostport_parse(const char *s, struct hostport *hp, char *err, size_t errlen)
{
	const char *colon;
	size_t hostlen;

	memset(hp, 0, sizeof(*hp));
	if (s == NULL || *s == '\0')
		return 0;

	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL)
			return errmsg(err, errlen, "unbalanced '['");
		hostlen = (size_t)(close - s - 1);
		if (hostlen == 0)
			return errmsg(err, errlen, "empty IPv6 address in brackets");
		if (hostlen >= sizeof(hp->host))
			return errmsg(err, errlen, "IPv6 address in brackets is too long");
		memcpy(hp->host, s + 1, hostlen);
		hp->host[hostlen] = '\0';
		if (!is_ipv6_literal(hp->host))
			return errmsg(err, errlen, "not an IPv6 address in brackets");
		hp->is_ipv6 = 1;
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':')
			return errmsg(err, errlen, "unexpected text after ']'");
		return parse_port_text(close + 2, &hp->port, err, errlen);
	}
	if (strchr(s, ']'))
		return errmsg(err, errlen, "unbalanced ']'");

	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':')) {
		/* Two or more colons: only a bare IPv6 literal (no port) makes sense. */
		if (strlen(s) < sizeof(hp->host) && is_ipv6_literal(s)) {
			strcpy(hp->host, s);
			hp->is_ipv6 = 1;
			return 0;
		}
		return errmsg(err, errlen,
			    "more than one ':' outside brackets (write IPv6 as [ADDR]:PORT)");
	}
	hostlen = colon ? (size_t)(colon - s) : strlen(s);
	if (hostlen > HOSTPORT_HOST_MAX)
		return errmsg(err, errlen, "host name is longer than 253 characters");
	memcpy(hp->host, s, hostlen);
	hp->host[hostlen] = '\0';
	if (hostlen > 0 && !host_is_valid(hp->host, err, errlen))
		return -1;
	if (colon == NULL)
		return 0;
	if (hostlen == 0 && colon[1] == '\0')
		return errmsg(err, errlen, "neither host nor port after ':'");
	return parse_port_text(colon + 1, &hp->port, err, errlen);
}

int hostport_format(char *buf, size_t len, const char *host, uint16_t port)
{
	if (host[0] == '/')      /* a Unix socket's path (sockpath.h) has no port */
		return snprintf(buf, len, "%s", host);
	if (strchr(host, ':'))
		return snprintf(buf, len, "[%s]:%u", host, (unsigned)port);
	return snprintf(buf, len, "%s:%u", host, (unsigned)port);
}
