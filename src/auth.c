/* auth - the auth process: owns the user table and the APOP secrets
 *        (handed over by the master, which reads the root-only files),
 *        checks credentials for the network-facing processes, slows down
 *        password guessers, and keeps the POP-before-SMTP grants.
 * Trusts: the master's messages; smtpd's and pop3d's requests only as far
 *         as their framing: each one is validated.
 * Gives:  "does this local user exist", "is this password / APOP digest
 *         right" (answered late, by a timer, after failures from the same
 *         address), and the grants table to smtpd after every change.
 * Never:  reads the users or secrets files itself, touches the network,
 *         or logs a password. Grants live in spool/grants, rewritten
 *         atomically under spool/grants.lock (`postern grants` uses the
 *         same lock), and re-read when someone else changed it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "aliases.h"
#include "apop.h"
#include "buf.h"
#include "grants.h"
#include "hasher.h"
#include "ipc.h"
#include "log.h"
#include "pop3_session.h"
#include "proc.h"
#include "smtp_session.h"
#include "users.h"

#define AUTH_DELAY_MAX		15	/* seconds: cap of the failure delay */
#define AUTH_FAIL_FORGET	900	/* seconds without failure: forget an address */
#define AUTH_FAIL_SLOTS		4096	/* addresses remembered at most */
#define GRANTS_FILE_MAX		(1024 * 1024)

/* Failed logins per client address: the next answer after a failure
 * waits 1, 2, 4, 8, 15, 15... seconds. */
struct failure {
	struct netaddr	addr;
	unsigned	count;
	time_t		last;
};

/* A reply held back by the failure delay. */
struct delayed {
	struct ipc	*ipc;
	uint32_t	type;
	uint64_t	id;
	unsigned char	result;
	struct event	*ev;
};

static struct auth {
	struct event_base *base;
	struct ipc	*master;
	struct ipc	*smtpd;
	struct ipc	*pop3d;
	struct users	*users;		/* NULL until the master sent the table */
	struct users	*secrets;	/* APOP secrets, hex-encoded in ->hash */
	const struct config *cfg;
	int		spool_fd;
	struct grants	grants;
	struct stat	grants_st;	/* the file as we last wrote or read it */
	struct failure	*fails;
	size_t		nfails;
	int		smtpd_fd, pop3d_fd;	/* until open_clients() */
} a;

static void open_clients(void);

static void
load_table(struct users **t, const char *path, const char *text, size_t len,
    const char *what)
{
	struct errlist errs = { NULL, 0 };
	size_t i;

	if (*t != NULL)
		users_free(*t);
	*t = users_parse(path, text, len, &errs);
	for (i = 0; i < errs.n; i++)
		log_warn("%s", errs.msgs[i]);
	errlist_free(&errs);
	log_info("%s loaded: %zu entries", what, (*t)->n);
}

/* ---- grants ---- */

static void
grants_push(void)
{
	struct buf b;

	buf_init(&b, GRANTS_FILE_MAX);
	if (grants_format(&a.grants, &b) == 0 && a.smtpd != NULL)
		ipc_send(a.smtpd, IPC_GRANTS, 0, b.data, b.len);
	buf_free(&b);
}

static int
grants_lock(void)
{
	int fd = openat(a.spool_fd, "grants.lock", O_RDWR | O_CREAT | O_CLOEXEC,
	    0600);

	if (fd != -1 && flock(fd, LOCK_EX) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Re-read spool/grants if it is not what we wrote last. Lock held. */
static int
grants_reload(int force)
{
	struct stat st;
	struct buf b;
	char chunk[8192];
	ssize_t r;
	size_t bad;
	int fd;

	fd = openat(a.spool_fd, "grants", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno != ENOENT)
			return -1;
		if (a.grants.n > 0 && a.grants_st.st_ino != 0) {
			/* Someone removed the file: no grants. */
			a.grants.n = 0;
			memset(&a.grants_st, 0, sizeof(a.grants_st));
			return 1;
		}
		return 0;
	}
	if (fstat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	if (!force && st.st_ino == a.grants_st.st_ino &&
	    st.st_mtim.tv_sec == a.grants_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == a.grants_st.st_mtim.tv_nsec &&
	    st.st_size == a.grants_st.st_size) {
		close(fd);
		return 0;
	}
	buf_init(&b, GRANTS_FILE_MAX);
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&b, chunk, (size_t)r) == -1)
			break;
	close(fd);
	bad = grants_parse(&a.grants, b.data ? b.data : "", b.len);
	if (bad)
		log_warn("grants: %zu malformed lines ignored", bad);
	buf_free(&b);
	a.grants_st = st;
	return 1;
}

