/* fuzz_spf - the SPF record parser, the macro expander and the evaluator
 * on arbitrary bytes. The first byte chooses:
 *   % 3 == 0  the rest is a record (prefixed with "v=spf1 " unless it
 *             starts so): a parsed record has at most SPF_TERMS_MAX terms
 *             whose text and domain-specs lie inside the record copy, CIDR
 *             lengths in range, and each domain-spec passes the macro
 *             syntax check on its own;
 *   % 3 == 1  the rest is a macro-string (bit 2: explanation context):
 *             the syntax check and the expansion agree (unless the output
 *             cap refused it), the output stays within its cap, and a
 *             domain expansion is 1..253 bytes;
 *   % 3 == 2  the rest feeds a fake DNS: each query takes one byte for
 *             the rcode, one for the record count (0..4) and per record
 *             a length byte and that many bytes (bit 3 of the record's
 *             length byte: prefix "v=spf1 "); bit 2 of the first byte:
 *             an IPv6 client. The check must end within a bounded number
 *             of queries, with a valid result, without passing the
 *             RFC limits unless the result is a permerror. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct spf_record rec;

static void
fuzz_record(const char *p, size_t n)
{
	char why[256], *txt;
	size_t len = n, i;

	txt = malloc(n + 8);
	if (txt == NULL)
		abort();
	if (n >= 6 && strncmp(p, "v=spf1", 6) == 0)
		memcpy(txt, p, n);
	else {
		memcpy(txt, "v=spf1 ", 7);
		memcpy(txt + 7, p, n);
		len = n + 7;
	}
	if (spf_record_parse(&rec, txt, len, why, sizeof(why)) == 0) {
		if (rec.nterms > SPF_TERMS_MAX)
			abort();
		for (i = 0; i < rec.nterms; i++) {
			const struct spf_term *t = &rec.terms[i];

			if (t->text < rec.text ||
			    t->text >= rec.text + sizeof(rec.text) ||
			    t->cidr4 > 32 || t->cidr6 > 128 || t->prefix > 128)
				abort();
			if (t->spec && (t->spec < rec.text || t->spec +
			    t->speclen > rec.text + len ||
			    spf_macro_expand(t->spec, t->speclen, NULL, 0,
			    NULL, why, sizeof(why)) != 0))
				abort();
		}
	} else if (why[0] == '\0')
		abort();	/* every permerror says why */
	free(txt);
}

static void
fuzz_macro(const char *p, size_t n, int exp)
{
	struct spf_macro_env env;
	struct netaddr ip;
	struct buf out;
	char why[256], name[SPF_NAME_MAX + 1];
	int syntax, rc;
	size_t len;

	memset(&ip, 0, sizeof(ip));
	ip.family = exp ? AF_INET6 : AF_INET;
	ip.a[0] = 192;
	ip.a[3] = 7;
	env.local = "a.b-c";
	env.sender_domain = "mail.example.com";
	env.domain = "sub.example.org";
	env.ip = &ip;
	env.helo = "helo.example.net";
	env.receiver = exp ? NULL : "mx.example";
	env.now = 1700000000;
	syntax = spf_macro_expand(p, n, NULL, exp, NULL, why, sizeof(why));
	buf_init(&out, SPF_MACRO_MAX);
	rc = spf_macro_expand(p, n, &env, exp, &out, why, sizeof(why));
	if (out.len > out.max || (syntax == -1 && rc == 0))
		abort();
	if (rc == -1 && syntax == 0 && strstr(why, "longer") == NULL)
		abort();
	buf_free(&out);
	if (!exp && spf_expand_domain(p, n, &env, name, sizeof(name), why,
	    sizeof(why)) == 0) {
		len = strlen(name);
		if (len == 0 || len > SPF_NAME_MAX)
			abort();
	}
}

static void
fuzz_eval(const uint8_t *p, size_t n, int v6)
{
	static char recbuf[4][256 + 8];
	const char *recs[4];
	size_t lens[4], pos = 0, queries = 0, i, k;
	struct netaddr ip;
	struct spf s;

	memset(&ip, 0, sizeof(ip));
	ip.family = v6 ? AF_INET6 : AF_INET;
	ip.a[0] = 192;
	ip.a[3] = 7;
	spf_start(&s, &ip, "user@example.com", "helo.example.com", NULL, 0);
	while (spf_step(&s) == SPF_NEED_DNS) {
		enum spf_rcode rc = SPF_DNS_NXDOMAIN;

		/* Each DNS term asks at most 1 + SPF_MX_MAX queries, and each
		 * record fetch one more; exp one. */
		if (++queries > 2 + (SPF_DNS_TERMS_MAX + 1) * (SPF_MX_MAX + 2))
			abort();
		if (s.query.name[0] == '\0' || strlen(s.query.name) >
		    SPF_NAME_MAX)
			abort();
		k = 0;
		if (pos + 2 <= n) {
			rc = (enum spf_rcode)(p[pos] % 4);
			k = p[pos + 1] % 5;
			pos += 2;
			for (i = 0; i < k; i++) {
				size_t l, o = 0;

				if (pos >= n) {
					k = i;
					break;
				}
				l = p[pos] & ~0x08u;
				if (p[pos] & 0x08) {
					memcpy(recbuf[i], "v=spf1 ", 7);
					o = 7;
				}
				pos++;
				if (l > n - pos)
					l = n - pos;
				memcpy(recbuf[i] + o, p + pos, l);
				recbuf[i][o + l] = '\0';
				pos += l;
				recs[i] = recbuf[i];
				lens[i] = o + l;
			}
		}
		spf_answer(&s, rc, recs, lens, k);
	}
	if (s.result > SPF_RESULT_PERMERROR || s.why[0] == '\0')
		abort();
	if (s.result != SPF_RESULT_PERMERROR &&
	    (s.dns_terms > SPF_DNS_TERMS_MAX || s.void_lookups > SPF_VOID_MAX))
		abort();
	if (s.explanation[0] && s.result != SPF_RESULT_FAIL)
		abort();
	spf_free(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > SPF_RECORD_MAX)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_record((const char *)data + 1, size - 1);
		break;
	case 1:
		fuzz_macro((const char *)data + 1, size - 1, data[0] & 4);
		break;
	case 2:
		fuzz_eval(data + 1, size - 1, data[0] & 4);
		break;
	}
	return 0;
}
