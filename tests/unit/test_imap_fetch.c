/* test_imap_fetch - FETCH attribute parsing (macros, sections, partials,
 * RFC822*, modifiers, the BAD cases), the response in bounded steps
 * (framing, flags, clipping, a 1 MB literal in 64 KiB steps, byte-sized
 * steps), SEARCH parsing and matching (flags, sets, dates, sizes, OR/NOT,
 * groups, charsets, RETURN) and the SEARCH/ESEARCH result lines. */
#include "unit.h"
#include "imap_fetch.h"

/* ---- a tiny tokenizer standing in for imap_parse's command reader ---- */
static char arena[65536];
static struct imap_arg args[256];

static size_t
toks(const char *s)
{
	size_t n = 0, used = 0, st;
	unsigned depth = 0;

	while (*s != '\0') {
		struct imap_arg *a = &args[n];

		if (*s == ' ') {
			s++;
			continue;
		}
		memset(a, 0, sizeof(*a));
		a->s = arena + used;
		if (*s == '(' || *s == ')') {
			a->type = *s == '(' ? IMAP_TOK_LIST_OPEN :
			    IMAP_TOK_LIST_CLOSE;
			if (*s == ')')
				depth--;
			a->depth = depth;
			if (*s == '(')
				depth++;
			arena[used++] = *s++;
		} else if (*s == '"') {
			a->type = IMAP_TOK_STRING;
			for (s++; *s != '\0' && *s != '"'; s++)
				arena[used++] = *s;
			if (*s == '"')
				s++;
			a->depth = depth;
		} else {
			int br = 0;

			a->type = IMAP_TOK_ATOM;
			st = used;
			while (*s != '\0' && (br || (*s != ' ' && *s != '(' &&
			    *s != ')'))) {
				if (*s == '[')
					br = 1;
				else if (*s == ']')
					br = 0;
				arena[used++] = *s++;
			}
			if (used - st == 3 && strncasecmp(a->s, "NIL", 3) == 0)
				a->type = IMAP_TOK_NIL;
			a->depth = depth;
		}
		a->len = (size_t)(arena + used - a->s);
		arena[used++] = '\0';
		n++;
	}
	return n;
}

static struct imap_fetch_items items;

static int
fparse(const char *s, int uid, const char **why)
{
	size_t n = toks(s);

	return imap_fetch_parse(args, n, uid, &items, why);
}

static void
test_fetch_parse_simple(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(fparse("FLAGS", 0, &why), 0);
	assert_int_equal(items.n, 1);
	assert_int_equal(items.it[0].kind, IMAP_FA_FLAGS);
	assert_int_equal(fparse("(uid flags internaldate rfc822.size "
	    "envelope body bodystructure)", 0, &why), 0);
	assert_int_equal(items.n, 7);
	assert_int_equal(items.it[0].kind, IMAP_FA_UID);
	assert_int_equal(items.it[3].kind, IMAP_FA_SIZE);
	assert_int_equal(items.it[5].kind, IMAP_FA_BODY);
	assert_int_equal(items.it[6].kind, IMAP_FA_BODYSTRUCTURE);
	assert_false(imap_fetch_sets_seen(&items));
	assert_true(imap_fetch_needs_body(&items));
	assert_int_equal(fparse("(FLAGS UID RFC822.SIZE INTERNALDATE)", 0,
	    &why), 0);
	assert_false(imap_fetch_needs_body(&items));
}

static void
test_fetch_parse_macros(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(fparse("FAST", 0, &why), 0);
	assert_int_equal(items.n, 3);
	assert_int_equal(fparse("all", 0, &why), 0);
	assert_int_equal(items.n, 4);
	assert_int_equal(items.it[0].kind, IMAP_FA_FLAGS);
	assert_int_equal(items.it[1].kind, IMAP_FA_INTERNALDATE);
	assert_int_equal(items.it[2].kind, IMAP_FA_SIZE);
	assert_int_equal(items.it[3].kind, IMAP_FA_ENVELOPE);
	assert_int_equal(fparse("FULL", 0, &why), 0);
	assert_int_equal(items.n, 5);
	assert_int_equal(items.it[4].kind, IMAP_FA_BODY);
	/* UID FETCH: UID first. */
	assert_int_equal(fparse("FAST", 1, &why), 0);
	assert_int_equal(items.n, 4);
	assert_int_equal(items.it[0].kind, IMAP_FA_UID);
	assert_int_equal(fparse("(FLAGS UID)", 1, &why), 0);
	assert_int_equal(items.n, 2);
	/* Macros are not fetch-atts: not inside a list. */
	assert_int_equal(fparse("(ALL)", 0, &why), -1);
	assert_non_null(why);
}

