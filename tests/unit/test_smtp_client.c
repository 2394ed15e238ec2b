/* test_smtp_client - the client state machine: golden dialogues with and
 * without PIPELINING, HELO fallback, per-recipient results, RSET, reuse,
 * bounded reply parsing (whole and byte by byte), dot-stuffing, STARTTLS
 * (the dialogue, bytes behind the 220, and the policy matrix). */
#include "unit.h"
#include "smtp_client.h"

struct run {
	struct smtp_client c;
	char	sent[8192];
	size_t	nsent;
	int	events[64];
	size_t	nev;
	size_t	left;	/* bytes not consumed at a STARTTLS event */
};

static void
take_out(struct run *r)
{
	memcpy(r->sent + r->nsent, r->c.out.data ? r->c.out.data : "",
	    r->c.out.len);
	r->nsent += r->c.out.len;
	r->sent[r->nsent] = '\0';
	buf_reset(&r->c.out);
}

/* Feed server text, whole (bytewise = 0) or one byte at a time; record
 * events; on READY start txn (once) or quit; on BODY send "body". */
static void
feed(struct run *r, const char *in, int bytewise, struct smtpc_txn *txn,
    int *started)
{
	size_t len = strlen(in), pos = 0, used, step;
	enum smtpc_event ev;

	for (;;) {
		step = bytewise ? (pos < len ? 1 : 0) : len - pos;
		ev = smtp_client_feed(&r->c, in + pos, step, &used);
		pos += used;
		if (ev != SMTPC_EV_NONE && r->nev < 64)
			r->events[r->nev++] = ev;
		if (ev == SMTPC_EV_STARTTLS) {
			/* The driver drops the rest: it came in clear. */
			r->left = len - pos;
			take_out(r);
			break;
		}
		if (ev == SMTPC_EV_READY) {
			if (txn && !*started) {
				*started = 1;
				if (smtp_client_txn_start(&r->c, txn) ==
				    SMTPC_EV_TXN_DONE)
					r->events[r->nev++] = SMTPC_EV_TXN_DONE;
			} else
				smtp_client_quit(&r->c);
		} else if (ev == SMTPC_EV_BODY) {
			struct smtpc_stuff st;

			smtp_client_stuff_init(&st);
			smtp_client_stuff(&st, "Subject: x\r\n.dot\r\n", 18,
			    &r->c.out);
			smtp_client_stuff_end(&st, &r->c.out);
			smtp_client_body_done(&r->c);
		}
		take_out(r);
		if (ev == SMTPC_EV_NONE && pos >= len)
			break;
		if (ev == SMTPC_EV_FAILED || ev == SMTPC_EV_CLOSED)
			break;
	}
}

static struct smtpc_rcpt rc[3];

static struct smtpc_txn *
txn3(void)
{
	static struct smtpc_txn t;

	memset(rc, 0, sizeof(rc));
	rc[0].addr = "a@example.net";
	rc[1].addr = "b@example.net";
	rc[2].addr = "c@example.net";
	memset(&t, 0, sizeof(t));
	t.from = "s@mydomain.test";
	t.rcpts = rc;
	t.nrcpts = 3;
	t.size = 1234;
	t.body_8bit = 1;
	return &t;
}

