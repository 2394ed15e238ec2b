/* scram - SCRAM-SHA-256 verifiers and the server side of the exchange;
 * see scram.h.
 *
 * Messages are parsed in place as comma-separated "x=value" attributes
 * in the order RFC 5802 section 7 fixes. The AuthMessage is built in a
 * stack buffer (client-first-bare "," server-first "," client-final-
 * without-proof), HMAC'ed once for the client signature and, only when the
 * proof is right, once more for the server signature. Secrets
 * (SaltedPassword, ClientKey, signatures, the keys of a finished exchange)
 * are wiped with OPENSSL_cleanse on every path. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base64.h"
#include "decimal.h"
#include "scram.h"

#define AUTHMSG_MAX	(SCRAM_MSG_MAX + SCRAM_SERVER_FIRST_MAX + \
			    SCRAM_MSG_MAX + 2)
#define PREFIX		"SCRAM-SHA-256$"

const char *
scram_status_str(enum scram_status st)
{
	switch (st) {
	case SCRAM_OK:		return "ok";
	case SCRAM_MALFORMED:	return "malformed message";
	case SCRAM_UNSUPPORTED:	return "unsupported channel binding or "
				    "extension";
	case SCRAM_AUTHZID:	return "authorization identity differs from "
				    "user";
	case SCRAM_TOOLONG:	return "message too long";
	case SCRAM_BAD_PROOF:	return "invalid proof";
	case SCRAM_SEQUENCE:	return "out of sequence";
	case SCRAM_INTERNAL:	return "internal error";
	}
	return "?";
}

/* --- primitives ------------------------------------------------------ */

static int
hmac256(const void *key, size_t keylen, const void *d, size_t n,
    unsigned char out[SCRAM_KEY_LEN])
{
	unsigned int ol = 0;

	if (keylen > INT32_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, d, n, out, &ol) == NULL ||
	    ol != SCRAM_KEY_LEN)
		return -1;
	return 0;
}

static int
sha256(const void *d, size_t n, unsigned char out[SCRAM_KEY_LEN])
{
	unsigned int ol = 0;

	if (EVP_Digest(d, n, out, &ol, EVP_sha256(), NULL) != 1 ||
	    ol != SCRAM_KEY_LEN)
		return -1;
	return 0;
}

/* ClientKey and ServerKey from a password. */
static int
derive(const char *pw, size_t pwlen, const unsigned char *salt,
    size_t saltlen, unsigned iterations, unsigned char ck[SCRAM_KEY_LEN],
    unsigned char sk[SCRAM_KEY_LEN])
{
	unsigned char salted[SCRAM_KEY_LEN];
	int rc = -1;

	if (pwlen > INT32_MAX || saltlen > INT32_MAX || iterations > INT32_MAX)
		return -1;
	if (PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)saltlen,
	    (int)iterations, EVP_sha256(), SCRAM_KEY_LEN, salted) != 1)
		goto done;
	if (hmac256(salted, sizeof(salted), "Client Key", 10, ck) == -1 ||
	    hmac256(salted, sizeof(salted), "Server Key", 10, sk) == -1)
		goto done;
	rc = 0;
done:
	OPENSSL_cleanse(salted, sizeof(salted));
	return rc;
}

/* --- verifiers ------------------------------------------------------- */

int
scram_verifier_make(struct scram_verifier *v, const char *pw, size_t pwlen,
    const unsigned char *salt, size_t saltlen, unsigned iterations)
{
	unsigned char ck[SCRAM_KEY_LEN];
	int rc = -1;

	memset(v, 0, sizeof(*v));
	if (pw == NULL || salt == NULL || saltlen < SCRAM_SALT_MIN ||
	    saltlen > SCRAM_SALT_MAX || iterations < SCRAM_ITER_MIN ||
	    iterations > SCRAM_ITER_MAX)
		return -1;
	if (derive(pw, pwlen, salt, saltlen, iterations, ck,
	    v->server_key) == -1 || sha256(ck, sizeof(ck), v->stored_key) == -1)
		goto done;
	memcpy(v->salt, salt, saltlen);
	v->saltlen = saltlen;
	v->iterations = iterations;
	rc = 0;
done:
	OPENSSL_cleanse(ck, sizeof(ck));
	if (rc == -1)
		OPENSSL_cleanse(v, sizeof(*v));
	return rc;
}

