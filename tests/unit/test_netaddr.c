/* test_netaddr - addresses, CIDR parsing and matching, mapped IPv4. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "netaddr.h"

/* C strings in exactly-sized heap copies, so ASan sees any over-read. */
static char *
dup_exact(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

static const struct {
	const char	*in;
	int		 ok;
	int		 family;
	const char	*text;		/* netaddr_format of the result */
} parse_cases[] = {
	{ "192.0.2.1",		0, AF_INET,  "192.0.2.1" },
	{ "0.0.0.0",		0, AF_INET,  "0.0.0.0" },
	{ "255.255.255.255",	0, AF_INET,  "255.255.255.255" },
	{ "::1",		0, AF_INET6, "::1" },
	{ "2001:DB8::1",	0, AF_INET6, "2001:db8::1" },
	{ "::ffff:1.2.3.4",	0, AF_INET,  "1.2.3.4" },
	{ "::FFFF:7f00:1",	0, AF_INET,  "127.0.0.1" },
	{ "::1.2.3.4",		0, AF_INET6, "::1.2.3.4" },	/* compat, not mapped */
	{ "",			-1, 0, NULL },
	{ "256.0.0.1",		-1, 0, NULL },
	{ "1.2.3",		-1, 0, NULL },
	{ "1.2.3.4.",		-1, 0, NULL },
	{ "01.2.3.4",		-1, 0, NULL },
	{ " 1.2.3.4",		-1, 0, NULL },
	{ "1.2.3.4 ",		-1, 0, NULL },
	{ "[::1]",		-1, 0, NULL },
	{ "fe80::1%eth0",	-1, 0, NULL },
	{ "1.2.3.4:25",		-1, 0, NULL },
	{ "localhost",		-1, 0, NULL },
	{ "1.2.3.4/32",		-1, 0, NULL },
	{ ":::",		-1, 0, NULL },
};

static void
test_netaddr_parse(void **state)
{
	char buf[INET6_ADDRSTRLEN];
	struct netaddr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		char *s = dup_exact(parse_cases[i].in);
		int r = netaddr_parse(s, &a);

		if (r != parse_cases[i].ok)
			fail_msg("netaddr_parse(\"%s\") = %d", s, r);
		if (r == 0) {
			assert_int_equal(a.family, parse_cases[i].family);
			assert_string_equal(netaddr_format(&a, buf,
			    sizeof(buf)), parse_cases[i].text);
		} else
			assert_int_equal(a.family, 0);
		free(s);
	}
}

static void
test_netaddr_sockaddr(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr sa;
	struct netaddr a, b;

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr), 1);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&sin, &a), 0);
	assert_int_equal(netaddr_parse("10.1.2.3", &b), 0);
	assert_true(netaddr_equal(&a, &b));

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.2.3",
	    &sin6.sin6_addr), 1);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_true(netaddr_equal(&a, &b));

	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr), 1);
	assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_false(netaddr_equal(&a, &b));

	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	assert_int_equal(netaddr_from_sockaddr(&sa, &a), -1);
	assert_int_equal(a.family, 0);
}

static void
test_netaddr_equal(void **state)
{
	struct netaddr a, b, none;

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_int_equal(netaddr_parse("127.0.0.1", &a), 0);
	assert_int_equal(netaddr_parse("::ffff:127.0.0.1", &b), 0);
	assert_true(netaddr_equal(&a, &b));
	assert_int_equal(netaddr_parse("127.0.0.2", &b), 0);
	assert_false(netaddr_equal(&a, &b));
	assert_int_equal(netaddr_parse("::1", &b), 0);
	assert_false(netaddr_equal(&a, &b));
	/* "no address" equals nothing, not even itself */
	assert_false(netaddr_equal(&none, &none));
	assert_false(netaddr_equal(&none, &a));
}

