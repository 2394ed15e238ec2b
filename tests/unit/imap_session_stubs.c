/* imap_session_stubs - TEMPORARY STAND-INS for imap_parse, imap_store and
 * imap_fetch, so test_imap_session's not-authenticated cases could run
 * before those modules were merged. Not built by the Makefile (not a
 * test_*.c); delete once the real modules are in. A crude line reader:
 * APPEND's literal streamed, no other literal, no LITERAL+ edge cases.
 * Build by hand:
 *   cc -D_GNU_SOURCE -Isrc -Itests/unit -g -o /tmp/tis \
 *     tests/unit/test_imap_session.c tests/unit/imap_session_stubs.c \
 *     src/imap_session.c -Wl,--start-group build/libpostern.a \
 *     build/libpostern-pure.a -Wl,--end-group $(LDLIBS) -lcmocka */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include "imap_fetch.h"
#include "imap_parse.h"
#include "imap_store.h"

void imap_fetch_abort(struct imap_fetch_iter *it);
static char toks[IMAP_CMD_MAX + IMAP_ARGS_MAX + 2];

void
imap_parse_init(struct imap_parser *p, uint64_t max_literal)
{
	memset(p, 0, sizeof(*p));
	p->max_literal = max_literal;
}

static int
tokenize(struct imap_parser *p, const char *t, size_t len)
{
	size_t i = 0, o = 0, k;
	struct imap_cmd *c = &p->cmd;
	unsigned depth = 0;

	memset(c->tag, 0, sizeof(c->tag));
	c->name[0] = '\0';
	c->nargs = 0;
	for (k = 0; i < len && t[i] != ' ' && k < IMAP_TAG_MAX; i++)
		c->tag[k++] = t[i];
	if (k == 0)
		return -1;
	if (i < len)
		i++;
	for (k = 0; i < len && t[i] != ' ' && k < sizeof(c->name) - 1; i++)
		c->name[k++] = (char)toupper((unsigned char)t[i]);
	c->name[k] = '\0';
	while (i < len) {
		struct imap_arg *a;

		if (t[i] == ' ') {
			i++;
			continue;
		}
		if (c->nargs == IMAP_ARGS_MAX)
			return -1;
		a = &c->args[c->nargs++];
		memset(a, 0, sizeof(*a));
		a->depth = depth;
		if (t[i] == '(') {
			a->type = IMAP_TOK_LIST_OPEN;
			a->s = "(";
			depth++;
			i++;
			continue;
		}
		if (t[i] == ')') {
			if (depth == 0)
				return -1;
			a->type = IMAP_TOK_LIST_CLOSE;
			a->s = ")";
			a->depth = --depth;
			i++;
			continue;
		}
		a->s = toks + o;
		if (t[i] == '\x01') {
			a->type = IMAP_TOK_STRING;
			a->literal = 1;
			toks[o++] = '\0';
			i++;
			continue;
		}
		if (t[i] == '"') {
			a->type = IMAP_TOK_STRING;
			for (i++; i < len && t[i] != '"'; i++) {
				if (t[i] == '\\' && i + 1 < len)
					i++;
				toks[o++] = t[i];
			}
			if (i >= len)
				return -1;
			i++;
		} else {
			int br = 0;

			a->type = IMAP_TOK_ATOM;
			for (; i < len; i++) {
				if (t[i] == '[')
					br++;
				else if (t[i] == ']')
					br--;
				else if (br == 0 && (t[i] == ' ' || t[i] == '(' ||
				    t[i] == ')'))
					break;
				toks[o++] = t[i];
			}
		}
		a->len = (size_t)(toks + o - a->s);
		toks[o++] = '\0';
		if (a->type == IMAP_TOK_ATOM && strcasecmp(a->s, "NIL") == 0)
			a->type = IMAP_TOK_NIL;
	}
	return depth == 0 ? 0 : -1;
}

size_t
imap_parse_feed(struct imap_parser *p, const char *in, size_t len,
    enum imap_event *ev)
{
	size_t i, n;

