/* spf - RFC 7208 record parser, macro expander and check_host() as a state
 * machine; see spf.h. The evaluation is a stack of frames, one per record
 * being evaluated (include pushes one; redirect replaces the top one).
 * Each frame walks its terms; a term that needs DNS leaves a query in
 * s->query and the frame in a WAIT state, and spf_answer() moves it on.
 * A whole record is parsed before any of it is evaluated, so a syntax
 * error late in a record is a permerror even when an early term matches
 * (section 4.6). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "decimal.h"
#include "spf.h"

/* ---------------------------------------------------------------- names */

const char *
spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_RESULT_NONE:		return "none";
	case SPF_RESULT_NEUTRAL:	return "neutral";
	case SPF_RESULT_PASS:		return "pass";
	case SPF_RESULT_FAIL:		return "fail";
	case SPF_RESULT_SOFTFAIL:	return "softfail";
	case SPF_RESULT_TEMPERROR:	return "temperror";
	case SPF_RESULT_PERMERROR:	return "permerror";
	}
	return "permerror";
}

const char *
spf_qtype_name(enum spf_qtype t)
{
	switch (t) {
	case SPF_Q_TXT:		return "TXT";
	case SPF_Q_A:		return "A";
	case SPF_Q_AAAA:	return "AAAA";
	case SPF_Q_MX:		return "MX";
	case SPF_Q_PTR:		return "PTR";
	}
	return "?";
}

