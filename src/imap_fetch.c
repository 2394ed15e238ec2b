/* imap_fetch - FETCH attributes, the piecewise FETCH response, SEARCH
 *              programs and their results. See imap_fetch.h. */
#include <string.h>
#include <strings.h>
#include "decimal.h"
#include "imap_fetch.h"

/* A literal copied when out already holds `until` octets still moves on
 * by this much, so a caller with a small until makes progress. */
#define FETCH_CHUNK_MIN		4096
#define DAY			86400

/* ---- tokens ---- */

static int
word_is(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word);

	return len == wl && strncasecmp(s, word, wl) == 0;
}

static int
tok_is(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_TOK_ATOM && word_is(a->s, a->len, word);
}

static int
prefix_is(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word);

	return len >= wl && strncasecmp(s, word, wl) == 0;
}

/* ---- FETCH attributes ---- */

static struct imap_fetch_item *
item_new(struct imap_fetch_items *items, enum imap_fetch_kind kind,
    const char *label)
{
	struct imap_fetch_item *it;

	if (items->n >= IMAP_FETCH_ITEMS)
		return NULL;
	it = &items->it[items->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	if (label != NULL && xsnprintf(it->label, sizeof(it->label), "%s",
	    label) < 0)
		it->label[0] = '\0';
	return it;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* header-list: "(" name *(SP name) ")" to the end of s. */
static int
header_list_ok(const char *s, size_t len)
{
	size_t i, start;

	if (len < 3 || s[0] != '(' || s[len - 1] != ')')
		return 0;
	for (i = 1; i < len - 1; i++) {
		start = i;
		while (i < len - 1 && s[i] != ' ') {
			unsigned char c = (unsigned char)s[i];

			/* A field name is printable ASCII without ':'
			 * (RFC 5322 ftext); no quoting needed or taken. */
			if (c <= 0x20 || c >= 0x7f || c == ':' || c == '(' ||
			    c == ')' || c == '"')
				return 0;
			i++;
		}
		if (i == start)
			return 0;	/* empty name: "( A)" or "(A  B)" */
	}
	return 1;
}

/* section-msgtext (RFC 9051 9): HEADER, TEXT, HEADER.FIELDS[.NOT] list;
 * after a part number also MIME. */
static int
msgtext_ok(const char *s, size_t len, int part)
{
	if (word_is(s, len, "HEADER") || word_is(s, len, "TEXT"))
		return 1;
	if (part && word_is(s, len, "MIME"))
		return 1;
	if (prefix_is(s, len, "HEADER.FIELDS.NOT "))
		return header_list_ok(s + 18, len - 18);
	if (prefix_is(s, len, "HEADER.FIELDS "))
		return header_list_ok(s + 14, len - 14);
	return 0;
}

/* section-spec: empty, msgtext, or part ("1.2") optionally "." text. */
static int
section_ok(const char *s, size_t len)
{
	size_t i = 0, start;
	uint64_t v;

	if (len == 0)
		return 1;
	if (!is_digit(s[0]))
		return msgtext_ok(s, len, 0);
	for (;;) {
		start = i;
		while (i < len && is_digit(s[i]))
			i++;
		if (parse_decimal(s + start, i - start, UINT32_MAX, &v) < 0 ||
		    v == 0)
			return 0;
		if (i == len)
			return 1;
		if (s[i] != '.' || i + 1 == len)
			return 0;
		i++;
		if (!is_digit(s[i]))
			return msgtext_ok(s + i, len - i, 1);
	}
}

/* BODY[spec]<o.n> or BODY.PEEK[...]: s at the '[' ... to the end. */
static int
parse_section(struct imap_fetch_items *items, const char *s, size_t len,
    int peek, const char **why_r)
{
	struct imap_fetch_item *it;
	const char *close, *dot;
	size_t speclen, i, rl;
	uint64_t o, n;
	char upper[sizeof(it->spec)];

	close = memchr(s, ']', len);
	if (close == NULL) {
		*why_r = "missing ] in section";
		return -1;
	}
	speclen = (size_t)(close - s) - 1;
	if (speclen >= sizeof(it->spec) || !section_ok(s + 1, speclen)) {
		*why_r = "invalid section";
		return -1;
	}
	if ((it = item_new(items, IMAP_FA_SECTION, NULL)) == NULL) {
		*why_r = "too many fetch attributes";
		return -1;
	}
	it->peek = peek;
	memcpy(it->spec, s + 1, speclen);
	it->spec[speclen] = '\0';
	for (i = 0; i < speclen; i++) {
		char c = it->spec[i];

		upper[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	upper[speclen] = '\0';
	rl = len - (size_t)(close + 1 - s);	/* what follows the ']' */
	s = close + 1;
	if (rl > 0) {
		/* "<" origin "." count ">" and nothing after it. */
		if (s[0] != '<' || s[rl - 1] != '>' ||
		    (dot = memchr(s, '.', rl)) == NULL ||
		    parse_decimal(s + 1, (size_t)(dot - s) - 1, UINT32_MAX,
		    &o) < 0 ||
		    parse_decimal(dot + 1, (size_t)(s + rl - 1 - dot) - 1,
		    UINT32_MAX, &n) < 0 || n == 0) {
			items->n--;
			*why_r = "invalid partial <origin.count>";
			return -1;
		}
		it->partial = 1;
		it->origin = o;
		it->count = n;
		/* RFC 9051 7.5.2: the response names only the origin. */
		xsnprintf(it->label, sizeof(it->label), "BODY[%s]<%llu>",
		    upper, (unsigned long long)o);
	} else
		xsnprintf(it->label, sizeof(it->label), "BODY[%s]", upper);
	return 0;
}

static int
parse_att(struct imap_fetch_items *items, const struct imap_arg *a,
    const char **why_r)
{
	static const struct {
		const char		*name;
		enum imap_fetch_kind	 kind;
		const char		*label;
		int			 peek;
		const char		*spec;
	} simple[] = {
		{ "UID", IMAP_FA_UID, "UID", 0, NULL },
		{ "FLAGS", IMAP_FA_FLAGS, "FLAGS", 0, NULL },
		{ "INTERNALDATE", IMAP_FA_INTERNALDATE, "INTERNALDATE", 0, NULL },
		{ "RFC822.SIZE", IMAP_FA_SIZE, "RFC822.SIZE", 0, NULL },
		{ "ENVELOPE", IMAP_FA_ENVELOPE, "ENVELOPE", 0, NULL },
		{ "BODY", IMAP_FA_BODY, "BODY", 0, NULL },
		{ "BODYSTRUCTURE", IMAP_FA_BODYSTRUCTURE, "BODYSTRUCTURE", 0,
		    NULL },
		{ "RFC822", IMAP_FA_SECTION, "RFC822", 0, "" },
		{ "RFC822.HEADER", IMAP_FA_SECTION, "RFC822.HEADER", 1,
		    "HEADER" },
		{ "RFC822.TEXT", IMAP_FA_SECTION, "RFC822.TEXT", 0, "TEXT" },
	};
	struct imap_fetch_item *it;
	size_t k;

	if (a->type != IMAP_TOK_ATOM) {
		*why_r = "fetch attribute expected";
		return -1;
	}
	for (k = 0; k < sizeof(simple) / sizeof(simple[0]); k++) {
		if (!word_is(a->s, a->len, simple[k].name))
			continue;
		if ((it = item_new(items, simple[k].kind, simple[k].label)) ==
		    NULL) {
			*why_r = "too many fetch attributes";
			return -1;
		}
		it->peek = simple[k].peek;
		if (simple[k].spec != NULL)
			xsnprintf(it->spec, sizeof(it->spec), "%s",
			    simple[k].spec);
		return 0;
	}
	if (prefix_is(a->s, a->len, "BODY["))
		return parse_section(items, a->s + 4, a->len - 4, 0, why_r);
	if (prefix_is(a->s, a->len, "BODY.PEEK["))
		return parse_section(items, a->s + 9, a->len - 9, 1, why_r);
	if (word_is(a->s, a->len, "MODSEQ")) {
		*why_r = "MODSEQ: mod-sequences are not kept (no CONDSTORE)";
		return -1;
	}
	*why_r = "unknown fetch attribute";
	return -1;
}

static int
parse_macro(struct imap_fetch_items *items, const struct imap_arg *a)
{
	static const char *const all[] = { "FLAGS", "INTERNALDATE",
	    "RFC822.SIZE", "ENVELOPE", "BODY" };
	static const enum imap_fetch_kind kinds[] = { IMAP_FA_FLAGS,
	    IMAP_FA_INTERNALDATE, IMAP_FA_SIZE, IMAP_FA_ENVELOPE,
	    IMAP_FA_BODY };
	size_t n, k;

	if (tok_is(a, "FAST"))
		n = 3;
	else if (tok_is(a, "ALL"))
		n = 4;
	else if (tok_is(a, "FULL"))
		n = 5;
	else
		return 0;
	for (k = 0; k < n; k++)
		(void)item_new(items, kinds[k], all[k]);
	return 1;
}

static int
has_kind(const struct imap_fetch_items *items, enum imap_fetch_kind kind)
{
	size_t k;

	for (k = 0; k < items->n; k++)
		if (items->it[k].kind == kind)
			return 1;
	return 0;
}

int
imap_fetch_parse(const struct imap_arg *args, size_t nargs, int uid,
    struct imap_fetch_items *items, const char **why_r)
{
	size_t i = 0, first;
	uint64_t v;

	memset(items, 0, sizeof(*items));
	items->uid = uid;
	*why_r = "fetch attributes expected";
	if (nargs == 0)
		return -1;
	if (args[0].type == IMAP_TOK_LIST_OPEN) {
		first = ++i;
		while (i < nargs && args[i].type != IMAP_TOK_LIST_CLOSE) {
			if (parse_att(items, &args[i], why_r) < 0)
				return -1;
			i++;
		}
		if (i == nargs) {
			*why_r = "missing ) after fetch attributes";
			return -1;
		}
		if (i == first) {
			*why_r = "empty fetch attribute list";
			return -1;
		}
		i++;
	} else if (parse_macro(items, &args[0]))
		i = 1;
	else {
		if (parse_att(items, &args[0], why_r) < 0)
			return -1;
		i = 1;
	}
	/* fetch-modifiers (RFC 4466): "(" CHANGEDSINCE n ")". */
	if (i < nargs) {
		if (args[i].type != IMAP_TOK_LIST_OPEN) {
			*why_r = "unexpected text after fetch attributes";
			return -1;
		}
		if (++i < nargs && args[i].type == IMAP_TOK_LIST_CLOSE) {
			*why_r = "empty fetch modifier list";
			return -1;
		}
		while (i < nargs && args[i].type != IMAP_TOK_LIST_CLOSE) {
			if (!tok_is(&args[i], "CHANGEDSINCE") ||
			    i + 1 >= nargs ||
			    args[i + 1].type != IMAP_TOK_ATOM ||
			    parse_decimal(args[i + 1].s, args[i + 1].len,
			    INT64_MAX, &v) < 0) {
				*why_r = "unknown fetch modifier";
				return -1;
			}
			items->changedsince = v;
			i += 2;
		}
		if (i == nargs) {
			*why_r = "missing ) after fetch modifiers";
			return -1;
		}
		if (++i < nargs) {
			*why_r = "unexpected text after fetch modifiers";
			return -1;
		}
	}
	if (uid && !has_kind(items, IMAP_FA_UID)) {
		if (items->n >= IMAP_FETCH_ITEMS) {
			*why_r = "too many fetch attributes";
			return -1;
		}
		/* UID first: a client reads it before anything else. */
		memmove(&items->it[1], &items->it[0],
		    items->n * sizeof(items->it[0]));
		items->n++;
		memset(&items->it[0], 0, sizeof(items->it[0]));
		items->it[0].kind = IMAP_FA_UID;
		xsnprintf(items->it[0].label, sizeof(items->it[0].label),
		    "UID");
	}
	*why_r = NULL;
	return 0;
}

int
imap_fetch_needs_body(const struct imap_fetch_items *items)
{
	size_t k;

	for (k = 0; k < items->n; k++)
		switch (items->it[k].kind) {
		case IMAP_FA_UID:
		case IMAP_FA_FLAGS:
		case IMAP_FA_INTERNALDATE:
		case IMAP_FA_SIZE:
		case IMAP_FA_MODSEQ:
			break;
		default:
			return 1;
		}
	return 0;
}

int
imap_fetch_sets_seen(const struct imap_fetch_items *items)
{
	size_t k;

	for (k = 0; k < items->n; k++)
		if (items->it[k].kind == IMAP_FA_SECTION && !items->it[k].peek)
			return 1;
	return 0;
}

/* ---- the FETCH response ---- */

enum { PH_START, PH_ITEMS, PH_DONE };
enum { ST_BEGIN, ST_LITERAL, ST_TMP };

void
imap_fetch_begin(struct imap_fetch_iter *it,
    const struct imap_fetch_items *items, const struct imap_msg *msg,
    uint32_t seq, const char *data, size_t len, int add_flags)
{
	memset(it, 0, sizeof(*it));
	it->items = items;
	it->msg = msg;
	it->seq = seq;
	it->data = data != NULL ? data : "";
	it->len = data != NULL ? len : 0;
	it->add_flags = add_flags && !has_kind(items, IMAP_FA_FLAGS);
	it->nitems = items->n + (it->add_flags ? 1 : 0);
	it->phase = PH_START;
	buf_init(&it->tmp, IMAP_FETCH_TMP_MAX);
}

void
imap_fetch_abort(struct imap_fetch_iter *it)
{
	buf_free(&it->tmp);
	it->phase = PH_DONE;
}

static int
put_flags(struct buf *out, const char *sep, unsigned flags)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ IMAP_F_SEEN, "\\Seen" }, { IMAP_F_ANSWERED, "\\Answered" },
		{ IMAP_F_FLAGGED, "\\Flagged" }, { IMAP_F_DELETED, "\\Deleted" },
		{ IMAP_F_DRAFT, "\\Draft" },
	};
	char text[64];
	size_t k, n = 0;

	text[0] = '\0';
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		if (!(flags & names[k].bit))
			continue;
		n += (size_t)xsnprintf(text + n, sizeof(text) - n, "%s%s",
		    n ? " " : "", names[k].name);
	}
	return buf_printf(out, "%sFLAGS (%s)", sep, text);
}

