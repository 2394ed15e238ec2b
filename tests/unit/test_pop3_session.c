/* test_pop3_session - golden POP3 dialogues, each fed whole, byte by byte
 * and in 7-octet pieces, with the asynchronous answers given inside the
 * op and on a later turn; every error reply; the APOP-only policy;
 * DELE/RSET/QUIT; RETR/TOP byte for byte (dot lines, a 998-octet line, a
 * large message with bounded output); passwords never logged. */
#include "unit.h"
#include <sys/types.h>
#include "pop3_session.h"

#define GREETING_TS	"<000102030405060708090a0b0c0d0e0f.1.2@mail.example>"
#define G		"+OK postern POP3 server ready " GREETING_TS "\r\n"
#define DIGEST		"41c0f51ee2218bcc1c6ade7d543b555f"	/* alice-apop */
#define LOGIN		"USER alice\r\nPASS wonderland\r\n"
#define LOGIN_OK	"+OK send PASS\r\n+OK maildrop has 3 messages (92 octets)\r\n"
#define BYE_AUTH	"+OK postern POP3 server signing off\r\n"
#define BYE(n)		"+OK postern POP3 server signing off (" #n " messages left)\r\n"
#define BADSTATE	"-ERR command not valid in this state\r\n"
#define UNKNOWN		"-ERR unknown command\r\n"
#define NOSUCH		"-ERR no such message\r\n"
#define CAPA_AUTH	"+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\n" \
			"RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n" \
			"IMPLEMENTATION postern\r\n.\r\n"
#define CAPA_NOUSER	"+OK Capability list follows\r\nTOP\r\nUIDL\r\n" \
			"RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n" \
			"IMPLEMENTATION postern\r\n.\r\n"

/* ---- the fake world ------------------------------------------------ */

struct fakemsg {
	const char	*name;
	const char	*body;
	size_t		 len;
};

static const struct fakemsg fixture[] = {
	{ "new/1000.A.host,S=23", "Subject: one\r\n\r\nhello\r\n", 23 },
	{ "new/1001.B.host", "Subject: dots\r\n\r\n.\r\n..\r\n.x\r\nend\r\n", 33 },
	{ "cur/1002.C.host:2,S",
	    "Subject: three\r\nX: y\r\n\r\nl1\r\nl2\r\nl3\r\n", 36 },
};

static const struct { const char *user, *pass, *secret; } fakeusers[] = {
	{ "alice", "wonderland", "alice-apop" },
	{ "bob", "pass word ", NULL },
};

enum pending { P_NONE, P_AUTH, P_MBOX };

struct world {
	struct pop3_session s;
	struct mailbox	mb;
	const struct fakemsg *msgs;	/* bodies, by name */
	size_t		nmsgs;
	int		deferred;	/* answer on the next turn */
	enum pending	pending;
	int pending_r;		/* enum outcome or enum pop3_result */
	int		auth_force;	/* -1 or a pop3_result */
	int mbox_r;
	int		update_r;
	int		updates;
	char		deleted[256];	/* names removed by update */
	int		open_fail, read_fail;
	const char	*cur;		/* open message */
	size_t		curlen, off;
	int		opens, closes;
	size_t		read_max;	/* most octets per read (0: any) */
	struct buf	log;
	struct buf	tr;		/* transcript */
	size_t		max_out;
	int		pass_checks;	/* check_password calls (IPC to auth) */
};

static void
answer(struct world *w, enum pending kind, int r)
{
	if (w->deferred) {
		assert_int_equal(w->pending, P_NONE);
		w->pending = kind;
		w->pending_r = r;
		return;
	}
	if (kind == P_AUTH)
		pop3_session_auth_result(&w->s, r);
	else
		pop3_session_mailbox_result(&w->s, r, r == OUTCOME_OK ? &w->mb :
		    NULL);
}

static void
f_check_password(void *arg, const char *user, const char *pass)
{
	struct world *w = arg;
	int r = POP3_BAD;
	size_t i;

	w->pass_checks++;
	for (i = 0; i < sizeof(fakeusers) / sizeof(fakeusers[0]); i++)
		if (strcmp(user, fakeusers[i].user) == 0 &&
		    strcmp(pass, fakeusers[i].pass) == 0)
			r = OUTCOME_OK;
	if (w->auth_force >= 0)
		r = w->auth_force;
	answer(w, P_AUTH, r);
}

static void
f_check_apop(void *arg, const char *user, const char *ts, const char *digest)
{
	struct world *w = arg;
	int r = POP3_BAD;
	size_t i;

	assert_string_equal(ts, GREETING_TS);
	for (i = 0; i < sizeof(fakeusers) / sizeof(fakeusers[0]); i++)
		if (strcmp(user, fakeusers[i].user) == 0 &&
		    fakeusers[i].secret != NULL &&
		    apop_check(ts, strlen(ts), fakeusers[i].secret,
		    strlen(fakeusers[i].secret), digest, strlen(digest)) == 1)
			r = OUTCOME_OK;
	if (w->auth_force >= 0)
		r = w->auth_force;
	answer(w, P_AUTH, r);
}

static void
f_open_mailbox(void *arg, const char *user)
{
	struct world *w = arg;

	assert_true(strcmp(user, "alice") == 0 || strcmp(user, "bob") == 0);
	answer(w, P_MBOX, w->mbox_r);
}

static int
f_msg_open(void *arg, const struct mailbox *mb, size_t index)
{
	struct world *w = arg;
	size_t i;

	assert_ptr_equal(mb, &w->mb);
	assert_null(w->cur);
	assert_true(index < mb->n);
	assert_false(mb->msgs[index].deleted);
	if (w->open_fail)
		return -1;
	for (i = 0; i < w->nmsgs; i++)
		if (strcmp(w->msgs[i].name, mb->msgs[index].name) == 0) {
			w->cur = w->msgs[i].body;
			w->curlen = w->msgs[i].len;
		}
	assert_non_null(w->cur);
	w->off = 0;
	w->opens++;
	return 0;
}

static ssize_t
f_msg_read(void *arg, char *p, size_t len)
{
	struct world *w = arg;
	size_t n = w->curlen - w->off;

	assert_non_null(w->cur);
	if (w->read_fail)
		return -1;
	if (n > len)
		n = len;
	if (w->read_max && n > w->read_max)
		n = w->read_max;
	memcpy(p, w->cur + w->off, n);
	w->off += n;
	return (ssize_t)n;
}

