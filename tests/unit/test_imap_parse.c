/* test_imap_parse - the IMAP command reader: a table of commands fed whole
 * and byte by byte (same transcript of events), literals split across
 * feeds, LITERAL+, a streamed 1 MB APPEND, MULTIAPPEND, every BAD case
 * followed by a command that parses, the limits, sequence sets and the
 * string writers. */
#include "unit.h"
#include "buf.h"
#include "imap_parse.h"

#define MAXLIT	8	/* APPEND messages in the table: 8 octets at most */

/* A parser used before (or zeroed) made ready again. */
static void
reinit(struct imap_parser *p, uint64_t max)
{
	imap_parse_free(p);
	imap_parse_init(p, max);
}

/* The events of in[0..len) fed in pieces of `step` octets (0: whole), as
 * text: "CMD tag NAME a1|a2..", "CONT", "BEGIN n", "DATA n" (streamed
 * octets summed up to the END), "END", "BAD tag toobig". */
static void
transcript(struct imap_parser *p, const char *in, size_t len, size_t step,
    struct buf *t)
{
	size_t pos = 0, n, chunk, k, data = 0;
	enum imap_event ev;

	for (;;) {
		chunk = step == 0 || len - pos < step ? len - pos : step;
		n = imap_parse_feed(p, in + pos, chunk, &ev);
		assert_true(n <= chunk);
		pos += n;
		if (ev == IMAP_EV_NONE) {
			assert_int_equal(n, chunk);	/* all consumed */
			if (pos == len)
				break;
			continue;
		}
		if (ev != IMAP_EV_LITERAL_DATA && data > 0) {
			buf_printf(t, "DATA %zu\n", data);
			data = 0;
		}
		switch (ev) {
		case IMAP_EV_COMMAND:
			buf_printf(t, "CMD %s %s", p->cmd.tag, p->cmd.name);
			for (k = 0; k < p->cmd.nargs; k++) {
				const struct imap_arg *a = &p->cmd.args[k];
				char kind = "?ASN()"[a->type];

				buf_printf(t, " %c%u%s:", kind, a->depth,
				    a->literal ? "L" : "");
				buf_append(t, a->s, a->len);
				assert_int_equal(a->s[a->len], '\0');
			}
			buf_appendc(t, '\n');
			break;
		case IMAP_EV_CONTINUE:
			buf_appends(t, "CONT\n");
			break;
		case IMAP_EV_LITERAL_BEGIN:
			buf_printf(t, "BEGIN %llu\n",
			    (unsigned long long)p->literal_size);
			break;
		case IMAP_EV_LITERAL_DATA:
			assert_true(p->data_len > 0);
			assert_true(p->data >= in && p->data + p->data_len <=
			    in + len);
			data += p->data_len;
			break;
		case IMAP_EV_LITERAL_END:
			buf_appends(t, "END\n");
			break;
		case IMAP_EV_BAD:
			assert_non_null(p->error);
			buf_printf(t, "BAD %s%s\n", p->cmd.tag,
			    p->toobig ? " toobig" : "");
			break;
		default:
			fail();
		}
		if (pos == len && (ev == IMAP_EV_COMMAND || ev == IMAP_EV_BAD))
			break;	/* keep p->cmd for the caller */
	}
	if (data > 0)
		buf_printf(t, "DATA %zu\n", data);
}

struct pcase {
	const char	*in;
	size_t		 len;
	const char	*want;
};

#define S(x)	x, sizeof(x) - 1