/* The spans of the section, made safe (inside the message) and summed,
 * then the partial's origin skipped. */
static void
section_setup(struct imap_fetch_iter *it, const struct imap_fetch_item *fi)
{
	struct imap_spans *sp = &it->spans;
	uint64_t total = 0, skip;
	size_t k;

	if (imap_section(it->data, it->len, fi->spec, strlen(fi->spec),
	    sp) < 0 || sp->n > IMAP_SPANS_MAX)
		sp->n = 0;
	for (k = 0; k < sp->n; k++) {
		struct imap_span *s = &sp->s[k];

		if (s->off == IMAP_SPAN_CRLF)
			s->len = 2;
		else if (s->off > it->len)
			s->len = 0;
		else if (s->len > it->len - s->off)
			s->len = it->len - s->off;
		total += s->len;
	}
	sp->total = total;
	it->span = 0;
	it->span_off = 0;
	if (!fi->partial)
		it->left = total;
	else if (fi->origin >= total)
		it->left = 0;
	else
		it->left = total - fi->origin < fi->count ?
		    total - fi->origin : fi->count;
	skip = fi->partial ? fi->origin : 0;
	while (skip > 0 && it->span < sp->n) {
		uint64_t avail = sp->s[it->span].len - it->span_off;

		if (skip >= avail) {
			skip -= avail;
			it->span++;
			it->span_off = 0;
		} else {
			it->span_off += skip;
			skip = 0;
		}
	}
	it->skip = 0;
}

