/* check_common.c - strict numbers, HOST[:PORT], CIDR blocks. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "hostport.h"
#include "netaddr.h"
#include "numparse.h"
#include "quote.h"
#include "statedir.h"

START_TEST(test_parse_ulong)
{
	unsigned long v;
	ck_assert_int_eq(parse_ulong("0", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse_ulong("10", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(parse_ulong("11", 0, 10, &v), -1);
	ck_assert_int_eq(parse_ulong("", 0, 10, &v), -1);
	ck_assert_int_eq(parse_ulong(NULL, 0, 10, &v), -1);
	ck_assert_int_eq(parse_ulong("-1", 0, 10, &v), -1);
	ck_assert_int_eq(parse_ulong("+1", 0, 10, &v), -1);
	ck_assert_int_eq(parse_ulong(" 1", 0, 10, &v), -1);
	ck_assert_int_eq(parse_ulong("1 ", 0, 10, &v), -1);
	ck_assert_int_eq(parse_ulong("0x1", 0, 10, &v), -1);
	ck_assert_int_eq(parse_ulong("7", 0, 5, &v), -1);
	ck_assert_int_eq(parse_ulong("99999999999999999999999", 0, (unsigned long)-1, &v), -1);
	ck_assert_int_eq(parse_ulong("18446744073709551615", 0, (unsigned long)-1, &v), 0);
	ck_assert_int_eq(parse_ulong("3", 5, 10, &v), -1);
}
END_TEST

START_TEST(test_ports)
{
	uint16_t p, lo, hi;
	ck_assert_int_eq(parse_port("1", &p), 0);
	ck_assert_int_eq(parse_port("65535", &p), 0);
	ck_assert_uint_eq(p, 65535);
	ck_assert_int_eq(parse_port("0", &p), -1);
	ck_assert_int_eq(parse_port("65536", &p), -1);
	ck_assert_int_eq(parse_port("11111x", &p), -1);
	ck_assert_int_eq(parse_port_range("20000-20010", &lo, &hi), 0);
	ck_assert_uint_eq(lo, 20000);
	ck_assert_uint_eq(hi, 20010);
	ck_assert_int_eq(parse_port_range("5-5", &lo, &hi), 0);
	ck_assert_int_eq(parse_port_range("6-5", &lo, &hi), -1);
	ck_assert_int_eq(parse_port_range("5", &lo, &hi), -1);
	ck_assert_int_eq(parse_port_range("-5", &lo, &hi), -1);
	ck_assert_int_eq(parse_port_range("5-", &lo, &hi), -1);
	ck_assert_int_eq(parse_port_range("1-2-3", &lo, &hi), -1);
	ck_assert_int_eq(parse_port_range("0-10", &lo, &hi), -1);
}
END_TEST

struct hp_ok { const char *in, *host; unsigned port; int v6; };
static const struct hp_ok hp_good[] = {
	{"", "", 0, 0},
	{"myhost", "myhost", 0, 0},
	{"myhost:11111", "myhost", 11111, 0},
	{"desk-1.example.org:1", "desk-1.example.org", 1, 0},
	{"10.0.0.1:65535", "10.0.0.1", 65535, 0},
	{":2222", "", 2222, 0},
	{"[::1]", "::1", 0, 1},
	{"[fe80::1]:11111", "fe80::1", 11111, 1},
	{"::1", "::1", 0, 1},
	{"2001:db8::7", "2001:db8::7", 0, 1},
};

START_TEST(test_hostport_good)
{
	struct hostport hp;
	char err[128];
	const struct hp_ok *t = &hp_good[_i];
	ck_assert_msg(hostport_parse(t->in, &hp, err, sizeof(err)) == 0, "%s: %s", t->in, err);
	ck_assert_str_eq(hp.host, t->host);
	ck_assert_uint_eq(hp.port, t->port);
	ck_assert_int_eq(hp.is_ipv6, t->v6);
}
END_TEST

struct hp_bad { const char *in, *why; };
static const struct hp_bad hp_bad[] = {
	{":", "neither host nor port after ':'"},
	{"host:", "missing port after ':'"},
	{"host:0", "port 0 is out of range 1-65535"},
	{"host:65536", "port 65536 is out of range 1-65535"},
	{"host:-1", "port '-1' is not a number"},
	{"host:11111x", "port '11111x' is not a number"},
	{"host: 1", "port ' 1' is not a number"},
	{"my host", "invalid character ' ' in host name"},
	{"host;rm", "invalid character ';' in host name"},
	{"$(id)", "invalid character '$' in host name"},
	{"a`b`", "invalid character '`' in host name"},
	{"a_b", "invalid character '_' in host name"},
	{"-host", "host name label starts with '-'"},
	{"host-", "host name label ends with '-'"},
	{"a..b", "empty label in host name"},
	{".a", "empty label in host name"},
	{"[::1", "unbalanced '['"},
	{"::1]", "unbalanced ']'"},
	{"[]:1", "empty IPv6 address in brackets"},
	{"[myhost]:1", "not an IPv6 address in brackets"},
	{"[::1]x", "unexpected text after ']'"},
	{"[::1]:", "missing port after ':'"},
	{"a:b:c", "more than one ':' outside brackets (write IPv6 as [ADDR]:PORT)"},
	{"fe80::1:11111x", "more than one ':' outside brackets (write IPv6 as [ADDR]:PORT)"},
	{"h\tx", "invalid character 0x09 in host name"},
};

START_TEST(test_hostport_bad)
{
	struct hostport hp;
	char err[128] = "";
	const struct hp_bad *t = &hp_bad[_i];
	ck_assert_msg(hostport_parse(t->in, &hp, err, sizeof(err)) == -1, "accepted '%s'", t->in);
	ck_assert_str_eq(err, t->why);
}
END_TEST

START_TEST(test_hostport_long_names)
{
	char name[300], err[128];
	struct hostport hp;
	/* 4 labels of 63 + 3 dots = 255 > 253 */
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[255] = '\0';
	ck_assert_int_eq(hostport_parse(name, &hp, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "host name is longer than 253 characters");
	name[253] = '\0'; /* 253 characters: fine */
	ck_assert_int_eq(hostport_parse(name, &hp, err, sizeof(err)), 0);
	memset(name, 'b', 64);
	name[64] = '\0';
	ck_assert_int_eq(hostport_parse(name, &hp, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "host name label is longer than 63 characters");
	memset(name, 'c', 300);
	name[299] = '\0';
	ck_assert_int_eq(hostport_parse(name, &hp, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "host name is longer than 253 characters");
}
END_TEST

START_TEST(test_hostport_format)
{
	char buf[80];
	hostport_format(buf, sizeof(buf), "login", 80);
	ck_assert_str_eq(buf, "login:80");
	hostport_format(buf, sizeof(buf), "::1", 5);
	ck_assert_str_eq(buf, "[::1]:5");
}
END_TEST

static struct sockaddr_in sin4(const char *a)
{
	struct sockaddr_in s = {.sin_family = AF_INET};
	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static struct sockaddr_in6 sin6(const char *a)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, a, &s.sin6_addr);
	return s;
}

START_TEST(test_cidr)
{
	struct cidr c;
	char err[64];
	struct sockaddr_in a = sin4("10.1.2.3"), b = sin4("10.1.3.3");
	struct sockaddr_in6 m = sin6("::ffff:10.1.2.200"), v6 = sin6("2001:db8::5");

	ck_assert_int_eq(cidr_parse("10.1.2.0/24", &c, err, sizeof(err)), 0);
	ck_assert(cidr_match(&c, (struct sockaddr *)&a));
	ck_assert(!cidr_match(&c, (struct sockaddr *)&b));
	ck_assert(cidr_match(&c, (struct sockaddr *)&m)); /* v4-mapped */
	ck_assert(!cidr_match(&c, (struct sockaddr *)&v6));
	ck_assert_int_eq(cidr_parse("10.1.2.77/23", &c, err, sizeof(err)), 0);
	ck_assert(cidr_match(&c, (struct sockaddr *)&b)); /* host bits cleared */
	ck_assert_int_eq(cidr_parse("10.1.2.3", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.prefix, 32);
	ck_assert(cidr_match(&c, (struct sockaddr *)&a));
	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c, err, sizeof(err)), 0);
	ck_assert(cidr_match(&c, (struct sockaddr *)&b));
	ck_assert_int_eq(cidr_parse("2001:db8::/32", &c, err, sizeof(err)), 0);
	ck_assert(cidr_match(&c, (struct sockaddr *)&v6));
	ck_assert(!cidr_match(&c, (struct sockaddr *)&a));
	ck_assert_int_eq(cidr_parse("2001:db8::/33", &c, err, sizeof(err)), 0);
	ck_assert(cidr_match(&c, (struct sockaddr *)&v6));
	ck_assert_int_eq(cidr_parse("2001:db9::/33", &c, err, sizeof(err)), 0);
	ck_assert(!cidr_match(&c, (struct sockaddr *)&v6));

	ck_assert_int_eq(cidr_parse("10.1.2.0/33", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "mask length must be 0-32");
	ck_assert_int_eq(cidr_parse("::/129", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "mask length must be 0-128");
	ck_assert_int_eq(cidr_parse("10.1.2.0/", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(cidr_parse("10.1.2.0/8x", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(cidr_parse("/8", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "missing address before '/'");
	ck_assert_int_eq(cidr_parse("login", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "not an IP address");
	ck_assert_int_eq(cidr_parse("10.1.2", &c, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_cidr_list_and_format)
{
	struct cidr list[2];
	char err[64], buf[64];
	struct sockaddr_in a = sin4("192.0.2.9");
	struct sockaddr_in6 b = sin6("::1");

	cidr_parse("198.51.100.0/24", &list[0], err, sizeof(err));
	ck_assert(!cidr_list_match(list, 1, (struct sockaddr *)&a));
	cidr_from_sockaddr((struct sockaddr *)&a, &list[1]);
	ck_assert(cidr_list_match(list, 2, (struct sockaddr *)&a));
	ck_assert(!cidr_list_match(list, 0, (struct sockaddr *)&a));

	a.sin_port = htons(4242);
	sockaddr_format((struct sockaddr *)&a, buf, sizeof(buf), 1);
	ck_assert_str_eq(buf, "192.0.2.9:4242");
	sockaddr_format((struct sockaddr *)&a, buf, sizeof(buf), 0);
	ck_assert_str_eq(buf, "192.0.2.9");
	b.sin6_port = htons(7);
	sockaddr_format((struct sockaddr *)&b, buf, sizeof(buf), 1);
	ck_assert_str_eq(buf, "[::1]:7");
}
END_TEST

START_TEST(test_unmap_v4)
{
	struct sockaddr_in buf;
	struct sockaddr_in6 m = sin6("::ffff:192.0.2.7"), plain = sin6("2001:db8::1");
	struct sockaddr_in a = sin4("192.0.2.8");
	char text[64];

	m.sin6_port = htons(99);
	const struct sockaddr *r = sockaddr_unmap_v4((struct sockaddr *)&m, &buf);
	ck_assert_ptr_eq(r, (struct sockaddr *)&buf);
	sockaddr_format(r, text, sizeof(text), 1);
	ck_assert_str_eq(text, "192.0.2.7:99");
	ck_assert_ptr_eq(sockaddr_unmap_v4((struct sockaddr *)&plain, &buf), (struct sockaddr *)&plain);
	ck_assert_ptr_eq(sockaddr_unmap_v4((struct sockaddr *)&a, &buf), (struct sockaddr *)&a);
}
END_TEST

/* quote_text / printable_text: one line of printable ASCII, cut with "...". */
START_TEST(test_quote)
{
	char b[32];
	ck_assert_str_eq(quote_str(b, sizeof b, "desktop:11111"), "desktop:11111");
	ck_assert_str_eq(quote_str(b, sizeof b, "a\nb\tc\x1b[0m\x7f\xc3\xa9"),
			 "a\\x0ab\\x09c\\x1b[0m\\x7f\\xc3\\xa9");
	ck_assert_str_eq(quote_str(b, sizeof b, "it's a\\b"), "it\\'s a\\\\b");
	ck_assert_str_eq(printable_text(b, sizeof b, "it's a\\b\n", 10), "it's a\\b\\x0a");
	ck_assert_str_eq(quote_str(b, sizeof b, NULL), "");
	/* at most max bytes of the text, then "..." */
	ck_assert_str_eq(quote_text(b, sizeof b, "abcdefgh", 8, 3), "abc...");
	ck_assert_str_eq(quote_text(b, sizeof b, "abc", 3, 3), "abc");
	/* n bytes, or up to a NUL */
	ck_assert_str_eq(quote_text(b, sizeof b, "abcdef", 2, QUOTE_ALL), "ab");
	ck_assert_str_eq(quote_text(b, sizeof b, "ab\0cd", 5, QUOTE_ALL), "ab");
	/* cut to the buffer: what fits exactly stays whole; else "..." ends it */
	ck_assert_str_eq(quote_str(b, 5, "abcd"), "abcd");
	ck_assert_str_eq(quote_str(b, 5, "abcde"), "a...");
	ck_assert_str_eq(quote_str(b, 8, "ab\ncd"), "ab...");     /* no half escape */
	ck_assert_str_eq(quote_str(b, 3, "abcd"), "");
	ck_assert_str_eq(quote_str(b, 1, "abcd"), "");
	/* whatever the input: no byte outside ' '..'~' comes out */
	char all[256];
	for (int i = 0; i < 255; i++)
		all[i] = (char)(i + 1);
	all[255] = '\0';
	char big[1100];
	quote_str(big, sizeof big, all);
	/* 160 bytes as \xNN, ' and \ with a backslash, 93 as they are */
	ck_assert_uint_eq(strlen(big), 4 * 160 + 2 * 2 + 93);
	for (const char *p = big; *p; p++)
		ck_assert(*p >= 0x20 && *p <= 0x7e);
}
END_TEST

/* The names in a state directory: "<pid><suffix>", nothing else. */
START_TEST(test_statedir_name_pid)
{
	ck_assert_int_eq(statedir_name_pid("4242.state", ".state"), 4242);
	ck_assert_int_eq(statedir_name_pid("4242.state.tmp", ".state.tmp"), 4242);
	ck_assert_int_eq(statedir_name_pid("4242.state.tmp", ".state"), 0);
	ck_assert_int_eq(statedir_name_pid("4242.log", ".state"), 0);
	ck_assert_int_eq(statedir_name_pid(".state", ".state"), 0);
	ck_assert_int_eq(statedir_name_pid("0.state", ".state"), 0);
	ck_assert_int_eq(statedir_name_pid("42x.state", ".state"), 0);
	ck_assert_int_eq(statedir_name_pid("4194305.state", ".state"), 0);
	ck_assert_int_eq(statedir_name_pid("99999999999999999999999.state", ".state"), 0);
}
END_TEST

Suite *common_suite(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("parsing");
	tcase_add_test(tc, test_parse_ulong);
	tcase_add_test(tc, test_ports);
	tcase_add_loop_test(tc, test_hostport_good, 0, sizeof(hp_good) / sizeof(hp_good[0]));
	tcase_add_loop_test(tc, test_hostport_bad, 0, sizeof(hp_bad) / sizeof(hp_bad[0]));
	tcase_add_test(tc, test_hostport_long_names);
	tcase_add_test(tc, test_hostport_format);
	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_cidr_list_and_format);
	tcase_add_test(tc, test_unmap_v4);
	tcase_add_test(tc, test_quote);
	tcase_add_test(tc, test_statedir_name_pid);
	suite_add_tcase(s, tc);
	return s;
}