static const struct pcase cases[] = {
	{ S("a1 NOOP\r\n"), "CMD a1 NOOP\n" },
	{ S("a1 noop\n"), "CMD a1 NOOP\n" },
	{ S("\r\n\na1 capability\r\n"), "CMD a1 CAPABILITY\n" },
	{ S("x] login fred \"se\\\"c\\\\r\"\r\n"),
	    "CMD x] LOGIN A0:fred S0:se\"c\\r\n" },
	{ S("a SELECT \"\"\r\n"), "CMD a SELECT S0:\n" },
	{ S("a uid fetch 1:*,5 (FLAGS BODY.PEEK[HEADER.FIELDS (A B)]<0.10>)\r\n"),
	    "CMD a UID A0:fetch A0:1:*,5 (0:( A1:FLAGS "
	    "A1:BODY.PEEK[HEADER.FIELDS (A B)]<0.10> )0:)\n" },
	{ S("a STORE 1 +FLAGS (\\Seen \\Deleted)\r\n"),
	    "CMD a STORE A0:1 A0:+FLAGS (0:( A1:\\Seen A1:\\Deleted )0:)\n" },
	{ S("a LIST \"\" %.*\r\n"), "CMD a LIST S0: A0:%.*\n" },
	{ S("a X nil NIL ((a) b)\r\n"),
	    "CMD a X N0:nil N0:NIL (0:( (1:( A2:a )1:) A1:b )0:)\n" },
	{ S("a LOGIN {4}\r\nfr\0d {3+}\r\n\r\n\"\r\n"),
	    "CONT\nCMD a LOGIN S0L:fr\0d S0L:\r\n\"\n" },
	{ S("a LOGIN {0}\r\n {0+}\r\n\r\n"),
	    "CONT\nCMD a LOGIN S0L: S0L:\n" },
	{ S("a APPEND INBOX (\\Seen) \"1-Jan-2020 00:00:00 +0000\" {5}\r\n"
	    "hello\r\n"),
	    "CONT\nBEGIN 5\nDATA 5\nEND\nCMD a APPEND A0:INBOX (0:( "
	    "A1:\\Seen )0:) S0:1-Jan-2020 00:00:00 +0000 S0L:\n" },
	{ S("a APPEND {5+}\r\nINBOX {3+}\r\nabc\r\n"),
	    "BEGIN 3\nDATA 3\nEND\nCMD a APPEND S0L:INBOX S0L:\n" },
	{ S("a APPEND x {0}\r\n\r\n"),
	    "CONT\nBEGIN 0\nEND\nCMD a APPEND A0:x S0L:\n" },
	{ S("a APPEND x {2+}\r\nab (\\Seen) {3}\r\nc\r\n {1}\r\nd\r\n"),
	    "BEGIN 2\nDATA 2\nEND\nCONT\nBEGIN 3\nDATA 3\nEND\n"
	    "CONT\nBEGIN 1\nDATA 1\nEND\n"
	    "CMD a APPEND A0:x S0L: (0:( A1:\\Seen )0:) S0L: S0L:\n" },
	/* BAD cases, each followed by a command that parses */
	{ S(" NOOP\r\nb NOOP\r\n"), "BAD *\nCMD b NOOP\n" },
	{ S("a+ NOOP\r\nb NOOP\r\n"), "BAD *\nCMD b NOOP\n" },
	{ S("a\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a \r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a NO(OP\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a NOOP\rx\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X (a\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X a)) b\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X \"a\\n\"\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X \"a\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X \"a\0\"\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X a\\b\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X a\"b\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X a[b\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X \x80\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X {}\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X {1x}\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X {1} x\r\nb NOOP\r\n"), "BAD a\nCMD b NOOP\n" },
	{ S("a X {123456789012345678901}\r\nb NOOP\r\n"),
	    "BAD a toobig\nCMD b NOOP\n" },
	{ S("a X {99999999999999999999}\r\nb NOOP\r\n"),
	    "BAD a toobig\nCMD b NOOP\n" },
	{ S("a X {65537}\r\nb NOOP\r\n"), "BAD a toobig\nCMD b NOOP\n" },
	/* a non-sync one too big: its octets are awaited, then BAD */
	{ S("a X {65537+}\r\nb NOOP\r\n"), "" },
	{ S("a APPEND x {3000000}\r\nb NOOP\r\n"),
	    "BAD a toobig\nCMD b NOOP\n" },
	{ S("a APPEND x {10+}\r\nb NOOP\r\n\r\n\r\nc NOOP\r\n"),
	    "BAD a toobig\nCMD c NOOP\n" },
	/* an error before an announced non-sync literal: its octets go */
	{ S("a X ( {6+}\r\n)\r\nx\r\n y\r\nb NOOP\r\n"),
	    "BAD a\nCMD b NOOP\n" },
	{ S("a X ((x) {3+}\r\n\r\n\r\nb NOOP\r\n"),
	    "BAD a\nCMD b NOOP\n" },
};

