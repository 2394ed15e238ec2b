/* imap_mime - ENVELOPE, BODY/BODYSTRUCTURE, BODY[section] spans, header and
 *             body search and the IMAP date formats, on one message held in
 *             memory (see imap_mime.h for the contract).
 * Trusts: nothing about the message: every scan is bounded by the length
 *         given; a header without a colon is skipped, a multipart without
 *         a boundary is a text leaf, a missing close delimiter ends the
 *         last part at the end of its parent.
 * Gives:  strings written as IMAP quoted strings when they can be (no CR,
 *         LF, NUL or 8-bit octet, short), else as literals; media types,
 *         parameters and encodings as the message gives them, the default
 *         ("text" "plain" ("charset" "us-ascii") ... "7bit") and the line
 *         counts as Dovecot gives them (a text part without a charset
 *         gets charset us-ascii, RFC 2045 5.2); sizes in octets as stored
 *         (LF-only messages count LF: BODY[] sends them as stored).
 *         A bare local part (no '@') is ("name" NIL "local" "") so that a
 *         NIL host keeps meaning a group marker.
 * Limits: IMAP_MIME_DEPTH, IMAP_MIME_PARTS, IMAP_SPANS_MAX (imap_mime.h);
 *         search is linear in the message and the needle;
 *         RFC 2231 parameters and RFC 2047 words are passed on undecoded
 *         (clients decode them); a media type longer than MIME_TOKEN_MAX
 *         is cut there, a multipart whose boundary is longer is a text
 *         leaf.
 * Never:  does I/O; every allocation is freed before returning. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "buf.h"
#include "hex.h"
#include "imap_mime.h"

/* RFC 2046 limits a boundary to 70 characters; types are short tokens.
 * Anything longer is not MIME we need to follow. */
#define MIME_TOKEN_MAX	128
/* Longest string written quoted; longer ones go as literals, as clients
 * handle those better than a megabyte on one line. */
#define QUOTED_MAX	1024

/* ---- small helpers ---- */

