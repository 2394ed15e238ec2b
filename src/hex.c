/* hex - lower-case hexadecimal; see hex.h. */
#include "hex.h"

void
hex_encode(char *dst, const void *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[s[i] >> 4];
		dst[2 * i + 1] = digits[s[i] & 15];
	}
	dst[2 * n] = '\0';
}

int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t
hex_decode(void *dst, size_t dstlen, const char *src, size_t srclen)
{
	unsigned char *d = dst;
	size_t i;
	int hi, lo;

	if (srclen % 2 != 0 || srclen / 2 > dstlen)
		return -1;
	for (i = 0; i < srclen / 2; i++) {
		hi = hex_value((unsigned char)src[2 * i]);
		lo = hex_value((unsigned char)src[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		d[i] = (unsigned char)(hi << 4 | lo);
	}
	return (ssize_t)i;
}
