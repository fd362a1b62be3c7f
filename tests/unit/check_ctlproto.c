/* check_ctlproto.c - the lines pv_forward.so exchanges with pv-forwarder
 * (common/ctlproto.c), both sides: token check, comparison and hex form,
 * HELLO/BYE formatting and parsing, OK/ERR replies, the ready line (with and
 * without CONTROL, ERROR) formatted and parsed. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "ctlproto.h"

#define TOK "0123456789abcdef0123456789abcdef"

START_TEST(test_token_valid)
{
	ck_assert_int_eq(ctl_token_valid(TOK), 1);
	ck_assert_int_eq(ctl_token_valid("ffffffffffffffffffffffffffffffff"), 1);
	ck_assert_int_eq(ctl_token_valid("00000000000000000000000000000000"), 1);
	ck_assert_int_eq(ctl_token_valid(NULL), 0);
	ck_assert_int_eq(ctl_token_valid(""), 0);
	/* 31 and 33 digits */
	ck_assert_int_eq(ctl_token_valid("0123456789abcdef0123456789abcde"), 0);
	ck_assert_int_eq(ctl_token_valid(TOK "0"), 0);
	/* upper case, non-hex, space, sign, newline */
	ck_assert_int_eq(ctl_token_valid("0123456789ABCDEF0123456789abcdef"), 0);
	ck_assert_int_eq(ctl_token_valid("0123456789abcdeg0123456789abcdef"), 0);
	ck_assert_int_eq(ctl_token_valid("0123456789abcde 0123456789abcdef"), 0);
	ck_assert_int_eq(ctl_token_valid("+123456789abcdef0123456789abcdef"), 0);
	ck_assert_int_eq(ctl_token_valid("0123456789abcdef0123456789abcde\n"), 0);
	ck_assert_int_eq(ctl_token_valid(TOK "\n"), 0);
	ck_assert_int_eq(ctl_token_valid("0123456789abcdef0123456789abcdeg"), 0);
	ck_assert_int_eq(ctl_token_valid(" 123456789abcdef0123456789abcdef"), 0);
}
END_TEST

START_TEST(test_token_hex)
{
	unsigned char raw[CTL_TOKEN_BYTES];
	char out[CTL_TOKEN_LEN + 2];

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 17);   /* 00 11 22 ... ff */
	memset(out, 'X', sizeof(out));
	ctl_token_hex(raw, out);
	ck_assert_str_eq(out, "00112233445566778899aabbccddeeff");
	ck_assert_int_eq(out[CTL_TOKEN_LEN + 1], 'X');
	ck_assert_int_eq(ctl_token_valid(out), 1);

	memset(raw, 0xa5, sizeof(raw));
	ctl_token_hex(raw, out);
	ck_assert_str_eq(out, "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5");
}
END_TEST

START_TEST(test_format)
{
	char buf[CTL_LINE_MAX];

	ck_assert_int_eq(ctl_format_request(buf, sizeof(buf), CTL_HELLO, 123, TOK),
			 (int)strlen("HELLO 123 " TOK "\n"));
	ck_assert_str_eq(buf, "HELLO 123 " TOK "\n");
	ck_assert_int_gt(ctl_format_request(buf, sizeof(buf), CTL_BYE, 4294967295u, TOK), 0);
	ck_assert_str_eq(buf, "BYE 4294967295 " TOK "\n");
	ck_assert_str_eq(ctl_verb_name(CTL_HELLO), "HELLO");
	ck_assert_str_eq(ctl_verb_name(CTL_BYE), "BYE");
	ck_assert_int_gt(ctl_format_request(buf, sizeof(buf), CTL_END, 12, TOK), 0);
	ck_assert_str_eq(buf, "END 12 " TOK "\n");
	ck_assert_str_eq(ctl_verb_name(CTL_END), "END");

	/* The longest line fits CTL_LINE_MAX. */
	ck_assert_int_lt(ctl_format_request(buf, sizeof(buf), CTL_HELLO, 4294967295u, TOK),
			 CTL_LINE_MAX);

	/* No job, bad tokens, a buffer too small: nothing usable comes out. */
	ck_assert_int_eq(ctl_format_request(buf, sizeof(buf), CTL_HELLO, 0, TOK), -1);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(ctl_format_request(buf, sizeof(buf), CTL_HELLO, 1, "abc"), -1);
	ck_assert_int_eq(ctl_format_request(buf, sizeof(buf), CTL_HELLO, 1, NULL), -1);
	ck_assert_int_eq(ctl_format_request(buf, sizeof(buf), CTL_HELLO, 1,
					TOK "\nBYE 1 " TOK), -1);
	ck_assert_int_eq(ctl_format_request(buf, 20, CTL_HELLO, 1, TOK), -1);
	ck_assert_str_eq(buf, "");
	/* exactly the line and its NUL */
	ck_assert_int_eq(ctl_format_request(buf, strlen("BYE 7 " TOK "\n") + 1, CTL_BYE, 7, TOK),
			 (int)strlen("BYE 7 " TOK "\n"));
	ck_assert_int_eq(ctl_format_request(buf, strlen("BYE 7 " TOK "\n"), CTL_BYE, 7, TOK), -1);
}
END_TEST

