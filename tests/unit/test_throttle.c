/* test_throttle - the login failure policy with an injected clock: a
 * penalty blocks new checks (not just the answer), one pending check per
 * address, IPv6 counted per /64, expiry, a correct password answered no
 * sooner than a wrong one, the per-user cap, clean addresses unaffected. */
#include "unit.h"

#include "throttle.h"

static struct netaddr
A(const char *s)
{
	struct netaddr a;

	assert_int_equal(netaddr_parse(s, &a), 0);
	return a;
}

/* One whole failed check from addr at now; returns the answer time. */
static time_t
failed_check(struct throttle *t, const struct netaddr *addr, const char *user,
    time_t now)
{
	time_t at;

	assert_int_equal(throttle_admit(t, addr, user, now, NULL, NULL), THROTTLE_RUN);
	at = throttle_result(t, addr, user, 0, now);
	throttle_sent(t, addr);
	return at;
}

static void
test_throttle_delay_curve(void **state)
{
	(void)state;
	assert_int_equal(throttle_delay(0), 0);
	assert_int_equal(throttle_delay(1), 1);
	assert_int_equal(throttle_delay(2), 2);
	assert_int_equal(throttle_delay(3), 4);
	assert_int_equal(throttle_delay(4), 8);
	assert_int_equal(throttle_delay(5), THROTTLE_DELAY_MAX);
	assert_int_equal(throttle_delay(500), THROTTLE_DELAY_MAX);
	assert_int_equal(throttle_delay(~0u), THROTTLE_DELAY_MAX);
}

static void
test_throttle_penalty_blocks_checks(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a = A("192.0.2.7");
	time_t retry;

	(void)state;
	/* The failed answer is held 1 s ... */
	assert_int_equal(failed_check(&t, &a, "bob", 1000), 1001);
	/* ... and a reconnecting guesser gets no check before it is over. */
	assert_int_equal(throttle_admit(&t, &a, "bob", 1000, &retry, NULL),
	    THROTTLE_PENALTY);
	assert_int_equal(retry, 1001);
	assert_int_equal(throttle_admit(&t, &a, "alice", 1000, NULL, NULL),
	    THROTTLE_PENALTY);
	/* Then 2 s, 4 s, 8 s, 15 s, 15 s: the delays grow per address. */
	assert_int_equal(failed_check(&t, &a, "bob", 1001), 1003);
	assert_int_equal(throttle_admit(&t, &a, "bob", 1002, NULL, NULL),
	    THROTTLE_PENALTY);
	assert_int_equal(failed_check(&t, &a, "bob", 1003), 1007);
	assert_int_equal(failed_check(&t, &a, "bob", 1007), 1015);
	assert_int_equal(failed_check(&t, &a, "bob", 1015), 1030);
	assert_int_equal(throttle_admit(&t, &a, "bob", 1029, NULL, NULL),
	    THROTTLE_PENALTY);
	assert_int_equal(failed_check(&t, &a, "bob", 1030), 1045);
	assert_int_equal(throttle_addr_failures(&t, &a, 1045), 6);
	throttle_free(&t);
}

static void
test_throttle_one_pending_per_address(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a = A("192.0.2.8"), b = A("192.0.2.9");
	int i;

	(void)state;
	/* A clean address may have a few checks in flight (a NAT'd office
	 * polling at once), not more. */
	for (i = 0; i < THROTTLE_INFLIGHT_CLEAN; i++)
		assert_int_equal(throttle_admit(&t, &b, "bob", 10, NULL, NULL),
		    THROTTLE_RUN);
	assert_int_equal(throttle_admit(&t, &b, "bob", 10, NULL, NULL),
	    THROTTLE_BUSY);
	for (i = 0; i < THROTTLE_INFLIGHT_CLEAN; i++) {
		throttle_result(&t, &b, "bob", 1, 10);
		throttle_sent(&t, &b);
	}
	/* An address with a failure: one at a time. */
	failed_check(&t, &a, "bob", 10);
	assert_int_equal(throttle_admit(&t, &a, "bob", 11, NULL, NULL),
	    THROTTLE_RUN);
	/* A second connection while the first check runs: refused at once. */
	assert_int_equal(throttle_admit(&t, &a, "bob", 11, NULL, NULL),
	    THROTTLE_BUSY);
	assert_int_equal(throttle_admit(&t, &a, "carol", 11, NULL, NULL),
	    THROTTLE_BUSY);
	/* Another address is not concerned. */
	assert_int_equal(throttle_admit(&t, &b, "bob", 11, NULL, NULL),
	    THROTTLE_RUN);
	/* Still pending while the (delayed) answer waits. */
	assert_int_equal(throttle_result(&t, &a, "bob", 0, 11), 13);
	assert_int_equal(throttle_admit(&t, &a, "bob", 14, NULL, NULL),
	    THROTTLE_BUSY);
	throttle_sent(&t, &a);
	assert_int_equal(throttle_admit(&t, &a, "bob", 14, NULL, NULL),
	    THROTTLE_RUN);
	/* An answer that never comes does not lock the address out. */
	assert_int_equal(throttle_admit(&t, &a, "bob", 14 + THROTTLE_PENDING_MAX,
	    NULL, NULL), THROTTLE_BUSY);
	assert_int_equal(throttle_admit(&t, &a, "bob",
	    15 + THROTTLE_PENDING_MAX, NULL, NULL), THROTTLE_RUN);
	throttle_free(&t);
}

