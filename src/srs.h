/* srs - the Sender Rewriting Scheme: the envelope sender of a message we
 *       forward to another domain becomes one of our addresses, so that
 *       the destination's SPF check sees our domain; a bounce to it finds
 *       the original sender again.
 *         SRS0=HHHHHH=TT=domain=local@OURDOMAIN
 *       TT: the day (days since the epoch, modulo 1024) in two base32
 *       digits; HHHHHH: the first 30 bits of HMAC-SHA256(secret,
 *       "TT=domain=local", lower case) in base32. Validated: the hash
 *       (case-insensitively: mail systems lower-case addresses), and the
 *       day no more than SRS_MAX_AGE_DAYS ago.
 * Trusts: nothing in the address to reverse (anyone can send a bounce).
 * Gives:  srs_forward, srs_reverse, both pure (the secret and `now` are
 *         the caller's).
 * Never:  rewrites the null sender, or reads the secret itself. */
#ifndef POSTERN_SRS_H
#define POSTERN_SRS_H
#include <stddef.h>
#include <time.h>

#define SRS_HASH_LEN		6	/* base32 digits: 30 bits */
#define SRS_MAX_AGE_DAYS	21	/* a bounce may take that long */
#define SRS_SECRET_MIN		16	/* bytes of secret at least */
#define SRS_LOCAL_MAX		64	/* RFC 5321 4.5.3.1.1: a longer SRS
					 * address is not made */

enum srs_status {
	SRS_OK = 0,
	SRS_NOT_SRS,		/* not an SRS0 local part */
	SRS_SYNTAX,		/* SRS0= but malformed */
	SRS_BAD_HASH,		/* forged, or another secret's */
	SRS_EXPIRED,		/* older than SRS_MAX_AGE_DAYS (or in the future) */
	SRS_TOO_LONG,		/* forward: the local part would be over 64 */
};

/* "local@domain" -> "SRS0=...@our_domain" into out. sender must be a
 * plain address (one '@', as address_format writes it). */
enum srs_status srs_forward(const unsigned char *secret, size_t slen,
	    const char *sender, const char *our_domain, time_t now,
	    char *out, size_t outlen);
/* The local part of an address at our domain -> the original address
 * "local@domain" into out. */
enum srs_status srs_reverse(const unsigned char *secret, size_t slen,
	    const char *local, time_t now, char *out, size_t outlen);
const char *srs_status_text(enum srs_status st);

/* The secret from a file (srs_secret.c, impure): its bytes, at least
 * SRS_SECRET_MIN and at most SRS_SECRET_MAX (a trailing newline is part
 * of it: the file is the key). 0 with *len set, or -1 with errno
 * (EINVAL: too short or too long). */
#define SRS_SECRET_MAX	1024
int	srs_secret_read(const char *path, unsigned char *out, size_t *len);
#endif
