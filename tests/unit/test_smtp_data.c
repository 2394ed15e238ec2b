/* test_smtp_data - end of data and dot-unstuffing: golden cases fed whole,
 * byte by byte and split at every point (every pair of points for short
 * cases); the smuggling sequences; line and size limits at -1/0/+1. */
#include "unit.h"
#include "smtp_data.h"

struct result {
	struct buf	content;
	size_t		consumed;
	unsigned	flags;
	int		done;
	uint64_t	size;
};

/* Feed in[0..len) cut at the points in cuts[0..ncuts) (ascending). Each
 * call gets a fresh output buffer capped at its input + 1 bytes: the
 * contract smtp_data.h promises callers. */
static void
run(const char *in, size_t len, uint64_t max, const size_t *cuts,
    size_t ncuts, struct result *r)
{
	struct smtp_data d;
	struct buf out;
	size_t pos = 0, k = 0, end, n;

	memset(r, 0, sizeof(*r));
	buf_init(&r->content, SIZE_MAX / 2);
	smtp_data_init(&d, max);
	while (pos < len) {
		end = k < ncuts ? cuts[k++] : len;
		if (end <= pos)
			continue;
		buf_init(&out, end - pos + 1);
		n = smtp_data_feed(&d, in + pos, end - pos, &out);
		assert_true(n <= end - pos);
		if (out.len)
			assert_int_equal(buf_append(&r->content, out.data,
			    out.len), 0);
		buf_free(&out);
		pos += n;
		if (d.done)
			break;
		assert_int_equal(pos, end);	/* not done: all consumed */
	}
	/* Once done, nothing more is consumed. */
	if (d.done && pos < len) {
		buf_init(&out, 16);
		assert_int_equal(smtp_data_feed(&d, in + pos, len - pos, &out), 0);
		assert_int_equal(out.len, 0);
		buf_free(&out);
	}
	r->consumed = pos;
	r->flags = d.flags;
	r->done = d.done;
	r->size = d.size;
}

struct dcase {
	const char	*name;
	const char	*in;
	size_t		 inlen;
	const char	*want;
	size_t		 wantlen;
	long		 consumed;	/* -1: all */
	unsigned	 flags;
	int		 done;
};

#define S(x)	x, sizeof(x) - 1
#define LF	SMTP_DATA_F_BARE_LF
#define CR	SMTP_DATA_F_BARE_CR

