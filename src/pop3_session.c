/* pop3_session - one POP3 server session as an explicit state machine;
 * see pop3_session.h.
 *
 * Input: command lines through linebuf (255 octets with CRLF). Output:
 * replies appended to s->out. Questions ("is this password right?", "open
 * the mailbox") go to ops and are answered through
 * pop3_session_auth_result()/pop3_session_mailbox_result(), maybe before
 * the op returns: every handler ends right after it asked.
 *
 * Multi-line responses that can be large (LIST, UIDL, RETR, TOP) are not
 * written at once: the handler writes the +OK line and sets s->stream;
 * pop3_session_pump() then adds lines or message chunks until out reaches
 * the high-water mark, and feed consumes no input until the response is
 * complete. So a 50 MB RETR or a 100 000-message LIST costs at most
 * POP3_OUT_MAX octets of memory.
 *
 * Error accounting: every -ERR the client caused (bad syntax, bad state,
 * bad message number, failed login) counts; server-side trouble
 * ([SYS/TEMP], [IN-USE]) and "not supported" do not. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "decimal.h"
#include "pop3_session.h"

#define ST(x)	(1u << (x))
#define ST_AUTH	ST(POP3_STATE_AUTHORIZATION)
#define ST_TRAN	ST(POP3_STATE_TRANSACTION)

#define CMD_RAW_ARGS	0x01	/* args are the rest of the line, untrimmed */
#define CMD_SECRET	0x02	/* the line holds a secret: wipe it afterwards */

#define MAX_ARGS	3

struct pop3_cmd {
	const char	*verb;
	void		(*fn)(struct pop3_session *, char **argv, int argc);
	unsigned	states;		/* ST() bits in which it is valid */
	unsigned	flags;
	int		min_args, max_args;
	const char	*usage;		/* "-ERR syntax: usage" */
};

static void	cmd_user(struct pop3_session *, char **, int);
static void	cmd_pass(struct pop3_session *, char **, int);
static void	cmd_apop(struct pop3_session *, char **, int);
static void	cmd_quit(struct pop3_session *, char **, int);
static void	cmd_capa(struct pop3_session *, char **, int);
static void	cmd_stls(struct pop3_session *, char **, int);
static void	cmd_notsupp(struct pop3_session *, char **, int);
static void	cmd_stat(struct pop3_session *, char **, int);
static void	cmd_list(struct pop3_session *, char **, int);
static void	cmd_uidl(struct pop3_session *, char **, int);
static void	cmd_retr(struct pop3_session *, char **, int);
static void	cmd_top(struct pop3_session *, char **, int);
static void	cmd_dele(struct pop3_session *, char **, int);
static void	cmd_noop(struct pop3_session *, char **, int);
static void	cmd_rset(struct pop3_session *, char **, int);

static const struct pop3_cmd pop3_cmds[] = {
	{ "USER", cmd_user,    ST_AUTH, 0, 1, 1, "USER name" },
	{ "PASS", cmd_pass,    ST(POP3_STATE_AUTH_USER),
	    CMD_RAW_ARGS | CMD_SECRET, 1, 1, "PASS password" },
	{ "APOP", cmd_apop,    ST_AUTH, CMD_SECRET, 2, 2, "APOP name digest" },
	{ "QUIT", cmd_quit,    ST_AUTH | ST_TRAN, 0, 0, 0, "QUIT" },
	{ "CAPA", cmd_capa,    ST_AUTH | ST_TRAN, 0, 0, 0, "CAPA" },
	{ "STLS", cmd_stls,    ST(POP3_STATE_AUTHORIZATION), 0, 0, 0, "STLS" },
	{ "AUTH", cmd_notsupp, ST_AUTH, 0, 0, MAX_ARGS, "AUTH" },
	{ "STAT", cmd_stat,    ST_TRAN, 0, 0, 0, "STAT" },
	{ "LIST", cmd_list,    ST_TRAN, 0, 0, 1, "LIST [msg]" },
	{ "UIDL", cmd_uidl,    ST_TRAN, 0, 0, 1, "UIDL [msg]" },
	{ "RETR", cmd_retr,    ST_TRAN, 0, 1, 1, "RETR msg" },
	{ "TOP",  cmd_top,     ST_TRAN, 0, 2, 2, "TOP msg lines" },
	{ "DELE", cmd_dele,    ST_TRAN, 0, 1, 1, "DELE msg" },
	{ "NOOP", cmd_noop,    ST_TRAN, 0, 0, 0, "NOOP" },
	{ "RSET", cmd_rset,    ST_TRAN, 0, 0, 0, "RSET" },
};

