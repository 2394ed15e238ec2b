/* sendmail_args - command line, stdin normalisation, address lists and
 *                 header rewriting of `postern sendmail`; see
 *                 sendmail_args.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"
#include "maildrop.h"
#include "sendmail_args.h"

static void seterr(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);	/* truncation is harmless */
	va_end(ap);
}

/* ---- the command line ---- */

int
sendmail_args_parse(int argc, char * const *argv, struct sendmail_opts *o,
    char *err, size_t errlen)
{
	const char *a, *p, *val;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		for (p = a + 1; *p != '\0'; p++) {
			switch (*p) {
			case 't':
				o->extract = 1;
				continue;
			case 'i':
				o->ignore_dots = 1;
				continue;
			case 'v':
				o->verbose = 1;
				continue;
			case 'm': case 'n': case 'U': case 'G':
				continue;
			case 'f': case 'r': case 'F': case 'C': case 'o':
			case 'O': case 'b': case 'B': case 'N': case 'R':
			case 'V': case 'X': case 'L': case 'h': case 'p':
			case 'A':
				break;
			case 'q':
				seterr(err, errlen, "-q is not supported: the "
				    "queue process retries by itself (see "
				    "'postern queue flush')");
				return -1;
			default:
				seterr(err, errlen, "unknown option -%c", *p);
				return -1;
			}
			/* An option with a value: the rest of this argument
			 * or the next one. */
			if (p[1] != '\0')
				val = p + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				seterr(err, errlen, "option -%c needs a value",
				    *p);
				return -1;
			}
			switch (*p) {
			case 'f':
			case 'r':
				o->sender = val;
				break;
			case 'F':
				o->fullname = val;
				break;
			case 'C':
				o->config = val;
				break;
			case 'o':
				/* -oi; -oem, -odi, -oQ... are sendmail.cf
				 * options that mean nothing here. */
				if (strcmp(val, "i") == 0)
					o->ignore_dots = 1;
				break;
			case 'b':
				if (strcmp(val, "m") == 0)
					o->mode = SENDMAIL_MODE_DELIVER;
				else if (strcmp(val, "i") == 0)
					o->mode = SENDMAIL_MODE_NEWALIASES;
				else {
					seterr(err, errlen, "-b%s is not "
					    "supported (only -bm and -bi)", val);
					return -1;
				}
				break;
			default:
				break;	/* -B -N -R -V -X -L -h -p -A -O: ignored */
			}
			break;
		}
	}
	o->rcpts = argv + i;
	o->nrcpts = (size_t)(argc - i);
	return 0;
}

/* ---- stdin ---- */

void
sendmail_input_init(struct sendmail_input *in, int ignore_dots, size_t max)
{
	memset(in, 0, sizeof(*in));
	buf_init(&in->out, max);
	in->ignore_dots = ignore_dots;
}

void
sendmail_input_free(struct sendmail_input *in)
{
	buf_free(&in->out);
}

static void
in_emit(struct sendmail_input *in, const char *p, size_t n)
{
	if (!in->too_big && buf_append(&in->out, p, n) == -1)
		in->too_big = 1;
}

/* A line ended (its text is in out). The lone "." line ends the input. */
static void
in_end_line(struct sendmail_input *in, int only_dot)
{
	if (!in->ignore_dots && only_dot) {
		if (!in->too_big && in->out.len > 0) {
			in->out.len--;
			in->out.data[in->out.len] = '\0';
		}
		in->done = 1;
	} else {
		in_emit(in, "\r\n", 2);
	}
	in->linelen = 0;
	in->split = 0;
	in->dot = 0;
}