static size_t
room(const struct buf *out, size_t until)
{
	return out->len < until ? until - out->len : FETCH_CHUNK_MIN;
}

/* Copy the next chunk of the literal. 0, or -1 when out is full. */
static int
literal_chunk(struct imap_fetch_iter *it, struct buf *out, size_t until)
{
	size_t r = room(out, until), n;
	const struct imap_span *s;
	const char *p;

	while (it->left > 0 && r > 0) {
		if (it->span >= it->spans.n)
			return -1;	/* cannot happen: left <= the sum */
		s = &it->spans.s[it->span];
		n = (size_t)(s->len - it->span_off);
		if (n == 0) {
			it->span++;
			it->span_off = 0;
			continue;
		}
		if (n > r)
			n = r;
		if (n > it->left)
			n = (size_t)it->left;
		p = s->off == IMAP_SPAN_CRLF ? &"\r\n"[it->span_off] :
		    it->data + s->off + it->span_off;
		if (buf_append(out, p, n) < 0)
			return -1;
		it->span_off += n;
		it->left -= n;
		r -= n;
	}
	return 0;
}

static int
tmp_chunk(struct imap_fetch_iter *it, struct buf *out, size_t until)
{
	size_t n = it->tmp.len - it->tmp_off, r = room(out, until);

	if (n > r)
		n = r;
	if (buf_append(out, it->tmp.data + it->tmp_off, n) < 0)
		return -1;
	it->tmp_off += n;
	return 0;
}

