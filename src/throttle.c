/* throttle - the login failure policy (see throttle.h): per-address
 *            penalties and pending checks, per-user failure caps.
 * Trusts: its caller; user names are copied bounded and compared only.
 * Gives:  verdicts and answer times from an injected clock.
 * Never:  does I/O or keeps a password; the tables never grow past
 *         THROTTLE_SLOTS entries each. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "throttle.h"

unsigned
throttle_delay(unsigned count)
{
	if (count == 0)
		return 0;
	if (count > 4)
		return THROTTLE_DELAY_MAX;
	return 1u << (count - 1);
}

struct netaddr
throttle_key(const struct netaddr *addr)
{
	struct netaddr k = *addr;

	/* One IPv6 customer gets a /64: counting single addresses would give
	 * a guesser 2^64 fresh ones. */
	if (k.family == AF_INET6)
		memset(k.a + 8, 0, 8);
	else if (k.family == AF_INET)
		memset(k.a + 4, 0, 12);
	return k;
}

/* Quiet for long enough: the address starts clean again. */
static void
addr_age(struct throttle_addr *e, time_t now)
{
	if (!e->pending && e->failures > 0 && now - e->last > THROTTLE_FORGET)
		e->failures = 0;
}

static struct throttle_addr *
addr_find(const struct throttle *t, const struct netaddr *key)
{
	size_t i;

	for (i = 0; i < t->naddrs; i++)
		if (netaddr_equal(&t->addrs[i].key, key))
			return &t->addrs[i];
	return NULL;
}

/* The entry for key, made if need be; NULL when every slot has a check
 * in flight (forgetting one would let its address start afresh). */
static struct throttle_addr *
addr_get(struct throttle *t, const struct netaddr *key, time_t now)
{
	struct throttle_addr *e = addr_find(t, key);
	size_t i;

	if (e != NULL) {
		addr_age(e, now);
		return e;
	}
	if (t->naddrs < THROTTLE_SLOTS) {
		t->addrs = xreallocarray(t->addrs, t->naddrs + 1,
		    sizeof(*t->addrs));
		e = &t->addrs[t->naddrs++];
	} else {
		/* Full: reuse the address quiet for longest with nothing in
		 * flight. */
		for (i = 0; i < t->naddrs; i++)
			if (!t->addrs[i].pending && (e == NULL ||
			    t->addrs[i].last < e->last))
				e = &t->addrs[i];
		if (e == NULL)
			return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->key = *key;
	e->last = now;
	return e;
}

static struct throttle_user *
user_find(const struct throttle *t, const char *user)
{
	size_t i;

	for (i = 0; i < t->nusers; i++)
		if (strncmp(t->users[i].name, user, THROTTLE_USER_MAX) == 0)
			return &t->users[i];
	return NULL;
}

/* Failures of u counted in the window that contains now. */
static unsigned
user_count(const struct throttle_user *u, time_t now)
{
	if (u == NULL || now - u->window >= THROTTLE_USER_WINDOW)
		return 0;
	return u->failures;
}

static void
user_failed(struct throttle *t, const char *user, time_t now)
{
	struct throttle_user *u = user_find(t, user);
	size_t i, victim = 0;

	if (u == NULL) {
		if (t->nusers < THROTTLE_SLOTS) {
			t->users = xreallocarray(t->users, t->nusers + 1,
			    sizeof(*t->users));
			u = &t->users[t->nusers++];
		} else {
			for (i = 1; i < t->nusers; i++)
				if (t->users[i].window < t->users[victim].window)
					victim = i;
			u = &t->users[victim];
		}
		memset(u, 0, sizeof(*u));
		strncpy(u->name, user, THROTTLE_USER_MAX);
		u->window = now;
	}
	if (now - u->window >= THROTTLE_USER_WINDOW) {
		u->window = now;
		u->failures = 0;
	}
	u->failures++;
}

enum throttle_verdict
throttle_admit(struct throttle *t, const struct netaddr *addr,
    const char *user, time_t now, time_t *retry, unsigned *refused)
{
	struct netaddr key = throttle_key(addr);
	struct throttle_addr *e = addr_get(t, &key, now);
	const struct throttle_user *u = user_find(t, user);
	unsigned limit;
	enum throttle_verdict v = THROTTLE_RUN;
	time_t dummy;
	unsigned dummy_n;

	if (retry == NULL)
		retry = &dummy;
	if (refused == NULL)
		refused = &dummy_n;
	*retry = now;
	*refused = 1;
	if (e == NULL)
		return THROTTLE_BUSY;
	if (e->pending && now - e->since > THROTTLE_PENDING_MAX)
		e->pending = 0;		/* its answers were lost: not forever */
	limit = e->failures > 0 ? 1 : THROTTLE_INFLIGHT_CLEAN;
	if (e->pending >= limit) {
		v = THROTTLE_BUSY;
	} else if (now < e->until) {
		*retry = e->until;
		v = THROTTLE_PENALTY;
	} else if (e->failures > 0 && user_count(u, now) >= THROTTLE_USER_CAP) {
		/* The per-user cap holds back only addresses that have
		 * failed: a user at a clean address is checked however many
		 * guessers try. */
		*retry = u->window + THROTTLE_USER_WINDOW;
		v = THROTTLE_USER_LIMIT;
	}
	if (v != THROTTLE_RUN) {
		if (e->refused < ~0u)
			e->refused++;
		*refused = e->refused;
		return v;
	}
	*refused = 0;
	e->refused = 0;
	e->pending++;
	e->since = now;
	return THROTTLE_RUN;
}

int
throttle_penalised(struct throttle *t, const struct netaddr *addr, time_t now)
{
	struct netaddr key = throttle_key(addr);
	struct throttle_addr *e = addr_find(t, &key);

	if (e == NULL)
		return 0;
	addr_age(e, now);
	return e->failures > 0 && now < e->until;
}

time_t
throttle_result(struct throttle *t, const struct netaddr *addr,
    const char *user, int ok, time_t now)
{
	struct netaddr key = throttle_key(addr);
	struct throttle_addr *e = addr_find(t, &key);
	time_t at;

	if (e == NULL)		/* not admitted: nothing to count against */
		return now;
	if (ok) {
		/* A penalised address waits as long for a right answer as it
		 * would have for a wrong one: the delay says nothing. */
		at = now + (e->failures > 0 ?
		    (time_t)throttle_delay(e->failures + 1) : 0);
		e->failures = 0;
	} else {
		if (e->failures < 1000)
			e->failures++;
		at = now + (time_t)throttle_delay(e->failures);
		e->last = now;
		user_failed(t, user, now);
	}
	if (at > e->until)
		e->until = at;
	return at;		/* still pending until the answer is out */
}

void
throttle_sent(struct throttle *t, const struct netaddr *addr)
{
	struct netaddr key = throttle_key(addr);
	struct throttle_addr *e = addr_find(t, &key);

	if (e != NULL && e->pending > 0)
		e->pending--;
}

unsigned
throttle_addr_failures(const struct throttle *t, const struct netaddr *addr,
    time_t now)
{
	struct netaddr key = throttle_key(addr);
	const struct throttle_addr *e = addr_find(t, &key);

	if (e == NULL || (!e->pending && now - e->last > THROTTLE_FORGET))
		return 0;
	return e->failures;
}

unsigned
throttle_user_failures(const struct throttle *t, const char *user, time_t now)
{
	return user_count(user_find(t, user), now);
}

void
throttle_free(struct throttle *t)
{
	free(t->addrs);
	free(t->users);
	memset(t, 0, sizeof(*t));
}