static void
f_msg_close(void *arg)
{
	struct world *w = arg;

	assert_non_null(w->cur);
	w->cur = NULL;
	w->closes++;
}

static int
f_update(void *arg, struct mailbox *mb)
{
	struct world *w = arg;
	size_t i;

	assert_ptr_equal(mb, &w->mb);
	w->updates++;
	if (w->update_r == -1)
		return -1;
	for (i = 0; i < mb->n; i++)
		if (mb->msgs[i].deleted) {
			strncat(w->deleted, mb->msgs[i].name,
			    sizeof(w->deleted) - strlen(w->deleted) - 2);
			strncat(w->deleted, " ", 2);
			mb->msgs[i].deleted = 0;
		}
	return 0;
}

static void
f_log(void *arg, const char *line)
{
	struct world *w = arg;

	assert_int_equal(buf_appends(&w->log, line), 0);
	assert_int_equal(buf_appendc(&w->log, '\n'), 0);
}

static const struct pop3_session_ops fake_ops = {
	f_check_password, f_check_apop, f_open_mailbox, f_msg_open,
	f_msg_read, f_msg_close, f_update, f_log,
};

static void
world_init(struct world *w, enum pop3_auth_policy policy,
    const struct fakemsg *msgs, size_t n)
{
	static const unsigned char rnd[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
	    10, 11, 12, 13, 14, 15 };
	struct pop3_settings set = { "mail.example", policy, 0 };
	size_t i;

	memset(w, 0, sizeof(*w));
	w->auth_force = -1;
	w->mbox_r = OUTCOME_OK;
	w->msgs = msgs;
	w->nmsgs = n;
	mailbox_init(&w->mb);
	for (i = 0; i < n; i++)
		mailbox_add(&w->mb, msgs[i].name, msgs[i].len);
	mailbox_finish(&w->mb);
	buf_init(&w->log, 1 << 20);
	buf_init(&w->tr, 64 << 20);
	pop3_session_init(&w->s, &set, "[192.0.2.7]", &fake_ops, w);
	assert_int_equal(pop3_session_start(&w->s, rnd, sizeof(rnd), 1, 2), 0);
}

static void
world_free(struct world *w)
{
	pop3_session_free(&w->s);
	assert_int_equal(w->opens, w->closes);
	mailbox_free(&w->mb);
	buf_free(&w->log);
	buf_free(&w->tr);
}

static void
drain(struct world *w)
{
	if (w->s.out.len > w->max_out)
		w->max_out = w->s.out.len;
	assert_true(w->s.out.len <= POP3_OUT_MAX);
	assert_int_equal(buf_append(&w->tr, w->s.out.data, w->s.out.len), 0);
	buf_consume(&w->s.out, w->s.out.len);
}

/* Feed in[0..len) in pieces of `step` octets (0: whole), answering
 * requests and pumping as a real event loop would. Returns the octets
 * consumed. */
static size_t
run(struct world *w, const char *in, size_t len, size_t step)
{
	size_t pos = 0, end, n;
	long guard;

	for (guard = 0;; guard++) {
		assert_true(guard < 100000000L);
		drain(w);
		if (w->pending != P_NONE) {
			enum pending k = w->pending;

			/* busy: nothing is consumed meanwhile */
			if (pos < len)
				assert_int_equal(pop3_session_feed(&w->s,
				    in + pos, len - pos), 0);
			w->pending = P_NONE;
			if (k == P_AUTH)
				pop3_session_auth_result(&w->s, w->pending_r);
			else
				pop3_session_mailbox_result(&w->s, w->pending_r,
				    w->pending_r == OUTCOME_OK ? &w->mb : NULL);
			continue;
		}
		if (pop3_session_pump(&w->s))
			continue;
		if (w->s.close || pos >= len)
			break;
		end = step == 0 || pos + step > len ? len : pos + step;
		n = pop3_session_feed(&w->s, in + pos, end - pos);
		assert_true(n <= end - pos);
		pos += n;
	}
	drain(w);
	return pos;
}

/* ---- golden dialogues ---------------------------------------------- */

#define IN(x)	x, sizeof(x) - 1

struct dialogue {
	const char	*name;
	enum pop3_auth_policy policy;
	int		 auth_force;	/* -1: check the fake users */
	int mbox_r;
	int		 update_r, open_fail, read_fail;
	const char	*in;
	size_t		 inlen;
	const char	*want;		/* after the greeting */
	int		 updates;	/* update calls expected */
	const char	*deleted;	/* names update saw marked */
	long		 consumed;	/* -1: all input */
};