/* Start item k: its name and the small values whole. */
static int
item_begin(struct imap_fetch_iter *it, struct buf *out)
{
	const struct imap_fetch_item *fi;
	const char *sep = it->item > 0 ? " " : "";
	char date[32];
	int r;

	if (it->item == it->items->n)		/* the added FLAGS */
		return put_flags(out, sep, it->msg->flags);
	fi = &it->items->it[it->item];
	switch (fi->kind) {
	case IMAP_FA_UID:
		return buf_printf(out, "%sUID %u", sep, it->msg->uid);
	case IMAP_FA_FLAGS:
		return put_flags(out, sep, it->msg->flags);
	case IMAP_FA_INTERNALDATE:
		imap_format_datetime(it->msg->internaldate, date);
		date[sizeof(date) - 1] = '\0';
		return buf_printf(out, "%sINTERNALDATE \"%s\"", sep, date);
	case IMAP_FA_SIZE:
		return buf_printf(out, "%sRFC822.SIZE %llu", sep,
		    (unsigned long long)it->msg->size);
	case IMAP_FA_ENVELOPE:
	case IMAP_FA_BODY:
	case IMAP_FA_BODYSTRUCTURE:
		if (buf_printf(out, "%s%s ", sep, fi->label) < 0)
			return -1;
		buf_reset(&it->tmp);
		if (fi->kind == IMAP_FA_ENVELOPE)
			r = imap_envelope(it->data, it->len, &it->tmp);
		else
			r = imap_bodystructure(it->data, it->len,
			    fi->kind == IMAP_FA_BODYSTRUCTURE, &it->tmp);
		if (r < 0 || it->tmp.len == 0) {
			buf_reset(&it->tmp);
			(void)buf_appends(&it->tmp, "NIL");
		}
		it->tmp_off = 0;
		it->step = ST_TMP;
		return 0;
	case IMAP_FA_SECTION:
		section_setup(it, fi);
		if (buf_printf(out, "%s%s {%llu}\r\n", sep, fi->label,
		    (unsigned long long)it->left) < 0)
			return -1;
		it->step = ST_LITERAL;
		return 0;
	case IMAP_FA_MODSEQ:
		break;
	}
	return buf_printf(out, "%sNIL", sep);	/* never parsed */
}

/* One step; 1 more to do, 0 the response is complete, -1 out full. */
static int
fetch_step(struct imap_fetch_iter *it, struct buf *out, size_t until)
{
	switch (it->phase) {
	case PH_START:
		if (buf_printf(out, "* %u FETCH (", it->seq) < 0)
			return -1;
		it->phase = PH_ITEMS;
		it->item = 0;
		it->step = ST_BEGIN;
		return 1;
	case PH_ITEMS:
		if (it->item == it->nitems) {
			if (buf_appends(out, ")\r\n") < 0)
				return -1;
			it->phase = PH_DONE;
			return 0;
		}
		if (it->step == ST_BEGIN) {
			if (item_begin(it, out) < 0)
				return -1;
			if (it->step == ST_BEGIN)
				it->item++;
			return 1;
		}
		if (it->step == ST_LITERAL) {
			if (literal_chunk(it, out, until) < 0)
				return -1;
			if (it->left == 0) {
				it->step = ST_BEGIN;
				it->item++;
			}
			return 1;
		}
		if (tmp_chunk(it, out, until) < 0)
			return -1;
		if (it->tmp_off == it->tmp.len) {
			buf_reset(&it->tmp);
			it->step = ST_BEGIN;
			it->item++;
		}
		return 1;
	}
	return 0;
}

