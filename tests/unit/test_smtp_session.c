/* test_smtp_session - the SMTP state machine as golden dialogues: every
 * reply, pipelined groups fed whole and byte by byte, smuggling, NUL,
 * 512/513-octet commands, commands behind DATA, asynchronous lookups and
 * commits with input waiting, max_errors and the output high-water mark.
 * The ops are fakes that record every call. */
#include "unit.h"
#include "log.h"
#include "smtp_session.h"

#define HOST		"mx.test"
#define GREET		"220 " HOST " ESMTP postern\n"
#define EHLO_IN		"EHLO client.example\r\n"
#define EHLO_OUT	"250-" HOST "\n250-PIPELINING\n250-SIZE 10000\n" \
			"250-8BITMIME\n250-ENHANCEDSTATUSCODES\n250 HELP\n"
#define MAIL_IN		"MAIL FROM:<sender@remote.example>\r\n"
#define RCPT_IN		"RCPT TO:<alice@mydomain.test>\r\n"
#define OK		"250 2.0.0 Ok\n"
#define MAIL_OK		"250 2.1.0 Ok\n"
#define RCPT_OK		"250 2.1.5 Ok\n"
#define GO		"354 End data with <CR><LF>.<CR><LF>\n"
#define QUEUED		"250 2.0.0 Ok: queued as ABC123\n"
#define BYE		"221 2.0.0 Bye\n"
#define UNKNOWN(a)	"550 5.1.1 <" a ">: Recipient address rejected: " \
			"User unknown in local recipient table\n"
#define BARE		"550 5.5.2 Message contains bare CR or LF; lines must " \
			"end with CRLF\n"
#define TXN		EHLO_IN MAIL_IN RCPT_IN "DATA\r\n"
#define TXN_OUT		GREET EHLO_OUT MAIL_OK RCPT_OK GO

/* ---- fakes --------------------------------------------------------- */

struct fake {
	struct smtp_session *s;
	int		async_user;
	int		async_commit;
	int		open_fail;
	int		write_fail;
	int		commit_fail;
	struct buf	calls;		/* "open\nwrite\nabort\n..." */
	struct buf	message;	/* content written */
	struct buf	logs;
	char		looked_up[64];
};

static struct fake F;

static enum outcome
user_answer(const char *mailbox)
{
	if (strcmp(mailbox, "alice") == 0 || strcmp(mailbox, "bob") == 0)
		return OUTCOME_OK;
	if (strcmp(mailbox, "temp") == 0)
		return OUTCOME_TEMP;
	return OUTCOME_PERM;
}

static void
fake_user_lookup(void *arg, const char *mailbox)
{
	assert_ptr_equal(arg, &F);
	buf_printf(&F.calls, "lookup %s\n", mailbox);
	snprintf(F.looked_up, sizeof(F.looked_up), "%s", mailbox);
	if (!F.async_user)
		smtp_session_user_result(F.s, user_answer(mailbox));
}

static int
fake_message_open(void *arg, const struct smtp_session *s)
{
	(void)arg;
	buf_printf(&F.calls, "open %zu\n", s->txn.nrcpts);
	return F.open_fail ? -1 : 0;
}

static int
fake_message_write(void *arg, const char *p, size_t n)
{
	(void)arg;
	/* consecutive writes are recorded as one "write" */
	if (F.calls.len < 6 || memcmp(F.calls.data + F.calls.len - 6,
	    "write\n", 6) != 0)
		buf_appends(&F.calls, "write\n");
	assert_true(n > 0);
	assert_int_equal(buf_append(&F.message, p, n), 0);
	return F.write_fail ? -1 : 0;
}

static void
fake_message_commit(void *arg)
{
	(void)arg;
	buf_appends(&F.calls, "commit\n");
	if (!F.async_commit)
		smtp_session_commit_result(F.s, !F.commit_fail, "ABC123");
}

static void
fake_message_abort(void *arg)
{
	(void)arg;
	buf_appends(&F.calls, "abort\n");
}

static void
fake_log(void *arg, const char *line)
{
	(void)arg;
	buf_printf(&F.logs, "%s\n", line);
}

/* The auth process: "pw" is alice's password. */
static void
fake_auth_request(void *arg, enum sasl_result need, const struct sasl_server *sasl)
{
	(void)arg;
	buf_printf(&F.calls, "auth %d %s\n", (int)need, sasl->user);
	smtp_session_auth_result(F.s, need == SASL_NEED_PASS &&
	    strcmp(sasl->user, "alice") == 0 && strcmp(sasl->pass, "pw") == 0 ?
	    OUTCOME_OK : OUTCOME_DENIED, NULL, 0);
}

/* SRS: "SRS0=good=..." stands for carol@sender.example, any other
 * "SRS0=" is forged, the rest is not SRS. */
static int
fake_srs_reverse(void *arg, const char *local, char *out, size_t outlen)
{
	(void)arg;
	if (strncasecmp(local, "SRS0=", 5) != 0)
		return 1;
	if (strncmp(local, "SRS0=good=", 10) != 0)
		return -1;
	snprintf(out, outlen, "carol@sender.example");
	return 0;
}

/* A blocklist at RCPT: with refuse_rcpts, every recipient but
 * postmaster's is refused. */
static int refuse_rcpts;

static const char *
fake_rcpt_check(void *arg, const struct address *rcpt, int postmaster,
    char *line, size_t len)
{
	(void)arg;
	(void)rcpt;
	if (!refuse_rcpts || postmaster)
		return NULL;
	snprintf(line, len, "451 4.7.1 Greylisted, please try again later");
	return "greylist";
}

static const struct smtp_session_ops fake_ops = {
	fake_user_lookup, fake_message_open, fake_message_write,
	fake_message_commit, fake_message_abort, fake_log, fake_auth_request,
	fake_srs_reverse, fake_rcpt_check,
};

/* ---- config and policy --------------------------------------------- */

static struct config *cfg;
static char *domains[] = { "mydomain.test" };
static struct cidr nets[1];
static struct relay_policy policy;

static int
setup(void **state)
{
	(void)state;
	cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	cfg->hostname = "mx.test";
	cfg->local_domains = domains;
	cfg->n_local_domains = 1;
	assert_int_equal(cidr_parse("127.0.0.1/32", &nets[0]), 0);
	cfg->local_networks = nets;
	cfg->n_local_networks = 1;
	cfg->max_message_size = 10000;
	cfg->postmaster = "alice";
	cfg->max_recipients = 3;
	cfg->max_errors = 20;
	cfg->smtp_timeout = 300;
	cfg->data_timeout = 180;
	policy.local_domains = domains;
	policy.n_local_domains = 1;
	policy.local_networks = nets;
	policy.n_local_networks = 1;
	policy.rules = NULL;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(cfg);
	return 0;
}

/* ---- harness ------------------------------------------------------- */

struct run {
	struct smtp_session s;
	struct buf	out;		/* everything the client received */
	size_t		consumed;
};

static void
fake_reset(void)
{
	buf_free(&F.calls);
	buf_free(&F.message);
	buf_free(&F.logs);
	memset(&F, 0, sizeof(F));
	buf_init(&F.calls, 1 << 20);
	buf_init(&F.message, 1 << 22);
	buf_init(&F.logs, 1 << 20);
}

static struct run *
start(const char *ip, const char *reject)
{
	struct run *r = calloc(1, sizeof(*r));
	struct relay_client c;

	assert_non_null(r);
	memset(&c, 0, sizeof(c));
	assert_int_equal(netaddr_parse(ip, &c.addr), 0);
	fake_reset();
	F.s = &r->s;
	smtp_session_init(&r->s, cfg, &policy, &c, &fake_ops, &F);
	r->s.now = 1000;
	buf_init(&r->out, 1 << 24);
	smtp_session_start(&r->s, reject);
	return r;
}

