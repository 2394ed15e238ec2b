/* test_cmd_sendmail - postern sendmail as a whole, in-process: stdin from
 * a file, config through -C or POSTERN_CONF, the maildrop file it leaves
 * (envelope, added headers, mode 0644 whatever the umask, no temporary
 * file left), and every exit code: 0, 64, 65, 75, 78. */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "maildrop.h"
#include "qfile.h"

struct fx {
	char	dir[64];
	char	conf[128];
	char	badconf[128];
	char	maildrop[160];
	char	login[64];
};

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct passwd *pw = getpwuid(geteuid());
	char path[128], text[512];

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_cmd_sendmail.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/postern.conf", f->dir);
	snprintf(f->badconf, sizeof(f->badconf), "%s/bad.conf", f->dir);
	snprintf(path, sizeof(path), "%s/spool", f->dir);
	assert_int_equal(mkdir(path, 0711), 0);
	snprintf(f->maildrop, sizeof(f->maildrop), "%s/maildrop", path);
	assert_int_equal(mkdir(f->maildrop, 01733), 0);
	snprintf(text, sizeof(text), "hostname = mx.mydomain.test\n"
	    "local_domains = mydomain.test\nusers = users\nspool = %s\n"
	    "listen_smtp = 127.0.0.1:25\nmax_message_size = 2048\n"
	    "max_recipients = 3\n"
	    "relay_rules = /nonexistent/root-only/relay_rules\n", path);
	put(f->conf, text);
	put(f->badconf, "frobnicate = 1\n");
	snprintf(f->login, sizeof(f->login), "%s", pw ? pw->pw_name : "?");
	unsetenv("POSTERN_CONF");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	(void)system(cmd);
	free(f);
	return 0;
}

/* cmd_sendmail with argv (NULL-terminated, after "sendmail") and stdin. */
static int
run(struct fx *f, const char *in, size_t inlen, char **argv)
{
	char path[160], *av[32];
	int argc = 0, saved, fd, rc, saved_err, null;

	av[argc++] = "sendmail";
	while (*argv != NULL)
		av[argc++] = *argv++;
	av[argc] = NULL;
	snprintf(path, sizeof(path), "%s/stdin", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, in, inlen), (ssize_t)inlen);
	lseek(fd, 0, SEEK_SET);
	saved = dup(0);
	dup2(fd, 0);
	close(fd);
	/* keep the test output readable: stderr to /dev/null */
	fflush(stderr);
	saved_err = dup(2);
	null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	close(null);
	rc = cmd_sendmail(argc, av, NULL);
	fflush(stderr);
	dup2(saved_err, 2);
	close(saved_err);
	dup2(saved, 0);
	close(saved);
	return rc;
}

#define RUN(f, in, ...) \
	run(f, in, sizeof(in) - 1, (char *[]){ __VA_ARGS__, NULL })

/* The only file in maildrop/ (none: returns 0), read into b, removed. */
static int
take(struct fx *f, struct buf *b, struct stat *st, char *name, size_t nlen)
{
	struct dirent *de;
	char path[256], chunk[4096];
	DIR *d = opendir(f->maildrop);
	int n = 0, fd;
	ssize_t r;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n++;
		snprintf(name, nlen, "%s", de->d_name);
	}
	closedir(d);
	if (n != 1)
		return n;
	snprintf(path, sizeof(path), "%s/%s", f->maildrop, name);
	fd = open(path, O_RDONLY);
	assert_int_equal(fstat(fd, st), 0);
	buf_reset(b);
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(b, chunk, (size_t)r);
	close(fd);
	unlink(path);
	return 1;
}