static void
test_table(void **state)
{
	struct imap_parser *p = calloc(1, sizeof(*p));
	struct buf whole, bytes, split;
	size_t k, step;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		buf_init(&whole, 1 << 20);
		reinit(p, MAXLIT);
		transcript(p, cases[k].in, cases[k].len, 0, &whole);
		for (step = 1; step <= 3; step++) {
			buf_init(&bytes, 1 << 20);
			reinit(p, MAXLIT);
			transcript(p, cases[k].in, cases[k].len, step, &bytes);
			assert_int_equal(bytes.len, whole.len);
			assert_memory_equal(bytes.data, whole.data, whole.len);
			buf_free(&bytes);
		}
		/* and split at every point */
		for (step = 1; step < cases[k].len; step++) {
			struct buf a;

			buf_init(&split, 1 << 20);
			buf_init(&a, 1 << 20);
			reinit(p, MAXLIT);
			transcript(p, cases[k].in, step, 0, &split);
			transcript(p, cases[k].in + step, cases[k].len - step,
			    0, &a);
			buf_append(&split, a.data, a.len);
			buf_free(&a);
			/* DATA counts may split in two; compare the rest */
			if (whole.len == 0 || strstr(whole.data, "DATA") == NULL) {
				assert_int_equal(split.len, whole.len);
				assert_memory_equal(split.data, whole.data,
				    whole.len);
			}
			buf_free(&split);
		}
		buf_free(&whole);
	}
	imap_parse_free(p);
	free(p);
}

/* The cases with a NUL in the wanted text, checked by length. */
static void
test_table_exact(void **state)
{
	struct imap_parser *p = calloc(1, sizeof(*p));
	struct buf t;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t wl = strlen(cases[k].want);

		if (k == 9)	/* "fr\0d" */
			wl = sizeof("CONT\nCMD a LOGIN S0L:fr\0d S0L:\r\n\"\n")
			    - 1;
		buf_init(&t, 1 << 20);
		reinit(p, MAXLIT);
		transcript(p, cases[k].in, cases[k].len, 0, &t);
		if (t.len != wl ||
		    (wl > 0 && memcmp(t.data, cases[k].want, wl) != 0))
			print_error("case %zu: got\n%s\nwant\n%s\n", k, t.data,
			    cases[k].want);
		assert_int_equal(t.len, wl);
		if (wl > 0)	/* t.data is NULL when nothing came */
			assert_memory_equal(t.data, cases[k].want, wl);
		buf_free(&t);
	}
	imap_parse_free(p);
	free(p);
}

static void
test_literal_split(void **state)
{
	struct imap_parser *p = calloc(1, sizeof(*p));
	enum imap_event ev;
	size_t n;

	(void)state;
	reinit(p, MAXLIT);
	n = imap_parse_feed(p, S("a LOGIN {5}\r"), &ev);
	assert_int_equal(ev, IMAP_EV_NONE);
	assert_int_equal(n, 12);
	n = imap_parse_feed(p, S("\nab"), &ev);
	assert_int_equal(ev, IMAP_EV_CONTINUE);
	assert_int_equal(n, 1);
	n = imap_parse_feed(p, S("ab"), &ev);
	assert_int_equal(ev, IMAP_EV_NONE);
	n = imap_parse_feed(p, S("cde pw\r\nb"), &ev);
	assert_int_equal(ev, IMAP_EV_COMMAND);
	assert_int_equal(n, 8);
	assert_int_equal(p->cmd.nargs, 2);
	assert_string_equal(p->cmd.args[0].s, "abcde");
	assert_string_equal(p->cmd.args[1].s, "pw");
	imap_parse_free(p);
	free(p);
}

