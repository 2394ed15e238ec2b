/* dmarc - DMARC records, discovery, alignment, From and verdict; see
 * dmarc.h. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "decimal.h"
#include "dmarc.h"
#include "msgheader.h"

/* ---- the record ---- */

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* [s, s+n) equals the keyword w, case-insensitively. */
static int
word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

static int
parse_policy(const char *s, size_t n, enum dmarc_policy *p)
{
	if (word_is(s, n, "none"))
		*p = DMARC_POLICY_NONE;
	else if (word_is(s, n, "quarantine"))
		*p = DMARC_POLICY_QUARANTINE;
	else if (word_is(s, n, "reject"))
		*p = DMARC_POLICY_REJECT;
	else
		return -1;
	return 0;
}

static int
parse_align(const char *s, size_t n, enum dmarc_align *a)
{
	if (word_is(s, n, "r"))
		*a = DMARC_ALIGN_RELAXED;
	else if (word_is(s, n, "s"))
		*a = DMARC_ALIGN_STRICT;
	else
		return -1;
	return 0;
}

/* fo: "0", "1", "d", "s" separated by ':'. */
static int
fo_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (i % 2 == 0 && !strchr("01dsDS", s[i]))
			return 0;
		if (i % 2 == 1 && s[i] != ':')
			return 0;
	}
	return n % 2 == 1;
}

/* A rua that names at least one URI: a scheme, ':' and something. */
static int
has_uri(const char *s)
{
	const char *c = strchr(s, ':');
	size_t i;

	if (c == NULL || c == s || c[1] == '\0' || c[1] == ',')
		return 0;
	for (i = 0; s + i < c; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (i > 0 && ((s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '+' || s[i] == '-' || s[i] == '.'))))
			return 0;
	return 1;
}

static void
keep_text(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = 0;		/* cut URIs would be wrong URIs: none */
	memcpy(dst, s, n);
	dst[n] = '\0';
}

enum dmarc_rec_status
dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r)
{
	/* Tags seen, by the bit of their index in names[]. */
	static const char *const names[] = { "v", "p", "sp", "np", "adkim",
	    "aspf", "pct", "ri", "rua", "ruf", "fo", "rf" };
	unsigned seen = 0;
	size_t i = 0, ntags = 0, k;
	int p_ok = 0, sp_ok = 1, sp_set = 0, np_set = 0;
	uint64_t v;

	memset(r, 0, sizeof(*r));
	r->adkim = r->aspf = DMARC_ALIGN_RELAXED;
	r->pct = 100;
	r->ri = 86400;
	memcpy(r->fo, "0", 2);
	if (len > DMARC_RECORD_MAX)
		return DMARC_REC_INVALID;
	while (i < len) {
		const char *name, *val, *end;
		size_t nl, vl, j;

		end = memchr(txt + i, ';', len - i);
		j = end ? (size_t)(end - txt) : len;
		/* [i, j) is one tag-spec: WSP name WSP '=' WSP value WSP */
		while (i < j && is_wsp(txt[i]))
			i++;
		name = txt + i;
		while (i < j && !is_wsp(txt[i]) && txt[i] != '=')
			i++;
		nl = (size_t)(txt + i - name);
		while (i < j && is_wsp(txt[i]))
			i++;
		if (nl == 0 && i == j) {
			/* an empty spec (";;", a final ';') */
			if (ntags == 0)
				return DMARC_REC_NOT_DMARC;
			i = j + 1;
			continue;
		}
		if (i == j || txt[i] != '=')
			return ntags == 0 ? DMARC_REC_NOT_DMARC :
			    DMARC_REC_INVALID;
		i++;
		while (i < j && is_wsp(txt[i]))
			i++;
		val = txt + i;
		vl = j - i;
		while (vl > 0 && is_wsp(val[vl - 1]))
			vl--;
		i = j + 1;
		if (ntags == 0) {
			/* v=DMARC1 first; the value exactly (RFC 7489 6.4's ABNF
			 * spells it in %x, the name as a case-insensitive string). */
			if (!word_is(name, nl, "v") || vl != 6 ||
			    memcmp(val, "DMARC1", 6) != 0)
				return DMARC_REC_NOT_DMARC;
		}
		if (++ntags > DMARC_TAGS_MAX)
			return DMARC_REC_INVALID;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (word_is(name, nl, names[k]))
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			continue;	/* unknown tags are ignored (6.3) */
		if (seen & (1u << k))
			return DMARC_REC_INVALID;
		seen |= 1u << k;
		switch (k) {
		case 0:
			if (ntags != 1)
				return DMARC_REC_INVALID;
			break;
		case 1:
			p_ok = parse_policy(val, vl, &r->p) == 0;
			break;
		case 2:
			sp_set = 1;
			sp_ok = parse_policy(val, vl, &r->sp) == 0;
			break;
		case 3:
			np_set = parse_policy(val, vl, &r->np) == 0;
			break;
		case 4:
			(void)parse_align(val, vl, &r->adkim);
			break;
		case 5:
			(void)parse_align(val, vl, &r->aspf);
			break;
		case 6:
			if (parse_decimal(val, vl, 100, &v) == 0)
				r->pct = (unsigned)v;
			break;
		case 7:
			if (parse_decimal(val, vl, UINT32_MAX, &v) == 0)
				r->ri = (unsigned long)v;
			break;
		case 8:
			keep_text(r->rua, sizeof(r->rua), val, vl);
			break;
		case 9:
			keep_text(r->ruf, sizeof(r->ruf), val, vl);
			break;
		case 10:
			if (fo_valid(val, vl) && vl <= DMARC_FO_MAX)
				keep_text(r->fo, sizeof(r->fo), val, vl);
			break;
		default:
			break;		/* rf: only afrf exists */
		}
	}
	if (ntags == 0)
		return DMARC_REC_NOT_DMARC;
	if (!p_ok || !sp_ok) {
		/* 6.6.3 step 6: with a reporting URI, act as p=none. */
		if (!has_uri(r->rua))
			return DMARC_REC_INVALID;
		r->p = r->sp = DMARC_POLICY_NONE;
		r->p_from_rua = 1;
		sp_set = 1;
	}
	if (!sp_set)
		r->sp = r->p;
	if (!np_set)
		r->np = r->sp;
	return DMARC_REC_OK;
}