static void
drain(struct run *r)
{
	assert_int_equal(buf_append(&r->out, r->s.out.data, r->s.out.len), 0);
	buf_consume(&r->s.out, r->s.out.len);
}

/* Feed like smtpd: step bytes at a time (0 = all), draining the replies
 * after every call; stop when the session stops consuming. */
static void
feed(struct run *r, const char *in, size_t len, size_t step)
{
	size_t pos = 0, n, want;

	drain(r);
	while (pos < len) {
		want = step && step < len - pos ? step : len - pos;
		n = smtp_session_feed(&r->s, in + pos, want);
		drain(r);
		pos += n;
		if (n < want)
			break;
	}
	r->consumed += pos;
}

/* Like a client that waits for the 354: input is cut after each
 * "DATA\r\n" (content containing it is cut too, harmlessly). */
static void
feed_client(struct run *r, const char *in, size_t len, size_t step)
{
	const char *p = in, *end = in + len, *q;

	while (p < end) {
		q = memmem(p, (size_t)(end - p), "DATA\r\n", 6);
		q = q ? q + 6 : end;
		feed(r, p, (size_t)(q - p), step);
		p = q;
	}
}

static void
finish(struct run *r)
{
	smtp_session_free(&r->s);
	buf_free(&r->out);
	free(r);
}

/* The client's view with CRLF shown as "\n"; a bare LF is an error. */
static char *
text_of(const struct buf *b)
{
	char *t = malloc(b->len + 1);
	size_t i, o = 0;

	assert_non_null(t);
	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\r') {
			assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
			continue;
		}
		if (b->data[i] == '\n')
			assert_true(i > 0 && b->data[i - 1] == '\r');
		t[o++] = b->data[i];
	}
	t[o] = '\0';
	return t;
}

static void
expect_out(struct run *r, const char *want, const char *what)
{
	char *got = text_of(&r->out);

	if (strcmp(got, want) != 0)
		fail_msg("%s:\n--- got ---\n%s--- want ---\n%s", what, got, want);
	free(got);
}

/* ---- golden dialogues ---------------------------------------------- */

#define RAW		0x01	/* fed as is, whole: not cut after DATA */
#define CLOSED		0x02	/* the session must end closed */

struct dialogue {
	const char	*name;
	const char	*ip;
	const char	*in;
	size_t		 inlen;
	const char	*want;
	unsigned	 flags;
	const char	*calls;		/* NULL: don't check */
};

#define S(x)	x, sizeof(x) - 1
#define LOCAL	"127.0.0.1"
#define STRANGER "127.0.0.2"

