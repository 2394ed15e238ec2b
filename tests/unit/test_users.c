/* test_users - the user database: parsing, name and password rules, hash
 * and check, and atomic edits of the file (including two editors at once). */
#include "unit.h"

#include <crypt.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "users.h"

static char tmpdir[256];

struct name_case {
	const char	*name;
	int		 ok;
};

static const struct name_case name_cases[] = {
	{ "alice", 1 }, { "a", 1 }, { "0day", 1 }, { "a.b_c-d", 1 },
	{ "abcdefghijabcdefghijabcdefghijab", 1 },		/* 32 */
	{ "abcdefghijabcdefghijabcdefghijabc", 0 },		/* 33 */
	{ "", 0 }, { "Alice", 0 }, { ".alice", 0 }, { "-alice", 0 },
	{ "_alice", 0 }, { "al ice", 0 }, { "al:ice", 0 }, { "al/ice", 0 },
	{ "al@ice", 0 }, { "alice\n", 0 }, { "\xc3\xa9mile", 0 },
};

static void
test_name_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		if (users_name_valid(name_cases[i].name) != name_cases[i].ok) {
			fprintf(stderr, "name '%s'\n", name_cases[i].name);
			fail();
		}
	}
	assert_int_equal(users_name_valid(NULL), 0);
}

struct pw_case {
	const char	*pw;
	size_t		 len;
	int		 ok;
};

static const struct pw_case pw_cases[] = {
	{ "secret", 6, 1 },
	{ "x", 1, 1 },
	{ "with space and : colon", 22, 1 },
	{ "\xc3\xa9t\xc3\xa9", 5, 1 },
	{ "", 0, 0 },
	{ "a\0b", 3, 0 },
	{ "a\rb", 3, 0 },
	{ "a\nb", 3, 0 },
	{ "ab\r", 3, 0 },
	{ "ab\n", 3, 0 },
};

static void
test_password_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pw_cases) / sizeof(pw_cases[0]); i++)
		if (users_password_valid(pw_cases[i].pw, pw_cases[i].len) !=
		    pw_cases[i].ok) {
			fprintf(stderr, "password case %zu\n", i);
			fail();
		}
}

static void
test_parse(void **state)
{
	static const char text[] =
	    "# users\n"
	    "\n"
	    "alice:$y$j9T$abc$def\n"
	    "bob:$6$salt$hash:apop\r\n"
	    "Bad:$6$x$y\n"
	    "carol\n"
	    "dave:\n"
	    "erin:$6$x$y:frob\n"
	    "alice:$6$second$line\n"
	    "frank:has space\n"
	    "  # indented comment\n"
	    "gina:$6$x$y:apop,\n"
	    "hank:$6$x$y";	/* no final newline */
	struct errlist errs = { NULL, 0 };
	struct users *u;
	const struct user_entry *e;
	size_t i, len = sizeof(text) - 1;

	(void)state;
	u = users_parse("users", text, len, &errs);
	assert_non_null(u);
	assert_int_equal(u->n, 3);
	e = users_find(u, "alice");
	assert_non_null(e);
	assert_string_equal(e->hash, "$y$j9T$abc$def");	/* first wins */
	assert_int_equal(e->apop, 0);
	e = users_find(u, "bob");
	assert_non_null(e);
	assert_string_equal(e->hash, "$6$salt$hash");
	assert_int_equal(e->apop, 1);
	assert_non_null(users_find(u, "hank"));
	assert_null(users_find(u, "Bad"));
	assert_null(users_find(u, "carol"));
	assert_null(users_find(u, "nobody"));
	assert_int_equal(errs.n, 7);
	{
		static const char *want[] = { "users:5:", "users:6:",
		    "users:7:", "users:8:", "users:9:", "users:10:",
		    "users:12:" };

		for (i = 0; i < 7; i++)
			assert_true(strncmp(errs.msgs[i], want[i],
			    strlen(want[i])) == 0);
	}
	errlist_free(&errs);
	users_free(u);

	/* Byte by byte: every prefix parses without reading past the end. */
	for (i = 0; i <= len; i++) {
		char *copy = malloc(i + 1);

		memcpy(copy, text, i);
		u = users_parse("users", copy, i, &errs);
		assert_non_null(u);
		users_free(u);
		errlist_free(&errs);
		free(copy);
	}

	u = users_parse("users", "", 0, &errs);
	assert_int_equal(u->n, 0);
	assert_int_equal(errs.n, 0);
	users_free(u);
}

