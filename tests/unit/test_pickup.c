/* test_pickup - maildrop files into queue files: the recipient matrix of
 * pickup_envelope (local / remote / postmaster / rejected / duplicates),
 * then pickup_file on real files in a temporary spool: the queue file
 * byte for byte, and every rejection path (uid mismatch, hard link,
 * symlink, FIFO, bad envelope, bad content, size at limit -1/=/+1, no
 * deliverable recipient), stale temporary files, a whole scan. */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "maildrop.h"
#include "pickup.h"
#include "qfile.h"

struct fixture {
	char		dir[64];
	struct config	*cfg;
	struct pickup_ctx ctx;
	char		login[64];
};

static struct config *
make_config(const char *spool, unsigned max_size)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;
	char text[1024];

	snprintf(text, sizeof(text),
	    "hostname = mx.mydomain.test\n"
	    "local_domains = mydomain.test, other.test\n"
	    "users = /nonexistent/users\n"
	    "spool = %s\n"
	    "listen_smtp = 127.0.0.1:25\n"
	    "postmaster = alice\n"
	    "max_message_size = %u\n"
	    "max_recipients = 3\n", spool, max_size);
	c = config_parse("/etc/postern/postern.conf", text, strlen(text), &errs);
	if (c == NULL)
		fail_msg("config: %s", errs.n ? errs.msgs[0] : "?");
	errlist_free(&errs);
	return c;
}