static const struct dialogue dialogues[] = {
	{ "greeting only", STRANGER, S(""), GREET, 0, "" },
	{ "ehlo", STRANGER, S(EHLO_IN), GREET EHLO_OUT, 0, NULL },
	{ "helo", STRANGER, S("HELO client.example\r\n"), GREET "250 " HOST "\n",
	    0, NULL },
	{ "ehlo lower case", STRANGER, S("ehlo x\r\n"), GREET EHLO_OUT, 0, NULL },
	{ "ehlo no arg", STRANGER, S("EHLO\r\nEHLO \r\nHELO\r\n"), GREET
	    "501 5.5.4 Syntax: EHLO hostname\n"
	    "501 5.5.4 Syntax: EHLO hostname\n"
	    "501 5.5.4 Syntax: HELO hostname\n", 0, NULL },
	{ "ehlo 8bit", STRANGER, S("EHLO h\xc3\xa9\r\nHELO a\tb\r\n"), GREET
	    "501 5.5.4 Syntax: EHLO hostname\n"
	    "501 5.5.4 Syntax: HELO hostname\n", 0, NULL },

	{ "full transaction", STRANGER,
	    S(TXN "Subject: hi\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n"),
	    TXN_OUT QUEUED BYE, CLOSED,
	    "lookup alice\nopen 1\nwrite\ncommit\n" },
	{ "two messages", STRANGER,
	    S(TXN "one\r\n.\r\n" MAIL_IN RCPT_IN "DATA\r\ntwo\r\n.\r\n"),
	    TXN_OUT QUEUED MAIL_OK RCPT_OK GO QUEUED, 0,
	    "lookup alice\nopen 1\nwrite\ncommit\nlookup alice\nopen 1\n"
	    "write\ncommit\n" },
	{ "empty message", STRANGER, S(TXN ".\r\n"), TXN_OUT QUEUED, 0,
	    "lookup alice\nopen 1\ncommit\n" },
	{ "helo transaction", STRANGER,
	    S("HELO c\r\n" MAIL_IN RCPT_IN "DATA\r\nx\r\n.\r\n"),
	    GREET "250 " HOST "\n" MAIL_OK RCPT_OK GO QUEUED, 0, NULL },

	/* MAIL */
	{ "mail before helo", STRANGER, S(MAIL_IN), GREET
	    "503 5.5.1 Error: send HELO/EHLO first\n", 0, NULL },
	{ "nested mail", STRANGER, S(EHLO_IN MAIL_IN MAIL_IN), GREET EHLO_OUT
	    MAIL_OK "503 5.5.1 Error: nested MAIL command\n", 0, NULL },
	{ "mail syntax ok", STRANGER, S(EHLO_IN
	    "mail from:<a@b.example>\r\nRSET\r\n"
	    "MAIL FROM: <a@b.example>\r\nRSET\r\n"
	    "MAIL FROM:   <a@b.example>  \r\nRSET\r\n"
	    "Mail From:<>\r\nRSET\r\n"
	    "MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME\r\nRSET\r\n"
	    "MAIL FROM:<a@b.example> body=7bit size=10000\r\nRSET\r\n"
	    "MAIL FROM:<@r.example:a@b.example>\r\n"),
	    GREET EHLO_OUT MAIL_OK OK MAIL_OK OK MAIL_OK OK MAIL_OK OK
	    MAIL_OK OK MAIL_OK OK MAIL_OK, 0, NULL },
	{ "mail syntax bad", STRANGER, S(EHLO_IN
	    "MAIL\r\nMAIL FROM\r\nMAIL FROM:\r\nMAIL FROM:a@b.example\r\n"
	    "MAIL TO:<a@b.example>\r\nMAIL FROM:<a@b.example>x\r\n"
	    "MAILFROM:<a@b.example>\r\n"),
	    GREET EHLO_OUT
	    "501 5.5.4 Syntax: MAIL FROM:<address>\n"
	    "501 5.5.4 Syntax: MAIL FROM:<address>\n"
	    "501 5.5.4 Syntax: MAIL FROM:<address>\n"
	    "501 5.5.4 Syntax: MAIL FROM:<address>\n"
	    "501 5.5.4 Syntax: MAIL FROM:<address>\n"
	    "501 5.5.4 Syntax: MAIL FROM:<address>\n"
	    "500 5.5.1 Error: command not recognized\n", 0, NULL },
	{ "mail bad address", STRANGER, S(EHLO_IN
	    "MAIL FROM:<a@>\r\nMAIL FROM:<a b@c.example>\r\n"
	    "MAIL FROM:<\xc3\xa9@c.example>\r\nMAIL FROM:<a@b.example\r\n"),
	    GREET EHLO_OUT
	    "501 5.1.7 Bad sender address syntax\n"
	    "501 5.1.7 Bad sender address syntax\n"
	    "553 5.6.7 Non-ASCII addresses are not supported\n"
	    "501 5.1.7 Bad sender address syntax\n", 0, NULL },
	{ "mail params", STRANGER, S(EHLO_IN
	    "MAIL FROM:<a@b.example> SIZE=abc\r\n"
	    "MAIL FROM:<a@b.example> SIZE=\r\n"
	    "MAIL FROM:<a@b.example> SIZE\r\n"
	    "MAIL FROM:<a@b.example> SIZE=1 SIZE=2\r\n"
	    "MAIL FROM:<a@b.example> SIZE=99999999999999999999999\r\n"
	    "MAIL FROM:<a@b.example> SIZE=10001\r\n"
	    "MAIL FROM:<a@b.example> FOO=bar\r\n"
	    "MAIL FROM:<a@b.example> SMTPUTF8\r\n"
	    "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n"
	    "MAIL FROM:<a@b.example> BODY=7BIT BODY=7BIT\r\n"
	    "MAIL FROM:<a@b.example> AUTH=<>\r\n"),
	    GREET EHLO_OUT
	    "501 5.5.4 Bad SIZE parameter\n"
	    "501 5.5.4 Bad SIZE parameter\n"
	    "555 5.5.4 Unsupported option: SIZE\n"
	    "501 5.5.4 Bad SIZE parameter\n"
	    "501 5.5.4 Bad SIZE parameter\n"
	    "552 5.3.4 Message size exceeds fixed limit\n"
	    "555 5.5.4 Unsupported option: FOO\n"
	    "555 5.5.4 Unsupported option: SMTPUTF8\n"
	    "501 5.5.4 Bad BODY parameter\n"
	    "501 5.5.4 Bad BODY parameter\n"
	    "555 5.5.4 Unsupported option: AUTH\n", 0, NULL },

	/* RCPT */
	{ "rcpt before mail", STRANGER, S(EHLO_IN RCPT_IN), GREET EHLO_OUT
	    "503 5.5.1 Error: need MAIL command\n", 0, NULL },
	{ "rcpt before helo", STRANGER, S(RCPT_IN), GREET
	    "503 5.5.1 Error: need MAIL command\n", 0, NULL },
	{ "rcpt syntax", STRANGER, S(EHLO_IN MAIL_IN
	    "RCPT\r\nRCPT TO\r\nRCPT TO:alice@mydomain.test\r\n"
	    "RCPT FROM:<alice@mydomain.test>\r\n"
	    "RCPT TO:<alice@mydomain.test>x\r\n"
	    "RCPT TO:<>\r\nRCPT TO:<a@>\r\n"
	    "RCPT TO:<\xc3\xa9@mydomain.test>\r\n"
	    "RCPT TO:<alice@mydomain.test> NOTIFY=NEVER\r\n"
	    "rcpt to: <alice@MyDomain.Test>\r\n"),
	    GREET EHLO_OUT MAIL_OK
	    "501 5.5.4 Syntax: RCPT TO:<address>\n"
	    "501 5.5.4 Syntax: RCPT TO:<address>\n"
	    "501 5.5.4 Syntax: RCPT TO:<address>\n"
	    "501 5.5.4 Syntax: RCPT TO:<address>\n"
	    "501 5.5.4 Syntax: RCPT TO:<address>\n"
	    "501 5.1.3 Bad recipient address syntax\n"
	    "501 5.1.3 Bad recipient address syntax\n"
	    "553 5.6.7 Non-ASCII addresses are not supported\n"
	    "555 5.5.4 Unsupported option: NOTIFY\n"
	    RCPT_OK, 0, NULL },
	{ "relay denied", STRANGER, S(EHLO_IN
	    "MAIL FROM:<x@mydomain.test>\r\nRCPT TO:<v@elsewhere.example>\r\n"
	    "RCPT TO:<v@evilmydomain.test>\r\nDATA\r\n"),
	    GREET EHLO_OUT MAIL_OK
	    "554 5.7.1 Relay access denied\n"
	    "554 5.7.1 Relay access denied\n"
	    "554 5.5.1 Error: no valid recipients\n", 0, "" },
	{ "routing denied", LOCAL, S(EHLO_IN MAIL_IN
	    "RCPT TO:<a%b@mydomain.test>\r\n"),
	    GREET EHLO_OUT MAIL_OK "554 5.7.1 Relay access denied: address "
	    "routing is not allowed here\n", 0, "" },
	{ "relay allowed", LOCAL, S(EHLO_IN MAIL_IN
	    "RCPT TO:<v@elsewhere.example>\r\nDATA\r\nhi\r\n.\r\n"),
	    GREET EHLO_OUT MAIL_OK RCPT_OK GO QUEUED, 0,
	    "open 1\nwrite\ncommit\n" },
	{ "unknown user", STRANGER, S(EHLO_IN MAIL_IN
	    "RCPT TO:<nobody@mydomain.test>\r\n"
	    "RCPT TO:<\"a,b\"@mydomain.test>\r\n"
	    "RCPT TO:<Al+ice@mydomain.test>\r\n"
	    "RCPT TO:<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@mydomain.test>\r\n"),
	    GREET EHLO_OUT MAIL_OK UNKNOWN("nobody@mydomain.test")
	    UNKNOWN("\"a,b\"@mydomain.test")
	    UNKNOWN("Al+ice@mydomain.test")
	    UNKNOWN("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@mydomain.test"),
	    0, "lookup nobody\n" },
	{ "user case", STRANGER, S(EHLO_IN MAIL_IN
	    "RCPT TO:<ALICE@mydomain.test>\r\n"),
	    GREET EHLO_OUT MAIL_OK RCPT_OK, 0, "lookup alice\n" },
	{ "tempfail", STRANGER, S(EHLO_IN MAIL_IN
	    "RCPT TO:<temp@mydomain.test>\r\n"),
	    GREET EHLO_OUT MAIL_OK
	    "451 4.3.0 <temp@mydomain.test>: Temporary lookup failure\n",
	    0, NULL },
	{ "postmaster", STRANGER, S(EHLO_IN MAIL_IN
	    "RCPT TO:<postmaster>\r\nRCPT TO:<Postmaster@mydomain.test>\r\n"
	    "RCPT TO:<POSTMASTER>\r\n"),
	    GREET EHLO_OUT MAIL_OK RCPT_OK RCPT_OK RCPT_OK, 0, "" },
	{ "too many recipients", LOCAL, S(EHLO_IN MAIL_IN
	    "RCPT TO:<a@x.example>\r\nRCPT TO:<b@x.example>\r\n"
	    "RCPT TO:<c@x.example>\r\nRCPT TO:<d@x.example>\r\n"
	    "RCPT TO:<a@x.example>\r\nDATA\r\n"),
	    GREET EHLO_OUT MAIL_OK RCPT_OK RCPT_OK RCPT_OK
	    "452 4.5.3 Error: too many recipients\n" RCPT_OK GO, 0,
	    "open 3\n" },
	{ "duplicates stored once", STRANGER, S(EHLO_IN MAIL_IN
	    RCPT_IN RCPT_IN "RCPT TO:<Alice@MYDOMAIN.TEST.>\r\n"
	    "RCPT TO:<postmaster>\r\nRCPT TO:<bob@mydomain.test>\r\n"
	    "DATA\r\n"),
	    GREET EHLO_OUT MAIL_OK RCPT_OK RCPT_OK RCPT_OK RCPT_OK RCPT_OK GO,
	    0, "lookup alice\nlookup alice\nlookup alice\nlookup bob\n"
	    "open 2\n" },

	/* DATA */
	{ "data before mail", STRANGER, S(EHLO_IN "DATA\r\n"), GREET EHLO_OUT
	    "503 5.5.1 Error: need MAIL command\n", 0, "" },
	{ "data with arg", STRANGER, S(EHLO_IN MAIL_IN RCPT_IN "DATA x\r\n"),
	    GREET EHLO_OUT MAIL_OK RCPT_OK "501 5.5.4 Syntax: DATA\n", 0, NULL },
	{ "data no rcpt", STRANGER, S(EHLO_IN MAIL_IN "DATA\r\n"),
	    GREET EHLO_OUT MAIL_OK "554 5.5.1 Error: no valid recipients\n",
	    0, "" },
	{ "commands behind data", STRANGER,
	    S(TXN "Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n"),
	    GREET EHLO_OUT MAIL_OK RCPT_OK
	    "554 5.5.0 Error: SMTP protocol synchronization\n",
	    RAW | CLOSED, "lookup alice\n" },
	{ "mail behind data", STRANGER, S(TXN MAIL_IN),
	    GREET EHLO_OUT MAIL_OK RCPT_OK
	    "554 5.5.0 Error: SMTP protocol synchronization\n",
	    RAW | CLOSED, "lookup alice\n" },
	{ "bare LF in data", STRANGER, S(TXN "a\nb\r\n.\r\n" MAIL_IN),
	    TXN_OUT BARE MAIL_OK, 0, "lookup alice\nopen 1\nwrite\nabort\n" },
	{ "bare CR in data", STRANGER, S(TXN "a\rb\r\n.\r\n"),
	    TXN_OUT BARE, 0, NULL },
	{ "NUL in data", STRANGER, S(TXN "a\0b\r\n.\r\n"), TXN_OUT
	    "550 5.6.0 Message contains NUL characters\n", 0,
	    "lookup alice\nopen 1\nwrite\nabort\n" },
	{ "bare LF beats NUL", STRANGER, S(TXN "a\0b\n.\r\n.\r\n"), TXN_OUT
	    BARE, 0, NULL },

	/* smuggling: nothing before the real end, then one 550 */
	{ "smuggle LF.LF", STRANGER, S(TXN "a\r\n\n.\n"
	    "MAIL FROM:<x@y.example>\r\nRCPT TO:<bob@mydomain.test>\r\n"
	    "DATA\r\nevil\r\n.\r\nNOOP\r\n"),
	    TXN_OUT BARE OK, 0, "lookup alice\nopen 1\nwrite\nabort\n" },
	{ "smuggle CRLF.LF", STRANGER, S(TXN "a\r\n.\n"
	    "MAIL FROM:<x@y.example>\r\nRCPT TO:<bob@mydomain.test>\r\n"
	    "DATA\r\nevil\r\n.\r\nNOOP\r\n"),
	    TXN_OUT BARE OK, 0, "lookup alice\nopen 1\nwrite\nabort\n" },
	{ "smuggle LF.CRLF", STRANGER, S(TXN "a\n.\r\n"
	    "MAIL FROM:<x@y.example>\r\nRCPT TO:<bob@mydomain.test>\r\n"
	    "DATA\r\nevil\r\n.\r\nNOOP\r\n"),
	    TXN_OUT BARE OK, 0, "lookup alice\nopen 1\nwrite\nabort\n" },
	{ "smuggle CR.CR", STRANGER, S(TXN "a\r.\r"
	    "MAIL FROM:<x@y.example>\r\nRCPT TO:<bob@mydomain.test>\r\n"
	    "DATA\r\nevil\r\n.\r\nNOOP\r\n"),
	    TXN_OUT BARE OK, 0, "lookup alice\nopen 1\nwrite\nabort\n" },

	/* small commands */
	{ "rset", STRANGER, S(EHLO_IN MAIL_IN "RSET\r\n" RCPT_IN "RSET x\r\n"),
	    GREET EHLO_OUT MAIL_OK OK "503 5.5.1 Error: need MAIL command\n"
	    "501 5.5.4 Syntax: RSET\n", 0, NULL },
	{ "rset before helo", STRANGER, S("RSET\r\n" MAIL_IN), GREET OK
	    "503 5.5.1 Error: send HELO/EHLO first\n", 0, NULL },
	{ "ehlo resets", STRANGER, S(EHLO_IN MAIL_IN EHLO_IN RCPT_IN MAIL_IN),
	    GREET EHLO_OUT MAIL_OK EHLO_OUT
	    "503 5.5.1 Error: need MAIL command\n" MAIL_OK, 0, NULL },
	{ "noop", STRANGER, S("NOOP\r\nnoop x\r\n"), GREET OK OK, 0, NULL },
	{ "quit ignores the rest", STRANGER, S("QUIT\r\nNOOP\r\nNOOP\r\n"),
	    GREET BYE, CLOSED, NULL },
	{ "vrfy", STRANGER, S("VRFY alice\r\nVRFY\r\n"), GREET
	    "252 2.0.0 Cannot VRFY user; try RCPT to attempt delivery\n"
	    "501 5.5.4 Syntax: VRFY address\n", 0, "" },
	{ "help", STRANGER, S("HELP\r\nhelp mail\r\n"), GREET
	    "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY "
	    "HELP\n"
	    "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY "
	    "HELP\n", 0, NULL },
	{ "not implemented", STRANGER, S("EXPN staff\r\nSTARTTLS\r\n"
	    "AUTH PLAIN\r\nBDAT 10 LAST\r\nETRN x\r\nTURN\r\n"), GREET
	    "502 5.5.1 Error: command not implemented\n"
	    "454 4.7.0 TLS not available\n"
	    "503 5.5.1 Error: send HELO/EHLO first\n"
	    "502 5.5.1 Error: command not implemented\n"
	    "502 5.5.1 Error: command not implemented\n"
	    "502 5.5.1 Error: command not implemented\n", 0, NULL },
	{ "unknown", STRANGER, S("FOO\r\n\r\nMAILX\r\n  NOOP\r\n"), GREET
	    "500 5.5.1 Error: command not recognized\n"
	    "500 5.5.1 Error: command not recognized\n"
	    "500 5.5.1 Error: command not recognized\n"
	    "500 5.5.1 Error: command not recognized\n", 0, NULL },
	{ "http get", STRANGER, S("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), GREET
	    "521 5.7.0 " HOST " Error: HTTP is not SMTP\n", CLOSED, NULL },
	{ "http post later", STRANGER, S(EHLO_IN "POST /x HTTP/1.0\r\n"),
	    GREET EHLO_OUT "521 5.7.0 " HOST " Error: HTTP is not SMTP\n",
	    CLOSED, NULL },
	{ "http host", STRANGER, S("host: a\r\n"), GREET
	    "521 5.7.0 " HOST " Error: HTTP is not SMTP\n", CLOSED, NULL },
	{ "http connect", STRANGER, S("CONNECT a:25 HTTP/1.0\r\n"), GREET
	    "521 5.7.0 " HOST " Error: HTTP is not SMTP\n", CLOSED, NULL },

	/* linebuf faults */
	{ "bare LF command", STRANGER, S("NOOP\nNOOP\r\n"), GREET
	    "500 5.5.2 Error: bare LF received\n" OK, 0, NULL },
	{ "bare CR command", STRANGER, S("NO\rOP\r\nNOOP\r\n"), GREET
	    "500 5.5.2 Error: bare CR received\n" OK, 0, NULL },
	{ "NUL command", STRANGER, S("NO\0OP\r\nNOOP\r\n"), GREET
	    "500 5.5.2 Error: NUL character received\n" OK, 0, NULL },
	{ "NUL in mail", STRANGER, S(EHLO_IN "MAIL FROM:<a\0@b.example>\r\n"),
	    GREET EHLO_OUT "500 5.5.2 Error: NUL character received\n", 0,
	    NULL },
};

static void
run_dialogue(const struct dialogue *d, size_t step)
{
	struct run *r = start(d->ip, NULL);
	char what[200];

	if (d->flags & RAW)
		feed(r, d->in, d->inlen, step);
	else
		feed_client(r, d->in, d->inlen, step);
	drain(r);
	snprintf(what, sizeof(what), "%s (step %zu)", d->name, step);
	expect_out(r, d->want, what);
	if (d->calls != NULL && strcmp(F.calls.data ? F.calls.data : "",
	    d->calls) != 0)
		fail_msg("%s: calls\n%s-- want --\n%s", what,
		    F.calls.data ? F.calls.data : "", d->calls);
	assert_int_equal(r->s.close, !!(d->flags & CLOSED));
	if (!(d->flags & CLOSED))
		assert_int_equal(r->consumed, d->inlen);
	assert_int_equal(r->s.wait, SMTP_WAIT_NONE);
	finish(r);
}

static void
test_dialogues(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dialogues) / sizeof(dialogues[0]); i++) {
		run_dialogue(&dialogues[i], 0);
		if (dialogues[i].flags & RAW)
			continue;
		run_dialogue(&dialogues[i], 1);
		run_dialogue(&dialogues[i], 7);
	}
}

