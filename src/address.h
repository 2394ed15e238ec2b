/* address - RFC 5321 mailbox paths as they appear in MAIL FROM and RCPT TO.
 * Trusts: nothing; the text comes straight from an SMTP client.
 * Gives:  a parsed, normalised address (domain lower-cased, trailing dot
 *         removed, quoted local part unquoted when it needs no quotes) and
 *         flags for every routing trick seen, so that relay.c can refuse it.
 * Limits: local part 64 octets, domain 255, whole path 256 (RFC 5321 4.5.3.1).
 * Never:  allocates, does I/O, or decides policy (that is relay.c's job). */
#ifndef POSTERN_ADDRESS_H
#define POSTERN_ADDRESS_H
#include <stddef.h>
#include "netaddr.h"

#define ADDRESS_LOCAL_MAX	64
#define ADDRESS_DOMAIN_MAX	255
#define ADDRESS_PATH_MAX	256

/* Routing tricks and oddities; any of the first five makes relay.c refuse. */
#define ADDRESS_F_SOURCE_ROUTE	0x01	/* <@a,@b:user@c> */
#define ADDRESS_F_PERCENT	0x02	/* user%host@domain */
#define ADDRESS_F_BANG		0x04	/* host!user@domain */
#define ADDRESS_F_QUOTED_ROUTE	0x08	/* "user@host"@domain, "a%b"@, "a!b"@ */
#define ADDRESS_F_AT_IN_LOCAL	0x10	/* reserved: @ inside local part */
#define ADDRESS_F_QUOTED	0x20	/* local part was (and must stay) quoted */
#define ADDRESS_F_TRAILING_DOT	0x40	/* "example.com." was normalised */
#define ADDRESS_F_ROUTING	(ADDRESS_F_SOURCE_ROUTE | ADDRESS_F_PERCENT | \
				 ADDRESS_F_BANG | ADDRESS_F_QUOTED_ROUTE | \
				 ADDRESS_F_AT_IN_LOCAL)

enum address_status {
	ADDRESS_OK = 0,
	ADDRESS_ERR_SYNTAX,	/* 501 5.1.7 / 5.1.3: not a path */
	ADDRESS_ERR_TOO_LONG,	/* 501 5.1.7 / 5.1.3: over the limits above */
	ADDRESS_ERR_8BIT,	/* 553 5.6.7: non-ASCII without SMTPUTF8 */
	ADDRESS_ERR_NO_DOMAIN,	/* <user> without @domain (except postmaster) */
};

struct address {
	int		is_null;	/* <> (only valid for MAIL FROM) */
	int		is_postmaster;	/* <postmaster> without domain (RCPT, RFC 5321 4.5.1) */
	char		local[ADDRESS_LOCAL_MAX * 2 + 3]; /* as it must be written (quoted if needed) */
	char		domain[ADDRESS_DOMAIN_MAX + 1];	  /* lower case; "[1.2.3.4]" for literals */
	int		is_literal;	/* domain is an address literal */
	struct netaddr	literal;	/* its address when is_literal */
	unsigned	flags;		/* ADDRESS_F_* */
};

/* Parse the path at the start of s (after "MAIL FROM:" / "RCPT TO:", any
 * leading spaces already skipped by the caller), which must begin with '<'.
 * allow_null: accept "<>" (MAIL FROM). allow_postmaster: accept
 * "<postmaster>" without domain, case-insensitively (RCPT TO).
 * On ADDRESS_OK, *end_r points just past the closing '>'. */
enum address_status address_parse_path(const char *s, size_t len,
	    int allow_null, int allow_postmaster, struct address *a,
	    size_t *end_r);

/* "local@domain" (or "" for the null path, "postmaster" for the bare one)
 * into buf; returns buf, or NULL when it does not fit. */
char	*address_format(const struct address *a, char *buf, size_t len);
/* Whole-label domain comparison after normalisation (both lower case). */
int	address_domain_equal(const char *a, const char *b);
#endif
