/* fuzz_maildrop - maildrop_envelope_parse and the content checker on
 * arbitrary bytes: a maildrop file is written by any local user.
 * Checks beyond "no crash": an accepted envelope has a uid that is not
 * (uid_t)-1, 1..max recipients, a content offset inside the input right
 * after "\n\n"; formatting it again and re-parsing gives the same
 * envelope; the content checker gives the same verdict fed whole and
 * byte by byte, and its verdict agrees with a direct scan. The first
 * input byte chooses max_rcpts (0..7) and the content size limit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "buf.h"
#include "maildrop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The content rules, written the obvious way. */
static enum maildrop_status
reference(const char *p, size_t n, uint64_t max)
{
	size_t i, line = 0;

	if (n > max)
		return MAILDROP_ERR_TOO_BIG;
	for (i = 0; i < n; i++) {
		if (i > 0 && p[i - 1] == '\r' && p[i] != '\n')
			return MAILDROP_ERR_BARE_CR;
		if (p[i] == '\0')
			return MAILDROP_ERR_NUL;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return MAILDROP_ERR_BARE_LF;
		if (++line > MAILDROP_LINE_MAX)
			return MAILDROP_ERR_LONG_LINE;
		if (p[i] == '\n')
			line = 0;
	}
	if (n > 0 && p[n - 1] == '\r')
		return MAILDROP_ERR_BARE_CR;
	if (line != 0)
		return MAILDROP_ERR_NO_FINAL_CRLF;
	return MAILDROP_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildrop_envelope e, e2;
	struct maildrop_content whole, bytes;
	enum maildrop_status a, b;
	char from[ADDRESS_PATH_MAX * 2 + 8], **rcpts;
	const char *text;
	struct buf out;
	size_t max_rcpts, i, n;
	uint64_t max;

	if (size < 1)
		return 0;
	max_rcpts = data[0] & 7;
	max = (data[0] >> 3) * 64 + 1;
	text = (const char *)data + 1;
	size--;
	if (maildrop_envelope_parse(text, size, max_rcpts, &e) != MAILDROP_OK)
		return 0;
	if (e.uid == (uid_t)-1 || e.nrcpts == 0 ||
	    (max_rcpts > 0 && e.nrcpts > max_rcpts) ||
	    e.content_off < 2 || e.content_off > size ||
	    memcmp(text + e.content_off - 2, "\n\n", 2) != 0)
		abort();

	/* Round trip through the formatter. */
	rcpts = calloc(e.nrcpts, sizeof(*rcpts));
	for (i = 0; i < e.nrcpts; i++) {
		rcpts[i] = malloc(ADDRESS_PATH_MAX * 2 + 8);
		if (!maildrop_address_ok(&e.rcpts[i], rcpts[i],
		    ADDRESS_PATH_MAX * 2 + 8))
			abort();
	}
	if (!maildrop_address_ok(&e.from, from, sizeof(from)))
		abort();
	buf_init(&out, 2 * MAILDROP_ENVELOPE_MAX);
	if (maildrop_envelope_format(&out, e.uid, from, rcpts, e.nrcpts) == -1 ||
	    maildrop_envelope_parse(out.data, out.len, max_rcpts, &e2) !=
	    MAILDROP_OK || e2.uid != e.uid || e2.nrcpts != e.nrcpts ||
	    e2.from.is_null != e.from.is_null || e2.content_off != out.len)
		abort();
	for (i = 0; i < e.nrcpts; i++) {
		char t[ADDRESS_PATH_MAX * 2 + 8];

		if (!maildrop_address_ok(&e2.rcpts[i], t, sizeof(t)) ||
		    strcmp(t, rcpts[i]) != 0)
			abort();
		free(rcpts[i]);
	}
	free(rcpts);
	maildrop_envelope_free(&e2);
	buf_free(&out);

	/* The content: whole, byte by byte, and the reference agree. */
	n = size - e.content_off;
	maildrop_content_init(&whole, max);
	maildrop_content_feed(&whole, text + e.content_off, n);
	a = maildrop_content_end(&whole);
	maildrop_content_init(&bytes, max);
	for (i = 0; i < n; i++)
		maildrop_content_feed(&bytes, text + e.content_off + i, 1);
	b = maildrop_content_end(&bytes);
	if ((a == MAILDROP_OK) != (b == MAILDROP_OK) ||
	    (a == MAILDROP_OK) != (reference(text + e.content_off, n, max) ==
	    MAILDROP_OK))
		abort();
	maildrop_envelope_free(&e);
	return 0;
}
