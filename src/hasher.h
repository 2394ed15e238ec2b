/* hasher - password hashing off the auth process's event loop.
 * yescrypt costs tens of milliseconds by design; run inline, one password
 * guesser would delay every other session's RCPT lookups and logins. The
 * auth process forks a few workers that only ever see (hash, password)
 * pairs and answer match / no match.
 * Trusts: its parent (the auth process); workers run with the auth
 *         process's dropped privileges and hold no tables.
 * Gives:  asynchronous checks: hasher_check() returns at once, the
 *         callback fires from the event loop when a worker answers.
 * Limits: HASHER_QUEUE_MAX requests waiting; beyond that a check fails
 *         at once as "temporary" (callback with -1).
 * Never:  logs or keeps a password longer than one check. */
#ifndef POSTERN_HASHER_H
#define POSTERN_HASHER_H
#include <stddef.h>

#define HASHER_WORKERS		2
#define HASHER_QUEUE_MAX	1024

struct event_base;

/* result: 1 match, 0 no match, -1 temporary failure (no worker). */
typedef void (*hasher_cb)(int result, void *arg);

/* Fork the workers (call after dropping privileges). 0 or -1. */
int	hasher_start(struct event_base *base, int nworkers);
/* Check pw against hash (a crypt(3) string; NULL: a dummy hash, so that
 * "no such user" costs the same time as a wrong password). */
void	hasher_check(const char *hash, const char *pw, hasher_cb cb, void *arg);
#endif