enum dmarc_rec_status
dmarc_record_select(const char *const *txt, const size_t *lens, size_t n,
    struct dmarc_record *r)
{
	struct dmarc_record tmp;
	enum dmarc_rec_status st, got = DMARC_REC_NOT_DMARC;
	size_t i, found = 0;

	if (n > DMARC_ANSWERS_MAX)
		n = DMARC_ANSWERS_MAX;
	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++) {
		st = dmarc_record_parse(txt[i], lens[i], &tmp);
		if (st == DMARC_REC_NOT_DMARC)
			continue;
		if (++found > 1)
			return DMARC_REC_MULTIPLE;
		got = st;
		if (st == DMARC_REC_OK)
			*r = tmp;
	}
	return got;
}

/* ---- discovery ---- */

static void
set_qname(struct dmarc_discovery *d, const char *domain)
{
	if (xsnprintf(d->qname, sizeof(d->qname), "_dmarc.%s", domain) < 0)
		d->qname[0] = '\0';	/* not reached: sizes fit */
}

int
dmarc_discovery_init(struct dmarc_discovery *d, const struct psl *psl,
    const char *from_domain)
{
	memset(d, 0, sizeof(*d));
	d->state = DMARC_DISC_PERMERROR;
	d->reason = "the From domain is not a domain name";
	if (psl_normalise(from_domain, strlen(from_domain), d->from_domain,
	    sizeof(d->from_domain)) < 0 ||
	    psl_org_domain(psl, d->from_domain, d->org_domain,
	    sizeof(d->org_domain)) < 0)
		return -1;
	d->state = DMARC_DISC_ASK;
	d->reason = NULL;
	set_qname(d, d->from_domain);
	return 0;
}

const char *
dmarc_discovery_next(const struct dmarc_discovery *d)
{
	return d->state == DMARC_DISC_ASK ? d->qname : NULL;
}

