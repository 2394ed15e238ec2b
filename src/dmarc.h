/* dmarc - DMARC (RFC 7489): the policy record, its discovery, identifier
 *         alignment, the RFC5322.From domain, and the verdict.
 * Trusts: nothing: records come from DNS, header sections from any
 *         sender, the authenticated domains from the SPF and DKIM
 *         evaluators (only as text to compare).
 * Gives:  dmarc_record_parse / dmarc_record_select: one TXT record (its
 *         strings concatenated by the caller) or the answer set of one
 *         name, as RFC 7489 6.6.3 reads it: records that do not begin with
 *         v=DMARC1 are not DMARC records; two DMARC records at one name
 *         is DMARC_REC_MULTIPLE; a DMARC record without a valid p (or with
 *         an invalid sp) counts as p=none when its rua holds a URI, else
 *         it is DMARC_REC_INVALID (no policy is applied).
 *         A discovery state machine (dmarc_discovery_*) that says which
 *         name to ask next (_dmarc.FROM, then _dmarc.ORG when the first
 *         has no DMARC record and ORG differs) and takes each answer; the
 *         caller does the DNS. dmarc_aligned: relaxed (same organisational
 *         domain, psl.h) or strict (equal names). dmarc_from_domain: the
 *         domain of the one mailbox of the one From: field (RFC 5322
 *         3.4 syntax with comments, quoted display names, obsolete
 *         routes; the domain as psl_normalise has it). The local part is
 *         only checked for being a dot-atom or a quoted-string, 8-bit
 *         allowed: refusing a local part DMARC does not look at would let
 *         its sender escape the domain's policy. For the same reason every
 *         From: up to the empty line counts, junk lines between fields
 *         looked past. dmarc_evaluate:
 *         pass / fail / none / temperror / permerror, the policy to apply
 *         (p, or sp when the record was found at the organisational
 *         domain for a From below it; pct applied with a random value the
 *         caller draws) and a reason in words.
 * Choices: the results RFC 8601 names: "none" when there is no record;
 *         "permerror" for a DMARC record that is invalid, for two records
 *         at one name, and when the From domain cannot be had (no From
 *         field, two, several mailboxes, a group, unparsable, an address
 *         literal): RFC 7489 6.6.1 leaves such messages to the
 *         receiver, and a message whose author cannot be named is not one
 *         DMARC can pass. No policy is applied for any of these: only
 *         "fail" applies one. "temperror" when a DNS answer was temporary.
 *         np (RFC 9989 draft: non-existent subdomains) is parsed and kept,
 *         not applied: that needs a lookup of the From domain itself.
 *         Tags other than v are matched and keyword values compared case-
 *         insensitively; v's value must be "DMARC1" exactly (RFC 7489
 *         6.4); a duplicated tag makes the record invalid; an invalid
 *         adkim, aspf, pct, fo or ri takes its default.
 * Limits: DMARC_RECORD_MAX octets per record, DMARC_TAGS_MAX tags, rua
 *         and ruf kept as text of at most DMARC_URIS_MAX octets, From
 *         values of DMARC_FROM_VALUE_MAX unfolded octets.
 * Never:  does DNS or other I/O, or decides what to do with a verdict. */
#ifndef POSTERN_DMARC_H
#define POSTERN_DMARC_H
#include <stddef.h>

#include "psl.h"

/* Four 255-octet TXT strings is more than any published record needs
 * (a few rua URIs); the bound keeps a hostile zone's answer cheap. */
#define DMARC_RECORD_MAX	1024
#define DMARC_TAGS_MAX		32	/* RFC 7489 defines 11 */
#define DMARC_URIS_MAX		512	/* rua, ruf as published */
#define DMARC_FO_MAX		16	/* "0:1:d:s" and room */
#define DMARC_ANSWERS_MAX	16	/* TXT records looked at per name */
/* A From: field of 998-octet lines folded a few times: longer is not a
 * field any mail client writes. */
#define DMARC_FROM_VALUE_MAX	4096
#define DMARC_QNAME_MAX		(7 + PSL_NAME_MAX + 1)	/* "_dmarc." NAME */

