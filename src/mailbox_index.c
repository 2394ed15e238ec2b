/* mailbox_index - the mailbox snapshot as a list in memory: UIDs, sizes
 * from names, sorting, deletion marks, and the RETR/TOP dot-stuffing
 * stream; see mailbox_index.h.
 *
 * Nothing here touches a file. mailbox_open (mailbox.c) fills the list
 * through mailbox_add/mailbox_finish; tests and fuzzers fill it the same
 * way from made-up names. The iterator reads through the callback its
 * caller gives, and mailbox_free closes the Maildir descriptor only
 * through the close_dir function the Maildir half put in the struct. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hex.h"
#include "decimal.h"
#include "mailbox_index.h"

/* ---- UIDs and names ------------------------------------------------ */

static const char *
base_name(const char *name)
{
	const char *slash = strrchr(name, '/');

	return slash != NULL ? slash + 1 : name;
}

/* "h," + SHA-256 hex of p[0..n). */
static void
uid_hash(const char *p, size_t n, char uid_r[MAILBOX_UID_MAX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	uid_r[0] = 'h';
	uid_r[1] = ',';
	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;	/* cannot happen with the default provider */
	/* 2 + 64 digits: within MAILBOX_UID_MAX (70). */
	hex_encode(uid_r + 2, md, mdlen);
}

void
mailbox_uid(const char *name, char uid_r[MAILBOX_UID_MAX + 1])
{
	const char *b = base_name(name);
	size_t i, n = strcspn(b, ":,");

	if (n == 0)
		n = strlen(b);	/* nothing before the separator: judge it all */
	if (n >= 1 && n <= MAILBOX_UID_MAX) {
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)b[i];

			/* ',' is reserved for hashed UIDs */
			if (c < 0x21 || c > 0x7e || c == ',')
				break;
		}
		if (i == n) {
			memcpy(uid_r, b, n);
			uid_r[n] = '\0';
			return;
		}
	}
	uid_hash(b, n, uid_r);
}

int
mailbox_name_size(const char *name, uint64_t *size_r)
{
	const char *b = base_name(name), *p, *colon;
	uint64_t v;
	size_t digits;

	/* ",S=" belongs to the base part, before any ":2," info. */
	if ((p = strstr(b, ",S=")) == NULL)
		return -1;
	colon = strchr(b, ':');
	if (colon != NULL && p > colon)
		return -1;
	p += 3;
	digits = strspn(p, "0123456789");
	if (p[digits] != '\0' && p[digits] != ',' && p[digits] != ':')
		return -1;
	/* At most 19 digits: no message is that large, and a forged name
	 * cannot make a size that overflows a sum. */
	if (parse_decimal(p, digits, 9999999999999999999ULL, &v) == -1)
		return -1;
	*size_r = v;
	return 0;
}

/* ---- the list ------------------------------------------------------ */

void
mailbox_init(struct mailbox *mb)
{
	mb->fd = -1;
	mb->close_dir = NULL;
	mb->msgs = NULL;
	mb->n = 0;
}

int
mailbox_add(struct mailbox *mb, const char *name, uint64_t size)
{
	struct mailbox_msg *m;

	mb->msgs = xreallocarray(mb->msgs, mb->n + 1, sizeof(*mb->msgs));
	m = &mb->msgs[mb->n++];
	m->name = xstrdup(name);
	m->size = size;
	m->deleted = 0;
	mailbox_uid(name, m->uid);
	return 0;
}

/* Leading decimal number of a base name (delivery seconds), saturating:
 * only an order for sorting, so a forged huge number sorts last rather
 * than making the name unlistable (not parse_decimal's strict refusal). */
static uint64_t
lead_number(const char *b)
{
	uint64_t v = 0;

	for (; *b >= '0' && *b <= '9'; b++) {
		if (v > (UINT64_MAX - 9) / 10)
			return UINT64_MAX;
		v = v * 10 + (uint64_t)(*b - '0');
	}
	return v;
}