long
scram_verifier_format(const struct scram_verifier *v, char *dst,
    size_t dstlen)
{
	char salt[BASE64_ENCODED_SIZE(SCRAM_SALT_MAX)];
	char st[BASE64_ENCODED_SIZE(SCRAM_KEY_LEN)];
	char sv[BASE64_ENCODED_SIZE(SCRAM_KEY_LEN)];
	int n;

	if (dstlen > 0)
		dst[0] = '\0';
	if (v->saltlen < SCRAM_SALT_MIN || v->saltlen > SCRAM_SALT_MAX ||
	    v->iterations < SCRAM_ITER_MIN || v->iterations > SCRAM_ITER_MAX)
		return -1;
	base64_encode(salt, sizeof(salt), v->salt, v->saltlen);
	base64_encode(st, sizeof(st), v->stored_key, SCRAM_KEY_LEN);
	base64_encode(sv, sizeof(sv), v->server_key, SCRAM_KEY_LEN);
	n = snprintf(dst, dstlen, PREFIX "%u:%s$%s:%s", v->iterations, salt,
	    st, sv);
	if (n < 0 || (size_t)n >= dstlen) {
		if (dstlen > 0)
			dst[0] = '\0';
		return -1;
	}
	return n;
}

/* Decimal without sign or leading zero, within [lo, hi]. */
static int
parse_uint(const char *p, size_t n, unsigned lo, unsigned hi, unsigned *r)
{
	uint64_t v;

	if (n > 1 && p[0] == '0')
		return -1;
	if (parse_decimal(p, n, hi, &v) == -1 || v < lo)
		return -1;
	*r = (unsigned)v;
	return 0;
}

/* Decode base64 into exactly [min, max] octets. */
static int
b64_field(const char *p, size_t n, unsigned char *dst, size_t min,
    size_t max, size_t *len_r)
{
	size_t got;

	if (base64_decode(dst, max, &got, p, n) != BASE64_OK || got < min)
		return -1;
	*len_r = got;
	return 0;
}

int
scram_verifier_parse(struct scram_verifier *v, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *colon, *dollar, *colon2;
	size_t n;

	memset(v, 0, sizeof(*v));
	if (len >= SCRAM_VERIFIER_MAX || len < sizeof(PREFIX) - 1 ||
	    memcmp(p, PREFIX, sizeof(PREFIX) - 1) != 0)
		goto bad;
	p += sizeof(PREFIX) - 1;
	if ((colon = memchr(p, ':', (size_t)(end - p))) == NULL ||
	    parse_uint(p, (size_t)(colon - p), SCRAM_ITER_MIN, SCRAM_ITER_MAX,
	    &v->iterations) == -1)
		goto bad;
	p = colon + 1;
	if ((dollar = memchr(p, '$', (size_t)(end - p))) == NULL ||
	    b64_field(p, (size_t)(dollar - p), v->salt, SCRAM_SALT_MIN,
	    SCRAM_SALT_MAX, &v->saltlen) == -1)
		goto bad;
	p = dollar + 1;
	if ((colon2 = memchr(p, ':', (size_t)(end - p))) == NULL ||
	    b64_field(p, (size_t)(colon2 - p), v->stored_key, SCRAM_KEY_LEN,
	    SCRAM_KEY_LEN, &n) == -1)
		goto bad;
	p = colon2 + 1;
	if (b64_field(p, (size_t)(end - p), v->server_key, SCRAM_KEY_LEN,
	    SCRAM_KEY_LEN, &n) == -1)
		goto bad;
	return 0;
bad:
	OPENSSL_cleanse(v, sizeof(*v));
	return -1;
}

