/* rules - relay rules in tcpserver/tcprules syntax, plus CIDR.
 * Trusts: nothing; the file is the administrator's, but is checked as if
 *         it were hostile (every bad line is an error with its line number).
 * Gives:  per client address, the rule that applies: allow / deny, and
 *         whether it sets RELAYCLIENT (or RELAY) = "" (relay allowed),
 *         and RBLSMTPD = "" (never checked against DNS blocklists).
 *         Syntax per line:  ADDRESS:allow[,VAR="value"]...  or  ADDRESS:deny
 *         ADDRESS is "1.2.3.4" (exact), "1.2.3." / "1.2." / "1." (prefix),
 *         "10.0.0.1-50" (range in the last octet), "" (default),
 *         "192.168.0.0/16" or "2001:db8::/32" (CIDR), or an IPv6 address.
 *         Lookup order is tcprules': exact address first, then ever shorter
 *         prefixes, then the empty default; i.e. the longest prefix wins,
 *         and between equal prefixes the first line in the file.
 *         "=hostname" rules and a non-empty RELAYCLIENT are errors.
 * Never:  does I/O or consults DNS. */
#ifndef POSTERN_RULES_H
#define POSTERN_RULES_H
#include <stddef.h>
#include "buf.h"
#include "netaddr.h"

enum rules_action {
	RULES_NO_MATCH = 0,
	RULES_ALLOW,
	RULES_DENY,
};

struct rules_match {
	enum rules_action action;
	int		relay;		/* RELAYCLIENT="" or RELAY="" present */
	int		rblsmtpd;	/* RBLSMTPD="" present: never checked
					 * against DNS blocklists (rblsmtpd) */
	unsigned	line;		/* line number of the matching rule */
	const char	*text;		/* the rule's address part, as written */
};

struct rules;

/* Parse a rules file's text. name is used in error messages
 * ("name:line: ..."). Returns NULL if any error was added to errs. */
struct rules *rules_parse(const char *name, const char *text, size_t len,
	    struct errlist *errs);
void	rules_free(struct rules *r);
/* Fills m; m->action == RULES_NO_MATCH when no rule (not even "") applies. */
void	rules_lookup(const struct rules *r, const struct netaddr *client,
	    struct rules_match *m);
#endif
