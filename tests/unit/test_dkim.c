/* test_dkim - DKIM: the RFC 6376 3.4.5 canonicalisation examples (headers;
 * the body whole, byte by byte and cut at every point), body edge cases
 * (empty, trailing empty lines, no final CRLF, l= counting), tag-list
 * edge cases, the RFC 8463 Appendix A signed message (ed25519 and rsa),
 * sign-then-verify for both algorithms with tampering (header, body, l=),
 * and the verifier's DNS outcomes, expiry and h= rules. */
#include "unit.h"
#include "dkim.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CRLF "\r\n"

/* ---- canonicalisation --------------------------------------------- */

static const char rfc_header_a[] = "A: X" CRLF;
static const char rfc_header_b[] = "B : Y\t" CRLF "\tZ  " CRLF;
static const char rfc_body[] = " C " CRLF "D \t E" CRLF CRLF CRLF;

static void
canon_header(enum dkim_canon c, const char *f, const char *want)
{
	struct buf b;

	buf_init(&b, 1024);
	assert_int_equal(dkim_canon_header(&b, c, f, strlen(f), 1), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static void
test_rfc_headers(void **state)
{
	(void)state;
	canon_header(DKIM_CANON_RELAXED, rfc_header_a, "a:X" CRLF);
	canon_header(DKIM_CANON_RELAXED, rfc_header_b, "b:Y Z" CRLF);
	canon_header(DKIM_CANON_SIMPLE, rfc_header_a, rfc_header_a);
	canon_header(DKIM_CANON_SIMPLE, rfc_header_b, rfc_header_b);
	canon_header(DKIM_CANON_RELAXED, "SUBJect:  a  \t b " CRLF,
	    "subject:a b" CRLF);
	canon_header(DKIM_CANON_RELAXED, "X:" CRLF, "x:" CRLF);
}

/* The canonical body of in, fed with cuts at every multiple of step
 * (step 0: whole), and its digest. */
static void
body_run(enum dkim_canon c, const char *in, size_t len, size_t step,
    int64_t limit, struct buf *out, unsigned char *dg, uint64_t *total)
{
	struct dkim_body b;
	unsigned dl;
	size_t pos;

	buf_init(out, 65536);
	assert_int_equal(dkim_body_init(&b, c, EVP_sha256(), limit, out), 0);
	if (step == 0)
		dkim_body_feed(&b, in, len);
	else
		for (pos = 0; pos < len; pos += step)
			dkim_body_feed(&b, in + pos, len - pos < step ?
			    len - pos : step);
	assert_int_equal(dkim_body_final(&b, dg, &dl), 0);
	assert_int_equal(dl, 32);
	*total = b.total;
}

static void
body_case(enum dkim_canon c, const char *in, size_t len, const char *want)
{
	unsigned char dg0[EVP_MAX_MD_SIZE], dg[EVP_MAX_MD_SIZE];
	unsigned char ref[EVP_MAX_MD_SIZE];
	struct buf out;
	uint64_t total;
	size_t step, cut;
	unsigned rl;

	body_run(c, in, len, 0, -1, &out, dg0, &total);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	assert_int_equal(total, strlen(want));
	buf_free(&out);
	EVP_Digest(want, strlen(want), ref, &rl, EVP_sha256(), NULL);
	assert_memory_equal(dg0, ref, 32);
	for (step = 1; step <= 3; step++) {
		body_run(c, in, len, step, -1, &out, dg, &total);
		assert_memory_equal(dg, dg0, 32);
		buf_free(&out);
	}
	/* Cut in two at every point. */
	for (cut = 0; cut <= len; cut++) {
		struct dkim_body b;
		unsigned dl;

		assert_int_equal(dkim_body_init(&b, c, EVP_sha256(), -1, NULL),
		    0);
		dkim_body_feed(&b, in, cut);
		dkim_body_feed(&b, in + cut, len - cut);
		assert_int_equal(dkim_body_final(&b, dg, &dl), 0);
		assert_memory_equal(dg, dg0, 32);
	}
}

static void
test_rfc_body(void **state)
{
	(void)state;
	body_case(DKIM_CANON_RELAXED, rfc_body, strlen(rfc_body),
	    " C" CRLF "D E" CRLF);
	body_case(DKIM_CANON_SIMPLE, rfc_body, strlen(rfc_body),
	    " C " CRLF "D \t E" CRLF);
}

#define BODY(c, in, want)	body_case(c, in, strlen(in), want)

static void
test_body_edges(void **state)
{
	(void)state;
	/* Empty bodies: simple is one CRLF, relaxed nothing. */
	BODY(DKIM_CANON_SIMPLE, "", CRLF);
	BODY(DKIM_CANON_RELAXED, "", "");
	BODY(DKIM_CANON_SIMPLE, CRLF CRLF CRLF, CRLF);
	BODY(DKIM_CANON_RELAXED, CRLF " \t" CRLF, "");
	/* No final CRLF: one is added. */
	BODY(DKIM_CANON_SIMPLE, "a", "a" CRLF);
	BODY(DKIM_CANON_RELAXED, "a  ", "a" CRLF);
	/* Empty lines inside are kept, trailing ones go. */
	BODY(DKIM_CANON_SIMPLE, "a" CRLF CRLF "b" CRLF CRLF,
	    "a" CRLF CRLF "b" CRLF);
	/* Relaxed: WSP-only lines are empty lines; leading WSP is one SP. */
	BODY(DKIM_CANON_RELAXED, "a" CRLF "  " CRLF "\t\tb" CRLF,
	    "a" CRLF CRLF " b" CRLF);
	/* A bare CR or LF is text. */
	BODY(DKIM_CANON_SIMPLE, "a\rb" CRLF, "a\rb" CRLF);
	BODY(DKIM_CANON_RELAXED, "a\nb" CRLF, "a\nb" CRLF);
	BODY(DKIM_CANON_SIMPLE, "a\r", "a\r" CRLF);
}

static void
test_body_length(void **state)
{
	unsigned char dg[EVP_MAX_MD_SIZE], ref[EVP_MAX_MD_SIZE];
	struct buf out;
	uint64_t total;
	unsigned rl;
	size_t step;

	(void)state;
	for (step = 0; step <= 1; step++) {
		body_run(DKIM_CANON_SIMPLE, "hello" CRLF "world" CRLF, 14, step,
		    5, &out, dg, &total);
		assert_int_equal(total, 14);	/* counted past l= */
		EVP_Digest("hello", 5, ref, &rl, EVP_sha256(), NULL);
		assert_memory_equal(dg, ref, 32);
		buf_free(&out);
		body_run(DKIM_CANON_SIMPLE, "", 0, step, 0, &out, dg, &total);
		EVP_Digest("", 0, ref, &rl, EVP_sha256(), NULL);
		assert_memory_equal(dg, ref, 32);
		assert_int_equal(total, 2);
		buf_free(&out);
	}
}

/* ---- tag lists ---------------------------------------------------- */

static void
test_tags_good(void **state)
{
	struct dkim_taglist t;
	const struct dkim_tag *g;
	static const char *good[] = {
		"a=1", "a=1;", " a = 1 ; b=2 ;", "v=DKIM1; k=rsa; p=",
		"a=b c", "a=x" CRLF "\ty", "a=;b=", "a_1=x",
		"h=from : to" CRLF " : subject",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(dkim_tags_parse(good[i], strlen(good[i]), &t),
		    0);
	assert_int_equal(dkim_tags_parse(" a = 1 ; bb=two words ;", 23, &t),
	    0);
	assert_int_equal(t.n, 2);
	g = dkim_tags_find(&t, "bb");
	assert_non_null(g);
	assert_int_equal(g->value_len, 9);
	assert_memory_equal(g->value, "two words", 9);
	assert_int_equal(g->raw_len, 10);	/* "two words " */
	assert_null(dkim_tags_find(&t, "b"));
	assert_null(dkim_tags_find(&t, "A"));	/* case matters */
	assert_int_equal(dkim_tags_parse("p=", 2, &t), 0);
	assert_int_equal(dkim_tags_find(&t, "p")->value_len, 0);
}

static void
test_tags_bad(void **state)
{
	struct dkim_taglist t;
	static const char *bad[] = {
		"", " ", ";", "a", "a=1;;b=2", ";a=1", "a=1;a=2", "=1",
		"1a=2", "a-b=1", "a=1\nb=2", "a=1\r\nb=2", "a=x\ry",
		"a=\x01", "a=\x80", "a=1; b", "a b=1",
	};
	char many[400], nul[] = "a=1\0b=2", *big;
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dkim_tags_parse(bad[i], strlen(bad[i]), &t),
		    -1);
	assert_int_equal(dkim_tags_parse(nul, sizeof(nul) - 1, &t), -1);
	/* DKIM_TAGS_MAX tags parse, one more does not. */
	for (i = 0; i < DKIM_TAGS_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "t%zu=1;", i);
	assert_int_equal(dkim_tags_parse(many, n, &t), 0);
	n += (size_t)snprintf(many + n, sizeof(many) - n, "z=1");
	assert_int_equal(dkim_tags_parse(many, n, &t), -1);
	big = malloc(DKIM_TAGLIST_MAX + 1);
	memset(big, 'x', DKIM_TAGLIST_MAX + 1);
	big[0] = 'a';
	big[1] = '=';
	assert_int_equal(dkim_tags_parse(big, DKIM_TAGLIST_MAX, &t), 0);
	assert_int_equal(dkim_tags_parse(big, DKIM_TAGLIST_MAX + 1, &t), -1);
	free(big);
}

/* ---- RFC 8463 Appendix A ------------------------------------------ */

/* The RFC 6376 Appendix A message signed (simple/simple) with the RFC
 * 8463 Appendix A.2 keys, ed25519 and rsa, as dkimpy's test data has it
 * (t= differs from the RFC's A.3 copy; the keys and message are the
 * RFC's). */
static const char rfc8463_msg[] =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; " CRLF
    " d=football.example.com; i=@football.example.com; " CRLF
    " q=dns/txt; s=brisbane; t=1518460054; h=from : to : " CRLF
    " subject : date : message-id : from : subject : date; " CRLF
    " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; " CRLF
    " b=9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YB" CRLF
    " o0wBLR++X5LqmsxXaOYLLJe46l10AQ==" CRLF
    "DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; " CRLF
    " d=football.example.com; i=@football.example.com; " CRLF
    " q=dns/txt; s=test; t=1527915362; h=from : to : subject : " CRLF
    " date : message-id : from : subject : date; " CRLF
    " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; " CRLF
    " b=icKcLSEZYXJ95flvWE8FT6hl5iqd8MC/LEKYH0QjsqYy6MO/4pgVNCZH" CRLF
    " l/RAXAuADxE/40Fg7uTlxwwD1hjN2Ple6J//cJfslBdDOq6zTVbne1dqtl" CRLF
    " NOat7iamJ1AfRqyG+ja7a2AZsrpUuJ7VA6O+0zRYPqpwMEkEFIzI9i/Xk=" CRLF
    "From: Joe SixPack <joe@football.example.com>" CRLF
    "To: Suzie Q <suzie@shopping.example.net>" CRLF
    "Subject: Is dinner ready?" CRLF
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)" CRLF
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>" CRLF
    "" CRLF
    "Hi." CRLF
    "" CRLF
    "We lost the game.  Are you hungry yet?" CRLF
    "" CRLF
    "Joe." CRLF
    "" CRLF;
static const char rfc8463_ed_rec[] =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rfc8463_rsa_rec[] =
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5"
    "V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/"
    "BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kr"
    "yOTIKT+l/K4w3QIDAQAB";
/* A.2's Ed25519 private key (RFC 8032 7.1 test 1), the seed. */
static const unsigned char rfc8032_seed[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
	0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
	0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};

static void
verify_one(const char *msg, size_t len, int64_t now, const char *rec,
    enum dkim_result *r, size_t *n, char *reason, size_t rlen,
    int *unsigned_tail)
{
	struct dkim_verify v;
	size_t i;

	assert_int_equal(dkim_verify_message(&v, msg, len, now), 0);
	for (i = 0; i < v.n; i++)
		dkim_verify_key(&v, i, OUTCOME_OK, rec, strlen(rec));
	*n = v.n;
	for (i = 0; i < v.n && i < 2; i++)
		r[i] = v.sigs[i].result;
	if (reason)
		snprintf(reason, rlen, "%s", v.sigs[0].reason);
	if (unsigned_tail)
		*unsigned_tail = v.sigs[0].unsigned_tail;
	dkim_verify_free(&v);
}

static void
test_rfc8463(void **state)
{
	enum dkim_result r[2];
	size_t n;
	char *bad;

	(void)state;
	verify_one(rfc8463_msg, strlen(rfc8463_msg), 1528000000,
	    rfc8463_ed_rec, r, &n, NULL, 0, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(r[0], DKIM_PASS);
	assert_int_equal(r[1], DKIM_PERMERROR);	/* ed key for rsa a= */
	verify_one(rfc8463_msg, strlen(rfc8463_msg), 1528000000,
	    rfc8463_rsa_rec, r, &n, NULL, 0, NULL);
	assert_int_equal(r[0], DKIM_PERMERROR);
	assert_int_equal(r[1], DKIM_PASS);
	/* One changed body byte fails both. */
	bad = strdup(rfc8463_msg);
	*strstr(bad, "lost") = 'L';
	verify_one(bad, strlen(bad), 0, rfc8463_ed_rec, r, &n, NULL, 0, NULL);
	assert_int_equal(r[0], DKIM_FAIL);
	free(bad);
}

/* ---- sign and verify ---------------------------------------------- */

static const char message[] =
    "From: Joe <joe@example.com>" CRLF
    "To: bob@example.net" CRLF
    "Subject: the  plan" CRLF
    "Date: Thu, 3 Dec 2026 10:00:00 +0000" CRLF
    "Message-ID: <1@example.com>" CRLF
    "X-Unsigned: whatever" CRLF
    CRLF
    "Meet at  noon." CRLF
    CRLF;

static EVP_PKEY *
ed_key(void)
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    rfc8032_seed, sizeof(rfc8032_seed));
}

