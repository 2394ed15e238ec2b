/* imap_index - pure half of imap_store (see imap_index.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "decimal.h"
#include "imap_index.h"

static const struct {
	char		letter;
	unsigned	flag;
} flag_letters[] = {
	{ 'D', IMAP_F_DRAFT }, { 'F', IMAP_F_FLAGGED },
	{ 'R', IMAP_F_ANSWERED }, { 'S', IMAP_F_SEEN },
	{ 'T', IMAP_F_DELETED },
};
#define N_FLAG_LETTERS	(sizeof(flag_letters) / sizeof(flag_letters[0]))

int
imap_index_base_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > IMAP_INDEX_BASE_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || c == ':' || c == '/')
			return 0;
	}
	return 1;
}

/* Split "A B" at the one space: 0 or -1. */
static int
two_numbers(const char *s, size_t len, uint64_t *a, uint64_t *b)
{
	const char *sp = memchr(s, ' ', len);

	if (sp == NULL)
		return -1;
	if (parse_decimal(s, (size_t)(sp - s), UINT32_MAX, a) == -1 ||
	    parse_decimal(sp + 1, len - (size_t)(sp - s) - 1, UINT32_MAX, b) == -1)
		return -1;
	return 0;
}

int
imap_index_parse(const char *p, size_t len, struct imap_index *ix)
{
	static const char magic[] = IMAP_INDEX_MAGIC " 1 ";
	const char *end = p + len, *nl, *sp;
	uint64_t v, n, uid;
	uint32_t last = 0;
	size_t cap = 0;

	memset(ix, 0, sizeof(*ix));
	nl = memchr(p, '\n', len);
	if (nl == NULL || (size_t)(nl - p) < sizeof(magic) - 1 ||
	    memcmp(p, magic, sizeof(magic) - 1) != 0)
		return -1;
	if (two_numbers(p + sizeof(magic) - 1,
	    (size_t)(nl - p) - (sizeof(magic) - 1), &v, &n) == -1 ||
	    v == 0 || n == 0)
		return -1;
	ix->uidvalidity = (uint32_t)v;
	ix->uidnext = (uint32_t)n;
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;		/* a torn last line: ignored */
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (sp == NULL ||
		    parse_decimal(p, (size_t)(sp - p), UINT32_MAX, &uid) == -1 ||
		    uid == 0 || uid <= last || uid == UINT32_MAX ||
		    !imap_index_base_ok(sp + 1, (size_t)(nl - sp - 1)))
			continue;
		if (ix->n >= IMAP_FOLDER_MSGS_MAX)
			break;
		if (ix->n == cap) {
			cap = cap ? cap * 2 : 64;
			ix->e = xreallocarray(ix->e, cap, sizeof(*ix->e));
		}
		ix->e[ix->n].uid = (uint32_t)uid;
		ix->e[ix->n].base = xstrndup(sp + 1, (size_t)(nl - sp - 1));
		ix->n++;
		last = (uint32_t)uid;
	}
	if (ix->uidnext <= last)
		ix->uidnext = last + 1;	/* never reuse a UID we saw */
	return 0;
}

int
imap_index_format(const struct imap_index *ix, struct buf *b)
{
	size_t i;

	if (buf_printf(b, "%s %d %u %u\n", IMAP_INDEX_MAGIC, IMAP_INDEX_VERSION,
	    ix->uidvalidity, ix->uidnext) == -1)
		return -1;
	for (i = 0; i < ix->n; i++)
		if (buf_printf(b, "%u %s\n", ix->e[i].uid, ix->e[i].base) == -1)
			return -1;
	return 0;
}

void
imap_index_free(struct imap_index *ix)
{
	size_t i;

	for (i = 0; i < ix->n; i++)
		free(ix->e[i].base);
	free(ix->e);
	memset(ix, 0, sizeof(*ix));
}

size_t
imap_maildir_base_len(const char *fname)
{
	const char *c = strchr(fname, ':');

	return c ? (size_t)(c - fname) : strlen(fname);
}

unsigned
imap_maildir_flags(const char *fname)
{
	const char *info = strstr(fname, ":2,");
	unsigned flags = 0;
	size_t i;

	if (info == NULL)
		return 0;
	for (info += 3; *info != '\0'; info++)
		for (i = 0; i < N_FLAG_LETTERS; i++)
			if (*info == flag_letters[i].letter)
				flags |= flag_letters[i].flag;
	return flags;
}