/* ---- focused tests ------------------------------------------------- */

static void
test_content_written(void **state)
{
	static const char in[] = TXN "Subject: hi\r\n\r\n..dot\r\n.x\r\n"
	    "body\r\n.\r\n";
	static const char want[] = "Subject: hi\r\n\r\n.dot\r\nx\r\nbody\r\n";
	size_t step;

	(void)state;
	for (step = 0; step <= 1; step++) {
		struct run *r = start(STRANGER, NULL);

		feed_client(r, in, sizeof(in) - 1, step);
		assert_int_equal(F.message.len, sizeof(want) - 1);
		assert_memory_equal(F.message.data, want, sizeof(want) - 1);
		assert_int_equal(r->s.messages, 1);
		assert_int_equal(r->s.state, SMTP_STATE_HELO);
		assert_non_null(strstr(F.logs.data, "queued id=ABC123 "
		    "from=<sender@remote.example> size=30 nrcpt=1 "
		    "client=[127.0.0.2]"));
		finish(r);
	}
}

static void
test_envelope(void **state)
{
	static const char in[] = EHLO_IN "MAIL FROM:<s@r.example> SIZE=5 "
	    "BODY=8BITMIME\r\nRCPT TO:<BOB@mydomain.test>\r\n"
	    "RCPT TO:<postmaster>\r\n";
	struct run *r = start(LOCAL, NULL);

	(void)state;
	feed(r, in, sizeof(in) - 1, 0);
	assert_string_equal(r->s.helo, "client.example");
	assert_int_equal(r->s.esmtp, 1);
	assert_string_equal(r->s.txn.from.local, "s");
	assert_int_equal(r->s.txn.declared_size, 5);
	assert_int_equal(r->s.txn.body_8bit, 1);
	assert_int_equal(r->s.txn.nrcpts, 2);
	assert_string_equal(r->s.txn.rcpts[0].mailbox, "bob");
	assert_int_equal(r->s.txn.rcpts[0].kind, RELAY_ACCEPT_LOCAL);
	assert_string_equal(r->s.txn.rcpts[1].mailbox, "alice"); /* cfg->postmaster */
	assert_int_equal(r->s.state, SMTP_STATE_RCPT);
	finish(r);

	/* without postmaster = USER the mailbox is "postmaster" */
	cfg->postmaster = NULL;
	r = start(STRANGER, NULL);
	feed(r, S(EHLO_IN MAIL_IN "RCPT TO:<PostMaster@mydomain.test>\r\n"
	    "RCPT TO:<v@remote.example>\r\n"), 0);
	assert_int_equal(r->s.txn.nrcpts, 1);
	assert_string_equal(r->s.txn.rcpts[0].mailbox, "postmaster");
	finish(r);
	cfg->postmaster = "alice";

	r = start(LOCAL, NULL);
	feed(r, S(EHLO_IN MAIL_IN "RCPT TO:<v@remote.example>\r\n"), 0);
	assert_int_equal(r->s.txn.nrcpts, 1);
	assert_int_equal(r->s.txn.rcpts[0].kind, RELAY_ACCEPT_RELAY);
	assert_string_equal(r->s.txn.rcpts[0].mailbox, "");
	assert_string_equal(r->s.txn.rcpts[0].rule, "local_networks 127.0.0.1/32");
	finish(r);
}

