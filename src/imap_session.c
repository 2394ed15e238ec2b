/* imap_session - one IMAP4rev2 session as an explicit state machine; see
 * imap_session.h.
 *
 * Input: imap_parse turns bytes into commands (and APPEND's literal into
 * a stream of pieces). While AUTHENTICATE waits for a base64 line and
 * while IDLE waits for DONE the input is not IMAP command syntax, so those
 * lines are gathered here (bounded by SESS_LINE_MAX).
 *
 * Output: responses appended to s->out. FETCH is produced piecewise:
 * the handler lists the messages, and pump() maps one at a time and lets
 * imap_fetch_next() write until out reaches IMAP_OUT_HIGHWATER; feed
 * consumes nothing meanwhile.
 *
 * Changes made by others (deliveries, POP3, other sessions) reach the
 * client before the tagged OK of each command in SELECTED, except FETCH,
 * STORE and SEARCH (RFC 9051 7.5.1: no EXPUNGE then): imap_folder_sync
 * applies all changes at once, so for those it is simply not called.
 *
 * Error accounting: every BAD and failed login counts; max_errors in a
 * row gives BYE.
 *
 * Memory: a session waits most of its life (IDLE above all), so what it
 * keeps between commands is small: the reader's arena and token list are
 * cut back after a big command (imap_parse), FETCH's items and iterator
 * and a SEARCH program exist only while their command runs, a raw line's
 * buffer only while it is read, and out gives back the room of a large
 * reply when the next command comes. What stays is this struct, the
 * folder's per-message metadata, and a few small buffers. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "decimal.h"
#include "imap_fetch.h"
#include "imap_parse.h"
#include "imap_session.h"
#include "imap_store.h"
#include "log.h"

#define SESS_LINE_MAX	16384	/* an AUTHENTICATE line: SCRAM messages
				 * are a few hundred octets, PLAIN less */
#define SASL_MSG_MAX	4096	/* decoded SASL message */
#define SESS_LINE_START	64	/* a raw line's first allocation: "DONE" and
				 * short SASL lines fit */
#define SESS_OUT_KEEP	4096	/* out's room kept between commands: the
				 * replies of a quiet session fit */

enum sasl_kind { SASL_NONE = 0, SASL_PLAIN, SASL_SCRAM };
enum wait_kind { WAIT_NONE = 0, WAIT_LOGIN, WAIT_SCRAM1, WAIT_SCRAM2,
	WAIT_SCRAM_FINAL_ACK };

struct priv {
	struct imap_settings	 set;
	const struct imap_session_ops *ops;
	void			*arg;
	char			 client[128];
	struct imap_parser	*p;
	unsigned		 errors;
	int			 rev2;		/* ENABLE IMAP4rev2 */
	int			 utf8;
	char			 tag[IMAP_TAG_MAX + 1];	/* the waiting command */

	/* raw lines (AUTHENTICATE continuation, IDLE's DONE): allocated
	 * when one starts coming, freed once it was handled */
	char			*line;
	size_t			 line_cap;	/* at most SESS_LINE_MAX + 1 */
	size_t			 line_len;
	int			 line_cr;
	int			 line_over;

	/* authentication */
	enum sasl_kind		 sasl;
	enum wait_kind		 wait;
	char			 wait_user[IMAP_USER_MAX + 1];
	int			 scram_outcome;
	int			 scram_first_sent;	/* step 1 went out */
	char			 scram_user[IMAP_USER_MAX + 1];

	/* mailbox */
	int			 maildir_fd;
	struct imap_folder	 f;
	int			 selected;
	int			 changed;

	/* APPEND in progress */
	struct imap_append	 ap;
	int			 appending;	/* ap.fd open */
	int			 append_err;	/* errno from begin/write */
	int			 append_seen;	/* LITERAL_BEGIN came */

	/* FETCH in progress (items and it, some 70 KiB, exist only then) */
	int			 pumping;
	struct imap_fetch_items	*items;
	size_t			*fidx;
	size_t			 fn, fpos;
	int			 fin_msg;
	struct imap_fetch_iter	*it;
	void			*map;
	size_t			 maplen;
	int			 fuid;
	int			 fdone_err;
};

#define P(s)	((struct priv *)(s)->priv)

static void	reply(struct imap_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

static void
reply(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vprintf_crlf(&s->out, fmt, ap);
	va_end(ap);
}

static void
slog(struct imap_session *s, const char *what)
{
	struct priv *pv = P(s);
	char line[512];

	if (pv->ops->log == NULL)
		return;
	(void)xsnprintf(line, sizeof(line), "%s %s%s%s", pv->client, what,
	    s->user[0] ? " user=" : "", s->user);
	pv->ops->log(pv->arg, line);
}

static void
bye_close(struct imap_session *s, const char *text)
{
	reply(s, "* BYE %s", text);
	s->state = IMAP_STATE_LOGOUT;
	s->close = 1;
}

/* A BAD the client caused. */
static void
bad(struct imap_session *s, const char *tag, const char *text)
{
	struct priv *pv = P(s);

	reply(s, "%s BAD %s", tag, text);
	if (++pv->errors >= pv->set.max_errors)
		bye_close(s, "Too many errors");
}

static void
put_flags(struct buf *b, unsigned fl)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ IMAP_F_SEEN, "\\Seen" }, { IMAP_F_ANSWERED, "\\Answered" },
		{ IMAP_F_FLAGGED, "\\Flagged" }, { IMAP_F_DELETED, "\\Deleted" },
		{ IMAP_F_DRAFT, "\\Draft" },
	};
	size_t i;
	int first = 1;

	(void)buf_appendc(b, '(');
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(fl & names[i].bit))
			continue;
		if (!first)
			(void)buf_appendc(b, ' ');
		(void)buf_appends(b, names[i].name);
		first = 0;
	}
	(void)buf_appendc(b, ')');
}

static void
put_fetch_flags(struct imap_session *s, uint32_t seq, const struct imap_msg *m,
    int with_uid)
{
	if (with_uid)
		(void)buf_printf(&s->out, "* %" PRIu32 " FETCH (UID %" PRIu32
		    " FLAGS ", seq, m->uid);
	else
		(void)buf_printf(&s->out, "* %" PRIu32 " FETCH (FLAGS ", seq);
	put_flags(&s->out, m->flags);
	(void)buf_appends(&s->out, ")\r\n");
}

static void
capabilities(struct imap_session *s, struct buf *b)
{
	int authed = s->state == IMAP_STATE_AUTH ||
	    s->state == IMAP_STATE_SELECTED || s->state == IMAP_STATE_IDLE;
	int plain_ok = s->tls_active || P(s)->set.plaintext_without_tls;

	(void)buf_appends(b, "IMAP4rev2 IMAP4rev1 LITERAL+ ENABLE IDLE NAMESPACE"
	    " UIDPLUS MOVE UNSELECT SPECIAL-USE LIST-EXTENDED LIST-STATUS"
	    " ESEARCH ID CHILDREN");
	if (authed)
		return;
	if (s->tls_available && !s->tls_active)
		(void)buf_appends(b, " STARTTLS");
	if (plain_ok)
		(void)buf_appends(b, " AUTH=PLAIN AUTH=SCRAM-SHA-256");
	else
		(void)buf_appends(b, " LOGINDISABLED AUTH=SCRAM-SHA-256");
}

/* ---- folder changes ---- */

static void	unselect(struct imap_session *, int expunge);

static void
emit_changes(struct imap_session *s, const struct imap_changes *c)
{
	size_t i;

	for (i = 0; i < c->n_expunged; i++)
		reply(s, "* %" PRIu32 " EXPUNGE", c->expunged[i]);
	if (c->exists + c->n_expunged != c->old_exists)
		reply(s, "* %zu EXISTS", c->exists);
	for (i = 0; i < c->n_flag_changed; i++) {
		uint32_t seq = c->flag_changed[i];

		if (seq >= 1 && seq <= P(s)->f.n)
			put_fetch_flags(s, seq, &P(s)->f.msgs[seq - 1], 0);
	}
}

/* Tell the client what others changed (untagged). 0, or -1 when the
 * folder was recreated and the session closed. */
static int
sync_folder(struct imap_session *s)
{
	struct priv *pv = P(s);
	struct imap_changes c;

	if (!pv->selected)
		return 0;
	memset(&c, 0, sizeof(c));
	pv->changed = 0;
	if (imap_folder_sync(&pv->f, &c) == -1) {
		imap_changes_free(&c);
		return 0;
	}
	if (c.uidvalidity_changed) {
		imap_changes_free(&c);
		unselect(s, 0);
		bye_close(s, "[UNAVAILABLE] Mailbox was recreated");
		return -1;
	}
	emit_changes(s, &c);
	imap_changes_free(&c);
	return 0;
}

/* ---- token helpers ---- */

static int
is_atom(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_TOK_ATOM && strcasecmp(a->s, word) == 0;
}

static int
is_astring(const struct imap_arg *a)
{
	return a->type == IMAP_TOK_ATOM || a->type == IMAP_TOK_STRING;
}

