/* dns_cache - answers kept per TTL; see dns_cache.h.
 *
 * A flat table searched linearly: at DNS_CACHE_ENTRIES entries the scan
 * costs less than one system call, and it needs no hash to be attacked.
 * An entry keeps the answer's fixed part and only the used part of its
 * text, as bytes; a hit copies them back into a whole struct dns_answer. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns_cache.h"

struct dns_cache_entry {
	enum dns_qtype	type;
	char		name[DNS_NAME_MAX + 1];	/* lower case, no final dot */
	int64_t		expires;
	unsigned char	*blob;		/* the answer up to its used text */
	size_t		bloblen;
};

struct dns_cache {
	size_t			max, n;
	struct dns_cache_entry	*e;
};

struct dns_cache *
dns_cache_new(size_t max_entries)
{
	struct dns_cache *c = xcalloc(1, sizeof(*c));

	c->max = max_entries;
	if (max_entries > 0)
		c->e = xcalloc(max_entries, sizeof(*c->e));
	return c;
}

void
dns_cache_free(struct dns_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->e[i].blob);
	free(c->e);
	free(c);
}

size_t
dns_cache_count(const struct dns_cache *c)
{
	return c->n;
}

uint32_t
dns_cache_ttl(int st, uint32_t ttl)
{
	switch (st) {
	case OUTCOME_OK:
		return ttl < DNS_CACHE_TTL_MAX ? ttl : DNS_CACHE_TTL_MAX;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		return ttl < DNS_CACHE_NEG_TTL_MAX ? ttl :
		    DNS_CACHE_NEG_TTL_MAX;
	case OUTCOME_TEMP:
	case OUTCOME_PERM:
		break;
	}
	return 0;
}

/* The key's name: lower case, without the final dot. -1 when too long. */
static int
key_name(const char *name, char *out)
{
	size_t i, l = strlen(name);

	if (l > 0 && name[l - 1] == '.')
		l--;
	if (l > DNS_NAME_MAX)
		return -1;
	for (i = 0; i < l; i++) {
		unsigned char ch = (unsigned char)name[i];

		out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}
	out[l] = '\0';
	return 0;
}

static struct dns_cache_entry *
find(struct dns_cache *c, enum dns_qtype type, const char *key)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].type == type && strcmp(c->e[i].name, key) == 0)
			return &c->e[i];
	return NULL;
}

/* The slot for a new entry: a free one, else an expired one, else the
 * one that expires first. */
static struct dns_cache_entry *
victim(struct dns_cache *c, int64_t now)
{
	struct dns_cache_entry *v;
	size_t i;

	if (c->n < c->max)
		return &c->e[c->n++];
	v = &c->e[0];
	for (i = 0; i < c->n; i++) {
		if (c->e[i].expires <= now)
			return &c->e[i];
		if (c->e[i].expires < v->expires)
			v = &c->e[i];
	}
	return v;
}

void
dns_cache_put(struct dns_cache *c, const char *name,
    const struct dns_answer *a, int64_t now)
{
	char key[DNS_NAME_MAX + 1];
	struct dns_cache_entry *e;
	uint32_t ttl = dns_cache_ttl(a->status, a->ttl);
	size_t used;

	if (ttl == 0 || c->max == 0 || key_name(name, key) == -1 ||
	    a->textlen > sizeof(a->text))
		return;
	if ((e = find(c, a->type, key)) == NULL)
		e = victim(c, now);
	free(e->blob);
	used = offsetof(struct dns_answer, text) + a->textlen;
	e->blob = xcalloc(1, used);
	memcpy(e->blob, a, used);
	e->bloblen = used;
	e->type = a->type;
	memcpy(e->name, key, sizeof(key));
	e->expires = now + (int64_t)ttl;
}

int
dns_cache_get(struct dns_cache *c, enum dns_qtype type, const char *name,
    int64_t now, struct dns_answer *out)
{
	char key[DNS_NAME_MAX + 1];
	struct dns_cache_entry *e;

	if (key_name(name, key) == -1 || (e = find(c, type, key)) == NULL ||
	    e->expires <= now)
		return 0;
	memcpy(out, e->blob, e->bloblen);
	out->ttl = (uint32_t)(e->expires - now);
	return 1;
}
