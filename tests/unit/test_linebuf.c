/* test_linebuf - the bounded line reader, fed whole, byte by byte and split
 * at every point; limits at limit-1, limit and limit+1. */
#include "unit.h"
#include "linebuf.h"

/* Events are rendered as "X:line\n", X one of L T F C N; CR and NUL in a
 * line as \r and \0, so that expectations read as text. */
static char
status_letter(enum linebuf_status st)
{
	switch (st) {
	case LINEBUF_LINE:	return 'L';
	case LINEBUF_TOO_LONG:	return 'T';
	case LINEBUF_BARE_LF:	return 'F';
	case LINEBUF_BARE_CR:	return 'C';
	case LINEBUF_NUL:	return 'N';
	default:		return '?';
	}
}

struct out {
	char	s[65536];
	size_t	len;
};

static void
out_add(struct out *o, const char *p, size_t n)
{
	assert_true(o->len + n < sizeof(o->s));
	memcpy(o->s + o->len, p, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void
render(struct out *o, enum linebuf_status st, const char *line, size_t len)
{
	char hdr[2] = { status_letter(st), ':' };
	size_t i;

	out_add(o, hdr, 2);
	for (i = 0; i < len; i++) {
		if (line[i] == '\r')
			out_add(o, "\\r", 2);
		else if (line[i] == '\0')
			out_add(o, "\\0", 2);
		else
			out_add(o, &line[i], 1);
	}
	out_add(o, "\n", 1);
}

/* Feed in[0..len) in pieces: cuts[] are the piece boundaries. */
static void
feed_pieces(struct linebuf *lb, const char *in, size_t len, size_t step,
    size_t split, struct out *o)
{
	size_t pos = 0, end, used, ll;
	const char *line;
	enum linebuf_status st;

	while (pos < len) {
		if (split)
			end = pos < split ? split : len;
		else
			end = step ? (pos + step < len ? pos + step : len) : len;
		/* One piece may hold several lines. */
		while (pos < end) {
			st = linebuf_next(lb, in + pos, end - pos, &used, &line,
			    &ll);
			assert_true(used > 0 && used <= end - pos);
			pos += used;
			if (st == LINEBUF_NEED_MORE) {
				assert_int_equal(pos, end);
				assert_null(line);
				continue;
			}
			render(o, st, line, ll);
		}
	}
}

struct lcase {
	const char	*in;
	size_t		 inlen;		/* 0: strlen */
	size_t		 limit;
	const char	*want;
	int		 pending;	/* partial line left */
};

#define S(x)	x, sizeof(x) - 1

static const struct lcase cases[] = {
	{ S("abc\r\n"), 10, "L:abc\n", 0 },
	{ S("abc\r\ndef\r\n"), 10, "L:abc\nL:def\n", 0 },
	{ S("\r\n"), 10, "L:\n", 0 },
	{ S("\r\n\r\n"), 10, "L:\nL:\n", 0 },
	{ S("abc"), 10, "", 1 },
	{ S("abc\r"), 10, "", 1 },
	{ S("\r"), 10, "", 1 },
	{ S("abc\r\nde"), 10, "L:abc\n", 1 },
	/* bare LF ends a line and is reported */
	{ S("abc\n"), 10, "F:abc\n", 0 },
	{ S("\n"), 10, "F:\n", 0 },
	{ S("a\n\r\n"), 10, "F:a\nL:\n", 0 },
	{ S("a\nb\r\n"), 10, "F:a\nL:b\n", 0 },
	/* bare CR stays in the line, reported once at its end */
	{ S("a\rb\r\n"), 10, "C:a\\rb\n", 0 },
	{ S("a\r\r\n"), 10, "C:a\\r\n", 0 },
	{ S("\r\r\n"), 10, "C:\\r\n", 0 },
	{ S("\r\r\r\n"), 10, "C:\\r\\r\n", 0 },
	{ S("a\r\rb\r\nok\r\n"), 10, "C:a\\r\\rb\nL:ok\n", 0 },
	{ S("a\rb\n"), 10, "F:a\\rb\n", 0 },	/* BARE_LF beats BARE_CR */
	/* NUL */
	{ S("a\0b\r\n"), 10, "N:a\\0b\n", 0 },
	{ S("\0\r\n"), 10, "N:\\0\n", 0 },
	{ S("\0\n"), 10, "F:\\0\n", 0 },		/* BARE_LF beats NUL */
	{ S("\0\rx\r\n"), 10, "C:\\0\\rx\n", 0 },	/* BARE_CR beats NUL */
	{ S("a\0b\r\nok\r\n"), 10, "N:a\\0b\nL:ok\n", 0 },
	/* limit 10: text up to 8 octets */
	{ S("1234567\r\n"), 10, "L:1234567\n", 0 },		/* limit-1 */
	{ S("12345678\r\n"), 10, "L:12345678\n", 0 },		/* limit */
	{ S("123456789\r\n"), 10, "T:12345678\n", 0 },		/* limit+1 */
	{ S("123456789\r\nok\r\n"), 10, "T:12345678\nL:ok\n", 0 },
	{ S("123456789abcdefghij\r\nok\r\n"), 10, "T:12345678\nL:ok\n", 0 },
	{ S("12345678\n"), 10, "F:12345678\n", 0 },
	{ S("123456789\n"), 10, "T:12345678\n", 0 },		/* TOO_LONG beats BARE_LF */
	{ S("1234567\r\r\n"), 10, "C:1234567\\r\n", 0 },	/* bare CR is text */
	{ S("12345678\r\r\n"), 10, "T:12345678\n", 0 },
	{ S("1234567\0\0\r\n"), 10, "T:1234567\\0\n", 0 },
	{ S("123456789"), 10, "", 1 },		/* overflow pending */
	{ S("1\r\n"), 3, "L:1\n", 0 },	/* smallest limit: text 1 */
	{ S("\r\n1\r\n"), 3, "L:\nL:1\n", 0 },
	{ S("12\r\n"), 3, "T:1\n", 0 },
};

static void
run_case(const struct lcase *c, size_t step, size_t split)
{
	static struct linebuf lb;
	struct out *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	linebuf_init(&lb, c->limit);
	feed_pieces(&lb, c->in, c->inlen, step, split, o);
	if (strcmp(o->s, c->want) != 0)
		fail_msg("input %zu bytes limit %zu step %zu split %zu: got "
		    "\"%s\" want \"%s\"", c->inlen, c->limit, step, split,
		    o->s, c->want);
	assert_int_equal(linebuf_pending(&lb), c->pending);
	free(o);
}

static void
test_cases(void **state)
{
	size_t i, sp;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(&cases[i], 0, 0);	/* whole */
		run_case(&cases[i], 1, 0);	/* byte by byte */
		run_case(&cases[i], 2, 0);
		run_case(&cases[i], 3, 0);
		for (sp = 1; sp < cases[i].inlen; sp++)
			run_case(&cases[i], 0, sp);
	}
}

/* Build "x" * n + term and check the outcome at a real limit. */
static void
limit_check(size_t limit, size_t n, const char *term, char want_letter,
    size_t want_len)
{
	static struct linebuf lb;
	size_t tl = strlen(term), len = n + tl, step, pos, used, ll;
	char *in = malloc(len + 4);
	const char *line;
	enum linebuf_status st;
	int got;

	assert_non_null(in);
	memset(in, 'x', n);
	memcpy(in + n, term, tl);
	memcpy(in + len, "a\r\n", 3);	/* the next line must be clean */
	for (step = 0; step <= 1; step++) {
		linebuf_init(&lb, limit);
		pos = 0;
		got = 0;
		while (pos < len + 3) {
			size_t chunk = step ? 1 : len + 3 - pos;

			st = linebuf_next(&lb, in + pos, chunk, &used, &line,
			    &ll);
			pos += used;
			if (st == LINEBUF_NEED_MORE)
				continue;
			if (got == 0) {
				assert_int_equal(status_letter(st), want_letter);
				assert_int_equal(ll, want_len);
				assert_int_equal(pos, len);
			} else {
				assert_int_equal(st, LINEBUF_LINE);
				assert_int_equal(ll, 1);
				assert_memory_equal(line, "a", 1);
			}
			got++;
		}
		assert_int_equal(got, 2);
		assert_false(linebuf_pending(&lb));
	}
	free(in);
}

static void
test_limits(void **state)
{
	static const size_t limits[] = { 255, 512, 1000, 12288 };
	size_t i, l;

	(void)state;
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		l = limits[i];
		/* line with CRLF at limit-1, limit, limit+1 */
		limit_check(l, l - 3, "\r\n", 'L', l - 3);
		limit_check(l, l - 2, "\r\n", 'L', l - 2);
		limit_check(l, l - 1, "\r\n", 'T', l - 2);
		limit_check(l, l + 5000, "\r\n", 'T', l - 2);
		limit_check(l, l - 2, "\n", 'F', l - 2);
		limit_check(l, l - 1, "\n", 'T', l - 2);
	}
}