static const struct dialogue dialogues[] = {
	{ "quit", 0, -1, 0, 0, 0, 0, IN("QUIT\r\n"), BYE_AUTH, 0, "", -1 },
	{ "capa", 0, -1, 0, 0, 0, 0, IN("CAPA\r\nQUIT\r\n"),
	    CAPA_AUTH BYE_AUTH, 0, "", -1 },
	{ "capa in transaction", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "CAPA\r\nQUIT\r\n"), LOGIN_OK CAPA_NOUSER BYE(3), 0, "",
	    -1 },
	{ "stat list uidl", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 3\r\n"
	    "LIST   2  \r\nQUIT\r\n"),
	    LOGIN_OK "+OK 3 92\r\n"
	    "+OK 3 messages (92 octets)\r\n1 23\r\n2 33\r\n3 36\r\n.\r\n"
	    "+OK 2 33\r\n"
	    "+OK unique-id listing follows\r\n1 1000.A.host\r\n"
	    "2 1001.B.host\r\n3 1002.C.host\r\n.\r\n"
	    "+OK 3 1002.C.host\r\n" "+OK 2 33\r\n" BYE(3), 0, "", -1 },
	{ "case-insensitive verbs", 0, -1, 0, 0, 0, 0,
	    IN("user alice\r\npass wonderland\r\nstat\r\nNoOp\r\nQuIt\r\n"),
	    LOGIN_OK "+OK 3 92\r\n+OK\r\n" BYE(3), 0, "", -1 },
	{ "retr dot lines", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "RETR 2\r\nRETR 1\r\nQUIT\r\n"),
	    LOGIN_OK "+OK 33 octets\r\nSubject: dots\r\n\r\n..\r\n...\r\n"
	    "..x\r\nend\r\n.\r\n"
	    "+OK 23 octets\r\nSubject: one\r\n\r\nhello\r\n.\r\n" BYE(3), 0,
	    "", -1 },
	{ "top", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "TOP 3 0\r\nTOP 3 2\r\nTOP 3 99\r\nTOP 2 1\r\n"
	    "TOP 2 99999999999999999999\r\nQUIT\r\n"),
	    LOGIN_OK
	    "+OK top of message follows\r\nSubject: three\r\nX: y\r\n\r\n.\r\n"
	    "+OK top of message follows\r\nSubject: three\r\nX: y\r\n\r\n"
	    "l1\r\nl2\r\n.\r\n"
	    "+OK top of message follows\r\nSubject: three\r\nX: y\r\n\r\n"
	    "l1\r\nl2\r\nl3\r\n.\r\n"
	    "+OK top of message follows\r\nSubject: dots\r\n\r\n..\r\n.\r\n"
	    "-ERR syntax: TOP msg lines\r\n" BYE(3), 0, "", -1 },
	{ "top errors", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "TOP 1\r\nTOP 1 x\r\nTOP 1 -1\r\nTOP 9 1\r\nTOP x 1\r\n"
	    "TOP\r\nTOP 1 1 1\r\nQUIT\r\n"),
	    LOGIN_OK "-ERR syntax: TOP msg lines\r\n"
	    "-ERR syntax: TOP msg lines\r\n-ERR syntax: TOP msg lines\r\n"
	    NOSUCH "-ERR invalid message number\r\n"
	    "-ERR syntax: TOP msg lines\r\n-ERR syntax: TOP msg lines\r\n"
	    BYE(3), 0, "", -1 },
	{ "message number errors", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "RETR\r\nRETR 1 2\r\nRETR 0\r\nRETR 4\r\n"
	    "RETR 99999999999999999999\r\nRETR -1\r\nRETR +1\r\n"
	    "LIST 4\r\nUIDL 0\r\nQUIT\r\n"),
	    LOGIN_OK "-ERR syntax: RETR msg\r\n-ERR syntax: RETR msg\r\n"
	    NOSUCH NOSUCH "-ERR invalid message number\r\n"
	    "-ERR invalid message number\r\n-ERR invalid message number\r\n"
	    NOSUCH NOSUCH BYE(3), 0, "", -1 },
	{ "dele number errors", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "DELE\r\nDELE 4\r\nDELE 0\r\nDELE one\r\nQUIT\r\n"),
	    LOGIN_OK "-ERR syntax: DELE msg\r\n" NOSUCH NOSUCH
	    "-ERR invalid message number\r\n" BYE(3), 0, "", -1 },
	{ "dele rset: nothing deleted without QUIT", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "DELE 1\r\nRETR 1\r\nDELE 1\r\nLIST 1\r\nUIDL 1\r\n"
	    "TOP 1 0\r\nSTAT\r\nLIST\r\nUIDL\r\nRSET\r\nSTAT\r\nRETR 1\r\n"
	    "QUIT\r\n"),
	    LOGIN_OK "+OK message 1 deleted\r\n"
	    "-ERR message 1 already deleted\r\n"
	    "-ERR message 1 already deleted\r\n"
	    "-ERR message 1 already deleted\r\n"
	    "-ERR message 1 already deleted\r\n"
	    "-ERR message 1 already deleted\r\n"
	    "+OK 2 69\r\n"
	    "+OK 2 messages (69 octets)\r\n2 33\r\n3 36\r\n.\r\n"
	    "+OK unique-id listing follows\r\n2 1001.B.host\r\n"
	    "3 1002.C.host\r\n.\r\n"
	    "+OK maildrop has 3 messages (92 octets)\r\n+OK 3 92\r\n"
	    "+OK 23 octets\r\nSubject: one\r\n\r\nhello\r\n.\r\n" BYE(3), 0,
	    "", -1 },
	{ "dele quit", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "DELE 2\r\nDELE 3\r\nQUIT\r\n"),
	    LOGIN_OK "+OK message 2 deleted\r\n+OK message 3 deleted\r\n"
	    BYE(1), 1, "new/1001.B.host cur/1002.C.host:2,S ", -1 },
	{ "dele then drop: nothing deleted", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "DELE 2\r\n"), LOGIN_OK "+OK message 2 deleted\r\n", 0,
	    "", -1 },
	{ "dele quit, update fails", 0, -1, 0, -1, 0, 0,
	    IN(LOGIN "DELE 1\r\nQUIT\r\nNOOP\r\n"),
	    LOGIN_OK "+OK message 1 deleted\r\n"
	    "-ERR [SYS/TEMP] Some deleted messages not removed\r\n", 1, "",
	    (long)sizeof(LOGIN "DELE 1\r\nQUIT\r\n") - 1 },
	{ "wrong password", 0, -1, 0, 0, 0, 0,
	    IN("USER alice\r\nPASS nope\r\nPASS wonderland\r\nQUIT\r\n"),
	    "+OK send PASS\r\n-ERR [AUTH] Authentication failed\r\n" BADSTATE
	    BYE_AUTH, 0, "", -1 },
	{ "unknown user", 0, -1, 0, 0, 0, 0,
	    IN("USER carol\r\nPASS wonderland\r\n"),
	    "+OK send PASS\r\n-ERR [AUTH] Authentication failed\r\n", 0, "",
	    -1 },
	{ "password with blanks", 0, -1, 0, 0, 0, 0,
	    IN("USER bob\r\nPASS pass word \r\nQUIT\r\n"),
	    "+OK send PASS\r\n+OK maildrop has 3 messages (92 octets)\r\n"
	    BYE(3), 0, "", -1 },
	{ "password trimmed is wrong", 0, -1, 0, 0, 0, 0,
	    IN("USER bob\r\nPASS pass word\r\n"),
	    "+OK send PASS\r\n-ERR [AUTH] Authentication failed\r\n", 0, "",
	    -1 },
	{ "PASS without USER", 0, -1, 0, 0, 0, 0,
	    IN("PASS wonderland\r\n"), BADSTATE, 0, "", -1 },
	{ "PASS not right after USER", 0, -1, 0, 0, 0, 0,
	    IN("USER alice\r\nCAPA\r\nPASS wonderland\r\n"
	    "USER alice\r\nFOO\r\nPASS wonderland\r\n"
	    "USER alice\r\nPASS\r\nPASS wonderland\r\n"),
	    "+OK send PASS\r\n" CAPA_AUTH BADSTATE
	    "+OK send PASS\r\n" UNKNOWN BADSTATE
	    "+OK send PASS\r\n-ERR syntax: PASS password\r\n" BADSTATE, 0, "",
	    -1 },
	{ "USER replaces USER", 0, -1, 0, 0, 0, 0,
	    IN("USER bob\r\nUSER alice\r\nPASS wonderland\r\n"),
	    "+OK send PASS\r\n" LOGIN_OK, 0, "", -1 },
	{ "USER syntax", 0, -1, 0, 0, 0, 0,
	    IN("USER\r\nUSER al ice\r\nUSER a/b\r\nUSER "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\r\nUSER "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\r\n"),
	    "-ERR syntax: USER name\r\n-ERR syntax: USER name\r\n"
	    "-ERR invalid user name\r\n-ERR invalid user name\r\n"
	    "+OK send PASS\r\n", 0, "", -1 },
	{ "PASS empty", 0, -1, 0, 0, 0, 0,
	    IN("USER alice\r\nPASS \r\n"),
	    "+OK send PASS\r\n-ERR syntax: PASS password\r\n", 0, "", -1 },
	{ "APOP", 0, -1, 0, 0, 0, 0,
	    IN("APOP alice " DIGEST "\r\nSTAT\r\nQUIT\r\n"),
	    "+OK maildrop has 3 messages (92 octets)\r\n+OK 3 92\r\n" BYE(3),
	    0, "", -1 },
	{ "APOP upper-case digest", 0, -1, 0, 0, 0, 0,
	    IN("APOP alice 41C0F51EE2218BCC1C6ADE7D543B555F\r\n"),
	    "+OK maildrop has 3 messages (92 octets)\r\n", 0, "", -1 },
	{ "APOP after USER", 0, -1, 0, 0, 0, 0,
	    IN("USER bob\r\nAPOP alice " DIGEST "\r\n"),
	    "+OK send PASS\r\n+OK maildrop has 3 messages (92 octets)\r\n", 0,
	    "", -1 },
	{ "APOP wrong digest", 0, -1, 0, 0, 0, 0,
	    IN("APOP alice 76125085e907c2280421d0088b81ffdc\r\n"
	    "APOP bob " DIGEST "\r\nAPOP carol " DIGEST "\r\n"),
	    "-ERR [AUTH] Authentication failed\r\n"
	    "-ERR [AUTH] Authentication failed\r\n"
	    "-ERR [AUTH] Authentication failed\r\n", 0, "", -1 },
	{ "APOP syntax", 0, -1, 0, 0, 0, 0,
	    IN("APOP alice\r\nAPOP alice 41c0f51ee2218bcc1c6ade7d543b555\r\n"
	    "APOP alice " DIGEST " x\r\nAPOP a/b " DIGEST "\r\n"
	    "APOP alice 41c0f51ee2218bcc1c6ade7d543b555g\r\n"),
	    "-ERR syntax: APOP name digest\r\n"
	    "-ERR syntax: APOP name digest\r\n"
	    "-ERR syntax: APOP name digest\r\n"
	    "-ERR invalid user name\r\n"
	    "-ERR syntax: APOP name digest\r\n", 0, "", -1 },
	{ "apop-only policy", POP3_AUTH_APOP_ONLY, -1, 0, 0, 0, 0,
	    IN("CAPA\r\nUSER alice\r\nPASS wonderland\r\nAPOP alice " DIGEST
	    "\r\nCAPA\r\nQUIT\r\n"),
	    CAPA_NOUSER
	    "-ERR [AUTH] Plain text passwords are disabled; use APOP\r\n"
	    BADSTATE "+OK maildrop has 3 messages (92 octets)\r\n" CAPA_NOUSER
	    BYE(3), 0, "", -1 },
	{ "wrong state before login", 0, -1, 0, 0, 0, 0,
	    IN("STAT\r\nLIST\r\nRETR 1\r\nDELE 1\r\nNOOP\r\nRSET\r\n"
	    "TOP 1 1\r\nUIDL\r\nQUIT\r\n"),
	    BADSTATE BADSTATE BADSTATE BADSTATE BADSTATE BADSTATE BADSTATE
	    BADSTATE BYE_AUTH, 0, "", -1 },
	{ "wrong state after login", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "USER alice\r\nPASS wonderland\r\nAPOP alice " DIGEST
	    "\r\nSTLS\r\nAUTH\r\nQUIT\r\n"),
	    LOGIN_OK BADSTATE BADSTATE BADSTATE BADSTATE BADSTATE BYE(3), 0,
	    "", -1 },
	{ "not supported", 0, -1, 0, 0, 0, 0,
	    IN("STLS\r\nAUTH\r\nAUTH PLAIN\r\nQUIT\r\n"),
	    "-ERR TLS not available\r\n-ERR not supported\r\n"
	    "-ERR not supported\r\n" BYE_AUTH, 0, "", -1 },
	{ "unknown commands", 0, -1, 0, 0, 0, 0,
	    IN("FOO\r\n\r\nSTATX\r\n STAT\r\nLONGVERBXX\r\nQUIT\r\n"),
	    UNKNOWN UNKNOWN UNKNOWN UNKNOWN UNKNOWN BYE_AUTH, 0, "", -1 },
	{ "extra arguments", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "STAT 1\r\nNOOP x\r\nRSET x\r\nLIST 1 2\r\nUIDL 1 2\r\n"
	    "QUIT now\r\nQUIT\r\n"),
	    LOGIN_OK "-ERR syntax: STAT\r\n-ERR syntax: NOOP\r\n"
	    "-ERR syntax: RSET\r\n-ERR syntax: LIST [msg]\r\n"
	    "-ERR syntax: UIDL [msg]\r\n-ERR syntax: QUIT\r\n" BYE(3), 0, "",
	    -1 },
	{ "too many errors", 0, -1, 0, 0, 0, 0,
	    IN("FOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\n"
	    "FOO\r\nQUIT\r\n"),
	    UNKNOWN UNKNOWN UNKNOWN UNKNOWN UNKNOWN UNKNOWN UNKNOWN UNKNOWN
	    UNKNOWN UNKNOWN "-ERR too many errors\r\n", 0, "", 50 },
	{ "too many errors in TRANSACTION deletes nothing", 0, -1, 0, 0, 0, 0,
	    IN(LOGIN "DELE 1\r\nRETR 9\r\nRETR 9\r\nRETR 9\r\nRETR 9\r\n"
	    "RETR 9\r\nRETR 9\r\nRETR 9\r\nRETR 9\r\nRETR 9\r\nRETR 9\r\n"
	    "QUIT\r\n"),
	    LOGIN_OK "+OK message 1 deleted\r\n" NOSUCH NOSUCH NOSUCH NOSUCH
	    NOSUCH NOSUCH NOSUCH NOSUCH NOSUCH NOSUCH
	    "-ERR too many errors\r\n", 0, "",
	    (long)sizeof(LOGIN "DELE 1\r\n") - 1 + 10 * 8 },
	{ "bad octets", 0, -1, 0, 0, 0, 0,
	    IN("NO\0OP\r\nQUIT\nNO\rOP\r\nQUIT\r\n"),
	    "-ERR NUL character received\r\n-ERR bare LF received\r\n"
	    "-ERR bare CR received\r\n" BYE_AUTH, 0, "", -1 },
	{ "bad octets forget USER", 0, -1, 0, 0, 0, 0,
	    IN("USER alice\r\nPA\0SS\r\nPASS wonderland\r\n"),
	    "+OK send PASS\r\n-ERR NUL character received\r\n" BADSTATE, 0,
	    "", -1 },
	{ "auth tempfail", 0, OUTCOME_TEMP, 0, 0, 0, 0,
	    IN(LOGIN "STAT\r\nQUIT\r\n"),
	    "+OK send PASS\r\n"
	    "-ERR [SYS/TEMP] Authentication temporarily unavailable\r\n"
	    BADSTATE BYE_AUTH, 0, "", -1 },
	{ "auth in use", 0, POP3_IN_USE, 0, 0, 0, 0, IN(LOGIN),
	    "+OK send PASS\r\n"
	    "-ERR [IN-USE] Mailbox is locked by another session\r\n", 0, "",
	    -1 },
	{ "auth permfail", 0, OUTCOME_PERM, 0, 0, 0, 0, IN(LOGIN),
	    "+OK send PASS\r\n-ERR [SYS/PERM] Login refused\r\n", 0, "", -1 },
	{ "mailbox in use", 0, -1, POP3_IN_USE, 0, 0, 0,
	    IN(LOGIN "STAT\r\nQUIT\r\n"),
	    "+OK send PASS\r\n"
	    "-ERR [IN-USE] Mailbox is locked by another session\r\n"
	    BADSTATE BYE_AUTH, 0, "", -1 },
	{ "mailbox tempfail", 0, -1, OUTCOME_TEMP, 0, 0, 0, IN(LOGIN),
	    "+OK send PASS\r\n"
	    "-ERR [SYS/TEMP] Cannot open mailbox, try again later\r\n", 0, "",
	    -1 },
	{ "mailbox permfail", 0, -1, OUTCOME_PERM, 0, 0, 0, IN(LOGIN),
	    "+OK send PASS\r\n-ERR [SYS/PERM] Mailbox unavailable\r\n", 0, "",
	    -1 },
	{ "retr cannot open", 0, -1, 0, 0, 1, 0,
	    IN(LOGIN "RETR 1\r\nTOP 1 1\r\nQUIT\r\n"),
	    LOGIN_OK "-ERR [SYS/TEMP] Cannot read message 1\r\n"
	    "-ERR [SYS/TEMP] Cannot read message 1\r\n" BYE(3), 0, "", -1 },
	{ "retr read error closes", 0, -1, 0, 0, 0, 1,
	    IN(LOGIN "DELE 2\r\nRETR 1\r\nQUIT\r\n"),
	    LOGIN_OK "+OK message 2 deleted\r\n+OK 23 octets\r\n", 0, "",
	    (long)sizeof(LOGIN "DELE 2\r\nRETR 1\r\n") - 1 },
	{ "input after QUIT is not read", 0, -1, 0, 0, 0, 0,
	    IN("QUIT\r\nNOOP\r\n"), BYE_AUTH, 0, "", 6 },
	{ "pipelined after login", 0, -1, 0, 0, 0, 0,
	    IN("USER alice\r\nPASS wonderland\r\nSTAT\r\nDELE 1\r\nSTAT\r\n"
	    "QUIT\r\nSTAT\r\n"),
	    LOGIN_OK "+OK 3 92\r\n+OK message 1 deleted\r\n+OK 2 69\r\n" BYE(2),
	    1, "new/1000.A.host,S=23 ",
	    (long)sizeof("USER alice\r\nPASS wonderland\r\nSTAT\r\nDELE 1\r\n"
	    "STAT\r\nQUIT\r\n") - 1 },
};

