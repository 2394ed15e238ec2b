/* dkim_key - key files and the TXT record of a DKIM key. See dkim_key.h.
 * Kept out of dkim.c, which is pure: reading PEM needs OpenSSL's BIO. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base64.h"
#include "dkim_key.h"
#include "fileio.h"

/* Octets of one character-string in a TXT record (RFC 1035 3.3). */
#define TXT_STRING_MAX	255

EVP_PKEY *
dkim_key_load(const char *path, char *why, size_t wlen)
{
	EVP_PKEY *k = NULL;
	enum dkim_alg alg;
	struct buf b;
	BIO *bio;

	if (fileio_read_file(AT_FDCWD, path, FILEIO_FOLLOW, DKIM_KEY_FILE_MAX,
	    &b, NULL) == -1) {
		snprintf(why, wlen, "%s: %s", path, errno == EFBIG ?
		    "too large for a key" : strerror(errno));
		buf_free(&b);
		return NULL;
	}
	if (b.len > 0 && (bio = BIO_new_mem_buf(b.data, (int)b.len)) != NULL) {
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
	if (k == NULL) {
		snprintf(why, wlen, "%s: not a PEM private key", path);
		return NULL;
	}
	if (dkim_key_alg(k, &alg) == -1) {
		snprintf(why, wlen, "%s: not an RSA (1024 bits or more) or "
		    "Ed25519 key", path);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

EVP_PKEY *
dkim_key_generate(int ed25519)
{
	if (ed25519)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

int
dkim_key_write(const char *path, EVP_PKEY *k, char *why, size_t wlen)
{
	BIO *bio;
	char *pem;
	long n;
	int fd, r = -1;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) != 1) {
		snprintf(why, wlen, "cannot encode the key");
		BIO_free(bio);
		return -1;
	}
	n = BIO_get_mem_data(bio, &pem);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		snprintf(why, wlen, "%s: %s", path, errno == EEXIST ?
		    "exists; not overwritten" : strerror(errno));
		goto out;
	}
	if (fileio_write_all(fd, pem, (size_t)n) == -1 || fsync(fd) == -1) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		close(fd);
		(void)unlink(path);
		goto out;
	}
	if (close(fd) == -1) {
		snprintf(why, wlen, "%s: %s", path, strerror(errno));
		(void)unlink(path);
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(pem, (size_t)n);
	BIO_free(bio);
	return r;
}

int
dkim_key_alg(EVP_PKEY *k, enum dkim_alg *alg)
{
	switch (EVP_PKEY_base_id(k)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_bits(k) < 1024 ||
		    EVP_PKEY_size(k) > DKIM_SIG_BYTES_MAX)
			return -1;
		*alg = DKIM_ALG_RSA_SHA256;
		return 0;
	case EVP_PKEY_ED25519:
		*alg = DKIM_ALG_ED25519_SHA256;
		return 0;
	}
	return -1;
}

int
dkim_key_record(EVP_PKEY *k, struct buf *out)
{
	unsigned char pub[DKIM_SIG_BYTES_MAX * 2], *p = pub;
	char b64[BASE64_ENCODED_SIZE(sizeof(pub))];
	enum dkim_alg alg;
	size_t n = sizeof(pub);
	int dl;

	if (dkim_key_alg(k, &alg) == -1)
		return -1;
	if (alg == DKIM_ALG_ED25519_SHA256) {
		if (EVP_PKEY_get_raw_public_key(k, pub, &n) != 1)
			return -1;
	} else {
		if ((dl = i2d_PUBKEY(k, NULL)) <= 0 || (size_t)dl > sizeof(pub) ||
		    i2d_PUBKEY(k, &p) != dl)
			return -1;
		n = (size_t)dl;
	}
	if (base64_encode(b64, sizeof(b64), pub, n) == -1)
		return -1;
	return buf_printf(out, "v=DKIM1; k=%s; p=%s",
	    alg == DKIM_ALG_ED25519_SHA256 ? "ed25519" : "rsa", b64);
}

int
dkim_key_zone_line(EVP_PKEY *k, const char *domain, const char *selector,
    struct buf *out)
{
	struct buf rec;
	size_t off, n;
	int r = -1;

	buf_init(&rec, 4096);
	if (dkim_key_record(k, &rec) == -1)
		goto out;
	if (buf_printf(out, "%s._domainkey.%s. IN TXT (", selector,
	    domain) == -1)
		goto out;
	/* The record has no '"' or '\\', so the strings need no escapes. */
	for (off = 0; off < rec.len; off += n) {
		n = rec.len - off < TXT_STRING_MAX ? rec.len - off :
		    TXT_STRING_MAX;
		if (buf_printf(out, " \"%.*s\"", (int)n, rec.data + off) == -1)
			goto out;
	}
	if (buf_appends(out, " )\n") == -1)
		goto out;
	r = 0;
out:
	buf_free(&rec);
	return r;
}