static EVP_PKEY *
rsa_key(void)
{
	static EVP_PKEY *k;

	if (k == NULL)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	return k;
}

/* The record of k's public half. */
static void
record_of(EVP_PKEY *k, char *rec, size_t len)
{
	unsigned char der[1024], *p = der;
	size_t n = sizeof(der);
	char b64[1400];
	int ed = EVP_PKEY_base_id(k) == EVP_PKEY_ED25519;

	if (ed)
		assert_int_equal(EVP_PKEY_get_raw_public_key(k, der, &n), 1);
	else
		n = (size_t)i2d_PUBKEY(k, &p);
	assert_int_equal(EVP_EncodeBlock((unsigned char *)b64, der, (int)n) > 0,
	    1);
	snprintf(rec, len, "v=DKIM1; k=%s; p=%s", ed ? "ed25519" : "rsa", b64);
}

/* sig (the field dkim_sign made) + msg into out. */
static char *
signed_message(EVP_PKEY *k, enum dkim_alg alg, enum dkim_canon hc,
    enum dkim_canon bc, const char *msg, size_t *len)
{
	struct dkim_sign_params p;
	struct buf out;
	char why[128], *s;
	size_t i, col;

	memset(&p, 0, sizeof(p));
	p.domain = "example.com";
	p.selector = "sel";
	p.alg = alg;
	p.key = k;
	p.hcanon = hc;
	p.bcanon = bc;
	p.now = 1700000000;
	buf_init(&out, 65536);
	assert_int_equal(dkim_sign(msg, strlen(msg), &p, &out, why,
	    sizeof(why)), 0);
	/* Folded at 78 columns; over-signed names appear count + 1 times. */
	for (i = 0, col = 0; i < out.len; i++) {
		if (out.data[i] == '\r')
			col = 0;
		else if (out.data[i] != '\n')
			assert_true(++col <= 78);
	}
	assert_non_null(strstr(out.data, "h=From:From:"));
	assert_null(strstr(out.data, "X-Unsigned"));
	assert_int_equal(buf_appends(&out, msg), 0);
	s = strdup(out.data);
	*len = out.len;
	buf_free(&out);
	return s;
}

