/* spf - the Sender Policy Framework check (RFC 7208) as a resumable state
 *       machine: the record parser, the macro expander and the evaluator.
 * Trusts: nothing. Records, DNS answers, the sender and the HELO name may
 *         be anything; every length is bounded (SPF_*_MAX below) and an
 *         oversized or malformed record is a permerror, not a truncation.
 * Gives:  spf_record_parse: a record checked whole against the RFC's ABNF
 *         (section 12) with a precise reason on failure;
 *         spf_macro_expand: section 7 macros into a bounded struct buf;
 *         spf_start/spf_step/spf_answer: check_host() for one identity.
 *         spf_step says which DNS query (type and name) it needs, the
 *         caller asks its resolver on its own event loop and hands the
 *         answer to spf_answer, and so on until SPF_DONE; then s->result,
 *         s->mechanism (the term that matched), s->why (for logs and
 *         `postern auth-check`) and, for a fail, s->explanation.
 *         The HELO identity is checked the same way with sender
 *         "postmaster@HELO" (an empty sender is taken as that too).
 * Limits: RFC 7208 section 4.6.4: 10 DNS-querying terms (include, a, mx,
 *         ptr, exists, redirect), 2 void lookups (NXDOMAIN or no data: a
 *         term's own query and, as pyspf counts them, the address queries
 *         for MX hosts and PTR names too), 10 MX names and 10 PTR names
 *         per term; anything beyond is a permerror (or, for PTR names,
 *         ignored). The caller bounds the time (the RFC suggests at
 *         least 20 s in all) and gives a temperror when it runs out.
 * DNS errors: a temperror, except in ptr (section 5.5: the PTR query's
 *         error is no match, a name's address query error skips it) and
 *         in the explanation (none is given).
 * Never:  does I/O, reads the clock (now comes from spf_start) or follows
 *         CNAMEs itself (the resolver does). The %{p} macro expands to
 *         "unknown": the RFC discourages it, and validating it would cost
 *         DNS queries that count against no limit.
 */
#ifndef POSTERN_SPF_H
#define POSTERN_SPF_H
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "netaddr.h"
#include "outcome.h"

/* A record longer than this is a permerror: 4096 is eight 512-byte UDP
 * answers' worth, far more than any published policy (the RFC asks
 * publishers to stay within 450 bytes). */
#define SPF_RECORD_MAX		4096
/* Terms per record: ip4/ip6 cost no DNS and may be many, but a record of
 * 4096 bytes cannot hold more than ~400 and real ones hold a few dozen. */
#define SPF_TERMS_MAX		256
/* A domain name (RFC 1035: 253 characters of text). */
#define SPF_NAME_MAX		253
/* One macro expansion (a domain is then cut to SPF_NAME_MAX; an
 * explanation to SPF_EXP_MAX). */
#define SPF_MACRO_MAX		2048
/* The explanation given to the sender with a fail (one SMTP reply). */
#define SPF_EXP_MAX		400
#define SPF_WHY_MAX		512
#define SPF_SENDER_MAX		(64 + 1 + SPF_NAME_MAX)
/* RFC 7208 section 4.6.4. */
#define SPF_DNS_TERMS_MAX	10
#define SPF_VOID_MAX		2
#define SPF_MX_MAX		10
#define SPF_PTR_MAX		10
/* Nested records: each include costs one of the 10 DNS terms. */
#define SPF_DEPTH_MAX		(SPF_DNS_TERMS_MAX + 2)

enum spf_result {
	SPF_RESULT_NONE = 0,
	SPF_RESULT_NEUTRAL,
	SPF_RESULT_PASS,
	SPF_RESULT_FAIL,
	SPF_RESULT_SOFTFAIL,
	SPF_RESULT_TEMPERROR,
	SPF_RESULT_PERMERROR,
};

/* "none", "neutral", "pass", ... (the RFC 8601 spelling). */
const char	*spf_result_name(enum spf_result r);

enum spf_mech {
	SPF_MECH_ALL = 0,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS,
};

struct spf_term {
	enum spf_mech	 mech;
	enum spf_result	 qualifier;	/* PASS, FAIL, SOFTFAIL or NEUTRAL */
	const char	*text;		/* the whole term, as written */
	const char	*spec;		/* domain-spec (a macro-string) or NULL */
	size_t		 speclen;
	unsigned	 cidr4, cidr6;	/* a, mx: 32 and 128 unless given */
	struct netaddr	 net;		/* ip4, ip6: the network */
	unsigned	 prefix;
};

struct spf_record {
	char		 text[SPF_RECORD_MAX + 1];	/* terms point here */
	struct spf_term	 terms[SPF_TERMS_MAX];
	size_t		 nterms;
	const char	*redirect, *exp;		/* domain-specs or NULL */
	size_t		 redirect_len, exp_len;
};

/* 1 if txt[0..len) is an SPF record at all ("v=spf1" then a space or the
 * end, case-insensitive): the others in a TXT answer are ignored. */