int
imap_maildir_info(const char *fname, unsigned flags, char *dst, size_t dstlen)
{
	const char *info = strstr(fname, ":2,");
	unsigned char have[256];
	size_t i, o;
	int c;

	memset(have, 0, sizeof(have));
	if (info != NULL)
		for (info += 3; *info != '\0'; info++)
			if ((unsigned char)*info > ' ' &&
			    (unsigned char)*info < 0x7f && *info != '/' &&
			    *info != ':' && *info != ',')
				have[(unsigned char)*info] = 1;
	for (i = 0; i < N_FLAG_LETTERS; i++)
		have[(unsigned char)flag_letters[i].letter] =
		    (flags & flag_letters[i].flag) != 0;
	if (dstlen < 4)
		return -1;
	memcpy(dst, ":2,", 3);
	o = 3;
	for (c = 0; c < 256; c++) {
		if (!have[c])
			continue;
		if (o + 1 >= dstlen)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

int
imap_name_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

int
imap_name_valid(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len > IMAP_NAME_MAX)
		return 0;
	if (name[0] == '/' || name[len - 1] == '/')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < ' ' || c == 0x7f || c == '.' || c == '%' || c == '*' ||
		    c == '\\' || c == '"')
			return 0;
		if (c == '/' && name[i + 1] == '/')
			return 0;
	}
	return 1;
}

int
imap_name_to_dir(const char *name, char *dst, size_t dstlen)
{
	size_t len, i;

	if (!imap_name_valid(name))
		return -1;
	if (imap_name_is_inbox(name)) {
		if (dstlen < 2)
			return -1;
		memcpy(dst, ".", 2);
		return 0;
	}
	len = strlen(name);
	if (len + 2 > dstlen)
		return -1;
	dst[0] = '.';
	for (i = 0; i < len; i++)
		dst[i + 1] = name[i] == '/' ? '.' : name[i];
	dst[len + 1] = '\0';
	return 0;
}

int
imap_dir_to_name(const char *dir, char *dst, size_t dstlen)
{
	size_t len = strlen(dir), i;

	if (len < 2 || dir[0] != '.' || len - 1 >= dstlen)
		return -1;
	for (i = 1; i < len; i++) {
		if (dir[i] == '/')
			return -1;
		dst[i - 1] = dir[i] == '.' ? '/' : dir[i];
	}
	dst[len - 1] = '\0';
	if (!imap_name_valid(dst) || imap_name_is_inbox(dst))
		return -1;
	return 0;
}

enum imap_special
imap_name_special(const char *name)
{
	if (strcmp(name, "Sent") == 0)
		return IMAP_SPECIAL_SENT;
	if (strcmp(name, "Drafts") == 0)
		return IMAP_SPECIAL_DRAFTS;
	if (strcmp(name, "Trash") == 0)
		return IMAP_SPECIAL_TRASH;
	if (strcmp(name, "Junk") == 0)
		return IMAP_SPECIAL_JUNK;
	return IMAP_SPECIAL_NONE;
}

void
imap_changes_diff(const struct imap_snap *old, size_t nold,
    const struct imap_snap *cur, size_t ncur, struct imap_changes *c)
{
	size_t i = 0, j = 0;

	memset(c, 0, sizeof(*c));
	c->old_exists = nold;
	c->exists = ncur;
	if (nold > 0)
		c->expunged = xcalloc(nold, sizeof(*c->expunged));
	if (ncur > 0)
		c->flag_changed = xcalloc(ncur, sizeof(*c->flag_changed));
	while (i < nold) {
		if (j < ncur && cur[j].uid < old[i].uid) {
			j++;		/* new (or reordered): not a change */
			continue;
		}
		if (j < ncur && cur[j].uid == old[i].uid) {
			if (cur[j].flags != old[i].flags)
				c->flag_changed[c->n_flag_changed++] =
				    (uint32_t)(j + 1);
			i++;
			j++;
			continue;
		}
		c->expunged[c->n_expunged++] = (uint32_t)(i + 1);
		i++;
	}
	/* descending, as "* N EXPUNGE" must be sent */
	for (i = 0; i < c->n_expunged / 2; i++) {
		uint32_t t = c->expunged[i];

		c->expunged[i] = c->expunged[c->n_expunged - 1 - i];
		c->expunged[c->n_expunged - 1 - i] = t;
	}
}

void
imap_changes_free(struct imap_changes *c)
{
	free(c->expunged);
	free(c->flag_changed);
	memset(c, 0, sizeof(*c));
}
