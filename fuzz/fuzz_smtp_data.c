/* fuzz_smtp_data - the DATA byte stream on arbitrary bytes.
 * Checks beyond "no crash": the output never exceeds max_size nor the
 * input + 1 per call (the contract with the caller's buffer), and the
 * result - content, flags, size, where the data ended - is the same
 * whether the input comes whole, in chunks, or byte by byte. The first
 * two bytes choose max_size and the chunk size. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
	struct buf	content;
	size_t		consumed;
	unsigned	flags;
	unsigned	done;
	uint64_t	size;
};

static void
run(const char *in, size_t len, uint64_t max, size_t chunk, struct result *r)
{
	struct smtp_data d;
	struct buf out;
	size_t pos = 0, n, want;

	memset(r, 0, sizeof(*r));
	buf_init(&r->content, len + 16);
	smtp_data_init(&d, max);
	while (pos < len && !d.done) {
		want = chunk && chunk < len - pos ? chunk : len - pos;
		buf_init(&out, want + 1);
		n = smtp_data_feed(&d, in + pos, want, &out);
		if (n > want || (n < want && !d.done))
			abort();
		if (buf_append(&r->content, out.data, out.len) == -1)
			abort();
		buf_free(&out);
		pos += n;
	}
	if (r->content.len > max || r->content.len > d.size)
		abort();
	r->consumed = pos;
	r->flags = d.flags;
	r->done = d.done;
	r->size = d.size;
}

static int
same(const struct result *a, const struct result *b)
{
	return a->consumed == b->consumed && a->flags == b->flags &&
	    a->done == b->done && a->size == b->size &&
	    a->content.len == b->content.len && (a->content.len == 0 ||
	    memcmp(a->content.data, b->content.data, a->content.len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result a, b, c;
	uint64_t max;
	size_t chunk;

	if (size < 2)
		return 0;
	max = data[0] == 255 ? UINT64_MAX : (uint64_t)data[0] * 16;
	chunk = data[1];
	data += 2;
	size -= 2;
	run((const char *)data, size, max, 0, &a);
	run((const char *)data, size, max, chunk, &b);
	run((const char *)data, size, max, 1, &c);
	if (!same(&a, &b) || !same(&a, &c))
		abort();
	/* Ended means the input held CRLF "." CRLF (the DATA line's CRLF
	 * counts as the first). */
	if (a.done && (a.consumed < 3 ||
	    memcmp(data + a.consumed - 3, ".\r\n", 3) != 0 ||
	    (a.consumed > 3 && (a.consumed < 5 ||
	    memcmp(data + a.consumed - 5, "\r\n", 2) != 0))))
		abort();
	buf_free(&a.content);
	buf_free(&b.content);
	buf_free(&c.content);
	return 0;
}
