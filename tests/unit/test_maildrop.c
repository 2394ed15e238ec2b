/* test_maildrop - the maildrop file format: envelope format/parse round
 * trip, every rejection path of the parser side by side with valid cases,
 * the content checker whole and byte by byte, limits at -1/=/+1. */
#include "unit.h"
#include "maildrop.h"

#define ENV_OK	"POSTERN-MAILDROP 1\nuid 1000\nfrom <alice@mydomain.test>\n" \
		"rcpt <bob@example.net>\nrcpt <postmaster>\n\n"

static enum maildrop_status
parse_str(const char *s, size_t max_rcpts)
{
	struct maildrop_envelope e;
	enum maildrop_status st;

	st = maildrop_envelope_parse(s, strlen(s), max_rcpts, &e);
	if (st == MAILDROP_OK) {
		assert_int_equal(e.content_off, strlen(s) -
		    (strlen(s) - (size_t)(strstr(s, "\n\n") - s) - 2));
		maildrop_envelope_free(&e);
	} else {
		assert_null(e.rcpts);
		assert_int_equal(e.nrcpts, 0);
	}
	return st;
}

static void
test_parse_valid(void **state)
{
	struct maildrop_envelope e;
	const char *t = ENV_OK "Subject: x\r\n\r\nbody\r\n";
	char buf[300];

	(void)state;
	assert_int_equal(maildrop_envelope_parse(t, strlen(t), 0, &e), MAILDROP_OK);
	assert_int_equal(e.uid, 1000);
	assert_false(e.from.is_null);
	assert_string_equal(address_format(&e.from, buf, sizeof(buf)),
	    "alice@mydomain.test");
	assert_int_equal(e.nrcpts, 2);
	assert_string_equal(address_format(&e.rcpts[0], buf, sizeof(buf)),
	    "bob@example.net");
	assert_true(e.rcpts[1].is_postmaster);
	assert_memory_equal(t + e.content_off, "Subject: x\r\n", 12);
	maildrop_envelope_free(&e);

	/* null sender, uid 0, domain normalised */
	t = "POSTERN-MAILDROP 1\nuid 0\nfrom <>\nrcpt <A@MyDomain.TEST.>\n\n";
	assert_int_equal(maildrop_envelope_parse(t, strlen(t), 0, &e), MAILDROP_OK);
	assert_int_equal(e.uid, 0);
	assert_true(e.from.is_null);
	assert_string_equal(address_format(&e.rcpts[0], buf, sizeof(buf)),
	    "A@mydomain.test");
	assert_int_equal(e.content_off, strlen(t));
	maildrop_envelope_free(&e);
}

