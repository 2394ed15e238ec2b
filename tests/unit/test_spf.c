/* test_spf - the SPF record parser (every malformed form the ABNF allows us
 * to name, each record in an exactly-sized heap copy without a NUL, and
 * every prefix of it), the macro expander (RFC 7208 section 7.4's
 * examples, whole and from exact-size copies; bounded output) and the
 * evaluator against a small DNS table driven through spf_step/spf_answer
 * (limits, include and redirect semantics, exp, HELO, IPv6, ptr, mx). */
#include "unit.h"

#include <arpa/inet.h>

#include "spf.h"

/* ------------------------------------------------------------- parser */

static int
parse_exact(const char *txt, size_t len, struct spf_record *r, char *why,
    size_t whylen)
{
	char *p = malloc(len ? len : 1);
	int rc;

	assert_non_null(p);
	memcpy(p, txt, len);
	rc = spf_record_parse(r, p, len, why, whylen);
	free(p);
	return rc;
}

struct good {
	const char	*rec;
	size_t		 nterms;
	int		 has_redirect, has_exp;
};

static const struct good goods[] = {
	{ "v=spf1", 0, 0, 0 },
	{ "V=SPF1 -ALL", 1, 0, 0 },
	{ "v=spf1 -all ", 1, 0, 0 },
	{ "v=spf1  a  -all", 2, 0, 0 },
	{ "v=spf1 +a ~mx ?ptr -all", 4, 0, 0 },
	{ "v=spf1 a:example.com/24//64 mx/16 mx//48 a/0", 4, 0, 0 },
	{ "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.5 ip6:2001:db8::/32 "
	  "ip6:::1 ip4:1.2.3.4/0 ip6:::/0 ip6:::ffff:1.2.3.4/128", 7, 0, 0 },
	{ "v=spf1 include:_spf.example.com exists:%{i}.bl.example.net", 2,
	  0, 0 },
	{ "v=spf1 redirect=_spf.example.com", 0, 1, 0 },
	{ "v=spf1 -all exp=explain.%{d}", 1, 0, 1 },
	{ "v=spf1 -all foo=bar moo.cow-2=%{l} x_y=", 1, 0, 0 },
	{ "v=spf1 a:foo-bar.example.com.", 1, 0, 0 },
	{ "v=spf1 a:%{d}", 1, 0, 0 },
	{ "v=spf1 a:example.xn--p1ai a:x.1a a:x.1-1", 3, 0, 0 },
	{ "v=spf1 ptr:example.com exists:%{ir}.%{v}._spf.%{d2}", 2, 0, 0 },
	{ "v=spf1 a:%{l1r-}.example.com mx:%%.%_.%-.example.com", 2, 0, 0 },
};

struct bad {
	const char	*rec;
	const char	*why;		/* a substring of the reason */
};

