/* pickup - maildrop files into queue files, in the queue process; see
 *          pickup.h (and maildrop.h for the format and its invariants). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "fileio.h"
#include "buf.h"
#include "log.h"
#include "maildrop.h"
#include "pickup.h"
#include "proc.h"
#include "qfile.h"
#include "relay.h"

#define PICKUP_CHUNK	65536

static void why_add(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
why_add(struct buf *why, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL)
		return;
	va_start(ap, fmt);
	(void)buf_vprintf(why, fmt, ap);	/* a full buffer only shortens the log */
	va_end(ap);
	(void)buf_appendc(why, '\n');
}

/* ---- the envelope (pure) ---- */

static int
rcpt_seen(const struct qfile_envelope *qe, const struct qfile_rcpt *r)
{
	size_t i;

	for (i = 0; i < qe->nrcpts; i++) {
		if (strcmp(qe->rcpts[i].addr, r->addr) == 0)
			return 1;
		if (r->kind == QFILE_LOCAL && qe->rcpts[i].kind == QFILE_LOCAL &&
		    strcmp(qe->rcpts[i].mailbox, r->mailbox) == 0)
			return 1;
	}
	return 0;
}

size_t
pickup_envelope(const struct config *cfg, const struct maildrop_envelope *me,
    const char *login, const char *id, time_t now, struct qfile_envelope *qe,
    struct buf *why_r)
{
	struct relay_policy pol;
	struct relay_mailbox_rule rule;
	enum relay_mailbox mb;
	struct relay_client client;
	struct relay_decision d;
	struct qfile_rcpt r;
	const struct address *a;
	size_t i;

	memset(qe, 0, sizeof(*qe));
	(void)xsnprintf(qe->id, sizeof(qe->id), "%s", id);
	qe->time = now;
	(void)xsnprintf(qe->client, sizeof(qe->client), "local");
	(void)xsnprintf(qe->auth, sizeof(qe->auth), "%s", login);
	if (!me->from.is_null &&
	    !maildrop_address_ok(&me->from, qe->from, sizeof(qe->from)))
		why_add(why_r, "sender cannot be stored");
	/* Local submission: the kernel authenticated the user. Networks and
	 * relay rules are about TCP clients and play no part here. */
	relay_policy_from_config(&pol, cfg);
	pol.local_networks = NULL;
	pol.n_local_networks = 0;
	pol.rules = NULL;
	relay_mailbox_rule_from_config(&rule, cfg);
	memset(&client, 0, sizeof(client));
	client.auth_user = login;
	qe->rcpts = xcalloc(me->nrcpts ? me->nrcpts : 1, sizeof(*qe->rcpts));
	for (i = 0; i < me->nrcpts; i++) {
		a = &me->rcpts[i];
		memset(&r, 0, sizeof(r));
		r.status = QFILE_PENDING;
		if (!maildrop_address_ok(a, r.addr, sizeof(r.addr))) {
			why_add(why_r, "recipient %zu: cannot be stored", i);
			continue;
		}
		relay_decide(&pol, &client, NULL, now, a, &d);
		if (d.result == RELAY_ACCEPT_RELAY) {
			r.kind = QFILE_REMOTE;
		} else if (d.result == RELAY_ACCEPT_LOCAL) {
			r.kind = QFILE_LOCAL;
			/* The mailbox rule of the SMTP session. */
			mb = relay_address_mailbox(&rule, a, r.mailbox,
			    sizeof(r.mailbox));
			if (mb != RELAY_MAILBOX_USER &&
			    mb != RELAY_MAILBOX_POSTMASTER) {
				why_add(why_r, "to=<%s> rejected: not a valid "
				    "local mailbox name", r.addr);
				continue;
			}
		} else {
			why_add(why_r, "to=<%s> rejected: %d %s %s (rule %s)",
			    r.addr, d.code, d.status ? d.status : "",
			    d.text ? d.text : "", d.rule);
			continue;
		}
		if (!rcpt_seen(qe, &r))
			qe->rcpts[qe->nrcpts++] = r;
	}
	return qe->nrcpts;
}

/* ---- files ---- */

/* One log line per reason collected by pickup_envelope. */
static void
log_why(const char *name, uid_t uid, struct buf *why)
{
	char q[512], *line, *nl;

	for (line = why->data; why->len > 0 && *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		log_warn("maildrop/%s uid=%lu %s", name, (unsigned long)uid,
		    log_quote(q, sizeof(q), line, (size_t)(nl - line)));
	}
}