static void
test_logs(void **state)
{
	struct run *r = start(STRANGER, NULL);

	(void)state;
	feed(r, S(EHLO_IN "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
	    "RCPT TO:<nobody@mydomain.test>\r\n" RCPT_IN), 0);
	assert_non_null(strstr(F.logs.data,
	    "rcpt client=[127.0.0.2] from=<a@b> to=<c@d> decision=reject "
	    "rule=\"default-deny\" reply=\"554 5.7.1 Relay access denied\" "
	    "helo=\"client.example\"\n"));
	assert_non_null(strstr(F.logs.data,
	    "rcpt client=[127.0.0.2] from=<a@b> to=<nobody@mydomain.test> "
	    "decision=reject rule=\"local_domains mydomain.test\" "
	    "reply=\"550 5.1.1 <nobody@mydomain.test>: Recipient address "
	    "rejected: User unknown in local recipient table\" helo=\"client.example\"\n"));
	assert_non_null(strstr(F.logs.data,
	    "rcpt client=[127.0.0.2] from=<a@b> to=<alice@mydomain.test> "
	    "decision=accept-local rule=\"local_domains mydomain.test\" "
	    "reply=\"250 2.1.5 Ok\" helo=\"client.example\"\n"));
	finish(r);
}

/* 512 octets with CRLF is a command; 513 is not. */
static void
test_command_length(void **state)
{
	char line[600];
	size_t step;

	(void)state;
	for (step = 0; step <= 1; step++) {
		struct run *r = start(STRANGER, NULL);

		memset(line, 'x', sizeof(line));
		memcpy(line, "NOOP ", 5);
		memcpy(line + 510, "\r\n", 2);		/* 512 */
		feed(r, line, 512, step);
		memcpy(line + 511, "\r\n", 2);		/* 513 */
		feed(r, line, 513, step);
		memcpy(line + 509, "\r\n", 2);		/* 511 */
		feed(r, line, 511, step);
		feed(r, S("NOOP\r\n"), step);
		expect_out(r, GREET OK "500 5.5.2 Error: line too long\n" OK OK,
		    "command length");
		finish(r);
	}
	/* a 5000-octet line is one error, not ten */
	{
		struct run *r = start(STRANGER, NULL);
		char *big = malloc(5002);

		assert_non_null(big);
		memset(big, 'A', 5000);
		memcpy(big + 5000, "\r\n", 2);
		feed(r, big, 5002, 0);
		feed(r, S("NOOP\r\n"), 0);
		expect_out(r, GREET "500 5.5.2 Error: line too long\n" OK,
		    "long line");
		assert_int_equal(r->s.errors, 1);
		free(big);
		finish(r);
	}
}

static void
data_fault(const char *content, size_t len, uint64_t max, const char *want)
{
	size_t step;
	struct buf in;

	buf_init(&in, 1 << 22);
	buf_appends(&in, TXN);
	buf_append(&in, content, len);
	buf_appends(&in, "NOOP\r\n");
	for (step = 0; step <= 1; step++) {
		struct run *r;

		cfg->max_message_size = max;
		r = start(STRANGER, NULL);
		feed_client(r, in.data, in.len, step ? 1000 : 0);
		expect_out(r, want, "data fault");
		if (strstr(want, "queued") != NULL) {
			assert_null(strstr(F.calls.data, "abort\n"));
			assert_non_null(strstr(F.calls.data, "commit"));
		} else {
			assert_non_null(strstr(F.calls.data, "abort\n"));
			assert_null(strstr(F.calls.data, "commit"));
		}
		assert_int_equal(r->s.state, SMTP_STATE_HELO);
		assert_int_equal(r->s.txn.nrcpts, 0);
		finish(r);
	}
	cfg->max_message_size = 10000;
	buf_free(&in);
}