int
imap_fetch_next(struct imap_fetch_iter *it, struct buf *out, size_t until)
{
	int r;

	if (it->phase == PH_DONE)
		return 0;
	do {
		r = fetch_step(it, out, until);
		if (r <= 0) {
			imap_fetch_abort(it);
			return r;
		}
	} while (out->len < until);
	return 1;
}

/* ---- SEARCH ---- */

enum search_op {
	SO_ALL = 1, SO_NONE, SO_AND, SO_OR, SO_NOT,
	SO_FLAG_SET, SO_FLAG_CLEAR,	/* num: IMAP_F_* mask */
	SO_HEADER,			/* field (NULL: any), str */
	SO_BODY, SO_TEXT,
	SO_BEFORE, SO_ON, SO_SINCE,	/* internaldate vs t */
	SO_SENTBEFORE, SO_SENTON, SO_SENTSINCE,
	SO_LARGER, SO_SMALLER,
	SO_SEQ, SO_UID,			/* set */
};

enum search_arg { SA_NONE, SA_STRING, SA_DATE, SA_NUMBER, SA_FLAG,
	SA_HEADER, SA_UIDSET, SA_KEY, SA_KEY2 };

static const struct search_key {
	const char	*name;
	enum search_op	 op;
	enum search_arg	 arg;
	unsigned	 mask;
	const char	*field;
} search_keys[] = {
	{ "ALL", SO_ALL, SA_NONE, 0, NULL },
	{ "ANSWERED", SO_FLAG_SET, SA_NONE, IMAP_F_ANSWERED, NULL },
	{ "BCC", SO_HEADER, SA_STRING, 0, "Bcc" },
	{ "BEFORE", SO_BEFORE, SA_DATE, 0, NULL },
	{ "BODY", SO_BODY, SA_STRING, 0, NULL },
	{ "CC", SO_HEADER, SA_STRING, 0, "Cc" },
	{ "DELETED", SO_FLAG_SET, SA_NONE, IMAP_F_DELETED, NULL },
	{ "DRAFT", SO_FLAG_SET, SA_NONE, IMAP_F_DRAFT, NULL },
	{ "FLAGGED", SO_FLAG_SET, SA_NONE, IMAP_F_FLAGGED, NULL },
	{ "FROM", SO_HEADER, SA_STRING, 0, "From" },
	{ "HEADER", SO_HEADER, SA_HEADER, 0, NULL },
	/* No keywords are kept: KEYWORD x matches none, UNKEYWORD all. */
	{ "KEYWORD", SO_NONE, SA_FLAG, 0, NULL },
	{ "LARGER", SO_LARGER, SA_NUMBER, 0, NULL },
	/* \Recent is not kept (IMAP4rev2): NEW is UNSEEN, OLD all. */
	{ "NEW", SO_FLAG_CLEAR, SA_NONE, IMAP_F_SEEN, NULL },
	{ "NOT", SO_NOT, SA_KEY, 0, NULL },
	{ "OLD", SO_ALL, SA_NONE, 0, NULL },
	{ "ON", SO_ON, SA_DATE, 0, NULL },
	{ "OR", SO_OR, SA_KEY2, 0, NULL },
	{ "RECENT", SO_NONE, SA_NONE, 0, NULL },
	{ "SEEN", SO_FLAG_SET, SA_NONE, IMAP_F_SEEN, NULL },
	{ "SENTBEFORE", SO_SENTBEFORE, SA_DATE, 0, NULL },
	{ "SENTON", SO_SENTON, SA_DATE, 0, NULL },
	{ "SENTSINCE", SO_SENTSINCE, SA_DATE, 0, NULL },
	{ "SINCE", SO_SINCE, SA_DATE, 0, NULL },
	{ "SMALLER", SO_SMALLER, SA_NUMBER, 0, NULL },
	{ "SUBJECT", SO_HEADER, SA_STRING, 0, "Subject" },
	{ "TEXT", SO_TEXT, SA_STRING, 0, NULL },
	{ "TO", SO_HEADER, SA_STRING, 0, "To" },
	{ "UID", SO_UID, SA_UIDSET, 0, NULL },
	{ "UNANSWERED", SO_FLAG_CLEAR, SA_NONE, IMAP_F_ANSWERED, NULL },
	{ "UNDELETED", SO_FLAG_CLEAR, SA_NONE, IMAP_F_DELETED, NULL },
	{ "UNDRAFT", SO_FLAG_CLEAR, SA_NONE, IMAP_F_DRAFT, NULL },
	{ "UNFLAGGED", SO_FLAG_CLEAR, SA_NONE, IMAP_F_FLAGGED, NULL },
	{ "UNKEYWORD", SO_ALL, SA_FLAG, 0, NULL },
	{ "UNSEEN", SO_FLAG_CLEAR, SA_NONE, IMAP_F_SEEN, NULL },
};