int
sendmail_input_feed(struct sendmail_input *in, const char *p, size_t n)
{
	size_t i, start;
	int only_dot;

	for (i = 0; i < n && !in->done; i++) {
		char c = p[i];

		only_dot = in->dot && in->linelen == 1;
		if (in->cr) {
			in->cr = 0;
			in_end_line(in, only_dot);
			if (c == '\n' || in->done)
				continue;
			only_dot = 0;
		}
		if (c == '\r') {
			in->cr = 1;
			continue;
		}
		if (c == '\n') {
			in_end_line(in, only_dot);
			continue;
		}
		if (c == '\0') {
			in->nul = 1;
			continue;
		}
		if (in->linelen == SENDMAIL_LINE_MAX) {
			in_emit(in, "\r\n", 2);
			in->linelen = 0;
			in->split = 1;
		}
		in->dot = in->linelen == 0 && !in->split && c == '.';
		/* Copy the run of ordinary bytes at once. */
		start = i;
		while (i + 1 < n && in->linelen + (i + 1 - start) <
		    SENDMAIL_LINE_MAX && p[i + 1] != '\r' && p[i + 1] != '\n' &&
		    p[i + 1] != '\0')
			i++;
		in_emit(in, p + start, i + 1 - start);
		in->linelen += i + 1 - start;
	}
	return in->done;
}

void
sendmail_input_end(struct sendmail_input *in)
{
	int only_dot;

	if (in->done)
		return;
	only_dot = in->dot && in->linelen == 1;
	if (in->cr || in->linelen > 0)
		in_end_line(in, only_dot);
	in->cr = 0;
}

/* ---- addresses ---- */

void
sendmail_rcpts_free(struct sendmail_rcpts *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* Parse one addr-spec (without brackets), qualifying a bare name. */
static int
parse_one(const char *text, size_t n, const char *domain, int is_sender,
    char *out, size_t outlen, char *err, size_t errlen)
{
	char path[ADDRESS_PATH_MAX * 2 + 8];
	struct address a;
	size_t end = 0;
	int len;

	if (memchr(text, '@', n) == NULL && !(n > 0 && text[0] == '@'))
		len = snprintf(path, sizeof(path), "<%.*s@%s>", (int)n, text,
		    domain);
	else
		len = snprintf(path, sizeof(path), "<%.*s>", (int)n, text);
	if (len < 0 || (size_t)len >= sizeof(path)) {
		seterr(err, errlen, "address too long: %.60s...", text);
		return -1;
	}
	if (memchr(text, '\0', n) != NULL ||
	    address_parse_path(path, (size_t)len, 0, 0, &a, &end) !=
	    ADDRESS_OK || end != (size_t)len) {
		seterr(err, errlen, "bad %s address: %.*s",
		    is_sender ? "sender" : "recipient", (int)(n > 200 ? 200 : n),
		    text);
		return -1;
	}
	if (a.flags & ADDRESS_F_ROUTING) {
		seterr(err, errlen, "address routing is not allowed: %.*s",
		    (int)(n > 200 ? 200 : n), text);
		return -1;
	}
	if (!maildrop_address_ok(&a, out, outlen)) {
		seterr(err, errlen, "cannot handle the address %.*s",
		    (int)(n > 200 ? 200 : n), text);
		return -1;
	}
	return 0;
}

static int
rcpts_add(struct sendmail_rcpts *r, const char *addr, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i], addr) == 0)
			return 0;
	if (r->n >= SENDMAIL_RCPTS_MAX) {
		seterr(err, errlen, "too many recipients");
		return -1;
	}
	r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
	r->v[r->n++] = xstrdup(addr);
	return 0;
}

int
sendmail_sender_parse(const char *s, const char *domain, char *out,
    size_t outlen)
{
	size_t n = strlen(s);

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s++;
		n -= 2;
	}
	if (n == 0) {
		if (outlen == 0)
			return -1;
		out[0] = '\0';
		return 0;
	}
	return parse_one(s, n, domain, 1, out, outlen, NULL, 0);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One element of a list is over: its angle address, else its text. */