static void
test_data_limits(void **state)
{
	char *c = malloc(30000);
	char want[2000];
	size_t i;

	(void)state;
	assert_non_null(c);
	/* 998 + CRLF is fine; 999 is not; the transparency dot is free */
	memset(c, 'x', 30000);
	memcpy(c + 998, "\r\n.\r\n", 5);
	data_fault(c, 1003, 10000, TXN_OUT QUEUED OK);
	memset(c, 'x', 30000);
	memcpy(c + 999, "\r\n.\r\n", 5);
	data_fault(c, 1004, 10000, TXN_OUT "550 5.5.2 Message contains a line "
	    "longer than 1000 octets\n" OK);
	memset(c, 'x', 30000);
	c[0] = '.';
	memcpy(c + 999, "\r\n.\r\n", 5);
	data_fault(c, 1004, 10000, TXN_OUT QUEUED OK);

	/* size: max-1, max, max+1 (content after unstuffing) */
	for (i = 0; i < 3; i++) {
		size_t n = 9999 + i, k;	/* content octets */

		memset(c, 'x', 30000);
		for (k = 70; k + 2 < n; k += 72)
			memcpy(c + k, "\r\n", 2);
		memcpy(c + n - 2, "\r\n.\r\n", 5);
		snprintf(want, sizeof(want), "%s", i < 2 ? TXN_OUT QUEUED OK :
		    TXN_OUT "552 5.3.4 Message size exceeds fixed limit\n" OK);
		data_fault(c, n + 3, 10000, want);
	}
	/* a huge message is read to its end, then one 552 */
	memset(c, 'x', 30000);
	for (i = 70; i + 2 < 29995; i += 72)
		memcpy(c + i, "\r\n", 2);
	memcpy(c + 29995, "\r\n.\r\n", 5);
	data_fault(c, 30000, 10000, TXN_OUT
	    "552 5.3.4 Message size exceeds fixed limit\n" OK);
	free(c);
}

/* Hop limit: a message whose Received: fields, with ours, would
 * be over 50 is a loop, refused at the end of DATA (554 5.4.6) and never
 * queued, so the queue process has nothing to bounce to a forged sender. */
static void
test_hop_limit(void **state)
{
	char c[8192], want[512];
	size_t n;
	int hops, i;

	(void)state;
	for (hops = 49; hops <= 51; hops++) {
		n = 0;
		for (i = 0; i < hops; i++)
			n += (size_t)snprintf(c + n, sizeof(c) - n,
			    "Received: from h%d by h%d;\r\n\tdate\r\n", i, i);
		n += (size_t)snprintf(c + n, sizeof(c) - n,
		    "Subject: attacker\r\n\r\nbody\r\n.\r\n");
		snprintf(want, sizeof(want), "%s", hops < 50 ? TXN_OUT QUEUED OK :
		    TXN_OUT "554 5.4.6 Error: too many hops (mail loop: more "
		    "than 50 Received: headers)\n" OK);
		data_fault(c, n, 10000, want);
	}
}

static void
test_disk_errors(void **state)
{
	struct run *r;

	(void)state;
	r = start(STRANGER, NULL);
	F.open_fail = 1;
	feed(r, S(TXN), 0);
	feed(r, S("x\r\n.\r\n"), 0);
	expect_out(r, GREET EHLO_OUT MAIL_OK RCPT_OK
	    "451 4.3.0 Error: queue file write error\n"
	    "500 5.5.1 Error: command not recognized\n"
	    "500 5.5.1 Error: command not recognized\n", "open fails");
	finish(r);

	r = start(STRANGER, NULL);
	F.write_fail = 1;
	feed_client(r, S(TXN "x\r\n.\r\nNOOP\r\n"), 0);
	expect_out(r, TXN_OUT "451 4.3.0 Error: queue file write error\n" OK,
	    "write fails");
	assert_string_equal(F.calls.data, "lookup alice\nopen 1\nwrite\nabort\n");
	finish(r);

	r = start(STRANGER, NULL);
	F.commit_fail = 1;
	feed_client(r, S(TXN "x\r\n.\r\nNOOP\r\n"), 0);
	expect_out(r, TXN_OUT "451 4.3.0 Error: queue file write error\n" OK,
	    "commit fails");
	assert_string_equal(F.calls.data, "lookup alice\nopen 1\nwrite\ncommit\n");
	finish(r);
}

/* Lookups answered later: the session stops consuming and resumes. */
static void
test_async_user(void **state)
{
	static const char in[] = RCPT_IN "RCPT TO:<bob@mydomain.test>\r\n"
	    "RCPT TO:<carol@mydomain.test>\r\nDATA\r\n";
	struct run *r = start(STRANGER, NULL);
	size_t pos = 0, n;

	(void)state;
	feed(r, S(EHLO_IN MAIL_IN), 0);
	F.async_user = 1;
	n = smtp_session_feed(&r->s, in, sizeof(in) - 1);
	assert_int_equal(n, sizeof(RCPT_IN) - 1);
	assert_int_equal(r->s.wait, SMTP_WAIT_USER);
	assert_string_equal(F.looked_up, "alice");
	/* busy: nothing is consumed, nothing is said */
	assert_int_equal(smtp_session_feed(&r->s, in + n, sizeof(in) - 1 - n), 0);
	drain(r);
	expect_out(r, GREET EHLO_OUT MAIL_OK, "waiting");
	pos = n;
	smtp_session_user_result(&r->s, OUTCOME_OK);
	assert_int_equal(r->s.wait, SMTP_WAIT_NONE);
	n = smtp_session_feed(&r->s, in + pos, sizeof(in) - 1 - pos);
	pos += n;
	assert_string_equal(F.looked_up, "bob");
	smtp_session_user_result(&r->s, OUTCOME_OK);
	/* a late duplicate answer is ignored */
	smtp_session_user_result(&r->s, OUTCOME_PERM);
	n = smtp_session_feed(&r->s, in + pos, sizeof(in) - 1 - pos);
	pos += n;
	assert_string_equal(F.looked_up, "carol");
	smtp_session_user_result(&r->s, OUTCOME_PERM);
	n = smtp_session_feed(&r->s, in + pos, sizeof(in) - 1 - pos);
	pos += n;
	assert_int_equal(pos, sizeof(in) - 1);
	drain(r);
	expect_out(r, GREET EHLO_OUT MAIL_OK RCPT_OK RCPT_OK
	    UNKNOWN("carol@mydomain.test") GO, "async lookups");
	assert_int_equal(r->s.txn.nrcpts, 2);
	finish(r);
}

static void
test_async_commit(void **state)
{
	static const char in[] = "hello\r\n.\r\n" MAIL_IN "QUIT\r\n";
	struct run *r = start(STRANGER, NULL);
	size_t n, m;

	(void)state;
	feed(r, S(TXN), 0);
	F.async_commit = 1;
	n = smtp_session_feed(&r->s, in, sizeof(in) - 1);
	assert_int_equal(n, 10);	/* up to and including ".\r\n" */
	assert_int_equal(r->s.wait, SMTP_WAIT_COMMIT);
	assert_int_equal(smtp_session_feed(&r->s, in + n, sizeof(in) - 1 - n), 0);
	drain(r);
	expect_out(r, TXN_OUT, "before commit");
	smtp_session_commit_result(&r->s, 1, "Q1");
	m = smtp_session_feed(&r->s, in + n, sizeof(in) - 1 - n);
	assert_int_equal(n + m, sizeof(in) - 1);
	drain(r);
	expect_out(r, TXN_OUT "250 2.0.0 Ok: queued as Q1\n" MAIL_OK BYE,
	    "after commit");
	assert_true(r->s.close);
	finish(r);
}