static void
round_trip(EVP_PKEY *k, enum dkim_alg alg)
{
	enum dkim_result r[2];
	char rec[2048], reason[128], *m, *bad;
	enum dkim_canon hc, bc;
	size_t len, n;

	record_of(k, rec, sizeof(rec));
	for (hc = DKIM_CANON_SIMPLE; hc <= DKIM_CANON_RELAXED; hc++)
		for (bc = DKIM_CANON_SIMPLE; bc <= DKIM_CANON_RELAXED; bc++) {
			m = signed_message(k, alg, hc, bc, message, &len);
			verify_one(m, len, 1700000001, rec, r, &n, reason,
			    sizeof(reason), NULL);
			assert_int_equal(n, 1);
			assert_int_equal(r[0], DKIM_PASS);
			/* Tampered header. */
			bad = strdup(m);
			memcpy(strstr(bad, "the  plan"), "THE", 3);
			verify_one(bad, len, 0, rec, r, &n, reason,
			    sizeof(reason), NULL);
			assert_int_equal(r[0], DKIM_FAIL);
			assert_string_equal(reason, "signature does not verify");
			free(bad);
			/* Tampered body. */
			bad = strdup(m);
			memcpy(strstr(bad, "noon"), "nine", 4);
			verify_one(bad, len, 0, rec, r, &n, reason,
			    sizeof(reason), NULL);
			assert_int_equal(r[0], DKIM_FAIL);
			assert_string_equal(reason, "body hash mismatch");
			free(bad);
			/* An unsigned header may change. */
			bad = strdup(m);
			memcpy(strstr(bad, "whatever"), "WHATEVER", 8);
			verify_one(bad, len, 0, rec, r, &n, reason,
			    sizeof(reason), NULL);
			assert_int_equal(r[0], DKIM_PASS);
			free(bad);
			free(m);
		}
}