static int
lc(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int
ci_eq(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i;

	if (an != bn)
		return 0;
	for (i = 0; i < an; i++)
		if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
			return 0;
	return 1;
}

static int
ci_eqs(const char *a, size_t an, const char *s)
{
	return ci_eq(a, an, s, strlen(s));
}

/* Case-insensitive substring search (ASCII folding only), Knuth-Morris-
 * Pratt so that a SEARCH on a large message is linear whatever the
 * needle. */
static int
ci_find(const char *h, size_t hn, const char *nd, size_t nn)
{
	size_t *fail, i, k;
	int hit = 0;

	if (nn == 0)
		return 1;
	if (nn > hn)
		return 0;
	fail = xcalloc(nn, sizeof(*fail));
	for (i = 1, k = 0; i < nn; i++) {
		while (k > 0 && lc((unsigned char)nd[i]) !=
		    lc((unsigned char)nd[k]))
			k = fail[k - 1];
		if (lc((unsigned char)nd[i]) == lc((unsigned char)nd[k]))
			k++;
		fail[i] = k;
	}
	for (i = 0, k = 0; i < hn; i++) {
		while (k > 0 && lc((unsigned char)h[i]) !=
		    lc((unsigned char)nd[k]))
			k = fail[k - 1];
		if (lc((unsigned char)h[i]) == lc((unsigned char)nd[k]))
			k++;
		if (k == nn) {
			hit = 1;
			break;
		}
	}
	free(fail);
	return hit;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* An IMAP nstring: NIL, a quoted string, or a literal. A private copy of
 * what imap_parse.c gives, so this module stands alone in the pure
 * library and its tests. */
static int
put_nstring(struct buf *out, const char *s, size_t n)
{
	size_t i;
	int quotable = n <= QUOTED_MAX;

	if (s == NULL)
		return buf_appends(out, "NIL");
	for (i = 0; i < n && quotable; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			quotable = 0;
	}
	if (!quotable) {
		if (buf_printf(out, "{%zu}\r\n", n) < 0)
			return -1;
		return buf_append(out, s, n);
	}
	if (buf_appendc(out, '"') < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((s[i] == '"' || s[i] == '\\') &&
		    buf_appendc(out, '\\') < 0)
			return -1;
		if (buf_appendc(out, s[i]) < 0)
			return -1;
	}
	return buf_appendc(out, '"');
}

static int
put_cstr(struct buf *out, const char *s)
{
	return put_nstring(out, s, s == NULL ? 0 : strlen(s));
}

/* ---- header section ---- */

/* Offset of the body in [0, len): after the first empty line. */
static size_t
hdr_len(const char *m, size_t len)
{
	size_t p = 0;

	while (p < len) {
		if (m[p] == '\n')
			return p + 1;
		if (m[p] == '\r' && (p + 1 == len || m[p + 1] == '\n'))
			return p + 1 == len ? len : p + 2;
		while (p < len && m[p] != '\n')
			p++;
		if (p < len)
			p++;
	}
	return len;
}

size_t
imap_header_length(const char *msg, size_t len)
{
	return hdr_len(msg, len);
}

struct field {
	size_t	start, end;	/* the whole field with its line ends */
	size_t	name, name_len;
	size_t	val, val_end;	/* raw value, last line end excluded */
};

/* The next field at *pos before end (the header's body offset). Lines
 * without a colon (and their continuations) are skipped. 1, or 0 at the
 * empty line or end. */
static int
field_next(const char *m, size_t end, size_t *pos, struct field *f)
{
	while (*pos < end) {
		size_t s = *pos, e = s, le = s, c, ne;

		if (m[s] == '\n' || (m[s] == '\r' &&
		    (s + 1 == end || m[s + 1] == '\n')))
			return 0;
		for (;;) {
			while (e < end && m[e] != '\n')
				e++;
			le = e;
			if (e < end)
				e++;
			if (e < end && is_wsp(m[e]))
				continue;
			break;
		}
		*pos = e;
		if (le > s && m[le - 1] == '\r')
			le--;
		for (c = s; c < le && m[c] != ':' && m[c] != '\n'; c++)
			;
		if (c >= le || m[c] != ':')
			continue;
		ne = c;
		while (ne > s && is_wsp(m[ne - 1]))
			ne--;
		if (ne == s || is_wsp(m[s]))
			continue;
		f->start = s;
		f->end = e;
		f->name = s;
		f->name_len = ne - s;
		f->val = c + 1;
		f->val_end = le;
		return 1;
	}
	return 0;
}

/* The value unfolded (line ends and NULs dropped, WSP trimmed), malloc'd
 * and NUL-terminated. */
static char *
unfold(const char *v, size_t n, size_t *len_r)
{
	char *o = xcalloc(1, n + 1);
	size_t i, k = 0, a;

	for (i = 0; i < n; i++)
		if (v[i] != '\r' && v[i] != '\n' && v[i] != '\0')
			o[k++] = v[i];
	while (k > 0 && is_wsp(o[k - 1]))
		k--;
	o[k] = '\0';
	for (a = 0; a < k && is_wsp(o[a]); a++)
		;
	if (a > 0)
		memmove(o, o + a, k - a + 1);
	*len_r = k - a;
	return o;
}

/* The first field called name in the header [s, hend): unfolded value
 * (malloc'd) or NULL. */
static char *
get_field(const char *m, size_t s, size_t hend, const char *name,
    size_t *len_r)
{
	struct field f;
	size_t pos = s;

	while (field_next(m, hend, &pos, &f))
		if (ci_eqs(m + f.name, f.name_len, name))
			return unfold(m + f.val, f.val_end - f.val, len_r);
	*len_r = 0;
	return NULL;
}

/* ---- RFC 2045 structured values: tokens, quoted strings, comments ---- */

static void
skip_cfws(const char *v, size_t n, size_t *i)
{
	int depth;

	for (;;) {
		while (*i < n && (is_wsp(v[*i]) || v[*i] == '\r' ||
		    v[*i] == '\n'))
			(*i)++;
		if (*i >= n || v[*i] != '(')
			return;
		depth = 0;
		while (*i < n) {
			if (v[*i] == '\\' && *i + 1 < n)
				(*i)++;
			else if (v[*i] == '(')
				depth++;
			else if (v[*i] == ')' && --depth == 0) {
				(*i)++;
				break;
			}
			(*i)++;
		}
	}
}

/* A token up to WSP or one of stop; returns its span. */
static void
read_token(const char *v, size_t n, size_t *i, const char *stop,
    size_t *ts, size_t *tn)
{
	*ts = *i;
	while (*i < n && !is_wsp(v[*i]) && v[*i] != '(' &&
	    strchr(stop, v[*i]) == NULL)
		(*i)++;
	*tn = *i - *ts;
}

/* A parameter value span: a quoted string (quotes included) or a token. */
static void
read_value(const char *v, size_t n, size_t *i, size_t *vs, size_t *vn)
{
	*vs = *i;
	if (*i < n && v[*i] == '"') {
		(*i)++;
		while (*i < n && v[*i] != '"') {
			if (v[*i] == '\\' && *i + 1 < n)
				(*i)++;
			(*i)++;
		}
		if (*i < n)
			(*i)++;
	} else {
		while (*i < n && !is_wsp(v[*i]) && v[*i] != ';' &&
		    v[*i] != '(')
			(*i)++;
	}
	*vn = *i - *vs;
}

/* The next "; name=value" from *i. 1 with the spans, 0 at the end. */
static int
param_next(const char *v, size_t n, size_t *i, size_t *ns, size_t *nn,
    size_t *vs, size_t *vn)
{
	while (*i < n) {
		skip_cfws(v, n, i);
		if (*i >= n)
			return 0;
		if (v[*i] != ';') {
			/* junk: go to the next ';' */
			while (*i < n && v[*i] != ';')
				(*i)++;
			continue;
		}
		(*i)++;
		skip_cfws(v, n, i);
		read_token(v, n, i, ";=", ns, nn);
		skip_cfws(v, n, i);
		if (*nn == 0 || *i >= n || v[*i] != '=')
			continue;
		(*i)++;
		skip_cfws(v, n, i);
		read_value(v, n, i, vs, vn);
		return 1;
	}
	return 0;
}

/* A value span unquoted into a malloc'd string. */
static char *
unquote(const char *v, size_t n, size_t *len_r)
{
	char *o = xcalloc(1, n + 1);
	size_t i, k = 0;

	if (n >= 1 && v[0] == '"') {
		for (i = 1; i < n && v[i] != '"'; i++) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			o[k++] = v[i];
		}
	} else {
		memcpy(o, v, n);
		k = n;
	}
	*len_r = k;
	return o;
}

/* "(name value ...)" of the parameters after *i, or NIL; with
 * need_charset, a missing charset is added as us-ascii (RFC 2045 5.2's
 * default for text). */
static int
put_params(struct buf *out, const char *v, size_t n, size_t i,
    int need_charset)
{
	size_t ns, nn, vs, vn, ul;
	int any = 0, r = 0;
	char *u;

	while (r == 0 && param_next(v, n, &i, &ns, &nn, &vs, &vn)) {
		r |= buf_appends(out, any ? " " : "(");
		any = 1;
		r |= put_nstring(out, v + ns, nn);
		r |= buf_appendc(out, ' ');
		u = unquote(v + vs, vn, &ul);
		r |= put_nstring(out, u, ul);
		free(u);
		if (ci_eqs(v + ns, nn, "charset"))
			need_charset = 0;
	}
	if (need_charset) {
		r |= buf_appends(out, any ? " " : "(");
		r |= buf_appends(out, "\"charset\" \"us-ascii\"");
		any = 1;
	}
	r |= buf_appends(out, any ? ")" : "NIL");
	return r ? -1 : 0;
}

#define DEFAULT_TEXT	1	/* text/plain; charset=us-ascii */
#define DEFAULT_MESSAGE	2	/* message/rfc822 (in a multipart/digest) */

/* One part's MIME header, read once. */
struct mime {
	size_t	s, h, e;	/* part start, body start, end */
	char	type[MIME_TOKEN_MAX + 1], sub[MIME_TOKEN_MAX + 1];
	char	bnd[MIME_TOKEN_MAX + 1];
	size_t	bndlen;
	char	*ct;		/* unfolded Content-Type or NULL */
	size_t	ctn, ct_params;	/* where its parameters begin */
	int	deflt;		/* no usable Content-Type: DEFAULT_* */
};

static void
copy_tok(char *dst, const char *v, size_t n)
{
	if (n > MIME_TOKEN_MAX)
		n = MIME_TOKEN_MAX;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* digest: the parent is multipart/digest (default message/rfc822). */
static void
mime_read(const char *m, size_t s, size_t e, int digest, struct mime *p)
{
	size_t i = 0, ts, tn, ss = 0, sn = 0, ns, nn, vs, vn, ul;
	char *u;

	memset(p, 0, sizeof(*p));
	p->s = s;
	p->e = e;
	p->h = s + hdr_len(m + s, e - s);
	p->ct = get_field(m, s, p->h, "Content-Type", &p->ctn);
	if (p->ct != NULL) {
		skip_cfws(p->ct, p->ctn, &i);
		read_token(p->ct, p->ctn, &i, "/;", &ts, &tn);
		skip_cfws(p->ct, p->ctn, &i);
		if (i < p->ctn && p->ct[i] == '/') {
			i++;
			skip_cfws(p->ct, p->ctn, &i);
			read_token(p->ct, p->ctn, &i, "/;", &ss, &sn);
		}
		if (tn > 0 && sn > 0) {
			copy_tok(p->type, p->ct + ts, tn);
			copy_tok(p->sub, p->ct + ss, sn);
			p->ct_params = i;
		}
	}
	if (p->type[0] == '\0') {
		p->deflt = digest ? DEFAULT_MESSAGE : DEFAULT_TEXT;
		copy_tok(p->type, digest ? "message" : "text", digest ? 7 : 4);
		copy_tok(p->sub, digest ? "rfc822" : "plain", digest ? 6 : 5);
		return;
	}
	if (!ci_eqs(p->type, strlen(p->type), "multipart"))
		return;
	i = p->ct_params;
	while (param_next(p->ct, p->ctn, &i, &ns, &nn, &vs, &vn)) {
		if (!ci_eqs(p->ct + ns, nn, "boundary"))
			continue;
		u = unquote(p->ct + vs, vn, &ul);
		if (ul > 0 && ul <= MIME_TOKEN_MAX) {
			memcpy(p->bnd, u, ul);
			p->bndlen = ul;
		}
		free(u);
		break;
	}
	if (p->bndlen == 0) {
		/* a multipart we cannot split: a plain text leaf */
		p->deflt = DEFAULT_TEXT;
		copy_tok(p->type, "text", 4);
		copy_tok(p->sub, "plain", 5);
	}
}

static void
mime_free(struct mime *p)
{
	free(p->ct);
	p->ct = NULL;
}

static int
is_type(const struct mime *p, const char *t, const char *s)
{
	return ci_eqs(p->type, strlen(p->type), t) &&
	    (s == NULL || ci_eqs(p->sub, strlen(p->sub), s));
}

static int
is_multipart(const struct mime *p)
{
	return is_type(p, "multipart", NULL) && p->bndlen > 0;
}

static int
is_message(const struct mime *p)
{
	return is_type(p, "message", "rfc822") ||
	    is_type(p, "message", "global");
}

/* The next delimiter line "--bnd" at or after the line start p, before
 * e: 1 with the line's start, the offset after it, and whether it is the
 * close delimiter; else 0. */
static int
next_delim(const char *m, size_t p, size_t e, const char *bnd, size_t bl,
    size_t *ls_r, size_t *after_r, int *close_r)
{
	while (p < e) {
		size_t q;

		if (e - p >= bl + 2 && m[p] == '-' && m[p + 1] == '-' &&
		    memcmp(m + p + 2, bnd, bl) == 0) {
			size_t t;

			q = p + 2 + bl;
			*close_r = e - q >= 2 && m[q] == '-' && m[q + 1] == '-';
			/* only WSP may follow the boundary (RFC 2046 5.1.1),
			 * so "--b2" is no delimiter of boundary "b"; the
			 * close delimiter may carry junk */
			for (t = q; t < e && !*close_r && m[t] != '\n' &&
			    (is_wsp(m[t]) || m[t] == '\r'); t++)
				;
			if (*close_r || t >= e || m[t] == '\n') {
				while (q < e && m[q] != '\n')
					q++;
				*ls_r = p;
				*after_r = q < e ? q + 1 : e;
				return 1;
			}
		}
		while (p < e && m[p] != '\n')
			p++;
		if (p < e)
			p++;
	}
	return 0;
}

/* The end of a part's content before its next delimiter at ls: the line
 * end before the delimiter belongs to the delimiter. */
static size_t
part_end(const char *m, size_t start, size_t ls)
{
	if (ls > start && m[ls - 1] == '\n') {
		ls--;
		if (ls > start && m[ls - 1] == '\r')
			ls--;
	}
	return ls;
}

/* Iteration over a multipart's children. */
struct parts {
	const char	*m;
	const struct mime *mp;
	size_t		 pos;	/* after the last delimiter */
	int		 done;
};

static void
parts_init(struct parts *it, const char *m, const struct mime *mp)
{
	size_t ls, after;
	int close = 0;

	it->m = m;
	it->mp = mp;
	it->done = !next_delim(m, mp->h, mp->e, mp->bnd, mp->bndlen, &ls,
	    &after, &close) || close;
	it->pos = after;
}

/* The next child [*s, *e): 1, or 0 when none is left. */
static int
parts_next(struct parts *it, size_t *s, size_t *e)
{
	size_t ls, after;
	int close = 0;

	if (it->done)
		return 0;
	*s = it->pos;
	if (next_delim(it->m, it->pos, it->mp->e, it->mp->bnd,
	    it->mp->bndlen, &ls, &after, &close)) {
		*e = part_end(it->m, *s, ls);
		it->pos = after;
		it->done = close;
	} else {
		*e = it->mp->e;
		it->done = 1;
	}
	return 1;
}

/* ---- ENVELOPE ---- */

/* One address being read: spans of the display phrase and of the
 * addr-spec, both built from the tokens seen. */
struct addr {
	struct buf	phrase;		/* words joined with one space */
	struct buf	spec;		/* addr-spec without WSP or quotes */
	struct buf	comment;	/* the last comment */
	struct buf	angle;		/* what was inside <> */
	int		has_angle;
};

static void
addr_reset(struct addr *a)
{
	buf_reset(&a->phrase);
	buf_reset(&a->spec);
	buf_reset(&a->comment);
	buf_reset(&a->angle);
	a->has_angle = 0;
}

/* Write one (name adl mailbox host) from what was read; nothing when the
 * item was empty. */
static int
addr_emit(struct addr *a, struct buf *out, int *count)
{
	const char *spec, *at, *name = NULL, *adl = NULL, *colon;
	size_t sl, nl = 0, adll = 0;
	int r = 0;

	if (a->has_angle) {
		spec = a->angle.data;
		sl = a->angle.len;
		if (a->phrase.len > 0) {
			name = a->phrase.data;
			nl = a->phrase.len;
		}
	} else {
		spec = a->spec.data;
		sl = a->spec.len;
		if (sl == 0 && a->phrase.len == 0)
			return 0;
		if (sl == 0) {
			/* only words: best effort, a mailbox of them */
			spec = a->phrase.data;
			sl = a->phrase.len;
		}
	}
	if (spec == NULL)
		spec = "";
	if (sl == 0 && a->has_angle && a->phrase.len == 0)
		return 0;
	if (name == NULL && a->comment.len > 0) {
		name = a->comment.data;
		nl = a->comment.len;
	}
	if (sl > 0 && spec[0] == '@' &&
	    (colon = memchr(spec, ':', sl)) != NULL) {
		adl = spec;
		adll = (size_t)(colon - spec);
		sl -= adll + 1;
		spec = colon + 1;
	}
	at = NULL;
	{
		size_t k;
		for (k = sl; k > 0; k--)
			if (spec[k - 1] == '@') {
				at = spec + k - 1;
				break;
			}
	}
	r |= buf_appendc(out, '(');
	r |= put_nstring(out, name, nl);
	r |= buf_appendc(out, ' ');
	r |= put_nstring(out, adl, adll);
	r |= buf_appendc(out, ' ');
	if (at != NULL) {
		r |= put_nstring(out, spec, (size_t)(at - spec));
		r |= buf_appendc(out, ' ');
		r |= put_nstring(out, at + 1, sl - (size_t)(at - spec) - 1);
	} else {
		r |= put_nstring(out, spec, sl);
		r |= buf_appends(out, " \"\"");
	}
	r |= buf_appendc(out, ')');
	(*count)++;
	return r ? -1 : 0;
}

/* A quoted string or comment at *i: its text unescaped into b. */
static void
read_quoted(const char *v, size_t n, size_t *i, char open, char close,
    struct buf *b)
{
	int depth = 1;

	(*i)++;
	while (*i < n) {
		char c = v[*i];

		if (c == '\\' && *i + 1 < n) {
			(*i)++;
			buf_appendc(b, v[*i]);
		} else if (c == close && --depth == 0) {
			(*i)++;
			return;
		} else {
			if (c == open && open != close)
				depth++;
			buf_appendc(b, c);
		}
		(*i)++;
	}
}

static int
put_addresses(struct buf *out, const char *v, size_t n)
{
	struct addr a;
	size_t i = 0, start = out->len;
	int count = 0, in_group = 0, r = 0, in_angle = 0;

	buf_init(&a.phrase, 2 * n + 2);
	buf_init(&a.spec, 2 * n + 2);
	buf_init(&a.comment, 2 * n + 2);
	buf_init(&a.angle, 2 * n + 2);
	a.has_angle = 0;
	r |= buf_appendc(out, '(');
	while (i < n && r == 0) {
		char c = v[i];

		if (is_wsp(c)) {
			i++;
			continue;
		}
		if (c == '(') {
			buf_reset(&a.comment);
			read_quoted(v, n, &i, '(', ')', &a.comment);
			continue;
		}
		if (in_angle) {
			if (c == '>') {
				in_angle = 0;
				i++;
			} else if (c == '"') {
				read_quoted(v, n, &i, '"', '"', &a.angle);
			} else {
				buf_appendc(&a.angle, c);
				i++;
			}
			continue;
		}
		if (c == '<') {
			in_angle = 1;
			a.has_angle = 1;
			buf_reset(&a.angle);
			i++;
			continue;
		}
		if (c == '"') {
			size_t before = a.spec.len;

			if (a.phrase.len > 0)
				buf_appendc(&a.phrase, ' ');
			read_quoted(v, n, &i, '"', '"', &a.spec);
			if (a.spec.len > before)
				buf_append(&a.phrase, a.spec.data + before,
				    a.spec.len - before);
			continue;
		}
		if (c == ':' && !in_group) {
			/* group start: the phrase is its name */
			r |= buf_appends(out, "(NIL NIL ");
			r |= put_nstring(out, a.phrase.len ? a.phrase.data :
			    a.spec.data ? a.spec.data : "", a.phrase.len ?
			    a.phrase.len : a.spec.len);
			r |= buf_appends(out, " NIL)");
			count++;
			in_group = 1;
			addr_reset(&a);
			i++;
			continue;
		}
		if (c == ',' || c == ';') {
			r |= addr_emit(&a, out, &count);
			addr_reset(&a);
			if (c == ';' && in_group) {
				r |= buf_appends(out, "(NIL NIL NIL NIL)");
				in_group = 0;
			}
			i++;
			continue;
		}
		/* an atom or special of the phrase / addr-spec */
		{
			size_t s = i;

			while (i < n && !is_wsp(v[i]) &&
			    strchr("()<>\",:;", v[i]) == NULL)
				i++;
			if (i == s) {
				/* a stray '>' */
				i++;
				continue;
			}
			if (a.phrase.len > 0)
				buf_appendc(&a.phrase, ' ');
			buf_append(&a.phrase, v + s, i - s);
			buf_append(&a.spec, v + s, i - s);
		}
	}
	r |= addr_emit(&a, out, &count);
	if (in_group)
		r |= buf_appends(out, "(NIL NIL NIL NIL)");
	r |= buf_appendc(out, ')');
	buf_free(&a.phrase);
	buf_free(&a.spec);
	buf_free(&a.comment);
	buf_free(&a.angle);
	if (r)
		return -1;
	if (count == 0) {
		out->len = start;
		out->data[start] = '\0';
		return buf_appends(out, "NIL");
	}
	return 0;
}

static int
env_string(struct buf *out, const char *m, size_t hl, const char *name)
{
	size_t n;
	char *v = get_field(m, 0, hl, name, &n);
	int r = put_nstring(out, v, n);

	free(v);
	return r;
}

/* An address field, or when absent (or empty) the fallback field. */
static int
env_addr(struct buf *out, const char *m, size_t hl, const char *name,
    const char *fallback)
{
	size_t n, mark = out->len;
	char *v = get_field(m, 0, hl, name, &n);
	int r;

	if (v == NULL && fallback != NULL)
		return env_addr(out, m, hl, fallback, NULL);
	if (v == NULL)
		return buf_appends(out, "NIL");
	r = put_addresses(out, v, n);
	free(v);
	if (r == 0 && fallback != NULL && out->len - mark == 3 &&
	    memcmp(out->data + mark, "NIL", 3) == 0) {
		out->len = mark;
		out->data[mark] = '\0';
		return env_addr(out, m, hl, fallback, NULL);
	}
	return r;
}

int
imap_envelope(const char *msg, size_t len, struct buf *out)
{
	size_t hl = hdr_len(msg, len), mark = out->len;
	int r = 0;

	r |= buf_appendc(out, '(');
	r |= env_string(out, msg, hl, "Date");
	r |= buf_appendc(out, ' ');
	r |= env_string(out, msg, hl, "Subject");
	r |= buf_appendc(out, ' ');
	r |= env_addr(out, msg, hl, "From", NULL);
	r |= buf_appendc(out, ' ');
	r |= env_addr(out, msg, hl, "Sender", "From");
	r |= buf_appendc(out, ' ');
	r |= env_addr(out, msg, hl, "Reply-To", "From");
	r |= buf_appendc(out, ' ');
	r |= env_addr(out, msg, hl, "To", NULL);
	r |= buf_appendc(out, ' ');
	r |= env_addr(out, msg, hl, "Cc", NULL);
	r |= buf_appendc(out, ' ');
	r |= env_addr(out, msg, hl, "Bcc", NULL);
	r |= buf_appendc(out, ' ');
	r |= env_string(out, msg, hl, "In-Reply-To");
	r |= buf_appendc(out, ' ');
	r |= env_string(out, msg, hl, "Message-ID");
	r |= buf_appendc(out, ')');
	if (r) {
		if (out->len >= mark) {
			out->len = mark;
			if (out->data != NULL)
				out->data[mark] = '\0';
		}
		return -1;
	}
	return 0;
}

/* ---- BODYSTRUCTURE ---- */

struct bs {
	const char	*m;
	int		 ext;
	size_t		 parts;
};

/* Lines are line ends, as Dovecot counts them: a last line without one
 * (the text before a boundary, whose CRLF belongs to the boundary) adds
 * nothing. */
static uint64_t
count_lines(const char *m, size_t s, size_t e)
{
	uint64_t n = 0;
	size_t i;

	for (i = s; i < e; i++)
		if (m[i] == '\n')
			n++;
	return n;
}

static int
put_field(struct buf *out, const char *m, const struct mime *p,
    const char *name)
{
	size_t n;
	char *v = get_field(m, p->s, p->h, name, &n);
	int r = put_nstring(out, v, n);

	free(v);
	return r;
}

/* body-fld-dsp: ("type" params) or NIL. */
static int
put_disposition(struct buf *out, const char *m, const struct mime *p)
{
	size_t n, i = 0, ts = 0, tn = 0;
	char *v = get_field(m, p->s, p->h, "Content-Disposition", &n);
	int r = 0;

	if (v != NULL) {
		skip_cfws(v, n, &i);
		read_token(v, n, &i, ";", &ts, &tn);
	}
	if (v == NULL || tn == 0) {
		free(v);
		return buf_appends(out, "NIL");
	}
	r |= buf_appendc(out, '(');
	r |= put_nstring(out, v + ts, tn);
	r |= buf_appendc(out, ' ');
	r |= put_params(out, v, n, i, 0);
	r |= buf_appendc(out, ')');
	free(v);
	return r ? -1 : 0;
}

/* body-fld-lang: ("en" "de") or NIL. */
static int
put_language(struct buf *out, const char *m, const struct mime *p)
{
	size_t n, i = 0, ts, tn;
	char *v = get_field(m, p->s, p->h, "Content-Language", &n);
	int r = 0, any = 0;

	while (v != NULL && i < n && r == 0) {
		skip_cfws(v, n, &i);
		read_token(v, n, &i, ",", &ts, &tn);
		if (tn > 0) {
			r |= buf_appends(out, any ? " " : "(");
			r |= put_nstring(out, v + ts, tn);
			any = 1;
		}
		skip_cfws(v, n, &i);
		if (i < n && v[i] == ',')
			i++;
		else if (i < n && tn == 0)
			i++;
	}
	free(v);
	r |= buf_appends(out, any ? ")" : "NIL");
	return r ? -1 : 0;
}

static int
put_ext_common(struct buf *out, const char *m, const struct mime *p)
{
	int r = 0;

	r |= buf_appendc(out, ' ');
	r |= put_disposition(out, m, p);
	r |= buf_appendc(out, ' ');
	r |= put_language(out, m, p);
	r |= buf_appendc(out, ' ');
	r |= put_field(out, m, p, "Content-Location");
	return r;
}

static int body_out(struct bs *c, size_t s, size_t e, int depth, int digest,
    struct buf *out);

/* An RFC 2045 token: what a Content-Transfer-Encoding must be; anything
 * else is no known encoding and reads as the default. */
static int
is_token(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?=", s[i]) != NULL)
			return 0;
	return 1;
}

static int
put_type_params(struct buf *out, const struct mime *p)
{
	if (p->deflt == DEFAULT_TEXT)
		return buf_appends(out, "(\"charset\" \"us-ascii\")");
	if (p->deflt == DEFAULT_MESSAGE)
		return buf_appends(out, "NIL");
	return put_params(out, p->ct, p->ctn, p->ct_params,
	    is_type(p, "text", NULL));
}

static int
leaf_out(struct bs *c, struct mime *p, int depth, struct buf *out)
{
	const char *m = c->m;
	size_t n;
	char *enc;
	int r = 0, nested;

	/* A multipart or message past the limits is an opaque leaf; named
	 * as such, since a client reading "message" "rfc822" or "multipart"
	 * expects what follows those. */
	nested = is_message(p) && depth + 1 < IMAP_MIME_DEPTH &&
	    c->parts < IMAP_MIME_PARTS;
	r |= buf_appendc(out, '(');
	if ((is_message(p) && !nested) || is_multipart(p))
		r |= buf_appends(out, "\"application\" \"octet-stream\" NIL");
	else {
		r |= put_cstr(out, p->type);
		r |= buf_appendc(out, ' ');
		r |= put_cstr(out, p->sub);
		r |= buf_appendc(out, ' ');
		r |= put_type_params(out, p);
	}
	r |= buf_appendc(out, ' ');
	r |= put_field(out, m, p, "Content-ID");
	r |= buf_appendc(out, ' ');
	r |= put_field(out, m, p, "Content-Description");
	r |= buf_appendc(out, ' ');
	enc = get_field(m, p->s, p->h, "Content-Transfer-Encoding", &n);
	if (enc == NULL || !is_token(enc, n))
		r |= buf_appends(out, "\"7bit\"");
	else
		r |= put_nstring(out, enc, n);
	free(enc);
	r |= buf_printf(out, " %zu", p->e - p->h);
	if (nested) {
		r |= buf_appendc(out, ' ');
		r |= imap_envelope(m + p->h, p->e - p->h, out);
		r |= buf_appendc(out, ' ');
		r |= body_out(c, p->h, p->e, depth + 1, 0, out);
		r |= buf_printf(out, " %llu",
		    (unsigned long long)count_lines(m, p->h, p->e));
	} else if (is_type(p, "text", NULL)) {
		r |= buf_printf(out, " %llu",
		    (unsigned long long)count_lines(m, p->h, p->e));
	}
	if (c->ext) {
		r |= buf_appendc(out, ' ');
		r |= put_field(out, m, p, "Content-MD5");
		r |= put_ext_common(out, m, p);
	}
	r |= buf_appendc(out, ')');
	return r ? -1 : 0;
}

static int
body_out(struct bs *c, size_t s, size_t e, int depth, int digest,
    struct buf *out)
{
	struct mime p;
	struct parts it;
	size_t ps, pe;
	int r = 0, nparts = 0, dig;

	c->parts++;
	mime_read(c->m, s, e, digest, &p);
	if (!is_multipart(&p) || depth + 1 >= IMAP_MIME_DEPTH) {
		r = leaf_out(c, &p, depth, out);
		mime_free(&p);
		return r;
	}
	dig = is_type(&p, "multipart", "digest");
	r |= buf_appendc(out, '(');
	parts_init(&it, c->m, &p);
	while (r == 0 && c->parts < IMAP_MIME_PARTS &&
	    parts_next(&it, &ps, &pe)) {
		r |= body_out(c, ps, pe, depth + 1, dig, out);
		nparts++;
	}
	if (nparts == 0)	/* RFC 9051 wants at least one */
		r |= buf_appends(out, c->ext ?
		    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
		    "\"7bit\" 0 0 NIL NIL NIL NIL)" :
		    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
		    "\"7bit\" 0 0)");
	r |= buf_appendc(out, ' ');
	r |= put_cstr(out, p.sub);
	if (c->ext) {
		r |= buf_appendc(out, ' ');
		r |= put_params(out, p.ct, p.ctn, p.ct_params, 0);
		r |= put_ext_common(out, c->m, &p);
	}
	r |= buf_appendc(out, ')');
	mime_free(&p);
	return r ? -1 : 0;
}

int
imap_bodystructure(const char *msg, size_t len, int extended,
    struct buf *out)
{
	struct bs c = { msg, extended, 0 };
	size_t mark = out->len;

	if (body_out(&c, 0, len, 0, 0, out) < 0) {
		if (out->data != NULL) {
			out->len = mark;
			out->data[mark] = '\0';
		}
		return -1;
	}
	return 0;
}

/* ---- sections ---- */

static void
span_add(struct imap_spans *o, size_t off, size_t n)
{
	if (n == 0)
		return;
	if (o->n > 0 && off != IMAP_SPAN_CRLF &&
	    o->s[o->n - 1].off != IMAP_SPAN_CRLF &&
	    o->s[o->n - 1].off + o->s[o->n - 1].len == off) {
		o->s[o->n - 1].len += n;
		o->total += n;
		return;
	}
	if (o->n >= IMAP_SPANS_MAX)
		return;
	o->s[o->n].off = off;
	o->s[o->n].len = n;
	o->n++;
	o->total += n;
}

/* Whether name is one of the astrings of the "(A B ...)" list. */
static int
name_in_list(const char *l, size_t ln, const char *name, size_t nn)
{
	size_t i = 0, s;

	while (i < ln) {
		while (i < ln && (l[i] == ' ' || l[i] == '(' || l[i] == ')'))
			i++;
		if (i < ln && l[i] == '"') {
			s = ++i;
			while (i < ln && l[i] != '"')
				i++;
			if (ci_eq(l + s, i - s, name, nn))
				return 1;
			i++;
			continue;
		}
		s = i;
		while (i < ln && l[i] != ' ' && l[i] != ')')
			i++;
		if (i > s && ci_eq(l + s, i - s, name, nn))
			return 1;
	}
	return 0;
}

/* " (A B)" valid: SP "(" 1*astring ")" and nothing after. */
static int
list_valid(const char *l, size_t ln)
{
	size_t i = 0;
	int names = 0;

	if (ln < 3 || l[0] != ' ' || l[1] != '(' || l[ln - 1] != ')')
		return 0;
	for (i = 2; i < ln - 1; i++) {
		if (l[i] == '(' || l[i] == ')')
			return 0;
		if (l[i] != ' ')
			names = 1;
	}
	return names;
}

static void
header_fields(const char *m, size_t s, size_t h, const char *l, size_t ln,
    int not, struct imap_spans *o)
{
	struct field f;
	size_t pos = s;

	while (field_next(m, h, &pos, &f)) {
		if (name_in_list(l, ln, m + f.name, f.name_len) == !not) {
			if (o->n >= IMAP_SPANS_MAX - 1 &&
			    !(o->n > 0 && o->s[o->n - 1].off +
			    o->s[o->n - 1].len == f.start))
				break;
			span_add(o, f.start, f.end - f.start);
		}
	}
	span_add(o, IMAP_SPAN_CRLF, 2);
}

static int
word_is(const char *sp, size_t n, size_t i, const char *w)
{
	size_t wl = strlen(w);

	return n - i >= wl && ci_eq(sp + i, wl, w, wl);
}

int
imap_section(const char *msg, size_t len, const char *spec, size_t speclen,
    struct imap_spans *out)
{
	size_t i = 0, s = 0, e = len, h, ps, pe;
	int is_msg = 1, have_part = 0, found = 1, digest = 0, levels = 0;
	struct mime p;
	struct parts it;

	out->n = 0;
	out->total = 0;
	h = hdr_len(msg, len);
	/* the part path */
	while (i < speclen && spec[i] >= '0' && spec[i] <= '9') {
		uint64_t n = 0;
		int cur_digest = 0;

		while (i < speclen && spec[i] >= '0' && spec[i] <= '9') {
			n = n * 10 + (uint64_t)(spec[i] - '0');
			if (n > 0xffffffffu)
				return -1;
			i++;
		}
		if (n == 0)
			return -1;
		if (i < speclen) {
			if (spec[i] != '.' || i + 1 == speclen)
				return -1;
			i++;
		}
		have_part = 1;
		/* deeper than BODYSTRUCTURE shows is no part we give */
		if (++levels > IMAP_MIME_DEPTH)
			found = 0;
		if (!found)
			continue;
		mime_read(msg, s, e, digest, &p);
		if (!is_msg && is_message(&p)) {
			/* into the encapsulated message */
			s = p.h;
			mime_free(&p);
			mime_read(msg, s, e, 0, &p);
			is_msg = 1;
		}
		if (is_multipart(&p)) {
			uint64_t k = 0;

			cur_digest = is_type(&p, "multipart", "digest");
			parts_init(&it, msg, &p);
			while (parts_next(&it, &ps, &pe))
				if (++k == n)
					break;
			if (k == n) {
				s = ps;
				e = pe;
			} else
				found = 0;
		} else if (n != 1 || !is_msg)
			found = 0;
		/* else: part 1 of a non-multipart message is its body,
		 * with the message header as its MIME header */
		mime_free(&p);
		digest = cur_digest;
		is_msg = 0;
		if (i < speclen && (spec[i] < '0' || spec[i] > '9'))
			break;
	}
	if (i < speclen && have_part && spec[i - 1] != '.')
		return -1;
	h = s + hdr_len(msg + s, e - s);
	if (i == speclen) {
		if (found && have_part) {
			span_add(out, h, e - h);
		} else if (found)
			span_add(out, 0, len);
		return 0;
	}
	if (have_part && word_is(spec, speclen, i, "MIME") &&
	    i + 4 == speclen) {
		if (found)
			span_add(out, s, h - s);
		return 0;
	}
	if (found && have_part) {
		/* HEADER, TEXT of a message/rfc822 part */
		mime_read(msg, s, e, digest, &p);
		if (!is_message(&p))
			found = 0;
		mime_free(&p);
		s = h;
		h = s + hdr_len(msg + s, e - s);
	}
	if (word_is(spec, speclen, i, "TEXT") && i + 4 == speclen) {
		if (found)
			span_add(out, h, e - h);
		return 0;
	}
	if (word_is(spec, speclen, i, "HEADER") && i + 6 == speclen) {
		if (found)
			span_add(out, s, h - s);
		return 0;
	}
	if (word_is(spec, speclen, i, "HEADER.FIELDS.NOT") &&
	    list_valid(spec + i + 17, speclen - i - 17)) {
		if (found)
			header_fields(msg, s, h, spec + i + 17,
			    speclen - i - 17, 1, out);
		return 0;
	}
	if (word_is(spec, speclen, i, "HEADER.FIELDS") &&
	    list_valid(spec + i + 13, speclen - i - 13)) {
		if (found)
			header_fields(msg, s, h, spec + i + 13,
			    speclen - i - 13, 0, out);
		return 0;
	}
	return -1;
}

/* ---- search ---- */

int
imap_search_header(const char *msg, size_t len, const char *field,
    const char *needle, size_t nlen)
{
	struct field f;
	size_t pos = 0, hl = hdr_len(msg, len), n;
	char *v;
	int hit;

	while (field_next(msg, hl, &pos, &f)) {
		if (field != NULL && !ci_eqs(msg + f.name, f.name_len, field))
			continue;
		if (field == NULL && ci_find(msg + f.name, f.name_len,
		    needle, nlen))
			return 1;
		v = unfold(msg + f.val, f.val_end - f.val, &n);
		hit = ci_find(v, n, needle, nlen);
		free(v);
		if (hit)
			return 1;
	}
	return 0;
}

/* Lenient transfer decoding into a malloc'd buffer: base64 skips what is
 * not in the alphabet, quoted-printable keeps a broken escape as is. */
static char *
decode(const char *m, size_t s, size_t e, int b64, size_t *len_r)
{
	char *o = xcalloc(1, e - s + 1);
	size_t i, k = 0;
	unsigned acc = 0;
	int bits = 0, v, hi, lo;

	for (i = s; i < e; i++) {
		if (b64) {
			if (m[i] == '=')
				break;
			if ((v = base64_value((unsigned char)m[i])) < 0)
				continue;
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				o[k++] = (char)((acc >> bits) & 0xff);
			}
			continue;
		}
		if (m[i] != '=') {
			o[k++] = m[i];
			continue;
		}
		if (i + 1 < e && m[i + 1] == '\n') {
			i++;
			continue;
		}
		if (i + 2 < e && m[i + 1] == '\r' && m[i + 2] == '\n') {
			i += 2;
			continue;
		}
		if (i + 2 < e && (hi = hex_value((unsigned char)m[i + 1])) >= 0 &&
		    (lo = hex_value((unsigned char)m[i + 2])) >= 0) {
			o[k++] = (char)(hi * 16 + lo);
			i += 2;
			continue;
		}
		o[k++] = m[i];
	}
	*len_r = k;
	return o;
}

static int
search_parts(const char *m, size_t s, size_t e, int depth, int digest,
    size_t *budget, const char *nd, size_t nn)
{
	struct mime p;
	struct parts it;
	size_t ps, pe, n;
	char *enc, *d;
	int hit = 0, dig;

	if (*budget == 0 || depth >= IMAP_MIME_DEPTH)
		return 0;
	(*budget)--;
	mime_read(m, s, e, digest, &p);
	if (is_multipart(&p)) {
		dig = is_type(&p, "multipart", "digest");
		parts_init(&it, m, &p);
		while (!hit && parts_next(&it, &ps, &pe))
			hit = search_parts(m, ps, pe, depth + 1, dig, budget,
			    nd, nn);
	} else if (is_message(&p)) {
		hit = search_parts(m, p.h, p.e, depth + 1, 0, budget, nd, nn);
	} else if (is_type(&p, "text", NULL)) {
		enc = get_field(m, p.s, p.h, "Content-Transfer-Encoding", &n);
		if (enc != NULL && (ci_eqs(enc, n, "base64") ||
		    ci_eqs(enc, n, "quoted-printable"))) {
			d = decode(m, p.h, p.e, ci_eqs(enc, n, "base64"), &n);
			hit = ci_find(d, n, nd, nn);
			free(d);
		}
		free(enc);
	}
	mime_free(&p);
	return hit;
}

int
imap_search_body(const char *msg, size_t len, const char *needle,
    size_t nlen)
{
	size_t hl = hdr_len(msg, len), budget = IMAP_MIME_PARTS;

	if (ci_find(msg + hl, len - hl, needle, nlen))
		return 1;
	return search_parts(msg, 0, len, 0, 0, &budget, needle, nlen);
}

/* ---- dates ---- */

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static int
month_of(const char *s, size_t n)
{
	int i;

	if (n < 3)
		return -1;
	for (i = 0; i < 12; i++)
		if (ci_eq(s, 3, months[i], 3))
			return i + 1;
	return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the usual era
 * arithmetic: 400-year cycles of 146097 days). */
static int64_t
days_from_civil(int64_t y, int mo, int d)
{
	int64_t era, yoe, doy, doe;

	y -= mo <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int mo)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[mo - 1];
}

