/* test_imap_session - IMAP dialogues over a real temporary Maildir (the
 * real imap_store, imap_parse and imap_fetch), with fake ops for the
 * credentials: greeting and CAPABILITY before and after TLS / login,
 * LOGIN and AUTHENTICATE PLAIN (SASL-IR, continuation, abort), failures,
 * SELECT / EXAMINE, FETCH, STORE, EXPUNGE, APPEND with a literal, IDLE
 * with imap_session_changed, BAD cases and the error limit; the main
 * dialogue fed whole and byte by byte. */
#include "unit.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>
#include "imap_session.h"

struct world {
	struct imap_session	 s;
	char			 dir[64];	/* the Maildir */
	int			 outcome;	/* check_password's answer */
	int			 checks;
	char			 last_user[80];
	int			 watched;	/* last watch() fd */
	int			 watches;
	int			 scram_steps, scram_aborts;
	struct buf		 log;
	struct buf		 tr;		/* everything the server sent */
	size_t			 max_out;
};

static void
op_check(void *arg, const char *user, const char *pass)
{
	struct world *w = arg;

	w->checks++;
	(void)xsnprintf(w->last_user, sizeof(w->last_user), "%s", user);
	if (strcmp(user, "alice") == 0 && strcmp(pass, "wonderland") == 0)
		imap_session_auth_result(&w->s, w->outcome, NULL);
	else
		imap_session_auth_result(&w->s, w->outcome == OUTCOME_OK ?
		    OUTCOME_DENIED : w->outcome, NULL);
}

/* A fake auth process: step 1 "n,,n=alice,r=c" answers "r=cs,s=x,i=1";
 * step 2 "c=biws,r=cs,p=ok" answers "v=good" and alice; else denied. */
static void
op_scram_step(void *arg, int step, const char *msg, size_t len)
{
	struct world *w = arg;

	w->scram_steps++;
	if (step == 1 && len == 14 && memcmp(msg, "n,,n=alice,r=c", 14) == 0)
		imap_session_sasl_result(&w->s, "r=cs,s=x,i=1", 12);
	else if (step == 2 && len == 16 &&
	    memcmp(msg, "c=biws,r=cs,p=ok", 16) == 0) {
		imap_session_sasl_result(&w->s, "v=good", 6);
		imap_session_auth_result(&w->s, OUTCOME_OK, "alice");
	} else
		imap_session_auth_result(&w->s, OUTCOME_DENIED, NULL);
}

static void
op_scram_abort(void *arg)
{
	struct world *w = arg;

	w->scram_aborts++;
}

static int
op_open_maildir(void *arg, const char *user)
{
	struct world *w = arg;

	assert_string_equal(user, "alice");
	return open(w->dir, O_RDONLY | O_DIRECTORY);
}

static void
op_watch(void *arg, int fd)
{
	struct world *w = arg;

	w->watched = fd;
	w->watches++;
}

static void
op_log(void *arg, const char *line)
{
	struct world *w = arg;

	(void)buf_appends(&w->log, line);
	(void)buf_appends(&w->log, "\n");
}

static const struct imap_session_ops ops = {
	op_check, op_scram_step, op_scram_abort, op_open_maildir, op_watch,
	op_log,
};

static void
put_file(const char *dir, const char *name, const char *body)
{
	char path[256];
	int fd;

	(void)xsnprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
}

