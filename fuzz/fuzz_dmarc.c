/* fuzz_dmarc - the DMARC record parser and the RFC5322.From extractor on
 * arbitrary bytes: a record comes from any DNS zone, a header section
 * from any sender.
 * Checks beyond "no crash": a parsed record's values are in range and its
 * texts bounded; a record found through dmarc_record_select is the one
 * parse gives; an extracted From domain is already normalised and can
 * start discovery, whose questions end after at most two answers; the
 * input read as a suffix list gives, for a few names, an organisational
 * domain that ends the name at a label boundary and contains its public
 * suffix. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "psl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char list[] = "com\nexample\nuk\nco.uk\n*.ck\n!www.ck\n"
    "github.io\n";
static struct psl *psl;

static void
check_record(const char *p, size_t len)
{
	struct dmarc_record r, s;
	enum dmarc_rec_status st;
	const char *txt[1] = { p };
	size_t lens[1] = { len };

	st = dmarc_record_parse(p, len, &r);
	if (st == DMARC_REC_MULTIPLE)
		abort();
	if (st == DMARC_REC_OK) {
		if (r.pct > 100 || r.p > DMARC_POLICY_REJECT ||
		    r.sp > DMARC_POLICY_REJECT || r.np > DMARC_POLICY_REJECT ||
		    strlen(r.rua) > DMARC_URIS_MAX ||
		    strlen(r.ruf) > DMARC_URIS_MAX ||
		    strlen(r.fo) > DMARC_FO_MAX || strlen(r.fo) == 0)
			abort();
		if (r.p_from_rua && (r.p != DMARC_POLICY_NONE ||
		    r.rua[0] == '\0'))
			abort();
	}
	if (dmarc_record_select(txt, lens, 1, &s) != st)
		abort();
	if (st == DMARC_REC_OK && memcmp(&r, &s, sizeof(r)) != 0)
		abort();
}

static void
check_from(const char *p, size_t len)
{
	char d[PSL_NAME_MAX + 1], n[PSL_NAME_MAX + 1];
	struct dmarc_discovery disc;
	struct dmarc_verdict v;
	struct dmarc_auth a = { NULL, NULL, 0, 50 };
	int steps = 0;

	if (dmarc_from_domain(p, len, d, sizeof(d)) != DMARC_FROM_OK)
		return;
	if (psl_normalise(d, strlen(d), n, sizeof(n)) < 0 || strcmp(d, n) != 0)
		abort();
	if (dmarc_discovery_init(&disc, psl, d) != 0)
		abort();
	while (dmarc_discovery_next(&disc) != NULL) {
		if (++steps > 2)
			abort();
		dmarc_discovery_answer(&disc, DMARC_DNS_NOTHING, NULL, NULL, 0);
	}
	if (disc.state != DMARC_DISC_NONE)
		abort();
	a.spf_domain = d;
	dmarc_evaluate(psl, &disc, &a, &v);
	if (v.result != DMARC_RESULT_NONE || v.policy != DMARC_POLICY_NONE)
		abort();
}

static void
check_psl(const char *p, size_t len)
{
	static const char *const names[] = { "a.b.example.co.uk", "x.ck",
	    "www.ck", "a.b.c.d", "com", "Q.github.IO." };
	char org[PSL_NAME_MAX + 1], ps[PSL_NAME_MAX + 1], d[PSL_NAME_MAX + 1];
	struct psl *l = psl_parse(p, len, PSL_ICANN | PSL_PRIVATE, NULL);
	size_t i, dl, ol, pl;

	if (l == NULL)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (psl_normalise(names[i], strlen(names[i]), d, sizeof(d)) < 0 ||
		    psl_org_domain(l, d, org, sizeof(org)) != 0 ||
		    psl_public_suffix(l, d, ps, sizeof(ps)) != 0)
			abort();
		dl = strlen(d), ol = strlen(org), pl = strlen(ps);
		if (ol > dl || pl > ol || pl == 0 ||
		    strcmp(d + dl - ol, org) != 0 ||
		    strcmp(org + ol - pl, ps) != 0 ||
		    (ol < dl && d[dl - ol - 1] != '.') ||
		    (pl < ol && org[ol - pl - 1] != '.'))
			abort();
	}
	psl_free(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (psl == NULL)
		psl = psl_parse(list, sizeof(list) - 1, PSL_ICANN, NULL);
	/* exactly sized copies: ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	check_record(copy, size);
	check_from(copy, size);
	check_psl(copy, size);
	free(copy);
	return 0;
}