void
dmarc_discovery_answer(struct dmarc_discovery *d, enum dmarc_dns dns,
    const char *const *txt, const size_t *lens, size_t n)
{
	enum dmarc_rec_status st = DMARC_REC_NOT_DMARC;

	if (d->state != DMARC_DISC_ASK)
		return;
	if (dns == DMARC_DNS_TEMP) {
		d->state = DMARC_DISC_TEMPERROR;
		return;
	}
	if (dns == DMARC_DNS_ANSWER)
		st = dmarc_record_select(txt, lens, n, &d->record);
	switch (st) {
	case DMARC_REC_OK:
		d->state = DMARC_DISC_FOUND;
		return;
	case DMARC_REC_MULTIPLE:
		d->state = DMARC_DISC_PERMERROR;
		d->reason = "more than one DMARC record";
		return;
	case DMARC_REC_INVALID:
		d->state = DMARC_DISC_PERMERROR;
		d->reason = "invalid DMARC record";
		return;
	case DMARC_REC_NOT_DMARC:
		break;
	}
	if (!d->at_org && strcmp(d->from_domain, d->org_domain) != 0) {
		d->at_org = 1;
		set_qname(d, d->org_domain);
		return;
	}
	d->state = DMARC_DISC_NONE;
}

/* ---- alignment ---- */

int
dmarc_aligned(const struct psl *psl, enum dmarc_align mode,
    const char *from_domain, const char *auth_domain)
{
	char a[PSL_NAME_MAX + 1], b[PSL_NAME_MAX + 1];

	if (from_domain == NULL || auth_domain == NULL)
		return 0;
	if (mode == DMARC_ALIGN_STRICT)
		return psl_normalise(from_domain, strlen(from_domain), a,
		    sizeof(a)) >= 0 && psl_normalise(auth_domain,
		    strlen(auth_domain), b, sizeof(b)) >= 0 &&
		    strcmp(a, b) == 0;
	return psl_org_domain(psl, from_domain, a, sizeof(a)) == 0 &&
	    psl_org_domain(psl, auth_domain, b, sizeof(b)) == 0 &&
	    strcmp(a, b) == 0;
}

/* ---- RFC5322.From ---- */

/* The addr-spec with its separators (one space each, outside quoted
 * strings) removed: they may stand around '.', '@' and a route's ',' and
 * ':' (RFC 5322 CFWS, obsolete syntax included), never between two
 * words ("a@b.example x" is not "a@b.examplex"). */
static enum dmarc_from_status
addr_squeeze(char *s)
{
	size_t i, o = 0;
	int quoted = 0;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (quoted) {
			if (c == '\\' && s[i + 1]) {
				s[o++] = c;
				c = s[++i];
			} else if (c == '"')
				quoted = 0;
		} else if (c == '"') {
			quoted = 1;
		} else if (c == ' ') {
			if (o == 0 || s[i + 1] == '\0' ||
			    strchr(".@,:", s[o - 1]) != NULL ||
			    strchr(".@,:", s[i + 1]) != NULL)
				continue;
			return DMARC_FROM_SYNTAX;
		}
		s[o++] = c;
	}
	s[o] = '\0';
	return o > 0 ? DMARC_FROM_OK : DMARC_FROM_SYNTAX;
}

/* The addr-spec of one mailbox (RFC 5322 3.4) in the unfolded value v:
 * comments dropped, WSP outside quoted strings dropped, the angle-addr's
 * content when there is one. Into out (NUL-terminated). */
