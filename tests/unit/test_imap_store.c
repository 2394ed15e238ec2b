/* test_imap_store - imap_store on real Maildirs in mkdtemp directories:
 * UIDs assigned in file name order and kept across close/open, UIDNEXT
 * never going back after expunge, two folder objects seeing each
 * other's expunge, flag change and append through sync, a file deleted
 * underneath (POP3) and a delivery into new/, append, copy and move,
 * EXAMINE not renaming, folder create/delete/rename errors, LIST and
 * subscriptions, symlinks not followed. */
#include "unit.h"
#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include "imap_store.h"

struct world {
	char	dir[64];
	int	fd;		/* the Maildir */
};

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	snprintf(w->dir, sizeof(w->dir), "/tmp/test_imap_store.XXXXXX");
	if (mkdtemp(w->dir) == NULL)
		return -1;
	w->fd = open(w->dir, O_RDONLY | O_DIRECTORY);
	if (w->fd == -1 || imap_store_prepare(w->fd) == -1)
		return -1;
	*state = w;
	return 0;
}

static void
rm_rf(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

static int
teardown(void **state)
{
	struct world *w = *state;

	close(w->fd);
	rm_rf(w->dir);
	free(w);
	return 0;
}

/* Put a message file at rel (under the Maildir). */
static void
put(struct world *w, const char *rel, const char *body)
{
	int fd = openat(w->fd, rel, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd != -1);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
}

static int
exists(struct world *w, const char *rel)
{
	struct stat st;

	return fstatat(w->fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
test_uids_persist(void **state)
{
	struct world *w = *state;
	struct imap_folder f;
	uint32_t uidv;

	put(w, "new/1002.c.h", "three\n");
	put(w, "new/1000.a.h", "one\n");
	put(w, "cur/1001.b.h:2,S", "two!\n");
	assert_int_equal(imap_folder_open(&f, w->fd, "INBOX", 0), 0);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.msgs[0].uid, 1);
	assert_string_equal(f.msgs[0].name, "cur/1000.a.h:2,");
	assert_int_equal(f.msgs[1].uid, 2);
	assert_int_equal(f.msgs[1].flags, IMAP_F_SEEN);
	assert_int_equal(f.msgs[1].size, 5);
	assert_int_equal(f.msgs[2].uid, 3);
	assert_int_equal(f.uidnext, 4);
	assert_true(f.uidvalidity > 0);
	uidv = f.uidvalidity;
	/* moved into cur/, the POP3 name (basename) unchanged */
	assert_true(exists(w, "cur/1000.a.h:2,"));
	assert_false(exists(w, "new/1000.a.h"));
	imap_folder_close(&f);

	put(w, "new/0999.z.h", "late but low name\n");
	assert_int_equal(imap_folder_open(&f, w->fd, "inbox", 0), 0);
	assert_string_equal(f.name, "INBOX");
	assert_int_equal(f.uidvalidity, uidv);
	assert_int_equal(f.n, 4);
	assert_int_equal(f.msgs[0].uid, 1);
	assert_int_equal(f.msgs[2].uid, 3);
	assert_int_equal(f.msgs[3].uid, 4);
	assert_string_equal(f.msgs[3].name, "cur/0999.z.h:2,");
	/* expunge the highest: UIDNEXT stays */
	assert_int_equal(imap_folder_store(&f, 3, '+', IMAP_F_DELETED), 0);
	assert_true(exists(w, "cur/0999.z.h:2,T"));
	{
		uint32_t *ex;
		size_t n;

		assert_int_equal(imap_folder_expunge(&f, NULL, 0, &ex, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(ex[0], 4);
		free(ex);
	}
	assert_int_equal(f.n, 3);
	imap_folder_close(&f);
	assert_int_equal(imap_folder_open(&f, w->fd, "INBOX", 0), 0);
	assert_int_equal(f.uidnext, 5);
	assert_int_equal(f.n, 3);
	imap_folder_close(&f);
	put(w, "new/2000.n.h", "x\n");
	assert_int_equal(imap_folder_open(&f, w->fd, "INBOX", 0), 0);
	assert_int_equal(f.msgs[3].uid, 5);
	imap_folder_close(&f);
}

static void
test_two_sessions(void **state)
{
	struct world *w = *state;
	struct imap_folder a, b;
	struct imap_changes c;
	uint32_t uid, uidv;
	struct imap_append ap;

	put(w, "new/1.a.h", "1\n");
	put(w, "new/2.b.h", "2\n");
	put(w, "new/3.c.h", "3\n");
	assert_int_equal(imap_folder_open(&a, w->fd, "INBOX", 0), 0);
	assert_int_equal(imap_folder_open(&b, w->fd, "INBOX", 0), 0);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.msgs[2].uid, 3);

	/* a flags message 2 and expunges message 1 */
	assert_int_equal(imap_folder_store(&a, 1, '=', IMAP_F_FLAGGED), 0);
	assert_int_equal(imap_folder_store(&a, 0, '+', IMAP_F_DELETED), 0);
	assert_int_equal(imap_folder_expunge(&a, NULL, 0, NULL, NULL), 0);
	assert_int_equal(imap_folder_sync(&b, &c), 0);
	assert_int_equal(c.n_expunged, 1);
	assert_int_equal(c.expunged[0], 1);
	assert_int_equal(c.n_flag_changed, 1);
	assert_int_equal(c.flag_changed[0], 1);	/* uid 2, now seq 1 */
	assert_int_equal(c.exists, 2);
	assert_int_equal(b.msgs[0].flags, IMAP_F_FLAGGED);
	imap_changes_free(&c);

	/* b changes the flags a changed: a's stale name is found again */
	assert_int_equal(imap_folder_store(&b, 0, '+', IMAP_F_SEEN), 0);
	assert_int_equal(imap_folder_store(&a, 0, '+', IMAP_F_ANSWERED), 0);
	/* +FLAGS applies to what is on disk: b's \Seen is kept */
	assert_int_equal(a.msgs[0].flags,
	    IMAP_F_FLAGGED | IMAP_F_ANSWERED | IMAP_F_SEEN);

	/* POP3 deletes a file, a delivery lands in new/, an append */
	assert_int_equal(unlinkat(w->fd, "cur/3.c.h:2,", 0), 0);
	put(w, "new/4.d.h", "4\n");
	assert_int_equal(imap_append_begin(&ap, w->fd, "INBOX"), 0);
	assert_int_equal(imap_append_write(&ap, "Subject: x\r\n\r\nhi\r\n", 18), 0);
	assert_int_equal(imap_append_commit(&ap, IMAP_F_SEEN, 1000000000,
	    &uid, &uidv), 0);
	assert_int_equal(uidv, a.uidvalidity);
	assert_int_equal(imap_folder_sync(&b, &c), 0);
	assert_int_equal(c.n_expunged, 1);
	assert_int_equal(c.expunged[0], 2);
	assert_int_equal(c.exists, 3);
	imap_changes_free(&c);
	assert_int_equal(b.msgs[1].uid, uid);
	assert_int_equal(b.msgs[1].size, 18);
	assert_int_equal(b.msgs[1].internaldate, 1000000000);
	assert_int_equal(b.msgs[1].flags, IMAP_F_SEEN);
	assert_int_equal(b.msgs[2].uid, uid + 1);	/* 4.d.h after */
	assert_int_equal(imap_folder_sync(&a, &c), 0);
	assert_int_equal(c.n_expunged, 1);
	assert_int_equal(c.exists, 3);
	assert_int_equal(a.msgs[0].flags,
	    IMAP_F_FLAGGED | IMAP_F_ANSWERED | IMAP_F_SEEN);
	assert_int_equal(c.n_flag_changed, 0);	/* a knew already */
	imap_changes_free(&c);
	/* nothing new: nothing reported */
	assert_int_equal(imap_folder_sync(&a, &c), 0);
	assert_int_equal(c.n_expunged + c.n_flag_changed, 0);
	assert_int_equal(c.exists, 3);
	imap_changes_free(&c);
	imap_folder_close(&a);
	imap_folder_close(&b);
}

static void
test_examine_readonly(void **state)
{
	struct world *w = *state;
	struct imap_folder f;

	put(w, "new/1.a.h", "1\n");
	assert_int_equal(imap_folder_open(&f, w->fd, "INBOX", 1), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.msgs[0].uid, 1);
	assert_true(exists(w, "new/1.a.h"));
	assert_int_equal(imap_folder_store(&f, 0, '+', IMAP_F_SEEN), -1);
	assert_int_equal(errno, EROFS);
	{
		int fd = imap_folder_msg_open(&f, 0);
		char b[4];

		assert_true(fd != -1);
		assert_int_equal(read(fd, b, 4), 2);
		close(fd);
	}
	imap_folder_close(&f);
	/* the same UID when opened read-write */
	assert_int_equal(imap_folder_open(&f, w->fd, "INBOX", 0), 0);
	assert_int_equal(f.msgs[0].uid, 1);
	assert_true(exists(w, "cur/1.a.h:2,"));
	imap_folder_close(&f);
}

static void
test_symlink_ignored(void **state)
{
	struct world *w = *state;
	struct imap_folder f;

	assert_int_equal(symlinkat("/etc/passwd", w->fd, "cur/1.evil:2,"), 0);
	put(w, "cur/2.ok:2,", "ok\n");
	assert_int_equal(imap_folder_open(&f, w->fd, "INBOX", 0), 0);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.msgs[0].name, "cur/2.ok:2,");
	imap_folder_close(&f);
	assert_int_equal(symlinkat("/tmp", w->fd, ".Evil"), 0);
	assert_int_equal(imap_folder_open(&f, w->fd, "Evil", 0), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_copy_move(void **state)
{
	struct world *w = *state;
	struct imap_folder f, t;
	uint32_t uid, uidv;
	struct imap_changes c;

	put(w, "cur/1.a.h:2,Fa", "hello\n");
	assert_int_equal(imap_folder_open(&f, w->fd, "INBOX", 0), 0);
	assert_int_equal(imap_folder_open(&t, w->fd, "Trash", 0), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(imap_folder_copy(&f, 0, "Trash", &uid, &uidv), 0);
	assert_int_equal(uid, 1);
	assert_int_equal(uidv, t.uidvalidity);
	assert_int_equal(imap_folder_copy(&f, 0, "Nope", &uid, &uidv), -1);
	assert_int_equal(errno, ENOENT);
	/* move = copy + expunge */
	assert_int_equal(imap_folder_copy(&f, 0, "Trash", &uid, &uidv), 0);
	assert_int_equal(uid, 2);
	assert_int_equal(imap_folder_store(&f, 0, '+', IMAP_F_DELETED), 0);
	assert_int_equal(imap_folder_expunge(&f, &f.msgs[0].uid, 1, NULL,
	    NULL), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(imap_folder_sync(&t, &c), 0);
	assert_int_equal(c.exists, 2);
	imap_changes_free(&c);
	assert_int_equal(t.msgs[0].flags, IMAP_F_FLAGGED);
	assert_int_equal(t.msgs[1].flags, IMAP_F_FLAGGED);
	assert_int_equal(t.msgs[0].size, 6);
	assert_non_null(strstr(t.msgs[0].name, ":2,Fa"));
	imap_folder_close(&f);
	imap_folder_close(&t);
}

static void
test_append_errors(void **state)
{
	struct world *w = *state;
	struct imap_append ap;
	DIR *d;
	struct dirent *de;
	int tmpfd, n = 0;

	assert_int_equal(imap_append_begin(&ap, w->fd, "Nope"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(imap_append_begin(&ap, w->fd, "Drafts"), 0);
	assert_int_equal(imap_append_write(&ap, "abc", 3), 0);
	imap_append_abort(&ap);
	tmpfd = openat(w->fd, ".Drafts/tmp", O_RDONLY | O_DIRECTORY);
	d = fdopendir(tmpfd);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	assert_int_equal(n, 0);
}

static void
test_folders(void **state)
{
	struct world *w = *state;
	struct imap_folder_info *l;
	struct imap_status st;
	struct imap_folder f;
	size_t n, i;

	assert_true(exists(w, ".Sent/maildirfolder"));
	assert_true(exists(w, ".Junk/cur"));
	assert_int_equal(imap_store_create(w->fd, "Work"), 0);
	assert_int_equal(imap_store_create(w->fd, "Work"), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(imap_store_create(w->fd, "INBOX"), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(imap_store_create(w->fd, "a.b"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(imap_store_create(w->fd, "Work/Old"), 0);
	assert_int_equal(imap_store_delete(w->fd, "Work"), -1);
	assert_int_equal(errno, ENOTEMPTY);
	assert_int_equal(imap_store_delete(w->fd, "INBOX"), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(imap_store_delete(w->fd, "Gone"), -1);
	assert_int_equal(errno, ENOENT);
	put(w, ".Work.Old/cur/1.x:2,S", "m\n");
	assert_int_equal(imap_store_status(w->fd, "Work/Old", &st), 0);
	assert_int_equal(st.messages, 1);
	assert_int_equal(st.unseen, 0);
	assert_int_equal(st.uidnext, 2);

	/* rename moves the children along */
	assert_int_equal(imap_store_rename(w->fd, "Work", "Sent"), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(imap_store_rename(w->fd, "Nope", "X"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(imap_store_rename(w->fd, "Work", "Work/Sub"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(imap_store_rename(w->fd, "Work", "Job"), 0);
	assert_true(exists(w, ".Job.Old/cur/1.x:2,S"));
	assert_false(exists(w, ".Work"));
	assert_int_equal(imap_store_delete(w->fd, "Job/Old"), 0);
	assert_false(exists(w, ".Job.Old"));

	/* RENAME INBOX moves its messages */
	put(w, "new/5.a.h", "5\n");
	put(w, "cur/6.b.h:2,S", "6\n");
	assert_int_equal(imap_store_rename(w->fd, "INBOX", "Old"), 0);
	assert_int_equal(imap_folder_open(&f, w->fd, "INBOX", 0), 0);
	assert_int_equal(f.n, 0);
	imap_folder_close(&f);
	assert_int_equal(imap_folder_open(&f, w->fd, "Old", 0), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.msgs[1].flags, IMAP_F_SEEN);
	imap_folder_close(&f);

	assert_int_equal(imap_store_subscribe(w->fd, "Ghost", 1), 0);
	assert_int_equal(imap_store_subscribe(w->fd, "Junk", 0), 0);
	assert_int_equal(imap_store_list(w->fd, &l, &n), 0);
	assert_string_equal(l[0].name, "INBOX");
	{
		int saw_ghost = 0, saw_job = 0, saw_sent = 0;

		for (i = 0; i < n; i++) {
			if (strcmp(l[i].name, "Ghost") == 0)
				saw_ghost = l[i].nonexistent && l[i].subscribed;
			if (strcmp(l[i].name, "Job") == 0)
				saw_job = !l[i].has_children && !l[i].subscribed;
			if (strcmp(l[i].name, "Sent") == 0)
				saw_sent = l[i].subscribed &&
				    l[i].special == IMAP_SPECIAL_SENT;
			if (strcmp(l[i].name, "Junk") == 0)
				assert_false(l[i].subscribed);
		}
		assert_true(saw_ghost && saw_job && saw_sent);
	}
	free(l);
	assert_int_equal(imap_store_status(w->fd, "Nope", &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_false(imap_store_name_ok("../x"));
	assert_true(imap_store_name_ok("x/y"));
}

static void
test_uidvalidity_recreate(void **state)
{
	struct world *w = *state;
	struct imap_folder f;
	struct imap_changes c;
	uint32_t v1;

	assert_int_equal(imap_store_create(w->fd, "Tmp"), 0);
	assert_int_equal(imap_folder_open(&f, w->fd, "Tmp", 0), 0);
	v1 = f.uidvalidity;
	imap_folder_close(&f);
	assert_int_equal(imap_store_delete(w->fd, "Tmp"), 0);
	assert_int_equal(imap_store_create(w->fd, "Tmp"), 0);
	assert_int_equal(imap_folder_open(&f, w->fd, "Tmp", 0), 0);
	assert_true(f.uidvalidity > v1);	/* same second: still above */
	/* the index removed underneath: sessions are told */
	v1 = f.uidvalidity;
	assert_int_equal(unlinkat(w->fd, ".Tmp/postern-uidlist", 0), 0);
	assert_int_equal(imap_folder_sync(&f, &c), 0);
	assert_int_equal(c.uidvalidity_changed, 1);
	assert_true(f.uidvalidity > v1);
	imap_changes_free(&c);
	imap_folder_close(&f);
}

static void
test_many(void **state)
{
	struct world *w = *state;
	struct imap_folder f;
	char name[64];
	int i;

	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "new/%06d.m.h,S=2", i);
		put(w, name, "x\n");
	}
	assert_int_equal(imap_folder_open(&f, w->fd, "INBOX", 0), 0);
	assert_int_equal(f.n, 500);
	assert_int_equal(f.msgs[499].uid, 500);
	assert_string_equal(f.msgs[499].name, "cur/000499.m.h,S=2:2,");
	imap_folder_close(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uids_persist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_examine_readonly, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink_ignored, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_copy_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uidvalidity_recreate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
