/* dns_cache - record answers (dns.h's struct dns_answer) kept for their
 *             TTL, so that SPF, DKIM and DMARC checks of a run of
 *             messages from one sender ask the DNS once.
 * Trusts: its caller's clock (now, in seconds, any monotonic origin) and
 *         answers as dns_parse_answer() made them.
 * Gives:  a bounded table (at most the count given to dns_cache_new(),
 *         each entry only the bytes its answer uses), keyed by type and
 *         name (case-insensitive, a final dot ignored). An answer lives
 *         min(its TTL, DNS_CACHE_TTL_MAX) seconds; NXDOMAIN and NODATA
 *         min(the SOA's negative TTL, DNS_CACHE_NEG_TTL_MAX), and not at
 *         all without a SOA (RFC 2308 5); TEMP and PERM are never kept.
 *         When full, an expired entry goes first, else the one that
 *         would expire soonest.
 * Never:  does I/O or reads the clock. */
#ifndef POSTERN_DNS_CACHE_H
#define POSTERN_DNS_CACHE_H
#include <stddef.h>
#include <stdint.h>
#include "dns.h"

/* A record changed at its publisher is seen within an hour even when
 * its TTL is a day. */
#define DNS_CACHE_TTL_MAX	3600
/* A record just published (a new DKIM selector, a new SPF record) is
 * seen within five minutes (RFC 2308 5 suggests 1 to 3 hours at most). */
#define DNS_CACHE_NEG_TTL_MAX	300
/* dns.c's table: a few hundred senders' SPF, DKIM and DMARC records. */
#define DNS_CACHE_ENTRIES	512

struct dns_cache;

/* max_entries 0 makes a cache that keeps nothing. */
struct dns_cache *dns_cache_new(size_t max_entries);
void	dns_cache_free(struct dns_cache *c);
/* How long an answer with status st and the TTL ttl (from the answer)
 * is kept: 0 is "not at all". */
uint32_t dns_cache_ttl(int st, uint32_t ttl);
/* Keep a copy of a (the answer for a->type at name) until now +
 * dns_cache_ttl(a->status, a->ttl); replaces an entry for the same key. */
void	dns_cache_put(struct dns_cache *c, const char *name,
	    const struct dns_answer *a, int64_t now);
/* 1 and *out filled (out->ttl: the seconds left) when an unexpired answer
 * for type at name is kept; 0 otherwise. */
int	dns_cache_get(struct dns_cache *c, enum dns_qtype type,
	    const char *name, int64_t now, struct dns_answer *out);
/* Entries held (expired ones included until replaced). */
size_t	dns_cache_count(const struct dns_cache *c);
#endif