static int
count_files(const char *dir, const char *sub)
{
	char path[256];
	DIR *d;
	struct dirent *de;
	int n = 0;

	(void)xsnprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

#define MSG1	"From: a@example.org\r\nSubject: one\r\n\r\nhello\r\n"
#define MSG2	"From: b@example.org\r\nSubject: two\r\n\r\nworld\r\n"
#define MSG3	"From: c@example.org\r\nSubject: three\r\n\r\nthird\r\n"

static void
world_init(struct world *w, int plaintext)
{
	struct imap_settings set;
	char sub[128];
	static const char *subs[] = { "cur", "new", "tmp" };
	size_t i;

	memset(w, 0, sizeof(*w));
	(void)xsnprintf(w->dir, sizeof(w->dir), "/tmp/test_imap_session.XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	for (i = 0; i < 3; i++) {
		(void)xsnprintf(sub, sizeof(sub), "%s/%s", w->dir, subs[i]);
		assert_int_equal(mkdir(sub, 0700), 0);
	}
	put_file(w->dir, "cur/1000.A.host:2,S", MSG1);
	put_file(w->dir, "cur/1001.B.host:2,", MSG2);
	put_file(w->dir, "new/1002.C.host", MSG3);
	w->outcome = OUTCOME_OK;
	w->watched = -2;
	buf_init(&w->log, 1 << 20);
	buf_init(&w->tr, 1 << 24);
	memset(&set, 0, sizeof(set));
	set.hostname = "mail.example";
	set.plaintext_without_tls = plaintext;
	set.max_message_size = 1 << 20;
	set.max_errors = 5;
	imap_session_init(&w->s, &set, "[192.0.2.1]", &ops, w);
	imap_session_start(&w->s);
}

static void
drain(struct world *w)
{
	if (w->s.out.len > w->max_out)
		w->max_out = w->s.out.len;
	assert_int_equal(buf_append(&w->tr, w->s.out.data, w->s.out.len), 0);
	buf_consume(&w->s.out, w->s.out.len);
}

/* Feed in pieces of `step` octets (0: whole), pumping and draining as the
 * connection layer does. */
static void
feed(struct world *w, const char *in, size_t step)
{
	size_t len = strlen(in), off = 0, n, piece;
	int stuck = 0;

	while (off < len) {
		piece = step ? step : len - off;
		if (piece > len - off)
			piece = len - off;
		n = imap_session_feed(&w->s, in + off, piece);
		off += n;
		drain(w);
		while (imap_session_pumping(&w->s)) {
			(void)imap_session_pump(&w->s);
			drain(w);
		}
		if (n == 0) {
			if (w->s.close)
				return;
			assert_true(++stuck < 1000);
		} else
			stuck = 0;
	}
	drain(w);
}

static void
world_free(struct world *w)
{
	char cmd[128];

	imap_session_free(&w->s);
	buf_free(&w->log);
	buf_free(&w->tr);
	(void)xsnprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
	assert_int_equal(system(cmd), 0);
}

static int
has(const struct world *w, const char *needle)
{
	return strstr(w->tr.data ? w->tr.data : "", needle) != NULL;
}

#define HAS(w, s)	do { if (!has((w), (s))) { \
	fprintf(stderr, "missing: %s\n--- transcript:\n%s\n", (s), \
	    (w)->tr.data ? (w)->tr.data : ""); fail(); } } while (0)
#define HASNT(w, s)	do { if (has((w), (s))) { \
	fprintf(stderr, "unexpected: %s\n--- transcript:\n%s\n", (s), \
	    (w)->tr.data); fail(); } } while (0)

static void
reset_tr(struct world *w)
{
	buf_reset(&w->tr);
}

/* ---- tests ---- */

static void
test_greeting_capability(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1);
	drain(&w);
	HAS(&w, "* OK [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ");
	HAS(&w, "AUTH=PLAIN AUTH=SCRAM-SHA-256] postern IMAP4rev2 ready\r\n");
	reset_tr(&w);
	feed(&w, "a1 CAPABILITY\r\n", 0);
	HAS(&w, "* CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ENABLE IDLE NAMESPACE"
	    " UIDPLUS MOVE UNSELECT SPECIAL-USE LIST-EXTENDED LIST-STATUS"
	    " ESEARCH ID CHILDREN AUTH=PLAIN AUTH=SCRAM-SHA-256\r\n");
	HAS(&w, "a1 OK CAPABILITY completed\r\n");
	HASNT(&w, "STARTTLS");
	HASNT(&w, "LOGINDISABLED");
	reset_tr(&w);
	feed(&w, "a2 NOOP\r\na3 ID NIL\r\n", 0);
	HAS(&w, "a2 OK NOOP completed\r\n");
	HAS(&w, "* ID (\"name\" \"postern\")\r\na3 OK");
	reset_tr(&w);
	feed(&w, "a4 LOGOUT\r\n", 0);
	HAS(&w, "* BYE ");
	HAS(&w, "a4 OK LOGOUT completed\r\n");
	assert_true(w.s.close);
	world_free(&w);
}

