/* rules - relay rules in tcprules syntax plus CIDR; see rules.h.
 * Every address form is turned into (network, prefix length) so that one
 * longest-prefix lookup reproduces tcprules' order (exact, "1.2.3.",
 * "1.2.", "1.", ""): exact = /32 or /128, "1.2.3." = /24, "" = /0, and a
 * last-octet range "1.2.3.4-9" ranks as exact (/32). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "decimal.h"
#include "rules.h"

#define RULES_ADDR_MAX	64	/* longest address part we accept */

enum rule_kind {
	RULE_DEFAULT,		/* "": any client */
	RULE_NET,		/* exact, prefix form or CIDR */
	RULE_RANGE,		/* a.b.c.LO-HI */
};

struct rule {
	enum rule_kind	 kind;
	struct cidr	 net;		/* RULE_NET; RULE_RANGE: a.b.c.0/24 */
	unsigned	 lo, hi;	/* RULE_RANGE */
	unsigned	 rank;		/* prefix length used for ordering */
	enum rules_action action;
	int		 relay;
	int		 rblsmtpd;	/* RBLSMTPD="": never checked against DNSBLs */
	unsigned	 line;
	char		*text;
};

struct rules {
	struct rule	*v;
	size_t		 n;
};

/* Decimal 0..255 without sign or leading zero over exactly [s, s+n). */
static int
parse_octet(const char *s, size_t n, unsigned *r)
{
	uint64_t v;

	if ((n > 1 && s[0] == '0') || parse_decimal(s, n, 255, &v) == -1)
		return -1;
	*r = (unsigned)v;
	return 0;
}

/* Up to `max` dot-terminated octets "1.2.3." into o; returns how many,
 * or -1. Every octet must be followed by a dot. */
static int
parse_octets_dotted(const char *s, size_t n, unsigned *o, int max)
{
	size_t i = 0, start;
	int k = 0;

	while (i < n) {
		if (k == max)
			return -1;
		start = i;
		while (i < n && s[i] != '.')
			i++;
		if (i >= n || parse_octet(s + start, i - start, &o[k]) == -1)
			return -1;
		k++;
		i++;
	}
	return k;
}

/* Parse the address part of one rule into ru. NULL on success, else a
 * message for the administrator. */
static const char *
parse_addr(const char *s, size_t n, struct rule *ru)
{
	char tmp[RULES_ADDR_MAX + 1];
	unsigned o[4];
	const char *dash;
	int k;

	if (n == 0) {
		ru->kind = RULE_DEFAULT;
		ru->rank = 0;
		return NULL;
	}
	if (s[0] == '=')
		return "host name rules (\"=host\" or \"=\") are not supported: "
		    "a PTR host name is whatever the owner of the address "
		    "claims, so a host-name rule could let anyone relay";
	if (n > RULES_ADDR_MAX)
		return "address too long";
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	ru->kind = RULE_NET;

	if (memchr(s, '/', n) != NULL) {
		if (cidr_parse(tmp, &ru->net) == -1)
			return "bad CIDR network (host bits set below the "
			    "prefix, bad prefix length or bad address)";
		ru->rank = ru->net.prefix;
		return NULL;
	}
	if (memchr(s, ':', n) != NULL) {
		if (netaddr_parse(tmp, &ru->net.addr) == -1)
			return "bad IPv6 address (IPv6 prefixes must be "
			    "written as CIDR, e.g. 2001:db8::/32)";
		ru->net.prefix = ru->net.addr.family == AF_INET ? 32 : 128;
		ru->rank = ru->net.prefix;
		return NULL;
	}
	if ((dash = memchr(s, '-', n)) != NULL) {
		const char *lastdot;
		size_t pre = (size_t)(dash - s);

		lastdot = memrchr(s, '.', pre);
		if (lastdot == NULL ||
		    parse_octets_dotted(s, (size_t)(lastdot - s) + 1, o, 3) != 3 ||
		    parse_octet(lastdot + 1, (size_t)(dash - lastdot - 1),
		    &ru->lo) == -1 ||
		    parse_octet(dash + 1, n - pre - 1, &ru->hi) == -1)
			return "bad range (expected e.g. 10.0.0.1-50, a range "
			    "in the last octet only)";
		if (ru->lo > ru->hi)
			return "bad range (first address after last)";
		ru->kind = RULE_RANGE;
		ru->net.addr.family = AF_INET;
		ru->net.addr.a[0] = (uint8_t)o[0];
		ru->net.addr.a[1] = (uint8_t)o[1];
		ru->net.addr.a[2] = (uint8_t)o[2];
		ru->net.prefix = 24;
		ru->rank = 32;
		return NULL;
	}
	if (s[n - 1] == '.') {
		k = parse_octets_dotted(s, n, o, 3);
		if (k < 1)
			return "bad address prefix (expected e.g. 10. or "
			    "192.168. or 192.168.1.)";
		ru->net.addr.family = AF_INET;
		for (int i = 0; i < k; i++)
			ru->net.addr.a[i] = (uint8_t)o[i];
		ru->net.prefix = (unsigned)k * 8;
		ru->rank = ru->net.prefix;
		return NULL;
	}
	if (inet_pton(AF_INET, tmp, ru->net.addr.a) != 1)
		return "bad address (expected e.g. 192.0.2.1, 192.0.2., "
		    "192.0.2.1-50, 192.0.2.0/24, 2001:db8::1 or nothing)";
	ru->net.addr.family = AF_INET;
	ru->net.prefix = 32;
	ru->rank = 32;
	return NULL;
}