static void
test_fetch_parse_sections(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(fparse("BODY[]", 0, &why), 0);
	assert_int_equal(items.it[0].kind, IMAP_FA_SECTION);
	assert_string_equal(items.it[0].label, "BODY[]");
	assert_false(items.it[0].peek);
	assert_true(imap_fetch_sets_seen(&items));
	assert_int_equal(fparse("body.peek[header.fields (From to)]<0.10>", 0,
	    &why), 0);
	assert_true(items.it[0].peek);
	assert_false(imap_fetch_sets_seen(&items));
	assert_string_equal(items.it[0].spec, "header.fields (From to)");
	assert_string_equal(items.it[0].label,
	    "BODY[HEADER.FIELDS (FROM TO)]<0>");
	assert_true(items.it[0].partial);
	assert_int_equal(items.it[0].origin, 0);
	assert_int_equal(items.it[0].count, 10);
	assert_int_equal(fparse("(BODY[1.2.MIME] BODY[2.HEADER] BODY[TEXT]<5.7> "
	    "BODY.PEEK[3.HEADER.FIELDS.NOT (X-A)] BODY[1])", 0, &why), 0);
	assert_int_equal(items.n, 5);
	assert_string_equal(items.it[2].label, "BODY[TEXT]<5>");
	assert_int_equal(fparse("RFC822", 0, &why), 0);
	assert_string_equal(items.it[0].label, "RFC822");
	assert_string_equal(items.it[0].spec, "");
	assert_true(imap_fetch_sets_seen(&items));
	assert_int_equal(fparse("RFC822.HEADER", 0, &why), 0);
	assert_string_equal(items.it[0].label, "RFC822.HEADER");
	assert_string_equal(items.it[0].spec, "HEADER");
	assert_true(items.it[0].peek);
	assert_false(imap_fetch_sets_seen(&items));
	assert_int_equal(fparse("RFC822.TEXT", 0, &why), 0);
	assert_string_equal(items.it[0].spec, "TEXT");
	assert_true(imap_fetch_sets_seen(&items));
}

static void
test_fetch_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "FOO", "(FLAGS", "()", "(FLAGS FOO)", "BODY[", "BODY[FOO]",
		"BODY[0]", "BODY[1.]", "BODY[1.FOO]", "BODY[MIME]",
		"BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]",
		"BODY[HEADER.FIELDS (A  B)]", "BODY[]<0.0>", "BODY[]<1>",
		"BODY[]<a.1>", "BODY[]<1.2>x", "BODY[]x", "BINARY[]",
		"MODSEQ", "FLAGS FLAGS", "FLAGS (CHANGEDSINCE)",
		"FLAGS (VANISHED)", "FLAGS (CHANGEDSINCE 5", "\"FLAGS\"",
		"(FLAGS (UID))", "FLAGS (CHANGEDSINCE 5) x", "BODY.PEEK",
		"FLAGS ()", "FLAGS (CHANGEDSINCE 1 CHANGEDSINCE)",
	};
	const char *why;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		why = NULL;
		if (fparse(bad[k], 0, &why) != -1)
			fail_msg("accepted: %s", bad[k]);
		assert_non_null(why);
	}
}