	*ev = IMAP_EV_NONE;
	if (p->state == 1) {
		n = len < p->lit_left ? len : (size_t)p->lit_left;
		p->data = in;
		p->data_len = n;
		p->lit_left -= n;
		if (p->lit_left == 0)
			p->state = 2;
		*ev = IMAP_EV_LITERAL_DATA;
		return n;
	}
	if (p->state == 2 || p->state == 3) {
		*ev = p->state == 2 ? IMAP_EV_LITERAL_END : IMAP_EV_LITERAL_BEGIN;
		p->state = p->state == 2 ? 0 : (p->lit_left ? 1 : 2);
		return 0;
	}
	for (i = 0; i < len; i++) {
		char *a = p->arena;
		size_t l;

		if (p->arena_len >= IMAP_CMD_MAX) {
			p->arena_len = 0;
			p->error = "too long";
			p->toobig = 1;
			*ev = IMAP_EV_BAD;
			return i + 1;
		}
		a[p->arena_len++] = in[i];
		if (in[i] != '\n')
			continue;
		l = p->arena_len;
		a[l] = '\0';
		if (l >= 2 && a[l - 2] == '\r')
			l -= 2;
		else
			l -= 1;
		if (l > 2 && a[l - 1] == '}') {
			size_t j = l - 1;
			uint64_t v = 0, mul = 1;
			int plus = 0;

			if (a[j - 1] == '+') {
				plus = 1;
				j--;
			}
			while (j > 0 && isdigit((unsigned char)a[j - 1])) {
				v += mul * (uint64_t)(a[j - 1] - '0');
				mul *= 10;
				j--;
			}
			if (j > 0 && a[j - 1] == '{') {
				j--;
				p->toobig = 0;
				if (tokenize(p, a, j) == -1 ||
				    strcmp(p->cmd.name, "APPEND") != 0) {
					p->arena_len = 0;
					p->error = "stand-in: literal";
					*ev = IMAP_EV_BAD;
					return i + 1;
				}
				a[j] = '\x01';
				p->arena_len = j + 1;
				p->literal_size = p->lit_left = v;
				if (plus) {
					p->state = v ? 1 : 2;
					*ev = IMAP_EV_LITERAL_BEGIN;
				} else {
					p->state = 3;
					*ev = IMAP_EV_CONTINUE;
				}
				return i + 1;
			}
		}
		p->arena_len = 0;
		p->toobig = 0;
		if (tokenize(p, a, l) == -1) {
			p->error = "Syntax error";
			if (p->cmd.tag[0] == '\0')
				memcpy(p->cmd.tag, "*", 2);
			*ev = IMAP_EV_BAD;
		} else
			*ev = IMAP_EV_COMMAND;
		return i + 1;
	}
	return len;
}

void
imap_parse_reject_literal(struct imap_parser *p)
{
	p->state = 0;
	p->arena_len = 0;
}

int
imap_seqset_parse(const char *s, size_t len, struct imap_seqset *set)
{
	size_t i = 0;

	set->n = 0;
	while (i < len) {
		uint32_t v[2] = { 0, 0 };
		int k;

		for (k = 0; k < 2; k++) {
			if (i < len && s[i] == '*') {
				v[k] = IMAP_SEQ_STAR;
				i++;
			} else {
				if (i >= len || !isdigit((unsigned char)s[i]))
					return -1;
				while (i < len && isdigit((unsigned char)s[i]))
					v[k] = v[k] * 10 + (uint32_t)(s[i++] - '0');
			}
			if (k == 0) {
				if (i < len && s[i] == ':') {
					i++;
					continue;
				}
				v[1] = v[0];
				break;
			}
		}
		set->r[set->n].lo = v[0] < v[1] ? v[0] : v[1];
		set->r[set->n].hi = v[0] < v[1] ? v[1] : v[0];
		set->n++;
		if (i < len && s[i] == ',')
			i++;
	}
	return set->n ? 0 : -1;
}

int
imap_seqset_contains(const struct imap_seqset *set, uint32_t n, uint32_t max)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		uint32_t lo = set->r[i].lo, hi = set->r[i].hi;

		if (lo == IMAP_SEQ_STAR)
			lo = max;
		if (hi == IMAP_SEQ_STAR)
			hi = max > lo ? max : lo;
		if (n >= lo && n <= hi)
			return 1;
	}
	return 0;
}

int
imap_put_string(struct buf *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && isalnum((unsigned char)s[i]); i++)
		;
	if (len && i == len)
		return buf_append(out, s, len);
	if (buf_appendc(out, '"') == -1 || buf_append(out, s, len) == -1)
		return -1;
	return buf_appendc(out, '"');
}

int
imap_put_nstring(struct buf *out, const char *s, size_t len)
{
	return s ? imap_put_string(out, s, len) : buf_appends(out, "NIL");
}

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