static void
check_dialogue(const struct dialogue *d, size_t step, int deferred)
{
	struct world w;
	char want[16384];
	size_t consumed;

	world_init(&w, d->policy, fixture,
	    sizeof(fixture) / sizeof(fixture[0]));
	w.deferred = deferred;
	w.auth_force = d->auth_force;
	w.mbox_r = d->mbox_r;
	w.update_r = d->update_r;
	w.open_fail = d->open_fail;
	w.read_fail = d->read_fail;
	w.read_max = step == 1 ? 1 : 0;
	consumed = run(&w, d->in, d->inlen, step);
	snprintf(want, sizeof(want), "%s%s", G, d->want);
	if (strcmp(w.tr.data, want) != 0)
		fail_msg("dialogue \"%s\" step %zu deferred %d:\n--- got\n%s"
		    "--- want\n%s", d->name, step, deferred, w.tr.data, want);
	if (d->consumed >= 0 && consumed != (size_t)d->consumed)
		fail_msg("dialogue \"%s\" step %zu: consumed %zu, want %ld",
		    d->name, step, consumed, d->consumed);
	if (d->consumed < 0 && consumed != d->inlen)
		fail_msg("dialogue \"%s\" step %zu: consumed %zu of %zu",
		    d->name, step, consumed, d->inlen);
	if (w.updates != d->updates)
		fail_msg("dialogue \"%s\": %d updates", d->name, w.updates);
	assert_string_equal(w.deleted, d->deleted);
	/* no password and no digest ever reaches the log */
	assert_null(strstr(w.log.data ? w.log.data : "", "wonderland"));
	assert_null(strstr(w.log.data ? w.log.data : "", "pass word"));
	assert_null(strstr(w.log.data ? w.log.data : "", "nope"));
	assert_null(strstr(w.log.data ? w.log.data : "", DIGEST));
	world_free(&w);
}

