/* test_srs - SRS0 addresses: made, reversed, forged, expired. */
#include "unit.h"
#include "srs.h"

static const unsigned char key[] = "0123456789abcdef0123456789abcdef";
#define KEYLEN	32
#define NOW	((time_t)1796300000)	/* a fixed day */

static void
test_roundtrip(void **state)
{
	char fwd[300], back[300];
	const char *at;

	(void)state;
	assert_int_equal(srs_forward(key, KEYLEN, "Alice@Example.NET",
	    "mydomain.test", NOW, fwd, sizeof(fwd)), SRS_OK);
	assert_memory_equal(fwd, "SRS0=", 5);
	at = strrchr(fwd, '@');
	assert_non_null(at);
	assert_string_equal(at, "@mydomain.test");
	assert_non_null(strstr(fwd, "=Example.NET=Alice@"));
	((char *)at)[0] = '\0';
	assert_int_equal(srs_reverse(key, KEYLEN, fwd, NOW, back, sizeof(back)),
	    SRS_OK);
	assert_string_equal(back, "Alice@Example.NET");
	/* Mail systems lower-case addresses: still ours. */
	for (char *p = fwd; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	assert_int_equal(srs_reverse(key, KEYLEN, fwd, NOW + 20 * 86400, back,
	    sizeof(back)), SRS_OK);
	assert_string_equal(back, "alice@example.net");
}

static void
test_forged_and_expired(void **state)
{
	char fwd[300], back[300], *at;

	(void)state;
	assert_int_equal(srs_forward(key, KEYLEN, "bob@example.org",
	    "mydomain.test", NOW, fwd, sizeof(fwd)), SRS_OK);
	at = strrchr(fwd, '@');
	*at = '\0';
	/* another secret */
	assert_int_equal(srs_reverse((const unsigned char *)"another secret!!",
	    16, fwd, NOW, back, sizeof(back)), SRS_BAD_HASH);
	/* 22 days later */
	assert_int_equal(srs_reverse(key, KEYLEN, fwd, NOW + 22 * 86400, back,
	    sizeof(back)), SRS_EXPIRED);
	/* a changed destination */
	fwd[strlen(fwd) - 1] = 'x';
	assert_int_equal(srs_reverse(key, KEYLEN, fwd, NOW, back, sizeof(back)),
	    SRS_BAD_HASH);
	assert_int_equal(srs_reverse(key, KEYLEN, "alice", NOW, back,
	    sizeof(back)), SRS_NOT_SRS);
	assert_int_equal(srs_reverse(key, KEYLEN, "SRS0=abc=aa=x=y", NOW, back,
	    sizeof(back)), SRS_SYNTAX);
	assert_int_equal(srs_reverse(key, KEYLEN, "SRS0=abcdef=a", NOW, back,
	    sizeof(back)), SRS_SYNTAX);
	assert_int_equal(srs_reverse(key, KEYLEN, "SRS0=abcdef=aa=dom=", NOW,
	    back, sizeof(back)), SRS_SYNTAX);
	assert_int_equal(srs_reverse(key, KEYLEN, "SRS0=abcdef=a1=dom=x", NOW,
	    back, sizeof(back)), SRS_SYNTAX);
}

static void
test_limits(void **state)
{
	char fwd[300];

	(void)state;
	/* The SRS local part would be over 64 octets: not made. */
	assert_int_equal(srs_forward(key, KEYLEN,
	    "a.rather.long.local.part.indeed@a-long-domain-name.example.org",
	    "mydomain.test", NOW, fwd, sizeof(fwd)), SRS_TOO_LONG);
	assert_int_equal(srs_forward(key, KEYLEN, "nodomain", "mydomain.test",
	    NOW, fwd, sizeof(fwd)), SRS_SYNTAX);
	assert_int_equal(srs_forward(key, KEYLEN, "a@b.example", "mydomain.test",
	    NOW, fwd, 10), SRS_TOO_LONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_forged_and_expired),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