static void
test_throttle_penalised(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a = A("192.0.2.11"), b = A("192.0.2.12");

	(void)state;
	assert_false(throttle_penalised(&t, &a, 10));
	failed_check(&t, &a, "bob", 10);
	assert_true(throttle_penalised(&t, &a, 10));
	assert_false(throttle_penalised(&t, &b, 10));
	assert_false(throttle_penalised(&t, &a, 11));
	throttle_free(&t);
}

static void
test_throttle_refusals_counted(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a = A("192.0.2.10");
	unsigned n = 99;
	int i;

	(void)state;
	assert_int_equal(throttle_admit(&t, &a, "bob", 10, NULL, &n),
	    THROTTLE_RUN);
	assert_int_equal(n, 0);
	throttle_result(&t, &a, "bob", 0, 10);
	for (i = 1; i <= 5; i++) {
		assert_int_equal(throttle_admit(&t, &a, "bob", 10, NULL, &n),
		    THROTTLE_BUSY);
		assert_int_equal(n, (unsigned)i);
	}
	throttle_sent(&t, &a);
	assert_int_equal(throttle_admit(&t, &a, "bob", 10, NULL, &n),
	    THROTTLE_PENALTY);
	assert_int_equal(n, 6);
	/* The next check starts the count again. */
	assert_int_equal(throttle_admit(&t, &a, "bob", 11, NULL, &n),
	    THROTTLE_RUN);
	assert_int_equal(n, 0);
	throttle_free(&t);
}

static void
test_throttle_ipv6_per_64(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a = A("2001:db8:1:2::1"), b = A("2001:db8:1:2:ffff::9");
	struct netaddr c = A("2001:db8:1:3::1"), m = A("::ffff:192.0.2.1");
	struct netaddr v4 = A("192.0.2.1"), v4b = A("192.0.2.2");

	(void)state;
	failed_check(&t, &a, "bob", 100);
	/* The same /64 shares the penalty ... */
	assert_int_equal(throttle_admit(&t, &b, "bob", 100, NULL, NULL),
	    THROTTLE_PENALTY);
	assert_int_equal(throttle_addr_failures(&t, &b, 100), 1);
	/* ... the next /64 does not. */
	assert_int_equal(throttle_admit(&t, &c, "bob", 100, NULL, NULL), THROTTLE_RUN);
	/* IPv4 is counted per address; a mapped address is the IPv4 one. */
	failed_check(&t, &m, "bob", 100);
	assert_int_equal(throttle_admit(&t, &v4, "bob", 100, NULL, NULL),
	    THROTTLE_PENALTY);
	assert_int_equal(throttle_admit(&t, &v4b, "bob", 100, NULL, NULL),
	    THROTTLE_RUN);
	throttle_free(&t);
}

static void
test_throttle_expiry(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a = A("198.51.100.1");
	int i;
	time_t now = 5000;

	(void)state;
	for (i = 0; i < 6; i++)
		now = failed_check(&t, &a, "bob", now);
	assert_int_equal(throttle_addr_failures(&t, &a, now), 6);
	/* The penalty ends with its delay (the count stays) ... */
	assert_int_equal(throttle_admit(&t, &a, "bob", now, NULL, NULL), THROTTLE_RUN);
	throttle_sent(&t, &a);
	/* ... and after THROTTLE_FORGET quiet seconds the address is clean. */
	assert_int_equal(throttle_addr_failures(&t, &a,
	    now + THROTTLE_FORGET - 15), 6);
	assert_int_equal(throttle_addr_failures(&t, &a,
	    now + THROTTLE_FORGET), 0);
	now += THROTTLE_FORGET;
	assert_int_equal(throttle_admit(&t, &a, "bob", now, NULL, NULL), THROTTLE_RUN);
	assert_int_equal(throttle_result(&t, &a, "bob", 0, now), now + 1);
	throttle_free(&t);
}

