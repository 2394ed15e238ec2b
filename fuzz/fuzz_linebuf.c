/* fuzz_linebuf - linebuf_next on arbitrary bytes in arbitrary chunks.
 * Checks beyond "no crash": every call consumes at least one byte and no
 * more than it was given; a returned line fits the limit and holds no LF;
 * a good line holds no CR or NUL; and cutting the input differently
 * (whole versus byte by byte) gives the same lines and statuses.
 * The first two bytes choose the limit and the chunk size. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linebuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A digest of the events, to compare two runs. */
struct trace {
	uint64_t	h;
	size_t		n;
};

static void
trace_add(struct trace *t, enum linebuf_status st, const char *line,
    size_t len)
{
	size_t i;

	t->h = (t->h ^ (uint64_t)st) * 1099511628211ULL;
	t->h = (t->h ^ len) * 1099511628211ULL;
	for (i = 0; i < len; i++)
		t->h = (t->h ^ (unsigned char)line[i]) * 1099511628211ULL;
	t->n++;
}

static void
run(const char *in, size_t len, size_t limit, size_t chunk,
    struct trace *t)
{
	static struct linebuf lb;
	size_t pos = 0, end, used, ll;
	const char *line;
	enum linebuf_status st;

	linebuf_init(&lb, limit);
	memset(t, 0, sizeof(*t));
	t->h = 14695981039346656037ULL;
	while (pos < len) {
		end = chunk && chunk < len - pos ? pos + chunk : len;
		while (pos < end) {
			st = linebuf_next(&lb, in + pos, end - pos, &used,
			    &line, &ll);
			if (used == 0 || used > end - pos)
				abort();
			pos += used;
			if (st == LINEBUF_NEED_MORE) {
				if (pos != end)
					abort();
				continue;
			}
			if (ll > limit - 2 || memchr(line, '\n', ll) != NULL)
				abort();
			if (st == LINEBUF_LINE && (memchr(line, '\r', ll) ||
			    memchr(line, '\0', ll)))
				abort();
			trace_add(t, st, line, ll);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace a, b;
	size_t limit, chunk;

	if (size < 2)
		return 0;
	limit = 3 + (size_t)data[0] * 4;	/* 3..1023 */
	chunk = data[1];			/* 0: whole */
	data += 2;
	size -= 2;
	run((const char *)data, size, limit, chunk, &a);
	run((const char *)data, size, limit, 1, &b);
	if (a.h != b.h || a.n != b.n)
		abort();
	return 0;
}
