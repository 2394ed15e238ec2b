/* test_mailbox - UIDs, ",S=" sizes, the dot-stuffing machine (whole, byte
 * by byte and in every chunk size), bounded output, and the snapshot,
 * marks and commit on a temporary Maildir. */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "mailbox.h"

/* ---- UIDs and sizes ------------------------------------------------ */

static int
is_hashed(const char *uid)
{
	size_t i;

	if (strlen(uid) != 66 || strncmp(uid, "h,", 2) != 0)
		return 0;
	for (i = 2; i < 66; i++)
		if (!((uid[i] >= '0' && uid[i] <= '9') ||
		    (uid[i] >= 'a' && uid[i] <= 'f')))
			return 0;
	return 1;
}

static void
sha256_uid(const char *s, size_t n, char *out)
{
	unsigned char md[32];
	unsigned int len = 0, i;

	assert_int_equal(EVP_Digest(s, n, md, &len, EVP_sha256(), NULL), 1);
	out[0] = 'h';
	out[1] = ',';
	for (i = 0; i < len; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", md[i]);
}

static void
test_uid_table(void **state)
{
	static const struct {
		const char *name, *uid;	/* uid NULL: hashed */
	} t[] = {
		{ "new/1700000000.M1P2Q3.host,S=12", "1700000000.M1P2Q3.host" },
		{ "cur/1700000000.M1P2Q3.host,S=12:2,S", "1700000000.M1P2Q3.host" },
		{ "cur/X:2,S", "X" },
		{ "new/X", "X" },
		{ "X", "X" },
		{ "new/a!~", "a!~" },
		{ "new/:abc", ":abc" },		/* nothing before ':' */
		{ "new/,S=5", NULL },		/* nothing before ',', has ',' */
		{ "new/a b", NULL },		/* space */
		{ "new/a\x7f", NULL },
		{ "new/\xc3\xa9t\xc3\xa9", NULL },
		{ "new/a\tb,S=1", NULL },
		{ "new/", NULL },		/* empty */
	};
	char uid[MAILBOX_UID_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mailbox_uid(t[i].name, uid);
		if (t[i].uid != NULL) {
			if (strcmp(uid, t[i].uid) != 0)
				fail_msg("case %zu: %s", i, uid);
		} else if (!is_hashed(uid)) {
			fail_msg("case %zu: not hashed: %s", i, uid);
		}
	}
}

static void
test_uid_limits(void **state)
{
	char name[128], uid[MAILBOX_UID_MAX + 1], want[80];

	(void)state;
	/* 69, 70: kept; 71: hashed (the hash of the base part) */
	memset(name, 'a', sizeof(name));
	memcpy(name, "new/", 4);
	name[4 + 69] = '\0';
	mailbox_uid(name, uid);
	assert_int_equal(strlen(uid), 69);
	name[4 + 69] = 'a';
	name[4 + 70] = '\0';
	mailbox_uid(name, uid);
	assert_int_equal(strlen(uid), 70);
	assert_string_equal(uid, name + 4);
	name[4 + 70] = 'a';
	name[4 + 71] = '\0';
	mailbox_uid(name, uid);
	sha256_uid(name + 4, 71, want);
	assert_string_equal(uid, want);
	/* the flags part does not change the hash */
	memcpy(name + 4 + 71, ":2,S", 5);
	mailbox_uid(name, uid);
	assert_string_equal(uid, want);
	/* every UID: 1..70 octets of 0x21-0x7E */
	mailbox_uid("new/\x01\x02", uid);
	assert_true(strlen(uid) <= MAILBOX_UID_MAX);
	for (size_t i = 0; uid[i] != '\0'; i++)
		assert_true(uid[i] >= 0x21 && uid[i] <= 0x7e);
}

static void
test_name_size(void **state)
{
	static const struct {
		const char *name;
		int rc;
		uint64_t size;
	} t[] = {
		{ "x,S=12", 0, 12 },
		{ "new/x,S=12", 0, 12 },
		{ "x,S=12:2,S", 0, 12 },
		{ "x,W=5,S=7", 0, 7 },
		{ "x,S=5,W=6", 0, 5 },
		{ "x,S=0", 0, 0 },
		{ "x,S=9999999999999999999", 0, 9999999999999999999ULL },
		{ "x,S=10000000000000000000", -1, 0 },	/* 20 digits */
		{ "x,S=", -1, 0 },
		{ "x,S=1a", -1, 0 },
		{ "x,S=-1", -1, 0 },
		{ "x:2,S=5", -1, 0 },		/* after the info separator */
		{ "x", -1, 0 },
		{ "x,s=5", -1, 0 },
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 424242;
		if (mailbox_name_size(t[i].name, &v) != t[i].rc)
			fail_msg("case %zu: rc", i);
		if (t[i].rc == 0 && v != t[i].size)
			fail_msg("case %zu: size %llu", i, (unsigned long long)v);
	}
}

/* ---- stuffing ------------------------------------------------------ */

struct src {
	const char	*p;
	size_t		 len, off, step;	/* step: most octets per read */
	int		 fail_at;		/* read number that fails, or 0 */
	int		 reads;
};

static ssize_t
src_read(void *arg, char *p, size_t len)
{
	struct src *s = arg;
	size_t n = s->len - s->off;

	if (++s->reads == s->fail_at)
		return -1;
	if (n > len)
		n = len;
	if (s->step && n > s->step)
		n = s->step;
	memcpy(p, s->p + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

/* Run the iterator to its end; returns the output (malloc'ed) in *out_r. */
static int
run_iter(const char *in, size_t len, long top, size_t step, size_t chunk,
    size_t bufmax, char **out_r, size_t *outlen_r)
{
	struct src src = { in, len, 0, step, 0, 0 };
	struct mailbox_iter it;
	struct buf out, all;
	int r, guard = 0;

	buf_init(&out, bufmax);
	buf_init(&all, 64 * 1024 * 1024);
	mailbox_iter_init(&it, top, src_read, &src);
	do {
		size_t before = out.len;

		r = mailbox_iter_next(&it, &out, chunk);
		assert_true(out.len - before <= MAILBOX_ITER_MAXOUT);
		assert_true(out.len <= bufmax);
		assert_int_equal(buf_append(&all, out.data, out.len), 0);
		buf_reset(&out);
		assert_true(++guard < 100000000);
	} while (r == 1);
	buf_free(&out);
	*out_r = all.data;
	*outlen_r = all.len;
	return r;
}

static const struct {
	const char *in;
	long top;
	const char *want;
} stuff_cases[] = {
	{ "a\r\nb\r\n", -1, "a\r\nb\r\n.\r\n" },
	{ ".a\r\n..b\r\n.\r\n", -1, "..a\r\n...b\r\n..\r\n.\r\n" },
	{ "\r\n.\r\n", -1, "\r\n..\r\n.\r\n" },
	{ "a\nb\n", -1, "a\r\nb\r\n.\r\n" },		/* bare LF -> CRLF */
	{ "a\n.\n", -1, "a\r\n..\r\n.\r\n" },
	{ "a", -1, "a\r\n.\r\n" },			/* unterminated */
	{ "a\r", -1, "a\r\n.\r\n" },
	{ ".", -1, "..\r\n.\r\n" },
	{ "", -1, ".\r\n" },
	{ "a\rb\r\n", -1, "a\rb\r\n.\r\n" },		/* bare CR kept */
	{ "x\r.\r\n", -1, "x\r.\r\n.\r\n" },		/* CR. is no line start */
	{ "\r\r\n", -1, "\r\r\n.\r\n" },
	{ "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n", 0, "H: 1\r\nH: 2\r\n\r\n.\r\n" },
	{ "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n", 1,
	    "H: 1\r\nH: 2\r\n\r\nb1\r\n.\r\n" },
	{ "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n", 2,
	    "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n.\r\n" },
	{ "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n", 99,
	    "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n.\r\n" },
	{ "H: 1\r\nH: 2\r\n", 0, "H: 1\r\nH: 2\r\n.\r\n" },	/* no body */
	{ "H: 1\r\nH: 2", 0, "H: 1\r\nH: 2\r\n.\r\n" },
	{ "H\r\n\r\n.b1\r\n.\r\nb3\r\n", 2, "H\r\n\r\n..b1\r\n..\r\n.\r\n" },
	{ "H\n\nb\nc\n", 0, "H\r\n\r\n.\r\n" },
	{ "H\n\nb\nc\n", 1, "H\r\n\r\nb\r\n.\r\n" },
	{ "\r\nbody\r\n", 0, "\r\n.\r\n" },	/* empty header */
	{ "H\r\n\r\n\r\n\r\nx\r\n", 1, "H\r\n\r\n\r\n.\r\n" },
	{ "H\r\n\r\nb1", 1, "H\r\n\r\nb1\r\n.\r\n" },
	{ "H\r\n\r\nb1", 5, "H\r\n\r\nb1\r\n.\r\n" },
};

static void
test_stuff_table(void **state)
{
	static const size_t steps[] = { 0, 1, 2, 3, 7 };
	static const size_t chunks[] = { MAILBOX_CHUNK, 1, 2, 5, 100000 };
	size_t i, j, k, outlen;
	char *out;

	(void)state;
	for (i = 0; i < sizeof(stuff_cases) / sizeof(stuff_cases[0]); i++)
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++)
			for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
				assert_int_equal(run_iter(stuff_cases[i].in,
				    strlen(stuff_cases[i].in), stuff_cases[i].top,
				    steps[j], chunks[k], 1 << 20, &out,
				    &outlen), 0);
				if (outlen != strlen(stuff_cases[i].want) ||
				    memcmp(out, stuff_cases[i].want, outlen) != 0)
					fail_msg("case %zu step %zu chunk %zu: "
					    "got \"%s\"", i, steps[j],
					    chunks[k], out);
				free(out);
			}
}

/* The stuffer by itself, fed one octet at a time. */
static void
test_stuff_machine(void **state)
{
	struct mailbox_stuff st;
	char out[8], all[256];
	size_t i, j, used, n, len;

	(void)state;
	for (i = 0; i < sizeof(stuff_cases) / sizeof(stuff_cases[0]); i++) {
		const char *in = stuff_cases[i].in;

		mailbox_stuff_init(&st, stuff_cases[i].top);
		len = 0;
		for (j = 0; in[j] != '\0'; j++) {
			n = mailbox_stuff_feed(&st, in + j, 1, out, &used);
			assert_true(n <= 2);
			memcpy(all + len, out, n);
			len += n;
			if (used == 0) {
				assert_true(st.done);
				break;
			}
		}
		len += mailbox_stuff_end(&st, all + len);
		all[len] = '\0';
		assert_string_equal(all, stuff_cases[i].want);
	}
}

/* A 998-octet line and a 5 MB message, byte for byte, through an output
 * buffer far smaller than the message. */
static void
test_big(void **state)
{
	size_t len = 5 * 1024 * 1024, i, outlen, w = 0, line = 0;
	char *in = malloc(len), *want = malloc(2 * len + 8), *out;

	(void)state;
	assert_non_null(in);
	assert_non_null(want);
	/* lines of 998 octets + CRLF, every 3rd starting with '.' */
	for (i = 0; i + 1000 <= len; i += 1000, line++) {
		memset(in + i, 'a' + (char)(line % 26), 998);
		if (line % 3 == 0)
			in[i] = '.';
		in[i + 998] = '\r';
		in[i + 999] = '\n';
	}
	len = i;
	for (i = 0; i < len; i += 1000) {
		if (in[i] == '.')
			want[w++] = '.';
		memcpy(want + w, in + i, 1000);
		w += 1000;
	}
	memcpy(want + w, ".\r\n", 3);
	w += 3;
	assert_int_equal(run_iter(in, len, -1, 0, MAILBOX_CHUNK,
	    MAILBOX_ITER_MAXOUT, &out, &outlen), 0);
	assert_int_equal(outlen, w);
	assert_memory_equal(out, want, w);
	free(out);
	/* a tiny output buffer still makes progress */
	assert_int_equal(run_iter(in, 20000, -1, 0, MAILBOX_CHUNK, 11, &out,
	    &outlen), 0);
	free(out);
	free(in);
	free(want);
}

static void
test_iter_errors(void **state)
{
	struct src src = { "abc\r\n", 5, 0, 1, 3, 0 };
	struct mailbox_iter it;
	struct buf out;
	int r;

	(void)state;
	buf_init(&out, 1 << 16);
	mailbox_iter_init(&it, -1, src_read, &src);
	assert_int_equal(mailbox_iter_next(&it, &out, 100), 1);
	assert_int_equal(mailbox_iter_next(&it, &out, 100), 1);
	assert_int_equal(mailbox_iter_next(&it, &out, 100), -1);
	/* a full buffer: nothing read, "more" */
	buf_free(&out);
	buf_init(&out, 4);
	src.off = 0;
	src.fail_at = 0;
	mailbox_iter_init(&it, -1, src_read, &src);
	assert_int_equal(mailbox_iter_next(&it, &out, 100), 1);
	assert_int_equal(out.len, 0);
	assert_int_equal(src.off, 0);
	buf_free(&out);
	/* finished stays finished */
	buf_init(&out, 1 << 16);
	src.off = 0;
	mailbox_iter_init(&it, -1, src_read, &src);
	while ((r = mailbox_iter_next(&it, &out, 100)) == 1)
		;
	assert_int_equal(r, 0);
	assert_int_equal(mailbox_iter_next(&it, &out, 100), 0);
	assert_string_equal(out.data, "abc\r\n.\r\n");
	buf_free(&out);
}

/* ---- in-memory list ------------------------------------------------ */

static void
test_marks(void **state)
{
	struct mailbox mb;
	size_t n;
	uint64_t o;

	(void)state;
	mailbox_init(&mb);
	mailbox_add(&mb, "new/10.b", 5);
	mailbox_add(&mb, "new/9.a", 7);
	mailbox_add(&mb, "cur/100.c:2,S", 11);
	mailbox_finish(&mb);
	/* numeric order of the leading seconds */
	assert_string_equal(mb.msgs[0].uid, "9.a");
	assert_string_equal(mb.msgs[1].uid, "10.b");
	assert_string_equal(mb.msgs[2].uid, "100.c");
	mailbox_stat(&mb, &n, &o);
	assert_int_equal(n, 3);
	assert_int_equal(o, 23);
	assert_int_equal(mailbox_mark(&mb, 1), 0);
	assert_int_equal(mailbox_mark(&mb, 1), -1);
	assert_int_equal(mailbox_mark(&mb, 3), -1);
	assert_int_equal(mailbox_marked(&mb), 1);
	mailbox_stat(&mb, &n, &o);
	assert_int_equal(n, 2);
	assert_int_equal(o, 18);
	mailbox_unmark_all(&mb);
	assert_int_equal(mailbox_marked(&mb), 0);
	/* in-memory: commit cannot remove anything */
	assert_int_equal(mailbox_mark(&mb, 0), 0);
	assert_int_equal(mailbox_commit(&mb, &n), -1);
	assert_int_equal(n, 0);
	mailbox_free(&mb);
	assert_int_equal(mb.n, 0);
}

static void
test_duplicate_uids(void **state)
{
	struct mailbox mb;
	size_t i, j;

	(void)state;
	mailbox_init(&mb);
	mailbox_add(&mb, "new/5.x,S=1", 1);
	mailbox_add(&mb, "new/5.x,S=2", 2);
	mailbox_add(&mb, "cur/5.x:2,S", 3);
	mailbox_add(&mb, "new/6.y", 4);
	mailbox_finish(&mb);
	for (i = 0; i < mb.n; i++)
		for (j = i + 1; j < mb.n; j++)
			assert_string_not_equal(mb.msgs[i].uid, mb.msgs[j].uid);
	for (i = 0; i < mb.n; i++) {
		if (strcmp(mb.msgs[i].name, "new/6.y") == 0)
			assert_string_equal(mb.msgs[i].uid, "6.y");
		else
			assert_true(is_hashed(mb.msgs[i].uid));
	}
	mailbox_free(&mb);
}

/* ---- a real Maildir ------------------------------------------------ */

static char root[64];

static int
setup(void **state)
{
	char p[128];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_mailbox.XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/new", root);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/cur", root);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/tmp", root);
	mkdir(p, 0700);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
put(const char *rel, const char *content)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int
exists(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static int
open_root(void)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY);

	assert_true(fd >= 0);
	return fd;
}