static void
move_to_corrupt(struct pickup_ctx *c, const char *name, const char *why)
{
	char dst[64];

	if (mkdirat(c->spool_fd, "corrupt", 0700) == -1 && errno != EEXIST) {
		log_warn("maildrop/%s rejected (%s); cannot create corrupt/: %s",
		    name, why, strerror(errno));
		return;
	}
	(void)snprintf(dst, sizeof(dst), "corrupt/maildrop-%s", name);
	if (renameat(c->maildrop_fd, name, c->spool_fd, dst) == -1) {
		log_warn("maildrop/%s rejected (%s); cannot move it to %s: %s",
		    name, why, dst, strerror(errno));
		return;
	}
	log_warn("maildrop/%s rejected (%s): moved to %s", name, why, dst);
}

/* Read the envelope (up to its empty line) into b. */
static enum maildrop_status
read_envelope(int fd, const struct config *cfg, struct buf *b,
    struct maildrop_envelope *e)
{
	enum maildrop_status st = MAILDROP_ERR_TRUNCATED;
	char chunk[8192];
	ssize_t r;
	off_t off = 0;

	for (;;) {
		r = pread(fd, chunk, sizeof(chunk), off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? st : (enum maildrop_status)-1;
		if (buf_append(b, chunk, (size_t)r) == -1)
			return MAILDROP_ERR_ENVELOPE_SIZE;
		off += r;
		st = maildrop_envelope_parse(b->data, b->len,
		    cfg->max_recipients, e);
		if (st != MAILDROP_ERR_TRUNCATED)
			return st;
	}
}

static const char *
login_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL && pw->pw_name[0] != '\0' &&
	    xsnprintf(buf, len, "%s", pw->pw_name) >= 0 &&
	    strpbrk(buf, " \t\r\n") == NULL)
		return buf;
	(void)xsnprintf(buf, len, "uid%lu", (unsigned long)uid);
	return buf;
}