static void
setwhy(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
setwhy(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	/* Truncation of a reason is harmless: it is only read by people. */
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* --------------------------------------------------------------- macros */

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_delimiter(int c)
{
	return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' ||
	    c == '_' || c == '=';
}

/* RFC 3986 unreserved characters stay as they are in an uppercase macro. */
static int
is_unreserved(int c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' ||
	    c == '_' || c == '~';
}

/* %{i}: dotted quad, or 32 dot-separated nibbles for IPv6 (section 7.3). */
static void
ip_dotted(const struct netaddr *ip, char *dst, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i, o = 0;

	if (ip->family == AF_INET) {
		(void)snprintf(dst, len, "%u.%u.%u.%u", ip->a[0], ip->a[1],
		    ip->a[2], ip->a[3]);
		return;
	}
	for (i = 0; i < 16 && o + 4 < len; i++) {
		dst[o++] = hexd[ip->a[i] >> 4];
		dst[o++] = '.';
		dst[o++] = hexd[ip->a[i] & 15];
		if (i < 15)
			dst[o++] = '.';
	}
	dst[o] = '\0';
}

/* The value of one macro letter (lowercase), into val. 0, or -1 when the
 * letter is not a macro letter here. */
static int
macro_value(int letter, const struct spf_macro_env *env, int exp,
    char *val, size_t len)
{
	char ipb[INET6_ADDRSTRLEN];

	switch (letter) {
	case 's':
		(void)snprintf(val, len, "%s@%s", env->local,
		    env->sender_domain);
		return 0;
	case 'l':
		(void)snprintf(val, len, "%s", env->local);
		return 0;
	case 'o':
		(void)snprintf(val, len, "%s", env->sender_domain);
		return 0;
	case 'd':
		(void)snprintf(val, len, "%s", env->domain);
		return 0;
	case 'i':
		ip_dotted(env->ip, val, len);
		return 0;
	case 'p':
		/* Validating the client's name would take DNS queries that
		 * no limit counts; the RFC allows "unknown" (section 7.3). */
		(void)snprintf(val, len, "unknown");
		return 0;
	case 'v':
		(void)snprintf(val, len, "%s",
		    env->ip->family == AF_INET ? "in-addr" : "ip6");
		return 0;
	case 'h':
		(void)snprintf(val, len, "%s", env->helo);
		return 0;
	case 'c':
		if (!exp)
			return -1;
		(void)snprintf(val, len, "%s",
		    netaddr_format(env->ip, ipb, sizeof(ipb)));
		return 0;
	case 'r':
		if (!exp)
			return -1;
		(void)snprintf(val, len, "%s",
		    env->receiver && env->receiver[0] ? env->receiver :
		    "unknown");
		return 0;
	case 't':
		if (!exp)
			return -1;
		(void)snprintf(val, len, "%lld", (long long)env->now);
		return 0;
	}
	return -1;
}

/* Section 7.3: split value at any of the delimiters, reverse if asked,
 * keep the rightmost `digits` parts (0: all), join with dots, URL-escape
 * when the letter was uppercase. */
static int
macro_transform(const char *val, const char *delims, size_t ndelims,
    unsigned digits, int reverse, int upper, struct buf *out)
{
	const char *part[SPF_MACRO_MAX / 2 + 1];
	size_t plen[SPF_MACRO_MAX / 2 + 1];
	size_t n = 0, i, first, start = 0, k, vlen = strlen(val);
	struct buf tmp;
	int rc = 0;

	for (k = 0; k <= vlen; k++) {
		int d = 0;
		size_t j;

		if (k < vlen)
			for (j = 0; j < ndelims; j++)
				if (val[k] == delims[j])
					d = 1;
		if (k == vlen || d) {
			if (n >= sizeof(part) / sizeof(part[0]))
				return -1;
			part[n] = val + start;
			plen[n] = k - start;
			n++;
			start = k + 1;
		}
	}
	if (reverse)
		for (i = 0; i < n / 2; i++) {
			const char *tp = part[i];
			size_t tl = plen[i];

			part[i] = part[n - 1 - i];
			plen[i] = plen[n - 1 - i];
			part[n - 1 - i] = tp;
			plen[n - 1 - i] = tl;
		}
	first = digits > 0 && digits < n ? n - digits : 0;
	buf_init(&tmp, SPF_MACRO_MAX);
	for (i = first; i < n && rc == 0; i++) {
		if (i > first && buf_appendc(&tmp, '.') == -1)
			rc = -1;
		else if (buf_append(&tmp, part[i], plen[i]) == -1)
			rc = -1;
	}
	if (rc == 0 && !upper)
		rc = buf_append(out, tmp.data, tmp.len);
	else if (rc == 0) {
		for (i = 0; i < tmp.len && rc == 0; i++) {
			unsigned char c = (unsigned char)tmp.data[i];

			if (is_unreserved(c))
				rc = buf_appendc(out, (char)c);
			else
				rc = buf_printf(out, "%%%02X", c);
		}
	}
	buf_free(&tmp);
	return rc;
}

/* The one macro-string scanner: checks the syntax and, with env, expands.
 * *ends_macro: the string ends with a macro-expand (for domain-end). */
static int
macro_scan(const char *s, size_t len, const struct spf_macro_env *env,
    int exp, struct buf *out, int *ends_macro, char *why, size_t whylen)
{
	char val[SPF_MACRO_MAX + 1];
	size_t i = 0;

	if (ends_macro)
		*ends_macro = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (ends_macro)
			*ends_macro = 0;
		if (c != '%') {
			/* macro-literal: %x21-24 / %x26-7E; a space only in
			 * explanation text. */
			if (!((c >= 0x21 && c <= 0x7e) || (exp && c == ' '))) {
				setwhy(why, whylen, "character 0x%02x not "
				    "allowed in a macro-string", c);
				return -1;
			}
			if (out && env && buf_appendc(out, (char)c) == -1)
				goto toolong;
			i++;
			continue;
		}
		if (i + 1 >= len) {
			setwhy(why, whylen, "'%%' at the end of a "
			    "macro-string");
			return -1;
		}
		c = (unsigned char)s[i + 1];
		if (c == '%' || c == '_' || c == '-') {
			const char *lit = c == '%' ? "%" : c == '_' ? " " :
			    "%20";

			if (out && env && buf_appends(out, lit) == -1)
				goto toolong;
			i += 2;
			continue;
		}
		if (c != '{') {
			setwhy(why, whylen, "'%%%c' is not a macro",
			    c >= 0x21 && c <= 0x7e ? c : '?');
			return -1;
		}
		{
			size_t j = i + 2, dstart, nd;
			int letter, upper, reverse = 0;
			uint64_t digits = 0;
			const char *delims;
			char delbuf[8];

			if (j >= len || !is_alpha((unsigned char)s[j])) {
				setwhy(why, whylen, "no macro letter after "
				    "'%%{'");
				return -1;
			}
			letter = tolower((unsigned char)s[j]);
			upper = isupper((unsigned char)s[j]);
			if (strchr("slodiphcrtv", letter) == NULL) {
				setwhy(why, whylen, "unknown macro letter "
				    "'%c'", s[j]);
				return -1;
			}
			if ((letter == 'c' || letter == 'r' || letter == 't') &&
			    !exp) {
				setwhy(why, whylen, "macro letter '%c' only "
				    "in explanations", s[j]);
				return -1;
			}
			j++;
			dstart = j;
			while (j < len && is_digit((unsigned char)s[j]))
				j++;
			if (j > dstart) {
				/* More than 128 parts is "all of them". */
				if (j - dstart > 3 || parse_decimal(s + dstart,
				    j - dstart, 999, &digits) == -1 ||
				    digits == 0 || digits > 128) {
					setwhy(why, whylen, "bad macro "
					    "transformer digits");
					return -1;
				}
			}
			if (j < len && (s[j] == 'r' || s[j] == 'R')) {
				reverse = 1;
				j++;
			}
			nd = 0;
			while (j < len && is_delimiter((unsigned char)s[j])) {
				if (nd < sizeof(delbuf))
					delbuf[nd++] = s[j];
				j++;
			}
			if (j >= len || s[j] != '}') {
				setwhy(why, whylen, "unterminated or bad "
				    "macro '%%{%c...'", s[i + 2]);
				return -1;
			}
			if (nd == 0) {
				delims = ".";
				nd = 1;
			} else
				delims = delbuf;
			if (out && env) {
				if (macro_value(letter, env, exp, val,
				    sizeof(val)) == -1)
					return -1;
				if (macro_transform(val, delims, nd,
				    (unsigned)digits, reverse, upper, out) == -1)
					goto toolong;
			}
			i = j + 1;
			if (ends_macro)
				*ends_macro = 1;
		}
	}
	return 0;
toolong:
	setwhy(why, whylen, "macro expansion longer than %zu bytes", out->max);
	return -1;
}

int
spf_macro_expand(const char *s, size_t len, const struct spf_macro_env *env,
    int exp, struct buf *out, char *why, size_t whylen)
{
	return macro_scan(s, len, env, exp, env ? out : NULL, NULL, why,
	    whylen);
}

int
spf_expand_domain(const char *s, size_t len, const struct spf_macro_env *env,
    char *dst, size_t dstlen, char *why, size_t whylen)
{
	struct buf b;
	const char *p;
	size_t n;

	buf_init(&b, SPF_MACRO_MAX);
	if (macro_scan(s, len, env, 0, &b, NULL, why, whylen) == -1) {
		buf_free(&b);
		return -1;
	}
	p = b.data;
	n = b.len;
	if (n > 0 && p[n - 1] == '.')
		n--;
	/* Section 4.8: too long, drop labels from the left. */
	while (n > SPF_NAME_MAX) {
		const char *dot = memchr(p, '.', n);

		if (dot == NULL) {
			n = 0;
			break;
		}
		n -= (size_t)(dot + 1 - p);
		p = dot + 1;
	}
	if (n == 0 || n + 1 > dstlen) {
		setwhy(why, whylen, "domain-spec expands to nothing usable");
		buf_free(&b);
		return -1;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
	buf_free(&b);
	return 0;
}

/* --------------------------------------------------------------- parser */

int
spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (len == 6 || txt[6] == ' ');
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int
is_toplabel(const char *s, size_t n)
{
	size_t i;
	int alpha = 0;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_alpha(c))
			alpha = 1;
		else if (c == '-')
			alpha = 1;	/* the second form */
		else if (!is_digit(c))
			return 0;
	}
	return alpha;
}

/* domain-spec = macro-string domain-end;
 * domain-end  = ( "." toplabel [ "." ] ) / macro-expand */
