/* fuzz_imap_mime - every imap_mime function on arbitrary bytes: a stored
 * message is whatever a sender or an APPEND gave. The first input byte
 * (mod 64) is the length of a section spec / search needle / date string
 * that follows; the rest is the message. Checks beyond "no crash": every
 * section span lies inside the message (or is the CRLF marker of length
 * 2), the spans' lengths add up to total, the header length is within the
 * message, a refused output (tiny buffer) leaves the buffer as it was,
 * ENVELOPE and BODYSTRUCTURE are balanced lists (strings and literals
 * well formed), and a parsed IMAP date-time formats back into something that parses to
 * the same time. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct imap_spans spans;

/* The output is one balanced parenthesised list: quoted strings and
 * literals skipped, depth never below zero, zero at the end. */
static void
check_balanced(const char *o, size_t n)
{
	size_t i = 0, lit;
	long depth = 0;

	while (i < n) {
		if (o[i] == '"') {
			for (i++; i < n && o[i] != '"'; i++)
				if (o[i] == '\\')
					i++;
			if (i >= n)
				abort();
			i++;
		} else if (o[i] == '{') {
			lit = 0;
			for (i++; i < n && o[i] >= '0' && o[i] <= '9'; i++)
				lit = lit * 10 + (size_t)(o[i] - '0');
			if (n - i < 3 || o[i] != '}' || o[i + 1] != '\r' ||
			    o[i + 2] != '\n' || n - i - 3 < lit)
				abort();
			i += 3 + lit;
		} else {
			if (o[i] == '(')
				depth++;
			else if (o[i] == ')' && --depth < 0)
				abort();
			else if (o[i] == '\r' || o[i] == '\n' || o[i] == '\0')
				abort();
			i++;
		}
	}
	if (depth != 0 || n == 0 || o[0] != '(' || o[n - 1] != ')')
		abort();
}

static void
check_section(const char *m, size_t n, const char *spec, size_t sl)
{
	uint64_t total = 0;
	size_t k;

	if (imap_section(m, n, spec, sl, &spans) < 0)
		return;
	if (spans.n > IMAP_SPANS_MAX)
		abort();
	for (k = 0; k < spans.n; k++) {
		if (spans.s[k].off == IMAP_SPAN_CRLF) {
			if (spans.s[k].len != 2)
				abort();
		} else if (spans.s[k].off > n ||
		    spans.s[k].len > n - spans.s[k].off)
			abort();
		total += spans.s[k].len;
	}
	if (total != spans.total)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *specs[] = { "", "HEADER", "TEXT", "1", "2", "1.1",
	    "1.MIME", "2.HEADER", "1.TEXT", "1.2.3", "HEADER.FIELDS (From To)",
	    "1.HEADER.FIELDS.NOT (Subject)", "3.1.MIME", "1.1.1.1.1" };
	const char *spec, *m;
	size_t sl, n, k;
	struct buf out;
	time_t t, t2;
	char dt[32];

	if (size == 0)
		return 0;
	sl = data[0] % 64;
	if (sl > size - 1)
		sl = size - 1;
	spec = (const char *)data + 1;
	m = spec + sl;
	n = size - 1 - sl;

	if (imap_header_length(m, n) > n)
		abort();
	buf_init(&out, 1 << 24);
	if (imap_envelope(m, n, &out) == 0)
		check_balanced(out.data, out.len);
	buf_reset(&out);
	if (imap_bodystructure(m, n, 1, &out) == 0)
		check_balanced(out.data, out.len);
	buf_reset(&out);
	if (imap_bodystructure(m, n, 0, &out) == 0)
		check_balanced(out.data, out.len);
	buf_free(&out);
	buf_init(&out, 16);
	if (imap_bodystructure(m, n, 1, &out) < 0 && out.len != 0)
		abort();
	if (imap_envelope(m, n, &out) < 0 && out.len > 16)
		abort();
	buf_free(&out);

	check_section(m, n, spec, sl);
	for (k = 0; k < sizeof(specs) / sizeof(specs[0]); k++)
		check_section(m, n, specs[k], strlen(specs[k]));

	(void)imap_search_header(m, n, NULL, spec, sl);
	(void)imap_search_header(m, n, "subject", spec, sl);
	(void)imap_search_body(m, n, spec, sl);
	(void)imap_message_date(m, n, &t);
	if (imap_parse_datetime(spec, sl, &t) == 0) {
		imap_format_datetime(t, dt);
		if (imap_parse_datetime(dt, strlen(dt), &t2) != 0 || t2 != t)
			abort();
	}
	(void)imap_parse_date(spec, sl, &t);
	return 0;
}
