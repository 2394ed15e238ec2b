/* hex - lower-case hexadecimal: digests in logs and protocols (APOP,
 *       CRAM-MD5, UIDs), secrets in the secrets file.
 * Trusts: nothing; hex_decode checks every digit.
 * Never:  does I/O or allocates. */
#ifndef POSTERN_HEX_H
#define POSTERN_HEX_H
#include <stddef.h>
#include <sys/types.h>

/* n octets into 2n lower-case digits plus a NUL: dst holds 2n + 1. */
void	hex_encode(char *dst, const void *src, size_t n);
/* The value of one digit, either case, or -1. */
int	hex_value(int c);
/* srclen digits (even, either case) into at most dstlen octets: the
 * number written, or -1 (odd length, a non-digit, too long). */
ssize_t	hex_decode(void *dst, size_t dstlen, const char *src, size_t srclen);
#endif
