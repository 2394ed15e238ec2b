/* authres - Authentication-Results writer and remover; see authres.h. */
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "msgheader.h"

#define FIELD_NAME	"Authentication-Results"

/* RFC 2045 token octets: CHAR but SPACE, CTLs and tspecials. */
static int
is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!is_token_char((unsigned char)*s))
			return 0;
	return 1;
}

/* RFC 5322 atext. */
static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
is_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext((unsigned char)s[i]))
			return 0;
	return 1;
}

/* [local-part] "@" domain-name, written bare (RFC 8601 2.2 pvalue). */
static int
is_bare_address(const char *s)
{
	const char *at = strrchr(s, '@');
	size_t i;

	if (at == NULL || strchr(s, '@') != at)
		return 0;
	if (at != s && !is_dot_atom(s, (size_t)(at - s)))
		return 0;
	if (!is_dot_atom(at + 1, strlen(at + 1)))
		return 0;
	for (i = 1; at[i]; i++)		/* a domain-name: letters, digits, - */
		if (!((at[i] >= 'a' && at[i] <= 'z') ||
		    (at[i] >= 'A' && at[i] <= 'Z') ||
		    (at[i] >= '0' && at[i] <= '9') || at[i] == '-' ||
		    at[i] == '.' || at[i] == '_'))
			return 0;
	return 1;
}

static int
safe_char(unsigned char c)
{
	return c < 0x20 || c == 0x7f ? '?' : c;
}

/* A pvalue (or the authserv-id) into b. */
static int
put_value(struct buf *b, const char *v)
{
	int r = 0;

	if (is_token(v) || is_bare_address(v))
		return buf_appends(b, v);
	r |= buf_appendc(b, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			r |= buf_appendc(b, '\\');
		r |= buf_appendc(b, (char)safe_char((unsigned char)*v));
	}
	r |= buf_appendc(b, '"');
	return r;
}

static int
put_comment(struct buf *b, const char *c)
{
	int r = buf_appendc(b, '(');

	for (; *c; c++) {
		if (*c == '(' || *c == ')' || *c == '\\')
			r |= buf_appendc(b, '\\');
		r |= buf_appendc(b, (char)safe_char((unsigned char)*c));
	}
	return r | buf_appendc(b, ')');
}

/* Append piece (already formatted in tmp) after a space, or after a fold
 * when the current line would grow past AUTHRES_FOLD. */
static int
put_piece(struct buf *out, size_t *line_start, const struct buf *tmp)
{
	int r = 0;

	if (out->len - *line_start + 1 + tmp->len > AUTHRES_FOLD) {
		r |= buf_appends(out, "\r\n\t");
		*line_start = out->len - 1;
	} else
		r |= buf_appendc(out, ' ');
	return r | buf_append(out, tmp->data, tmp->len);
}

int
authres_write(struct buf *out, const char *authserv_id,
    const struct authres_result *res, size_t n)
{
	struct buf tmp;
	size_t i, k, line_start;
	int r = 0;

	for (i = 0; i < n; i++) {
		if (!is_token(res[i].method) || !is_token(res[i].result) ||
		    res[i].nprops > AUTHRES_PROPS_MAX)
			return -1;
		for (k = 0; k < res[i].nprops; k++)
			if (!is_token(res[i].props[k].ptype) ||
			    !is_token(res[i].props[k].property))
				return -1;
	}
	r |= buf_appends(out, FIELD_NAME ": ");
	r |= put_value(out, authserv_id);
	if (n == 0)
		return r | buf_appends(out, "; none\r\n");
	/* The pieces are formatted into tmp first so that the fold decision
	 * knows their length; tmp is bounded by out's own max. */
	buf_init(&tmp, out->max);
	for (i = 0; i < n && r == 0; i++) {
		r |= buf_appends(out, ";\r\n\t");
		line_start = out->len - 1;
		r |= buf_printf(out, "%s=%s", res[i].method, res[i].result);
		if (res[i].comment != NULL) {
			buf_reset(&tmp);
			r |= put_comment(&tmp, res[i].comment);
			r |= put_piece(out, &line_start, &tmp);
		}
		for (k = 0; k < res[i].nprops && r == 0; k++) {
			const struct authres_prop *p = &res[i].props[k];

			buf_reset(&tmp);
			r |= buf_printf(&tmp, "%s.%s=", p->ptype, p->property);
			r |= put_value(&tmp, p->value ? p->value : "");
			r |= put_piece(out, &line_start, &tmp);
		}
	}
	buf_free(&tmp);
	return r | buf_appends(out, "\r\n");
}

/* ---- removal ---- */

/* Past CFWS at v[i..len): spaces, tabs, CR, LF, nested comments. */
static size_t
skip_cfws(const char *v, size_t len, size_t i)
{
	size_t depth = 0;

	for (; i < len; i++) {
		char c = v[i];

		if (depth > 0) {
			if (c == '\\')
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '(')
			depth = 1;
		else if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			break;
	}
	return i > len ? len : i;
}

/* Case-insensitive equality, a trailing dot ignored on either side. */
static int
id_equal(const char *a, size_t an, const char *b, size_t bn)
{
	if (an > 0 && a[an - 1] == '.')
		an--;
	if (bn > 0 && b[bn - 1] == '.')
		bn--;
	return an > 0 && an == bn && strncasecmp(a, b, an) == 0;
}

int
authres_is_ours(const char *v, size_t len, const char *authserv_id)
{
	/* An id longer than a domain name is nobody's, ours included. */
	char id[256];
	size_t i, n = 0;

	i = skip_cfws(v, len, 0);
	if (i < len && v[i] == '"') {
		for (i++; i < len && v[i] != '"'; i++) {
			if (v[i] == '\\' && i + 1 < len)
				i++;
			else if (v[i] == '\r' || v[i] == '\n')
				continue;	/* a fold inside the quotes */
			if (n == sizeof(id))
				return 0;
			id[n++] = v[i];
		}
		if (i >= len)
			return 0;	/* unterminated */
		i++;
	} else {
		for (; i < len && is_token_char((unsigned char)v[i]); i++) {
			if (n == sizeof(id))
				return 0;
			id[n++] = v[i];
		}
	}
	/* The id ends at CFWS, ';' or the end; anything else glued to it
	 * makes it another id. */
	if (i < len && !(v[i] == ' ' || v[i] == '\t' || v[i] == '\r' ||
	    v[i] == '\n' || v[i] == '(' || v[i] == ';'))
		return 0;
	return id_equal(id, n, authserv_id, strlen(authserv_id));
}

long
authres_strip(const char *h, size_t len, const char *authserv_id,
    struct buf *out)
{
	struct msgheader_iter it;
	struct msgheader_field f;
	size_t copied = 0;
	long dropped = 0;

	msgheader_init(&it, h, len);
	for (;;) {
		int r = msgheader_next(&it, &f);

		if (r == MSGHEADER_BROKEN) {
			(void)msgheader_skip_broken(&it);
			continue;
		}
		if (r != MSGHEADER_FIELD)
			break;
		if (!msgheader_name_is(&f, FIELD_NAME) ||
		    !authres_is_ours(f.value, f.value_len, authserv_id))
			continue;
		if (buf_append(out, h + copied, f.start - copied) < 0)
			return -1;
		copied = f.end;
		dropped++;
	}
	if (buf_append(out, h + copied, len - copied) < 0)
		return -1;
	return dropped;
}