static void
test_fetch_parse_modifier_and_limit(void **state)
{
	char big[4096];
	size_t k, n = 0;
	const char *why;

	(void)state;
	assert_int_equal(fparse("(FLAGS) (CHANGEDSINCE 12345)", 0, &why), 0);
	assert_int_equal(items.changedsince, 12345);
	assert_int_equal(fparse("FLAGS (changedsince 7)", 1, &why), 0);
	assert_int_equal(items.changedsince, 7);
	/* IMAP_FETCH_ITEMS items fit, one more does not; UID FETCH needs
	 * room for the UID it adds. */
	for (int extra = 0; extra <= 1; extra++) {
		n = 0;
		big[n++] = '(';
		for (k = 0; k < IMAP_FETCH_ITEMS + (size_t)extra; k++)
			n += (size_t)snprintf(big + n, sizeof(big) - n,
			    "%sFLAGS", k ? " " : "");
		big[n++] = ')';
		big[n] = '\0';
		assert_int_equal(fparse(big, 0, &why), extra ? -1 : 0);
	}
	assert_int_equal(fparse(big, 1, &why), -1);
}

/* ---- the FETCH response ---- */

static const char msg1[] =
    "From: a@example.org\r\nTo: b@example.org\r\nSubject: Hello World\r\n"
    "Date: Mon, 15 Jan 2024 10:00:00 +0000\r\n\r\n"
    "Body line one\r\nsecond LINE of body\r\n";

static struct imap_msg m1 = { 5, IMAP_F_SEEN | IMAP_F_FLAGGED, 0,
	1705312800, (char *)"cur/x:2,FS" };	/* 15-Jan-2024 10:00:00 UTC */

/* The whole response, produced in steps of `until` octets, each call's
 * output checked against the bound and moved to `all`. */
static void
produce(const char *fetch, int uid, const struct imap_msg *m, uint32_t seq,
    const char *data, size_t len, int add_flags, size_t until,
    struct buf *all)
{
	struct imap_fetch_iter *it = calloc(1, sizeof(*it));
	struct buf out;
	const char *why;
	int r, calls = 0;

	assert_non_null(it);
	assert_int_equal(fparse(fetch, uid, &why), 0);
	buf_init(all, SIZE_MAX / 2);
	buf_init(&out, until + 16384 + 65536);
	imap_fetch_begin(it, &items, m, seq, data, len, add_flags);
	do {
		r = imap_fetch_next(it, &out, until);
		assert_true(r >= 0);
		assert_true(out.len <= until + 16384);
		assert_int_equal(buf_append(all, out.data, out.len), 0);
		buf_reset(&out);
		assert_true(++calls < 10000000);
	} while (r == 1);
	assert_int_equal(imap_fetch_next(it, &out, until), 0);
	assert_int_equal(out.len, 0);
	imap_fetch_abort(it);
	buf_free(&out);
	free(it);
	if (all->data == NULL)
		assert_int_equal(buf_appends(all, ""), 0);
}

static void
test_fetch_simple_values(void **state)
{
	struct buf all;
	struct imap_msg m = m1;

	(void)state;
	m.size = sizeof(msg1) - 1;
	produce("(FLAGS RFC822.SIZE INTERNALDATE)", 1, &m, 3, NULL, 0, 0,
	    65536, &all);
	assert_string_equal(all.data, "* 3 FETCH (UID 5 FLAGS (\\Seen "
	    "\\Flagged) RFC822.SIZE 139 INTERNALDATE "
	    "\"15-Jan-2024 10:00:00 +0000\")\r\n");
	buf_free(&all);
	m.flags = IMAP_F_ALL;
	produce("FLAGS", 0, &m, 1, NULL, 0, 0, 65536, &all);
	assert_string_equal(all.data, "* 1 FETCH (FLAGS (\\Seen \\Answered "
	    "\\Flagged \\Deleted \\Draft))\r\n");
	buf_free(&all);
	m.flags = 0;
	produce("FLAGS", 0, &m, 1, NULL, 0, 0, 65536, &all);
	assert_string_equal(all.data, "* 1 FETCH (FLAGS ())\r\n");
	buf_free(&all);
	m.flags = IMAP_F_DRAFT | IMAP_F_ANSWERED;
	produce("UID", 0, &m, 9, NULL, 0, 1, 65536, &all);
	assert_string_equal(all.data,
	    "* 9 FETCH (UID 5 FLAGS (\\Answered \\Draft))\r\n");
	buf_free(&all);
	/* add_flags with FLAGS asked already: not twice. */
	produce("(FLAGS UID)", 0, &m, 9, NULL, 0, 1, 65536, &all);
	assert_string_equal(all.data,
	    "* 9 FETCH (FLAGS (\\Answered \\Draft) UID 5)\r\n");
	buf_free(&all);
}

