/* greylist - greylisting decisions and their state as text; see greylist.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "greylist.h"

void
greylist_init(struct greylist *g, unsigned delay, unsigned window,
    unsigned expire)
{
	memset(g, 0, sizeof(*g));
	g->delay = delay;
	g->window = window;
	g->expire = expire;
}

void
greylist_free(struct greylist *g)
{
	free(g->v);
	g->v = NULL;
	g->n = g->cap = 0;
}

/* FNV-1a, 64 bits: a key, not a secret (a collision lets one triplet
 * pass as another, which costs a spammer nothing he could aim at). */
static uint64_t
fnv(uint64_t h, const void *p, size_t n, int fold)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = s[i];

		if (fold && ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		h ^= ch;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
greylist_key(const struct netaddr *client, const char *sender,
    const char *rcpt)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	uint8_t net[9];
	uint64_t h = 0xcbf29ce484222325ULL;

	memset(net, 0, sizeof(net));
	if (client->family == AF_INET6 &&
	    memcmp(client->a, mapped, sizeof(mapped)) != 0) {
		net[0] = 6;
		memcpy(net + 1, client->a, 8);		/* the /64 */
	} else {
		const uint8_t *v4 = client->family == AF_INET6 ? client->a + 12 :
		    client->a;

		net[0] = 4;
		memcpy(net + 1, v4, 3);			/* the /24 */
	}
	h = fnv(h, net, sizeof(net), 0);
	h = fnv(h, sender, strlen(sender) + 1, 1);
	return fnv(h, rcpt, strlen(rcpt) + 1, 1);
}

static int
expired(const struct greylist *g, const struct greylist_entry *e, int64_t now)
{
	if (e->passed != 0)
		return now - e->last > (int64_t)g->expire;
	return now - e->first > (int64_t)g->window;
}

void
greylist_expire(struct greylist *g, int64_t now)
{
	size_t i, o = 0;

	for (i = 0; i < g->n; i++)
		if (!expired(g, &g->v[i], now))
			g->v[o++] = g->v[i];
	if (o != g->n)
		g->dirty = 1;
	g->n = o;
}

/* Room for one more: the expired go first, then the one seen longest ago. */
static void
make_room(struct greylist *g, int64_t now)
{
	size_t i, oldest = 0;

	if (g->n >= GREYLIST_ENTRIES_MAX)
		greylist_expire(g, now);
	if (g->n >= GREYLIST_ENTRIES_MAX) {
		for (i = 1; i < g->n; i++)
			if (g->v[i].last < g->v[oldest].last)
				oldest = i;
		g->v[oldest] = g->v[--g->n];
	}
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = xreallocarray(g->v, g->cap, sizeof(*g->v));
	}
}

static void
add(struct greylist *g, uint64_t key, int64_t first, int64_t passed,
    int64_t last)
{
	struct greylist_entry *e;

	make_room(g, last);
	e = &g->v[g->n++];
	e->key = key;
	e->first = first;
	e->passed = passed;
	e->last = last;
}

enum greylist_verdict
greylist_check(struct greylist *g, uint64_t key, int64_t now)
{
	struct greylist_entry *e = NULL;
	size_t i;

	for (i = 0; i < g->n; i++)
		if (g->v[i].key == key) {
			e = &g->v[i];
			break;
		}
	g->dirty = 1;
	if (e == NULL) {
		add(g, key, now, 0, now);
		return GREYLIST_NEW;
	}
	if (expired(g, e, now)) {
		/* Gone quiet for too long, or the retry never came in time:
		 * it starts over. */
		e->first = e->last = now;
		e->passed = 0;
		return GREYLIST_NEW;
	}
	e->last = now;
	if (e->passed != 0)
		return GREYLIST_PASS;
	if (now - e->first < (int64_t)g->delay)
		return GREYLIST_EARLY;
	e->passed = now;
	return GREYLIST_PASS;
}

void
greylist_parse(struct greylist *g, const char *text, size_t len, int64_t now)
{
	const char *p = text, *end = text + len, *nl;
	char line[128];
	uint64_t key;
	int64_t first, passed, last;
	size_t ll;

	g->n = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (ll < sizeof(line)) {
			memcpy(line, p, ll);
			line[ll] = '\0';
			if (sscanf(line, "%16" SCNx64 " %" SCNd64 " %" SCNd64
			    " %" SCNd64, &key, &first, &passed, &last) == 4 &&
			    first > 0 && last >= first && passed >= 0) {
				struct greylist_entry e = { key, first, passed,
				    last };

				if (!expired(g, &e, now))
					add(g, key, first, passed, last);
			}
		}
		p += ll + (nl != NULL);
	}
	g->dirty = 0;
}

int
greylist_format(struct greylist *g, struct buf *out, int64_t now)
{
	size_t i;

	greylist_expire(g, now);
	for (i = 0; i < g->n; i++)
		if (buf_printf(out, "%016" PRIx64 " %" PRId64 " %" PRId64 " %"
		    PRId64 "\n", g->v[i].key, g->v[i].first, g->v[i].passed,
		    g->v[i].last) == -1)
			return -1;
	g->dirty = 0;
	return 0;
}

const char *
greylist_verdict_name(enum greylist_verdict v)
{
	switch (v) {
	case GREYLIST_PASS:
		return "pass";
	case GREYLIST_NEW:
		return "new";
	default:
		return "early";
	}
}