static const struct bad bads[] = {
	{ "", "not an SPF record" },
	{ "v=spf", "not an SPF record" },
	{ "v=spf10", "not an SPF record" },
	{ "v=spf1-all", "not an SPF record" },
	{ " v=spf1 -all", "not an SPF record" },
	{ "v=spf1 -all\t", "character 0x09" },
	{ "v=spf1 a:ctrl.example.com\rptr", "character 0x0d" },
	{ "v=spf1 \x80" "a -all", "character 0x80" },
	{ "v=spf1 a\x00 -all", "character 0x00" },
	{ "v=spf1 foo", "unknown mechanism" },
	{ "v=spf1 -", "unknown mechanism" },
	{ "v=spf1 allx", "unknown mechanism" },
	{ "v=spf1 all:foo", "malformed mechanism" },
	{ "v=spf1 all/24", "malformed mechanism" },
	{ "v=spf1 a-all", "unknown mechanism" },
	{ "v=spf1 include", "needs an argument" },
	{ "v=spf1 include:", "empty domain-spec" },
	{ "v=spf1 exists", "needs an argument" },
	{ "v=spf1 exists:", "empty domain-spec" },
	{ "v=spf1 ip4", "needs an argument" },
	{ "v=spf1 ip4:", "bad address" },
	{ "v=spf1 ip4:1.2.3", "bad address" },
	{ "v=spf1 ip4:1.2.3.4/33", "bad CIDR" },
	{ "v=spf1 ip4:1.2.3.4/032", "bad CIDR" },
	{ "v=spf1 ip4:1.2.3.4/", "bad CIDR" },
	{ "v=spf1 ip4:1.2.3.4:8080", "bad address" },
	{ "v=spf1 ip4:::1", "bad address" },
	{ "v=spf1 ip6:1.2.3.4", "bad address" },
	{ "v=spf1 ip6:::1/129", "bad CIDR" },
	{ "v=spf1 ip6:gggg::1", "bad address" },
	{ "v=spf1 a/33", "ip4-cidr-length" },
	{ "v=spf1 a//129", "ip6-cidr-length" },
	{ "v=spf1 mx/01", "ip4-cidr-length" },
	{ "v=spf1 a:", "empty domain-spec" },
	{ "v=spf1 a:museum", "top label" },
	{ "v=spf1 a:111.222.33.44", "top label" },
	{ "v=spf1 a:foo.-bar", "top label" },
	{ "v=spf1 a:foo.bar-", "top label" },
	{ "v=spf1 a:example.com/", "top label" },
	{ "v=spf1 mx:example.com:8080", "top label" },
	{ "v=spf1 exists:mail.example.com/24", "top label" },
	{ "v=spf1 a:foo.%", "'%' at the end" },
	{ "v=spf1 a:%x.example.com", "not a macro" },
	{ "v=spf1 a:%{x}.example.com", "unknown macro letter" },
	{ "v=spf1 a:%{c}.example.com", "only in explanations" },
	{ "v=spf1 a:%{d0}.example.com", "transformer" },
	{ "v=spf1 a:%{d129}.example.com", "transformer" },
	{ "v=spf1 a:%{d.example.com", "unterminated" },
	{ "v=spf1 a:%{d!}.example.com", "unterminated" },
	{ "v=spf1 a:%{}.example.com", "no macro letter" },
	{ "v=spf1 redirect=a.example.com redirect=b.example.com",
	  "redirect twice" },
	{ "v=spf1 exp=a.example.com exp=b.example.com", "exp twice" },
	{ "v=spf1 redirect=", "empty domain-spec" },
	{ "v=spf1 exp=", "empty domain-spec" },
	{ "v=spf1 redirect=museum", "top label" },
	{ "v=spf1 -redirect=a.example.com", "qualifier on modifier" },
	{ "v=spf1 =all", "unknown mechanism" },
	{ "v=spf1 -all foo=%abc", "not a macro" },
	{ "v=spf1 -all foo=%", "'%' at the end" },
	{ "v=spf1 1foo=bar", "unknown mechanism" },
};

static void
test_parse_good(void **state)
{
	struct spf_record *r = malloc(sizeof(*r));
	char why[256];
	size_t i, k;

	(void)state;
	assert_non_null(r);
	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const char *rec = goods[i].rec;
		size_t len = strlen(rec);

		why[0] = '\0';
		if (parse_exact(rec, len, r, why, sizeof(why)) != 0)
			fail_msg("'%s': %s", rec, why);
		assert_int_equal(r->nterms, goods[i].nterms);
		assert_int_equal(r->redirect != NULL, goods[i].has_redirect);
		assert_int_equal(r->exp != NULL, goods[i].has_exp);
		/* Every prefix parses or fails cleanly, never over-reads. */
		for (k = 0; k < len; k++)
			(void)parse_exact(rec, k, r, why, sizeof(why));
	}
	free(r);
}

static void
test_parse_bad(void **state)
{
	struct spf_record *r = malloc(sizeof(*r));
	char why[256];
	size_t i, len;

	(void)state;
	assert_non_null(r);
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const char *rec = bads[i].rec;

		/* The NUL case is written with an explicit length. */
		len = strstr(rec, "v=spf1 a") == rec && rec[8] == '\0' &&
		    strcmp(bads[i].why, "character 0x00") == 0 ? 14 :
		    strlen(rec);
		why[0] = '\0';
		if (parse_exact(rec, len, r, why, sizeof(why)) != -1)
			fail_msg("'%s' parsed", rec);
		if (strstr(why, bads[i].why) == NULL)
			fail_msg("'%s': reason '%s', want '%s'", rec, why,
			    bads[i].why);
	}
	free(r);
}