static int
check_domain_spec(const char *s, size_t n, char *why, size_t whylen)
{
	int ends_macro;
	size_t end, i;

	if (n == 0) {
		setwhy(why, whylen, "empty domain-spec");
		return -1;
	}
	if (macro_scan(s, n, NULL, 0, NULL, &ends_macro, why, whylen) == -1)
		return -1;
	if (ends_macro)
		return 0;
	end = n;
	if (s[end - 1] == '.')
		end--;
	for (i = end; i > 0 && s[i - 1] != '.'; i--)
		;
	if (i == 0 || !is_toplabel(s + i, end - i) ||
	    memchr(s + i, '%', end - i) != NULL) {
		setwhy(why, whylen, "domain-spec '%.*s' does not end in a "
		    "top label", (int)(n > 80 ? 80 : n), s);
		return -1;
	}
	return 0;
}

/* "/" ("0" / %x31-39 0*2DIGIT), value at most max. */
static int
parse_cidr_len(const char *s, size_t n, unsigned max, unsigned *out)
{
	uint64_t v;

	if (n == 0 || n > 3 || (s[0] == '0' && n > 1) ||
	    parse_decimal(s, n, max, &v) == -1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Strip a dual-cidr-length ("/N", "//M", "/N//M") from the end of
 * arg[0..*n). 0, or -1 for a length out of range. */
static int
strip_dual_cidr(const char *arg, size_t *n, unsigned *c4, unsigned *c6,
    char *why, size_t whylen)
{
	size_t e = *n, d;

	*c4 = 32;
	*c6 = 128;
	/* The last "/" and the digits after it. */
	for (d = e; d > 0 && is_digit((unsigned char)arg[d - 1]); d--)
		;
	if (d == e || d == 0 || arg[d - 1] != '/')
		return 0;
	if (d >= 2 && arg[d - 2] == '/') {
		if (parse_cidr_len(arg + d, e - d, 128, c6) == -1) {
			setwhy(why, whylen, "bad ip6-cidr-length");
			return -1;
		}
		e = d - 2;
		for (d = e; d > 0 && is_digit((unsigned char)arg[d - 1]); d--)
			;
		if (d == e || d == 0 || arg[d - 1] != '/') {
			*n = e;
			return 0;
		}
	}
	if (parse_cidr_len(arg + d, e - d, 32, c4) == -1) {
		setwhy(why, whylen, "bad ip4-cidr-length");
		return -1;
	}
	*n = d - 1;
	return 0;
}

/* ip4:ADDR[/N] or ip6:ADDR[/N]; host bits below N may be set. */
static int
parse_ipnet(struct spf_term *t, const char *arg, size_t n, int family,
    char *why, size_t whylen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = memchr(arg, '/', n);
	size_t alen = slash ? (size_t)(slash - arg) : n;
	unsigned max = family == AF_INET ? 32 : 128, i;
	struct netaddr a;

	t->prefix = max;
	if (slash && parse_cidr_len(slash + 1, n - alen - 1, max,
	    &t->prefix) == -1) {
		setwhy(why, whylen, "bad CIDR length in '%s'", t->text);
		return -1;
	}
	memset(&a, 0, sizeof(a));
	if (alen == 0 || alen >= sizeof(addr) ||
	    (family == AF_INET) != (memchr(arg, ':', alen) == NULL))
		goto bad;
	memcpy(addr, arg, alen);
	addr[alen] = '\0';
	if (family == AF_INET) {
		if (inet_pton(AF_INET, addr, a.a) != 1)
			goto bad;
		a.family = AF_INET;
	} else {
		if (inet_pton(AF_INET6, addr, a.a) != 1)
			goto bad;
		a.family = AF_INET6;
	}
	for (i = t->prefix; i < max; i++)
		a.a[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	t->net = a;
	return 0;
bad:
	setwhy(why, whylen, "bad address in '%s'", t->text);
	return -1;
}

static const struct {
	const char	*name;
	enum spf_mech	 mech;
} mechs[] = {
	{ "all", SPF_MECH_ALL }, { "include", SPF_MECH_INCLUDE },
	{ "a", SPF_MECH_A }, { "mx", SPF_MECH_MX }, { "ptr", SPF_MECH_PTR },
	{ "ip4", SPF_MECH_IP4 }, { "ip6", SPF_MECH_IP6 },
	{ "exists", SPF_MECH_EXISTS },
};

static int
parse_mechanism(struct spf_term *t, char *p, size_t n, char *why,
    size_t whylen)
{
	size_t nl = 0, i, alen;
	char *arg;
	int found = 0;

	t->qualifier = SPF_RESULT_PASS;
	switch (p[0]) {
	case '+': t->qualifier = SPF_RESULT_PASS; p++; n--; break;
	case '-': t->qualifier = SPF_RESULT_FAIL; p++; n--; break;
	case '~': t->qualifier = SPF_RESULT_SOFTFAIL; p++; n--; break;
	case '?': t->qualifier = SPF_RESULT_NEUTRAL; p++; n--; break;
	}
	while (nl < n && (is_alpha((unsigned char)p[nl]) ||
	    is_digit((unsigned char)p[nl])))
		nl++;
	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == nl &&
		    strncasecmp(p, mechs[i].name, nl) == 0) {
			t->mech = mechs[i].mech;
			found = 1;
		}
	if (!found || (nl < n && p[nl] != ':' && p[nl] != '/')) {
		setwhy(why, whylen, "unknown mechanism '%s'", t->text);
		return -1;
	}
	arg = p + nl;
	alen = n - nl;
	t->cidr4 = 32;
	t->cidr6 = 128;
	t->spec = NULL;
	t->speclen = 0;
	switch (t->mech) {
	case SPF_MECH_ALL:
		if (alen != 0)
			goto noarg;
		return 0;
	case SPF_MECH_INCLUDE:
	case SPF_MECH_EXISTS:
		if (alen < 1 || arg[0] != ':')
			goto needarg;
		t->spec = arg + 1;
		t->speclen = alen - 1;
		return check_domain_spec(t->spec, t->speclen, why, whylen);
	case SPF_MECH_PTR:
		if (alen == 0)
			return 0;
		if (arg[0] != ':')
			goto noarg;
		t->spec = arg + 1;
		t->speclen = alen - 1;
		return check_domain_spec(t->spec, t->speclen, why, whylen);
	case SPF_MECH_A:
	case SPF_MECH_MX:
		if (strip_dual_cidr(arg, &alen, &t->cidr4, &t->cidr6, why,
		    whylen) == -1)
			return -1;
		if (alen == 0)
			return 0;
		if (arg[0] != ':')
			goto noarg;
		t->spec = arg + 1;
		t->speclen = alen - 1;
		return check_domain_spec(t->spec, t->speclen, why, whylen);
	case SPF_MECH_IP4:
	case SPF_MECH_IP6:
		if (alen < 1 || arg[0] != ':')
			goto needarg;
		return parse_ipnet(t, arg + 1, alen - 1, t->mech ==
		    SPF_MECH_IP4 ? AF_INET : AF_INET6, why, whylen);
	}
noarg:
	setwhy(why, whylen, "malformed mechanism '%s'", t->text);
	return -1;
needarg:
	setwhy(why, whylen, "mechanism '%s' needs an argument", t->text);
	return -1;
}

int
spf_record_parse(struct spf_record *r, const char *txt, size_t len,
    char *why, size_t whylen)
{
	size_t i, start;

	memset(r, 0, sizeof(*r));
	if (len > SPF_RECORD_MAX) {
		setwhy(why, whylen, "record longer than %d bytes",
		    SPF_RECORD_MAX);
		return -1;
	}
	if (!spf_is_record(txt, len)) {
		setwhy(why, whylen, "not an SPF record (no 'v=spf1')");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)txt[i];

		if (c != ' ' && (c < 0x21 || c > 0x7e)) {
			setwhy(why, whylen, "character 0x%02x at offset %zu "
			    "(only printable ASCII and spaces)", c, i);
			return -1;
		}
	}
	memcpy(r->text, txt, len);
	r->text[len] = '\0';
	for (i = 6; i < len; ) {
		char *p;
		size_t n, nl;

		while (i < len && r->text[i] == ' ')
			r->text[i++] = '\0';
		if (i >= len)
			break;
		start = i;
		while (i < len && r->text[i] != ' ')
			i++;
		p = r->text + start;
		n = i - start;
		if (i < len)
			r->text[i++] = '\0';
		/* A modifier: name "=" where name = ALPHA *(ALPHA / DIGIT /
		 * "-" / "_" / "."). */
		nl = 0;
		if (is_alpha((unsigned char)p[0]))
			for (nl = 1; nl < n && (is_alpha((unsigned char)p[nl]) ||
			    is_digit((unsigned char)p[nl]) || p[nl] == '-' ||
			    p[nl] == '_' || p[nl] == '.'); nl++)
				;
		if (nl > 0 && nl < n && p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t vn = n - nl - 1;

			if (nl == 8 && strncasecmp(p, "redirect", 8) == 0) {
				if (r->redirect) {
					setwhy(why, whylen, "redirect twice");
					return -1;
				}
				if (check_domain_spec(v, vn, why, whylen) == -1)
					return -1;
				r->redirect = v;
				r->redirect_len = vn;
			} else if (nl == 3 && strncasecmp(p, "exp", 3) == 0) {
				if (r->exp) {
					setwhy(why, whylen, "exp twice");
					return -1;
				}
				if (check_domain_spec(v, vn, why, whylen) == -1)
					return -1;
				r->exp = v;
				r->exp_len = vn;
			} else if (macro_scan(v, vn, NULL, 0, NULL, NULL, why,
			    whylen) == -1)
				return -1;	/* unknown: ignored if valid */
			continue;
		}
		if (memchr(p, '=', n) != NULL && (p[0] == '+' || p[0] == '-' ||
		    p[0] == '~' || p[0] == '?')) {
			setwhy(why, whylen, "qualifier on modifier '%s'", p);
			return -1;
		}
		if (r->nterms >= SPF_TERMS_MAX) {
			setwhy(why, whylen, "more than %d terms",
			    SPF_TERMS_MAX);
			return -1;
		}
		r->terms[r->nterms].text = p;
		if (parse_mechanism(&r->terms[r->nterms], p, n, why,
		    whylen) == -1)
			return -1;
		r->nterms++;
	}
	return 0;
}

/* ------------------------------------------------------------ evaluator */

enum frame_state {
	FR_FETCH = 0,		/* ask TXT of domain */
	FR_WAIT_TXT,
	FR_TERMS,		/* evaluate terms[pos] */
	FR_WAIT_A,		/* a, exists */
	FR_WAIT_MX,
	FR_MX_ADDR,		/* ask the address of names[idx] */
	FR_WAIT_MX_ADDR,
	FR_WAIT_PTR,
	FR_PTR_ADDR,
	FR_WAIT_PTR_ADDR,
	FR_WAIT_CHILD,		/* an include's record is on top */
	FR_REDIRECT,		/* the terms are done: redirect or neutral */
};

enum spf_state {
	ST_INIT = 0,
	ST_RUN,
	ST_EXP_ASK,		/* a fail with exp=: fetch the explanation */
	ST_EXP_WAIT,
	ST_DONE,
};

struct spf_frame {
	struct spf_record	rec;
	char			domain[SPF_NAME_MAX + 1];
	char			target[SPF_NAME_MAX + 1];	/* ptr: */
	enum frame_state	state;
	size_t			pos;
	int			via_redirect;	/* none is a permerror */
	int			is_include;
	char			names[SPF_PTR_MAX > SPF_MX_MAX ?
				    SPF_PTR_MAX : SPF_MX_MAX]
				    [SPF_NAME_MAX + 1];
	size_t			nnames, idx;
	int			ptr_hit;	/* a validated name in target */
	enum spf_result		child;		/* FR_WAIT_CHILD: its result */
	char			child_why[SPF_WHY_MAX];
};

static void
finish(struct spf *s, enum spf_result r, const char *mech, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
finish(struct spf *s, enum spf_result r, const char *mech, const char *fmt,
    ...)
{
	va_list ap;

	s->result = r;
	(void)snprintf(s->mechanism, sizeof(s->mechanism), "%s",
	    mech ? mech : "");
	va_start(ap, fmt);
	(void)vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->state = ST_DONE;
}

/* A name we would ask DNS about: labels 1..63 bytes, at most 253. */
static int
name_ok(const char *n)
{
	size_t len = strlen(n), lab = 0, i;

	if (len == 0 || len > SPF_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (n[i] == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
		} else if (++lab > 63)
			return 0;
	}
	return lab > 0;
}

static void
env_of(const struct spf *s, const struct spf_frame *f,
    struct spf_macro_env *env)
{
	env->local = s->local;
	env->sender_domain = s->sender_domain;
	env->domain = f->domain;
	env->ip = &s->ip;
	env->helo = s->helo;
	env->receiver = s->receiver[0] ? s->receiver : NULL;
	env->now = s->now;
}

static struct spf_frame *
top(struct spf *s)
{
	return s->depth ? s->frames[s->depth - 1] : NULL;
}

static void
push(struct spf *s, const char *domain, int is_include)
{
	struct spf_frame *f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->domain, sizeof(f->domain), "%s", domain);
	f->is_include = is_include;
	f->state = FR_FETCH;
	s->frames[s->depth++] = f;
}

static void
ask(struct spf *s, enum spf_qtype t, const char *name)
{
	s->query.type = t;
	(void)snprintf(s->query.name, sizeof(s->query.name), "%s", name);
	s->pending = 1;
}

static enum spf_qtype
addr_qtype(const struct spf *s)
{
	return s->ip.family == AF_INET6 ? SPF_Q_AAAA : SPF_Q_A;
}

/* The result of the frame on top is r: pop it and give r to the frame
 * below (an include), or end the check. */
static void
frame_result(struct spf *s, enum spf_result r, const char *mech,
    const char *why)
{
	struct spf_frame *f = top(s), *below;

	if (s->depth == 1) {
		s->result = r;
		(void)snprintf(s->mechanism, sizeof(s->mechanism), "%s",
		    mech ? mech : "");
		(void)snprintf(s->why, sizeof(s->why), "%s", why);
		if (r == SPF_RESULT_FAIL && f->rec.exp)
			s->state = ST_EXP_ASK;
		else
			s->state = ST_DONE;
		return;
	}
	below = s->frames[s->depth - 2];
	below->child = r;
	(void)snprintf(below->child_why, sizeof(below->child_why), "%s", why);
	free(f);
	s->frames[--s->depth] = NULL;
}

/* Every error ends the whole check, however deep. */
static void
fail_all(struct spf *s, enum spf_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail_all(struct spf *s, enum spf_result r, const char *fmt, ...)
{
	va_list ap;

	s->result = r;
	s->mechanism[0] = '\0';
	va_start(ap, fmt);
	(void)vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->state = ST_DONE;
}

/* A term that queries DNS: count it. 0, or -1 (the check is over). */
static int
count_dns_term(struct spf *s, const char *text)
{
	if (++s->dns_terms > SPF_DNS_TERMS_MAX) {
		fail_all(s, SPF_RESULT_PERMERROR, "more than %d DNS-querying "
		    "terms (at '%s')", SPF_DNS_TERMS_MAX, text);
		return -1;
	}
	return 0;
}

static int
count_void(struct spf *s, const char *name)
{
	if (++s->void_lookups > SPF_VOID_MAX) {
		fail_all(s, SPF_RESULT_PERMERROR, "more than %d void lookups "
		    "(at %s)", SPF_VOID_MAX, name);
		return -1;
	}
	return 0;
}

/* The term matched: the frame's result is its qualifier. */
static void
matched(struct spf *s, struct spf_frame *f)
{
	const struct spf_term *t = &f->rec.terms[f->pos];
	char why[SPF_WHY_MAX];

	(void)snprintf(why, sizeof(why), "'%s' matched in the record of %s",
	    t->text, f->domain);
	frame_result(s, t->qualifier, t->text, why);
}

static void
next_term(struct spf_frame *f)
{
	f->pos++;
	f->state = FR_TERMS;
}

static int
cidr_hit(const struct netaddr *net, const struct netaddr *ip, unsigned plen)
{
	unsigned i;

	if (net->family != ip->family)
		return 0;
	for (i = 0; i < plen; i++) {
		uint8_t m = (uint8_t)(0x80u >> (i % 8));

		if ((net->a[i / 8] & m) != (ip->a[i / 8] & m))
			return 0;
	}
	return 1;
}

/* Expand a term's domain-spec (or take the current domain) into dst. */
static int
term_target(struct spf *s, struct spf_frame *f, const struct spf_term *t,
    char *dst, size_t len)
{
	struct spf_macro_env env;
	char why[SPF_WHY_MAX];

	if (t->spec == NULL) {
		(void)snprintf(dst, len, "%s", f->domain);
		return 0;
	}
	env_of(s, f, &env);
	if (spf_expand_domain(t->spec, t->speclen, &env, dst, len, why,
	    sizeof(why)) == -1) {
		fail_all(s, SPF_RESULT_PERMERROR, "'%s': %s", t->text, why);
		return -1;
	}
	return 0;
}

static void
reverse_name(const struct netaddr *ip, char *dst, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	size_t o = 0;
	int i;

	if (ip->family == AF_INET) {
		(void)snprintf(dst, len, "%u.%u.%u.%u.in-addr.arpa", ip->a[3],
		    ip->a[2], ip->a[1], ip->a[0]);
		return;
	}
	for (i = 15; i >= 0 && o + 4 < len; i--) {
		dst[o++] = hexd[ip->a[i] & 15];
		dst[o++] = '.';
		dst[o++] = hexd[ip->a[i] >> 4];
		dst[o++] = '.';
	}
	(void)snprintf(dst + o, len - o, "ip6.arpa");
}

/* Evaluate terms[pos] of the top frame, up to its first query. */
static void
eval_term(struct spf *s, struct spf_frame *f)
{
	const struct spf_term *t;
	char name[SPF_NAME_MAX + 1];

	if (f->pos >= f->rec.nterms) {
		f->state = FR_REDIRECT;
		return;
	}
	t = &f->rec.terms[f->pos];
	switch (t->mech) {
	case SPF_MECH_ALL:
		matched(s, f);
		return;
	case SPF_MECH_IP4:
	case SPF_MECH_IP6:
		if (cidr_hit(&t->net, &s->ip, t->prefix))
			matched(s, f);
		else
			next_term(f);
		return;
	case SPF_MECH_INCLUDE:
		if (count_dns_term(s, t->text) == -1 ||
		    term_target(s, f, t, name, sizeof(name)) == -1)
			return;
		if (s->depth >= SPF_DEPTH_MAX) {
			fail_all(s, SPF_RESULT_PERMERROR, "includes nested "
			    "too deep at '%s'", t->text);
			return;
		}
		f->state = FR_WAIT_CHILD;
		push(s, name, 1);
		return;
	case SPF_MECH_A:
	case SPF_MECH_EXISTS:
		if (count_dns_term(s, t->text) == -1 ||
		    term_target(s, f, t, name, sizeof(name)) == -1)
			return;
		if (!name_ok(name)) {
			if (count_void(s, name) == 0)
				next_term(f);
			return;
		}
		f->state = FR_WAIT_A;
		/* exists always asks A, whatever the client's family. */
		ask(s, t->mech == SPF_MECH_EXISTS ? SPF_Q_A : addr_qtype(s),
		    name);
		return;
	case SPF_MECH_MX:
		if (count_dns_term(s, t->text) == -1 ||
		    term_target(s, f, t, name, sizeof(name)) == -1)
			return;
		if (!name_ok(name)) {
			if (count_void(s, name) == 0)
				next_term(f);
			return;
		}
		f->state = FR_WAIT_MX;
		ask(s, SPF_Q_MX, name);
		return;
	case SPF_MECH_PTR:
		if (count_dns_term(s, t->text) == -1 ||
		    term_target(s, f, t, f->target, sizeof(f->target)) == -1)
			return;
		reverse_name(&s->ip, name, sizeof(name));
		f->state = FR_WAIT_PTR;
		ask(s, SPF_Q_PTR, name);
		return;
	}
}

/* The terms are done without a match: redirect, or neutral. */
static void
eval_redirect(struct spf *s, struct spf_frame *f)
{
	struct spf_macro_env env;
	char name[SPF_NAME_MAX + 1], why[SPF_WHY_MAX];

	if (f->rec.redirect == NULL) {
		(void)snprintf(why, sizeof(why), "no term matched in the "
		    "record of %s (default neutral)", f->domain);
		frame_result(s, SPF_RESULT_NEUTRAL, NULL, why);
		return;
	}
	if (count_dns_term(s, "redirect") == -1)
		return;
	env_of(s, f, &env);
	if (spf_expand_domain(f->rec.redirect, f->rec.redirect_len, &env, name,
	    sizeof(name), why, sizeof(why)) == -1) {
		fail_all(s, SPF_RESULT_PERMERROR, "redirect: %s", why);
		return;
	}
	/* The redirect target's record replaces this one, exp and all. */
	memset(&f->rec, 0, sizeof(f->rec));
	(void)snprintf(f->domain, sizeof(f->domain), "%s", name);
	f->via_redirect = 1;
	f->pos = 0;
	f->state = FR_FETCH;
}

static void
eval_child(struct spf *s, struct spf_frame *f)
{
	const struct spf_term *t = &f->rec.terms[f->pos];

	switch (f->child) {
	case SPF_RESULT_PASS:
		matched(s, f);
		return;
	case SPF_RESULT_FAIL:
	case SPF_RESULT_SOFTFAIL:
	case SPF_RESULT_NEUTRAL:
		next_term(f);
		return;
	case SPF_RESULT_TEMPERROR:
		fail_all(s, SPF_RESULT_TEMPERROR, "'%s': %s", t->text,
		    f->child_why);
		return;
	case SPF_RESULT_NONE:
	case SPF_RESULT_PERMERROR:
		fail_all(s, SPF_RESULT_PERMERROR, "'%s': %s", t->text,
		    f->child_why);
		return;
	}
}

static int
sender_split(struct spf *s, const char *sender, const char *helo)
{
	const char *at, *dom;
	size_t ll;

	if (sender == NULL || sender[0] == '\0')
		sender = NULL;
	at = sender ? strrchr(sender, '@') : NULL;
	if (sender == NULL) {
		(void)snprintf(s->local, sizeof(s->local), "postmaster");
		dom = helo ? helo : "";
	} else if (at == NULL) {
		(void)snprintf(s->local, sizeof(s->local), "postmaster");
		dom = sender;
	} else {
		ll = (size_t)(at - sender);
		if (ll >= sizeof(s->local))
			return -1;
		if (ll == 0)
			(void)snprintf(s->local, sizeof(s->local),
			    "postmaster");
		else {
			memcpy(s->local, sender, ll);
			s->local[ll] = '\0';
		}
		dom = at + 1;
	}
	/* A final dot is the same name; a longer name is no name. */
	ll = strlen(dom);
	if (ll > 0 && dom[ll - 1] == '.')
		ll--;
	if (ll > SPF_NAME_MAX)
		return -1;
	memcpy(s->sender_domain, dom, ll);
	s->sender_domain[ll] = '\0';
	return 0;
}

void
spf_start(struct spf *s, const struct netaddr *ip, const char *sender,
    const char *helo, const char *receiver, time_t now)
{
	memset(s, 0, sizeof(*s));
	s->ip = *ip;
	s->now = now;
	(void)snprintf(s->helo, sizeof(s->helo), "%s", helo ? helo : "");
	(void)snprintf(s->receiver, sizeof(s->receiver), "%s",
	    receiver ? receiver : "");
	s->state = ST_INIT;
	if (sender_split(s, sender, helo) == -1) {
		finish(s, SPF_RESULT_NONE, NULL, "sender is not a usable "
		    "address");
		return;
	}
	if (ip->family != AF_INET && ip->family != AF_INET6) {
		finish(s, SPF_RESULT_NONE, NULL, "no client address");
		return;
	}
	/* Section 4.3: a malformed domain, a literal or a single label
	 * cannot publish a record: none. */
	if (!name_ok(s->sender_domain) ||
	    strchr(s->sender_domain, '.') == NULL ||
	    s->sender_domain[0] == '[') {
		finish(s, SPF_RESULT_NONE, NULL, "'%s' is not a domain name "
		    "that can have SPF", s->sender_domain);
		return;
	}
	push(s, s->sender_domain, 0);
	s->state = ST_RUN;
}

enum spf_step
spf_step(struct spf *s)
{
	if (s->pending)
		return SPF_NEED_DNS;	/* still waiting for spf_answer */
	for (;;) {
		struct spf_frame *f;

		switch (s->state) {
		case ST_INIT:
		case ST_DONE:
			return SPF_DONE;
		case ST_EXP_ASK: {
			struct spf_macro_env env;
			char name[SPF_NAME_MAX + 1], why[SPF_WHY_MAX];

			f = top(s);
			env_of(s, f, &env);
			if (spf_expand_domain(f->rec.exp, f->rec.exp_len, &env,
			    name, sizeof(name), why, sizeof(why)) == -1 ||
			    !name_ok(name)) {
				s->state = ST_DONE;	/* no explanation */
				continue;
			}
			s->state = ST_EXP_WAIT;
			ask(s, SPF_Q_TXT, name);
			return SPF_NEED_DNS;
		}
		case ST_EXP_WAIT:
			return SPF_NEED_DNS;
		case ST_RUN:
			break;
		}
		f = top(s);
		switch (f->state) {
		case FR_FETCH:
			if (!name_ok(f->domain)) {
				if (f->is_include || f->via_redirect)
					fail_all(s, SPF_RESULT_PERMERROR,
					    "'%s' is not a domain name",
					    f->domain);
				else
					fail_all(s, SPF_RESULT_NONE, "'%s' is "
					    "not a domain name", f->domain);
				continue;
			}
			f->state = FR_WAIT_TXT;
			ask(s, SPF_Q_TXT, f->domain);
			return SPF_NEED_DNS;
		case FR_TERMS:
			eval_term(s, f);
			break;
		case FR_MX_ADDR:
		case FR_PTR_ADDR:
			if (f->idx >= f->nnames) {
				if (f->state == FR_PTR_ADDR && f->ptr_hit)
					matched(s, f);
				else
					next_term(f);
				break;
			}
			f->state = f->state == FR_MX_ADDR ? FR_WAIT_MX_ADDR :
			    FR_WAIT_PTR_ADDR;
			ask(s, addr_qtype(s), f->names[f->idx]);
			return SPF_NEED_DNS;
		case FR_WAIT_CHILD:
			eval_child(s, f);
			break;
		case FR_REDIRECT:
			eval_redirect(s, f);
			break;
		default:
			/* A WAIT state without a pending query cannot
			 * happen; end rather than loop. */
			fail_all(s, SPF_RESULT_TEMPERROR, "internal: no "
			    "answer");
			break;
		}
		if (s->pending)
			return SPF_NEED_DNS;
	}
}

/* The TXT answer for a frame's record. */
static void
answer_txt(struct spf *s, struct spf_frame *f, enum spf_rcode rc,
    const char *const *recs, const size_t *lens, size_t n)
{
	char why[SPF_WHY_MAX], msg[SPF_WHY_MAX];
	const char *rec = NULL;
	size_t i, found = 0, reclen = 0;

	if (rc == SPF_DNS_TEMP) {
		fail_all(s, SPF_RESULT_TEMPERROR, "DNS error looking up TXT "
		    "%s", f->domain);
		return;
	}
	for (i = 0; rc == SPF_DNS_OK && i < n; i++)
		if (recs[i] && spf_is_record(recs[i], lens ? lens[i] :
		    strlen(recs[i]))) {
			rec = recs[i];
			reclen = lens ? lens[i] : strlen(recs[i]);
			found++;
		}
	if (found > 1) {
		fail_all(s, SPF_RESULT_PERMERROR, "%zu SPF records for %s",
		    found, f->domain);
		return;
	}
	if (found == 0) {
		(void)snprintf(msg, sizeof(msg), "no SPF record for %s",
		    f->domain);
		if (f->via_redirect)
			fail_all(s, SPF_RESULT_PERMERROR, "redirect: %s", msg);
		else
			frame_result(s, SPF_RESULT_NONE, NULL, msg);
		return;
	}
	if (spf_record_parse(&f->rec, rec, reclen, why,
	    sizeof(why)) == -1) {
		fail_all(s, SPF_RESULT_PERMERROR, "bad SPF record for %s: %s",
		    f->domain, why);
		return;
	}
	f->pos = 0;
	f->state = FR_TERMS;
}

static int
any_addr_hit(const struct spf *s, const char *const *recs, size_t n,
    unsigned c4, unsigned c6)
{
	struct netaddr a;
	size_t i;

	for (i = 0; i < n; i++)
		if (recs[i] && netaddr_parse(recs[i], &a) == 0 &&
		    cidr_hit(&a, &s->ip, a.family == AF_INET ? c4 : c6))
			return 1;
	return 0;
}

/* A name from an answer, without its final dot, in dst; 0 or -1. */
static int
copy_name(const char *src, char *dst)
{
	size_t n = strlen(src);

	if (n > 0 && src[n - 1] == '.')
		n--;
	if (n == 0 || n > SPF_NAME_MAX)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* Does a validated PTR name lie in the target domain? */
static int
in_domain(const char *name, const char *target)
{
	size_t nl = strlen(name), tl = strlen(target);

	if (nl < tl)
		return 0;
	if (strcasecmp(name + nl - tl, target) != 0)
		return 0;
	return nl == tl || name[nl - tl - 1] == '.';
}

static void
answer_exp(struct spf *s, enum spf_rcode rc, const char *const *recs,
    const size_t *lens, size_t n)
{
	struct spf_frame *f = top(s);
	struct spf_macro_env env;
	struct buf b;
	char why[SPF_WHY_MAX];

	s->state = ST_DONE;
	/* Anything but exactly one record: no explanation (section 6.2). */
	if (rc != SPF_DNS_OK || n != 1 || recs[0] == NULL)
		return;
	env_of(s, f, &env);
	buf_init(&b, SPF_EXP_MAX);
	if (macro_scan(recs[0], lens ? lens[0] : strlen(recs[0]), &env, 1,
	    &b, NULL, why,
	    sizeof(why)) == 0)
		(void)snprintf(s->explanation, sizeof(s->explanation), "%s",
		    b.data ? b.data : "");
	buf_free(&b);
}

void
spf_answer(struct spf *s, enum spf_rcode rc, const char *const *recs,
    const size_t *lens, size_t n)
{
	struct spf_frame *f;
	const struct spf_term *t;
	size_t i;

	if (!s->pending)
		return;
	s->pending = 0;
	if (rc != SPF_DNS_OK)
		n = 0;
	if (s->state == ST_EXP_WAIT) {
		answer_exp(s, rc, recs, lens, n);
		return;
	}
	if (s->state != ST_RUN)
		return;
	f = top(s);
	t = f->pos < f->rec.nterms ? &f->rec.terms[f->pos] : NULL;
	if (rc == SPF_DNS_OK && n == 0)
		rc = SPF_DNS_NODATA;
	switch (f->state) {
	case FR_WAIT_TXT:
		answer_txt(s, f, rc, recs, lens, n);
		return;
	case FR_WAIT_A:
		if (rc == SPF_DNS_TEMP) {
			fail_all(s, SPF_RESULT_TEMPERROR, "DNS error on %s %s "
			    "for '%s'", spf_qtype_name(s->query.type),
			    s->query.name, t->text);
			return;
		}
		if (rc != SPF_DNS_OK) {
			if (count_void(s, s->query.name) == 0)
				next_term(f);
			return;
		}
		if (t->mech == SPF_MECH_EXISTS) {
			matched(s, f);	/* any A record will do */
			return;
		}
		if (any_addr_hit(s, recs, n, t->cidr4, t->cidr6))
			matched(s, f);
		else
			next_term(f);
		return;
	case FR_WAIT_MX:
		if (rc == SPF_DNS_TEMP) {
			fail_all(s, SPF_RESULT_TEMPERROR, "DNS error on MX %s "
			    "for '%s'", s->query.name, t->text);
			return;
		}
		if (rc != SPF_DNS_OK) {
			if (count_void(s, s->query.name) == 0)
				next_term(f);
			return;
		}
		if (n > SPF_MX_MAX) {
			fail_all(s, SPF_RESULT_PERMERROR, "%zu MX records for "
			    "%s (limit %d)", n, s->query.name, SPF_MX_MAX);
			return;
		}
		f->nnames = 0;
		for (i = 0; i < n; i++)
			if (recs[i] && copy_name(recs[i],
			    f->names[f->nnames]) == 0 &&
			    name_ok(f->names[f->nnames]))
				f->nnames++;
		f->idx = 0;
		f->state = FR_MX_ADDR;
		return;
	case FR_WAIT_MX_ADDR:
		if (rc == SPF_DNS_TEMP) {
			fail_all(s, SPF_RESULT_TEMPERROR, "DNS error on %s %s "
			    "for '%s'", spf_qtype_name(s->query.type),
			    s->query.name, t->text);
			return;
		}
		if (rc == SPF_DNS_OK && any_addr_hit(s, recs, n, t->cidr4,
		    t->cidr6)) {
			matched(s, f);
			return;
		}
		/* A failing MX host only means no match from it; an empty
		 * one is a void lookup too (as pyspf counts them: every
		 * query that answers nothing costs the sender's budget). */
		if ((rc == SPF_DNS_NXDOMAIN || rc == SPF_DNS_NODATA) &&
		    count_void(s, s->query.name) == -1)
			return;
		f->idx++;
		f->state = FR_MX_ADDR;
		return;
	case FR_WAIT_PTR:
		/* A DNS error on the PTR lookup: no match (section 5.5). */
		if (rc == SPF_DNS_NXDOMAIN || rc == SPF_DNS_NODATA) {
			if (count_void(s, s->query.name) == 0)
				next_term(f);
			return;
		}
		f->nnames = 0;
		for (i = 0; i < n && f->nnames < SPF_PTR_MAX; i++)
			if (recs[i] && copy_name(recs[i],
			    f->names[f->nnames]) == 0 &&
			    name_ok(f->names[f->nnames]))
				f->nnames++;
		/* Section 5.5 as written (and as pyspf does it): validate
		 * every name (of the first SPF_PTR_MAX), then see whether a
		 * validated one lies in the target domain. */
		f->ptr_hit = 0;
		f->idx = 0;
		f->state = FR_PTR_ADDR;
		return;
	case FR_WAIT_PTR_ADDR:
		/* A DNS error here skips the name (section 5.5). */
		if (rc == SPF_DNS_OK && any_addr_hit(s, recs, n, 32, 128) &&
		    in_domain(f->names[f->idx], f->target))
			f->ptr_hit = 1;
		if ((rc == SPF_DNS_NXDOMAIN || rc == SPF_DNS_NODATA) &&
		    count_void(s, s->query.name) == -1)
			return;
		f->idx++;
		f->state = FR_PTR_ADDR;
		return;
	default:
		return;
	}
}

void
spf_free(struct spf *s)
{
	size_t i;

	for (i = 0; i < s->depth; i++) {
		free(s->frames[i]);
		s->frames[i] = NULL;
	}
	s->depth = 0;
}
