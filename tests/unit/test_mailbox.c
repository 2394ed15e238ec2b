/* test_mailbox - the Maildir half on a temporary Maildir: the snapshot
 * (what is skipped, sizes from names or fstat, the message limit), reading
 * a message through its descriptor, marks and commit, refusing a FIFO or
 * symlink, and commit on an in-memory mailbox. The pure half (UIDs,
 * stuffing, the list) is test_mailbox_index. */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include "mailbox.h"

/* In memory there are no files: commit removes nothing and says so, and
 * mailbox_free has no directory to close. */
static void
test_commit_in_memory(void **state)
{
	struct mailbox mb;
	size_t n = 42;

	(void)state;
	mailbox_init(&mb);
	mailbox_add(&mb, "new/1.a", 5);
	mailbox_add(&mb, "new/2.b", 7);
	mailbox_finish(&mb);
	assert_int_equal(mailbox_commit(&mb, &n), 0);	/* nothing marked */
	assert_int_equal(n, 0);
	assert_int_equal(mailbox_mark(&mb, 0), 0);
	assert_int_equal(mailbox_commit(&mb, &n), -1);
	assert_int_equal(n, 0);
	assert_int_equal(mailbox_marked(&mb), 1);	/* the mark stays */
	mailbox_free(&mb);
	assert_int_equal(mb.n, 0);
	assert_int_equal(mb.fd, -1);
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
		cmocka_unit_test(test_commit_in_memory),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_limits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_msg_open_refuses, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