START_TEST(test_reply)
{
	char r[64];

	ck_assert_int_eq(ctl_parse_reply("OK", r, sizeof(r)), CTL_REPLY_OK);
	ck_assert_int_eq(ctl_parse_reply("OK\n", r, sizeof(r)), CTL_REPLY_OK);
	ck_assert_int_eq(ctl_parse_reply("OK\r\n", r, sizeof(r)), CTL_REPLY_OK);
	ck_assert_int_eq(ctl_parse_reply("OK bound to job 12\n", r, sizeof(r)),
			 CTL_REPLY_OK);
	ck_assert_int_eq(ctl_parse_reply("OK\nERR later\n", NULL, 0), CTL_REPLY_OK);

	ck_assert_int_eq(ctl_parse_reply("ERR bad token\n", r, sizeof(r)), CTL_REPLY_ERR);
	ck_assert_str_eq(r, "bad token");
	ck_assert_int_eq(ctl_parse_reply("ERR   spaced\r\n", r, sizeof(r)), CTL_REPLY_ERR);
	ck_assert_str_eq(r, "spaced");
	ck_assert_int_eq(ctl_parse_reply("ERR", r, sizeof(r)), CTL_REPLY_ERR);
	ck_assert_str_eq(r, "no reason given");
	ck_assert_int_eq(ctl_parse_reply("ERR \n", r, sizeof(r)), CTL_REPLY_ERR);
	ck_assert_str_eq(r, "no reason given");
	ck_assert_int_eq(ctl_parse_reply("ERR job\x1b[31m 5\n", r, sizeof(r)),
			 CTL_REPLY_ERR);
	ck_assert_str_eq(r, "job\\x1b[31m 5");
	/* the reason is cut to the buffer */
	ck_assert_int_eq(ctl_parse_reply("ERR 0123456789", r, 5), CTL_REPLY_ERR);
	ck_assert_str_eq(r, "0...");

	ck_assert_int_eq(ctl_parse_reply("", r, sizeof(r)), CTL_REPLY_BAD);
	ck_assert_str_eq(r, "an empty reply");
	ck_assert_int_eq(ctl_parse_reply("\n", r, sizeof(r)), CTL_REPLY_BAD);
	ck_assert_int_eq(ctl_parse_reply(NULL, r, sizeof(r)), CTL_REPLY_BAD);
	ck_assert_int_eq(ctl_parse_reply("OKAY\n", r, sizeof(r)), CTL_REPLY_BAD);
	ck_assert_str_eq(r, "OKAY");
	ck_assert_int_eq(ctl_parse_reply("ok\n", r, sizeof(r)), CTL_REPLY_BAD);
	ck_assert_int_eq(ctl_parse_reply("ERROR x\n", r, sizeof(r)), CTL_REPLY_BAD);
	ck_assert_int_eq(ctl_parse_reply(" OK\n", r, sizeof(r)), CTL_REPLY_BAD);
	ck_assert_int_eq(ctl_parse_reply("HTTP/1.1 400\n", r, sizeof(r)), CTL_REPLY_BAD);
	ck_assert_str_eq(r, "HTTP/1.1 400");
}
END_TEST

