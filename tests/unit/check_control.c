/* check_control.c - the lines pv_forward.so exchanges with pv-forwarder:
 * token check and hex form, HELLO/BYE formatting, OK/ERR replies, the ready
 * line (with and without CONTROL, ERROR), the --starter choice. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "control_proto.h"

#define TOK "0123456789abcdef0123456789abcdef"

START_TEST(test_token_valid)
{
	ck_assert_int_eq(control_token_valid(TOK), 1);
	ck_assert_int_eq(control_token_valid("ffffffffffffffffffffffffffffffff"), 1);
	ck_assert_int_eq(control_token_valid("00000000000000000000000000000000"), 1);
	ck_assert_int_eq(control_token_valid(NULL), 0);
	ck_assert_int_eq(control_token_valid(""), 0);
	/* 31 and 33 digits */
	ck_assert_int_eq(control_token_valid("0123456789abcdef0123456789abcde"), 0);
	ck_assert_int_eq(control_token_valid(TOK "0"), 0);
	/* upper case, non-hex, space, sign, newline */
	ck_assert_int_eq(control_token_valid("0123456789ABCDEF0123456789abcdef"), 0);
	ck_assert_int_eq(control_token_valid("0123456789abcdeg0123456789abcdef"), 0);
	ck_assert_int_eq(control_token_valid("0123456789abcde 0123456789abcdef"), 0);
	ck_assert_int_eq(control_token_valid("+123456789abcdef0123456789abcdef"), 0);
	ck_assert_int_eq(control_token_valid("0123456789abcdef0123456789abcde\n"), 0);
	ck_assert_int_eq(control_token_valid(TOK "\n"), 0);
}
END_TEST

START_TEST(test_token_hex)
{
	unsigned char raw[CONTROL_TOKEN_BYTES];
	char out[CONTROL_TOKEN_LEN + 2];

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 17);   /* 00 11 22 ... ff */
	memset(out, 'X', sizeof(out));
	control_token_hex(raw, out);
	ck_assert_str_eq(out, "00112233445566778899aabbccddeeff");
	ck_assert_int_eq(out[CONTROL_TOKEN_LEN + 1], 'X');
	ck_assert_int_eq(control_token_valid(out), 1);

	memset(raw, 0xa5, sizeof(raw));
	control_token_hex(raw, out);
	ck_assert_str_eq(out, "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5");
}
END_TEST

START_TEST(test_format)
{
	char buf[CONTROL_LINE_MAX];

	ck_assert_int_eq(control_format(buf, sizeof(buf), CONTROL_HELLO, 123, TOK),
			 (int)strlen("HELLO 123 " TOK "\n"));
	ck_assert_str_eq(buf, "HELLO 123 " TOK "\n");
	ck_assert_int_gt(control_format(buf, sizeof(buf), CONTROL_BYE, 4294967295u, TOK), 0);
	ck_assert_str_eq(buf, "BYE 4294967295 " TOK "\n");
	ck_assert_str_eq(control_verb_name(CONTROL_HELLO), "HELLO");
	ck_assert_str_eq(control_verb_name(CONTROL_BYE), "BYE");

	/* The longest line fits CONTROL_LINE_MAX. */
	ck_assert_int_lt(control_format(buf, sizeof(buf), CONTROL_HELLO, 4294967295u, TOK),
			 CONTROL_LINE_MAX);

	/* No job, bad tokens, a buffer too small: nothing usable comes out. */
	ck_assert_int_eq(control_format(buf, sizeof(buf), CONTROL_HELLO, 0, TOK), -1);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(control_format(buf, sizeof(buf), CONTROL_HELLO, 1, "abc"), -1);
	ck_assert_int_eq(control_format(buf, sizeof(buf), CONTROL_HELLO, 1, NULL), -1);
	ck_assert_int_eq(control_format(buf, sizeof(buf), CONTROL_HELLO, 1,
					TOK "\nBYE 1 " TOK), -1);
	ck_assert_int_eq(control_format(buf, 20, CONTROL_HELLO, 1, TOK), -1);
	ck_assert_str_eq(buf, "");
	/* exactly the line and its NUL */
	ck_assert_int_eq(control_format(buf, strlen("BYE 7 " TOK "\n") + 1, CONTROL_BYE, 7, TOK),
			 (int)strlen("BYE 7 " TOK "\n"));
	ck_assert_int_eq(control_format(buf, strlen("BYE 7 " TOK "\n"), CONTROL_BYE, 7, TOK), -1);
}
END_TEST