/* Reject after CONTINUE: nothing was sent, the next line is a command. */
static void
test_reject(void **state)
{
	struct imap_parser *p = calloc(1, sizeof(*p));
	enum imap_event ev;
	size_t n;

	(void)state;
	reinit(p, 1000);
	n = imap_parse_feed(p, S("a APPEND x {100}\r\nb NOOP\r\n"), &ev);
	assert_int_equal(ev, IMAP_EV_CONTINUE);
	assert_int_equal(n, 18);
	imap_parse_reject_literal(p);
	assert_string_equal(p->cmd.tag, "a");	/* still there */
	imap_parse_feed(p, S("b NOOP\r\n"), &ev);
	assert_int_equal(ev, IMAP_EV_COMMAND);
	assert_string_equal(p->cmd.tag, "b");

	/* small sync literal */
	reinit(p, 1000);
	imap_parse_feed(p, S("a LOGIN {3}\r\n"), &ev);
	assert_int_equal(ev, IMAP_EV_CONTINUE);
	imap_parse_reject_literal(p);
	imap_parse_feed(p, S("b NOOP\r\n"), &ev);
	assert_int_equal(ev, IMAP_EV_COMMAND);
	assert_string_equal(p->cmd.tag, "b");

	/* non-sync after BEGIN: the octets (with a CRLF) are skipped */
	reinit(p, 1000);
	n = imap_parse_feed(p, S("a APPEND x {8+}\r\n"), &ev);
	assert_int_equal(ev, IMAP_EV_LITERAL_BEGIN);
	imap_parse_reject_literal(p);
	n = imap_parse_feed(p, S("c NOOP\r\n\r\nb NOOP\r\n"), &ev);
	assert_int_equal(ev, IMAP_EV_COMMAND);
	assert_string_equal(p->cmd.tag, "b");
	/* ... even when they hold what looks like lines */
	reinit(p, 1000);
	imap_parse_feed(p, S("a APPEND x {4+}\r\n"), &ev);
	assert_int_equal(ev, IMAP_EV_LITERAL_BEGIN);
	imap_parse_reject_literal(p);
	n = imap_parse_feed(p, S("x\r\ny\r\nb NOOP\r\n"), &ev);
	assert_int_equal(ev, IMAP_EV_COMMAND);
	assert_string_equal(p->cmd.tag, "b");
	/* after some of the octets were streamed */
	reinit(p, 1000);
	imap_parse_feed(p, S("a APPEND x {6}\r\n"), &ev);
	assert_int_equal(ev, IMAP_EV_CONTINUE);
	imap_parse_feed(p, NULL, 0, &ev);
	assert_int_equal(ev, IMAP_EV_LITERAL_BEGIN);
	n = imap_parse_feed(p, S("x\r"), &ev);
	assert_int_equal(ev, IMAP_EV_LITERAL_DATA);
	imap_parse_reject_literal(p);
	n = imap_parse_feed(p, S("\ny\r\n z\r\nb NOOP\r\n"), &ev);
	assert_int_equal(ev, IMAP_EV_COMMAND);
	assert_string_equal(p->cmd.tag, "b");
	imap_parse_free(p);
	free(p);
}

static void
test_append_1mb(void **state)
{
	struct imap_parser *p = calloc(1, sizeof(*p));
	const size_t size = 1024 * 1024;
	char *msg = malloc(size + 64), hdr[64];
	size_t i, pos, n, got = 0, hl;
	enum imap_event ev;
	int begins = 0, ends = 0, cmds = 0, conts = 0;

	(void)state;
	hl = (size_t)snprintf(hdr, sizeof(hdr), "t APPEND INBOX {%zu}\r\n",
	    size);
	memcpy(msg, hdr, hl);
	for (i = 0; i < size; i++)
		msg[hl + i] = (char)(i * 7);	/* NULs, CRLFs, anything */
	memcpy(msg + hl + size, "\r\n", 2);
	reinit(p, size);
	for (pos = 0; pos < hl + size + 2; pos += n) {
		size_t chunk = hl + size + 2 - pos;

		if (chunk > 4093)
			chunk = 4093;
		n = imap_parse_feed(p, msg + pos, chunk, &ev);
		switch (ev) {
		case IMAP_EV_CONTINUE: conts++; break;
		case IMAP_EV_LITERAL_BEGIN:
			begins++;
			assert_int_equal(p->literal_size, size);
			break;
		case IMAP_EV_LITERAL_DATA:
			assert_memory_equal(p->data, msg + hl + got,
			    p->data_len);
			got += p->data_len;
			break;
		case IMAP_EV_LITERAL_END: ends++; break;
		case IMAP_EV_COMMAND: cmds++; break;
		case IMAP_EV_NONE: break;
		default: fail();
		}
	}
	assert_int_equal(got, size);
	assert_int_equal(conts, 1);
	assert_int_equal(begins, 1);
	assert_int_equal(ends, 1);
	assert_int_equal(cmds, 1);
	assert_int_equal(p->cmd.nargs, 2);
	/* one octet over max_literal: refused */
	reinit(p, size - 1);
	n = imap_parse_feed(p, msg, hl, &ev);
	assert_int_equal(ev, IMAP_EV_BAD);
	assert_int_equal(p->toobig, 1);
	free(msg);
	imap_parse_free(p);
	free(p);
}

