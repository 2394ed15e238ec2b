/* test_rules - tcprules syntax, CIDR, lookup order, and every error. */
#include "unit.h"

#include <arpa/inet.h>

#include "buf.h"
#include "rules.h"

static char *
dup_exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

/* Parse from an exactly-sized copy; errs may be NULL. */
static struct rules *
parse(const char *text, size_t len, struct errlist *errs)
{
	char *p = dup_exact(text, len);
	struct rules *r = rules_parse("relay_rules", p, len, errs);

	free(p);	/* the rules must not point into the text */
	return r;
}

static struct rules *
parses(const char *text, struct errlist *errs)
{
	return parse(text, strlen(text), errs);
}

static const char ruletext[] =
	"# relay rules\n"				/* 1 */
	"1.2.3.4:allow,RELAYCLIENT=\"\"\n"		/* 2 */
	"1.2.3.:deny\n"					/* 3 */
	"1.2.:allow,RELAYCLIENT=\"\"\n"			/* 4 */
	"1.:allow\n"					/* 5 */
	"\n"						/* 6 */
	"   # indented comment\n"			/* 7 */
	"10.0.0.1-50:allow,RELAYCLIENT=\"\"\n"		/* 8 */
	"10.0.0.:deny\n"				/* 9 */
	"192.168.0.0/16:allow,RELAY=\"\"\r\n"		/* 10 */
	"192.168.1.0/24:deny\n"				/* 11 */
	"2001:db8::1:allow,RELAYCLIENT=\"\"\n"		/* 12 */
	"2001:db8::/32:deny\n"				/* 13 */
	"::1:allow,RELAYCLIENT=\"\"\n"			/* 14 */
	"5.5.5.5:deny,RELAYCLIENT=\"\"\n"		/* 15 */
	"5.5.5.5:allow,RELAYCLIENT=\"\"\n"		/* 16 */
	"6.6.6.6:allow,TCPREMOTEINFO=x,RELAYCLIENT=,GREETING=\"a b:c\"\n" /* 17 */
	"7.7.7.7:allow,GREETING=\"hi\"\n"		/* 18 */
	"172.16.0.0/12:allow,RELAYCLIENT=\"\"\n"	/* 19 */
	"172.16.:deny\n"				/* 20 */
	"::ffff:9.9.9.0/120:allow,RELAYCLIENT=\"\"\n"	/* 21 */
	"  8.8.8.8:allow,RELAYCLIENT=\"\"  \t\n"	/* 22 */
	":deny";					/* 23, no newline */

static const struct {
	const char	*client;
	enum rules_action action;
	int		 relay;
	unsigned	 line;
	const char	*text;
} lookups[] = {
	{ "1.2.3.4",		RULES_ALLOW, 1, 2,  "1.2.3.4" },	/* exact */
	{ "::ffff:1.2.3.4",	RULES_ALLOW, 1, 2,  "1.2.3.4" },
	{ "1.2.3.5",		RULES_DENY,  0, 3,  "1.2.3." },		/* /24 */
	{ "1.2.4.1",		RULES_ALLOW, 1, 4,  "1.2." },		/* /16 */
	{ "1.9.9.9",		RULES_ALLOW, 0, 5,  "1." },		/* /8, no relay */
	{ "2.0.0.1",		RULES_DENY,  0, 23, "" },		/* default */
	{ "10.0.0.1",		RULES_ALLOW, 1, 8,  "10.0.0.1-50" },
	{ "10.0.0.50",		RULES_ALLOW, 1, 8,  "10.0.0.1-50" },
	{ "10.0.0.0",		RULES_DENY,  0, 9,  "10.0.0." },
	{ "10.0.0.51",		RULES_DENY,  0, 9,  "10.0.0." },
	{ "10.0.1.5",		RULES_DENY,  0, 23, "" },
	{ "192.168.2.1",	RULES_ALLOW, 1, 10, "192.168.0.0/16" },
	{ "192.168.1.1",	RULES_DENY,  0, 11, "192.168.1.0/24" },
	{ "2001:db8::1",	RULES_ALLOW, 1, 12, "2001:db8::1" },
	{ "2001:db8::2",	RULES_DENY,  0, 13, "2001:db8::/32" },
	{ "::1",		RULES_ALLOW, 1, 14, "::1" },
	{ "2001:db9::1",	RULES_DENY,  0, 23, "" },
	{ "5.5.5.5",		RULES_DENY,  0, 15, "5.5.5.5" },	/* tie: first */
	{ "6.6.6.6",		RULES_ALLOW, 1, 17, "6.6.6.6" },
	{ "7.7.7.7",		RULES_ALLOW, 0, 18, "7.7.7.7" },
	{ "172.16.5.5",		RULES_DENY,  0, 20, "172.16." },	/* /16 beats /12 */
	{ "172.17.0.1",		RULES_ALLOW, 1, 19, "172.16.0.0/12" },
	{ "9.9.9.9",		RULES_ALLOW, 1, 21, "::ffff:9.9.9.0/120" },
	{ "8.8.8.8",		RULES_ALLOW, 1, 22, "8.8.8.8" },
};

