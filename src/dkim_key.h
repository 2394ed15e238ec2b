/* dkim_key - DKIM private keys on disk and the DNS record that publishes
 *            their public half.
 * Trusts: the administrator's key file (it is still checked: PEM, RSA of
 *         at least 1024 bits or Ed25519).
 * Gives:  a key file read into an EVP_PKEY, new keys (RSA 2048, Ed25519),
 *         a key written to a new file (0600, never over an existing one),
 *         and the TXT record as a zone-file line.
 * Never:  overwrites a file, or writes a key anywhere readable by others. */
#ifndef POSTERN_DKIM_KEY_H
#define POSTERN_DKIM_KEY_H
#include <stddef.h>
#include <openssl/evp.h>

#include "buf.h"
#include "dkim.h"

/* A key file is small: an RSA 8192 PEM is under 7 KiB. */
#define DKIM_KEY_FILE_MAX	16384

/* The private key in path (PEM, PKCS#8 or traditional), or NULL with why. */
EVP_PKEY *dkim_key_load(const char *path, char *why, size_t wlen);
/* A new RSA 2048 or Ed25519 key, or NULL. */
EVP_PKEY *dkim_key_generate(int ed25519);
/* Write k as PKCS#8 PEM to a new file path (O_EXCL, 0600). 0, or -1 with
 * why (EEXIST: "exists, not overwritten"). */
int	dkim_key_write(const char *path, EVP_PKEY *k, char *why, size_t wlen);
/* The signing algorithm of a key: 0 and *alg set, -1 for other keys. */
int	dkim_key_alg(EVP_PKEY *k, enum dkim_alg *alg);
/* The record text "v=DKIM1; k=rsa|ed25519; p=BASE64" into out. 0 or -1. */
int	dkim_key_record(EVP_PKEY *k, struct buf *out);
/* The zone-file line: SELECTOR._domainkey.DOMAIN. IN TXT ( "..." ... )
 * with the record split into strings of at most 255 octets. 0 or -1. */
int	dkim_key_zone_line(EVP_PKEY *k, const char *domain,
	    const char *selector, struct buf *out);
#endif