static void
test_parse_details(void **state)
{
	struct spf_record *r = malloc(sizeof(*r));
	char why[256];
	const char *rec = "v=spf1 -a:example.com/24//64 ~mx//48 "
	    "ip4:192.0.2.77/24 +ip6:2001:DB8::1/32 ?include:x.example.com";

	(void)state;
	assert_non_null(r);
	assert_int_equal(parse_exact(rec, strlen(rec), r, why, sizeof(why)),
	    0);
	assert_int_equal(r->nterms, 5);
	assert_int_equal(r->terms[0].mech, SPF_MECH_A);
	assert_int_equal(r->terms[0].qualifier, SPF_RESULT_FAIL);
	assert_int_equal(r->terms[0].cidr4, 24);
	assert_int_equal(r->terms[0].cidr6, 64);
	assert_int_equal(r->terms[0].speclen, strlen("example.com"));
	assert_memory_equal(r->terms[0].spec, "example.com", 11);
	assert_string_equal(r->terms[0].text, "-a:example.com/24//64");
	assert_int_equal(r->terms[1].mech, SPF_MECH_MX);
	assert_int_equal(r->terms[1].qualifier, SPF_RESULT_SOFTFAIL);
	assert_null(r->terms[1].spec);
	assert_int_equal(r->terms[1].cidr4, 32);
	assert_int_equal(r->terms[1].cidr6, 48);
	assert_int_equal(r->terms[2].mech, SPF_MECH_IP4);
	assert_int_equal(r->terms[2].prefix, 24);
	/* Host bits below the prefix are allowed, and cleared. */
	assert_int_equal(r->terms[2].net.a[3], 0);
	assert_int_equal(r->terms[3].mech, SPF_MECH_IP6);
	assert_int_equal(r->terms[3].qualifier, SPF_RESULT_PASS);
	assert_int_equal(r->terms[3].prefix, 32);
	assert_int_equal(r->terms[4].mech, SPF_MECH_INCLUDE);
	assert_int_equal(r->terms[4].qualifier, SPF_RESULT_NEUTRAL);
	free(r);
}

static void
test_parse_limits(void **state)
{
	struct spf_record *r = malloc(sizeof(*r));
	struct buf b;
	char why[256];
	size_t i;

	(void)state;
	assert_non_null(r);
	/* SPF_TERMS_MAX terms: fine; one more: a permerror. */
	buf_init(&b, SPF_RECORD_MAX * 2);
	assert_int_equal(buf_appends(&b, "v=spf1"), 0);
	for (i = 0; i < SPF_TERMS_MAX; i++)
		assert_int_equal(buf_appends(&b, " a"), 0);
	assert_int_equal(parse_exact(b.data, b.len, r, why, sizeof(why)), 0);
	assert_int_equal(buf_appends(&b, " a"), 0);
	assert_int_equal(parse_exact(b.data, b.len, r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "terms"));
	buf_free(&b);
	/* SPF_RECORD_MAX bytes: fine; one more: too long. */
	buf_init(&b, SPF_RECORD_MAX * 2);
	assert_int_equal(buf_appends(&b, "v=spf1"), 0);
	while (b.len < SPF_RECORD_MAX)
		assert_int_equal(buf_appendc(&b, ' '), 0);
	assert_int_equal(parse_exact(b.data, b.len, r, why, sizeof(why)), 0);
	assert_int_equal(buf_appendc(&b, ' '), 0);
	assert_int_equal(parse_exact(b.data, b.len, r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "longer"));
	buf_free(&b);
	assert_true(spf_is_record("v=spf1", 6));
	assert_true(spf_is_record("V=SpF1 a", 8));
	assert_false(spf_is_record("v=spf1a", 7));
	assert_false(spf_is_record("v=spf", 5));
	free(r);
}

/* ------------------------------------------------------------- macros */

static struct netaddr ip4, ip6;

static void
env_rfc(struct spf_macro_env *e, const struct netaddr *ip)
{
	e->local = "strong-bad";
	e->sender_domain = "email.example.com";
	e->domain = "email.example.com";
	e->ip = ip;
	e->helo = "mx.example.org";
	e->receiver = "mx.example.net";
	e->now = 1700000000;
}

struct mcase {
	const char	*in;
	int		 v6;
	int		 exp;
	const char	*want;		/* NULL: an error */
};

