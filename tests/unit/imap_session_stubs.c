/* imap_session_stubs - TEMPORARY STAND-INS for imap_parse, imap_store and
 * imap_fetch, so test_imap_session's not-authenticated cases could run
 * before those modules were merged. Not built by the Makefile (not a
 * test_*.c); delete once the real modules are in. A crude line reader:
 * APPEND's literal streamed, no other literal, no LITERAL+ edge cases. */
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
	(void)len;
	set->n = 1;
	set->r[0].lo = 1;
	set->r[0].hi = IMAP_SEQ_STAR;
	return s[0] ? 0 : -1;
}

int
imap_seqset_contains(const struct imap_seqset *set, uint32_t n, uint32_t max)
{
	(void)set; (void)max;
	return n > 0;
}

int
imap_put_string(struct buf *out, const char *s, size_t len)
{
	if (buf_appendc(out, '"') == -1 || buf_append(out, s, len) == -1)
		return -1;
	return buf_appendc(out, '"');
}

int
imap_put_nstring(struct buf *out, const char *s, size_t len)
{
	return s ? imap_put_string(out, s, len) : buf_appends(out, "NIL");
}

void imap_changes_free(struct imap_changes *c) { free(c->expunged); free(c->flag_changed); }
int imap_store_prepare(int fd) { (void)fd; return 0; }
int
imap_store_list(int fd, struct imap_folder_info **r, size_t *n_r)
{
	(void)fd;
	*r = calloc(1, sizeof(**r));
	memcpy((*r)[0].name, "INBOX", 6);
	*n_r = 1;
	return 0;
}
int imap_store_create(int fd, const char *n) { (void)fd; (void)n; errno = EEXIST; return -1; }
int imap_store_delete(int fd, const char *n) { (void)fd; (void)n; errno = ENOENT; return -1; }
int imap_store_rename(int fd, const char *a, const char *b) { (void)fd; (void)a; (void)b; errno = ENOENT; return -1; }
int imap_store_subscribe(int fd, const char *n, int on) { (void)fd; (void)n; (void)on; return 0; }
int imap_store_status(int fd, const char *n, struct imap_status *st) { (void)fd; (void)n; (void)st; errno = ENOENT; return -1; }
int imap_folder_open(struct imap_folder *f, int fd, const char *n, int ro) { (void)f; (void)fd; (void)n; (void)ro; errno = ENOENT; return -1; }
void imap_folder_close(struct imap_folder *f) { (void)f; }
int imap_folder_sync(struct imap_folder *f, struct imap_changes *c) { (void)f; (void)c; return 0; }
int imap_folder_store(struct imap_folder *f, size_t i, int m, unsigned fl) { (void)f; (void)i; (void)m; (void)fl; return -1; }
int imap_folder_expunge(struct imap_folder *f, const uint32_t *u, size_t n, uint32_t **e, size_t *ne) { (void)f; (void)u; (void)n; (void)e; (void)ne; return -1; }
int imap_folder_msg_open(const struct imap_folder *f, size_t i) { (void)f; (void)i; return -1; }
int imap_folder_copy(struct imap_folder *f, size_t i, const char *d, uint32_t *u, uint32_t *v) { (void)f; (void)i; (void)d; (void)u; (void)v; errno = ENOENT; return -1; }
int imap_append_begin(struct imap_append *a, int fd, const char *f) { (void)a; (void)fd; (void)f; errno = ENOENT; return -1; }
int imap_append_write(struct imap_append *a, const char *p, size_t n) { (void)a; (void)p; (void)n; return -1; }
int imap_append_commit(struct imap_append *a, unsigned fl, time_t t, uint32_t *u, uint32_t *v) { (void)a; (void)fl; (void)t; (void)u; (void)v; return -1; }
void imap_append_abort(struct imap_append *a) { (void)a; }

int imap_fetch_parse(const struct imap_arg *a, size_t n, int uid, struct imap_fetch_items *it, const char **why) { (void)a; (void)n; (void)uid; (void)it; *why = "stand-in"; return -1; }
int imap_fetch_needs_body(const struct imap_fetch_items *it) { (void)it; return 0; }
int imap_fetch_sets_seen(const struct imap_fetch_items *it) { (void)it; return 0; }
void imap_fetch_begin(struct imap_fetch_iter *it, const struct imap_fetch_items *items, const struct imap_msg *m, uint32_t seq, const char *d, size_t l, int af) { (void)it; (void)items; (void)m; (void)seq; (void)d; (void)l; (void)af; }
int imap_fetch_next(struct imap_fetch_iter *it, struct buf *out, size_t u) { (void)it; (void)out; (void)u; return 0; }
void imap_fetch_abort(struct imap_fetch_iter *it) { (void)it; }
int imap_search_parse(const struct imap_arg *a, size_t n, struct imap_search *s, const char **why) { (void)a; (void)n; (void)s; *why = "stand-in"; return -1; }
int imap_search_match(const struct imap_search *s, uint32_t seq, const struct imap_msg *m, const char *d, size_t l, uint32_t ms, uint32_t mu) { (void)s; (void)seq; (void)m; (void)d; (void)l; (void)ms; (void)mu; return 0; }