enum dmarc_policy {
	DMARC_POLICY_NONE = 0,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

enum dmarc_align {
	DMARC_ALIGN_RELAXED = 0,
	DMARC_ALIGN_STRICT,
};

struct dmarc_record {
	enum dmarc_policy p;
	enum dmarc_policy sp;		/* default: p */
	enum dmarc_policy np;		/* default: sp; kept, not applied */
	int		 p_from_rua;	/* p was missing or invalid: p=none (6.6.3) */
	enum dmarc_align adkim;		/* default relaxed */
	enum dmarc_align aspf;
	unsigned	 pct;		/* 0..100, default 100 */
	unsigned long	 ri;		/* seconds, default 86400 */
	char		 rua[DMARC_URIS_MAX + 1];	/* "" when absent */
	char		 ruf[DMARC_URIS_MAX + 1];
	char		 fo[DMARC_FO_MAX + 1];		/* default "0" */
};

enum dmarc_rec_status {
	DMARC_REC_OK = 0,
	DMARC_REC_NOT_DMARC,	/* not v=DMARC1 first: not a DMARC record */
	DMARC_REC_INVALID,	/* a DMARC record that cannot be used */
	DMARC_REC_MULTIPLE,	/* (select) more than one DMARC record */
};

enum dmarc_rec_status dmarc_record_parse(const char *txt, size_t len,
	    struct dmarc_record *r);
/* The one DMARC record among txt[0..n) (lens[i] octets each): OK with *r
 * set, NOT_DMARC when none is one, MULTIPLE, or INVALID. */
enum dmarc_rec_status dmarc_record_select(const char *const *txt,
	    const size_t *lens, size_t n, struct dmarc_record *r);

/* What the caller's DNS said about a name. */
enum dmarc_dns {
	DMARC_DNS_ANSWER = 0,	/* TXT records (possibly none of them DMARC) */
	DMARC_DNS_NOTHING,	/* NXDOMAIN or no TXT data */
	DMARC_DNS_TEMP,		/* SERVFAIL, timeout: try again later */
};

enum dmarc_disc_state {
	DMARC_DISC_ASK = 0,	/* dmarc_discovery_next has a name */
	DMARC_DISC_FOUND,	/* record set */
	DMARC_DISC_NONE,	/* no record at either name */
	DMARC_DISC_TEMPERROR,
	DMARC_DISC_PERMERROR,	/* invalid or multiple records */
};

struct dmarc_discovery {
	enum dmarc_disc_state state;
	int		 at_org;	/* asking / found at the org domain */
	char		 from_domain[PSL_NAME_MAX + 1];	/* normalised */
	char		 org_domain[PSL_NAME_MAX + 1];
	char		 qname[DMARC_QNAME_MAX + 1];
	struct dmarc_record record;
	const char	*reason;	/* when PERMERROR */
};

/* 0, or -1 when from_domain is not a valid domain name. */
int	dmarc_discovery_init(struct dmarc_discovery *d, const struct psl *psl,
	    const char *from_domain);
/* The name to ask for TXT records, or NULL when discovery is over. */
const char *dmarc_discovery_next(const struct dmarc_discovery *d);
/* The answer for the name dmarc_discovery_next gave: txt[0..n) with
 * lens, the strings of each record concatenated (ANSWER only). */
void	dmarc_discovery_answer(struct dmarc_discovery *d, enum dmarc_dns dns,
	    const char *const *txt, const size_t *lens, size_t n);

/* 1 when auth_domain is aligned with from_domain in mode, else 0 (also
 * for names that are not valid). */
int	dmarc_aligned(const struct psl *psl, enum dmarc_align mode,
	    const char *from_domain, const char *auth_domain);

enum dmarc_from_status {
	DMARC_FROM_OK = 0,
	DMARC_FROM_NONE,		/* no From: field */
	DMARC_FROM_MULTIPLE_FIELDS,	/* two From: fields */
	DMARC_FROM_MULTIPLE_MAILBOXES,	/* a list */
	DMARC_FROM_SYNTAX,		/* a group, unparsable, too long, 8-bit */
	DMARC_FROM_NO_DOMAIN,		/* an address literal */
};

/* The domain of the RFC5322.From mailbox in the header section h[0..len)
 * (lower case, no trailing dot) into domain. DMARC_FROM_SYNTAX too when
 * the domain does not fit in dlen. */
enum dmarc_from_status dmarc_from_domain(const char *h, size_t len,
	    char *domain, size_t dlen);
const char *dmarc_from_status_text(enum dmarc_from_status st);

enum dmarc_result {
	DMARC_RESULT_NONE = 0,
	DMARC_RESULT_PASS,
	DMARC_RESULT_FAIL,
	DMARC_RESULT_TEMPERROR,
	DMARC_RESULT_PERMERROR,
};

/* What SPF and DKIM established. */
struct dmarc_auth {
	const char	*spf_domain;	/* MAIL FROM domain if SPF passed, else NULL */
	const char *const *dkim_domains; /* d= of each signature that verified */
	size_t		 ndkim;
	unsigned	 pct_random;	/* uniform 0..99, drawn by the caller */
};

struct dmarc_verdict {
	enum dmarc_result result;
	enum dmarc_policy requested;	/* p or sp as published (none if no record) */
	enum dmarc_policy policy;	/* to apply: none unless result is FAIL */
	int		 spf_aligned;
	int		 dkim_aligned;
	int		 sampled_out;	/* pct let this failure off one step */
	const char	*reason;	/* static text */
};

/* The verdict from a finished discovery and what SPF and DKIM gave. */
void	dmarc_evaluate(const struct psl *psl, const struct dmarc_discovery *d,
	    const struct dmarc_auth *a, struct dmarc_verdict *v);
/* The verdict when the From domain could not be had (st != OK). */
void	dmarc_verdict_from_error(enum dmarc_from_status st,
	    struct dmarc_verdict *v);
/* "pass", "fail", ... and "none", "quarantine", "reject" (RFC 8601 and
 * RFC 7489 words). */
const char *dmarc_result_name(enum dmarc_result r);
const char *dmarc_policy_name(enum dmarc_policy p);
#endif