int	spf_is_record(const char *txt, size_t len);
/* Parse a whole record. 0, or -1 with why filled (the permerror reason):
 * a bad version, a character outside printable ASCII and space, too
 * long, too many terms, an unknown mechanism, a missing or malformed
 * argument, a CIDR length out of range, a bad macro, a domain-spec not
 * ending in a top label, a qualifier on a modifier, redirect or exp twice.
 * Unknown modifiers are accepted (their macro-string must be valid). */
int	spf_record_parse(struct spf_record *r, const char *txt, size_t len,
	    char *why, size_t whylen);

/* What the macros expand to. */
struct spf_macro_env {
	const char		*local;		/* %{l}: sender's local-part */
	const char		*sender_domain;	/* %{o} */
	const char		*domain;	/* %{d}: current domain */
	const struct netaddr	*ip;		/* %{i} %{c} %{v} */
	const char		*helo;		/* %{h} */
	const char		*receiver;	/* %{r}; NULL: "unknown" */
	time_t			 now;		/* %{t} */
};

/* Expand the macro-string s[0..len) into out (appended; refused whole,
 * -1, when more than out->max). exp: the explanation context, where
 * %{c} %{r} %{t} are allowed too. env NULL: only check the syntax.
 * 0, or -1 with why filled. */
int	spf_macro_expand(const char *s, size_t len,
	    const struct spf_macro_env *env, int exp, struct buf *out,
	    char *why, size_t whylen);
/* A domain-spec expanded: the macros, then cut from the left label by
 * label to SPF_NAME_MAX (section 4.8), a final dot removed. 0, or -1. */
int	spf_expand_domain(const char *s, size_t len,
	    const struct spf_macro_env *env, char *dst, size_t dstlen,
	    char *why, size_t whylen);

/* The evaluator. */
enum spf_qtype {
	SPF_Q_TXT = 0,
	SPF_Q_A,
	SPF_Q_AAAA,
	SPF_Q_MX,
	SPF_Q_PTR,
};
const char	*spf_qtype_name(enum spf_qtype t);

/* The answer to a query. NODATA: the name exists, no record of the type. */
enum spf_rcode {
	SPF_DNS_OK = 0,
	SPF_DNS_NXDOMAIN,
	SPF_DNS_NODATA,
	SPF_DNS_TEMP,		/* SERVFAIL, timeout, refused */
};

struct spf_query {
	enum spf_qtype	type;
	char		name[SPF_NAME_MAX + 1];	/* no final dot */
};

enum spf_step {
	SPF_NEED_DNS = 0,	/* ask s->query, then spf_answer() */
	SPF_DONE,		/* s->result and friends are final */
};

struct spf_frame;

struct spf {
	/* The identity. */
	struct netaddr	 ip;
	char		 local[65];
	char		 sender_domain[SPF_NAME_MAX + 1];
	char		 helo[SPF_NAME_MAX + 1];
	char		 receiver[SPF_NAME_MAX + 1];
	time_t		 now;

	/* Where the evaluation is: a stack of records (include pushes). */
	struct spf_frame *frames[SPF_DEPTH_MAX];
	size_t		 depth;
	int		 state;		/* internal */
	int		 pending;	/* a query is out: spf_answer next */
	unsigned	 dns_terms;	/* of SPF_DNS_TERMS_MAX */
	unsigned	 void_lookups;	/* of SPF_VOID_MAX */

	struct spf_query query;		/* with SPF_NEED_DNS */

	/* With SPF_DONE. */
	enum spf_result	 result;
	char		 mechanism[128];	/* the matching term, or "" */
	char		 why[SPF_WHY_MAX];
	char		 explanation[SPF_EXP_MAX + 1];	/* fail only; or "" */
};

/* Begin check_host(ip, domain of sender, sender). sender: the MAIL FROM
 * address without brackets ("" or NULL for the null sender, then
 * "postmaster@HELO"); helo: the HELO/EHLO name; receiver: our host name
 * for %{r} (NULL: "unknown"). A sender whose domain is not a usable FQDN
 * (an empty label, one over 63 bytes, a domain literal, no dot) makes the
 * result none at the first spf_step. Every spf_start is paired with one
 * spf_free (which also makes s ready for another spf_start); struct spf
 * is ~2 KB and holds up to SPF_DEPTH_MAX heap frames of ~24 KB, one per
 * nested record. */
void	spf_start(struct spf *s, const struct netaddr *ip, const char *sender,
	    const char *helo, const char *receiver, time_t now);
/* Run until a DNS answer is needed (s->query) or the result is known.
 * Called again before spf_answer, it gives the same query again. */
enum spf_step	spf_step(struct spf *s);
/* The answer to s->query. records[0..n) with OK: TXT: each record's
 * strings joined; A/AAAA: addresses as text; MX: the exchange names (in
 * any order; "." or "" is a null MX); PTR: the names. lens[i] is the
 * length of records[i] (a TXT record may hold a NUL byte, which makes it
 * a permerror, not a shorter record); lens NULL: each is a C string.
 * Records that do not parse are ignored. Call spf_step next. */
void	spf_answer(struct spf *s, enum spf_rcode rcode,
	    const char *const *records, const size_t *lens, size_t n);
void	spf_free(struct spf *s);
#endif