struct search_parser {
	const struct imap_arg	*a;
	size_t			 n, i;
	struct imap_search	*s;
	const char		*why;
	int			 depth;
};

static int
node_new(struct search_parser *sp, int op)
{
	struct imap_search_node *nd;

	if (sp->s->n >= IMAP_SEARCH_NODES) {
		sp->why = "search program too long";
		return -1;
	}
	nd = &sp->s->node[sp->s->n];
	memset(nd, 0, sizeof(*nd));
	nd->op = op;
	nd->a = nd->b = -1;
	return (int)sp->s->n++;
}

static const struct imap_arg *
next_astring(struct search_parser *sp)
{
	const struct imap_arg *a;

	if (sp->i >= sp->n) {
		sp->why = "search argument expected";
		return NULL;
	}
	a = &sp->a[sp->i];
	if (a->type != IMAP_TOK_ATOM && a->type != IMAP_TOK_STRING &&
	    a->type != IMAP_TOK_NIL) {
		sp->why = "search argument expected";
		return NULL;
	}
	sp->i++;
	return a;
}

static int
set_new(struct search_parser *sp, const struct imap_arg *a,
    struct imap_seqset **set_r)
{
	struct imap_search *s = sp->s;

	if (s->nsets >= IMAP_SEARCH_SETS) {
		sp->why = "too many sequence sets in search";
		return -1;
	}
	if (a->type != IMAP_TOK_ATOM ||
	    imap_seqset_parse(a->s, a->len, &s->sets[s->nsets]) < 0) {
		sp->why = "invalid sequence set";
		return -1;
	}
	*set_r = &s->sets[s->nsets++];
	return 0;
}

static int parse_keys(struct search_parser *, int);

static int
parse_key(struct search_parser *sp)
{
	const struct search_key *k = NULL;
	const struct imap_arg *a, *v;
	struct imap_search_node *nd;
	size_t j;
	int idx, r;
	uint64_t num;

	if (sp->i >= sp->n) {
		sp->why = "search key expected";
		return -1;
	}
	a = &sp->a[sp->i];
	if (a->type == IMAP_TOK_LIST_OPEN) {
		if (++sp->depth > IMAP_SEARCH_DEPTH) {
			sp->why = "search nested too deep";
			return -1;
		}
		sp->i++;
		if ((r = parse_keys(sp, 1)) < 0)
			return -1;
		if (sp->i >= sp->n || sp->a[sp->i].type !=
		    IMAP_TOK_LIST_CLOSE) {
			sp->why = "missing ) in search";
			return -1;
		}
		sp->i++;
		sp->depth--;
		return r;
	}
	if (a->type != IMAP_TOK_ATOM) {
		sp->why = "search key expected";
		return -1;
	}
	sp->i++;
	for (j = 0; j < sizeof(search_keys) / sizeof(search_keys[0]); j++)
		if (word_is(a->s, a->len, search_keys[j].name)) {
			k = &search_keys[j];
			break;
		}
	if (k == NULL) {
		/* A bare sequence set ("1:4,7", "*"). */
		if ((idx = node_new(sp, SO_SEQ)) < 0)
			return -1;
		if (set_new(sp, a, &sp->s->node[idx].set) < 0) {
			sp->why = "unknown search key";
			return -1;
		}
		return idx;
	}
	if ((idx = node_new(sp, k->op)) < 0)
		return -1;
	nd = &sp->s->node[idx];
	nd->num = k->mask;
	nd->field = k->field;
	switch (k->arg) {
	case SA_NONE:
		break;
	case SA_STRING:
	case SA_FLAG:
		if ((v = next_astring(sp)) == NULL)
			return -1;
		nd->str = v->s;
		nd->slen = v->len;
		break;
	case SA_HEADER:
		if ((v = next_astring(sp)) == NULL)
			return -1;
		if (v->len == 0 || memchr(v->s, '\0', v->len) != NULL) {
			sp->why = "invalid header field name";
			return -1;
		}
		nd->field = v->s;
		if ((v = next_astring(sp)) == NULL)
			return -1;
		nd->str = v->s;
		nd->slen = v->len;
		break;
	case SA_DATE:
		if ((v = next_astring(sp)) == NULL)
			return -1;
		if (imap_parse_date(v->s, v->len, &nd->t) < 0) {
			sp->why = "invalid date";
			return -1;
		}
		break;
	case SA_NUMBER:
		if ((v = next_astring(sp)) == NULL)
			return -1;
		if (v->type != IMAP_TOK_ATOM ||
		    parse_decimal(v->s, v->len, UINT64_MAX, &num) < 0) {
			sp->why = "invalid number";
			return -1;
		}
		nd->num = num;
		break;
	case SA_UIDSET:
		if ((v = next_astring(sp)) == NULL)
			return -1;
		if (set_new(sp, v, &nd->set) < 0)
			return -1;
		break;
	case SA_KEY:
	case SA_KEY2:
		if (++sp->depth > IMAP_SEARCH_DEPTH) {
			sp->why = "search nested too deep";
			return -1;
		}
		if ((r = parse_key(sp)) < 0)
			return -1;
		sp->s->node[idx].a = r;
		if (k->arg == SA_KEY2) {
			if ((r = parse_key(sp)) < 0)
				return -1;
			sp->s->node[idx].b = r;
		}
		sp->depth--;
		break;
	}
	return idx;
}