/* Write the table atomically (lock held). */
static int
grants_save(void)
{
	struct buf b;
	int fd, rc = -1;

	buf_init(&b, GRANTS_FILE_MAX);
	if (grants_format(&a.grants, &b) == -1)
		goto out;
	fd = openat(a.spool_fd, "grants.tmp", O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		goto out;
	if ((b.len && write(fd, b.data, b.len) != (ssize_t)b.len) ||
	    fsync(fd) == -1) {
		close(fd);
		goto out;
	}
	close(fd);
	if (renameat(a.spool_fd, "grants.tmp", a.spool_fd, "grants") == -1)
		goto out;
	fsync(a.spool_fd);
	fd = openat(a.spool_fd, "grants", O_RDONLY | O_CLOEXEC);
	if (fd != -1) {
		fstat(fd, &a.grants_st);
		close(fd);
	}
	rc = 0;
out:
	if (rc == -1)
		log_warn("grants: cannot save: %s", strerror(errno));
	buf_free(&b);
	return rc;
}

static void
grant(const char *user, const struct netaddr *addr)
{
	time_t expires = time(NULL) + (time_t)a.cfg->pop_before_smtp_ttl;
	char ip[64], when[64];
	struct tm tm;
	int lock;

	if (a.cfg->pop_before_smtp_ttl == 0)
		return;
	lock = grants_lock();
	grants_reload(0);
	grants_expire(&a.grants, time(NULL));
	grants_put(&a.grants, addr, user, expires);
	grants_save();
	if (lock != -1)
		close(lock);
	gmtime_r(&expires, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	log_info("pop-before-smtp: relay granted to %s for user %s until %s",
	    netaddr_format(addr, ip, sizeof(ip)), user, when);
	grants_push();
}

/* Every second: pick up `postern grants revoke` and drop expired grants. */
static void
grants_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	size_t before = a.grants.n;
	int lock, changed;

	(void)fd; (void)what; (void)arg;
	lock = grants_lock();
	changed = grants_reload(0) == 1;
	if (lock != -1)
		close(lock);
	grants_expire(&a.grants, time(NULL));
	if (changed || a.grants.n != before)
		grants_push();
}

/* ---- failure throttling ---- */

static struct failure *
failure_find(const struct netaddr *addr, int create)
{
	time_t now = time(NULL);
	size_t i, oldest = 0;

	for (i = 0; i < a.nfails; i++) {
		if (netaddr_equal(&a.fails[i].addr, addr)) {
			if (now - a.fails[i].last > AUTH_FAIL_FORGET)
				a.fails[i].count = 0;
			return &a.fails[i];
		}
		if (a.fails[i].last < a.fails[oldest].last)
			oldest = i;
	}
	if (!create)
		return NULL;
	if (a.nfails < AUTH_FAIL_SLOTS) {
		a.fails = xreallocarray(a.fails, a.nfails + 1, sizeof(*a.fails));
		i = a.nfails++;
	} else {
		i = oldest;	/* forget the address quiet for longest */
	}
	memset(&a.fails[i], 0, sizeof(a.fails[i]));
	a.fails[i].addr = *addr;
	return &a.fails[i];
}

static unsigned
failure_delay(unsigned count)
{
	if (count == 0)
		return 0;
	if (count > 4)
		return AUTH_DELAY_MAX;
	return 1u << (count - 1);
}

static void
delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *dl = arg;

	(void)fd; (void)what;
	ipc_send(dl->ipc, dl->type, dl->id, &dl->result, 1);
	event_free(dl->ev);
	free(dl);
}

/* Answer a credential check; failures (and every answer to an address
 * with recent failures) wait, so a guesser gets one try per delay. */
static void
auth_answer(struct ipc *ipc, uint32_t reply_type, uint64_t id,
    const struct netaddr *addr, const char *user, const char *mech,
    unsigned char result)
{
	struct failure *f = failure_find(addr, result == POP3_BAD);
	struct timeval tv = { 0, 0 };
	struct delayed *dl;
	char ip[64];

	netaddr_format(addr, ip, sizeof(ip));
	if (result == POP3_OK) {
		log_info("login ok: user=%s mechanism=%s client=[%s]", user, mech, ip);
		if (f != NULL)
			f->count = 0;
	} else if (result == POP3_BAD) {
		f->count++;
		f->last = time(NULL);
		tv.tv_sec = failure_delay(f->count);
		log_info("login failed: user=%s mechanism=%s client=[%s] "
		    "failures=%u delay=%lds", user, mech, ip, f->count,
		    (long)tv.tv_sec);
	}
	if (tv.tv_sec == 0) {
		ipc_send(ipc, reply_type, id, &result, 1);
		return;
	}
	dl = xcalloc(1, sizeof(*dl));
	dl->type = reply_type;
	dl->ipc = ipc;
	dl->id = id;
	dl->result = result;
	dl->ev = evtimer_new(a.base, delayed_cb, dl);
	evtimer_add(dl->ev, &tv);
}

