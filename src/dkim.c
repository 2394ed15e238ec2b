/* dkim - DKIM signing and verification on bytes in memory. See dkim.h.
 *
 * One header hash for both algorithms: the canonical header fields and the
 * signature field (b= empty) go through SHA-256; RSA signs that digest
 * with PKCS#1 v1.5 (the same as signing the data with sha256), Ed25519
 * signs the 32 digest octets themselves (RFC 8463 section 3). So the
 * header hash is taken once, when the header section is in hand, and the
 * body can stream afterwards. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base64.h"
#include "decimal.h"
#include "dkim.h"

/* Line length of a signature we write (RFC 5322 2.1.1's 78). */
#define DKIM_FOLD_COLUMN	78
/* t= and x= are at most 12 digits (RFC 6376 3.5). */
#define DKIM_TIME_MAX		999999999999ULL
/* A key record's p= decoded: an RSA 8192 SubjectPublicKeyInfo. */
#define DKIM_KEY_BYTES_MAX	1100

const char *const dkim_default_headers[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
	"In-Reply-To", "References", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", NULL
};
const char *const dkim_default_oversign[] = {
	"From", "Subject", "To", "Date", "Message-ID", NULL
};

/* ---- tag lists ---------------------------------------------------- */

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* Skip FWS from *pos: WSP, or CRLF followed by WSP. -1 on a CR or LF
 * that is not folding. */
static int
skip_fws(const char *s, size_t len, size_t *pos)
{
	size_t i = *pos;

	for (;;) {
		if (i < len && is_wsp((unsigned char)s[i]))
			i++;
		else if (i + 2 < len && s[i] == '\r' && s[i + 1] == '\n' &&
		    is_wsp((unsigned char)s[i + 2]))
			i += 3;
		else if (i < len && (s[i] == '\r' || s[i] == '\n'))
			return -1;
		else
			break;
	}
	*pos = i;
	return 0;
}

int
dkim_tags_parse(const char *s, size_t len, struct dkim_taglist *out)
{
	size_t pos = 0, i, vend;
	struct dkim_tag *t;

	out->n = 0;
	if (len > DKIM_TAGLIST_MAX || memchr(s, '\0', len) != NULL)
		return -1;
	if (skip_fws(s, len, &pos) == -1)
		return -1;
	while (pos < len) {
		if (out->n == DKIM_TAGS_MAX)
			return -1;
		t = &out->tags[out->n];
		/* tag-name = ALPHA *ALNUMPUNC */
		if (!isalpha((unsigned char)s[pos]))
			return -1;
		t->name = s + pos;
		while (pos < len && (isalnum((unsigned char)s[pos]) ||
		    s[pos] == '_'))
			pos++;
		t->name_len = (size_t)(s + pos - t->name);
		if (skip_fws(s, len, &pos) == -1 || pos == len || s[pos] != '=')
			return -1;
		pos++;
		t->raw = s + pos;
		if (skip_fws(s, len, &pos) == -1)
			return -1;
		t->value = s + pos;
		vend = pos;
		/* tag-value = [ tval *( 1*(WSP / FWS) tval ) ]; VALCHAR is
		 * %x21-3A / %x3C-7E */
		while (pos < len && s[pos] != ';') {
			unsigned char c = (unsigned char)s[pos];

			if (c >= 0x21 && c <= 0x7e) {
				pos++;
				vend = pos;
			} else if (skip_fws(s, len, &pos) == -1 ||
			    (pos < len && s[pos] != ';' &&
			    !((unsigned char)s[pos] >= 0x21 &&
			    (unsigned char)s[pos] <= 0x7e)))
				return -1;
		}
		t->value_len = vend - (size_t)(t->value - s);
		t->raw_len = (size_t)(s + pos - t->raw);
		for (i = 0; i < out->n; i++)
			if (out->tags[i].name_len == t->name_len &&
			    memcmp(out->tags[i].name, t->name, t->name_len) == 0)
				return -1;
		out->n++;
		if (pos < len) {	/* ';' */
			pos++;
			if (skip_fws(s, len, &pos) == -1)
				return -1;
		}
	}
	return out->n == 0 ? -1 : 0;
}

const struct dkim_tag *
dkim_tags_find(const struct dkim_taglist *t, const char *name)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < t->n; i++)
		if (t->tags[i].name_len == nl &&
		    memcmp(t->tags[i].name, name, nl) == 0)
			return &t->tags[i];
	return NULL;
}

static int
tag_is(const struct dkim_tag *t, const char *v)
{
	return t != NULL && t->value_len == strlen(v) &&
	    memcmp(t->value, v, t->value_len) == 0;
}

/* Does the colon list (FWS around items) contain item (case-insensitive)? */
static int
list_has(const char *s, size_t len, const char *item)
{
	size_t i = 0, st, e, il = strlen(item);

	while (i <= len) {
		while (i < len && (isspace((unsigned char)s[i])))
			i++;
		st = i;
		while (i < len && s[i] != ':')
			i++;
		e = i;
		while (e > st && isspace((unsigned char)s[e - 1]))
			e--;
		if (e - st == il && strncasecmp(s + st, item, il) == 0)
			return 1;
		i++;
	}
	return 0;
}

