/* test_aliases - the aliases table: parsing (valid and invalid lines side
 * by side), expansion, loops, delimiter, limits. */
#include "unit.h"
#include "aliases.h"

static char *domains[] = { "mydomain.test", "other.test" };

static struct aliases *
parse(const char *text, size_t *nerr)
{
	struct errlist errs = { NULL, 0 };
	struct aliases *a = aliases_parse("aliases", text, strlen(text), &errs);

	*nerr = errs.n;
	errlist_free(&errs);
	return a;
}

static void
test_parse_table(void **state)
{
	static const struct { const char *line; int ok; } t[] = {
		{ "postmaster: alice\n", 1 },
		{ "team: alice, bob, someone@example.net\n", 1 },
		{ "Team2 :alice\n", 1 },
		{ "x: a@mydomain.test\n", 1 },
		{ "# comment\n\n", 1 },
		{ "team alice\n", 0 },			/* no colon */
		{ ": alice\n", 0 },
		{ "team:\n", 0 },
		{ "team: alice,\n", 0 },
		{ "team: alice,,bob\n", 0 },
		{ "team: |/bin/sh\n", 0 },
		{ "team: /var/mail/x\n", 0 },
		{ ":include: /etc/x\n", 0 },
		{ "team: :include:/etc/x\n", 0 },
		{ "team: \"a b\"@example.net\n", 0 },
		{ "team: a@b@c\n", 0 },
		{ "team: @example.net\n", 0 },
		{ "te am: alice\n", 0 },
		{ "-team: alice\n", 0 },
		{ "  continuation: x\n", 0 },		/* nothing to continue */
		{ "a: x\na: y\n", 0 },			/* twice */
		{ "a: x\rb\n", 0 },
	};
	size_t i, nerr;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct aliases *a = parse(t[i].line, &nerr);

		if ((nerr == 0) != t[i].ok)
			fail_msg("case %zu '%s': %zu errors", i, t[i].line, nerr);
		aliases_free(a);
	}
}

static void
test_bad_line_skipped_rest_kept(void **state)
{
	size_t nerr;
	struct aliases *a = parse("good: alice\nbad: |cmd\nalso: bob\n", &nerr);

	(void)state;
	assert_int_equal(nerr, 1);
	assert_int_equal(aliases_count(a), 2);
	assert_true(aliases_has(a, "good"));
	assert_true(aliases_has(a, "also"));
	assert_false(aliases_has(a, "bad"));
	assert_false(aliases_has(NULL, "good"));
	aliases_free(a);
}

static void
test_expand(void **state)
{
	struct aliases_target *t;
	size_t n, nerr;
	struct aliases *a = parse(
	    "postmaster: alice\n"
	    "team: alice, bob,\n"
	    "\tsomeone@example.net, Carol@MyDomain.test, list\n"
	    "list: dave+x, alice, SOMEONE@example.net\n"
	    "self: self, eve\n", &nerr);

	(void)state;
	assert_int_equal(nerr, 0);
	assert_int_equal(aliases_expand(a, "team", domains, 2, '+',
	    "mydomain.test", &t, &n), ALIASES_OK);
	assert_int_equal(n, 5);		/* alice once, someone once */
	assert_true(t[0].local);
	assert_string_equal(t[0].mailbox, "alice");
	assert_string_equal(t[0].addr, "alice@mydomain.test");
	assert_string_equal(t[1].mailbox, "bob");
	assert_false(t[2].local);
	assert_string_equal(t[2].addr, "someone@example.net");
	assert_string_equal(t[3].mailbox, "carol");
	assert_string_equal(t[4].mailbox, "dave");
	free(t);
	assert_int_equal(aliases_expand(a, "self", domains, 2, '\0',
	    "mydomain.test", &t, &n), ALIASES_OK);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].mailbox, "self");
	assert_string_equal(t[1].mailbox, "eve");
	free(t);
	assert_int_equal(aliases_expand(a, "nobody", domains, 2, '+',
	    "mydomain.test", &t, &n), ALIASES_NOT_ALIAS);
	assert_null(t);
	assert_int_equal(n, 0);
	aliases_free(a);
}

static void
test_loops(void **state)
{
	struct aliases_target *t;
	size_t n, nerr;
	struct aliases *a = parse("a: b\nb: c\nc: a, x@example.net\n"
	    "d: e@mydomain.test\ne: d\n", &nerr);

	(void)state;
	assert_int_equal(nerr, 0);
	assert_int_equal(aliases_expand(a, "a", domains, 2, '+',
	    "mydomain.test", &t, &n), ALIASES_LOOP);
	assert_null(t);
	assert_int_equal(aliases_expand(a, "d", domains, 2, '+',
	    "mydomain.test", &t, &n), ALIASES_LOOP);
	aliases_free(a);
}

static void
test_depth_limit(void **state)
{
	struct aliases_target *t;
	char text[4096];
	size_t n, nerr, o = 0;
	int i;
	struct aliases *a;

	(void)state;
	/* a0 -> a1 -> ... -> aK -> user: depth K+1 */
	for (i = 0; i < ALIASES_DEPTH_MAX + 1; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "a%d: a%d\n",
		    i, i + 1);
	a = parse(text, &nerr);
	assert_int_equal(nerr, 0);
	/* from a1: DEPTH_MAX levels: ok (limit); from a0: one more: refused */
	assert_int_equal(aliases_expand(a, "a1", domains, 2, 0, "d", &t, &n),
	    ALIASES_OK);
	free(t);
	assert_int_equal(aliases_expand(a, "a0", domains, 2, 0, "d", &t, &n),
	    ALIASES_TOO_BIG);
	aliases_free(a);
}