void imap_changes_free(struct imap_changes *c) { free(c->expunged); free(c->flag_changed); }
int imap_store_prepare(int fd) { (void)fd; return 0; }
static int created;
int
imap_store_list(int fd, struct imap_folder_info **r, size_t *n_r)
{
	(void)fd;
	*r = calloc(3, sizeof(**r));
	memcpy((*r)[0].name, "INBOX", 6);
	memcpy((*r)[1].name, "Sent", 5);
	(*r)[1].special = IMAP_SPECIAL_SENT;
	*n_r = 2;
	if (created)
		memcpy((*r)[(*n_r)++].name, "Work", 5);
	return 0;
}
int imap_store_create(int fd, const char *n) { (void)fd; (void)n; if (created) { errno = EEXIST; return -1; } created = 1; return 0; }
int imap_store_delete(int fd, const char *n) { (void)fd; (void)n; if (!created) { errno = ENOENT; return -1; } created = 0; return 0; }
int imap_store_rename(int fd, const char *a, const char *b) { (void)fd; (void)a; (void)b; errno = ENOENT; return -1; }
int imap_store_subscribe(int fd, const char *n, int on) { (void)fd; (void)n; (void)on; return 0; }
int imap_store_status(int fd, const char *n, struct imap_status *st) { (void)fd; (void)n; st->messages = 3; st->uidnext = 4; return 0; }

/* stand-in folder: INBOX only; files keep their names, flags in memory,
 * identity by name. */
static int
scan(struct imap_folder *f, char ***names, size_t *nn)
{
	static const char *subs[] = { "cur", "new" };
	size_t k;

	*names = NULL;
	*nn = 0;
	for (k = 0; k < 2; k++) {
		int d = openat(f->maildir_fd, subs[k], O_RDONLY | O_DIRECTORY);
		DIR *dp = fdopendir(d);
		struct dirent *de;

		if (dp == NULL)
			return -1;
		while ((de = readdir(dp)) != NULL) {
			char buf2[300];

			if (de->d_name[0] == '.')
				continue;
			(void)snprintf(buf2, sizeof(buf2), "%s/%s", subs[k], de->d_name);
			*names = realloc(*names, (*nn + 1) * sizeof(char *));
			(*names)[(*nn)++] = strdup(buf2);
		}
		closedir(dp);
	}
	return 0;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(strchr(*(char *const *)a, '/'), strchr(*(char *const *)b, '/'));
}

static unsigned
flags_of(const char *name)
{
	const char *p = strstr(name, ":2,");
	unsigned fl = 0;

	if (p == NULL)
		return 0;
	for (p += 3; *p; p++)
		fl |= *p == 'S' ? IMAP_F_SEEN : *p == 'T' ? IMAP_F_DELETED :
		    *p == 'F' ? IMAP_F_FLAGGED : *p == 'R' ? IMAP_F_ANSWERED :
		    *p == 'D' ? IMAP_F_DRAFT : 0;
	return fl;
}

static void
add_msg(struct imap_folder *f, char *name)
{
	struct imap_msg *m;
	struct stat st;

	f->msgs = realloc(f->msgs, (f->n + 1) * sizeof(*f->msgs));
	m = &f->msgs[f->n++];
	memset(m, 0, sizeof(*m));
	m->uid = f->uidnext++;
	m->name = name;
	m->flags = flags_of(name);
	if (fstatat(f->maildir_fd, name, &st, 0) == 0)
		m->size = (uint64_t)st.st_size;
}

int
imap_folder_open(struct imap_folder *f, int fd, const char *n, int ro)
{
	char **names;
	size_t nn, i;

	if (strcmp(n, "INBOX") != 0) {
		errno = ENOENT;
		return -1;
	}
	memset(f, 0, sizeof(*f));
	f->maildir_fd = fd;
	f->dir_fd = dup(fd);
	memcpy(f->name, "INBOX", 6);
	f->readonly = ro;
	f->uidvalidity = 77;
	f->uidnext = 1;
	if (scan(f, &names, &nn) == -1)
		return -1;
	qsort(names, nn, sizeof(*names), cmpstr);
	for (i = 0; i < nn; i++)
		add_msg(f, names[i]);
	free(names);
	return 0;
}

void
imap_folder_close(struct imap_folder *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->msgs[i].name);
	free(f->msgs);
	close(f->dir_fd);
}

static const char *
base(const char *n)
{
	return strchr(n, '/') + 1;
}

