/* dnsbl - the pure part of DNS blocklist checks (RFC 5782): the name to
 *         ask for an address under a zone, what an answer means, and
 *         whether the weights of the zones that list a client reach the
 *         threshold. smtpd asks the queries (dns.c) and applies the
 *         verdict at the greeting or at RCPT.
 * Trusts: nothing in answers: an address counts as a listing only in
 *         127.0.0.0/8 (RFC 5782 2.3), and not 127.255.255.0/24, where
 *         some lists put their "query refused" codes.
 * Gives:  the reversed-octet name (IPv4) or the 32 reversed nibbles
 *         (IPv6, RFC 5782 2.4) before the zone; the decision; the reply
 *         line with the list's TXT reason, made printable and bounded.
 * Never:  does I/O. */
#ifndef POSTERN_DNSBL_H
#define POSTERN_DNSBL_H
#include <stddef.h>
#include "netaddr.h"

/* At most this many zones are asked about one client. */
#define DNSBL_ZONES_MAX		16
/* A whole check (all zones at once, then their TXT) waits at most this. */
#define DNSBL_TIMEOUT_SEC	5

/* "4.3.2.1.ZONE" for 1.2.3.4, or the nibbles for IPv6 (an IPv4-mapped
 * IPv6 address is taken as IPv4). 0, or -1 when it does not fit in len
 * or is longer than a DNS name (253). */
int	dnsbl_query_name(const struct netaddr *client, const char *zone,
	    char *buf, size_t len);
/* 1 when an A record of the answer says "listed". */
int	dnsbl_address_lists(const struct netaddr *a);
/* 1 when the weights of the listing zones reach threshold. */
int	dnsbl_decide(const unsigned *weights, const int *listed, size_t n,
	    unsigned threshold);
/* "554 5.7.1 Service unavailable; client [IP] blocked using ZONE: TXT"
 * (or 451 4.7.1 with tempfail); txt may be NULL or "" (no reason given);
 * its non-printable bytes become '?', and it is cut to fit. */
void	dnsbl_reply(char *buf, size_t len, int tempfail, const char *client_ip,
	    const char *zone, const char *txt);
#endif
