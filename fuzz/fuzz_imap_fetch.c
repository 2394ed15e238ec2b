/* fuzz_imap_fetch - FETCH attributes and SEARCH programs from arbitrary
 * tokens, then the FETCH response and the match over a fixed message and
 * over the input itself taken as a message. The input is split into
 * tokens the way imap_parse hands them out (atoms with a bracketed part
 * that may hold spaces, "quoted" strings, ( and ) as tokens of their own).
 * The first byte chooses `until` (1..256 octets, or 64 KiB) and UID FETCH.
 * Checks beyond "no crash": each step leaves at most until + 16 KiB in
 * out; the response is "* 1 FETCH (" ... ")\r\n"; a search that parses
 * yields a result line that ends in CRLF. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] =
    "From: Carol <carol@example.net>\r\nTo: dave@example.org\r\n"
    "Subject: Quarterly report\r\nDate: Tue, 20 Feb 2024 23:30:00 +0000\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain\r\n\r\nNumbers are up.\r\n"
    "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64"
    "\r\n\r\naGVsbG8=\r\n--b--\r\n";

static char arena[8192];
static struct imap_arg args[512];

static size_t
tokenize(const char *s, size_t len)
{
	size_t i = 0, n = 0, used = 0, st;
	unsigned depth = 0;

	while (i < len && n < sizeof(args) / sizeof(args[0]) &&
	    used + (len - i) + 2 < sizeof(arena)) {
		struct imap_arg *a = &args[n];

		if (s[i] == ' ') {
			i++;
			continue;
		}
		memset(a, 0, sizeof(*a));
		a->s = arena + used;
		st = used;
		if (s[i] == '(' || s[i] == ')') {
			a->type = s[i] == '(' ? IMAP_TOK_LIST_OPEN :
			    IMAP_TOK_LIST_CLOSE;
			if (s[i] == ')' && depth > 0)
				depth--;
			a->depth = depth;
			if (s[i] == '(')
				depth++;
			arena[used++] = s[i++];
		} else if (s[i] == '"') {
			a->type = IMAP_TOK_STRING;
			for (i++; i < len && s[i] != '"'; i++)
				arena[used++] = s[i];
			if (i < len)
				i++;
			a->depth = depth;
		} else {
			int br = 0;

			a->type = IMAP_TOK_ATOM;
			while (i < len && (br || (s[i] != ' ' && s[i] != '(' &&
			    s[i] != ')' && s[i] != '"'))) {
				if (s[i] == '[')
					br = 1;
				else if (s[i] == ']')
					br = 0;
				arena[used++] = s[i++];
			}
			if (used - st == 3 && (arena[st] | 0x20) == 'n' &&
			    (arena[st + 1] | 0x20) == 'i' &&
			    (arena[st + 2] | 0x20) == 'l')
				a->type = IMAP_TOK_NIL;
			a->depth = depth;
		}
		a->len = used - st;
		arena[used++] = '\0';
		n++;
	}
	return n;
}

static void
fetch_one(const struct imap_fetch_items *items, const struct imap_msg *m,
    const char *msg, size_t len, size_t until)
{
	static struct imap_fetch_iter it;
	struct buf out, all;
	int r, add_flags = imap_fetch_sets_seen(items);

	buf_init(&out, until + 16384 + 65536);
	buf_init(&all, 1u << 24);
	imap_fetch_begin(&it, items, m, 1, msg, len, add_flags);
	do {
		r = imap_fetch_next(&it, &out, until);
		if (r < 0 || out.len > until + 16384)
			abort();
		if (buf_append(&all, out.data, out.len) < 0)
			abort();
		buf_reset(&out);
	} while (r == 1);
	if (all.len < 14 || memcmp(all.data, "* 1 FETCH (", 11) != 0 ||
	    memcmp(all.data + all.len - 3, ")\r\n", 3) != 0)
		abort();
	imap_fetch_abort(&it);
	buf_free(&out);
	buf_free(&all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct imap_fetch_items items;
	static struct imap_search s;
	struct imap_msg m = { 7, IMAP_F_SEEN, sizeof(fixed) - 1, 1708471800,
		NULL };
	const char *why, *text;
	size_t n, len, until;
	int uid;
	uint32_t one = 1;
	struct buf out;

	if (size < 1)
		return 0;
	until = (data[0] & 0x7f) == 0x7f ? 65536 : (size_t)(data[0] & 0x7f) * 2 + 1;
	uid = data[0] >> 7;
	text = (const char *)data + 1;
	len = size - 1;
	n = tokenize(text, len);
	if (imap_fetch_parse(args, n, uid, &items, &why) == 0) {
		if (why != NULL)
			abort();
		fetch_one(&items, &m, fixed, sizeof(fixed) - 1, until);
		m.size = len;
		fetch_one(&items, &m, text, len, until);
		m.size = sizeof(fixed) - 1;
	} else if (why == NULL)
		abort();
	switch (imap_search_parse(args, n, &s, &why)) {
	case 0:
		(void)imap_search_match(&s, 1, &m, fixed, sizeof(fixed) - 1,
		    3, 9);
		(void)imap_search_match(&s, 3, &m, text, len, 3, 9);
		(void)imap_search_match(&s, 2, &m, NULL, 0, 3, 9);
		buf_init(&out, 4096);
		if (imap_search_format(&out, &s, "A1", uid, &one, 1) != 0 ||
		    out.len < 2 || memcmp(out.data + out.len - 2, "\r\n", 2))
			abort();
		buf_free(&out);
		break;
	case -1:
	case -2:
		if (why == NULL)
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