static int
element_end(struct buf *cur, struct buf *angle, int saw_angle,
    const char *domain, struct sendmail_rcpts *r, char *err, size_t errlen)
{
	char norm[ADDRESS_PATH_MAX * 2 + 8];
	struct buf *t = saw_angle ? angle : cur;
	int rv = 0;

	if (t->len == 0) {
		if (saw_angle) {
			seterr(err, errlen, "empty address <>");
			rv = -1;
		}
	} else if (parse_one(t->data, t->len, domain, 0, norm, sizeof(norm),
	    err, errlen) == -1 || rcpts_add(r, norm, err, errlen) == -1)
		rv = -1;
	buf_reset(cur);
	buf_reset(angle);
	return rv;
}

int
sendmail_addrlist_parse(const char *s, size_t n, const char *domain,
    struct sendmail_rcpts *r, char *err, size_t errlen)
{
	struct buf cur, angle, *t;
	int in_angle = 0, saw_angle = 0, in_group = 0, depth, rv = -1;
	size_t i;
	char c;

	buf_init(&cur, 1024);
	buf_init(&angle, 1024);
	for (i = 0; i < n; i++) {
		c = s[i];
		t = in_angle ? &angle : &cur;
		if (c == '\0') {
			seterr(err, errlen, "NUL in address list");
			goto done;
		}
		if (c == '"') {
			/* A quoted string, copied with its quotes. */
			if (buf_appendc(t, c) == -1)
				goto toolong;
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n) {
					if (buf_appendc(t, s[i++]) == -1)
						goto toolong;
				}
				if (buf_appendc(t, s[i]) == -1)
					goto toolong;
			}
			if (i == n) {
				seterr(err, errlen, "unterminated quoted "
				    "string in address list");
				goto done;
			}
			if (buf_appendc(t, '"') == -1)
				goto toolong;
			continue;
		}
		if (c == '(') {
			/* A comment, nested, skipped. */
			for (depth = 1, i++; i < n && depth > 0; i++) {
				if (s[i] == '\\')
					i++;
				else if (s[i] == '(')
					depth++;
				else if (s[i] == ')')
					depth--;
			}
			if (depth > 0) {
				seterr(err, errlen, "unterminated comment in "
				    "address list");
				goto done;
			}
			i--;
			continue;
		}
		if (is_space(c))
			continue;
		if (in_angle) {
			if (c == '>')
				in_angle = 0;
			else if (c == '<') {
				seterr(err, errlen, "'<' inside <...>");
				goto done;
			} else if (buf_appendc(&angle, c) == -1)
				goto toolong;
			continue;
		}
		switch (c) {
		case '<':
			if (saw_angle) {
				seterr(err, errlen, "two <...> in one address");
				goto done;
			}
			in_angle = saw_angle = 1;
			break;
		case '>':
			seterr(err, errlen, "'>' without '<'");
			goto done;
		case ':':
			if (in_group) {
				seterr(err, errlen, "group inside a group");
				goto done;
			}
			in_group = 1;		/* "name: a, b;" */
			buf_reset(&cur);
			break;
		case ';':
			in_group = 0;
			/* FALLTHROUGH */
		case ',':
			if (element_end(&cur, &angle, saw_angle, domain, r, err,
			    errlen) == -1)
				goto done;
			saw_angle = 0;
			break;
		default:
			if (buf_appendc(&cur, c) == -1)
				goto toolong;
		}
	}
	if (in_angle) {
		seterr(err, errlen, "unterminated <...>");
		goto done;
	}
	if (element_end(&cur, &angle, saw_angle, domain, r, err, errlen) == -1)
		goto done;
	rv = 0;
	goto done;
toolong:
	seterr(err, errlen, "address too long in address list");
done:
	buf_free(&cur);
	buf_free(&angle);
	return rv;
}