static void
test_max_errors(void **state)
{
	struct run *r;
	size_t step;

	(void)state;
	cfg->max_errors = 3;
	for (step = 0; step <= 1; step++) {
		r = start(STRANGER, NULL);
		feed(r, S("FOO\r\nNOOP\r\nMAIL FROM:<a@b.example>\r\n"
		    "BAR\r\nNOOP\r\n"), step);
		expect_out(r, GREET "500 5.5.1 Error: command not recognized\n"
		    OK "503 5.5.1 Error: send HELO/EHLO first\n"
		    "500 5.5.1 Error: command not recognized\n"
		    "421 4.7.0 " HOST " Error: too many errors\n", "max errors");
		assert_true(r->s.close);
		assert_true(r->consumed < sizeof("FOO\r\nNOOP\r\nMAIL "
		    "FROM:<a@b.example>\r\nBAR\r\nNOOP\r\n") - 1);
		finish(r);
	}
	/* rcpt rejects count too */
	r = start(STRANGER, NULL);
	feed(r, S(EHLO_IN MAIL_IN "RCPT TO:<a@x.example>\r\n"
	    "RCPT TO:<b@x.example>\r\nRCPT TO:<nobody@mydomain.test>\r\n"
	    RCPT_IN), 0);
	expect_out(r, GREET EHLO_OUT MAIL_OK
	    "554 5.7.1 Relay access denied\n554 5.7.1 Relay access denied\n"
	    UNKNOWN("nobody@mydomain.test")
	    "421 4.7.0 " HOST " Error: too many errors\n", "rcpt errors");
	finish(r);
	cfg->max_errors = 20;
}

static void
test_timeout_shutdown_deny(void **state)
{
	struct run *r;

	(void)state;
	r = start(STRANGER, NULL);
	smtp_session_timeout(&r->s);
	smtp_session_timeout(&r->s);
	assert_int_equal(smtp_session_feed(&r->s, "NOOP\r\n", 6), 0);
	drain(r);
	expect_out(r, GREET "421 4.4.2 " HOST " Error: timeout exceeded\n",
	    "timeout");
	assert_true(r->s.close);
	finish(r);

	/* a timeout in DATA throws the message away */
	r = start(STRANGER, NULL);
	feed(r, S(TXN), 0);
	feed(r, S("partial"), 0);
	smtp_session_timeout(&r->s);
	drain(r);
	expect_out(r, TXN_OUT "421 4.4.2 " HOST " Error: timeout exceeded\n",
	    "data timeout");
	assert_string_equal(F.calls.data, "lookup alice\nopen 1\nwrite\nabort\n");
	finish(r);
	assert_string_equal(F.calls.data, "lookup alice\nopen 1\nwrite\nabort\n");

	r = start(STRANGER, NULL);
	smtp_session_shutdown(&r->s);
	drain(r);
	expect_out(r, GREET "421 4.3.2 " HOST " Service shutting down\n",
	    "shutdown");
	assert_true(r->s.close);
	finish(r);

	r = start("10.1.2.3", "Access denied");
	drain(r);
	expect_out(r, "554 5.7.1 Access denied\n", "deny");
	assert_true(r->s.close);
	assert_int_equal(smtp_session_feed(&r->s, "EHLO x\r\n", 8), 0);
	finish(r);

	/* free during DATA aborts the message */
	r = start(STRANGER, NULL);
	feed(r, S(TXN), 0);
	feed(r, S("partial\r\n"), 0);
	finish(r);
	assert_string_equal(F.calls.data, "lookup alice\nopen 1\nwrite\nabort\n");

	/* before start nothing is consumed */
	{
		struct smtp_session *s = calloc(1, sizeof(*s));
		struct relay_client c;

		assert_non_null(s);
		memset(&c, 0, sizeof(c));
		smtp_session_init(s, cfg, &policy, &c, &fake_ops, &F);
		assert_int_equal(smtp_session_feed(s, "NOOP\r\n", 6), 0);
		assert_string_equal(s->client_text, "[unknown]");
		smtp_session_free(s);
		free(s);
	}
}

/* A client that never reads: the session stops at the high-water mark. */
static void
test_highwater(void **state)
{
	struct run *r = start(STRANGER, NULL);
	struct buf in;
	size_t i, n, pos = 0, rounds = 0;

	(void)state;
	buf_init(&in, 1 << 22);
	for (i = 0; i < 20000; i++)
		buf_appends(&in, "NOOP\r\n");
	drain(r);
	n = smtp_session_feed(&r->s, in.data, in.len);
	assert_true(n < in.len);
	assert_true(r->s.out.len >= SMTP_OUT_HIGHWATER);
	assert_true(r->s.out.len < SMTP_OUT_HIGHWATER + 100);
	assert_int_equal(smtp_session_feed(&r->s, in.data + n, in.len - n), 0);
	pos = n;
	while (pos < in.len) {
		drain(r);
		pos += smtp_session_feed(&r->s, in.data + pos, in.len - pos);
		assert_true(++rounds < 100);
	}
	drain(r);
	assert_int_equal(r->out.len, sizeof(GREET) + 20000 * 14);
	buf_free(&in);
	finish(r);
}

/* Content already received but not passed to this feed() (the caller's
 * chunk ended right after DATA) is still a synchronization error. */
static void
test_more_input(void **state)
{
	struct run *r = start(STRANGER, NULL);

	(void)state;
	feed(r, S(EHLO_IN MAIL_IN RCPT_IN), 0);
	r->s.more_input = 7;
	feed(r, S("DATA\r\n"), 0);
	expect_out(r, GREET EHLO_OUT MAIL_OK RCPT_OK
	    "554 5.5.0 Error: SMTP protocol synchronization\n", "more input");
	assert_true(r->s.close);
	assert_null(strstr(F.calls.data, "open"));
	finish(r);
}

/* Pipelined group + DATA followed only by content in a later read: OK. */
static void
test_pipelined_group(void **state)
{
	struct run *r = start(STRANGER, NULL);

	(void)state;
	feed(r, S(EHLO_IN), 0);
	feed(r, S("RSET\r\n" MAIL_IN RCPT_IN "RCPT TO:<x@y.example>\r\n"
	    "DATA\r\n"), 0);
	feed(r, S("hi\r\n.\r\n"), 0);
	feed(r, S("QUIT\r\n"), 0);
	expect_out(r, GREET EHLO_OUT OK MAIL_OK RCPT_OK
	    "554 5.7.1 Relay access denied\n" GO QUEUED BYE, "pipelined group");
	finish(r);
}

/* STARTTLS: offered only with a context; nothing behind it is read in
 * clear; after the handshake the session starts over (RFC 3207 4.2). */