/* ---- output -------------------------------------------------------- */

/* Log lines (log.h): client=[IP] first, the name the peer chose as
 * user="...". user_valid() admits no '"', '\', blank or control byte, so
 * s->user needs no escaping to stay inside its quotes. */
static void
slog(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
slog(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vsink(s->ops->log, s->arg, fmt, ap);
	va_end(ap);
}

static void
vreply(struct pop3_session *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
vreply(struct pop3_session *s, const char *fmt, va_list ap)
{
	/* out is capped far above what the high-water mark lets through,
	 * so this never fails; if it did, the client would see a timeout,
	 * never a wrong answer. */
	(void)buf_vprintf_crlf(&s->out, fmt, ap);
}

/* A reply that does not count as a client error. */
static void
reply(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
}

static void
session_close(struct pop3_session *s)
{
	if (s->msg_is_open) {
		s->ops->msg_close(s->arg);
		s->msg_is_open = 0;
	}
	s->stream = POP3_STREAM_NONE;
	s->close = 1;
	if (s->state != POP3_STATE_UPDATE)
		s->state = POP3_STATE_CLOSED;
}

/* A -ERR the client caused: counts, and too many end the session. */
static void
err(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
err(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
	if (s->close || ++s->errors < s->set.max_errors)
		return;
	reply(s, "-ERR too many errors");
	slog(s, "too many errors client=%s user=\"%s\" errors=%u", s->client_text,
	    s->user, s->errors);
	session_close(s);
}

/* ---- set-up -------------------------------------------------------- */

void
pop3_session_init(struct pop3_session *s, const struct pop3_settings *set,
    const char *client_text, const struct pop3_session_ops *ops, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->state = POP3_STATE_GREETING;
	s->set = *set;
	if (s->set.max_errors == 0)
		s->set.max_errors = POP3_MAX_ERRORS_DEFAULT;
	if (xsnprintf(s->client_text, sizeof(s->client_text), "%s",
	    client_text != NULL ? client_text : "[unknown]") == -1)
		(void)xsnprintf(s->client_text, sizeof(s->client_text), "[?]");
	s->ops = ops;
	s->arg = arg;
	linebuf_init(&s->lb, POP3_CMD_LIMIT);
	buf_init(&s->out, POP3_OUT_MAX);
}

void
pop3_session_free(struct pop3_session *s)
{
	if (s->msg_is_open) {
		s->ops->msg_close(s->arg);
		s->msg_is_open = 0;
	}
	s->stream = POP3_STREAM_NONE;
	s->mb = NULL;
	buf_free(&s->out);
	explicit_bzero(s->lb.buf, sizeof(s->lb.buf));
	s->state = POP3_STATE_CLOSED;
	s->close = 1;
}

int
pop3_session_start(struct pop3_session *s, const unsigned char *random,
    size_t nrandom, long long pid, long long now)
{
	int rc = 0;

	if (s->state != POP3_STATE_GREETING)
		return -1;
	if (apop_timestamp(s->timestamp, sizeof(s->timestamp), random,
	    nrandom, pid, now, s->set.hostname != NULL ? s->set.hostname :
	    "") == -1) {
		rc = -1;
		if (apop_timestamp(s->timestamp, sizeof(s->timestamp), random,
		    nrandom, pid, now, "localhost") == -1) {
			/* No random bytes: no APOP for this session, and
			 * the greeting says nothing it cannot keep. */
			s->timestamp[0] = '\0';
		}
	}
	if (s->timestamp[0] != '\0')
		reply(s, "+OK postern POP3 server ready %s", s->timestamp);
	else
		reply(s, "+OK postern POP3 server ready");
	s->state = POP3_STATE_AUTHORIZATION;
	return rc;
}

/* ---- arguments ----------------------------------------------------- */

static int
user_valid(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > POP3_USER_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' || c == '+' || c == '@'))
			return 0;
	}
	return 1;
}

/* Decimal without sign or blanks, at most 19 digits (a message number or
 * a TOP line count): 0 and *v (clamped to limit), or -1. */
static int
parse_number(const char *a, uint64_t limit, uint64_t *v)
{
	uint64_t n;

	if (parse_decimal(a, strlen(a), 9999999999999999999ULL, &n) == -1)
		return -1;
	*v = n > limit ? limit : n;
	return 0;
}

/* The message number a (1-based) as an index into the snapshot: 0 and
 * *idx_r, or -1 after the -ERR (not a number, out of range, deleted). */
static int
msg_index(struct pop3_session *s, const char *a, size_t *idx_r)
{
	uint64_t n;

	if (parse_number(a, UINT64_MAX, &n) == -1) {
		err(s, "-ERR invalid message number");
		return -1;
	}
	if (n == 0 || n > s->mb->n) {
		err(s, "-ERR no such message");
		return -1;
	}
	if (s->mb->msgs[n - 1].deleted) {
		err(s, "-ERR message %" PRIu64 " already deleted", n);
		return -1;
	}
	*idx_r = (size_t)(n - 1);
	return 0;
}

/* ---- AUTHORIZATION ------------------------------------------------- */

/* pop3_auth forbids USER/PASS here: refuse (and say why) before anything
 * reaches auth. Returns 1 if refused. */
static int
plaintext_refused(struct pop3_session *s)
{
	if (s->set.auth == POP3_AUTH_APOP_ONLY) {
		err(s, "-ERR [AUTH] Plain text passwords are disabled; "
		    "use APOP");
		return 1;
	}
	if (s->set.auth == POP3_AUTH_TLS_ONLY && !s->tls_active) {
		err(s, "-ERR [AUTH] Plain text passwords need TLS; use STLS "
		    "first (or APOP)");
		return 1;
	}
	return 0;
}

static void
cmd_user(struct pop3_session *s, char **argv, int argc)
{
	(void)argc;
	s->user[0] = '\0';
	if (plaintext_refused(s))
		return;
	if (!user_valid(argv[0])) {
		err(s, "-ERR invalid user name");
		return;
	}
	memcpy(s->user, argv[0], strlen(argv[0]) + 1);
	s->state = POP3_STATE_AUTH_USER;
	reply(s, "+OK send PASS");
}

static void
cmd_pass(struct pop3_session *s, char **argv, int argc)
{
	(void)argc;
	if (argv[0][0] == '\0') {
		s->state = POP3_STATE_AUTHORIZATION;
		s->user[0] = '\0';
		err(s, "-ERR syntax: PASS password");
		return;
	}
	/* USER already refused it; checked again so that no path to a
	 * password check exists where the policy forbids one. */
	if (plaintext_refused(s)) {
		s->state = POP3_STATE_AUTHORIZATION;
		s->user[0] = '\0';
		return;
	}
	s->apop = 0;
	s->state = POP3_STATE_AUTH_WAIT;
	/* The caller wipes argv[0] when this returns. */
	s->ops->check_password(s->arg, s->user, argv[0]);
}

static void
cmd_apop(struct pop3_session *s, char **argv, int argc)
{
	(void)argc;
	s->user[0] = '\0';
	if (s->timestamp[0] == '\0') {
		reply(s, "-ERR [SYS/TEMP] APOP is not available");
		return;
	}
	if (!user_valid(argv[0])) {
		err(s, "-ERR invalid user name");
		return;
	}
	if (!apop_digest_valid(argv[1], strlen(argv[1]))) {
		err(s, "-ERR syntax: APOP name digest");
		return;
	}
	memcpy(s->user, argv[0], strlen(argv[0]) + 1);
	s->apop = 1;
	s->state = POP3_STATE_AUTH_WAIT;
	s->ops->check_apop(s->arg, s->user, s->timestamp, argv[1]);
}

static const char *
method(const struct pop3_session *s)
{
	return s->apop ? "apop" : "pass";
}

void
pop3_session_auth_result(struct pop3_session *s, int r)
{
	if (s->state != POP3_STATE_AUTH_WAIT)
		return;		/* late answer for a session that moved on */
	if (r == OUTCOME_OK) {
		s->state = POP3_STATE_MAILBOX_WAIT;
		s->ops->open_mailbox(s->arg, s->user);
		return;
	}
	s->state = POP3_STATE_AUTHORIZATION;
	switch (r) {
	case POP3_BAD:
		slog(s, "auth failed client=%s user=\"%s\" method=%s",
		    s->client_text, s->user, method(s));
		s->user[0] = '\0';
		err(s, "-ERR [AUTH] Authentication failed");
		break;
	case POP3_IN_USE:
		slog(s, "mailbox in use client=%s user=\"%s\"", s->client_text,
		    s->user);
		s->user[0] = '\0';
		reply(s, "-ERR [IN-USE] Mailbox is locked by another session");
		break;
	case OUTCOME_PERM:
		slog(s, "auth refused client=%s user=\"%s\" method=%s",
		    s->client_text, s->user, method(s));
		s->user[0] = '\0';
		err(s, "-ERR [SYS/PERM] Login refused");
		break;
	case OUTCOME_TEMP:
	default:
		slog(s, "auth tempfail client=%s user=\"%s\" method=%s",
		    s->client_text, s->user, method(s));
		s->user[0] = '\0';
		reply(s, "-ERR [SYS/TEMP] Authentication temporarily "
		    "unavailable");
		break;
	}
}

void
pop3_session_mailbox_result(struct pop3_session *s, int r,
    struct mailbox *mb)
{
	size_t count;
	uint64_t octets;

	if (s->state != POP3_STATE_MAILBOX_WAIT)
		return;
	if (r == OUTCOME_OK && mb != NULL) {
		s->mb = mb;
		s->state = POP3_STATE_TRANSACTION;
		mailbox_stat(mb, &count, &octets);
		slog(s, "login client=%s user=\"%s\" method=%s messages=%zu "
		    "octets=%" PRIu64, s->client_text, s->user, method(s),
		    count, octets);
		reply(s, "+OK maildrop has %zu messages (%" PRIu64 " octets)",
		    count, octets);
		return;
	}
	s->state = POP3_STATE_AUTHORIZATION;
	switch (r) {
	case POP3_IN_USE:
		slog(s, "mailbox in use client=%s user=\"%s\"", s->client_text,
		    s->user);
		reply(s, "-ERR [IN-USE] Mailbox is locked by another session");
		break;
	case OUTCOME_PERM:
	case POP3_BAD:
		slog(s, "mailbox unavailable client=%s user=\"%s\"",
		    s->client_text, s->user);
		reply(s, "-ERR [SYS/PERM] Mailbox unavailable");
		break;
	case OUTCOME_OK:	/* without a mailbox: a bug in the caller */
	case OUTCOME_TEMP:
	default:
		slog(s, "mailbox tempfail client=%s user=\"%s\"", s->client_text,
		    s->user);
		reply(s, "-ERR [SYS/TEMP] Cannot open mailbox, try again "
		    "later");
		break;
	}
	s->user[0] = '\0';
}

static void
cmd_notsupp(struct pop3_session *s, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	reply(s, "-ERR not supported");
}

/* STLS (RFC 2595): nothing received behind it is read in clear. */
static void
cmd_stls(struct pop3_session *s, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	if (s->tls_active) {
		err(s, "-ERR already using TLS");
		return;
	}
	if (!s->tls_available) {
		err(s, "-ERR TLS not available");
		return;
	}
	reply(s, "+OK Begin TLS negotiation");
	s->state = POP3_STATE_TLS_WAIT;
}

void
pop3_session_tls_started(struct pop3_session *s)
{
	if (s->state != POP3_STATE_TLS_WAIT)
		return;
	s->tls_active = 1;
	s->user[0] = '\0';
	linebuf_reset(&s->lb);
	s->state = POP3_STATE_AUTHORIZATION;
}

static void
cmd_capa(struct pop3_session *s, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	reply(s, "+OK Capability list follows");
	reply(s, "TOP");
	reply(s, "UIDL");
	if (s->state == POP3_STATE_AUTHORIZATION &&
	    (s->set.auth == POP3_AUTH_ANY ||
	    (s->set.auth == POP3_AUTH_TLS_ONLY && s->tls_active)))
		reply(s, "USER");
	if (s->state == POP3_STATE_AUTHORIZATION && s->tls_available &&
	    !s->tls_active)
		reply(s, "STLS");
	reply(s, "RESP-CODES");
	reply(s, "AUTH-RESP-CODE");
	reply(s, "PIPELINING");
	reply(s, "IMPLEMENTATION postern");
	reply(s, ".");
}

static void
cmd_quit(struct pop3_session *s, char **argv, int argc)
{
	size_t marked, left;
	uint64_t octets;

	(void)argv;
	(void)argc;
	if (s->state != POP3_STATE_TRANSACTION) {
		reply(s, "+OK postern POP3 server signing off");
		session_close(s);
		return;
	}
	s->state = POP3_STATE_UPDATE;
	marked = mailbox_marked(s->mb);
	mailbox_stat(s->mb, &left, &octets);
	if (marked > 0 && s->ops->update(s->arg, s->mb) == -1) {
		slog(s, "logout client=%s user=\"%s\" retrieved=%u deleted=%zu "
		    "error=\"some deleted messages not removed\"",
		    s->client_text, s->user, s->retrieved, marked);
		reply(s, "-ERR [SYS/TEMP] Some deleted messages not removed");
		session_close(s);
		return;
	}
	slog(s, "logout client=%s user=\"%s\" retrieved=%u deleted=%zu left=%zu",
	    s->client_text, s->user, s->retrieved, marked, left);
	reply(s, "+OK postern POP3 server signing off (%zu messages left)",
	    left);
	session_close(s);
}

/* ---- TRANSACTION --------------------------------------------------- */

static void
cmd_stat(struct pop3_session *s, char **argv, int argc)
{
	size_t count;
	uint64_t octets;

	(void)argv;
	(void)argc;
	mailbox_stat(s->mb, &count, &octets);
	reply(s, "+OK %zu %" PRIu64, count, octets);
}

static void
cmd_list(struct pop3_session *s, char **argv, int argc)
{
	size_t idx, count;
	uint64_t octets;

	if (argc == 1) {
		if (msg_index(s, argv[0], &idx) == 0)
			reply(s, "+OK %zu %" PRIu64, idx + 1,
			    s->mb->msgs[idx].size);
		return;
	}
	mailbox_stat(s->mb, &count, &octets);
	reply(s, "+OK %zu messages (%" PRIu64 " octets)", count, octets);
	s->stream = POP3_STREAM_LIST;
	s->cursor = 0;
	(void)pop3_session_pump(s);
}

static void
cmd_uidl(struct pop3_session *s, char **argv, int argc)
{
	size_t idx;

	if (argc == 1) {
		if (msg_index(s, argv[0], &idx) == 0)
			reply(s, "+OK %zu %s", idx + 1, s->mb->msgs[idx].uid);
		return;
	}
	reply(s, "+OK unique-id listing follows");
	s->stream = POP3_STREAM_UIDL;
	s->cursor = 0;
	(void)pop3_session_pump(s);
}

/* RETR (top < 0) and TOP. */
static void
send_msg(struct pop3_session *s, size_t idx, long top)
{
	if (s->ops->msg_open(s->arg, s->mb, idx) == -1) {
		slog(s, "cannot open message client=%s user=\"%s\" msg=%zu",
		    s->client_text, s->user, idx + 1);
		reply(s, "-ERR [SYS/TEMP] Cannot read message %zu", idx + 1);
		return;
	}
	s->msg_is_open = 1;
	if (top < 0)
		reply(s, "+OK %" PRIu64 " octets", s->mb->msgs[idx].size);
	else
		reply(s, "+OK top of message follows");
	mailbox_iter_init(&s->iter, top, s->ops->msg_read, s->arg);
	s->stream = POP3_STREAM_MSG;
	if (top < 0)
		s->retrieved++;
	(void)pop3_session_pump(s);
}

static void
cmd_retr(struct pop3_session *s, char **argv, int argc)
{
	size_t idx;

	(void)argc;
	if (msg_index(s, argv[0], &idx) == 0)
		send_msg(s, idx, -1);
}

static void
cmd_top(struct pop3_session *s, char **argv, int argc)
{
	uint64_t lines;
	size_t idx;

	(void)argc;
	if (msg_index(s, argv[0], &idx) == -1)
		return;
	if (parse_number(argv[1], LONG_MAX, &lines) == -1) {
		err(s, "-ERR syntax: TOP msg lines");
		return;
	}
	send_msg(s, idx, (long)lines);
}

static void
cmd_dele(struct pop3_session *s, char **argv, int argc)
{
	size_t idx;

	(void)argc;
	if (msg_index(s, argv[0], &idx) == -1)
		return;
	(void)mailbox_mark(s->mb, idx);
	reply(s, "+OK message %zu deleted", idx + 1);
}

static void
cmd_noop(struct pop3_session *s, char **argv, int argc)
{
	(void)argv;
	(void)argc;
	reply(s, "+OK");
}

static void
cmd_rset(struct pop3_session *s, char **argv, int argc)
{
	size_t count;
	uint64_t octets;

	(void)argv;
	(void)argc;
	mailbox_unmark_all(s->mb);
	mailbox_stat(s->mb, &count, &octets);
	reply(s, "+OK maildrop has %zu messages (%" PRIu64 " octets)",
	    count, octets);
}

/* ---- multi-line responses ------------------------------------------ */

int
pop3_session_pump(struct pop3_session *s)
{
	const struct mailbox_msg *m;
	int r;

	while (s->stream != POP3_STREAM_NONE &&
	    s->out.len < POP3_OUT_HIGHWATER) {
		switch (s->stream) {
		case POP3_STREAM_LIST:
		case POP3_STREAM_UIDL:
			if (s->cursor >= s->mb->n) {
				reply(s, ".");
				s->stream = POP3_STREAM_NONE;
				break;
			}
			m = &s->mb->msgs[s->cursor++];
			if (m->deleted)
				break;
			if (s->stream == POP3_STREAM_LIST)
				reply(s, "%zu %" PRIu64, s->cursor, m->size);
			else
				reply(s, "%zu %s", s->cursor, m->uid);
			break;
		case POP3_STREAM_MSG:
			r = mailbox_iter_next(&s->iter, &s->out, MAILBOX_CHUNK);
			if (r == 1)
				break;
			s->ops->msg_close(s->arg);
			s->msg_is_open = 0;
			s->stream = POP3_STREAM_NONE;
			if (r == -1) {
				/* Mid-response nothing can be said: the
				 * client sees no final "." and must not
				 * take the message as complete. */
				slog(s, "read error client=%s user=\"%s\"",
				    s->client_text, s->user);
				session_close(s);
			}
			break;
		case POP3_STREAM_NONE:
			break;
		}
	}
	return s->stream != POP3_STREAM_NONE;
}

/* ---- dispatch ------------------------------------------------------ */

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
dispatch(struct pop3_session *s, const char *line, size_t len)
{
	char cmd[POP3_CMD_LIMIT + 1], verb[8], *argv[MAX_ARGS + 1], *p;
	const struct pop3_cmd *c = NULL;
	size_t i, vlen, n;
	int argc = 0;

	/* linebuf caps len at POP3_CMD_LIMIT - 2 and has ruled out NUL. */
	n = len < sizeof(cmd) - 1 ? len : sizeof(cmd) - 1;
	memcpy(cmd, line, n);
	cmd[n] = '\0';
	vlen = strcspn(cmd, " \t");
	if (vlen > 0 && vlen < sizeof(verb)) {
		memcpy(verb, cmd, vlen);
		verb[vlen] = '\0';
		for (i = 0; i < sizeof(pop3_cmds) / sizeof(pop3_cmds[0]); i++)
			if (strcasecmp(verb, pop3_cmds[i].verb) == 0) {
				c = &pop3_cmds[i];
				break;
			}
	}
	/* PASS must come right after USER: anything else forgets the USER. */
	if (s->state == POP3_STATE_AUTH_USER &&
	    (c == NULL || c->fn != cmd_pass)) {
		s->state = POP3_STATE_AUTHORIZATION;
		s->user[0] = '\0';
	}
	if (c == NULL) {
		err(s, "-ERR unknown command");
		goto done;
	}
	if (!(c->states & ST(s->state))) {
		err(s, "-ERR command not valid in this state");
		goto done;
	}
	p = cmd + vlen;
	if (c->flags & CMD_RAW_ARGS) {
		/* PASS: one separating space; the rest, blanks included,
		 * is the password. */
		if (is_blank(*p))
			p++;
		argv[argc++] = p;
	} else {
		while (n > vlen && is_blank(cmd[n - 1]))
			cmd[--n] = '\0';
		for (;;) {
			while (is_blank(*p))
				*p++ = '\0';
			if (*p == '\0')
				break;
			if (argc == MAX_ARGS) {
				argc++;	/* too many: refused below */
				break;
			}
			argv[argc++] = p;
			p += strcspn(p, " \t");
		}
	}
	if (argc < c->min_args || argc > c->max_args) {
		err(s, "-ERR syntax: %s", c->usage);
		goto done;
	}
	argv[argc] = NULL;
	c->fn(s, argv, argc);
done:
	if (c != NULL && (c->flags & CMD_SECRET)) {
		explicit_bzero(cmd, sizeof(cmd));
		/* linebuf keeps the line until the next call: wipe it too. */
		explicit_bzero(s->lb.buf, POP3_CMD_LIMIT);
	}
}

size_t
pop3_session_feed(struct pop3_session *s, const char *in, size_t len)
{
	enum linebuf_status st;
	const char *line;
	size_t used = 0, n, linelen;

	(void)pop3_session_pump(s);
	while (used < len) {
		if (s->close || s->stream != POP3_STREAM_NONE ||
		    s->out.len >= POP3_OUT_HIGHWATER ||
		    (s->state != POP3_STATE_AUTHORIZATION &&
		    s->state != POP3_STATE_AUTH_USER &&
		    s->state != POP3_STATE_TRANSACTION))
			break;
		st = linebuf_next(&s->lb, in + used, len - used, &n, &line,
		    &linelen);
		used += n;
		switch (st) {
		case LINEBUF_NEED_MORE:
			break;
		case LINEBUF_LINE:
			dispatch(s, line, linelen);
			break;
		case LINEBUF_TOO_LONG:
			err(s, "-ERR line too long");
			break;
		case LINEBUF_BARE_LF:
			err(s, "-ERR bare LF received");
			break;
		case LINEBUF_BARE_CR:
			err(s, "-ERR bare CR received");
			break;
		case LINEBUF_NUL:
			err(s, "-ERR NUL character received");
			break;
		}
		if (st != LINEBUF_NEED_MORE && st != LINEBUF_LINE &&
		    s->state == POP3_STATE_AUTH_USER) {
			s->state = POP3_STATE_AUTHORIZATION;
			s->user[0] = '\0';
		}
	}
	return used;
}

void
pop3_session_timeout(struct pop3_session *s)
{
	int mid = s->stream != POP3_STREAM_NONE;

	if (s->close)
		return;
	slog(s, "timeout client=%s user=\"%s\"", s->client_text,
	    s->user);
	session_close(s);
	if (!mid)
		reply(s, "-ERR disconnected for inactivity");
}

void
pop3_session_shutdown(struct pop3_session *s)
{
	int mid = s->stream != POP3_STREAM_NONE;

	if (s->close)
		return;
	session_close(s);
	if (!mid)
		reply(s, "-ERR [SYS/TEMP] server shutting down");
}