static void
test_limits(void **state)
{
	struct imap_parser *p = calloc(1, sizeof(*p));
	struct buf in, t;
	size_t k;

	(void)state;
	/* too many tokens */
	buf_init(&in, 1 << 20);
	buf_appends(&in, "a X");
	for (k = 0; k < IMAP_ARGS_MAX + 1; k++)
		buf_appends(&in, " x");
	buf_appends(&in, "\r\nb NOOP\r\n");
	buf_init(&t, 1 << 20);
	reinit(p, MAXLIT);
	transcript(p, in.data, in.len, 0, &t);
	assert_string_equal(t.data, "BAD a toobig\nCMD b NOOP\n");
	buf_free(&in);
	buf_free(&t);
	/* exactly IMAP_ARGS_MAX: fine */
	buf_init(&in, 1 << 20);
	buf_appends(&in, "a X");
	for (k = 0; k < IMAP_ARGS_MAX; k++)
		buf_appends(&in, " x");
	buf_appends(&in, "\r\n");
	reinit(p, MAXLIT);
	buf_init(&t, 1 << 20);
	transcript(p, in.data, in.len, 0, &t);
	assert_int_equal(p->cmd.nargs, IMAP_ARGS_MAX);
	buf_free(&in);
	buf_free(&t);
	/* too deep */
	buf_init(&in, 1 << 20);
	buf_appends(&in, "a X ");
	for (k = 0; k < IMAP_DEPTH_MAX + 1; k++)
		buf_appendc(&in, '(');
	buf_appends(&in, "\r\nb NOOP\r\n");
	buf_init(&t, 1 << 20);
	reinit(p, MAXLIT);
	transcript(p, in.data, in.len, 0, &t);
	assert_string_equal(t.data, "BAD a toobig\nCMD b NOOP\n");
	buf_free(&in);
	buf_free(&t);
	/* exactly IMAP_DEPTH_MAX deep: fine */
	buf_init(&in, 1 << 20);
	buf_appends(&in, "a X ");
	for (k = 0; k < IMAP_DEPTH_MAX; k++)
		buf_appendc(&in, '(');
	for (k = 0; k < IMAP_DEPTH_MAX; k++)
		buf_appendc(&in, ')');
	buf_appends(&in, "\r\n");
	buf_init(&t, 1 << 20);
	reinit(p, MAXLIT);
	transcript(p, in.data, in.len, 0, &t);
	assert_int_equal(p->cmd.nargs, 2 * IMAP_DEPTH_MAX);
	assert_int_equal(p->cmd.args[IMAP_DEPTH_MAX - 1].depth,
	    IMAP_DEPTH_MAX - 1);
	buf_free(&in);
	buf_free(&t);
	/* too long: an atom, then spaces */
	buf_init(&in, 1 << 20);
	buf_appends(&in, "a X ");
	for (k = 0; k < IMAP_CMD_MAX + 1; k++)
		buf_appendc(&in, 'y');
	buf_appends(&in, "\r\nb NOOP\r\na X");
	for (k = 0; k < IMAP_CMD_MAX + 1; k++)
		buf_appendc(&in, ' ');
	buf_appends(&in, "\r\nc NOOP\r\n");
	buf_init(&t, 1 << 20);
	reinit(p, MAXLIT);
	transcript(p, in.data, in.len, 0, &t);
	assert_string_equal(t.data,
	    "BAD a toobig\nCMD b NOOP\nBAD a toobig\nCMD c NOOP\n");
	buf_free(&in);
	buf_free(&t);
	/* long tag */
	buf_init(&in, 1 << 20);
	for (k = 0; k < IMAP_TAG_MAX + 1; k++)
		buf_appendc(&in, 't');
	buf_appends(&in, " NOOP\r\nb NOOP\r\n");
	buf_init(&t, 1 << 20);
	reinit(p, MAXLIT);
	transcript(p, in.data, in.len, 0, &t);
	assert_non_null(strstr(t.data, "toobig\nCMD b NOOP\n"));
	buf_free(&in);
	buf_free(&t);
	imap_parse_free(p);
	free(p);
}

/* Feed in[0..len) in pieces of step octets until an event other than
 * CONTINUE; returns it. */
static enum imap_event
feed_until(struct imap_parser *p, const char *in, size_t len, size_t step,
    size_t *pos)
{
	enum imap_event ev = IMAP_EV_NONE;
	size_t chunk;

	while (*pos < len) {
		chunk = len - *pos < step ? len - *pos : step;
		*pos += imap_parse_feed(p, in + *pos, chunk, &ev);
		if (ev != IMAP_EV_NONE && ev != IMAP_EV_CONTINUE)
			return ev;
	}
	return ev;
}