static enum dmarc_from_status
mailbox_addr(const char *v, char *out, size_t outlen)
{
	size_t o = 0, angle_start = 0, angle_end = 0;
	int depth = 0, quoted = 0, angles = 0, closed = 0;
	const char *p;

	for (p = v; *p; p++) {
		char c = *p;

		if (depth > 0) {	/* in a comment */
			if (c == '\\' && p[1])
				p++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (quoted) {
			if (c == '\\' && p[1]) {
				if (o + 2 >= outlen)
					return DMARC_FROM_SYNTAX;
				out[o++] = c;
				c = *++p;
			} else if (c == '"')
				quoted = 0;
		} else if (c == '(' || c == ' ' || c == '\t') {
			/* a separator: one space kept, for addr_squeeze */
			depth = c == '(';
			if (o > 0 && out[o - 1] != ' ') {
				if (o + 1 >= outlen)
					return DMARC_FROM_SYNTAX;
				out[o++] = ' ';
			}
			continue;
		} else if (closed && c != ',') {
			return DMARC_FROM_SYNTAX;	/* text after <...> */
		} else if (c == '"') {
			quoted = 1;
		} else if (c == '<') {
			if (angles++ > 0 || closed)
				return DMARC_FROM_SYNTAX;
			angle_start = o;
			continue;
		} else if (c == '>') {
			if (angles != 1 || closed)
				return DMARC_FROM_SYNTAX;
			closed = 1;
			angle_end = o;
			continue;
		} else if (c == ',' && (angles == 0 || closed)) {
			return DMARC_FROM_MULTIPLE_MAILBOXES;
		} else if ((c == ':' || c == ';') && angles == 0) {
			return DMARC_FROM_SYNTAX;	/* a group */
		}
		if (o + 1 >= outlen)
			return DMARC_FROM_SYNTAX;
		out[o++] = c;
	}
	if (depth > 0 || quoted || (angles > 0 && !closed))
		return DMARC_FROM_SYNTAX;
	if (angles > 0) {
		/* the display name before '<' is dropped */
		memmove(out, out + angle_start, angle_end - angle_start);
		o = angle_end - angle_start;
	}
	out[o] = '\0';
	return addr_squeeze(out);
}

static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* The local part of an addr-spec: a dot-atom or one quoted-string (its
 * content only checked for being balanced, already done). 8-bit octets
 * are allowed (RFC 6532): the local part is not DMARC's business, and
 * refusing a well-formed one would let a sender escape its domain's
 * policy. */
static int
local_part_ok(const char *s, size_t n)
{
	size_t i;

	if (n >= 2 && s[0] == '"') {
		for (i = 1; i < n - 1; i++)
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				return 0;
		return i == n - 1 && s[n - 1] == '"';
	}
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext((unsigned char)s[i]))
			return 0;
	return 1;
}

/* local-part "@" domain (an obsolete route "@a,@b:" before it dropped):
 * the domain, normalised, into domain. */
static enum dmarc_from_status
split_addr_spec(const char *addr, char *domain, size_t dlen)
{
	const char *at = NULL, *p;
	int quoted = 0;

	if (addr[0] == '@') {
		p = strchr(addr, ':');
		if (p == NULL)
			return DMARC_FROM_SYNTAX;
		addr = p + 1;
	}
	for (p = addr; *p; p++) {
		if (quoted && *p == '\\' && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '@')
			at = p;
	}
	if (at == NULL || !local_part_ok(addr, (size_t)(at - addr)))
		return DMARC_FROM_SYNTAX;
	if (at[1] == '[')
		return DMARC_FROM_NO_DOMAIN;
	if (psl_normalise(at + 1, strlen(at + 1), domain, dlen) < 0)
		return DMARC_FROM_SYNTAX;
	return DMARC_FROM_OK;
}

enum dmarc_from_status
dmarc_from_domain(const char *h, size_t len, char *domain, size_t dlen)
{
	struct msgheader_iter it;
	struct msgheader_field f, from;
	char value[DMARC_FROM_VALUE_MAX + 1];
	char addr[DMARC_FROM_VALUE_MAX + 1];
	enum dmarc_from_status st;
	size_t n = 0;
	long vl;

	if (dlen > 0)
		domain[0] = '\0';
	/* Junk lines are looked past up to the empty line: a From: behind
	 * one is a From: to a lenient reader. */
	msgheader_init(&it, h, len);
	for (;;) {
		int r = msgheader_next(&it, &f);

		if (r == MSGHEADER_BROKEN) {
			(void)msgheader_skip_broken(&it);
			continue;
		}
		if (r != MSGHEADER_FIELD)
			break;
		if (msgheader_name_is(&f, "From") && n++ == 0)
			from = f;
	}
	if (n == 0)
		return DMARC_FROM_NONE;
	if (n > 1)
		return DMARC_FROM_MULTIPLE_FIELDS;
	vl = msgheader_unfold(from.value, from.value_len, value, sizeof(value));
	if (vl < 0 || memchr(value, '\0', (size_t)vl) != NULL)
		return DMARC_FROM_SYNTAX;	/* too long, or a NUL inside */
	st = mailbox_addr(value, addr, sizeof(addr));
	if (st != DMARC_FROM_OK)
		return st;
	return split_addr_spec(addr, domain, dlen);
}

