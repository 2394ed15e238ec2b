/* test_base64 - strict RFC 4648 base64: the RFC's test vectors both ways,
 * every malformed form refused (bad characters, whitespace, bad length,
 * misplaced or excess padding, non-zero pad bits), output bounds at
 * limit-1, limit and limit+1, and encode/decode round trips. */
#include "unit.h"
#include "base64.h"

/* RFC 4648 section 10. */
static const struct {
	const char *raw, *enc;
} rfc[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void
test_rfc_vectors(void **state)
{
	char enc[64];
	unsigned char dec[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		assert_int_equal(base64_encode(enc, sizeof(enc), rfc[i].raw,
		    strlen(rfc[i].raw)), (long)strlen(rfc[i].enc));
		assert_string_equal(enc, rfc[i].enc);
		assert_int_equal(base64_decode(dec, sizeof(dec), &n,
		    rfc[i].enc, strlen(rfc[i].enc)), BASE64_OK);
		assert_int_equal(n, strlen(rfc[i].raw));
		assert_memory_equal(dec, rfc[i].raw, n);
	}
}

static void
test_decode_refused(void **state)
{
	static const struct {
		const char *in;
		size_t len;	/* 0: strlen */
	} bad[] = {
		{ "Z", 0 }, { "Zg", 0 }, { "Zg=", 0 }, { "Zm9vY", 0 },
		{ "Zg===", 0 }, { "Zg==Zg==", 0 },	/* pad in the middle */
		{ "Z===", 0 }, { "====", 0 }, { "=Zm9", 0 }, { "Zm=v", 0 },
		{ "Z=g=", 0 },
		{ "Zh==", 0 }, { "Zm9=", 0 },		/* pad bits not zero */
		{ "Zm9v\n", 0 }, { "Zm9v\r\n", 0 }, { " Zm9v", 0 },
		{ "Zm 9v", 0 }, { "Zm9\tv", 0 }, { "Zm9v ", 0 },
		{ "Zm9-", 0 }, { "Zm9_", 0 },		/* URL-safe alphabet */
		{ "Zm9*", 0 }, { "Zm9.", 0 }, { "Zm\x80v", 0 },
		{ "Zm\0v", 4 }, { "\0\0\0\0", 4 },
	};
	unsigned char dec[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].in);

		n = 99;
		if (base64_decode(dec, sizeof(dec), &n, bad[i].in, len) !=
		    BASE64_BAD || n != 0)
			fail_msg("bad case %zu accepted", i);
	}
}

/* Every single-byte value: only the 64 alphabet characters decode. */
static void
test_every_byte(void **state)
{
	char in[5] = "AAAA";
	unsigned char dec[4];
	size_t n;
	int c, ok = 0;

	(void)state;
	for (c = 0; c < 256; c++) {
		in[3] = (char)c;
		if (base64_decode(dec, sizeof(dec), &n, in, 4) == BASE64_OK)
			ok++;
	}
	assert_int_equal(ok, 64 + 1);	/* 64 symbols, and "AAA=" */
}

/* Output bounds at limit-1, limit, limit+1. */
static void
test_bounds(void **state)
{
	char enc[16];
	unsigned char dec[8];
	size_t n;

	(void)state;
	/* "foobar" -> 8 chars + NUL = 9 */
	assert_int_equal(base64_encode(enc, 8, "foobar", 6), -1);
	assert_string_equal(enc, "");
	assert_int_equal(base64_encode(enc, 9, "foobar", 6), 8);
	assert_int_equal(base64_encode(enc, 10, "foobar", 6), 8);
	assert_int_equal(base64_encode(enc, 0, "", 0), -1);
	assert_int_equal(base64_encode(enc, 1, "", 0), 0);
	assert_string_equal(enc, "");

	assert_int_equal(base64_decode(dec, 5, &n, "Zm9vYmFy", 8),
	    BASE64_TOOBIG);
	assert_int_equal(n, 0);
	assert_int_equal(base64_decode(dec, 6, &n, "Zm9vYmFy", 8), BASE64_OK);
	assert_int_equal(n, 6);
	assert_int_equal(base64_decode(dec, 7, &n, "Zm9vYmFy", 8), BASE64_OK);
	/* With padding, only the real octets need room. */
	assert_int_equal(base64_decode(dec, 4, &n, "Zm9vYg==", 8), BASE64_OK);
	assert_int_equal(n, 4);
	assert_int_equal(base64_decode(dec, 3, &n, "Zm9vYg==", 8),
	    BASE64_TOOBIG);
	assert_int_equal(base64_decode(dec, 0, &n, "", 0), BASE64_OK);
	assert_int_equal(n, 0);
}

/* Round trip every length 0..64 of every byte pattern shift. */
static void
test_round_trip(void **state)
{
	unsigned char raw[64], dec[64];
	char enc[BASE64_ENCODED_SIZE(64)];
	size_t len, i, n, k;

	(void)state;
	for (k = 0; k < 4; k++) {
		for (i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)(i * 37 + k * 101);
		for (len = 0; len <= sizeof(raw); len++) {
			long el = base64_encode(enc, sizeof(enc), raw, len);

			assert_int_equal(el, (long)BASE64_ENCODED_LEN(len));
			assert_int_equal(base64_decode(dec, sizeof(dec), &n,
			    enc, (size_t)el), BASE64_OK);
			assert_int_equal(n, len);
			assert_memory_equal(dec, raw, len);
			assert_true(BASE64_DECODED_MAX((size_t)el) >= len);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_vectors),
		cmocka_unit_test(test_decode_refused),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