/* HMAC-SHA-256(key, label || 0 || user) */
static int
fake_part(const unsigned char *key, size_t keylen, const char *label,
    const char *user, size_t userlen, unsigned char out[SCRAM_KEY_LEN])
{
	unsigned char d[16 + SCRAM_NAME_MAX + 1];
	size_t ll = strlen(label);

	if (ll + 1 + userlen > sizeof(d))
		return -1;
	memcpy(d, label, ll);
	d[ll] = '\0';
	memcpy(d + ll + 1, user, userlen);
	return hmac256(key, keylen, d, ll + 1 + userlen, out);
}

int
scram_verifier_fake(struct scram_verifier *v, const unsigned char *key,
    size_t keylen, const char *user, size_t userlen)
{
	unsigned char salt[SCRAM_KEY_LEN];

	memset(v, 0, sizeof(*v));
	if (userlen > SCRAM_NAME_MAX ||
	    fake_part(key, keylen, "salt", user, userlen, salt) == -1 ||
	    fake_part(key, keylen, "stored", user, userlen,
	    v->stored_key) == -1 ||
	    fake_part(key, keylen, "server", user, userlen,
	    v->server_key) == -1) {
		OPENSSL_cleanse(v, sizeof(*v));
		return -1;
	}
	memcpy(v->salt, salt, SCRAM_SALT_LEN);
	v->saltlen = SCRAM_SALT_LEN;
	v->iterations = SCRAM_ITER_DEFAULT;
	OPENSSL_cleanse(salt, sizeof(salt));
	return 0;
}

/* --- message parsing -------------------------------------------------- */

/* The end of the attribute starting at p: the next ',' or end. */
static const char *
attr_end(const char *p, const char *end)
{
	const char *c = memchr(p, ',', (size_t)(end - p));

	return c ? c : end;
}

/* RFC 5802 printable: %x21-2B / %x2D-7E (no ','). */
static int
printable(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e ||
		    p[i] == ',')
			return 0;
	return 1;
}

/* saslname: unescape "=2C" and "=3D"; no other '='; no controls; 1..max
 * octets after unescaping. 0, or a status. */
static enum scram_status
saslname(const char *p, size_t n, char *out, size_t outsize)
{
	size_t i, o = 0;

	if (n == 0)
		return SCRAM_MALFORMED;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		char ch = (char)c;

		if (c < 0x20 || c == 0x7f)
			return SCRAM_MALFORMED;
		if (c == '=') {
			if (n - i >= 3 && p[i + 1] == '2' && p[i + 2] == 'C')
				ch = ',';
			else if (n - i >= 3 && p[i + 1] == '3' &&
			    p[i + 2] == 'D')
				ch = '=';
			else
				return SCRAM_MALFORMED;
			i += 2;
		}
		if (o + 1 >= outsize)
			return SCRAM_TOOLONG;
		out[o++] = ch;
	}
	out[o] = '\0';
	return SCRAM_OK;
}

/* Optional extensions after the nonce: ("," ALPHA "=" 1*value-char)*,
 * value-char anything but ',' (NUL is refused for the whole message).
 * The attributes RFC 5802 defines never pass as extensions: a second
 * "p=" or "r=" is an error, not something to ignore. */
static int
extensions(const char *p, const char *end)
{
	static const char known[] = "acemnprsiv";

	const char *e;

	while (p < end) {
		if (*p != ',')
			return -1;
		p++;
		e = attr_end(p, end);
		if (e - p < 3 || p[1] != '=' ||
		    !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' &&
		    p[0] <= 'Z')) || strchr(known, p[0]) != NULL)
			return -1;
		p = e;
	}
	return 0;
}

