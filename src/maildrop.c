/* maildrop - the maildrop file format; see maildrop.h. */
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "buf.h"
#include "decimal.h"
#include "maildrop.h"

const char *
maildrop_strerror(enum maildrop_status st)
{
	switch (st) {
	case MAILDROP_OK:			return "ok";
	case MAILDROP_ERR_MAGIC:		return "not a maildrop file";
	case MAILDROP_ERR_TRUNCATED:		return "envelope not terminated";
	case MAILDROP_ERR_ENVELOPE_SIZE:	return "envelope too large";
	case MAILDROP_ERR_LINE:			return "unexpected envelope line";
	case MAILDROP_ERR_UID:			return "bad uid line";
	case MAILDROP_ERR_FROM:			return "bad sender address";
	case MAILDROP_ERR_RCPT:			return "bad recipient address";
	case MAILDROP_ERR_NO_RCPT:		return "no recipient";
	case MAILDROP_ERR_TOO_MANY_RCPTS:	return "too many recipients";
	case MAILDROP_ERR_NUL:			return "NUL byte";
	case MAILDROP_ERR_BARE_CR:		return "bare CR in content";
	case MAILDROP_ERR_BARE_LF:		return "bare LF in content";
	case MAILDROP_ERR_LONG_LINE:		return "content line too long";
	case MAILDROP_ERR_NO_FINAL_CRLF:	return "content does not end in CRLF";
	case MAILDROP_ERR_TOO_BIG:		return "message too large";
	}
	return "unknown error";
}

static int
text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

int
maildrop_address_ok(const struct address *a, char *out, size_t outlen)
{
	char tmp[ADDRESS_PATH_MAX * 2 + 8];

	if (a->is_null) {
		if (out != NULL && outlen > 0)
			out[0] = '\0';
		return 1;
	}
	if (address_format(a, tmp, sizeof(tmp)) == NULL || tmp[0] == '\0' ||
	    !text_ok(tmp))
		return 0;
	if (out != NULL) {
		if (strlen(tmp) >= outlen)
			return 0;
		memcpy(out, tmp, strlen(tmp) + 1);
	}
	return 1;
}

int
maildrop_envelope_format(struct buf *out, uid_t uid, const char *from,
    char *const *rcpts, size_t nrcpts)
{
	size_t i;
	int r = 0;

	if ((from[0] != '\0' && !text_ok(from)) || nrcpts == 0)
		return -1;
	for (i = 0; i < nrcpts; i++)
		if (rcpts[i][0] == '\0' || !text_ok(rcpts[i]))
			return -1;
	r |= buf_appends(out, MAILDROP_MAGIC);
	r |= buf_printf(out, "uid %lu\nfrom <%s>\n", (unsigned long)uid, from);
	for (i = 0; i < nrcpts; i++)
		r |= buf_printf(out, "rcpt <%s>\n", rcpts[i]);
	r |= buf_appendc(out, '\n');
	return r ? -1 : 0;
}

/* "uid N": decimal, 1..10 digits, no leading zero (except "0"), fits uid_t
 * and is not (uid_t)-1. */
static int
parse_uid(const char *s, size_t n, uid_t *uid_r)
{
	uint64_t v;

	if ((n > 1 && s[0] == '0') ||
	    parse_decimal(s, n, 0xfffffffeull, &v) == -1 ||
	    (uint64_t)(uid_t)v != v)
		return -1;
	*uid_r = (uid_t)v;
	return 0;
}

/* "<addr>" exactly, nothing before or after. */
static int
parse_addr(const char *s, size_t n, int is_from, struct address *a)
{
	size_t end = 0;

	if (n == 0 || s[0] != '<')
		return -1;
	if (address_parse_path(s, n, is_from, !is_from, a, &end) != ADDRESS_OK ||
	    end != n)
		return -1;
	if (!is_from && a->is_null)
		return -1;
	return maildrop_address_ok(a, NULL, 0) ? 0 : -1;
}

enum maildrop_status
maildrop_envelope_parse(const char *text, size_t len, size_t max_rcpts,
    struct maildrop_envelope *e)
{
	enum { WANT_UID, WANT_FROM, WANT_RCPT, WANT_MORE } want = WANT_UID;
	enum maildrop_status st = MAILDROP_ERR_TRUNCATED;
	size_t pos, n, mlen = strlen(MAILDROP_MAGIC);
	const char *line, *nl;