enum outcome
pickup_file(struct pickup_ctx *c, const char *name, char *qid_r)
{
	enum outcome res = OUTCOME_TEMP;
	enum maildrop_status st;
	struct maildrop_envelope me;
	struct maildrop_content chk;
	struct qfile_envelope qe;
	struct buf env, why, out;
	struct stat sb;
	struct timeval tv;
	char qid[QFILE_ID_LEN + 1], login[64], date[64], reason[256];
	char chunk[PICKUP_CHUNK];
	const char *rej = NULL;
	off_t off;
	ssize_t r;
	int fd, qfd = -1, tries, in_incoming = 0;

	if (qid_r != NULL)
		qid_r[0] = '\0';
	if (!qfile_id_valid(name))
		return OUTCOME_OK;	/* nothing of ours to pick up */
	memset(&me, 0, sizeof(me));
	memset(&qe, 0, sizeof(qe));
	buf_init(&env, MAILDROP_ENVELOPE_MAX);
	buf_init(&why, 4096);
	buf_init(&out, QFILE_ENVELOPE_MAX);
	/* Never open what is not a regular file (a FIFO, a socket); and
	 * O_NONBLOCK in case one is swapped in before the open. */
	fd = -1;
	if (fstatat(c->maildrop_fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISREG(sb.st_mode)) {
		rej = S_ISLNK(sb.st_mode) ? "a symbolic link" :
		    "not a regular file";
		goto reject;
	}
	fd = openat(c->maildrop_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT) {
			res = OUTCOME_OK;	/* picked up already */
			goto out;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
		    errno == EINTR || errno == EIO) {
			log_warn("maildrop/%s: open: %s", name, strerror(errno));
			goto out;
		}
		(void)snprintf(reason, sizeof(reason), "open: %s",
		    strerror(errno));
		rej = reason;
		goto reject;
	}
	if (fstat(fd, &sb) == -1) {
		log_warn("maildrop/%s: fstat: %s", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rej = "not a regular file";
		goto reject;
	}
	if (sb.st_nlink != 1) {
		rej = "more than one link";
		goto reject;
	}
	st = read_envelope(fd, c->cfg, &env, &me);
	if ((int)st == -1) {
		log_warn("maildrop/%s: read: %s", name, strerror(errno));
		goto out;
	}
	if (st != MAILDROP_OK) {
		rej = maildrop_strerror(st);
		goto reject;
	}
	/* The kernel's word against the file's. */
	if (me.uid != sb.st_uid) {
		(void)snprintf(reason, sizeof(reason), "uid line %lu but the "
		    "file belongs to uid %lu", (unsigned long)me.uid,
		    (unsigned long)sb.st_uid);
		rej = reason;
		goto reject;
	}
	if ((uint64_t)sb.st_size > (uint64_t)me.content_off +
	    c->cfg->max_message_size) {
		rej = maildrop_strerror(MAILDROP_ERR_TOO_BIG);
		goto reject;
	}

	/* The queue file: a new id, created exclusively in incoming/. */
	for (tries = 0; tries < 8; tries++) {
		gettimeofday(&tv, NULL);
		qfile_make_id(qid, (uint64_t)tv.tv_sec * 1000000 +
		    (uint64_t)tv.tv_usec, c->salt++);
		qfd = openat(c->incoming_fd, qid, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0600);
		if (qfd != -1 || errno != EEXIST)
			break;
	}
	if (qfd == -1) {
		log_warn("maildrop/%s: incoming: %s", name, strerror(errno));
		goto out;
	}
	in_incoming = 1;
	if (pickup_envelope(c->cfg, &me, login_name(me.uid, login,
	    sizeof(login)), qid, tv.tv_sec, &qe, &why) == 0) {
		rej = "no deliverable recipient";
		goto reject;
	}
	qfile_rfc5322_date(tv.tv_sec, date, sizeof(date));
	if (qfile_envelope_format(&out, &qe) == -1 ||
	    buf_printf(&out, "Received: by %s (postern sendmail, uid %lu)\r\n"
	    "\tid %s; %s\r\n", c->cfg->hostname, (unsigned long)me.uid, qid,
	    date) == -1) {
		rej = "envelope cannot be stored";
		goto reject;
	}
	if (fileio_write_all(qfd, out.data, out.len) == -1) {
		log_warn("maildrop/%s: incoming/%s: write: %s", name, qid,
		    strerror(errno));
		goto out;
	}
	/* The content, checked as it is copied. */
	maildrop_content_init(&chk, c->cfg->max_message_size);
	for (off = (off_t)me.content_off;; off += r) {
		r = pread(fd, chunk, sizeof(chunk), off);
		if (r == -1 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r == -1) {
			log_warn("maildrop/%s: read: %s", name, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (maildrop_content_feed(&chk, chunk, (size_t)r) != MAILDROP_OK)
			break;
		if (fileio_write_all(qfd, chunk, (size_t)r) == -1) {
			log_warn("maildrop/%s: incoming/%s: write: %s", name,
			    qid, strerror(errno));
			goto out;
		}
	}
	if (maildrop_content_end(&chk) != MAILDROP_OK) {
		rej = maildrop_strerror(chk.status);
		goto reject;
	}
	/* Durable in queue/ before the maildrop file goes (invariant 2). */
	if (fdatasync(qfd) == -1 || close(qfd) == -1) {
		qfd = -1;
		log_warn("maildrop/%s: incoming/%s: fsync: %s", name, qid,
		    strerror(errno));
		goto out;
	}
	qfd = -1;
	if (renameat2(c->incoming_fd, qid, c->queue_fd, qid,
	    RENAME_NOREPLACE) == -1 && (errno != EINVAL ||
	    faccessat(c->queue_fd, qid, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	    renameat(c->incoming_fd, qid, c->queue_fd, qid) == -1)) {
		log_warn("maildrop/%s: rename into queue/%s: %s", name, qid,
		    strerror(errno));
		goto out;
	}
	in_incoming = 0;
	if (fsync(c->queue_fd) == -1) {
		/* queue/QID exists; keeping the maildrop file too could only
		 * duplicate, never lose: leave both and say so. */
		log_warn("maildrop/%s: fsync(queue/): %s; not removing the "
		    "maildrop file yet", name, strerror(errno));
		res = OUTCOME_OK;
		goto log;
	}
	if (unlinkat(c->maildrop_fd, name, 0) == -1)
		log_warn("maildrop/%s: unlink: %s (will be picked up again)",
		    name, strerror(errno));
	else
		(void)fsync(c->maildrop_fd);
	res = OUTCOME_OK;
log:
	log_why(name, me.uid, &why);
	log_info("maildrop/%s uid=%lu user=%s from=<%s> nrcpt=%zu size=%lld "
	    "-> id=%s", name, (unsigned long)me.uid, login, qe.from, qe.nrcpts,
	    (long long)(sb.st_size - (off_t)me.content_off), qid);
	if (qid_r != NULL)
		memcpy(qid_r, qid, sizeof(qid));
	goto out;
reject:
	res = OUTCOME_PERM;
	log_why(name, me.uid, &why);
	move_to_corrupt(c, name, rej);
out:
	if (qfd != -1)
		close(qfd);
	if (in_incoming)
		unlinkat(c->incoming_fd, qid, 0);
	if (fd != -1)
		close(fd);
	maildrop_envelope_free(&me);
	qfile_envelope_free(&qe);
	buf_free(&env);
	buf_free(&why);
	buf_free(&out);
	return res;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

size_t
pickup_scan(struct pickup_ctx *c)
{
	struct dirent *de;
	struct stat sb;
	char **names = NULL, q[128], qid[QFILE_ID_LEN + 1];
	size_t n = 0, i, done = 0;
	time_t now = time(NULL);
	DIR *dir;
	int fd;

	if (c->maildrop_fd == -1 ||
	    (fd = fcntl(c->maildrop_fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return 0;
	if ((dir = fdopendir(fd)) == NULL) {
		log_warn("maildrop: %s", strerror(errno));
		close(fd);
		return 0;
	}
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (qfile_id_valid(de->d_name)) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(de->d_name);
			continue;
		}
		/* A killed sendmail's temporary file, or junk: after a day. */
		if (fstatat(c->maildrop_fd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == 0 &&
		    now - sb.st_mtime > PICKUP_STALE_SECONDS &&
		    !S_ISDIR(sb.st_mode) &&
		    unlinkat(c->maildrop_fd, de->d_name, 0) == 0)
			log_info("maildrop: removed stale \"%s\" (uid %lu)",
			    log_quote(q, sizeof(q), de->d_name,
			    strlen(de->d_name)), (unsigned long)sb.st_uid);
	}
	closedir(dir);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		if (pickup_file(c, names[i], qid) == OUTCOME_OK &&
		    qid[0] != '\0')
			done++;
		free(names[i]);
	}
	free(names);
	return done;
}

/* ---- in the queue process ---- */

static struct {
	struct pickup_ctx ctx;
	int		inotify_fd;
	struct event	*iev, *timer;
} p = { .ctx = { NULL, -1, -1, -1, -1, 0 }, .inotify_fd = -1 };

int
pickup_init(struct runtime *rt)
{
	char path[64];

	p.ctx.cfg = rt->cfg;
	p.ctx.spool_fd = rt->spool_fd;
	p.ctx.queue_fd = rt->queue_fd;
	p.ctx.maildrop_fd = rt->maildrop_fd > 0 ? rt->maildrop_fd : -1;
	p.ctx.salt = (uint32_t)getpid() << 8;
	if (p.ctx.maildrop_fd == -1) {
		log_warn("pickup: no maildrop directory; postern sendmail mail "
		    "will not be picked up");
		return -1;
	}
	p.ctx.incoming_fd = openat(rt->spool_fd, "incoming", O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (p.ctx.incoming_fd == -1) {
		log_warn("pickup: incoming/: %s; pickup disabled",
		    strerror(errno));
		p.ctx.maildrop_fd = -1;
		return -1;
	}
	/* Through our descriptor, before privileges are dropped (after that
	 * /proc/self/fd is not ours to read). */
	p.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", p.ctx.maildrop_fd);
	if (p.inotify_fd == -1 ||
	    inotify_add_watch(p.inotify_fd, path, IN_MOVED_TO) == -1) {
		log_warn("inotify on maildrop/: %s; relying on rescans",
		    strerror(errno));
		if (p.inotify_fd != -1)
			close(p.inotify_fd);
		p.inotify_fd = -1;
		return -1;
	}
	return 0;
}

static void
pickup_inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	char evbuf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t r;
	char *q;

	(void)what; (void)arg;
	while ((r = read(fd, evbuf, sizeof(evbuf))) > 0) {
		for (q = evbuf; q < evbuf + r; q += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)q;
			if (ev->mask & IN_Q_OVERFLOW)
				pickup_scan(&p.ctx);
			else if (ev->len > 0 && qfile_id_valid(ev->name))
				pickup_file(&p.ctx, ev->name, NULL);
		}
	}
}

static void
pickup_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	pickup_scan(&p.ctx);
}

void
pickup_start(struct event_base *base)
{
	struct timeval tv = { PICKUP_RESCAN_SECONDS, 0 };

	if (p.ctx.maildrop_fd == -1)
		return;
	if (p.inotify_fd != -1) {
		p.iev = event_new(base, p.inotify_fd, EV_READ | EV_PERSIST,
		    pickup_inotify_cb, NULL);
		event_add(p.iev, NULL);
	}
	p.timer = event_new(base, -1, EV_PERSIST, pickup_timer_cb, NULL);
	event_add(p.timer, &tv);
	pickup_scan(&p.ctx);
}