START_TEST(test_ready)
{
	char m[64];
	uint16_t port = 0, control = 99;

	ck_assert_int_eq(ctl_parse_ready("PORT 40001 CONTROL 40002\n", &port, &control, m, sizeof(m)),
			 CTL_READY_PORT);
	ck_assert_uint_eq(port, 40001);
	ck_assert_uint_eq(control, 40002);
	ck_assert_str_eq(m, "");

	/* the older line: no control port */
	control = 99;
	ck_assert_int_eq(ctl_parse_ready("PORT 5\n", &port, &control, m, sizeof(m)), CTL_READY_PORT);
	ck_assert_uint_eq(port, 5);
	ck_assert_uint_eq(control, 0);
	ck_assert_int_eq(ctl_parse_ready("PORT 65535", &port, &control, m, sizeof(m)), CTL_READY_PORT);
	ck_assert_uint_eq(port, 65535);

	/* pairs a later forwarder may add are skipped, in any place */
	ck_assert_int_eq(ctl_parse_ready("PORT 1 PID 77 CONTROL 2 X y\n", &port, &control,
				     m, sizeof(m)), CTL_READY_PORT);
	ck_assert_uint_eq(port, 1);
	ck_assert_uint_eq(control, 2);
	ck_assert_int_eq(ctl_parse_ready("PORT 1 CONTROL 2\r\n", &port, &control, m, sizeof(m)),
			 CTL_READY_PORT);

	ck_assert_int_eq(ctl_parse_ready("ERROR cannot bind 10.0.0.1: Address in use\n", &port,
				     &control, m, sizeof(m)), CTL_READY_ERROR);
	ck_assert_str_eq(m, "cannot bind 10.0.0.1: Address in use");
	ck_assert_int_eq(ctl_parse_ready("ERROR a\tb\n", &port, &control, m, sizeof(m)), CTL_READY_ERROR);
	ck_assert_str_eq(m, "a\\x09b");

	static const char *bad[] = {
		"", "\n", "PORT", "PORT \n", "PORT 0\n", "PORT 65536\n", "PORT -1\n",
		"PORT 12x\n", "PORT  12\n", "PORT 12 \n", "port 12\n", "PORT 1 CONTROL\n",
		"PORT 1 CONTROL 0\n", "PORT 1 CONTROL 70000\n", "PORT 1 CONTROL 2 CONTROL 3\n",
		"PORT 1 CONTROL  2\n", "PORT 1 CONTROL 2 X\n", "CONTROL 2 PORT 1\n",
		"ERROR\n", "READY 1\n", " PORT 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ctl_parse_ready(bad[i], &port, &control, m, sizeof(m)) == CTL_READY_BAD,
			      "accepted '%s'", bad[i]);
	ck_assert_int_eq(ctl_parse_ready("PORT x\n", &port, &control, m, sizeof(m)), CTL_READY_BAD);
	ck_assert_str_eq(m, "PORT x");
	ck_assert_int_eq(ctl_parse_ready(NULL, &port, &control, m, sizeof(m)), CTL_READY_BAD);
}
END_TEST

/* What the forwarder writes to the ready pipe is what the plugin reads. */
START_TEST(ready_format)
{
	char b[128], m[64];
	uint16_t port = 0, control = 99;

	ck_assert_uint_eq(ctl_format_ready(b, sizeof(b), 40001, 40002), strlen("PORT 40001 CONTROL 40002\n"));
	ck_assert_str_eq(b, "PORT 40001 CONTROL 40002\n");
	ck_assert_int_eq(ctl_parse_ready(b, &port, &control, m, sizeof(m)), CTL_READY_PORT);
	ck_assert_uint_eq(port, 40001);
	ck_assert_uint_eq(control, 40002);
	ck_assert_uint_eq(ctl_format_ready(b, sizeof(b), 5, 0), strlen("PORT 5\n"));
	ck_assert_str_eq(b, "PORT 5\n");
	ck_assert_int_eq(ctl_parse_ready(b, &port, &control, m, sizeof(m)), CTL_READY_PORT);
	ck_assert_uint_eq(control, 0);
	ck_assert_uint_eq(ctl_format_ready(b, 8, 40001, 40002), 0);
	ck_assert_str_eq(b, "");

	/* one line, whatever the message */
	ck_assert_uint_gt(ctl_format_ready_error(b, sizeof(b), "cannot listen\non 10.0.0.1"), 0);
	ck_assert_str_eq(b, "ERROR cannot listen on 10.0.0.1\n");
	ck_assert_int_eq(ctl_parse_ready(b, &port, &control, m, sizeof(m)), CTL_READY_ERROR);
	ck_assert_str_eq(m, "cannot listen on 10.0.0.1");
	ck_assert_uint_eq(ctl_format_ready_error(b, 12, "0123456789"), 11);
	ck_assert_str_eq(b, "ERROR 0123\n");
	ck_assert_uint_eq(ctl_format_ready_error(b, 7, "x"), 0);
}
END_TEST

#define TOKEN TOK

START_TEST(token_equal)
{
	ck_assert_int_eq(ctl_token_equal(TOKEN, TOKEN), 1);
	ck_assert_int_eq(ctl_token_equal(TOKEN, "1123456789abcdef0123456789abcdef"), 0);
	ck_assert_int_eq(ctl_token_equal(TOKEN, "0123456789abcdef0123456789abcdee"), 0);
}
END_TEST

static int parse_str(const char *s, struct ctl_req *r, const char **why)
{
	return ctl_parse_request(s, strlen(s), r, why);
}

