/* aliases - parse and expand the aliases table; see aliases.h. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aliases.h"
#include "relay.h"

struct alias {
	char	*name;
	char	**targets;
	size_t	ntargets;
};

struct aliases {
	struct alias *v;
	size_t	n;
};

static int
name_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > ALIASES_NAME_MAX || !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

/* A target: a local name or local@domain, printable, no specials. */
static int
target_valid(const char *s, size_t n)
{
	const char *at;
	size_t i;

	if (n == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' ||
		    c == '|' || c == '"' || c == '\\' || c == ',' || c == ':' ||
		    c == '/' || c == '(' || c == ')' || c == ';')
			return 0;
	}
	at = memchr(s, '@', n);
	if (at == NULL) {
		/* A local name, perhaps with a delimiter part ("dave+x"). */
		if (n > ALIASES_NAME_MAX || !isalnum((unsigned char)s[0]))
			return 0;
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)s[i]) && strchr("._-+=",
			    s[i]) == NULL)
				return 0;
		return 1;
	}
	if (at == s || at == s + n - 1 || memchr(at + 1, '@',
	    n - (size_t)(at + 1 - s)) != NULL)
		return 0;
	return (size_t)(at - s) <= 64;
}

static int
alias_cmp(const void *x, const void *y)
{
	return strcmp(((const struct alias *)x)->name,
	    ((const struct alias *)y)->name);
}

static void
alias_clear(struct alias *al)
{
	size_t i;

	for (i = 0; i < al->ntargets; i++)
		free(al->targets[i]);
	free(al->targets);
	free(al->name);
}

/* One logical line (continuations joined, comments gone). */
static void
parse_entry(struct aliases *a, const char *fname, unsigned lineno, char *l,
    struct errlist *errs)
{
	struct alias al;
	char *colon, *p, *t, *e;
	size_t i, n;

	memset(&al, 0, sizeof(al));
	colon = strchr(l, ':');
	if (colon == NULL) {
		errlist_add(errs, "%s:%u: missing ':' (expected name: target, "
		    "target)", fname, lineno);
		return;
	}
	for (e = colon; e > l && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	n = (size_t)(e - l);
	if (!name_valid(l, n)) {
		errlist_add(errs, "%s:%u: bad alias name", fname, lineno);
		return;
	}
	al.name = xstrndup(l, n);
	for (i = 0; i < n; i++)
		al.name[i] = (char)tolower((unsigned char)al.name[i]);
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, al.name) == 0) {
			errlist_add(errs, "%s:%u: alias '%s' defined twice",
			    fname, lineno, al.name);
			goto bad;
		}
	p = colon + 1;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		t = p;
		while (*p != '\0' && *p != ',')
			p++;
		for (e = p; e > t && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		n = (size_t)(e - t);
		if (n == 0 || !target_valid(t, n)) {
			errlist_add(errs, "%s:%u: alias '%s': %s", fname,
			    lineno, al.name, n == 0 ? "empty target" :
			    "bad target (a name or user@domain; no pipes, "
			    "files or :include:)");
			goto bad;
		}
		if (al.ntargets >= ALIASES_TARGETS_MAX) {
			errlist_add(errs, "%s:%u: alias '%s': too many targets",
			    fname, lineno, al.name);
			goto bad;
		}
		al.targets = xreallocarray(al.targets, al.ntargets + 1,
		    sizeof(char *));
		al.targets[al.ntargets++] = xstrndup(t, n);
		if (*p == '\0')
			break;
		p++;
	}
	a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
	a->v[a->n++] = al;
	return;
bad:
	alias_clear(&al);
}

struct aliases *
aliases_parse(const char *fname, const char *text, size_t len,
    struct errlist *errs)
{
	struct aliases *a = xcalloc(1, sizeof(*a));
	struct buf cur;
	const char *p = text, *end = text + len, *nl;
	unsigned lineno = 0, entry_line = 0;
	size_t ll;

