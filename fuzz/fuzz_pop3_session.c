/* fuzz_pop3_session - the real POP3 session on arbitrary client bytes,
 * with the world (auth, mailbox, message files) faked in memory.
 * Checks beyond "no crash":
 *   - s->out never exceeds POP3_OUT_MAX; feed consumes nothing while an
 *     answer is pending, and nothing once the session is closing;
 *   - the transcript parses as POP3: every line ends in CRLF, each response
 *     starts "+OK" or "-ERR", multi-line responses end with "." and their
 *     lines are dot-stuffed; a RETR of a fixture message unstuffs to its
 *     exact bytes and a TOP to a prefix of them;
 *   - messages are read only between msg_open and msg_close, every open is
 *     closed, update is called only after QUIT in TRANSACTION (UPDATE);
 *   - no peer text other than a validated user name reaches the log
 *     (so no password does: passwords with '!' and the like would show).
 * Byte 0 picks the policy and the fakes' answers, byte 1 the chunk size,
 * byte 2 the length of a 4th message body taken from the end of the input
 * (odd: the fake reads at most 7 octets at a time).
 * Build: clang -fsanitize=fuzzer,address; or with -DFUZZ_STANDALONE as a
 * corpus runner for gcc. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "pop3_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fmsg {
	const char	*name;
	const char	*body;
	size_t		 len;
	int		 clean;		/* CRLF lines, ends in CRLF: RETR == body */
};

static struct fmsg fmsgs[] = {
	{ "new/1000.A.host,S=23", "Subject: one\r\n\r\nhello\r\n", 23, 1 },
	{ "new/1001.B.host", "Subject: dots\r\n\r\n.\r\n..\r\n.x\r\nend\r\n",
	    33, 1 },
	{ "cur/1002.C.host:2,S", "Subject: three\r\nX: y\r\n", 22, 1 },
	{ "new/1003.D.host", NULL, 0, 0 },	/* from the input */
};
#define NMSGS	(sizeof(fmsgs) / sizeof(fmsgs[0]))
#define MAXOPENS	4096

static struct pop3_session s;
static struct mailbox mb;
static unsigned flags;
static int pending;		/* 0, 1 auth, 2 mailbox */
static int pending_r;
static const struct fmsg *cur;
static size_t cur_off;
static int opens, closes;
static int open_seq[MAXOPENS];	/* fmsgs index of each successful open */
static int nopen_seq;
static struct buf tr;		/* transcript */
static int short_reads;

static void
answer(int kind, int r)
{
	if (flags & 0x02) {
		if (pending)
			abort();
		pending = kind;
		pending_r = r;
		return;
	}
	if (kind == 1)
		pop3_session_auth_result(&s, r);
	else
		pop3_session_mailbox_result(&s, r, r == OUTCOME_OK ? &mb : NULL);
}

static int
auth_mode(int ok)
{
	switch ((flags >> 2) & 3) {
	case 1:		return OUTCOME_TEMP;
	case 2:		return POP3_IN_USE;
	case 3:		return OUTCOME_PERM;
	default:	return ok ? OUTCOME_OK : POP3_BAD;
	}
}

static void
f_check_password(void *arg, const char *user, const char *pass)
{
	(void)arg;
	if (s.state != POP3_STATE_AUTH_WAIT || s.set.auth != POP3_AUTH_ANY)
		abort();
	answer(1, auth_mode(strcmp(user, "alice") == 0 &&
	    strcmp(pass, "wonderland") == 0));
}

static void
f_check_apop(void *arg, const char *user, const char *ts, const char *digest)
{
	(void)arg;
	if (s.state != POP3_STATE_AUTH_WAIT ||
	    !apop_digest_valid(digest, strlen(digest)) ||
	    strcmp(ts, s.timestamp) != 0)
		abort();
	answer(1, auth_mode(strcmp(user, "alice") == 0 &&
	    apop_check(ts, strlen(ts), "alice-apop", 10, digest,
	    strlen(digest)) == 1));
}

static void
f_open_mailbox(void *arg, const char *user)
{
	static const int m[] = { OUTCOME_OK, POP3_IN_USE,
	    OUTCOME_TEMP, OUTCOME_OK };

	(void)arg;
	if (s.state != POP3_STATE_MAILBOX_WAIT || user[0] == '\0')
		abort();
	answer(2, m[(flags >> 4) & 3]);
}

