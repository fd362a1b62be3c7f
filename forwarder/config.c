/* config.c - portfwd's configuration grammar (see config.h).
 *
 * A small tokenizer that tracks line and column, and a recursive descent
 * parser over it, one function per rule of the grammar.  Pure: no I/O, no
 * name resolution.  Everything parsed is appended to the output at once, so
 * on an error fwd_config_free() releases the partial result.  The first
 * error wins; it names the offending token and what was expected there. */
#include "config.h"
#include "hostport.h"
#include "numparse.h"
#include "quote.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_type {
	T_EOF,
	T_ERROR,   /* lexical error, already reported */
	T_BAD,     /* a character, or a stray comment end, that starts no token */
	T_WORD,    /* [A-Za-z0-9_.-]+: keywords, names, addresses, numbers */
	T_BRACKET, /* "[...]" including the brackets: IPv6 literal or program */
	T_COLON,
	T_SEMI,
	T_COMMA,
	T_SLASH,
	T_PLUS,
	T_LBRACE,
	T_RBRACE,
	T_ARROW,
};

struct token {
	enum tok_type type;
	const char *text; /* into the parsed text, not NUL-terminated */
	size_t len;
	unsigned line, col;
};

struct parser {
	const char *p, *end; /* the tokenizer's position */
	unsigned line, col;  /* ... as line and column, from 1 */
	const char *file;
	struct token tok;    /* the lookahead */
	char *err;
	size_t errlen;
	int failed;
	struct fwd_config *cfg;
	unsigned *map_line;  /* line of each map in cfg, for duplicate-port messages */
	int fragile;         /* of the tcp section being parsed */
	char listen_on[HOSTPORT_HOST_MAX + 1];
	char source_address[HOSTPORT_HOST_MAX + 1];
	struct token pending; /* the last global, until a tcp section uses it */
};

/* Keywords of portfwd that pv-forwarder refuses, with the reason. */
static const struct {
	const char *word;
	const char *why;
} refused[] = {
	{"udp", "it forwards TCP only"},
	{"ftp-active-mode-on", "it does not rewrite FTP addresses"},
	{"ftp-passive-mode-on", "it does not rewrite FTP addresses"},
	{"user", "it runs as the user who starts it and never switches users"},
	{"group", "it runs as the user who starts it and never switches groups"},
};

#define TOP_EXPECTED "'tcp', 'fragile', 'listen-on' or 'source-address'"

/* --- messages --------------------------------------------------------- */