/* Mailbox name from the client: INBOX in any case is INBOX. */
static const char *
mbox_name(const struct imap_arg *a, char *dst, size_t dstlen)
{
	if (!is_astring(a) || a->len == 0 || memchr(a->s, '\0', a->len) != NULL
	    || a->len >= dstlen)
		return NULL;
	if (strcasecmp(a->s, "INBOX") == 0)
		(void)xsnprintf(dst, dstlen, "INBOX");
	else
		memcpy(dst, a->s, a->len + 1);
	return dst;
}

/* Flag list (or single flag) at args[*i]; advances *i. 0 or -1 (bad). */
static int
parse_flags(const struct imap_arg *args, size_t nargs, size_t *i,
    unsigned *fl)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "\\Seen", IMAP_F_SEEN }, { "\\Answered", IMAP_F_ANSWERED },
		{ "\\Flagged", IMAP_F_FLAGGED }, { "\\Deleted", IMAP_F_DELETED },
		{ "\\Draft", IMAP_F_DRAFT },
	};
	int list = 0;
	size_t k;

	*fl = 0;
	if (*i >= nargs)
		return -1;
	if (args[*i].type == IMAP_TOK_LIST_OPEN) {
		list = 1;
		(*i)++;
	}
	for (; *i < nargs; (*i)++) {
		const struct imap_arg *a = &args[*i];

		if (a->type == IMAP_TOK_LIST_CLOSE) {
			if (!list)
				return -1;
			(*i)++;
			return 0;
		}
		if (a->type != IMAP_TOK_ATOM)
			return -1;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcasecmp(a->s, names[k].name) == 0)
				*fl |= names[k].bit;
		/* \Recent and unknown keywords: not kept (PERMANENTFLAGS
		 * offers no \*), silently dropped as RFC 9051 allows. */
		if (a->s[0] == '\\' && strcasecmp(a->s, "\\Recent") == 0)
			return -1;
		if (!list) {
			(*i)++;
			return 0;
		}
	}
	return -1;
}

/* "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d"). -1 if not. */
static int
parse_datetime(const char *s, size_t len, time_t *t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	char mon[4];
	int d, y, hh, mm, ss, zh, zm, m;
	char sign;
	char tmp[64];

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (sscanf(tmp, "%2d-%3c-%4d %2d:%2d:%2d %c%2d%2d", &d, mon, &y, &hh,
	    &mm, &ss, &sign, &zh, &zm) != 9)
		return -1;
	mon[3] = '\0';
	for (m = 0; m < 12; m++)
		if (strncasecmp(months + 3 * m, mon, 3) == 0)
			break;
	if (m == 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 ||
	    (sign != '+' && sign != '-') || y < 1970)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = d;
	tm.tm_mon = m;
	tm.tm_year = y - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*t = timegm(&tm) - (sign == '+' ? 1 : -1) * (zh * 3600 + zm * 60);
	return 0;
}

/* "1:3,5" from sorted uids. */
static void
put_uidset(struct buf *b, const uint32_t *u, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		j = i;
		while (j + 1 < n && u[j + 1] == u[j] + 1)
			j++;
		if (i > 0)
			(void)buf_appendc(b, ',');
		if (j == i)
			(void)buf_printf(b, "%" PRIu32, u[i]);
		else
			(void)buf_printf(b, "%" PRIu32 ":%" PRIu32, u[i], u[j]);
		i = j + 1;
	}
}

/* Indices of the messages a set names (seq or UID). *n_r entries. */
static size_t *
set_indices(struct imap_session *s, const struct imap_seqset *set, int uid,
    size_t *n_r)
{
	struct imap_folder *f = &P(s)->f;
	size_t *r = xcalloc(f->n + 1, sizeof(*r));
	uint32_t maxuid = f->n ? f->msgs[f->n - 1].uid : 0;
	size_t i, n = 0;

	for (i = 0; i < f->n; i++) {
		if (uid ? imap_seqset_contains(set, f->msgs[i].uid, maxuid) :
		    imap_seqset_contains(set, (uint32_t)(i + 1), (uint32_t)f->n))
			r[n++] = i;
	}
	*n_r = n;
	return r;
}

/* ---- authentication ---- */

static void
login_done(struct imap_session *s, const char *user)
{
	struct priv *pv = P(s);
	int fd;

	(void)xsnprintf(s->user, sizeof(s->user), "%s", user);
	fd = pv->ops->open_maildir(pv->arg, s->user);
	if (fd == -1 || imap_store_prepare(fd) == -1) {
		if (fd != -1)
			close(fd);
		s->user[0] = '\0';
		s->state = IMAP_STATE_NOT_AUTH;
		reply(s, "%s NO [UNAVAILABLE] Mailbox not available", pv->tag);
		return;
	}
	pv->maildir_fd = fd;
	pv->errors = 0;
	s->state = IMAP_STATE_AUTH;
	slog(s, "login");
	(void)buf_printf(&s->out, "%s OK [CAPABILITY ", pv->tag);
	capabilities(s, &s->out);
	(void)buf_appends(&s->out, "] Logged in\r\n");
}

static void
login_failed(struct imap_session *s, int outcome)
{
	struct priv *pv = P(s);

	s->state = IMAP_STATE_NOT_AUTH;
	pv->sasl = SASL_NONE;
	if (outcome == OUTCOME_TEMP) {
		reply(s, "%s NO [UNAVAILABLE] Temporary failure, try again later",
		    pv->tag);
		return;
	}
	slog(s, "login failed");
	reply(s, "%s NO [AUTHENTICATIONFAILED] Invalid credentials", pv->tag);
	if (++pv->errors >= pv->set.max_errors)
		bye_close(s, "Too many errors");
}

static void
ask_password(struct imap_session *s, const char *user, char *pass)
{
	struct priv *pv = P(s);

	if (strlen(user) > IMAP_USER_MAX || user[0] == '\0') {
		explicit_bzero(pass, strlen(pass));
		login_failed(s, OUTCOME_DENIED);
		return;
	}
	(void)xsnprintf(pv->wait_user, sizeof(pv->wait_user), "%s", user);
	pv->wait = WAIT_LOGIN;
	s->state = IMAP_STATE_AUTH_WAIT;
	pv->ops->check_password(pv->arg, user, pass);
	explicit_bzero(pass, strlen(pass));
}

/* PLAIN: authzid NUL authcid NUL passwd (RFC 4616). */
static void
sasl_plain(struct imap_session *s, const char *b64, size_t len)
{
	char dec[SASL_MSG_MAX + 1];
	size_t n = 0;
	char *a, *b;

	if (base64_decode(dec, SASL_MSG_MAX, &n, b64, len) != BASE64_OK) {
		bad(s, P(s)->tag, "Invalid base64");
		s->state = IMAP_STATE_NOT_AUTH;
		return;
	}
	dec[n] = '\0';
	a = memchr(dec, '\0', n);
	b = a ? memchr(a + 1, '\0', n - (size_t)(a + 1 - dec)) : NULL;
	if (a == NULL || b == NULL || (dec[0] != '\0' && strcmp(dec, a + 1))) {
		explicit_bzero(dec, sizeof(dec));
		login_failed(s, OUTCOME_DENIED);
		return;
	}
	ask_password(s, a + 1, b + 1);
	explicit_bzero(dec, sizeof(dec));
}

static void
sasl_scram(struct imap_session *s, const char *b64, size_t len, int step)
{
	struct priv *pv = P(s);
	char dec[SASL_MSG_MAX + 1];
	size_t n = 0;

	if (base64_decode(dec, SASL_MSG_MAX, &n, b64, len) != BASE64_OK) {
		if (pv->ops->scram_abort)
			pv->ops->scram_abort(pv->arg);
		s->state = IMAP_STATE_NOT_AUTH;
		pv->sasl = SASL_NONE;
		bad(s, pv->tag, "Invalid base64");
		return;
	}
	pv->wait = step == 1 ? WAIT_SCRAM1 : WAIT_SCRAM2;
	pv->scram_first_sent = 1;
	s->state = IMAP_STATE_AUTH_WAIT;
	pv->scram_outcome = -1;
	pv->ops->scram_step(pv->arg, step, dec, n);
	explicit_bzero(dec, sizeof(dec));
}

/* A line during AUTHENTICATE. */
static void
sasl_line(struct imap_session *s, const char *line, size_t len)
{
	struct priv *pv = P(s);

	if (len == 1 && line[0] == '*') {
		if (pv->sasl == SASL_SCRAM && pv->ops->scram_abort)
			pv->ops->scram_abort(pv->arg);
		pv->sasl = SASL_NONE;
		pv->wait = WAIT_NONE;
		s->state = IMAP_STATE_NOT_AUTH;
		bad(s, pv->tag, "AUTHENTICATE aborted");
		return;
	}
	if (pv->wait == WAIT_SCRAM_FINAL_ACK) {
		pv->wait = WAIT_NONE;
		pv->sasl = SASL_NONE;
		if (len != 0) {
			s->state = IMAP_STATE_NOT_AUTH;
			bad(s, pv->tag, "Expected an empty line");
			return;
		}
		login_done(s, pv->scram_user);
		return;
	}
	if (pv->sasl == SASL_PLAIN)
		sasl_plain(s, line, len);
	else
		sasl_scram(s, line, len, pv->scram_first_sent ? 2 : 1);
}