static void
test_round_trip_ed25519(void **state)
{
	EVP_PKEY *k = ed_key();

	(void)state;
	round_trip(k, DKIM_ALG_ED25519_SHA256);
	EVP_PKEY_free(k);
}

static void
test_round_trip_rsa(void **state)
{
	(void)state;
	round_trip(rsa_key(), DKIM_ALG_RSA_SHA256);
}

static void
test_sign_refusals(void **state)
{
	struct dkim_sign_params p;
	struct buf out;
	char why[128];
	EVP_PKEY *k = ed_key();

	(void)state;
	memset(&p, 0, sizeof(p));
	p.domain = "example.com";
	p.selector = "sel";
	p.alg = DKIM_ALG_RSA_SHA256;	/* wrong for the key */
	p.key = k;
	buf_init(&out, 65536);
	assert_int_equal(dkim_sign(message, strlen(message), &p, &out, why,
	    sizeof(why)), -1);
	p.alg = DKIM_ALG_ED25519_SHA256;
	p.selector = "bad selector";
	assert_int_equal(dkim_sign(message, strlen(message), &p, &out, why,
	    sizeof(why)), -1);
	p.selector = "sel";
	assert_int_equal(dkim_sign("To: x" CRLF CRLF "b" CRLF, 12, &p, &out,
	    why, sizeof(why)), -1);
	assert_string_equal(why, "the message has no From: field");
	assert_int_equal(out.len, 0);
	/* DKIM_FIELDS_MAX fields are signed, one more is refused. */
	{
		struct buf m;
		size_t i;

		buf_init(&m, 65536);
		assert_int_equal(buf_appends(&m, "From: a@example.com" CRLF), 0);
		for (i = 1; i < DKIM_FIELDS_MAX; i++)
			assert_int_equal(buf_appends(&m, "X: y" CRLF), 0);
		assert_int_equal(buf_appends(&m, CRLF "body" CRLF), 0);
		assert_int_equal(dkim_sign(m.data, m.len, &p, &out, why,
		    sizeof(why)), 0);
		buf_reset(&out);
		buf_reset(&m);
		assert_int_equal(buf_appends(&m, "From: a@example.com" CRLF), 0);
		for (i = 0; i < DKIM_FIELDS_MAX; i++)
			assert_int_equal(buf_appends(&m, "X: y" CRLF), 0);
		assert_int_equal(buf_appends(&m, CRLF "body" CRLF), 0);
		assert_int_equal(dkim_sign(m.data, m.len, &p, &out, why,
		    sizeof(why)), -1);
		buf_free(&m);
	}
	buf_free(&out);
	EVP_PKEY_free(k);
}