static void
test_throttle_correct_password_timing(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a = A("203.0.113.1"), b = A("203.0.113.2");
	struct netaddr clean = A("203.0.113.3");
	time_t now;

	(void)state;
	/* Two failures from a and from b, in step. */
	now = failed_check(&t, &a, "bob", 100);
	assert_int_equal(failed_check(&t, &b, "bob", 100), now);
	now = failed_check(&t, &a, "bob", now);
	assert_int_equal(failed_check(&t, &b, "bob", 101), now);
	assert_int_equal(now, 103);
	/* The third try: right at a, wrong at b, at the same moment: both
	 * answers go out at the same time. */
	assert_int_equal(throttle_admit(&t, &a, "bob", now, NULL, NULL), THROTTLE_RUN);
	assert_int_equal(throttle_admit(&t, &b, "bob", now, NULL, NULL), THROTTLE_RUN);
	assert_int_equal(throttle_result(&t, &a, "bob", 1, now), now + 4);
	assert_int_equal(throttle_result(&t, &b, "bob", 0, now), now + 4);
	throttle_sent(&t, &a);
	throttle_sent(&t, &b);
	/* The success cleared a: the next login there is not slowed. */
	assert_int_equal(throttle_addr_failures(&t, &a, now + 4), 0);
	assert_int_equal(throttle_admit(&t, &a, "bob", now + 4, NULL, NULL),
	    THROTTLE_RUN);
	assert_int_equal(throttle_result(&t, &a, "bob", 1, now + 4), now + 4);
	throttle_sent(&t, &a);
	/* A clean address is answered at once, whatever others did. */
	assert_int_equal(throttle_admit(&t, &clean, "bob", now, NULL, NULL),
	    THROTTLE_RUN);
	assert_int_equal(throttle_result(&t, &clean, "bob", 1, now), now);
	throttle_free(&t);
}

static void
test_throttle_user_cap(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a[THROTTLE_USER_CAP + 2];
	struct netaddr clean = A("10.9.9.9");
	char ip[32];
	time_t retry, now = 1000;
	int i;

	(void)state;
	for (i = 0; i < THROTTLE_USER_CAP + 2; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		a[i] = A(ip);
	}
	/* A distributed guesser: one failure from each of CAP addresses. */
	for (i = 0; i < THROTTLE_USER_CAP; i++)
		failed_check(&t, &a[i], "bob", now);
	assert_int_equal(throttle_user_failures(&t, "bob", now),
	    THROTTLE_USER_CAP);
	/* Their penalties are over, but bob's cap holds them back until the
	 * window ends ... */
	now += 2;
	assert_int_equal(throttle_admit(&t, &a[0], "bob", now, &retry, NULL),
	    THROTTLE_USER_LIMIT);
	assert_int_equal(retry, 1000 + THROTTLE_USER_WINDOW);
	/* ... for bob only ... */
	assert_int_equal(throttle_admit(&t, &a[1], "carol", now, NULL, NULL),
	    THROTTLE_RUN);
	/* ... and never from a clean address: bob is not locked out. */
	assert_int_equal(throttle_admit(&t, &clean, "bob", now, NULL, NULL),
	    THROTTLE_RUN);
	assert_int_equal(throttle_result(&t, &clean, "bob", 1, now), now);
	throttle_sent(&t, &clean);
	/* A fresh address still gets its one check (it counts too). */
	failed_check(&t, &a[THROTTLE_USER_CAP], "bob", now);
	assert_int_equal(throttle_user_failures(&t, "bob", now),
	    THROTTLE_USER_CAP + 1);
	/* The next window lets the failed addresses try again. */
	now = 1000 + THROTTLE_USER_WINDOW;
	assert_int_equal(throttle_user_failures(&t, "bob", now), 0);
	assert_int_equal(throttle_admit(&t, &a[0], "bob", now, NULL, NULL),
	    THROTTLE_RUN);
	throttle_free(&t);
}

static void
test_throttle_clean_address_unaffected(void **state)
{
	struct throttle t = { 0 };
	struct netaddr bad = A("192.0.2.66"), good = A("192.0.2.67");
	time_t now = 100;
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		now = failed_check(&t, &bad, "bob", now);
	assert_int_equal(throttle_addr_failures(&t, &good, now), 0);
	assert_int_equal(throttle_admit(&t, &good, "bob", now, NULL, NULL),
	    THROTTLE_RUN);
	assert_int_equal(throttle_result(&t, &good, "bob", 1, now), now);
	throttle_sent(&t, &good);
	/* Even its own first failure is the short one. */
	assert_int_equal(throttle_admit(&t, &good, "carol", now, NULL, NULL),
	    THROTTLE_RUN);
	assert_int_equal(throttle_result(&t, &good, "carol", 0, now), now + 1);
	throttle_free(&t);
}