static const struct dcase cases[] = {
	{ "simple", S("hello\r\n.\r\n"), S("hello\r\n"), -1, 0, 1 },
	{ "empty message", S(".\r\n"), S(""), -1, 0, 1 },
	{ "empty line", S("\r\n.\r\n"), S("\r\n"), -1, 0, 1 },
	{ "two lines", S("a\r\nb\r\n.\r\n"), S("a\r\nb\r\n"), -1, 0, 1 },
	{ "dot stuffed dot", S("..\r\n.\r\n"), S(".\r\n"), -1, 0, 1 },
	{ "dot stuffed text", S("..foo\r\n.\r\n"), S(".foo\r\n"), -1, 0, 1 },
	{ "unstuffed dot text", S(".foo\r\n.\r\n"), S("foo\r\n"), -1, 0, 1 },
	{ "dot mid line", S("a.b\r\n.\r\n"), S("a.b\r\n"), -1, 0, 1 },
	{ "dot space", S(". \r\n.\r\n"), S(" \r\n"), -1, 0, 1 },
	{ "three dots", S("...\r\n.\r\n"), S("..\r\n"), -1, 0, 1 },
	{ "bytes after end stay",
	    S("a\r\n.\r\nMAIL FROM:<x@y>\r\n"), S("a\r\n"), 6, 0, 1 },
	{ "end then end", S(".\r\n.\r\n"), S(""), 3, 0, 1 },
	{ "not ended", S("a\r\n.\r"), S("a\r\n"), -1, 0, 0 },
	{ "not ended 2", S("a\r\n."), S("a\r\n"), -1, 0, 0 },
	{ "not ended 3", S("a\r"), S("a"), -1, 0, 0 },
	{ "no bytes", S(""), S(""), -1, 0, 0 },
	/* smuggling: none of these end the data */
	{ "LF.LF", S("a\n.\nb\r\n.\r\n"), S("a\n.\nb\r\n"), -1, LF, 1 },
	{ "CRLF.LF", S("a\r\n.\nb\r\n.\r\n"), S("a\r\n\nb\r\n"), -1, LF, 1 },
	{ "LF.CRLF", S("a\n.\r\nb\r\n.\r\n"), S("a\n.\r\nb\r\n"), -1, LF, 1 },
	{ "CR.CR", S("a\r.\rb\r\n.\r\n"), S("a\r.\rb\r\n"), -1, CR, 1 },
	{ "CR.CRLF", S("a\r.\r\n.\r\n"), S("a\r.\r\n"), -1, CR, 1 },
	{ "LF.LF first", S("\n.\n.\r\n"), S("\n.\n.\r\n"), -1, LF, 0 },
	{ "dot CR other", S(".\rX\r\n.\r\n"), S("\rX\r\n"), -1, CR, 1 },
	{ "dot CR CR LF", S(".\r\r\n.\r\n"), S("\r\r\n"), -1, CR, 1 },
	{ "CR CR LF", S("a\r\r\n.\r\n"), S("a\r\r\n"), -1, CR, 1 },
	{ "bare LF only", S("\n"), S("\n"), -1, LF, 0 },
	{ "CRLF.LF.CRLF", S("x\r\n.\n.\r\n"), S("x\r\n\n.\r\n"), -1, LF, 0 },
	/* NUL and 8 bit */
	{ "NUL", S("a\0b\r\n.\r\n"), S("a\0b\r\n"), -1, SMTP_DATA_F_NUL, 1 },
	{ "NUL after dot", S(".\0\r\n.\r\n"), S("\0\r\n"), -1, SMTP_DATA_F_NUL, 1 },
	{ "8bit", S("\xc3\xa9\r\n.\r\n"), S("\xc3\xa9\r\n"), -1,
	    SMTP_DATA_F_8BIT, 1 },
};

static void
check_case(const struct dcase *c, const size_t *cuts, size_t ncuts)
{
	struct result r;
	size_t want_consumed = c->consumed < 0 ? c->inlen : (size_t)c->consumed;
	int found;

	/* "LF.LF first" etc. never end: their want says 0 and all consumed */
	run(c->in, c->inlen, 1000000, cuts, ncuts, &r);
	found = r.content.len == c->wantlen &&
	    (c->wantlen == 0 || memcmp(r.content.data, c->want, c->wantlen) == 0);
	if (!found || r.consumed != want_consumed || r.flags != c->flags ||
	    r.done != c->done)
		fail_msg("%s (cuts %zu: %zu %zu): content %s, consumed %zu/%zu, "
		    "flags %#x/%#x, done %d/%d", c->name, ncuts,
		    ncuts > 0 ? cuts[0] : 0, ncuts > 1 ? cuts[1] : 0,
		    found ? "ok" : "WRONG", r.consumed, want_consumed, r.flags,
		    c->flags, r.done, c->done);
	assert_int_equal(r.size, c->wantlen);
	buf_free(&r.content);
}

static void
test_golden(void **state)
{
	size_t i, a, b, *bytes, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dcase *c = &cases[i];
		size_t cuts[2];

		check_case(c, NULL, 0);				/* whole */
		bytes = calloc(c->inlen + 1, sizeof(*bytes));
		assert_non_null(bytes);
		for (k = 0; k < c->inlen; k++)
			bytes[k] = k + 1;
		check_case(c, bytes, c->inlen);			/* byte by byte */
		free(bytes);
		for (a = 1; a < c->inlen; a++) {		/* every split */
			cuts[0] = a;
			check_case(c, cuts, 1);
			for (b = a + 1; b < c->inlen; b++) {	/* every pair */
				cuts[1] = b;
				check_case(c, cuts, 2);
			}
		}
	}
}

