/* slots - a table that hands out 64-bit ids for live objects (sessions),
 *         so that an answer arriving over IPC finds its session, or finds
 *         that it is gone: a reused slot gets a new generation.
 * Trusts: nothing about ids it is given (a stale or bogus id is NULL).
 * Never:  owns the objects. */
#ifndef POSTERN_SLOTS_H
#define POSTERN_SLOTS_H
#include <stddef.h>
#include <stdint.h>

struct slots {
	void		**v;
	uint32_t	*gen;
	size_t		 n;
};

/* Register p; returns its id (never 0). */
uint64_t slots_add(struct slots *t, void *p);
/* The object for id, or NULL if it was removed or never existed. */
void	*slots_get(const struct slots *t, uint64_t id);
void	 slots_remove(struct slots *t, uint64_t id);
#endif
