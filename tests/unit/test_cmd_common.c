/* test_cmd_common - the one config option of the subcommands: every
 * spelling, the default, the last one winning, help, "--" and the values
 * of a command's own options left alone; and the -C lookup of the
 * sendmail-compatible commands (-C, then $POSTERN_CONF, then the default). */
#include "unit.h"

#include "cmds.h"

#define MAXARGS 16

struct args {
	char	*v[MAXARGS + 1];
	int	 n;
};

/* argv from a NULL-terminated list of strings (copied: they are moved). */
static void
mk(struct args *a, const char *first, ...)
{
	va_list ap;
	const char *s;

	a->n = 0;
	va_start(ap, first);
	for (s = first; s != NULL && a->n < MAXARGS; s = va_arg(ap, const char *))
		a->v[a->n++] = (char *)s;
	va_end(ap);
	a->v[a->n] = NULL;
}

static void
want(const struct args *a, int n, const char *const *exp)
{
	int i;

	for (i = 0; i < n; i++)
		assert_string_equal(a->v[i], exp[i]);
	assert_null(a->v[n]);
}

static void
test_take_config(void **state)
{
	static const char *const valued[] = { "--auth", "--from", NULL };
	struct args a;
	const char *conf;
	int help, n;

	(void)state;
	mk(&a, "check", NULL);
	n = cmds_take_config(a.n, a.v, NULL, &conf, &help);
	assert_int_equal(n, 1);
	assert_string_equal(conf, CMDS_DEFAULT_CONFIG);
	assert_int_equal(help, 0);

	/* -c after the verb; the other words keep their order */
	mk(&a, "user", "add", "-c", "/x.conf", "carol", NULL);
	n = cmds_take_config(a.n, a.v, NULL, &conf, &help);
	assert_int_equal(n, 3);
	want(&a, 3, (const char *[]){ "user", "add", "carol" });
	assert_string_equal(conf, "/x.conf");

	/* every spelling; the last wins */
	mk(&a, "check", "--config", "/a", "--config=/b", "-c/c", NULL);
	n = cmds_take_config(a.n, a.v, NULL, &conf, &help);
	assert_int_equal(n, 1);
	assert_string_equal(conf, "/c");
	mk(&a, "check", "-c/c", "-c", "/d", NULL);
	assert_int_equal(cmds_take_config(a.n, a.v, NULL, &conf, &help), 1);
	assert_string_equal(conf, "/d");

	/* help, anywhere */
	mk(&a, "queue", "list", "--help", NULL);
	n = cmds_take_config(a.n, a.v, NULL, &conf, &help);
	assert_int_equal(help, 1);
	want(&a, n, (const char *[]){ "queue", "list" });
	mk(&a, "queue", "-h", NULL);
	(void)cmds_take_config(a.n, a.v, NULL, &conf, &help);
	assert_int_equal(help, 1);

	/* a value of the command's own option is never an option */
	mk(&a, "relay-check", "--auth", "-c", "--from", "-h", "-c", "/r", NULL);
	n = cmds_take_config(a.n, a.v, valued, &conf, &help);
	want(&a, n, (const char *[]){ "relay-check", "--auth", "-c", "--from",
	    "-h" });
	assert_int_equal(n, 5);
	assert_string_equal(conf, "/r");
	assert_int_equal(help, 0);

	/* "--" and what follows are left as they are */
	mk(&a, "user", "add", "-c", "/u", "--", "-c", NULL);
	n = cmds_take_config(a.n, a.v, NULL, &conf, &help);
	want(&a, n, (const char *[]){ "user", "add", "--", "-c" });
	assert_int_equal(n, 4);
	assert_string_equal(conf, "/u");

	/* -c without its file is a usage error */
	mk(&a, "check", "-c", NULL);
	assert_int_equal(cmds_take_config(a.n, a.v, NULL, &conf, &help), -1);
	mk(&a, "check", "--config", NULL);
	assert_int_equal(cmds_take_config(a.n, a.v, NULL, &conf, &help), -1);
}

static void
test_compat_config(void **state)
{
	struct args a;
	const char *conf;

	(void)state;
	unsetenv("POSTERN_CONF");
	assert_string_equal(cmds_compat_config(NULL), CMDS_DEFAULT_CONFIG);
	setenv("POSTERN_CONF", "", 1);
	assert_string_equal(cmds_compat_config(NULL), CMDS_DEFAULT_CONFIG);
	setenv("POSTERN_CONF", "/env.conf", 1);
	assert_string_equal(cmds_compat_config(NULL), "/env.conf");
	assert_string_equal(cmds_compat_config("/given"), "/given");

	mk(&a, "mailq", NULL);
	assert_int_equal(cmds_take_compat_config(a.n, a.v, &conf), 1);
	assert_string_equal(conf, "/env.conf");
	mk(&a, "mailq", "-C", "/m", "-v", NULL);
	assert_int_equal(cmds_take_compat_config(a.n, a.v, &conf), 2);
	assert_string_equal(a.v[1], "-v");	/* left for mailq to refuse */
	assert_string_equal(conf, "/m");
	mk(&a, "newaliases", "-C/n", NULL);
	assert_int_equal(cmds_take_compat_config(a.n, a.v, &conf), 1);
	assert_string_equal(conf, "/n");
	mk(&a, "newaliases", "-C", NULL);
	assert_int_equal(cmds_take_compat_config(a.n, a.v, &conf), -1);
	unsetenv("POSTERN_CONF");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_config),
		cmocka_unit_test(test_compat_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
