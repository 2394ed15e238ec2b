/* test_dmarc - DMARC: the record parser (every case also from an exactly
 * sized heap copy, and every prefix parsed without reading past it), the
 * answer set, discovery as a sequence of questions, alignment relaxed and
 * strict, the From extractor, and verdicts with p, sp and pct. */
#include "unit.h"

#include "dmarc.h"
#include "psl.h"

static const char list[] =
    "// ===BEGIN ICANN DOMAINS===\n"
    "com\nexample\nuk\nco.uk\n*.ck\n!www.ck\nio\n"
    "// ===END ICANN DOMAINS===\n"
    "// ===BEGIN PRIVATE DOMAINS===\n"
    "github.io\n"
    "// ===END PRIVATE DOMAINS===\n";

static struct psl *psl;

static int
setup(void **state)
{
	(void)state;
	psl = psl_parse(list, sizeof(list) - 1, PSL_ICANN | PSL_PRIVATE, NULL);
	return psl ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	psl_free(psl);
	return 0;
}

/* Parse s from an exactly sized copy; every prefix must parse too (any
 * status) without reading past its end (ASan checks that). */
static enum dmarc_rec_status
parse(const char *s, struct dmarc_record *r)
{
	size_t len = strlen(s), i;
	char *copy;
	enum dmarc_rec_status st;
	struct dmarc_record tmp;

	for (i = 0; i < len; i++) {
		copy = malloc(i + 1);
		memcpy(copy, s, i);
		(void)dmarc_record_parse(copy, i, &tmp);
		free(copy);
	}
	copy = malloc(len + 1);
	memcpy(copy, s, len);
	st = dmarc_record_parse(copy, len, r);
	free(copy);
	return st;
}

static void
test_record_basic(void **state)
{
	struct dmarc_record r;

	(void)state;
	assert_int_equal(parse("v=DMARC1; p=reject", &r), DMARC_REC_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.sp, DMARC_POLICY_REJECT);	/* sp defaults to p */
	assert_int_equal(r.np, DMARC_POLICY_REJECT);
	assert_int_equal(r.adkim, DMARC_ALIGN_RELAXED);
	assert_int_equal(r.aspf, DMARC_ALIGN_RELAXED);
	assert_int_equal(r.pct, 100);
	assert_int_equal(r.ri, 86400);
	assert_string_equal(r.fo, "0");
	assert_string_equal(r.rua, "");
	assert_int_equal(r.p_from_rua, 0);

	assert_int_equal(parse("v=DMARC1;p=quarantine;sp=none;np=reject;"
	    "adkim=s;aspf=s;pct=25;ri=3600;fo=1:d;"
	    "rua=mailto:d@rep.example,mailto:e@x.example!10m;"
	    "ruf=mailto:f@rep.example;rf=afrf;", &r), DMARC_REC_OK);
	assert_int_equal(r.p, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.sp, DMARC_POLICY_NONE);
	assert_int_equal(r.np, DMARC_POLICY_REJECT);
	assert_int_equal(r.adkim, DMARC_ALIGN_STRICT);
	assert_int_equal(r.aspf, DMARC_ALIGN_STRICT);
	assert_int_equal(r.pct, 25);
	assert_int_equal(r.ri, 3600);
	assert_string_equal(r.fo, "1:d");
	assert_string_equal(r.rua,
	    "mailto:d@rep.example,mailto:e@x.example!10m");
	assert_string_equal(r.ruf, "mailto:f@rep.example");

	/* whitespace, case of names and keywords, empty specs */
	assert_int_equal(parse("v = DMARC1 ;\tP = Reject ; SP=QUARANTINE;; ",
	    &r), DMARC_REC_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.sp, DMARC_POLICY_QUARANTINE);
	assert_int_equal(parse("V=DMARC1; p=none", &r), DMARC_REC_OK);
	/* unknown tags are ignored */
	assert_int_equal(parse("v=DMARC1; p=none; foo=bar; x=", &r),
	    DMARC_REC_OK);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
}

