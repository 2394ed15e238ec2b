/* slots - ids for live sessions; see slots.h. */
#include <string.h>

#include "buf.h"
#include "slots.h"

uint64_t
slots_add(struct slots *t, void *p)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i] == NULL)
			break;
	if (i == t->n) {
		t->v = xreallocarray(t->v, t->n + 64, sizeof(*t->v));
		t->gen = xreallocarray(t->gen, t->n + 64, sizeof(*t->gen));
		memset(t->v + t->n, 0, 64 * sizeof(*t->v));
		memset(t->gen + t->n, 0, 64 * sizeof(*t->gen));
		t->n += 64;
	}
	t->v[i] = p;
	t->gen[i]++;
	return (uint64_t)t->gen[i] << 32 | i;
}

void *
slots_get(const struct slots *t, uint64_t id)
{
	uint32_t slot = (uint32_t)id, gen = (uint32_t)(id >> 32);

	if (slot >= t->n || t->v[slot] == NULL || t->gen[slot] != gen)
		return NULL;
	return t->v[slot];
}

void
slots_remove(struct slots *t, uint64_t id)
{
	if (slots_get(t, id) != NULL)
		t->v[(uint32_t)id] = NULL;
}