static void
test_tls_policy(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 0);
	w.s.tls_available = 1;
	feed(&w, "a CAPABILITY\r\n", 0);
	HAS(&w, " STARTTLS LOGINDISABLED AUTH=SCRAM-SHA-256\r\n");
	HASNT(&w, "AUTH=PLAIN");
	reset_tr(&w);
	feed(&w, "b LOGIN alice wonderland\r\n", 0);
	HAS(&w, "b NO [PRIVACYREQUIRED]");
	assert_int_equal(w.checks, 0);
	reset_tr(&w);
	feed(&w, "c STARTTLS\r\n", 0);
	HAS(&w, "c OK Begin TLS");
	assert_int_equal(w.s.state, IMAP_STATE_TLS_WAIT);
	assert_int_equal(imap_session_feed(&w.s, "x", 1), 0);
	imap_session_tls_started(&w.s);
	assert_int_equal(w.s.state, IMAP_STATE_NOT_AUTH);
	reset_tr(&w);
	feed(&w, "d CAPABILITY\r\n", 0);
	HAS(&w, "AUTH=PLAIN AUTH=SCRAM-SHA-256\r\n");
	HASNT(&w, "STARTTLS");
	HASNT(&w, "LOGINDISABLED");
	reset_tr(&w);
	feed(&w, "e LOGIN alice wonderland\r\n", 1);
	HAS(&w, "e OK [CAPABILITY IMAP4rev2");
	HASNT(&w, "AUTH=");
	assert_int_equal(w.s.state, IMAP_STATE_AUTH);
	world_free(&w);
}

static void
test_login_failures(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1);
	feed(&w, "a LOGIN alice wrong\r\n", 0);
	HAS(&w, "a NO [AUTHENTICATIONFAILED]");
	assert_int_equal(w.s.state, IMAP_STATE_NOT_AUTH);
	assert_string_equal(w.s.user, "");
	w.outcome = OUTCOME_TEMP;
	feed(&w, "b LOGIN alice wonderland\r\n", 0);
	HAS(&w, "b NO [UNAVAILABLE]");
	HASNT(&w, "wonderland");
	assert_null(strstr(w.log.data ? w.log.data : "", "wonderland"));
	world_free(&w);
}

static void
test_authenticate_plain(void **state)
{
	struct world w;

	(void)state;
	/* "\0alice\0wonderland" */
	world_init(&w, 1);
	feed(&w, "a AUTHENTICATE PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n", 0);
	HAS(&w, "a OK [CAPABILITY ");
	assert_string_equal(w.s.user, "alice");
	world_free(&w);

	world_init(&w, 1);
	feed(&w, "b AUTHENTICATE PLAIN\r\n", 0);
	HAS(&w, "+ \r\n");
	assert_int_equal(w.s.state, IMAP_STATE_SASL);
	feed(&w, "AGFsaWNlAHdvbmRlcmxhbmQ=\r\n", 0);
	HAS(&w, "b OK [CAPABILITY ");
	world_free(&w);

	world_init(&w, 1);
	feed(&w, "c AUTHENTICATE PLAIN\r\n*\r\n", 0);
	HAS(&w, "c BAD ");
	assert_int_equal(w.s.state, IMAP_STATE_NOT_AUTH);
	feed(&w, "d AUTHENTICATE PLAIN AGFsaWNlAHdyb25n\r\n", 0);
	HAS(&w, "d NO [AUTHENTICATIONFAILED]");
	feed(&w, "e AUTHENTICATE X-UNKNOWN\r\n", 0);
	HAS(&w, "e NO ");
	world_free(&w);
}

/* base64: "n,,n=alice,r=c" "c=biws,r=cs,p=ok" "r=cs,s=x,i=1" "v=good" */
#define SC1	"biwsbj1hbGljZSxyPWM="
#define SC2	"Yz1iaXdzLHI9Y3MscD1vaw=="
#define SS1	"cj1jcyxzPXgsaT0x"
#define SS2	"dj1nb29k"

