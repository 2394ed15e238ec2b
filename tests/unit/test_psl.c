/* test_psl - the Public Suffix List against the real list file (Debian's
 * publicsuffix package) and against small lists written here: normal
 * rules, wildcards, exceptions, sections, unknown TLDs, normalisation and
 * the bounds. */
#include "unit.h"

#include "psl.h"

#define LIST_FILE	"/usr/share/publicsuffix/public_suffix_list.dat"

static struct psl *real;

static int
load_real(void **state)
{
	FILE *f = fopen(LIST_FILE, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	struct psl_stats st;

	(void)state;
	if (f == NULL)
		return -1;
	do {
		if (len + 65536 > cap) {
			cap = cap * 2 + 65536;
			text = realloc(text, cap);
			if (text == NULL)
				return -1;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	fclose(f);
	real = psl_parse(text, len, PSL_ICANN | PSL_PRIVATE, &st);
	free(text);
	if (real == NULL || st.rules < 5000)
		return -1;
	return 0;
}

static int
free_real(void **state)
{
	(void)state;
	psl_free(real);
	return 0;
}

static void
expect_org(const struct psl *psl, const char *domain, const char *org)
{
	char out[PSL_NAME_MAX + 1];
	int r = psl_org_domain(psl, domain, out, sizeof(out));

	if (org == NULL) {
		assert_int_equal(r, -1);
		return;
	}
	if (r != 0)
		fail_msg("%s: no organisational domain", domain);
	if (strcmp(out, org) != 0)
		fail_msg("%s: got %s, want %s", domain, out, org);
}

static void
test_real_icann(void **state)
{
	(void)state;
	expect_org(real, "example.com", "example.com");
	expect_org(real, "a.b.example.com", "example.com");
	expect_org(real, "example.co.uk", "example.co.uk");
	expect_org(real, "mail.example.co.uk", "example.co.uk");
	expect_org(real, "co.uk", "co.uk");		/* a suffix: itself */
	expect_org(real, "com", "com");
	expect_org(real, "x.y.example.com.au", "example.com.au");
}

static void
test_real_wildcard_exception(void **state)
{
	char ps[PSL_NAME_MAX + 1];

	(void)state;
	/* *.ck: every name under ck is a suffix, but !www.ck is not. */
	expect_org(real, "foo.ck", "foo.ck");
	expect_org(real, "bar.foo.ck", "bar.foo.ck");
	expect_org(real, "a.bar.foo.ck", "bar.foo.ck");
	expect_org(real, "www.ck", "www.ck");
	expect_org(real, "a.www.ck", "www.ck");
	assert_int_equal(psl_public_suffix(real, "bar.foo.ck", ps,
	    sizeof(ps)), 0);
	assert_string_equal(ps, "foo.ck");
	assert_int_equal(psl_public_suffix(real, "a.www.ck", ps,
	    sizeof(ps)), 0);
	assert_string_equal(ps, "ck");
}

static void
test_real_private(void **state)
{
	(void)state;
	expect_org(real, "alice.github.io", "alice.github.io");
	expect_org(real, "www.alice.github.io", "alice.github.io");
	expect_org(real, "github.io", "github.io");
}

static void
test_icann_only(void **state)
{
	const char *text = "// ===BEGIN ICANN DOMAINS===\nio\n"
	    "// ===END ICANN DOMAINS===\n"
	    "// ===BEGIN PRIVATE DOMAINS===\ngithub.io\n"
	    "// ===END PRIVATE DOMAINS===\n";
	struct psl *p;
	struct psl_stats st;

	(void)state;
	p = psl_parse(text, strlen(text), PSL_ICANN, &st);
	assert_non_null(p);
	assert_int_equal(st.rules, 1);
	expect_org(p, "www.alice.github.io", "github.io");
	psl_free(p);
	p = psl_parse(text, strlen(text), PSL_ICANN | PSL_PRIVATE, &st);
	assert_int_equal(st.rules, 2);
	expect_org(p, "www.alice.github.io", "alice.github.io");
	psl_free(p);
	p = psl_parse(text, strlen(text), PSL_PRIVATE, NULL);
	expect_org(p, "www.alice.github.io", "alice.github.io");
	expect_org(p, "a.b.io", "b.io");	/* io unknown: "*" */
	psl_free(p);
}

static void
test_unknown_tld(void **state)
{
	(void)state;
	expect_org(real, "a.b.example.invalidtld", "example.invalidtld");
	expect_org(real, "invalidtld", "invalidtld");
	expect_org(real, "xn--abc.xn--zzzz", "xn--abc.xn--zzzz");
}

static void
test_normalise(void **state)
{
	char out[PSL_NAME_MAX + 1];
	char big[300];

	(void)state;
	expect_org(real, "Mail.Example.CO.UK.", "example.co.uk");
	expect_org(real, "A.B.Example.Com", "example.com");
	expect_org(real, "", NULL);
	expect_org(real, ".", NULL);
	expect_org(real, "a..example.com", NULL);
	expect_org(real, ".example.com", NULL);
	expect_org(real, "example.com..", NULL);
	expect_org(real, "exa mple.com", NULL);
	expect_org(real, "exa;mple.com", NULL);
	expect_org(real, "[192.0.2.1]", NULL);
	/* A label of 63 octets passes, 64 does not. */
	memset(big, 'a', 63);
	memcpy(big + 63, ".com", 5);
	expect_org(real, big, big);
	memset(big, 'a', 64);
	memcpy(big + 64, ".com", 5);
	expect_org(real, big, NULL);
	/* 253 octets pass, 254 do not (a trailing dot not counted). */
	memset(big, 'a', 253);
	for (size_t i = 1; i < 253; i += 2)
		big[i] = '.';
	big[253] = '\0';
	assert_int_equal(psl_normalise(big, 253, out, sizeof(out)), 253);
	big[253] = '.';
	assert_int_equal(psl_normalise(big, 254, out, sizeof(out)), 253);
	big[253] = 'a';
	assert_int_equal(psl_normalise(big, 254, out, sizeof(out)), -1);
	expect_org(real, "a.b.c.d.e.f.g.h.example.com", "example.com");
	/* out too small */
	assert_int_equal(psl_org_domain(real, "example.com", out, 11), -1);
	assert_int_equal(psl_org_domain(real, "example.com", out, 12), 0);
}

static void
test_rules_parse(void **state)
{
	const char *text = "// comment\n\ncom\n*.ck\n!www.ck\nBAD RULE\n"
	    "uk extra words\r\nco.uk\n!ck\nbad..rule\nx.\n"
	    "*.\n!\n*\nfoo!bar\n";
	struct psl *p;
	struct psl_stats st;

	(void)state;
	p = psl_parse(text, strlen(text), PSL_ICANN | PSL_PRIVATE, &st);
	assert_non_null(p);
	/* com, *.ck, !www.ck, bad (BAD lower-cased), uk, co.uk */
	assert_int_equal(st.rules, 6);
	assert_int_equal(st.skipped, 7);
	expect_org(p, "x.y.co.uk", "y.co.uk");
	expect_org(p, "x.www.ck", "www.ck");
	expect_org(p, "x.y.ck", "x.y.ck");
	psl_free(p);
	assert_null(psl_parse("", 0, PSL_ICANN, &st));
	assert_null(psl_parse("// only\n", 8, PSL_ICANN, NULL));
}

static void
test_rules_max(void **state)
{
	size_t n = PSL_RULES_MAX + 10, i, len = 0;
	char *text = malloc(n * 12);
	struct psl *p;
	struct psl_stats st;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, 12, "r%zu\n", i);
	p = psl_parse(text, len, PSL_ICANN, &st);
	assert_non_null(p);
	assert_int_equal(st.rules, PSL_RULES_MAX);
	assert_int_equal(st.skipped, 10);
	psl_free(p);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_icann),
		cmocka_unit_test(test_real_wildcard_exception),
		cmocka_unit_test(test_real_private),
		cmocka_unit_test(test_icann_only),
		cmocka_unit_test(test_unknown_tld),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_rules_parse),
		cmocka_unit_test(test_rules_max),
	};

	return cmocka_run_group_tests(tests, load_real, free_real);
}
