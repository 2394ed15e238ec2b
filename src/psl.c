/* psl - the Public Suffix List; see psl.h.
 * The rules are three sorted arrays of names (normal, wildcard with its
 * "*." removed, exception with its "!" removed); a lookup walks the
 * domain's suffixes from the TLD up, so each of at most 127 suffixes costs
 * three binary searches. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "psl.h"

enum psl_kind { PSL_NORMAL, PSL_WILDCARD, PSL_EXCEPTION, PSL_NKINDS };

struct psl_set {
	char	**names;
	size_t	  n;
	size_t	  cap;
};

struct psl {
	struct psl_set	set[PSL_NKINDS];
};

static int
label_octet(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c >= 0x80;
}

int
psl_normalise(const char *d, size_t len, char *out, size_t outlen)
{
	size_t i, label = 0;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > PSL_NAME_MAX || len + 1 > outlen)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				return -1;	/* empty label */
			label = 0;
		} else if (!label_octet(c) || ++label > PSL_LABEL_MAX)
			return -1;
		out[i] = (char)c;
	}
	if (label == 0)
		return -1;
	out[len] = '\0';
	return (int)len;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
set_has(const struct psl_set *s, const char *name)
{
	return s->n > 0 && bsearch(&name, s->names, s->n, sizeof(char *),
	    cmp_names) != NULL;
}

static void
set_add(struct psl_set *s, const char *name)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->names = xreallocarray(s->names, s->cap, sizeof(char *));
	}
	s->names[s->n++] = xstrdup(name);
}

/* One rule (the first word of a line) into psl; 0 kept, -1 skipped. */
static int
add_rule(struct psl *psl, const char *w, size_t n, size_t total)
{
	char name[PSL_NAME_MAX + 1];
	enum psl_kind kind = PSL_NORMAL;

	if (total >= PSL_RULES_MAX)
		return -1;
	if (n > 0 && w[0] == '!') {
		kind = PSL_EXCEPTION;
		w++, n--;
	} else if (n > 1 && w[0] == '*' && w[1] == '.') {
		kind = PSL_WILDCARD;
		w += 2, n -= 2;
	}
	/* A trailing dot in a rule is not in the format: refuse it rather
	 * than let normalisation accept it. */
	if (n > 0 && w[n - 1] == '.')
		return -1;
	if (psl_normalise(w, n, name, sizeof(name)) < 0)
		return -1;
	/* An exception names a domain below a wildcard: it has two labels
	 * at least. */
	if (kind == PSL_EXCEPTION && strchr(name, '.') == NULL)
		return -1;
	set_add(&psl->set[kind], name);
	return 0;
}

struct psl *
psl_parse(const char *text, size_t len, unsigned sections,
    struct psl_stats *stats)
{
	struct psl *psl = xcalloc(1, sizeof(*psl));
	struct psl_stats st = { 0, 0 };
	unsigned section = PSL_ICANN;
	size_t i = 0, k;

	while (i < len) {
		const char *line = text + i, *nl;
		size_t ll, w;

		nl = memchr(line, '\n', len - i);
		ll = nl ? (size_t)(nl - line) : len - i;
		i += ll + (nl != NULL);
		if (ll >= 2 && line[0] == '/' && line[1] == '/') {
			if (ll >= 26 && memmem(line, ll,
			    "===BEGIN ICANN DOMAINS===", 25) != NULL)
				section = PSL_ICANN;
			else if (memmem(line, ll,
			    "===BEGIN PRIVATE DOMAINS===", 27) != NULL)
				section = PSL_PRIVATE;
			continue;
		}
		/* The rule is the first word; the rest of the line is not
		 * part of it (the format says so). */
		for (w = 0; w < ll && line[w] != ' ' && line[w] != '\t' &&
		    line[w] != '\r'; w++)
			;
		if (w == 0 || !(section & sections))
			continue;
		if (add_rule(psl, line, w, st.rules) == 0)
			st.rules++;
		else
			st.skipped++;
	}
	for (k = 0; k < PSL_NKINDS; k++)
		if (psl->set[k].n > 0)
			qsort(psl->set[k].names, psl->set[k].n,
			    sizeof(char *), cmp_names);
	if (stats)
		*stats = st;
	if (st.rules == 0) {
		psl_free(psl);
		return NULL;
	}
	return psl;
}

void
psl_free(struct psl *psl)
{
	size_t k, i;

	if (psl == NULL)
		return;
	for (k = 0; k < PSL_NKINDS; k++) {
		for (i = 0; i < psl->set[k].n; i++)
			free(psl->set[k].names[i]);
		free(psl->set[k].names);
	}
	free(psl);
}

/* The number of labels of the public suffix of the normalised name d,
 * whose label starts are at[0..nl) (at[0] the leftmost label). */
static size_t
suffix_labels(const struct psl *psl, const char *d, const size_t *at,
    size_t nl)
{
	size_t k, best = 1;

	/* k labels from the right: the suffix starts at at[nl - k]. */
	for (k = 1; k <= nl; k++) {
		const char *s = d + at[nl - k];

		if (set_has(&psl->set[PSL_EXCEPTION], s))
			return k - 1;	/* an exception prevails */
		if (set_has(&psl->set[PSL_NORMAL], s) && k > best)
			best = k;
		/* "*.ck" matches any one label under ck. */
		if (k >= 2 && set_has(&psl->set[PSL_WILDCARD],
		    d + at[nl - k + 1]) && k > best)
			best = k;
	}
	return best;
}

/* The normalised name into d and its suffix of `extra` labels more than
 * the public suffix (at most all of it) into out. */
static int
suffix_plus(const struct psl *psl, const char *domain, size_t extra,
    char *out, size_t outlen)
{
	char d[PSL_NAME_MAX + 1];
	size_t at[PSL_LABELS_MAX + 1], nl = 0, i, k;
	int n;

	n = psl_normalise(domain, strlen(domain), d, sizeof(d));
	if (n < 0)
		return -1;
	at[nl++] = 0;
	for (i = 0; i < (size_t)n; i++)
		if (d[i] == '.' && nl <= PSL_LABELS_MAX)
			at[nl++] = i + 1;
	k = suffix_labels(psl, d, at, nl) + extra;
	if (k > nl)
		k = nl;
	if (k == 0)
		k = 1;	/* not reached: an exception has two labels */
	return xsnprintf(out, outlen, "%s", d + at[nl - k]) < 0 ? -1 : 0;
}

int
psl_public_suffix(const struct psl *psl, const char *domain, char *out,
    size_t outlen)
{
	return suffix_plus(psl, domain, 0, out, outlen);
}

int
psl_org_domain(const struct psl *psl, const char *domain, char *out,
    size_t outlen)
{
	return suffix_plus(psl, domain, 1, out, outlen);
}