enum scram_status
scram_client_first_parse(struct scram_client_first *cf, const char *msg,
    size_t len)
{
	const char *p = msg, *end = msg + len, *e, *bare;
	char authzid[SCRAM_NAME_MAX + 1];
	enum scram_status st;
	int have_authzid = 0;

	memset(cf, 0, sizeof(*cf));
	if (len > SCRAM_MSG_MAX)
		return SCRAM_TOOLONG;
	if (len == 0 || memchr(msg, '\0', len) != NULL)
		return SCRAM_MALFORMED;
	/* gs2-cbind-flag */
	if (*p == 'p')
		return SCRAM_UNSUPPORTED;
	if (*p != 'n' && *p != 'y')
		return SCRAM_MALFORMED;
	cf->cbind = *p++;
	if (p == end || *p++ != ',')
		return SCRAM_MALFORMED;
	/* [authzid] */
	if (p < end && *p != ',') {
		if (end - p < 2 || p[0] != 'a' || p[1] != '=')
			return SCRAM_MALFORMED;
		e = attr_end(p + 2, end);
		if ((st = saslname(p + 2, (size_t)(e - p - 2), authzid,
		    sizeof(authzid))) != SCRAM_OK)
			return st;
		have_authzid = 1;
		p = e;
	}
	if (p == end || *p++ != ',')
		return SCRAM_MALFORMED;
	bare = p;
	cf->gs2len = (size_t)(bare - msg);
	cf->barelen = (size_t)(end - bare);
	/* [reserved-mext ","]: a mandatory extension we do not know. */
	if (p < end && *p == 'm')
		return SCRAM_UNSUPPORTED;
	/* username */
	if (end - p < 2 || p[0] != 'n' || p[1] != '=')
		return SCRAM_MALFORMED;
	e = attr_end(p + 2, end);
	if ((st = saslname(p + 2, (size_t)(e - p - 2), cf->user,
	    sizeof(cf->user))) != SCRAM_OK)
		return st;
	p = e;
	/* nonce */
	if (end - p < 3 || p[0] != ',' || p[1] != 'r' || p[2] != '=')
		return SCRAM_MALFORMED;
	p += 3;
	e = attr_end(p, end);
	if (e == p || !printable(p, (size_t)(e - p)))
		return SCRAM_MALFORMED;
	if ((size_t)(e - p) > SCRAM_NONCE_MAX)
		return SCRAM_TOOLONG;
	cf->noncelen = (size_t)(e - p);
	memcpy(cf->nonce, p, cf->noncelen);
	cf->nonce[cf->noncelen] = '\0';
	if (extensions(e, end) == -1)
		return SCRAM_MALFORMED;
	if (have_authzid && strcmp(authzid, cf->user) != 0)
		return SCRAM_AUTHZID;
	return SCRAM_OK;
}

/* --- the server exchange ------------------------------------------------ */

void
scram_server_wipe(struct scram_server *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
	memset(s, 0, sizeof(*s));
}

/* Record the end of an exchange: keys go, state says done. */
static enum scram_status
server_done(struct scram_server *s, enum scram_status st)
{
	scram_server_wipe(s);
	s->state = SCRAM_SERVER_DONE;
	return st;
}