static int
same(const char *a, const char *b)
{
	size_t la = strcspn(base(a), ":"), lb = strcspn(base(b), ":");

	return la == lb && memcmp(base(a), base(b), la) == 0;
}

int
imap_folder_sync(struct imap_folder *f, struct imap_changes *c)
{
	char **names;
	size_t nn, i, j, w;

	memset(c, 0, sizeof(*c));
	c->old_exists = f->n;
	if (scan(f, &names, &nn) == -1)
		return -1;
	qsort(names, nn, sizeof(*names), cmpstr);
	c->expunged = calloc(f->n + 1, sizeof(uint32_t));
	for (i = f->n; i-- > 0;) {
		for (j = 0; j < nn; j++)
			if (names[j] && same(names[j], f->msgs[i].name))
				break;
		if (j == nn)
			c->expunged[c->n_expunged++] = (uint32_t)(i + 1);
		else {
			free(names[j]);
			names[j] = NULL;
		}
	}
	for (i = 0, w = 0; i < f->n; i++) {
		size_t k;
		int gone = 0;

		for (k = 0; k < c->n_expunged; k++)
			if (c->expunged[k] == i + 1)
				gone = 1;
		if (gone)
			free(f->msgs[i].name);
		else
			f->msgs[w++] = f->msgs[i];
	}
	f->n = w;
	for (j = 0; j < nn; j++)
		if (names[j])
			add_msg(f, names[j]);
	free(names);
	c->exists = f->n;
	return 0;
}

int
imap_folder_store(struct imap_folder *f, size_t i, int m, unsigned fl)
{
	struct imap_msg *msg = &f->msgs[i];

	msg->flags = m == '=' ? fl : m == '+' ? (msg->flags | fl) :
	    (msg->flags & ~fl);
	return 0;
}

int
imap_folder_expunge(struct imap_folder *f, const uint32_t *u, size_t n,
    uint32_t **e, size_t *ne)
{
	size_t i, k, w = 0, cnt = 0;
	uint32_t *ex = calloc(f->n + 1, sizeof(*ex));
	int *del = calloc(f->n + 1, sizeof(int));

	for (i = 0; i < f->n; i++) {
		int hit = (f->msgs[i].flags & IMAP_F_DELETED) != 0;

		if (hit && u != NULL) {
			hit = 0;
			for (k = 0; k < n; k++)
				if (u[k] == f->msgs[i].uid)
					hit = 1;
		}
		del[i] = hit;
	}
	for (i = f->n; i-- > 0;)
		if (del[i]) {
			ex[cnt++] = (uint32_t)(i + 1);
			(void)unlinkat(f->maildir_fd, f->msgs[i].name, 0);
		}
	for (i = 0; i < f->n; i++) {
		if (del[i])
			free(f->msgs[i].name);
		else
			f->msgs[w++] = f->msgs[i];
	}
	f->n = w;
	free(del);
	if (e) {
		*e = ex;
		*ne = cnt;
	} else
		free(ex);
	return 0;
}

int
imap_folder_msg_open(const struct imap_folder *f, size_t i)
{
	return openat(f->maildir_fd, f->msgs[i].name, O_RDONLY);
}

int
imap_folder_copy(struct imap_folder *f, size_t i, const char *d, uint32_t *u,
    uint32_t *v)
{
	(void)f; (void)i;
	if (strcmp(d, "Trash") && strcmp(d, "Junk")) {
		errno = ENOENT;
		return -1;
	}
	*u = 500 + (uint32_t)i;
	*v = 99;
	return 0;
}