/* One or more keys, ANDed; in_group: stop at ")". */
static int
parse_keys(struct search_parser *sp, int in_group)
{
	int r, k, and;

	if ((r = parse_key(sp)) < 0)
		return -1;
	while (sp->i < sp->n) {
		if (sp->a[sp->i].type == IMAP_TOK_LIST_CLOSE) {
			if (in_group)
				break;
			sp->why = "unexpected ) in search";
			return -1;
		}
		if ((k = parse_key(sp)) < 0)
			return -1;
		if ((and = node_new(sp, SO_AND)) < 0)
			return -1;
		sp->s->node[and].a = r;
		sp->s->node[and].b = k;
		r = and;
	}
	return r;
}

static int
parse_return(struct search_parser *sp)
{
	const struct imap_arg *a;

	if (sp->i >= sp->n || sp->a[sp->i].type != IMAP_TOK_LIST_OPEN) {
		sp->why = "( expected after RETURN";
		return -1;
	}
	for (sp->i++; sp->i < sp->n; sp->i++) {
		a = &sp->a[sp->i];
		if (a->type == IMAP_TOK_LIST_CLOSE)
			break;
		if (tok_is(a, "MIN"))
			sp->s->ret |= IMAP_SEARCH_RET_MIN;
		else if (tok_is(a, "MAX"))
			sp->s->ret |= IMAP_SEARCH_RET_MAX;
		else if (tok_is(a, "ALL"))
			sp->s->ret |= IMAP_SEARCH_RET_ALL;
		else if (tok_is(a, "COUNT"))
			sp->s->ret |= IMAP_SEARCH_RET_COUNT;
		else {
			sp->why = tok_is(a, "SAVE") ?
			    "RETURN (SAVE) is not supported" :
			    "unknown RETURN option";
			return -1;
		}
	}
	if (sp->i >= sp->n) {
		sp->why = "missing ) after RETURN options";
		return -1;
	}
	sp->i++;
	/* RFC 4731 3.1: RETURN () means RETURN (ALL). */
	if (sp->s->ret == 0)
		sp->s->ret = IMAP_SEARCH_RET_ALL;
	sp->s->esearch = 1;
	return 0;
}

static int
needs_body(const struct imap_search *s)
{
	size_t k;

	for (k = 0; k < s->n; k++)
		switch (s->node[k].op) {
		case SO_HEADER: case SO_BODY: case SO_TEXT:
		case SO_SENTBEFORE: case SO_SENTON: case SO_SENTSINCE:
			return 1;
		}
	return 0;
}

int
imap_search_parse(const struct imap_arg *args, size_t nargs,
    struct imap_search *s, const char **why_r)
{
	struct search_parser sp;
	const struct imap_arg *cs;

	s->n = 0;
	s->nsets = 0;
	s->root = -1;
	s->needs_body = 0;
	s->esearch = 0;
	s->ret = 0;
	memset(&sp, 0, sizeof(sp));
	sp.a = args;
	sp.n = nargs;
	sp.s = s;
	if (sp.i < sp.n && tok_is(&args[sp.i], "RETURN")) {
		sp.i++;
		if (parse_return(&sp) < 0)
			goto bad;
	}
	if (sp.i < sp.n && tok_is(&args[sp.i], "CHARSET")) {
		sp.i++;
		if ((cs = next_astring(&sp)) == NULL)
			goto bad;
		if (!word_is(cs->s, cs->len, "UTF-8") &&
		    !word_is(cs->s, cs->len, "US-ASCII")) {
			*why_r = "charset not supported";
			return -2;
		}
	}
	if ((s->root = parse_keys(&sp, 0)) < 0)
		goto bad;
	s->needs_body = needs_body(s);
	*why_r = NULL;
	return 0;
bad:
	s->root = -1;
	*why_r = sp.why != NULL ? sp.why : "invalid search";
	return -1;
}

static time_t
day_of(time_t t)
{
	time_t r = t % DAY;

	return t - (r < 0 ? r + DAY : r);
}

struct match_ctx {
	const struct imap_search *s;
	uint32_t	 seq, maxseq, maxuid;
	const struct imap_msg *msg;
	const char	*data;
	size_t		 len;
	int		 sent_done;	/* Date: read once per message */
	int		 sent_ok;
	time_t		 sent;
};

static int
sent_date(struct match_ctx *c, time_t *t_r)
{
	if (!c->sent_done) {
		c->sent_done = 1;
		c->sent_ok = imap_message_date(c->data, c->len, &c->sent) == 0;
		if (c->sent_ok)
			c->sent = day_of(c->sent);
	}
	*t_r = c->sent;
	return c->sent_ok;
}