/* The arena and token list grow while a big command is read (tokens
 * read before a move keep their text) and go back to their small size
 * when the next command starts. */
static void
test_grow_and_shrink(void **state)
{
	struct imap_parser *p = calloc(1, sizeof(*p));
	struct buf in;
	char want[32];
	size_t k, pos, steps[] = { 1, 7, 1000, 1 << 20 }, si;
	enum imap_event ev;

	(void)state;
	buf_init(&in, 1 << 20);
	buf_appends(&in, "a X");
	for (k = 0; k < 300; k++)
		buf_printf(&in, " tok%zu", k);
	buf_appends(&in, " {5000}\r\n");
	for (k = 0; k < 5000; k++)
		buf_appendc(&in, (char)('a' + k % 26));
	buf_appends(&in, " (end \"q s\")\r\nb NOOP\r\n");
	for (si = 0; si < sizeof(steps) / sizeof(steps[0]); si++) {
		reinit(p, MAXLIT);
		assert_int_equal(p->arena_cap, IMAP_ARENA_START);
		assert_int_equal(p->args_cap, IMAP_ARGS_START);
		pos = 0;
		ev = feed_until(p, in.data, in.len, steps[si], &pos);
		assert_int_equal(ev, IMAP_EV_COMMAND);
		assert_int_equal(p->cmd.nargs, 300 + 1 + 4);
		assert_true(p->arena_cap > IMAP_ARENA_START);
		assert_true(p->arena_cap <= IMAP_CMD_MAX + 1);
		assert_true(p->args_cap > IMAP_ARGS_START);
		for (k = 0; k < 300; k++) {
			snprintf(want, sizeof(want), "tok%zu", k);
			assert_string_equal(p->cmd.args[k].s, want);
		}
		assert_int_equal(p->cmd.args[300].len, 5000);
		assert_int_equal(p->cmd.args[300].literal, 1);
		for (k = 0; k < 5000; k++)
			assert_int_equal(p->cmd.args[300].s[k],
			    (char)('a' + k % 26));
		assert_string_equal(p->cmd.args[302].s, "end");
		assert_string_equal(p->cmd.args[303].s, "q s");
		ev = feed_until(p, in.data, in.len, steps[si], &pos);
		assert_int_equal(ev, IMAP_EV_COMMAND);
		assert_string_equal(p->cmd.name, "NOOP");
		assert_int_equal(p->arena_cap, IMAP_ARENA_START);
		assert_int_equal(p->args_cap, IMAP_ARGS_START);
	}
	buf_free(&in);

	/* the largest literal fills the arena to its limit exactly */
	buf_init(&in, 1 << 20);
	buf_printf(&in, "a X {%u+}\r\n", (unsigned)IMAP_LITERAL_SMALL);
	for (k = 0; k < IMAP_LITERAL_SMALL; k++)
		buf_appendc(&in, 'z');
	buf_appends(&in, "\r\nb X {1+}\r\nz ");
	for (k = 0; k < IMAP_CMD_MAX; k++)
		buf_appendc(&in, 'y');
	buf_appends(&in, "\r\nc NOOP\r\n");
	reinit(p, MAXLIT);
	pos = 0;
	ev = feed_until(p, in.data, in.len, 4096, &pos);
	assert_int_equal(ev, IMAP_EV_COMMAND);
	assert_int_equal(p->cmd.nargs, 1);
	assert_int_equal(p->cmd.args[0].len, IMAP_LITERAL_SMALL);
	assert_int_equal(p->arena_cap, IMAP_CMD_MAX + 1);
	/* then a command too long: refused, and the arena small again */
	ev = feed_until(p, in.data, in.len, 4096, &pos);
	assert_int_equal(ev, IMAP_EV_BAD);
	assert_int_equal(p->toobig, 1);
	ev = feed_until(p, in.data, in.len, 4096, &pos);
	assert_int_equal(ev, IMAP_EV_COMMAND);
	assert_string_equal(p->cmd.tag, "c");
	assert_int_equal(p->arena_cap, IMAP_ARENA_START);
	buf_free(&in);
	imap_parse_free(p);
	imap_parse_free(p);	/* twice is harmless */
	free(p);
}

