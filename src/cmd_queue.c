/* cmd_queue - `postern queue [-c FILE] [list|flush|delete ID...|hold ID...|
 *             release ID...]`: the administrator's view of the queue, like
 *             mailq and postsuper, working on the spool files directly so
 *             that it works whether the server runs or not.
 * Trusts: the administrator's command line and config; queue file ids are
 *         checked with qfile_id_valid (no "../", no dot files).
 * Gives:  list: every message in queue/ and hold/ (held ones marked "!"):
 *         id, size, age, sender, pending recipients and each one's last
 *         error from deferred/ID, read with the queue process's parser
 *         (schedule.h; state it would reject is listed as such). flush:
 *         "next 0" in every deferred/ID
 *         (atomic rewrite, owner and mode kept), then queue/.flush is
 *         created and removed to wake the queue process. delete: unlink
 *         queue/ID (or hold/ID) and deferred/ID. hold: rename queue/ID ->
 *         hold/ID. release: rename back (without replacing) and "next 0".
 * Exit:   0 done, 1 no such message, 64 usage, 75 I/O trouble, 78 config.
 * Never:  edits a queue file's contents; a message being delivered while
 *         it is held or deleted finishes that delivery (the queue process
 *         holds it open), which is the at-least-once rule of qfile.h.
 *         Every delete, hold, release and flush is logged (log_info, with
 *         the id and the invoking uid) where the server's config logs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmd_queue.h"
#include "cmds.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "qfile.h"
#include "schedule.h"

#define CQ_EX_NOTFOUND	1
#define CQ_TMP_STALE	60	/* seconds: an older deferred/.ID.tmp is left over */

/* ---- pure helpers (cmd_queue.h) ---- */

void
cmd_queue_age(long long secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		(void)snprintf(buf, len, "%llds", secs);
	else if (secs < 3600)
		(void)snprintf(buf, len, "%lldm", secs / 60);
	else if (secs < 86400)
		(void)snprintf(buf, len, "%lldh", secs / 3600);
	else if (secs % 86400 >= 3600)
		(void)snprintf(buf, len, "%lldd%lldh", secs / 86400,
		    secs % 86400 / 3600);
	else
		(void)snprintf(buf, len, "%lldd", secs / 86400);
}

/* ---- the spool ---- */

static struct cq {
	struct config	*cfg;
	int		spool_fd;
	int		queue_fd;
	int		hold_fd;	/* -1 if spool/hold does not exist */
	int		deferred_fd;	/* -1 if spool/deferred does not exist */
	int		maildrop_fd;	/* -1 if absent or unreadable */
} cq;

static int
subdir(const char *name, int required)
{
	int fd = openat(cq.spool_fd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW);

	if (fd == -1 && (required || errno != ENOENT))
		fprintf(stderr, "postern queue: %s/%s: %s\n", cq.cfg->spool,
		    name, strerror(errno));
	return fd;
}

/* The retry state of id, read and parsed as the queue process does
 * (schedule.c). 0 *s filled (empty when there is none), or -1 when the
 * queue process would not believe it (unreadable or malformed), s empty.
 * st_r (may be NULL) gets the file's fstat. */
static int
read_deferred(const char *id, struct schedule *s, struct stat *st_r)
{
	struct buf b;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (cq.deferred_fd == -1)
		return 0;
	if (fileio_read_file(cq.deferred_fd, id, 0, SCHEDULE_FILE_MAX, &b,
	    st_r) == -1)
		rc = errno == ENOENT ? 0 : -1;
	/* An empty file is no state, as for the queue process. */
	else if (b.len > 0 && schedule_parse(b.data, b.len, s) == -1)
		rc = -1;
	buf_free(&b);
	return rc;
}

/* The envelope of a queue file (up to the empty line). */
static int
read_envelope(int dfd, const char *id, struct qfile_envelope *e,
    struct stat *st)
{
	struct buf b;
	int fd, rc = -1;