static void
test_authenticate_scram(void **state)
{
	struct world w;
	size_t step;

	(void)state;
	for (step = 0; step < 2; step++) {
		world_init(&w, 0);
		feed(&w, "a AUTHENTICATE SCRAM-SHA-256 " SC1 "\r\n", step);
		HAS(&w, "+ " SS1 "\r\n");
		assert_int_equal(w.s.state, IMAP_STATE_SASL);
		feed(&w, SC2 "\r\n", step);
		HAS(&w, "+ " SS2 "\r\n");
		assert_int_equal(w.s.state, IMAP_STATE_SASL);
		HASNT(&w, "a OK");
		feed(&w, "\r\n", step);
		HAS(&w, "a OK [CAPABILITY ");
		assert_string_equal(w.s.user, "alice");
		assert_int_equal(w.scram_steps, 2);
		world_free(&w);
	}

	world_init(&w, 0);
	feed(&w, "b AUTHENTICATE SCRAM-SHA-256\r\n", 0);
	HAS(&w, "+ \r\n");
	feed(&w, SC1 "\r\n", 0);
	HAS(&w, "+ " SS1 "\r\n");
	feed(&w, "*\r\n", 0);
	HAS(&w, "b BAD ");
	assert_int_equal(w.scram_aborts, 1);
	assert_int_equal(w.s.state, IMAP_STATE_NOT_AUTH);
	feed(&w, "c AUTHENTICATE SCRAM-SHA-256 " SC1 "\r\nYz1iaXdz\r\n", 0);
	HAS(&w, "c NO [AUTHENTICATIONFAILED]");
	feed(&w, "d AUTHENTICATE SCRAM-SHA-256 !!!\r\n", 0);
	HAS(&w, "d BAD ");
	feed(&w, "e AUTHENTICATE PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n", 0);
	HAS(&w, "e NO [PRIVACYREQUIRED]");
	world_free(&w);
}

static void
test_bad_cases(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1);
	feed(&w, "a FROBNICATE\r\n", 0);
	HAS(&w, "a BAD ");
	feed(&w, "b SELECT INBOX\r\n", 0);
	HAS(&w, "b BAD Command not valid in this state\r\n");
	feed(&w, "c LOGIN alice wonderland\r\n", 0);
	HAS(&w, "c OK ");
	feed(&w, "d FETCH 1 FLAGS\r\n", 0);
	HAS(&w, "d BAD Command not valid in this state\r\n");
	feed(&w, "e LOGIN alice wonderland\r\n", 0);
	HAS(&w, "e BAD Command not valid in this state\r\n");
	feed(&w, "f SELECT\r\n", 0);
	HAS(&w, "f BAD ");
	feed(&w, "g SELECT nosuch\r\n", 0);
	HAS(&w, "g NO [NONEXISTENT]");
	feed(&w, "h UID FROB 1\r\n", 0);
	HAS(&w, "h BAD ");
	assert_false(w.s.close);
	world_free(&w);
}

static void
test_append_refusals(void **state)
{
	struct world w;
	size_t step;

	(void)state;
	for (step = 0; step < 2; step++) {
		world_init(&w, 1);
		feed(&w, "a APPEND INBOX {3}\r\n", step);
		HAS(&w, "a BAD Command not valid in this state\r\n");
		HASNT(&w, "+ Ready");
		feed(&w, "b LOGIN alice wonderland\r\n", step);
		HAS(&w, "b OK ");
		feed(&w, "c APPEND nosuch {3}\r\n", step);
		HAS(&w, "+ ");
		feed(&w, "abc\r\n", step);
		HAS(&w, "c NO [TRYCREATE]");
		feed(&w, "d APPEND INBOX {99999999}\r\n", step);
		HAS(&w, " [TOOBIG] ");
		HASNT(&w, "d OK");
		feed(&w, "e NOOP\r\n", step);
		HAS(&w, "e OK NOOP completed\r\n");
		world_free(&w);
	}
}

static void
test_too_many_errors(void **state)
{
	struct world w;
	int i;

	(void)state;
	world_init(&w, 1);
	for (i = 0; i < 5 && !w.s.close; i++)
		feed(&w, "x BLAH\r\n", 0);
	assert_true(w.s.close);
	HAS(&w, "* BYE ");
	world_free(&w);
}

