/* test_schedule - retry intervals, expiry, deferred/ID format and parser. */
#include "unit.h"
#include "schedule.h"

static void
test_backoff(void **state)
{
	static const struct { unsigned att, min, max, want; } t[] = {
		{ 1, 300, 4000, 300 }, { 2, 300, 4000, 600 }, { 3, 300, 4000, 1200 },
		{ 4, 300, 4000, 2400 }, { 5, 300, 4000, 4000 }, { 50, 300, 4000, 4000 },
		{ 1000000, 300, 4000, 4000 }, { 1, 1, 2, 1 }, { 2, 1, 2, 2 },
		{ 3, 1, 2, 2 }, { 0, 5, 10, 5 }, { 1, 0, 0, 1 }, { 3, 10, 5, 10 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(schedule_backoff(t[i].att, t[i].min, t[i].max),
		    t[i].want);
}

static void
test_expired(void **state)
{
	(void)state;
	/* limit - 1, limit, limit + 1 */
	assert_false(schedule_expired(1000, 1000 + 432000 - 1, 432000));
	assert_true(schedule_expired(1000, 1000 + 432000, 432000));
	assert_true(schedule_expired(1000, 1000 + 432001, 432000));
	assert_false(schedule_expired(2000, 1000, 10));	/* clock went back */
}

static void
test_fail_grows(void **state)
{
	struct schedule s;

	(void)state;
	memset(&s, 0, sizeof(s));
	schedule_fail(&s, 100, 10, 35);
	assert_int_equal(s.attempts, 1);
	assert_int_equal(s.next, 110);
	schedule_fail(&s, 110, 10, 35);
	assert_int_equal(s.next, 130);
	schedule_fail(&s, 130, 10, 35);
	assert_int_equal(s.next, 165);
	schedule_fail(&s, 165, 10, 35);
	assert_int_equal(s.next, 200);
	schedule_free(&s);
}

static void
test_roundtrip(void **state)
{
	struct schedule s, p;
	struct buf b;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.next = 1795812345;
	s.attempts = 3;
	assert_int_equal(schedule_set_error(&s, 1, "451 4.3.0 busy\r\nnext"), 0);
	assert_int_equal(schedule_set_error(&s, 0, "connect: refused"), 0);
	assert_int_equal(schedule_set_error(&s, 1, "452 4.2.2 full"), 0);
	buf_init(&b, SCHEDULE_FILE_MAX);
	assert_int_equal(schedule_format(&b, &s), 0);
	assert_string_equal(b.data, "next 1795812345\nattempts 3\n"
	    "error 1 452 4.2.2 full\nerror 0 connect: refused\n");
	assert_int_equal(schedule_parse(b.data, b.len, &p), 0);
	assert_int_equal(p.next, 1795812345);
	assert_int_equal(p.attempts, 3);
	assert_string_equal(schedule_error(&p, 0), "connect: refused");
	assert_string_equal(schedule_error(&p, 1), "452 4.2.2 full");
	assert_null(schedule_error(&p, 2));
	schedule_free(&p);
	schedule_free(&s);
	buf_free(&b);
	/* control bytes are flattened */
	memset(&s, 0, sizeof(s));
	schedule_set_error(&s, 0, "a\r\nb\tc");
	assert_string_equal(schedule_error(&s, 0), "a  b c");
	schedule_free(&s);
}

static void
test_parse_table(void **state)
{
	static const struct { const char *in; int ok; } t[] = {
		{ "next 0\n", 1 },
		{ "next 5\nattempts 2\n", 1 },
		{ "attempts 2\nnext 5\nerror 3 x y z\n", 1 },
		{ "", 0 },			/* next is required */
		{ "attempts 1\n", 0 },
		{ "next 5", 0 },		/* no LF */
		{ "next -5\n", 0 },
		{ "next 5x\n", 0 },
		{ "next \n", 0 },
		{ "next 1234567890123456789\n", 0 },
		{ "next 5\nbogus 1\n", 0 },
		{ "next 5\nerror x text\n", 0 },
		{ "next 5\nerror 1\n", 0 },
		{ "next 5\nattempts 1000001\n", 0 },
		{ "next 5\n\n", 0 },
	};
	struct schedule s;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = schedule_parse(t[i].in, strlen(t[i].in), &s);

		if (r != (t[i].ok ? 0 : -1))
			fail_msg("case %zu '%s': %d", i, t[i].in, r);
		schedule_free(&s);
		/* every prefix of a valid file that is not itself valid fails
		 * cleanly (no crash, nothing leaked) */
		for (k = 0; k < strlen(t[i].in); k++) {
			(void)schedule_parse(t[i].in, k, &s);
			schedule_free(&s);
		}
	}
}

static void
test_error_text_limit(void **state)
{
	char text[SCHEDULE_ERROR_MAX + 10], line[SCHEDULE_ERROR_MAX + 40];
	struct schedule s;

	(void)state;
	memset(text, 'x', sizeof(text));
	text[SCHEDULE_ERROR_MAX - 1] = '\0';	/* limit - 1: kept whole */
	snprintf(line, sizeof(line), "next 1\nerror 0 %s\n", text);
	assert_int_equal(schedule_parse(line, strlen(line), &s), 0);
	assert_int_equal(strlen(schedule_error(&s, 0)), SCHEDULE_ERROR_MAX - 1);
	schedule_free(&s);
	memset(text, 'x', sizeof(text));
	text[SCHEDULE_ERROR_MAX] = '\0';	/* limit: refused */
	snprintf(line, sizeof(line), "next 1\nerror 0 %s\n", text);
	assert_int_equal(schedule_parse(line, strlen(line), &s), -1);
	memset(&s, 0, sizeof(s));
	schedule_set_error(&s, 0, text);	/* setter truncates */
	assert_int_equal(strlen(schedule_error(&s, 0)), SCHEDULE_ERROR_MAX - 1);
	schedule_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_fail_grows),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_error_text_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
