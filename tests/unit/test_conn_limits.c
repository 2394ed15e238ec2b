/* test_conn_limits - the connection layer's pure parts: counting
 * sessions for a newcomer, which limit turns it away, which session is evicted, and the
 * session clock. */
#include "unit.h"
#include "conn.h"

static struct conn_snapshot
snap(const char *ip, int kind, int local, int evictable, time_t active)
{
	struct conn_snapshot s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(netaddr_parse(ip, &s.client), 0);
	s.kind = kind;
	s.local = local;
	s.evictable = evictable;
	s.active = active;
	return s;
}

static void
test_count(void **state)
{
	struct conn_snapshot v[5];
	struct conn_count n;
	struct netaddr a;

	(void)state;
	v[0] = snap("192.0.2.1", 1, 0, 0, 0);
	v[1] = snap("192.0.2.1", 2, 0, 0, 0);
	v[2] = snap("192.0.2.2", 1, 0, 0, 0);
	v[3] = snap("127.0.0.1", 1, 1, 0, 0);	/* local: not on the kind's count */
	v[4] = snap("192.0.2.1", 1, 0, 0, 0);
	assert_int_equal(netaddr_parse("192.0.2.1", &a), 0);
	conn_count(v, 5, &a, 1, &n);
	assert_int_equal(n.total, 5);
	assert_int_equal(n.client, 3);
	assert_int_equal(n.kind, 3);
	conn_count(v, 0, &a, 1, &n);
	assert_int_equal(n.total + n.client + n.kind, 0);
	assert_int_equal(netaddr_parse("127.0.0.1", &a), 0);
	conn_count(v, 5, &a, 2, &n);
	assert_int_equal(n.client, 1);		/* local ones count per client */
	assert_int_equal(n.kind, 1);
}

static void
test_limit_check(void **state)
{
	struct conn_limits l = { 10, 3, 5, 1 };
	struct conn_count n;
	unsigned cnt = 0, max = 0;

	(void)state;
	n.client = 2; n.kind = 4; n.total = 9;
	assert_int_equal(conn_limit_check(&n, &l, 0, &cnt, &max), CONN_LIMIT_NONE);
	n.client = 3;
	assert_int_equal(conn_limit_check(&n, &l, 0, &cnt, &max),
	    CONN_LIMIT_PER_CLIENT);
	assert_int_equal(cnt, 3);
	assert_int_equal(max, 3);
	/* per client comes first, even with every limit hit */
	n.kind = 5; n.total = 10;
	assert_int_equal(conn_limit_check(&n, &l, 0, &cnt, &max),
	    CONN_LIMIT_PER_CLIENT);
	n.client = 0;
	assert_int_equal(conn_limit_check(&n, &l, 0, &cnt, &max), CONN_LIMIT_KIND);
	assert_int_equal(cnt, 5);
	assert_int_equal(max, 5);
	/* local_networks: exempt per client and per kind, not from the total */
	n.client = 7;
	assert_int_equal(conn_limit_check(&n, &l, 1, &cnt, &max), CONN_LIMIT_TOTAL);
	assert_int_equal(cnt, 10);
	assert_int_equal(max, 10);
	n.total = 9;
	assert_int_equal(conn_limit_check(&n, &l, 1, &cnt, &max), CONN_LIMIT_NONE);
	/* a listener kind without a limit of its own */
	l.kind_limited = 0;
	n.client = 0; n.kind = 1000;
	assert_int_equal(conn_limit_check(&n, &l, 0, &cnt, &max), CONN_LIMIT_NONE);
	n.total = 10;
	assert_int_equal(conn_limit_check(&n, &l, 0, &cnt, &max), CONN_LIMIT_TOTAL);
}

static void
test_idlest(void **state)
{
	struct conn_snapshot v[4];

	(void)state;
	assert_int_equal(conn_idlest(NULL, 0), -1);
	v[0] = snap("192.0.2.1", 0, 0, 0, 100);	/* idlest, but not evictable */
	v[1] = snap("192.0.2.2", 0, 0, 1, 300);
	v[2] = snap("192.0.2.3", 0, 0, 1, 200);
	v[3] = snap("192.0.2.4", 0, 0, 1, 400);
	assert_int_equal(conn_idlest(v, 4), 2);
	v[2].evictable = 0;
	assert_int_equal(conn_idlest(v, 4), 1);
	v[1].evictable = v[3].evictable = 0;
	assert_int_equal(conn_idlest(v, 4), -1);
	/* a tie goes to the first */
	v[1] = snap("192.0.2.2", 0, 0, 1, 50);
	v[3] = snap("192.0.2.4", 0, 0, 1, 50);
	assert_int_equal(conn_idlest(v, 4), 1);
}

static void
test_clock(void **state)
{
	(void)state;
	/* plenty of session time left: the state's own clock */
	assert_int_equal(conn_clock(300, 1000000, 3600, 1000000, 0), 300000);
	assert_int_equal(conn_clock(300, 1000000, 3600, 4000000, 0), 300000);
	/* cut short by what is left of max_session_time */
	assert_int_equal(conn_clock(300, 1000000, 3600, 4500000, 0), 100000);
	assert_int_equal(conn_clock(300, 1000000, 3600, 4599000, 1), 1000);
	/* over: now, or a second while we wait ourselves */
	assert_int_equal(conn_clock(300, 1000000, 3600, 4600000, 0), 0);
	assert_int_equal(conn_clock(300, 1000000, 3600, 9999000, 0), 0);
	assert_int_equal(conn_clock(300, 1000000, 3600, 4600000, 1), 1000);
	assert_int_equal(conn_clock(300, 1000000, 3600, 9999000, 1), 1000);
	/* a zero idle clock stays zero */
	assert_int_equal(conn_clock(0, 1000000, 3600, 1000000, 1), 0);
	/* milliseconds: 300 ms into the last second leaves 700, not 1000 */
	assert_int_equal(conn_clock(300, 1000000, 3600, 4599300, 0), 700);
	assert_int_equal(conn_clock(300, 1000250, 3600, 4600000, 0), 250);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_limit_check),
		cmocka_unit_test(test_idlest),
		cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