static void
test_dialogues(void **state)
{
	static const size_t steps[] = { 0, 1, 7 };
	size_t i, j;
	int deferred;

	(void)state;
	for (i = 0; i < sizeof(dialogues) / sizeof(dialogues[0]); i++)
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++)
			for (deferred = 0; deferred < 2; deferred++)
				check_dialogue(&dialogues[i], steps[j],
				    deferred);
}

/* ---- line limits --------------------------------------------------- */

/* 255 octets with CRLF is the limit: 254 and 255 are read, 256 is not. */
static void
test_line_limits(void **state)
{
	static const struct { size_t pad; const char *reply; } t[] = {
		{ 249, "+OK\r\n" },			/* 253 + CRLF = 255 */
		{ 248, "+OK\r\n" },			/* 254 */
		{ 250, "-ERR line too long\r\n" },	/* 256 */
		{ 2000, "-ERR line too long\r\n" },
	};
	char in[4096], want[256];
	struct world w;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		world_init(&w, 0, fixture, 3);
		n = (size_t)snprintf(in, sizeof(in), "%sNOOP", LOGIN);
		memset(in + n, ' ', t[i].pad);
		n += t[i].pad;
		memcpy(in + n, "\r\nNOOP\r\n", 8);
		n += 8;
		assert_int_equal(run(&w, in, n, 0), n);
		snprintf(want, sizeof(want), "%s%s%s+OK\r\n", G, LOGIN_OK,
		    t[i].reply);
		assert_string_equal(w.tr.data, want);
		world_free(&w);
	}
}

