/* check_config.c - portfwd's configuration grammar (forwarder/config.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static struct fwd_config cfg;
static char err[512];

static int parse(const char *text)
{
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	return fwd_config_parse(text, "fwd.cfg", &cfg, err, sizeof(err));
}

static void teardown(void)
{
	fwd_config_free(&cfg);
}

#define PARSE_OK(text)                                          \
	do {                                                    \
		int rc_ = parse(text);                          \
		ck_assert_msg(rc_ == 0, "parse failed: %s", err); \
		ck_assert_str_eq(err, "");                      \
	} while (0)

#define PARSE_BAD(text, msg)                      \
	do {                                      \
		ck_assert_int_eq(parse(text), -1); \
		ck_assert_str_eq(err, msg);        \
		ck_assert_ptr_null(cfg.maps);      \
		ck_assert_uint_eq(cfg.nmaps, 0);   \
	} while (0)

static void assert_dest(const struct fwd_dest *d, const char *host, unsigned port)
{
	ck_assert_str_eq(d->host, host);
	ck_assert_uint_eq(d->port, port);
}

static void assert_from(const struct fwd_from *f, const char *host, int masklen,
			unsigned lo, unsigned hi)
{
	ck_assert_str_eq(f->host, host);
	ck_assert_int_eq(f->masklen, masklen);
	ck_assert_uint_eq(f->port_lo, lo);
	ck_assert_uint_eq(f->port_hi, hi);
}

/* The seed's file, byte for byte as examples/fwd.cfg has it. */
START_TEST(test_seed_file)
{
	PARSE_OK("/* fwd.cfg forwards localhost:11111 to client_host:11111 */ "
		 "tcp { 11111 { => client_host:11111 } }\n");
	ck_assert_uint_eq(cfg.nmaps, 1);
	const struct fwd_map *m = &cfg.maps[0];
	ck_assert_uint_eq(m->nports, 1);
	ck_assert_uint_eq(m->ports[0], 11111);
	ck_assert_str_eq(m->listen_on, "");
	ck_assert_str_eq(m->source_address, "");
	ck_assert_int_eq(m->fragile, 0);
	ck_assert_uint_eq(m->nrules, 1);
	ck_assert_uint_eq(m->rules[0].nfrom, 0);
	ck_assert_ptr_null(m->rules[0].from);
	ck_assert_uint_eq(m->rules[0].ndest, 1);
	assert_dest(&m->rules[0].dest[0], "client_host", 11111);

	/* without the newline, too */
	fwd_config_free(&cfg);
	PARSE_OK("/* fwd.cfg forwards localhost:11111 to client_host:11111 */ "
		 "tcp { 11111 { => client_host:11111 } }");
	ck_assert_uint_eq(cfg.nmaps, 1);
}
END_TEST