static void
test_fetch_literals(void **state)
{
	struct buf all, want;
	size_t len = sizeof(msg1) - 1, hl;

	(void)state;
	hl = (size_t)(strstr(msg1, "\r\n\r\n") + 4 - msg1);
	produce("BODY[]", 0, &m1, 2, msg1, len, 0, 65536, &all);
	buf_init(&want, 65536);
	buf_printf(&want, "* 2 FETCH (BODY[] {%zu}\r\n%s)\r\n", len, msg1);
	assert_int_equal(all.len, want.len);
	assert_memory_equal(all.data, want.data, want.len);
	buf_free(&all);
	buf_reset(&want);
	/* RFC822 has its own label; byte-sized steps give the same. */
	produce("(UID RFC822)", 0, &m1, 2, msg1, len, 0, 1, &all);
	buf_printf(&want, "* 2 FETCH (UID 5 RFC822 {%zu}\r\n%s)\r\n", len,
	    msg1);
	assert_int_equal(all.len, want.len);
	assert_memory_equal(all.data, want.data, want.len);
	buf_free(&all);
	buf_reset(&want);
	/* Partial: clipped at the end, the label shows the origin only. */
	produce("BODY.PEEK[]<5.10>", 0, &m1, 1, msg1, len, 0, 3, &all);
	assert_string_equal(all.data,
	    "* 1 FETCH (BODY[]<5> {10}\r\n a@example)\r\n");
	buf_free(&all);
	produce("BODY[]<120.100>", 0, &m1, 1, msg1, len, 0, 65536, &all);
	buf_printf(&want, "* 1 FETCH (BODY[]<120> {%zu}\r\n%s)\r\n",
	    len - 120, msg1 + 120);
	assert_string_equal(all.data, want.data);
	buf_free(&all);
	buf_reset(&want);
	produce("BODY[]<139.5>", 0, &m1, 1, msg1, len, 0, 65536, &all);
	assert_string_equal(all.data, "* 1 FETCH (BODY[]<139> {0}\r\n)\r\n");
	buf_free(&all);
	produce("BODY[]<4000000000.5>", 0, &m1, 1, msg1, len, 0, 65536, &all);
	assert_string_equal(all.data,
	    "* 1 FETCH (BODY[]<4000000000> {0}\r\n)\r\n");
	buf_free(&all);
	/* HEADER and TEXT split the message at the blank line. */
	produce("(RFC822.HEADER BODY[TEXT])", 0, &m1, 1, msg1, len, 0, 65536,
	    &all);
	buf_printf(&want, "* 1 FETCH (RFC822.HEADER {%zu}\r\n%.*s BODY[TEXT] "
	    "{%zu}\r\n%s)\r\n", hl, (int)hl, msg1, len - hl, msg1 + hl);
	assert_string_equal(all.data, want.data);
	buf_free(&all);
	/* An empty message (or none mapped) is an empty literal. */
	produce("BODY[]", 0, &m1, 1, NULL, 0, 0, 65536, &all);
	assert_string_equal(all.data, "* 1 FETCH (BODY[] {0}\r\n)\r\n");
	buf_free(&all);
	buf_free(&want);
}

/* Every literal "{n}\r\n" in the response is followed by n octets and
 * then " " or ")": the framing a client relies on. Returns the number of
 * literals; *first gets the first one's octets. */
static size_t
check_framing(const struct buf *all, const char **first, size_t *first_len)
{
	size_t i = 0, n = 0, lits = 0;

	while (i < all->len) {
		if (all->data[i] == '{') {
			n = 0;
			for (i++; i < all->len && all->data[i] >= '0' &&
			    all->data[i] <= '9'; i++)
				n = n * 10 + (size_t)(all->data[i] - '0');
			assert_true(i + 3 <= all->len);
			assert_memory_equal(all->data + i, "}\r\n", 3);
			i += 3;
			if (lits++ == 0) {
				*first = all->data + i;
				*first_len = n;
			}
			assert_true(i + n < all->len);
			i += n;
			assert_true(all->data[i] == ' ' || all->data[i] == ')');
		} else
			i++;
	}
	return lits;
}

