/* test_dns_cache - answers kept per TTL: expiry, the caps on positive
 * and negative TTLs, TEMP and PERM never kept, the key (type, name
 * without case or final dot), replacement, eviction when full, the text
 * copied whole. */
#include "unit.h"
#include "dns_cache.h"

static struct dns_answer in, out;

static void
make(int st, enum dns_qtype type, uint32_t ttl, const char *text)
{
	memset(&in, 0, sizeof(in));
	in.status = st;
	in.type = type;
	in.ttl = ttl;
	if (text != NULL) {
		size_t l = strlen(text);

		memcpy(in.text, text, l + 1);
		in.rr[0].off = 0;
		in.rr[0].len = (uint32_t)l;
		in.nrr = 1;
		in.textlen = l + 1;
	}
}

static void
test_ttl_policy(void **state)
{
	(void)state;
	assert_int_equal(dns_cache_ttl(OUTCOME_OK, 100), 100);
	assert_int_equal(dns_cache_ttl(OUTCOME_OK, 86400), DNS_CACHE_TTL_MAX);
	assert_int_equal(dns_cache_ttl(DNS_NXDOMAIN, 100), 100);
	assert_int_equal(dns_cache_ttl(DNS_NODATA, 3600), DNS_CACHE_NEG_TTL_MAX);
	assert_int_equal(dns_cache_ttl(DNS_NXDOMAIN, 0), 0);
	assert_int_equal(dns_cache_ttl(OUTCOME_TEMP, 100), 0);
	assert_int_equal(dns_cache_ttl(OUTCOME_PERM, 100), 0);
}

static void
test_expiry(void **state)
{
	struct dns_cache *c = dns_cache_new(8);

	(void)state;
	make(OUTCOME_OK, DNS_T_TXT, 100, "v=spf1 -all");
	dns_cache_put(c, "example.org", &in, 1000);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "example.org", 1000, &out), 1);
	assert_int_equal(out.status, OUTCOME_OK);
	assert_int_equal(out.ttl, 100);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "example.org", 1099, &out), 1);
	assert_int_equal(out.ttl, 1);
	assert_string_equal((out.text + out.rr[0].off), "v=spf1 -all");
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "example.org", 1100, &out), 0);
	/* a day's TTL lives an hour */
	make(OUTCOME_OK, DNS_T_A, 86400, NULL);
	in.nrr = 1;
	dns_cache_put(c, "h.example.org", &in, 0);
	assert_int_equal(dns_cache_get(c, DNS_T_A, "h.example.org",
	    DNS_CACHE_TTL_MAX - 1, &out), 1);
	assert_int_equal(dns_cache_get(c, DNS_T_A, "h.example.org",
	    DNS_CACHE_TTL_MAX, &out), 0);
	/* a negative answer at most five minutes */
	make(DNS_NXDOMAIN, DNS_T_TXT, 3600, NULL);
	dns_cache_put(c, "_dmarc.nowhere.example", &in, 0);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "_dmarc.nowhere.example",
	    DNS_CACHE_NEG_TTL_MAX - 1, &out), 1);
	assert_int_equal(out.status, DNS_NXDOMAIN);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "_dmarc.nowhere.example",
	    DNS_CACHE_NEG_TTL_MAX, &out), 0);
	dns_cache_free(c);
}

static void
test_not_kept(void **state)
{
	struct dns_cache *c = dns_cache_new(8);

	(void)state;
	make(OUTCOME_TEMP, DNS_T_TXT, 100, NULL);
	dns_cache_put(c, "a.example", &in, 0);
	make(OUTCOME_PERM, DNS_T_TXT, 100, NULL);
	dns_cache_put(c, "b.example", &in, 0);
	make(DNS_NODATA, DNS_T_TXT, 0, NULL);	/* no SOA */
	dns_cache_put(c, "c.example", &in, 0);
	make(OUTCOME_OK, DNS_T_TXT, 0, "x");
	dns_cache_put(c, "d.example", &in, 0);
	assert_int_equal(dns_cache_count(c), 0);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "a.example", 0, &out), 0);
	dns_cache_free(c);
	/* a cache of no entries keeps nothing */
	c = dns_cache_new(0);
	make(OUTCOME_OK, DNS_T_TXT, 100, "x");
	dns_cache_put(c, "a.example", &in, 0);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "a.example", 0, &out), 0);
	dns_cache_free(c);
	dns_cache_free(NULL);
}

