/* base64 - strict RFC 4648 section 4 base64, for SASL (RFC 4954) and SCRAM.
 * Trusts: nothing; decode input comes from an unauthenticated peer.
 * Gives:  encoding with '=' padding into a caller's buffer (NUL-terminated),
 *         and a decoder that accepts exactly the canonical encoding: the
 *         standard alphabet only, length a multiple of 4, '=' only as 1 or 2
 *         final pad characters, and the unused bits before the padding zero
 *         (RFC 4648 3.5), so one byte string has exactly one accepted text.
 * Limits: the caller's output buffer; nothing is allocated.
 * Never:  skips whitespace or line breaks, accepts the URL-safe alphabet,
 *         does I/O, or allocates. */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H
#include <stddef.h>

/* Octets needed to encode n octets, without / with the terminating NUL. */
#define BASE64_ENCODED_LEN(n)	((((n) + 2) / 3) * 4)
#define BASE64_ENCODED_SIZE(n)	(BASE64_ENCODED_LEN(n) + 1)
/* Upper bound on the octets that n characters decode to. */
#define BASE64_DECODED_MAX(n)	(((n) / 4) * 3)

enum base64_status {
	BASE64_OK = 0,
	BASE64_BAD = -1,	/* not canonical base64 (char, length, padding) */
	BASE64_TOOBIG = -2,	/* valid so far, but dst is too small */
};

/* The value of one base64 character: 0..63, or -1 for anything else
 * (including '=' and NUL). For lenient decoders (a MIME body) that skip
 * what is not in the alphabet. */
int	base64_value(int c);
/* Encode srclen octets of src into dst (dstlen octets) and NUL-terminate.
 * Returns the length written (without the NUL), or -1 if dst is smaller
 * than BASE64_ENCODED_SIZE(srclen) (dst then holds "" when dstlen > 0). */
long	base64_encode(char *dst, size_t dstlen, const void *src, size_t srclen);

/* Decode srclen characters of src into dst (dstlen octets; no NUL is
 * added). On BASE64_OK *dstlen_r is the decoded length; on failure it is 0
 * and dst's contents are unspecified (the caller wipes it if it mattered).
 * An empty src decodes to 0 octets. */
enum base64_status base64_decode(void *dst, size_t dstlen, size_t *dstlen_r,
	    const char *src, size_t srclen);
#endif