enum scram_status
scram_server_first_nonce(struct scram_server *s, const char *client_first,
    size_t len, const struct scram_verifier *v, const char *snonce,
    size_t snoncelen, char *out, size_t outlen, size_t *outlen_r)
{
	struct scram_client_first cf;
	char salt[BASE64_ENCODED_SIZE(SCRAM_SALT_MAX)];
	enum scram_status st;
	int n;

	*outlen_r = 0;
	if (outlen > 0)
		out[0] = '\0';
	if (s->state != SCRAM_SERVER_INIT)
		return server_done(s, SCRAM_SEQUENCE);
	if ((st = scram_client_first_parse(&cf, client_first, len)) !=
	    SCRAM_OK)
		return server_done(s, st);
	if (snonce == NULL || snoncelen < SCRAM_SNONCE_MIN ||
	    snoncelen > SCRAM_SNONCE_MAX || !printable(snonce, snoncelen) ||
	    v == NULL || v->saltlen < SCRAM_SALT_MIN ||
	    v->saltlen > SCRAM_SALT_MAX || v->iterations < SCRAM_ITER_MIN ||
	    v->iterations > SCRAM_ITER_MAX)
		return server_done(s, SCRAM_INTERNAL);
	memset(s, 0, sizeof(*s));
	memcpy(s->user, cf.user, sizeof(s->user));
	memcpy(s->gs2, client_first, cf.gs2len);
	s->gs2len = cf.gs2len;
	memcpy(s->bare, client_first + cf.gs2len, cf.barelen);
	s->barelen = cf.barelen;
	memcpy(s->nonce, cf.nonce, cf.noncelen);
	memcpy(s->nonce + cf.noncelen, snonce, snoncelen);
	s->noncelen = cf.noncelen + snoncelen;
	s->nonce[s->noncelen] = '\0';
	memcpy(s->stored_key, v->stored_key, SCRAM_KEY_LEN);
	memcpy(s->server_key, v->server_key, SCRAM_KEY_LEN);
	base64_encode(salt, sizeof(salt), v->salt, v->saltlen);
	n = snprintf(s->server_first, sizeof(s->server_first),
	    "r=%s,s=%s,i=%u", s->nonce, salt, v->iterations);
	if (n < 0 || (size_t)n >= sizeof(s->server_first) ||
	    (size_t)n >= outlen)
		return server_done(s, SCRAM_INTERNAL);
	s->sflen = (size_t)n;
	memcpy(out, s->server_first, s->sflen + 1);
	*outlen_r = s->sflen;
	s->state = SCRAM_SERVER_FIRST;
	return SCRAM_OK;
}

enum scram_status
scram_server_first(struct scram_server *s, const char *client_first,
    size_t len, const struct scram_verifier *v, const unsigned char *random,
    size_t nrandom, char *out, size_t outlen, size_t *outlen_r)
{
	char snonce[BASE64_ENCODED_SIZE(SCRAM_NONCE_RANDOM_MAX)];
	long n;

	*outlen_r = 0;
	if (outlen > 0)
		out[0] = '\0';
	if (random == NULL || nrandom < SCRAM_NONCE_RANDOM_MIN ||
	    nrandom > SCRAM_NONCE_RANDOM_MAX)
		return server_done(s, SCRAM_INTERNAL);
	/* base64 is printable and has no ',': a valid nonce as it is. */
	n = base64_encode(snonce, sizeof(snonce), random, nrandom);
	if (n < 0)
		return server_done(s, SCRAM_INTERNAL);
	return scram_server_first_nonce(s, client_first, len, v, snonce,
	    (size_t)n, out, outlen, outlen_r);
}

