/* test_dnsbl - blocklist query names (RFC 5782), listings, decisions. */
#include "unit.h"
#include "dnsbl.h"

static struct netaddr
ip(const char *s)
{
	struct netaddr a;

	assert_int_equal(netaddr_parse(s, &a), 0);
	return a;
}

static void
test_names(void **state)
{
	struct netaddr a = ip("192.0.2.99");
	char buf[300];

	(void)state;
	assert_int_equal(dnsbl_query_name(&a, "bl.example", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "99.2.0.192.bl.example");
	/* RFC 5782 2.4's own example. */
	a = ip("2001:db8:1:2:3:4:567:89ab");
	assert_int_equal(dnsbl_query_name(&a, "ugly.example.com", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0."
	    "1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
	/* A mapped IPv4 address is looked up as IPv4. */
	a = ip("::ffff:127.0.0.2");
	assert_int_equal(dnsbl_query_name(&a, "bl.test", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2.0.0.127.bl.test");
	/* Too small a buffer, no zone, no address. */
	a = ip("127.0.0.2");
	assert_int_equal(dnsbl_query_name(&a, "bl.test", buf, 10), -1);
	assert_int_equal(dnsbl_query_name(&a, "", buf, sizeof(buf)), -1);
	memset(&a, 0, sizeof(a));
	assert_int_equal(dnsbl_query_name(&a, "bl.test", buf, sizeof(buf)), -1);
}

static void
test_listing(void **state)
{
	struct netaddr a;

	(void)state;
	a = ip("127.0.0.2");
	assert_true(dnsbl_address_lists(&a));
	a = ip("127.0.0.10");
	assert_true(dnsbl_address_lists(&a));
	/* Query-refused codes and addresses outside 127/8 are no listing. */
	a = ip("127.255.255.254");
	assert_false(dnsbl_address_lists(&a));
	a = ip("192.0.2.1");
	assert_false(dnsbl_address_lists(&a));
	a = ip("::1");
	assert_false(dnsbl_address_lists(&a));
}

static void
test_decide(void **state)
{
	unsigned w[3] = { 1, 2, 3 };
	int l[3] = { 0, 0, 0 };

	(void)state;
	assert_false(dnsbl_decide(w, l, 3, 1));
	l[0] = 1;
	assert_true(dnsbl_decide(w, l, 3, 1));
	assert_false(dnsbl_decide(w, l, 3, 2));
	l[1] = 1;
	assert_true(dnsbl_decide(w, l, 3, 3));
	assert_false(dnsbl_decide(w, l, 3, 4));
	l[2] = 1;
	assert_true(dnsbl_decide(w, l, 3, 6));
	assert_false(dnsbl_decide(w, l, 0, 1));
}

static void
test_reply(void **state)
{
	char buf[300];

	(void)state;
	dnsbl_reply(buf, sizeof(buf), 0, "127.0.0.2", "bl.test",
	    "Listed: see http://bl.test/\r\n");
	assert_string_equal(buf, "554 5.7.1 Service unavailable; client "
	    "[127.0.0.2] blocked using bl.test: Listed: see http://bl.test/??");
	dnsbl_reply(buf, sizeof(buf), 1, "127.0.0.2", "bl.test", "");
	assert_string_equal(buf, "451 4.7.1 Service unavailable; client "
	    "[127.0.0.2] blocked using bl.test");
	dnsbl_reply(buf, 20, 1, "127.0.0.2", "bl.test", NULL);
	assert_int_equal(strlen(buf), 19);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
