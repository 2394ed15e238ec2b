/* test_buf - the capped buffer, error lists, and log_quote. */
#include "unit.h"
#include "buf.h"
#include "log.h"

static void
test_cap(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "0123456789", 10), 0);	/* limit */
	assert_int_equal(buf_append(&b, "x", 1), -1);		/* limit + 1 */
	assert_int_equal(b.len, 10);
	assert_int_equal(b.data[10], '\0');
	buf_consume(&b, 3);
	assert_int_equal(b.len, 7);
	assert_string_equal(b.data, "3456789");
	assert_int_equal(buf_printf(&b, "%d", 123), 0);		/* exactly 10 again */
	assert_int_equal(buf_printf(&b, "%s", "y"), -1);
	assert_string_equal(b.data, "3456789123");
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	for (i = 0; i < 9; i++)
		assert_int_equal(buf_appendc(&b, 'a'), 0);	/* limit - 1 */
	assert_int_equal(buf_appendc(&b, 'a'), 0);
	assert_int_equal(buf_appendc(&b, 'a'), -1);
	buf_free(&b);
}

/* buf_shrink gives back a large buffer's room, keeps contents that fit,
 * leaves alone what does not fit or is small already, and the buffer
 * grows again afterwards. */
static void
test_shrink(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 1 << 20);
	buf_shrink(&b, 0);			/* never used: nothing to do */
	assert_null(b.data);
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_appendc(&b, 'x'), 0);
	assert_true(b.cap > 100000);
	buf_shrink(&b, 4096);			/* contents do not fit: kept */
	assert_true(b.cap > 100000);
	assert_int_equal(b.len, 100000);
	buf_reset(&b);
	assert_int_equal(buf_appends(&b, "abc"), 0);
	buf_shrink(&b, 4096);
	assert_int_equal(b.cap, 4096);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	buf_shrink(&b, 8192);			/* already smaller */
	assert_int_equal(b.cap, 4096);
	buf_shrink(&b, 4);			/* "abc" and its NUL fit */
	assert_int_equal(b.cap, 4);
	assert_string_equal(b.data, "abc");
	buf_shrink(&b, 3);			/* the NUL would not */
	assert_int_equal(b.cap, 4);
	buf_shrink(&b, 0);			/* not empty: kept */
	assert_int_equal(b.cap, 4);
	buf_reset(&b);
	buf_shrink(&b, 0);			/* empty: freed */
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	assert_int_equal(buf_appends(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	for (i = 0; i < 5000; i++)
		assert_int_equal(buf_appendc(&b, 'y'), 0);
	assert_int_equal(b.len, 5005);
	assert_int_equal(b.data[5005], '\0');
	buf_free(&b);
}

static void
test_binary_and_long_printf(void **state)
{
	struct buf b;
	char big[1000];

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(buf_append(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, "%s", big), 0);	/* > the small stack copy */
	assert_int_equal(b.len, 3 + 999);
	buf_free(&b);
}

static void
test_errlist(void **state)
{
	struct errlist e = { NULL, 0 };

	(void)state;
	errlist_add(&e, "%s:%d: %s", "f", 3, "bad");
	errlist_add(&e, "second");
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msgs[0], "f:3: bad");
	errlist_free(&e);
	assert_int_equal(e.n, 0);
}

static void
test_xsnprintf(void **state)
{
	char small[4];

	(void)state;
	assert_int_equal(xsnprintf(small, sizeof(small), "abc"), 3);
	assert_int_equal(xsnprintf(small, sizeof(small), "abcd"), -1);
}

static void
test_log_quote(void **state)
{
	char out[32];

	(void)state;
	assert_string_equal(log_quote(out, sizeof(out), "a\r\nb\"\\\0", 7),
	    "a\\x0d\\x0ab\\\"\\\\\\x00");
	/* Truncates at an escape boundary, never mid-escape. */
	assert_string_equal(log_quote(out, 6, "ab\x01", 3), "ab");
}

static int
crlf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf_crlf(b, fmt, ap);
	va_end(ap);
	return r;
}

static void
test_crlf_lines(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(crlf(&b, "%d OK", 250), 0);		/* 8 bytes */
	assert_string_equal(b.data, "250 OK\r\n");
	assert_int_equal(crlf(&b, "x"), -1);			/* 8 + 3 > 10 */
	assert_int_equal(crlf(&b, ""), 0);			/* 8 + 2 = 10 */
	assert_int_equal(b.len, 10);
	buf_reset(&b);
	assert_int_equal(crlf(&b, "123456789"), -1);		/* text fits, CRLF not */
	assert_int_equal(b.len, 0);				/* never half a line */
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_shrink),
		cmocka_unit_test(test_binary_and_long_printf),
		cmocka_unit_test(test_errlist),
		cmocka_unit_test(test_xsnprintf),
		cmocka_unit_test(test_log_quote),
		cmocka_unit_test(test_crlf_lines),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