static const struct mcase mcases[] = {
	/* RFC 7208 section 7.4. */
	{ "%{s}", 0, 0, "strong-bad@email.example.com" },
	{ "%{o}", 0, 0, "email.example.com" },
	{ "%{d}", 0, 0, "email.example.com" },
	{ "%{d4}", 0, 0, "email.example.com" },
	{ "%{d3}", 0, 0, "email.example.com" },
	{ "%{d2}", 0, 0, "example.com" },
	{ "%{d1}", 0, 0, "com" },
	{ "%{dr}", 0, 0, "com.example.email" },
	{ "%{d2r}", 0, 0, "example.email" },
	{ "%{l}", 0, 0, "strong-bad" },
	{ "%{l-}", 0, 0, "strong.bad" },
	{ "%{lr}", 0, 0, "strong-bad" },
	{ "%{lr-}", 0, 0, "bad.strong" },
	{ "%{l1r-}", 0, 0, "strong" },
	{ "%{ir}.%{v}._spf.%{d2}", 0, 0,
	  "3.2.0.192.in-addr._spf.example.com" },
	{ "%{lr-}.lp._spf.%{d2}", 0, 0, "bad.strong.lp._spf.example.com" },
	{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", 0, 0,
	  "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
	{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", 0, 0,
	  "3.2.0.192.in-addr.strong.lp._spf.example.com" },
	{ "%{d2}.trusted-domains.example.net", 0, 0,
	  "example.com.trusted-domains.example.net" },
	{ "%{ir}.%{v}._spf.%{d2}", 1, 0,
	  "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	  ".ip6._spf.example.com" },
	/* Escapes, uppercase (URL-encoded), the rest of the letters. */
	{ "%%%_%-", 0, 0, "% %20" },
	{ "%{S}", 0, 0, "strong-bad%40email.example.com" },
	{ "%{L}", 0, 0, "strong-bad" },
	{ "%{h}", 0, 0, "mx.example.org" },
	{ "%{i}", 0, 0, "192.0.2.3" },
	{ "%{p}", 0, 0, "unknown" },
	{ "%{v}", 1, 0, "ip6" },
	{ "%{d128}", 0, 0, "email.example.com" },
	{ "%{l+-_}", 0, 0, "strong.bad" },
	{ "%{s=}", 0, 0, "strong-bad@email.example.com" },
	{ "x%{d1}y", 0, 0, "xcomy" },
	{ "", 0, 0, "" },
	/* Explanation context: c, r, t and spaces. */
	{ "%{c} is not allowed by %{r} at %{t}", 0, 1,
	  "192.0.2.3 is not allowed by mx.example.net at 1700000000" },
	{ "%{c}", 1, 1, "2001:db8::cb01" },
	{ "%{c}", 0, 0, NULL },
	{ "%{r}", 0, 0, NULL },
	{ "%{t}", 0, 0, NULL },
	{ "a b", 0, 0, NULL },
	/* Malformed. */
	{ "%", 0, 0, NULL },
	{ "%a", 0, 0, NULL },
	{ "%{", 0, 0, NULL },
	{ "%{d", 0, 0, NULL },
	{ "%{d2", 0, 0, NULL },
	{ "%{d2r", 0, 0, NULL },
	{ "%{q}", 0, 0, NULL },
	{ "%{d0}", 0, 0, NULL },
	{ "%{d1000}", 0, 0, NULL },
	{ "%{d2x}", 0, 0, NULL },
	{ "%{dr2}", 0, 0, NULL },
	{ "%{1d}", 0, 0, NULL },
};

static void
test_macro_rfc(void **state)
{
	struct spf_macro_env env;
	struct buf out;
	char why[256];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		const struct mcase *c = &mcases[i];
		size_t len = strlen(c->in);
		char *p = malloc(len ? len : 1);
		int rc, check;

		assert_non_null(p);
		memcpy(p, c->in, len);	/* no NUL after it */
		env_rfc(&env, c->v6 ? &ip6 : &ip4);
		buf_init(&out, SPF_MACRO_MAX);
		why[0] = '\0';
		rc = spf_macro_expand(p, len, &env, c->exp, &out, why,
		    sizeof(why));
		check = spf_macro_expand(p, len, NULL, c->exp, NULL, why,
		    sizeof(why));
		if (c->want == NULL) {
			if (rc != -1)
				fail_msg("'%s' expanded to '%s'", c->in,
				    out.data);
			assert_int_equal(check, -1);
		} else {
			if (rc != 0)
				fail_msg("'%s': %s", c->in, why);
			assert_int_equal(check, 0);
			assert_int_equal(out.len, strlen(c->want));
			if (out.len)
				assert_string_equal(out.data, c->want);
		}
		buf_free(&out);
		/* Every prefix, from its own exact-size copy: it expands or
		 * fails cleanly, and the syntax check agrees. */
		for (k = 0; k < len; k++) {
			char *q = malloc(k ? k : 1);

			assert_non_null(q);
			memcpy(q, c->in, k);
			buf_init(&out, SPF_MACRO_MAX);
			assert_int_equal(spf_macro_expand(q, k, &env, c->exp,
			    &out, why, sizeof(why)), spf_macro_expand(q, k,
			    NULL, c->exp, NULL, why, sizeof(why)));
			buf_free(&out);
			free(q);
		}
		free(p);
	}
}

static void
test_macro_bounded(void **state)
{
	struct spf_macro_env env;
	struct buf out;
	char name[SPF_NAME_MAX + 1], why[256], spec[1024];
	size_t i;

	(void)state;
	env_rfc(&env, &ip4);
	/* An expansion past the buffer's cap is refused whole. */
	buf_init(&out, 10);
	assert_int_equal(spf_macro_expand("%{s}", 4, &env, 0, &out, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "longer"));
	buf_free(&out);
	/* A domain longer than 253 loses labels from the left. */
	spec[0] = '\0';
	for (i = 0; i < 20; i++)
		strncat(spec, "%{d}.", sizeof(spec) - strlen(spec) - 1);
	strncat(spec, "example.org", sizeof(spec) - strlen(spec) - 1);
	assert_int_equal(spf_expand_domain(spec, strlen(spec), &env, name,
	    sizeof(name), why, sizeof(why)), 0);
	assert_true(strlen(name) <= SPF_NAME_MAX);
	assert_true(strlen(name) > SPF_NAME_MAX - 64);
	assert_string_equal(name + strlen(name) - 11, "example.org");
	assert_true(name[0] != '.');
	/* A final dot goes. */
	assert_int_equal(spf_expand_domain("%{d}.", 5, &env, name,
	    sizeof(name), why, sizeof(why)), 0);
	assert_string_equal(name, "email.example.com");
	/* The receiver defaults to "unknown". */
	env.receiver = NULL;
	buf_init(&out, 64);
	assert_int_equal(spf_macro_expand("%{r}", 4, &env, 1, &out, why,
	    sizeof(why)), 0);
	assert_string_equal(out.data, "unknown");
	buf_free(&out);
}

/* ---------------------------------------------------------- evaluator */

struct rr {
	const char	*name;
	enum spf_qtype	 type;
	const char	*value;		/* NULL: the name times out */
};

struct dnstab {
	const struct rr	*rrs;
	size_t		 n;
	unsigned	 queries;
};

static enum spf_rcode
fake_lookup(struct dnstab *t, const struct spf_query *q, const char **recs,
    size_t *n)
{
	size_t i;
	int exists = 0;

	*n = 0;
	for (i = 0; i < t->n; i++) {
		if (strcasecmp(t->rrs[i].name, q->name) != 0)
			continue;
		if (t->rrs[i].value == NULL)
			return SPF_DNS_TEMP;
		exists = 1;
		if (t->rrs[i].type == q->type && *n < 64)
			recs[(*n)++] = t->rrs[i].value;
	}
	if (*n)
		return SPF_DNS_OK;
	return exists ? SPF_DNS_NODATA : SPF_DNS_NXDOMAIN;
}

static enum spf_result
check(const struct rr *rrs, size_t nrr, const char *ip, const char *sender,
    const char *helo, struct spf *s, unsigned *queries)
{
	struct dnstab t = { rrs, nrr, 0 };
	struct netaddr a;
	const char *recs[64];
	size_t n, guard = 0;

	assert_int_equal(netaddr_parse(ip, &a), 0);
	spf_start(s, &a, sender, helo, "mx.receiver.test", 1700000000);
	while (spf_step(s) == SPF_NEED_DNS) {
		enum spf_rcode rc = fake_lookup(&t, &s->query, recs, &n);

		/* Asking again before answering gives the same query. */
		assert_int_equal(spf_step(s), SPF_NEED_DNS);
		t.queries++;
		spf_answer(s, rc, recs, NULL, n);
		assert_true(++guard < 500);
	}
	assert_int_equal(spf_step(s), SPF_DONE);
	if (queries)
		*queries = t.queries;
	return s->result;
}

#define NRR(x)	(sizeof(x) / sizeof((x)[0]))

static const struct rr zone1[] = {
	{ "example.com", SPF_Q_TXT, "v=spf1 ip4:192.0.2.0/24 "
	  "include:inc.example.com a:web.example.com mx ptr "
	  "exists:%{ir}.ok.example.com -all exp=why.example.com" },
	{ "example.com", SPF_Q_TXT, "some other text" },
	{ "example.com", SPF_Q_MX, "mx1.example.com" },
	{ "example.com", SPF_Q_MX, "mx2.example.com." },
	{ "mx1.example.com", SPF_Q_A, "198.51.100.1" },
	{ "mx2.example.com", SPF_Q_A, "198.51.100.2" },
	{ "mx2.example.com", SPF_Q_AAAA, "2001:db8::25" },
	{ "inc.example.com", SPF_Q_TXT, "v=spf1 ip6:2001:db8:1::/48 ?all" },
	{ "web.example.com", SPF_Q_A, "203.0.113.80" },
	{ "7.113.0.203.in-addr.arpa", SPF_Q_PTR, "host.example.com" },
	{ "7.113.0.203.in-addr.arpa", SPF_Q_PTR, "liar.example.com" },
	{ "host.example.com", SPF_Q_A, "203.0.113.7" },
	{ "8.113.0.203.in-addr.arpa", SPF_Q_PTR, "liar.example.com" },
	{ "liar.example.com", SPF_Q_A, "203.0.113.99" },
	{ "9.113.0.203.ok.example.com", SPF_Q_A, "127.0.0.2" },
	{ "why.example.com", SPF_Q_TXT, "%{i} is not one of %{d}'s "
	  "servers (%{c}, %{r})" },
	{ "helo.example.net", SPF_Q_TXT, "v=spf1 a -all" },
	{ "helo.example.net", SPF_Q_A, "192.0.2.200" },
};

static void
test_eval_mechanisms(void **state)
{
	struct spf s;
	static const struct {
		const char	*ip;
		enum spf_result	 want;
		const char	*mech;
	} cases[] = {
		{ "192.0.2.9", SPF_RESULT_PASS, "ip4:192.0.2.0/24" },
		{ "2001:db8:1::5", SPF_RESULT_PASS,
		  "include:inc.example.com" },
		{ "203.0.113.80", SPF_RESULT_PASS, "a:web.example.com" },
		{ "198.51.100.2", SPF_RESULT_PASS, "mx" },
		{ "2001:db8::25", SPF_RESULT_PASS, "mx" },
		{ "203.0.113.7", SPF_RESULT_PASS, "ptr" },
		{ "203.0.113.8", SPF_RESULT_FAIL, "-all" },  /* unvalidated */
		{ "203.0.113.9", SPF_RESULT_PASS,
		  "exists:%{ir}.ok.example.com" },
		{ "10.0.0.1", SPF_RESULT_FAIL, "-all" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NRR(cases); i++) {
		enum spf_result r = check(zone1, NRR(zone1), cases[i].ip,
		    "alice@example.com", "helo.example.net", &s, NULL);

		if (r != cases[i].want)
			fail_msg("%s: %s (%s)", cases[i].ip,
			    spf_result_name(r), s.why);
		assert_string_equal(s.mechanism, cases[i].mech);
		assert_true(s.why[0] != '\0');
		spf_free(&s);
	}
	/* The explanation of a fail, in the exp context. */
	assert_int_equal(check(zone1, NRR(zone1), "10.0.0.1",
	    "alice@example.com", "x.example.net", &s, NULL), SPF_RESULT_FAIL);
	assert_string_equal(s.explanation, "10.0.0.1 is not one of "
	    "example.com's servers (10.0.0.1, mx.receiver.test)");
	spf_free(&s);
	/* The HELO identity: empty sender means postmaster@HELO. */
	assert_int_equal(check(zone1, NRR(zone1), "192.0.2.200", "",
	    "helo.example.net", &s, NULL), SPF_RESULT_PASS);
	assert_string_equal(s.local, "postmaster");
	spf_free(&s);
	assert_int_equal(check(zone1, NRR(zone1), "192.0.2.201",
	    "postmaster@helo.example.net", "helo.example.net", &s, NULL),
	    SPF_RESULT_FAIL);
	assert_string_equal(s.explanation, "");
	spf_free(&s);
}

static const struct rr zone2[] = {
	{ "none.example", SPF_Q_A, "192.0.2.1" },
	{ "two.example", SPF_Q_TXT, "v=spf1 -all" },
	{ "two.example", SPF_Q_TXT, "v=spf1 +all" },
	{ "bad.example", SPF_Q_TXT, "v=spf1 +all foo" },
	{ "tmp.example", SPF_Q_TXT, NULL },
	{ "incnone.example", SPF_Q_TXT, "v=spf1 include:none.example +all" },
	{ "inctemp.example", SPF_Q_TXT, "v=spf1 include:tmp.example +all" },
	{ "incfail.example", SPF_Q_TXT, "v=spf1 include:two2.example ~all" },
	{ "two2.example", SPF_Q_TXT, "v=spf1 -all" },
	{ "red.example", SPF_Q_TXT, "v=spf1 redirect=two2.example" },
	{ "rednone.example", SPF_Q_TXT, "v=spf1 redirect=none.example" },
	{ "redall.example", SPF_Q_TXT, "v=spf1 ?all redirect=two2.example" },
	{ "neutral.example", SPF_Q_TXT, "v=spf1 ip4:10.0.0.0/8" },
	{ "void.example", SPF_Q_TXT, "v=spf1 a:n1.example a:n2.example "
	  "a:n3.example +all" },
	{ "void2.example", SPF_Q_TXT, "v=spf1 a:n1.example mx:n2.example "
	  "+all" },
	{ "atemp.example", SPF_Q_TXT, "v=spf1 a:tmp.example +all" },
	{ "mx11.example", SPF_Q_TXT, "v=spf1 mx +all" },
	{ "mx11.example", SPF_Q_MX, "a1.example" },
	{ "mx11.example", SPF_Q_MX, "a2.example" },
	{ "mx11.example", SPF_Q_MX, "a3.example" },
	{ "mx11.example", SPF_Q_MX, "a4.example" },
	{ "mx11.example", SPF_Q_MX, "a5.example" },
	{ "mx11.example", SPF_Q_MX, "a6.example" },
	{ "mx11.example", SPF_Q_MX, "a7.example" },
	{ "mx11.example", SPF_Q_MX, "a8.example" },
	{ "mx11.example", SPF_Q_MX, "a9.example" },
	{ "mx11.example", SPF_Q_MX, "a10.example" },
	{ "mx11.example", SPF_Q_MX, "a11.example" },
	{ "loop.example", SPF_Q_TXT, "v=spf1 include:loop.example" },
	{ "ten.example", SPF_Q_TXT, "v=spf1 a a a a a a a a a a +all" },
	{ "eleven.example", SPF_Q_TXT, "v=spf1 a a a a a a a a a a a +all" },
	{ "ten.example", SPF_Q_A, "192.0.2.99" },
	{ "eleven.example", SPF_Q_A, "192.0.2.99" },
	{ "ipfree.example", SPF_Q_TXT, "v=spf1 ip4:1.1.1.1 ip4:1.1.1.2 "
	  "ip4:1.1.1.3 ip4:1.1.1.4 ip4:1.1.1.5 ip4:1.1.1.6 ip4:1.1.1.7 "
	  "ip4:1.1.1.8 ip4:1.1.1.9 ip4:1.1.1.10 ip4:1.1.1.11 -all" },
	{ "late.example", SPF_Q_TXT, "v=spf1 +all a:museum" },
	{ "exists6.example", SPF_Q_TXT, "v=spf1 exists:%{d} -all" },
	{ "exists6.example", SPF_Q_AAAA, "2001:db8::1" },
	{ "mxtemp.example", SPF_Q_TXT, "v=spf1 mx +all" },
	{ "mxtemp.example", SPF_Q_MX, "tmp.example" },
	{ "ptrtemp.example", SPF_Q_TXT, "v=spf1 ptr -all" },
	{ "50.2.0.192.in-addr.arpa", SPF_Q_PTR, "tmp.example" },
	{ "50.2.0.192.in-addr.arpa", SPF_Q_PTR, "ok.ptrtemp.example" },
	{ "ok.ptrtemp.example", SPF_Q_A, "192.0.2.50" },
};

static void
test_eval_semantics(void **state)
{
	static const struct {
		const char	*sender;
		const char	*ip;
		enum spf_result	 want;
		const char	*why;
	} cases[] = {
		{ "a@none.example", "192.0.2.1", SPF_RESULT_NONE, "no SPF" },
		{ "a@nxdomain.example", "192.0.2.1", SPF_RESULT_NONE,
		  "no SPF" },
		{ "a@two.example", "192.0.2.1", SPF_RESULT_PERMERROR,
		  "2 SPF records" },
		{ "a@bad.example", "192.0.2.1", SPF_RESULT_PERMERROR,
		  "unknown mechanism" },
		{ "a@tmp.example", "192.0.2.1", SPF_RESULT_TEMPERROR,
		  "DNS error" },
		{ "a@incnone.example", "192.0.2.1", SPF_RESULT_PERMERROR,
		  "no SPF record for none.example" },
		{ "a@inctemp.example", "192.0.2.1", SPF_RESULT_TEMPERROR,
		  "DNS error" },
		{ "a@incfail.example", "192.0.2.1", SPF_RESULT_SOFTFAIL,
		  "~all" },
		{ "a@red.example", "192.0.2.1", SPF_RESULT_FAIL, "two2" },
		{ "a@rednone.example", "192.0.2.1", SPF_RESULT_PERMERROR,
		  "redirect" },
		{ "a@redall.example", "192.0.2.1", SPF_RESULT_NEUTRAL, "?all" },
		{ "a@neutral.example", "192.0.2.1", SPF_RESULT_NEUTRAL,
		  "default neutral" },
		{ "a@void.example", "192.0.2.1", SPF_RESULT_PERMERROR,
		  "void lookups" },
		{ "a@void2.example", "192.0.2.1", SPF_RESULT_PASS, "+all" },
		{ "a@atemp.example", "192.0.2.1", SPF_RESULT_TEMPERROR,
		  "DNS error" },
		{ "a@mx11.example", "192.0.2.1", SPF_RESULT_PERMERROR,
		  "11 MX records" },
		{ "a@loop.example", "192.0.2.1", SPF_RESULT_PERMERROR,
		  "DNS-querying" },
		{ "a@ten.example", "192.0.2.1", SPF_RESULT_PASS, "+all" },
		{ "a@eleven.example", "192.0.2.1", SPF_RESULT_PERMERROR,
		  "more than 10 DNS-querying" },
		{ "a@ipfree.example", "1.1.1.11", SPF_RESULT_PASS, "ip4" },
		{ "a@late.example", "192.0.2.1", SPF_RESULT_PERMERROR,
		  "top label" },
		{ "a@exists6.example", "2001:db8::1", SPF_RESULT_FAIL, "-all" },
		/* An MX host's DNS error is a temperror; a PTR name's is
		 * skipped (section 5.5). */
		{ "a@mxtemp.example", "192.0.2.1", SPF_RESULT_TEMPERROR,
		  "DNS error on A tmp.example" },
		{ "a@ptrtemp.example", "192.0.2.50", SPF_RESULT_PASS, "ptr" },
		/* Section 4.3: names that cannot have a record. */
		{ "a@[192.0.2.1]", "192.0.2.1", SPF_RESULT_NONE, "not a" },
		{ "a@nodot", "192.0.2.1", SPF_RESULT_NONE, "not a" },
		{ "a@x..example", "192.0.2.1", SPF_RESULT_NONE, "not a" },
		{ "a@x1234567890123456789012345678901234567890123456789012345"
		  "678901234.example", "192.0.2.1", SPF_RESULT_NONE, "not a" },
		{ "a@", "192.0.2.1", SPF_RESULT_NONE, "not a" },
		{ "a@" "a123456789.a123456789.a123456789.a123456789.a123456789."
		  "a123456789.a123456789.a123456789.a123456789.a123456789."
		  "a123456789.a123456789.a123456789.a123456789.a123456789."
		  "a123456789.a123456789.a123456789.a123456789.a123456789."
		  "a123456789.a123456789.a123456789.example", "192.0.2.1",
		  SPF_RESULT_NONE, "not a usable" },
		{ "a1234567890123456789012345678901234567890123456789012345"
		  "67890123456789@example.com", "192.0.2.1", SPF_RESULT_NONE,
		  "not a usable" },
	};
	struct spf s;
	size_t i;

	(void)state;
	for (i = 0; i < NRR(cases); i++) {
		enum spf_result r = check(zone2, NRR(zone2), cases[i].ip,
		    cases[i].sender, "helo.example", &s, NULL);

		if (r != cases[i].want || strstr(s.why, cases[i].why) == NULL)
			fail_msg("%s: %s (%s), want %s (%s)", cases[i].sender,
			    spf_result_name(r), s.why,
			    spf_result_name(cases[i].want), cases[i].why);
		spf_free(&s);
	}
}

static void
test_eval_txt_nul(void **state)
{
	struct netaddr a;
	struct spf s;
	const char rec[] = "v=spf1 +all\0 -all";
	const char *recs[1] = { rec };
	size_t lens[1] = { sizeof(rec) - 1 };

	(void)state;
	assert_int_equal(netaddr_parse("192.0.2.1", &a), 0);
	spf_start(&s, &a, "x@nul.example", "h.example", NULL, 0);
	assert_int_equal(spf_step(&s), SPF_NEED_DNS);
	assert_int_equal(s.query.type, SPF_Q_TXT);
	assert_string_equal(s.query.name, "nul.example");
	spf_answer(&s, SPF_DNS_OK, recs, lens, 1);
	assert_int_equal(spf_step(&s), SPF_DONE);
	assert_int_equal(s.result, SPF_RESULT_PERMERROR);
	assert_non_null(strstr(s.why, "0x00"));
	/* An answer nobody asked for is ignored. */
	spf_answer(&s, SPF_DNS_OK, recs, lens, 1);
	assert_int_equal(spf_step(&s), SPF_DONE);
	spf_free(&s);
	assert_string_equal(spf_result_name(SPF_RESULT_SOFTFAIL), "softfail");
	assert_string_equal(spf_qtype_name(SPF_Q_AAAA), "AAAA");
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(netaddr_parse("192.0.2.3", &ip4), 0);
	assert_int_equal(netaddr_parse("2001:db8::cb01", &ip6), 0);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_details),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_macro_rfc),
		cmocka_unit_test(test_macro_bounded),
		cmocka_unit_test(test_eval_mechanisms),
		cmocka_unit_test(test_eval_semantics),
		cmocka_unit_test(test_eval_txt_nul),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