static int append_seq;
int
imap_append_begin(struct imap_append *a, int fd, const char *f)
{
	if (strcmp(f, "INBOX") != 0) {
		errno = ENOENT;
		return -1;
	}
	memset(a, 0, sizeof(*a));
	a->maildir_fd = fd;
	(void)snprintf(a->tmpname, sizeof(a->tmpname), "tmp/9%03d.app", append_seq++);
	a->fd = openat(fd, a->tmpname, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	return a->fd < 0 ? -1 : 0;
}
int
imap_append_write(struct imap_append *a, const char *p, size_t n)
{
	a->written += n;
	return write(a->fd, p, n) == (ssize_t)n ? 0 : -1;
}
int
imap_append_commit(struct imap_append *a, unsigned fl, time_t t, uint32_t *u,
    uint32_t *v)
{
	char to[300];

	(void)t;
	close(a->fd);
	(void)snprintf(to, sizeof(to), "cur/%s:2,%s", a->tmpname + 4,
	    (fl & IMAP_F_SEEN) ? "S" : "");
	if (renameat(a->maildir_fd, a->tmpname, a->maildir_fd, to) == -1)
		return -1;
	*u = 1000;
	*v = 77;
	return 0;
}
void imap_append_abort(struct imap_append *a) { close(a->fd); (void)unlinkat(a->maildir_fd, a->tmpname, 0); }

/* stand-in fetch: FLAGS, UID, BODY[] only, whole response at once */
int
imap_fetch_parse(const struct imap_arg *a, size_t n, int uid,
    struct imap_fetch_items *it, const char **why)
{
	size_t i;

	memset(it, 0, sizeof(*it));
	it->uid = uid;
	for (i = 0; i < n; i++) {
		if (a[i].type != IMAP_TOK_ATOM)
			continue;
		if (strcasecmp(a[i].s, "FLAGS") == 0)
			it->it[it->n++].kind = IMAP_FA_FLAGS;
		else if (strcasecmp(a[i].s, "UID") == 0)
			it->it[it->n++].kind = IMAP_FA_UID;
		else if (strcasecmp(a[i].s, "BODY[]") == 0)
			it->it[it->n++].kind = IMAP_FA_SECTION;
		else {
			*why = "stand-in: unknown item";
			return -1;
		}
	}
	return 0;
}
int
imap_fetch_needs_body(const struct imap_fetch_items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		if (it->it[i].kind == IMAP_FA_SECTION)
			return 1;
	return 0;
}
int imap_fetch_sets_seen(const struct imap_fetch_items *it) { return imap_fetch_needs_body(it); }
void
imap_fetch_begin(struct imap_fetch_iter *it, const struct imap_fetch_items *items,
    const struct imap_msg *m, uint32_t seq, const char *d, size_t l, int af)
{
	memset(it, 0, sizeof(*it));
	it->items = items;
	it->msg = m;
	it->seq = seq;
	it->data = d;
	it->len = l;
	it->add_flags = af;
}
int
imap_fetch_next(struct imap_fetch_iter *it, struct buf *out, size_t u)
{
	size_t i;
	const char *sp = "";
	static const char *fn[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft" };
	static const unsigned fb[] = { IMAP_F_SEEN, IMAP_F_ANSWERED, IMAP_F_FLAGGED, IMAP_F_DELETED, IMAP_F_DRAFT };

	(void)u;
	(void)buf_printf(out, "* %u FETCH (", it->seq);
	if (it->items->uid) {
		(void)buf_printf(out, "UID %u", it->msg->uid);
		sp = " ";
	}
	for (i = 0; i <= it->items->n; i++) {
		enum imap_fetch_kind k = i < it->items->n ? it->items->it[i].kind :
		    (it->add_flags ? IMAP_FA_FLAGS : 0);

		if (k == IMAP_FA_FLAGS) {
			size_t j;
			const char *s2 = "";

			(void)buf_printf(out, "%sFLAGS (", sp);
			for (j = 0; j < 5; j++)
				if (it->msg->flags & fb[j]) {
					(void)buf_printf(out, "%s%s", s2, fn[j]);
					s2 = " ";
				}
			(void)buf_appends(out, ")");
		} else if (k == IMAP_FA_SECTION) {
			(void)buf_printf(out, "%sBODY[] {%zu}\r\n", sp, it->len);
			(void)buf_append(out, it->data, it->len);
		} else
			continue;
		sp = " ";
	}
	(void)buf_appends(out, ")\r\n");
	return 0;
}
void imap_fetch_abort(struct imap_fetch_iter *it) { (void)it; }
int
imap_search_parse(const struct imap_arg *a, size_t n, struct imap_search *s,
    const char **why)
{
	memset(s, 0, sizeof(*s));
	if (n == 1 && a[0].type == IMAP_TOK_ATOM && strcasecmp(a[0].s, "FLAGGED") == 0)
		return 0;
	*why = "stand-in";
	return -1;
}
int
imap_search_match(const struct imap_search *s, uint32_t seq,
    const struct imap_msg *m, const char *d, size_t l, uint32_t ms, uint32_t mu)
{
	(void)s; (void)seq; (void)d; (void)l; (void)ms; (void)mu;
	return (m->flags & IMAP_F_FLAGGED) != 0;
}
