/* greylist - the decisions of greylisting: a (client network, sender,
 *            recipient) triplet is told to try again later on first
 *            sight, accepted when it comes back after the delay and
 *            within the window, and from then on remembered (every later
 *            message of the triplet passes) until it has not been seen
 *            for the expiry time.
 * Trusts: nothing in the state file it parses (bad lines are skipped).
 * Gives:  the verdict for a triplet at time `now` (given: no clock here);
 *         at most GREYLIST_ENTRIES_MAX entries (when full, the one seen
 *         longest ago goes); the state as text ("KEY FIRST PASSED LAST"
 *         lines, hexadecimal key, decimal times) and back, expired
 *         entries dropped on both ways.
 * Never:  does I/O: smtpd keeps the text in spool/greylist/. */
#ifndef POSTERN_GREYLIST_H
#define POSTERN_GREYLIST_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"
#include "netaddr.h"

#define GREYLIST_ENTRIES_MAX	100000

struct greylist_entry {
	uint64_t	key;		/* greylist_key() of the triplet */
	int64_t		first;		/* first seen (or seen again after the window) */
	int64_t		passed;		/* when it was let through first; 0: not yet */
	int64_t		last;		/* last seen */
};

struct greylist {
	struct greylist_entry *v;
	size_t		n, cap;
	unsigned	delay;		/* seconds a retry must wait */
	unsigned	window;		/* seconds after first sight it may come */
	unsigned	expire;		/* seconds a passed triplet is kept unseen */
	int		dirty;		/* changed since greylist_format() */
};

enum greylist_verdict {
	GREYLIST_PASS = 0,	/* passed before, or the retry now */
	GREYLIST_NEW,		/* first sight (or after the window): 451 */
	GREYLIST_EARLY,		/* retried before the delay: 451 */
};

void	greylist_init(struct greylist *g, unsigned delay, unsigned window,
	    unsigned expire);
void	greylist_free(struct greylist *g);
/* The triplet's key: the client's /24 (IPv4) or /64 (IPv6), the sender
 * ("" for <>) and the recipient, case-insensitively. */
uint64_t greylist_key(const struct netaddr *client, const char *sender,
	    const char *rcpt);
enum greylist_verdict greylist_check(struct greylist *g, uint64_t key,
	    int64_t now);
/* Drop what has expired at now. */
void	greylist_expire(struct greylist *g, int64_t now);
/* Replace the entries with the ones in text (expired ones dropped). */
void	greylist_parse(struct greylist *g, const char *text, size_t len,
	    int64_t now);
/* The entries as text into out (expired ones dropped); clears dirty.
 * -1 when out's cap is too small. */
int	greylist_format(struct greylist *g, struct buf *out, int64_t now);
const char *greylist_verdict_name(enum greylist_verdict v);
#endif