static void
test_record_not_dmarc(void **state)
{
	static const char *const cases[] = {
		"", ";", " ", "v=spf1 -all", "v=DMARC2; p=none",
		"v=dmarc1; p=none", "p=reject; v=DMARC1", "v=DMARC1 p=none",
		"v=DMARC1x; p=none", "vv=DMARC1",
		"hello", "=DMARC1",
	};
	struct dmarc_record r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (parse(cases[i], &r) != DMARC_REC_NOT_DMARC)
			fail_msg("case %zu: %s", i, cases[i]);
}

static void
test_record_invalid(void **state)
{
	static const char *const cases[] = {
		"v=DMARC1", "v=DMARC1;", "v=DMARC1; p=", "v=DMARC1; p=bogus",
		"v=DMARC1; p=reject; sp=bogus", "v=DMARC1; p=none; p=reject",
		"v=DMARC1; p=none; v=DMARC1", "v=DMARC1; p=none; broken",
		"v=DMARC1; rua=nouri; p=x", "v=DMARC1; rua=:x",
	};
	struct dmarc_record r;
	char big[DMARC_RECORD_MAX + 16];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (parse(cases[i], &r) != DMARC_REC_INVALID)
			fail_msg("case %zu: %s", i, cases[i]);
	/* over DMARC_RECORD_MAX */
	n = (size_t)snprintf(big, sizeof(big), "v=DMARC1; p=none; x=");
	memset(big + n, 'a', sizeof(big) - n);
	assert_int_equal(dmarc_record_parse(big, DMARC_RECORD_MAX, &r),
	    DMARC_REC_OK);
	assert_int_equal(dmarc_record_parse(big, DMARC_RECORD_MAX + 1, &r),
	    DMARC_REC_INVALID);
	/* over DMARC_TAGS_MAX */
	n = (size_t)snprintf(big, sizeof(big), "v=DMARC1; p=none");
	for (i = 2; i < DMARC_TAGS_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, ";x=1");
	assert_int_equal(dmarc_record_parse(big, n, &r), DMARC_REC_OK);
	n += (size_t)snprintf(big + n, sizeof(big) - n, ";x=1");
	assert_int_equal(dmarc_record_parse(big, n, &r), DMARC_REC_INVALID);
}

static void
test_record_defaults_on_bad_values(void **state)
{
	struct dmarc_record r;

	(void)state;
	/* no valid p but a reporting URI: p=none (RFC 7489 6.6.3) */
	assert_int_equal(parse("v=DMARC1; rua=mailto:r@x.example", &r),
	    DMARC_REC_OK);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(r.sp, DMARC_POLICY_NONE);
	assert_int_equal(r.p_from_rua, 1);
	assert_int_equal(parse("v=DMARC1; p=reject; sp=x; "
	    "rua=mailto:r@x.example", &r), DMARC_REC_OK);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(r.p_from_rua, 1);
	/* bad optional values take defaults */
	assert_int_equal(parse("v=DMARC1; p=reject; adkim=x; aspf=; pct=101;"
	    " fo=2; ri=-1", &r), DMARC_REC_OK);
	assert_int_equal(r.adkim, DMARC_ALIGN_RELAXED);
	assert_int_equal(r.aspf, DMARC_ALIGN_RELAXED);
	assert_int_equal(r.pct, 100);
	assert_string_equal(r.fo, "0");
	assert_int_equal(r.ri, 86400);
	assert_int_equal(parse("v=DMARC1; p=reject; pct=0", &r), DMARC_REC_OK);
	assert_int_equal(r.pct, 0);
	assert_int_equal(parse("v=DMARC1; p=reject; pct=100", &r),
	    DMARC_REC_OK);
	assert_int_equal(r.pct, 100);
	assert_int_equal(parse("v=DMARC1; p=reject; pct=1a", &r),
	    DMARC_REC_OK);
	assert_int_equal(r.pct, 100);
}