/* Split "f1\0f2\0...fn\0"-style payloads (last NUL optional). */
static int
split_fields(const char *data, size_t len, const char **f, size_t nf)
{
	size_t i = 0, start = 0, k;

	for (k = 0; k < len && i < nf; k++)
		if (data[k] == '\0') {
			f[i++] = data + start;
			start = k + 1;
		}
	return i == nf ? 0 : -1;
}

/* A credential check waiting for a hasher worker. */
struct pending_check {
	struct ipc	*ipc;
	uint64_t	 id;
	uint32_t	 reply_type;	/* IPC_POP3_AUTH_REPLY / IPC_SMTP_AUTH_REPLY */
	struct netaddr	 addr;
	char		 user[USERS_NAME_MAX + 1];
	const char	*mech;
	int		 known;		/* the user exists */
};

static void auth_answer(struct ipc *, uint32_t, uint64_t, const struct netaddr *,
    const char *, const char *, unsigned char);

static void
password_checked(int result, void *arg)
{
	struct pending_check *pc = arg;
	unsigned char r = result == -1 ? POP3_TEMPFAIL :
	    result == 1 && pc->known ? POP3_OK : POP3_BAD;

	auth_answer(pc->ipc, pc->reply_type, pc->id, &pc->addr, pc->user,
	    pc->mech, r);
	if (r == POP3_OK)
		grant(pc->user, &pc->addr);
	free(pc);
}

/* USER/PASS, AUTH PLAIN and LOGIN: hashing runs in a worker, the answer
 * comes back through password_checked(). */
static void
check_password(struct ipc *ipc, uint32_t reply_type, uint64_t id,
    const char *user, const char *pass, const struct netaddr *addr,
    const char *mech)
{
	const struct user_entry *e = NULL;
	struct pending_check *pc;

	if (a.users == NULL) {
		auth_answer(ipc, reply_type, id, addr, user, mech, POP3_TEMPFAIL);
		return;
	}
	if (users_name_valid(user))
		e = users_find(a.users, user);
	pc = xcalloc(1, sizeof(*pc));
	pc->ipc = ipc;
	pc->id = id;
	pc->reply_type = reply_type;
	pc->addr = *addr;
	pc->mech = mech;
	pc->known = e != NULL;
	snprintf(pc->user, sizeof(pc->user), "%s", user);
	/* An unknown user costs a dummy hash: the same time as a known one. */
	hasher_check(e ? e->hash : NULL, pass, password_checked, pc);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
pop3_apop(struct ipc *ipc, uint64_t id, const char *user, const char *ts,
    const char *digest, const struct netaddr *addr)
{
	const struct user_entry *e = NULL;
	unsigned char r = POP3_BAD;
	char secret[512];
	size_t i, n;

	if (a.users == NULL || a.secrets == NULL) {
		auth_answer(ipc, IPC_POP3_AUTH_REPLY, id, addr, user, "APOP",
		    POP3_TEMPFAIL);
		return;
	}
	if (users_name_valid(user) && users_find(a.users, user) != NULL)
		e = users_find(a.secrets, user);
	if (e != NULL && (n = strlen(e->hash)) % 2 == 0 && n / 2 < sizeof(secret)) {
		for (i = 0; i < n / 2; i++) {
			int hi = hexval(e->hash[2 * i]), lo = hexval(e->hash[2 * i + 1]);
			if (hi < 0 || lo < 0)
				break;
			secret[i] = (char)(hi << 4 | lo);
		}
		if (i == n / 2 && apop_check(ts, strlen(ts), secret, i, digest,
		    strlen(digest)) == 1)
			r = POP3_OK;
		explicit_bzero(secret, sizeof(secret));
	}
	auth_answer(ipc, IPC_POP3_AUTH_REPLY, id, addr, user, "APOP", r);
	if (r == POP3_OK)
		grant(user, addr);
}

/* ---- aliases (issue 4): RCPT to an alias is a known recipient ---- */

static struct aliases *auth_aliases;

static void
load_aliases(const char *text, size_t len)
{
	struct errlist errs = { NULL, 0 };

	aliases_free(auth_aliases);
	/* The queue process logs the table's errors; one report is enough. */
	auth_aliases = aliases_parse("aliases", text, len, &errs);
	errlist_free(&errs);
}

/* ---- IPC ---- */

static void
master_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)ipc; (void)id; (void)arg;
	if (type == IPC_USERS_DB) {
		load_table(&a.users, a.cfg->users_path, data, len, "user table");
		open_clients();
	}
	else if (type == IPC_SECRETS_DB)
		load_table(&a.secrets, a.cfg->secrets_path, data, len, "APOP secrets");
	else if (type == IPC_ALIASES_DB)
		load_aliases(data, len);
	else
		log_warn("unexpected message %u from master", type);
}