/* Base64 with FWS removed (b=, bh=, p=). 0 or -1. */
static int
b64_fws_decode(const char *s, size_t len, unsigned char *dst, size_t dmax,
    size_t *dlen)
{
	char tmp[DKIM_TAGLIST_MAX];
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (isspace((unsigned char)s[i]))
			continue;
		if (n == sizeof(tmp))
			return -1;
		tmp[n++] = s[i];
	}
	return base64_decode(dst, dmax, dlen, tmp, n) == BASE64_OK ? 0 : -1;
}

/* A domain or selector: LDH labels of 1..63 (underscore allowed, as in
 * DNS names that are not host names), at most max octets in all. */
static int
name_ok(const char *s, size_t n, size_t max)
{
	size_t i, lab = 0;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    !(s[i] == '-' && lab > 0))
			return 0;
		lab++;
	}
	return 1;
}

/* ---- header fields ------------------------------------------------ */

struct field {
	const char	*p;
	size_t		 len;		/* with the final CRLF */
	size_t		 name_len;	/* trailing WSP not counted */
};

size_t
dkim_header_len(const char *msg, size_t len)
{
	size_t i;

	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n')
		return 2;
	for (i = 0; i + 3 < len; i++)
		if (msg[i] == '\r' && msg[i + 1] == '\n' &&
		    msg[i + 2] == '\r' && msg[i + 3] == '\n')
			return i + 4;
	return len;
}

/* Split a header section into fields, stopping at an empty line or
 * after max fields; a line without ':' that does not continue a field
 * is left out (it cannot be signed). */
static size_t
split_fields(const char *h, size_t len, struct field *f, size_t max)
{
	size_t pos = 0, n = 0, e;
	const char *colon, *lf1;

	while (pos < len && n < max) {
		if (h[pos] == '\r' || h[pos] == '\n')
			break;		/* the empty line */
		e = pos;
		for (;;) {
			const char *lf = memchr(h + e, '\n', len - e);

			e = lf ? (size_t)(lf - h) + 1 : len;
			if (e >= len || !is_wsp((unsigned char)h[e]))
				break;
		}
		/* The name is on the first line. */
		lf1 = memchr(h + pos, '\n', e - pos);
		colon = memchr(h + pos, ':', e - pos);
		if (colon != NULL && (lf1 == NULL || colon < lf1) &&
		    colon > h + pos) {
			f[n].p = h + pos;
			f[n].len = e - pos;
			f[n].name_len = (size_t)(colon - (h + pos));
			while (f[n].name_len > 0 &&
			    is_wsp((unsigned char)f[n].p[f[n].name_len - 1]))
				f[n].name_len--;
			n++;
		}
		pos = e;
	}
	return n;
}

static int
field_is(const struct field *f, const char *name, size_t nl)
{
	return f->name_len == nl && strncasecmp(f->p, name, nl) == 0;
}

int
dkim_canon_header(struct buf *out, enum dkim_canon c, const char *f,
    size_t len, int with_crlf)
{
	const char *colon = memchr(f, ':', len);
	size_t nl, i;
	int wsp = 0, any = 0;

	if (colon == NULL)
		return -1;
	if (c == DKIM_CANON_SIMPLE) {
		if (!with_crlf && len >= 2 && f[len - 2] == '\r' &&
		    f[len - 1] == '\n')
			len -= 2;
		if (buf_append(out, f, len) == -1)
			return -1;
		if (with_crlf && (len < 2 || f[len - 2] != '\r' ||
		    f[len - 1] != '\n'))
			return buf_append(out, "\r\n", 2);
		return 0;
	}
	nl = (size_t)(colon - f);
	while (nl > 0 && is_wsp((unsigned char)f[nl - 1]))
		nl--;
	for (i = 0; i < nl; i++)
		if (buf_appendc(out, (char)tolower((unsigned char)f[i])) == -1)
			return -1;
	if (buf_appendc(out, ':') == -1)
		return -1;
	for (i = (size_t)(colon - f) + 1; i < len; i++) {
		unsigned char ch = (unsigned char)f[i];

		if (ch == '\r' || ch == '\n')
			continue;	/* unfolding */
		if (is_wsp(ch)) {
			wsp = 1;
			continue;
		}
		if (wsp && any && buf_appendc(out, ' ') == -1)
			return -1;
		wsp = 0;
		any = 1;
		if (buf_appendc(out, (char)ch) == -1)
			return -1;
	}
	return with_crlf ? buf_append(out, "\r\n", 2) : 0;
}

/* ---- the body ----------------------------------------------------- */

int
dkim_body_init(struct dkim_body *b, enum dkim_canon c, const EVP_MD *md,
    int64_t limit, struct buf *copy)
{
	memset(b, 0, sizeof(*b));
	b->canon = c;
	b->limit = limit;
	b->copy = copy;
	if (md != NULL) {
		if ((b->md = EVP_MD_CTX_new()) == NULL)
			return -1;
		if (EVP_DigestInit_ex(b->md, md, NULL) != 1) {
			EVP_MD_CTX_free(b->md);
			b->md = NULL;
			return -1;
		}
	}
	return 0;
}

static void
stage_flush(struct dkim_body *b)
{
	if (b->md != NULL && b->stage_len > 0)
		(void)EVP_DigestUpdate(b->md, b->stage, b->stage_len);
	b->stage_len = 0;
}