static int
opendir_at(int dfd, const char *name)
{
	int fd;

	assert_int_equal(mkdirat(dfd, name, 0700), 0);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	return fd;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct passwd *pw;
	char spool[128];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_pickup.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(spool, sizeof(spool), "%s/spool", f->dir);
	assert_int_equal(mkdir(spool, 0700), 0);
	f->cfg = make_config(spool, 2048);
	f->ctx.cfg = f->cfg;
	f->ctx.spool_fd = open(spool, O_RDONLY | O_DIRECTORY);
	f->ctx.maildrop_fd = opendir_at(f->ctx.spool_fd, "maildrop");
	f->ctx.incoming_fd = opendir_at(f->ctx.spool_fd, "incoming");
	f->ctx.queue_fd = opendir_at(f->ctx.spool_fd, "queue");
	pw = getpwuid(geteuid());
	snprintf(f->login, sizeof(f->login), "%s", pw ? pw->pw_name : "?");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	close(f->ctx.spool_fd);
	close(f->ctx.maildrop_fd);
	close(f->ctx.incoming_fd);
	close(f->ctx.queue_fd);
	config_free(f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	(void)system(cmd);
	free(f);
	return 0;
}

/* ---- the envelope matrix (pure) ---- */

static void
test_envelope_matrix(void **state)
{
	struct fixture *f = *state;
	struct maildrop_envelope me;
	struct qfile_envelope qe;
	struct buf b, why;
	char id[QFILE_ID_LEN + 1];

	qfile_make_id(id, 1, 1);
	buf_init(&b, 8192);
	buf_init(&why, 8192);
	buf_appends(&b, "POSTERN-MAILDROP 1\nuid 1000\nfrom <u@mydomain.test>\n"
	    "rcpt <Alice@MyDomain.TEST>\n"		/* local, lower-cased */
	    "rcpt <bob@example.net>\n"			/* remote */
	    "rcpt <postmaster>\n"			/* -> cfg->postmaster */
	    "rcpt <alice@other.test>\n"			/* same mailbox: dropped */
	    "rcpt <u%h@example.net>\n"			/* routing: rejected */
	    "rcpt <\"x.\"@mydomain.test>\n"		/* quoted: not a mailbox */
	    "rcpt <-bad@mydomain.test>\n"		/* invalid mailbox name */
	    "rcpt <BOB@example.net>\n"			/* remote, different case */
	    "\n");
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &me), MAILDROP_OK);
	assert_int_equal(pickup_envelope(f->cfg, &me, "joe", id, 1795812345, &qe,
	    &why), 3);
	assert_string_equal(qe.id, id);
	assert_int_equal(qe.time, 1795812345);
	assert_string_equal(qe.client, "local");
	assert_string_equal(qe.auth, "joe");
	assert_string_equal(qe.from, "u@mydomain.test");
	assert_int_equal(qe.rcpts[0].kind, QFILE_LOCAL);
	assert_string_equal(qe.rcpts[0].mailbox, "alice");
	assert_string_equal(qe.rcpts[0].addr, "Alice@mydomain.test");
	assert_int_equal(qe.rcpts[1].kind, QFILE_REMOTE);
	assert_string_equal(qe.rcpts[1].mailbox, "");
	assert_string_equal(qe.rcpts[1].addr, "bob@example.net");
	/* postmaster -> alice is the same mailbox as rcpt 0: dropped too */
	assert_int_equal(qe.rcpts[2].kind, QFILE_REMOTE);
	assert_string_equal(qe.rcpts[2].addr, "BOB@example.net");
	assert_non_null(strstr(why.data, "u%h@example.net"));
	assert_non_null(strstr(why.data, "address-routing"));
	assert_non_null(strstr(why.data, "-bad@mydomain.test"));
	assert_non_null(strstr(why.data, "\"x.\"@mydomain.test"));
	qfile_envelope_free(&qe);
	maildrop_envelope_free(&me);

	/* Only rejected recipients: nothing to keep. */
	buf_reset(&b);
	buf_reset(&why);
	buf_appends(&b, "POSTERN-MAILDROP 1\nuid 1\nfrom <>\n"
	    "rcpt <a!b@example.net>\n\n");
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &me), MAILDROP_OK);
	assert_int_equal(pickup_envelope(f->cfg, &me, "joe", id, 1, &qe, &why), 0);
	assert_string_equal(qe.from, "");
	qfile_envelope_free(&qe);
	maildrop_envelope_free(&me);

	/* recipient_delimiter: dave+lists@ is dave's mailbox */
	f->cfg->recipient_delimiter = strdup("+");
	buf_reset(&b);
	buf_appends(&b, "POSTERN-MAILDROP 1\nuid 1\nfrom <>\n"
	    "rcpt <Dave+Lists@mydomain.test>\nrcpt <+x@mydomain.test>\n\n");
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &me), MAILDROP_OK);
	assert_int_equal(pickup_envelope(f->cfg, &me, "joe", id, 1, &qe, NULL), 1);
	assert_string_equal(qe.rcpts[0].mailbox, "dave");
	assert_string_equal(qe.rcpts[0].addr, "Dave+Lists@mydomain.test");
	qfile_envelope_free(&qe);
	maildrop_envelope_free(&me);

	/* Without a postmaster setting, postmaster is "postmaster". */
	free(f->cfg->postmaster);
	f->cfg->postmaster = NULL;
	buf_reset(&b);
	buf_appends(&b, "POSTERN-MAILDROP 1\nuid 1\nfrom <>\n"
	    "rcpt <PostMaster@mydomain.test>\n\n");
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &me), MAILDROP_OK);
	assert_int_equal(pickup_envelope(f->cfg, &me, "joe", id, 1, &qe, NULL), 1);
	assert_string_equal(qe.rcpts[0].mailbox, "postmaster");
	qfile_envelope_free(&qe);
	maildrop_envelope_free(&me);
	buf_free(&b);
	buf_free(&why);
}

/* ---- files ---- */

static void
write_file(int dfd, const char *name, const char *data, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
drop(struct fixture *f, const char *name, unsigned long uid,
    const char *rcpts, const char *content, size_t clen)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	buf_printf(&b, "POSTERN-MAILDROP 1\nuid %lu\nfrom <joe@mydomain.test>\n%s\n",
	    uid, rcpts);
	buf_append(&b, content, clen);
	write_file(f->ctx.maildrop_fd, name, b.data, b.len);
	buf_free(&b);
}

