/* address - RFC 5321 paths (MAIL FROM / RCPT TO); see address.h.
 * Two passes over the bytes between '<' and '>':
 *   1. a scan that finds the closing '>' (a quoted string may hide one)
 *      and refuses 8-bit bytes, controls, NUL, space and tab anywhere;
 *   2. a recursive-descent parse of [A-d-l ":"] Mailbox that must consume
 *      exactly the bytes found by the scan.
 * The input is a (pointer, length) pair and is never read past len. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"

/* RFC 5322 atext. */
static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_let_dig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Dot-atom over exactly [s, s+n): atoms of atext separated by single dots. */
static int
is_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i - 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* Domain name (no literal) at s[*pos] up to a byte that cannot belong to
 * it. Labels 1..63 of letters, digits, hyphens, no hyphen at either end.
 * allow_trailing_dot: one final '.' is accepted and reported in *dot_r.
 * Returns the length consumed (dot included), or 0 on a syntax error. */
static size_t
parse_domain_name(const char *s, size_t n, int allow_trailing_dot,
    int *dot_r)
{
	size_t i = 0, label;

	*dot_r = 0;
	for (;;) {
		label = 0;
		while (i < n && (is_let_dig((unsigned char)s[i]) || s[i] == '-')) {
			i++;
			label++;
		}
		if (label == 0 || label > 63 || s[i - label] == '-' ||
		    s[i - 1] == '-')
			return 0;
		if (i >= n || s[i] != '.')
			return i;
		i++;		/* the dot */
		if (i >= n || !(is_let_dig((unsigned char)s[i]) ||
		    s[i] == '-')) {
			/* A dot not followed by a label: only legal as the
			 * single trailing dot of the whole domain. */
			if (!allow_trailing_dot || (i < n && s[i] == '.'))
				return 0;
			*dot_r = 1;
			return i;
		}
	}
}

/* "[1.2.3.4]" or "[IPv6:...]" occupying exactly [s, s+n). */
static enum address_status
parse_literal(const char *s, size_t n, struct address *a)
{
	char tmp[64];
	char text[INET6_ADDRSTRLEN];
	const char *body;
	size_t blen;
	int v6 = 0, r;

	if (n < 3 || s[0] != '[' || s[n - 1] != ']')
		return ADDRESS_ERR_SYNTAX;
	body = s + 1;
	blen = n - 2;
	if (blen >= 5 && strncasecmp(body, "IPv6:", 5) == 0) {
		v6 = 1;
		body += 5;
		blen -= 5;
	}
	if (blen == 0 || blen >= sizeof(tmp))
		return ADDRESS_ERR_SYNTAX;
	memcpy(tmp, body, blen);
	tmp[blen] = '\0';
	memset(&a->literal, 0, sizeof(a->literal));
	if (v6) {
		/* netaddr_parse would also take a bare IPv4 address. */
		if (strchr(tmp, ':') == NULL || netaddr_parse(tmp, &a->literal))
			return ADDRESS_ERR_SYNTAX;
	} else if (inet_pton(AF_INET, tmp, a->literal.a) == 1)
		a->literal.family = AF_INET;
	else
		return ADDRESS_ERR_SYNTAX;	/* includes General-address-literal */

	netaddr_format(&a->literal, text, sizeof(text));
	if (a->literal.family == AF_INET)
		r = xsnprintf(a->domain, sizeof(a->domain), "[%s]", text);
	else
		r = xsnprintf(a->domain, sizeof(a->domain), "[ipv6:%s]", text);
	if (r == -1)
		return ADDRESS_ERR_TOO_LONG;
	a->is_literal = 1;
	return ADDRESS_OK;
}

/* Quoted string starting at s[0] == '"' within [s, s+n). Unquoted content
 * goes to out (size ADDRESS_LOCAL_MAX + 1). Returns bytes consumed, 0 on
 * a syntax error; *toolong_r set when the content does not fit. */