/* The main dialogue, fed in pieces of `step`. */
static void
dialogue(size_t step)
{
	struct world w;

	world_init(&w, 1);
	feed(&w, "a LOGIN alice wonderland\r\n", step);
	HAS(&w, "a OK [CAPABILITY ");
	feed(&w, "b SELECT INBOX\r\n", step);
	HAS(&w, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
	HAS(&w, "* 3 EXISTS\r\n");
	HAS(&w, "* 0 RECENT\r\n");
	HAS(&w, "* OK [UIDVALIDITY ");
	HAS(&w, "* OK [UIDNEXT ");
	HAS(&w, "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted"
	    " \\Draft)]");
	HAS(&w, "b OK [READ-WRITE] SELECT completed\r\n");
	assert_true(w.watched >= 0);
	assert_int_equal(w.s.state, IMAP_STATE_SELECTED);

	reset_tr(&w);
	feed(&w, "c FETCH 1:* (FLAGS)\r\n", step);
	HAS(&w, "* 1 FETCH (FLAGS (\\Seen))\r\n");
	HAS(&w, "* 2 FETCH (FLAGS ())\r\n");
	HAS(&w, "c OK FETCH completed\r\n");

	reset_tr(&w);
	feed(&w, "d FETCH 2 BODY[]\r\n", step);
	HAS(&w, "Subject: two");
	HAS(&w, "\\Seen");
	HAS(&w, "d OK FETCH completed\r\n");

	reset_tr(&w);
	feed(&w, "e STORE 1 +FLAGS (\\Deleted)\r\n", step);
	HAS(&w, "* 1 FETCH (FLAGS (\\Seen \\Deleted))\r\n");
	HAS(&w, "e OK STORE completed\r\n");
	reset_tr(&w);
	feed(&w, "f STORE 3 FLAGS.SILENT (\\Flagged)\r\n", step);
	HASNT(&w, "FETCH");
	HAS(&w, "f OK STORE completed\r\n");

	reset_tr(&w);
	feed(&w, "g EXPUNGE\r\n", step);
	HAS(&w, "* 1 EXPUNGE\r\ng OK EXPUNGE completed\r\n");
	assert_int_equal(count_files(w.dir, "cur") + count_files(w.dir, "new"), 2);

	reset_tr(&w);
	feed(&w, "h SEARCH FLAGGED\r\n", step);
	HAS(&w, "* SEARCH 2\r\n");
	HAS(&w, "h OK SEARCH completed\r\n");

	reset_tr(&w);
	feed(&w, "i APPEND INBOX (\\Seen) {7}\r\n", step);
	HAS(&w, "+ ");
	feed(&w, "hello\r\n\r\n", step);
	HAS(&w, "i OK [APPENDUID ");
	HAS(&w, "* 3 EXISTS\r\n");

	reset_tr(&w);
	feed(&w, "j APPEND nosuch {3}\r\nabc\r\n", step);
	HAS(&w, "j NO [TRYCREATE]");

	reset_tr(&w);
	feed(&w, "k UID FETCH 1:* (UID FLAGS)\r\n", step);
	HAS(&w, "k OK UID FETCH completed\r\n");

	reset_tr(&w);
	feed(&w, "l CLOSE\r\n", step);
	HAS(&w, "l OK CLOSE completed\r\n");
	assert_int_equal(w.s.state, IMAP_STATE_AUTH);
	assert_int_equal(w.watched, -1);

	reset_tr(&w);
	feed(&w, "m EXAMINE INBOX\r\n", step);
	HAS(&w, "* OK [PERMANENTFLAGS ()]");
	HAS(&w, "m OK [READ-ONLY] EXAMINE completed\r\n");
	feed(&w, "n STORE 1 +FLAGS (\\Deleted)\r\n", step);
	HAS(&w, "n NO ");

	reset_tr(&w);
	feed(&w, "o LOGOUT\r\n", step);
	HAS(&w, "* BYE ");
	HAS(&w, "o OK LOGOUT completed\r\n");
	assert_true(w.max_out <= IMAP_OUT_MAX);
	world_free(&w);
}

static void
test_dialogue_whole(void **state)
{
	(void)state;
	dialogue(0);
}

static void
test_dialogue_bytes(void **state)
{
	(void)state;
	dialogue(1);
}

static void
test_dialogue_sevens(void **state)
{
	(void)state;
	dialogue(7);
}

/* 120 messages of 3000 octets: the response crosses the high-water mark
 * many times; out stays bounded and every message comes out once. */
static void
test_fetch_pumped(void **state)
{
	struct world w;
	char name[64], *body;
	size_t i, n = 0;
	const char *p;

	(void)state;
	world_init(&w, 1);
	body = calloc(1, 3001);
	assert_non_null(body);
	memcpy(body, "Subject: big\r\n\r\n", 16);
	memset(body + 16, 'x', 3000 - 18);
	memcpy(body + 2998, "\r\n", 2);
	for (i = 0; i < 120; i++) {
		(void)xsnprintf(name, sizeof(name), "cur/2%03zu.X.host:2,", i);
		put_file(w.dir, name, body);
	}
	free(body);
	feed(&w, "a LOGIN alice wonderland\r\nb SELECT INBOX\r\n", 0);
	HAS(&w, "* 123 EXISTS\r\n");
	reset_tr(&w);
	w.max_out = 0;
	feed(&w, "c FETCH 1:* BODY[]\r\nd NOOP\r\n", 0);
	HAS(&w, "c OK FETCH completed\r\nd OK NOOP completed\r\n");
	for (p = w.tr.data; (p = strstr(p, " FETCH (")) != NULL; p++)
		n++;
	assert_int_equal(n, 123);
	assert_true(w.max_out <= IMAP_OUT_HIGHWATER + 16384);
	/* the room the big response took was given back by the next command */
	reset_tr(&w);
	feed(&w, "e IDLE\r\n", 0);
	HAS(&w, "+ idling\r\n");
	assert_true(w.s.out.cap <= 4096);
	feed(&w, "DONE\r\n", 0);
	HAS(&w, "e OK IDLE terminated\r\n");
	world_free(&w);
}

static void
test_idle(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1);
	feed(&w, "a LOGIN alice wonderland\r\nb SELECT INBOX\r\n", 0);
	HAS(&w, "b OK [READ-WRITE]");
	reset_tr(&w);
	feed(&w, "c IDLE\r\n", 0);
	HAS(&w, "+ idling\r\n");
	assert_int_equal(w.s.state, IMAP_STATE_IDLE);
	put_file(w.dir, "new/2000.D.host", MSG1);
	imap_session_changed(&w.s);
	drain(&w);
	HAS(&w, "* 4 EXISTS\r\n");
	feed(&w, "DONE\r\n", 0);
	HAS(&w, "c OK IDLE terminated\r\n");
	assert_int_equal(w.s.state, IMAP_STATE_SELECTED);

	reset_tr(&w);
	feed(&w, "d IDLE\r\nnonsense\r\n", 0);
	HAS(&w, "d BAD ");
	assert_int_equal(w.s.state, IMAP_STATE_SELECTED);

	/* a change outside IDLE shows before the next tagged OK */
	reset_tr(&w);
	put_file(w.dir, "new/2001.E.host", MSG2);
	imap_session_changed(&w.s);
	drain(&w);
	assert_int_equal(w.tr.len, 0);
	feed(&w, "e NOOP\r\n", 0);
	HAS(&w, "* 5 EXISTS\r\ne OK NOOP completed\r\n");

	/* the line ending IDLE: DONE in pieces, a long wrong line, one
	 * past the limit; the session goes on after each */
	{
		char *big = malloc(40000);
		size_t k;

		assert_non_null(big);
		reset_tr(&w);
		feed(&w, "f IDLE\r\nDONE\r\n", 1);
		HAS(&w, "f OK IDLE terminated\r\n");
		memcpy(big, "g IDLE\r\n", 8);
		for (k = 8; k < 8 + 3000; k++)
			big[k] = 'x';
		memcpy(big + k, "\r\nh NOOP\r\n", sizeof("\r\nh NOOP\r\n"));
		feed(&w, big, 100);
		HAS(&w, "g BAD ");
		HAS(&w, "h OK NOOP completed\r\n");
		reset_tr(&w);
		memcpy(big, "i IDLE\r\n", 8);
		for (k = 8; k < 8 + 20000; k++)
			big[k] = 'x';
		memcpy(big + k, "\r\nj NOOP\r\n", sizeof("\r\nj NOOP\r\n"));
		feed(&w, big, 0);
		HAS(&w, "i BAD Line too long\r\n");
		HAS(&w, "j OK NOOP completed\r\n");
		assert_int_equal(w.s.state, IMAP_STATE_SELECTED);
		free(big);
	}
	world_free(&w);
}