	memset(e, 0, sizeof(*e));
	if (len < mlen)
		return memcmp(text, MAILDROP_MAGIC, len) == 0 ?
		    MAILDROP_ERR_TRUNCATED : MAILDROP_ERR_MAGIC;
	if (memcmp(text, MAILDROP_MAGIC, mlen) != 0)
		return MAILDROP_ERR_MAGIC;
	for (pos = mlen; pos < len; pos += n + 1) {
		if (pos >= MAILDROP_ENVELOPE_MAX) {
			st = MAILDROP_ERR_ENVELOPE_SIZE;
			goto bad;
		}
		line = text + pos;
		nl = memchr(line, '\n', len - pos);
		if (nl == NULL) {
			st = len > MAILDROP_ENVELOPE_MAX ?
			    MAILDROP_ERR_ENVELOPE_SIZE : MAILDROP_ERR_TRUNCATED;
			goto bad;
		}
		n = (size_t)(nl - line);
		if (pos + n + 1 > MAILDROP_ENVELOPE_MAX) {
			st = MAILDROP_ERR_ENVELOPE_SIZE;
			goto bad;
		}
		if (memchr(line, '\0', n) != NULL) {
			st = MAILDROP_ERR_NUL;
			goto bad;
		}
		if (n == 0) {
			if (want != WANT_MORE) {
				st = want == WANT_RCPT ? MAILDROP_ERR_NO_RCPT :
				    MAILDROP_ERR_LINE;
				goto bad;
			}
			e->content_off = pos + 1;
			return MAILDROP_OK;
		}
		switch (want) {
		case WANT_UID:
			if (n < 4 || memcmp(line, "uid ", 4) != 0) {
				st = MAILDROP_ERR_LINE;
				goto bad;
			}
			if (parse_uid(line + 4, n - 4, &e->uid) == -1) {
				st = MAILDROP_ERR_UID;
				goto bad;
			}
			want = WANT_FROM;
			break;
		case WANT_FROM:
			if (n < 5 || memcmp(line, "from ", 5) != 0) {
				st = MAILDROP_ERR_LINE;
				goto bad;
			}
			if (parse_addr(line + 5, n - 5, 1, &e->from) == -1) {
				st = MAILDROP_ERR_FROM;
				goto bad;
			}
			want = WANT_RCPT;
			break;
		case WANT_RCPT:
		case WANT_MORE:
			if (n < 5 || memcmp(line, "rcpt ", 5) != 0) {
				st = MAILDROP_ERR_LINE;
				goto bad;
			}
			if (max_rcpts > 0 && e->nrcpts >= max_rcpts) {
				st = MAILDROP_ERR_TOO_MANY_RCPTS;
				goto bad;
			}
			/* Double at 0, 1, 2, 4...: growing by one entry is
			 * quadratic where realloc copies (ASan, valgrind). */
			if ((e->nrcpts & (e->nrcpts - 1)) == 0)
				e->rcpts = xreallocarray(e->rcpts,
				    e->nrcpts ? 2 * e->nrcpts : 1,
				    sizeof(*e->rcpts));
			if (parse_addr(line + 5, n - 5, 0,
			    &e->rcpts[e->nrcpts]) == -1) {
				st = MAILDROP_ERR_RCPT;
				goto bad;
			}
			e->nrcpts++;
			want = WANT_MORE;
			break;
		}
	}
bad:
	maildrop_envelope_free(e);
	return st;
}

void
maildrop_envelope_free(struct maildrop_envelope *e)
{
	free(e->rcpts);
	memset(e, 0, sizeof(*e));
}

void
maildrop_content_init(struct maildrop_content *c, uint64_t max)
{
	memset(c, 0, sizeof(*c));
	c->max = max;
	c->status = MAILDROP_OK;
}

enum maildrop_status
maildrop_content_feed(struct maildrop_content *c, const char *p, size_t n)
{
	size_t i;

	if (c->status != MAILDROP_OK)
		return c->status;
	if (n > c->max - c->size || c->size > c->max)
		return c->status = MAILDROP_ERR_TOO_BIG;
	c->size += n;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (c->cr && ch != '\n')
			return c->status = MAILDROP_ERR_BARE_CR;
		if (ch == '\0')
			return c->status = MAILDROP_ERR_NUL;
		if (ch == '\n' && !c->cr)
			return c->status = MAILDROP_ERR_BARE_LF;
		if (++c->linelen > MAILDROP_LINE_MAX)
			return c->status = MAILDROP_ERR_LONG_LINE;
		c->cr = ch == '\r';
		if (ch == '\n')
			c->linelen = 0;
	}
	return MAILDROP_OK;
}

enum maildrop_status
maildrop_content_end(struct maildrop_content *c)
{
	if (c->status != MAILDROP_OK)
		return c->status;
	if (c->cr)
		return c->status = MAILDROP_ERR_BARE_CR;
	if (c->linelen != 0)
		return c->status = MAILDROP_ERR_NO_FINAL_CRLF;
	return MAILDROP_OK;
}
