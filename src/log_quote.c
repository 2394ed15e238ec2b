/* log_quote - the formatting half of the log: the escaper that keeps a
 *             peer's text from forging a log field, and log_vsink().
 * Trusts: nothing in the text it escapes (any bytes, any length).
 * Gives:  log_quote(), log_quote_token(), log_quote_str() and log_vsink(),
 *         declared in log.h, which describes the line format.
 * Never:  writes anywhere but the caller's buffer or sink: it is in the
 *         pure library (doc/ARCHITECTURE.md) so that the session machines,
 *         which log through their ops table, link without log.c's
 *         stderr/syslog writer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/* The one escaper: printable ASCII stays, except '"' and '\\' (escaped
 * with a backslash) and the bytes in hex_too (as \xNN, like every
 * non-printable byte). A character never goes out half-escaped. */
static char *
quote(char *dst, size_t dstlen, const char *src, size_t srclen,
    const char *hex_too)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	if (dstlen == 0)
		return dst;
	for (i = 0; i < srclen; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' &&
		    (c == '\0' || strchr(hex_too, c) == NULL)) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)c;
		} else if (c == '"' || c == '\\') {
			if (o + 2 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

char *
log_quote(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	return quote(dst, dstlen, src, srclen, "[]");
}

char *
log_quote_token(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	return quote(dst, dstlen, src, srclen, " <>[]=");
}

const char *
log_quote_str(char *dst, size_t dstlen, const char *src)
{
	if (src == NULL)
		src = "";
	return log_quote(dst, dstlen, src, strlen(src));
}

void
log_vsink(void (*sink)(void *, const char *), void *arg, const char *fmt,
    va_list ap)
{
	char line[2048];

	if (sink == NULL)
		return;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	sink(arg, line);
}