/* The mailboxes name expands to, joined with ',' ("" if not an alias). */
static void
expansion(const struct aliases *a, const char *name, char *out, size_t len)
{
	struct aliases_target *t;
	size_t n, i, used = 0;

	out[0] = '\0';
	if (aliases_expand(a, name, domains, 2, '\0', "mydomain.test", &t,
	    &n) != ALIASES_OK)
		return;
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
		    i ? "," : "", t[i].mailbox);
	free(t);
}

/* Every prefix of a file (a file cut anywhere: a partial write, a full
 * disk) parses to exactly what its complete lines and the cut line say:
 * a cut name or an empty target is an error and the alias is skipped, a
 * cut target is a shorter, valid one, a continuation adds to the entry. */
static void
test_bytewise_prefixes(void **state)
{
	static const char text[] = "team: alice, bob,\n  carol\npm: alice\n";
	/* For prefix lengths up to and including upto (since the row before). */
	static const struct {
		size_t	upto, nerr, naliases;
		const char *team;	/* expansion; "" when not an alias */
	} t[] = {
		{ 0, 0, 0, "" },		/* empty file */
		{ 4, 1, 0, "" },		/* "t" .. "team": no ':' */
		{ 6, 1, 0, "" },		/* "team:", "team: ": empty target */
		{ 7, 0, 1, "a" },
		{ 8, 0, 1, "al" },
		{ 9, 0, 1, "ali" },
		{ 10, 0, 1, "alic" },
		{ 11, 0, 1, "alice" },
		{ 13, 1, 0, "" },		/* "alice," "alice, ": empty target */
		{ 14, 0, 1, "alice,b" },
		{ 15, 0, 1, "alice,bo" },
		{ 16, 0, 1, "alice,bob" },
		{ 20, 1, 0, "" },		/* "bob," then blank continuation */
		{ 21, 0, 1, "alice,bob,c" },
		{ 22, 0, 1, "alice,bob,ca" },
		{ 23, 0, 1, "alice,bob,car" },
		{ 24, 0, 1, "alice,bob,caro" },
		{ 26, 0, 1, "alice,bob,carol" },
		{ 28, 1, 1, "alice,bob,carol" },	/* "p", "pm": no ':' */
		{ 30, 1, 1, "alice,bob,carol" },	/* "pm:", "pm: " */
		{ 36, 0, 2, "alice,bob,carol" },	/* "pm: a" .. the end */
	};
	struct errlist errs = { NULL, 0 };
	struct aliases *a;
	char got[256];
	size_t k, row = 0;

	(void)state;
	assert_int_equal(t[sizeof(t) / sizeof(t[0]) - 1].upto, strlen(text));
	for (k = 0; k <= strlen(text); k++) {
		while (k > t[row].upto)
			row++;
		a = aliases_parse("x", text, k, &errs);
		expansion(a, "team", got, sizeof(got));
		if (errs.n != t[row].nerr || aliases_count(a) != t[row].naliases ||
		    strcmp(got, t[row].team) != 0)
			fail_msg("prefix %zu: %zu errors, %zu aliases, team '%s'; "
			    "want %zu, %zu, '%s'", k, errs.n, aliases_count(a),
			    got, t[row].nerr, t[row].naliases, t[row].team);
		assert_int_equal(aliases_has(a, "pm"), k >= 31);
		errlist_free(&errs);
		aliases_free(a);
	}

	/* A continuation is joined with a space, not a comma: "bob carol"
	 * is one bad target, so the whole alias is skipped (and reported at
	 * the line it starts on); the next one is kept. */
	a = aliases_parse("x", "team: alice, bob\n  carol\npm: alice\n", 35,
	    &errs);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msgs[0], "x:1: alias 'team': bad target"));
	assert_int_equal(aliases_count(a), 1);
	assert_false(aliases_has(a, "team"));
	expansion(a, "pm", got, sizeof(got));
	assert_string_equal(got, "alice");
	errlist_free(&errs);
	aliases_free(a);
}

/* A local domain is matched as relay.c matches it: any case, with or
 * without the trailing dot; the mailbox rule is relay_local_mailbox's. */
static void
test_local_domain_and_mailbox_rule(void **state)
{
	struct aliases_target *t;
	size_t n, nerr;
	struct aliases *a = parse(
	    "dot: Bob+x@MyDomain.Test., carol@other.test., dave@example.net\n"
	    "pm: postmaster\n"
	    "postmaster: root\n", &nerr);

	(void)state;
	assert_int_equal(nerr, 0);
	assert_int_equal(aliases_expand(a, "dot", domains, 2, '+',
	    "mydomain.test", &t, &n), ALIASES_OK);
	assert_int_equal(n, 3);
	assert_true(t[0].local);
	assert_string_equal(t[0].mailbox, "bob");
	assert_true(t[1].local);
	assert_string_equal(t[1].mailbox, "carol");
	assert_false(t[2].local);
	free(t);
	/* a target "postmaster" is the alias of that name, not a shortcut */
	assert_int_equal(aliases_expand(a, "pm", domains, 2, '+',
	    "mydomain.test", &t, &n), ALIASES_OK);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].mailbox, "root");
	free(t);
	aliases_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_bad_line_skipped_rest_kept),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_loops),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_bytewise_prefixes),
		cmocka_unit_test(test_local_domain_and_mailbox_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