static void
test_rules_lookup(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct rules_match m;
	struct netaddr a;
	struct rules *r;
	size_t i;

	(void)state;
	r = parse(ruletext, sizeof(ruletext) - 1, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("%s\n", errs.msgs[i]);
	assert_non_null(r);
	assert_int_equal(errs.n, 0);
	for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		assert_int_equal(netaddr_parse(lookups[i].client, &a), 0);
		rules_lookup(r, &a, &m);
		if (m.action != lookups[i].action ||
		    m.relay != lookups[i].relay ||
		    m.line != lookups[i].line)
			fail_msg("%s: action %d relay %d line %u", lookups[i].client,
			    m.action, m.relay, m.line);
		assert_string_equal(m.text, lookups[i].text);
	}
	/* The same two rules the other way round: still the /16. */
	rules_free(r);
	r = parses("172.16.:deny\n172.16.0.0/12:allow,RELAYCLIENT=\"\"\n",
	    NULL);
	assert_non_null(r);
	assert_int_equal(netaddr_parse("172.16.9.9", &a), 0);
	rules_lookup(r, &a, &m);
	assert_int_equal(m.action, RULES_DENY);
	assert_int_equal(m.line, 1);
	/* no default rule: no match */
	assert_int_equal(netaddr_parse("203.0.113.1", &a), 0);
	rules_lookup(r, &a, &m);
	assert_int_equal(m.action, RULES_NO_MATCH);
	assert_int_equal(m.relay, 0);
	assert_null(m.text);
	/* unknown client address matches nothing, not even "" */
	rules_free(r);
	r = parses(":allow,RELAYCLIENT=\"\"", NULL);
	assert_non_null(r);
	memset(&a, 0, sizeof(a));
	rules_lookup(r, &a, &m);
	assert_int_equal(m.action, RULES_NO_MATCH);
	assert_int_equal(netaddr_parse("::2", &a), 0);
	rules_lookup(r, &a, &m);
	assert_int_equal(m.action, RULES_ALLOW);
	assert_int_equal(m.relay, 1);
	rules_free(r);
	/* NULL rules */
	rules_lookup(NULL, &a, &m);
	assert_int_equal(m.action, RULES_NO_MATCH);
	errlist_free(&errs);
}

/* Order of tcprules, exact > a.b.c. > a.b. > a. > "", whatever the order
 * of the lines. */
static void
test_rules_order(void **state)
{
	static const char *const lines[] = {
		":deny\n", "1.:allow\n", "1.2.:deny\n", "1.2.3.:allow\n",
		"1.2.3.4:deny\n",
	};
	static const struct {
		const char	*client;
		const char	*text;
	} want[] = {
		{ "1.2.3.4", "1.2.3.4" }, { "1.2.3.5", "1.2.3." },
		{ "1.2.4.4", "1.2." }, { "1.3.3.4", "1." }, { "2.2.3.4", "" },
	};
	char text[200];
	struct rules_match m;
	struct netaddr a;
	struct rules *r;
	size_t perm, i, o;

	(void)state;
	/* forwards and backwards */
	for (perm = 0; perm < 2; perm++) {
		text[0] = '\0';
		o = 0;
		for (i = 0; i < 5; i++) {
			const char *l = lines[perm ? 4 - i : i];

			memcpy(text + o, l, strlen(l));
			o += strlen(l);
		}
		r = parse(text, o, NULL);
		assert_non_null(r);
		for (i = 0; i < 5; i++) {
			assert_int_equal(netaddr_parse(want[i].client, &a), 0);
			rules_lookup(r, &a, &m);
			assert_string_equal(m.text, want[i].text);
			assert_int_equal(m.relay, 0);
		}
		rules_free(r);
	}
}

