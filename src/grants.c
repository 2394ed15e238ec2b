/* grants - POP-before-SMTP relay grants; see grants.h.
 * A plain array: a host has at most a few hundred live grants, and the
 * auth process rewrites the whole file on every change anyway. A grant
 * is live while now < expires; at expires it is over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "grants.h"

const struct grant *
grants_lookup(const struct grants *g, const struct netaddr *addr, time_t now)
{
	size_t i;

	if (g == NULL || addr == NULL)
		return NULL;
	for (i = 0; i < g->n; i++)
		if (netaddr_equal(&g->v[i].addr, addr) && now < g->v[i].expires)
			return &g->v[i];
	return NULL;
}

int
grants_put(struct grants *g, const struct netaddr *addr, const char *user,
    time_t expires)
{
	struct grant *gr = NULL;
	size_t i;

	for (i = 0; i < g->n; i++)
		if (netaddr_equal(&g->v[i].addr, addr)) {
			gr = &g->v[i];
			break;
		}
	if (gr == NULL) {
		g->v = xreallocarray(g->v, g->n + 1, sizeof(*g->v));
		gr = &g->v[g->n++];
		memset(gr, 0, sizeof(*gr));
		gr->addr = *addr;
	}
	/* A longer name is cut: the user is only shown in the rule name. */
	(void)snprintf(gr->user, sizeof(gr->user), "%s", user ? user : "");
	gr->expires = expires;
	return 0;
}

int
grants_revoke(struct grants *g, const struct netaddr *addr)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (netaddr_equal(&g->v[i].addr, addr)) {
			memmove(&g->v[i], &g->v[i + 1],
			    (g->n - i - 1) * sizeof(*g->v));
			g->n--;
			return 1;
		}
	return 0;
}

void
grants_expire(struct grants *g, time_t now)
{
	size_t i, o = 0;

	for (i = 0; i < g->n; i++)
		if (now < g->v[i].expires)
			g->v[o++] = g->v[i];
	g->n = o;
}

void
grants_free(struct grants *g)
{
	if (g == NULL)
		return;
	free(g->v);
	g->v = NULL;
	g->n = 0;
}