START_TEST(test_reply)
{
	char r[64];

	ck_assert_int_eq(control_parse_reply("OK", r, sizeof(r)), CONTROL_REPLY_OK);
	ck_assert_int_eq(control_parse_reply("OK\n", r, sizeof(r)), CONTROL_REPLY_OK);
	ck_assert_int_eq(control_parse_reply("OK\r\n", r, sizeof(r)), CONTROL_REPLY_OK);
	ck_assert_int_eq(control_parse_reply("OK bound to job 12\n", r, sizeof(r)),
			 CONTROL_REPLY_OK);
	ck_assert_int_eq(control_parse_reply("OK\nERR later\n", NULL, 0), CONTROL_REPLY_OK);

	ck_assert_int_eq(control_parse_reply("ERR bad token\n", r, sizeof(r)), CONTROL_REPLY_ERR);
	ck_assert_str_eq(r, "bad token");
	ck_assert_int_eq(control_parse_reply("ERR   spaced\r\n", r, sizeof(r)), CONTROL_REPLY_ERR);
	ck_assert_str_eq(r, "spaced");
	ck_assert_int_eq(control_parse_reply("ERR", r, sizeof(r)), CONTROL_REPLY_ERR);
	ck_assert_str_eq(r, "no reason given");
	ck_assert_int_eq(control_parse_reply("ERR \n", r, sizeof(r)), CONTROL_REPLY_ERR);
	ck_assert_str_eq(r, "no reason given");
	ck_assert_int_eq(control_parse_reply("ERR job\x1b[31m 5\n", r, sizeof(r)),
			 CONTROL_REPLY_ERR);
	ck_assert_str_eq(r, "job\\x1b[31m 5");
	/* the reason is cut to the buffer */
	ck_assert_int_eq(control_parse_reply("ERR 0123456789", r, 5), CONTROL_REPLY_ERR);
	ck_assert_str_eq(r, "0...");

	ck_assert_int_eq(control_parse_reply("", r, sizeof(r)), CONTROL_REPLY_BAD);
	ck_assert_str_eq(r, "an empty reply");
	ck_assert_int_eq(control_parse_reply("\n", r, sizeof(r)), CONTROL_REPLY_BAD);
	ck_assert_int_eq(control_parse_reply(NULL, r, sizeof(r)), CONTROL_REPLY_BAD);
	ck_assert_int_eq(control_parse_reply("OKAY\n", r, sizeof(r)), CONTROL_REPLY_BAD);
	ck_assert_str_eq(r, "OKAY");
	ck_assert_int_eq(control_parse_reply("ok\n", r, sizeof(r)), CONTROL_REPLY_BAD);
	ck_assert_int_eq(control_parse_reply("ERROR x\n", r, sizeof(r)), CONTROL_REPLY_BAD);
	ck_assert_int_eq(control_parse_reply(" OK\n", r, sizeof(r)), CONTROL_REPLY_BAD);
	ck_assert_int_eq(control_parse_reply("HTTP/1.1 400\n", r, sizeof(r)), CONTROL_REPLY_BAD);
	ck_assert_str_eq(r, "HTTP/1.1 400");
}
END_TEST

START_TEST(test_ready)
{
	char m[64];
	uint16_t port = 0, control = 99;

	ck_assert_int_eq(ready_parse("PORT 40001 CONTROL 40002\n", &port, &control, m, sizeof(m)),
			 READY_PORT);
	ck_assert_uint_eq(port, 40001);
	ck_assert_uint_eq(control, 40002);
	ck_assert_str_eq(m, "");

	/* the older line: no control port */
	control = 99;
	ck_assert_int_eq(ready_parse("PORT 5\n", &port, &control, m, sizeof(m)), READY_PORT);
	ck_assert_uint_eq(port, 5);
	ck_assert_uint_eq(control, 0);
	ck_assert_int_eq(ready_parse("PORT 65535", &port, &control, m, sizeof(m)), READY_PORT);
	ck_assert_uint_eq(port, 65535);

	/* pairs a later forwarder may add are skipped, in any place */
	ck_assert_int_eq(ready_parse("PORT 1 PID 77 CONTROL 2 X y\n", &port, &control,
				     m, sizeof(m)), READY_PORT);
	ck_assert_uint_eq(port, 1);
	ck_assert_uint_eq(control, 2);
	ck_assert_int_eq(ready_parse("PORT 1 CONTROL 2\r\n", &port, &control, m, sizeof(m)),
			 READY_PORT);

	ck_assert_int_eq(ready_parse("ERROR cannot bind 10.0.0.1: Address in use\n", &port,
				     &control, m, sizeof(m)), READY_ERROR);
	ck_assert_str_eq(m, "cannot bind 10.0.0.1: Address in use");
	ck_assert_int_eq(ready_parse("ERROR a\tb\n", &port, &control, m, sizeof(m)), READY_ERROR);
	ck_assert_str_eq(m, "a\\x09b");

	static const char *bad[] = {
		"", "\n", "PORT", "PORT \n", "PORT 0\n", "PORT 65536\n", "PORT -1\n",
		"PORT 12x\n", "PORT  12\n", "PORT 12 \n", "port 12\n", "PORT 1 CONTROL\n",
		"PORT 1 CONTROL 0\n", "PORT 1 CONTROL 70000\n", "PORT 1 CONTROL 2 CONTROL 3\n",
		"PORT 1 CONTROL  2\n", "PORT 1 CONTROL 2 X\n", "CONTROL 2 PORT 1\n",
		"ERROR\n", "READY 1\n", " PORT 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ready_parse(bad[i], &port, &control, m, sizeof(m)) == READY_BAD,
			      "accepted '%s'", bad[i]);
	ck_assert_int_eq(ready_parse("PORT x\n", &port, &control, m, sizeof(m)), READY_BAD);
	ck_assert_str_eq(m, "PORT x");
	ck_assert_int_eq(ready_parse(NULL, &port, &control, m, sizeof(m)), READY_BAD);
}
END_TEST

START_TEST(test_starter)
{
	ck_assert_str_eq(control_starter(0, "srun"), "srun");
	ck_assert_str_eq(control_starter(0, "srun.real"), "srun");
	ck_assert_str_eq(control_starter(0, NULL), "srun");
	ck_assert_str_eq(control_starter(1, "sbatch"), "sbatch");
	ck_assert_str_eq(control_starter(1, "salloc"), "salloc");
	ck_assert_str_eq(control_starter(1, "sbatch-wrapped"), "sbatch");
	ck_assert_str_eq(control_starter(1, ""), "sbatch");
	ck_assert_str_eq(control_starter(1, NULL), "sbatch");
}
END_TEST

Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("lines");
	tcase_add_test(tc, test_token_valid);
	tcase_add_test(tc, test_token_hex);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_reply);
	tcase_add_test(tc, test_ready);
	tcase_add_test(tc, test_starter);
	suite_add_tcase(s, tc);
	return s;
}
