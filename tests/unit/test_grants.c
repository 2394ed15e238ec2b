/* test_grants - POP-before-SMTP grants: live, expired, other address. */
#include "unit.h"

#include <arpa/inet.h>

#include "grants.h"

static struct netaddr
A(const char *s)
{
	struct netaddr a;

	assert_int_equal(netaddr_parse(s, &a), 0);
	return a;
}

static void
test_grants_lookup(void **state)
{
	struct grants g = { NULL, 0 };
	struct netaddr a = A("203.0.113.5"), b = A("203.0.113.6");
	struct netaddr c = A("2001:db8::5"), m = A("::ffff:203.0.113.5");
	const struct grant *gr;

	(void)state;
	assert_null(grants_lookup(&g, &a, 100));
	assert_null(grants_lookup(NULL, &a, 100));
	assert_int_equal(grants_put(&g, &a, "bob", 1000), 0);
	assert_int_equal(grants_put(&g, &c, "carol", 1000), 0);

	/* live until, not at, the expiry */
	gr = grants_lookup(&g, &a, 999);
	assert_non_null(gr);
	assert_string_equal(gr->user, "bob");
	assert_null(grants_lookup(&g, &a, 1000));
	assert_null(grants_lookup(&g, &a, 5000));
	/* the grant covers its own address only */
	assert_null(grants_lookup(&g, &b, 999));
	assert_non_null(grants_lookup(&g, &m, 999));	/* same address */
	gr = grants_lookup(&g, &c, 0);
	assert_non_null(gr);
	assert_string_equal(gr->user, "carol");
	assert_null(grants_lookup(&g, &(struct netaddr){ 0 }, 0));
	grants_free(&g);
	assert_int_equal(g.n, 0);
	assert_null(g.v);
}

static void
test_grants_put_revoke_expire(void **state)
{
	struct grants g = { NULL, 0 };
	struct netaddr a = A("192.0.2.1"), b = A("192.0.2.2");
	struct netaddr c = A("192.0.2.3");
	char longname[200];

	(void)state;
	assert_int_equal(grants_put(&g, &a, "u1", 100), 0);
	assert_int_equal(grants_put(&g, &b, "u2", 200), 0);
	assert_int_equal(grants_put(&g, &c, "u3", 300), 0);
	/* renew: same entry, new user and expiry */
	assert_int_equal(grants_put(&g, &a, "u9", 400), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(grants_lookup(&g, &a, 350)->user, "u9");

	grants_expire(&g, 200);		/* b expires at 200: gone */
	assert_int_equal(g.n, 2);
	assert_null(grants_lookup(&g, &b, 0));
	assert_non_null(grants_lookup(&g, &c, 250));

	assert_int_equal(grants_revoke(&g, &a), 1);
	assert_int_equal(grants_revoke(&g, &a), 0);
	assert_int_equal(g.n, 1);
	assert_null(grants_lookup(&g, &a, 0));
	assert_non_null(grants_lookup(&g, &c, 0));

	/* a long user name is cut, never overflows */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(grants_put(&g, &b, longname, 999), 0);
	assert_int_equal(strlen(grants_lookup(&g, &b, 0)->user), 63);
	assert_int_equal(grants_put(&g, &a, NULL, 999), 0);
	assert_string_equal(grants_lookup(&g, &a, 0)->user, "");

	grants_expire(&g, 100000);
	assert_int_equal(g.n, 0);
	grants_free(&g);
	grants_free(NULL);
}

static void
test_grants_file_roundtrip(void **state)
{
	struct grants g = { NULL, 0 }, h = { NULL, 0 };
	struct netaddr a4, a6;
	struct buf b;

	(void)state;
	assert_int_equal(netaddr_parse("192.0.2.7", &a4), 0);
	assert_int_equal(netaddr_parse("2001:db8::1", &a6), 0);
	grants_put(&g, &a4, "alice", 1795812345);
	grants_put(&g, &a6, "bob", 1795812999);
	buf_init(&b, 4096);
	assert_int_equal(grants_format(&g, &b), 0);
	assert_string_equal(b.data, "192.0.2.7 alice 1795812345\n"
	    "2001:db8::1 bob 1795812999\n");
	assert_int_equal(grants_parse(&h, b.data, b.len), 0);
	assert_int_equal(h.n, 2);
	assert_non_null(grants_lookup(&h, &a6, 1795812998));
	assert_null(grants_lookup(&h, &a6, 1795812999));
	assert_string_equal(grants_lookup(&h, &a4, 1795812000)->user, "alice");
	buf_free(&b);
	grants_free(&g);
	grants_free(&h);
}

static void
test_grants_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"192.0.2.7 alice\n",			/* no expiry */
		"192.0.2.7 alice 12x\n",		/* bad expiry */
		"192.0.2.7 alice -5\n",		/* negative */
		"mx.example alice 5\n",		/* not an address */
		"192.0.2.7  5\n",			/* empty user */
		"192.0.2.7 a b 5\n",			/* space in user */
		"192.0.2.7 al\tice 5\n",		/* control byte */
		"192.0.2.7 alice 5 6\n",		/* trailing field */
		"192.0.2.7 ../../x 5\n",		/* not a user name */
		"192.0.2.7 Alice\x7f 5\n",		/* DEL in the name */
	};
	struct grants g = { NULL, 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);
		char *copy = malloc(n);		/* exact size: no NUL to lean on */
		memcpy(copy, bad[i], n);
		assert_int_equal(grants_parse(&g, copy, n), 1);
		assert_int_equal(g.n, 0);
		free(copy);
	}
	/* A forged far-future grant is never honoured and is dropped. */
	assert_int_equal(grants_parse(&g, "192.0.2.9 alice 99999999999\n", 28), 0);
	assert_int_equal(g.n, 1);
	{
		struct netaddr a = A("192.0.2.9");

		assert_null(grants_lookup(&g, &a, 1000));
		assert_int_equal(grants_put(&g, &a, "alice", 1000 + GRANTS_TTL_MAX), 0);
		assert_non_null(grants_lookup(&g, &a, 1000));
		assert_int_equal(grants_put(&g, &a, "alice", 1001 + GRANTS_TTL_MAX), 0);
		assert_null(grants_lookup(&g, &a, 1000));
		grants_expire(&g, 1000);
		assert_int_equal(g.n, 0);
	}
	/* Good lines around a bad one survive. */
	assert_int_equal(grants_parse(&g, "192.0.2.1 a 9\nxx\n192.0.2.2 b 9", 30), 1);
	assert_int_equal(g.n, 2);
	grants_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grants_lookup),
		cmocka_unit_test(test_grants_put_revoke_expire),
		cmocka_unit_test(test_grants_file_roundtrip),
		cmocka_unit_test(test_grants_parse_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