static int
count(int dfd)
{
	struct dirent *de;
	DIR *d;
	int n = 0, fd = dup(dfd);

	d = fdopendir(fd);
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int
exists_at(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
read_queue(struct fixture *f, const char *qid, struct buf *b)
{
	char chunk[4096];
	ssize_t r;
	int fd = openat(f->ctx.queue_fd, qid, O_RDONLY);

	assert_true(fd >= 0);
	buf_init(b, 1 << 20);
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(b, chunk, (size_t)r);
	close(fd);
}

#define ID1	"0000019C7E3A1B2F4A1"
#define ID2	"0000019C7E3A1B2F4A2"
#define BODY	"Subject: hi\r\n\r\nline one\r\n.\r\n..dots\r\n\xff\xfe 8bit\r\n"

static void
test_pickup_ok(void **state)
{
	struct fixture *f = *state;
	struct qfile_envelope qe;
	struct buf b;
	char qid[QFILE_ID_LEN + 1], want[256];
	const char *content;

	drop(f, ID1, (unsigned long)geteuid(),
	    "rcpt <alice@mydomain.test>\nrcpt <bob@example.net>\n",
	    BODY, sizeof(BODY) - 1);
	assert_int_equal(pickup_file(&f->ctx, ID1, qid), OUTCOME_OK);
	assert_true(qfile_id_valid(qid));
	assert_false(exists_at(f->ctx.maildrop_fd, ID1));
	assert_int_equal(count(f->ctx.incoming_fd), 0);
	assert_int_equal(count(f->ctx.queue_fd), 1);
	read_queue(f, qid, &b);
	assert_int_equal(qfile_envelope_parse(b.data, b.len, &qe), 0);
	assert_string_equal(qe.id, qid);
	assert_string_equal(qe.client, "local");
	assert_string_equal(qe.auth, f->login);
	assert_string_equal(qe.from, "joe@mydomain.test");
	assert_int_equal(qe.nrcpts, 2);
	assert_int_equal(qe.rcpts[0].status, QFILE_PENDING);
	assert_int_equal(qe.rcpts[0].kind, QFILE_LOCAL);
	assert_string_equal(qe.rcpts[0].mailbox, "alice");
	assert_int_equal(qe.rcpts[1].kind, QFILE_REMOTE);
	assert_string_equal(qe.helo, "");
	content = b.data + qe.content_off;
	snprintf(want, sizeof(want), "Received: by mx.mydomain.test (postern "
	    "sendmail, uid %lu)\r\n\tid %s; ", (unsigned long)geteuid(), qid);
	assert_memory_equal(content, want, strlen(want));
	content = strstr(content, "\r\n" "Subject: hi");
	assert_non_null(content);
	/* The message itself, byte for byte, after our header. */
	assert_int_equal(b.len - (size_t)(content + 2 - b.data), sizeof(BODY) - 1);
	assert_memory_equal(content + 2, BODY, sizeof(BODY) - 1);
	qfile_envelope_free(&qe);
	buf_free(&b);
	/* Gone now: nothing to do, no new queue file. */
	assert_int_equal(pickup_file(&f->ctx, ID1, qid), OUTCOME_OK);
	assert_string_equal(qid, "");
	assert_int_equal(pickup_file(&f->ctx, "../queue/x", qid), OUTCOME_OK);
	assert_string_equal(qid, "");
	assert_int_equal(pickup_file(&f->ctx, ".tmp.0123456789abcdef", NULL),
	    OUTCOME_OK);
	assert_int_equal(count(f->ctx.queue_fd), 1);
}

static void
assert_rejected(struct fixture *f, const char *name)
{
	char dst[64];

	assert_int_equal(pickup_file(&f->ctx, name, NULL), OUTCOME_PERM);
	assert_false(exists_at(f->ctx.maildrop_fd, name));
	snprintf(dst, sizeof(dst), "corrupt/maildrop-%s", name);
	assert_true(exists_at(f->ctx.spool_fd, dst));
	assert_int_equal(count(f->ctx.queue_fd), 0);
	assert_int_equal(count(f->ctx.incoming_fd), 0);
	unlinkat(f->ctx.spool_fd, dst, 0);
}

/* n bytes (n >= 2) of CRLF lines of at most 101 bytes. */
static void
fill_lines(char *p, size_t n)
{
	size_t full = n / 100, rem = n % 100, i;

	if (rem < 2) {
		full--;
		rem += 100;
	}
	for (i = 0; i < full; i++, p += 100) {
		memset(p, 'y', 98);
		memcpy(p + 98, "\r\n", 2);
	}
	memset(p, 'z', rem - 2);
	memcpy(p + rem - 2, "\r\n", 2);
}

static void
test_pickup_rejects(void **state)
{
	struct fixture *f = *state;
	unsigned long me = (unsigned long)geteuid();
	const char *r1 = "rcpt <alice@mydomain.test>\n";
	char big[2100];
	size_t n;

	/* uid line differs from the file owner */
	drop(f, ID1, me + 1, r1, BODY, sizeof(BODY) - 1);
	assert_rejected(f, ID1);
	/* hard link */
	drop(f, ID1, me, r1, BODY, sizeof(BODY) - 1);
	assert_int_equal(linkat(f->ctx.maildrop_fd, ID1, f->ctx.spool_fd,
	    "other-link", 0), 0);
	assert_rejected(f, ID1);
	unlinkat(f->ctx.spool_fd, "other-link", 0);
	/* symlink */
	assert_int_equal(symlinkat("/etc/passwd", f->ctx.maildrop_fd, ID1), 0);
	assert_rejected(f, ID1);
	/* FIFO: must not hang */
	assert_int_equal(mkfifoat(f->ctx.maildrop_fd, ID1, 0644), 0);
	assert_rejected(f, ID1);
	/* bad envelope */
	write_file(f->ctx.maildrop_fd, ID1, "garbage\n\n", 9);
	assert_rejected(f, ID1);
	write_file(f->ctx.maildrop_fd, ID1, "POSTERN-MAILDROP 1\nuid 0\n", 25);
	assert_rejected(f, ID1);
	/* too many recipients (max_recipients = 3) */
	drop(f, ID1, me, "rcpt <a@x.y>\nrcpt <b@x.y>\nrcpt <c@x.y>\nrcpt <d@x.y>\n",
	    "", 0);
	assert_rejected(f, ID1);
	/* bad content: bare LF, bare CR, NUL, no final CRLF, long line */
	drop(f, ID1, me, r1, "a\nb\r\n", 5);
	assert_rejected(f, ID1);
	drop(f, ID1, me, r1, "a\rb\r\n", 5);
	assert_rejected(f, ID1);
	drop(f, ID1, me, r1, "a\0b\r\n", 5);
	assert_rejected(f, ID1);
	drop(f, ID1, me, r1, "ab", 2);
	assert_rejected(f, ID1);
	memset(big, 'x', 1001);
	memcpy(big + 999, "\r\n", 2);	/* 1001 with CRLF */
	drop(f, ID1, me, r1, big, 1001);
	assert_rejected(f, ID1);
	/* nobody left to deliver to */
	drop(f, ID1, me, "rcpt <u%h@example.net>\n", BODY, sizeof(BODY) - 1);
	assert_rejected(f, ID1);
	/* size: max_message_size 2048 -> 2047 and 2048 pass, 2049 not */
	for (n = 2047; n <= 2049; n++) {
		fill_lines(big, n);
		drop(f, ID2, me, r1, big, n);
		if (n <= 2048) {
			char qid[QFILE_ID_LEN + 1];

			assert_int_equal(pickup_file(&f->ctx, ID2, qid), OUTCOME_OK);
			assert_int_equal(unlinkat(f->ctx.queue_fd, qid, 0), 0);
		} else
			assert_rejected(f, ID2);
	}
}

static void
test_scan(void **state)
{
	struct fixture *f = *state;
	struct timespec old[2];
	unsigned long me = (unsigned long)geteuid();

	drop(f, ID1, me, "rcpt <alice@mydomain.test>\n", BODY, sizeof(BODY) - 1);
	drop(f, ID2, me, "rcpt <bob@mydomain.test>\n", BODY, sizeof(BODY) - 1);
	write_file(f->ctx.maildrop_fd, ".tmp.00000000000000aa", "x", 1);
	write_file(f->ctx.maildrop_fd, ".tmp.00000000000000bb", "x", 1);
	write_file(f->ctx.maildrop_fd, "junk", "x", 1);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - PICKUP_STALE_SECONDS - 10;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	assert_int_equal(utimensat(f->ctx.maildrop_fd, ".tmp.00000000000000aa",
	    old, 0), 0);
	assert_int_equal(utimensat(f->ctx.maildrop_fd, "junk", old, 0), 0);
	assert_int_equal(pickup_scan(&f->ctx), 2);
	assert_int_equal(count(f->ctx.queue_fd), 2);
	assert_false(exists_at(f->ctx.maildrop_fd, ID1));
	assert_false(exists_at(f->ctx.maildrop_fd, ".tmp.00000000000000aa"));
	assert_false(exists_at(f->ctx.maildrop_fd, "junk"));
	/* a fresh temporary file is a sendmail at work: left alone */
	assert_true(exists_at(f->ctx.maildrop_fd, ".tmp.00000000000000bb"));
	assert_int_equal(pickup_scan(&f->ctx), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_envelope_matrix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pickup_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pickup_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
	};

	return cmocka_run_group_tests_name("pickup", tests, NULL, NULL);
}