static const struct {
	const char	*line;
	const char	*err;	/* message after "relay_rules:1: "; NULL: valid */
} bad[] = {
	{ "=host.example.com:allow,RELAYCLIENT=\"\"", "host name rules" },
	{ "=:allow,RELAYCLIENT=\"\"", "host name rules" },
	{ "=", "host name rules" },
	{ "1.2.3.4:allow,RELAYCLIENT=\"@relay.example\"", "RELAYCLIENT with a value rewrites recipients (qmail); postern does not support it" },
	{ "1.2.3.4:allow,RELAYCLIENT=x", "RELAYCLIENT with a value" },
	{ "1.2.3.4:allow,RELAY=\"1\"", "RELAY with a value" },
	{ "1.2.3.4", "missing ':'" },
	{ "1.2.3.4:permit", "expected allow or deny" },
	{ "1.2.3.4:Allow", "expected allow or deny" },
	{ "1.2.3.4:allowed", "expected allow or deny" },
	{ "1.2.3.4:deny:allow:", "expected allow or deny" },
	{ "1.2.3.4::allow", "bad IPv6 address" },
	{ "1.2.3.4:allow,", "expected VAR=\"value\" after ','" },
	{ "1.2.3.4:allow,RELAYCLIENT", "expected VAR=\"value\" after ','" },
	{ "1.2.3.4:allow,,RELAYCLIENT=\"\"", "expected VAR=\"value\" after ','" },
	{ "1.2.3.4:allow,=\"\"", "bad variable name" },
	{ "1.2.3.4:allow,1X=\"\"", "bad variable name" },
	{ "1.2.3.4:allow,A-B=\"\"", "bad variable name" },
	{ "1.2.3.4:allow,RELAYCLIENT=\"", "unterminated quoted value" },
	{ "1.2.3.4:allow,X=\"a,RELAYCLIENT=\"\"", "unexpected text after quoted value" },
	{ "1.2.3.4:allow,RELAYCLIENT=\"\"x", "unexpected text after quoted value" },
	{ "1.2.3.4567890123456789012345678901234567890123456789012345678901234567:allow", "address too long" },
	{ "10.0.0.0/33:allow", "bad CIDR network" },
	{ "10.1.2.3/8:allow", "bad CIDR network" },
	{ "10.0.0.0/:allow", "bad CIDR network" },
	{ "host.example/8:allow", "bad CIDR network" },
	{ "2001:db8::1/32:allow", "bad CIDR network" },
	{ "2001:db8:::1:allow", "bad IPv6 address" },
	{ "2001:db8:::deny", NULL },
	{ "1.2.3.4:allow,RELAYCLIENT=", NULL },
	{ "1.2.3.4:allow,X=\"a,b\",RELAY=\"\"", NULL },
	{ "1.2.3.4:deny,RELAYCLIENT=\"\"", NULL },
	{ "10.0.0.7-7:allow", NULL },
	{ "0.:allow", NULL },
	{ "::ffff:1.2.3.4:allow", NULL },
	{ "2001:db8::g:allow", "bad IPv6 address" },
	{ "[::1]:allow", "bad IPv6 address" },
	{ "10.0.0.1-:allow", "bad range (expected" },
	{ "10.0.0.-5:allow", "bad range (expected" },
	{ "10.0.0.1-256:allow", "bad range (expected" },
	{ "10.0.1-5.1:allow", "bad range (expected" },
	{ "10.0-5:allow", "bad range (expected" },
	{ "10.0.0.0.1-5:allow", "bad range (expected" },
	{ "1-5:allow", "bad range (expected" },
	{ "10.0.0.01-5:allow", "bad range (expected" },
	{ "10.0.0.1-5-6:allow", "bad range (expected" },
	{ "10.0.0.50-1:allow", "bad range (first address after last)" },
	{ "1.2.3.4.:allow", "bad address prefix" },
	{ "1..:allow", "bad address prefix" },
	{ ".:allow", "bad address prefix" },
	{ "256.:allow", "bad address prefix" },
	{ "01.:allow", "bad address prefix" },
	{ "a.:allow", "bad address prefix" },
	{ "1.2.3.256:allow", "bad address" },
	{ "1.2.3.04:allow", "bad address" },
	{ "1.2.3:allow", "bad address" },
	{ "localhost:allow", "bad address" },
	{ "1.2.3.4 :allow", "bad address" },
	{ "*:allow", "bad address" },
};

static void
test_rules_errors(void **state)
{
	struct errlist errs = { NULL, 0 };
	char want[300];
	struct rules *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errs.n = 0;
		errs.msgs = NULL;
		r = parse(bad[i].line, strlen(bad[i].line), &errs);
		if (bad[i].err == NULL) {
			/* a near miss that is valid, to keep the table honest */
			assert_non_null(r);
			assert_int_equal(errs.n, 0);
			rules_free(r);
			continue;
		}
		if (r != NULL || errs.n != 1)
			fail_msg("\"%s\": accepted or %zu errors", bad[i].line,
			    errs.n);
		snprintf(want, sizeof(want), "relay_rules:1: %s", bad[i].err);
		if (strncmp(errs.msgs[0], want, strlen(want)) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s...\"",
			    bad[i].line, errs.msgs[0], want);
		errlist_free(&errs);
	}
	/* the host-name message says why */
	r = parses("=mx.example:allow", &errs);
	assert_null(r);
	assert_non_null(strstr(errs.msgs[0], "PTR"));
	assert_non_null(strstr(errs.msgs[0], "anyone relay"));
	errlist_free(&errs);
}