/* ---- mailbox selection ---- */

static void
unselect(struct imap_session *s, int expunge)
{
	struct priv *pv = P(s);

	if (!pv->selected)
		return;
	if (expunge && !pv->f.readonly)
		(void)imap_folder_expunge(&pv->f, NULL, 0, NULL, NULL);
	pv->ops->watch(pv->arg, -1);
	imap_folder_close(&pv->f);
	memset(&pv->f, 0, sizeof(pv->f));
	pv->selected = 0;
	s->state = IMAP_STATE_AUTH;
}

static void
store_error(struct imap_session *s, const char *tag, int err)
{
	switch (err) {
	case ENOENT:
		reply(s, "%s NO [NONEXISTENT] No such mailbox", tag);
		break;
	case EEXIST:
		reply(s, "%s NO [ALREADYEXISTS] Mailbox already exists", tag);
		break;
	case EINVAL:
		reply(s, "%s NO [CANNOT] Invalid mailbox name", tag);
		break;
	case EPERM:
	case ENOTEMPTY:
		reply(s, "%s NO [CANNOT] Not allowed on this mailbox", tag);
		break;
	default:
		reply(s, "%s NO [SERVERBUG] Operation failed", tag);
		break;
	}
}

/* ---- the commands ---- */

struct cmdctx {
	struct imap_session	*s;
	struct imap_cmd		*c;
	const struct imap_arg	*a;	/* args */
	size_t			 n;	/* nargs */
	int			 uid;	/* UID prefix */
};

static void
ok_sync(struct cmdctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Tagged OK after the folder's changes. */
static void
ok_sync(struct cmdctx *x, const char *fmt, ...)
{
	va_list ap;

	if (sync_folder(x->s) == -1)
		return;
	(void)buf_printf(&x->s->out, "%s OK ", x->c->tag);
	va_start(ap, fmt);
	(void)buf_vprintf_crlf(&x->s->out, fmt, ap);
	va_end(ap);
}

static void
c_capability(struct cmdctx *x)
{
	(void)buf_appends(&x->s->out, "* CAPABILITY ");
	capabilities(x->s, &x->s->out);
	(void)buf_appends(&x->s->out, "\r\n");
	ok_sync(x, "CAPABILITY completed");
}

static void
c_noop(struct cmdctx *x)
{
	ok_sync(x, "NOOP completed");
}

/* IMAP4rev1's CHECK (RFC 3501 6.4.1; gone from IMAP4rev2, which says to
 * use NOOP): every change is on disk already, so it is a NOOP. mbsync
 * sends it. */
static void
c_check(struct cmdctx *x)
{
	ok_sync(x, "CHECK completed");
}

static void
c_logout(struct cmdctx *x)
{
	reply(x->s, "* BYE Logging out");
	reply(x->s, "%s OK LOGOUT completed", x->c->tag);
	unselect(x->s, 0);
	x->s->state = IMAP_STATE_LOGOUT;
	x->s->close = 1;
}

static void
c_starttls(struct cmdctx *x)
{
	if (!x->s->tls_available || x->s->tls_active) {
		bad(x->s, x->c->tag, "STARTTLS not available");
		return;
	}
	reply(x->s, "%s OK Begin TLS negotiation now", x->c->tag);
	x->s->state = IMAP_STATE_TLS_WAIT;
}

static void
c_login(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	char user[IMAP_USER_MAX + 1], *pass;

	if (x->n != 2 || !is_astring(&x->a[0]) || !is_astring(&x->a[1])) {
		bad(s, x->c->tag, "Usage: LOGIN user password");
		return;
	}
	if (!s->tls_active && !P(s)->set.plaintext_without_tls) {
		reply(s, "%s NO [PRIVACYREQUIRED] LOGIN needs TLS", x->c->tag);
		return;
	}
	(void)xsnprintf(P(s)->tag, sizeof(P(s)->tag), "%s", x->c->tag);
	if (x->a[0].len > IMAP_USER_MAX ||
	    memchr(x->a[0].s, '\0', x->a[0].len) != NULL) {
		login_failed(s, OUTCOME_DENIED);
		return;
	}
	memcpy(user, x->a[0].s, x->a[0].len + 1);
	pass = (char *)x->a[1].s;
	ask_password(s, user, pass);
}

static void
c_authenticate(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);
	int plain_ok = s->tls_active || pv->set.plaintext_without_tls;

	if (x->n < 1 || x->n > 2 || x->a[0].type != IMAP_TOK_ATOM) {
		bad(s, x->c->tag, "Usage: AUTHENTICATE mechanism [initial]");
		return;
	}
	(void)xsnprintf(pv->tag, sizeof(pv->tag), "%s", x->c->tag);
	pv->scram_first_sent = 0;
	if (strcasecmp(x->a[0].s, "PLAIN") == 0 && !plain_ok) {
		reply(s, "%s NO [PRIVACYREQUIRED] PLAIN needs TLS", x->c->tag);
		return;
	}
	if (strcasecmp(x->a[0].s, "PLAIN") == 0)
		pv->sasl = SASL_PLAIN;
	else if (strcasecmp(x->a[0].s, "SCRAM-SHA-256") == 0)
		pv->sasl = SASL_SCRAM;
	else {
		reply(s, "%s NO [CANNOT] Unsupported mechanism", x->c->tag);
		return;
	}
	if (x->n == 1) {
		s->state = IMAP_STATE_SASL;
		pv->line_len = 0;
		reply(s, "+ ");
		return;
	}
	/* SASL-IR: "=" is an empty initial response. */
	{
		const char *ir = x->a[1].s;
		size_t irlen = x->a[1].len;

		if (irlen == 1 && ir[0] == '=')
			irlen = 0;
		if (pv->sasl == SASL_PLAIN)
			sasl_plain(s, ir, irlen);
		else
			sasl_scram(s, ir, irlen, 1);
	}
}

static void
c_id(struct cmdctx *x)
{
	reply(x->s, "* ID (\"name\" \"postern\")");
	ok_sync(x, "ID completed");
}

static void
c_enable(struct cmdctx *x)
{
	struct priv *pv = P(x->s);
	struct buf *b = &x->s->out;
	size_t i;
	int any = 0;

	if (x->n == 0) {
		bad(x->s, x->c->tag, "Usage: ENABLE capability...");
		return;
	}
	(void)buf_appends(b, "* ENABLED");
	for (i = 0; i < x->n; i++) {
		if (is_atom(&x->a[i], "IMAP4rev2") && !pv->rev2) {
			pv->rev2 = 1;
			(void)buf_appends(b, " IMAP4rev2");
			any = 1;
		} else if (is_atom(&x->a[i], "UTF8=ACCEPT") && !pv->utf8) {
			pv->utf8 = 1;
			(void)buf_appends(b, " UTF8=ACCEPT");
			any = 1;
		}
	}
	(void)any;
	(void)buf_appends(b, "\r\n");
	ok_sync(x, "ENABLE completed");
}

