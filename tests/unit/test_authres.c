/* test_authres - the Authentication-Results writer (exact output,
 * quoting, folding, control characters) and the remover (our id in every
 * spelling, folded fields, comments, quoted ids; other ids kept; the body
 * untouched). */
#include "unit.h"

#include "authres.h"

static void
expect_write(const char *id, const struct authres_result *r, size_t n,
    const char *want)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(authres_write(&b, id, r, n), 0);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void
test_write_three(void **state)
{
	struct authres_result r[3] = {
		{ "spf", "pass", NULL, { { "smtp", "mailfrom",
		    "alice@example.org" } }, 1 },
		{ "dkim", "pass", NULL, { { "header", "d", "example.org" },
		    { "header", "s", "sel1" }, { "header", "b", "abcd1234" } },
		    3 },
		{ "dmarc", "fail", "p=reject", { { "header", "from",
		    "bank.example" } }, 1 },
	};

	(void)state;
	expect_write("mx.example.net", r, 3,
	    "Authentication-Results: mx.example.net;\r\n"
	    "\tspf=pass smtp.mailfrom=alice@example.org;\r\n"
	    "\tdkim=pass header.d=example.org header.s=sel1 header.b=abcd1234;\r\n"
	    "\tdmarc=fail (p=reject) header.from=bank.example\r\n");
}

static void
test_write_none(void **state)
{
	(void)state;
	expect_write("mx.example.net", NULL, 0,
	    "Authentication-Results: mx.example.net; none\r\n");
}

static void
test_write_quoting(void **state)
{
	struct authres_result r[1] = {
		{ "dkim", "fail", "bad (sig) \\ x", { { "header", "b",
		    "ab/c+d=" }, { "smtp", "mailfrom", "\"odd user\"@x.example" },
		    { "header", "s", "" }, { "header", "d", "a\r\nX-Evil: 1" } },
		    4 },
	};

	(void)state;
	expect_write("mx", r, 1,
	    "Authentication-Results: mx;\r\n"
	    "\tdkim=fail (bad \\(sig\\) \\\\ x) header.b=\"ab/c+d=\"\r\n"
	    "\tsmtp.mailfrom=\"\\\"odd user\\\"@x.example\" header.s=\"\""
	    " header.d=\"a??X-Evil: 1\"\r\n");
	/* an id that is not a token is quoted */
	expect_write("my host", NULL, 0,
	    "Authentication-Results: \"my host\"; none\r\n");
}

static void
test_write_fold(void **state)
{
	struct authres_result r[1] = {
		{ "spf", "pass", NULL, { { "smtp", "mailfrom",
		    "a-very-long-local-part-indeed@a-very-long-domain-name.example" },
		    { "smtp", "helo", "mail.a-very-long-domain-name.example" } }, 2 },
	};

	(void)state;
	expect_write("mx", r, 1,
	    "Authentication-Results: mx;\r\n"
	    "\tspf=pass\r\n"
	    "\tsmtp.mailfrom=a-very-long-local-part-indeed@a-very-long-domain-name.example\r\n"
	    "\tsmtp.helo=mail.a-very-long-domain-name.example\r\n");
}

static void
test_write_refused(void **state)
{
	struct authres_result bad[1] = { { "sp f", "pass", NULL, { { 0 } }, 0 } };
	struct authres_result ok[1] = { { "spf", "pass", NULL, { { 0 } }, 0 } };
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(authres_write(&b, "mx", bad, 1), -1);
	buf_free(&b);
	buf_init(&b, 20);
	assert_int_equal(authres_write(&b, "mx", ok, 1), -1);
	buf_free(&b);
	buf_init(&b, 64);
	assert_int_equal(authres_write(&b, "mx", ok, 1), 0);
	assert_string_equal(b.data,
	    "Authentication-Results: mx;\r\n\tspf=pass\r\n");
	buf_free(&b);
}