static void
test_fetch_header_fields(void **state)
{
	struct buf all;
	const char *lit = NULL;
	size_t litlen = 0, len = sizeof(msg1) - 1;

	(void)state;
	/* The matching lines and the blank line, clipped, byte by byte. */
	produce("(BODY.PEEK[HEADER.FIELDS (SUBJECT)]<3.100> FLAGS)", 0, &m1, 1,
	    msg1, len, 0, 1, &all);
	assert_int_equal(check_framing(&all, &lit, &litlen), 1);
	assert_int_equal(litlen, strlen("ject: Hello World\r\n\r\n"));
	assert_memory_equal(lit, "ject: Hello World\r\n\r\n", litlen);
	assert_true(strncmp(all.data,
	    "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)]<3> {", 45) == 0);
	buf_free(&all);
	/* Origin inside the final CRLF. */
	produce("BODY.PEEK[HEADER.FIELDS (Subject)]<23.5>", 0, &m1, 1, msg1,
	    len, 0, 1, &all);
	assert_int_equal(check_framing(&all, &lit, &litlen), 1);
	assert_int_equal(litlen, 1);
	assert_memory_equal(lit, "\n", 1);
	buf_free(&all);
	produce("(BODY[HEADER] BODY[TEXT] BODY[1] BODY[HEADER.FIELDS.NOT (To)])",
	    0, &m1, 1, msg1, len, 0, 7, &all);
	assert_int_equal(check_framing(&all, &lit, &litlen), 4);
	buf_free(&all);
}

static void
test_fetch_structures_framed(void **state)
{
	struct buf all;
	size_t len = sizeof(msg1) - 1;

	(void)state;
	/* Whatever imap_mime writes, it sits between the name and ')'. */
	produce("(ENVELOPE BODYSTRUCTURE BODY)", 0, &m1, 4, msg1, len, 0, 1,
	    &all);
	assert_true(strncmp(all.data, "* 4 FETCH (ENVELOPE (", 21) == 0);
	assert_non_null(strstr(all.data, ") BODYSTRUCTURE ("));
	assert_non_null(strstr(all.data, ") BODY ("));
	assert_int_equal(memcmp(all.data + all.len - 4, "))\r\n", 4), 0);
	buf_free(&all);
}

static void
test_fetch_big_literal(void **state)
{
	size_t len = 1024 * 1024, k;
	char *big = malloc(len);
	struct buf all;
	struct imap_msg m = m1;
	char head[64];
	int hn;

	(void)state;
	assert_non_null(big);
	memcpy(big, "Subject: big\r\n\r\n", 16);
	for (k = 16; k < len; k++)
		big[k] = (char)('a' + k % 26);
	m.size = len;
	produce("(UID BODY[] FLAGS)", 0, &m, 7, big, len, 0, 65536, &all);
	hn = snprintf(head, sizeof(head), "* 7 FETCH (UID 5 BODY[] {%zu}\r\n",
	    len);
	assert_int_equal(all.len, (size_t)hn + len +
	    strlen(" FLAGS (\\Seen \\Flagged))\r\n"));
	assert_memory_equal(all.data, head, (size_t)hn);
	assert_memory_equal(all.data + hn, big, len);
	assert_string_equal(all.data + hn + len,
	    " FLAGS (\\Seen \\Flagged))\r\n");
	buf_free(&all);
	/* A partial from the middle, in 64 KiB steps. */
	produce("BODY[]<1000.500000>", 0, &m, 7, big, len, 0, 65536, &all);
	hn = snprintf(head, sizeof(head), "* 7 FETCH (BODY[]<1000> {500000}\r\n");
	assert_memory_equal(all.data, head, (size_t)hn);
	assert_memory_equal(all.data + hn, big + 1000, 500000);
	assert_string_equal(all.data + hn + 500000, ")\r\n");
	buf_free(&all);
	free(big);
}