/* One canonical octet: counted, copied, and hashed within l=. */
static void
emit(struct dkim_body *b, unsigned char c)
{
	if (b->copy != NULL)
		(void)buf_appendc(b->copy, (char)c);
	if (b->limit < 0 || b->total < (uint64_t)b->limit) {
		if (b->stage_len == sizeof(b->stage))
			stage_flush(b);
		b->stage[b->stage_len++] = c;
	}
	b->total++;
}

static void
content(struct dkim_body *b, unsigned char c)
{
	for (; b->empty_lines > 0; b->empty_lines--) {
		emit(b, '\r');
		emit(b, '\n');
	}
	if (b->wsp) {
		emit(b, ' ');
		b->wsp = 0;
	}
	emit(b, c);
	b->line_content = 1;
}

static void
end_line(struct dkim_body *b)
{
	b->wsp = 0;	/* relaxed: WSP at the end of a line is ignored */
	if (b->line_content) {
		emit(b, '\r');
		emit(b, '\n');
		b->line_content = 0;
	} else
		b->empty_lines++;
}

void
dkim_body_feed(struct dkim_body *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (b->cr) {
			b->cr = 0;
			if (c == '\n') {
				end_line(b);
				continue;
			}
			content(b, '\r');	/* a bare CR is text */
		}
		if (c == '\r') {
			b->cr = 1;
			continue;
		}
		if (b->canon == DKIM_CANON_RELAXED && is_wsp(c)) {
			b->wsp = 1;
			continue;
		}
		content(b, c);
	}
}

void
dkim_body_free(struct dkim_body *b)
{
	EVP_MD_CTX_free(b->md);
	b->md = NULL;
}

int
dkim_body_final(struct dkim_body *b, unsigned char *out, unsigned *outlen)
{
	int r = 0;

	if (b->cr) {
		b->cr = 0;
		content(b, '\r');
	}
	b->wsp = 0;
	if (b->line_content) {
		emit(b, '\r');
		emit(b, '\n');
		b->line_content = 0;
	}
	b->empty_lines = 0;
	/* simple: an empty body is one CRLF; relaxed: nothing. */
	if (b->canon == DKIM_CANON_SIMPLE && b->total == 0) {
		emit(b, '\r');
		emit(b, '\n');
	}
	stage_flush(b);
	*outlen = 0;
	if (b->md != NULL && EVP_DigestFinal_ex(b->md, out, outlen) != 1)
		r = -1;
	dkim_body_free(b);
	return r;
}

/* ---- the header hash ---------------------------------------------- */

/* Hash the fields named in h (bottom-up, each instance once; a name with
 * no instance left hashes nothing), then the signature field sigf (b=
 * value already removed) without its CRLF. 0 or -1. */
static int
header_hash(const struct field *f, size_t nf, const char *const *hn,
    const size_t *hl, size_t nh, enum dkim_canon c, const char *sigf,
    size_t siglen, unsigned char *digest)
{
	unsigned char used[DKIM_FIELDS_MAX];
	EVP_MD_CTX *md;
	struct buf cb;
	unsigned dl;
	size_t i, k;
	int r = -1;

	memset(used, 0, sizeof(used));
	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	for (i = 0; i < nh; i++) {
		for (k = nf; k > 0; k--)
			if (!used[k - 1] && field_is(&f[k - 1], hn[i], hl[i]))
				break;
		if (k == 0)
			continue;
		used[k - 1] = 1;
		buf_init(&cb, f[k - 1].len + 3);
		if (dkim_canon_header(&cb, c, f[k - 1].p, f[k - 1].len, 1) ==
		    -1 || EVP_DigestUpdate(md, cb.data, cb.len) != 1) {
			buf_free(&cb);
			goto out;
		}
		buf_free(&cb);
	}
	buf_init(&cb, siglen + 3);
	if (dkim_canon_header(&cb, c, sigf, siglen, 0) == -1 ||
	    EVP_DigestUpdate(md, cb.data, cb.len) != 1) {
		buf_free(&cb);
		goto out;
	}
	buf_free(&cb);
	if (EVP_DigestFinal_ex(md, digest, &dl) == 1)
		r = 0;
out:
	EVP_MD_CTX_free(md);
	return r;
}

/* ---- signing ------------------------------------------------------ */

struct fold {
	struct buf	*b;
	size_t		 col;
	int		 err;
};

static void
fold_raw(struct fold *f, const char *s, size_t n)
{
	if (buf_append(f->b, s, n) == -1)
		f->err = 1;
	f->col += n;
}

static void
fold_break(struct fold *f)
{
	fold_raw(f, "\r\n\t", 3);
	f->col = 1;
}

/* A word that is not split: on this line after a space, or the next. */
static void
fold_word(struct fold *f, const char *s, size_t n)
{
	if (f->col + 1 + n > DKIM_FOLD_COLUMN)
		fold_break(f);
	else
		fold_raw(f, " ", 1);
	fold_raw(f, s, n);
}

/* Base64 text that may be split anywhere (FWS is allowed inside it). */
static void
fold_b64(struct fold *f, const char *s, size_t n)
{
	size_t room, k;

	while (n > 0) {
		if (f->col >= DKIM_FOLD_COLUMN)
			fold_break(f);
		room = DKIM_FOLD_COLUMN - f->col;
		k = n < room ? n : room;
		fold_raw(f, s, k);
		s += k;
		n -= k;
	}
}