static void
test_rules_many_errors(void **state)
{
	static const char text[] =
	    "1.2.3.4:allow,RELAYCLIENT=\"\"\n"
	    "bogus\n"
	    "# fine\n"
	    "=x:allow\n"
	    "10.0.0.0/8:allow\r\n"
	    "1.2.3.4:allow,RELAYCLIENT=\"x\"";
	static const char nul[] = "1.2.3.4:allow\n1.2.\0.:allow\n";
	struct errlist errs = { NULL, 0 };
	struct rules *r;

	(void)state;
	r = parse(text, sizeof(text) - 1, &errs);
	assert_null(r);
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.msgs[0], "relay_rules:2: missing ':' "
	    "(expected ADDRESS:allow or ADDRESS:deny)");
	assert_true(strncmp(errs.msgs[1], "relay_rules:4: host name", 24) == 0);
	assert_true(strncmp(errs.msgs[2], "relay_rules:6: RELAYCLIENT", 26) == 0);
	errlist_free(&errs);

	r = parse(nul, sizeof(nul) - 1, &errs);
	assert_null(r);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msgs[0], "relay_rules:2: NUL byte");
	errlist_free(&errs);

	/* errs == NULL still fails, and leaks nothing */
	assert_null(parses("bogus", NULL));
	/* an empty file and a comments-only file are fine, match nothing */
	r = parse("", 0, &errs);
	assert_non_null(r);
	rules_free(r);
	r = parses("# x\n\n  \r\n", &errs);
	assert_non_null(r);
	assert_int_equal(errs.n, 0);
	rules_free(r);
	rules_free(NULL);
}

/* Every prefix of a valid file: parses or fails cleanly, never reads past
 * the length (ASan), and a NULL result always comes with an error. */
static void
test_rules_prefixes(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct rules *r;
	size_t k;

	(void)state;
	for (k = 0; k <= sizeof(ruletext) - 1; k++) {
		r = parse(ruletext, k, &errs);
		assert_true((r == NULL) == (errs.n > 0));
		rules_free(r);
		errlist_free(&errs);
	}
}

/* RBLSMTPD="" (rblsmtpd: never blocked) on an allow line; with a value
 * (rblsmtpd's own refusal) it is an error; a deny sets nothing. */
static void
test_rules_rblsmtpd(void **state)
{
	static const char text[] = "1.2.3.4:allow,RBLSMTPD=\"\"\n"
	    "1.2.3.5:allow,RELAYCLIENT=\"\",RBLSMTPD=\"\"\n"
	    "1.2.3.6:deny,RBLSMTPD=\"\"\n"
	    ":allow\n";
	static const char valued[] = "1.2.3.4:allow,RBLSMTPD=\"-go away\"\n";
	struct errlist errs = { NULL, 0 };
	struct rules_match m;
	struct netaddr a;
	struct rules *r;

	(void)state;
	r = parse(text, strlen(text), &errs);
	assert_non_null(r);
	assert_int_equal(netaddr_parse("1.2.3.4", &a), 0);
	rules_lookup(r, &a, &m);
	assert_true(m.rblsmtpd && !m.relay);
	assert_int_equal(netaddr_parse("1.2.3.5", &a), 0);
	rules_lookup(r, &a, &m);
	assert_true(m.rblsmtpd && m.relay);
	assert_int_equal(netaddr_parse("1.2.3.6", &a), 0);
	rules_lookup(r, &a, &m);
	assert_false(m.rblsmtpd);
	assert_int_equal(netaddr_parse("9.9.9.9", &a), 0);
	rules_lookup(r, &a, &m);
	assert_false(m.rblsmtpd);
	rules_free(r);
	assert_null(parse(valued, strlen(valued), &errs));
	assert_true(errs.n > 0);
	errlist_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_rblsmtpd),
		cmocka_unit_test(test_rules_lookup),
		cmocka_unit_test(test_rules_order),
		cmocka_unit_test(test_rules_errors),
		cmocka_unit_test(test_rules_many_errors),
		cmocka_unit_test(test_rules_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