static void
test_fetch_full_out(void **state)
{
	struct imap_fetch_iter *it = calloc(1, sizeof(*it));
	struct buf out;
	const char *why;

	(void)state;
	assert_int_equal(fparse("FLAGS", 0, &why), 0);
	buf_init(&out, 8);
	imap_fetch_begin(it, &items, &m1, 1, NULL, 0, 0);
	assert_int_equal(imap_fetch_next(it, &out, 65536), -1);
	imap_fetch_abort(it);
	buf_free(&out);
	free(it);
}

/* ---- SEARCH ---- */

static struct imap_search srch;

static int
sparse(const char *s, const char **why)
{
	size_t n = toks(s);

	return imap_search_parse(args, n, &srch, why);
}

static const char msg2[] =
    "From: Carol <carol@example.net>\r\nTo: dave@example.org\r\n"
    "Cc: eve@example.com\r\nSubject: Quarterly report\r\n"
    "X-Tag: purple\r\nDate: Tue, 20 Feb 2024 23:30:00 +0000\r\n\r\n"
    "Numbers are up this quarter.\r\n";

static int
smatch(const char *prog, uint32_t seq, const struct imap_msg *m,
    const char *data)
{
	const char *why;

	if (sparse(prog, &why) != 0)
		fail_msg("search parse failed: %s: %s", prog, why);
	return imap_search_match(&srch, seq, m, data,
	    data != NULL ? strlen(data) : 0, 10, 50);
}

static void
test_search_flags_sets_sizes(void **state)
{
	struct imap_msg m = { 20, IMAP_F_SEEN | IMAP_F_ANSWERED, 1000, 0, NULL };

	(void)state;
	assert_true(smatch("ALL", 3, &m, NULL));
	assert_true(smatch("SEEN ANSWERED", 3, &m, NULL));
	assert_false(smatch("SEEN FLAGGED", 3, &m, NULL));
	assert_true(smatch("UNFLAGGED UNDELETED UNDRAFT", 3, &m, NULL));
	assert_false(smatch("UNSEEN", 3, &m, NULL));
	assert_false(smatch("NEW", 3, &m, NULL));
	assert_true(smatch("OLD", 3, &m, NULL));
	assert_false(smatch("RECENT", 3, &m, NULL));
	assert_false(smatch("KEYWORD $Junk", 3, &m, NULL));
	assert_true(smatch("UNKEYWORD $Junk", 3, &m, NULL));
	assert_true(smatch("OR FLAGGED ANSWERED", 3, &m, NULL));
	assert_false(smatch("OR FLAGGED DELETED", 3, &m, NULL));
	assert_true(smatch("NOT DELETED", 3, &m, NULL));
	assert_false(smatch("NOT (SEEN ANSWERED)", 3, &m, NULL));
	assert_true(smatch("(SEEN) (OR DRAFT (ANSWERED))", 3, &m, NULL));
	assert_true(smatch("1:4", 3, &m, NULL));
	assert_false(smatch("1,2,4:*", 3, &m, NULL));
	assert_true(smatch("*", 10, &m, NULL));
	assert_true(smatch("UID 20", 3, &m, NULL));
	assert_false(smatch("UID 1:19,21:*", 3, &m, NULL));
	assert_true(smatch("UID 15:* 2:3", 3, &m, NULL));
	assert_true(smatch("LARGER 999", 3, &m, NULL));
	assert_false(smatch("LARGER 1000", 3, &m, NULL));
	assert_true(smatch("SMALLER 1001", 3, &m, NULL));
	assert_false(smatch("SMALLER 1000", 3, &m, NULL));
	m.flags = 0;
	assert_true(smatch("NEW", 3, &m, NULL));
	assert_true(smatch("UNSEEN NOT NOT UNANSWERED", 3, &m, NULL));
	assert_false(srch.needs_body);
	assert_false(srch.esearch);
}