static void
test_select(void **state)
{
	const char *t1[] = { "v=spf1 -all", "v=DMARC1; p=reject", "hello" };
	const char *t2[] = { "v=DMARC1; p=reject", "v=DMARC1; p=none" };
	const char *t3[] = { "v=spf1 -all" };
	const char *t4[] = { "v=DMARC1; p=bogus", "x" };
	size_t l1[] = { 11, 18, 5 }, l2[] = { 18, 16 }, l3[] = { 11 },
	    l4[] = { 17, 1 };
	struct dmarc_record r;

	(void)state;
	assert_int_equal(dmarc_record_select(t1, l1, 3, &r), DMARC_REC_OK);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(dmarc_record_select(t2, l2, 2, &r),
	    DMARC_REC_MULTIPLE);
	assert_int_equal(dmarc_record_select(t3, l3, 1, &r),
	    DMARC_REC_NOT_DMARC);
	assert_int_equal(dmarc_record_select(NULL, NULL, 0, &r),
	    DMARC_REC_NOT_DMARC);
	assert_int_equal(dmarc_record_select(t4, l4, 2, &r),
	    DMARC_REC_INVALID);
}

static void
answer1(struct dmarc_discovery *d, const char *txt)
{
	size_t len = strlen(txt);

	dmarc_discovery_answer(d, DMARC_DNS_ANSWER, &txt, &len, 1);
}

static void
test_discovery(void **state)
{
	struct dmarc_discovery d;

	(void)state;
	/* a subdomain without a record: the organisational domain next */
	assert_int_equal(dmarc_discovery_init(&d, psl, "Mail.Bank.Example."),
	    0);
	assert_string_equal(dmarc_discovery_next(&d),
	    "_dmarc.mail.bank.example");
	dmarc_discovery_answer(&d, DMARC_DNS_NOTHING, NULL, NULL, 0);
	assert_string_equal(dmarc_discovery_next(&d), "_dmarc.bank.example");
	answer1(&d, "v=DMARC1; p=reject; sp=quarantine");
	assert_null(dmarc_discovery_next(&d));
	assert_int_equal(d.state, DMARC_DISC_FOUND);
	assert_int_equal(d.at_org, 1);
	assert_int_equal(d.record.sp, DMARC_POLICY_QUARANTINE);
	/* later answers change nothing */
	dmarc_discovery_answer(&d, DMARC_DNS_TEMP, NULL, NULL, 0);
	assert_int_equal(d.state, DMARC_DISC_FOUND);

	/* a record at the From domain itself: no second question */
	dmarc_discovery_init(&d, psl, "mail.bank.example");
	answer1(&d, "v=DMARC1; p=none");
	assert_int_equal(d.state, DMARC_DISC_FOUND);
	assert_int_equal(d.at_org, 0);

	/* only non-DMARC TXT records count as none */
	dmarc_discovery_init(&d, psl, "mail.bank.example");
	answer1(&d, "v=spf1 -all");
	assert_string_equal(dmarc_discovery_next(&d), "_dmarc.bank.example");
	dmarc_discovery_answer(&d, DMARC_DNS_NOTHING, NULL, NULL, 0);
	assert_int_equal(d.state, DMARC_DISC_NONE);

	/* From is the organisational domain: one question */
	dmarc_discovery_init(&d, psl, "bank.example");
	dmarc_discovery_answer(&d, DMARC_DNS_NOTHING, NULL, NULL, 0);
	assert_null(dmarc_discovery_next(&d));
	assert_int_equal(d.state, DMARC_DISC_NONE);

	/* temporary failures, at either step */
	dmarc_discovery_init(&d, psl, "mail.bank.example");
	dmarc_discovery_answer(&d, DMARC_DNS_TEMP, NULL, NULL, 0);
	assert_int_equal(d.state, DMARC_DISC_TEMPERROR);
	dmarc_discovery_init(&d, psl, "mail.bank.example");
	dmarc_discovery_answer(&d, DMARC_DNS_NOTHING, NULL, NULL, 0);
	dmarc_discovery_answer(&d, DMARC_DNS_TEMP, NULL, NULL, 0);
	assert_int_equal(d.state, DMARC_DISC_TEMPERROR);

	/* an invalid record ends discovery: the org domain is not asked */
	dmarc_discovery_init(&d, psl, "mail.bank.example");
	answer1(&d, "v=DMARC1; p=bogus");
	assert_int_equal(d.state, DMARC_DISC_PERMERROR);
	assert_null(dmarc_discovery_next(&d));

	/* the co.uk kind of suffix */
	dmarc_discovery_init(&d, psl, "a.b.shop.co.uk");
	dmarc_discovery_answer(&d, DMARC_DNS_NOTHING, NULL, NULL, 0);
	assert_string_equal(dmarc_discovery_next(&d), "_dmarc.shop.co.uk");

	assert_int_equal(dmarc_discovery_init(&d, psl, "bad..name"), -1);
	assert_null(dmarc_discovery_next(&d));
	assert_int_equal(dmarc_discovery_init(&d, psl, ""), -1);
}