static int
in_list(const char *const *list, const char *name)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcasecmp(*list, name) == 0)
			return 1;
	return 0;
}

static int
sign_digest(EVP_PKEY *key, enum dkim_alg alg, const unsigned char *dg,
    unsigned char *sig, size_t *siglen)
{
	EVP_PKEY_CTX *pc = NULL;
	EVP_MD_CTX *mc = NULL;
	int r = -1;

	if (alg == DKIM_ALG_ED25519_SHA256) {
		if ((mc = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestSignInit(mc, NULL, NULL, NULL, key) == 1 &&
		    EVP_DigestSign(mc, sig, siglen, dg, 32) == 1)
			r = 0;
		EVP_MD_CTX_free(mc);
		return r;
	}
	if ((pc = EVP_PKEY_CTX_new(key, NULL)) != NULL &&
	    EVP_PKEY_sign_init(pc) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
	    EVP_PKEY_sign(pc, sig, siglen, dg, 32) == 1)
		r = 0;
	EVP_PKEY_CTX_free(pc);
	return r;
}

int
dkim_sign(const char *msg, size_t len, const struct dkim_sign_params *p,
    struct buf *out, char *why, size_t wlen)
{
	struct field f[DKIM_FIELDS_MAX];
	const char *hn[DKIM_H_MAX], *const *names;
	size_t hl[DKIM_H_MAX], nh = 0, nf, hlen, i, k, cnt, from = 0;
	unsigned char bh[EVP_MAX_MD_SIZE], dg[EVP_MAX_MD_SIZE];
	unsigned char sig[DKIM_SIG_BYTES_MAX];
	char b64[BASE64_ENCODED_SIZE(DKIM_SIG_BYTES_MAX)], tmp[300];
	struct dkim_body body;
	struct buf sb;
	struct fold fo;
	size_t siglen = sizeof(sig);
	unsigned bhl;
	int id, ok;

	if (!name_ok(p->domain, strlen(p->domain), 253) ||
	    !name_ok(p->selector, strlen(p->selector), 63) ||
	    strlen(p->selector) + strlen(p->domain) + 13 >= DKIM_QUERY_MAX) {
		snprintf(why, wlen, "bad domain or selector");
		return -1;
	}
	id = EVP_PKEY_base_id(p->key);
	if ((p->alg == DKIM_ALG_RSA_SHA256 && (id != EVP_PKEY_RSA ||
	    EVP_PKEY_bits(p->key) < 1024)) ||
	    (p->alg == DKIM_ALG_ED25519_SHA256 && id != EVP_PKEY_ED25519) ||
	    p->alg == DKIM_ALG_RSA_SHA1 ||
	    EVP_PKEY_size(p->key) > DKIM_SIG_BYTES_MAX) {
		snprintf(why, wlen, "the key does not fit the algorithm");
		return -1;
	}
	hlen = dkim_header_len(msg, len);
	nf = split_fields(msg, hlen, f, DKIM_FIELDS_MAX);
	if (nf == DKIM_FIELDS_MAX && f[nf - 1].p + f[nf - 1].len < msg + hlen &&
	    f[nf - 1].p[f[nf - 1].len] != '\r') {
		/* A verifier would see fields we did not. */
		snprintf(why, wlen, "more than %d header fields",
		    DKIM_FIELDS_MAX);
		return -1;
	}
	names = p->headers ? p->headers : dkim_default_headers;
	for (i = 0; names[i] != NULL; i++) {
		size_t nl = strlen(names[i]);

		for (cnt = 0, k = 0; k < nf; k++)
			cnt += field_is(&f[k], names[i], nl);
		if (strcasecmp(names[i], "From") == 0)
			from = cnt;
		cnt += in_list(p->oversign ? p->oversign :
		    dkim_default_oversign, names[i]);
		for (; cnt > 0; cnt--) {
			if (nh == DKIM_H_MAX) {
				snprintf(why, wlen, "too many header fields "
				    "to sign");
				return -1;
			}
			hn[nh] = names[i];
			hl[nh++] = nl;
		}
	}
	if (from == 0) {
		snprintf(why, wlen, "the message has no From: field");
		return -1;
	}

	if (dkim_body_init(&body, p->bcanon, EVP_sha256(), -1, NULL) == -1) {
		snprintf(why, wlen, "cannot hash");
		return -1;
	}
	dkim_body_feed(&body, msg + hlen, len - hlen);
	if (dkim_body_final(&body, bh, &bhl) == -1) {
		snprintf(why, wlen, "cannot hash");
		return -1;
	}

	buf_init(&sb, DKIM_TAGLIST_MAX);
	fo.b = &sb;
	fo.col = 0;
	fo.err = 0;
	fold_raw(&fo, "DKIM-Signature:", 15);
	fold_word(&fo, "v=1;", 4);
	fold_word(&fo, p->alg == DKIM_ALG_RSA_SHA256 ? "a=rsa-sha256;" :
	    "a=ed25519-sha256;", p->alg == DKIM_ALG_RSA_SHA256 ? 13 : 17);
	(void)xsnprintf(tmp, sizeof(tmp), "c=%s/%s;",
	    p->hcanon == DKIM_CANON_RELAXED ? "relaxed" : "simple",
	    p->bcanon == DKIM_CANON_RELAXED ? "relaxed" : "simple");
	fold_word(&fo, tmp, strlen(tmp));
	(void)xsnprintf(tmp, sizeof(tmp), "d=%s;", p->domain);
	fold_word(&fo, tmp, strlen(tmp));
	(void)xsnprintf(tmp, sizeof(tmp), "s=%s;", p->selector);
	fold_word(&fo, tmp, strlen(tmp));
	(void)xsnprintf(tmp, sizeof(tmp), "t=%lld;", (long long)p->now);
	fold_word(&fo, tmp, strlen(tmp));
	if (p->body_length) {
		(void)xsnprintf(tmp, sizeof(tmp), "l=%llu;",
		    (unsigned long long)body.total);
		fold_word(&fo, tmp, strlen(tmp));
	}
	for (i = 0; i < nh; i++) {
		int last = i + 1 == nh;

		(void)xsnprintf(tmp, sizeof(tmp), "%s%.*s%s", i ? ":" : "h=",
		    (int)hl[i], hn[i], last ? ";" : "");
		if (i == 0)
			fold_word(&fo, tmp, strlen(tmp));
		else {
			if (fo.col + strlen(tmp) > DKIM_FOLD_COLUMN)
				fold_break(&fo);
			fold_raw(&fo, tmp, strlen(tmp));
		}
	}
	(void)base64_encode(b64, sizeof(b64), bh, bhl);
	if (fo.col + 1 + 3 + 8 > DKIM_FOLD_COLUMN)
		fold_break(&fo);
	else
		fold_raw(&fo, " ", 1);
	fold_raw(&fo, "bh=", 3);
	fold_b64(&fo, b64, strlen(b64));
	fold_raw(&fo, ";", 1);
	if (fo.col + 1 + 2 + 8 > DKIM_FOLD_COLUMN)
		fold_break(&fo);
	else
		fold_raw(&fo, " ", 1);
	fold_raw(&fo, "b=", 2);
	if (fo.err) {
		buf_free(&sb);
		snprintf(why, wlen, "signature field too long");
		return -1;
	}

	ok = header_hash(f, nf, hn, hl, nh, p->hcanon, sb.data, sb.len,
	    dg) == 0 && sign_digest(p->key, p->alg, dg, sig, &siglen) == 0;
	OPENSSL_cleanse(dg, sizeof(dg));
	if (!ok) {
		buf_free(&sb);
		snprintf(why, wlen, "signing failed");
		return -1;
	}
	(void)base64_encode(b64, sizeof(b64), sig, siglen);
	fold_b64(&fo, b64, strlen(b64));
	fold_raw(&fo, "\r\n", 2);
	if (fo.err || buf_append(out, sb.data, sb.len) == -1) {
		buf_free(&sb);
		snprintf(why, wlen, "signature field too long");
		return -1;
	}
	buf_free(&sb);
	return 0;
}

/* ---- verification ------------------------------------------------- */

const char *
dkim_result_name(enum dkim_result r)
{
	switch (r) {
	case DKIM_PASS:		return "pass";
	case DKIM_FAIL:		return "fail";
	case DKIM_NEUTRAL:	return "neutral";
	case DKIM_PERMERROR:	return "permerror";
	case DKIM_TEMPERROR:	return "temperror";
	case DKIM_PENDING:	break;
	}
	return "none";
}

static void
decide(struct dkim_sig *s, enum dkim_result r, const char *reason)
{
	if (s->result != DKIM_PENDING)
		return;
	s->result = r;
	(void)xsnprintf(s->reason, sizeof(s->reason), "%s", reason);
	dkim_body_free(&s->body);
}

static int
tag_number(const struct dkim_tag *t, uint64_t max, int64_t *out)
{
	uint64_t u;

	if (parse_decimal(t->value, t->value_len, max, &u) == -1)
		return -1;
	*out = (int64_t)u;
	return 0;
}

/* The header-field names of h= into hn/hl. -1 on a bad name or too many. */
static int
h_split(const struct dkim_tag *t, const char **hn, size_t *hl, size_t *nh)
{
	const char *s = t->value, *e = t->value + t->value_len, *st;
	size_t n = 0;

	for (;;) {
		while (s < e && isspace((unsigned char)*s))
			s++;
		st = s;
		/* field-name = 1*ftext; ftext %d33-57 / %d59-126 */
		while (s < e && (unsigned char)*s >= 33 &&
		    (unsigned char)*s <= 126 && *s != ':')
			s++;
		if (s == st || n == DKIM_H_MAX)
			return -1;
		hn[n] = st;
		hl[n++] = (size_t)(s - st);
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (s == e)
			break;
		if (*s != ':')
			return -1;
		s++;
	}
	*nh = n;
	return 0;
}

static void
parse_sig(struct dkim_verify *v, struct dkim_sig *s, const struct field *sf,
    const struct field *f, size_t nf)
{
	const struct dkim_tag *t, *tb;
	struct dkim_taglist tl;
	const char *val, *hn[DKIM_H_MAX], *at, *slash;
	size_t hl[DKIM_H_MAX], nh, vlen, i, dl;
	char *copy;
	int from, hashed;

	memset(s, 0, sizeof(*s));
	s->result = DKIM_PENDING;
	s->length = s->timestamp = s->expires = -1;
	val = (const char *)memchr(sf->p, ':', sf->len) + 1;
	vlen = sf->len - (size_t)(val - sf->p);
	if (vlen >= 2 && val[vlen - 2] == '\r' && val[vlen - 1] == '\n')
		vlen -= 2;
	if (dkim_tags_parse(val, vlen, &tl) == -1) {
		decide(s, DKIM_PERMERROR, "malformed signature tag list");
		return;
	}
	if ((t = dkim_tags_find(&tl, "d")) != NULL && t->value_len > 0 &&
	    t->value_len < sizeof(s->domain)) {
		for (i = 0; i < t->value_len; i++)
			s->domain[i] = (char)tolower((unsigned char)t->value[i]);
	}
	if ((t = dkim_tags_find(&tl, "s")) != NULL && t->value_len > 0 &&
	    t->value_len < sizeof(s->selector))
		memcpy(s->selector, t->value, t->value_len);
	if ((t = dkim_tags_find(&tl, "v")) == NULL) {
		decide(s, DKIM_PERMERROR, "no v= tag");
		return;
	}
	if (!tag_is(t, "1")) {
		decide(s, DKIM_NEUTRAL, "unknown signature version");
		return;
	}
	t = dkim_tags_find(&tl, "a");
	if (t == NULL) {
		decide(s, DKIM_PERMERROR, "no a= tag");
		return;
	}
	if (tag_is(t, "rsa-sha256"))
		s->alg = DKIM_ALG_RSA_SHA256;
	else if (tag_is(t, "ed25519-sha256"))
		s->alg = DKIM_ALG_ED25519_SHA256;
	else if (tag_is(t, "rsa-sha1")) {
		s->alg = DKIM_ALG_RSA_SHA1;
		decide(s, DKIM_FAIL, "rsa-sha1 is not accepted (RFC 8301)");
		return;
	} else {
		decide(s, DKIM_NEUTRAL, "unknown algorithm");
		return;
	}
	if ((tb = dkim_tags_find(&tl, "b")) == NULL ||
	    (t = dkim_tags_find(&tl, "bh")) == NULL ||
	    dkim_tags_find(&tl, "d") == NULL ||
	    dkim_tags_find(&tl, "h") == NULL ||
	    dkim_tags_find(&tl, "s") == NULL) {
		decide(s, DKIM_PERMERROR, "a required tag (b bh d h s) is "
		    "missing");
		return;
	}
	if (b64_fws_decode(tb->value, tb->value_len, s->sig, sizeof(s->sig),
	    &s->sig_len) == -1 || s->sig_len == 0 ||
	    b64_fws_decode(t->value, t->value_len, s->bh, sizeof(s->bh),
	    &s->bh_len) == -1 || s->bh_len != 32) {
		decide(s, DKIM_PERMERROR, "bad b= or bh=");
		return;
	}
	t = dkim_tags_find(&tl, "c");
	s->hcanon = s->bcanon = DKIM_CANON_SIMPLE;
	if (t != NULL) {
		slash = memchr(t->value, '/', t->value_len);
		dl = slash ? (size_t)(slash - t->value) : t->value_len;
		if (dl == 7 && memcmp(t->value, "relaxed", 7) == 0)
			s->hcanon = DKIM_CANON_RELAXED;
		else if (!(dl == 6 && memcmp(t->value, "simple", 6) == 0)) {
			decide(s, DKIM_NEUTRAL, "unknown canonicalisation");
			return;
		}
		if (slash != NULL) {
			size_t bl = t->value_len - dl - 1;

			if (bl == 7 && memcmp(slash + 1, "relaxed", 7) == 0)
				s->bcanon = DKIM_CANON_RELAXED;
			else if (!(bl == 6 &&
			    memcmp(slash + 1, "simple", 6) == 0)) {
				decide(s, DKIM_NEUTRAL,
				    "unknown canonicalisation");
				return;
			}
		}
	}
	t = dkim_tags_find(&tl, "d");
	if (!name_ok(t->value, t->value_len, 253)) {
		decide(s, DKIM_PERMERROR, "bad d= domain");
		return;
	}
	t = dkim_tags_find(&tl, "s");
	if (!name_ok(t->value, t->value_len, 63)) {
		decide(s, DKIM_PERMERROR, "bad s= selector");
		return;
	}
	if (xsnprintf(s->query, sizeof(s->query), "%s._domainkey.%s",
	    s->selector, s->domain) == -1) {
		s->query[0] = '\0';
		decide(s, DKIM_PERMERROR, "key record name too long");
		return;
	}
	if (h_split(dkim_tags_find(&tl, "h"), hn, hl, &nh) == -1) {
		decide(s, DKIM_PERMERROR, "bad h= list");
		return;
	}
	for (from = 0, i = 0; i < nh; i++)
		if (hl[i] == 4 && strncasecmp(hn[i], "from", 4) == 0)
			from = 1;
	if (!from) {
		decide(s, DKIM_PERMERROR, "h= does not include From");
		return;
	}
	if ((t = dkim_tags_find(&tl, "i")) != NULL) {
		size_t il;

		at = memchr(t->value, '@', t->value_len);
		if (at == NULL || t->value_len >= sizeof(s->identity)) {
			decide(s, DKIM_PERMERROR, "bad i= identity");
			return;
		}
		il = t->value_len - (size_t)(at + 1 - t->value);
		dl = strlen(s->domain);
		if (!(il == dl && strncasecmp(at + 1, s->domain, dl) == 0) &&
		    !(il > dl && at[il - dl] == '.' &&
		    strncasecmp(at + 1 + il - dl, s->domain, dl) == 0)) {
			decide(s, DKIM_PERMERROR, "i= is not within d=");
			return;
		}
		memcpy(s->identity, t->value, t->value_len);
	} else
		(void)xsnprintf(s->identity, sizeof(s->identity), "@%s",
		    s->domain);
	if ((t = dkim_tags_find(&tl, "q")) != NULL &&
	    !list_has(t->value, t->value_len, "dns/txt")) {
		decide(s, DKIM_NEUTRAL, "unknown query method");
		return;
	}
	if (((t = dkim_tags_find(&tl, "l")) != NULL &&
	    tag_number(t, INT64_MAX / 2, &s->length) == -1) ||
	    ((t = dkim_tags_find(&tl, "t")) != NULL &&
	    tag_number(t, DKIM_TIME_MAX, &s->timestamp) == -1) ||
	    ((t = dkim_tags_find(&tl, "x")) != NULL &&
	    tag_number(t, DKIM_TIME_MAX, &s->expires) == -1)) {
		decide(s, DKIM_PERMERROR, "bad l=, t= or x=");
		return;
	}
	if (s->expires >= 0 && s->timestamp >= 0 &&
	    s->expires < s->timestamp) {
		decide(s, DKIM_PERMERROR, "x= is before t=");
		return;
	}
	if (s->expires >= 0 && v->now > s->expires) {
		decide(s, DKIM_FAIL, "signature expired");
		return;
	}

	/* The signature field with b='s value taken out. */
	copy = xcalloc(1, sf->len);
	dl = (size_t)(tb->raw - sf->p);
	memcpy(copy, sf->p, dl);
	memcpy(copy + dl, tb->raw + tb->raw_len, (size_t)(val + vlen -
	    (tb->raw + tb->raw_len)));
	dl += (size_t)(val + vlen - (tb->raw + tb->raw_len));
	hashed = header_hash(f, nf, hn, hl, nh, s->hcanon, copy, dl,
	    s->hhash);
	free(copy);
	if (hashed == -1) {
		decide(s, DKIM_TEMPERROR, "cannot hash");
		return;
	}
	if (dkim_body_init(&s->body, s->bcanon, EVP_sha256(), s->length,
	    NULL) == -1)
		decide(s, DKIM_TEMPERROR, "cannot hash");
}

int
dkim_verify_begin(struct dkim_verify *v, const char *header, size_t hlen,
    int64_t now)
{
	struct field f[DKIM_FIELDS_MAX];
	size_t nf, i;

	memset(v, 0, sizeof(*v));
	v->now = now;
	nf = split_fields(header, hlen, f, DKIM_FIELDS_MAX);
	for (i = 0; i < nf; i++) {
		if (!field_is(&f[i], "DKIM-Signature", 14))
			continue;
		if (v->n == DKIM_SIGS_MAX) {
			v->skipped++;
			continue;
		}
		parse_sig(v, &v->sigs[v->n++], &f[i], f, nf);
	}
	return 0;
}

void
dkim_verify_body(struct dkim_verify *v, const void *p, size_t n)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->sigs[i].result == DKIM_PENDING && v->sigs[i].body.md)
			dkim_body_feed(&v->sigs[i].body, p, n);
}