static int
cmp_msg(const void *a, const void *b)
{
	const struct mailbox_msg *x = a, *y = b;
	const char *bx = base_name(x->name), *by = base_name(y->name);
	uint64_t nx = lead_number(bx), ny = lead_number(by);
	int c;

	if (nx != ny)
		return nx < ny ? -1 : 1;
	if ((c = strcmp(bx, by)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

static int
cmp_uid_index(const void *a, const void *b, void *arg)
{
	const struct mailbox_msg *msgs = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	return strcmp(msgs[i].uid, msgs[j].uid);
}

void
mailbox_finish(struct mailbox *mb)
{
	size_t *idx, i, j;

	if (mb->n < 2)
		return;
	qsort(mb->msgs, mb->n, sizeof(*mb->msgs), cmp_msg);
	/* A well-formed Maildir never holds one base name twice; a broken
	 * one may ("X,S=1" and "X,S=2", or new/X and cur/X:2,). Every member
	 * of such a group gets the hash of its whole name instead, which
	 * differs between them and from every plain UID. */
	idx = xreallocarray(NULL, mb->n, sizeof(*idx));
	for (i = 0; i < mb->n; i++)
		idx[i] = i;
	qsort_r(idx, mb->n, sizeof(*idx), cmp_uid_index, mb->msgs);
	for (i = 0; i < mb->n; i = j) {
		for (j = i + 1; j < mb->n &&
		    strcmp(mb->msgs[idx[i]].uid, mb->msgs[idx[j]].uid) == 0; j++)
			;
		if (j - i > 1) {
			size_t k;

			for (k = i; k < j; k++) {
				struct mailbox_msg *m = &mb->msgs[idx[k]];

				uid_hash(m->name, strlen(m->name), m->uid);
			}
		}
	}
	free(idx);
}

void
mailbox_stat(const struct mailbox *mb, size_t *count_r, uint64_t *octets_r)
{
	size_t i, n = 0;
	uint64_t o = 0;

	for (i = 0; i < mb->n; i++) {
		if (mb->msgs[i].deleted)
			continue;
		n++;
		o += mb->msgs[i].size;
	}
	*count_r = n;
	*octets_r = o;
}

int
mailbox_mark(struct mailbox *mb, size_t i)
{
	if (i >= mb->n || mb->msgs[i].deleted)
		return -1;
	mb->msgs[i].deleted = 1;
	return 0;
}

void
mailbox_unmark_all(struct mailbox *mb)
{
	size_t i;

	for (i = 0; i < mb->n; i++)
		mb->msgs[i].deleted = 0;
}

size_t
mailbox_marked(const struct mailbox *mb)
{
	size_t i, n = 0;

	for (i = 0; i < mb->n; i++)
		if (mb->msgs[i].deleted)
			n++;
	return n;
}

void
mailbox_free(struct mailbox *mb)
{
	size_t i;

	for (i = 0; i < mb->n; i++)
		free(mb->msgs[i].name);
	free(mb->msgs);
	if (mb->fd != -1 && mb->close_dir != NULL)
		mb->close_dir(mb->fd);
	mailbox_init(mb);
}

/* ---- the RETR/TOP stream ------------------------------------------- */

void
mailbox_stuff_init(struct mailbox_stuff *st, long top_lines)
{
	st->bol = 1;
	st->cr = 0;
	st->header = 1;
	st->linelen = 0;
	st->lines_left = top_lines < 0 ? -1 : top_lines;
	st->done = 0;
}

static void
line_end(struct mailbox_stuff *st, int empty)
{
	st->bol = 1;
	st->cr = 0;
	st->linelen = 0;
	if (st->header) {
		if (!empty)
			return;
		st->header = 0;	/* the empty line itself is always sent */
		if (st->lines_left == 0)
			st->done = 1;
		return;
	}
	if (st->lines_left > 0 && --st->lines_left == 0)
		st->done = 1;
}

size_t
mailbox_stuff_feed(struct mailbox_stuff *st, const char *in, size_t n,
    char *out, size_t *used_r)
{
	size_t i, o = 0;
	char c;

	for (i = 0; i < n && !st->done; i++) {
		c = in[i];
		if (c == '\n') {
			int empty = st->linelen == 0 ||
			    (st->linelen == 1 && st->cr);

			if (!st->cr)
				out[o++] = '\r';
			out[o++] = '\n';
			line_end(st, empty);
			continue;
		}
		if (st->bol && c == '.')
			out[o++] = '.';
		out[o++] = c;
		st->bol = 0;
		st->cr = c == '\r';
		st->linelen++;
	}
	*used_r = i;
	return o;
}

size_t
mailbox_stuff_end(struct mailbox_stuff *st, char *out)
{
	size_t o = 0;

	if (!st->done && !st->bol) {
		if (!st->cr)
			out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	st->bol = 1;
	st->cr = 0;
	st->done = 1;
	return o;
}

void
mailbox_iter_init(struct mailbox_iter *it, long top_lines,
    mailbox_read_fn *fn, void *arg)
{
	it->read = fn;
	it->arg = arg;
	mailbox_stuff_init(&it->st, top_lines);
	it->finished = 0;
	it->raw = 0;
}

int
mailbox_iter_next(struct mailbox_iter *it, struct buf *out, size_t chunk)
{
	char raw[MAILBOX_CHUNK], cooked[MAILBOX_ITER_MAXOUT];
	size_t room, n, used;
	ssize_t r;

	if (it->finished)
		return 0;
	if (chunk > MAILBOX_CHUNK)
		chunk = MAILBOX_CHUNK;
	room = out->max > out->len ? out->max - out->len : 0;
	if (room < 8)
		return 1;	/* the caller must drain out first */
	if (2 * chunk + 8 > room)
		chunk = (room - 8) / 2;
	if (!it->st.done && chunk > 0) {
		r = it->read(it->arg, raw, chunk);
		if (r < 0 || (size_t)r > chunk)
			return -1;
		if (r > 0) {
			it->raw += (uint64_t)r;
			n = mailbox_stuff_feed(&it->st, raw, (size_t)r, cooked,
			    &used);
			if (buf_append(out, cooked, n) == -1)
				return -1;	/* cannot happen: room checked */
			if (!it->st.done)
				return 1;
		}
	} else if (!it->st.done) {
		return 1;
	}
	n = mailbox_stuff_end(&it->st, cooked);
	if (buf_append(out, cooked, n) == -1)
		return -1;
	it->finished = 1;
	return 0;
}