static int
is_var_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* The ",VAR=value..." part after the action, s[0..n). */
static const char *
parse_vars(const char *s, size_t n, struct rule *ru)
{
	size_t i = 0, start, vlen;
	const char *name;
	size_t nlen;

	/* find_action and the value parsers below leave i at a ',' or n. */
	while (i < n) {
		i++;	/* the ',' */
		start = i;
		while (i < n && s[i] != '=' && s[i] != ',')
			i++;
		if (i >= n || s[i] != '=')
			return "expected VAR=\"value\" after ','";
		name = s + start;
		nlen = i - start;
		if (!is_var_name(name, nlen))
			return "bad variable name";
		i++;
		if (i < n && s[i] == '"') {
			start = ++i;
			while (i < n && s[i] != '"')
				i++;
			if (i >= n)
				return "unterminated quoted value";
			vlen = i - start;
			i++;
			if (i < n && s[i] != ',')
				return "unexpected text after quoted value";
		} else {
			start = i;
			while (i < n && s[i] != ',')
				i++;
			vlen = i - start;
		}
		if (nlen == 11 && memcmp(name, "RELAYCLIENT", 11) == 0) {
			if (vlen != 0)
				return "RELAYCLIENT with a value rewrites "
				    "recipients (qmail); postern does not "
				    "support it";
			ru->relay = 1;
		} else if (nlen == 5 && memcmp(name, "RELAY", 5) == 0) {
			if (vlen != 0)
				return "RELAY with a value is not supported; "
				    "write RELAY=\"\"";
			ru->relay = 1;
		} else if (nlen == 8 && memcmp(name, "RBLSMTPD", 8) == 0) {
			if (vlen != 0)
				return "RBLSMTPD with a value (rblsmtpd's own "
				    "reject text) is not supported; write "
				    "RBLSMTPD=\"\"";
			ru->rblsmtpd = 1;
		}
		/* Other variables belong to tcpserver; accepted, ignored. */
	}
	return NULL;
}

/* Find the ':' that separates the address from "allow"/"deny": an IPv6
 * address contains colons, but never the letters of allow/deny. */
static const char *
find_action(const char *s, size_t n, enum rules_action *act_r)
{
	size_t i, rest;

	for (i = 0; i < n; i++) {
		if (s[i] != ':')
			continue;
		rest = n - i - 1;
		if (rest >= 5 && memcmp(s + i + 1, "allow", 5) == 0 &&
		    (rest == 5 || s[i + 6] == ',')) {
			*act_r = RULES_ALLOW;
			return s + i;
		}
		if (rest >= 4 && memcmp(s + i + 1, "deny", 4) == 0 &&
		    (rest == 4 || s[i + 5] == ',')) {
			*act_r = RULES_DENY;
			return s + i;
		}
	}
	return NULL;
}