/* "x" * n (after an optional dot) as one line, then a clean line and the end. */
static void
line_check(int dot, size_t n, unsigned want_flags)
{
	size_t len = (size_t)dot + n + 2 + 5, k;
	char *in = malloc(len);
	struct result r;
	size_t *cuts;

	assert_non_null(in);
	memset(in, 'x', len);
	if (dot)
		in[0] = '.';
	memcpy(in + dot + n, "\r\n", 2);
	memcpy(in + dot + n + 2, "\r\n.\r\n", 5);
	run(in, len, 1000000, NULL, 0, &r);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.consumed, len);
	assert_int_equal(r.flags, want_flags);
	assert_int_equal(r.content.len, n + 4);
	buf_free(&r.content);
	/* byte by byte */
	cuts = calloc(len, sizeof(*cuts));
	assert_non_null(cuts);
	for (k = 0; k < len; k++)
		cuts[k] = k + 1;
	run(in, len, 1000000, cuts, len, &r);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.flags, want_flags);
	assert_int_equal(r.content.len, n + 4);
	buf_free(&r.content);
	free(cuts);
	free(in);
}

static void
test_line_limit(void **state)
{
	(void)state;
	line_check(0, 997, 0);
	line_check(0, 998, 0);				/* 1000 with CRLF */
	line_check(0, 999, SMTP_DATA_F_LONG_LINE);
	line_check(0, 5000, SMTP_DATA_F_LONG_LINE);
	line_check(1, 997, 0);
	line_check(1, 998, 0);				/* the dot is free */
	line_check(1, 999, SMTP_DATA_F_LONG_LINE);
}

/* A bare CR counts as text; a bare LF restarts the count. */
static void
test_line_limit_bare(void **state)
{
	char in[2100];
	struct result r;

	(void)state;
	memset(in, 'x', sizeof(in));
	in[500] = '\n';
	memcpy(in + 1200, "\r\n.\r\n", 5);
	run(in, 1205, 1000000, NULL, 0, &r);
	assert_int_equal(r.flags, SMTP_DATA_F_BARE_LF);
	buf_free(&r.content);

	memset(in, 'x', sizeof(in));
	in[500] = '\r';
	memcpy(in + 999, "\r\n.\r\n", 5);	/* 999 octets incl. the CR */
	run(in, 1004, 1000000, NULL, 0, &r);
	assert_int_equal(r.flags, SMTP_DATA_F_BARE_CR | SMTP_DATA_F_LONG_LINE);
	buf_free(&r.content);
}

/* Content of exactly n octets ("x" lines), max_size limit. */
static void
size_check(size_t n, uint64_t max, int want_big)
{
	size_t len = n + 3, k;
	char *in = malloc(len);
	struct result r;
	size_t *cuts;

	assert_true(n >= 2);
	assert_non_null(in);
	memset(in, 'x', len);
	for (k = 50; k + 2 < n; k += 50)
		memcpy(in + k, "\r\n", 2);
	memcpy(in + n - 2, "\r\n.\r\n", 5);
	cuts = calloc(len, sizeof(*cuts));
	assert_non_null(cuts);
	for (k = 0; k < len; k++)
		cuts[k] = k + 1;
	for (k = 0; k < 2; k++) {
		run(in, len, max, k ? cuts : NULL, k ? len : 0, &r);
		assert_int_equal(r.done, 1);
		assert_int_equal(r.consumed, len);
		assert_int_equal(r.size, n);
		assert_int_equal(!!(r.flags & SMTP_DATA_F_TOO_BIG), want_big);
		/* beyond max nothing is appended */
		assert_int_equal(r.content.len, want_big ? max : n);
		buf_free(&r.content);
	}
	free(cuts);
	free(in);
}