static const struct mailbox_msg *
find(const struct mailbox *mb, const char *name)
{
	size_t i;

	for (i = 0; i < mb->n; i++)
		if (strcmp(mb->msgs[i].name, name) == 0)
			return &mb->msgs[i];
	return NULL;
}

static void
test_snapshot(void **state)
{
	static const char m1[] = "Subject: a\r\n\r\n.dot\r\nend\r\n";
	static const char m2[] = "Subject: b\r\n\r\nbody\r\n";
	struct mailbox mb;
	const struct mailbox_msg *m;
	char p[512], out[256];
	struct mailbox_iter it;
	struct buf b;
	size_t n;
	int fd, r;

	(void)state;
	put("new/1000.A.host,S=26", m1);
	put("cur/999.B.host:2,S", m2);
	put("new/.hidden", "x");
	put("tmp/1.T.host", "in delivery");
	snprintf(p, sizeof(p), "%s/new/1001.D.host", root);
	mkdir(p, 0700);				/* a directory: skipped */
	snprintf(p, sizeof(p), "%s/new/1000.A.host,S=26", root);
	snprintf(out, sizeof(out), "%s/cur/1002.L.host", root);
	assert_int_equal(symlink(p, out), 0);	/* a symlink: skipped */

	assert_int_equal(mailbox_open(&mb, open_root(), 1000), 0);
	assert_int_equal(mb.n, 2);
	assert_string_equal(mb.msgs[0].name, "cur/999.B.host:2,S");
	assert_string_equal(mb.msgs[0].uid, "999.B.host");
	assert_int_equal(mb.msgs[0].size, strlen(m2));	/* from fstat */
	assert_string_equal(mb.msgs[1].name, "new/1000.A.host,S=26");
	assert_string_equal(mb.msgs[1].uid, "1000.A.host");
	assert_int_equal(mb.msgs[1].size, 26);		/* from the name */

	/* delivered after the snapshot: not in it */
	put("new/1003.E.host,S=3", "x\r\n");
	assert_null(find(&mb, "new/1003.E.host,S=3"));

	/* read message 2 through its fd */
	fd = mailbox_msg_open(&mb, 1);
	assert_true(fd >= 0);
	buf_init(&b, 1 << 16);
	mailbox_iter_init(&it, -1, mailbox_fd_read, &fd);
	while ((r = mailbox_iter_next(&it, &b, 4)) == 1)
		;
	assert_int_equal(r, 0);
	assert_string_equal(b.data, "Subject: a\r\n\r\n..dot\r\nend\r\n.\r\n");
	close(fd);
	buf_free(&b);
	assert_int_equal(mailbox_msg_open(&mb, 2), -1);

	/* nothing marked: commit removes nothing */
	assert_int_equal(mailbox_commit(&mb, &n), 0);
	assert_int_equal(n, 0);
	assert_true(exists("new/1000.A.host,S=26"));
	assert_true(exists("cur/999.B.host:2,S"));

	/* mark, unmark: still nothing */
	assert_int_equal(mailbox_mark(&mb, 0), 0);
	mailbox_unmark_all(&mb);
	assert_int_equal(mailbox_commit(&mb, &n), 0);
	assert_int_equal(n, 0);
	assert_true(exists("cur/999.B.host:2,S"));

	/* mark one: only it goes, and nothing is moved */
	assert_int_equal(mailbox_mark(&mb, 0), 0);
	assert_int_equal(mailbox_commit(&mb, &n), 0);
	assert_int_equal(n, 1);
	assert_false(exists("cur/999.B.host:2,S"));
	assert_true(exists("new/1000.A.host,S=26"));
	assert_true(exists("new/1003.E.host,S=3"));
	assert_int_equal(mailbox_marked(&mb), 0);
	mailbox_free(&mb);

	/* the next snapshot has the new message, same UIDs as before */
	assert_int_equal(mailbox_open(&mb, open_root(), 1000), 0);
	assert_int_equal(mb.n, 2);
	m = find(&mb, "new/1000.A.host,S=26");
	assert_non_null(m);
	assert_string_equal(m->uid, "1000.A.host");
	assert_non_null(find(&mb, "new/1003.E.host,S=3"));

	/* a file that vanished before QUIT counts as removed */
	assert_int_equal(mailbox_mark(&mb, 1), 0);
	snprintf(p, sizeof(p), "%s/%s", root, mb.msgs[1].name);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mailbox_commit(&mb, &n), 0);
	assert_int_equal(n, 1);
	mailbox_free(&mb);
}