int
sendmail_from_header(const char *name, const char *addr, char *out,
    size_t outlen)
{
	struct buf b;
	const char *p;
	int ok = name != NULL && name[0] != '\0', r;

	for (p = name; ok && *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			ok = 0;
	if (!ok)
		return xsnprintf(out, outlen, "%s", addr) < 0 ? -1 : 0;
	buf_init(&b, outlen);
	r = buf_appendc(&b, '"');
	for (p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			r |= buf_appendc(&b, '\\');
		r |= buf_appendc(&b, *p);
	}
	r |= buf_printf(&b, "\" <%s>", addr);
	if (r == 0 && b.len < outlen)
		memcpy(out, b.data, b.len + 1);
	else
		r = -1;
	buf_free(&b);
	return r ? -1 : 0;
}

/* ---- headers ---- */

/* Length of a field name followed by optional WSP and ':' at line[0..ll),
 * or 0 if the line does not start a header field. */
static size_t
field_name_len(const char *line, size_t ll)
{
	size_t i = 0, n;

	while (i < ll && (unsigned char)line[i] > 32 &&
	    (unsigned char)line[i] < 127 && line[i] != ':')
		i++;
	n = i;
	if (n == 0)
		return 0;
	while (i < ll && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < ll && line[i] == ':' ? n : 0;
}

static int
name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* End of the line starting at pos (index after its CRLF, or len). */
static size_t
line_next(const char *msg, size_t len, size_t pos, size_t *ll_r)
{
	const char *crlf = NULL;
	size_t i;

	for (i = pos; i + 1 < len; i++)
		if (msg[i] == '\r' && msg[i + 1] == '\n') {
			crlf = msg + i;
			break;
		}
	if (crlf == NULL) {
		*ll_r = len - pos;
		return len;
	}
	*ll_r = (size_t)(crlf - (msg + pos));
	return pos + *ll_r + 2;
}

int
sendmail_compose(const char *msg, size_t len,
    const struct sendmail_compose_ctx *ctx, struct buf *out,
    struct sendmail_rcpts *rcpts, char *err, size_t errlen)
{
	size_t pos = 0, next, ll, nlen, colon, body = len;
	int has_from = 0, has_date = 0, has_msgid = 0, r = 0, is_bcc;

	while (pos < len) {
		next = line_next(msg, len, pos, &ll);
		if (ll == 0) {
			body = next;		/* the empty line */
			break;
		}
		nlen = field_name_len(msg + pos, ll);
		if (nlen == 0) {
			body = pos;		/* not a header: the body */
			break;
		}
		/* The field and its continuation lines. */
		while (next < len && (msg[next] == ' ' || msg[next] == '\t'))
			next = line_next(msg, len, next, &ll);
		colon = (size_t)((const char *)memchr(msg + pos, ':',
		    next - pos) - msg);
		is_bcc = name_is(msg + pos, nlen, "bcc");
		if (name_is(msg + pos, nlen, "from"))
			has_from = 1;
		else if (name_is(msg + pos, nlen, "date"))
			has_date = 1;
		else if (name_is(msg + pos, nlen, "message-id"))
			has_msgid = 1;
		if (ctx->extract && (is_bcc || name_is(msg + pos, nlen, "to") ||
		    name_is(msg + pos, nlen, "cc")) &&
		    sendmail_addrlist_parse(msg + colon + 1, next - colon - 1,
		    ctx->domain, rcpts, err, errlen) == -1)
			return -1;
		if (!is_bcc)
			r |= buf_append(out, msg + pos, next - pos);
		/* A last field without CRLF still gets one. */
		if (!is_bcc && (next - pos < 2 || msg[next - 2] != '\r' ||
		    msg[next - 1] != '\n'))
			r |= buf_append(out, "\r\n", 2);
		pos = next;
	}
	if (!has_from && ctx->from_header != NULL)
		r |= buf_printf(out, "From: %s\r\n", ctx->from_header);
	if (!has_date && ctx->date != NULL)
		r |= buf_printf(out, "Date: %s\r\n", ctx->date);
	if (!has_msgid && ctx->message_id != NULL)
		r |= buf_printf(out, "Message-ID: %s\r\n", ctx->message_id);
	r |= buf_append(out, "\r\n", 2);
	if (body < len)
		r |= buf_append(out, msg + body, len - body);
	if (r) {
		seterr(err, errlen, "message too large");
		return -1;
	}
	return 0;
}