static void
dialogue(int bytewise, int pipelining)
{
	struct run r;
	int started = 0;
	struct smtpc_txn *t = txn3();
	char ehlo[256];

	memset(&r, 0, sizeof(r));
	smtp_client_init(&r.c, "mx.mydomain.test");
	feed(&r, "220 sink ESMTP\r\n", bytewise, t, &started);
	assert_string_equal(r.sent, "EHLO mx.mydomain.test\r\n");
	snprintf(ehlo, sizeof(ehlo), "250-sink\r\n%s250-SIZE 100000\r\n"
	    "250 8BITMIME\r\n", pipelining ? "250-PIPELINING\r\n" : "");
	r.nsent = 0;
	feed(&r, ehlo, bytewise, t, &started);
	if (pipelining) {
		assert_string_equal(r.sent,
		    "MAIL FROM:<s@mydomain.test> SIZE=1234 BODY=8BITMIME\r\n"
		    "RCPT TO:<a@example.net>\r\nRCPT TO:<b@example.net>\r\n"
		    "RCPT TO:<c@example.net>\r\nDATA\r\n");
		r.nsent = 0;
		feed(&r, "250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n"
		    "451 4.2.1 later\r\n354 go\r\n", bytewise, t, &started);
	} else {
		assert_string_equal(r.sent,
		    "MAIL FROM:<s@mydomain.test> SIZE=1234 BODY=8BITMIME\r\n");
		r.nsent = 0;
		feed(&r, "250 ok\r\n", bytewise, t, &started);
		assert_string_equal(r.sent, "RCPT TO:<a@example.net>\r\n");
		feed(&r, "250 ok\r\n", bytewise, t, &started);
		feed(&r, "550 5.1.1 no such user\r\n", bytewise, t, &started);
		feed(&r, "451 4.2.1 later\r\n", bytewise, t, &started);
		feed(&r, "354 go\r\n", bytewise, t, &started);
		assert_non_null(strstr(r.sent, "RCPT TO:<c@example.net>\r\n"
		    "DATA\r\n"));
	}
	assert_non_null(strstr(r.sent, "Subject: x\r\n..dot\r\n.\r\n"));
	assert_false(rc[0].done);	/* until the dot */
	assert_int_equal(rc[1].result, OUTCOME_PERM);
	assert_string_equal(rc[1].reply, "550 5.1.1 no such user");
	assert_int_equal(rc[2].result, OUTCOME_TEMP);
	r.nsent = 0;
	feed(&r, "250 2.0.0 queued\r\n", bytewise, t, &started);
	assert_int_equal(rc[0].result, OUTCOME_OK);
	assert_string_equal(rc[0].reply, "250 2.0.0 queued");
	assert_int_equal(rc[1].result, OUTCOME_PERM);	/* unchanged */
	assert_string_equal(r.sent, "QUIT\r\n");
	feed(&r, "221 bye\r\n", bytewise, t, &started);
	assert_int_equal(r.events[r.nev - 1], SMTPC_EV_CLOSED);
	smtp_client_free(&r.c);
}

static void
test_pipelined_whole(void **s) { (void)s; dialogue(0, 1); }
static void
test_pipelined_bytewise(void **s) { (void)s; dialogue(1, 1); }
static void
test_plain_whole(void **s) { (void)s; dialogue(0, 0); }
static void
test_plain_bytewise(void **s) { (void)s; dialogue(1, 0); }

static void
test_helo_fallback(void **state)
{
	struct run r;
	int started = 0;
	struct smtpc_txn *t = txn3();

	(void)state;
	memset(&r, 0, sizeof(r));
	smtp_client_init(&r.c, "me.test");
	feed(&r, "220 old\r\n", 0, t, &started);
	r.nsent = 0;
	feed(&r, "500 what\r\n", 0, t, &started);
	assert_string_equal(r.sent, "HELO me.test\r\n");
	r.nsent = 0;
	feed(&r, "250 old\r\n", 0, t, &started);
	/* no ESMTP: no SIZE/BODY parameters, no pipelining */
	assert_string_equal(r.sent, "MAIL FROM:<s@mydomain.test>\r\n");
	assert_int_equal(r.c.esmtp, 0);
	smtp_client_free(&r.c);
}

static void
test_all_rejected_rset_and_reuse(void **state)
{
	struct run r;
	int started = 0;
	struct smtpc_txn *t = txn3();

	(void)state;
	memset(&r, 0, sizeof(r));
	smtp_client_init(&r.c, "me.test");
	feed(&r, "220 x\r\n250-x\r\n250 PIPELINING\r\n", 0, t, &started);
	r.nsent = 0;
	feed(&r, "250 ok\r\n550 no\r\n550 no\r\n550 no\r\n554 no rcpts\r\n",
	    0, t, &started);
	assert_string_equal(r.sent, "RSET\r\n");
	assert_int_equal(r.events[r.nev - 1], SMTPC_EV_TXN_DONE);
	assert_int_equal(rc[0].result, OUTCOME_PERM);
	/* after RSET: ready again (the driver may start the next message) */
	r.nsent = 0;
	started = 0;
	t = txn3();
	feed(&r, "250 reset\r\n", 0, t, &started);
	assert_int_equal(r.events[r.nev - 1], SMTPC_EV_READY);
	assert_non_null(strstr(r.sent, "MAIL FROM:<s@mydomain.test>\r\n"));
	smtp_client_free(&r.c);
}