static void
c_namespace(struct cmdctx *x)
{
	reply(x->s, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
	ok_sync(x, "NAMESPACE completed");
}

static void
c_select(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);
	int ro = strcmp(x->c->name, "EXAMINE") == 0;
	char name[IMAP_NAME_MAX + 1];
	size_t i, unseen = 0;

	if (x->n < 1 || mbox_name(&x->a[0], name, sizeof(name)) == NULL) {
		bad(s, x->c->tag, "Usage: SELECT mailbox");
		return;
	}
	if (pv->selected) {
		unselect(s, 0);
		reply(s, "* OK [CLOSED] Previous mailbox closed");
	}
	if (imap_folder_open(&pv->f, pv->maildir_fd, name, ro) == -1) {
		int e = errno;

		memset(&pv->f, 0, sizeof(pv->f));
		if (e == ENOENT || e == EINVAL)
			reply(s, "%s NO [NONEXISTENT] No such mailbox", x->c->tag);
		else
			reply(s, "%s NO [UNAVAILABLE] Cannot open mailbox",
			    x->c->tag);
		return;
	}
	pv->selected = 1;
	pv->changed = 0;
	s->state = IMAP_STATE_SELECTED;
	pv->ops->watch(pv->arg, pv->f.dir_fd);
	reply(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
	reply(s, "* %zu EXISTS", pv->f.n);
	if (!pv->rev2)
		reply(s, "* 0 RECENT");
	for (i = 0; i < pv->f.n; i++)
		if (!(pv->f.msgs[i].flags & IMAP_F_SEEN)) {
			unseen = i + 1;
			break;
		}
	if (unseen && !pv->rev2)
		reply(s, "* OK [UNSEEN %zu] First unseen", unseen);
	reply(s, "* OK [UIDVALIDITY %" PRIu32 "] UIDs valid", pv->f.uidvalidity);
	reply(s, "* OK [UIDNEXT %" PRIu32 "] Predicted next UID", pv->f.uidnext);
	if (ro)
		reply(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox");
	else
		reply(s, "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged"
		    " \\Deleted \\Draft)] Limited");
	if (pv->rev2) {
		(void)buf_appends(&s->out, "* LIST () \"/\" ");
		(void)imap_put_string(&s->out, pv->f.name, strlen(pv->f.name));
		(void)buf_appends(&s->out, "\r\n");
	}
	reply(s, "%s OK [%s] %s completed", x->c->tag,
	    ro ? "READ-ONLY" : "READ-WRITE", ro ? "EXAMINE" : "SELECT");
}

static void
c_mbox_op(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);
	char name[IMAP_NAME_MAX + 1], to[IMAP_NAME_MAX + 1];
	const char *cmd = x->c->name;
	int r;
	size_t want = strcmp(cmd, "RENAME") == 0 ? 2 : 1;

	if (x->n != want || mbox_name(&x->a[0], name, sizeof(name)) == NULL ||
	    (want == 2 && mbox_name(&x->a[1], to, sizeof(to)) == NULL)) {
		bad(s, x->c->tag, "Invalid arguments");
		return;
	}
	if (strcmp(cmd, "CREATE") == 0) {
		size_t l = strlen(name);

		if (l > 1 && name[l - 1] == '/')	/* trailing delimiter */
			name[l - 1] = '\0';
		r = imap_store_create(pv->maildir_fd, name);
	} else if (strcmp(cmd, "DELETE") == 0) {
		if (pv->selected && strcmp(pv->f.name, name) == 0)
			unselect(s, 0);
		r = imap_store_delete(pv->maildir_fd, name);
	} else if (strcmp(cmd, "RENAME") == 0)
		r = imap_store_rename(pv->maildir_fd, name, to);
	else
		r = imap_store_subscribe(pv->maildir_fd, name,
		    strcmp(cmd, "SUBSCRIBE") == 0);
	if (r == -1) {
		store_error(s, x->c->tag, errno);
		return;
	}
	ok_sync(x, "%s completed", cmd);
}

/* IMAP LIST pattern: '*' any, '%' any but '/'. */
static int
pat_match(const char *p, const char *n)
{
	for (; *p; p++, n++) {
		if (*p == '*' || *p == '%') {
			for (;; n++) {
				if (pat_match(p + 1, n))
					return 1;
				if (*n == '\0' || (*p == '%' && *n == '/'))
					return 0;
			}
		}
		if (*n != *p)
			return 0;
	}
	return *n == '\0';
}

static int
name_matches(const char *pat, const char *name)
{
	char up[IMAP_NAME_MAX * 2 + 2];

	if (pat_match(pat, name))
		return 1;
	/* INBOX is case-insensitive, and so is its prefix in a pattern. */
	if (strncasecmp(pat, "INBOX", 5) == 0 && strcmp(name, "INBOX") == 0) {
		(void)xsnprintf(up, sizeof(up), "INBOX%s", pat + 5);
		return pat_match(up, name);
	}
	return 0;
}

#define LR_SUBSCRIBED	0x01
#define LR_CHILDREN	0x02
#define LR_SPECIAL	0x04
#define LR_STATUS	0x08
#define LR_LSUB		0x10
#define LR_SHOWSUB	0x20	/* \Subscribed wanted (LIST-EXTENDED) */
#define LS_MESSAGES	0x01
#define LS_UIDNEXT	0x02
#define LS_UIDVALIDITY	0x04
#define LS_UNSEEN	0x08
#define LS_DELETED	0x10
#define LS_SIZE		0x20
#define LS_RECENT	0x40

/* STATUS item list at a[*i] ("(" ... ")"). 0 or -1. */
static int
parse_status_items(const struct imap_arg *a, size_t n, size_t *i, unsigned *m)
{
	static const struct { const char *name; unsigned bit; } it[] = {
		{ "MESSAGES", LS_MESSAGES }, { "UIDNEXT", LS_UIDNEXT },
		{ "UIDVALIDITY", LS_UIDVALIDITY }, { "UNSEEN", LS_UNSEEN },
		{ "DELETED", LS_DELETED }, { "SIZE", LS_SIZE },
		{ "RECENT", LS_RECENT },
	};
	size_t k;

	*m = 0;
	if (*i >= n || a[*i].type != IMAP_TOK_LIST_OPEN)
		return -1;
	for ((*i)++; *i < n && a[*i].type != IMAP_TOK_LIST_CLOSE; (*i)++) {
		if (a[*i].type != IMAP_TOK_ATOM)
			return -1;
		for (k = 0; k < sizeof(it) / sizeof(it[0]); k++)
			if (strcasecmp(a[*i].s, it[k].name) == 0)
				break;
		if (k == sizeof(it) / sizeof(it[0]))
			return -1;
		*m |= it[k].bit;
	}
	if (*i >= n || *m == 0)
		return -1;
	(*i)++;
	return 0;
}

static void
put_status(struct imap_session *s, const char *name, const struct imap_status *st,
    unsigned m)
{
	struct buf *b = &s->out;
	const char *sp = "";

	(void)buf_appends(b, "* STATUS ");
	(void)imap_put_string(b, name, strlen(name));
	(void)buf_appends(b, " (");
#define ITEM(bit, fmt, v) if (m & (bit)) { (void)buf_printf(b, fmt, sp, v); sp = " "; }
	ITEM(LS_MESSAGES, "%sMESSAGES %" PRIu32, st->messages);
	ITEM(LS_UIDNEXT, "%sUIDNEXT %" PRIu32, st->uidnext);
	ITEM(LS_UIDVALIDITY, "%sUIDVALIDITY %" PRIu32, st->uidvalidity);
	ITEM(LS_UNSEEN, "%sUNSEEN %" PRIu32, st->unseen);
	ITEM(LS_DELETED, "%sDELETED %" PRIu32, st->deleted);
	ITEM(LS_SIZE, "%sSIZE %" PRIu64, st->size);
	ITEM(LS_RECENT, "%sRECENT %d", 0);
#undef ITEM
	(void)buf_appends(b, ")\r\n");
}

static void
c_status(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	char name[IMAP_NAME_MAX + 1];
	struct imap_status st;
	unsigned m;
	size_t i = 1;

	if (x->n < 2 || mbox_name(&x->a[0], name, sizeof(name)) == NULL ||
	    parse_status_items(x->a, x->n, &i, &m) == -1 || i != x->n) {
		bad(s, x->c->tag, "Usage: STATUS mailbox (items)");
		return;
	}
	memset(&st, 0, sizeof(st));
	if (imap_store_status(P(s)->maildir_fd, name, &st) == -1) {
		store_error(s, x->c->tag, errno);
		return;
	}
	put_status(s, name, &st, m);
	ok_sync(x, "STATUS completed");
}

static const char *
special_attr(enum imap_special sp)
{
	switch (sp) {
	case IMAP_SPECIAL_SENT:		return " \\Sent";
	case IMAP_SPECIAL_DRAFTS:	return " \\Drafts";
	case IMAP_SPECIAL_TRASH:	return " \\Trash";
	case IMAP_SPECIAL_JUNK:		return " \\Junk";
	default:			return "";
	}
}

static void
c_list(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);
	const struct imap_arg *a = x->a;
	size_t n = x->n, i = 0, k, p, npat = 0;
	unsigned opt = 0, stm = 0;
	char ref[IMAP_NAME_MAX + 1], pats[8][IMAP_NAME_MAX * 2 + 2];
	struct imap_folder_info *fi = NULL;
	size_t nfi = 0;
	int extended = 0;
	const char *kw = strcmp(x->c->name, "LSUB") == 0 ? "LSUB" : "LIST";

	if (kw[0] == 'L' && kw[1] == 'S')
		opt |= LR_LSUB | LR_SUBSCRIBED;
	/* selection options */
	if (i < n && a[i].type == IMAP_TOK_LIST_OPEN && !(opt & LR_LSUB)) {
		extended = 1;
		for (i++; i < n && a[i].type != IMAP_TOK_LIST_CLOSE; i++) {
			if (is_atom(&a[i], "SUBSCRIBED"))
				opt |= LR_SUBSCRIBED | LR_SHOWSUB;
			else if (is_atom(&a[i], "SPECIAL-USE"))
				opt |= LR_SPECIAL;
			else if (is_atom(&a[i], "REMOTE") ||
			    is_atom(&a[i], "RECURSIVEMATCH"))
				;
			else
				goto usage;
		}
		if (i >= n)
			goto usage;
		i++;
	}
	if (i >= n || !is_astring(&a[i]) || a[i].len > IMAP_NAME_MAX)
		goto usage;
	memcpy(ref, a[i].s, a[i].len + 1);
	i++;
	if (i < n && a[i].type == IMAP_TOK_LIST_OPEN && !(opt & LR_LSUB)) {
		extended = 1;
		for (i++; i < n && a[i].type != IMAP_TOK_LIST_CLOSE; i++) {
			if (!is_astring(&a[i]) || npat == 8 ||
			    a[i].len > IMAP_NAME_MAX)
				goto usage;
			(void)xsnprintf(pats[npat++], sizeof(pats[0]), "%s%s",
			    ref, a[i].s);
		}
		if (i >= n || npat == 0)
			goto usage;
		i++;
	} else if (i < n && is_astring(&a[i]) && a[i].len <= IMAP_NAME_MAX) {
		if (a[i].len == 0 && !extended) {
			/* "" "": the hierarchy delimiter. */
			if (i + 1 != n)
				goto usage;
			reply(s, "* %s (\\Noselect) \"/\" \"\"", kw);
			ok_sync(x, "%s completed", kw);
			return;
		}
		(void)xsnprintf(pats[npat++], sizeof(pats[0]), "%s%s", ref,
		    a[i].s);
		i++;
	} else
		goto usage;
	if (i < n) {
		if (!is_atom(&a[i], "RETURN") || i + 1 >= n ||
		    a[i + 1].type != IMAP_TOK_LIST_OPEN || (opt & LR_LSUB))
			goto usage;
		for (i += 2; i < n && a[i].type != IMAP_TOK_LIST_CLOSE; i++) {
			if (is_atom(&a[i], "SUBSCRIBED"))
				opt |= LR_SHOWSUB;
			else if (is_atom(&a[i], "CHILDREN"))
				opt |= LR_CHILDREN;
			else if (is_atom(&a[i], "SPECIAL-USE"))
				;
			else if (is_atom(&a[i], "STATUS")) {
				i++;
				if (parse_status_items(a, n, &i, &stm) == -1)
					goto usage;
				i--;
				opt |= LR_STATUS;
			} else
				goto usage;
		}
		if (i + 1 != n)
			goto usage;
	}
	if (imap_store_list(pv->maildir_fd, &fi, &nfi) == -1) {
		reply(s, "%s NO [SERVERBUG] Cannot list mailboxes", x->c->tag);
		return;
	}
	for (k = 0; k < nfi; k++) {
		int hit = 0;

		for (p = 0; p < npat && !hit; p++)
			hit = name_matches(pats[p], fi[k].name);
		if (!hit)
			continue;
		if ((opt & LR_SUBSCRIBED) && !fi[k].subscribed)
			continue;
		if (fi[k].nonexistent && !(opt & LR_SUBSCRIBED))
			continue;
		if ((opt & LR_SPECIAL) && fi[k].special == IMAP_SPECIAL_NONE)
			continue;
		(void)buf_printf(&s->out, "* %s (", kw);
		if (fi[k].nonexistent)
			(void)buf_appends(&s->out, (opt & LR_LSUB) ?
			    "\\Noselect" : "\\NonExistent");
		else
			(void)buf_appends(&s->out, fi[k].has_children ?
			    "\\HasChildren" : "\\HasNoChildren");
		if (fi[k].subscribed && (opt & LR_SHOWSUB))
			(void)buf_appends(&s->out, " \\Subscribed");
		(void)buf_appends(&s->out, special_attr(fi[k].special));
		(void)buf_appends(&s->out, ") \"/\" ");
		(void)imap_put_string(&s->out, fi[k].name, strlen(fi[k].name));
		(void)buf_appends(&s->out, "\r\n");
		if ((opt & LR_STATUS) && !fi[k].nonexistent) {
			struct imap_status st;

			memset(&st, 0, sizeof(st));
			if (imap_store_status(pv->maildir_fd, fi[k].name,
			    &st) == 0)
				put_status(s, fi[k].name, &st, stm);
		}
	}
	free(fi);
	ok_sync(x, "%s completed", kw);
	return;
usage:
	bad(s, x->c->tag, "Invalid LIST arguments");
}

