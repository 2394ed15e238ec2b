/* conn_limits - the pure half of the connection layer (conn.h): which
 *               session limit a newcomer hits, which session to evict,
 *               and how long a session's clock may run.
 * Trusts: its arguments (snapshots the layer took of its connections).
 * Gives:  the decisions conn.c applies; unit tested in test_conn.c.
 * Never:  does I/O or reads a clock (the layer passes now). */
#include <string.h>
#include <time.h>

#include "conn.h"

void
conn_count(const struct conn_snapshot *v, size_t n, const struct netaddr *client,
    int kind, struct conn_count *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++) {
		r->total++;
		if (v[i].kind == kind && !v[i].local)
			r->kind++;
		if (netaddr_equal(&v[i].client, client))
			r->client++;
	}
}

enum conn_limit_hit
conn_limit_check(const struct conn_count *n, const struct conn_limits *l,
    int local, unsigned *count_r, unsigned *max_r)
{
	if (!local && n->client >= l->per_client) {
		*count_r = n->client;
		*max_r = l->per_client;
		return CONN_LIMIT_PER_CLIENT;
	}
	if (!local && l->kind_limited && n->kind >= l->kind) {
		*count_r = n->kind;
		*max_r = l->kind;
		return CONN_LIMIT_KIND;
	}
	if (n->total >= l->total) {
		*count_r = n->total;
		*max_r = l->total;
		return CONN_LIMIT_TOTAL;
	}
	return CONN_LIMIT_NONE;
}

long
conn_idlest(const struct conn_snapshot *v, size_t n)
{
	long best = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].evictable && (best == -1 || v[i].active < v[best].active))
			best = (long)i;
	return best;
}

uint64_t
conn_clock(unsigned idle, uint64_t started_ms, unsigned max_session_time,
    uint64_t now_ms, int waiting_for_us)
{
	uint64_t end = started_ms + (uint64_t)max_session_time * 1000;
	uint64_t left = end > now_ms ? end - now_ms : 0;

	if (left == 0)	/* over: now, or soon while we wait ourselves */
		left = waiting_for_us ? 1000 : 0;
	return left < (uint64_t)idle * 1000 ? left : (uint64_t)idle * 1000;
}