static void
test_seqset(void **state)
{
	struct imap_seqset *s = malloc(sizeof(*s));

	(void)state;
	assert_int_equal(imap_seqset_parse(S("1:*"), s), 0);
	assert_true(imap_seqset_contains(s, 1, 10));
	assert_true(imap_seqset_contains(s, 10, 10));
	assert_false(imap_seqset_contains(s, 11, 10));
	assert_int_equal(imap_seqset_parse(S("*:4"), s), 0);
	assert_false(imap_seqset_contains(s, 3, 10));
	assert_true(imap_seqset_contains(s, 4, 10));
	assert_true(imap_seqset_contains(s, 10, 10));
	assert_true(imap_seqset_contains(s, 3, 3));	/* 3:4, max 3 */
	assert_int_equal(imap_seqset_parse(S("3,5:7"), s), 0);
	assert_int_equal(s->n, 2);
	assert_true(imap_seqset_contains(s, 3, 100));
	assert_false(imap_seqset_contains(s, 4, 100));
	assert_true(imap_seqset_contains(s, 6, 100));
	assert_false(imap_seqset_contains(s, 8, 100));
	assert_int_equal(imap_seqset_parse(S("7:5"), s), 0);
	assert_true(imap_seqset_contains(s, 5, 100));
	assert_int_equal(imap_seqset_parse(S("*"), s), 0);
	assert_true(imap_seqset_contains(s, 9, 9));
	assert_false(imap_seqset_contains(s, 8, 9));
	assert_int_equal(imap_seqset_parse(S("4294967294"), s), 0);
	assert_int_equal(imap_seqset_parse(S("0"), s), -1);
	assert_int_equal(imap_seqset_parse(S("1:"), s), -1);
	assert_int_equal(imap_seqset_parse(S("a"), s), -1);
	assert_int_equal(imap_seqset_parse(S(""), s), -1);
	assert_int_equal(imap_seqset_parse(S("1,"), s), -1);
	assert_int_equal(imap_seqset_parse(S("01"), s), -1);
	assert_int_equal(imap_seqset_parse(S("1:0"), s), -1);
	assert_int_equal(imap_seqset_parse(S("4294967296"), s), -1);
	assert_int_equal(imap_seqset_parse(S("$"), s), -1);
	free(s);
}

static void
put_case(int n, const char *s, size_t len, const char *want, size_t wantlen)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	if (n)
		assert_int_equal(imap_put_nstring(&b, s, len), 0);
	else
		assert_int_equal(imap_put_string(&b, s, len), 0);
	assert_int_equal(b.len, wantlen);
	assert_memory_equal(b.data, want, wantlen);
	buf_free(&b);
}

static void
test_put(void **state)
{
	char big[1024];
	struct buf b;

	(void)state;
	put_case(0, S("INBOX"), S("INBOX"));
	put_case(0, S(""), S("\"\""));
	put_case(0, S("a b"), S("\"a b\""));
	put_case(0, S("a\"b\\"), S("\"a\\\"b\\\\\""));
	put_case(0, S("NIL"), S("\"NIL\""));
	put_case(0, S("a[b"), S("\"a[b\""));
	put_case(0, S("\\Seen"), S("\"\\\\Seen\""));
	put_case(0, S("a*"), S("\"a*\""));
	put_case(0, S("a\r\nb"), S("{4}\r\na\r\nb"));
	put_case(0, S("a\0b"), S("{3}\r\na\0b"));
	put_case(0, S("caf\xc3\xa9"), S("{5}\r\ncaf\xc3\xa9"));
	put_case(1, NULL, 0, S("NIL"));
	put_case(1, S("INBOX"), S("\"INBOX\""));
	put_case(1, S("NIL"), S("\"NIL\""));
	put_case(1, S(""), S("\"\""));
	memset(big, 'x', sizeof(big));
	buf_init(&b, 1 << 20);
	assert_int_equal(imap_put_nstring(&b, big, 1023), 0);
	assert_int_equal(b.len, 1025);
	buf_reset(&b);
	assert_int_equal(imap_put_nstring(&b, big, 1024), 0);
	assert_memory_equal(b.data, "{1024}\r\n", 8);
	assert_int_equal(b.len, 1032);
	buf_free(&b);
	/* full: -1 and nothing written */
	buf_init(&b, 4);
	assert_int_equal(imap_put_string(&b, S("a b c")), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_exact),
		cmocka_unit_test(test_literal_split),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_append_1mb),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_grow_and_shrink),
		cmocka_unit_test(test_seqset),
		cmocka_unit_test(test_put),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