/* A hand-made signature header on message: tags given, b= and bh= made
 * up (the checks below come before any crypto). */
static enum dkim_result
verdict(const char *tags, int64_t now, char *reason, size_t rlen)
{
	char msg[4096];
	enum dkim_result r[2];
	size_t n;

	snprintf(msg, sizeof(msg), "DKIM-Signature: %s" CRLF "%s", tags,
	    message);
	verify_one(msg, strlen(msg), now, rfc8463_ed_rec, r, &n, reason, rlen,
	    NULL);
	assert_int_equal(n, 1);
	return r[0];
}

#define BH "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=AAAA"

static void
test_verify_rules(void **state)
{
	char why[128];

	(void)state;
	assert_int_equal(verdict("v=1; a=rsa-sha1; d=example.com; s=s; "
	    "h=from; " BH, 0, why, sizeof(why)), DKIM_FAIL);
	assert_int_equal(verdict("v=1; a=ed25519-sha256; d=example.com; s=s; "
	    "h=to:subject; " BH, 0, why, sizeof(why)), DKIM_PERMERROR);
	assert_string_equal(why, "h= does not include From");
	assert_int_equal(verdict("v=1; a=ed25519-sha256; d=example.com; s=s; "
	    "h=from; x=100; " BH, 101, why, sizeof(why)), DKIM_FAIL);
	assert_string_equal(why, "signature expired");
	assert_int_equal(verdict("v=1; a=ed25519-sha256; d=example.com; s=s; "
	    "h=from; t=200; x=100; " BH, 0, why, sizeof(why)),
	    DKIM_PERMERROR);
	assert_int_equal(verdict("v=1; a=ed25519-sha256; d=example.com; s=s; "
	    "h=from; i=joe@evil.example; " BH, 0, why, sizeof(why)),
	    DKIM_PERMERROR);
	assert_int_equal(verdict("v=1; a=ed25519-sha256; d=example.com; s=s; "
	    "h=from; i=joe@sub.example.com; " BH, 0, why, sizeof(why)),
	    DKIM_FAIL);	/* well formed; the made-up b= fails */
	assert_int_equal(verdict("v=2; a=ed25519-sha256; d=example.com; s=s; "
	    "h=from; " BH, 0, why, sizeof(why)), DKIM_NEUTRAL);
	assert_int_equal(verdict("v=1; a=rsa-md5; d=example.com; s=s; "
	    "h=from; " BH, 0, why, sizeof(why)), DKIM_NEUTRAL);
	assert_int_equal(verdict("v=1; a=ed25519-sha256; d=example.com; "
	    "h=from; " BH, 0, why, sizeof(why)), DKIM_PERMERROR);
	assert_int_equal(verdict("v=1; a=ed25519-sha256; d=example.com; s=s; "
	    "h=from; l=x; " BH, 0, why, sizeof(why)), DKIM_PERMERROR);
	assert_int_equal(verdict("v=1; v=1; a=ed25519-sha256", 0, why,
	    sizeof(why)), DKIM_PERMERROR);
	assert_int_equal(verdict("v=1; a=ed25519-sha256; d=exa mple.com; "
	    "s=s; h=from; " BH, 0, why, sizeof(why)), DKIM_PERMERROR);
}

