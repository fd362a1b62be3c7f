/* check_logkeep.c - the per-forwarder log retention rule (logkeep.h). */
#include <check.h>
#include <stdlib.h>

#include "logkeep.h"

#define NOW 1800000000L
#define H 3600L
#define D 86400L

static size_t count(const struct logkeep_item *it, size_t n, long pid, enum logkeep_verdict v)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if ((pid == 0 || it[i].pid == pid) && it[i].verdict == v)
			c++;
	return c;
}

START_TEST(test_empty_and_few)
{
	struct logkeep_item it[3] = {
		{ .pid = 1, .mtime = NOW - 2 * H },
		{ .pid = 2, .mtime = NOW - 10 },
		{ .pid = 3, .mtime = NOW - 6 * D },
	};
	ck_assert_uint_eq(logkeep_decide(NULL, 0, NOW), 0);
	ck_assert_uint_eq(logkeep_decide(it, 3, NOW), 0);
	ck_assert_uint_eq(count(it, 3, 0, LOGKEEP_KEEP), 3);
}
END_TEST

START_TEST(test_too_old)
{
	struct logkeep_item it[3] = {
		{ .pid = 1, .mtime = NOW - 7 * D - 1 },
		{ .pid = 2, .mtime = NOW - 7 * D },
		{ .pid = 3, .mtime = NOW - 30 * D, .live = 1 },
	};
	ck_assert_uint_eq(logkeep_decide(it, 3, NOW), 1);
	ck_assert_uint_eq(count(it, 3, 1, LOGKEEP_REMOVE), 1);
	ck_assert_uint_eq(count(it, 3, 2, LOGKEEP_KEEP), 1);
	ck_assert_uint_eq(count(it, 3, 3, LOGKEEP_KEEP), 1);   /* live: kept whatever its age */
}
END_TEST

/* 80 ended logs, one per hour before now-2h: the 50 newest stay. */
START_TEST(test_count)
{
	struct logkeep_item it[80];
	for (int i = 0; i < 80; i++)
		it[i] = (struct logkeep_item){ .pid = 100 + i, .mtime = NOW - 2 * H - (long)(79 - i) * H };
	ck_assert_uint_eq(logkeep_decide(it, 80, NOW), 30);
	for (int i = 0; i < 80; i++) {
		long pid = 100 + i;
		ck_assert_uint_eq(count(it, 80, pid, i >= 30 ? LOGKEEP_KEEP : LOGKEEP_REMOVE), 1);
	}
}
END_TEST

/* Young logs count towards the 50 but are never removed; live logs do not
 * count. */
START_TEST(test_young_and_live)
{
	struct logkeep_item it[120];
	size_t n = 0;
	for (int i = 0; i < 60; i++)        /* ended less than an hour ago */
		it[n++] = (struct logkeep_item){ .pid = 1000 + i, .mtime = NOW - 60 - i };
	for (int i = 0; i < 20; i++)        /* live, old */
		it[n++] = (struct logkeep_item){ .pid = 2000 + i, .mtime = NOW - 3 * D, .live = 1 };
	for (int i = 0; i < 10; i++)        /* ended, two hours */
		it[n++] = (struct logkeep_item){ .pid = 3000 + i, .mtime = NOW - 2 * H };
	ck_assert_uint_eq(logkeep_decide(it, n, NOW), 10);
	for (int i = 0; i < 60; i++)
		ck_assert_uint_eq(count(it, n, 1000 + i, LOGKEEP_KEEP), 1);
	for (int i = 0; i < 20; i++)
		ck_assert_uint_eq(count(it, n, 2000 + i, LOGKEEP_KEEP), 1);
	for (int i = 0; i < 10; i++)
		ck_assert_uint_eq(count(it, n, 3000 + i, LOGKEEP_REMOVE), 1);
}
END_TEST

/* Equal times: the order is by pid, so the outcome does not depend on the
 * order readdir gave. */
START_TEST(test_ties)
{
	struct logkeep_item a[52], b[52];
	for (int i = 0; i < 52; i++) {
		a[i] = (struct logkeep_item){ .pid = 10 + i, .mtime = NOW - 5 * H };
		b[51 - i] = a[i];
	}
	ck_assert_uint_eq(logkeep_decide(a, 52, NOW), 2);
	ck_assert_uint_eq(logkeep_decide(b, 52, NOW), 2);
	ck_assert_uint_eq(count(a, 52, 10, LOGKEEP_REMOVE), 1);
	ck_assert_uint_eq(count(a, 52, 11, LOGKEEP_REMOVE), 1);
	ck_assert_uint_eq(count(b, 52, 10, LOGKEEP_REMOVE), 1);
	ck_assert_uint_eq(count(b, 52, 11, LOGKEEP_REMOVE), 1);
}
END_TEST

/* A clock that went back (mtime in the future) counts as young. */
START_TEST(test_future)
{
	struct logkeep_item it[1] = { { .pid = 5, .mtime = NOW + 10 * D } };
	ck_assert_uint_eq(logkeep_decide(it, 1, NOW), 0);
}
END_TEST

Suite *logkeep_suite(void)
{
	Suite *s = suite_create("logkeep");
	TCase *tc = tcase_create("decide");
	tcase_add_test(tc, test_empty_and_few);
	tcase_add_test(tc, test_too_old);
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_young_and_live);
	tcase_add_test(tc, test_ties);
	tcase_add_test(tc, test_future);
	suite_add_tcase(s, tc);
	return s;
}