static void
test_throttle_bounded(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a = A("10.0.0.0"), first = A("10.0.0.0");
	char user[THROTTLE_USER_MAX + 40];
	size_t i;

	(void)state;
	for (i = 0; i < THROTTLE_SLOTS + 10; i++) {
		a.a[1] = (uint8_t)(i >> 16);
		a.a[2] = (uint8_t)(i >> 8);
		a.a[3] = (uint8_t)i;
		snprintf(user, sizeof(user), "u%zu", i);
		failed_check(&t, &a, user, (time_t)(1000 + i));
	}
	assert_int_equal(t.naddrs, THROTTLE_SLOTS);
	assert_int_equal(t.nusers, THROTTLE_SLOTS);
	/* The quietest address was forgotten first. */
	assert_int_equal(throttle_addr_failures(&t, &first, 1000 + i), 0);
	/* A long user name is kept truncated, never overflowing. */
	memset(user, 'x', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	failed_check(&t, &first, user, 99999);
	assert_int_equal(throttle_user_failures(&t, user, 99999), 1);
	throttle_free(&t);
}

/* The failure-delay schedule at its edges: the penalty ends exactly at
 * its answer time, a right password waits the next step (capped), a
 * success starts the schedule again, and the count saturates. */
static void
test_throttle_delay_boundaries(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a = A("192.0.2.20");
	time_t retry, now = 100;
	unsigned n;
	int i;

	(void)state;
	/* The penalty ends at the answer time, not a second later. */
	now = failed_check(&t, &a, "bob", now);
	now = failed_check(&t, &a, "bob", now);
	assert_int_equal(now, 103);
	assert_int_equal(throttle_admit(&t, &a, "bob", now - 1, &retry, NULL),
	    THROTTLE_PENALTY);
	assert_int_equal(retry, now);
	assert_true(throttle_penalised(&t, &a, now - 1));
	assert_false(throttle_penalised(&t, &a, now));
	/* A right password after 2 failures waits as the 3rd failure would
	 * (4 s), and clears the address: the next failure is 1 s again. */
	assert_int_equal(throttle_admit(&t, &a, "bob", now, NULL, NULL),
	    THROTTLE_RUN);
	assert_int_equal(throttle_result(&t, &a, "bob", 1, now), now + 4);
	throttle_sent(&t, &a);
	assert_int_equal(throttle_addr_failures(&t, &a, now), 0);
	now += 4;
	assert_int_equal(failed_check(&t, &a, "carol", now), now + 1);
	now += 1;
	/* After 4 failures the next step is the cap: right or wrong, 15 s. */
	for (i = 0; i < 3; i++)
		now = failed_check(&t, &a, "carol", now);
	assert_int_equal(throttle_addr_failures(&t, &a, now), 4);
	assert_int_equal(throttle_admit(&t, &a, "carol", now, NULL, NULL),
	    THROTTLE_RUN);
	assert_int_equal(throttle_result(&t, &a, "carol", 1, now),
	    now + THROTTLE_DELAY_MAX);
	throttle_sent(&t, &a);
	now += THROTTLE_DELAY_MAX;
	/* The count saturates at 1000 and the delay stays at the cap. */
	for (i = 0; i < 1005; i++)
		now = failed_check(&t, &a, "dave", now);
	n = throttle_addr_failures(&t, &a, now);
	assert_int_equal(n, 1000);
	assert_int_equal(failed_check(&t, &a, "dave", now),
	    now + THROTTLE_DELAY_MAX);
	throttle_free(&t);
}

/* The per-user count at its edges: the cap bites at the CAP-th failure,
 * not before; the window is fixed (it starts at the first failure and
 * lasts THROTTLE_USER_WINDOW seconds, its last second included); names
 * are compared on their first THROTTLE_USER_MAX bytes; a full table
 * forgets the user whose window is oldest. */
static void
test_throttle_user_boundaries(void **state)
{
	struct throttle t = { 0 };
	struct netaddr a[THROTTLE_USER_CAP + 1], x;
	char ip[32], longa[THROTTLE_USER_MAX + 2], longb[THROTTLE_USER_MAX + 2];
	char shorter[THROTTLE_USER_MAX], user[32];
	time_t retry, w = 2000, now;
	size_t k;
	int i;

	(void)state;
	for (i = 0; i <= THROTTLE_USER_CAP; i++) {
		snprintf(ip, sizeof(ip), "10.1.0.%d", i + 1);
		a[i] = A(ip);
	}
	/* CAP - 1 failures: a failed address may still try bob ... */
	for (i = 0; i < THROTTLE_USER_CAP - 1; i++)
		failed_check(&t, &a[i], "bob", w + i);
	now = w + THROTTLE_USER_CAP + 1;	/* every penalty (1 s) over */
	assert_int_equal(throttle_user_failures(&t, "bob", now),
	    THROTTLE_USER_CAP - 1);
	assert_int_equal(throttle_admit(&t, &a[0], "bob", now, NULL, NULL),
	    THROTTLE_RUN);
	/* ... and that check is the CAP-th failure: now the cap holds. */
	throttle_result(&t, &a[0], "bob", 0, now);
	throttle_sent(&t, &a[0]);
	assert_int_equal(throttle_user_failures(&t, "bob", now),
	    THROTTLE_USER_CAP);
	assert_int_equal(throttle_admit(&t, &a[1], "bob", now, &retry, NULL),
	    THROTTLE_USER_LIMIT);
	assert_int_equal(retry, w + THROTTLE_USER_WINDOW);
	/* The window's last second still counts; the next one does not. */
	now = w + THROTTLE_USER_WINDOW - 1;
	assert_int_equal(throttle_user_failures(&t, "bob", now),
	    THROTTLE_USER_CAP);
	assert_int_equal(throttle_admit(&t, &a[1], "bob", now, NULL, NULL),
	    THROTTLE_USER_LIMIT);
	now = w + THROTTLE_USER_WINDOW;
	assert_int_equal(throttle_user_failures(&t, "bob", now), 0);
	/* A failure then starts a new window, counted from 1. */
	failed_check(&t, &a[1], "bob", now);
	assert_int_equal(throttle_user_failures(&t, "bob", now), 1);
	assert_int_equal(throttle_user_failures(&t, "bob",
	    now + THROTTLE_USER_WINDOW - 1), 1);
	assert_int_equal(throttle_user_failures(&t, "bob",
	    now + THROTTLE_USER_WINDOW), 0);

	/* Names longer than THROTTLE_USER_MAX share their prefix's count;
	 * a shorter prefix is another user. */
	memset(longa, 'x', THROTTLE_USER_MAX);
	memcpy(longb, longa, THROTTLE_USER_MAX);
	longa[THROTTLE_USER_MAX] = 'a';
	longb[THROTTLE_USER_MAX] = 'b';
	longa[THROTTLE_USER_MAX + 1] = longb[THROTTLE_USER_MAX + 1] = '\0';
	memset(shorter, 'x', sizeof(shorter) - 1);
	shorter[sizeof(shorter) - 1] = '\0';
	now = 5000;
	failed_check(&t, &a[2], longa, now);
	failed_check(&t, &a[3], longb, now);
	assert_int_equal(throttle_user_failures(&t, longa, now), 2);
	assert_int_equal(throttle_user_failures(&t, shorter, now), 0);
	throttle_free(&t);

	/* A full user table forgets the oldest window first: fill it at one
	 * moment, then one more user takes the first slot's place. */
	now = 9000;
	x = A("10.2.0.0");
	for (k = 0; k <= THROTTLE_SLOTS; k++) {
		x.a[2] = (uint8_t)(k >> 8);
		x.a[3] = (uint8_t)k;
		snprintf(user, sizeof(user), "u%zu", k);
		failed_check(&t, &x, user, now);
	}
	assert_int_equal(t.nusers, THROTTLE_SLOTS);
	assert_int_equal(throttle_user_failures(&t, "u0", now), 0);
	assert_int_equal(throttle_user_failures(&t, "u1", now), 1);
	snprintf(user, sizeof(user), "u%d", THROTTLE_SLOTS);
	assert_int_equal(throttle_user_failures(&t, user, now), 1);
	throttle_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle_delay_curve),
		cmocka_unit_test(test_throttle_penalty_blocks_checks),
		cmocka_unit_test(test_throttle_one_pending_per_address),
		cmocka_unit_test(test_throttle_refusals_counted),
		cmocka_unit_test(test_throttle_penalised),
		cmocka_unit_test(test_throttle_ipv6_per_64),
		cmocka_unit_test(test_throttle_expiry),
		cmocka_unit_test(test_throttle_correct_password_timing),
		cmocka_unit_test(test_throttle_user_cap),
		cmocka_unit_test(test_throttle_clean_address_unaffected),
		cmocka_unit_test(test_throttle_bounded),
		cmocka_unit_test(test_throttle_delay_boundaries),
		cmocka_unit_test(test_throttle_user_boundaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
