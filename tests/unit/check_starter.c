/* check_starter.c - the --starter value the plugin picks (spank/starter.c). */
#include <check.h>

#include "starter.h"

START_TEST(test_starter)
{
	ck_assert_str_eq(starter_for(0, "srun"), "srun");
	ck_assert_str_eq(starter_for(0, "srun.real"), "srun");
	ck_assert_str_eq(starter_for(0, NULL), "srun");
	ck_assert_str_eq(starter_for(1, "sbatch"), "sbatch");
	ck_assert_str_eq(starter_for(1, "salloc"), "salloc");
	ck_assert_str_eq(starter_for(1, "sbatch-wrapped"), "sbatch");
	ck_assert_str_eq(starter_for(1, ""), "sbatch");
	ck_assert_str_eq(starter_for(1, NULL), "sbatch");
}
END_TEST

Suite *starter_suite(void)
{
	Suite *s = suite_create("starter");
	TCase *tc = tcase_create("starter");
	tcase_add_test(tc, test_starter);
	suite_add_tcase(s, tc);
	return s;
}
