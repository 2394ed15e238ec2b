/* test_maildir - delivery into a Maildir under a temporary directory. */
#include "unit.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "maildir.h"

static char root[64];
static int mail_fd = -1;

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_maildir.XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	mail_fd = open(root, O_RDONLY | O_DIRECTORY);
	return mail_fd == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	close(mail_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* The only file in DIR; its name into name. */
static int
only_file(const char *dir, char *name, size_t len)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(name, len, "%s", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static void
test_deliver(void **state)
{
	static const char src[] = "ENVELOPE\n\nReceived: x\r\n\r\nhello\r\n.dot\r\n";
	char srcpath[128], dir[160], name[256], path[512], got[256], rname[256];
	const char *hdr = "Return-Path: <a@b>\r\nDelivered-To: alice@d\r\n";
	struct stat st;
	int sfd, fd;
	ssize_t n;

	(void)state;
	snprintf(srcpath, sizeof(srcpath), "%s/src", root);
	sfd = open(srcpath, O_RDWR | O_CREAT, 0600);
	assert_true(sfd >= 0);
	assert_int_equal(write(sfd, src, sizeof(src) - 1), (ssize_t)sizeof(src) - 1);
	assert_int_equal(maildir_deliver(mail_fd, "alice", "host/with:odd", hdr,
	    strlen(hdr), sfd, 10, rname, sizeof(rname)), 0);
	snprintf(dir, sizeof(dir), "%s/alice/Maildir/new", root);
	assert_int_equal(only_file(dir, name, sizeof(name)), 1);
	assert_string_equal(name, rname);
	assert_null(strchr(name, ':'));
	assert_non_null(strstr(name, "host_with_odd,S="));
	snprintf(dir, sizeof(dir), "%s/alice/Maildir/tmp", root);
	assert_int_equal(only_file(dir, got, sizeof(got)), 0);
	snprintf(dir, sizeof(dir), "%s/alice/Maildir/cur", root);
	assert_int_equal(stat(dir, &st), 0);
	snprintf(path, sizeof(path), "%s/alice/Maildir/new/%s", root, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, got, sizeof(got));
	close(fd);
	assert_int_equal((size_t)n, strlen(hdr) + sizeof(src) - 1 - 10);
	assert_memory_equal(got, hdr, strlen(hdr));
	assert_memory_equal(got + strlen(hdr), src + 10, sizeof(src) - 1 - 10);
	/* ,S= carries the exact size (POP3 uses it). */
	snprintf(path, sizeof(path), ",S=%zd", n);
	assert_non_null(strstr(name, path));
	/* A second delivery gets a distinct name. */
	assert_int_equal(maildir_deliver(mail_fd, "alice", "h", hdr, strlen(hdr),
	    sfd, 10, NULL, 0), 0);
	snprintf(dir, sizeof(dir), "%s/alice/Maildir/new", root);
	assert_int_equal(only_file(dir, name, sizeof(name)), 2);
	close(sfd);
}

static void
test_failure_leaves_nothing(void **state)
{
	char dir[160], name[256];

	(void)state;
	/* A bad source descriptor: the delivery fails and tmp/ stays empty. */
	assert_int_equal(maildir_deliver(mail_fd, "bob", "h", "X: y\r\n", 6, -1, 0,
	    NULL, 0), -1);
	snprintf(dir, sizeof(dir), "%s/bob/Maildir/tmp", root);
	assert_int_equal(only_file(dir, name, sizeof(name)), 0);
	snprintf(dir, sizeof(dir), "%s/bob/Maildir/new", root);
	assert_int_equal(only_file(dir, name, sizeof(name)), 0);
}

static void
test_clean_tmp(void **state)
{
	char path[256], name[256];
	int fd;

	(void)state;
	assert_int_equal(maildir_create(mail_fd, "carol"), 0);
	snprintf(path, sizeof(path), "%s/carol/Maildir/tmp/1.M2P3Q4.h", root);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "half", 4), 4);
	close(fd);
	assert_true(maildir_clean_tmp(mail_fd) >= 1);
	snprintf(path, sizeof(path), "%s/carol/Maildir/tmp", root);
	assert_int_equal(only_file(path, name, sizeof(name)), 0);
	assert_int_equal(maildir_clean_tmp(mail_fd), 0);
}

/* Defence in depth: names that are not mailboxes never become
 * paths, whatever the caller (a forged queue file) passes. */
static void
test_refuses_bad_names(void **state)
{
	static const char *const bad[] = { "../../../../tmp/x", "a/b", ".",
	    "..", ".hidden", "", "Alice", "-x",
	    "abcdefghijabcdefghijabcdefghijabc" };	/* 33 > USERS_NAME_MAX */
	struct stat st;
	char path[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(maildir_name_ok(bad[i]), 0);
		errno = 0;
		assert_int_equal(maildir_create(mail_fd, bad[i]), -1);
		assert_int_equal(errno, EINVAL);
		errno = 0;
		assert_int_equal(maildir_deliver(mail_fd, bad[i], "h", "X: y\r\n",
		    6, -1, 0, NULL, 0), -1);
		assert_int_equal(errno, EINVAL);
	}
	snprintf(path, sizeof(path), "%s/a", root);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(maildir_name_ok("alice"), 1);
	assert_int_equal(maildir_name_ok("a.b-c_d"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deliver),
		cmocka_unit_test(test_failure_leaves_nothing),
		cmocka_unit_test(test_clean_tmp),
		cmocka_unit_test(test_refuses_bad_names),
	};
	return cmocka_run_group_tests_name("maildir", tests, setup, teardown);
}