static void
test_search_dates(void **state)
{
	/* 20-Feb-2024 23:30:00 UTC */
	struct imap_msg m = { 1, 0, 10, 1708471800, NULL };

	(void)state;
	assert_true(smatch("ON 20-Feb-2024", 1, &m, NULL));
	assert_false(smatch("ON 21-Feb-2024", 1, &m, NULL));
	assert_true(smatch("BEFORE 21-Feb-2024", 1, &m, NULL));
	assert_false(smatch("BEFORE 20-Feb-2024", 1, &m, NULL));
	assert_true(smatch("SINCE 20-Feb-2024", 1, &m, NULL));
	assert_false(smatch("SINCE 21-Feb-2024", 1, &m, NULL));
	assert_true(smatch("SINCE \"1-Feb-2024\"", 1, &m, NULL));
	assert_true(smatch("SENTON 20-Feb-2024", 1, &m, msg2));
	assert_true(srch.needs_body);
	assert_true(smatch("SENTBEFORE 21-Feb-2024", 1, &m, msg2));
	assert_false(smatch("SENTBEFORE 20-Feb-2024", 1, &m, msg2));
	assert_true(smatch("SENTSINCE 20-Feb-2024", 1, &m, msg2));
	assert_false(smatch("SENTSINCE 21-Feb-2024", 1, &m, msg2));
	/* No Date: field: no SENT* key matches. */
	assert_false(smatch("SENTBEFORE 1-Jan-2100", 1, &m, "Subject: x\r\n\r\n"));
	assert_false(smatch("SENTSINCE 1-Jan-1970", 1, &m, "Subject: x\r\n\r\n"));
}

static void
test_search_text(void **state)
{
	struct imap_msg m = { 1, 0, 10, 0, NULL };

	(void)state;
	assert_true(smatch("FROM carol", 1, &m, msg2));
	assert_true(srch.needs_body);
	assert_false(smatch("FROM dave", 1, &m, msg2));
	assert_true(smatch("TO \"dave@example\"", 1, &m, msg2));
	assert_true(smatch("CC eve", 1, &m, msg2));
	assert_false(smatch("BCC eve", 1, &m, msg2));
	assert_true(smatch("SUBJECT \"quarterly REPORT\"", 1, &m, msg2));
	assert_true(smatch("HEADER X-Tag purple", 1, &m, msg2));
	assert_false(smatch("HEADER X-Tag green", 1, &m, msg2));
	assert_true(smatch("BODY \"up this\"", 1, &m, msg2));
	assert_false(smatch("BODY Carol", 1, &m, msg2));
	assert_true(smatch("TEXT Carol", 1, &m, msg2));
	assert_true(smatch("TEXT numbers", 1, &m, msg2));
	assert_false(smatch("TEXT zebra", 1, &m, msg2));
	assert_true(smatch("OR FROM zebra SUBJECT report", 1, &m, msg2));
	assert_true(smatch("CHARSET UTF-8 SUBJECT report", 1, &m, msg2));
	assert_true(smatch("charset us-ascii ALL", 1, &m, msg2));
}

static void
test_search_parse_results(void **state)
{
	static const char *const bad[] = {
		"", "FOO", "FROM", "HEADER X", "BEFORE 2024-01-01",
		"BEFORE 32-Jan-2024", "LARGER x", "LARGER", "NOT", "OR ALL",
		"(ALL", "ALL)", "()", "UID x", "UID", "0", "1:", "RETURN ALL",
		"RETURN (FOO) ALL", "RETURN (SAVE) ALL", "RETURN (MIN",
		"CHARSET", "SEEN (FLAGGED", "1 2 3 4 5 6 7 8 9",
		"\"ALL\"", "LARGER \"5\" ALL x",
	};
	char deep[512];
	const char *why;
	size_t k, n;

	(void)state;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		why = NULL;
		if (sparse(bad[k], &why) != -1)
			fail_msg("accepted: %s", bad[k]);
		assert_non_null(why);
	}
	assert_int_equal(sparse("CHARSET ISO-8859-1 ALL", &why), -2);
	assert_non_null(why);
	assert_int_equal(sparse("CHARSET KOI8-R FROM x", &why), -2);
	/* IMAP_SEARCH_SETS sets fit. */
	assert_int_equal(sparse("1 2 3 4 5 6 7 8", &why), 0);
	/* Nested too deep. */
	n = 0;
	for (k = 0; k < IMAP_SEARCH_DEPTH + 2; k++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "NOT ");
	snprintf(deep + n, sizeof(deep) - n, "ALL");
	assert_int_equal(sparse(deep, &why), -1);
	/* Too many nodes. */
	{
		static char longp[8192];

		n = 0;
		for (k = 0; k < IMAP_SEARCH_NODES; k++)
			n += (size_t)snprintf(longp + n, sizeof(longp) - n,
			    "SEEN ");
		assert_int_equal(sparse(longp, &why), -1);
	}
	assert_int_equal(sparse("RETURN (MIN MAX) ALL", &why), 0);
	assert_true(srch.esearch);
	assert_int_equal(srch.ret, IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX);
	assert_int_equal(sparse("RETURN () CHARSET UTF-8 ALL", &why), 0);
	assert_true(srch.esearch);
	assert_int_equal(srch.ret, IMAP_SEARCH_RET_ALL);
	assert_int_equal(sparse("RETURN (COUNT all) ALL", &why), 0);
	assert_int_equal(srch.ret, IMAP_SEARCH_RET_COUNT | IMAP_SEARCH_RET_ALL);
}