/* ---- large messages ------------------------------------------------ */

/* A 998-octet line, dot lines, and 3 MB: byte for byte, with s->out
 * never above POP3_OUT_MAX and no input read while it is full. */
static void
test_retr_large(void **state)
{
	size_t len = 3 * 1024 * 1024, i, w_len = 0, line = 0, n, hdr;
	char *body = malloc(len + 64), *want = malloc(2 * len + 256);
	struct fakemsg msgs[2];
	struct world w;
	char head[64];
	static const char in[] = LOGIN "RETR 1\r\nRETR 2\r\nQUIT\r\n";

	(void)state;
	assert_non_null(body);
	assert_non_null(want);
	hdr = (size_t)snprintf(body, 64, "Subject: big\r\n\r\n");
	for (i = hdr; i + 1000 <= len; i += 1000, line++) {
		memset(body + i, 'a' + (char)(line % 26), 998);
		if (line % 2 == 0)
			body[i] = '.';
		body[i + 998] = '\r';
		body[i + 999] = '\n';
	}
	len = i;
	msgs[0].name = "new/1.big";
	msgs[0].body = body;
	msgs[0].len = len;
	msgs[1].name = "new/2.line";
	msgs[1].body = body + hdr;	/* starts with ".aaa...": 998 octets */
	msgs[1].len = 1000;

	world_init(&w, POP3_AUTH_ANY, msgs, 2);
	w.mb.msgs[0].size = len;
	run(&w, in, sizeof(in) - 1, 0);
	assert_true(w.max_out <= POP3_OUT_MAX);
	assert_true(w.max_out < POP3_OUT_HIGHWATER + MAILBOX_ITER_MAXOUT + 64);

	n = (size_t)snprintf(want, 256, "%s+OK send PASS\r\n"
	    "+OK maildrop has 2 messages (%zu octets)\r\n", G, len + 1000);
	w_len = n;
	n = (size_t)snprintf(head, sizeof(head), "+OK %zu octets\r\n", len);
	memcpy(want + w_len, head, n);
	w_len += n;
	memcpy(want + w_len, body, hdr);
	w_len += hdr;
	for (i = hdr; i < len; i += 1000) {
		if (body[i] == '.')
			want[w_len++] = '.';
		memcpy(want + w_len, body + i, 1000);
		w_len += 1000;
	}
	memcpy(want + w_len, ".\r\n", 3);
	w_len += 3;
	n = (size_t)snprintf(want + w_len, 64, "+OK 1000 octets\r\n.");
	w_len += n;
	memcpy(want + w_len, body + hdr, 1000);
	w_len += 1000;
	n = (size_t)snprintf(want + w_len, 128, ".\r\n%s", BYE(2));
	w_len += n;
	assert_int_equal(w.tr.len, w_len);
	assert_memory_equal(w.tr.data, want, w_len);
	world_free(&w);

	/* Backpressure by hand: while out is at the high-water mark, feed
	 * reads nothing, and a pump with a full buffer adds nothing. */
	world_init(&w, POP3_AUTH_ANY, msgs, 2);
	w.mb.msgs[0].size = len;
	static const char login[] = LOGIN "RETR 1\r\nNOOP\r\n";
	n = pop3_session_feed(&w.s, login, sizeof(login) - 1);
	assert_int_equal(n, sizeof(LOGIN "RETR 1\r\n") - 1);
	assert_int_equal(w.s.stream, POP3_STREAM_MSG);
	assert_true(w.s.out.len >= POP3_OUT_HIGHWATER);
	assert_int_equal(pop3_session_feed(&w.s, "NOOP\r\n", 6), 0);
	i = w.s.out.len;
	assert_int_equal(pop3_session_pump(&w.s), 1);
	assert_int_equal(w.s.out.len, i);
	/* drain part of it: still above the mark, still nothing read */
	buf_consume(&w.s.out, 10);
	assert_int_equal(pop3_session_pump(&w.s), 1);
	assert_int_equal(pop3_session_feed(&w.s, "NOOP\r\n", 6), 0);
	/* drain all the way, repeatedly: the response finishes, then NOOP */
	for (i = 0; pop3_session_pump(&w.s); i++) {
		assert_true(w.s.out.len <= POP3_OUT_MAX);
		buf_consume(&w.s.out, w.s.out.len);
		assert_true(i < 1000);
	}
	buf_consume(&w.s.out, w.s.out.len);
	assert_int_equal(pop3_session_feed(&w.s, "NOOP\r\n", 6), 6);
	assert_string_equal(w.s.out.data, "+OK\r\n");
	world_free(&w);
	free(body);
	free(want);
}

/* Pipelined commands whose replies are not read: once s->out reaches the
 * high-water mark, feed reads nothing more, and nothing is lost. */
