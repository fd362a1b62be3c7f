/* check_service.c - which route a client gets (forwarder/service.c), the
 * service lists setup.c and the listener hand over, and the rate limit of
 * the ports' log lines (forwarder/ratelog.c). */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "ratelog.h"
#include "service.h"

static struct sockaddr_in v4(const char *addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	return sin;
}

static struct src_match net(const char *cidr, uint16_t lo, uint16_t hi)
{
	struct src_match m = { .port_lo = lo, .port_hi = hi };
	char err[128];
	ck_assert_int_eq(cidr_parse(cidr, &m.net, err, sizeof err), 0);
	return m;
}

START_TEST(first_matching_route)
{
	struct src_match r0[] = { net("10.0.0.0/24", 0, 0) };
	struct src_match r1[] = { net("192.168.1.5", 1000, 2000), net("172.16.0.0/12", 0, 0) };
	struct route routes[3] = {
		{ .from = r0, .nfrom = 1 },
		{ .from = r1, .nfrom = 2 },
		{ .nfrom = 0 },                       /* any source */
	};
	struct service svc = { .routes = routes, .nroutes = 2 };
	struct sockaddr_in a;

	a = v4("10.0.0.7", 5);
	ck_assert_ptr_eq(service_route_for(&svc, (struct sockaddr *)&a), &routes[0]);
	a = v4("192.168.1.5", 1000);
	ck_assert_ptr_eq(service_route_for(&svc, (struct sockaddr *)&a), &routes[1]);
	a = v4("192.168.1.5", 2000);
	ck_assert_ptr_eq(service_route_for(&svc, (struct sockaddr *)&a), &routes[1]);
	a = v4("192.168.1.5", 2001);          /* source port outside the range */
	ck_assert_ptr_null(service_route_for(&svc, (struct sockaddr *)&a));
	a = v4("172.31.255.255", 9);
	ck_assert_ptr_eq(service_route_for(&svc, (struct sockaddr *)&a), &routes[1]);
	a = v4("10.0.1.7", 5);                /* no rule for this source */
	ck_assert_ptr_null(service_route_for(&svc, (struct sockaddr *)&a));
	svc.nroutes = 3;                      /* ... until a route for any source */
	ck_assert_ptr_eq(service_route_for(&svc, (struct sockaddr *)&a), &routes[2]);

	/* a "from" of any host with a port range */
	struct src_match anyhost = { .any_host = 1, .port_lo = 7, .port_hi = 7 };
	struct route only7 = { .from = &anyhost, .nfrom = 1 };
	struct service svc7 = { .routes = &only7, .nroutes = 1 };
	a = v4("10.9.9.9", 7);
	ck_assert_ptr_eq(service_route_for(&svc7, (struct sockaddr *)&a), &only7);
	a = v4("10.9.9.9", 8);
	ck_assert_ptr_null(service_route_for(&svc7, (struct sockaddr *)&a));
}
END_TEST

START_TEST(lists_move_whole)
{
	struct service_list a = { 0 }, b = { 0 };
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(service_list_add(&a, calloc(1, sizeof(struct service))), 0);
	struct service *first = a.v[0];
	ck_assert_int_eq(service_list_add(&b, calloc(1, sizeof(struct service))), 0);
	ck_assert_int_eq(service_list_move(&b, &a), 0);
	ck_assert_uint_eq(b.n, 4);
	ck_assert_ptr_eq(b.v[1], first);
	ck_assert_uint_eq(a.n, 0);
	ck_assert_ptr_null(a.v);
	ck_assert_int_eq(service_list_move(&b, &a), 0);   /* nothing to move */
	ck_assert_uint_eq(b.n, 4);
	service_list_free(&b);
	ck_assert_uint_eq(b.n, 0);
	service_list_free(&a);
}
END_TEST

START_TEST(rate_limit)
{
	struct ratelog r = { .prefix = "", .dropped = "more", .per_s = 3 };
	uint64_t report;
	int logged = 0;
	for (int i = 0; i < 10; i++) {
		logged += ratelog_admit(&r, 100, &report);
		ck_assert_uint_eq(report, 0);
	}
	ck_assert_int_eq(logged, 3);
	/* the next second: the 7 not logged are reported once, and lines flow again */
	ck_assert_int_eq(ratelog_admit(&r, 101, &report), 1);
	ck_assert_uint_eq(report, 7);
	ck_assert_int_eq(ratelog_admit(&r, 101, &report), 1);
	ck_assert_uint_eq(report, 0);
	ck_assert_int_eq(ratelog_admit(&r, 105, &report), 1);
	ck_assert_uint_eq(report, 0);
}
END_TEST

Suite *service_suite(void)
{
	Suite *s = suite_create("service");
	TCase *tc = tcase_create("service");
	tcase_add_test(tc, first_matching_route);
	tcase_add_test(tc, lists_move_whole);
	tcase_add_test(tc, rate_limit);
	suite_add_tcase(s, tc);
	return s;
}
