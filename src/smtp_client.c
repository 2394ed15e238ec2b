/* smtp_client - outbound SMTP client state machine; see smtp_client.h.
 *
 * Replies are matched to commands in order: the client remembers how many
 * replies it still expects (MAIL, RCPT n, DATA) and what each one means,
 * which is the same with and without PIPELINING (without it, the next
 * command is written only when the previous reply came). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decimal.h"
#include "smtp_client.h"

void
smtp_client_init(struct smtp_client *c, const char *helo_name)
{
	memset(c, 0, sizeof(*c));
	(void)xsnprintf(c->helo_name, sizeof(c->helo_name), "%s", helo_name);
	linebuf_init(&c->lb, SMTPC_LINE_MAX);
	buf_init(&c->out, SMTPC_OUT_MAX);
	c->state = SMTPC_GREETING;
}

void
smtp_client_free(struct smtp_client *c)
{
	buf_free(&c->out);
}

static void
set_result(struct smtpc_rcpt *r, int code, const char *text)
{
	if (r->done)
		return;
	r->done = 1;
	r->result = outcome_of_smtp_code(code);
	r->accepted = 0;
	(void)xsnprintf(r->reply, sizeof(r->reply), "%s", text);
}

/* Give every recipient still pending the same result. */
static void
fail_all(struct smtp_client *c, int code, const char *text)
{
	size_t i;

	if (c->txn == NULL)
		return;
	for (i = 0; i < c->txn->nrcpts; i++)
		set_result(&c->txn->rcpts[i], code, text);
}

static enum smtpc_event
session_fail(struct smtp_client *c, enum outcome fail, const char *text)
{
	c->fail = fail;
	(void)xsnprintf(c->fail_text, sizeof(c->fail_text), "%s", text);
	/* A session-level failure never makes a recipient permanent unless the
	 * server said 5xx: connection trouble is always temporary. */
	fail_all(c, fail == OUTCOME_PERM ? 550 : 450, c->fail_text);
	c->txn = NULL;
	c->state = SMTPC_CLOSED;
	return SMTPC_EV_FAILED;
}

/* TLS policy says no: temporary (4.7.x), never plaintext. */
static enum smtpc_event
tls_fail(struct smtp_client *c, const char *text)
{
	enum smtpc_event ev = session_fail(c, OUTCOME_TEMP, text);

	c->fail_tls = 1;
	return ev;
}

void
smtp_client_abort(struct smtp_client *c, const char *text)
{
	if (c->state == SMTPC_CLOSED)
		return;
	(void)session_fail(c, OUTCOME_TEMP, text);
}

