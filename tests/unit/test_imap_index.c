/* test_imap_index - the pure half of imap_store: the postern-uidlist
 * parser (good, malformed, torn, duplicates, UIDNEXT kept above UIDs) and
 * formatter round trip; Maildir info suffix <-> flags keeping unknown
 * letters; mailbox name validation and name <-> directory; the diff. */
#include "unit.h"
#include "imap_index.h"

static void
test_parse_good(void **state)
{
	const char *s = "postern-uidlist 1 1700000000 5\n"
	    "1 1000.A.host\n3 1001.B.host,S=12\n4 1002.C\n";
	struct imap_index ix;
	struct buf b;

	(void)state;
	assert_int_equal(imap_index_parse(s, strlen(s), &ix), 0);
	assert_int_equal(ix.uidvalidity, 1700000000);
	assert_int_equal(ix.uidnext, 5);
	assert_int_equal(ix.n, 3);
	assert_int_equal(ix.e[1].uid, 3);
	assert_string_equal(ix.e[1].base, "1001.B.host,S=12");
	buf_init(&b, 4096);
	assert_int_equal(imap_index_format(&ix, &b), 0);
	assert_int_equal(b.len, strlen(s));
	assert_memory_equal(b.data, s, b.len);
	buf_free(&b);
	imap_index_free(&ix);
}

static void
test_parse_bad_header(void **state)
{
	static const char *const bad[] = {
		"", "postern-uidlist 1 1 1", "postern-uidlist 2 1 1\n",
		"postern-uidlist 1 0 1\n", "postern-uidlist 1 1 0\n",
		"postern-uidlist 1 x 1\n", "postern-uidlist 1 1  1\n",
		"postern-uidlist 1 99999999999 1\n", "garbage\n1 a\n",
		"postern-uidlist 1 1\n",
	};
	struct imap_index ix;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(imap_index_parse(bad[i], strlen(bad[i]), &ix), -1);
		assert_int_equal(ix.n, 0);
		assert_int_equal(ix.uidvalidity, 0);
		imap_index_free(&ix);
	}
}

static void
test_parse_bad_lines(void **state)
{
	const char *s = "postern-uidlist 1 7 2\n"
	    "5 good\n"
	    "5 dupuid\n"		/* not above the previous */
	    "3 lower\n"
	    "x bad\n"
	    "0 zero\n"
	    "6\n"
	    "7 has space\n"
	    "8 has:colon\n"
	    "9 .dot\n"
	    "10 a/b\n"
	    "11 \n"
	    "4294967295 max\n"
	    "12 ok2\n"
	    "13 torn";			/* no newline */
	struct imap_index ix;

	(void)state;
	assert_int_equal(imap_index_parse(s, strlen(s), &ix), 0);
	assert_int_equal(ix.n, 2);
	assert_int_equal(ix.e[0].uid, 5);
	assert_string_equal(ix.e[0].base, "good");
	assert_int_equal(ix.e[1].uid, 12);
	/* UIDNEXT 2 in the file: raised above the UIDs seen */
	assert_int_equal(ix.uidnext, 13);
	imap_index_free(&ix);
}

static void
test_flags(void **state)
{
	char info[IMAP_INFO_MAX];

	(void)state;
	assert_int_equal(imap_maildir_flags("1.a.h"), 0);
	assert_int_equal(imap_maildir_flags("1.a.h:2,FS"),
	    IMAP_F_FLAGGED | IMAP_F_SEEN);
	assert_int_equal(imap_maildir_flags("1.a.h:2,DFRSTab"), IMAP_F_ALL);
	assert_int_equal(imap_maildir_flags("1.a.h:1,S"), 0);
	assert_int_equal(imap_maildir_base_len("1.a.h:2,S"), 5);
	assert_int_equal(imap_maildir_base_len("1.a.h"), 5);
	assert_int_equal(imap_maildir_info("x", IMAP_F_SEEN | IMAP_F_DRAFT,
	    info, sizeof(info)), 0);
	assert_string_equal(info, ":2,DS");
	/* unknown letters kept, ours replaced, ASCII order */
	assert_int_equal(imap_maildir_info("x:2,aSPc", IMAP_F_DELETED |
	    IMAP_F_ANSWERED, info, sizeof(info)), 0);
	assert_string_equal(info, ":2,PRTac");
	assert_int_equal(imap_maildir_info("x:2,S", 0, info, sizeof(info)), 0);
	assert_string_equal(info, ":2,");
	assert_int_equal(imap_maildir_info("x", IMAP_F_ALL, info, 5), -1);
}