static int
f_msg_open(void *arg, const struct mailbox *m, size_t index)
{
	size_t i;

	(void)arg;
	if (m != &mb || cur != NULL || index >= mb.n ||
	    mb.msgs[index].deleted || s.state != POP3_STATE_TRANSACTION)
		abort();
	if ((flags & 0x80) && opens % 4 == 2)
		return -1;	/* refused: never opened */
	for (i = 0; i < NMSGS; i++)
		if (strcmp(fmsgs[i].name, mb.msgs[index].name) == 0)
			cur = &fmsgs[i];
	if (cur == NULL)
		abort();
	cur_off = 0;
	if (nopen_seq < MAXOPENS)
		open_seq[nopen_seq++] = (int)(cur - fmsgs);
	opens++;
	return 0;
}

static ssize_t
f_msg_read(void *arg, char *p, size_t len)
{
	size_t n;

	(void)arg;
	if (cur == NULL || len == 0)
		abort();
	n = cur->len - cur_off;
	if (n > len)
		n = len;
	if (n > 7 && short_reads)
		n = 7;
	memcpy(p, cur->body + cur_off, n);
	cur_off += n;
	return (ssize_t)n;
}

static void
f_msg_close(void *arg)
{
	(void)arg;
	if (cur == NULL)
		abort();
	cur = NULL;
	closes++;
}

static int
f_update(void *arg, struct mailbox *m)
{
	(void)arg;
	if (m != &mb || s.state != POP3_STATE_UPDATE || mailbox_marked(m) == 0)
		abort();
	if (flags & 0x40)
		return -1;
	mailbox_unmark_all(m);
	return 0;
}

/* Log lines are built from fixed words, numbers, the client text and a
 * user name of [A-Za-z0-9._@+-]: none of the octets below can appear in
 * one unless peer text (a password, a raw command line) leaked in. */
static void
f_log(void *arg, const char *line)
{
	(void)arg;
	if (strpbrk(line, "\r\n!#$%&*~^`|{}") != NULL)
		abort();
}

static const struct pop3_session_ops ops = {
	f_check_password, f_check_apop, f_open_mailbox, f_msg_open,
	f_msg_read, f_msg_close, f_update, f_log,
};

