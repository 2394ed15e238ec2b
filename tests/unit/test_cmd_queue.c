/* test_cmd_queue - postern queue: ages, then the subcommand itself on a
 * temporary spool: list (held marks, pending recipients, last errors,
 * deferred state the queue process would reject shown as such),
 * hold/release/delete with their exit codes, flush (next 0, owner and mode
 * kept, malformed state left alone), and ids that try path tricks. */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cmd_queue.h"
#include "cmds.h"
#include "qfile.h"

static void
test_age(void **state)
{
	char b[32];

	(void)state;
	cmd_queue_age(-3, b, sizeof(b));
	assert_string_equal(b, "0s");
	cmd_queue_age(59, b, sizeof(b));
	assert_string_equal(b, "59s");
	cmd_queue_age(60, b, sizeof(b));
	assert_string_equal(b, "1m");
	cmd_queue_age(3599, b, sizeof(b));
	assert_string_equal(b, "59m");
	cmd_queue_age(3600, b, sizeof(b));
	assert_string_equal(b, "1h");
	cmd_queue_age(86400, b, sizeof(b));
	assert_string_equal(b, "1d");
	cmd_queue_age(86400 * 2 + 3600 * 5 + 7, b, sizeof(b));
	assert_string_equal(b, "2d5h");
}

/* ---- the command on a spool ---- */

struct fx {
	char	dir[64];
	char	conf[128];
	int	queue_fd, hold_fd, deferred_fd;
};

#define ID1	"0000019C7E3A1B2F4A1"
#define ID2	"0000019C7E3A1B2F4A2"
#define ID3	"0000019C7E3A1B2F4A3"

static void
put(int dfd, const char *name, const char *text, mode_t mode)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
queue_file(int dfd, const char *id, const char *from, const char *rcpts)
{
	char text[2048];

	snprintf(text, sizeof(text), "POSTERN-QUEUE 1\nid %s\ntime %lld\n"
	    "client 127.0.0.1\nauth -\nfrom <%s>\n%shelo x\n\n"
	    "Subject: t\r\n\r\nbody\r\n", id, (long long)time(NULL) - 300,
	    from, rcpts);
	put(dfd, id, text, 0600);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[256], text[512];
	int spool;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_cmd_queue.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/postern.conf", f->dir);
	snprintf(path, sizeof(path), "%s/spool", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(text, sizeof(text), "local_domains = mydomain.test\n"
	    "users = users\nspool = %s\nlisten_smtp = 127.0.0.1:25\n", path);
	put(AT_FDCWD, f->conf, text, 0600);
	spool = open(path, O_RDONLY | O_DIRECTORY);
	assert_int_equal(mkdirat(spool, "queue", 0700), 0);
	assert_int_equal(mkdirat(spool, "deferred", 0700), 0);
	f->queue_fd = openat(spool, "queue", O_RDONLY | O_DIRECTORY);
	f->deferred_fd = openat(spool, "deferred", O_RDONLY | O_DIRECTORY);
	f->hold_fd = -1;	/* created by `hold` */
	close(spool);
	queue_file(f->queue_fd, ID1, "alice@mydomain.test",
	    "rcpt D L alice <alice@mydomain.test>\n"
	    "rcpt P R - <bob@example.net>\n"
	    "rcpt P R - <carol@example.net>\n");
	put(f->deferred_fd, ID1, "next 4102444800\nattempts 2\n"
	    "error 1 connect to 127.0.0.1:9: Connection refused\n", 0640);
	queue_file(f->queue_fd, ID2, "", "rcpt P R - <dave@example.net>\n");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	close(f->queue_fd);
	close(f->deferred_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	(void)system(cmd);
	free(f);
	return 0;
}

/* Run postern queue with stdout captured into out. */
static int
run(struct fx *f, struct buf *out, const char *cmd, const char *id)
{
	char *argv[6];
	char path[160], chunk[4096];
	int argc = 0, saved, fd, rc;
	ssize_t r;

	argv[argc++] = "queue";
	if (cmd)
		argv[argc++] = (char *)cmd;
	if (id)
		argv[argc++] = (char *)id;
	argv[argc] = NULL;
	snprintf(path, sizeof(path), "%s/stdout", f->dir);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	rc = cmd_queue(argc, argv, f->conf);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	buf_reset(out);
	lseek(fd, 0, SEEK_SET);
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)r);
	close(fd);
	return rc;
}