	buf_init(&cur, 65536);
	if (len > ALIASES_FILE_MAX) {
		errlist_add(errs, "%s: larger than %d bytes", fname,
		    ALIASES_FILE_MAX);
		p = end;
	}
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (memchr(p, '\0', ll) != NULL || memchr(p, '\r', ll) != NULL) {
			errlist_add(errs, "%s:%u: NUL or CR in line", fname,
			    lineno);
		} else if (ll > 0 && p[0] == '#') {
			;
		} else if (ll > 0 && (p[0] == ' ' || p[0] == '\t')) {
			size_t k = 0;

			while (k < ll && (p[k] == ' ' || p[k] == '\t'))
				k++;
			if (k == ll)
				;	/* blank */
			else if (cur.len == 0)
				errlist_add(errs, "%s:%u: continuation line "
				    "without an alias", fname, lineno);
			else if (buf_appendc(&cur, ' ') == -1 ||
			    buf_append(&cur, p, ll) == -1)
				errlist_add(errs, "%s:%u: entry too long",
				    fname, lineno);
		} else {
			if (cur.len > 0)
				parse_entry(a, fname, entry_line, cur.data,
				    errs);
			buf_reset(&cur);
			entry_line = lineno;
			if (ll > 0 && buf_append(&cur, p, ll) == -1)
				errlist_add(errs, "%s:%u: entry too long",
				    fname, lineno);
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (cur.len > 0)
		parse_entry(a, fname, entry_line, cur.data, errs);
	buf_free(&cur);
	if (a->n > 1)
		qsort(a->v, a->n, sizeof(*a->v), alias_cmp);
	return a;
}

void
aliases_free(struct aliases *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		alias_clear(&a->v[i]);
	free(a->v);
	free(a);
}

size_t
aliases_count(const struct aliases *a)
{
	return a ? a->n : 0;
}

static const struct alias *
find(const struct aliases *a, const char *name)
{
	struct alias key;

	if (a == NULL || a->n == 0)
		return NULL;
	key.name = (char *)(uintptr_t)name;
	return bsearch(&key, a->v, a->n, sizeof(*a->v), alias_cmp);
}

int
aliases_has(const struct aliases *a, const char *name)
{
	return find(a, name) != NULL;
}

struct expansion {
	const struct aliases *a;
	struct relay_policy domains;	/* local_domains only */
	struct relay_mailbox_rule rule;
	const char	*domain;
	const char	*path[ALIASES_DEPTH_MAX + 1];
	size_t		depth;
	struct aliases_target *out;
	size_t		n;
};

static int
add_target(struct expansion *x, int local, const char *mailbox,
    const char *addr)
{
	struct aliases_target t;
	size_t i;

	memset(&t, 0, sizeof(t));
	t.local = local;
	if (local) {
		if (xsnprintf(t.mailbox, sizeof(t.mailbox), "%s", mailbox) == -1 ||
		    xsnprintf(t.addr, sizeof(t.addr), "%s@%s", mailbox,
		    x->domain) == -1)
			return ALIASES_TOO_BIG;
	} else if (xsnprintf(t.addr, sizeof(t.addr), "%s", addr) == -1)
		return ALIASES_TOO_BIG;
	for (i = 0; i < x->n; i++) {
		if (local && x->out[i].local &&
		    strcmp(x->out[i].mailbox, t.mailbox) == 0)
			return ALIASES_OK;
		if (!local && !x->out[i].local &&
		    strcasecmp(x->out[i].addr, t.addr) == 0)
			return ALIASES_OK;
	}
	if (x->n >= ALIASES_TARGETS_MAX)
		return ALIASES_TOO_BIG;
	x->out = xreallocarray(x->out, x->n + 1, sizeof(*x->out));
	x->out[x->n++] = t;
	return ALIASES_OK;
}

static enum aliases_status
expand(struct expansion *x, const struct alias *al)
{
	char name[ALIASES_NAME_MAX + 1];
	const struct alias *sub;
	const char *t, *at;
	enum aliases_status st;
	size_t i, j;

	if (x->depth >= ALIASES_DEPTH_MAX)
		return ALIASES_TOO_BIG;
	x->path[x->depth++] = al->name;
	for (i = 0; i < al->ntargets; i++) {
		t = al->targets[i];
		at = strchr(t, '@');
		if (at != NULL && !relay_domain_is_local(&x->domains, at + 1)) {
			if ((st = add_target(x, 0, NULL, t)) != ALIASES_OK)
				return st;
			continue;
		}
		/* The mailbox rule, without its postmaster case: a target
		 * "postmaster" is the alias or user of that name. A name that
		 * is not a user name stays a target (delivery says so). */
		if (relay_local_mailbox(&x->rule, t, at ? (size_t)(at - t) :
		    strlen(t), 0, name, sizeof(name)) == RELAY_MAILBOX_NONE)
			return ALIASES_TOO_BIG;
		if (strcmp(name, al->name) == 0 || (sub = find(x->a, name)) == NULL) {
			/* Its own mailbox, or a plain user. */
			if ((st = add_target(x, 1, name, NULL)) != ALIASES_OK)
				return st;
			continue;
		}
		for (j = 0; j < x->depth; j++)
			if (strcmp(x->path[j], name) == 0)
				return ALIASES_LOOP;
		if ((st = expand(x, sub)) != ALIASES_OK)
			return st;
	}
	x->depth--;
	return ALIASES_OK;
}

enum aliases_status
aliases_expand(const struct aliases *a, const char *name,
    char **const local_domains, size_t n_local_domains, char delim,
    const char *domain, struct aliases_target **out_r, size_t *n_r)
{
	struct expansion x;
	const struct alias *al;
	enum aliases_status st;

	*out_r = NULL;
	*n_r = 0;
	if ((al = find(a, name)) == NULL)
		return ALIASES_NOT_ALIAS;
	memset(&x, 0, sizeof(x));
	x.a = a;
	x.domains.local_domains = local_domains;
	x.domains.n_local_domains = n_local_domains;
	x.rule.delimiter = delim;
	x.rule.postmaster = NULL;
	x.domain = domain;
	st = expand(&x, al);
	if (st != ALIASES_OK || x.n == 0) {
		free(x.out);
		return st != ALIASES_OK ? st : ALIASES_TOO_BIG;
	}
	*out_r = x.out;
	*n_r = x.n;
	return ALIASES_OK;
}