static int
make_time(int y, int mo, int d, int hh, int mi, int ss, long zone_s,
    time_t *t_r)
{
	int64_t t;

	if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || hh > 23 || mi > 59 || ss > 60)
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss -
	    zone_s;
	if (sizeof(time_t) < 8 && (t > INT32_MAX || t < INT32_MIN))
		return -1;
	*t_r = (time_t)t;
	return 0;
}

/* Up to max digits at *i: the value, or -1 when there is none. */
static long
digits(const char *s, size_t n, size_t *i, int max)
{
	long v = 0;
	int k = 0;

	while (*i < n && k < max && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	return k == 0 ? -1 : v;
}

/* RFC 5322 3.3 and 4.3 zone names; military letters mean nothing
 * reliable (RFC 5322 4.3): zero. */
static long
zone_name(const char *s, size_t n)
{
	static const struct { const char *name; int hours; } z[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	size_t k;

	for (k = 0; k < sizeof(z) / sizeof(z[0]); k++)
		if (ci_eqs(s, n, z[k].name))
			return z[k].hours * 3600L;
	return 0;
}

static int
parse_5322_date(const char *v, size_t n, time_t *t_r)
{
	size_t i = 0, ws;
	long day, year, hh, mi, ss = 0, zone = 0, zz;
	int mo, sign;

	skip_cfws(v, n, &i);
	/* day-of-week, with or without its comma */
	if (i < n && isalpha((unsigned char)v[i])) {
		while (i < n && isalpha((unsigned char)v[i]))
			i++;
		skip_cfws(v, n, &i);
		if (i < n && v[i] == ',')
			i++;
		skip_cfws(v, n, &i);
	}
	if ((day = digits(v, n, &i, 2)) < 0)
		return -1;
	skip_cfws(v, n, &i);
	if (i < n && v[i] == '-')
		i++;
	skip_cfws(v, n, &i);
	ws = i;
	while (i < n && isalpha((unsigned char)v[i]))
		i++;
	if ((mo = month_of(v + ws, i - ws)) < 0)
		return -1;
	skip_cfws(v, n, &i);
	if (i < n && v[i] == '-')
		i++;
	skip_cfws(v, n, &i);
	ws = i;
	if ((year = digits(v, n, &i, 4)) < 0)
		return -1;
	if (i - ws == 2)
		year += year < 50 ? 2000 : 1900;
	else if (i - ws == 3)
		year += 1900;
	skip_cfws(v, n, &i);
	if ((hh = digits(v, n, &i, 2)) < 0)
		return -1;
	skip_cfws(v, n, &i);
	if (i >= n || v[i] != ':')
		return -1;
	i++;
	skip_cfws(v, n, &i);
	if ((mi = digits(v, n, &i, 2)) < 0)
		return -1;
	skip_cfws(v, n, &i);
	if (i < n && v[i] == ':') {
		i++;
		skip_cfws(v, n, &i);
		if ((ss = digits(v, n, &i, 2)) < 0)
			return -1;
	}
	skip_cfws(v, n, &i);
	if (i < n && (v[i] == '+' || v[i] == '-')) {
		sign = v[i] == '-' ? -1 : 1;
		i++;
		ws = i;
		zz = digits(v, n, &i, 4);
		if (zz >= 0 && i - ws == 4)
			zone = sign * ((zz / 100) * 3600L + (zz % 100) * 60L);
	} else if (i < n && isalpha((unsigned char)v[i])) {
		ws = i;
		while (i < n && isalpha((unsigned char)v[i]))
			i++;
		zone = zone_name(v + ws, i - ws);
	}
	return make_time((int)year, mo, (int)day, (int)hh, (int)mi, (int)ss,
	    zone, t_r);
}

int
imap_message_date(const char *msg, size_t len, time_t *t_r)
{
	size_t n;
	char *v = get_field(msg, 0, hdr_len(msg, len), "Date", &n);
	int r;

	if (v == NULL)
		return -1;
	r = parse_5322_date(v, n, t_r);
	free(v);
	return r;
}

void
imap_format_datetime(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		memcpy(out, "01-Jan-1970 00:00:00 +0000", 27);
		return;
	}
	(void)xsnprintf(out, 32, "%02d-%s-%04d %02d:%02d:%02d +0000",
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/* Exactly k digits at *i. */
static long
fixed(const char *s, size_t n, size_t *i, int k)
{
	size_t st = *i;
	long v = digits(s, n, i, k);

	return (v < 0 || *i - st != (size_t)k) ? -1 : v;
}

/* "d-Mon-yyyy" at *i (the day one or two digits, or SP digit when
 * spday). */
static int
parse_day(const char *s, size_t n, size_t *i, int spday, int *d, int *mo,
    int *y)
{
	long v;

	if (spday && *i < n && s[*i] == ' ')
		(*i)++;
	if ((v = digits(s, n, i, 2)) < 1)
		return -1;
	*d = (int)v;
	if (*i >= n || s[*i] != '-' || n - *i < 5)
		return -1;
	(*i)++;
	if ((*mo = month_of(s + *i, 3)) < 0)
		return -1;
	*i += 3;
	if (*i >= n || s[*i] != '-')
		return -1;
	(*i)++;
	if ((v = fixed(s, n, i, 4)) < 0)
		return -1;
	*y = (int)v;
	return 0;
}

int
imap_parse_datetime(const char *s, size_t len, time_t *t_r)
{
	size_t i = 0;
	int d, mo, y;
	long hh, mi, ss, zz;
	int sign;

	if (parse_day(s, len, &i, 1, &d, &mo, &y) < 0 || i >= len ||
	    s[i++] != ' ')
		return -1;
	if ((hh = fixed(s, len, &i, 2)) < 0 || i >= len || s[i++] != ':' ||
	    (mi = fixed(s, len, &i, 2)) < 0 || i >= len || s[i++] != ':' ||
	    (ss = fixed(s, len, &i, 2)) < 0 || i >= len || s[i++] != ' ')
		return -1;
	if (i >= len || (s[i] != '+' && s[i] != '-'))
		return -1;
	sign = s[i++] == '-' ? -1 : 1;
	if ((zz = fixed(s, len, &i, 4)) < 0 || i != len || zz % 100 > 59)
		return -1;
	return make_time(y, mo, d, (int)hh, (int)mi, (int)ss,
	    sign * ((zz / 100) * 3600L + (zz % 100) * 60L), t_r);
}

int
imap_parse_date(const char *s, size_t len, time_t *t_r)
{
	size_t i = 0;
	int d, mo, y;

	if (parse_day(s, len, &i, 0, &d, &mo, &y) < 0 || i != len)
		return -1;
	return make_time(y, mo, d, 0, 0, 0, 0, t_r);
}