enum scram_status
scram_server_final(struct scram_server *s, const char *client_final,
    size_t len, char *out, size_t outlen, size_t *outlen_r)
{
	const char *p, *end, *e, *last;
	unsigned char cb[SCRAM_MSG_MAX], proof[SCRAM_KEY_LEN + 3];
	unsigned char sig[SCRAM_KEY_LEN], key[SCRAM_KEY_LEN];
	unsigned char h[SCRAM_KEY_LEN];
	char am[AUTHMSG_MAX], v64[BASE64_ENCODED_SIZE(SCRAM_KEY_LEN)];
	size_t n, wplen, amlen, i;
	enum scram_status st = SCRAM_MALFORMED;
	unsigned char diff;

	*outlen_r = 0;
	if (outlen > 0)
		out[0] = '\0';
	if (s->state != SCRAM_SERVER_FIRST)
		return server_done(s, SCRAM_SEQUENCE);
	if (len > SCRAM_MSG_MAX) {
		st = SCRAM_TOOLONG;
		goto done;
	}
	if (len == 0 || memchr(client_final, '\0', len) != NULL)
		goto done;
	p = client_final;
	end = p + len;
	/* The proof is the last attribute. */
	for (last = end; last > p && last[-1] != ','; last--)
		;
	if (last == p || end - last < 2 || last[0] != 'p' || last[1] != '=')
		goto done;
	wplen = (size_t)(last - 1 - p);	/* without ",p=..." */
	if (base64_decode(proof, sizeof(proof), &n, last + 2,
	    (size_t)(end - last - 2)) != BASE64_OK || n != SCRAM_KEY_LEN)
		goto done;
	end = last - 1;
	/* c=base64(gs2 header), exactly. */
	if (end - p < 2 || p[0] != 'c' || p[1] != '=')
		goto done;
	e = attr_end(p + 2, end);
	if (base64_decode(cb, sizeof(cb), &n, p + 2, (size_t)(e - p - 2)) !=
	    BASE64_OK || n != s->gs2len || memcmp(cb, s->gs2, n) != 0)
		goto done;
	p = e;
	/* r=the combined nonce, exactly. */
	if (end - p < 3 || p[0] != ',' || p[1] != 'r' || p[2] != '=')
		goto done;
	p += 3;
	e = attr_end(p, end);
	if ((size_t)(e - p) != s->noncelen || memcmp(p, s->nonce,
	    s->noncelen) != 0)
		goto done;
	if (extensions(e, end) == -1)
		goto done;

	/* AuthMessage */
	amlen = s->barelen + 1 + s->sflen + 1 + wplen;
	if (amlen > sizeof(am)) {
		st = SCRAM_TOOLONG;
		goto done;
	}
	memcpy(am, s->bare, s->barelen);
	am[s->barelen] = ',';
	memcpy(am + s->barelen + 1, s->server_first, s->sflen);
	am[s->barelen + 1 + s->sflen] = ',';
	memcpy(am + s->barelen + 2 + s->sflen, client_final, wplen);

	st = SCRAM_INTERNAL;
	if (hmac256(s->stored_key, SCRAM_KEY_LEN, am, amlen, sig) == -1)
		goto done;
	for (i = 0; i < SCRAM_KEY_LEN; i++)
		key[i] = proof[i] ^ sig[i];
	if (sha256(key, sizeof(key), h) == -1)
		goto done;
	diff = CRYPTO_memcmp(h, s->stored_key, SCRAM_KEY_LEN) != 0;
	if (diff) {
		st = SCRAM_BAD_PROOF;
		goto done;
	}
	if (hmac256(s->server_key, SCRAM_KEY_LEN, am, amlen, sig) == -1)
		goto done;
	n = (size_t)base64_encode(v64, sizeof(v64), sig, SCRAM_KEY_LEN);
	if (outlen < 2 + n + 1)
		goto done;
	memcpy(out, "v=", 2);
	memcpy(out + 2, v64, n + 1);
	*outlen_r = 2 + n;
	st = SCRAM_OK;
done:
	OPENSSL_cleanse(sig, sizeof(sig));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(h, sizeof(h));
	OPENSSL_cleanse(proof, sizeof(proof));
	OPENSSL_cleanse(am, sizeof(am));
	return server_done(s, st);
}

int
scram_client_proof(const char *pw, size_t pwlen, const unsigned char *salt,
    size_t saltlen, unsigned iterations, const char *auth_message,
    size_t amlen, unsigned char proof_r[SCRAM_KEY_LEN],
    unsigned char server_sig_r[SCRAM_KEY_LEN])
{
	unsigned char ck[SCRAM_KEY_LEN], sk[SCRAM_KEY_LEN];
	unsigned char stored[SCRAM_KEY_LEN], sig[SCRAM_KEY_LEN];
	size_t i;
	int rc = -1;

	if (derive(pw, pwlen, salt, saltlen, iterations, ck, sk) == -1 ||
	    sha256(ck, sizeof(ck), stored) == -1 ||
	    hmac256(stored, sizeof(stored), auth_message, amlen, sig) == -1 ||
	    hmac256(sk, sizeof(sk), auth_message, amlen, server_sig_r) == -1)
		goto done;
	for (i = 0; i < SCRAM_KEY_LEN; i++)
		proof_r[i] = ck[i] ^ sig[i];
	rc = 0;
done:
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(sk, sizeof(sk));
	OPENSSL_cleanse(stored, sizeof(stored));
	OPENSSL_cleanse(sig, sizeof(sig));
	return rc;
}