static void
test_mail_rejected(void **state)
{
	struct run r;
	int started = 0;
	struct smtpc_txn *t = txn3();

	(void)state;
	memset(&r, 0, sizeof(r));
	smtp_client_init(&r.c, "me.test");
	feed(&r, "220 x\r\n250 x\r\n", 0, t, &started);
	r.nsent = 0;
	feed(&r, "452 4.3.1 full\r\n", 0, t, &started);
	assert_string_equal(r.sent, "RSET\r\n");
	assert_int_equal(rc[0].result, OUTCOME_TEMP);
	assert_int_equal(rc[2].result, OUTCOME_TEMP);
	assert_string_equal(rc[2].reply, "452 4.3.1 full");
	smtp_client_free(&r.c);
}

static void
test_size_refused_before_sending(void **state)
{
	struct run r;
	int started = 0;
	struct smtpc_txn *t = txn3();

	(void)state;
	t->size = 1001;
	memset(&r, 0, sizeof(r));
	smtp_client_init(&r.c, "me.test");
	feed(&r, "220 x\r\n250-x\r\n250 SIZE 1000\r\n", 0, t, &started);
	assert_null(strstr(r.sent, "MAIL"));
	assert_int_equal(rc[1].result, OUTCOME_PERM);
	assert_non_null(strstr(rc[1].reply, "5.3.4"));
	smtp_client_free(&r.c);
}

static void
test_greeting_and_errors(void **state)
{
	static const struct { const char *in; int perm; } t[] = {
		{ "554 go away\r\n", 1 },
		{ "421 busy\r\n", 0 },
		{ "220-a\r\n230 b\r\n", 0 },	/* code changed */
		{ "2200 x\r\n", 0 },
		{ "22\r\n", 0 },
		{ "abc\r\n", 0 },
		{ "220\0x\r\n", 0 },		/* NUL: string ends; no event */
		{ "220 a\rb\r\n", 0 },
		{ "120 x\r\n", 0 },
	};
	struct run r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int started = 1;

		memset(&r, 0, sizeof(r));
		smtp_client_init(&r.c, "me.test");
		feed(&r, t[i].in, 0, NULL, &started);
		if (i == 6) {	/* "220" then NUL: strlen stops, no reply yet */
			smtp_client_free(&r.c);
			continue;
		}
		if (r.nev == 0 || r.events[r.nev - 1] != SMTPC_EV_FAILED)
			fail_msg("case %zu: no failure", i);
		assert_int_equal(r.c.fail, t[i].perm ? OUTCOME_PERM :
		    OUTCOME_TEMP);
		smtp_client_free(&r.c);
	}
}

static void
test_reply_limits(void **state)
{
	char line[SMTPC_LINE_MAX + 8];
	struct run r;
	int started = 1;
	size_t i;

	(void)state;
	/* line of limit - 1 / limit bytes with CRLF: fine; limit + 1: fails */
	for (i = 0; i < 3; i++) {
		size_t total = SMTPC_LINE_MAX - 1 + i;

		memset(line, 'x', sizeof(line));
		memcpy(line, "220 ", 4);
		line[total - 2] = '\r';
		line[total - 1] = '\n';
		line[total] = '\0';
		memset(&r, 0, sizeof(r));
		smtp_client_init(&r.c, "me.test");
		feed(&r, line, 0, NULL, &started);
		if (i < 2)
			assert_int_equal(r.c.state, SMTPC_EHLO);
		else
			assert_int_equal(r.c.state, SMTPC_CLOSED);
		smtp_client_free(&r.c);
	}
	/* SMTPC_LINES_MAX lines: fine; one more: fails */
	for (i = 0; i < 2; i++) {
		struct buf b;
		size_t k, n = SMTPC_LINES_MAX + i;

		buf_init(&b, 100000);
		for (k = 0; k + 1 < n; k++)
			buf_appends(&b, "220-x\r\n");
		buf_appends(&b, "220 x\r\n");
		memset(&r, 0, sizeof(r));
		smtp_client_init(&r.c, "me.test");
		feed(&r, b.data, 0, NULL, &started);
		assert_int_equal(r.c.state, i == 0 ? SMTPC_EHLO : SMTPC_CLOSED);
		smtp_client_free(&r.c);
		buf_free(&b);
	}
}