static void
test_key(void **state)
{
	struct dns_cache *c = dns_cache_new(8);

	(void)state;
	make(OUTCOME_OK, DNS_T_TXT, 100, "txt");
	dns_cache_put(c, "Example.ORG.", &in, 0);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "example.org", 1, &out), 1);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "EXAMPLE.org.", 1, &out), 1);
	assert_int_equal(dns_cache_get(c, DNS_T_MX, "example.org", 1, &out), 0);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "www.example.org", 1,
	    &out), 0);
	/* the same key again replaces */
	make(OUTCOME_OK, DNS_T_TXT, 100, "newer");
	dns_cache_put(c, "example.org", &in, 10);
	assert_int_equal(dns_cache_count(c), 1);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "example.org", 10, &out), 1);
	assert_string_equal((out.text + out.rr[0].off), "newer");
	dns_cache_free(c);
}

static void
test_eviction(void **state)
{
	struct dns_cache *c = dns_cache_new(3);

	(void)state;
	make(OUTCOME_OK, DNS_T_A, 100, NULL);
	dns_cache_put(c, "long.example", &in, 0);	/* expires 100 */
	make(OUTCOME_OK, DNS_T_A, 10, NULL);
	dns_cache_put(c, "short.example", &in, 0);	/* expires 10 */
	make(OUTCOME_OK, DNS_T_A, 50, NULL);
	dns_cache_put(c, "mid.example", &in, 0);	/* expires 50 */
	assert_int_equal(dns_cache_count(c), 3);
	/* full: the one that would expire first goes */
	make(OUTCOME_OK, DNS_T_A, 1000, NULL);
	dns_cache_put(c, "new.example", &in, 5);
	assert_int_equal(dns_cache_count(c), 3);
	assert_int_equal(dns_cache_get(c, DNS_T_A, "short.example", 5, &out), 0);
	assert_int_equal(dns_cache_get(c, DNS_T_A, "long.example", 5, &out), 1);
	assert_int_equal(dns_cache_get(c, DNS_T_A, "mid.example", 5, &out), 1);
	assert_int_equal(dns_cache_get(c, DNS_T_A, "new.example", 5, &out), 1);
	/* at 60 mid has expired: it goes before long */
	dns_cache_put(c, "newer.example", &in, 60);
	assert_int_equal(dns_cache_get(c, DNS_T_A, "long.example", 60, &out), 1);
	assert_int_equal(dns_cache_get(c, DNS_T_A, "newer.example", 60, &out), 1);
	dns_cache_free(c);
}

static void
test_big_text(void **state)
{
	struct dns_cache *c = dns_cache_new(2);
	static char big[DNS_TEXT_MAX];

	(void)state;
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	make(OUTCOME_OK, DNS_T_TXT, 100, big);
	dns_cache_put(c, "sel._domainkey.example", &in, 0);
	memset(&out, 0, sizeof(out));
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, "sel._domainkey.example",
	    1, &out), 1);
	assert_int_equal(out.nrr, 1);
	assert_int_equal(out.rr[0].len, sizeof(big) - 1);
	assert_string_equal((out.text + out.rr[0].off), big);
	/* a name too long is never a key */
	memset(big, 'a', 300);
	big[300] = '\0';
	make(OUTCOME_OK, DNS_T_TXT, 100, "x");
	dns_cache_put(c, big, &in, 0);
	assert_int_equal(dns_cache_count(c), 1);
	assert_int_equal(dns_cache_get(c, DNS_T_TXT, big, 0, &out), 0);
	dns_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_policy),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_not_kept),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_big_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