static int
eval(struct match_ctx *c, int idx)
{
	const struct imap_search_node *nd;
	time_t t;

	if (idx < 0 || (size_t)idx >= c->s->n)
		return 0;
	nd = &c->s->node[idx];
	switch (nd->op) {
	case SO_ALL:
		return 1;
	case SO_NONE:
		return 0;
	case SO_AND:
		return eval(c, nd->a) && eval(c, nd->b);
	case SO_OR:
		return eval(c, nd->a) || eval(c, nd->b);
	case SO_NOT:
		return !eval(c, nd->a);
	case SO_FLAG_SET:
		return (c->msg->flags & nd->num) != 0;
	case SO_FLAG_CLEAR:
		return (c->msg->flags & nd->num) == 0;
	case SO_HEADER:
		return imap_search_header(c->data, c->len, nd->field,
		    nd->str, nd->slen);
	case SO_BODY:
		return imap_search_body(c->data, c->len, nd->str, nd->slen);
	case SO_TEXT:
		return imap_search_header(c->data, c->len, NULL, nd->str,
		    nd->slen) || imap_search_body(c->data, c->len, nd->str,
		    nd->slen);
	case SO_BEFORE:
		return c->msg->internaldate < nd->t;
	case SO_ON:
		return c->msg->internaldate >= nd->t &&
		    c->msg->internaldate - nd->t < DAY;
	case SO_SINCE:
		return c->msg->internaldate >= nd->t;
	case SO_SENTBEFORE:
		return sent_date(c, &t) && t < nd->t;
	case SO_SENTON:
		return sent_date(c, &t) && t == nd->t;
	case SO_SENTSINCE:
		return sent_date(c, &t) && t >= nd->t;
	case SO_LARGER:
		return c->msg->size > nd->num;
	case SO_SMALLER:
		return c->msg->size < nd->num;
	case SO_SEQ:
		return nd->set != NULL &&
		    imap_seqset_contains(nd->set, c->seq, c->maxseq);
	case SO_UID:
		return nd->set != NULL &&
		    imap_seqset_contains(nd->set, c->msg->uid, c->maxuid);
	}
	return 0;
}

int
imap_search_match(const struct imap_search *s, uint32_t seq,
    const struct imap_msg *msg, const char *data, size_t len,
    uint32_t maxseq, uint32_t maxuid)
{
	struct match_ctx c;

	memset(&c, 0, sizeof(c));
	c.s = s;
	c.seq = seq;
	c.maxseq = maxseq;
	c.maxuid = maxuid;
	c.msg = msg;
	c.data = data != NULL ? data : "";
	c.len = data != NULL ? len : 0;
	return eval(&c, s->root);
}

/* nums[0..n) ascending as a sequence set: runs become "a:b". */
static int
put_set(struct buf *out, const uint32_t *nums, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		j = i;
		while (j + 1 < n && nums[j + 1] == nums[j] + 1)
			j++;
		if (buf_printf(out, i ? ",%u" : "%u", nums[i]) < 0)
			return -1;
		if (j > i && buf_printf(out, ":%u", nums[j]) < 0)
			return -1;
		i = j + 1;
	}
	return 0;
}

static int
put_tag(struct buf *out, const char *tag)
{
	if (buf_appends(out, " (TAG \"") < 0)
		return -1;
	for (; *tag != '\0'; tag++) {
		if ((*tag == '"' || *tag == '\\') && buf_appendc(out, '\\') < 0)
			return -1;
		if (buf_appendc(out, *tag) < 0)
			return -1;
	}
	return buf_appends(out, "\")");
}

int
imap_search_format(struct buf *out, const struct imap_search *s,
    const char *tag, int uid, const uint32_t *nums, size_t n)
{
	size_t start = out->len, i;

	if (!s->esearch) {
		if (buf_appends(out, "* SEARCH") < 0)
			goto full;
		for (i = 0; i < n; i++)
			if (buf_printf(out, " %u", nums[i]) < 0)
				goto full;
	} else {
		if (buf_appends(out, "* ESEARCH") < 0 ||
		    (tag != NULL && put_tag(out, tag) < 0) ||
		    (uid && buf_appends(out, " UID") < 0))
			goto full;
		if (n > 0 && (s->ret & IMAP_SEARCH_RET_MIN) &&
		    buf_printf(out, " MIN %u", nums[0]) < 0)
			goto full;
		if (n > 0 && (s->ret & IMAP_SEARCH_RET_MAX) &&
		    buf_printf(out, " MAX %u", nums[n - 1]) < 0)
			goto full;
		if ((s->ret & IMAP_SEARCH_RET_COUNT) &&
		    buf_printf(out, " COUNT %zu", n) < 0)
			goto full;
		if (n > 0 && (s->ret & IMAP_SEARCH_RET_ALL) &&
		    (buf_appends(out, " ALL ") < 0 || put_set(out, nums, n) < 0))
			goto full;
	}
	if (buf_appends(out, "\r\n") < 0)
		goto full;
	return 0;
full:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}