static void
test_parse_invalid(void **state)
{
	static const struct {
		const char *text;
		enum maildrop_status want;
	} cases[] = {
		{ "", MAILDROP_ERR_TRUNCATED },
		{ "POSTERN-MAIL", MAILDROP_ERR_TRUNCATED },
		{ "POSTERN-MAILDROP 2\nuid 1\n", MAILDROP_ERR_MAGIC },
		{ "postern-maildrop 1\n", MAILDROP_ERR_MAGIC },
		{ "POSTERN-QUEUE 1\nid x\n\n", MAILDROP_ERR_MAGIC },
		{ "POSTERN-MAILDROP 1\nuid 1000\nfrom <a@b.c>\nrcpt <d@e.f>\n", MAILDROP_ERR_TRUNCATED },
		{ "POSTERN-MAILDROP 1\nuid 1000\nfrom <a@b.c>\nrcpt <d@e.f>", MAILDROP_ERR_TRUNCATED },
		/* order and unknown lines */
		{ "POSTERN-MAILDROP 1\nfrom <a@b.c>\nuid 1\nrcpt <d@e.f>\n\n", MAILDROP_ERR_LINE },
		{ "POSTERN-MAILDROP 1\nuid 1\nrcpt <d@e.f>\nfrom <a@b.c>\n\n", MAILDROP_ERR_LINE },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>\nrcpt <d@e.f>\nfrom <a@b.c>\n\n", MAILDROP_ERR_LINE },
		{ "POSTERN-MAILDROP 1\nuid 1\nuid 1\nfrom <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_LINE },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>\nrcpt <d@e.f>\nhelo x\n\n", MAILDROP_ERR_LINE },
		{ "POSTERN-MAILDROP 1\n\n", MAILDROP_ERR_LINE },
		{ "POSTERN-MAILDROP 1\nuid 1\n\n", MAILDROP_ERR_LINE },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>\n\n", MAILDROP_ERR_NO_RCPT },
		{ "POSTERN-MAILDROP 1\nuid 1\r\nfrom <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_UID },
		/* uid */
		{ "POSTERN-MAILDROP 1\nuid \nfrom <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_UID },
		{ "POSTERN-MAILDROP 1\nuid -1\nfrom <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_UID },
		{ "POSTERN-MAILDROP 1\nuid +1\nfrom <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_UID },
		{ "POSTERN-MAILDROP 1\nuid 01\nfrom <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_UID },
		{ "POSTERN-MAILDROP 1\nuid 1 \nfrom <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_UID },
		{ "POSTERN-MAILDROP 1\nuid 4294967295\nfrom <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_UID },
		{ "POSTERN-MAILDROP 1\nuid 99999999999\nfrom <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_UID },
		{ "POSTERN-MAILDROP 1\nuid 0x10\nfrom <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_UID },
		/* sender */
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom a@b.c\nrcpt <d@e.f>\n\n", MAILDROP_ERR_FROM },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c> \nrcpt <d@e.f>\n\n", MAILDROP_ERR_FROM },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom  <a@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_FROM },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a b@c.d>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_FROM },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <\"a b\"@c.d>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_FROM },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>x\nrcpt <d@e.f>\n\n", MAILDROP_ERR_FROM },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <postmaster>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_FROM },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <\xc3\xa9@b.c>\nrcpt <d@e.f>\n\n", MAILDROP_ERR_FROM },
		/* recipients */
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>\nrcpt <>\n\n", MAILDROP_ERR_RCPT },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>\nrcpt <d>\n\n", MAILDROP_ERR_RCPT },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>\nrcpt d@e.f\n\n", MAILDROP_ERR_RCPT },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>\nrcpt <d@e.f>\nrcpt <d@e.f\n\n", MAILDROP_ERR_RCPT },
		{ "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>\nrcpt <d@e.f>\rrcpt <x@y.z>\n\n", MAILDROP_ERR_RCPT },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum maildrop_status st = parse_str(cases[i].text, 0);
		if (st != cases[i].want)
			fail_msg("case %zu (%s): got %d (%s), want %d", i,
			    cases[i].text, st, maildrop_strerror(st), cases[i].want);
	}
	/* A NUL inside a line. */
	{
		static const char t[] = "POSTERN-MAILDROP 1\nuid 1\0\nfrom <a@b.c>\nrcpt <d@e.f>\n\n";
		struct maildrop_envelope e;

		assert_int_equal(maildrop_envelope_parse(t, sizeof(t) - 1, 0, &e),
		    MAILDROP_ERR_NUL);
	}
}

static void
test_parse_max_rcpts(void **state)
{
	const char *two = "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>\nrcpt <d@e.f>\nrcpt <g@h.i>\n\n";

	(void)state;
	assert_int_equal(parse_str(two, 1), MAILDROP_ERR_TOO_MANY_RCPTS);
	assert_int_equal(parse_str(two, 2), MAILDROP_OK);
	assert_int_equal(parse_str(two, 3), MAILDROP_OK);
	assert_int_equal(parse_str(two, 0), MAILDROP_OK);
}

static void
test_envelope_size_limit(void **state)
{
	struct maildrop_envelope e;
	struct buf b;
	size_t i;

	(void)state;
	/* Recipients up to just below, then over, MAILDROP_ENVELOPE_MAX. */
	buf_init(&b, 2 * MAILDROP_ENVELOPE_MAX);
	buf_appends(&b, "POSTERN-MAILDROP 1\nuid 1\nfrom <a@b.c>\n");
	for (i = 0; b.len + 40 < MAILDROP_ENVELOPE_MAX; i++)
		buf_printf(&b, "rcpt <u%08zu@example.net>\n", i);
	buf_appendc(&b, '\n');
	assert_true(b.len <= MAILDROP_ENVELOPE_MAX);
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &e), MAILDROP_OK);
	maildrop_envelope_free(&e);
	b.len--;
	while (b.len <= MAILDROP_ENVELOPE_MAX)
		buf_appends(&b, "rcpt <x@example.net>\n");
	buf_appendc(&b, '\n');
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &e),
	    MAILDROP_ERR_ENVELOPE_SIZE);
	/* One endless line. */
	buf_reset(&b);
	buf_appends(&b, "POSTERN-MAILDROP 1\nuid 1\nfrom <");
	while (b.len <= MAILDROP_ENVELOPE_MAX + 10)
		buf_appendc(&b, 'a');
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &e),
	    MAILDROP_ERR_ENVELOPE_SIZE);
	buf_free(&b);
}

