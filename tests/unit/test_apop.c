/* test_apop - the APOP timestamp and digest check: RFC 1939's example,
 * every digit wrong in turn, both cases, every malformed digest and host. */
#include "unit.h"
#include "apop.h"

#define RFC_TS		"<1896.697170952@dbc.mtview.ca.us>"
#define RFC_SECRET	"tanstaaf"
#define RFC_DIGEST	"c4c9334bac560ecc979e58001b3e22fb"

static int
check(const char *ts, const char *secret, const char *digest)
{
	return apop_check(ts, strlen(ts), secret, strlen(secret), digest,
	    strlen(digest));
}

static void
test_rfc_digest(void **state)
{
	char hex[APOP_DIGEST_HEX + 1];

	(void)state;
	assert_int_equal(apop_digest(RFC_TS, strlen(RFC_TS), RFC_SECRET,
	    strlen(RFC_SECRET), hex), 0);
	assert_string_equal(hex, RFC_DIGEST);
}

static void
test_check_cases(void **state)
{
	static const struct {
		const char *ts, *secret, *digest;
		int want;
	} t[] = {
		{ RFC_TS, RFC_SECRET, RFC_DIGEST, 1 },
		{ RFC_TS, RFC_SECRET, "C4C9334BAC560ECC979E58001B3E22FB", 1 },
		{ RFC_TS, RFC_SECRET, "c4C9334baC560eCC979e58001B3e22Fb", 1 },
		{ RFC_TS, "tanstaaF", RFC_DIGEST, 0 },	/* wrong secret */
		{ RFC_TS, "", RFC_DIGEST, 0 },
		{ "<1896.697170953@dbc.mtview.ca.us>", RFC_SECRET, RFC_DIGEST, 0 },
		{ RFC_TS, RFC_SECRET, "c4c9334bac560ecc979e58001b3e22f", 0 },
		{ RFC_TS, RFC_SECRET, "c4c9334bac560ecc979e58001b3e22fbb", 0 },
		{ RFC_TS, RFC_SECRET, "", 0 },
		{ RFC_TS, RFC_SECRET, "g4c9334bac560ecc979e58001b3e22fb", 0 },
		{ RFC_TS, RFC_SECRET, "c4c9334bac560ecc979e58001b3e22f ", 0 },
		{ RFC_TS, RFC_SECRET, " c4c9334bac560ecc979e58001b3e22f", 0 },
		{ RFC_TS, RFC_SECRET, "0xc9334bac560ecc979e58001b3e22fb", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (check(t[i].ts, t[i].secret, t[i].digest) != t[i].want)
			fail_msg("case %zu (%s)", i, t[i].digest);
	}
}

/* Every position off by one hex digit: never accepted. */
static void
test_each_digit_wrong(void **state)
{
	char d[] = RFC_DIGEST;
	size_t i;

	(void)state;
	for (i = 0; i < APOP_DIGEST_HEX; i++) {
		char saved = d[i];

		d[i] = saved == '0' ? '1' : '0';
		assert_int_equal(check(RFC_TS, RFC_SECRET, d), 0);
		d[i] = saved;
	}
	assert_int_equal(check(RFC_TS, RFC_SECRET, d), 1);
}

/* A NUL inside the claimed length is not a hex digit. */
static void
test_embedded_nul(void **state)
{
	char d[] = RFC_DIGEST;

	(void)state;
	d[5] = '\0';
	assert_int_equal(apop_check(RFC_TS, strlen(RFC_TS), RFC_SECRET,
	    strlen(RFC_SECRET), d, APOP_DIGEST_HEX), 0);
	assert_int_equal(apop_digest_valid(d, APOP_DIGEST_HEX), 0);
	assert_int_equal(apop_digest_valid(NULL, 0), 0);
}

static void
test_digest_valid(void **state)
{
	(void)state;
	assert_int_equal(apop_digest_valid(RFC_DIGEST, 32), 1);
	assert_int_equal(apop_digest_valid("ABCDEFabcdef01234567890123456789",
	    32), 1);
	assert_int_equal(apop_digest_valid(RFC_DIGEST, 31), 0);
	assert_int_equal(apop_digest_valid("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
	    32), 0);
}

static void
test_timestamp(void **state)
{
	unsigned char rnd[16];
	char ts[APOP_TIMESTAMP_MAX], small[64];
	const char *want = "<000102030405060708090a0b0c0d0e0f.1234.1700000000"
	    "@mail.example>";
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (unsigned char)i;
	n = apop_timestamp(ts, sizeof(ts), rnd, sizeof(rnd), 1234, 1700000000,
	    "mail.example");
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(ts, want);
	/* dst exactly big enough, and one octet short */
	assert_int_equal(apop_timestamp(small, strlen(want) + 1, rnd,
	    sizeof(rnd), 1234, 1700000000, "mail.example"), (int)strlen(want));
	assert_int_equal(apop_timestamp(small, strlen(want), rnd, sizeof(rnd),
	    1234, 1700000000, "mail.example"), -1);
	assert_string_equal(small, "");
	/* other random octets: another timestamp */
	rnd[15] = 0xff;
	assert_int_equal(apop_timestamp(small, sizeof(small), rnd, sizeof(rnd),
	    1234, 1700000000, "mail.example"), (int)strlen(want));
	assert_string_not_equal(small, want);
	assert_non_null(strstr(small, "0eff."));
	/* The RFC example works as our own timestamp would. */
	assert_int_equal(check(RFC_TS, RFC_SECRET, RFC_DIGEST), 1);
}

static void
test_timestamp_bad(void **state)
{
	static const char *const bad_hosts[] = {
		"", "a b", "a<b", "a>b", "a@b", "a\x7f", "a\tb", "\xc3\xa9",
	};
	unsigned char rnd[APOP_RANDOM_MAX + 1] = { 0 };
	char ts[APOP_TIMESTAMP_MAX], host[APOP_HOST_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++)
		assert_int_equal(apop_timestamp(ts, sizeof(ts), rnd, 16, 1, 2,
		    bad_hosts[i]), -1);
	assert_int_equal(apop_timestamp(ts, sizeof(ts), rnd, 16, 1, 2, NULL),
	    -1);
	/* random: 0 and MAX+1 refused, MAX accepted */
	assert_int_equal(apop_timestamp(ts, sizeof(ts), rnd, 0, 1, 2, "h"), -1);
	assert_int_equal(apop_timestamp(ts, sizeof(ts), rnd,
	    APOP_RANDOM_MAX + 1, 1, 2, "h"), -1);
	assert_true(apop_timestamp(ts, sizeof(ts), rnd, APOP_RANDOM_MAX, 1, 2,
	    "h") > 0);
	/* host at the limit, and one over; with the largest numbers */
	memset(host, 'h', APOP_HOST_MAX);
	host[APOP_HOST_MAX] = '\0';
	assert_true(apop_timestamp(ts, sizeof(ts), rnd, APOP_RANDOM_MAX,
	    -9223372036854775807LL - 1, -9223372036854775807LL - 1, host) > 0);
	assert_true(strlen(ts) < APOP_TIMESTAMP_MAX);
	host[APOP_HOST_MAX] = 'h';
	host[APOP_HOST_MAX + 1] = '\0';
	assert_int_equal(apop_timestamp(ts, sizeof(ts), rnd, 16, 1, 2, host),
	    -1);
}

/* A digest of our own timestamp round-trips through apop_check. */
static void
test_roundtrip(void **state)
{
	unsigned char rnd[APOP_RANDOM_BYTES] = { 9, 8, 7 };
	char ts[APOP_TIMESTAMP_MAX], hex[APOP_DIGEST_HEX + 1];
	int n;

	(void)state;
	n = apop_timestamp(ts, sizeof(ts), rnd, sizeof(rnd), 42, 43, "h.example");
	assert_true(n > 0);
	assert_int_equal(apop_digest(ts, (size_t)n, "s3cret", 6, hex), 0);
	assert_int_equal(check(ts, "s3cret", hex), 1);
	assert_int_equal(check(ts, "s3cre", hex), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_digest),
		cmocka_unit_test(test_check_cases),
		cmocka_unit_test(test_each_digit_wrong),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_digest_valid),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_timestamp_bad),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