static size_t
parse_quoted(const char *s, size_t n, char *out, size_t *outlen_r,
    int *toolong_r)
{
	size_t i = 1, o = 0;

	*toolong_r = 0;
	while (i < n && s[i] != '"') {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\') {
			if (++i >= n)
				return 0;
			c = (unsigned char)s[i];
			if (c < 32 || c > 126)	/* quoted-pairSMTP */
				return 0;
		} else if (c < 32 || c > 126)
			return 0;
		if (o >= ADDRESS_LOCAL_MAX)
			*toolong_r = 1;
		else
			out[o++] = (char)c;
		i++;
	}
	if (i >= n)
		return 0;
	out[o] = '\0';
	*outlen_r = o;
	return i + 1;
}

/* Store the quoted local part canonically: quotes, and a backslash only
 * before '"' and '\'. Never longer than the input form. */
static void
store_quoted(struct address *a, const char *content, size_t n)
{
	size_t i, o = 0;

	a->local[o++] = '"';
	for (i = 0; i < n; i++) {
		if (content[i] == '"' || content[i] == '\\')
			a->local[o++] = '\\';
		a->local[o++] = content[i];
	}
	a->local[o++] = '"';
	a->local[o] = '\0';
}

/* Pass 1: find the '>' that closes the path starting at s[0] == '<'. */
static enum address_status
scan_path(const char *s, size_t len, size_t *close_r)
{
	size_t i;
	int quoted = 0;

	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80)
			return ADDRESS_ERR_8BIT;
		if (c <= 32 || c == 127)
			return ADDRESS_ERR_SYNTAX;
		if (quoted) {
			if (c == '\\') {
				if (i + 1 >= len)
					return ADDRESS_ERR_SYNTAX;
				c = (unsigned char)s[++i];
				if (c >= 0x80)
					return ADDRESS_ERR_8BIT;
				if (c <= 32 || c == 127)
					return ADDRESS_ERR_SYNTAX;
			} else if (c == '"')
				quoted = 0;
		} else if (c == '"')
			quoted = 1;
		else if (c == '>') {
			*close_r = i;
			return ADDRESS_OK;
		}
	}
	return ADDRESS_ERR_SYNTAX;
}