static void
test_size_limit(void **state)
{
	(void)state;
	size_check(999, 1000, 0);
	size_check(1000, 1000, 0);
	size_check(1001, 1000, 1);
	size_check(5000, 1000, 1);
	size_check(2, 2, 0);		/* one empty line */
	size_check(2, 1, 1);
	size_check(2, 0, 1);
}

/* Big input in one call: everything consumed, content intact. */
static void
test_large(void **state)
{
	size_t n = 80 * 13107, i;
	char *in = malloc(n + 3);
	struct smtp_data d;
	struct buf out;

	(void)state;
	assert_non_null(in);
	for (i = 0; i < n; i++)
		in[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' : 'a';
	/* n is a multiple of 80 */
	memcpy(in + n, ".\r\n", 3);
	smtp_data_init(&d, n);
	buf_init(&out, n + 4);
	assert_int_equal(smtp_data_feed(&d, in, n + 3, &out), n + 3);
	assert_true(d.done);
	assert_int_equal(d.flags, 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, in, n);
	buf_free(&out);
	free(in);
}

/* The Received: count (hop limit): the header section only,
 * any case, "Received :" too, never a folded line or the body; the same
 * count whole and byte by byte. */
static unsigned
count_received(const char *in, int bytewise)
{
	struct smtp_data d;
	struct buf out;
	size_t len = strlen(in), i;

	smtp_data_init(&d, 1 << 20);
	buf_init(&out, len + 1);
	if (bytewise) {
		for (i = 0; i < len && !d.done; i++)
			smtp_data_feed(&d, in + i, 1, &out);
	} else {
		smtp_data_feed(&d, in, len, &out);
	}
	assert_true(d.done);
	buf_free(&out);
	return d.received;
}

static void
test_received_count(void **state)
{
	static const struct { const char *in; unsigned n; } rcases[] = {
		{ "Subject: x\r\n\r\nbody\r\n.\r\n", 0 },
		{ "Received: a\r\nreceived: b\r\nRECEIVED:c\r\n\r\n.\r\n", 3 },
		{ "Received : a\r\nReceived\t: b\r\n\r\n.\r\n", 2 },
		/* a folded continuation is part of the field above it */
		{ "Received: a\r\n Received: folded\r\n\r\n.\r\n", 1 },
		/* not the field name */
		{ "Received-SPF: pass\r\nX-Received: a\r\nReceivedx: a\r\n\r\n.\r\n", 0 },
		/* the body is never counted */
		{ "Subject: x\r\n\r\nReceived: a\r\nReceived: b\r\n.\r\n", 0 },
		/* dot-stuffed header line: counted as stored (".Received" is not) */
		{ "..Received: a\r\nReceived: b\r\n\r\n.\r\n", 1 },
		/* no empty line at all: every line is a header line */
		{ "Received: a\r\nReceived: b\r\n.\r\n", 2 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++) {
		assert_int_equal(count_received(rcases[i].in, 0), rcases[i].n);
		assert_int_equal(count_received(rcases[i].in, 1), rcases[i].n);
	}
	assert_true(smtp_data_is_received("Received:", 9));
	assert_false(smtp_data_is_received("Received", 8));
	assert_false(smtp_data_is_received(" Received:", 10));
}

/* 60 hops in, the count is exact; a long header line keeps its prefix. */
static void
test_received_many(void **state)
{
	char in[8192];
	size_t n = 0;
	int i;

	(void)state;
	for (i = 0; i < 60; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n,
		    "Received: from hop%d.example by hop%d.example with SMTP "
		    "id %d;\r\n\tThu, 3 Dec 2026 10:00:00 +0000\r\n", i, i + 1, i);
	snprintf(in + n, sizeof(in) - n, "\r\nbody\r\n.\r\n");
	assert_int_equal(count_received(in, 0), 60);
	assert_int_equal(count_received(in, 1), 60);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_line_limit_bare),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_received_count),
		cmocka_unit_test(test_received_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