static void
test_snapshot_limits(void **state)
{
	struct mailbox mb;
	char name[64], p[128];
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "new/%d.M.host,S=1", 100 + i);
		put(name, "x");
	}
	assert_int_equal(mailbox_open(&mb, open_root(), 4), 0);
	assert_int_equal(mb.n, 4);
	mailbox_free(&mb);
	assert_int_equal(mailbox_open(&mb, open_root(), 1000), 0);
	assert_int_equal(mb.n, 10);
	mailbox_free(&mb);
	/* no cur/: an empty part, not an error */
	snprintf(p, sizeof(p), "%s/cur", root);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(mailbox_open(&mb, open_root(), 1000), 0);
	assert_int_equal(mb.n, 10);
	mailbox_free(&mb);
	/* cur/ is a file: an error (the fd is closed for us) */
	put("cur", "not a directory");
	assert_int_equal(mailbox_open(&mb, open_root(), 1000), -1);
	assert_int_equal(mb.n, 0);
	assert_int_equal(mb.fd, -1);
}

/* A message replaced by a FIFO or symlink after the snapshot is not opened. */
static void
test_msg_open_refuses(void **state)
{
	struct mailbox mb;
	char p[256];

	(void)state;
	put("new/1.F.host", "x\r\n");
	put("new/2.G.host", "y\r\n");
	assert_int_equal(mailbox_open(&mb, open_root(), 1000), 0);
	assert_int_equal(mb.n, 2);
	snprintf(p, sizeof(p), "%s/new/1.F.host", root);
	unlink(p);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(mailbox_msg_open(&mb, 0), -1);
	snprintf(p, sizeof(p), "%s/new/2.G.host", root);
	unlink(p);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(mailbox_msg_open(&mb, 1), -1);
	assert_int_equal(errno, ELOOP);
	mailbox_free(&mb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uid_table),
		cmocka_unit_test(test_uid_limits),
		cmocka_unit_test(test_name_size),
		cmocka_unit_test(test_stuff_table),
		cmocka_unit_test(test_stuff_machine),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_iter_errors),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_duplicate_uids),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_limits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_msg_open_refuses, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
