/* test_address - RFC 5321 path parsing: syntax, normalisation, routing
 * flags, limits. Every input is parsed from an exactly-sized heap copy
 * (no NUL after it) and, for accepted paths, every shorter prefix must
 * be refused: the parser never looks past len and never accepts half a
 * path. */
#include "unit.h"

#include <arpa/inet.h>

#include "address.h"

#define NUL_OK	1	/* allow_null */
#define PM_OK	2	/* allow_postmaster */

#define F_SR	ADDRESS_F_SOURCE_ROUTE
#define F_PCT	ADDRESS_F_PERCENT
#define F_BANG	ADDRESS_F_BANG
#define F_QR	ADDRESS_F_QUOTED_ROUTE
#define F_Q	ADDRESS_F_QUOTED
#define F_DOT	ADDRESS_F_TRAILING_DOT

struct acase {
	const char	*in;
	size_t		 inlen;		/* 0: strlen(in) */
	int		 allow;		/* NUL_OK | PM_OK */
	enum address_status st;
	const char	*local;
	const char	*domain;
	unsigned	 flags;
	int		 literal;	/* AF_INET / AF_INET6 / 0 */
	size_t		 end;		/* 0: the whole input */
};

static const struct acase cases[] = {
	/* plain */
	{ "<alice@example.com>", 0, 0, ADDRESS_OK, "alice", "example.com", 0, 0, 0 },
	{ "<Alice.B@Example.COM>", 0, 0, ADDRESS_OK, "Alice.B", "example.com", 0, 0, 0 },
	{ "<a@b>", 0, 0, ADDRESS_OK, "a", "b", 0, 0, 0 },
	{ "<a+tag@x-y.example>", 0, 0, ADDRESS_OK, "a+tag", "x-y.example", 0, 0, 0 },
	{ "<!#$&'*+-/=?^_`{|}~@a.b>", 0, 0, ADDRESS_OK, "!#$&'*+-/=?^_`{|}~", "a.b", F_BANG, 0, 0 },
	{ "<a@1.2.3.4>", 0, 0, ADDRESS_OK, "a", "1.2.3.4", 0, 0, 0 },
	{ "<a@b.c> SIZE=100", 0, 0, ADDRESS_OK, "a", "b.c", 0, 0, 7 },
	{ "<a@b.c>>", 0, 0, ADDRESS_OK, "a", "b.c", 0, 0, 7 },
	/* null path and postmaster */
	{ "<>", 0, NUL_OK, ADDRESS_OK, "", "", 0, 0, 0 },
	{ "<> BODY=8BITMIME", 0, NUL_OK, ADDRESS_OK, "", "", 0, 0, 2 },
	{ "<>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<>", 0, PM_OK, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<postmaster>", 0, PM_OK, ADDRESS_OK, "postmaster", "", 0, 0, 0 },
	{ "<PostMaster>", 0, PM_OK, ADDRESS_OK, "postmaster", "", 0, 0, 0 },
	{ "<\"postmaster\">", 0, PM_OK, ADDRESS_OK, "postmaster", "", 0, 0, 0 },
	{ "<postmaster>", 0, NUL_OK, ADDRESS_ERR_NO_DOMAIN, NULL, NULL, 0, 0, 0 },
	{ "<@a.b:postmaster>", 0, PM_OK, ADDRESS_ERR_NO_DOMAIN, NULL, NULL, 0, 0, 0 },
	{ "<PostMaster@Example.com>", 0, PM_OK, ADDRESS_OK, "PostMaster", "example.com", 0, 0, 0 },
	{ "<postmasters>", 0, PM_OK, ADDRESS_ERR_NO_DOMAIN, NULL, NULL, 0, 0, 0 },
	{ "<alice>", 0, PM_OK | NUL_OK, ADDRESS_ERR_NO_DOMAIN, NULL, NULL, 0, 0, 0 },
	{ "<\"a b\">", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	/* trailing dot, case */
	{ "<u@mydomain.test.>", 0, 0, ADDRESS_OK, "u", "mydomain.test", F_DOT, 0, 0 },
	{ "<u@MYDOMAIN.TEST>", 0, 0, ADDRESS_OK, "u", "mydomain.test", 0, 0, 0 },
	{ "<u@mydomain.test..>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@.mydomain.test>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@a..b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@.>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<@b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@-a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@a-.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@a.b->", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@a_b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@a.b@c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	/* local part syntax */
	{ "<.u@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u.@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u..v@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u(x)@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u,v@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u;v@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u[v]@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u\\v@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u<v@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	/* brackets and framing */
	{ "", 0, NUL_OK, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<", 0, NUL_OK, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "a@b.c", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<a@b.c", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ " <a@b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<<a@b.c>>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<a@b.c >", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "< a@b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<a @b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<a\t@b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<a@b.c\r\n>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<a\x7f@b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<a\0b@b.c>", 9, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<a@b.c\0>", 8, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<\"a\0\"@b.c>", 10, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	/* 8-bit */
	{ "<j\xc3\xbcrgen@b.c>", 0, 0, ADDRESS_ERR_8BIT, NULL, NULL, 0, 0, 0 },
	{ "<a@b\xc3\xbc.c>", 0, 0, ADDRESS_ERR_8BIT, NULL, NULL, 0, 0, 0 },
	{ "<\"\xff\"@b.c>", 0, 0, ADDRESS_ERR_8BIT, NULL, NULL, 0, 0, 0 },
	{ "<\"\\\xff\"@b.c>", 0, 0, ADDRESS_ERR_8BIT, NULL, NULL, 0, 0, 0 },
	{ "<a@b.c> \xff", 0, 0, ADDRESS_OK, "a", "b.c", 0, 0, 7 },
	/* quoted local parts */
	{ "<\"alice\"@b.c>", 0, 0, ADDRESS_OK, "alice", "b.c", 0, 0, 0 },
	{ "<\"a.b\"@b.c>", 0, 0, ADDRESS_OK, "a.b", "b.c", 0, 0, 0 },
	{ "<\"\\a\\l\\i\\c\\e\"@b.c>", 0, 0, ADDRESS_OK, "alice", "b.c", 0, 0, 0 },
	{ "<\"a..b\"@b.c>", 0, 0, ADDRESS_OK, "\"a..b\"", "b.c", F_Q, 0, 0 },
	{ "<\"a(b)\"@b.c>", 0, 0, ADDRESS_OK, "\"a(b)\"", "b.c", F_Q, 0, 0 },
	{ "<\"a>b\"@b.c>", 0, 0, ADDRESS_OK, "\"a>b\"", "b.c", F_Q, 0, 0 },
	{ "<\"a\\\"b\"@b.c>", 0, 0, ADDRESS_OK, "\"a\\\"b\"", "b.c", F_Q, 0, 0 },
	{ "<\"a\\\\b\"@b.c>", 0, 0, ADDRESS_OK, "\"a\\\\b\"", "b.c", F_Q, 0, 0 },
	{ "<\"\"@b.c>", 0, 0, ADDRESS_OK, "\"\"", "b.c", F_Q, 0, 0 },
	{ "<\"a\\\"@b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<\"a\"b@b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<a\"b\"@b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<\"a\tb\"@b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<\"a\\\tb\"@b.c>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	/* routing tricks */
	{ "<user%evil.com@mydomain.test>", 0, 0, ADDRESS_OK, "user%evil.com", "mydomain.test", F_PCT, 0, 0 },
	{ "<evil.com!user@mydomain.test>", 0, 0, ADDRESS_OK, "evil.com!user", "mydomain.test", F_BANG, 0, 0 },
	{ "<@evil.com:user@mydomain.test>", 0, 0, ADDRESS_OK, "user", "mydomain.test", F_SR, 0, 0 },
	{ "<@a.example,@b.example:user@c.example>", 0, 0, ADDRESS_OK, "user", "c.example", F_SR, 0, 0 },
	{ "<\"user@evil.com\"@mydomain.test>", 0, 0, ADDRESS_OK, "\"user@evil.com\"", "mydomain.test", F_Q | F_QR, 0, 0 },
	{ "<\"a%b\"@mydomain.test>", 0, 0, ADDRESS_OK, "a%b", "mydomain.test", F_QR, 0, 0 },
	{ "<\"a!b\"@mydomain.test>", 0, 0, ADDRESS_OK, "a!b", "mydomain.test", F_QR, 0, 0 },
	{ "<@evil.com:user>", 0, 0, ADDRESS_ERR_NO_DOMAIN, NULL, NULL, 0, 0, 0 },
	{ "<@evil.com user@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<@evil.com,user@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<@evil.com:@x.y:user@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<@:user@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<@a.b,:user@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<@a.b,b.c:user@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<@a.b.:user@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<@[1.2.3.4]:user@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<@a.b:>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<:user@a.b>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	/* address literals */
	{ "<u@[127.0.0.1]>", 0, 0, ADDRESS_OK, "u", "[127.0.0.1]", 0, AF_INET, 0 },
	{ "<u@[IPv6:::1]>", 0, 0, ADDRESS_OK, "u", "[ipv6:::1]", 0, AF_INET6, 0 },
	{ "<u@[ipv6:2001:DB8:0::1]>", 0, 0, ADDRESS_OK, "u", "[ipv6:2001:db8::1]", 0, AF_INET6, 0 },
	{ "<u@[IPv6:::ffff:192.0.2.1]>", 0, 0, ADDRESS_OK, "u", "[192.0.2.1]", 0, AF_INET, 0 },
	{ "<u@[::1]>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[IPv6:1.2.3.4]>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[1.2.3]>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[1.2.3.256]>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[01.2.3.4]>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[]>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[IPv6:]>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[x-tag:stuff]>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[1.2.3.4]x>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[1.2.3.4].>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[1.2.3.4>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@x[1.2.3.4]>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
	{ "<u@[IPv6:fe80::1%eth0]>", 0, 0, ADDRESS_ERR_SYNTAX, NULL, NULL, 0, 0, 0 },
};

static char *
dup_exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

static void
check_case(const struct acase *c, const char *in, size_t len)
{
	struct address a;
	enum address_status st;
	size_t end = 99999, want_end;
	char *p = dup_exact(in, len);

	st = address_parse_path(p, len, c->allow & NUL_OK, c->allow & PM_OK,
	    &a, &end);
	if (st != c->st)
		fail_msg("\"%s\": status %d, want %d", c->in, st, c->st);
	if (st == ADDRESS_OK) {
		want_end = c->end ? c->end : len;
		if (end != want_end)
			fail_msg("\"%s\": end %zu, want %zu", c->in, end,
			    want_end);
		assert_string_equal(a.local, c->local);
		assert_string_equal(a.domain, c->domain);
		if (a.flags != c->flags)
			fail_msg("\"%s\": flags %#x, want %#x", c->in,
			    a.flags, c->flags);
		assert_int_equal(a.is_literal, c->literal != 0);
		assert_int_equal(a.literal.family, c->literal);
		assert_int_equal(a.is_null, len >= 2 && in[1] == '>');
		assert_int_equal(a.is_postmaster, c->domain[0] == '\0' &&
		    !a.is_null);
	} else {
		assert_int_equal(a.is_null, 0);
		assert_int_equal(a.is_postmaster, 0);
	}
	free(p);
}

static void
test_address_table(void **state)
{
	size_t i, k, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct acase *c = &cases[i];
		struct address a;
		size_t end;

		len = c->inlen ? c->inlen : strlen(c->in);
		check_case(c, c->in, len);
		if (c->st != ADDRESS_OK)
			continue;
		/* Byte by byte: no proper prefix of the path is a path. */
		for (k = 0; k < (c->end ? c->end : len); k++) {
			char *p = dup_exact(c->in, k);

			if (address_parse_path(p, k, c->allow & NUL_OK,
			    c->allow & PM_OK, &a, &end) == ADDRESS_OK)
				fail_msg("\"%s\": prefix of %zu accepted",
				    c->in, k);
			free(p);
		}
	}
}

/* "<" + local + "@" + domain + ">" with generated parts. */
static void
make_path(char *out, size_t outlen, size_t nlocal, const char *labels[],
    size_t nlabels)
{
	size_t o = 0, i;

	out[o++] = '<';
	for (i = 0; i < nlocal; i++)
		out[o++] = 'l';
	out[o++] = '@';
	for (i = 0; i < nlabels; i++) {
		size_t n = strlen(labels[i]);

		if (i)
			out[o++] = '.';
		memcpy(out + o, labels[i], n);
		o += n;
	}
	out[o++] = '>';
	out[o] = '\0';
	assert_true(o < outlen);
}

static void
fill(char *s, size_t n, char c)
{
	memset(s, c, n);
	s[n] = '\0';
}

static void
test_address_limits(void **state)
{
	char path[600], l63[64], l64[65], l62[63], lx[64];
	const char *labels[8];
	struct acase c;
	size_t dlen;

	(void)state;
	fill(l63, 63, 'a');
	fill(l64, 64, 'b');
	fill(l62, 62, 'c');
	memset(&c, 0, sizeof(c));
	c.in = path;

	/* local part: 63 and 64 OK, 65 too long */
	labels[0] = "x";
	{
		char want[66];
		size_t n;

		c.domain = "x";
		for (n = 63; n <= 65; n++) {
			make_path(path, sizeof(path), n, labels, 1);
			fill(want, n, 'l');
			c.local = want;
			c.st = n <= 64 ? ADDRESS_OK : ADDRESS_ERR_TOO_LONG;
			check_case(&c, path, strlen(path));
		}
	}
	/* quoted: 62 + 2 quotes = 64 OK, 63 + 2 = 65 too long */
	snprintf(path, sizeof(path), "<\"%s\"@x>", l62);
	c.st = ADDRESS_OK; c.local = l62; c.flags = 0;
	check_case(&c, path, strlen(path));
	snprintf(path, sizeof(path), "<\"%s\"@x>", l63);
	c.st = ADDRESS_ERR_TOO_LONG;
	check_case(&c, path, strlen(path));
	/* 64 content bytes written with escapes: too long as written */
	{
		char q[200];
		size_t i, o = 0;

		for (i = 0; i < 40; i++) {
			q[o++] = '\\';
			q[o++] = 'q';
		}
		q[o] = '\0';
		snprintf(path, sizeof(path), "<\"%s\"@x>", q);
		check_case(&c, path, strlen(path));
	}

	/* labels: 63 OK, 64 is a syntax error */
	labels[0] = l63; labels[1] = "x";
	make_path(path, sizeof(path), 1, labels, 2);
	{
		char want[80];

		snprintf(want, sizeof(want), "%s.x", l63);
		c.st = ADDRESS_OK; c.local = "l"; c.domain = want;
		check_case(&c, path, strlen(path));
	}
	labels[0] = l64;
	make_path(path, sizeof(path), 1, labels, 2);
	c.st = ADDRESS_ERR_SYNTAX;
	check_case(&c, path, strlen(path));

	/* Domain and path. The whole path (between < and >) may have 256
	 * octets: "l@" + 254-octet domain. So a 255-octet domain, legal as
	 * a domain, can only arrive in a 257-octet path and is too long;
	 * 256 likewise. Four 63-octet labels + dots = 255. */
	fill(lx, 62, 'd');
	labels[0] = l63; labels[1] = l63; labels[2] = l63; labels[3] = lx;
	make_path(path, sizeof(path), 1, labels, 4);	/* domain 254 */
	dlen = strlen(path) - 4;
	assert_int_equal(dlen, 254);
	assert_int_equal(strlen(path) - 2, 256);
	{
		char want[300];

		memcpy(want, path + 3, dlen);
		want[dlen] = '\0';
		c.st = ADDRESS_OK; c.local = "l"; c.domain = want;
		check_case(&c, path, strlen(path));
		/* the same with a trailing dot: 257-octet path */
		path[strlen(path) - 1] = '.';
		memcpy(path + strlen(path), ">", 2);
		c.st = ADDRESS_ERR_TOO_LONG;
		check_case(&c, path, strlen(path));
	}
	labels[3] = l63;
	make_path(path, sizeof(path), 1, labels, 4);	/* domain 255 */
	assert_int_equal(strlen(path) - 2, 257);
	c.st = ADDRESS_ERR_TOO_LONG;
	check_case(&c, path, strlen(path));
	labels[3] = l64;
	make_path(path, sizeof(path), 1, labels, 4);	/* domain 256 */
	check_case(&c, path, strlen(path));
	/* path 256 / 257 with a 64-octet local part */
	labels[0] = l63; labels[1] = l63; labels[2] = l63;
	labels[3] = "e";
	make_path(path, sizeof(path), 64, labels, 3);	/* 64+1+191 = 256 */
	assert_int_equal(strlen(path) - 2, 256);
	{
		char wl[65], wd[200];

		fill(wl, 64, 'l');
		snprintf(wd, sizeof(wd), "%s.%s.%s", l63, l63, l63);
		c.st = ADDRESS_OK; c.local = wl; c.domain = wd;
		check_case(&c, path, strlen(path));
	}
	make_path(path, sizeof(path), 64, labels, 4);	/* 258 */
	c.st = ADDRESS_ERR_TOO_LONG;
	check_case(&c, path, strlen(path));
	labels[2] = l64;
	make_path(path, sizeof(path), 64, labels, 3);	/* 257 */
	assert_int_equal(strlen(path) - 2, 257);
	check_case(&c, path, strlen(path));
	/* a route counts in the path */
	labels[0] = l63; labels[1] = l63; labels[2] = l63; labels[3] = lx;
	make_path(path, sizeof(path), 1, labels, 4);
	{
		char big[700];

		assert_true(snprintf(big, sizeof(big), "<@r:%s", path + 1) <
		    (int)sizeof(big));
		check_case(&c, big, strlen(big));
	}
}

static void
test_address_format(void **state)
{
	struct address a;
	size_t end;
	char buf[300], tiny[4];

	(void)state;
	assert_int_equal(address_parse_path("<Bob@EXAMPLE.org.>", 18, 0, 0,
	    &a, &end), ADDRESS_OK);
	assert_string_equal(address_format(&a, buf, sizeof(buf)),
	    "Bob@example.org");
	assert_null(address_format(&a, tiny, sizeof(tiny)));
	assert_int_equal(address_parse_path("<\"a b\"@x>", 9, 0, 0, &a, &end),
	    ADDRESS_ERR_SYNTAX);
	assert_int_equal(address_parse_path("<\"a(b\"@x>", 9, 0, 0, &a, &end),
	    ADDRESS_OK);
	assert_string_equal(address_format(&a, buf, sizeof(buf)),
	    "\"a(b\"@x");
	assert_int_equal(address_parse_path("<>", 2, 1, 0, &a, NULL),
	    ADDRESS_OK);
	assert_string_equal(address_format(&a, buf, sizeof(buf)), "");
	assert_int_equal(address_parse_path("<POSTMASTER>", 12, 0, 1, &a,
	    &end), ADDRESS_OK);
	assert_string_equal(address_format(&a, buf, sizeof(buf)),
	    "postmaster");
	assert_int_equal(address_parse_path(NULL, 0, 1, 1, &a, &end),
	    ADDRESS_ERR_SYNTAX);
	assert_int_equal(end, 0);
}

static const struct {
	const char	*a, *b;
	int		 eq;
} dom_cases[] = {
	{ "mydomain.test",	"mydomain.test",	1 },
	{ "mydomain.test",	"MYDOMAIN.TEST",	1 },
	{ "mydomain.test",	"mydomain.test.",	1 },
	{ "mydomain.test.",	"mydomain.test",	1 },
	{ "mydomain.test",	"evilmydomain.test",	0 },
	{ "mydomain.test",	"sub.mydomain.test",	0 },
	{ "mydomain.test",	"mydomain.test.evil",	0 },
	{ "mydomain.test",	"mydomain.tes",		0 },
	{ "mydomain.test",	"mydomain.test..",	0 },
	{ "",			"",			0 },
	{ ".",			"",			0 },
	{ "",			"mydomain.test",	0 },
};

static void
test_address_domain_equal(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dom_cases) / sizeof(dom_cases[0]); i++)
		if (address_domain_equal(dom_cases[i].a, dom_cases[i].b) !=
		    dom_cases[i].eq)
			fail_msg("address_domain_equal(\"%s\", \"%s\")",
			    dom_cases[i].a, dom_cases[i].b);
	assert_false(address_domain_equal(NULL, "a"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_table),
		cmocka_unit_test(test_address_limits),
		cmocka_unit_test(test_address_format),
		cmocka_unit_test(test_address_domain_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