static void
cmd(struct smtp_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
cmd(struct smtp_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	(void)buf_appends(&c->out, "\r\n");
}

/* One EHLO keyword line ("250-PIPELINING", text after the code). */
static void
ehlo_keyword(struct smtp_client *c, const char *kw, size_t n)
{
	char word[32];
	size_t i;

	for (i = 0; i < n && i < sizeof(word) - 1 && kw[i] != ' '; i++)
		word[i] = (char)toupper((unsigned char)kw[i]);
	word[i] = '\0';
	if (strcmp(word, "PIPELINING") == 0)
		c->ext |= SMTPC_EXT_PIPELINING;
	else if (strcmp(word, "8BITMIME") == 0)
		c->ext |= SMTPC_EXT_8BITMIME;
	else if (strcmp(word, "STARTTLS") == 0)
		c->ext |= SMTPC_EXT_STARTTLS;
	else if (strcmp(word, "SIZE") == 0) {
		uint64_t v = 0;
		size_t j = i, k;

		c->ext |= SMTPC_EXT_SIZE;
		while (j < n && kw[j] == ' ')
			j++;
		/* A value we cannot read (too large, or junk) counts as no
		 * limit announced, as before: the server's 552 still decides. */
		k = j;
		while (k < n && kw[k] >= '0' && kw[k] <= '9')
			k++;
		if (k == j || parse_decimal(kw + j, k - j, UINT64_MAX, &v) == -1)
			v = 0;
		c->size_max = v;
	}
}

/* The next command of a transaction, without PIPELINING. */
static void
send_next(struct smtp_client *c)
{
	struct smtpc_txn *t = c->txn;

	if (c->expect_rcpt < t->nrcpts)
		cmd(c, "RCPT TO:<%s>", t->rcpts[c->expect_rcpt].addr);
	else
		cmd(c, "DATA");
}

static void
txn_end(struct smtp_client *c, int rset)
{
	c->txn_done = 1;
	c->transactions++;
	if (rset) {
		cmd(c, "RSET");
		c->state = SMTPC_RSET;
	} else {
		c->state = SMTPC_IDLE;
		c->ready_told = 0;
	}
}

/* A complete reply in c->rcode / c->rtext for the current state. */
static enum smtpc_event
on_reply(struct smtp_client *c)
{
	int code = c->rcode;
	struct smtpc_txn *t = c->txn;

	switch (c->state) {
	case SMTPC_GREETING:
		if (code != 220)
			return session_fail(c, code >= 500 ? OUTCOME_PERM :
			    OUTCOME_TEMP, c->rtext);
		cmd(c, "EHLO %s", c->helo_name);
		c->state = SMTPC_EHLO;
		return SMTPC_EV_NONE;
	case SMTPC_EHLO:
		if (code >= 500) {
			c->ext = 0;
			c->size_max = 0;
			cmd(c, "HELO %s", c->helo_name);
			c->state = SMTPC_HELO;
			return SMTPC_EV_NONE;
		}
		/* fall through */
	case SMTPC_HELO:
		if (code != 250)
			return session_fail(c, code >= 500 ? OUTCOME_PERM :
			    OUTCOME_TEMP, c->rtext);
		c->esmtp = c->state == SMTPC_EHLO;
		if (!c->tls && c->tls_policy != SMTPC_TLS_NONE &&
		    (c->ext & SMTPC_EXT_STARTTLS)) {
			/* Alone: RFC 3207 makes it the last of a group. */
			cmd(c, "STARTTLS");
			c->state = SMTPC_STARTTLS;
			return SMTPC_EV_NONE;
		}
		if (!c->tls && c->tls_policy == SMTPC_TLS_REQUIRED)
			return tls_fail(c, "4.7.4 TLS required but not "
			    "available: STARTTLS not offered");
		c->state = SMTPC_IDLE;
		c->ready_told = 0;
		return SMTPC_EV_NONE;
	case SMTPC_STARTTLS:
		if (code == 220) {
			/* Nothing more is read in clear: the driver drops
			 * what followed the 220 (CVE-2011-0411 in reverse). */
			c->state = SMTPC_TLS;
			return SMTPC_EV_STARTTLS;
		}
		if (c->tls_policy == SMTPC_TLS_REQUIRED) {
			char text[SMTPC_TEXT_MAX];

			(void)xsnprintf(text, sizeof(text), "4.7.4 TLS required "
			    "but not available: STARTTLS refused: %s",
			    c->rtext);
			return tls_fail(c, text);
		}
		if (code == 421)
			return session_fail(c, OUTCOME_TEMP, c->rtext);
		/* MAY: the server is still in its post-EHLO state (RFC 3207
		 * 4): go on in plaintext with what the EHLO said. */
		c->state = SMTPC_IDLE;
		c->ready_told = 0;
		return SMTPC_EV_NONE;
	case SMTPC_TXN:
		if (c->expect_mail) {
			c->expect_mail = 0;
			if (code == 421)
				return session_fail(c, OUTCOME_TEMP, c->rtext);
			if (code >= 200 && code < 300)
				c->mail_ok = 1;
			else
				fail_all(c, code, c->rtext);
			if (!(c->ext & SMTPC_EXT_PIPELINING)) {
				if (!c->mail_ok) {
					c->expect_rcpt = t->nrcpts;
					c->expect_data = 0;
					txn_end(c, 1);
					return SMTPC_EV_TXN_DONE;
				}
				send_next(c);
			}
			return SMTPC_EV_NONE;
		}
		if (c->expect_rcpt < t->nrcpts) {
			struct smtpc_rcpt *r = &t->rcpts[c->expect_rcpt++];

			if (code == 421)
				return session_fail(c, OUTCOME_TEMP, c->rtext);
			if (c->mail_ok) {
				if (code >= 200 && code < 300) {
					if (!r->done) {
						r->accepted = 1;
						c->naccepted++;
					}
				} else
					set_result(r, code, c->rtext);
			}
			if (!(c->ext & SMTPC_EXT_PIPELINING)) {
				if (c->expect_rcpt == t->nrcpts &&
				    c->naccepted == 0) {
					c->expect_data = 0;
					txn_end(c, 1);
					return SMTPC_EV_TXN_DONE;
				}
				send_next(c);
			}
			return SMTPC_EV_NONE;
		}
		/* The DATA reply. */
		c->expect_data = 0;
		if (code == 354) {
			if (c->naccepted == 0 || !c->mail_ok) {
				/* Pipelined DATA accepted with nobody to send
				 * to: end it empty (RFC 2920 3.1). */
				(void)buf_appends(&c->out, ".\r\n");
				c->state = SMTPC_DOT;
				return SMTPC_EV_NONE;
			}
			c->state = SMTPC_BODY;
			return SMTPC_EV_BODY;
		}
		if (code == 421)
			return session_fail(c, OUTCOME_TEMP, c->rtext);
		if (c->naccepted > 0)
			fail_all(c, code, c->rtext);
		txn_end(c, 1);
		return SMTPC_EV_TXN_DONE;
	case SMTPC_DOT:
		if (c->naccepted == 0 || !c->mail_ok) {
			txn_end(c, 1);
			return SMTPC_EV_TXN_DONE;
		}
		if (code == 421 && c->txn) {
			/* The results stand; the session is over. */
			fail_all(c, code, c->rtext);
			return session_fail(c, OUTCOME_TEMP, c->rtext);
		}
		fail_all(c, code >= 200 && code < 300 ? 250 : code, c->rtext);
		txn_end(c, 0);
		return SMTPC_EV_TXN_DONE;
	case SMTPC_RSET:
		if (code != 250)
			return session_fail(c, OUTCOME_TEMP, c->rtext);
		c->state = SMTPC_IDLE;
		c->ready_told = 0;
		return SMTPC_EV_NONE;
	case SMTPC_QUIT:
		c->state = SMTPC_CLOSED;
		return SMTPC_EV_CLOSED;
	case SMTPC_IDLE:
	case SMTPC_BODY:
	case SMTPC_TLS:
		return session_fail(c, OUTCOME_TEMP,
		    "protocol error: unexpected reply");
	case SMTPC_CLOSED:
		break;
	}
	return SMTPC_EV_NONE;
}

/* One reply line: "DDD-text", "DDD text" or "DDD". */
static enum smtpc_event
on_line(struct smtp_client *c, const char *l, size_t n)
{
	uint64_t v;
	int code, more;
	size_t o, k;

	if (n < 3 || parse_decimal(l, 3, 599, &v) == -1 || v < 200 ||
	    (n > 3 && l[3] != ' ' && l[3] != '-'))
		return session_fail(c, OUTCOME_TEMP,
		    "protocol error: malformed reply");
	code = (int)v;
	more = n > 3 && l[3] == '-';
	if (c->rlines > 0 && code != c->rcode)
		return session_fail(c, OUTCOME_TEMP,
		    "protocol error: reply code changed inside a reply");
	if (++c->rlines > SMTPC_LINES_MAX)
		return session_fail(c, OUTCOME_TEMP,
		    "protocol error: reply too long");
	if (c->rlines == 1) {
		c->rcode = code;
		(void)xsnprintf(c->rtext, sizeof(c->rtext), "%d", code);
	} else if (c->state == SMTPC_EHLO)
		ehlo_keyword(c, l + 4, n > 4 ? n - 4 : 0);
	/* Keep the text, lines joined by a space, printable only. */
	o = strlen(c->rtext);
	if (n > 4 && o + 2 < sizeof(c->rtext)) {
		c->rtext[o++] = ' ';
		for (k = 4; k < n && o + 1 < sizeof(c->rtext); k++) {
			unsigned char ch = (unsigned char)l[k];

			c->rtext[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
		}
		c->rtext[o] = '\0';
	}
	if (more)
		return SMTPC_EV_NONE;
	c->rlines = 0;
	return on_reply(c);
}

enum smtpc_event
smtp_client_feed(struct smtp_client *c, const char *in, size_t len,
    size_t *used_r)
{
	enum linebuf_status st;
	enum smtpc_event ev;
	const char *line;
	size_t used, ll, total = 0;

	*used_r = 0;
	for (;;) {
		if (c->txn_done) {
			c->txn_done = 0;
			c->txn = NULL;
			*used_r = total;
			return SMTPC_EV_TXN_DONE;
		}
		if (c->state == SMTPC_IDLE && !c->ready_told) {
			c->ready_told = 1;
			*used_r = total;
			return SMTPC_EV_READY;
		}
		if (c->state == SMTPC_CLOSED || c->state == SMTPC_BODY ||
		    total == len) {
			/* Bytes while we are not waiting for a reply are a
			 * protocol error, reported when the state says so. */
			*used_r = c->state == SMTPC_CLOSED ? len : total;
			return SMTPC_EV_NONE;
		}
		if (c->state == SMTPC_IDLE || c->state == SMTPC_TLS) {
			/* In TLS, the driver discards input: any is a bug
			 * or a plaintext injection; never read it. */
			*used_r = len;
			return session_fail(c, OUTCOME_TEMP,
			    "protocol error: unexpected data from server");
		}
		st = linebuf_next(&c->lb, in + total, len - total, &used,
		    &line, &ll);
		total += used;
		switch (st) {
		case LINEBUF_NEED_MORE:
			continue;
		case LINEBUF_TOO_LONG:
			*used_r = len;
			return session_fail(c, OUTCOME_TEMP,
			    "protocol error: reply line too long");
		case LINEBUF_NUL:
		case LINEBUF_BARE_CR:
			*used_r = len;
			return session_fail(c, OUTCOME_TEMP,
			    "protocol error: NUL or bare CR in reply");
		case LINEBUF_LINE:
		case LINEBUF_BARE_LF:	/* tolerated from servers */
			break;
		}
		ev = on_line(c, line, ll);
		if (ev == SMTPC_EV_FAILED) {
			*used_r = len;
			return ev;
		}
		if (ev == SMTPC_EV_TXN_DONE) {
			c->txn_done = 0;
			c->txn = NULL;
		}
		if (ev != SMTPC_EV_NONE) {
			*used_r = total;
			return ev;
		}
	}
}

enum smtpc_event
smtp_client_txn_start(struct smtp_client *c, struct smtpc_txn *t)
{
	char size[48] = "", *p;
	size_t i;

	if (c->state != SMTPC_IDLE)
		return SMTPC_EV_NONE;	/* a driver bug; nothing is sent */
	c->txn = t;
	c->expect_mail = 1;
	c->expect_rcpt = 0;
	c->expect_data = 1;
	c->mail_ok = 0;
	c->naccepted = 0;
	for (i = 0; i < t->nrcpts; i++) {
		t->rcpts[i].done = 0;
		t->rcpts[i].result = OUTCOME_TEMP;
		t->rcpts[i].accepted = 0;
		t->rcpts[i].reply[0] = '\0';
	}
	if ((c->ext & SMTPC_EXT_SIZE) && c->size_max > 0 &&
	    t->size > c->size_max) {
		fail_all(c, 552, "552 5.3.4 Message size exceeds the limit "
		    "announced by the server");
		c->txn = NULL;
		c->transactions++;
		c->ready_told = 0;
		return SMTPC_EV_TXN_DONE;
	}
	p = size;
	if (c->ext & SMTPC_EXT_SIZE)
		(void)xsnprintf(size, sizeof(size), " SIZE=%" PRIu64, t->size);
	p = size + strlen(size);
	if (t->body_8bit && (c->ext & SMTPC_EXT_8BITMIME))
		(void)xsnprintf(p, sizeof(size) - (size_t)(p - size),
		    " BODY=8BITMIME");
	cmd(c, "MAIL FROM:<%s>%s", t->from, size);
	c->state = SMTPC_TXN;
	if (c->ext & SMTPC_EXT_PIPELINING) {
		for (i = 0; i < t->nrcpts; i++)
			cmd(c, "RCPT TO:<%s>", t->rcpts[i].addr);
		cmd(c, "DATA");
	}
	return SMTPC_EV_NONE;
}

void
smtp_client_body_done(struct smtp_client *c)
{
	if (c->state != SMTPC_BODY)
		return;
	(void)buf_appends(&c->out, ".\r\n");
	c->state = SMTPC_DOT;
}

void
smtp_client_tls_started(struct smtp_client *c)
{
	if (c->state != SMTPC_TLS)
		return;
	/* RFC 3207 4.2: forget everything learnt in clear. */
	c->tls = 1;
	c->ext = 0;
	c->esmtp = 0;
	c->size_max = 0;
	c->rlines = 0;
	c->rcode = 0;
	c->rtext[0] = '\0';
	linebuf_reset(&c->lb);
	cmd(c, "EHLO %s", c->helo_name);
	c->state = SMTPC_EHLO;
}

void
smtp_client_quit(struct smtp_client *c)
{
	if (c->state == SMTPC_CLOSED || c->state == SMTPC_QUIT)
		return;
	cmd(c, "QUIT");
	c->state = SMTPC_QUIT;
}

unsigned
smtp_client_timeout(const struct smtp_client *c)
{
	switch (c->state) {
	case SMTPC_GREETING:
		return SMTPC_TO_GREETING;
	case SMTPC_TXN:
		if (c->expect_mail)
			return SMTPC_TO_MAIL;
		if (c->txn && c->expect_rcpt < c->txn->nrcpts)
			return SMTPC_TO_RCPT;
		return SMTPC_TO_DATA;
	case SMTPC_BODY:
		return SMTPC_TO_BLOCK;
	case SMTPC_DOT:
		return SMTPC_TO_DOT;
	case SMTPC_QUIT:
		return SMTPC_TO_QUIT;
	case SMTPC_STARTTLS:
	case SMTPC_TLS:
		return SMTPC_TO_TLS;
	case SMTPC_EHLO:
	case SMTPC_HELO:
	case SMTPC_RSET:
	case SMTPC_IDLE:
	case SMTPC_CLOSED:
		break;
	}
	return SMTPC_TO_MAIL;
}

void
smtp_client_stuff_init(struct smtpc_stuff *st)
{
	st->bol = 1;
	st->cr = 0;
}

int
smtp_client_stuff(struct smtpc_stuff *st, const char *in, size_t n,
    struct buf *out)
{
	size_t i, extra = 0, start;
	int bol = st->bol;

	for (i = 0; i < n; i++) {
		if (bol && in[i] == '.')
			extra++;
		bol = in[i] == '\n';
	}
	if (out->len + n + extra > out->max)
		return -1;
	for (i = 0, start = 0; i < n; i++) {
		if (st->bol && in[i] == '.') {
			(void)buf_append(out, in + start, i - start);
			(void)buf_appendc(out, '.');
			start = i;
		}
		st->bol = in[i] == '\n';
		st->cr = in[i] == '\r';
	}
	(void)buf_append(out, in + start, n - start);
	return 0;
}

int
smtp_client_stuff_end(struct smtpc_stuff *st, struct buf *out)
{
	if (st->bol)
		return 0;
	if (st->cr)
		return buf_appendc(out, '\n');
	return buf_appends(out, "\r\n");
}