/* ---- APPEND ---- */

static void
append_reset(struct priv *pv)
{
	if (pv->appending)
		imap_append_abort(&pv->ap);
	pv->appending = 0;
	pv->append_err = 0;
	pv->append_seen = 0;
}

static void
append_begin(struct imap_session *s)
{
	struct priv *pv = P(s);
	struct imap_cmd *c = &pv->p->cmd;
	char name[IMAP_NAME_MAX + 1];

	append_reset(pv);
	pv->append_seen = 1;
	if (s->state != IMAP_STATE_AUTH && s->state != IMAP_STATE_SELECTED) {
		pv->append_err = EACCES;
		return;
	}
	if (pv->p->literal_size > pv->set.max_message_size) {
		pv->append_err = EFBIG;
		return;
	}
	if (c->nargs < 1 || mbox_name(&c->args[0], name, sizeof(name)) == NULL) {
		pv->append_err = EINVAL;
		return;
	}
	if (imap_append_begin(&pv->ap, pv->maildir_fd, name) == -1) {
		pv->append_err = errno ? errno : EIO;
		return;
	}
	pv->appending = 1;
}

static void
append_data(struct imap_session *s, const char *d, size_t n)
{
	struct priv *pv = P(s);

	if (!pv->appending)
		return;
	if (imap_append_write(&pv->ap, d, n) == -1) {
		pv->append_err = errno ? errno : EIO;
		imap_append_abort(&pv->ap);
		pv->appending = 0;
	}
}

static void
c_append(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);
	unsigned fl = 0;
	time_t when = 0;
	size_t i = 1;
	uint32_t uid = 0, uv = 0;

	if (!pv->append_seen) {
		bad(s, x->c->tag, "Usage: APPEND mailbox [flags] [date] literal");
		return;
	}
	if (i < x->n && x->a[i].type == IMAP_TOK_LIST_OPEN &&
	    parse_flags(x->a, x->n, &i, &fl) == -1)
		goto badargs;
	if (i < x->n && x->a[i].type == IMAP_TOK_STRING && !x->a[i].literal) {
		if (parse_datetime(x->a[i].s, x->a[i].len, &when) == -1)
			goto badargs;
		i++;
	}
	if (i + 1 != x->n || !x->a[i].literal)	/* one message: no MULTIAPPEND */
		goto badargs;
	switch (pv->append_err) {
	case 0:
		break;
	case EFBIG:
		append_reset(pv);
		reply(s, "%s NO [TOOBIG] Message too big", x->c->tag);
		return;
	case ENOENT:
		append_reset(pv);
		reply(s, "%s NO [TRYCREATE] No such mailbox", x->c->tag);
		return;
	case EINVAL:
		append_reset(pv);
		bad(s, x->c->tag, "Invalid mailbox name");
		return;
	default:
		append_reset(pv);
		reply(s, "%s NO [SERVERBUG] Cannot save the message", x->c->tag);
		return;
	}
	pv->appending = 0;
	pv->append_seen = 0;
	if (imap_append_commit(&pv->ap, fl, when, &uid, &uv) == -1) {
		reply(s, "%s NO [SERVERBUG] Cannot save the message", x->c->tag);
		return;
	}
	ok_sync(x, "[APPENDUID %" PRIu32 " %" PRIu32 "] APPEND completed", uv,
	    uid);
	return;
badargs:
	append_reset(pv);
	bad(s, x->c->tag, "Invalid APPEND arguments");
}

/* ---- SELECTED commands ---- */

static void
c_close(struct cmdctx *x)
{
	int expunge = strcmp(x->c->name, "CLOSE") == 0;

	unselect(x->s, expunge);
	reply(x->s, "%s OK %s completed", x->c->tag, x->c->name);
}

static void
c_expunge(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);
	struct imap_seqset *set = NULL;
	uint32_t *ex = NULL, *uids = NULL;
	size_t nex = 0, i, nu = 0;

	if (pv->f.readonly) {
		reply(s, "%s NO [READ-ONLY] Mailbox is read-only", x->c->tag);
		return;
	}
	if (x->uid) {
		set = xcalloc(1, sizeof(*set));
		if (x->n != 1 || x->a[0].type != IMAP_TOK_ATOM ||
		    imap_seqset_parse(x->a[0].s, x->a[0].len, set) == -1) {
			free(set);
			bad(s, x->c->tag, "Usage: UID EXPUNGE uid-set");
			return;
		}
		uids = xcalloc(pv->f.n + 1, sizeof(*uids));
		for (i = 0; i < pv->f.n; i++)
			if (imap_seqset_contains(set, pv->f.msgs[i].uid,
			    pv->f.msgs[pv->f.n - 1].uid))
				uids[nu++] = pv->f.msgs[i].uid;
		free(set);
	} else if (x->n != 0) {
		bad(s, x->c->tag, "Usage: EXPUNGE");
		return;
	}
	if (x->uid && nu == 0) {
		free(uids);
		ok_sync(x, "UID EXPUNGE completed");
		return;
	}
	if (imap_folder_expunge(&pv->f, uids, nu, &ex, &nex) == -1) {
		free(uids);
		reply(s, "%s NO [SERVERBUG] Expunge failed", x->c->tag);
		return;
	}
	for (i = 0; i < nex; i++)
		reply(s, "* %" PRIu32 " EXPUNGE", ex[i]);
	free(ex);
	free(uids);
	ok_sync(x, "EXPUNGE completed");
}

static void
fetch_unmap(struct priv *pv)
{
	if (pv->map != NULL && pv->map != MAP_FAILED)
		munmap(pv->map, pv->maplen);
	pv->map = NULL;
	pv->maplen = 0;
}

/* The items and the iterator of a FETCH, allocated per command. */
static void
fetch_free(struct priv *pv)
{
	free(pv->items);
	free(pv->it);
	pv->items = NULL;
	pv->it = NULL;
}

