/* main.c - runs every check suite found in tests/unit/check_*.c (the Makefile
 * collects their `Suite *NAME_suite(void)` lines into suites.inc) and prints
 * the plain "N passed, N failed" summary.  Exit status 1 on any failure. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define SUITE(f) Suite *f(void);
#include "suites.inc"
#undef SUITE

int main(void)
{
	SRunner *sr = srunner_create(NULL);
#define SUITE(f) srunner_add_suite(sr, f());
#include "suites.inc"
#undef SUITE
	srunner_run_all(sr, CK_NORMAL);
	int run = srunner_ntests_run(sr);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	printf("%d passed, %d failed\n", run - failed, failed);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