static void
test_verify_dns_and_order(void **state)
{
	EVP_PKEY *k = ed_key();
	struct dkim_verify v;
	char rec[512], *m;
	size_t len, hlen;

	(void)state;
	record_of(k, rec, sizeof(rec));
	m = signed_message(k, DKIM_ALG_ED25519_SHA256, DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, message, &len);
	hlen = dkim_header_len(m, len);
	/* The key first, then the body byte by byte. */
	assert_int_equal(dkim_verify_begin(&v, m, hlen, 0), 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.sigs[0].query, "sel._domainkey.example.com");
	dkim_verify_key(&v, 0, OUTCOME_OK, rec, strlen(rec));
	assert_int_equal(v.sigs[0].result, DKIM_PENDING);
	for (size_t i = hlen; i < len; i++)
		dkim_verify_body(&v, m + i, 1);
	dkim_verify_body_end(&v);
	assert_int_equal(v.sigs[0].result, DKIM_PASS);
	dkim_verify_free(&v);
	/* DNS outcomes. */
	dkim_verify_message(&v, m, len, 0);
	dkim_verify_key(&v, 0, OUTCOME_TEMP, NULL, 0);
	assert_int_equal(v.sigs[0].result, DKIM_TEMPERROR);
	dkim_verify_free(&v);
	dkim_verify_message(&v, m, len, 0);
	dkim_verify_key(&v, 0, OUTCOME_PERM, NULL, 0);
	assert_int_equal(v.sigs[0].result, DKIM_PERMERROR);
	dkim_verify_free(&v);
	/* Revoked, malformed and mismatched keys. */
	dkim_verify_message(&v, m, len, 0);
	dkim_verify_key(&v, 0, OUTCOME_OK, "v=DKIM1; k=ed25519; p=", 22);
	assert_int_equal(v.sigs[0].result, DKIM_PERMERROR);
	assert_string_equal(v.sigs[0].reason, "key revoked (empty p=)");
	dkim_verify_free(&v);
	dkim_verify_message(&v, m, len, 0);
	dkim_verify_key(&v, 0, OUTCOME_OK, "k=ed25519; v=DKIM1; p=AAAA", 26);
	assert_int_equal(v.sigs[0].result, DKIM_PERMERROR);
	dkim_verify_free(&v);
	dkim_verify_message(&v, m, len, 0);
	dkim_verify_key(&v, 0, OUTCOME_OK, rfc8463_rsa_rec,
	    strlen(rfc8463_rsa_rec));
	assert_int_equal(v.sigs[0].result, DKIM_PERMERROR);
	dkim_verify_free(&v);
	free(m);
	EVP_PKEY_free(k);
}