static void
fetch_end(struct imap_session *s)
{
	struct priv *pv = P(s);

	fetch_unmap(pv);
	free(pv->fidx);
	pv->fidx = NULL;
	fetch_free(pv);
	pv->pumping = 0;
	pv->fin_msg = 0;
	reply(s, "%s OK %sFETCH completed", pv->tag, pv->fuid ? "UID " : "");
}

/* Start message fidx[fpos]: \Seen first, then map. 0, or -1 to skip it. */
static int
fetch_msg_start(struct imap_session *s)
{
	struct priv *pv = P(s);
	size_t i = pv->fidx[pv->fpos];
	struct imap_msg *m = &pv->f.msgs[i];
	int add_flags = 0;
	const char *data = NULL;
	size_t len = 0;

	if (imap_fetch_sets_seen(pv->items) && !pv->f.readonly &&
	    !(m->flags & IMAP_F_SEEN)) {
		if (imap_folder_store(&pv->f, i, '+', IMAP_F_SEEN) == 0)
			add_flags = 1;
	}
	if (imap_fetch_needs_body(pv->items)) {
		int fd = imap_folder_msg_open(&pv->f, i);
		struct stat st;

		if (fd == -1)
			return -1;	/* gone: the next sync says so */
		if (fstat(fd, &st) == -1) {
			close(fd);
			return -1;
		}
		if (st.st_size > 0) {
			pv->map = mmap(NULL, (size_t)st.st_size, PROT_READ,
			    MAP_PRIVATE, fd, 0);
			if (pv->map == MAP_FAILED) {
				pv->map = NULL;
				close(fd);
				return -1;
			}
			pv->maplen = (size_t)st.st_size;
			data = pv->map;
			len = pv->maplen;
		} else
			data = "";
		close(fd);
	}
	imap_fetch_begin(pv->it, pv->items, m, (uint32_t)(i + 1), data, len,
	    add_flags);
	pv->fin_msg = 1;
	return 0;
}

static int
fetch_pump(struct imap_session *s)
{
	struct priv *pv = P(s);
	int r;

	while (pv->pumping && s->out.len < IMAP_OUT_HIGHWATER) {
		if (!pv->fin_msg) {
			if (pv->fpos >= pv->fn) {
				fetch_end(s);
				return 0;
			}
			if (fetch_msg_start(s) == -1) {
				pv->fpos++;
				continue;
			}
		}
		r = imap_fetch_next(pv->it, &s->out, IMAP_OUT_HIGHWATER);
		if (r == 1)
			continue;
		fetch_unmap(pv);
		pv->fin_msg = 0;
		pv->fpos++;
		if (r == -1) {
			/* cannot happen with our bounds; end the response */
			(void)buf_appends(&s->out, "\r\n");
		}
	}
	return pv->pumping;
}

static void
c_fetch(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);
	struct imap_seqset *set;
	const char *why = "Invalid FETCH arguments";

	set = xcalloc(1, sizeof(*set));
	pv->items = xcalloc(1, sizeof(*pv->items));
	if (x->n < 2 || x->a[0].type != IMAP_TOK_ATOM ||
	    imap_seqset_parse(x->a[0].s, x->a[0].len, set) == -1 ||
	    imap_fetch_parse(x->a + 1, x->n - 1, x->uid, pv->items, &why) == -1) {
		free(set);
		fetch_free(pv);
		bad(s, x->c->tag, why);
		return;
	}
	pv->it = xcalloc(1, sizeof(*pv->it));
	pv->fidx = set_indices(s, set, x->uid, &pv->fn);
	free(set);
	pv->fpos = 0;
	pv->fin_msg = 0;
	pv->fuid = x->uid;
	(void)xsnprintf(pv->tag, sizeof(pv->tag), "%s", x->c->tag);
	pv->pumping = 1;
	(void)fetch_pump(s);
}

static void
c_store(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);
	struct imap_seqset *set;
	size_t *idx, n, k, i = 2;
	unsigned fl;
	int mode, silent = 0;
	const char *item;

	if (x->n < 3 || x->a[0].type != IMAP_TOK_ATOM ||
	    x->a[1].type != IMAP_TOK_ATOM) {
		bad(s, x->c->tag, "Usage: STORE set item flags");
		return;
	}
	item = x->a[1].s;
	mode = '=';
	if (item[0] == '+' || item[0] == '-')
		mode = *item++;
	if (strncasecmp(item, "FLAGS", 5) != 0 || (item[5] != '\0' &&
	    strcasecmp(item + 5, ".SILENT") != 0)) {
		bad(s, x->c->tag, "Invalid STORE item");
		return;
	}
	silent = item[5] != '\0';
	set = xcalloc(1, sizeof(*set));
	if (imap_seqset_parse(x->a[0].s, x->a[0].len, set) == -1 ||
	    parse_flags(x->a, x->n, &i, &fl) == -1 || i != x->n) {
		free(set);
		bad(s, x->c->tag, "Invalid STORE arguments");
		return;
	}
	if (pv->f.readonly) {
		free(set);
		reply(s, "%s NO [READ-ONLY] Mailbox is read-only", x->c->tag);
		return;
	}
	idx = set_indices(s, set, x->uid, &n);
	free(set);
	for (k = 0; k < n; k++) {
		if (imap_folder_store(&pv->f, idx[k], mode, fl) == -1)
			continue;
		if (!silent)
			put_fetch_flags(s, (uint32_t)(idx[k] + 1),
				    &pv->f.msgs[idx[k]], x->uid);
	}
	free(idx);
	reply(s, "%s OK %sSTORE completed", x->c->tag, x->uid ? "UID " : "");
}

static void
c_copy(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);
	int move = strcmp(x->c->name, "MOVE") == 0;
	struct imap_seqset *set;
	char dest[IMAP_NAME_MAX + 1];
	size_t *idx, n, k;
	uint32_t *src, *dst, uv = 0;
	struct buf codes;

	set = xcalloc(1, sizeof(*set));
	if (x->n != 2 || x->a[0].type != IMAP_TOK_ATOM ||
	    imap_seqset_parse(x->a[0].s, x->a[0].len, set) == -1 ||
	    mbox_name(&x->a[1], dest, sizeof(dest)) == NULL) {
		free(set);
		bad(s, x->c->tag, "Usage: COPY set mailbox");
		return;
	}
	if (move && pv->f.readonly) {
		free(set);
		reply(s, "%s NO [READ-ONLY] Mailbox is read-only", x->c->tag);
		return;
	}
	idx = set_indices(s, set, x->uid, &n);
	free(set);
	src = xcalloc(n + 1, sizeof(*src));
	dst = xcalloc(n + 1, sizeof(*dst));
	for (k = 0; k < n; k++) {
		if (imap_folder_copy(&pv->f, idx[k], dest, &dst[k], &uv) == -1) {
			int e = errno;

			if (e == ENOENT)
				reply(s, "%s NO [TRYCREATE] No such mailbox",
				    x->c->tag);
			else
				reply(s, "%s NO [SERVERBUG] Copy failed",
				    x->c->tag);
			free(idx);
			free(src);
			free(dst);
			return;
		}
		src[k] = pv->f.msgs[idx[k]].uid;
	}
	buf_init(&codes, IMAP_OUT_HIGHWATER);
	if (n > 0) {
		(void)buf_printf(&codes, "[COPYUID %" PRIu32 " ", uv);
		put_uidset(&codes, src, n);
		(void)buf_appendc(&codes, ' ');
		put_uidset(&codes, dst, n);
		(void)buf_appends(&codes, "] ");
	}
	if (move) {
		uint32_t *ex = NULL;
		size_t nex = 0;

		if (n > 0) {
			reply(s, "* OK %sMoved", codes.data);
			for (k = 0; k < n; k++)
				(void)imap_folder_store(&pv->f, idx[k], '+',
				    IMAP_F_DELETED);
			(void)imap_folder_expunge(&pv->f, src, n, &ex, &nex);
			for (k = 0; k < nex; k++)
				reply(s, "* %" PRIu32 " EXPUNGE", ex[k]);
			free(ex);
		}
		ok_sync(x, "MOVE completed");
	} else
		ok_sync(x, "%sCOPY completed", codes.data ? codes.data : "");
	buf_free(&codes);
	free(idx);
	free(src);
	free(dst);
}