static void
test_alignment(void **state)
{
	(void)state;
	assert_true(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "mail.bank.example", "bank.example"));
	assert_true(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "bank.example", "bounce.BANK.example."));
	assert_false(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "bank.example", "evilbank.example"));
	assert_false(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "bank.example", "bank.example.com"));
	assert_false(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "a.co.uk", "b.co.uk"));
	assert_true(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "x.a.co.uk", "a.co.uk"));
	assert_false(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "alice.github.io", "bob.github.io"));
	assert_true(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "www.alice.github.io", "alice.github.io"));
	assert_false(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "a.foo.ck", "b.foo.ck"));
	assert_true(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "a.www.ck", "b.www.ck"));
	assert_true(dmarc_aligned(psl, DMARC_ALIGN_STRICT,
	    "bank.example", "BANK.example."));
	assert_false(dmarc_aligned(psl, DMARC_ALIGN_STRICT,
	    "mail.bank.example", "bank.example"));
	assert_false(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "bank.example", NULL));
	assert_false(dmarc_aligned(psl, DMARC_ALIGN_RELAXED,
	    "bank.example", ""));
	assert_false(dmarc_aligned(psl, DMARC_ALIGN_STRICT, "", ""));
}

static void
expect_from(const char *h, enum dmarc_from_status st, const char *domain)
{
	char d[PSL_NAME_MAX + 1];
	size_t len = strlen(h);
	char *copy = malloc(len + 1);
	enum dmarc_from_status got;

	memcpy(copy, h, len);
	got = dmarc_from_domain(copy, len, d, sizeof(d));
	free(copy);
	if (got != st)
		fail_msg("status %d, want %d: %.60s", got, st, h);
	if (st == DMARC_FROM_OK && strcmp(d, domain) != 0)
		fail_msg("%s: domain %s, want %s", h, d, domain);
}