static void
test_abort_fails_pending_temp(void **state)
{
	struct run r;
	int started = 0;
	struct smtpc_txn *t = txn3();

	(void)state;
	memset(&r, 0, sizeof(r));
	smtp_client_init(&r.c, "me.test");
	feed(&r, "220 x\r\n250 x\r\n250 ok\r\n250 ok\r\n", 0, t, &started);
	smtp_client_abort(&r.c, "lost connection");
	assert_int_equal(rc[0].result, OUTCOME_TEMP);
	assert_string_equal(rc[0].reply, "lost connection");
	assert_int_equal(r.c.state, SMTPC_CLOSED);
	smtp_client_free(&r.c);
}

static void
test_stuffing(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{ "a\r\n", "a\r\n" },
		{ ".\r\n", "..\r\n" },
		{ "a\r\n.b\r\n..c\r\n", "a\r\n..b\r\n...c\r\n" },
		{ "a.b\r\n", "a.b\r\n" },
		{ "no end", "no end\r\n" },
		{ "cr only\r", "cr only\r\n" },
		{ "", "" },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (k = 0; k < 2; k++) {	/* whole, then byte by byte */
			struct smtpc_stuff st;
			struct buf b;
			size_t j, n = strlen(t[i].in);

			buf_init(&b, 1024);
			smtp_client_stuff_init(&st);
			if (k == 0)
				smtp_client_stuff(&st, t[i].in, n, &b);
			else
				for (j = 0; j < n; j++)
					smtp_client_stuff(&st, t[i].in + j, 1, &b);
			smtp_client_stuff_end(&st, &b);
			buf_appends(&b, "");
			assert_string_equal(b.data ? b.data : "", t[i].out);
			buf_free(&b);
		}
	}
	{
		struct smtpc_stuff st;
		struct buf b;

		buf_init(&b, 4);	/* full: refused whole */
		smtp_client_stuff_init(&st);
		assert_int_equal(smtp_client_stuff(&st, ".abc", 4, &b), -1);
		assert_int_equal(b.len, 0);
		buf_free(&b);
	}
}

/* STARTTLS, whole and byte by byte: STARTTLS alone after the EHLO reply,
 * the event exactly at the end of the 220 (the injected line behind it is
 * left to the driver), EHLO again, the first EHLO forgotten, no second
 * STARTTLS, then the transaction. */
static void
starttls_dialogue(int bytewise)
{
	static const char inj[] = "250 injected\r\n";
	struct run r;
	int started = 0;
	struct smtpc_txn *t = txn3();
	size_t used;
	char in[64];

	memset(&r, 0, sizeof(r));
	smtp_client_init(&r.c, "mx.mydomain.test");
	assert_int_equal(r.c.tls_policy, SMTPC_TLS_MAY);	/* default */
	feed(&r, "220 sink ESMTP\r\n250-sink\r\n250-PIPELINING\r\n"
	    "250-SIZE 1000\r\n250 STARTTLS\r\n", bytewise, t, &started);
	assert_string_equal(r.sent, "EHLO mx.mydomain.test\r\nSTARTTLS\r\n");
	assert_int_equal(r.c.state, SMTPC_STARTTLS);
	assert_int_equal(smtp_client_timeout(&r.c), SMTPC_TO_TLS);
	r.nsent = 0;
	r.nev = 0;
	snprintf(in, sizeof(in), "220 2.0.0 go ahead\r\n%s", inj);
	feed(&r, in, bytewise, t, &started);
	assert_int_equal(r.nev, 1);
	assert_int_equal(r.events[0], SMTPC_EV_STARTTLS);
	assert_int_equal(r.left, strlen(inj));
	assert_int_equal(r.c.state, SMTPC_TLS);
	assert_int_equal(smtp_client_timeout(&r.c), SMTPC_TO_TLS);
	assert_string_equal(r.sent, "");
	assert_int_equal(started, 0);
	/* Zero bytes in TLS: nothing happens. */
	assert_int_equal(smtp_client_feed(&r.c, "", 0, &used), SMTPC_EV_NONE);
	smtp_client_tls_started(&r.c);
	take_out(&r);
	assert_string_equal(r.sent, "EHLO mx.mydomain.test\r\n");
	assert_int_equal(r.c.tls, 1);
	assert_int_equal(r.c.ext, 0);	/* the clear EHLO is forgotten */
	assert_int_equal(r.c.size_max, 0);
	assert_int_equal(r.c.state, SMTPC_EHLO);
	r.nsent = 0;
	/* Inside TLS: no PIPELINING, no SIZE this time; STARTTLS offered
	 * again is ignored. */
	feed(&r, "250-sink\r\n250 STARTTLS\r\n", bytewise, t, &started);
	assert_int_equal(started, 1);
	assert_string_equal(r.sent, "MAIL FROM:<s@mydomain.test>\r\n");
	smtp_client_free(&r.c);
}