START_TEST(requests)
{
	struct ctl_req r;
	const char *why = NULL;
	ck_assert_int_eq(parse_str("HELLO 12 " TOKEN, &r, &why), 0);
	ck_assert_int_eq(r.verb, CTL_HELLO);
	ck_assert_uint_eq(r.job_id, 12);
	ck_assert_str_eq(r.token, TOKEN);
	ck_assert_int_eq(parse_str("BYE 4294967295 " TOKEN "\r", &r, &why), 0);
	ck_assert_int_eq(r.verb, CTL_BYE);
	ck_assert_uint_eq(r.job_id, 4294967295u);
	ck_assert_int_eq(parse_str("END 5 " TOKEN, &r, &why), 0);
	ck_assert_int_eq(r.verb, CTL_END);
	ck_assert_uint_eq(r.job_id, 5);
	ck_assert_int_eq(parse_str("ENDS 5 " TOKEN, &r, &why), -1);
	ck_assert_int_eq(parse_str("end 5 " TOKEN, &r, &why), -1);
	ck_assert_str_eq(ctl_verb_name(CTL_BYE), "BYE");
	ck_assert_str_eq(ctl_verb_name(CTL_HELLO), "HELLO");
}
END_TEST

static const char *const bad_requests[] = {
	"", "HELLO", "HELLO ", "HELLO 12", "HELLO 12 ", "hello 12 " TOKEN, "HI 12 " TOKEN,
	"HELLO 0 " TOKEN, "HELLO 4294967296 " TOKEN, "HELLO -1 " TOKEN, "HELLO +1 " TOKEN,
	"HELLO 1x " TOKEN, "HELLO  12 " TOKEN, "HELLO 12  " TOKEN, "HELLO 12 " TOKEN " ",
	"HELLO 12 " TOKEN "0", "HELLO 12 0123456789ABCDEF0123456789abcdef",
	"HELLO 12 0123456789abcdef0123456789abcde", " HELLO 12 " TOKEN, "BYE 12 " TOKEN " x",
	"HELLO 12345678901234567890 " TOKEN, "GET / HTTP/1.0",
};

START_TEST(bad_request)
{
	struct ctl_req r;
	const char *why = NULL;
	ck_assert_int_eq(parse_str(bad_requests[_i], &r, &why), -1);
	ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(request_with_nul)
{
	struct ctl_req r;
	const char *why = NULL;
	char line[] = "HELLO 12 " TOKEN;
	line[3] = '\0';
	ck_assert_int_eq(ctl_parse_request(line, sizeof line - 1, &r, &why), -1);
}
END_TEST

/* What the plugin sends is what the forwarder reads, and back. */
START_TEST(request_roundtrip)
{
	char line[CTL_LINE_MAX], reply[64], reason[64];
	struct ctl_req r;
	const char *why;
	int n = ctl_format_request(line, sizeof line, CTL_BYE, 4294967295u, TOKEN);
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, CTL_LINE_MAX);
	ck_assert_int_eq(line[n - 1], '\n');
	ck_assert_int_eq(ctl_parse_request(line, (size_t)n - 1, &r, &why), 0);
	ck_assert_int_eq(r.verb, CTL_BYE);
	ck_assert_uint_eq(r.job_id, 4294967295u);
	n = ctl_format_request(line, sizeof line, CTL_HELLO, 1, TOKEN);
	ck_assert_int_eq(ctl_parse_request(line, (size_t)n - 1, &r, &why), 0);
	ck_assert_int_eq(r.verb, CTL_HELLO);
	ck_assert_uint_eq(ctl_format_reply(reply, sizeof reply, NULL), 3);
	ck_assert_str_eq(reply, "OK\n");
	ck_assert_int_eq(ctl_parse_reply(reply, reason, sizeof reason), CTL_REPLY_OK);
	ctl_format_reply(reply, sizeof reply, "job 12 belongs to another user");
	ck_assert_str_eq(reply, "ERR job 12 belongs to another user\n");
	ck_assert_int_eq(ctl_parse_reply(reply, reason, sizeof reason), CTL_REPLY_ERR);
	ck_assert_str_eq(reason, "job 12 belongs to another user");
	ctl_format_reply(reply, 12, "a long reason\nwith a newline");
	ck_assert_str_eq(reply, "ERR a l...\n");
	ctl_format_reply(reply, sizeof reply, "x\ty");
	ck_assert_str_eq(reply, "ERR x\\x09y\n");
}
END_TEST

Suite *ctlproto_suite(void)
{
	Suite *s = suite_create("ctlproto");
	TCase *tc = tcase_create("lines");
	tcase_add_test(tc, test_token_valid);
	tcase_add_test(tc, test_token_hex);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_reply);
	tcase_add_test(tc, test_ready);
	tcase_add_test(tc, ready_format);
	tcase_add_test(tc, token_equal);
	tcase_add_test(tc, requests);
	tcase_add_loop_test(tc, bad_request, 0, (int)(sizeof bad_requests / sizeof bad_requests[0]));
	tcase_add_test(tc, request_with_nul);
	tcase_add_test(tc, request_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