static void
test_from(void **state)
{
	char big[DMARC_FROM_VALUE_MAX + 64];
	size_t n;

	(void)state;
	expect_from("From: a@Bank.Example\r\n\r\n", DMARC_FROM_OK,
	    "bank.example");
	expect_from("Subject: x\r\nfrom: \"Bank, Inc.\" <a@bank.example>\r\n",
	    DMARC_FROM_OK, "bank.example");
	expect_from("FROM : Bank <a@bank.example.>\r\n", DMARC_FROM_OK,
	    "bank.example");
	expect_from("From: (the bank) a @ bank.example (x)\r\n",
	    DMARC_FROM_OK, "bank.example");
	expect_from("From:\r\n\tBank\r\n <a@bank.example>\r\n", DMARC_FROM_OK,
	    "bank.example");
	expect_from("From: \"a<b@evil.example>\" <c@bank.example>\r\n",
	    DMARC_FROM_OK, "bank.example");
	expect_from("From: \"odd \\\"user\"@bank.example\r\n", DMARC_FROM_OK,
	    "bank.example");
	expect_from("From: Bank <a@bank.example> (comment, with comma)\r\n",
	    DMARC_FROM_OK, "bank.example");
	expect_from("From: <@relay.example:a@bank.example>\r\n",
	    DMARC_FROM_OK, "bank.example");
	expect_from("From: a@bank.example", DMARC_FROM_OK, "bank.example");
	/* the From in the body does not count */
	expect_from("Subject: x\r\n\r\nFrom: a@b.example\r\n", DMARC_FROM_NONE,
	    NULL);
	expect_from("", DMARC_FROM_NONE, NULL);
	/* a From: behind a junk line still counts */
	expect_from("junk\r\nFrom: a@bank.example\r\n", DMARC_FROM_OK,
	    "bank.example");
	expect_from("From: a@evil.example\r\njunk\r\nFrom: a@bank.example\r\n",
	    DMARC_FROM_MULTIPLE_FIELDS, NULL);
	expect_from("X-From: a@b.example\r\n", DMARC_FROM_NONE, NULL);
	expect_from("From: a@b.example\r\nFrom: c@d.example\r\n",
	    DMARC_FROM_MULTIPLE_FIELDS, NULL);
	expect_from("From: a@b.example\r\nfrom: a@b.example\r\n",
	    DMARC_FROM_MULTIPLE_FIELDS, NULL);
	expect_from("From: a@b.example, c@d.example\r\n",
	    DMARC_FROM_MULTIPLE_MAILBOXES, NULL);
	expect_from("From: A <a@b.example>, C <c@d.example>\r\n",
	    DMARC_FROM_MULTIPLE_MAILBOXES, NULL);
	expect_from("From: Bank, Inc. <a@bank.example>\r\n",
	    DMARC_FROM_MULTIPLE_MAILBOXES, NULL);
	expect_from("From: undisclosed:;\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: team: a@b.example;\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From:\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: <>\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: nobody\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: <a@b.example\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: <a@b.example> x\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: <a@b.example><c@d.example>\r\n",
	    DMARC_FROM_SYNTAX, NULL);
	expect_from("From: (unterminated a@b.example\r\n", DMARC_FROM_SYNTAX,
	    NULL);
	expect_from("From: \"unterminated a@b.example\r\n", DMARC_FROM_SYNTAX,
	    NULL);
	expect_from("From: a@b..example\r\n", DMARC_FROM_SYNTAX, NULL);
	/* local parts are not refused for what DMARC does not look at */
	expect_from("From: j\xc3\xb6rg@b.example\r\n", DMARC_FROM_OK,
	    "b.example");
	expect_from("From: \"a b\"@bank.example\r\n", DMARC_FROM_OK,
	    "bank.example");
	expect_from("From: Bank <\"a b\"@bank.example>\r\n", DMARC_FROM_OK,
	    "bank.example");
	expect_from("From: a\"b\"@bank.example\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: .a@bank.example\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: @bank.example\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: a@\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: a@b@c.example\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: a@b.example x\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: a b@b.example\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: <a@b.example> \"x\"\r\n", DMARC_FROM_SYNTAX, NULL);
	expect_from("From: < a . b @ b . example >\r\n", DMARC_FROM_OK,
	    "b.example");
	expect_from("From: a@[192.0.2.1]\r\n", DMARC_FROM_NO_DOMAIN, NULL);
	/* a NUL inside the value */
	{
		char d[PSL_NAME_MAX + 1];
		static const char h[] = "From: a@b.example\0x\r\n";

		assert_int_equal(dmarc_from_domain(h, sizeof(h) - 1, d,
		    sizeof(d)), DMARC_FROM_SYNTAX);
	}
	/* DMARC_FROM_VALUE_MAX */
	n = (size_t)snprintf(big, sizeof(big), "From: ");
	memset(big + n, ' ', DMARC_FROM_VALUE_MAX - 12);
	n += DMARC_FROM_VALUE_MAX - 12;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "a@b.example x");
	expect_from(big, DMARC_FROM_SYNTAX, NULL);	/* "x": syntax */
	big[n - 2] = '\0';
	expect_from(big, DMARC_FROM_OK, "b.example");
	memset(big + 6, 'a', DMARC_FROM_VALUE_MAX);
	memcpy(big + 6 + DMARC_FROM_VALUE_MAX, "@b.example", 11);
	expect_from(big, DMARC_FROM_SYNTAX, NULL);	/* too long */
	assert_string_equal(dmarc_from_status_text(DMARC_FROM_NONE),
	    "no From field");
}

