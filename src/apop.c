/* apop - APOP timestamp and digest check; see apop.h.
 *
 * The digest is compared as 16 raw octets with CRYPTO_memcmp: the client's
 * hex is decoded first (its timing depends only on what the client sent),
 * so nothing about the expected digest leaks through the time the
 * comparison takes. timestamp and secret go into MD5 as two updates; no
 * buffer ever holds the secret next to anything else. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hex.h"
#include "apop.h"

#define MD5_LEN	16


static int
host_valid(const char *host)
{
	size_t i, n = strlen(host);

	if (n == 0 || n > APOP_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c < 0x21 || c > 0x7e || c == '<' || c == '>' || c == '@')
			return 0;
	}
	return 1;
}

int
apop_timestamp(char *dst, size_t dstlen, const unsigned char *random,
    size_t nrandom, long long pid, long long now, const char *host)
{
	char hex[APOP_RANDOM_MAX * 2 + 1];
	int n;

	if (dstlen > 0)
		dst[0] = '\0';
	if (nrandom == 0 || nrandom > APOP_RANDOM_MAX || host == NULL ||
	    !host_valid(host))
		return -1;
	hex_encode(hex, random, nrandom);
	n = snprintf(dst, dstlen, "<%s.%lld.%lld@%s>", hex, pid, now, host);
	if (n < 0 || (size_t)n >= dstlen) {
		if (dstlen > 0)
			dst[0] = '\0';
		return -1;
	}
	return n;
}

/* Raw MD5(a || b) into md. 0 or -1. */
static int
md5_two(const char *a, size_t alen, const char *b, size_t blen,
    unsigned char md[MD5_LEN])
{
	EVP_MD_CTX *ctx;
	unsigned int mdlen = 0;
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    EVP_DigestUpdate(ctx, b, blen) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != MD5_LEN)
		goto done;
	rc = 0;
done:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
apop_digest(const char *timestamp, size_t tslen, const char *secret,
    size_t secretlen, char hex_r[APOP_DIGEST_HEX + 1])
{
	unsigned char md[MD5_LEN];

	hex_r[0] = '\0';
	if (md5_two(timestamp, tslen, secret, secretlen, md) == -1)
		return -1;
	hex_encode(hex_r, md, MD5_LEN);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

int
apop_digest_valid(const char *digest, size_t len)
{
	size_t i;

	if (digest == NULL || len != APOP_DIGEST_HEX)
		return 0;
	for (i = 0; i < len; i++)
		if (hex_value((unsigned char)digest[i]) == -1)
			return 0;
	return 1;
}

int
apop_check(const char *timestamp, size_t tslen, const char *secret,
    size_t secretlen, const char *digest, size_t digestlen)
{
	unsigned char want[MD5_LEN], got[MD5_LEN];
	int rc;

	if (!apop_digest_valid(digest, digestlen))
		return 0;
	(void)hex_decode(got, sizeof(got), digest, digestlen);
	if (md5_two(timestamp, tslen, secret, secretlen, want) == -1)
		return -1;
	rc = CRYPTO_memcmp(want, got, MD5_LEN) == 0 ? 1 : 0;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}