static void
test_names(void **state)
{
	char d[IMAP_DIR_MAX], n[IMAP_NAME_MAX + 1], longname[IMAP_NAME_MAX + 2];

	(void)state;
	assert_true(imap_name_valid("INBOX"));
	assert_true(imap_name_valid("A/B"));
	assert_true(imap_name_valid("Entw\xc3\xbcrfe"));
	assert_false(imap_name_valid(""));
	assert_false(imap_name_valid("a.b"));
	assert_false(imap_name_valid(".a"));
	assert_false(imap_name_valid(".."));
	assert_false(imap_name_valid("a/../b"));
	assert_false(imap_name_valid("a%"));
	assert_false(imap_name_valid("a*"));
	assert_false(imap_name_valid("a\tb"));
	assert_false(imap_name_valid("/a"));
	assert_false(imap_name_valid("a/"));
	assert_false(imap_name_valid("a//b"));
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(imap_name_valid(longname));
	longname[IMAP_NAME_MAX] = '\0';
	assert_true(imap_name_valid(longname));
	assert_int_equal(imap_name_to_dir(longname, d, sizeof(d)), 0);

	assert_int_equal(imap_name_to_dir("inbox", d, sizeof(d)), 0);
	assert_string_equal(d, ".");
	assert_int_equal(imap_name_to_dir("A/B", d, sizeof(d)), 0);
	assert_string_equal(d, ".A.B");
	assert_int_equal(imap_name_to_dir("a.b", d, sizeof(d)), -1);
	assert_int_equal(imap_dir_to_name(".A.B", n, sizeof(n)), 0);
	assert_string_equal(n, "A/B");
	assert_int_equal(imap_dir_to_name(".", n, sizeof(n)), -1);
	assert_int_equal(imap_dir_to_name("..", n, sizeof(n)), -1);
	assert_int_equal(imap_dir_to_name(".A..B", n, sizeof(n)), -1);
	assert_int_equal(imap_dir_to_name(".INBOX", n, sizeof(n)), -1);
	assert_int_equal(imap_dir_to_name("cur", n, sizeof(n)), -1);
	assert_int_equal(imap_name_special("Sent"), IMAP_SPECIAL_SENT);
	assert_int_equal(imap_name_special("Junk"), IMAP_SPECIAL_JUNK);
	assert_int_equal(imap_name_special("Other"), IMAP_SPECIAL_NONE);
}

static void
test_diff(void **state)
{
	struct imap_snap old[] = { { 1, 0 }, { 2, 0 }, { 3, 1 }, { 5, 0 },
		{ 7, 0 } };
	struct imap_snap cur[] = { { 1, 0 }, { 3, 0 }, { 7, 4 }, { 8, 0 },
		{ 9, 0 } };
	struct imap_changes c;

	(void)state;
	imap_changes_diff(old, 5, cur, 5, &c);
	assert_int_equal(c.old_exists, 5);
	assert_int_equal(c.exists, 5);
	assert_int_equal(c.n_expunged, 2);
	assert_int_equal(c.expunged[0], 4);	/* uid 5, descending */
	assert_int_equal(c.expunged[1], 2);	/* uid 2 */
	assert_int_equal(c.n_flag_changed, 2);
	assert_int_equal(c.flag_changed[0], 2);	/* uid 3, new numbering */
	assert_int_equal(c.flag_changed[1], 3);	/* uid 7 */
	imap_changes_free(&c);
	imap_changes_diff(NULL, 0, NULL, 0, &c);
	assert_int_equal(c.n_expunged, 0);
	imap_changes_free(&c);
	imap_changes_diff(old, 5, NULL, 0, &c);
	assert_int_equal(c.n_expunged, 5);
	assert_int_equal(c.expunged[0], 5);
	assert_int_equal(c.expunged[4], 1);
	imap_changes_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad_header),
		cmocka_unit_test(test_parse_bad_lines),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