static int
all_digits(const char *p, const char *end)
{
	if (p == end)
		return 0;
	for (; p < end; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* Does this +OK line start a multi-line response? 1 RETR, 2 TOP, 3 other. */
static int
multiline(const char *l, size_t n)
{
	const char *e = l + n, *p;

#define IS(str)	(n == sizeof(str) - 1 && memcmp(l, str, n) == 0)
	if (IS("+OK Capability list follows") ||
	    IS("+OK unique-id listing follows"))
		return 3;
	if (IS("+OK top of message follows"))
		return 2;
#undef IS
	if (n < 5 || memcmp(l, "+OK ", 4) != 0)
		return 0;
	/* "+OK N octets" */
	if (n > 11 && memcmp(e - 7, " octets", 7) == 0 &&
	    all_digits(l + 4, e - 7))
		return 1;
	/* "+OK N messages (M octets)" */
	p = memchr(l + 4, ' ', n - 4);
	if (p != NULL && all_digits(l + 4, p) && (size_t)(e - p) >= 20 &&
	    memcmp(p, " messages (", 11) == 0 &&
	    memcmp(e - 8, " octets)", 8) == 0 && all_digits(p + 11, e - 8))
		return 3;
	return 0;
}

/* Parse the whole transcript as a client would. */
static void
check_transcript(int finished)
{
	const char *d = tr.data, *end, *l, *nl;
	struct buf content;
	int kind = 0, seq = 0;
	size_t n;

	if (d == NULL)
		return;
	end = d + tr.len;

	buf_init(&content, 1 << 20);
	for (l = d; l < end; l = nl + 1) {
		nl = memchr(l, '\n', (size_t)(end - l));
		if (nl == NULL) {
			if (finished)
				abort();	/* an unterminated line */
			break;
		}
		if (nl == l || nl[-1] != '\r')
			abort();		/* bare LF */
		n = (size_t)(nl - 1 - l);
		if (kind == 0) {
			if (n >= 3 && memcmp(l, "+OK", 3) == 0)
				kind = multiline(l, n);
			else if (!(n >= 4 && memcmp(l, "-ERR", 4) == 0))
				abort();
			buf_reset(&content);
			continue;
		}
		if (n == 1 && l[0] == '.') {
			/* end of a multi-line response */
			if (kind == 1 || kind == 2) {
				const struct fmsg *m;

				if (seq >= nopen_seq)
					abort();
				m = &fmsgs[open_seq[seq++]];
				if (m->clean && (kind == 1 ?
				    content.len != m->len :
				    content.len > m->len))
					abort();
				if (m->clean && memcmp(content.data ?
				    content.data : "", m->body,
				    content.len) != 0)
					abort();
			}
			kind = 0;
			continue;
		}
		if (l[0] == '.') {
			if (n < 2 || l[1] != '.')
				abort();	/* unstuffed dot line */
			l++;
			n--;
		}
		(void)buf_append(&content, l, n + 2);
	}
	buf_free(&content);
}

static void
drain(void)
{
	if (s.out.len > POP3_OUT_MAX)
		abort();
	(void)buf_append(&tr, s.out.data, s.out.len);
	buf_consume(&s.out, s.out.len);
}

/* Answer pending requests and finish multi-line responses. */
static void
settle(const uint8_t *rest, size_t restlen)
{
	int k;

	for (;;) {
		drain();
		if (pending) {
			if (restlen > 0 && pop3_session_feed(&s,
			    (const char *)rest, restlen) != 0)
				abort();
			k = pending;
			pending = 0;
			if (k == 1)
				pop3_session_auth_result(&s, pending_r);
			else
				pop3_session_mailbox_result(&s, pending_r,
				    pending_r == OUTCOME_OK ? &mb : NULL);
			continue;
		}
		if (!pop3_session_pump(&s))
			break;
	}
	drain();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char rnd[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
	    10, 11, 12, 13, 14, 15 };
	struct pop3_settings set = { "mail.example", POP3_AUTH_ANY, 0 };
	size_t pos = 0, want, n, chunk, blen, i;

	if (size < 3)
		return 0;
	flags = data[0];
	chunk = data[1];		/* 0: whole */
	blen = data[2];
	data += 3;
	size -= 3;
	if (blen > size)
		blen = size;
	fmsgs[3].body = (const char *)data + size - blen;
	fmsgs[3].len = blen;
	size -= blen;

	if (flags & 1)
		set.auth = POP3_AUTH_APOP_ONLY;
	short_reads = (int)(blen & 1);
	pending = 0;
	cur = NULL;
	opens = closes = nopen_seq = 0;
	buf_init(&tr, 64 << 20);
	mailbox_init(&mb);
	for (i = 0; i < NMSGS; i++)
		(void)mailbox_add(&mb, fmsgs[i].name, fmsgs[i].len);
	mailbox_finish(&mb);
	pop3_session_init(&s, &set, "[192.0.2.9]", &ops, NULL);
	if (pop3_session_start(&s, rnd, sizeof(rnd), 1, 2) != 0)
		abort();
	while (pos < size) {
		want = chunk && chunk < size - pos ? chunk : size - pos;
		n = pop3_session_feed(&s, (const char *)data + pos, want);
		if (n > want)
			abort();
		pos += n;
		settle(data + pos, size - pos);
		if (n == 0 && s.close) {
			if (pop3_session_feed(&s, (const char *)data + pos,
			    size - pos) != 0)
				abort();
			break;
		}
		if (n == 0 && !s.close && s.out.len == 0 && !pending &&
		    s.stream == POP3_STREAM_NONE)
			abort();	/* stuck */
	}
	drain();
	check_transcript(1);
	pop3_session_timeout(&s);
	drain();
	if (cur != NULL)
		abort();
	pop3_session_free(&s);
	if (opens != closes)
		abort();
	mailbox_free(&mb);
	buf_free(&tr);
	return 0;
}

#ifdef FUZZ_STANDALONE
/* Run each file named on the command line once (no fuzzing). */
int
main(int argc, char **argv)
{
	static uint8_t in[1 << 20];
	size_t n;
	FILE *f;
	int i;

	for (i = 1; i < argc; i++) {
		if ((f = fopen(argv[i], "rb")) == NULL) {
			perror(argv[i]);
			return 1;
		}
		n = fread(in, 1, sizeof(in), f);
		fclose(f);
		LLVMFuzzerTestOneInput(in, n);
	}
	return 0;
}
#endif
