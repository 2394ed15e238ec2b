/* test_fileio - whole writes and bounded whole reads (content compared,
 * not only lengths), whole-file and prefix reads, and the atomic rewrite:
 * content and mode of the new file, the old file intact and no temporary
 * left after each failure that can be provoked, and the directory fsync's
 * failure reported. */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileio.h"

static void
test_write_read(void **state)
{
	struct buf b;
	char data[20000];
	size_t i;
	int p[2];

	(void)state;
	for (i = 0; i < sizeof(data); i++)	/* every chunk boundary differs */
		data[i] = (char)('a' + i % 23);
	assert_int_equal(pipe(p), 0);
	if (fork() == 0) {			/* more than a pipe holds */
		close(p[0]);
		_exit(fileio_write_all(p[1], data, sizeof(data)) == 0 ? 0 : 1);
	}
	close(p[1]);
	buf_init(&b, 32768);
	assert_int_equal(fileio_read_all(p[0], &b), 0);
	assert_int_equal(b.len, sizeof(data));
	assert_memory_equal(b.data, data, sizeof(data));
	close(p[0]);
	buf_free(&b);
	wait(NULL);
}

static void
test_read_cap(void **state)
{
	struct buf b;
	char data[100];
	int p[2];

	(void)state;
	memset(data, 'y', sizeof(data));
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fileio_write_all(p[1], data, sizeof(data)), 0);
	close(p[1]);
	buf_init(&b, 99);			/* one byte short */
	assert_int_equal(fileio_read_all(p[0], &b), -1);
	assert_int_equal(errno, EFBIG);
	close(p[0]);
	buf_free(&b);
	assert_int_equal(fileio_write_all(-1, data, 1), -1);
	assert_int_equal(errno, EBADF);
}

/* A fresh directory, opened; its path in path. */
static int
tmpdir(char *path, size_t len)
{
	int dfd;

	snprintf(path, len, "/tmp/test_fileio.XXXXXX");
	assert_non_null(mkdtemp(path));
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	return dfd;
}

static void
rmdir_all(int dfd, const char *path)
{
	char cmd[128];

	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
	assert_int_equal(system(cmd), 0);
}

