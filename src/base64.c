/* base64 - strict RFC 4648 encoding and decoding; see base64.h.
 * The decoder works in whole quanta of 4 characters; only the last quantum
 * may carry padding. Its running time depends on the input's length and on
 * where it is malformed, never on table contents being secret: base64 here
 * carries SASL data that the peer itself sent or will see. */
#include <stdint.h>

#include "base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
base64_encode(char *dst, size_t dstlen, const void *src, size_t srclen)
{
	const unsigned char *s = src;
	size_t i, o = 0;
	uint32_t v;

	if (srclen > (((size_t)-1) / 4) * 3 - 3 ||
	    dstlen < BASE64_ENCODED_SIZE(srclen)) {
		if (dstlen > 0)
			dst[0] = '\0';
		return -1;
	}
	for (i = 0; i + 3 <= srclen; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		dst[o++] = alphabet[v >> 18];
		dst[o++] = alphabet[(v >> 12) & 63];
		dst[o++] = alphabet[(v >> 6) & 63];
		dst[o++] = alphabet[v & 63];
	}
	if (srclen - i == 1) {
		v = (uint32_t)s[i] << 16;
		dst[o++] = alphabet[v >> 18];
		dst[o++] = alphabet[(v >> 12) & 63];
		dst[o++] = '=';
		dst[o++] = '=';
	} else if (srclen - i == 2) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		dst[o++] = alphabet[v >> 18];
		dst[o++] = alphabet[(v >> 12) & 63];
		dst[o++] = alphabet[(v >> 6) & 63];
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return (long)o;
}

enum base64_status
base64_decode(void *dst, size_t dstlen, size_t *dstlen_r, const char *src,
    size_t srclen)
{
	unsigned char *d = dst;
	const unsigned char *s = (const unsigned char *)src;
	size_t i, o = 0, last, npad, nout;
	int a, b, c, e;

	*dstlen_r = 0;
	if (srclen % 4 != 0)
		return BASE64_BAD;
	for (i = 0; i < srclen; i += 4) {
		last = i + 4 == srclen;
		a = base64_value(s[i]);
		b = base64_value(s[i + 1]);
		c = base64_value(s[i + 2]);
		e = base64_value(s[i + 3]);
		npad = 0;
		if (last && s[i + 3] == '=') {
			npad = 1;
			if (s[i + 2] == '=')
				npad = 2;
		}
		if (a < 0 || b < 0 || (npad < 2 && c < 0) ||
		    (npad < 1 && e < 0))
			return BASE64_BAD;
		/* Canonical: the bits that padding leaves over are zero. */
		if ((npad == 2 && (b & 0x0f) != 0) ||
		    (npad == 1 && (c & 0x03) != 0))
			return BASE64_BAD;
		nout = 3 - npad;
		if (dstlen - o < nout)
			return BASE64_TOOBIG;
		d[o++] = (unsigned char)(a << 2 | b >> 4);
		if (npad < 2)
			d[o++] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
		if (npad < 1)
			d[o++] = (unsigned char)((c & 0x03) << 6 | e);
	}
	*dstlen_r = o;
	return BASE64_OK;
}