static void
test_is_ours(void **state)
{
	static const struct { const char *v; int ours; } cases[] = {
		{ " mx.example.net; spf=pass", 1 },
		{ " MX.Example.NET; spf=pass", 1 },
		{ "mx.example.net;", 1 },
		{ " mx.example.net.; spf=pass", 1 },
		{ " mx.example.net", 1 },
		{ " mx.example.net 1; none", 1 },
		{ " (forged) mx.example.net (x); spf=pass", 1 },
		{ " (nested (comment\\)) here) mx.example.net;", 1 },
		{ "\r\n\tmx.example.net;\r\n\tspf=pass", 1 },
		{ " \"mx.example.net\"; spf=pass", 1 },
		{ " \"mx.exa\\mple.net\"; spf=pass", 1 },
		{ " other.example; spf=pass", 0 },
		{ " mx.example.net.evil; spf=pass", 0 },
		{ " evil.mx.example.net; spf=pass", 0 },
		{ " mx.example.ne; spf=pass", 0 },
		{ " mx.example.net/x; spf=pass", 0 },
		{ " ; mx.example.net", 0 },
		{ "", 0 },
		{ " (unterminated mx.example.net;", 0 },
		{ " \"mx.example.net", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (authres_is_ours(cases[i].v, strlen(cases[i].v),
		    "mx.example.net") != cases[i].ours)
			fail_msg("case %zu: %s", i, cases[i].v);
	assert_int_equal(authres_is_ours(" mx;", 4, ""), 0);
}

static void
expect_strip(const char *in, const char *want, long dropped)
{
	struct buf b;

	buf_init(&b, 65536);
	assert_int_equal(authres_strip(in, strlen(in), "mx.example.net", &b),
	    dropped);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void
test_strip(void **state)
{
	(void)state;
	expect_strip(
	    "Received: from a\r\n"
	    "Authentication-Results: mx.example.net; dkim=pass\r\n"
	    "authentication-results:\r\n"
	    "\t(comment) MX.EXAMPLE.NET;\r\n"
	    "\tspf=pass smtp.mailfrom=x@y\r\n"
	    "Authentication-Results: other.example; dmarc=pass\r\n"
	    "AUTHENTICATION-RESULTS : mx.example.net; none\r\n"
	    "From: a@b.example\r\n"
	    "\r\n"
	    "Authentication-Results: mx.example.net; body\r\n",
	    "Received: from a\r\n"
	    "Authentication-Results: other.example; dmarc=pass\r\n"
	    "From: a@b.example\r\n"
	    "\r\n"
	    "Authentication-Results: mx.example.net; body\r\n", 3);
	/* the first and the last field; bare LF; no body */
	expect_strip(
	    "Authentication-Results: mx.example.net; a\n"
	    "Subject: x\n"
	    "Authentication-Results: mx.example.net; b",
	    "Subject: x\n", 2);
	/* nothing to drop: unchanged */
	expect_strip("Subject: x\r\n\r\nbody", "Subject: x\r\n\r\nbody", 0);
	expect_strip("", "", 0);
	/* junk lines are kept and looked past, up to the empty line */
	expect_strip(
	    "Subject: x\r\nnot a field\r\n continued junk\r\n"
	    "Authentication-Results: mx.example.net; a\r\n"
	    "\r\nAuthentication-Results: mx.example.net; body\r\n",
	    "Subject: x\r\nnot a field\r\n continued junk\r\n"
	    "\r\nAuthentication-Results: mx.example.net; body\r\n", 1);
	expect_strip(
	    " leading continuation\r\n"
	    "Authentication-Results: mx.example.net; a\r\n",
	    " leading continuation\r\n", 1);
	/* similar names are other fields */
	expect_strip(
	    "X-Authentication-Results: mx.example.net; a\r\n"
	    "Authentication-Results-X: mx.example.net; a\r\n",
	    "X-Authentication-Results: mx.example.net; a\r\n"
	    "Authentication-Results-X: mx.example.net; a\r\n", 0);
}

static void
test_strip_full(void **state)
{
	const char *in = "Authentication-Results: mx.example.net; a\r\n"
	    "Subject: hello\r\n";
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(authres_strip(in, strlen(in), "mx.example.net", &b),
	    -1);
	buf_free(&b);
	buf_init(&b, 16);
	assert_int_equal(authres_strip(in, strlen(in), "mx.example.net", &b),
	    1);
	assert_string_equal(b.data, "Subject: hello\r\n");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_three),
		cmocka_unit_test(test_write_none),
		cmocka_unit_test(test_write_quoting),
		cmocka_unit_test(test_write_fold),
		cmocka_unit_test(test_write_refused),
		cmocka_unit_test(test_is_ours),
		cmocka_unit_test(test_strip),
		cmocka_unit_test(test_strip_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
