/* fuzz_dkim_tags - the DKIM tag-list parser and the DKIM-Signature field
 * parser on arbitrary bytes: a signature and a key record are anyone's.
 * The first input byte picks the target:
 *   even: dkim_tags_parse; an accepted list has 1..DKIM_TAGS_MAX tags,
 *         each name, value and raw range inside the input, the value
 *         inside the raw range, no two names alike; and a key record
 *         parse of the same bytes (for both key types) does not crash.
 *   odd:  the bytes as a message: dkim_verify_message, then a key record
 *         for every signature; the body fed byte by byte gives the same
 *         result and reason as fed whole, every result is decided, and a
 *         relaxed canonical header never contains CR, LF or a tab. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ed_record[] =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static void
inside(const char *base, size_t len, const char *p, size_t n)
{
	if (p < base || p + n > base + len)
		abort();
}

static void
tags(const char *s, size_t len)
{
	struct dkim_taglist t;
	EVP_PKEY *k;
	char why[128];
	size_t i, j;

	if (dkim_tags_parse(s, len, &t) == 0) {
		if (t.n == 0 || t.n > DKIM_TAGS_MAX)
			abort();
		for (i = 0; i < t.n; i++) {
			const struct dkim_tag *g = &t.tags[i];

			if (g->name_len == 0)
				abort();
			inside(s, len, g->name, g->name_len);
			inside(s, len, g->raw, g->raw_len);
			inside(g->raw, g->raw_len, g->value, g->value_len);
			if (memchr(g->value, ';', g->value_len) != NULL)
				abort();
			for (j = 0; j < i; j++)
				if (t.tags[j].name_len == g->name_len &&
				    memcmp(t.tags[j].name, g->name,
				    g->name_len) == 0)
					abort();
		}
	}
	k = dkim_key_record_parse(s, len, DKIM_ALG_RSA_SHA256, why, sizeof(why));
	EVP_PKEY_free(k);
	k = dkim_key_record_parse(s, len, DKIM_ALG_ED25519_SHA256, why,
	    sizeof(why));
	EVP_PKEY_free(k);
}

static void
message(const char *s, size_t len)
{
	static struct dkim_verify a, b;
	size_t i, hlen = dkim_header_len(s, len);
	const char *colon;
	struct buf cb;

	(void)dkim_verify_message(&a, s, len, 1000000);
	(void)dkim_verify_begin(&b, s, hlen, 1000000);
	for (i = hlen; i < len; i++)
		dkim_verify_body(&b, s + i, 1);
	dkim_verify_body_end(&b);
	if (a.n != b.n || a.n > DKIM_SIGS_MAX)
		abort();
	for (i = 0; i < a.n; i++) {
		dkim_verify_key(&a, i, (i & 1) ? OUTCOME_OK : OUTCOME_TEMP,
		    ed_record, sizeof(ed_record) - 1);
		dkim_verify_key(&b, i, (i & 1) ? OUTCOME_OK : OUTCOME_TEMP,
		    ed_record, sizeof(ed_record) - 1);
		if (a.sigs[i].result == DKIM_PENDING ||
		    a.sigs[i].result != b.sigs[i].result ||
		    strcmp(a.sigs[i].reason, b.sigs[i].reason) != 0 ||
		    a.sigs[i].unsigned_tail != b.sigs[i].unsigned_tail)
			abort();
	}
	dkim_verify_free(&a);
	dkim_verify_free(&b);
	/* The header section as one field: its value (after the name,
	 * which is copied as it is) has no CR, LF or tab left. */
	colon = memchr(s, ':', hlen);
	if (colon == NULL)
		return;
	for (i = 0; s + i < colon; i++)
		if (s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
			return;
	buf_init(&cb, 2 * len + 8);
	if (dkim_canon_header(&cb, DKIM_CANON_RELAXED, s, hlen, 1) == 0 &&
	    (memchr(cb.data, '\t', cb.len) != NULL ||
	    memchr(cb.data, '\n', cb.len - 1) != NULL ||
	    memchr(cb.data, '\r', cb.len - 2) != NULL))
		abort();
	buf_free(&cb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		message((const char *)data + 1, size - 1);
	else
		tags((const char *)data + 1, size - 1);
	return 0;
}