/* l=: a longer body passes, marked; a shorter one fails; a changed l=
 * breaks the signature. */
static void
test_length_tag(void **state)
{
	EVP_PKEY *k = ed_key();
	struct dkim_sign_params p;
	enum dkim_result r[2];
	char rec[512], why[128], reason[128], msg[4096], *sig, *l;
	struct buf out;
	size_t n;
	int tail;

	(void)state;
	record_of(k, rec, sizeof(rec));
	memset(&p, 0, sizeof(p));
	p.domain = "example.com";
	p.selector = "sel";
	p.alg = DKIM_ALG_ED25519_SHA256;
	p.key = k;
	p.hcanon = p.bcanon = DKIM_CANON_RELAXED;
	p.body_length = 1;
	buf_init(&out, 65536);
	assert_int_equal(dkim_sign(message, strlen(message), &p, &out, why,
	    sizeof(why)), 0);
	sig = strdup(out.data);
	buf_free(&out);
	assert_non_null(strstr(sig, " l=15;"));	/* "Meet at noon." CRLF */
	snprintf(msg, sizeof(msg), "%s%s", sig, message);
	verify_one(msg, strlen(msg), 0, rec, r, &n, reason, sizeof(reason),
	    &tail);
	assert_int_equal(r[0], DKIM_PASS);
	assert_int_equal(tail, 0);
	snprintf(msg, sizeof(msg), "%s%sP.S. click here" CRLF, sig, message);
	verify_one(msg, strlen(msg), 0, rec, r, &n, reason, sizeof(reason),
	    &tail);
	assert_int_equal(r[0], DKIM_PASS);
	assert_int_equal(tail, 1);
	snprintf(msg, sizeof(msg), "%s%.*s" CRLF, sig,
	    (int)(strstr(message, "noon") - message), message);
	verify_one(msg, strlen(msg), 0, rec, r, &n, reason, sizeof(reason),
	    &tail);
	assert_int_equal(r[0], DKIM_FAIL);
	assert_string_equal(reason, "body shorter than l=");
	l = strstr(sig, " l=15;");
	l[4] = '4';	/* l=14: hashes differ and the signature breaks */
	snprintf(msg, sizeof(msg), "%s%s", sig, message);
	verify_one(msg, strlen(msg), 0, rec, r, &n, reason, sizeof(reason),
	    &tail);
	assert_int_equal(r[0], DKIM_FAIL);
	free(sig);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_headers),
		cmocka_unit_test(test_rfc_body),
		cmocka_unit_test(test_body_edges),
		cmocka_unit_test(test_body_length),
		cmocka_unit_test(test_tags_good),
		cmocka_unit_test(test_tags_bad),
		cmocka_unit_test(test_rfc8463),
		cmocka_unit_test(test_round_trip_ed25519),
		cmocka_unit_test(test_round_trip_rsa),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_verify_rules),
		cmocka_unit_test(test_verify_dns_and_order),
		cmocka_unit_test(test_length_tag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