/* A discovery finished with record txt found at from (or at its org). */
static void
found(struct dmarc_discovery *d, const char *from, int at_org,
    const char *txt)
{
	assert_int_equal(dmarc_discovery_init(d, psl, from), 0);
	if (at_org)
		dmarc_discovery_answer(d, DMARC_DNS_NOTHING, NULL, NULL, 0);
	answer1(d, txt);
	assert_int_equal(d->state, DMARC_DISC_FOUND);
}

static void
test_verdict(void **state)
{
	struct dmarc_discovery d;
	struct dmarc_verdict v;
	const char *dk_good[] = { "other.example", "mail.bank.example" };
	const char *dk_bad[] = { "evil.example" };
	struct dmarc_auth a = { NULL, NULL, 0, 0 };

	(void)state;
	found(&d, "bank.example", 0, "v=DMARC1; p=reject");
	/* nothing authenticated */
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_FAIL);
	assert_int_equal(v.requested, DMARC_POLICY_REJECT);
	assert_int_equal(v.policy, DMARC_POLICY_REJECT);
	assert_string_equal(dmarc_result_name(v.result), "fail");
	assert_string_equal(dmarc_policy_name(v.policy), "reject");
	/* an aligned DKIM signature among others */
	a.dkim_domains = dk_good;
	a.ndkim = 2;
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_PASS);
	assert_int_equal(v.dkim_aligned, 1);
	assert_int_equal(v.policy, DMARC_POLICY_NONE);
	/* an SPF pass of an aligned MAIL FROM */
	a.dkim_domains = dk_bad;
	a.ndkim = 1;
	a.spf_domain = "bounces.bank.example";
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_PASS);
	assert_int_equal(v.spf_aligned, 1);
	assert_int_equal(v.dkim_aligned, 0);
	/* strict SPF alignment: the subdomain no longer counts */
	found(&d, "bank.example", 0, "v=DMARC1; p=reject; aspf=s");
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_FAIL);
	a.spf_domain = "bank.example";
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_PASS);
	/* strict DKIM alignment */
	found(&d, "bank.example", 0, "v=DMARC1; p=reject; adkim=s");
	a.spf_domain = NULL;
	a.dkim_domains = dk_good;
	a.ndkim = 2;
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_FAIL);

	/* sp for a subdomain whose policy came from the org domain */
	a.ndkim = 0;
	found(&d, "news.bank.example", 1, "v=DMARC1; p=reject; sp=quarantine");
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_FAIL);
	assert_int_equal(v.requested, DMARC_POLICY_QUARANTINE);
	assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
	found(&d, "news.bank.example", 1, "v=DMARC1; p=reject; sp=none");
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.policy, DMARC_POLICY_NONE);
	/* ... but p when the subdomain publishes its own record */
	found(&d, "news.bank.example", 0, "v=DMARC1; p=reject; sp=none");
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.policy, DMARC_POLICY_REJECT);
	/* no sp: p for subdomains too */
	found(&d, "news.bank.example", 1, "v=DMARC1; p=reject");
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.policy, DMARC_POLICY_REJECT);
}