static const char *
parse_line(const char *s, size_t n, struct rule *ru)
{
	enum rules_action act = RULES_NO_MATCH;
	const char *colon, *err, *p;
	size_t alen;

	for (p = s; p < s + n; p++) {
		if (*p == '\0')
			return "NUL byte";
	}
	if (s[0] == '=')
		return parse_addr(s, n, ru);
	colon = find_action(s, n, &act);
	if (colon == NULL) {
		if (memchr(s, ':', n) == NULL)
			return "missing ':' (expected ADDRESS:allow or "
			    "ADDRESS:deny)";
		return "expected allow or deny after ':'";
	}
	alen = (size_t)(colon - s);
	if ((err = parse_addr(s, alen, ru)) != NULL)
		return err;
	ru->action = act;
	ru->text = xstrndup(s, alen);
	p = colon + 1 + (act == RULES_ALLOW ? 5 : 4);
	if ((err = parse_vars(p, (size_t)(s + n - p), ru)) != NULL) {
		free(ru->text);
		ru->text = NULL;
		return err;
	}
	if (ru->action == RULES_DENY) {
		ru->relay = 0;	/* deny never grants relaying */
		ru->rblsmtpd = 0;
	}
	return NULL;
}

struct rules *
rules_parse(const char *name, const char *text, size_t len,
    struct errlist *errs)
{
	struct errlist local = { NULL, 0 };
	struct errlist *e = errs ? errs : &local;
	size_t nerr = e->n, i = 0, start, end;
	struct rules *r;
	struct rule ru;
	const char *err;
	unsigned line = 0;

	if (name == NULL)
		name = "relay_rules";
	r = xcalloc(1, sizeof(*r));
	while (i < len) {
		line++;
		start = i;
		while (i < len && text[i] != '\n')
			i++;
		end = i;
		if (i < len)
			i++;	/* the newline */
		/* Trim CR and white space at both ends. */
		while (end > start && (text[end - 1] == '\r' ||
		    text[end - 1] == ' ' || text[end - 1] == '\t'))
			end--;
		while (start < end && (text[start] == ' ' ||
		    text[start] == '\t'))
			start++;
		if (start == end || text[start] == '#')
			continue;
		memset(&ru, 0, sizeof(ru));
		ru.line = line;
		if ((err = parse_line(text + start, end - start, &ru)) != NULL) {
			errlist_add(e, "%s:%u: %s", name, line, err);
			continue;
		}
		r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
		r->v[r->n++] = ru;
	}
	if (e->n != nerr) {
		rules_free(r);
		errlist_free(&local);
		return NULL;
	}
	return r;
}

void
rules_free(struct rules *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->v[i].text);
	free(r->v);
	free(r);
}

static int
rule_matches(const struct rule *ru, const struct netaddr *a)
{
	switch (ru->kind) {
	case RULE_DEFAULT:
		return a->family == AF_INET || a->family == AF_INET6;
	case RULE_NET:
		return cidr_match(&ru->net, a);
	case RULE_RANGE:
		return cidr_match(&ru->net, a) && a->a[3] >= ru->lo &&
		    a->a[3] <= ru->hi;
	}
	return 0;
}

void
rules_lookup(const struct rules *r, const struct netaddr *client,
    struct rules_match *m)
{
	const struct rule *best = NULL;
	size_t i;

	memset(m, 0, sizeof(*m));
	m->action = RULES_NO_MATCH;
	if (r == NULL || client == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		if (!rule_matches(&r->v[i], client))
			continue;
		/* Strictly longer only: the first of equal rules wins. */
		if (best == NULL || r->v[i].rank > best->rank)
			best = &r->v[i];
	}
	if (best == NULL)
		return;
	m->action = best->action;
	m->relay = best->action == RULES_ALLOW && best->relay;
	m->rblsmtpd = best->action == RULES_ALLOW && best->rblsmtpd;
	m->line = best->line;
	m->text = best->text;
}