static void
smtpd_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	char name[USERS_NAME_MAX + 1];
	unsigned char r;

	(void)arg;
	if (type != IPC_USER_LOOKUP) {
		log_warn("unexpected message %u from smtpd", type);
		return;
	}
	if (a.users == NULL) {
		r = SMTP_USER_TEMPFAIL;
	} else if (len == 0 || len > USERS_NAME_MAX) {
		r = SMTP_USER_UNKNOWN;
	} else {
		memcpy(name, data, len);
		name[len] = '\0';
		r = users_name_valid(name) && (users_find(a.users, name) != NULL ||
		    aliases_has(auth_aliases, name)) ?
		    SMTP_USER_FOUND : SMTP_USER_UNKNOWN;
	}
	ipc_send(ipc, IPC_USER_LOOKUP_REPLY, id, &r, 1);
}

static void
pop3d_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	const char *f[4];
	struct netaddr addr;

	(void)arg;
	if (type == IPC_POP3_PASS && split_fields(data, len, f, 3) == 0 &&
	    netaddr_parse(f[2], &addr) == 0) {
		check_password(ipc, IPC_POP3_AUTH_REPLY, id, f[0], f[1], &addr,
		    "USER/PASS");
		explicit_bzero((void *)(uintptr_t)f[1], strlen(f[1]));
	} else if (type == IPC_POP3_APOP && split_fields(data, len, f, 4) == 0 &&
	    netaddr_parse(f[3], &addr) == 0) {
		pop3_apop(ipc, id, f[0], f[1], f[2], &addr);
	} else {
		log_warn("malformed message %u from pop3d", type);
	}
}

static void
eof_cb(struct ipc *ipc, void *arg)
{
	(void)ipc; (void)arg;
	log_info("peer closed; exiting");
	exit(0);
}

/* The first user table has arrived (the master sends it, the secrets and
 * the aliases together at start-up): start answering the other processes,
 * so that no early RCPT gets a 451 for want of a table. */
static void
open_clients(void)
{
	if (a.smtpd != NULL)
		return;
	a.smtpd = ipc_new(a.base, a.smtpd_fd, smtpd_msg_cb, eof_cb, NULL);
	if (a.pop3d_fd != -1)
		a.pop3d = ipc_new(a.base, a.pop3d_fd, pop3d_msg_cb, eof_cb, NULL);
	grants_push();
}

void
auth_main(struct runtime *rt, int smtpd_fd, int pop3d_fd)
{
	struct timeval sec = { 1, 0 };
	struct event *gt;
	size_t i;
	int lock;

	a.cfg = rt->cfg;
	a.spool_fd = rt->spool_fd;
	close(rt->incoming_fd);
	close(rt->queue_fd);
	close(rt->mail_fd);
	for (i = 0; i < rt->n_smtp_fds; i++)
		close(rt->smtp_fds[i]);
	for (i = 0; i < rt->n_pop3_fds; i++)
		close(rt->pop3_fds[i]);
	proc_drop(rt);
	a.base = event_base_new();
	if (a.base == NULL)
		fatal("event_base_new failed");
	if (hasher_start(a.base, HASHER_WORKERS) == -1)
		fatal("cannot start the password hashing workers: %s",
		    strerror(errno));
	a.master = ipc_new(a.base, rt->master_fd, master_msg_cb, eof_cb, NULL);
	/* smtpd's and pop3d's questions wait in their sockets until the
	 * master's tables are here (open_clients). */
	a.smtpd_fd = smtpd_fd;
	a.pop3d_fd = pop3d_fd;
	/* Grants survive restarts: load them, drop the expired, tell smtpd. */
	lock = grants_lock();
	grants_reload(1);
	if (lock != -1)
		close(lock);
	grants_expire(&a.grants, time(NULL));
	grants_push();
	gt = event_new(a.base, -1, EV_PERSIST, grants_timer_cb, NULL);
	event_add(gt, &sec);
	event_base_dispatch(a.base);
	exit(0);
}
