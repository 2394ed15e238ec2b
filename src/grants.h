/* grants - POP-before-SMTP relay grants: address -> (user, expiry).
 * Trusts: its callers; addresses come from accepted sockets.
 * Gives:  lookups with an explicit clock (tests inject time), and a text
 *         form ("ADDRESS USER EXPIRY\n" lines) for the spool/grants file.
 * Never:  does I/O; the auth process owns the file (postern grants
 *         edits it under the same lock). */
#ifndef POSTERN_GRANTS_H
#define POSTERN_GRANTS_H
#include <stddef.h>
#include <time.h>
#include "buf.h"
#include "netaddr.h"

/* The largest spool/grants file anyone reads or writes. */
#define GRANTS_FILE_MAX		(1024 * 1024)

struct grant {
	struct netaddr	addr;
	char		user[64];
	time_t		expires;
};

struct grants {
	struct grant	*v;
	size_t		 n;
};

/* The live grant for addr at time now, or NULL. An expired grant never
 * matches, and a grant for one address never covers another. */
const struct grant *grants_lookup(const struct grants *g,
	    const struct netaddr *addr, time_t now);
/* Add or renew; returns 0. */
int	grants_put(struct grants *g, const struct netaddr *addr,
	    const char *user, time_t expires);
/* Remove one address; returns 1 if it was there. */
int	grants_revoke(struct grants *g, const struct netaddr *addr);
/* No grant lasts longer than the largest pop_before_smtp_ttl: a grant
 * that claims to end later than now + this (a forged or corrupt file) is
 * ignored by lookups and dropped by grants_expire. */
#define GRANTS_TTL_MAX	604800
/* Drop grants that expired before now, and those beyond GRANTS_TTL_MAX. */
void	grants_expire(struct grants *g, time_t now);
void	grants_free(struct grants *g);

/* The spool/grants file and the IPC snapshot: "ADDRESS USER EXPIRY\n"
 * lines (EXPIRY in Unix seconds). Appends to out; -1 if out is full. */
int	grants_format(const struct grants *g, struct buf *out);
/* Parse that text into g (emptied first). Malformed lines are skipped and
 * counted; returns their number. User names are "-" or valid user names
 * (users_name_valid: the same check as on write). */
size_t	grants_parse(struct grants *g, const char *text, size_t len);
#endif