static void
put(int dfd, const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(fileio_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

/* dfd/name holds exactly want. */
static void
has(int dfd, const char *name, const char *want)
{
	struct buf b;

	assert_int_equal(fileio_read_file(dfd, name, 0, 1 << 20, &b, NULL), 0);
	assert_int_equal(b.len, strlen(want));
	if (b.len > 0)
		assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static int
exists_at(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
test_read_file(void **state)
{
	struct buf b;
	struct stat st;
	char path[64];
	int dfd;

	(void)state;
	dfd = tmpdir(path, sizeof(path));
	put(dfd, "f", "line one\nline two\n");
	has(dfd, "f", "line one\nline two\n");
	assert_int_equal(fileio_read_file(dfd, "f", 0, 100, &b, &st), 0);
	assert_int_equal(st.st_size, 18);
	buf_free(&b);
	/* too large: EFBIG, and what fitted is there */
	assert_int_equal(fileio_read_file(dfd, "f", 0, 10, &b, NULL), -1);
	assert_int_equal(errno, EFBIG);
	buf_free(&b);
	/* missing */
	assert_int_equal(fileio_read_file(dfd, "nope", 0, 10, &b, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	/* a symlink only when asked; a directory or FIFO never */
	assert_int_equal(symlinkat("f", dfd, "l"), 0);
	assert_int_equal(fileio_read_file(dfd, "l", 0, 100, &b, NULL), -1);
	assert_int_equal(errno, ELOOP);
	buf_free(&b);
	assert_int_equal(fileio_read_file(dfd, "l", FILEIO_FOLLOW, 100, &b,
	    NULL), 0);
	assert_int_equal(b.len, 18);
	buf_free(&b);
	assert_int_equal(mkdirat(dfd, "d", 0700), 0);
	assert_int_equal(fileio_read_file(dfd, "d", 0, 100, &b, NULL), -1);
	assert_int_equal(errno, EINVAL);
	buf_free(&b);
	assert_int_equal(mkfifoat(dfd, "p", 0600), 0);
	assert_int_equal(fileio_read_file(dfd, "p", 0, 100, &b, NULL), -1);
	assert_int_equal(errno, EINVAL);	/* and it did not block */
	buf_free(&b);
	/* AT_FDCWD with a path */
	{
		char full[96];

		snprintf(full, sizeof(full), "%s/f", path);
		assert_int_equal(fileio_read_file(AT_FDCWD, full, 0, 100, &b,
		    NULL), 0);
		assert_int_equal(b.len, 18);
		buf_free(&b);
	}
	rmdir_all(dfd, path);
}

static void
test_read_prefix(void **state)
{
	struct buf b;
	char path[64], big[20000];
	int dfd, fd;

	(void)state;
	dfd = tmpdir(path, sizeof(path));
	put(dfd, "q", "a 1\nb 2\n\nbody\n");
	fd = openat(dfd, "q", O_RDONLY);
	buf_init(&b, 1000);
	assert_int_equal(fileio_read_prefix(fd, "\n\n", 2, &b), 1);
	assert_memory_equal(b.data, "a 1\nb 2\n\n", 9);
	buf_free(&b);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);	/* offset untouched */
	close(fd);
	put(dfd, "q", "a 1\nb 2\n");			/* not terminated */
	fd = openat(dfd, "q", O_RDONLY);
	buf_init(&b, 1000);
	assert_int_equal(fileio_read_prefix(fd, "\n\n", 2, &b), 0);
	assert_int_equal(b.len, 8);
	buf_free(&b);
	close(fd);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(dfd, "q", big);
	fd = openat(dfd, "q", O_RDONLY);
	buf_init(&b, 10000);
	assert_int_equal(fileio_read_prefix(fd, "\n\n", 2, &b), -1);
	assert_int_equal(errno, EFBIG);
	buf_free(&b);
	close(fd);
	rmdir_all(dfd, path);
}

static void
test_replace(void **state)
{
	const struct fileio_new nf = { 0640, (uid_t)-1, (gid_t)-1, 0 };
	enum fileio_step step = FILEIO_OPEN;
	struct stat st;
	char path[64];
	mode_t old;
	int dfd;

	(void)state;
	dfd = tmpdir(path, sizeof(path));
	/* a new file */
	old = umask(077);	/* the mode is exact: the umask does not apply */
	assert_int_equal(fileio_replace(dfd, "t", "t.tmp", "one\n", 4, &nf,
	    &step), 0);
	umask(old);
	assert_int_equal(step, FILEIO_DONE);
	has(dfd, "t", "one\n");
	assert_int_equal(fstatat(dfd, "t", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_false(exists_at(dfd, "t.tmp"));
	/* replaced, longer then shorter (no leftover bytes), then empty */
	assert_int_equal(fileio_replace(dfd, "t", "t.tmp", "second line\n", 12,
	    &nf, NULL), 0);
	has(dfd, "t", "second line\n");
	assert_int_equal(fileio_replace(dfd, "t", "t.tmp", "3\n", 2, &nf,
	    NULL), 0);
	has(dfd, "t", "3\n");
	assert_int_equal(fileio_replace(dfd, "t", "t.tmp", NULL, 0, &nf,
	    NULL), 0);
	has(dfd, "t", "");
	assert_false(exists_at(dfd, "t.tmp"));
	rmdir_all(dfd, path);
}

static void
test_replace_temporary(void **state)
{
	struct fileio_new nf = { 0600, (uid_t)-1, (gid_t)-1, 0 };
	enum fileio_step step;
	char path[64];
	int dfd;

	(void)state;
	dfd = tmpdir(path, sizeof(path));
	put(dfd, "t", "old\n");
	/* someone else's temporary: EEXIST at the open, nothing touched */
	put(dfd, "t.tmp", "theirs\n");
	assert_int_equal(fileio_replace(dfd, "t", "t.tmp", "new\n", 4, &nf,
	    &step), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(step, FILEIO_OPEN);
	has(dfd, "t", "old\n");
	has(dfd, "t.tmp", "theirs\n");
	/* a leftover (the caller holds the lock): replaced */
	nf.flags = FILEIO_TMP_LEFTOVER;
	assert_int_equal(fileio_replace(dfd, "t", "t.tmp", "new\n", 4, &nf,
	    &step), 0);
	has(dfd, "t", "new\n");
	assert_false(exists_at(dfd, "t.tmp"));
	/* a symlink as the temporary is never followed */
	put(dfd, "victim", "keep\n");
	assert_int_equal(symlinkat("victim", dfd, "t.tmp"), 0);
	nf.flags = 0;
	assert_int_equal(fileio_replace(dfd, "t", "t.tmp", "x\n", 2, &nf,
	    &step), -1);
	assert_int_equal(step, FILEIO_OPEN);
	has(dfd, "victim", "keep\n");
	nf.flags = FILEIO_TMP_LEFTOVER;		/* removed, not written through */
	assert_int_equal(fileio_replace(dfd, "t", "t.tmp", "x\n", 2, &nf,
	    &step), 0);
	has(dfd, "victim", "keep\n");
	has(dfd, "t", "x\n");
	rmdir_all(dfd, path);
}

static void
test_replace_failures(void **state)
{
	const struct fileio_new nf = { 0600, (uid_t)-1, (gid_t)-1, 0 };
	enum fileio_step step;
	char path[64];
	int dfd, pfd;

	(void)state;
	dfd = tmpdir(path, sizeof(path));
	put(dfd, "t", "old\n");
	/* the rename fails (a directory is in the way): the temporary goes */
	assert_int_equal(mkdirat(dfd, "d", 0700), 0);
	assert_int_equal(mkdirat(dfd, "d/sub", 0700), 0);
	assert_int_equal(fileio_replace(dfd, "d", "d.tmp", "x\n", 2, &nf,
	    &step), -1);
	assert_int_equal(step, FILEIO_RENAME);
	assert_false(exists_at(dfd, "d.tmp"));
	assert_true(exists_at(dfd, "d/sub"));
	/* no such directory to create the temporary in */
	assert_int_equal(fileio_replace(dfd, "t", "nodir/t.tmp", "x\n", 2, &nf,
	    &step), -1);
	assert_int_equal(step, FILEIO_OPEN);
	assert_int_equal(errno, ENOENT);
	has(dfd, "t", "old\n");
	/* a bad directory descriptor */
	assert_int_equal(fileio_replace(-1, "t", "t.tmp", "x\n", 2, &nf,
	    &step), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(step, FILEIO_OPEN);
	/* The directory fsync's failure is reported: an O_PATH descriptor
	 * serves openat and renameat but not fsync (EBADF). The new file
	 * is in place then, not yet durable. */
	pfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(pfd >= 0);
	assert_int_equal(fileio_replace(pfd, "t", "t.tmp", "new\n", 4, &nf,
	    &step), -1);
	assert_int_equal(step, FILEIO_DIRSYNC);
	assert_int_equal(errno, EBADF);
	has(dfd, "t", "new\n");
	assert_false(exists_at(dfd, "t.tmp"));
	close(pfd);
	assert_string_equal(fileio_step_name(FILEIO_DIRSYNC), "directory fsync");
	assert_string_equal(fileio_step_name(FILEIO_WRITE), "write");
	rmdir_all(dfd, path);
}

static void
test_replace_write_failure(void **state)
{
	const struct fileio_new nf = { 0600, (uid_t)-1, (gid_t)-1, 0 };
	enum fileio_step step;
	struct rlimit rl, saved;
	char path[64], data[4096];
	int dfd;

	(void)state;
	dfd = tmpdir(path, sizeof(path));
	put(dfd, "t", "old\n");
	/* A file size limit makes the write fail (EFBIG; SIGXFSZ ignored):
	 * the old file is intact, the temporary removed. */
	memset(data, 'z', sizeof(data));
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	rl = saved;
	rl.rlim_cur = 1000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	assert_int_equal(fileio_replace(dfd, "t", "t.tmp", data, sizeof(data),
	    &nf, &step), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(step, FILEIO_WRITE);
	has(dfd, "t", "old\n");
	assert_false(exists_at(dfd, "t.tmp"));
	rmdir_all(dfd, path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_read_cap),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_read_prefix),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_replace_temporary),
		cmocka_unit_test(test_replace_failures),
		cmocka_unit_test(test_replace_write_failure),
	};
	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
