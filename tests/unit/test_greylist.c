/* test_greylist - greylisting decisions over a clock the test turns. */
#include "unit.h"
#include "greylist.h"

#define T0	((int64_t)1796300000)

static struct netaddr
ip(const char *s)
{
	struct netaddr a;

	assert_int_equal(netaddr_parse(s, &a), 0);
	return a;
}

static void
test_triplet(void **state)
{
	struct greylist g;
	struct netaddr a = ip("192.0.2.7");
	uint64_t k = greylist_key(&a, "s@example.org", "u@example.com");

	(void)state;
	greylist_init(&g, 300, 4 * 3600, 36 * 86400);
	assert_int_equal(greylist_check(&g, k, T0), GREYLIST_NEW);
	assert_int_equal(greylist_check(&g, k, T0 + 10), GREYLIST_EARLY);
	assert_int_equal(greylist_check(&g, k, T0 + 299), GREYLIST_EARLY);
	assert_int_equal(greylist_check(&g, k, T0 + 300), GREYLIST_PASS);
	/* Remembered: later mail of the triplet passes at once. */
	assert_int_equal(greylist_check(&g, k, T0 + 86400), GREYLIST_PASS);
	assert_int_equal(greylist_check(&g, k, T0 + 30 * 86400), GREYLIST_PASS);
	/* Not seen for longer than expire: it starts over. */
	assert_int_equal(greylist_check(&g, k, T0 + 70 * 86400), GREYLIST_NEW);
	greylist_free(&g);
}

static void
test_window(void **state)
{
	struct greylist g;
	struct netaddr a = ip("192.0.2.7");
	uint64_t k = greylist_key(&a, "", "u@example.com");

	(void)state;
	greylist_init(&g, 300, 3600, 36 * 86400);
	assert_int_equal(greylist_check(&g, k, T0), GREYLIST_NEW);
	/* The retry came too late: a new first sight. */
	assert_int_equal(greylist_check(&g, k, T0 + 3601), GREYLIST_NEW);
	assert_int_equal(greylist_check(&g, k, T0 + 3700), GREYLIST_EARLY);
	assert_int_equal(greylist_check(&g, k, T0 + 3901), GREYLIST_PASS);
	greylist_free(&g);
}

static void
test_keys(void **state)
{
	struct netaddr a = ip("192.0.2.7"), b = ip("192.0.2.200"),
	    c = ip("192.0.3.7"), m = ip("::ffff:192.0.2.9"),
	    v6a = ip("2001:db8:1:2::1"), v6b = ip("2001:db8:1:2:ffff::9"),
	    v6c = ip("2001:db8:1:3::1");

	(void)state;
	/* The /24 and the /64 are one client; case does not matter. */
	assert_true(greylist_key(&a, "s@x", "u@y") ==
	    greylist_key(&b, "S@X", "U@Y"));
	assert_true(greylist_key(&a, "s@x", "u@y") ==
	    greylist_key(&m, "s@x", "u@y"));
	assert_true(greylist_key(&a, "s@x", "u@y") !=
	    greylist_key(&c, "s@x", "u@y"));
	assert_true(greylist_key(&v6a, "s@x", "u@y") ==
	    greylist_key(&v6b, "s@x", "u@y"));
	assert_true(greylist_key(&v6a, "s@x", "u@y") !=
	    greylist_key(&v6c, "s@x", "u@y"));
	/* The fields do not run into each other. */
	assert_true(greylist_key(&a, "ab", "c") != greylist_key(&a, "a", "bc"));
	assert_true(greylist_key(&a, "s@x", "u@y") !=
	    greylist_key(&a, "s@x", "v@y"));
}

static void
test_state_text(void **state)
{
	struct greylist g, h;
	struct buf b;
	struct netaddr a = ip("192.0.2.7");
	uint64_t k1 = greylist_key(&a, "s@x", "u@y"),
	    k2 = greylist_key(&a, "s@x", "v@y");
	const char *junk = "zz\n0123 1 2\n\nffffffffffffffff 5 0 4\n";

	(void)state;
	greylist_init(&g, 300, 3600, 86400);
	assert_int_equal(greylist_check(&g, k1, T0), GREYLIST_NEW);
	assert_int_equal(greylist_check(&g, k1, T0 + 400), GREYLIST_PASS);
	assert_int_equal(greylist_check(&g, k2, T0 + 500), GREYLIST_NEW);
	assert_true(g.dirty);
	buf_init(&b, 4096);
	assert_int_equal(greylist_format(&g, &b, T0 + 600), 0);
	assert_false(g.dirty);
	greylist_init(&h, 300, 3600, 86400);
	greylist_parse(&h, b.data, b.len, T0 + 700);
	assert_int_equal(h.n, 2);
	assert_int_equal(greylist_check(&h, k1, T0 + 800), GREYLIST_PASS);
	assert_int_equal(greylist_check(&h, k2, T0 + 900), GREYLIST_PASS);
	/* Loaded later: the pending one is past its window, gone. */
	greylist_parse(&h, b.data, b.len, T0 + 5000);
	assert_int_equal(h.n, 1);
	assert_int_equal(greylist_check(&h, k2, T0 + 5000), GREYLIST_NEW);
	/* Bad lines are skipped. */
	greylist_parse(&h, junk, strlen(junk), T0);
	assert_int_equal(h.n, 0);
	buf_free(&b);
	greylist_free(&g);
	greylist_free(&h);
}

static void
test_bounded(void **state)
{
	struct greylist g;
	uint64_t i;

	(void)state;
	greylist_init(&g, 300, 3600, 86400);
	for (i = 0; i < GREYLIST_ENTRIES_MAX + 10; i++)
		(void)greylist_check(&g, i + 1, T0 + (int64_t)i / 1000);
	assert_int_equal(g.n, GREYLIST_ENTRIES_MAX);
	/* The newest is kept, the oldest went. */
	assert_int_equal(greylist_check(&g, GREYLIST_ENTRIES_MAX + 10, T0 + 100),
	    GREYLIST_EARLY);
	greylist_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_triplet),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_state_text),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
