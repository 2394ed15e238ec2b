/* throttle - the login failure policy of the auth process: who may have
 *            a credential check run now, and when its answer may go out.
 * Trusts: its caller (auth); addresses come from accepted sockets, user
 *         names are peer-supplied and only compared and copied (bounded).
 * Gives:  per-address penalties (IPv4 address, IPv6 /64) that survive
 *         disconnects, one pending check per address, a per-user cap on
 *         failed checks per minute, all with an explicit clock (tests
 *         inject time).
 * Never:  does I/O, logs, or looks at a password.
 *
 * Policy (compiled-in; config keys may come later):
 *   - a failure from an address starts a penalty of 1, 2, 4, 8, then
 *     15 s (THROTTLE_DELAY_MAX); the failed answer is held for that long
 *     and no new check from the address runs before it is over: it is
 *     refused with a temporary error, without checking. A guesser who
 *     hangs up and reconnects gains nothing.
 *   - at most one check per address is running or waiting for its
 *     answer (THROTTLE_INFLIGHT_CLEAN for a clean address, 1 with
 *     failures); auth lets a clean address's further checks wait their
 *     turn (a NAT'd office polling at once) and refuses the others. A check pending for
 *     THROTTLE_PENDING_MAX seconds is taken as lost, so that a bug cannot
 *     lock an address out for good; with every slot pending, new
 *     addresses are refused rather than a pending one forgotten.
 *   - a correct password from a penalised address is answered when a
 *     wrong one would have been (the next step of the curve), so timing
 *     tells nothing; from an address without failures it is answered at
 *     once, whatever other addresses did.
 *   - THROTTLE_USER_CAP failed checks per user per THROTTLE_USER_WINDOW
 *     seconds: beyond that, checks for the user from addresses that have
 *     failed are refused until the window ends (a distributed guesser);
 *     a clean address is still checked, so the user is never locked out.
 *   - an address (or user) quiet for THROTTLE_FORGET seconds is forgotten;
 *     at most THROTTLE_SLOTS of each are remembered (the quietest is
 *     reused first). */
#ifndef POSTERN_THROTTLE_H
#define POSTERN_THROTTLE_H
#include <stddef.h>
#include <time.h>
#include "netaddr.h"

#define THROTTLE_DELAY_MAX	15	/* seconds: cap of the failure delay */
#define THROTTLE_FORGET		900	/* seconds without failure: forget */
#define THROTTLE_SLOTS		4096	/* addresses (and users) remembered */
#define THROTTLE_USER_CAP	20	/* failed checks per user per window */
#define THROTTLE_USER_WINDOW	60	/* seconds */
#define THROTTLE_USER_MAX	64	/* longest user name kept (bytes) */
#define THROTTLE_PENDING_MAX	120	/* seconds a check may stay pending */
#define THROTTLE_INFLIGHT_CLEAN	1	/* checks in flight, clean address
					 * (auth parks the others in turn) */

struct throttle_addr {
	struct netaddr	key;		/* IPv6 masked to its /64 */
	unsigned	failures;	/* consecutive, reset by a success */
	time_t		last;		/* last failure (or check) */
	time_t		until;		/* no new check before this */
	unsigned	pending;	/* checks (or answers) in flight */
	time_t		since;		/* when the latest was admitted */
	unsigned	refused;	/* refusals since the last admitted check */
};

struct throttle_user {
	char		name[THROTTLE_USER_MAX + 1];
	unsigned	failures;	/* in the current window */
	time_t		window;		/* start of the current window */
};

struct throttle {
	struct throttle_addr	*addrs;
	size_t			 naddrs;
	struct throttle_user	*users;
	size_t			 nusers;
};

enum throttle_verdict {
	THROTTLE_RUN,		/* check now (the address is now pending) */
	THROTTLE_BUSY,		/* a check from this address is in flight */
	THROTTLE_PENALTY,	/* the address's failure delay is running */
	THROTTLE_USER_LIMIT	/* too many failures for this user lately */
};

/* The delay after the count-th consecutive failure: 0, 1, 2, 4, 8, 15... */
unsigned throttle_delay(unsigned count);
/* The key an address is counted under (IPv6: its /64). */
struct netaddr throttle_key(const struct netaddr *addr);
/* May a check for user from addr run at now? On THROTTLE_RUN the address
 * is marked pending until throttle_sent(). Otherwise *retry (if not NULL)
 * is when asking again makes sense, and *refused (if not NULL) counts the
 * refusals since the address's last check (1, 2, 3...): the caller logs
 * the 1st, 2nd, 4th, 8th... so that a flood of refusals cannot flood the
 * log. */
enum throttle_verdict throttle_admit(struct throttle *t,
	    const struct netaddr *addr, const char *user, time_t now,
	    time_t *retry, unsigned *refused);
/* 1 if addr's failure delay is running (nothing is marked): a SCRAM
 * exchange is not started from there. */
int	throttle_penalised(struct throttle *t, const struct netaddr *addr,
	    time_t now);
/* The check admitted for addr ended: ok = correct credentials. Returns
 * when its answer may be sent (>= now). Counts the failure (address and
 * user) or clears the address's failures. */
time_t	throttle_result(struct throttle *t, const struct netaddr *addr,
	    const char *user, int ok, time_t now);
/* The answer to one of addr's pending checks was sent (or dropped). */
void	throttle_sent(struct throttle *t, const struct netaddr *addr);
/* Failures counted for addr / user now (0 if unknown or forgotten). */
unsigned throttle_addr_failures(const struct throttle *t,
	    const struct netaddr *addr, time_t now);
unsigned throttle_user_failures(const struct throttle *t, const char *user,
	    time_t now);
void	throttle_free(struct throttle *t);
#endif