static void
c_search(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);
	struct imap_search *q = xcalloc(1, sizeof(*q));
	const char *why = "Invalid SEARCH arguments";
	uint32_t maxuid = pv->f.n ? pv->f.msgs[pv->f.n - 1].uid : 0;
	uint32_t count = 0;
	uint32_t *hits = xcalloc(pv->f.n + 1, sizeof(*hits));
	size_t i;
	int r;

	r = imap_search_parse(x->a, x->n, q, &why);
	if (r == -2) {
		reply(s, "%s NO [BADCHARSET (UTF-8)] Unsupported charset",
		    x->c->tag);
		goto out;
	}
	if (r == -1) {
		bad(s, x->c->tag, why);
		goto out;
	}
	for (i = 0; i < pv->f.n; i++) {
		const struct imap_msg *m = &pv->f.msgs[i];
		void *map = NULL;
		size_t len = 0;
		int hit;

		if (q->needs_body) {
			int fd = imap_folder_msg_open(&pv->f, i);
			struct stat st;

			if (fd == -1)
				continue;
			if (fstat(fd, &st) == 0 && st.st_size > 0) {
				map = mmap(NULL, (size_t)st.st_size, PROT_READ,
				    MAP_PRIVATE, fd, 0);
				if (map == MAP_FAILED)
					map = NULL;
				else
					len = (size_t)st.st_size;
			}
			close(fd);
		}
		hit = imap_search_match(q, (uint32_t)(i + 1), m,
		    map ? map : (q->needs_body ? "" : NULL), len,
		    (uint32_t)pv->f.n, maxuid);
		if (map)
			munmap(map, len);
		if (hit)
			hits[count++] = x->uid ? m->uid : (uint32_t)(i + 1);
	}
	/* IMAP4rev2 clients always get ESEARCH (RFC 9051 6.4.4), ALL when
	 * they asked for nothing in particular. */
	if (pv->rev2)
		q->esearch = 1;
	if (q->esearch && q->ret == 0)
		q->ret = IMAP_SEARCH_RET_ALL;
	(void)imap_search_format(&s->out, q, x->c->tag, x->uid, hits, count);
	reply(s, "%s OK %sSEARCH completed", x->c->tag, x->uid ? "UID " : "");
out:
	free(hits);
	free(q);
}

static void
c_idle(struct cmdctx *x)
{
	struct imap_session *s = x->s;
	struct priv *pv = P(s);

	if (x->n != 0) {
		bad(s, x->c->tag, "Usage: IDLE");
		return;
	}
	if (sync_folder(s) == -1)
		return;
	(void)xsnprintf(pv->tag, sizeof(pv->tag), "%s", x->c->tag);
	pv->line_len = 0;
	pv->line_over = 0;
	s->state = IMAP_STATE_IDLE;
	reply(s, "+ idling");
}

static void
idle_line(struct imap_session *s, const char *line, size_t len)
{
	struct priv *pv = P(s);

	s->state = pv->selected ? IMAP_STATE_SELECTED : IMAP_STATE_AUTH;
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0) {
		if (sync_folder(s) == -1)
			return;
		reply(s, "%s OK IDLE terminated", pv->tag);
		return;
	}
	bad(s, pv->tag, "Expected DONE");
}

/* ---- dispatch ---- */

#define ST(x)	(1u << (x))
#define S_ANY	(ST(IMAP_STATE_NOT_AUTH) | ST(IMAP_STATE_AUTH) | \
		 ST(IMAP_STATE_SELECTED))
#define S_NOT	ST(IMAP_STATE_NOT_AUTH)
#define S_AUTH	(ST(IMAP_STATE_AUTH) | ST(IMAP_STATE_SELECTED))
#define S_SEL	ST(IMAP_STATE_SELECTED)

static const struct {
	const char	*name;
	void		(*fn)(struct cmdctx *);
	unsigned	 states;
	int		 uid_ok;	/* may follow "UID" */
} cmds[] = {
	{ "CAPABILITY",	c_capability,	S_ANY, 0 },
	{ "NOOP",	c_noop,		S_ANY, 0 },
	{ "LOGOUT",	c_logout,	S_ANY, 0 },
	{ "ID",		c_id,		S_ANY, 0 },
	{ "STARTTLS",	c_starttls,	S_NOT, 0 },
	{ "LOGIN",	c_login,	S_NOT, 0 },
	{ "AUTHENTICATE", c_authenticate, S_NOT, 0 },
	{ "ENABLE",	c_enable,	S_AUTH, 0 },
	{ "NAMESPACE",	c_namespace,	S_AUTH, 0 },
	{ "SELECT",	c_select,	S_AUTH, 0 },
	{ "EXAMINE",	c_select,	S_AUTH, 0 },
	{ "CREATE",	c_mbox_op,	S_AUTH, 0 },
	{ "DELETE",	c_mbox_op,	S_AUTH, 0 },
	{ "RENAME",	c_mbox_op,	S_AUTH, 0 },
	{ "SUBSCRIBE",	c_mbox_op,	S_AUTH, 0 },
	{ "UNSUBSCRIBE", c_mbox_op,	S_AUTH, 0 },
	{ "LIST",	c_list,		S_AUTH, 0 },
	{ "LSUB",	c_list,		S_AUTH, 0 },
	{ "STATUS",	c_status,	S_AUTH, 0 },
	{ "APPEND",	c_append,	S_AUTH, 0 },
	{ "IDLE",	c_idle,		S_AUTH, 0 },
	{ "CHECK",	c_check,	S_SEL, 0 },
	{ "CLOSE",	c_close,	S_SEL, 0 },
	{ "UNSELECT",	c_close,	S_SEL, 0 },
	{ "EXPUNGE",	c_expunge,	S_SEL, 1 },
	{ "SEARCH",	c_search,	S_SEL, 1 },
	{ "FETCH",	c_fetch,	S_SEL, 1 },
	{ "STORE",	c_store,	S_SEL, 1 },
	{ "COPY",	c_copy,		S_SEL, 1 },
	{ "MOVE",	c_copy,		S_SEL, 1 },
};

static void
dispatch(struct imap_session *s, struct imap_cmd *c)
{
	struct cmdctx x;
	const char *name = c->name;
	size_t k;
	unsigned errors;

	memset(&x, 0, sizeof(x));
	x.s = s;
	x.c = c;
	x.a = c->args;
	x.n = c->nargs;
	if (strcmp(name, "UID") == 0) {
		if (c->nargs < 1 || c->args[0].type != IMAP_TOK_ATOM) {
			bad(s, c->tag, "Usage: UID command ...");
			return;
		}
		name = c->args[0].s;
		x.uid = 1;
		x.a = c->args + 1;
		x.n = c->nargs - 1;
	}
	for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (strcasecmp(cmds[k].name, name) == 0)
			break;
	if (k == sizeof(cmds) / sizeof(cmds[0]) || (x.uid && !cmds[k].uid_ok)) {
		if (strcmp(c->name, "APPEND") == 0)
			append_reset(P(s));
		bad(s, c->tag, "Unknown command");
		return;
	}
	if (!(cmds[k].states & ST(s->state))) {
		if (cmds[k].fn == c_append)
			append_reset(P(s));
		bad(s, c->tag, "Command not valid in this state");
		return;
	}
	/* c_copy tells MOVE from COPY by the name: give it the real one. */
	if (x.uid && cmds[k].fn == c_copy) {
		(void)xsnprintf(c->name, sizeof(c->name), "%s",
		    strcasecmp(name, "MOVE") == 0 ? "MOVE" : "COPY");
		x.uid = 1;
	}
	errors = P(s)->errors;
	cmds[k].fn(&x);
	/* max_errors counts errors in a row: a command that went through
	 * without one starts the count again (a login failure counts). */
	if (P(s)->errors == errors && s->state != IMAP_STATE_AUTH_WAIT)
		P(s)->errors = 0;
}

/* ---- raw lines (SASL, IDLE) ---- */

/* Move the raw line to a block of cap octets; the old one is wiped (a
 * SASL line holds credentials). */
static void
line_move(struct priv *pv, size_t cap)
{
	char *l = xreallocarray(NULL, cap, 1);

	if (pv->line != NULL) {
		memcpy(l, pv->line, pv->line_len);
		explicit_bzero(pv->line, pv->line_cap);
		free(pv->line);
	}
	pv->line = l;
	pv->line_cap = cap;
}

/* The raw line was handled (or refused): wipe and free it. */
static void
line_drop(struct priv *pv)
{
	if (pv->line != NULL) {
		explicit_bzero(pv->line, pv->line_cap);
		free(pv->line);
	}
	pv->line = NULL;
	pv->line_cap = 0;
	pv->line_len = 0;
}

/* Gather one line from in; returns octets used, *done when a whole line
 * (without CRLF) is in pv->line. The buffer grows by doubling up to
 * SESS_LINE_MAX + 1. */
static size_t
take_line(struct priv *pv, const char *in, size_t len, int *done)
{
	size_t i;

	*done = 0;
	if (pv->line == NULL)
		line_move(pv, SESS_LINE_START);
	for (i = 0; i < len; i++) {
		char ch = in[i];

		if (ch == '\n') {
			if (pv->line_len && pv->line[pv->line_len - 1] == '\r')
				pv->line_len--;
			pv->line[pv->line_len] = '\0';
			*done = 1;
			return i + 1;
		}
		if (pv->line_len >= SESS_LINE_MAX) {
			pv->line_over = 1;
			continue;
		}
		if (pv->line_len + 1 >= pv->line_cap)	/* the octet, the NUL */
			line_move(pv, pv->line_cap * 2 > SESS_LINE_MAX + 1 ?
			    SESS_LINE_MAX + 1 : pv->line_cap * 2);
		pv->line[pv->line_len++] = ch;
	}
	return len;
}

