/* test_dns - MX ordering (RFC 5321 5.1): preference, shuffling among
 * equal preferences, null MX (RFC 7505). The c-ares part runs in the
 * integration tests against dnsmasq. */
#include "unit.h"
#include "dns.h"

static uint32_t seq;

static uint32_t
fake_rand(void *arg)
{
	(void)arg;
	return seq++ * 2654435761u;
}

static void
set(struct dns_mx *v, size_t i, const char *name, unsigned pref)
{
	snprintf(v[i].name, sizeof(v[i].name), "%s", name);
	v[i].pref = pref;
}

static void
test_order_by_preference(void **state)
{
	struct dns_mx v[4];
	int isnull;
	size_t n;

	(void)state;
	set(v, 0, "c", 30);
	set(v, 1, "a", 10);
	set(v, 2, "d", 40);
	set(v, 3, "b", 20);
	n = dns_mx_order(v, 4, &isnull, fake_rand, NULL);
	assert_int_equal(n, 4);
	assert_false(isnull);
	assert_string_equal(v[0].name, "a");
	assert_string_equal(v[1].name, "b");
	assert_string_equal(v[2].name, "c");
	assert_string_equal(v[3].name, "d");
}

static void
test_equal_preferences_shuffled(void **state)
{
	int seen_first[3] = { 0, 0, 0 };
	int round;

	(void)state;
	for (round = 0; round < 60; round++) {
		struct dns_mx v[5];
		int isnull;
		size_t n;

		set(v, 0, "x0", 10);
		set(v, 1, "x1", 10);
		set(v, 2, "x2", 10);
		set(v, 3, "backup", 20);
		set(v, 4, "best", 5);
		seq = (uint32_t)round;
		n = dns_mx_order(v, 5, &isnull, fake_rand, NULL);
		assert_int_equal(n, 5);
		assert_string_equal(v[0].name, "best");
		assert_string_equal(v[4].name, "backup");
		/* the three equal ones stay together, in some order */
		assert_int_equal(v[1].pref, 10);
		assert_int_equal(v[3].pref, 10);
		seen_first[v[1].name[1] - '0']++;
	}
	/* each of them came first sometimes */
	assert_true(seen_first[0] > 0 && seen_first[1] > 0 && seen_first[2] > 0);
}

static void
test_null_mx(void **state)
{
	struct dns_mx v[2];
	int isnull;

	(void)state;
	set(v, 0, "", 0);
	assert_int_equal(dns_mx_order(v, 1, &isnull, fake_rand, NULL), 0);
	assert_true(isnull);
	/* a null MX next to a real one is ignored (RFC 7505 3: MUST NOT mix) */
	set(v, 0, "", 0);
	set(v, 1, "real", 10);
	assert_int_equal(dns_mx_order(v, 2, &isnull, fake_rand, NULL), 1);
	assert_false(isnull);
	assert_string_equal(v[0].name, "real");
	assert_int_equal(dns_mx_order(v, 0, &isnull, fake_rand, NULL), 0);
	assert_false(isnull);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_by_preference),
		cmocka_unit_test(test_equal_preferences_shuffled),
		cmocka_unit_test(test_null_mx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