	fd = openat(dfd, id, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return -1;
	if (fstat(fd, st) == -1) {
		close(fd);
		return -1;
	}
	buf_init(&b, QFILE_ENVELOPE_MAX);
	if (fileio_read_prefix(fd, "\n\n", 2, &b) == 1)
		rc = qfile_envelope_parse(b.data, b.len, e);
	buf_free(&b);
	close(fd);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/* The valid ids in a directory, sorted (ids sort by arrival). */
static char **
list_ids(int dfd, size_t *n_r)
{
	struct dirent *de;
	char **ids = NULL;
	size_t n = 0;
	DIR *d;
	int fd;

	*n_r = 0;
	if (dfd == -1 || (fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return NULL;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!qfile_id_valid(de->d_name))
			continue;
		ids = xreallocarray(ids, n + 1, sizeof(*ids));
		ids[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof(*ids), cmp_str);
	*n_r = n;
	return ids;
}

static void
free_ids(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* Print one message; returns its size (0 if unreadable). */
static long long
list_one(int dfd, const char *id, int held, time_t now)
{
	struct qfile_envelope e;
	struct schedule d;
	struct stat st;
	const char *err;
	char age[32], next[96];
	long long size;
	size_t i;
	int bad_state;

	if (read_envelope(dfd, id, &e, &st) == -1) {
		if (errno != ENOENT)
			printf("%s%c  (unreadable or malformed queue file)\n",
			    id, held ? '!' : ' ');
		return 0;
	}
	bad_state = read_deferred(id, &d, NULL) == -1;
	size = (long long)st.st_size - (long long)e.content_off;
	cmd_queue_age((long long)(now - e.time), age, sizeof(age));
	next[0] = '\0';
	if (held)
		(void)snprintf(next, sizeof(next), "  (held)");
	else if (bad_state)
		(void)snprintf(next, sizeof(next),
		    "  (unreadable deferred state)");
	else if ((long long)d.next > (long long)now) {
		char in[32];

		cmd_queue_age((long long)d.next - (long long)now, in,
		    sizeof(in));
		(void)snprintf(next, sizeof(next), "  (attempts %u, next in %s)",
		    d.attempts, in);
	} else if (d.attempts > 0)
		(void)snprintf(next, sizeof(next), "  (attempts %u)",
		    d.attempts);
	printf("%s%c %9lld %6s  <%s>%s\n", id, held ? '!' : ' ', size, age,
	    e.from, next);
	for (i = 0; i < e.nrcpts; i++) {
		if (e.rcpts[i].status != QFILE_PENDING)
			continue;
		err = schedule_error(&d, i);
		printf("      <%s>%s%s\n", e.rcpts[i].addr, err ? ": " : "",
		    err ? err : "");
	}
	schedule_free(&d);
	qfile_envelope_free(&e);
	return size;
}

static int
do_list(void)
{
	char **q, **h;
	size_t nq, nh, i, nmd = 0;
	long long total = 0;
	time_t now = time(NULL);
	struct dirent *de;
	DIR *dir;
	int fd;

	q = list_ids(cq.queue_fd, &nq);
	h = list_ids(cq.hold_fd, &nh);
	if (cq.maildrop_fd != -1 &&
	    (fd = fcntl(cq.maildrop_fd, F_DUPFD_CLOEXEC, 0)) != -1) {
		if ((dir = fdopendir(fd)) != NULL) {
			while ((de = readdir(dir)) != NULL)
				nmd += qfile_id_valid(de->d_name);
			closedir(dir);
		} else
			close(fd);
	}
	if (nq + nh == 0)
		printf("Mail queue is empty\n");
	else
		printf("%-19s  %9s %6s  %s\n", "ID (! held)", "SIZE", "AGE",
		    "SENDER / PENDING RECIPIENTS: LAST ERROR");
	for (i = 0; i < nq; i++)
		total += list_one(cq.queue_fd, q[i], 0, now);
	for (i = 0; i < nh; i++)
		total += list_one(cq.hold_fd, h[i], 1, now);
	if (nq + nh > 0)
		printf("-- %zu message%s (%zu held), %lld bytes\n", nq + nh,
		    nq + nh == 1 ? "" : "s", nh, total);
	if (nmd > 0)
		printf("-- %zu message%s in maildrop/ waiting for pickup\n",
		    nmd, nmd == 1 ? "" : "s");
	free_ids(q, nq);
	free_ids(h, nh);
	return CMDS_EX_OK;
}

/* Rewrite deferred/ID with "next 0"; 0, 1 skipped (none, being written,
 * or state the queue process ignores anyway: it retries those now), -1. */
static int
flush_one(const char *id)
{
	struct fileio_new nf = { 0600, (uid_t)-1, (gid_t)-1, 0 };
	enum fileio_step step;
	char tmp[QFILE_ID_LEN + 8];
	struct schedule s;
	struct stat st, tst;
	struct buf out;
	int rv = -1, tries, r = -1;

	memset(&st, 0, sizeof(st));
	if (read_deferred(id, &s, &st) == -1)
		return 1;
	if (st.st_ino == 0 || st.st_size == 0) {	/* no state: due now */
		schedule_free(&s);
		return 1;
	}
	s.next = 0;
	buf_init(&out, SCHEDULE_FILE_MAX);
	if (schedule_format(&out, &s) == -1)
		goto done;
	/* Keep owner and mode: the queue process (another uid) rewrites it. */
	nf.mode = st.st_mode & 0777;
	nf.uid = st.st_uid;
	nf.gid = st.st_gid;
	(void)snprintf(tmp, sizeof(tmp), ".%s.tmp", id);
	for (tries = 0; tries < 2; tries++) {
		r = fileio_replace(cq.deferred_fd, id, tmp, out.data, out.len,
		    &nf, &step);
		if (r == 0 || step != FILEIO_OPEN || errno != EEXIST)
			break;
		/* The queue process may be writing it right now; a stale
		 * one (a crash) is removed. */
		if (fstatat(cq.deferred_fd, tmp, &tst, AT_SYMLINK_NOFOLLOW) == 0 &&
		    time(NULL) - tst.st_mtime > CQ_TMP_STALE)
			unlinkat(cq.deferred_fd, tmp, 0);
		else {
			rv = 1;
			goto done;
		}
	}
	if (r == -1) {
		/* ENOENT at the rename: the queue process, writing its own
		 * state under the same temporary name, took ours away. It is
		 * attempting the message now, which is what a flush asks
		 * for. */
		if (step == FILEIO_RENAME && errno == ENOENT)
			rv = 1;
		goto done;
	}
	/* Delivered meanwhile? Then the state we wrote back is stale. */
	if (fstatat(cq.queue_fd, id, &tst, AT_SYMLINK_NOFOLLOW) == -1 &&
	    (cq.hold_fd == -1 ||
	    fstatat(cq.hold_fd, id, &tst, AT_SYMLINK_NOFOLLOW) == -1))
		unlinkat(cq.deferred_fd, id, 0);
	rv = 0;
done:
	schedule_free(&s);
	buf_free(&out);
	return rv;
}

/* Wake the queue process: IN_CLOSE_WRITE on queue/.flush. */
static int
poke_queue(void)
{
	int fd = openat(cq.queue_fd, ".flush", O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd == -1 || close(fd) == -1) {
		fprintf(stderr, "postern queue: %s/queue/.flush: %s\n",
		    cq.cfg->spool, strerror(errno));
		return -1;
	}
	unlinkat(cq.queue_fd, ".flush", 0);
	return 0;
}

static int
do_flush(void)
{
	char **ids;
	size_t n, i, done = 0;
	int ex = CMDS_EX_OK, r;

	ids = list_ids(cq.deferred_fd, &n);
	for (i = 0; i < n; i++) {
		r = flush_one(ids[i]);
		if (r == -1) {
			fprintf(stderr, "postern queue: deferred/%s: %s\n",
			    ids[i], strerror(errno));
			ex = CMDS_EX_TEMPFAIL;
		} else if (r == 0)
			done++;
	}
	free_ids(ids, n);	/* each rewrite fsync'ed deferred/ itself */
	if (poke_queue() == -1)
		ex = CMDS_EX_TEMPFAIL;
	log_info("admin: queue flush due=%zu uid=%ld", done, (long)getuid());
	printf("flush: %zu deferred message%s due now; queue process "
	    "notified\n", done, done == 1 ? "" : "s");
	return ex;
}

/* spool/hold, created like the master does when missing. */
static int
ensure_hold(void)
{
	struct stat st;

	if (cq.hold_fd != -1)
		return 0;
	if (mkdirat(cq.spool_fd, "hold", 0700) == -1 && errno != EEXIST)
		goto bad;
	cq.hold_fd = subdir("hold", 1);
	if (cq.hold_fd == -1)
		return -1;
	if (fstat(cq.queue_fd, &st) == -1 ||
	    (geteuid() == 0 && fchown(cq.hold_fd, st.st_uid, st.st_gid) == -1))
		goto bad;
	return 0;
bad:
	fprintf(stderr, "postern queue: %s/hold: %s\n", cq.cfg->spool,
	    strerror(errno));
	return -1;
}

static int
exists(int dfd, const char *id)
{
	struct stat st;

	return dfd != -1 && fstatat(dfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
move(int from_fd, int to_fd, const char *id)
{
	if (renameat2(from_fd, id, to_fd, id, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (exists(to_fd, id)) {
		errno = EEXIST;
		return -1;
	}
	return renameat(from_fd, id, to_fd, id);
}

static int
do_one(const char *cmd, const char *id)
{
	if (!qfile_id_valid(id)) {
		fprintf(stderr, "postern queue: '%s' is not a queue id\n", id);
		return CQ_EX_NOTFOUND;
	}
	if (strcmp(cmd, "delete") == 0) {
		if (unlinkat(cq.queue_fd, id, 0) == -1 && (errno != ENOENT ||
		    cq.hold_fd == -1 || unlinkat(cq.hold_fd, id, 0) == -1)) {
			if (errno == ENOENT) {
				fprintf(stderr, "postern queue: %s: no such "
				    "message\n", id);
				return CQ_EX_NOTFOUND;
			}
			goto io;
		}
		if (cq.deferred_fd != -1 &&
		    unlinkat(cq.deferred_fd, id, 0) == -1 && errno != ENOENT)
			goto io;
		log_info("admin: queue delete id=%s uid=%ld", id,
		    (long)getuid());
		printf("%s: deleted\n", id);
		return CMDS_EX_OK;
	}
	if (strcmp(cmd, "hold") == 0) {
		if (ensure_hold() == -1)
			return CMDS_EX_TEMPFAIL;
		if (move(cq.queue_fd, cq.hold_fd, id) == -1) {
			if (errno == ENOENT && exists(cq.hold_fd, id)) {
				printf("%s: already on hold\n", id);
				return CMDS_EX_OK;
			}
			if (errno == ENOENT) {
				fprintf(stderr, "postern queue: %s: no such "
				    "message\n", id);
				return CQ_EX_NOTFOUND;
			}
			goto io;
		}
		if (fsync(cq.hold_fd) == -1 || fsync(cq.queue_fd) == -1)
			goto io;
		log_info("admin: queue hold id=%s uid=%ld", id,
		    (long)getuid());
		printf("%s: on hold\n", id);
		return CMDS_EX_OK;
	}
	/* release */
	if (cq.hold_fd == -1 || move(cq.hold_fd, cq.queue_fd, id) == -1) {
		if (cq.hold_fd != -1 && errno == EEXIST) {
			fprintf(stderr, "postern queue: %s: queue/ has a message "
			    "with this id too; left on hold\n", id);
			return CQ_EX_NOTFOUND;
		}
		if (cq.hold_fd == -1 || errno == ENOENT) {
			fprintf(stderr, "postern queue: %s: %s\n", id,
			    exists(cq.queue_fd, id) ? "not on hold" :
			    "no such message");
			return CQ_EX_NOTFOUND;
		}
		goto io;
	}
	if (fsync(cq.queue_fd) == -1 || fsync(cq.hold_fd) == -1)
		goto io;
	if (cq.deferred_fd != -1 && flush_one(id) == -1)
		goto io;
	log_info("admin: queue release id=%s uid=%ld", id, (long)getuid());
	printf("%s: released\n", id);
	return CMDS_EX_OK;
io:
	fprintf(stderr, "postern queue: %s %s: %s\n", cmd, id, strerror(errno));
	return CMDS_EX_TEMPFAIL;
}

int
cmd_queue(int argc, char **argv, const char *file)
{
	struct errlist errs = { NULL, 0 };
	const char *cmd = "list";
	size_t i;
	int k, ex = CMDS_EX_OK, r, takes_ids;

	for (k = 1; k < argc; k++)
		if (argv[k][0] == '-') {
			fprintf(stderr, "postern: queue: unknown option %s\n",
			    argv[k]);
			return CMDS_EX_USAGE;
		}
	if (argc > 1)
		cmd = argv[1];
	takes_ids = strcmp(cmd, "delete") == 0 || strcmp(cmd, "hold") == 0 ||
	    strcmp(cmd, "release") == 0;
	if (!takes_ids && strcmp(cmd, "list") != 0 &&
	    strcmp(cmd, "flush") != 0) {
		fprintf(stderr, "postern: queue: unknown command %s\n", cmd);
		return CMDS_EX_USAGE;
	}
	if (takes_ids != (argc > 2)) {
		fprintf(stderr, takes_ids ? "postern: queue: %s needs an ID\n" :
		    "postern: queue: %s takes no ID\n", cmd);
		return CMDS_EX_USAGE;
	}
	cq.spool_fd = cq.queue_fd = cq.hold_fd = cq.deferred_fd = -1;
	cq.maildrop_fd = -1;
	if ((cq.cfg = config_load(file, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		errlist_free(&errs);
		return CMDS_EX_CONFIG;
	}
	/* Every change an administrator makes is logged, where
	 * the server logs: stderr by default, syslog with log = syslog. */
	log_init("queue", cq.cfg->log_syslog);
	cq.spool_fd = open(cq.cfg->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cq.spool_fd == -1 || (cq.queue_fd = subdir("queue", 1)) == -1) {
		if (cq.spool_fd == -1)
			fprintf(stderr, "postern queue: spool %s: %s\n",
			    cq.cfg->spool, strerror(errno));
		ex = CMDS_EX_TEMPFAIL;
		goto out;
	}
	cq.hold_fd = subdir("hold", 0);
	cq.deferred_fd = subdir("deferred", 0);
	cq.maildrop_fd = openat(cq.spool_fd, "maildrop", O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (strcmp(cmd, "list") == 0)
		ex = do_list();
	else if (strcmp(cmd, "flush") == 0)
		ex = do_flush();
	else
		for (k = 2; k < argc; k++) {
			r = do_one(cmd, argv[k]);
			/* The worst outcome wins: 75 over 1 over 0. */
			if (r == CMDS_EX_TEMPFAIL || (r != CMDS_EX_OK &&
			    ex == CMDS_EX_OK))
				ex = r;
		}
out:
	if (cq.maildrop_fd != -1)
		close(cq.maildrop_fd);
	if (cq.deferred_fd != -1)
		close(cq.deferred_fd);
	if (cq.hold_fd != -1)
		close(cq.hold_fd);
	if (cq.queue_fd != -1)
		close(cq.queue_fd);
	if (cq.spool_fd != -1)
		close(cq.spool_fd);
	config_free(cq.cfg);
	return ex;
}