static void
test_deliver(void **state)
{
	struct fx *f = *state;
	struct maildrop_envelope e;
	struct buf b;
	struct stat st;
	char name[256], want[512], addr[300];
	const char *c;
	mode_t old = umask(077);

	buf_init(&b, 1 << 20);
	assert_int_equal(RUN(f, "Subject: hi\nTo: x@y.z\n\nbody\n.\nafter\n",
	    "-C", f->conf, "-F", "Test User", "alice", "Bob <bob@example.net>"), 0);
	umask(old);
	assert_int_equal(take(f, &b, &st, name, sizeof(name)), 1);
	assert_true(qfile_id_valid(name));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &e), MAILDROP_OK);
	assert_int_equal(e.uid, geteuid());
	snprintf(want, sizeof(want), "%s@mydomain.test", f->login);
	assert_string_equal(address_format(&e.from, addr, sizeof(addr)), want);
	assert_int_equal(e.nrcpts, 2);
	assert_string_equal(address_format(&e.rcpts[0], addr, sizeof(addr)),
	    "alice@mydomain.test");
	assert_string_equal(address_format(&e.rcpts[1], addr, sizeof(addr)),
	    "bob@example.net");
	c = b.data + e.content_off;
	/* the "." line ended the input; headers added after the user's */
	snprintf(want, sizeof(want), "Subject: hi\r\nTo: x@y.z\r\n"
	    "From: \"Test User\" <%s@mydomain.test>\r\nDate: ", f->login);
	assert_memory_equal(c, want, strlen(want));
	assert_non_null(strstr(c, "\r\nMessage-ID: <"));
	assert_non_null(strstr(c, "@mx.mydomain.test>\r\n\r\nbody\r\n"));
	assert_null(strstr(c, "after"));
	maildrop_envelope_free(&e);

	/* -i -f, CRLF input, headers present: nothing added */
	assert_int_equal(RUN(f, "From: me\r\nDate: d\r\nMessage-ID: <m@x>\r\n\r\n.\r\nx\r\n",
	    "-C", f->conf, "-oi", "-f", "<>", "--", "bob@example.net"), 0);
	assert_int_equal(take(f, &b, &st, name, sizeof(name)), 1);
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &e), MAILDROP_OK);
	assert_true(e.from.is_null);
	assert_string_equal(b.data + e.content_off,
	    "From: me\r\nDate: d\r\nMessage-ID: <m@x>\r\n\r\n.\r\nx\r\n");
	maildrop_envelope_free(&e);

	/* -t: recipients from the headers, Bcc removed; config from the
	 * environment */
	setenv("POSTERN_CONF", f->conf, 1);
	assert_int_equal(RUN(f, "To: a@x.y\nBcc: hidden\nSubject: s\n\nb\n",
	    "-t", "-i"), 0);
	unsetenv("POSTERN_CONF");
	assert_int_equal(take(f, &b, &st, name, sizeof(name)), 1);
	assert_int_equal(maildrop_envelope_parse(b.data, b.len, 0, &e), MAILDROP_OK);
	assert_int_equal(e.nrcpts, 2);
	assert_string_equal(address_format(&e.rcpts[1], addr, sizeof(addr)),
	    "hidden@mydomain.test");
	assert_null(strstr(b.data + e.content_off, "hidden"));
	assert_null(strstr(b.data + e.content_off, "Bcc"));
	maildrop_envelope_free(&e);

	/* -bi: nothing to do, nothing written */
	assert_int_equal(RUN(f, "", "-C", f->conf, "-bi"), 0);
	assert_int_equal(take(f, &b, &st, name, sizeof(name)), 0);
	buf_free(&b);
}

static void
test_exit_codes(void **state)
{
	struct fx *f = *state;
	struct buf b;
	struct stat st;
	char name[256], path[160], big[2100];

	buf_init(&b, 1 << 20);
	/* 64: usage */
	assert_int_equal(RUN(f, "x\n", "-C", f->conf), 64);	/* no recipient */
	assert_int_equal(RUN(f, "x\n", "-C", f->conf, "-t"), 64);
	assert_int_equal(RUN(f, "x\n", "-C", f->conf, "-Z", "a"), 64);
	assert_int_equal(RUN(f, "x\n", "-C", f->conf, "-bs"), 64);
	/* 65: data */
	assert_int_equal(RUN(f, "x\n", "-C", f->conf, "a@@b"), 65);
	assert_int_equal(RUN(f, "x\n", "-C", f->conf, "u%h@example.net"), 65);
	assert_int_equal(RUN(f, "x\n", "-C", f->conf, "-f", "a b@c", "x"), 65);
	assert_int_equal(RUN(f, "To: a@@b\n\nx\n", "-C", f->conf, "-t"), 65);
	assert_int_equal(RUN(f, "a\0b\n", "-C", f->conf, "x"), 65);
	assert_int_equal(RUN(f, "x\n", "-C", f->conf, "a", "b", "c", "d"), 65);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	assert_int_equal(run(f, big, sizeof(big), (char *[]){ "-C", f->conf,
	    "x", NULL }), 65);
	/* 78: invalid config; 75: unreadable config */
	assert_int_equal(RUN(f, "x\n", "-C", f->badconf, "x"), 78);
	snprintf(path, sizeof(path), "%s/missing.conf", f->dir);
	assert_int_equal(RUN(f, "x\n", "-C", path, "x"), 75);
	/* nothing was dropped by any of these */
	assert_int_equal(take(f, &b, &st, name, sizeof(name)), 0);
	/* 75: maildrop missing */
	assert_int_equal(rmdir(f->maildrop), 0);
	assert_int_equal(RUN(f, "x\n", "-C", f->conf, "x"), 75);
	/* 75: maildrop not writable (a file in its place) */
	put(f->maildrop, "");
	assert_int_equal(RUN(f, "x\n", "-C", f->conf, "x"), 75);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deliver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
	};

	return cmocka_run_group_tests_name("cmd_sendmail", tests, NULL, NULL);
}