/* Pass 2 over the content p[0..n) (between '<' and '>'). */
static enum address_status
parse_content(const char *p, size_t n, int allow_postmaster, struct address *a)
{
	char content[ADDRESS_LOCAL_MAX + 1];
	size_t i = 0, used, clen, dlen;
	int dot, toolong, route = 0;

	/* [A-d-l ":"]: "@" Domain *( "," "@" Domain ) ":" */
	if (n > 0 && p[0] == '@') {
		route = 1;
		for (;;) {
			if (i >= n || p[i] != '@')
				return ADDRESS_ERR_SYNTAX;
			i++;
			used = parse_domain_name(p + i, n - i, 0, &dot);
			if (used == 0)
				return ADDRESS_ERR_SYNTAX;
			i += used;
			if (i < n && p[i] == ',') {
				i++;
				continue;
			}
			if (i < n && p[i] == ':') {
				i++;
				break;
			}
			return ADDRESS_ERR_SYNTAX;
		}
		a->flags |= ADDRESS_F_SOURCE_ROUTE;
	}

	/* Local-part = Dot-string / Quoted-string */
	if (i < n && p[i] == '"') {
		used = parse_quoted(p + i, n - i, content, &clen, &toolong);
		if (used == 0)
			return ADDRESS_ERR_SYNTAX;
		if (toolong || used > ADDRESS_LOCAL_MAX)
			return ADDRESS_ERR_TOO_LONG;
		if (memchr(content, '@', clen) || memchr(content, '%', clen) ||
		    memchr(content, '!', clen))
			a->flags |= ADDRESS_F_QUOTED_ROUTE;
		if (is_dot_atom(content, clen))
			memcpy(a->local, content, clen + 1);
		else {
			store_quoted(a, content, clen);
			a->flags |= ADDRESS_F_QUOTED;
		}
		i += used;
	} else {
		size_t start = i;

		while (i < n && (is_atext((unsigned char)p[i]) || p[i] == '.'))
			i++;
		used = i - start;
		if (!is_dot_atom(p + start, used))
			return ADDRESS_ERR_SYNTAX;
		if (used > ADDRESS_LOCAL_MAX)
			return ADDRESS_ERR_TOO_LONG;
		memcpy(a->local, p + start, used);
		a->local[used] = '\0';
		if (memchr(a->local, '%', used))
			a->flags |= ADDRESS_F_PERCENT;
		if (memchr(a->local, '!', used))
			a->flags |= ADDRESS_F_BANG;
	}

	if (i == n) {
		/* RFC 5321 4.5.1: "<Postmaster>" alone, never with a route. */
		if (allow_postmaster && !route &&
		    strcasecmp(a->local, "postmaster") == 0) {
			memcpy(a->local, "postmaster", sizeof("postmaster"));
			a->domain[0] = '\0';
			a->is_postmaster = 1;
			a->flags &= ~(unsigned)ADDRESS_F_QUOTED;
			return ADDRESS_OK;
		}
		return ADDRESS_ERR_NO_DOMAIN;
	}
	if (p[i] != '@')
		return ADDRESS_ERR_SYNTAX;
	i++;
	if (i >= n)
		return ADDRESS_ERR_SYNTAX;

	/* Domain / address-literal, up to the end of the content. */
	if (p[i] == '[')
		return parse_literal(p + i, n - i, a);
	used = parse_domain_name(p + i, n - i, 1, &dot);
	if (used == 0 || i + used != n)
		return ADDRESS_ERR_SYNTAX;
	dlen = used - (size_t)dot;
	if (dlen > ADDRESS_DOMAIN_MAX)
		return ADDRESS_ERR_TOO_LONG;
	for (used = 0; used < dlen; used++)
		a->domain[used] = lower(p[i + used]);
	a->domain[dlen] = '\0';
	if (dot)
		a->flags |= ADDRESS_F_TRAILING_DOT;
	return ADDRESS_OK;
}

enum address_status
address_parse_path(const char *s, size_t len, int allow_null,
    int allow_postmaster, struct address *a, size_t *end_r)
{
	enum address_status st;
	size_t close = 0;

	memset(a, 0, sizeof(*a));
	if (end_r)
		*end_r = 0;
	if (s == NULL || len == 0 || s[0] != '<')
		return ADDRESS_ERR_SYNTAX;
	if ((st = scan_path(s, len, &close)) != ADDRESS_OK)
		return st;
	if (close == 1) {
		if (!allow_null)
			return ADDRESS_ERR_SYNTAX;
		a->is_null = 1;
	} else {
		if (close - 1 > ADDRESS_PATH_MAX)
			st = ADDRESS_ERR_TOO_LONG;
		else
			st = parse_content(s + 1, close - 1, allow_postmaster, a);
		if (st != ADDRESS_OK) {
			memset(a, 0, sizeof(*a));
			return st;
		}
	}
	if (end_r)
		*end_r = close + 1;
	return ADDRESS_OK;
}

char *
address_format(const struct address *a, char *buf, size_t len)
{
	int r;

	if (a->is_null)
		r = xsnprintf(buf, len, "%s", "");
	else if (a->is_postmaster && a->domain[0] == '\0')
		r = xsnprintf(buf, len, "%s", "postmaster");
	else
		r = xsnprintf(buf, len, "%s@%s", a->local, a->domain);
	return r == -1 ? NULL : buf;
}

/* Equal as domains: case-insensitive, one trailing dot ignored on each
 * side, whole string (so "evilexample.com" is not "example.com"). An
 * empty domain equals nothing. */
int
address_domain_equal(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	if (la == 0 || la != lb)
		return 0;
	return strncasecmp(a, b, la) == 0;
}
