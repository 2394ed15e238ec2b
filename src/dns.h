/* dns - DNS through c-ares, driven by the caller's libevent loop: where
 *       mail for a domain goes (MX lookup, RFC 5321 section 5), and single
 *       record lookups (TXT, A, AAAA, MX, PTR) for SPF, DKIM and DMARC.
 * Trusts: nothing in DNS answers: MX routing takes what c-ares parsed;
 *         record lookups parse the answer themselves (dns_parse_answer),
 *         bounds-checked, names at most 253 characters, at most
 *         DNS_HOSTS_MAX hosts and DNS_ADDRS_MAX addresses per host, at
 *         most DNS_RR_MAX records and DNS_TEXT_MAX bytes per answer.
 * Gives:  an ordered list of hosts (MX preference, random among equal,
 *         or the implicit MX: the domain's own A/AAAA) with their
 *         addresses; or a temporary error (SERVFAIL, timeout, refused), a
 *         permanent one (NXDOMAIN, no address anywhere), or "null MX"
 *         (RFC 7505: the domain accepts no mail).
 *         For record lookups: the records, or NXDOMAIN, NODATA (the name
 *         exists, with no record of that type) or TEMP, kept apart as
 *         SPF's void lookups and DMARC's discovery need; record answers
 *         are cached per TTL (dns_cache.h).
 * Limits: DNS_TIMEOUT_MS per try, DNS_TRIES tries per server.
 * Never:  blocks: sockets are watched by libevent, timeouts are timers.
 *         /etc/hosts is not consulted ("b" lookups only); resolv.conf is
 *         read only when no servers are configured (the system resolver). */
#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "netaddr.h"
#include "outcome.h"

#define DNS_HOSTS_MAX	16
#define DNS_ADDRS_MAX	8
#define DNS_TIMEOUT_MS	3000
#define DNS_TRIES	2

struct event_base;
struct dns;

struct dns_host {
	char		name[256];
	unsigned	pref;
	struct netaddr	addrs[DNS_ADDRS_MAX];
	size_t		naddrs;
};

/* status: OK; TEMP, try later (SERVFAIL, timeout, no answer); PERM,
 * NXDOMAIN, no host has an address, or a null MX (null_mx: RFC 7505,
 * bounce at once with 5.1.10). */
struct dns_result {
	enum outcome	status;
	int		null_mx;	/* with PERM: the domain has a null MX */
	char		error[600];	/* for logs and bounces */
	struct dns_host	hosts[DNS_HOSTS_MAX];
	size_t		nhosts;
	int		implicit;	/* no MX: the domain itself */
};

typedef void (*dns_cb)(const struct dns_result *r, void *arg);

/* servers: "IP[:port], ..." (NULL: the system's resolv.conf).
 * NULL with err filled on failure. */
struct dns *dns_new(struct event_base *base, const char *servers, char *err,
	    size_t errlen);
void	dns_free(struct dns *d);
/* Where mail for domain goes: MX, then addresses ("[1.2.3.4]" is taken
 * as is). cb is called exactly once, possibly before this returns. */
void	dns_resolve_mx(struct dns *d, const char *domain, dns_cb cb, void *arg);
/* The addresses of one host (a route's host name), as hosts[0]. */
void	dns_resolve_host(struct dns *d, const char *host, dns_cb cb, void *arg);

/* Record lookups. The values are the wire types (RFC 1035, 3596). */
enum dns_qtype {
	DNS_T_A = 1,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
};

/* An outcome, with the two ways a name can have no records numbered
 * after OUTCOME_PERM (outcome.h). */
enum dns_status {
	/* OUTCOME_OK: at least one record of the type; OUTCOME_TEMP:
	 * SERVFAIL, REFUSED, timeout, a bad answer; OUTCOME_PERM: the query
	 * itself is invalid (the name). Then: */
	DNS_NXDOMAIN = OUTCOME_PERM + 1,	/* the name does not exist (RCODE 3) */
	DNS_NODATA,			/* the name exists, no record of the type */
};

/* A name is at most 253 characters without the final dot (RFC 1035 2.3.4:
 * 255 octets on the wire), a label at most 63. */
#define DNS_NAME_MAX	253
/* Records kept per answer: SPF, DKIM and DMARC publish one or two TXT
 * records; SPF looks at no more than 10 MX names (RFC 7208 4.6.4) or PTR
 * names; more records are dropped and the answer says truncated. */
