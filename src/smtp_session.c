/* smtp_session - one SMTP server session as an explicit state machine;
 * see smtp_session.h.
 *
 * Input: command lines through linebuf (512 octets with CRLF), message
 * content through smtp_data (the <CRLF>.<CRLF> detector). Output: replies
 * appended to s->out, content handed to ops->message_write, questions
 * ("does this user exist?", "commit this message") to ops, answered
 * through smtp_session_user_result()/smtp_session_commit_result(), maybe
 * before the op returns: every handler ends right after it asked.
 *
 * Dispatch is the same for every line: line -> verb (500) -> state (503)
 * -> handler checks its arguments (501/553/555) -> act. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "log.h"
#include "decimal.h"
#include "smtp_session.h"

#define SMTP_OUT_MAX		(256 * 1024)	/* replies never fail to fit */
#define SMTP_DATA_CHUNK		(64 * 1024)	/* content fed per step */

#define SMTP_STR_(x)	#x
#define SMTP_STR(x)	SMTP_STR_(x)

#define ST(x)	(1u << (x))
#define ST_CMD	(ST(SMTP_STATE_READY) | ST(SMTP_STATE_HELO) | \
		 ST(SMTP_STATE_MAIL) | ST(SMTP_STATE_RCPT))

#define CMD_NEEDS_HELO	0x01	/* 503 "send HELO/EHLO first" in READY */

struct smtp_cmd {
	const char	*verb;
	void		(*fn)(struct smtp_session *, const char *verb,
			    char *args, size_t rest);
	unsigned	states;		/* ST() bits in which it is valid */
	unsigned	flags;
	const char	*bad_state;	/* the 503 reply otherwise */
};

static void	cmd_ehlo(struct smtp_session *, const char *, char *, size_t);
static void	cmd_mail(struct smtp_session *, const char *, char *, size_t);
static void	cmd_rcpt(struct smtp_session *, const char *, char *, size_t);
static void	cmd_data(struct smtp_session *, const char *, char *, size_t);
static void	cmd_rset(struct smtp_session *, const char *, char *, size_t);
static void	cmd_noop(struct smtp_session *, const char *, char *, size_t);
static void	cmd_quit(struct smtp_session *, const char *, char *, size_t);
static void	cmd_vrfy(struct smtp_session *, const char *, char *, size_t);
static void	cmd_help(struct smtp_session *, const char *, char *, size_t);
static void	cmd_notimpl(struct smtp_session *, const char *, char *, size_t);
static void	cmd_starttls(struct smtp_session *, const char *, char *, size_t);
static void	cmd_auth(struct smtp_session *, const char *, char *, size_t);

static const struct smtp_cmd smtp_cmds[] = {
	{ "EHLO",	cmd_ehlo,	ST_CMD, 0, NULL },
	{ "HELO",	cmd_ehlo,	ST_CMD, 0, NULL },
	{ "MAIL",	cmd_mail,	ST(SMTP_STATE_HELO), CMD_NEEDS_HELO,
	    "503 5.5.1 Error: nested MAIL command" },
	{ "RCPT",	cmd_rcpt,	ST(SMTP_STATE_MAIL) | ST(SMTP_STATE_RCPT), 0,
	    "503 5.5.1 Error: need MAIL command" },
	{ "DATA",	cmd_data,	ST(SMTP_STATE_MAIL) | ST(SMTP_STATE_RCPT), 0,
	    "503 5.5.1 Error: need MAIL command" },
	{ "RSET",	cmd_rset,	ST_CMD, 0, NULL },
	{ "NOOP",	cmd_noop,	ST_CMD, 0, NULL },
	{ "QUIT",	cmd_quit,	ST_CMD, 0, NULL },
	{ "VRFY",	cmd_vrfy,	ST_CMD, 0, NULL },
	{ "HELP",	cmd_help,	ST_CMD, 0, NULL },
	{ "EXPN",	cmd_notimpl,	ST_CMD, 0, NULL },
	{ "STARTTLS",	cmd_starttls,	ST_CMD, 0, NULL },
	{ "AUTH",	cmd_auth,	ST(SMTP_STATE_HELO), CMD_NEEDS_HELO,
	    "503 5.5.1 Error: MAIL transaction in progress" },
	{ "BDAT",	cmd_notimpl,	ST_CMD, 0, NULL },
	{ "ETRN",	cmd_notimpl,	ST_CMD, 0, NULL },
	{ "TURN",	cmd_notimpl,	ST_CMD, 0, NULL },
};

static const char *
host(const struct smtp_session *s)
{
	return s->cfg->hostname ? s->cfg->hostname : "localhost";
}