static void
test_pipelined_backpressure(void **state)
{
	struct world w;
	char *in;
	size_t n = 2000, i, used, total = 0;

	(void)state;
	in = malloc(n * 6);
	assert_non_null(in);
	for (i = 0; i < n; i++)
		memcpy(in + 6 * i, "CAPA\r\n", 6);
	world_init(&w, 0, fixture, 3);
	used = pop3_session_feed(&w.s, in, n * 6);
	assert_true(used < n * 6);
	assert_int_equal(used % 6, 0);
	assert_true(w.s.out.len >= POP3_OUT_HIGHWATER);
	assert_true(w.s.out.len < POP3_OUT_HIGHWATER + 512);
	assert_int_equal(pop3_session_feed(&w.s, in + used, n * 6 - used), 0);
	total = used;
	while (total < n * 6) {
		drain(&w);
		used = pop3_session_feed(&w.s, in + total, n * 6 - total);
		assert_true(used > 0);
		total += used;
	}
	drain(&w);
	assert_int_equal(w.tr.len, strlen(G) + n * strlen(CAPA_AUTH));
	world_free(&w);
	free(in);
}

/* LIST and UIDL of 20 000 messages are produced piecewise too. */
static void
test_list_large(void **state)
{
	struct fakemsg *msgs;
	char (*names)[32];
	struct world w;
	size_t i, n = 20000, lines;
	static const char in[] = LOGIN "LIST\r\nUIDL\r\nQUIT\r\n";
	const char *p;

	(void)state;
	msgs = calloc(n, sizeof(*msgs));
	names = calloc(n, sizeof(*names));
	assert_non_null(msgs);
	assert_non_null(names);
	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "new/%zu.M.host", 100000 + i);
		msgs[i].name = names[i];
		msgs[i].body = "x\r\n";
		msgs[i].len = 3;
	}
	world_init(&w, POP3_AUTH_ANY, msgs, n);
	run(&w, in, sizeof(in) - 1, 0);
	assert_true(w.max_out < POP3_OUT_HIGHWATER + 256);
	for (lines = 0, p = w.tr.data; (p = strstr(p, "\r\n")) != NULL; p += 2)
		lines++;
	/* greeting, 2 login, 2 * (+OK, n, .), bye */
	assert_int_equal(lines, 1 + 2 + 2 * (n + 2) + 1);
	assert_non_null(strstr(w.tr.data, "\r\n20000 3\r\n.\r\n"));
	assert_non_null(strstr(w.tr.data, "\r\n20000 119999.M.host\r\n.\r\n"));
	world_free(&w);
	free(msgs);
	free(names);
}

/* ---- the edges ----------------------------------------------------- */

static void
test_timeout_shutdown(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 0, fixture, 3);
	run(&w, IN(LOGIN "DELE 1\r\n"), 0);
	pop3_session_timeout(&w.s);
	drain(&w);
	assert_string_equal(w.tr.data, G LOGIN_OK "+OK message 1 deleted\r\n"
	    "-ERR disconnected for inactivity\r\n");
	assert_true(w.s.close);
	assert_int_equal(pop3_session_feed(&w.s, "QUIT\r\n", 6), 0);
	pop3_session_timeout(&w.s);	/* twice: nothing more */
	pop3_session_shutdown(&w.s);
	drain(&w);
	assert_int_equal(w.updates, 0);
	world_free(&w);

	world_init(&w, 0, fixture, 3);
	pop3_session_shutdown(&w.s);
	drain(&w);
	assert_string_equal(w.tr.data, G
	    "-ERR [SYS/TEMP] server shutting down\r\n");
	world_free(&w);
}

/* An answer that comes after the session moved on is ignored. */
static void
test_late_answers(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 0, fixture, 3);
	w.deferred = 1;
	assert_int_equal(pop3_session_feed(&w.s, IN(LOGIN)),
	    sizeof(LOGIN) - 1);
	assert_int_equal(w.s.state, POP3_STATE_AUTH_WAIT);
	pop3_session_timeout(&w.s);
	pop3_session_auth_result(&w.s, OUTCOME_OK);
	pop3_session_mailbox_result(&w.s, OUTCOME_OK, &w.mb);
	assert_int_equal(w.s.state, POP3_STATE_CLOSED);
	assert_null(w.s.mb);
	world_free(&w);

	/* an auth answer while waiting for the mailbox, and vice versa */
	world_init(&w, 0, fixture, 3);
	w.deferred = 1;
	pop3_session_mailbox_result(&w.s, OUTCOME_OK, &w.mb);
	assert_int_equal(w.s.state, POP3_STATE_AUTHORIZATION);
	(void)pop3_session_feed(&w.s, IN(LOGIN));
	w.pending = P_NONE;
	pop3_session_auth_result(&w.s, OUTCOME_OK);
	assert_int_equal(w.s.state, POP3_STATE_MAILBOX_WAIT);
	pop3_session_auth_result(&w.s, POP3_BAD);
	assert_int_equal(w.s.state, POP3_STATE_MAILBOX_WAIT);
	/* OK without a snapshot is treated as a temporary failure */
	pop3_session_mailbox_result(&w.s, OUTCOME_OK, NULL);
	assert_int_equal(w.s.state, POP3_STATE_AUTHORIZATION);
	w.pending = P_NONE;
	world_free(&w);
}

/* The password does not stay in the session's memory. */
static void
test_password_wiped(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 0, fixture, 3);
	run(&w, IN(LOGIN), 0);
	assert_int_equal(w.s.state, POP3_STATE_TRANSACTION);
	assert_null(memmem(&w.s, sizeof(w.s), "wonderland", 10));
	world_free(&w);
}

/* Freeing mid-RETR closes the message; the mailbox stays the caller's. */
static void
test_free_mid_retr(void **state)
{
	struct world w;
	char big[200000];
	struct fakemsg m = { "new/1.x", big, sizeof(big) };

	(void)state;
	memset(big, 'x', sizeof(big));
	world_init(&w, POP3_AUTH_ANY, &m, 1);
	(void)pop3_session_feed(&w.s, IN(LOGIN "RETR 1\r\n"));
	assert_int_equal(w.opens, 1);
	assert_int_equal(w.closes, 0);
	pop3_session_timeout(&w.s);	/* mid-response: no -ERR line */
	assert_int_equal(w.closes, 1);
	assert_null(strstr(w.s.out.data, "inactivity"));
	world_free(&w);
}