static int perr(struct parser *ps, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int perr(struct parser *ps, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->failed)
		return -1;
	ps->failed = 1;
	if (ps->err == NULL || ps->errlen == 0)
		return -1;
	n = snprintf(ps->err, ps->errlen, "%s:%u:%u: ", ps->file, line, col);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* s[0..n) quoted for a message: 'text' (quote.h), long text cut to its
 * first 40 characters and "...". */
static const char *quote(char *buf, size_t size, const char *s, size_t n)
{
	buf[0] = '\'';
	quote_text(buf + 1, size - 2, s, n, 40);     /* room for the closing quote */
	size_t o = strlen(buf);
	buf[o] = '\'';
	buf[o + 1] = '\0';
	return buf;
}

#define QBUF 200
#define QTOK(buf, t) quote(buf, sizeof(buf), (t)->text, (t)->len)

static const char *describe(char *buf, size_t size, const struct token *t)
{
	char q[QBUF];

	if (t->type == T_EOF)
		snprintf(buf, size, "end of file");
	else if (t->type == T_BAD && t->len == 1 && t->text[0] == '\0')
		snprintf(buf, size, "NUL byte");
	else if (t->type == T_BAD && t->len == 1)
		snprintf(buf, size, "character %s", quote(q, sizeof(q), t->text, t->len));
	else
		snprintf(buf, size, "%s", quote(q, sizeof(q), t->text, t->len));
	return buf;
}

static int tok_is(const struct token *t, const char *word)
{
	return t->type == T_WORD && strlen(word) == t->len && memcmp(t->text, word, t->len) == 0;
}

/* portfwd's reserved words: never a host name or a port. */
static int is_keyword(const struct token *t)
{
	static const char *const words[] = {
		"tcp", "udp", "fragile", "listen-on", "source-address", "bind-address",
		"user", "group", "ftp-active-mode-on", "ftp-passive-mode-on",
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (tok_is(t, words[i]))
			return 1;
	return 0;
}

/* The token is a word that is not a keyword: a name, an address or a number. */
static int is_value(const struct token *t)
{
	return t->type == T_WORD && !is_keyword(t);
}

static int refuse_keyword(struct parser *ps, const struct token *t)
{
	char q[QBUF];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (tok_is(t, refused[i].word))
			return perr(ps, t->line, t->col, "%s is not supported by pv-forwarder (%s)",
				    QTOK(q, t), refused[i].why);
	return 0;
}

/* The lookahead is not what the grammar allows here. */
static int unexpected(struct parser *ps, const char *expected)
{
	const struct token *t = &ps->tok;
	char d[QBUF + 16];

	if (t->type == T_ERROR)
		return -1;
	if (refuse_keyword(ps, t) < 0)
		return -1;
	if (t->type == T_BAD && t->len == 1 && t->text[0] == '#')
		return perr(ps, t->line, t->col,
			    "unexpected character '#' (expected %s; comments are /* ... */)", expected);
	return perr(ps, t->line, t->col, "unexpected %s (expected %s)",
		    describe(d, sizeof(d), t), expected);
}

/* --- tokenizer -------------------------------------------------------- */

static void advance(struct parser *ps)
{
	if (*ps->p == '\n') {
		ps->line++;
		ps->col = 1;
	} else {
		ps->col++;
	}
	ps->p++;
}

static int at(const struct parser *ps, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

static int is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* At "/ *": skips the comment and the comments nested in it. */
static int skip_comment(struct parser *ps)
{
	unsigned line = ps->line, col = ps->col;
	unsigned depth = 0;

	for (;;) {
		if (at(ps, "/*")) {
			if (++depth > FWD_CONFIG_MAX_COMMENT_DEPTH)
				return perr(ps, ps->line, ps->col,
					    "comments nested more than %d deep (expected '*/')",
					    FWD_CONFIG_MAX_COMMENT_DEPTH);
			advance(ps);
			advance(ps);
		} else if (at(ps, "*/")) {
			advance(ps);
			advance(ps);
			if (--depth == 0)
				return 0;
		} else if (ps->p == ps->end) {
			return perr(ps, line, col, "unterminated comment (expected '*/')");
		} else {
			advance(ps);
		}
	}
}

static void next(struct parser *ps)
{
	struct token *t = &ps->tok;
	enum tok_type type;

	if (t->type == T_ERROR)
		return;
	for (;;) {
		while (ps->p < ps->end && strchr(" \t\r\n\f\v", *ps->p) && *ps->p != '\0')
			advance(ps);
		if (!at(ps, "/*"))
			break;
		if (skip_comment(ps) < 0) {
			t->type = T_ERROR;
			return;
		}
	}
	t->text = ps->p;
	t->line = ps->line;
	t->col = ps->col;
	t->len = 0;
	if (ps->p == ps->end) {
		t->type = T_EOF;
		return;
	}
	if (is_word_char(*ps->p)) {
		while (ps->p < ps->end && is_word_char(*ps->p))
			advance(ps);
		t->type = T_WORD;
	} else if (*ps->p == '[') {
		while (ps->p < ps->end && *ps->p != ']')
			advance(ps);
		if (ps->p == ps->end) {
			perr(ps, t->line, t->col, "unterminated '[' (expected ']')");
			t->type = T_ERROR;
			return;
		}
		advance(ps);
		t->type = T_BRACKET;
	} else if (at(ps, "=>")) {
		advance(ps);
		advance(ps);
		t->type = T_ARROW;
	} else if (at(ps, "*/")) {
		advance(ps);
		advance(ps);
		t->type = T_BAD;
	} else {
		switch (*ps->p) {
		case ':': type = T_COLON; break;
		case ';': type = T_SEMI; break;
		case ',': type = T_COMMA; break;
		case '/': type = T_SLASH; break;
		case '+': type = T_PLUS; break;
		case '{': type = T_LBRACE; break;
		case '}': type = T_RBRACE; break;
		default: type = T_BAD; break;
		}
		advance(ps);
		t->type = type;
	}
	t->len = (size_t)(ps->p - t->text);
}

/* --- values ----------------------------------------------------------- */

static int all_of(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return n > 0;
}

#define DIGITS "0123456789"
#define LETTERS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* A port: s[0..n) is t's text or part of it; messages point at t. */
static int port_value(struct parser *ps, const struct token *t, const char *s, size_t n,
		      uint16_t *out)
{
	char q[QBUF], num[8];

	if (all_of(s, n, DIGITS)) {
		if (n < sizeof(num)) {
			memcpy(num, s, n);
			num[n] = '\0';
			if (parse_port(num, out) == 0)
				return 0;
		}
		return perr(ps, t->line, t->col, "port %s is out of range (expected 1-65535)",
			    quote(q, sizeof(q), s, n));
	}
	if (all_of(s, n, DIGITS LETTERS "_-") && !all_of(s, n, DIGITS "_-"))
		return perr(ps, t->line, t->col,
			    "port %s is a service name, which pv-forwarder does not look up"
			    " (expected a number 1-65535)", quote(q, sizeof(q), s, n));
	return perr(ps, t->line, t->col, "%s is not a port number (expected 1-65535)",
		    quote(q, sizeof(q), s, n));
}

static int port_tok(struct parser *ps, const struct token *t, uint16_t *out)
{
	return port_value(ps, t, t->text, t->len, out);
}

/* "[...]" holding something that can only be meant as an address (rather than
 * portfwd's "[program args]"): no blank, and a ':' or digits and dots only. */
static int bracket_is_address(const struct token *t)
{
	const char *s = t->text + 1;
	size_t n = t->len - 2;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strchr(" \t\r\n\f\v", s[i]))
			return 0;
	return memchr(s, ':', n) != NULL || all_of(s, n, DIGITS ".");
}

/* t (a word, or an address in brackets) into host; *family AF_INET for an
 * IPv4 literal, AF_INET6 for an IPv6 literal, 0 for a name. */
static int host_value(struct parser *ps, const struct token *t, char *host, int *family)
{
	char q[QBUF], why[128], lenient[HOSTPORT_HOST_MAX + 1];
	struct in_addr a4;
	struct in6_addr a6;

	if (t->type == T_BRACKET) {
		size_t n = t->len - 2;
		if (n <= HOSTPORT_HOST_MAX) {
			memcpy(host, t->text + 1, n);
			host[n] = '\0';
			if (memchr(host, ':', n) && inet_pton(AF_INET6, host, &a6) == 1 &&
			    host_is_valid(host, NULL, 0)) {
				*family = AF_INET6;
				return 0;
			}
		}
		host[0] = '\0';
		return perr(ps, t->line, t->col, "%s is not an IPv6 address (expected an IPv6"
			    " address in brackets, IPv4 addresses and names without)", QTOK(q, t));
	}
	if (t->len > HOSTPORT_HOST_MAX)
		return perr(ps, t->line, t->col, "host name %s is longer than %d characters"
			    " (expected a shorter name)", QTOK(q, t), HOSTPORT_HOST_MAX);
	memcpy(host, t->text, t->len);
	host[t->len] = '\0';
	if (all_of(host, t->len, DIGITS ".")) {
		if (inet_pton(AF_INET, host, &a4) == 1) {
			*family = AF_INET;
			return 0;
		}
		host[0] = '\0';
		return perr(ps, t->line, t->col, "%s is not a valid IPv4 address (expected four"
			    " numbers 0-255 separated by '.')", QTOK(q, t));
	}
	/* RFC 1123 as host_is_valid() checks it, plus '_' anywhere a letter may be:
	 * /etc/hosts happily resolves names like client_host. */
	for (size_t i = 0; i <= t->len; i++)
		lenient[i] = host[i] == '_' ? 'x' : host[i];
	if (!host_is_valid(lenient, why, sizeof(why))) {
		host[0] = '\0';
		return perr(ps, t->line, t->col, "%s is not a valid host name: %s (expected"
			    " letters, digits, '-', '_' and '.')", QTOK(q, t), why);
	}
	*family = 0;
	return 0;
}

/* --- output ----------------------------------------------------------- */

/* arr grown by one zeroed element of size bytes; NULL (reported) when out of memory. */
static void *grow(struct parser *ps, void *arr, size_t n, size_t size)
{
	char *p = realloc(arr, (n + 1) * size);

	if (p == NULL) {
		perr(ps, ps->tok.line, ps->tok.col, "out of memory (expected a smaller file)");
		return NULL;
	}
	memset(p + n * size, 0, size);
	return p;
}

static int too_many(struct parser *ps, const char *what, int max, const char *per)
{
	char q[QBUF];
	return perr(ps, ps->tok.line, ps->tok.col, "too many %s at %s (expected at most %d %s)",
		    what, QTOK(q, &ps->tok), max, per);
}

/* --- grammar ---------------------------------------------------------- */

/* PORTRANGE := PORT | PORT '+' PORT | PORT '+' | '+' PORT | PORT '-' PORT */
static int parse_range(struct parser *ps, struct fwd_from *f)
{
	struct token first = ps->tok;
	const char *stop;            /* end of the range's text, for messages */
	uint16_t lo = 1, hi = 65535;
	char q[QBUF];

	if (first.type == T_PLUS) {
		next(ps);
		if (!is_value(&ps->tok))
			return unexpected(ps, "a port after '+'");
		if (port_tok(ps, &ps->tok, &hi) < 0)
			return -1;
		stop = ps->tok.text + ps->tok.len;
		next(ps);
	} else if (is_value(&first) && first.text[0] >= '0' && first.text[0] <= '9' &&
		   memchr(first.text, '-', first.len)) {
		const char *dash = memchr(first.text, '-', first.len);
		size_t n1 = (size_t)(dash - first.text), n2 = first.len - n1 - 1;
		if (n2 == 0 || memchr(dash + 1, '-', n2))
			return perr(ps, first.line, first.col, "%s is not a port range"
				    " (expected LO-HI or LO+HI)", QTOK(q, &first));
		if (port_value(ps, &first, first.text, n1, &lo) < 0 ||
		    port_value(ps, &first, dash + 1, n2, &hi) < 0)
			return -1;
		stop = first.text + first.len;
		next(ps);
	} else if (is_value(&first)) {
		if (port_tok(ps, &first, &lo) < 0)
			return -1;
		hi = lo;
		stop = first.text + first.len;
		next(ps);
		if (ps->tok.type == T_PLUS) {   /* PORT '+' [PORT] */
			hi = 65535;
			stop = ps->tok.text + ps->tok.len;
			next(ps);
			if (is_value(&ps->tok)) {
				if (port_tok(ps, &ps->tok, &hi) < 0)
					return -1;
				stop = ps->tok.text + ps->tok.len;
				next(ps);
			}
		}
	} else if (first.type == T_COLON) {
		return unexpected(ps, "a port or port range after ':'; IPv6 addresses go in"
				  " brackets: [fe80::1]:22");
	} else {
		return unexpected(ps, "a port or port range after ':'");
	}
	if (lo > hi)
		return perr(ps, first.line, first.col, "port range %s is reversed"
			    " (expected LO <= HI)",
			    quote(q, sizeof(q), first.text, (size_t)(stop - first.text)));
	f->port_lo = lo;
	f->port_hi = hi;
	return 0;
}

/* '/' MASKLEN after a source host of the given family (0: a name), at '/'. */
static int parse_mask(struct parser *ps, struct fwd_from *f, int family)
{
	unsigned long len, max = family == AF_INET6 ? 128 : 32;
	const struct token *t = &ps->tok;
	char q[QBUF], num[8];

	next(ps);
	if (!is_value(t))
		return unexpected(ps, "a mask length after '/'");
	if (!all_of(t->text, t->len, DIGITS))
		return perr(ps, t->line, t->col, "mask length %s is not a number (expected 0-%lu)",
			    QTOK(q, t), max);
	len = max + 1;
	if (t->len < sizeof(num)) {
		memcpy(num, t->text, t->len);
		num[t->len] = '\0';
		if (parse_ulong(num, 0, max, &len) < 0)
			len = max + 1;
	}
	if (len > max)
		return perr(ps, t->line, t->col, "mask length %s is out of range (expected 0-%lu"
			    " for %s)", QTOK(q, t), max, family == AF_INET6 ? "an IPv6 address" :
			    family == AF_INET ? "an IPv4 address" : "a host name");
	f->masklen = (int)len;
	next(ps);
	return 0;
}

/* from := HOST [ '/' MASKLEN ] [ ':' PORTRANGE ] | ':' PORTRANGE */
static int parse_from(struct parser *ps, struct fwd_from *f, const char *expected)
{
	int family;

	f->masklen = -1;
	if (ps->tok.type == T_COLON) {
		next(ps);
		return parse_range(ps, f);
	}
	if (!is_value(&ps->tok) && !(ps->tok.type == T_BRACKET && bracket_is_address(&ps->tok)))
		return unexpected(ps, expected);
	if (host_value(ps, &ps->tok, f->host, &family) < 0)
		return -1;
	next(ps);
	if (ps->tok.type == T_SLASH) {
		if (parse_mask(ps, f, family) < 0)
			return -1;
		if (ps->tok.type != T_COLON && ps->tok.type != T_COMMA && ps->tok.type != T_ARROW)
			return unexpected(ps, "':', ',' or '=>'");
	} else if (ps->tok.type != T_COLON && ps->tok.type != T_COMMA &&
		   ps->tok.type != T_ARROW) {
		return unexpected(ps, "'/', ':', ',' or '=>'");
	}
	if (ps->tok.type == T_COLON) {
		next(ps);
		return parse_range(ps, f);
	}
	return 0;
}

/* dest := HOST ':' PORT */
static int parse_dest(struct parser *ps, struct fwd_dest *d)
{
	struct token host = ps->tok;
	char q[QBUF], expected[QBUF + 32];
	int family;

	if (host.type == T_BRACKET && !bracket_is_address(&host))
		return perr(ps, host.line, host.col, "%s is not supported by pv-forwarder"
			    " ([program args] destinations: forward to HOST:PORT)", QTOK(q, &host));
	if (host.type == T_COLON)
		return unexpected(ps, "a destination HOST:PORT; IPv6 addresses go in"
				  " brackets: [::1]:11111");
	if (!is_value(&host) && host.type != T_BRACKET)
		return unexpected(ps, "a destination HOST:PORT");
	if (host_value(ps, &host, d->host, &family) < 0)
		return -1;
	next(ps);
	snprintf(expected, sizeof(expected), "':' and a port after %s", QTOK(q, &host));
	if (ps->tok.type != T_COLON)
		return unexpected(ps, expected);
	next(ps);
	if (!is_value(&ps->tok))
		return unexpected(ps, "a port number after ':'");
	if (port_tok(ps, &ps->tok, &d->port) < 0)
		return -1;
	next(ps);
	return 0;
}

/* hostmap := [ from { ',' from } ] '=>' dest { ',' dest } */
static int parse_rule(struct parser *ps, struct fwd_rule *r, const char *expected)
{

	if (ps->tok.type != T_ARROW) {
		for (;;) {
			struct fwd_from *f;
			if (r->nfrom == FWD_CONFIG_MAX_FROM)
				return too_many(ps, "sources", FWD_CONFIG_MAX_FROM, "per hostmap");
			if ((f = grow(ps, r->from, r->nfrom, sizeof(*f))) == NULL)
				return -1;
			r->from = f;
			if (parse_from(ps, &r->from[r->nfrom++], expected) < 0)
				return -1;
			if (ps->tok.type == T_ARROW)
				break;
			if (ps->tok.type != T_COMMA)
				return unexpected(ps, "',' or '=>'");
			next(ps);
			expected = "a source HOST or ':' PORTRANGE";
		}
	}
	next(ps);
	for (;;) {
		struct fwd_dest *d;
		if (r->ndest == FWD_CONFIG_MAX_DEST)
			return too_many(ps, "destinations", FWD_CONFIG_MAX_DEST, "per hostmap");
		if ((d = grow(ps, r->dest, r->ndest, sizeof(*d))) == NULL)
			return -1;
		r->dest = d;
		if (parse_dest(ps, &r->dest[r->ndest++]) < 0)
			return -1;
		if (ps->tok.type != T_COMMA)
			break;
		next(ps);
	}
	if (ps->tok.type != T_SEMI && ps->tok.type != T_RBRACE)
		return unexpected(ps, "',', ';' or '}'");
	return 0;
}

/* A port listed twice for one listen address fails at bind(): say so now. */
static int check_duplicate(struct parser *ps, uint16_t port)
{
	const struct fwd_map *cur = &ps->cfg->maps[ps->cfg->nmaps - 1];
	char q[QBUF];

	for (size_t i = 0; i < ps->cfg->nmaps; i++) {
		const struct fwd_map *m = &ps->cfg->maps[i];
		if (strcmp(m->listen_on, cur->listen_on) != 0)
			continue;
		for (size_t j = 0; j < m->nports; j++) {
			if (m->ports[j] != port)
				continue;
			if (m == cur)
				return perr(ps, ps->tok.line, ps->tok.col, "port %s is listed twice"
					    " (expected each port once)", QTOK(q, &ps->tok));
			return perr(ps, ps->tok.line, ps->tok.col, "port %s is already forwarded"
				    " by the map at line %u (expected each port once per listen"
				    " address)", QTOK(q, &ps->tok), ps->map_line[i]);
		}
	}
	return 0;
}

/* map := PORT { ',' PORT } '{' hostmap { ';' hostmap } [';'] '}' */
static int parse_map(struct parser *ps, const char *expected)
{
	struct fwd_config *cfg = ps->cfg;
	const char *rule_expected = "a source HOST, ':' PORTRANGE or '=>'";
	struct fwd_map *m;
	unsigned *lines;

	if (!is_value(&ps->tok))
		return unexpected(ps, expected);
	if (cfg->nmaps == FWD_CONFIG_MAX_MAPS)
		return too_many(ps, "maps", FWD_CONFIG_MAX_MAPS, "in a file");
	if ((lines = grow(ps, ps->map_line, cfg->nmaps, sizeof(*lines))) == NULL)
		return -1;
	ps->map_line = lines;
	lines[cfg->nmaps] = ps->tok.line;
	if ((m = grow(ps, cfg->maps, cfg->nmaps, sizeof(*m))) == NULL)
		return -1;
	cfg->maps = m;
	m = &cfg->maps[cfg->nmaps++];
	strcpy(m->listen_on, ps->listen_on);
	strcpy(m->source_address, ps->source_address);
	m->fragile = ps->fragile;

	for (;;) {
		uint16_t port, *ports;
		if (m->nports == FWD_CONFIG_MAX_PORTS)
			return too_many(ps, "ports", FWD_CONFIG_MAX_PORTS, "per map");
		if (port_tok(ps, &ps->tok, &port) < 0 || check_duplicate(ps, port) < 0)
			return -1;
		if ((ports = grow(ps, m->ports, m->nports, sizeof(*ports))) == NULL)
			return -1;
		m->ports = ports;
		m->ports[m->nports++] = port;
		next(ps);
		if (ps->tok.type == T_LBRACE)
			break;
		if (ps->tok.type != T_COMMA)
			return unexpected(ps, "',' or '{'");
		next(ps);
		if (!is_value(&ps->tok))
			return unexpected(ps, "a port number after ','");
	}
	next(ps);
	for (;;) {
		struct fwd_rule *r;
		if (m->nrules == FWD_CONFIG_MAX_RULES)
			return too_many(ps, "hostmaps", FWD_CONFIG_MAX_RULES, "per map");
		if ((r = grow(ps, m->rules, m->nrules, sizeof(*r))) == NULL)
			return -1;
		m->rules = r;
		if (parse_rule(ps, &m->rules[m->nrules++], rule_expected) < 0)
			return -1;
		if (ps->tok.type == T_SEMI)
			next(ps);
		if (ps->tok.type == T_RBRACE)
			break;
		rule_expected = "a source HOST, ':' PORTRANGE, '=>' or '}'";
	}
	next(ps);
	return 0;
}

/* [fragile] tcp '{' map { ';' map } [';'] '}', at 'tcp' */
static int parse_tcp(struct parser *ps, int fragile)
{
	const char *expected = "a port number";

	ps->fragile = fragile;
	ps->pending.type = T_EOF;
	next(ps);
	if (ps->tok.type != T_LBRACE)
		return unexpected(ps, "'{' after 'tcp'");
	next(ps);
	for (;;) {
		if (parse_map(ps, expected) < 0)
			return -1;
		if (ps->tok.type == T_SEMI)
			next(ps);
		else if (ps->tok.type != T_RBRACE)
			return unexpected(ps, "';' or '}'");
		if (ps->tok.type == T_RBRACE)
			break;
		expected = "a port number or '}'";
	}
	next(ps);
	return 0;
}

/* listen-on HOST | source-address HOST | bind-address HOST */
static int parse_global(struct parser *ps, char *value)
{
	char expected[QBUF + 48], q[QBUF];
	int family;

	ps->pending = ps->tok;
	snprintf(expected, sizeof(expected), "a host name or address after %s",
		 QTOK(q, &ps->tok));
	next(ps);
	if (!is_value(&ps->tok) && !(ps->tok.type == T_BRACKET && bracket_is_address(&ps->tok)))
		return unexpected(ps, expected);
	if (host_value(ps, &ps->tok, value, &family) < 0)
		return -1;
	next(ps);
	return 0;
}

/* file := { global | [fragile] tcp '{' ... '}' } */
static int parse_file(struct parser *ps)
{
	char q[QBUF];

	next(ps);
	while (ps->tok.type != T_EOF) {
		int rc;
		if (tok_is(&ps->tok, "tcp")) {
			rc = parse_tcp(ps, 0);
		} else if (tok_is(&ps->tok, "fragile")) {
			next(ps);
			if (!tok_is(&ps->tok, "tcp"))
				return unexpected(ps, "'tcp' after 'fragile'");
			rc = parse_tcp(ps, 1);
		} else if (tok_is(&ps->tok, "listen-on") || tok_is(&ps->tok, "bind-address")) {
			rc = parse_global(ps, ps->listen_on);
		} else if (tok_is(&ps->tok, "source-address")) {
			rc = parse_global(ps, ps->source_address);
		} else {
			rc = unexpected(ps, TOP_EXPECTED);
		}
		if (rc < 0)
			return -1;
	}
	if (ps->pending.type != T_EOF)
		return perr(ps, ps->pending.line, ps->pending.col, "%s applies to no map"
			    " (expected a 'tcp' section after it)", QTOK(q, &ps->pending));
	if (ps->cfg->nmaps == 0)
		return perr(ps, ps->tok.line, ps->tok.col, "no 'tcp' section (expected at least"
			    " one 'tcp { PORT { => HOST:PORT } }')");
	return 0;
}

int fwd_config_parse_buf(const char *text, size_t len, const char *filename,
			 struct fwd_config *out, char *err, size_t errlen)
{
	struct parser ps;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	if (text == NULL) {     /* an empty text; NULL + 0 would be undefined */
		text = "";
		len = 0;
	}
	ps.p = text;
	ps.end = text + len;
	ps.line = 1;
	ps.col = 1;
	ps.file = filename ? filename : "(config)";
	ps.err = err;
	ps.errlen = errlen;
	ps.cfg = out;
	ps.tok.type = T_EOF;
	ps.pending.type = T_EOF;
	if (err && errlen)
		err[0] = '\0';
	rc = parse_file(&ps);
	free(ps.map_line);
	if (rc < 0)
		fwd_config_free(out);
	return rc;
}

int fwd_config_parse(const char *text, const char *filename,
		     struct fwd_config *out, char *err, size_t errlen)
{
	return fwd_config_parse_buf(text, text ? strlen(text) : 0, filename, out, err, errlen);
}

void fwd_config_free(struct fwd_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nmaps; i++) {
		struct fwd_map *m = &cfg->maps[i];
		for (size_t j = 0; j < m->nrules; j++) {
			free(m->rules[j].from);
			free(m->rules[j].dest);
		}
		free(m->rules);
		free(m->ports);
	}
	free(cfg->maps);
	cfg->maps = NULL;
	cfg->nmaps = 0;
}