static void
test_starttls_whole(void **s) { (void)s; starttls_dialogue(0); }
static void
test_starttls_bytewise(void **s) { (void)s; starttls_dialogue(1); }

/* Policy x offer x STARTTLS reply -> what the client does. */
static void
test_starttls_policy(void **state)
{
	static const struct {
		enum smtpc_tls policy;
		const char *server;	/* after the greeting */
		const char *sent;	/* everything the client sent */
		int event;		/* last event */
		const char *fail;	/* in fail_text, for FAILED */
		int fail_tls;
	} t[] = {
		/* none: never STARTTLS, even when offered */
		{ SMTPC_TLS_NONE, "250-x\r\n250 STARTTLS\r\n",
		  "EHLO me.test\r\nMAIL FROM:<s@mydomain.test>\r\n",
		  SMTPC_EV_READY, NULL, 0 },
		/* may, not offered: plaintext */
		{ SMTPC_TLS_MAY, "250-x\r\n250 8BITMIME\r\n",
		  "EHLO me.test\r\nMAIL FROM:<s@mydomain.test> "
		  "BODY=8BITMIME\r\n", SMTPC_EV_READY, NULL, 0 },
		/* may, offered, refused: plaintext with the same EHLO */
		{ SMTPC_TLS_MAY, "250-x\r\n250 STARTTLS\r\n454 4.7.0 no\r\n",
		  "EHLO me.test\r\nSTARTTLS\r\nMAIL FROM:<s@mydomain.test>\r\n",
		  SMTPC_EV_READY, NULL, 0 },
		/* may, offered, 421: the session is over (temporary) */
		{ SMTPC_TLS_MAY, "250-x\r\n250 STARTTLS\r\n421 4.3.2 bye\r\n",
		  "EHLO me.test\r\nSTARTTLS\r\n", SMTPC_EV_FAILED,
		  "421 4.3.2 bye", 0 },
		/* required, not offered: fail, nothing in clear */
		{ SMTPC_TLS_REQUIRED, "250-x\r\n250 PIPELINING\r\n",
		  "EHLO me.test\r\n", SMTPC_EV_FAILED,
		  "4.7.4 TLS required but not available: STARTTLS not offered",
		  1 },
		/* required, refused */
		{ SMTPC_TLS_REQUIRED, "250-x\r\n250 STARTTLS\r\n454 4.7.0 no\r\n",
		  "EHLO me.test\r\nSTARTTLS\r\n", SMTPC_EV_FAILED,
		  "TLS required but not available: STARTTLS refused: 454 4.7.0 "
		  "no", 1 },
		/* required, 5xx to STARTTLS: still temporary */
		{ SMTPC_TLS_REQUIRED, "250-x\r\n250 STARTTLS\r\n502 5.5.1 no\r\n",
		  "EHLO me.test\r\nSTARTTLS\r\n", SMTPC_EV_FAILED,
		  "STARTTLS refused: 502", 1 },
		/* required, EHLO refused: HELO cannot have TLS */
		{ SMTPC_TLS_REQUIRED, "500 no\r\n250 old\r\n",
		  "EHLO me.test\r\nHELO me.test\r\n", SMTPC_EV_FAILED,
		  "TLS required but not available", 1 },
		/* may, offered, accepted */
		{ SMTPC_TLS_MAY, "250-x\r\n250 starttls\r\n220 go\r\n",
		  "EHLO me.test\r\nSTARTTLS\r\n", SMTPC_EV_STARTTLS, NULL, 0 },
		/* required, offered, accepted */
		{ SMTPC_TLS_REQUIRED, "250-x\r\n250 STARTTLS\r\n220 go\r\n",
		  "EHLO me.test\r\nSTARTTLS\r\n", SMTPC_EV_STARTTLS, NULL, 0 },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (k = 0; k < 2; k++) {	/* whole, byte by byte */
			struct run r;
			int started = 0;
			struct smtpc_txn *tx = txn3();

			rc[0].addr = "x";	/* one recipient is enough */
			tx->nrcpts = 1;
			tx->body_8bit = 1;
			memset(&r, 0, sizeof(r));
			smtp_client_init(&r.c, "me.test");
			r.c.tls_policy = t[i].policy;
			feed(&r, "220 x\r\n", (int)k, tx, &started);
			feed(&r, t[i].server, (int)k, tx, &started);
			if (strcmp(r.sent, t[i].sent) != 0 || r.nev == 0 ||
			    r.events[r.nev - 1] != t[i].event ||
			    r.c.fail_tls != t[i].fail_tls ||
			    (t[i].fail && strstr(r.c.fail_text, t[i].fail) ==
			    NULL))
				fail_msg("case %zu/%zu: sent '%s' event %d "
				    "fail '%s' tls %d", i, k, r.sent,
				    r.nev ? r.events[r.nev - 1] : -1,
				    r.c.fail_text, r.c.fail_tls);
			if (t[i].event == SMTPC_EV_FAILED) {
				assert_int_equal(r.c.fail, OUTCOME_TEMP);
				assert_int_equal(r.c.state, SMTPC_CLOSED);
				assert_null(strstr(r.sent, "MAIL"));
			}
			smtp_client_free(&r.c);
		}
}

/* Bytes while the handshake runs are never parsed as replies; and
 * smtp_client_tls_started outside SMTPC_TLS does nothing. */
static void
test_starttls_bytes_in_tls_state(void **state)
{
	struct run r;
	int started = 0;
	size_t used;

	(void)state;
	memset(&r, 0, sizeof(r));
	smtp_client_init(&r.c, "me.test");
	smtp_client_tls_started(&r.c);		/* GREETING: no-op */
	assert_int_equal(r.c.state, SMTPC_GREETING);
	assert_int_equal(r.c.tls, 0);
	assert_int_equal(r.c.out.len, 0);
	feed(&r, "220 x\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n", 0, NULL,
	    &started);
	assert_int_equal(r.c.state, SMTPC_TLS);
	assert_int_equal(smtp_client_feed(&r.c, "250 ok\r\n", 8, &used),
	    SMTPC_EV_FAILED);
	assert_int_equal(used, 8);
	assert_int_equal(r.c.state, SMTPC_CLOSED);
	assert_non_null(strstr(r.c.fail_text, "unexpected data"));
	assert_int_equal(r.c.fail_tls, 0);
	smtp_client_free(&r.c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_whole),
		cmocka_unit_test(test_pipelined_bytewise),
		cmocka_unit_test(test_plain_whole),
		cmocka_unit_test(test_plain_bytewise),
		cmocka_unit_test(test_helo_fallback),
		cmocka_unit_test(test_all_rejected_rset_and_reuse),
		cmocka_unit_test(test_mail_rejected),
		cmocka_unit_test(test_size_refused_before_sending),
		cmocka_unit_test(test_greeting_and_errors),
		cmocka_unit_test(test_reply_limits),
		cmocka_unit_test(test_abort_fails_pending_temp),
		cmocka_unit_test(test_stuffing),
		cmocka_unit_test(test_starttls_whole),
		cmocka_unit_test(test_starttls_bytewise),
		cmocka_unit_test(test_starttls_policy),
		cmocka_unit_test(test_starttls_bytes_in_tls_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