static int
verify_digest(EVP_PKEY *key, enum dkim_alg alg, const unsigned char *dg,
    const unsigned char *sig, size_t siglen)
{
	EVP_PKEY_CTX *pc = NULL;
	EVP_MD_CTX *mc = NULL;
	int r = 0;

	if (alg == DKIM_ALG_ED25519_SHA256) {
		if ((mc = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestVerifyInit(mc, NULL, NULL, NULL, key) == 1 &&
		    EVP_DigestVerify(mc, sig, siglen, dg, 32) == 1)
			r = 1;
		EVP_MD_CTX_free(mc);
		return r;
	}
	if ((pc = EVP_PKEY_CTX_new(key, NULL)) != NULL &&
	    EVP_PKEY_verify_init(pc) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
	    EVP_PKEY_verify(pc, sig, siglen, dg, 32) == 1)
		r = 1;
	EVP_PKEY_CTX_free(pc);
	return r;
}

static void
try_finish(struct dkim_sig *s)
{
	if (s->result != DKIM_PENDING || !s->body_done || !s->key_done)
		return;
	if (verify_digest(s->key, s->alg, s->hhash, s->sig, s->sig_len))
		decide(s, DKIM_PASS, s->unsigned_tail ? "good signature, "
		    "body longer than l=" : "good signature");
	else
		decide(s, DKIM_FAIL, "signature does not verify");
}

void
dkim_verify_body_end(struct dkim_verify *v)
{
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned dl;
	size_t i;

	for (i = 0; i < v->n; i++) {
		struct dkim_sig *s = &v->sigs[i];

		if (s->result != DKIM_PENDING || s->body.md == NULL)
			continue;
		if (dkim_body_final(&s->body, dg, &dl) == -1) {
			decide(s, DKIM_TEMPERROR, "cannot hash");
			continue;
		}
		s->body_done = 1;
		if (s->length >= 0 && s->body.total < (uint64_t)s->length) {
			decide(s, DKIM_FAIL, "body shorter than l=");
			continue;
		}
		if (s->length >= 0 && s->body.total > (uint64_t)s->length)
			s->unsigned_tail = 1;
		if (dl != s->bh_len || CRYPTO_memcmp(dg, s->bh, dl) != 0) {
			decide(s, DKIM_FAIL, "body hash mismatch");
			continue;
		}
		try_finish(s);
	}
}

EVP_PKEY *
dkim_key_record_parse(const char *txt, size_t len, enum dkim_alg alg,
    char *why, size_t wlen)
{
	unsigned char der[DKIM_KEY_BYTES_MAX];
	const unsigned char *dp;
	const struct dkim_tag *t;
	struct dkim_taglist tl;
	EVP_PKEY *k = NULL;
	size_t dlen;
	int ed;

	if (dkim_tags_parse(txt, len, &tl) == -1) {
		snprintf(why, wlen, "malformed key record");
		return NULL;
	}
	if ((t = dkim_tags_find(&tl, "v")) != NULL &&
	    (t != &tl.tags[0] || !tag_is(t, "DKIM1"))) {
		snprintf(why, wlen, "key record v= is not DKIM1 first");
		return NULL;
	}
	if ((t = dkim_tags_find(&tl, "h")) != NULL &&
	    !list_has(t->value, t->value_len, "sha256")) {
		snprintf(why, wlen, "key record does not allow sha256");
		return NULL;
	}
	if ((t = dkim_tags_find(&tl, "s")) != NULL &&
	    !list_has(t->value, t->value_len, "*") &&
	    !list_has(t->value, t->value_len, "email")) {
		snprintf(why, wlen, "key record is not for email");
		return NULL;
	}
	t = dkim_tags_find(&tl, "k");
	if (t == NULL || tag_is(t, "rsa"))
		ed = 0;
	else if (tag_is(t, "ed25519"))
		ed = 1;
	else {
		snprintf(why, wlen, "unknown key type");
		return NULL;
	}
	if (ed != (alg == DKIM_ALG_ED25519_SHA256)) {
		snprintf(why, wlen, "key type does not match a=");
		return NULL;
	}
	if ((t = dkim_tags_find(&tl, "p")) == NULL) {
		snprintf(why, wlen, "key record has no p=");
		return NULL;
	}
	if (t->value_len == 0) {
		snprintf(why, wlen, "key revoked (empty p=)");
		return NULL;
	}
	if (b64_fws_decode(t->value, t->value_len, der, sizeof(der),
	    &dlen) == -1) {
		snprintf(why, wlen, "bad p= base64");
		return NULL;
	}
	if (ed) {
		if (dlen == 32)
			k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
			    der, dlen);
	} else {
		dp = der;
		k = d2i_PUBKEY(NULL, &dp, (long)dlen);
		if (k != NULL && dp != der + dlen) {
			EVP_PKEY_free(k);
			k = NULL;
		}
		if (k == NULL) {	/* a bare RSAPublicKey, as some publish */
			dp = der;
			k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &dp, (long)dlen);
		}
		if (k != NULL && EVP_PKEY_base_id(k) != EVP_PKEY_RSA) {
			EVP_PKEY_free(k);
			k = NULL;
		}
		if (k != NULL && EVP_PKEY_bits(k) < 1024) {
			EVP_PKEY_free(k);
			snprintf(why, wlen, "RSA key shorter than 1024 bits");
			return NULL;
		}
	}
	if (k == NULL)
		snprintf(why, wlen, "p= is not a public key");
	return k;
}

