/* grants - POP-before-SMTP relay grants; see grants.h.
 * A plain array: a host has at most a few hundred live grants, and the
 * auth process rewrites the whole file on every change anyway. A grant
 * is live while now < expires; at expires it is over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "decimal.h"
#include "grants.h"
#include "users.h"

const struct grant *
grants_lookup(const struct grants *g, const struct netaddr *addr, time_t now)
{
	size_t i;

	if (g == NULL || addr == NULL)
		return NULL;
	for (i = 0; i < g->n; i++)
		if (netaddr_equal(&g->v[i].addr, addr) && now < g->v[i].expires &&
		    g->v[i].expires - now <= GRANTS_TTL_MAX)
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
		if (now < g->v[i].expires &&
		    g->v[i].expires - now <= GRANTS_TTL_MAX)
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

int
grants_format(const struct grants *g, struct buf *out)
{
	char ip[64];
	size_t i;

	for (i = 0; i < g->n; i++)
		if (buf_printf(out, "%s %s %lld\n", netaddr_format(&g->v[i].addr,
		    ip, sizeof(ip)), g->v[i].user[0] ? g->v[i].user : "-",
		    (long long)g->v[i].expires) == -1)
			return -1;
	return 0;
}

/* One "ADDRESS USER EXPIRY" line (no newline); 0 or -1. */
static int
grants_parse_line(struct grants *g, const char *l, size_t n)
{
	char line[160], *user, *exp;
	struct netaddr a;
	uint64_t t;
	size_t i;

	if (n == 0 || n >= sizeof(line))
		return -1;
	memcpy(line, l, n);
	line[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x21 && line[i] != ' ')
			return -1;
	if ((user = strchr(line, ' ')) == NULL)
		return -1;
	*user++ = '\0';
	if ((exp = strchr(user, ' ')) == NULL)
		return -1;
	*exp++ = '\0';
	if (netaddr_parse(line, &a) == -1 || *user == '\0' ||
	    strlen(user) >= sizeof(g->v[0].user) || strchr(exp, ' ') != NULL)
		return -1;
	/* The same rule as for the names auth writes: a forged line with a
	 * name no user could have is refused, not half-believed. */
	if (strcmp(user, "-") != 0 && !users_name_valid(user))
		return -1;
	if (parse_decimal(exp, strlen(exp), INT64_MAX, &t) == -1 || t == 0)
		return -1;
	return grants_put(g, &a, strcmp(user, "-") == 0 ? "" : user, (time_t)t);
}

size_t
grants_parse(struct grants *g, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	size_t bad = 0, n;

	g->n = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && grants_parse_line(g, p, n) == -1)
			bad++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return bad;
}