static const struct {
	const char	*in;
	int		 ok;
	const char	*text;		/* cidr_format */
} cidr_cases[] = {
	{ "10.0.0.0/8",			0, "10.0.0.0/8" },
	{ "0.0.0.0/0",			0, "0.0.0.0/0" },
	{ "192.0.2.1",			0, "192.0.2.1/32" },
	{ "192.0.2.1/32",		0, "192.0.2.1/32" },
	{ "192.168.0.0/16",		0, "192.168.0.0/16" },
	{ "172.16.0.0/12",		0, "172.16.0.0/12" },
	{ "::1/128",			0, "::1/128" },
	{ "::1",			0, "::1/128" },
	{ "::/0",			0, "::/0" },
	{ "2001:db8::/32",		0, "2001:db8::/32" },
	{ "::ffff:10.0.0.0/104",	0, "10.0.0.0/8" },
	{ "::ffff:0:0/96",		0, "0.0.0.0/0" },
	{ "10.1.2.3/8",			-1, NULL },	/* host bits */
	{ "172.17.0.0/12",		-1, NULL },
	{ "2001:db8::1/32",		-1, NULL },
	{ "::ffff:0:0/95",		-1, NULL },
	{ "10.0.0.0/33",		-1, NULL },
	{ "::/129",			-1, NULL },
	{ "10.0.0.0/",			-1, NULL },
	{ "10.0.0.0/08",		-1, NULL },
	{ "10.0.0.0/+8",		-1, NULL },
	{ "10.0.0.0/-1",		-1, NULL },
	{ "10.0.0.0/8/8",		-1, NULL },
	{ "10.0.0.0/8 ",		-1, NULL },
	{ "/8",				-1, NULL },
	{ "",				-1, NULL },
	{ "[::1]/128",			-1, NULL },
	{ "fe80::%eth0/64",		-1, NULL },
	{ "10./8",			-1, NULL },
	{ "example.com/24",		-1, NULL },
	{ "10.0.0.0/99999999999999999999", -1, NULL },
};

static void
test_cidr_parse(void **state)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct cidr c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
		char *s = dup_exact(cidr_cases[i].in);
		int r = cidr_parse(s, &c);

		if (r != cidr_cases[i].ok)
			fail_msg("cidr_parse(\"%s\") = %d", s, r);
		if (r == 0)
			assert_string_equal(cidr_format(&c, buf, sizeof(buf)),
			    cidr_cases[i].text);
		free(s);
	}
}

static const struct {
	const char	*net;
	const char	*addr;
	int		 match;
} match_cases[] = {
	{ "10.0.0.0/8",		"10.255.1.2",		1 },
	{ "10.0.0.0/8",		"11.0.0.0",		0 },
	{ "10.0.0.0/8",		"::ffff:10.0.0.1",	1 },
	{ "172.16.0.0/12",	"172.31.255.255",	1 },
	{ "172.16.0.0/12",	"172.32.0.0",		0 },
	{ "172.16.0.0/12",	"172.15.255.255",	0 },
	{ "127.0.0.1/32",	"127.0.0.1",		1 },
	{ "127.0.0.1/32",	"127.0.0.2",		0 },
	{ "0.0.0.0/0",		"203.0.113.9",		1 },
	{ "0.0.0.0/0",		"::1",			0 },	/* family */
	{ "::/0",		"1.2.3.4",		0 },
	{ "::/0",		"2001:db8::1",		1 },
	{ "2001:db8::/32",	"2001:db8:ffff::1",	1 },
	{ "2001:db8::/32",	"2001:db9::1",		0 },
	{ "2001:db8::/33",	"2001:db8:8000::",	0 },
	{ "2001:db8::/33",	"2001:db8:7fff::",	1 },
	{ "::1/128",		"::1",			1 },
	{ "::1/128",		"::2",			0 },
	{ "::ffff:10.0.0.0/104", "10.9.9.9",		1 },
};

static void
test_cidr_match(void **state)
{
	struct netaddr a;
	struct cidr c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		assert_int_equal(cidr_parse(match_cases[i].net, &c), 0);
		assert_int_equal(netaddr_parse(match_cases[i].addr, &a), 0);
		if (cidr_match(&c, &a) != match_cases[i].match)
			fail_msg("cidr_match(%s, %s) != %d",
			    match_cases[i].net, match_cases[i].addr,
			    match_cases[i].match);
	}
	memset(&a, 0, sizeof(a));
	assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
	assert_false(cidr_match(&c, &a));
}

static void
test_format_small(void **state)
{
	char buf[4];
	struct netaddr a;
	struct cidr c;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_string_equal(netaddr_format(&a, buf, sizeof(buf)), "unk");
	assert_int_equal(netaddr_parse("192.0.2.1", &a), 0);
	assert_string_equal(netaddr_format(&a, buf, sizeof(buf)), "");
	assert_int_equal(cidr_parse("10.0.0.0/8", &c), 0);
	assert_string_equal(cidr_format(&c, buf, sizeof(buf)), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netaddr_parse),
		cmocka_unit_test(test_netaddr_sockaddr),
		cmocka_unit_test(test_netaddr_equal),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_match),
		cmocka_unit_test(test_format_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