static void
test_starttls(void **state)
{
	static const char in[] = "EHLO c\r\nMAIL FROM:<a@b>\r\nSTARTTLS\r\n"
	    "RSET\r\nMAIL FROM:<x@y>\r\n";
	struct run *r;
	size_t used;

	(void)state;
	r = start(STRANGER, NULL);
	r->s.tls_available = 1;
	used = smtp_session_feed(&r->s, in, sizeof(in) - 1);
	drain(r);
	/* Consumed up to and including the STARTTLS line, not a byte more. */
	assert_int_equal(used, strlen("EHLO c\r\nMAIL FROM:<a@b>\r\nSTARTTLS\r\n"));
	assert_int_equal(r->s.wait, SMTP_WAIT_TLS);
	assert_non_null(strstr(r->out.data, "250-STARTTLS\r\n"));
	assert_non_null(strstr(r->out.data, "220 2.0.0 Ready to start TLS\r\n"));
	assert_null(strstr(r->out.data, "250 2.0.0 Ok\r\n"));	/* no RSET reply */
	assert_non_null(strstr(F.logs.data, "bytes pipelined behind STARTTLS"));
	assert_int_equal(smtp_session_feed(&r->s, "NOOP\r\n", 6), 0);
	smtp_session_tls_started(&r->s, "TLSv1.3 TEST");
	assert_int_equal(r->s.state, SMTP_STATE_READY);
	assert_int_equal(r->s.tls_active, 1);
	r->out.len = 0;
	feed(r, "MAIL FROM:<a@b>\r\nEHLO c\r\nSTARTTLS\r\n", 35, 0);
	expect_out(r, "503 5.5.1 Error: send HELO/EHLO first\n"
	    "250-mx.test\n250-PIPELINING\n250-SIZE 10000\n250-8BITMIME\n"
	    "250-ENHANCEDSTATUSCODES\n250 HELP\n"
	    "503 5.5.1 Error: TLS already active\n", "after TLS");
	finish(r);
	r = start(STRANGER, NULL);
	feed(r, "EHLO c\r\nSTARTTLS x\r\nSTARTTLS\r\n", 30, 0);
	assert_null(strstr(r->out.data, "250-STARTTLS"));
	assert_non_null(strstr(r->out.data, "501 5.5.4 Syntax: STARTTLS\r\n"));
	assert_non_null(strstr(r->out.data, "454 4.7.0 TLS not available\r\n"));
	finish(r);
}

/* Submission: AUTH only over TLS, MAIL only after AUTH, and the sender
 * must be the user's own address. "AGFsaWNlAHB3" is "\\0alice\\0pw". */
static void
test_auth_submission(void **state)
{
	struct run *r;

	(void)state;
	r = start(STRANGER, NULL);
	r->s.submission = 1;
	feed(r, "EHLO c\r\nAUTH PLAIN AGFsaWNlAHB3\r\nMAIL FROM:<alice@mydomain.test>\r\n",
	    67, 0);
	assert_null(strstr(r->out.data, "250-AUTH"));
	assert_non_null(strstr(r->out.data, "538 5.7.11 Encryption required"));
	assert_non_null(strstr(r->out.data, "530 5.7.0 Authentication required\r\n"));
	finish(r);

	cfg->submission_sender_check = 1;
	r = start(STRANGER, NULL);
	r->s.submission = 1;
	r->s.tls_active = 1;
	feed(r, "EHLO c\r\n", strlen("EHLO c\r\n"), 0);
	assert_non_null(strstr(r->out.data, "250-AUTH SCRAM-SHA-256 PLAIN LOGIN CRAM-MD5\r\n"));
	r->out.len = 0;
	feed(r, "AUTH PLAIN AGFsaWNlAHdyb25n\r\n", strlen("AUTH PLAIN AGFsaWNlAHdyb25n\r\n"), 0);	/* \\0alice\\0wrong */
	expect_out(r, "535 5.7.8 Authentication credentials invalid\n", "bad password");
	r->out.len = 0;
	feed(r, "AUTH PLAIN\r\nAGFsaWNlAHB3\r\nAUTH PLAIN AGFsaWNlAHB3\r\n"
	    "MAIL FROM:<bob@mydomain.test>\r\nMAIL FROM:<Alice@MYDOMAIN.test>\r\n"
	    "RCPT TO:<someone@example.net>\r\n", strlen("AUTH PLAIN\r\nAGFsaWNlAHB3\r\nAUTH PLAIN AGFsaWNlAHB3\r\n"
	    "MAIL FROM:<bob@mydomain.test>\r\nMAIL FROM:<Alice@MYDOMAIN.test>\r\n"
	    "RCPT TO:<someone@example.net>\r\n"), 0);
	expect_out(r, "334 \n235 2.7.0 Authentication successful\n"
	    "503 5.5.1 Error: already authenticated\n"
	    "553 5.7.1 <bob@mydomain.test>: Sender address rejected: not owned "
	    "by user alice\n250 2.1.0 Ok\n250 2.1.5 Ok\n", "authenticated");
	assert_non_null(strstr(F.logs.data, "rule=\"authenticated alice\""));
	finish(r);
	cfg->submission_sender_check = 0;

	/* Not a submission listener: no AUTH at all. */
	r = start(STRANGER, NULL);
	r->s.tls_active = 1;
	feed(r, "EHLO c\r\nAUTH PLAIN AGFsaWNlAHB3\r\n", strlen("EHLO c\r\nAUTH PLAIN AGFsaWNlAHB3\r\n"), 0);
	assert_null(strstr(r->out.data, "250-AUTH"));
	assert_non_null(strstr(r->out.data, "503 5.5.1 Error: authentication not enabled"));
	finish(r);
}

/* A bounce to one of our SRS addresses: relayed back to the original
 * sender for a stranger; a forged one is refused at RCPT. */
static void
test_srs_rcpt(void **state)
{
	static const char in[] = "EHLO c\r\nMAIL FROM:<>\r\n"
	    "RCPT TO:<SRS0=good=aa=sender.example=carol@mydomain.test>\r\n"
	    "RCPT TO:<SRS0=bad=aa=sender.example=carol@mydomain.test>\r\n";
	struct run *r;

	(void)state;
	r = start(STRANGER, NULL);
	feed(r, in, strlen(in), 0);
	assert_non_null(strstr(r->out.data, "250 2.1.5 Ok"));
	assert_non_null(strstr(r->out.data, "550 5.1.1 <SRS0=bad="));
	assert_int_equal(r->s.txn.nrcpts, 1);
	assert_int_equal(r->s.txn.rcpts[0].kind, RELAY_ACCEPT_RELAY);
	assert_string_equal(r->s.txn.rcpts[0].addr.local, "carol");
	assert_string_equal(r->s.txn.rcpts[0].addr.domain, "sender.example");
	assert_non_null(strstr(F.logs.data, "decision=accept-srs"));
	finish(r);
}

/* rcpt_check refuses after the relay policy accepted, postmaster aside. */
static void
test_rcpt_check(void **state)
{
	static const char in[] = "EHLO c\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<bob@mydomain.test>\r\n"
	    "RCPT TO:<Postmaster@mydomain.test>\r\n"
	    "RCPT TO:<postmaster>\r\n";
	struct run *r;

	(void)state;
	refuse_rcpts = 1;
	r = start(STRANGER, NULL);
	feed(r, in, strlen(in), 0);
	assert_non_null(strstr(r->out.data, "451 4.7.1 Greylisted"));
	assert_int_equal(r->s.txn.nrcpts, 1);
	assert_true(r->s.txn.rcpts[0].addr.is_postmaster == 0);
	assert_non_null(strstr(F.logs.data, "decision=reject rule=\"greylist\""));
	finish(r);
	refuse_rcpts = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rcpt_check),
		cmocka_unit_test(test_dialogues),
		cmocka_unit_test(test_srs_rcpt),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_auth_submission),
		cmocka_unit_test(test_content_written),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_logs),
		cmocka_unit_test(test_command_length),
		cmocka_unit_test(test_data_limits),
		cmocka_unit_test(test_hop_limit),
		cmocka_unit_test(test_disk_errors),
		cmocka_unit_test(test_async_user),
		cmocka_unit_test(test_async_commit),
		cmocka_unit_test(test_max_errors),
		cmocka_unit_test(test_timeout_shutdown_deny),
		cmocka_unit_test(test_highwater),
		cmocka_unit_test(test_pipelined_group),
		cmocka_unit_test(test_more_input),
	};
	int rc;

	rc = cmocka_run_group_tests(tests, setup, teardown);
	buf_free(&F.calls);
	buf_free(&F.message);
	buf_free(&F.logs);
	return rc;
}
