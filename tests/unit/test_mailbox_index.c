/* test_mailbox_index - UIDs, ",S=" sizes, the dot-stuffing machine (whole,
 * byte by byte and in every chunk size), bounded output, and the in-memory
 * list: order, marks, duplicate UIDs. Links against the pure library only. */
#include "unit.h"
#include <openssl/evp.h>
#include "mailbox_index.h"

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

/* mailbox_free closes the directory only through close_dir, and only
 * when there is one. */
static int closed_fd = -2;

static void
fake_close_dir(int fd)
{
	closed_fd = fd;
}

static void
test_free_closes_through_hook(void **state)
{
	struct mailbox mb;

	(void)state;
	mailbox_init(&mb);
	assert_null(mb.close_dir);
	mailbox_free(&mb);			/* in memory: nothing to close */
	assert_int_equal(closed_fd, -2);
	mailbox_init(&mb);
	mb.fd = 7;
	mb.close_dir = fake_close_dir;
	mailbox_add(&mb, "new/1.a", 1);
	mailbox_free(&mb);
	assert_int_equal(closed_fd, 7);
	assert_int_equal(mb.fd, -1);
	assert_null(mb.close_dir);
	assert_int_equal(mb.n, 0);
	assert_null(mb.msgs);
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
		cmocka_unit_test(test_free_closes_through_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