static void
test_hash_check(void **state)
{
	struct user_entry e;
	char *h, *salt;
	void *data = NULL;
	int size = 0;
	const char *h6;

	(void)state;
	memset(&e, 0, sizeof(e));
	h = users_hash_password("correct horse");
	assert_non_null(h);
	assert_true(strncmp(h, "$y$", 3) == 0 || strncmp(h, "$6$", 3) == 0);
	e.hash = h;
	assert_int_equal(users_check_password(&e, "correct horse"), 1);
	assert_int_equal(users_check_password(&e, "correct horsE"), 0);
	assert_int_equal(users_check_password(&e, "correct hors"), 0);
	assert_int_equal(users_check_password(&e, ""), 0);
	/* Two hashes of one password differ (salt). */
	{
		char *h2 = users_hash_password("correct horse");

		assert_non_null(h2);
		assert_string_not_equal(h, h2);
		free(h2);
	}
	free(h);

	/* SHA-512 hashes (the fallback) check too. */
	salt = crypt_gensalt_ra("$6$", 0, NULL, 0);
	assert_non_null(salt);
	h6 = crypt_ra("pw6", salt, &data, &size);
	assert_non_null(h6);
	e.hash = (char *)h6;
	assert_int_equal(users_check_password(&e, "pw6"), 1);
	assert_int_equal(users_check_password(&e, "pw7"), 0);
	free(salt);
	free(data);

	/* Locked or garbage hashes never match. */
	e.hash = (char *)"!";
	assert_int_equal(users_check_password(&e, "!"), 0);
	e.hash = (char *)"*";
	assert_int_equal(users_check_password(&e, "*"), 0);
	e.hash = (char *)"plain";
	assert_int_equal(users_check_password(&e, "plain"), 0);
	/* Unknown user: 0, after spending the time. */
	assert_int_equal(users_check_password(NULL, "x"), 0);

	/* Invalid passwords are not hashed. */
	assert_null(users_hash_password(""));
	assert_null(users_hash_password("a\nb"));
}

/* --- file edits ------------------------------------------------------ */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	return s;
}

static void
spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void
test_edit_missing_file(void **state)
{
	char path[PATH_MAX], err[256], *s;
	struct stat st;
	enum outcome tf = OUTCOME_OK;

	(void)state;
	path_in(path, sizeof(path), "users.new");
	assert_int_equal(users_file_edit(path, USERS_ADD, "alice", "$6$a$b",
	    err, sizeof(err)), 0);
	s = slurp(path);
	assert_string_equal(s, "alice:$6$a$b\n");
	free(s);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* passwd / del of a user in a missing file: no such user. */
	path_in(path, sizeof(path), "users.none");
	assert_int_equal(users_file_edit_flags(path, USERS_PASSWD, "alice",
	    "$6$a$b", 0, &tf, err, sizeof(err)), -1);
	assert_string_equal(err, "no such user alice");
	assert_int_equal(tf, OUTCOME_PERM);
	assert_int_equal(users_file_edit(path, USERS_DEL, "alice", NULL, err,
	    sizeof(err)), -1);
	assert_int_equal(access(path, F_OK), -1);	/* not created */

	/* An empty file. */
	path_in(path, sizeof(path), "users.empty");
	spit(path, "");
	assert_int_equal(users_file_edit_flags(path, USERS_ADD, "bob",
	    "$6$c$d", USERS_F_APOP, NULL, err, sizeof(err)), 0);
	s = slurp(path);
	assert_string_equal(s, "bob:$6$c$d:apop\n");
	free(s);
}

