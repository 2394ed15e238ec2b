/* netaddr - IP addresses and CIDR networks, IPv4 and IPv6; see netaddr.h.
 * Every address that leaves this file is normalised: an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) becomes AF_INET, because a dual-stack listener
 * reports IPv4 peers that way and they must match IPv4 networks and rules. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "decimal.h"
#include "netaddr.h"

static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static size_t
netaddr_len(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

/* ::ffff:a.b.c.d -> a.b.c.d; anything else unchanged. */
static void
netaddr_unmap(struct netaddr *r)
{
	if (r->family == AF_INET6 && memcmp(r->a, v4mapped, 12) == 0) {
		memmove(r->a, r->a + 12, 4);
		memset(r->a + 4, 0, 12);
		r->family = AF_INET;
	}
}

int
netaddr_parse(const char *s, struct netaddr *r)
{
	memset(r, 0, sizeof(*r));
	if (s == NULL)
		return -1;
	/* inet_pton refuses brackets, ports, zone ids and names. */
	if (inet_pton(AF_INET, s, r->a) == 1) {
		r->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, r->a) == 1) {
		r->family = AF_INET6;
		netaddr_unmap(r);
		return 0;
	}
	memset(r, 0, sizeof(*r));
	return -1;
}

int
netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *r)
{
	memset(r, 0, sizeof(*r));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		r->family = AF_INET;
		memcpy(r->a, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		r->family = AF_INET6;
		memcpy(r->a, &sin6->sin6_addr, 16);
		netaddr_unmap(r);
		return 0;
	}
	return -1;
}

/* "No address" (family 0) equals nothing, not even itself: a caller that
 * compares against an unknown address must never get a match. */
int
netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
	size_t n = netaddr_len(a->family);

	if (n == 0 || a->family != b->family)
		return 0;
	return memcmp(a->a, b->a, n) == 0;
}

char *
netaddr_format(const struct netaddr *a, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (netaddr_len(a->family) == 0) {
		(void)xsnprintf(buf, len, "unknown");
		return buf;
	}
	if (inet_ntop(a->family, a->a, buf, len) == NULL)
		buf[0] = '\0';
	return buf;
}

/* Decimal 0..max, no sign, no leading zero; -1 otherwise. */
static int
parse_prefix(const char *s, unsigned max)
{
	uint64_t v;

	if (s[0] == '0' && s[1] != '\0')
		return -1;
	if (parse_decimal(s, strlen(s), max, &v) == -1)
		return -1;
	return (int)v;
}

/* 1 if any bit at or after bit `prefix` is set. */
static int
host_bits_set(const uint8_t *a, size_t n, unsigned prefix)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned first = (unsigned)i * 8;
		uint8_t mask;

		if (first + 8 <= prefix)
			continue;
		if (first >= prefix)
			mask = 0xff;
		else
			mask = (uint8_t)(0xff >> (prefix - first));
		if (a[i] & mask)
			return 1;
	}
	return 0;
}

int
cidr_parse(const char *s, struct cidr *r)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	const char *slash;
	struct netaddr a;
	unsigned max;
	int p, mapped;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (s == NULL)
		return -1;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';

	/* Parse without unmapping first: a mapped network's prefix counts
	 * the 96 bits of ::ffff:0:0 and must be shifted with it. */
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, tmp, a.a) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, a.a) == 1)
		a.family = AF_INET6;
	else
		return -1;
	max = a.family == AF_INET ? 32 : 128;
	if (slash) {
		if ((p = parse_prefix(slash + 1, max)) == -1)
			return -1;
	} else
		p = (int)max;
	if (host_bits_set(a.a, netaddr_len(a.family), (unsigned)p))
		return -1;

	mapped = a.family == AF_INET6 && memcmp(a.a, v4mapped, 12) == 0;
	if (mapped && p >= 96) {
		netaddr_unmap(&a);
		p -= 96;
	}
	r->addr = a;
	r->prefix = (unsigned)p;
	return 0;
}

int
cidr_match(const struct cidr *c, const struct netaddr *a)
{
	size_t full, n = netaddr_len(c->addr.family);
	unsigned rest;
	uint8_t mask;

	if (n == 0 || a->family != c->addr.family || c->prefix > n * 8)
		return 0;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(c->addr.a, a->a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (c->addr.a[full] & mask) == (a->a[full] & mask);
}

char *
cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (len == 0)
		return buf;
	netaddr_format(&c->addr, a, sizeof(a));
	if (xsnprintf(buf, len, "%s/%u", a, c->prefix) == -1)
		buf[0] = '\0';
	return buf;
}