const char *
dmarc_from_status_text(enum dmarc_from_status st)
{
	switch (st) {
	case DMARC_FROM_OK:
		return "one From mailbox";
	case DMARC_FROM_NONE:
		return "no From field";
	case DMARC_FROM_MULTIPLE_FIELDS:
		return "more than one From field";
	case DMARC_FROM_MULTIPLE_MAILBOXES:
		return "more than one From mailbox";
	case DMARC_FROM_SYNTAX:
		return "unparsable From field";
	case DMARC_FROM_NO_DOMAIN:
		return "From address without a domain name";
	}
	return "unparsable From field";
}

/* ---- the verdict ---- */

void
dmarc_verdict_from_error(enum dmarc_from_status st, struct dmarc_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->result = DMARC_RESULT_PERMERROR;
	v->reason = dmarc_from_status_text(st);
}

/* One step down (RFC 7489 6.6.4): for a message pct did not select. */
static enum dmarc_policy
milder(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE :
	    DMARC_POLICY_NONE;
}

void
dmarc_evaluate(const struct psl *psl, const struct dmarc_discovery *d,
    const struct dmarc_auth *a, struct dmarc_verdict *v)
{
	const struct dmarc_record *r = &d->record;
	size_t i;

	memset(v, 0, sizeof(*v));
	switch (d->state) {
	case DMARC_DISC_ASK:
		v->result = DMARC_RESULT_PERMERROR;
		v->reason = "policy discovery not finished";
		return;
	case DMARC_DISC_NONE:
		v->result = DMARC_RESULT_NONE;
		v->reason = "no DMARC record";
		return;
	case DMARC_DISC_TEMPERROR:
		v->result = DMARC_RESULT_TEMPERROR;
		v->reason = "DNS lookup of the DMARC record failed";
		return;
	case DMARC_DISC_PERMERROR:
		v->result = DMARC_RESULT_PERMERROR;
		v->reason = d->reason ? d->reason : "invalid DMARC record";
		return;
	case DMARC_DISC_FOUND:
		break;
	}
	/* sp: the record is the organisational domain's and From is below. */
	v->requested = d->at_org ? r->sp : r->p;
	v->spf_aligned = a->spf_domain != NULL && dmarc_aligned(psl,
	    r->aspf, d->from_domain, a->spf_domain);
	for (i = 0; i < a->ndkim && !v->dkim_aligned; i++)
		v->dkim_aligned = dmarc_aligned(psl, r->adkim,
		    d->from_domain, a->dkim_domains[i]);
	if (v->spf_aligned || v->dkim_aligned) {
		v->result = DMARC_RESULT_PASS;
		v->reason = v->dkim_aligned ? "aligned DKIM signature" :
		    "aligned SPF pass";
		return;
	}
	v->result = DMARC_RESULT_FAIL;
	v->policy = v->requested;
	v->reason = "neither SPF nor DKIM aligned";
	if (v->policy != DMARC_POLICY_NONE &&
	    (a->pct_random > 99 ? 99 : a->pct_random) >= r->pct) {
		v->policy = milder(v->policy);
		v->sampled_out = 1;
		v->reason = "neither SPF nor DKIM aligned; not selected by pct";
	}
}

const char *
dmarc_result_name(enum dmarc_result r)
{
	switch (r) {
	case DMARC_RESULT_NONE:
		return "none";
	case DMARC_RESULT_PASS:
		return "pass";
	case DMARC_RESULT_FAIL:
		return "fail";
	case DMARC_RESULT_TEMPERROR:
		return "temperror";
	case DMARC_RESULT_PERMERROR:
		return "permerror";
	}
	return "permerror";
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_NONE:
		return "none";
	case DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case DMARC_POLICY_REJECT:
		return "reject";
	}
	return "none";
}