static int
exists_at(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
test_list(void **state)
{
	struct fx *f = *state;
	struct buf out;

	buf_init(&out, 1 << 16);
	assert_int_equal(run(f, &out, NULL, NULL), 0);	/* list is the default */
	assert_non_null(strstr(out.data, ID1 "  "));
	assert_non_null(strstr(out.data, "<alice@mydomain.test>  (attempts 2, next in "));
	/* pending recipients only, each with its last error */
	assert_null(strstr(out.data, "<alice@mydomain.test>\n"));
	assert_non_null(strstr(out.data,
	    "      <bob@example.net>: connect to 127.0.0.1:9: Connection refused\n"));
	assert_non_null(strstr(out.data, "      <carol@example.net>\n"));
	assert_non_null(strstr(out.data, ID2 " "));
	assert_non_null(strstr(out.data, "5m  <>\n"));
	assert_non_null(strstr(out.data, "-- 2 messages (0 held)"));
	/* what the queue process would not believe is not shown as state:
	 * the lenient reading would have said "attempts 9" */
	put(f->deferred_fd, ID2, "attempts 9\nerror 0 old\n", 0600);	/* no "next" */
	assert_int_equal(run(f, &out, "list", NULL), 0);
	assert_non_null(strstr(out.data, "5m  <>  (unreadable deferred state)\n"));
	assert_null(strstr(out.data, "attempts 9"));
	assert_non_null(strstr(out.data, "      <dave@example.net>\n"));
	unlinkat(f->deferred_fd, ID2, 0);
	/* held: marked */
	assert_int_equal(run(f, &out, "hold", ID2), 0);
	assert_int_equal(run(f, &out, "list", NULL), 0);
	assert_non_null(strstr(out.data, ID2 "!"));
	assert_non_null(strstr(out.data, "(held)"));
	assert_non_null(strstr(out.data, "-- 2 messages (1 held)"));
	/* empty */
	assert_int_equal(run(f, &out, "delete", ID1), 0);
	assert_int_equal(run(f, &out, "delete", ID2), 0);
	assert_int_equal(run(f, &out, "list", NULL), 0);
	assert_string_equal(out.data, "Mail queue is empty\n");
	buf_free(&out);
}

static void
test_hold_release_delete(void **state)
{
	struct fx *f = *state;
	struct buf out;
	char path[160];
	int hold;

	buf_init(&out, 1 << 16);
	assert_int_equal(run(f, &out, "hold", ID1), 0);
	snprintf(path, sizeof(path), "%s/spool/hold", f->dir);
	hold = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(hold >= 0);
	assert_true(exists_at(hold, ID1));
	assert_false(exists_at(f->queue_fd, ID1));
	assert_int_equal(run(f, &out, "hold", ID1), 0);	/* already */
	assert_non_null(strstr(out.data, "already on hold"));
	assert_int_equal(run(f, &out, "release", ID2), 1);	/* not held */
	assert_int_equal(run(f, &out, "release", ID1), 0);
	assert_true(exists_at(f->queue_fd, ID1));
	assert_false(exists_at(hold, ID1));
	assert_int_equal(run(f, &out, "release", ID1), 1);
	/* release made it due now */
	{
		char b[256];
		int fd = openat(f->deferred_fd, ID1, O_RDONLY);
		ssize_t n = read(fd, b, sizeof(b) - 1);

		b[n > 0 ? n : 0] = '\0';
		close(fd);
		assert_memory_equal(b, "next 0\nattempts 2\n", 18);
	}
	/* release must not replace a queue file of the same id */
	assert_int_equal(run(f, &out, "hold", ID2), 0);
	queue_file(f->queue_fd, ID2, "x@y.z", "rcpt P R - <z@example.net>\n");
	assert_int_equal(run(f, &out, "release", ID2), 1);
	assert_true(exists_at(hold, ID2));
	unlinkat(hold, ID2, 0);

	/* delete: queue file and deferred state; then no such message */
	assert_int_equal(run(f, &out, "delete", ID1), 0);
	assert_false(exists_at(f->queue_fd, ID1));
	assert_false(exists_at(f->deferred_fd, ID1));
	assert_int_equal(run(f, &out, "delete", ID1), 1);
	assert_int_equal(run(f, &out, "hold", ID1), 1);
	assert_int_equal(run(f, &out, "delete", ID3), 1);
	/* a held message can be deleted */
	assert_int_equal(run(f, &out, "hold", ID2), 0);
	assert_int_equal(run(f, &out, "delete", ID2), 0);
	assert_false(exists_at(hold, ID2));
	close(hold);

	/* ids with path tricks, and usage errors */
	assert_int_equal(run(f, &out, "delete", "../postern.conf"), 1);
	assert_int_equal(run(f, &out, "delete", ".flush"), 1);
	assert_int_equal(run(f, &out, "delete", ID1 "/"), 1);
	assert_int_equal(run(f, &out, "delete", "0000019c7e3a1b2f4a1"), 1);
	assert_int_equal(run(f, &out, "delete", NULL), CMDS_EX_USAGE);
	assert_int_equal(run(f, &out, "frobnicate", NULL), CMDS_EX_USAGE);
	assert_int_equal(run(f, &out, "list", ID1), CMDS_EX_USAGE);
	buf_free(&out);
}

static void
test_flush(void **state)
{
	struct fx *f = *state;
	struct buf out;
	struct stat st;
	char b[256];
	ssize_t n;
	int fd;

	buf_init(&out, 1 << 16);
	put(f->deferred_fd, ID2, "next 7\nattempts 1\n", 0600);
	put(f->deferred_fd, "." ID2 ".tmp", "stale", 0600);	/* a crash leftover, recent */
	assert_int_equal(run(f, &out, "flush", NULL), 0);
	assert_non_null(strstr(out.data, "flush: 1 deferred message due now"));
	fd = openat(f->deferred_fd, ID1, O_RDONLY);
	n = read(fd, b, sizeof(b) - 1);
	b[n > 0 ? n : 0] = '\0';
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	assert_string_equal(b, "next 0\nattempts 2\n"
	    "error 1 connect to 127.0.0.1:9: Connection refused\n");
	assert_int_equal(st.st_mode & 0777, 0640);	/* mode kept */
	/* ID2's temporary file is fresh: someone is writing; skipped */
	fd = openat(f->deferred_fd, ID2, O_RDONLY);
	n = read(fd, b, sizeof(b) - 1);
	b[n > 0 ? n : 0] = '\0';
	close(fd);
	assert_string_equal(b, "next 7\nattempts 1\n");
	assert_false(exists_at(f->queue_fd, ".flush"));
	/* state the queue process would reject is not rewritten (it retries
	 * such a message now anyway) */
	unlinkat(f->deferred_fd, "." ID2 ".tmp", 0);
	put(f->deferred_fd, ID2, "attempts 1\nnext soon\n", 0600);
	assert_int_equal(run(f, &out, "flush", NULL), 0);
	assert_non_null(strstr(out.data, "flush: 1 deferred message due now"));
	fd = openat(f->deferred_fd, ID2, O_RDONLY);
	n = read(fd, b, sizeof(b) - 1);
	b[n > 0 ? n : 0] = '\0';
	close(fd);
	assert_string_equal(b, "attempts 1\nnext soon\n");
	/* deferred state of a message that is gone is not resurrected */
	put(f->deferred_fd, ID3, "next 5\n", 0600);
	assert_int_equal(run(f, &out, "flush", NULL), 0);
	assert_false(exists_at(f->deferred_fd, ID3));
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_release_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
	};

	return cmocka_run_group_tests_name("cmd_queue", tests, NULL, NULL);
}