static void
slog(struct smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
slog(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vsink(s->ops->log, s->arg, fmt, ap);
	va_end(ap);
}

static void
vreply(struct smtp_session *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
vreply(struct smtp_session *s, const char *fmt, va_list ap)
{
	/* out is capped far above what the high-water mark lets through,
	 * so this never fails; if it did, the client would see a timeout,
	 * never a wrong answer. */
	(void)buf_vprintf_crlf(&s->out, fmt, ap);
}

/* A reply that does not count as a client error. */
static void
reply(struct smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
}

static void
session_close(struct smtp_session *s)
{
	s->close = 1;
	s->state = SMTP_STATE_QUIT;
}

/* A reply to a command: 4xx and 5xx count as errors, and too many of
 * them end the session. */
static void
cmd_reply(struct smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
cmd_reply(struct smtp_session *s, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* Our replies are short; a truncated one still carries its code. */
	reply(s, "%s", text);
	if (text[0] != '4' && text[0] != '5')
		return;
	s->errors++;
	if (s->close || s->errors < s->cfg->max_errors)
		return;
	reply(s, "421 4.7.0 %s Error: too many errors", host(s));
	slog(s, "too many errors client=%s errors=%u", s->client_text,
	    s->errors);
	session_close(s);
}

/* Peer text for a reply: printable ASCII only. */
static void
sanitise(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i;

	if (dstlen == 0)
		return;
	for (i = 0; i < srclen && i + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[i] = '\0';
}

static void
txn_reset(struct smtp_session *s)
{
	free(s->txn.rcpts);
	memset(&s->txn, 0, sizeof(s->txn));
	memset(&s->pending_rcpt, 0, sizeof(s->pending_rcpt));
	s->data_failed = 0;
	/* Idle sessions keep no content buffer (1000 of them are normal). */
	buf_free(&s->pending_out);
	s->state = s->helo[0] != '\0' ? SMTP_STATE_HELO : SMTP_STATE_READY;
}

/* A message file is open from the 354 until the end of data (abort) or
 * until the commit is asked for. */
static int
message_is_open(const struct smtp_session *s)
{
	return s->state == SMTP_STATE_DATA && s->wait != SMTP_WAIT_COMMIT;
}

void
smtp_session_init(struct smtp_session *s, const struct config *cfg,
    const struct relay_policy *policy, const struct relay_client *client,
    const struct smtp_session_ops *ops, void *arg)
{
	char ip[64];

	memset(s, 0, sizeof(*s));
	s->state = SMTP_STATE_GREETING;
	s->wait = SMTP_WAIT_NONE;
	s->cfg = cfg;
	s->policy = policy;
	s->client = *client;
	s->ops = ops;
	s->arg = arg;
	if (client->addr.family == 0)
		(void)xsnprintf(s->client_text, sizeof(s->client_text),
		    "[unknown]");
	else
		(void)xsnprintf(s->client_text, sizeof(s->client_text), "[%s]",
		    netaddr_format(&client->addr, ip, sizeof(ip)));
	linebuf_init(&s->lb, SMTP_CMD_LIMIT);
	buf_init(&s->out, SMTP_OUT_MAX);
	sasl_init(&s->sasl);
	/* smtp_data may produce one held-back CR more than it was fed. */
	buf_init(&s->pending_out, SMTP_DATA_CHUNK + 16);
}

void
smtp_session_free(struct smtp_session *s)
{
	if (message_is_open(s) && s->ops->message_abort != NULL)
		s->ops->message_abort(s->arg);
	free(s->txn.rcpts);
	s->txn.rcpts = NULL;
	s->txn.nrcpts = 0;
	buf_free(&s->pending_out);
	buf_free(&s->out);
	sasl_reset(&s->sasl);		/* wipes a password in flight */
	s->state = SMTP_STATE_QUIT;
	s->close = 1;
}

void
smtp_session_start(struct smtp_session *s, const char *reject_text)
{
	if (s->state != SMTP_STATE_GREETING)
		return;
	if (reject_text != NULL) {
		reply(s, "554 5.7.1 %s", reject_text);
		slog(s, "reject client=%s reply=\"554 5.7.1\"", s->client_text);
		session_close(s);
		return;
	}
	reply(s, "220 %s ESMTP postern", host(s));
	s->state = SMTP_STATE_READY;
}

void
smtp_session_start_refused(struct smtp_session *s, const char *line,
    const char *rule)
{
	if (s->state != SMTP_STATE_GREETING)
		return;
	reply(s, "%s", line);
	slog(s, "reject client=%s reply=\"%.9s\" rule=\"%s\"", s->client_text,
	    line, rule);
	session_close(s);
}

/* The address as "local@domain" ("" for <>) into buf, for replies
 * and logs; the parser guarantees ASCII. */
static const char *
addr_text(const struct address *a, char *buf, size_t len)
{
	if (address_format(a, buf, len) == NULL)
		(void)xsnprintf(buf, len, "?");
	return buf;
}

/* The address for a log line: inside key=<...>, one token whatever its
 * quoted local part holds (log.h). */
static const char *
addr_log(const struct address *a, char *buf, size_t len)
{
	char text[ADDRESS_PATH_MAX + 8];

	addr_text(a, text, sizeof(text));
	return log_quote_token(buf, len, text, strlen(text));
}

/* Room for addr_log() of any address. */
#define ADDR_LOG_MAX	(4 * (ADDRESS_PATH_MAX + 8) + 1)
/* Room for log_quote() of a user name, a mechanism, a HELO. */
#define USER_LOG_MAX	(4 * SASL_USER_MAX + 1)
#define HELO_LOG_MAX	(4 * 256 + 1)

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static char *
skip_spaces(char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

/* Case-insensitive "FROM:" / "TO:" prefix; returns what follows, spaces
 * skipped, or NULL. */
static char *
match_keyword(char *args, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(args, kw, n) != 0)
		return NULL;
	return skip_spaces(args + n);
}

/* ---- AUTH (RFC 4954) ---------------------------------------------- */

static void
sasl_params(const struct smtp_session *s, struct sasl_params *p)
{
	memset(p, 0, sizeof(*p));
	p->mechs = SASL_M_ALL;
	p->tls = s->tls_active;
	p->plaintext_ok = s->cfg->auth_over_plaintext;
	p->host = host(s);
	p->random = s->random;
	p->nrandom = sizeof(s->random);
	p->pid = 0;
	p->now = (long long)s->now;
}

/* "250-AUTH ..." on submission listeners, over TLS (or with
 * auth_over_plaintext = yes), until the client has authenticated. */
static void
auth_offer(struct smtp_session *s)
{
	struct sasl_params p;
	char mechs[128];

	if (!s->submission || s->client.auth_user != NULL)
		return;
	sasl_params(s, &p);
	if (sasl_mechs_format(sasl_mechs_usable(&p), mechs, sizeof(mechs)) > 0)
		reply(s, "250-AUTH %s", mechs);
}

static void
auth_done(struct smtp_session *s)
{
	s->state = SMTP_STATE_HELO;
	linebuf_set_limit(&s->lb, SMTP_CMD_LIMIT);
}

/* Act on what the SASL machine said. */
static void
auth_handle(struct smtp_session *s, enum sasl_result r)
{
	char qu[USER_LOG_MAX], qm[4 * sizeof(s->auth_mech) + 1];
	char qr[4 * sizeof(s->sasl.reply) + 1];

	switch (r) {
	case SASL_CONTINUE:
		reply(s, "%s", s->sasl.reply);
		s->state = SMTP_STATE_AUTH;
		/* RFC 4954 4: responses up to 12288 octets with CRLF. */
		linebuf_set_limit(&s->lb, SASL_LINE_MAX + 2);
		break;
	case SASL_NEED_PASS:
	case SASL_NEED_CRAM:
	case SASL_NEED_SCRAM_FIRST:
	case SASL_NEED_SCRAM_FINAL:
		s->state = SMTP_STATE_AUTH;
		s->wait = SMTP_WAIT_AUTH;
		/* May answer before it returns. */
		s->ops->auth_request(s->arg, r, &s->sasl);
		break;
	case SASL_SUCCESS:
		(void)snprintf(s->auth_user, sizeof(s->auth_user), "%s",
		    s->sasl.user);
		s->client.auth_user = s->auth_user;
		auth_done(s);
		reply(s, "%s", s->sasl.reply);
		slog(s, "auth ok client=%s user=\"%s\" mechanism=\"%s\"",
		    s->client_text, log_quote_str(qu, sizeof(qu), s->auth_user),
		    log_quote_str(qm, sizeof(qm), s->auth_mech));
		sasl_reset(&s->sasl);
		break;
	case SASL_FAIL:
		auth_done(s);
		slog(s, "auth failed client=%s user=\"%s\" mechanism=\"%s\" "
		    "reply=\"%s\"", s->client_text,
		    log_quote_str(qu, sizeof(qu), s->sasl.user),
		    log_quote_str(qm, sizeof(qm), s->auth_mech),
		    log_quote_str(qr, sizeof(qr), s->sasl.reply));
		cmd_reply(s, "%s", s->sasl.reply);
		sasl_reset(&s->sasl);
		break;
	}
}

static void
cmd_auth(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	struct sasl_params p;
	const char *ir = NULL;
	size_t mlen;

	(void)verb;
	(void)rest;
	if (!s->submission) {
		cmd_reply(s, "503 5.5.1 Error: authentication not enabled");
		return;
	}
	if (s->client.auth_user != NULL) {
		cmd_reply(s, "503 5.5.1 Error: already authenticated");
		return;
	}
	mlen = strcspn(args, " ");
	if (mlen == 0) {
		cmd_reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	if (args[mlen] == ' ')
		ir = skip_spaces(args + mlen);
	sanitise(s->auth_mech, sizeof(s->auth_mech), args, mlen);
	sasl_params(s, &p);
	auth_handle(s, sasl_start(&s->sasl, &p, args, mlen, ir,
	    ir ? strlen(ir) : 0));
}

/* One SASL response line in SMTP_STATE_AUTH. */
static void
auth_line(struct smtp_session *s, const char *line, size_t len)
{
	auth_handle(s, sasl_step(&s->sasl, line, len));
}

void
smtp_session_auth_result(struct smtp_session *s, int v,
    const char *data, size_t len)
{
	if (s->wait != SMTP_WAIT_AUTH)
		return;
	s->wait = SMTP_WAIT_NONE;
	if (s->close)
		return;
	auth_handle(s, sasl_verdict(&s->sasl, v, data, len));
}

/* ---- EHLO / HELO --------------------------------------------------- */

static void
cmd_ehlo(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	int esmtp = strcasecmp(verb, "EHLO") == 0;
	size_t i, n = strlen(args);

	(void)rest;
	if (n == 0 || n >= sizeof(s->helo)) {
		cmd_reply(s, "501 5.5.4 Syntax: %s hostname",
		    esmtp ? "EHLO" : "HELO");
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)args[i];

		if (c < 0x20 || c >= 0x7f) {
			cmd_reply(s, "501 5.5.4 Syntax: %s hostname",
			    esmtp ? "EHLO" : "HELO");
			return;
		}
	}
	memcpy(s->helo, args, n + 1);
	s->esmtp = esmtp;
	txn_reset(s);
	if (!esmtp) {
		reply(s, "250 %s", host(s));
		return;
	}
	reply(s, "250-%s", host(s));
	reply(s, "250-PIPELINING");
	reply(s, "250-SIZE %" PRIu64, s->cfg->max_message_size);
	reply(s, "250-8BITMIME");
	reply(s, "250-ENHANCEDSTATUSCODES");
	if (s->tls_available && !s->tls_active)
		reply(s, "250-STARTTLS");
	auth_offer(s);
	reply(s, "250 HELP");
}

/* ---- STARTTLS (RFC 3207) ------------------------------------------- */

/* RFC 3207 4.2: everything learnt before TLS is forgotten, the
 * authenticated identity too: it was established over a channel that
 * the TLS session does not vouch for (and with auth_over_plaintext, in
 * clear). The client must AUTH again inside TLS to relay. */
static void
auth_forget(struct smtp_session *s)
{
	char qu[USER_LOG_MAX];

	if (s->client.auth_user != NULL)
		slog(s, "starttls client=%s: authentication forgotten "
		    "user=\"%s\"", s->client_text,
		    log_quote_str(qu, sizeof(qu), s->client.auth_user));
	s->client.auth_user = NULL;
	explicit_bzero(s->auth_user, sizeof(s->auth_user));
	s->auth_mech[0] = '\0';
	sasl_reset(&s->sasl);
}

static void
cmd_starttls(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	(void)verb;
	if (*args != '\0') {
		cmd_reply(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	if (s->tls_active) {
		cmd_reply(s, "503 5.5.1 Error: TLS already active");
		return;
	}
	if (!s->tls_available) {
		cmd_reply(s, "454 4.7.0 TLS not available");
		return;
	}
	if (message_is_open(s))
		s->ops->message_abort(s->arg);
	txn_reset(s);
	auth_forget(s);
	reply(s, "220 2.0.0 Ready to start TLS");
	if (rest > 0)
		slog(s, "starttls client=%s: %zu bytes pipelined behind STARTTLS "
		    "discarded", s->client_text, rest);
	/* Nothing more is read in clear: the caller discards what it has. */
	s->wait = SMTP_WAIT_TLS;
}

void
smtp_session_tls_started(struct smtp_session *s, const char *desc)
{
	if (s->wait != SMTP_WAIT_TLS)
		return;
	s->wait = SMTP_WAIT_NONE;
	s->tls_active = 1;
	(void)snprintf(s->tls_desc, sizeof(s->tls_desc), "%s", desc);
	s->helo[0] = '\0';
	s->esmtp = 0;
	txn_reset(s);
	auth_forget(s);
	linebuf_reset(&s->lb);
	s->state = SMTP_STATE_READY;
	slog(s, "tls client=%s %s", s->client_text, s->tls_desc);
}

/* ---- MAIL ---------------------------------------------------------- */

/* The parameter's keyword, sanitised, for "555 ... Unsupported option". */
static void
param_name(const char *p, char *dst, size_t dstlen)
{
	size_t n = strcspn(p, "=");

	sanitise(dst, dstlen, p, n);
}

/* SIZE value: digits only, no overflow. */
static int
parse_size(const char *v, uint64_t *r)
{
	return parse_decimal(v, strlen(v), UINT64_MAX, r);
}

/* Submission (RFC 6409): no MAIL before AUTH; with
 * submission_sender_check the envelope sender must be the authenticated
 * user's own address in a local domain (the memo's "anyone can claim
 * @mydomain" hole, closed from the other side). The null sender is
 * allowed: it claims nobody. Replies itself when it says no. */
static int
sender_allowed(struct smtp_session *s, const struct address *a)
{
	char mailbox[sizeof(s->pending_rcpt.mailbox)], text[ADDRESS_PATH_MAX + 8];
	char qfrom[ADDR_LOG_MAX], qu[USER_LOG_MAX];
	struct relay_mailbox_rule rule;

	if (s->client.auth_user == NULL) {
		slog(s, "sender rejected client=%s from=<%s> reply=\"530 5.7.0\" "
		    "(not authenticated)", s->client_text,
		    addr_log(a, qfrom, sizeof(qfrom)));
		cmd_reply(s, "530 5.7.0 Authentication required");
		return 0;
	}
	if (!s->cfg->submission_sender_check || a->is_null)
		return 1;
	/* The mailbox rule without its postmaster case: postmaster@ is
	 * nobody's own address. */
	relay_mailbox_rule_from_config(&rule, s->cfg);
	rule.postmaster = NULL;
	if (relay_address_mailbox(&rule, a, mailbox, sizeof(mailbox)) ==
	    RELAY_MAILBOX_USER &&
	    relay_domain_is_local(s->policy, a->domain) &&
	    strcmp(mailbox, s->client.auth_user) == 0)
		return 1;
	addr_text(a, text, sizeof(text));
	slog(s, "sender rejected client=%s user=\"%s\" from=<%s> "
	    "reply=\"553 5.7.1\" (not owned by the user)", s->client_text,
	    log_quote_str(qu, sizeof(qu), s->client.auth_user),
	    addr_log(a, qfrom, sizeof(qfrom)));
	cmd_reply(s, "553 5.7.1 <%s>: Sender address rejected: not owned by "
	    "user %s", text, s->client.auth_user);
	return 0;
}

static void
cmd_mail(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	struct address a;
	enum address_status st;
	char *p, *tok, *next, name[64];
	uint64_t size = 0;
	int have_size = 0, have_body = 0, body8 = 0;
	size_t end;

	(void)verb;
	(void)rest;
	if ((p = match_keyword(args, "FROM:")) == NULL || *p != '<') {
		cmd_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	st = address_parse_path(p, strlen(p), 1, 0, &a, &end);
	if (st == ADDRESS_ERR_8BIT) {
		cmd_reply(s, "553 5.6.7 Non-ASCII addresses are not supported");
		return;
	}
	if (st != ADDRESS_OK) {
		cmd_reply(s, "501 5.1.7 Bad sender address syntax");
		return;
	}
	p += end;
	if (*p != '\0' && !is_space(*p)) {
		cmd_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	for (tok = skip_spaces(p); *tok != '\0'; tok = skip_spaces(next)) {
		char *eq;

		next = tok + strcspn(tok, " \t");
		if (*next != '\0')
			*next++ = '\0';
		eq = strchr(tok, '=');
		if (eq != NULL && (size_t)(eq - tok) == 4 &&
		    strncasecmp(tok, "SIZE", 4) == 0) {
			if (have_size || parse_size(eq + 1, &size) == -1) {
				cmd_reply(s, "501 5.5.4 Bad SIZE parameter");
				return;
			}
			have_size = 1;
		} else if (eq != NULL && (size_t)(eq - tok) == 4 &&
		    strncasecmp(tok, "BODY", 4) == 0) {
			if (have_body) {
				cmd_reply(s, "501 5.5.4 Bad BODY parameter");
				return;
			}
			if (strcasecmp(eq + 1, "7BIT") == 0)
				body8 = 0;
			else if (strcasecmp(eq + 1, "8BITMIME") == 0)
				body8 = 1;
			else {
				cmd_reply(s, "501 5.5.4 Bad BODY parameter");
				return;
			}
			have_body = 1;
		} else {
			param_name(tok, name, sizeof(name));
			cmd_reply(s, "555 5.5.4 Unsupported option: %s", name);
			return;
		}
	}
	if (have_size && size > s->cfg->max_message_size) {
		cmd_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	if (s->submission && !sender_allowed(s, &a))
		return;
	txn_reset(s);
	s->txn.from = a;
	s->txn.declared_size = size;
	s->txn.body_8bit = body8;
	s->state = SMTP_STATE_MAIL;
	reply(s, "250 2.1.0 Ok");
}

/* ---- RCPT ---------------------------------------------------------- */

static int
rcpt_same(const struct address *a, const struct address *b)
{
	return a->is_postmaster == b->is_postmaster &&
	    strcmp(a->local, b->local) == 0 &&
	    strcmp(a->domain, b->domain) == 0;
}

static int
rcpt_is_duplicate(const struct smtp_session *s, const struct address *a)
{
	size_t i;

	for (i = 0; i < s->txn.nrcpts; i++)
		if (rcpt_same(&s->txn.rcpts[i].addr, a))
			return 1;
	return 0;
}

static void
rcpt_log(struct smtp_session *s, const struct address *a,
    const char *decision, const char *rule, const char *replytext)
{
	char qfrom[ADDR_LOG_MAX], qto[ADDR_LOG_MAX], qhelo[HELO_LOG_MAX];
	char qrule[4 * 160], qreply[1024];

	addr_log(&s->txn.from, qfrom, sizeof(qfrom));
	addr_log(a, qto, sizeof(qto));
	log_quote(qrule, sizeof(qrule), rule, strlen(rule));
	log_quote(qreply, sizeof(qreply), replytext, strlen(replytext));
	log_quote(qhelo, sizeof(qhelo), s->helo, strlen(s->helo));
	slog(s, "rcpt client=%s from=<%s> to=<%s> decision=%s rule=\"%s\" "
	    "reply=\"%s\" helo=\"%s\"", s->client_text, qfrom, qto, decision,
	    qrule, qreply, qhelo);
}

/* Already accepted: the same address, or the same local mailbox (so that
 * alice@ and Alice@ and postmaster@ -> alice are delivered once). */
static int
rcpt_is_stored(const struct smtp_session *s, const struct smtp_rcpt *r)
{
	size_t i;

	for (i = 0; i < s->txn.nrcpts; i++) {
		const struct smtp_rcpt *e = &s->txn.rcpts[i];

		if (rcpt_same(&e->addr, &r->addr))
			return 1;
		if (r->kind == RELAY_ACCEPT_LOCAL &&
		    e->kind == RELAY_ACCEPT_LOCAL &&
		    strcmp(e->mailbox, r->mailbox) == 0)
			return 1;
	}
	return 0;
}

/* Record an accepted recipient (once) and say so. */
static void
rcpt_accept(struct smtp_session *s, const struct smtp_rcpt *r,
    const char *decision)
{
	if (!rcpt_is_stored(s, r)) {
		s->txn.rcpts = xreallocarray(s->txn.rcpts, s->txn.nrcpts + 1,
		    sizeof(*s->txn.rcpts));
		s->txn.rcpts[s->txn.nrcpts++] = *r;
	}
	s->state = SMTP_STATE_RCPT;
	rcpt_log(s, &r->addr, decision, r->rule, "250 2.1.5 Ok");
	reply(s, "250 2.1.5 Ok");
}

static void
rcpt_unknown(struct smtp_session *s, const struct smtp_rcpt *r)
{
	char addr[ADDRESS_PATH_MAX + 8], text[512];

	addr_text(&r->addr, addr, sizeof(addr));
	(void)xsnprintf(text, sizeof(text), "550 5.1.1 <%s>: Recipient "
	    "address rejected: User unknown in local recipient table", addr);
	rcpt_log(s, &r->addr, "reject", r->rule, text);
	cmd_reply(s, "%s", text);
}

/* An SRS address of ours: accepted for the sender it stands for (relayed
 * there, whoever the client: it is a bounce coming home), or refused.
 * 0 when r is not one. */
static int
rcpt_srs(struct smtp_session *s, struct smtp_rcpt *r)
{
	char orig[ADDRESS_PATH_MAX + 3];
	struct address a;
	size_t n, end;

	orig[0] = '<';
	switch (s->ops->srs_reverse(s->arg, r->addr.local, orig + 1,
	    sizeof(orig) - 2)) {
	case 1:
		return 0;
	case 0:
		n = strlen(orig);
		orig[n++] = '>';
		orig[n] = '\0';
		if (address_parse_path(orig, n, 0, 0, &a, &end) == ADDRESS_OK &&
		    end == n) {
			r->addr = a;
			r->kind = RELAY_ACCEPT_RELAY;
			(void)xsnprintf(r->rule, sizeof(r->rule), "srs");
			rcpt_accept(s, r, "accept-srs");
			return 1;
		}
		break;
	default:
		break;
	}
	rcpt_unknown(s, r);
	return 1;
}

static void
cmd_rcpt(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	struct relay_mailbox_rule rule;
	struct relay_decision d;
	struct smtp_rcpt r;
	enum address_status st;
	char *p, name[64], text[512];
	size_t end;

	(void)verb;
	(void)rest;
	if ((p = match_keyword(args, "TO:")) == NULL || *p != '<') {
		cmd_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	memset(&r, 0, sizeof(r));
	st = address_parse_path(p, strlen(p), 0, 1, &r.addr, &end);
	if (st == ADDRESS_ERR_8BIT) {
		cmd_reply(s, "553 5.6.7 Non-ASCII addresses are not supported");
		return;
	}
	if (st != ADDRESS_OK) {
		cmd_reply(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	p += end;
	if (*p != '\0' && !is_space(*p)) {
		cmd_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	p = skip_spaces(p);
	if (*p != '\0') {
		param_name(p, name, sizeof(name));
		name[strcspn(name, " \t")] = '\0';
		cmd_reply(s, "555 5.5.4 Unsupported option: %s", name);
		return;
	}
	if (s->txn.nrcpts >= s->cfg->max_recipients &&
	    !rcpt_is_duplicate(s, &r.addr)) {
		cmd_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}

	memset(&d, 0, sizeof(d));
	relay_decide(s->policy, &s->client, s->grants, s->now, &r.addr, &d);
	(void)xsnprintf(r.rule, sizeof(r.rule), "%s", d.rule);
	r.kind = d.result;
	if ((d.result == RELAY_ACCEPT_RELAY || d.result == RELAY_ACCEPT_LOCAL) &&
	    s->ops->rcpt_check != NULL) {
		const char *why = s->ops->rcpt_check(s->arg, &r.addr,
		    d.result == RELAY_ACCEPT_LOCAL && (r.addr.is_postmaster ||
		    strcasecmp(r.addr.local, "postmaster") == 0),
		    text, sizeof(text));

		if (why != NULL) {
			rcpt_log(s, &r.addr, "reject", why, text);
			cmd_reply(s, "%s", text);
			return;
		}
	}
	if (d.result == RELAY_ACCEPT_RELAY) {
		rcpt_accept(s, &r, "accept-relay");
		return;
	}
	if (d.result != RELAY_ACCEPT_LOCAL) {
		(void)xsnprintf(text, sizeof(text), "%d %s %s", d.code,
		    d.status ? d.status : "5.7.1",
		    d.text ? d.text : "Relay access denied");
		if (d.code < 400)	/* a REJECT that is not a rejection is a bug */
			(void)xsnprintf(text, sizeof(text),
			    "554 5.7.1 Relay access denied");
		rcpt_log(s, &r.addr, "reject", r.rule, text);
		cmd_reply(s, "%s", text);
		return;
	}

	if (s->ops->srs_reverse != NULL && rcpt_srs(s, &r))
		return;
	/* Local: which mailbox? Postmaster is always ours; a user name is
	 * ours if the auth process knows it. */
	relay_mailbox_rule_from_config(&rule, s->cfg);
	switch (relay_address_mailbox(&rule, &r.addr, r.mailbox,
	    sizeof(r.mailbox))) {
	case RELAY_MAILBOX_POSTMASTER:
		rcpt_accept(s, &r, "accept-local");
		return;
	case RELAY_MAILBOX_USER:
		break;
	default:
		rcpt_unknown(s, &r);
		return;
	}
	s->pending_rcpt = r;
	s->wait = SMTP_WAIT_USER;
	/* May call smtp_session_user_result() before it returns: nothing
	 * may follow this call. */
	s->ops->user_lookup(s->arg, s->pending_rcpt.mailbox);
}

void
smtp_session_user_result(struct smtp_session *s, enum outcome res)
{
	struct smtp_rcpt r;
	char addr[ADDRESS_PATH_MAX + 8], text[512];

	if (s->wait != SMTP_WAIT_USER)
		return;		/* late or duplicate answer */
	s->wait = SMTP_WAIT_NONE;
	r = s->pending_rcpt;
	memset(&s->pending_rcpt, 0, sizeof(s->pending_rcpt));
	if (s->close)
		return;		/* timed out or shut down meanwhile */
	switch (res) {
	case OUTCOME_OK:		/* a user or a deliverable alias */
		rcpt_accept(s, &r, "accept-local");
		break;
	case OUTCOME_PERM:
		rcpt_unknown(s, &r);
		break;
	case OUTCOME_TEMP:
	default:
		addr_text(&r.addr, addr, sizeof(addr));
		(void)xsnprintf(text, sizeof(text),
		    "451 4.3.0 <%s>: Temporary lookup failure", addr);
		rcpt_log(s, &r.addr, "tempfail", r.rule, text);
		cmd_reply(s, "%s", text);
		break;
	}
}

/* ---- DATA ---------------------------------------------------------- */

static void
cmd_data(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	(void)verb;
	if (*args != '\0') {
		cmd_reply(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (rest > 0) {
		/* Content (or commands) sent before our 354: a client that
		 * does not wait is either broken or smuggling. Never read
		 * those bytes as anything. */
		reply(s, "554 5.5.0 Error: SMTP protocol synchronization");
		slog(s, "pipelining violation after DATA client=%s", s->client_text);
		session_close(s);
		return;
	}
	if (s->txn.nrcpts == 0) {
		cmd_reply(s, "554 5.5.1 Error: no valid recipients");
		return;
	}
	if (s->ops->message_open(s->arg, s) == -1) {
		cmd_reply(s, "451 4.3.0 Error: queue file write error");
		return;
	}
	buf_reset(&s->pending_out);
	s->data_failed = 0;
	smtp_data_init(&s->data, s->cfg->max_message_size);
	s->state = SMTP_STATE_DATA;
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void
data_log(struct smtp_session *s, const char *what, const char *extra)
{
	char qfrom[ADDR_LOG_MAX];

	addr_log(&s->txn.from, qfrom, sizeof(qfrom));
	slog(s, "%s client=%s from=<%s> size=%" PRIu64 " nrcpt=%zu %s",
	    what, s->client_text, qfrom, s->data.size, s->txn.nrcpts, extra);
}

/* <CRLF>.<CRLF> has been seen: answer once. */
static void
data_end(struct smtp_session *s)
{
	unsigned f = s->data.flags;
	const char *text = NULL;
	char extra[600], q[520];

	if (f & SMTP_DATA_F_TOO_BIG)
		text = "552 5.3.4 Message size exceeds fixed limit";
	else if (f & (SMTP_DATA_F_BARE_LF | SMTP_DATA_F_BARE_CR))
		text = "550 5.5.2 Message contains bare CR or LF; "
		    "lines must end with CRLF";
	else if (f & SMTP_DATA_F_NUL)
		text = "550 5.6.0 Message contains NUL characters";
	else if (f & SMTP_DATA_F_LONG_LINE)
		text = "550 5.5.2 Message contains a line longer than "
		    "1000 octets";
	else if ((uint64_t)s->data.received + 1 > DSN_LOOP_RECEIVED)
		/* Our own Received: makes one more in the queue file: the
		 * queue process would find the loop and bounce it to a
		 * sender nobody checked (backscatter). Refuse it now. */
		text = "554 5.4.6 Error: too many hops (mail loop: more than "
		    SMTP_STR(DSN_LOOP_RECEIVED) " Received: headers)";
	else if (s->data_failed)
		text = "451 4.3.0 Error: queue file write error";
	if (text != NULL) {
		s->ops->message_abort(s->arg);
		log_quote(q, sizeof(q), text, strlen(text));
		(void)xsnprintf(extra, sizeof(extra), "reply=\"%s\"", q);
		data_log(s, "message rejected", extra);
		reply(s, "%s", text);
		txn_reset(s);
		linebuf_reset(&s->lb);
		return;
	}
	s->wait = SMTP_WAIT_COMMIT;
	/* May call smtp_session_commit_result() before it returns. */
	s->ops->message_commit(s->arg);
}

void
smtp_session_commit_result(struct smtp_session *s, int ok, const char *id)
{
	char q[160], qfrom[ADDR_LOG_MAX];

	if (s->wait != SMTP_WAIT_COMMIT)
		return;
	s->wait = SMTP_WAIT_NONE;
	if (id == NULL)
		id = "?";
	log_quote(q, sizeof(q), id, strlen(id));
	if (ok) {
		s->messages++;
		addr_log(&s->txn.from, qfrom, sizeof(qfrom));
		slog(s, "queued id=%s from=<%s> size=%" PRIu64 " nrcpt=%zu client=%s",
		    q, qfrom, s->data.size, s->txn.nrcpts, s->client_text);
		if (!s->close)
			reply(s, "250 2.0.0 Ok: queued as %s", q);
	} else {
		data_log(s, "message commit failed", "reply=\"451 4.3.0\"");
		if (!s->close)
			reply(s, "451 4.3.0 Error: queue file write error");
	}
	if (s->close) {
		/* Timed out or shut down while committing: stay closed. */
		free(s->txn.rcpts);
		memset(&s->txn, 0, sizeof(s->txn));
		return;
	}
	txn_reset(s);
	linebuf_reset(&s->lb);
}

void
smtp_session_commit_refused(struct smtp_session *s, const char *line)
{
	char extra[64];

	if (s->wait != SMTP_WAIT_COMMIT)
		return;
	s->wait = SMTP_WAIT_NONE;
	(void)xsnprintf(extra, sizeof(extra), "reply=\"%.9s\"", line);
	data_log(s, "message refused", extra);
	if (!s->close)
		reply(s, "%s", line);
	if (s->close) {
		free(s->txn.rcpts);
		memset(&s->txn, 0, sizeof(s->txn));
		return;
	}
	txn_reset(s);
	linebuf_reset(&s->lb);
}

/* Push unstuffed content to the message file. */
static void
data_flush(struct smtp_session *s)
{
	if (s->pending_out.len == 0)
		return;
	if (!s->data_failed && s->ops->message_write(s->arg,
	    s->pending_out.data, s->pending_out.len) == -1)
		s->data_failed = 1;
	buf_reset(&s->pending_out);
}

static size_t
data_feed(struct smtp_session *s, const char *in, size_t len)
{
	size_t n;

	if (len > SMTP_DATA_CHUNK)
		len = SMTP_DATA_CHUNK;
	n = smtp_data_feed(&s->data, in, len, &s->pending_out);
	data_flush(s);
	if (s->data.done)
		data_end(s);
	return n;
}

/* ---- the small ones ------------------------------------------------ */

static void
cmd_rset(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	(void)verb;
	(void)rest;
	if (*args != '\0') {
		cmd_reply(s, "501 5.5.4 Syntax: RSET");
		return;
	}
	if (message_is_open(s))
		s->ops->message_abort(s->arg);
	txn_reset(s);
	reply(s, "250 2.0.0 Ok");
}

static void
cmd_noop(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	(void)verb;
	(void)args;
	(void)rest;
	reply(s, "250 2.0.0 Ok");
}

static void
cmd_quit(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	(void)verb;
	(void)args;
	(void)rest;
	reply(s, "221 2.0.0 Bye");
	session_close(s);
}

static void
cmd_vrfy(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	(void)verb;
	(void)rest;
	if (*args == '\0') {
		cmd_reply(s, "501 5.5.4 Syntax: VRFY address");
		return;
	}
	reply(s, "252 2.0.0 Cannot VRFY user; try RCPT to attempt delivery");
}

static void
cmd_help(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	(void)verb;
	(void)args;
	(void)rest;
	reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT "
	    "VRFY HELP");
}

static void
cmd_notimpl(struct smtp_session *s, const char *verb, char *args, size_t rest)
{
	(void)verb;
	(void)args;
	(void)rest;
	cmd_reply(s, "502 5.5.1 Error: command not implemented");
}

/* ---- dispatch ------------------------------------------------------ */

static int
is_http(const char *line, size_t len)
{
	static const char *const methods[] = {
		"GET ", "POST ", "HEAD ", "PUT ", "CONNECT ",
	};
	size_t i, n;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		n = strlen(methods[i]);
		if (len >= n && memcmp(line, methods[i], n) == 0)
			return 1;
	}
	return len >= 5 && strncasecmp(line, "Host:", 5) == 0;
}

static void
dispatch(struct smtp_session *s, const char *line, size_t len, size_t rest)
{
	char cmd[SMTP_CMD_LIMIT + 1], verb[16], *args;
	const struct smtp_cmd *c = NULL;
	size_t i, vlen, n;

	if (is_http(line, len)) {
		reply(s, "521 5.7.0 %s Error: HTTP is not SMTP", host(s));
		slog(s, "http request client=%s", s->client_text);
		session_close(s);
		return;
	}
	/* linebuf caps len at SMTP_CMD_LIMIT - 2 and has ruled out NUL. */
	n = len < sizeof(cmd) - 1 ? len : sizeof(cmd) - 1;
	memcpy(cmd, line, n);
	cmd[n] = '\0';
	/* Trailing blanks are common and harmless. */
	while (n > 0 && is_space(cmd[n - 1]))
		cmd[--n] = '\0';
	vlen = strcspn(cmd, " \t");
	if (vlen < sizeof(verb)) {
		memcpy(verb, cmd, vlen);
		verb[vlen] = '\0';
		for (i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++)
			if (strcasecmp(verb, smtp_cmds[i].verb) == 0) {
				c = &smtp_cmds[i];
				break;
			}
	}
	if (c == NULL) {
		cmd_reply(s, "500 5.5.1 Error: command not recognized");
		return;
	}
	if (!(c->states & ST(s->state))) {
		if ((c->flags & CMD_NEEDS_HELO) && s->state == SMTP_STATE_READY)
			cmd_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		else
			cmd_reply(s, "%s", c->bad_state);
		return;
	}
	args = skip_spaces(cmd + vlen);
	c->fn(s, c->verb, args, rest);
}

size_t
smtp_session_feed(struct smtp_session *s, const char *in, size_t len)
{
	enum linebuf_status st;
	const char *line;
	size_t used = 0, n, linelen;

	/* Give back a reply buffer that a burst made big, once it is drained. */
	if (s->out.len == 0 && s->out.cap > 4096)
		buf_free(&s->out);
	while (used < len) {
		if (s->wait != SMTP_WAIT_NONE || s->close ||
		    s->state == SMTP_STATE_GREETING ||
		    s->state == SMTP_STATE_QUIT ||
		    s->out.len >= SMTP_OUT_HIGHWATER)
			break;
		if (s->state == SMTP_STATE_DATA) {
			used += data_feed(s, in + used, len - used);
			continue;
		}
		st = linebuf_next(&s->lb, in + used, len - used, &n, &line,
		    &linelen);
		used += n;
		switch (st) {
		case LINEBUF_NEED_MORE:
			break;
		case LINEBUF_LINE:
			if (s->state == SMTP_STATE_AUTH)
				auth_line(s, line, linelen);
			else
				dispatch(s, line, linelen, len - used + s->more_input);
			break;
		case LINEBUF_TOO_LONG:
			if (s->state == SMTP_STATE_AUTH) {
				auth_done(s);
				sasl_reset(&s->sasl);
				cmd_reply(s, "500 5.5.6 Authentication exchange "
				    "line is too long");
				break;
			}
			cmd_reply(s, "500 5.5.2 Error: line too long");
			break;
		case LINEBUF_BARE_LF:
			cmd_reply(s, "500 5.5.2 Error: bare LF received");
			break;
		case LINEBUF_BARE_CR:
			cmd_reply(s, "500 5.5.2 Error: bare CR received");
			break;
		case LINEBUF_NUL:
			cmd_reply(s, "500 5.5.2 Error: NUL character received");
			break;
		}
		/* A malformed line ends an AUTH exchange. */
		if (st != LINEBUF_NEED_MORE && st != LINEBUF_LINE &&
		    s->state == SMTP_STATE_AUTH) {
			auth_done(s);
			sasl_reset(&s->sasl);
		}
	}
	return used;
}

void
smtp_session_timeout(struct smtp_session *s)
{
	if (s->close)
		return;
	if (message_is_open(s))
		s->ops->message_abort(s->arg);
	reply(s, "421 4.4.2 %s Error: timeout exceeded", host(s));
	slog(s, "timeout client=%s", s->client_text);
	session_close(s);
}

void
smtp_session_shutdown(struct smtp_session *s)
{
	if (s->close)
		return;
	if (message_is_open(s))
		s->ops->message_abort(s->arg);
	reply(s, "421 4.3.2 %s Service shutting down", host(s));
	session_close(s);
}