static void
test_format_roundtrip(void **state)
{
	char *rcpts[] = { "bob@example.net", "alice@mydomain.test" };
	char *bad[] = { "bob smith@example.net" };
	char *ctl[] = { "bob\n@example.net" };
	struct maildrop_envelope e;
	struct buf b;
	char out[300];

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(maildrop_envelope_format(&b, 4242, "a@b.c", rcpts, 2), 0);
	assert_string_equal(b.data, "POSTERN-MAILDROP 1\nuid 4242\nfrom <a@b.c>\n"
	    "rcpt <bob@example.net>\nrcpt <alice@mydomain.test>\n\n");
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &e), MAILDROP_OK);
	assert_int_equal(e.uid, 4242);
	assert_int_equal(e.nrcpts, 2);
	assert_string_equal(address_format(&e.rcpts[1], out, sizeof(out)),
	    "alice@mydomain.test");
	maildrop_envelope_free(&e);
	buf_reset(&b);
	assert_int_equal(maildrop_envelope_format(&b, 1, "", rcpts, 1), 0);
	assert_non_null(strstr(b.data, "from <>\n"));
	buf_reset(&b);
	assert_int_equal(maildrop_envelope_format(&b, 1, "a@b.c", bad, 1), -1);
	assert_int_equal(maildrop_envelope_format(&b, 1, "a@b.c", ctl, 1), -1);
	assert_int_equal(maildrop_envelope_format(&b, 1, "a b@c", rcpts, 1), -1);
	assert_int_equal(maildrop_envelope_format(&b, 1, "a@b.c", rcpts, 0), -1);
	buf_free(&b);
}

/* Feed whole, then byte by byte: the same verdict. */
static enum maildrop_status
content(const char *p, size_t n, uint64_t max)
{
	struct maildrop_content c, d;
	enum maildrop_status a, b;
	size_t i;

	maildrop_content_init(&c, max);
	maildrop_content_feed(&c, p, n);
	a = maildrop_content_end(&c);
	maildrop_content_init(&d, max);
	for (i = 0; i < n; i++)
		maildrop_content_feed(&d, p + i, 1);
	b = maildrop_content_end(&d);
	assert_int_equal(a, b);
	return a;
}

#define C(s, max)	content(s, sizeof(s) - 1, max)

static void
test_content(void **state)
{
	char line[MAILDROP_LINE_MAX + 8];
	size_t n;

	(void)state;
	assert_int_equal(C("", 100), MAILDROP_OK);
	assert_int_equal(C("a\r\n", 100), MAILDROP_OK);
	assert_int_equal(C("a\r\n\r\n.\r\n..\r\n\xff\r\n", 100), MAILDROP_OK);
	assert_int_equal(C("a\n", 100), MAILDROP_ERR_BARE_LF);
	assert_int_equal(C("a\r\nb\n", 100), MAILDROP_ERR_BARE_LF);
	assert_int_equal(C("a\rb\r\n", 100), MAILDROP_ERR_BARE_CR);
	assert_int_equal(C("a\r\r\n", 100), MAILDROP_ERR_BARE_CR);
	assert_int_equal(C("a\r", 100), MAILDROP_ERR_BARE_CR);
	assert_int_equal(C("a\r\nb", 100), MAILDROP_ERR_NO_FINAL_CRLF);
	assert_int_equal(C("a\0\r\n", 100), MAILDROP_ERR_NUL);
	/* size: max-1, max, max+1 */
	assert_int_equal(C("abc\r\n", 6), MAILDROP_OK);
	assert_int_equal(C("abc\r\n", 5), MAILDROP_OK);
	assert_int_equal(C("abc\r\n", 4), MAILDROP_ERR_TOO_BIG);
	/* line length with its CRLF: 999, 1000, 1001 */
	for (n = MAILDROP_LINE_MAX - 1; n <= MAILDROP_LINE_MAX + 1; n++) {
		memset(line, 'x', n - 2);
		memcpy(line + n - 2, "\r\n", 2);
		assert_int_equal(content(line, n, 100000),
		    n <= MAILDROP_LINE_MAX ? MAILDROP_OK : MAILDROP_ERR_LONG_LINE);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_max_rcpts),
		cmocka_unit_test(test_envelope_size_limit),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_content),
	};

	return cmocka_run_group_tests_name("maildrop", tests, NULL, NULL);
}
