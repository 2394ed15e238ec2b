/* netaddr - IP addresses and CIDR networks, IPv4 and IPv6.
 * Trusts: nothing; strings come from config files and from the command line.
 * Gives:  parsed addresses; IPv4-mapped IPv6 (::ffff:a.b.c.d) is always
 *         normalised to AF_INET so that it matches IPv4 networks.
 * Never:  resolves names or does any other I/O. */
#ifndef POSTERN_NETADDR_H
#define POSTERN_NETADDR_H
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

struct netaddr {
	int	family;		/* AF_INET or AF_INET6; 0 = none */
	uint8_t	a[16];		/* AF_INET uses a[0..3] */
};

struct cidr {
	struct netaddr	addr;	/* host bits are zero */
	unsigned	prefix;	/* 0..32 or 0..128 */
};

/* Parse a numeric address ("192.0.2.1", "::1", "::ffff:1.2.3.4").
 * 0 on success, -1 on anything else (no brackets, no port, no zone). */
int	netaddr_parse(const char *s, struct netaddr *r);
/* 0, or -1 for a family other than AF_INET/AF_INET6. */
int	netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *r);
int	netaddr_equal(const struct netaddr *a, const struct netaddr *b);
/* Text form into buf (INET6_ADDRSTRLEN is enough); returns buf. */
char	*netaddr_format(const struct netaddr *a, char *buf, size_t len);

/* "10.0.0.0/8", "::1/128", or a bare address (full-length prefix).
 * Host bits set below the prefix ("10.1.2.3/8") are an error: -1. */
int	cidr_parse(const char *s, struct cidr *r);
int	cidr_match(const struct cidr *c, const struct netaddr *a);
char	*cidr_format(const struct cidr *c, char *buf, size_t len);
#endif