void
dkim_verify_key(struct dkim_verify *v, size_t i, enum outcome dns,
    const char *txt, size_t len)
{
	struct dkim_sig *s;
	char why[96];

	if (i >= v->n)
		return;
	s = &v->sigs[i];
	if (s->result != DKIM_PENDING || s->key_done)
		return;
	if (dns == OUTCOME_TEMP) {
		decide(s, DKIM_TEMPERROR, "key lookup failed temporarily");
		return;
	}
	if (dns != OUTCOME_OK) {
		decide(s, DKIM_PERMERROR, "no key record");
		return;
	}
	if ((s->key = dkim_key_record_parse(txt, len, s->alg, why,
	    sizeof(why))) == NULL) {
		decide(s, DKIM_PERMERROR, why);
		return;
	}
	s->key_done = 1;
	try_finish(s);
}

void
dkim_verify_free(struct dkim_verify *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		dkim_body_free(&v->sigs[i].body);
		EVP_PKEY_free(v->sigs[i].key);
		v->sigs[i].key = NULL;
	}
}

int
dkim_verify_message(struct dkim_verify *v, const char *msg, size_t len,
    int64_t now)
{
	size_t hlen = dkim_header_len(msg, len);

	if (dkim_verify_begin(v, msg, hlen, now) == -1)
		return -1;
	dkim_verify_body(v, msg + hlen, len - hlen);
	dkim_verify_body_end(v);
	return 0;
}

int
dkim_crlf(const char *in, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r') &&
		    buf_appendc(out, '\r') == -1)
			return -1;
		if (buf_appendc(out, in[i]) == -1)
			return -1;
	}
	return 0;
}