static void
test_verdict_pct(void **state)
{
	struct dmarc_discovery d;
	struct dmarc_verdict v;
	struct dmarc_auth a = { NULL, NULL, 0, 0 };

	(void)state;
	found(&d, "bank.example", 0, "v=DMARC1; p=reject; pct=50");
	a.pct_random = 49;
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.policy, DMARC_POLICY_REJECT);
	assert_int_equal(v.sampled_out, 0);
	a.pct_random = 50;
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_FAIL);
	assert_int_equal(v.requested, DMARC_POLICY_REJECT);
	assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
	assert_int_equal(v.sampled_out, 1);
	found(&d, "bank.example", 0, "v=DMARC1; p=quarantine; pct=50");
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.policy, DMARC_POLICY_NONE);
	found(&d, "bank.example", 0, "v=DMARC1; p=reject; pct=0");
	a.pct_random = 0;
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.policy, DMARC_POLICY_QUARANTINE);
	found(&d, "bank.example", 0, "v=DMARC1; p=reject; pct=100");
	a.pct_random = 99;
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.policy, DMARC_POLICY_REJECT);
	a.pct_random = 5000;	/* out of range: the largest value */
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.policy, DMARC_POLICY_REJECT);
	found(&d, "bank.example", 0, "v=DMARC1; p=none; pct=0");
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.policy, DMARC_POLICY_NONE);
	assert_int_equal(v.sampled_out, 0);
}

static void
test_verdict_errors(void **state)
{
	struct dmarc_discovery d;
	struct dmarc_verdict v;
	struct dmarc_auth a = { "bank.example", NULL, 0, 0 };
	const char *two[] = { "v=DMARC1; p=reject", "v=DMARC1; p=none" };
	size_t lens[] = { 18, 16 };

	(void)state;
	dmarc_discovery_init(&d, psl, "bank.example");
	dmarc_evaluate(psl, &d, &a, &v);	/* not finished */
	assert_int_equal(v.result, DMARC_RESULT_PERMERROR);
	dmarc_discovery_answer(&d, DMARC_DNS_NOTHING, NULL, NULL, 0);
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_NONE);
	assert_int_equal(v.policy, DMARC_POLICY_NONE);
	assert_string_equal(v.reason, "no DMARC record");

	dmarc_discovery_init(&d, psl, "bank.example");
	dmarc_discovery_answer(&d, DMARC_DNS_TEMP, NULL, NULL, 0);
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_TEMPERROR);
	assert_int_equal(v.policy, DMARC_POLICY_NONE);

	dmarc_discovery_init(&d, psl, "bank.example");
	dmarc_discovery_answer(&d, DMARC_DNS_ANSWER, two, lens, 2);
	dmarc_evaluate(psl, &d, &a, &v);
	assert_int_equal(v.result, DMARC_RESULT_PERMERROR);
	assert_string_equal(v.reason, "more than one DMARC record");
	assert_int_equal(v.policy, DMARC_POLICY_NONE);

	dmarc_verdict_from_error(DMARC_FROM_MULTIPLE_MAILBOXES, &v);
	assert_int_equal(v.result, DMARC_RESULT_PERMERROR);
	assert_int_equal(v.policy, DMARC_POLICY_NONE);
	assert_string_equal(v.reason, "more than one From mailbox");
	assert_string_equal(dmarc_result_name(DMARC_RESULT_TEMPERROR),
	    "temperror");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE),
	    "quarantine");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_basic),
		cmocka_unit_test(test_record_not_dmarc),
		cmocka_unit_test(test_record_invalid),
		cmocka_unit_test(test_record_defaults_on_bad_values),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_verdict_pct),
		cmocka_unit_test(test_verdict_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
