/* dns - where mail for a domain goes: MX lookup (RFC 5321 section 5)
 *       through c-ares, driven by the caller's libevent loop.
 * Trusts: nothing in DNS answers beyond what c-ares parsed; names are
 *         bounded, at most DNS_HOSTS_MAX hosts and DNS_ADDRS_MAX addresses
 *         per host are kept.
 * Gives:  an ordered list of hosts (MX preference, random among equal,
 *         or the implicit MX: the domain's own A/AAAA) with their
 *         addresses; or a temporary error (SERVFAIL, timeout, refused), a
 *         permanent one (NXDOMAIN, no address anywhere), or "null MX"
 *         (RFC 7505: the domain accepts no mail).
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

/* Pure helpers (tested alone). */
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