static int
blocked(const struct imap_session *s)
{
	const struct priv *pv = P(s);

	return s->close || s->state == IMAP_STATE_AUTH_WAIT ||
	    s->state == IMAP_STATE_TLS_WAIT || s->state == IMAP_STATE_LOGOUT ||
	    s->state == IMAP_STATE_GREETING || pv->pumping ||
	    s->out.len >= IMAP_OUT_HIGHWATER;
}

/* ---- public ---- */

void
imap_session_init(struct imap_session *s, const struct imap_settings *set,
    const char *client_text, const struct imap_session_ops *ops, void *arg)
{
	struct priv *pv;

	memset(s, 0, sizeof(*s));
	pv = xcalloc(1, sizeof(*pv));
	s->priv = pv;
	pv->set = *set;
	if (pv->set.max_errors == 0)
		pv->set.max_errors = IMAP_MAX_ERRORS_DEFAULT;
	pv->ops = ops;
	pv->arg = arg;
	(void)xsnprintf(pv->client, sizeof(pv->client), "%s",
	    client_text ? client_text : "");
	pv->p = xcalloc(1, sizeof(*pv->p));
	imap_parse_init(pv->p, set->max_message_size);
	pv->maildir_fd = -1;
	buf_init(&s->out, IMAP_OUT_MAX);
	s->state = IMAP_STATE_GREETING;
}

void
imap_session_free(struct imap_session *s)
{
	struct priv *pv = P(s);

	if (pv == NULL)
		return;
	if (pv->pumping) {
		if (pv->fin_msg)
			imap_fetch_abort(pv->it);
		fetch_unmap(pv);
		free(pv->fidx);
	}
	fetch_free(pv);
	line_drop(pv);
	append_reset(pv);
	if (pv->selected) {
		pv->ops->watch(pv->arg, -1);
		imap_folder_close(&pv->f);
	}
	if (pv->maildir_fd != -1)
		close(pv->maildir_fd);
	imap_parse_free(pv->p);
	free(pv->p);
	explicit_bzero(pv, sizeof(*pv));
	free(pv);
	s->priv = NULL;
	buf_free(&s->out);
}

void
imap_session_start(struct imap_session *s)
{
	s->state = IMAP_STATE_NOT_AUTH;
	(void)buf_appends(&s->out, "* OK [CAPABILITY ");
	capabilities(s, &s->out);
	(void)buf_appends(&s->out, "] postern IMAP4rev2 ready\r\n");
}

size_t
imap_session_feed(struct imap_session *s, const char *in, size_t len)
{
	struct priv *pv = P(s);
	size_t used = 0, n;
	enum imap_event ev;
	int done;

	if (!pv->pumping)	/* a large reply before is not kept */
		buf_shrink(&s->out, SESS_OUT_KEEP);
	while (used < len && !blocked(s)) {
		if (s->state == IMAP_STATE_SASL || s->state == IMAP_STATE_IDLE) {
			n = take_line(pv, in + used, len - used, &done);
			used += n;
			if (!done)
				continue;
			if (pv->line_over) {
				pv->line_over = 0;
				line_drop(pv);
				if (s->state == IMAP_STATE_SASL &&
				    pv->sasl == SASL_SCRAM && pv->ops->scram_abort)
					pv->ops->scram_abort(pv->arg);
				s->state = pv->selected ? IMAP_STATE_SELECTED :
				    s->user[0] ? IMAP_STATE_AUTH :
				    IMAP_STATE_NOT_AUTH;
				bad(s, pv->tag, "Line too long");
				continue;
			}
			pv->line_len = 0;
			if (s->state == IMAP_STATE_SASL)
				sasl_line(s, pv->line, strlen(pv->line));
			else
				idle_line(s, pv->line, strlen(pv->line));
			line_drop(pv);
			continue;
		}
		n = imap_parse_feed(pv->p, in + used, len - used, &ev);
		used += n;
		switch (ev) {
		case IMAP_EV_NONE:
			break;
		case IMAP_EV_CONTINUE:
			if (strcmp(pv->p->cmd.name, "APPEND") == 0 &&
			    s->state != IMAP_STATE_AUTH &&
			    s->state != IMAP_STATE_SELECTED) {
				imap_parse_reject_literal(pv->p);
				bad(s, pv->p->cmd.tag,
				    "Command not valid in this state");
				break;
			}
			if (strcmp(pv->p->cmd.name, "APPEND") == 0 &&
			    pv->p->literal_size > pv->set.max_message_size) {
				/* refuse before the client sends it */
				imap_parse_reject_literal(pv->p);
				reply(s, "%s NO [TOOBIG] Message too big",
				    pv->p->cmd.tag);
				break;
			}
			reply(s, "+ Ready for literal data");
			break;
		case IMAP_EV_LITERAL_BEGIN:
			append_begin(s);
			break;
		case IMAP_EV_LITERAL_DATA:
			append_data(s, pv->p->data, pv->p->data_len);
			break;
		case IMAP_EV_LITERAL_END:
			break;
		case IMAP_EV_COMMAND:
			if (pv->p->cmd.name[0] == '\0') {
				bad(s, pv->p->cmd.tag, "Missing command");
				break;
			}
			dispatch(s, &pv->p->cmd);
			if (strcmp(pv->p->cmd.name, "LOGIN") == 0 &&
			    pv->p->cmd.nargs >= 2)
				explicit_bzero((char *)pv->p->cmd.args[1].s,
				    pv->p->cmd.args[1].len);
			break;
		case IMAP_EV_BAD:
			append_reset(pv);
			if (pv->p->toobig)
				reply(s, "%s %s [TOOBIG] %s", pv->p->cmd.tag,
				    strcmp(pv->p->cmd.name, "APPEND") == 0 ?
				    "NO" : "BAD",
				    pv->p->error ? pv->p->error : "Too big");
			else
				bad(s, pv->p->cmd.tag[0] ? pv->p->cmd.tag : "*",
				    pv->p->error ? pv->p->error :
				    "Syntax error");
			break;
		}
		if (n == 0 && ev == IMAP_EV_NONE)
			break;
	}
	return used;
}

int
imap_session_pump(struct imap_session *s)
{
	if (!P(s)->pumping)
		return 0;
	return fetch_pump(s);
}

int
imap_session_pumping(const struct imap_session *s)
{
	return P(s)->pumping;
}

void
imap_session_auth_result(struct imap_session *s, int outcome,
    const char *user)
{
	struct priv *pv = P(s);

	if (s->state != IMAP_STATE_AUTH_WAIT)
		return;
	if (pv->wait == WAIT_LOGIN) {
		pv->wait = WAIT_NONE;
		pv->sasl = SASL_NONE;
		if (outcome == OUTCOME_OK)
			login_done(s, user ? user : pv->wait_user);
		else
			login_failed(s, outcome);
		explicit_bzero(pv->wait_user, sizeof(pv->wait_user));
		return;
	}
	/* SCRAM: the final outcome. */
	if (outcome != OUTCOME_OK || user == NULL) {
		pv->wait = WAIT_NONE;
		login_failed(s, outcome == OUTCOME_OK ? OUTCOME_DENIED : outcome);
		return;
	}
	(void)xsnprintf(pv->scram_user, sizeof(pv->scram_user), "%s", user);
	if (pv->wait == WAIT_SCRAM_FINAL_ACK) {
		/* server-final already sent: wait for the empty line */
		s->state = IMAP_STATE_SASL;
		return;
	}
	pv->wait = WAIT_NONE;
	pv->sasl = SASL_NONE;
	login_done(s, pv->scram_user);
}

void
imap_session_sasl_result(struct imap_session *s, const char *msg, size_t len)
{
	struct priv *pv = P(s);
	char b64[BASE64_ENCODED_SIZE(SASL_MSG_MAX)];

	if (s->state != IMAP_STATE_AUTH_WAIT || pv->sasl != SASL_SCRAM)
		return;
	if (len > SASL_MSG_MAX || base64_encode(b64, sizeof(b64), msg, len) < 0) {
		if (pv->ops->scram_abort)
			pv->ops->scram_abort(pv->arg);
		login_failed(s, OUTCOME_TEMP);
		return;
	}
	reply(s, "+ %s", b64);
	if (pv->wait == WAIT_SCRAM1) {
		s->state = IMAP_STATE_SASL;
		pv->line_len = 0;
		pv->wait = WAIT_NONE;
	} else {
		/* server-final: the outcome follows through auth_result */
		pv->wait = WAIT_SCRAM_FINAL_ACK;
	}
}

void
imap_session_changed(struct imap_session *s)
{
	struct priv *pv = P(s);

	pv->changed = 1;
	if (s->state == IMAP_STATE_IDLE && !pv->pumping)
		(void)sync_folder(s);
}

void
imap_session_tls_started(struct imap_session *s)
{
	struct priv *pv = P(s);

	s->tls_active = 1;
	s->state = IMAP_STATE_NOT_AUTH;
	imap_parse_free(pv->p);
	imap_parse_init(pv->p, pv->set.max_message_size);
}

void
imap_session_timeout(struct imap_session *s)
{
	bye_close(s, "Autologout; idle for too long");
}

void
imap_session_shutdown(struct imap_session *s)
{
	bye_close(s, "[UNAVAILABLE] shutting down");
}