static void
test_search_format(void **state)
{
	static const uint32_t nums[] = { 1, 2, 3, 9, 11, 12 };
	struct buf out;
	const char *why;

	(void)state;
	buf_init(&out, 4096);
	assert_int_equal(sparse("ALL", &why), 0);
	assert_int_equal(imap_search_format(&out, &srch, "a1", 0, nums, 6), 0);
	assert_string_equal(out.data, "* SEARCH 1 2 3 9 11 12\r\n");
	buf_reset(&out);
	assert_int_equal(imap_search_format(&out, &srch, "a1", 0, nums, 0), 0);
	assert_string_equal(out.data, "* SEARCH\r\n");
	buf_reset(&out);
	assert_int_equal(sparse("RETURN (MIN MAX ALL COUNT) ALL", &why), 0);
	assert_int_equal(imap_search_format(&out, &srch, "a", 1, nums, 4), 0);
	assert_string_equal(out.data,
	    "* ESEARCH (TAG \"a\") UID MIN 1 MAX 9 COUNT 4 ALL 1:3,9\r\n");
	buf_reset(&out);
	assert_int_equal(imap_search_format(&out, &srch, "a", 0, nums, 6), 0);
	assert_string_equal(out.data, "* ESEARCH (TAG \"a\") MIN 1 MAX 12 "
	    "COUNT 6 ALL 1:3,9,11:12\r\n");
	buf_reset(&out);
	assert_int_equal(imap_search_format(&out, &srch, "a", 1, nums, 0), 0);
	assert_string_equal(out.data, "* ESEARCH (TAG \"a\") UID COUNT 0\r\n");
	buf_reset(&out);
	assert_int_equal(sparse("RETURN () ALL", &why), 0);
	assert_int_equal(imap_search_format(&out, &srch, NULL, 0, nums, 1), 0);
	assert_string_equal(out.data, "* ESEARCH ALL 1\r\n");
	buf_free(&out);
	/* Full: nothing is left behind. */
	buf_init(&out, 20);
	assert_int_equal(buf_appends(&out, "x"), 0);
	assert_int_equal(sparse("ALL", &why), 0);
	assert_int_equal(imap_search_format(&out, &srch, "a", 0, nums, 6), -1);
	assert_int_equal(out.len, 1);
	assert_string_equal(out.data, "x");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_parse_simple),
		cmocka_unit_test(test_fetch_parse_macros),
		cmocka_unit_test(test_fetch_parse_sections),
		cmocka_unit_test(test_fetch_parse_bad),
		cmocka_unit_test(test_fetch_parse_modifier_and_limit),
		cmocka_unit_test(test_fetch_simple_values),
		cmocka_unit_test(test_fetch_literals),
		cmocka_unit_test(test_fetch_header_fields),
		cmocka_unit_test(test_fetch_structures_framed),
		cmocka_unit_test(test_fetch_big_literal),
		cmocka_unit_test(test_fetch_full_out),
		cmocka_unit_test(test_search_flags_sets_sizes),
		cmocka_unit_test(test_search_dates),
		cmocka_unit_test(test_search_text),
		cmocka_unit_test(test_search_parse_results),
		cmocka_unit_test(test_search_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