static void
test_mailboxes(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, 1);
	feed(&w, "a LOGIN alice wonderland\r\n", 0);
	reset_tr(&w);
	feed(&w, "b LIST \"\" \"\"\r\n", 0);
	HAS(&w, "* LIST (\\Noselect) \"/\" \"\"\r\nb OK LIST completed\r\n");
	feed(&w, "c CREATE Work\r\n", 0);
	HAS(&w, "c OK CREATE completed\r\n");
	feed(&w, "d CREATE Work\r\n", 0);
	HAS(&w, "d NO [ALREADYEXISTS]");
	reset_tr(&w);
	feed(&w, "e LIST \"\" *\r\n", 0);
	HAS(&w, "\"/\" INBOX\r\n");
	HAS(&w, "\"/\" Work\r\n");
	HAS(&w, "\\Sent");
	reset_tr(&w);
	feed(&w, "f STATUS INBOX (MESSAGES UIDNEXT UNSEEN)\r\n", 0);
	HAS(&w, "* STATUS INBOX (MESSAGES 3 UIDNEXT ");
	HAS(&w, "f OK STATUS completed\r\n");
	feed(&w, "g NAMESPACE\r\n", 0);
	HAS(&w, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	feed(&w, "h ENABLE IMAP4rev2\r\n", 0);
	HAS(&w, "* ENABLED IMAP4rev2\r\n");
	feed(&w, "i DELETE Work\r\n", 0);
	HAS(&w, "i OK DELETE completed\r\n");
	feed(&w, "j SELECT INBOX\r\n", 0);
	HAS(&w, "* LIST () \"/\" INBOX\r\n");
	reset_tr(&w);
	feed(&w, "k COPY 1 Trash\r\n", 0);
	HAS(&w, "k OK [COPYUID ");
	feed(&w, "l MOVE 1 Junk\r\n", 0);
	HAS(&w, "* OK [COPYUID ");
	HAS(&w, "* 1 EXPUNGE\r\n");
	HAS(&w, "l OK MOVE completed\r\n");
	feed(&w, "m COPY 1 Nowhere\r\n", 0);
	HAS(&w, "m NO [TRYCREATE]");
	/* IMAP4rev2 enabled: SEARCH answers with ESEARCH */
	reset_tr(&w);
	feed(&w, "n SEARCH FLAGGED\r\no UID SEARCH FLAGGED\r\n", 0);
	HAS(&w, "* ESEARCH (TAG \"n\")");
	HAS(&w, "* ESEARCH (TAG \"o\") UID");
	HASNT(&w, "* SEARCH");
	HAS(&w, "o OK UID SEARCH completed\r\n");
	feed(&w, "p UNSELECT\r\n", 0);
	HAS(&w, "p OK UNSELECT completed\r\n");
	assert_int_equal(w.s.state, IMAP_STATE_AUTH);
	world_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting_capability),
		cmocka_unit_test(test_tls_policy),
		cmocka_unit_test(test_login_failures),
		cmocka_unit_test(test_authenticate_plain),
		cmocka_unit_test(test_authenticate_scram),
		cmocka_unit_test(test_bad_cases),
		cmocka_unit_test(test_append_refusals),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_dialogue_whole),
		cmocka_unit_test(test_dialogue_bytes),
		cmocka_unit_test(test_dialogue_sevens),
		cmocka_unit_test(test_fetch_pumped),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_mailboxes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