static void
test_greeting(void **state)
{
	static const unsigned char rnd[16] = { 0xff };
	struct pop3_settings set = { "bad host", POP3_AUTH_ANY, 0 };
	struct pop3_session s;
	struct world w;

	(void)state;
	memset(&w, 0, sizeof(w));
	pop3_session_init(&s, &set, NULL, &fake_ops, &w);
	assert_int_equal(pop3_session_start(&s, rnd, sizeof(rnd), 7, 8), -1);
	assert_string_equal(s.out.data, "+OK postern POP3 server ready "
	    "<ff000000000000000000000000000000.7.8@localhost>\r\n");
	assert_int_equal(pop3_session_start(&s, rnd, sizeof(rnd), 7, 8), -1);
	assert_string_equal(s.client_text, "[unknown]");
	pop3_session_free(&s);

	/* no random bytes: no timestamp, and APOP says so */
	set.hostname = "mail.example";
	memset(&w, 0, sizeof(w));
	buf_init(&w.log, 4096);
	pop3_session_init(&s, &set, "[x]", &fake_ops, &w);
	assert_int_equal(pop3_session_start(&s, rnd, 0, 7, 8), -1);
	assert_string_equal(s.out.data, "+OK postern POP3 server ready\r\n");
	buf_reset(&s.out);
	assert_int_equal(pop3_session_feed(&s, IN("APOP alice " DIGEST "\r\n")),
	    sizeof("APOP alice " DIGEST "\r\n") - 1);
	assert_string_equal(s.out.data, "-ERR [SYS/TEMP] APOP is not available\r\n");
	pop3_session_free(&s);
	buf_free(&w.log);

	/* nothing is read before the greeting */
	pop3_session_init(&s, &set, "[x]", &fake_ops, &w);
	assert_int_equal(pop3_session_feed(&s, "QUIT\r\n", 6), 0);
	pop3_session_free(&s);
}

/* The log says who logged in and out, and how. */
static void
test_log_lines(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 0, fixture, 3);
	run(&w, IN("USER alice\r\nPASS nope\r\n" LOGIN "RETR 1\r\nDELE 1\r\n"
	    "QUIT\r\n"), 0);
	assert_non_null(strstr(w.log.data, "auth failed client=[192.0.2.7] "
	    "user=\"alice\" method=pass"));
	assert_non_null(strstr(w.log.data, "login client=[192.0.2.7] "
	    "user=\"alice\" method=pass messages=3 octets=92"));
	assert_non_null(strstr(w.log.data, "logout client=[192.0.2.7] "
	    "user=\"alice\" retrieved=1 deleted=1 left=2"));
	world_free(&w);
}

/* STLS: offered with a context, nothing behind it read in clear, USER
 * forgotten after the handshake; tls-only refuses USER before TLS but
 * keeps APOP. */
static void
test_stls(void **state)
{
	static const char in[] = "CAPA\r\nSTLS\r\nUSER alice\r\n";
	struct world w;
	size_t used;

	(void)state;
	world_init(&w, POP3_AUTH_TLS_ONLY, fixture, 3);
	w.s.tls_available = 1;
	buf_reset(&w.s.out);
	used = pop3_session_feed(&w.s, in, sizeof(in) - 1);
	assert_int_equal(used, sizeof("CAPA\r\nSTLS\r\n") - 1);
	assert_int_equal(w.s.state, POP3_STATE_TLS_WAIT);
	assert_non_null(strstr(w.s.out.data, "\r\nSTLS\r\n"));
	assert_null(strstr(w.s.out.data, "\r\nUSER\r\n"));
	assert_non_null(strstr(w.s.out.data, "+OK Begin TLS negotiation\r\n"));
	assert_int_equal(pop3_session_feed(&w.s, "NOOP\r\n", 6), 0);
	pop3_session_tls_started(&w.s);
	assert_int_equal(w.s.state, POP3_STATE_AUTHORIZATION);
	buf_reset(&w.s.out);
	assert_int_equal(pop3_session_feed(&w.s, "CAPA\r\nSTLS\r\n", 12), 12);
	assert_non_null(strstr(w.s.out.data, "\r\nUSER\r\n"));
	assert_null(strstr(w.s.out.data, "\r\nSTLS\r\n"));
	assert_non_null(strstr(w.s.out.data, "-ERR already using TLS\r\n"));
	world_free(&w);

	world_init(&w, POP3_AUTH_TLS_ONLY, fixture, 3);
	buf_reset(&w.s.out);
	assert_int_equal(pop3_session_feed(&w.s, "USER alice\r\n", 12), 12);
	assert_string_equal(w.s.out.data, "-ERR [AUTH] Plain text passwords "
	    "need TLS; use STLS first (or APOP)\r\n");
	world_free(&w);
}

/* Where pop3_auth forbids plaintext logins, a USER/PASS guesser never
 * gets a password check: nothing is sent to auth. */
static void
test_plaintext_refused_before_check(void **state)
{
	static const char in[] = "USER alice\r\nPASS wonderland\r\n"
	    "PASS wonderland\r\n";
	const enum pop3_auth_policy pol[] = { POP3_AUTH_APOP_ONLY,
	    POP3_AUTH_TLS_ONLY };
	struct world w;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		world_init(&w, pol[i], fixture, 3);
		assert_int_equal(pop3_session_feed(&w.s, in, sizeof(in) - 1),
		    sizeof(in) - 1);
		assert_int_equal(w.pass_checks, 0);
		assert_int_equal(w.s.state, POP3_STATE_AUTHORIZATION);
		assert_null(strstr(w.s.out.data, "+OK send PASS"));
		/* Even if USER had got through, PASS itself refuses. */
		w.s.state = POP3_STATE_AUTH_USER;
		memcpy(w.s.user, "alice", 6);
		buf_reset(&w.s.out);
		assert_int_equal(pop3_session_feed(&w.s, "PASS wonderland\r\n",
		    17), 17);
		assert_int_equal(w.pass_checks, 0);
		assert_non_null(strstr(w.s.out.data, "-ERR [AUTH] Plain text"));
		world_free(&w);
	}
	/* Positive control: the default policy does check. */
	world_init(&w, POP3_AUTH_ANY, fixture, 3);
	assert_int_equal(pop3_session_feed(&w.s, in, 29), 29);
	assert_int_equal(w.pass_checks, 1);
	world_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dialogues),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_retr_large),
		cmocka_unit_test(test_list_large),
		cmocka_unit_test(test_pipelined_backpressure),
		cmocka_unit_test(test_timeout_shutdown),
		cmocka_unit_test(test_late_answers),
		cmocka_unit_test(test_password_wiped),
		cmocka_unit_test(test_free_mid_retr),
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_log_lines),
		cmocka_unit_test(test_stls),
		cmocka_unit_test(test_plaintext_refused_before_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