static void
test_edit_ops(void **state)
{
	static const char orig[] =
	    "# postern users\n"
	    "alice:$6$a$a\n"
	    "   # odd comment : with colons\n"
	    "\n"
	    "bob:$6$b$b:apop\r\n"
	    "alicia:$6$x$x\n"
	    "carol:$6$c$c";		/* no final newline */
	char path[PATH_MAX], err[256], tmpname[PATH_MAX + 32], *s;
	struct stat st;
	enum outcome tf = OUTCOME_OK;

	(void)state;
	path_in(path, sizeof(path), "users.ops");
	spit(path, orig);
	assert_int_equal(chmod(path, 0640), 0);

	/* add: existing user refused, file unchanged. */
	assert_int_equal(users_file_edit_flags(path, USERS_ADD, "alice",
	    "$6$n$n", 0, &tf, err, sizeof(err)), -1);
	assert_string_equal(err, "user alice already exists");
	assert_int_equal(tf, OUTCOME_PERM);
	s = slurp(path);
	assert_string_equal(s, orig);
	free(s);

	/* add: appended after a last line without newline. */
	assert_int_equal(users_file_edit(path, USERS_ADD, "dave", "$6$d$d",
	    err, sizeof(err)), 0);
	s = slurp(path);
	assert_string_equal(s, "# postern users\nalice:$6$a$a\n"
	    "   # odd comment : with colons\n\nbob:$6$b$b:apop\r\n"
	    "alicia:$6$x$x\ncarol:$6$c$c\ndave:$6$d$d\n");
	free(s);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);	/* mode kept */

	/* passwd: only that line changes; its CRLF is kept. */
	assert_int_equal(users_file_edit(path, USERS_PASSWD, "bob", "$6$B$B",
	    err, sizeof(err)), 0);
	s = slurp(path);
	assert_string_equal(s, "# postern users\nalice:$6$a$a\n"
	    "   # odd comment : with colons\n\nbob:$6$B$B\r\n"
	    "alicia:$6$x$x\ncarol:$6$c$c\ndave:$6$d$d\n");
	free(s);

	/* passwd on "ali" must not touch alice or alicia. */
	assert_int_equal(users_file_edit(path, USERS_PASSWD, "ali", "$6$z$z",
	    err, sizeof(err)), -1);
	assert_string_equal(err, "no such user ali");

	/* del */
	assert_int_equal(users_file_edit(path, USERS_DEL, "alice", NULL, err,
	    sizeof(err)), 0);
	assert_int_equal(users_file_edit(path, USERS_DEL, "carol", NULL, err,
	    sizeof(err)), 0);
	s = slurp(path);
	assert_string_equal(s, "# postern users\n"
	    "   # odd comment : with colons\n\nbob:$6$B$B\r\n"
	    "alicia:$6$x$x\ndave:$6$d$d\n");
	free(s);
	assert_int_equal(users_file_edit(path, USERS_DEL, "alice", NULL, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "no such user alice");

	/* Refused requests. */
	assert_int_equal(users_file_edit_flags(path, USERS_ADD, "Eve",
	    "$6$e$e", 0, &tf, err, sizeof(err)), -1);
	assert_int_equal(tf, OUTCOME_PERM);
	assert_int_equal(users_file_edit(path, USERS_ADD, "eve", "a:b", err,
	    sizeof(err)), -1);
	assert_int_equal(users_file_edit(path, USERS_ADD, "eve", "a\nb", err,
	    sizeof(err)), -1);
	assert_int_equal(users_file_edit(path, USERS_ADD, "eve", "", err,
	    sizeof(err)), -1);
	assert_int_equal(users_file_edit(path, USERS_ADD, "eve", NULL, err,
	    sizeof(err)), -1);

	/* No temporary file is left behind. */
	snprintf(tmpname, sizeof(tmpname), "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(access(tmpname, F_OK), -1);

	/* The result parses cleanly. */
	{
		struct errlist errs = { NULL, 0 };
		struct users *u;

		s = slurp(path);
		u = users_parse(path, s, strlen(s), &errs);
		assert_int_equal(errs.n, 0);
		assert_int_equal(u->n, 3);
		users_free(u);
		free(s);
	}
}

static void
test_edit_io_error(void **state)
{
	char path[PATH_MAX], err[256];
	enum outcome tf = OUTCOME_OK;

	(void)state;
	/* The directory does not exist: I/O trouble, tempfail. */
	path_in(path, sizeof(path), "nodir/users");
	assert_int_equal(users_file_edit_flags(path, USERS_ADD, "alice",
	    "$6$a$b", 0, &tf, err, sizeof(err)), -1);
	assert_int_equal(tf, OUTCOME_TEMP);
}

/* Two processes adding users at the same time lose nothing. */
static void
test_edit_concurrent(void **state)
{
	enum { PER = 40 };
	char path[PATH_MAX], *s, *p;
	pid_t pid[2];
	int k, status, lines = 0;
	struct errlist errs = { NULL, 0 };
	struct users *u;

	(void)state;
	path_in(path, sizeof(path), "users.conc");
	spit(path, "# shared\n");
	for (k = 0; k < 2; k++) {
		pid[k] = fork();
		assert_true(pid[k] != -1);
		if (pid[k] == 0) {
			char name[32], err[256];
			int i;

			for (i = 0; i < PER; i++) {
				snprintf(name, sizeof(name), "u%d-%d", k, i);
				if (users_file_edit(path, USERS_ADD, name,
				    "$6$s$h", err, sizeof(err)) == -1)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (k = 0; k < 2; k++) {
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	s = slurp(path);
	for (p = s; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1 + 2 * PER);
	u = users_parse(path, s, strlen(s), &errs);
	assert_int_equal(errs.n, 0);
	assert_int_equal(u->n, 2 * PER);
	assert_non_null(users_find(u, "u0-39"));
	assert_non_null(users_find(u, "u1-0"));
	assert_true(strncmp(s, "# shared\n", 9) == 0);
	users_free(u);
	free(s);
}

/* --- SCRAM verifiers: the 4th field ---------------------------------- */

#define VER	"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$" \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:" \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

/* Old 2- and 3-field lines and new 4-field lines, good and bad, together. */
static void
test_parse_scram(void **state)
{
	static const char text[] =
	    "old:$6$a$a\n"				/* 1 */
	    "oldapop:$6$b$b:apop\n"			/* 2 */
	    "new:$6$c$c::" VER "\n"			/* 3 */
	    "newapop:$6$d$d:apop:" VER "\r\n"		/* 4 */
	    "empty4:$6$e$e:apop:\n"			/* 5: bad */
	    "badver:$6$f$f::SCRAM-SHA-256$4095:W22ZaJ0SNY7soEsUEjb6gQ==$"
	    "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\n"	/* 6: bad */
	    "trail:$6$g$g::" VER " \n"			/* 7: bad */
	    "badflag:$6$h$h:frob:" VER "\n"		/* 8: bad */
	    "sha1:$6$i$i::SCRAM-SHA-1$4096:AAAAAAAAAAA=$AA==:AA==\n" /* 9 */
	    "new:$6$z$z::" VER "\n"			/* 10: duplicate */
	    "last:$6$j$j::" VER;			/* no newline */
	struct errlist errs = { NULL, 0 };
	struct users *u;
	const struct user_entry *e;
	size_t i, len = sizeof(text) - 1;

	(void)state;
	u = users_parse("users", text, len, &errs);
	assert_int_equal(u->n, 5);
	e = users_find(u, "old");
	assert_non_null(e);
	assert_null(e->scram);
	assert_int_equal(e->apop, 0);
	e = users_find(u, "oldapop");
	assert_null(e->scram);
	assert_int_equal(e->apop, 1);
	e = users_find(u, "new");
	assert_string_equal(e->hash, "$6$c$c");
	assert_string_equal(e->scram, VER);
	assert_int_equal(e->apop, 0);
	e = users_find(u, "newapop");
	assert_string_equal(e->scram, VER);		/* CR not included */
	assert_int_equal(e->apop, 1);
	assert_string_equal(users_find(u, "last")->scram, VER);
	assert_int_equal(errs.n, 6);
	{
		static const char *want[] = { "users:5:", "users:6:",
		    "users:7:", "users:8:", "users:9:", "users:10:" };

		for (i = 0; i < 6; i++)
			if (strncmp(errs.msgs[i], want[i], strlen(want[i])))
				fail_msg("%s", errs.msgs[i]);
	}
	errlist_free(&errs);
	users_free(u);

	/* Every prefix parses without reading past the end. */
	for (i = 0; i <= len; i++) {
		char *copy = malloc(i + 1);

		memcpy(copy, text, i);
		u = users_parse("users", copy, i, &errs);
		users_free(u);
		errlist_free(&errs);
		free(copy);
	}
}

/* ADD and PASSWD with a verifier, through users_file_edit_scram, and
 * back through users_parse; PASSWD without one drops the old one. */
static void
test_edit_scram(void **state)
{
	char path[PATH_MAX], err[256], *s;
	struct errlist errs = { NULL, 0 };
	struct users *u;
	enum outcome tf = OUTCOME_OK;

	(void)state;
	path_in(path, sizeof(path), "users.scram");
	spit(path, "old:$6$o$o:apop\n");
	assert_int_equal(users_file_edit_scram(path, USERS_ADD, "alice",
	    "$6$a$a", 0, VER, &tf, err, sizeof(err)), 0);
	assert_int_equal(users_file_edit_scram(path, USERS_ADD, "bob",
	    "$6$b$b", USERS_F_APOP, VER, &tf, err, sizeof(err)), 0);
	assert_int_equal(users_file_edit_scram(path, USERS_PASSWD, "old",
	    "$6$O$O", USERS_F_APOP, VER, &tf, err, sizeof(err)), 0);
	s = slurp(path);
	assert_string_equal(s, "old:$6$O$O:apop:" VER "\n"
	    "alice:$6$a$a::" VER "\n"
	    "bob:$6$b$b:apop:" VER "\n");
	u = users_parse(path, s, strlen(s), &errs);
	assert_int_equal(errs.n, 0);
	assert_int_equal(u->n, 3);
	assert_string_equal(users_find(u, "alice")->scram, VER);
	assert_int_equal(users_find(u, "bob")->apop, 1);
	assert_string_equal(users_find(u, "old")->scram, VER);
	users_free(u);
	free(s);

	/* The old entry point: a password change drops the verifier. */
	assert_int_equal(users_file_edit_flags(path, USERS_PASSWD, "alice",
	    "$6$A$A", 0, &tf, err, sizeof(err)), 0);
	/* Deleting works on 4-field lines. */
	assert_int_equal(users_file_edit_scram(path, USERS_DEL, "bob", NULL,
	    0, NULL, &tf, err, sizeof(err)), 0);
	s = slurp(path);
	assert_string_equal(s, "old:$6$O$O:apop:" VER "\n"
	    "alice:$6$A$A\n");
	free(s);

	/* A bad verifier is refused before the file is touched. */
	assert_int_equal(users_file_edit_scram(path, USERS_ADD, "carol",
	    "$6$c$c", 0, "SCRAM-SHA-256$1:x$y:z", &tf, err, sizeof(err)), -1);
	assert_int_equal(tf, OUTCOME_PERM);
	assert_string_equal(err, "bad SCRAM-SHA-256 verifier");
	assert_int_equal(users_file_edit_scram(path, USERS_ADD, "carol",
	    "$6$c$c", 0, VER "\n", &tf, err, sizeof(err)), -1);
	assert_int_equal(users_file_edit_scram(path, USERS_ADD, "carol",
	    "$6$c$c", 0, "", &tf, err, sizeof(err)), -1);
	s = slurp(path);
	assert_null(strstr(s, "carol"));
	free(s);
}

static int
setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_users.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmp(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_password_valid),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_hash_check),
		cmocka_unit_test(test_edit_missing_file),
		cmocka_unit_test(test_edit_ops),
		cmocka_unit_test(test_edit_io_error),
		cmocka_unit_test(test_edit_concurrent),
		cmocka_unit_test(test_parse_scram),
		cmocka_unit_test(test_edit_scram),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