/* 512 is the SMTP command limit: a 512-octet command is fine, 513 is not. */
static void
test_smtp_512(void **state)
{
	(void)state;
	limit_check(512, 510, "\r\n", 'L', 510);
	limit_check(512, 511, "\r\n", 'T', 510);
}

static void
test_set_limit_and_reset(void **state)
{
	static struct linebuf lb;
	const char *line;
	size_t used, ll;

	(void)state;
	linebuf_init(&lb, 5);
	assert_int_equal(linebuf_next(&lb, "abcd", 4, &used, &line, &ll),
	    LINEBUF_NEED_MORE);
	assert_true(linebuf_pending(&lb));
	linebuf_reset(&lb);
	assert_false(linebuf_pending(&lb));
	linebuf_set_limit(&lb, 20);
	assert_int_equal(linebuf_next(&lb, "abcdefgh\r\n", 10, &used, &line,
	    &ll), LINEBUF_LINE);
	assert_int_equal(used, 10);
	assert_int_equal(ll, 8);
	/* out-of-range limits are clamped */
	linebuf_init(&lb, 0);
	assert_int_equal(lb.limit, 3);
	linebuf_init(&lb, LINEBUF_MAX * 2);
	assert_int_equal(lb.limit, LINEBUF_MAX);
	/* used stops right after the first line */
	linebuf_init(&lb, 512);
	assert_int_equal(linebuf_next(&lb, "a\r\nb\r\n", 6, &used, &line, &ll),
	    LINEBUF_LINE);
	assert_int_equal(used, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_smtp_512),
		cmocka_unit_test(test_set_limit_and_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
