/* msgheader - header section iteration; see msgheader.h. */
#include <string.h>
#include <strings.h>

#include "msgheader.h"

void
msgheader_init(struct msgheader_iter *it, const char *h, size_t len)
{
	it->h = h;
	it->len = len;
	it->pos = 0;
	it->state = MSGHEADER_FIELD;
}

/* Length of the line at p (through its LF, or to the end) and, in
 * *content_r, without its line end. */
static size_t
line_at(const char *p, size_t n, size_t *content_r)
{
	const char *nl = memchr(p, '\n', n);
	size_t ll, c;

	if (nl == NULL) {
		*content_r = n;
		return n;
	}
	ll = (size_t)(nl - p) + 1;
	c = ll - 1;
	if (c > 0 && p[c - 1] == '\r')
		c--;
	*content_r = c;
	return ll;
}

int
msgheader_next(struct msgheader_iter *it, struct msgheader_field *f)
{
	const char *p;
	size_t n, ll, c, i, name_end, vend;

	if (it->state != MSGHEADER_FIELD)
		return it->state;
	if (it->pos >= it->len) {
		it->state = MSGHEADER_END;
		return it->state;
	}
	p = it->h + it->pos;
	n = it->len - it->pos;
	ll = line_at(p, n, &c);
	if (c == 0) {
		it->state = MSGHEADER_END;	/* the empty line */
		return it->state;
	}
	/* A name of printable ASCII but ':', then optional WSP and ':'. */
	for (i = 0; i < c && (unsigned char)p[i] > 0x20 &&
	    (unsigned char)p[i] < 0x7f && p[i] != ':'; i++)
		;
	name_end = i;
	while (i < c && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (name_end == 0 || i >= c || p[i] != ':') {
		it->state = MSGHEADER_BROKEN;
		return it->state;
	}
	f->name = p;
	f->name_len = name_end;
	f->value = p + i + 1;
	f->start = it->pos;
	vend = c;
	/* Continuation lines: those starting with WSP. */
	while (ll < n && (p[ll] == ' ' || p[ll] == '\t')) {
		size_t l2 = line_at(p + ll, n - ll, &c);

		vend = ll + c;
		ll += l2;
	}
	f->value_len = vend - (i + 1);
	f->end = it->pos + ll;
	it->pos += ll;
	return MSGHEADER_FIELD;
}

int
msgheader_skip_broken(struct msgheader_iter *it)
{
	const char *p = it->h + it->pos;
	size_t n = it->len - it->pos, ll, c;

	if (it->state != MSGHEADER_BROKEN)
		return -1;
	ll = line_at(p, n, &c);
	while (ll < n && (p[ll] == ' ' || p[ll] == '\t'))
		ll += line_at(p + ll, n - ll, &c);
	it->pos += ll;
	it->state = MSGHEADER_FIELD;
	return 0;
}

size_t
msgheader_pos(const struct msgheader_iter *it)
{
	return it->pos;
}

int
msgheader_name_is(const struct msgheader_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && strncasecmp(f->name, name, n) == 0;
}

long
msgheader_unfold(const char *v, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0, s = 0;

	while (s < n && (v[s] == ' ' || v[s] == '\t' || v[s] == '\r' ||
	    v[s] == '\n'))
		s++;
	while (n > s && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
	    v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	if (outlen == 0)
		return -1;
	for (i = s; i < n; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = v[i];
	}
	out[o] = '\0';
	return (long)o;
}
