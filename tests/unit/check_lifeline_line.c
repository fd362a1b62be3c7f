/* check_lifeline_line.c - the lines of the lifeline pipe
 * (forwarder/lifeline_line.c). */
#include <check.h>

#include "lifeline_line.h"

START_TEST(lifeline_lines)
{
	unsigned long id = 0;
	ck_assert_int_eq(lifeline_parse_line("JOB 4242", &id), 1);
	ck_assert_uint_eq(id, 4242);
	ck_assert_int_eq(lifeline_parse_line("JOB 4294967295", &id), 1);
	ck_assert_uint_eq(id, 4294967295UL);
	ck_assert_int_eq(lifeline_parse_line("", &id), 0);
	ck_assert_int_eq(lifeline_parse_line("STEP 3", &id), 0);
	ck_assert_int_eq(lifeline_parse_line("JOBS 3", &id), 0);
	ck_assert_int_eq(lifeline_parse_line("JOB", &id), -1);
	ck_assert_int_eq(lifeline_parse_line("JOB ", &id), -1);
	ck_assert_int_eq(lifeline_parse_line("JOB 0", &id), -1);
	ck_assert_int_eq(lifeline_parse_line("JOB 12 x", &id), -1);
	ck_assert_int_eq(lifeline_parse_line("JOB -3", &id), -1);
	ck_assert_int_eq(lifeline_parse_line("JOB 4294967296", &id), -1);
	ck_assert_uint_eq(id, 4294967295UL);
}
END_TEST

Suite *lifeline_line_suite(void)
{
	Suite *s = suite_create("lifeline_line");
	TCase *tc = tcase_create("lines");
	tcase_add_test(tc, lifeline_lines);
	suite_add_tcase(s, tc);
	return s;
}
