/* apop - the APOP greeting timestamp and digest check (RFC 1939 sec. 7).
 * Trusts: the caller's random bytes (it reads them from /dev/urandom or
 *         RAND_bytes) and host name; nothing about a client's digest.
 * Gives:  "<HEX.PID.TIME@host>" for the greeting, the lower-case hex MD5 of
 *         timestamp + secret, and a constant-time comparison of that digest
 *         with the client's (upper- or lower-case hex).
 * Limits: at most APOP_RANDOM_MAX random bytes; the timestamp is at most
 *         APOP_TIMESTAMP_MAX - 1 octets; digests are exactly 32 hex digits.
 * Never:  does I/O, reads a clock or a random source, or logs; secrets and
 *         intermediate digests are wiped before returning. */
#ifndef POSTERN_APOP_H
#define POSTERN_APOP_H
#include <stddef.h>

#define APOP_RANDOM_BYTES	16	/* what callers should supply */
#define APOP_RANDOM_MAX		32
#define APOP_HOST_MAX		255
#define APOP_DIGEST_HEX		32
/* '<' + 64 hex + '.' + 20 + '.' + 20 + '@' + 255 + '>' + NUL, rounded up */
#define APOP_TIMESTAMP_MAX	384

/* Build "<RANDOMHEX.PID.TIME@host>" into dst (NUL-terminated).
 * host: 1..APOP_HOST_MAX octets of 0x21-0x7E other than '<' '>' '@'.
 * Returns the length, or -1 (nrandom 0 or > APOP_RANDOM_MAX, bad host,
 * dst too small). */
int	apop_timestamp(char *dst, size_t dstlen, const unsigned char *random,
	    size_t nrandom, long long pid, long long now, const char *host);

/* hex_r (33 octets) receives lower-case hex MD5(timestamp || secret).
 * 0, or -1 if the digest could not be computed (OpenSSL failure). */
int	apop_digest(const char *timestamp, size_t tslen, const char *secret,
	    size_t secretlen, char hex_r[APOP_DIGEST_HEX + 1]);

/* 1 if digest is exactly 32 hex digits (either case), else 0. */
int	apop_digest_valid(const char *digest, size_t len);

/* 1 if the client's digest equals MD5(timestamp || secret); 0 if not or if
 * it is malformed; -1 if the digest could not be computed. The comparison
 * of the 16 digest octets takes the same time wherever they differ. */
int	apop_check(const char *timestamp, size_t tslen, const char *secret,
	    size_t secretlen, const char *digest, size_t digestlen);
#endif
