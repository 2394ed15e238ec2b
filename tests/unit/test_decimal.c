/* test_decimal - the one decimal parser: digits only, bounds, overflow. */
#include "unit.h"
#include "decimal.h"

static uint64_t
ok(const char *s, uint64_t max)
{
	uint64_t v = 12345;

	assert_int_equal(parse_decimal(s, strlen(s), max, &v), 0);
	return v;
}

static void
bad(const char *s, size_t len, uint64_t max)
{
	uint64_t v = 777;

	assert_int_equal(parse_decimal(s, len, max, &v), -1);
	assert_int_equal(v, 777);		/* untouched */
}

static void
test_valid(void **state)
{
	(void)state;
	assert_int_equal(ok("0", 0), 0);
	assert_int_equal(ok("7", 9), 7);
	assert_int_equal(ok("007", 9), 7);	/* leading zeros: the caller's rule */
	assert_int_equal(ok("65535", 65535), 65535);
	assert_int_equal(ok("4294967295", UINT32_MAX), UINT32_MAX);
	assert_true(ok("18446744073709551615", UINT64_MAX) == UINT64_MAX);
	assert_true(ok("18446744073709551610", UINT64_MAX) ==
	    UINT64_MAX - 5);
}

static void
test_invalid(void **state)
{
	(void)state;
	bad("", 0, 100);
	bad("12", 0, 100);			/* length, not the NUL, bounds it */
	bad("-1", 2, 100);
	bad("+1", 2, 100);
	bad(" 1", 2, 100);
	bad("1 ", 2, 100);
	bad("1x", 2, 100);
	bad("0x10", 4, 100);
	bad("1\0", 2, 100);
	bad("101", 3, 100);			/* over max */
	bad("65536", 5, 65535);
	bad("10", 2, 9);
	bad("1", 1, 0);
	bad("18446744073709551616", 20, UINT64_MAX);	/* overflow */
	bad("99999999999999999999", 20, UINT64_MAX);
	bad("184467440737095516150", 21, UINT64_MAX);
}

static void
test_prefix(void **state)
{
	uint64_t v = 0;

	(void)state;
	/* Only [s, s+len) is read: the rest of a line does not matter. */
	assert_int_equal(parse_decimal("42 rest", 2, 100, &v), 0);
	assert_int_equal(v, 42);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_prefix),
	};
	return cmocka_run_group_tests_name("decimal", tests, NULL, NULL);
}