#define DNS_RR_MAX	32
/* Bytes of text per answer, every record's text with its NUL: a 4096-bit
 * RSA DKIM key record is about 800 bytes; 32 full names are 8 kB. */
#define DNS_TEXT_MAX	8192

struct dns_rr {
	uint32_t	off;	/* TXT: the record's character-strings joined
				 * (RFC 7208 3.3, RFC 6376 3.6.2.2); MX, PTR:
				 * the name, without the final dot, "" for
				 * the root (null MX); at text + off, with a
				 * NUL after it */
	uint32_t	len;	/* its length (TXT data may hold NUL bytes) */
	unsigned	pref;	/* MX: the preference */
	struct netaddr	addr;	/* A, AAAA: the address */
};

struct dns_answer {
	int		status;	/* an outcome, or DNS_NXDOMAIN / DNS_NODATA */
	enum dns_qtype	type;
	uint32_t	ttl;	/* seconds it may be reused: the smallest TTL
				 * of the answer's records, or for NXDOMAIN
				 * and NODATA min(SOA TTL, SOA MINIMUM) (RFC
				 * 2308 5), 0 without a SOA; capped by
				 * dns_cache_ttl(); from the cache: what is
				 * left */
	int		truncated;	/* records beyond DNS_RR_MAX or
				 * DNS_TEXT_MAX were dropped */
	size_t		nrr;		/* records in rr[] (OUTCOME_OK: >= 1) */
	struct dns_rr	rr[DNS_RR_MAX];
	size_t		textlen;	/* bytes used in text[] */
	char		text[DNS_TEXT_MAX];
};

/* Record i's text (TXT data, MX or PTR name), NUL-terminated. */
const char *dns_rr_text(const struct dns_answer *a, size_t i);
/* "ok", "temp", "perm", "nxdomain", "nodata". */
const char *dns_status_name(int st);

typedef void (*dns_query_cb)(const struct dns_answer *a, void *arg);

/* Ask for the records of one type at name (with or without a final dot;
 * no search list). cb is called exactly once, with an answer that lives
 * until cb returns (copy what is kept). It is called before this
 * returns when the name is invalid (PERM: longer than DNS_NAME_MAX, an
 * empty label, a label over 63) or the answer is in the cache; otherwise
 * from the event loop, at the latest when c-ares gives up
 * (DNS_TIMEOUT_MS x DNS_TRIES per server: TEMP), or from dns_free()
 * (TEMP). Records of the type are taken from the whole answer section,
 * so a CNAME chain that the server followed is followed. */
void	dns_query(struct dns *d, enum dns_qtype type, const char *name,
	    dns_query_cb cb, void *arg);
/* For a command-line tool: dns_query(), running base (the one d was made
 * with) until the answer is there; the answer is copied into *out.
 * Returns out->status. Other events on base run meanwhile. */
int dns_query_wait(struct dns *d, struct event_base *base,
	    enum dns_qtype type, const char *name, struct dns_answer *out);
/* The PTR name of an address: "4.3.2.1.in-addr.arpa", or the 32 nibbles
 * under ip6.arpa (RFC 3596 2.5). -1 when it does not fit or the family is
 * neither. */
int	dns_ptr_name(const struct netaddr *a, char *buf, size_t len);

/* Pure helpers (tested alone). */
/* 0 when name is a name dns_query() asks for, -1 when it would be PERM. */
int	dns_name_check(const char *name);
/* Parse a DNS response (header, question, answer and authority sections)
 * for the records of type: fills a (status from the RCODE and the
 * records; ttl uncapped). A response that does not parse is TEMP. */
void	dns_parse_answer(const unsigned char *msg, size_t len,
	    enum dns_qtype type, struct dns_answer *a);
struct dns_mx {
	char		name[256];	/* "" for the root (null MX) */
	unsigned	pref;
};
/* Sort by preference, shuffling equal preferences with rnd (returns a
 * random 32-bit number). Drops empty names when other records exist.
 * Returns the new count; 0 with *null_r = 1 for a null MX. */
size_t	dns_mx_order(struct dns_mx *v, size_t n, int *null_r,
	    uint32_t (*rnd)(void *), void *arg);
#endif