/* The seed's file from disk, when the tests run from the top of the tree. */
START_TEST(test_seed_file_on_disk)
{
	char buf[4096];
	FILE *f = fopen("examples/fwd.cfg", "r");
	if (f == NULL)
		return; /* not run from the top of the tree: nothing to compare */
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ck_assert_int_eq(fwd_config_parse_buf(buf, n, "examples/fwd.cfg", &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nmaps, 1);
	assert_dest(&cfg.maps[0].rules[0].dest[0], "client_host", 11111);
}
END_TEST

static const char every_construct[] =
	"/* every construct /* nested */ of the grammar */\n"
	"listen-on 10.0.0.1\n"
	"source-address 10.0.0.2\n"
	"fragile tcp {\n"
	"\t22, 4321 {\n"
	"\t\t:+1024 => far.example.org:80, [::1]:5;\n"
	"\t\t=> ceara:80;\n"
	"\t};\n"
	"\t8080,1234{10.0.0.0/8:1000+2000,[fe80::1]/64,localhost/24:+5000,:7-9,h:10+,"
	"h2 : 10 + 20,any_host=>127.0.0.1:80}\n"
	"}\n"
	"bind-address 127.0.0.1\n"
	"tcp { 1 { => a:1 } ; }\n"
	"listen-on [::]\r\n"
	"source-address src_host.example\r\n"
	"tcp{2{=>[2001:db8::1]:65535}}\n";

START_TEST(test_every_construct)
{
	PARSE_OK(every_construct);
	ck_assert_uint_eq(cfg.nmaps, 4);

	const struct fwd_map *m = &cfg.maps[0];
	ck_assert_str_eq(m->listen_on, "10.0.0.1");
	ck_assert_str_eq(m->source_address, "10.0.0.2");
	ck_assert_int_eq(m->fragile, 1);
	ck_assert_uint_eq(m->nports, 2);
	ck_assert_uint_eq(m->ports[0], 22);
	ck_assert_uint_eq(m->ports[1], 4321);
	ck_assert_uint_eq(m->nrules, 2);
	ck_assert_uint_eq(m->rules[0].nfrom, 1);
	assert_from(&m->rules[0].from[0], "", -1, 1, 1024);
	ck_assert_uint_eq(m->rules[0].ndest, 2);
	assert_dest(&m->rules[0].dest[0], "far.example.org", 80);
	assert_dest(&m->rules[0].dest[1], "::1", 5);
	ck_assert_uint_eq(m->rules[1].nfrom, 0);
	ck_assert_uint_eq(m->rules[1].ndest, 1);
	assert_dest(&m->rules[1].dest[0], "ceara", 80);

	m = &cfg.maps[1];
	ck_assert_str_eq(m->listen_on, "10.0.0.1");
	ck_assert_int_eq(m->fragile, 1);
	ck_assert_uint_eq(m->nports, 2);
	ck_assert_uint_eq(m->ports[0], 8080);
	ck_assert_uint_eq(m->ports[1], 1234);
	ck_assert_uint_eq(m->nrules, 1);
	ck_assert_uint_eq(m->rules[0].nfrom, 7);
	assert_from(&m->rules[0].from[0], "10.0.0.0", 8, 1000, 2000);
	assert_from(&m->rules[0].from[1], "fe80::1", 64, 0, 0);
	assert_from(&m->rules[0].from[2], "localhost", 24, 1, 5000);
	assert_from(&m->rules[0].from[3], "", -1, 7, 9);
	assert_from(&m->rules[0].from[4], "h", -1, 10, 65535);
	assert_from(&m->rules[0].from[5], "h2", -1, 10, 20);
	assert_from(&m->rules[0].from[6], "any_host", -1, 0, 0);
	assert_dest(&m->rules[0].dest[0], "127.0.0.1", 80);

	m = &cfg.maps[2]; /* bind-address is portfwd's old name of listen-on */
	ck_assert_str_eq(m->listen_on, "127.0.0.1");
	ck_assert_str_eq(m->source_address, "10.0.0.2");
	ck_assert_int_eq(m->fragile, 0);
	ck_assert_uint_eq(m->ports[0], 1);
	assert_dest(&m->rules[0].dest[0], "a", 1);

	m = &cfg.maps[3];
	ck_assert_str_eq(m->listen_on, "::");
	ck_assert_str_eq(m->source_address, "src_host.example");
	ck_assert_int_eq(m->fragile, 0);
	ck_assert_uint_eq(m->ports[0], 2);
	assert_dest(&m->rules[0].dest[0], "2001:db8::1", 65535);
}
END_TEST

START_TEST(test_globals_are_positional)
{
	PARSE_OK("tcp { 1 { => a:1 } }\n"
		 "listen-on 127.0.0.1\n"
		 "tcp { 2 { => a:2 } }\n"
		 "source-address 127.0.0.2\n"
		 "tcp { 3 { => a:3 }; 4 { => a:4 } }\n"
		 "listen-on 127.0.0.3 listen-on 0.0.0.0\n"
		 "fragile tcp { 5 { => a:5 } }\n"
		 "tcp { 6 { => a:6 } }\n");
	ck_assert_uint_eq(cfg.nmaps, 6);
	static const char *listen[] = {"", "127.0.0.1", "127.0.0.1", "127.0.0.1", "0.0.0.0", "0.0.0.0"};
	static const char *source[] = {"", "", "127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.2"};
	static const int fragile[] = {0, 0, 0, 0, 1, 0};
	for (size_t i = 0; i < 6; i++) {
		ck_assert_str_eq(cfg.maps[i].listen_on, listen[i]);
		ck_assert_str_eq(cfg.maps[i].source_address, source[i]);
		ck_assert_int_eq(cfg.maps[i].fragile, fragile[i]);
		ck_assert_uint_eq(cfg.maps[i].ports[0], i + 1);
	}
}
END_TEST

START_TEST(test_separators_and_whitespace)
{
	/* trailing ';' after the last map and the last hostmap are optional */
	PARSE_OK("tcp { 1 { => a:1 ; } ; }");
	fwd_config_free(&cfg);
	PARSE_OK("tcp{1{=>a:1;=>b:2};2{=>c:3}}");
	ck_assert_uint_eq(cfg.nmaps, 2);
	ck_assert_uint_eq(cfg.maps[0].nrules, 2);
	assert_dest(&cfg.maps[0].rules[1].dest[0], "b", 2);
	fwd_config_free(&cfg);
	PARSE_OK("\t\r\n\f\vtcp\n{\n1\n,\n2\n{\n=>\na\n:\n1\n}\n}\n\n");
	ck_assert_uint_eq(cfg.maps[0].nports, 2);
	fwd_config_free(&cfg);
	/* several tcp sections; the same port on different listen addresses */
	PARSE_OK("tcp { 1 { => a:1 } } tcp { 2 { => a:1 } } listen-on 127.0.0.1 "
		 "tcp { 1 { => a:1 } }");
	ck_assert_uint_eq(cfg.nmaps, 3);
}
END_TEST

START_TEST(test_comments)
{
	PARSE_OK("/**/tcp/* a */{/* b /* c /* d */ e */ f */1/*\n*/{=>/**/a:/* g */1}}/* end */");
	ck_assert_uint_eq(cfg.nmaps, 1);
	fwd_config_free(&cfg);
	/* a comment counts its lines */
	PARSE_BAD("/* one\n two\n three */ tcp {\n\t}", "fwd.cfg:4:2: unexpected '}' (expected a port number)");
	/* "*" and "/" alone inside comments */
	PARSE_OK("/* a * b / c ** // */ tcp { 1 { => a:1 } } /***/ /*/ */");
}
END_TEST

START_TEST(test_host_names)
{
	/* RFC 1123 names, plus '_' (names from /etc/hosts), addresses */
	PARSE_OK("tcp { 1 { a-b.c_d, _x, 0-host, 10.1.2.3, [::ffff:1.2.3.4] => "
		 "client_host:1, A.B.C:2, 1.2.3.4:3 } }");
	const struct fwd_rule *r = &cfg.maps[0].rules[0];
	ck_assert_uint_eq(r->nfrom, 5);
	ck_assert_str_eq(r->from[0].host, "a-b.c_d");
	ck_assert_str_eq(r->from[1].host, "_x");
	ck_assert_str_eq(r->from[2].host, "0-host");
	ck_assert_str_eq(r->from[3].host, "10.1.2.3");
	ck_assert_str_eq(r->from[4].host, "::ffff:1.2.3.4");
	ck_assert_str_eq(r->dest[1].host, "A.B.C");
	fwd_config_free(&cfg);

	/* 253 characters is the most */
	char text[600], name[300];
	memset(name, 'a', sizeof(name));
	for (int i = 63; i < 253; i += 64)
		name[i] = '.';
	name[253] = '\0';
	snprintf(text, sizeof(text), "tcp { 1 { => %s:1 } }", name);
	PARSE_OK(text);
	ck_assert_str_eq(cfg.maps[0].rules[0].dest[0].host, name);
	fwd_config_free(&cfg);
	name[253] = 'a';
	name[254] = '\0';
	snprintf(text, sizeof(text), "tcp { 1 { => %s:1 } }", name);
	PARSE_BAD(text, "fwd.cfg:1:14: host name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'"
		  " is longer than 253 characters (expected a shorter name)");
}
END_TEST

START_TEST(test_port_ranges)
{
	PARSE_OK("tcp { 1 { :5, :5+, :+5, :5+6, :5-6, :1+65535, :65535, h:65535+ => a:1 } }");
	const struct fwd_rule *r = &cfg.maps[0].rules[0];
	ck_assert_uint_eq(r->nfrom, 8);
	assert_from(&r->from[0], "", -1, 5, 5);
	assert_from(&r->from[1], "", -1, 5, 65535);
	assert_from(&r->from[2], "", -1, 1, 5);
	assert_from(&r->from[3], "", -1, 5, 6);
	assert_from(&r->from[4], "", -1, 5, 6);
	assert_from(&r->from[5], "", -1, 1, 65535);
	assert_from(&r->from[6], "", -1, 65535, 65535);
	assert_from(&r->from[7], "h", -1, 65535, 65535);
}
END_TEST

START_TEST(test_masks)
{
	PARSE_OK("tcp { 1 { 0.0.0.0/0, 1.2.3.4/32, n/0, n/32, [::]/0, [::1]/128, 1.2.3.4/08 => a:1 } }");
	const struct fwd_rule *r = &cfg.maps[0].rules[0];
	static const int want[] = {0, 32, 0, 32, 0, 128, 8};
	for (size_t i = 0; i < 7; i++)
		ck_assert_int_eq(r->from[i].masklen, want[i]);
	fwd_config_free(&cfg);
	PARSE_BAD("tcp { 1 { [::1]/129 => a:1 } }",
		  "fwd.cfg:1:17: mask length '129' is out of range (expected 0-128 for an IPv6 address)");
	PARSE_BAD("tcp { 1 { name/33 => a:1 } }",
		  "fwd.cfg:1:16: mask length '33' is out of range (expected 0-32 for a host name)");
	PARSE_BAD("tcp { 1 { name/99999999999 => a:1 } }",
		  "fwd.cfg:1:16: mask length '99999999999' is out of range (expected 0-32 for a host name)");
}
END_TEST

START_TEST(test_limits)
{
	char *text = malloc(64 * 1024);
	size_t o;

	/* 64 ports in a map: fine; 65: too many */
	o = (size_t)sprintf(text, "tcp { 1");
	for (int i = 2; i <= 64; i++)
		o += (size_t)sprintf(text + o, ",%d", i);
	strcpy(text + o, " { => a:1 } }");
	PARSE_OK(text);
	ck_assert_uint_eq(cfg.maps[0].nports, 64);
	fwd_config_free(&cfg);
	strcpy(text + o, ",65 { => a:1 } }");
	PARSE_BAD(text, "fwd.cfg:1:190: too many ports at '65' (expected at most 64 per map)");

	/* 256 maps in a file: fine; 257: too many */
	o = (size_t)sprintf(text, "tcp {\n");
	for (int i = 1; i <= 256; i++)
		o += (size_t)sprintf(text + o, "%d { => a:1 };\n", i);
	strcpy(text + o, "}\n");
	PARSE_OK(text);
	ck_assert_uint_eq(cfg.nmaps, 256);
	fwd_config_free(&cfg);
	strcpy(text + o, "257 { => a:1 } }\n");
	PARSE_BAD(text, "fwd.cfg:258:1: too many maps at '257' (expected at most 256 in a file)");

	/* 64 hostmaps, sources, destinations */
	o = (size_t)sprintf(text, "tcp { 1 {");
	for (int i = 1; i <= 65; i++)
		o += (size_t)sprintf(text + o, " => a:%d;", i);
	strcpy(text + o, " } }");
	PARSE_BAD(text, "fwd.cfg:1:578: too many hostmaps at '=>' (expected at most 64 per map)");
	o = (size_t)sprintf(text, "tcp { 1 { :1");
	for (int i = 2; i <= 65; i++)
		o += (size_t)sprintf(text + o, ",:%d", i);
	strcpy(text + o, " => a:1 } }");
	PARSE_BAD(text, "fwd.cfg:1:258: too many sources at ':' (expected at most 64 per hostmap)");
	o = (size_t)sprintf(text, "tcp { 1 { => a:1");
	for (int i = 2; i <= 65; i++)
		o += (size_t)sprintf(text + o, ",a:%d", i);
	strcpy(text + o, " } }");
	PARSE_BAD(text, "fwd.cfg:1:325: too many destinations at 'a' (expected at most 64 per hostmap)");

	/* comments nest 64 deep */
	o = 0;
	for (int i = 0; i < 64; i++)
		o += (size_t)sprintf(text + o, "/*");
	for (int i = 0; i < 64; i++)
		o += (size_t)sprintf(text + o, "*/");
	strcpy(text + o, "tcp { 1 { => a:1 } }");
	PARSE_OK(text);
	fwd_config_free(&cfg);
	o = 0;
	for (int i = 0; i < 65; i++)
		o += (size_t)sprintf(text + o, "/*");
	PARSE_BAD(text, "fwd.cfg:1:129: comments nested more than 64 deep (expected '*/')");
	free(text);
}
END_TEST

START_TEST(test_parse_buf)
{
	static const char text[] = "tcp { 1 { => a:1 } }XXXX";
	ck_assert_int_eq(fwd_config_parse_buf(text, 20, "b.cfg", &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nmaps, 1);
	fwd_config_free(&cfg);
	static const char nul[] = "tcp { 1 { => a:1 } }\n\0tcp { 2 { => a:1 } }";
	ck_assert_int_eq(fwd_config_parse_buf(nul, sizeof(nul) - 1, "b.cfg", &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "b.cfg:2:1: unexpected NUL byte (expected 'tcp', 'fragile',"
			 " 'listen-on' or 'source-address')");
	ck_assert_int_eq(fwd_config_parse_buf("tcp { 1 {\0", 10, "b.cfg", &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "b.cfg:1:10: unexpected NUL byte (expected a source HOST,"
			 " ':' PORTRANGE or '=>')");
}
END_TEST

START_TEST(test_error_buffer)
{
	char small[12];
	ck_assert_int_eq(fwd_config_parse("udp", "fwd.cfg", &cfg, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "fwd.cfg:1:1");
	ck_assert_int_eq(fwd_config_parse("udp", "fwd.cfg", &cfg, NULL, 0), -1);
	ck_assert_int_eq(fwd_config_parse("udp", NULL, &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "(config):1:1: 'udp' is not supported by pv-forwarder (it forwards TCP only)");
	ck_assert_int_eq(fwd_config_parse(NULL, "fwd.cfg", &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "fwd.cfg:1:1: no 'tcp' section (expected at least one"
			 " 'tcp { PORT { => HOST:PORT } }')");
	/* freeing twice, or nothing, is harmless */
	fwd_config_free(&cfg);
	fwd_config_free(&cfg);
	fwd_config_free(NULL);
}
END_TEST

/* Every proper prefix of a valid file is an error with a position, never a
 * crash or a partial result (run under ASan/valgrind to see leaks). */
START_TEST(test_every_prefix_fails)
{
	size_t n = strlen(every_construct);
	char *buf = malloc(n + 1);
	int ok = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(buf, every_construct, i);
		buf[i] = '\0';
		if (parse(buf) == 0) {
			ok++;
			fwd_config_free(&cfg);
			continue;
		}
		ck_assert_msg(strncmp(err, "fwd.cfg:", 8) == 0, "prefix %zu: %s", i, err);
		ck_assert_ptr_null(cfg.maps);
	}
	/* only the prefixes that end right after a complete tcp section parse,
	 * then "listen-on [::]\r" */
	ck_assert_int_le(ok, 8);
	free(buf);
}
END_TEST

/* Every byte of a valid file replaced by each troublesome byte: a result or
 * a positioned message that says what was expected or what is refused. */
START_TEST(test_mutations)
{
	static const char subst[] = " \n{}[];:,/+*=>#-_.0\x01\xff";
	size_t n = strlen(every_construct);
	char *buf = malloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k <= sizeof(subst) - 1; k++) { /* k == last: a NUL byte */
			memcpy(buf, every_construct, n + 1);
			buf[i] = subst[k];
			if (fwd_config_parse_buf(buf, n, "fwd.cfg", &cfg, err, sizeof(err)) == 0) {
				ck_assert_uint_ge(cfg.nmaps, 1);
				fwd_config_free(&cfg);
				continue;
			}
			ck_assert_msg(strncmp(err, "fwd.cfg:", 8) == 0 &&
				      (strstr(err, " (expected ") != NULL ||
				       strstr(err, " is not supported by pv-forwarder (") != NULL),
				      "byte %zu -> 0x%02x: %s", i, (unsigned char)subst[k], err);
			ck_assert_ptr_null(cfg.maps);
		}
	}
	free(buf);
}
END_TEST

struct bad {
	const char *text, *msg;
};

static const struct bad bad_files[] = {
	/* refused portfwd features */
	{"udp { 10000 { => 127.0.0.1:11000 } }",
	 "fwd.cfg:1:1: 'udp' is not supported by pv-forwarder (it forwards TCP only)"},
	{"tcp { 1 { => a:1 } }\n\nfragile udp { 1 { => a:1 } }",
	 "fwd.cfg:3:9: 'udp' is not supported by pv-forwarder (it forwards TCP only)"},
	{"tcp {\n\t10000 ftp-active-mode-on 127.0.0.1 { => localhost:21 }\n}",
	 "fwd.cfg:2:8: 'ftp-active-mode-on' is not supported by pv-forwarder"
	 " (it does not rewrite FTP addresses)"},
	{"tcp {\n\t10000\n\tftp-passive-mode-on 127.0.0.1\n\t{ => localhost:21 }\n}",
	 "fwd.cfg:3:2: 'ftp-passive-mode-on' is not supported by pv-forwarder"
	 " (it does not rewrite FTP addresses)"},
	{"user  nobody\ntcp { 1 { => a:1 } }",
	 "fwd.cfg:1:1: 'user' is not supported by pv-forwarder"
	 " (it runs as the user who starts it and never switches users)"},
	{"/* x */ group nogroup",
	 "fwd.cfg:1:9: 'group' is not supported by pv-forwarder"
	 " (it runs as the user who starts it and never switches groups)"},
	{"tcp {\n  10000 { => [/usr/local/bin/director.pl 2000] }\n}",
	 "fwd.cfg:2:14: '[/usr/local/bin/director.pl 2000]' is not supported by pv-forwarder"
	 " ([program args] destinations: forward to HOST:PORT)"},
	{"tcp { 1 { => a:1, [prog\nwith a newline] } }",
	 "fwd.cfg:1:19: '[prog\\x0awith a newline]' is not supported by pv-forwarder"
	 " ([program args] destinations: forward to HOST:PORT)"},
	/* ports */
	{"tcp { 10000 { => localhost:telnet } }",
	 "fwd.cfg:1:28: port 'telnet' is a service name, which pv-forwarder does not look up"
	 " (expected a number 1-65535)"},
	{"tcp { www { => a:80 } }",
	 "fwd.cfg:1:7: port 'www' is a service name, which pv-forwarder does not look up"
	 " (expected a number 1-65535)"},
	{"tcp { 0 { => a:1 } }", "fwd.cfg:1:7: port '0' is out of range (expected 1-65535)"},
	{"tcp { 1 { => a:65536 } }", "fwd.cfg:1:16: port '65536' is out of range (expected 1-65535)"},
	{"tcp { 1 { => a:99999999999999999999 } }",
	 "fwd.cfg:1:16: port '99999999999999999999' is out of range (expected 1-65535)"},
	{"tcp { 11111-11112 { => a:1 } }",
	 "fwd.cfg:1:7: '11111-11112' is not a port number (expected 1-65535)"},
	{"tcp { 1, { => a:1 } }", "fwd.cfg:1:10: unexpected '{' (expected a port number after ',')"},
	{"tcp { 1 2 { => a:1 } }", "fwd.cfg:1:9: unexpected '2' (expected ',' or '{')"},
	{"tcp { 1,1 { => a:1 } }", "fwd.cfg:1:9: port '1' is listed twice (expected each port once)"},
	{"tcp { 5 { => a:1 } }\ntcp {\n 6 { => a:1 }; 7, 5 { => a:1 } }",
	 "fwd.cfg:3:19: port '5' is already forwarded by the map at line 1"
	 " (expected each port once per listen address)"},
	/* port ranges */
	{"tcp { 1 { :2000+1000 => a:1 } }",
	 "fwd.cfg:1:12: port range '2000+1000' is reversed (expected LO <= HI)"},
	{"tcp { 1 { h:2000 + 1000 => a:1 } }",
	 "fwd.cfg:1:13: port range '2000 + 1000' is reversed (expected LO <= HI)"},
	{"tcp { 1 { :9-8 => a:1 } }", "fwd.cfg:1:12: port range '9-8' is reversed (expected LO <= HI)"},
	{"tcp { 1 { :9- => a:1 } }", "fwd.cfg:1:12: '9-' is not a port range (expected LO-HI or LO+HI)"},
	{"tcp { 1 { :1-2-3 => a:1 } }",
	 "fwd.cfg:1:12: '1-2-3' is not a port range (expected LO-HI or LO+HI)"},
	{"tcp { 1 { :0-5 => a:1 } }", "fwd.cfg:1:12: port '0' is out of range (expected 1-65535)"},
	{"tcp { 1 { :+ => a:1 } }", "fwd.cfg:1:14: unexpected '=>' (expected a port after '+')"},
	{"tcp { 1 { : => a:1 } }",
	 "fwd.cfg:1:13: unexpected '=>' (expected a port or port range after ':')"},
	{"tcp { 1 { :discard+noclog => a:1 } }",
	 "fwd.cfg:1:12: port 'discard' is a service name, which pv-forwarder does not look up"
	 " (expected a number 1-65535)"},
	{"tcp { 1 { :5 6 => a:1 } }", "fwd.cfg:1:14: unexpected '6' (expected ',' or '=>')"},
	/* sources */
	{"tcp { 1 { 10.0.0.0/8 10.0.0.1 => a:1 } }",
	 "fwd.cfg:1:22: unexpected '10.0.0.1' (expected ':', ',' or '=>')"},
	{"tcp { 1 { 10.0.0.0 10.0.0.1 => a:1 } }",
	 "fwd.cfg:1:20: unexpected '10.0.0.1' (expected '/', ':', ',' or '=>')"},
	{"tcp { 1 { 10.0.0.0/ => a:1 } }",
	 "fwd.cfg:1:21: unexpected '=>' (expected a mask length after '/')"},
	{"tcp { 1 { 10.0.0.0/8x => a:1 } }",
	 "fwd.cfg:1:20: mask length '8x' is not a number (expected 0-32)"},
	{"tcp { 1 { 10.0.0.0/33 => a:1 } }",
	 "fwd.cfg:1:20: mask length '33' is out of range (expected 0-32 for an IPv4 address)"},
	{"tcp { 1 { a, => b:1 } }",
	 "fwd.cfg:1:14: unexpected '=>' (expected a source HOST or ':' PORTRANGE)"},
	{"tcp { 1 { , a => b:1 } }",
	 "fwd.cfg:1:11: unexpected ',' (expected a source HOST, ':' PORTRANGE or '=>')"},
	{"tcp { 1 { fe80::1 => a:1 } }",
	 "fwd.cfg:1:16: unexpected ':' (expected a port or port range after ':';"
	 " IPv6 addresses go in brackets: [fe80::1]:22)"},
	{"tcp { 1 { [fe80::1%eth0]/64 => a:1 } }",
	 "fwd.cfg:1:11: '[fe80::1%eth0]' is not an IPv6 address (expected an IPv6 address"
	 " in brackets, IPv4 addresses and names without)"},
	{"tcp { 1 { [10.0.0.1] => a:1 } }",
	 "fwd.cfg:1:11: '[10.0.0.1]' is not an IPv6 address (expected an IPv6 address"
	 " in brackets, IPv4 addresses and names without)"},
	{"tcp { 1 { [not an address] => a:1 } }",
	 "fwd.cfg:1:11: unexpected '[not an address]' (expected a source HOST, ':' PORTRANGE or '=>')"},
	{"tcp { 1 { } }",
	 "fwd.cfg:1:11: unexpected '}' (expected a source HOST, ':' PORTRANGE or '=>')"},
	/* destinations */
	{"tcp { 11111 { => client_host } }",
	 "fwd.cfg:1:30: unexpected '}' (expected ':' and a port after 'client_host')"},
	{"tcp { 11111 { => client_host: } }",
	 "fwd.cfg:1:31: unexpected '}' (expected a port number after ':')"},
	{"tcp { 11111 { => } }", "fwd.cfg:1:18: unexpected '}' (expected a destination HOST:PORT)"},
	{"tcp { 1 { => ::1:5 } }",
	 "fwd.cfg:1:14: unexpected ':' (expected a destination HOST:PORT;"
	 " IPv6 addresses go in brackets: [::1]:11111)"},
	{"tcp { 1 { => [::1] } }", "fwd.cfg:1:20: unexpected '}' (expected ':' and a port after '[::1]')"},
	{"tcp { 1 { => [::g]:5 } }",
	 "fwd.cfg:1:14: '[::g]' is not an IPv6 address (expected an IPv6 address"
	 " in brackets, IPv4 addresses and names without)"},
	{"tcp { 1 { => a:1 b:2 } }", "fwd.cfg:1:18: unexpected 'b' (expected ',', ';' or '}')"},
	{"tcp { 1 { => a:1, } }", "fwd.cfg:1:19: unexpected '}' (expected a destination HOST:PORT)"},
	{"tcp { 1 { => a:1 ; ; } }",
	 "fwd.cfg:1:20: unexpected ';' (expected a source HOST, ':' PORTRANGE, '=>' or '}')"},
	{"tcp { 1 { => a:1 = b:1 } }", "fwd.cfg:1:18: unexpected character '=' (expected ',', ';' or '}')"},
	{"tcp { 1 { -> a:1 } }", "fwd.cfg:1:11: '-' is not a valid host name: host name label starts"
	 " with '-' (expected letters, digits, '-', '_' and '.')"},
	/* hosts */
	{"tcp { 1 { => bad..name:1 } }",
	 "fwd.cfg:1:14: 'bad..name' is not a valid host name: empty label in host name"
	 " (expected letters, digits, '-', '_' and '.')"},
	{"tcp { 1 { => host-:1 } }",
	 "fwd.cfg:1:14: 'host-' is not a valid host name: host name label ends with '-'"
	 " (expected letters, digits, '-', '_' and '.')"},
	{"tcp { 1 { => 300.1.1.1:1 } }",
	 "fwd.cfg:1:14: '300.1.1.1' is not a valid IPv4 address"
	 " (expected four numbers 0-255 separated by '.')"},
	{"tcp { 1 { => 11111:1 } }",
	 "fwd.cfg:1:14: '11111' is not a valid IPv4 address"
	 " (expected four numbers 0-255 separated by '.')"},
	{"tcp { 1 { => host@example:1 } }",
	 "fwd.cfg:1:18: unexpected character '@' (expected ':' and a port after 'host')"},
	{"tcp { 1 { => h\xc3\xa9te:1 } }",
	 "fwd.cfg:1:15: unexpected character '\\xc3' (expected ':' and a port after 'h')"},
	/* globals */
	{"listen-on\ntcp { 1 { => a:1 } }",
	 "fwd.cfg:2:1: unexpected 'tcp' (expected a host name or address after 'listen-on')"},
	{"source-address { 1 { => a:1 } }",
	 "fwd.cfg:1:16: unexpected '{' (expected a host name or address after 'source-address')"},
	{"listen-on ::1 tcp { 1 { => a:1 } }",
	 "fwd.cfg:1:11: unexpected ':' (expected a host name or address after 'listen-on')"},
	{"tcp { 1 { => a:1 } }\nlisten-on 127.0.0.1\n",
	 "fwd.cfg:2:1: 'listen-on' applies to no map (expected a 'tcp' section after it)"},
	{"tcp { 1 { => a:1 } }\nbind-address 127.0.0.1 source-address 127.0.0.2",
	 "fwd.cfg:2:24: 'source-address' applies to no map (expected a 'tcp' section after it)"},
	{"fragile\nlisten-on 127.0.0.1 tcp { 1 { => a:1 } }",
	 "fwd.cfg:2:1: unexpected 'listen-on' (expected 'tcp' after 'fragile')"},
	{"fragile", "fwd.cfg:1:8: unexpected end of file (expected 'tcp' after 'fragile')"},
	/* file structure */
	{"", "fwd.cfg:1:1: no 'tcp' section (expected at least one 'tcp { PORT { => HOST:PORT } }')"},
	{"/* only a comment */\n",
	 "fwd.cfg:2:1: no 'tcp' section (expected at least one 'tcp { PORT { => HOST:PORT } }')"},
	{"tcp", "fwd.cfg:1:4: unexpected end of file (expected '{' after 'tcp')"},
	{"tcp 1 { => a:1 }", "fwd.cfg:1:5: unexpected '1' (expected '{' after 'tcp')"},
	{"tcp { }", "fwd.cfg:1:7: unexpected '}' (expected a port number)"},
	{"TCP { 1 { => a:1 } }",
	 "fwd.cfg:1:1: unexpected 'TCP' (expected 'tcp', 'fragile', 'listen-on' or 'source-address')"},
	{"tcp { 1 { => a:1 } ;; }", "fwd.cfg:1:21: unexpected ';' (expected a port number or '}')"},
	{"tcp { 1 { => a:1 } 2 { => a:2 } }", "fwd.cfg:1:20: unexpected '2' (expected ';' or '}')"},
	{"tcp { 11111 { => client_host:11111 }",
	 "fwd.cfg:1:37: unexpected end of file (expected ';' or '}')"},
	{"tcp { 11111 { => client_host:11111 } } }",
	 "fwd.cfg:1:40: unexpected '}' (expected 'tcp', 'fragile', 'listen-on' or 'source-address')"},
	{"tcp { 1 { => a:1 } };",
	 "fwd.cfg:1:21: unexpected ';' (expected 'tcp', 'fragile', 'listen-on' or 'source-address')"},
	{"tcp { 1 { => a:1 } } junk",
	 "fwd.cfg:1:22: unexpected 'junk' (expected 'tcp', 'fragile', 'listen-on' or 'source-address')"},
	{"# portfwd has no such comments\ntcp { 1 { => a:1 } }",
	 "fwd.cfg:1:1: unexpected character '#' (expected 'tcp', 'fragile', 'listen-on' or"
	 " 'source-address'; comments are /* ... */)"},
	{"tcp { 1 { => a:1 } } // neither",
	 "fwd.cfg:1:22: unexpected '/' (expected 'tcp', 'fragile', 'listen-on' or 'source-address')"},
	{"tcp { 1 { => a:1 } } */",
	 "fwd.cfg:1:22: unexpected '*/' (expected 'tcp', 'fragile', 'listen-on' or 'source-address')"},
	{"/* outer /* inner */\ntcp { 1 { => a:1 } }",
	 "fwd.cfg:1:1: unterminated comment (expected '*/')"},
	{"tcp { 1 { => [::1", "fwd.cfg:1:14: unterminated '[' (expected ']')"},
	{"\ttcp {\r\n\t\t1 { => a:1 }\r\n\t\t2 }",
	 "fwd.cfg:3:3: unexpected '2' (expected ';' or '}')"},
	{"tcp { 1 { => a:1 } } xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	 "fwd.cfg:1:22: unexpected 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"
	 " (expected 'tcp', 'fragile', 'listen-on' or 'source-address')"},
	/* keywords refused wherever they turn up */
	{"tcp { 1 { => tcp:1 } }", "fwd.cfg:1:14: unexpected 'tcp' (expected a destination HOST:PORT)"},
	{"tcp { 1 { => a:fragile } }", "fwd.cfg:1:16: unexpected 'fragile' (expected a port number after ':')"},
	{"tcp { 1 { group => a:1 } }",
	 "fwd.cfg:1:11: 'group' is not supported by pv-forwarder"
	 " (it runs as the user who starts it and never switches groups)"},
	{"tcp { user { => a:1 } }",
	 "fwd.cfg:1:7: 'user' is not supported by pv-forwarder"
	 " (it runs as the user who starts it and never switches users)"},
};

START_TEST(test_bad_file)
{
	const struct bad *b = &bad_files[_i];
	int rc = parse(b->text);
	ck_assert_msg(rc == -1, "accepted: %s", b->text);
	ck_assert_str_eq(err, b->msg);
	ck_assert_ptr_null(cfg.maps);
	ck_assert_uint_eq(cfg.nmaps, 0);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("portfwd grammar");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_seed_file);
	tcase_add_test(tc, test_seed_file_on_disk);
	tcase_add_test(tc, test_every_construct);
	tcase_add_test(tc, test_globals_are_positional);
	tcase_add_test(tc, test_separators_and_whitespace);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_host_names);
	tcase_add_test(tc, test_port_ranges);
	tcase_add_test(tc, test_masks);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_parse_buf);
	tcase_add_test(tc, test_error_buffer);
	tcase_add_test(tc, test_every_prefix_fails);
	tcase_add_test(tc, test_mutations);
	tcase_add_loop_test(tc, test_bad_file, 0, (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	suite_add_tcase(s, tc);
	return s;
}
