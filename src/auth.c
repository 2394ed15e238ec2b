/* auth - the auth process: owns the user table and the APOP secrets
 *        (handed over by the master, which reads the root-only files),
 *        checks credentials for the network-facing processes, slows down
 *        password guessers (throttle.c: while an address's failure delay
 *        runs, no check from it runs at all), and keeps the
 *        POP-before-SMTP grants (a POP3 or IMAP login makes one).
 * Trusts: the master's messages; smtpd's, pop3d's and imapd's requests
 *         only as far as their framing: each one is validated.
 * Gives:  "does this local user exist", "is this password / APOP digest
 *         right" (answered late, by a timer, after failures from the same
 *         address; refused with a temporary error, unchecked, while that
 *         address is penalised), and the grants table to smtpd after
 *         every change.
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
#include <openssl/rand.h>

#include "hex.h"
#include "aliases.h"
#include "apop.h"
#include "buf.h"
#include "fileio.h"
#include "grants.h"
#include "hasher.h"
#include "ipc.h"
#include "log.h"
#include "outcome.h"
#include "sasl.h"
#include "scram.h"
#include "proc.h"
#include "throttle.h"
#include "users.h"


/* A reply held back by the failure delay. */
struct delayed {
	struct ipc	*ipc;
	uint32_t	type;
	uint64_t	id;
	struct buf	msg;		/* the reply: result byte (+ data) */
	struct event	*ev;
	struct netaddr	addr;
	int		admitted;	/* throttle_admit() said RUN: release */
};

static struct auth {
	struct event_base *base;
	struct ipc	*master;
	struct ipc	*smtpd;
	struct ipc	*pop3d;
	struct ipc	*imapd;
	struct users	*users;		/* NULL until the master sent the table */
	struct users	*secrets;	/* APOP secrets, hex-encoded in ->hash */
	const struct config *cfg;
	int		spool_fd;
	struct grants	grants;
	struct stat	grants_st;	/* the file as we last wrote or read it */
	struct throttle	thr;		/* failures per address and per user */
	int		smtpd_fd, pop3d_fd, imapd_fd;	/* until open_clients() */
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
	(void)fileio_read_all(fd, &b);	/* what was read is what counts */
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
	const struct fileio_new nf = { 0600, (uid_t)-1, (gid_t)-1,
	    FILEIO_TMP_LEFTOVER };
	struct buf b;
	int fd, rc = -1;

	buf_init(&b, GRANTS_FILE_MAX);
	if (grants_format(&a.grants, &b) == -1)
		goto out;
	if (fileio_replace(a.spool_fd, "grants", "grants.tmp", b.data, b.len,
	    &nf, NULL) == -1)
		goto out;
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

static void parked_release(const struct netaddr *);

static void
delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *dl = arg;

	(void)fd; (void)what;
	ipc_send(dl->ipc, dl->type, dl->id, dl->msg.data, dl->msg.len);
	if (dl->admitted) {
		throttle_sent(&a.thr, &dl->addr);
		parked_release(&dl->addr);
	}
	buf_free(&dl->msg);
	if (dl->ev != NULL)
		event_free(dl->ev);
	free(dl);
}

/* Why a login failed, for the log (never sent to the client). */
#define WHY_UNKNOWN	"unknown user"
#define WHY_PASSWORD	"wrong password"
#define WHY_NO_SECRET	"mechanism not available for this user (no secret)"
#define WHY_NO_SCRAM	"mechanism not available for this user " \
			"(no SCRAM verifier)"

/* Answer a credential check. result is a POP3_* code; for SMTP AUTH it
 * becomes the matching int, followed by data (a SCRAM
 * server message). admitted: the check went through throttle_admit(),
 * so its answer time comes from throttle_result() (failures wait 1, 2, 4,
 * 8, then 15 s per address, and so does a correct answer at an address
 * with failures) and its sending releases the address. The wait is a
 * timer: the session waits, the process does not. */
static void
auth_answer_data(struct ipc *ipc, uint32_t reply_type, uint64_t id,
    const struct netaddr *addr, const char *user, const char *mech,
    unsigned char result, const char *why, int admitted, const char *data,
    size_t len)
{
	struct timeval tv = { 0, 0 };
	struct delayed *dl;
	unsigned char code = result;
	time_t now = time(NULL), at = now;
	char ip[64], qu[4 * USERS_NAME_MAX + 8];

	netaddr_format(addr, ip, sizeof(ip));
	log_quote(qu, sizeof(qu), user, strnlen(user, USERS_NAME_MAX + 1));
	if (admitted && (result == OUTCOME_OK || result == OUTCOME_DENIED))
		at = throttle_result(&a.thr, addr, user, result == OUTCOME_OK, now);
	tv.tv_sec = at - now;
	if (result == OUTCOME_OK) {
		log_info("login ok: client=[%s] user=\"%s\" mechanism=%s "
		    "delay=%lds", ip, qu, mech, (long)tv.tv_sec);
	} else if (result == OUTCOME_DENIED) {
		log_info("login failed: client=[%s] user=\"%s\" mechanism=%s "
		    "reason=\"%s\" failures=%u user_failures=%u delay=%lds", ip,
		    qu, mech, why ? why : WHY_PASSWORD,
		    throttle_addr_failures(&a.thr, addr, now),
		    throttle_user_failures(&a.thr, user, now), (long)tv.tv_sec);
	} else if (why != NULL) {
		/* A temporary failure or a malformed request: nothing was
		 * decided. (A refusal passes why = NULL: auth_admit logged.) */
		log_info("login error: client=[%s] user=\"%s\" mechanism=%s "
		    "reason=\"%s\"", ip, qu, mech, why);
	}
	/* One vocabulary for both servers (outcome.h): a credential verdict. */
	if (code > OUTCOME_DENIED)
		code = OUTCOME_TEMP;
	dl = xcalloc(1, sizeof(*dl));
	buf_init(&dl->msg, 1 + SASL_REPLY_MAX);
	buf_append(&dl->msg, &code, 1);
	if (data != NULL)
		buf_append(&dl->msg, data, len);
	dl->type = reply_type;
	dl->ipc = ipc;
	dl->id = id;
	dl->addr = *addr;
	dl->admitted = admitted;
	if (tv.tv_sec <= 0) {
		delayed_cb(-1, 0, dl);
		return;
	}
	dl->ev = evtimer_new(a.base, delayed_cb, dl);
	evtimer_add(dl->ev, &tv);
}

static void
auth_answer(struct ipc *ipc, uint32_t reply_type, uint64_t id,
    const struct netaddr *addr, const char *user, const char *mech,
    unsigned char result, const char *why, int admitted)
{
	auth_answer_data(ipc, reply_type, id, addr, user, mech, result, why,
	    admitted, NULL, 0);
}

/* At most one check per address is pending (throttle.h). One that comes
 * from a clean address while another from it is in flight waits here,
 * not refused:
 * a mail client polling several mailboxes at once from one address gets
 * them all checked, one after the other. It is dispatched again (and so
 * goes through throttle_admit() again: a failure meanwhile means it meets
 * the penalty) when the pending one's answer is out, or answered with a
 * temporary failure after AUTH_PARK_WAIT seconds. Bounded per address and
 * in all; beyond, the temporary failure comes at once. */
#define AUTH_PARK_MAX		256
#define AUTH_PARK_PER_ADDR	8
#define AUTH_PARK_WAIT		30

typedef void auth_dispatch_fn(struct ipc *, uint32_t, uint64_t,
    const void *, size_t);

struct parked {
	struct ipc	*ipc;
	uint32_t	 type;		/* the request, as it came */
	uint64_t	 id;
	struct buf	 data;
	auth_dispatch_fn *dispatch;
	struct netaddr	 key;		/* throttle_key() of its address */
	uint32_t	 reply_type;
	struct event	*ev;
	int		 go;		/* released: dispatch when ev fires */
};

static struct parked *parked[AUTH_PARK_MAX];
static size_t nparked;

/* The request being dispatched (set by the IPC handlers): what
 * auth_admit() parks. */
static struct {
	struct ipc	*ipc;
	uint32_t	 type;
	uint64_t	 id;
	const void	*data;
	size_t		 len;
	auth_dispatch_fn *dispatch;
} cur;

static void
cur_set(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, auth_dispatch_fn *dispatch)
{
	cur.ipc = ipc;
	cur.type = type;
	cur.id = id;
	cur.data = data;
	cur.len = len;
	cur.dispatch = dispatch;
}

static void
parked_free(struct parked *pk)
{
	size_t i;

	for (i = 0; i < nparked; i++)
		if (parked[i] == pk) {
			parked[i] = parked[--nparked];
			break;
		}
	if (pk->data.data != NULL)
		explicit_bzero(pk->data.data, pk->data.cap);
	buf_free(&pk->data);
	event_free(pk->ev);
	free(pk);
}

static void
parked_cb(evutil_socket_t fd, short what, void *arg)
{
	struct parked *pk = arg;
	unsigned char code;

	(void)fd; (void)what;
	if (pk->go) {
		pk->dispatch(pk->ipc, pk->type, pk->id, pk->data.data,
		    pk->data.len);
	} else {
		/* Waited too long: a temporary failure, nothing checked. */
		code = pk->reply_type == IPC_SMTP_AUTH_REPLY ? OUTCOME_TEMP :
		    OUTCOME_TEMP;
		ipc_send(pk->ipc, pk->reply_type, pk->id, &code, 1);
	}
	parked_free(pk);
}

/* addr's pending check was answered: let its oldest waiting one go. */
static void
parked_release(const struct netaddr *addr)
{
	struct netaddr key = throttle_key(addr);
	struct timeval now0 = { 0, 0 };
	size_t i;

	for (i = 0; i < nparked; i++)
		if (!parked[i]->go && netaddr_equal(&parked[i]->key, &key)) {
			parked[i]->go = 1;
			event_del(parked[i]->ev);
			evtimer_add(parked[i]->ev, &now0);
			return;
		}
}

/* 1 if the current request now waits in the parking list. */
static int
park(uint32_t reply_type, const struct netaddr *addr)
{
	struct netaddr key = throttle_key(addr);
	struct timeval wait = { AUTH_PARK_WAIT, 0 };
	struct parked *pk;
	size_t i, here = 0;

	if (cur.dispatch == NULL || nparked >= AUTH_PARK_MAX)
		return 0;
	for (i = 0; i < nparked; i++)
		here += netaddr_equal(&parked[i]->key, &key);
	if (here >= AUTH_PARK_PER_ADDR)
		return 0;
	pk = xcalloc(1, sizeof(*pk));
	pk->ipc = cur.ipc;
	pk->type = cur.type;
	pk->id = cur.id;
	pk->dispatch = cur.dispatch;
	pk->key = key;
	pk->reply_type = reply_type;
	buf_init(&pk->data, cur.len + 1);
	if (cur.len > 0)
		buf_append(&pk->data, cur.data, cur.len);
	pk->ev = evtimer_new(a.base, parked_cb, pk);
	evtimer_add(pk->ev, &wait);
	parked[nparked++] = pk;
	return 1;
}

/* May a check for user from addr run now (throttle.h)? If not, it is
 * answered at once with a temporary failure, without looking at the
 * credentials: a guesser who reconnects during the delay learns nothing,
 * and costs us no hash. Returns 1 to go ahead. */
static int
auth_admit(struct ipc *ipc, uint32_t reply_type, uint64_t id,
    const struct netaddr *addr, const char *user, const char *mech)
{
	time_t now = time(NULL), retry;
	enum throttle_verdict v;
	unsigned refused;
	char ip[64], qu[4 * USERS_NAME_MAX + 8];

	v = throttle_admit(&a.thr, addr, user, now, &retry, &refused);
	if (v == THROTTLE_RUN)
		return 1;
	/* A clean address's second check waits its turn; one from an
	 * address with failures is refused (it would meet the penalty). */
	if (v == THROTTLE_BUSY && throttle_addr_failures(&a.thr, addr, now) == 0 &&
	    park(reply_type, addr))
		return 0;	/* it runs when the pending one is answered */
	/* The 1st, 2nd, 4th, 8th... refusal since the address's last check:
	 * a reconnecting guesser gets thousands, the log a few lines. */
	if ((refused & (refused - 1)) == 0) {
		netaddr_format(addr, ip, sizeof(ip));
		log_quote(qu, sizeof(qu), user,
		    strnlen(user, USERS_NAME_MAX + 1));
		log_info("login refused: client=[%s] user=\"%s\" mechanism=%s "
		    "reason=\"%s\" retry=%lds refused=%u (not checked)", ip,
		    qu, mech, v == THROTTLE_BUSY ?
		    "a check from this address is pending" :
		    v == THROTTLE_PENALTY ? "penalty running" :
		    "user's failure cap reached", (long)(retry - now), refused);
	}
	auth_answer(ipc, reply_type, id, addr, user, mech, OUTCOME_TEMP, NULL,
	    0);
	return 0;
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

static void
password_checked(int result, void *arg)
{
	struct pending_check *pc = arg;
	unsigned char r = result == -1 ? OUTCOME_TEMP :
	    result == 1 && pc->known ? OUTCOME_OK : OUTCOME_DENIED;

	auth_answer(pc->ipc, pc->reply_type, pc->id, &pc->addr, pc->user,
	    pc->mech, r, r == OUTCOME_TEMP ? "temporary failure" :
	    pc->known ? WHY_PASSWORD : WHY_UNKNOWN, 1);
	/* Only a POP3 or IMAP login grants POP-before-SMTP; SMTP AUTH relays
	 * by itself. */
	if (r == OUTCOME_OK && (pc->reply_type == IPC_POP3_AUTH_REPLY ||
	    pc->reply_type == IPC_IMAP_AUTH_REPLY))
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
		auth_answer(ipc, reply_type, id, addr, user, mech, OUTCOME_TEMP,
		    "temporary failure", 0);
		return;
	}
	if (!auth_admit(ipc, reply_type, id, addr, user, mech))
		return;
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

/* The user's APOP/CRAM secret (hex in the secrets file) into buf.
 * Returns its length, or -1: no such user, no secret, or malformed. */
static ssize_t
secret_of(const char *user, char *buf, size_t buflen)
{
	const struct user_entry *e = NULL;

	if (users_name_valid(user) && users_find(a.users, user) != NULL)
		e = users_find(a.secrets, user);
	if (e == NULL)
		return -1;
	return hex_decode(buf, buflen, e->hash, strlen(e->hash));
}

/* APOP (POP3) and CRAM-MD5 (SMTP AUTH): both need the shared secret. */
static void
check_secret(struct ipc *ipc, uint32_t reply_type, uint64_t id,
    const char *user, const char *challenge, const char *digest,
    const struct netaddr *addr, int cram)
{
	const char *mech = cram ? "CRAM-MD5" : "APOP", *why = WHY_PASSWORD;
	unsigned char r = OUTCOME_DENIED;
	char secret[512];
	ssize_t n;

	if (a.users == NULL || a.secrets == NULL) {
		auth_answer(ipc, reply_type, id, addr, user, mech, OUTCOME_TEMP,
		    "temporary failure", 0);
		return;
	}
	if (!auth_admit(ipc, reply_type, id, addr, user, mech))
		return;
	if (!users_name_valid(user) || users_find(a.users, user) == NULL)
		why = WHY_UNKNOWN;
	else if (users_find(a.secrets, user) == NULL)
		why = WHY_NO_SECRET;
	if ((n = secret_of(user, secret, sizeof(secret))) >= 0 && (cram ?
	    sasl_cram_check(challenge, strlen(challenge), secret, (size_t)n,
	    digest, strlen(digest)) : apop_check(challenge, strlen(challenge),
	    secret, (size_t)n, digest, strlen(digest))) == 1)
		r = OUTCOME_OK;
	explicit_bzero(secret, sizeof(secret));
	auth_answer(ipc, reply_type, id, addr, user, mech, r, why, 1);
	if (r == OUTCOME_OK && reply_type == IPC_POP3_AUTH_REPLY)
		grant(user, addr);
}

/* ---- SCRAM-SHA-256 exchanges, one per SMTP or IMAP session mid-AUTH ---- */

#define SCRAM_SLOTS		256
#define SCRAM_SLOT_TTL		120	/* seconds an exchange may take */

struct scram_slot {
	const struct ipc *ipc;		/* smtpd's or imapd's channel */
	uint64_t	id;		/* the session there; 0 = free */
	time_t		started;
	int		have;		/* a real verifier (else a fake one) */
	struct scram_server ss;
};

static struct scram_slot scram_slots[SCRAM_SLOTS];
/* Fake verifiers for unknown users: stable for this process's life. */
static unsigned char scram_fake_key[32];

static struct scram_slot *
scram_slot(const struct ipc *ipc, uint64_t id, int create)
{
	time_t now = time(NULL);
	struct scram_slot *free_slot = NULL, *oldest = &scram_slots[0];
	size_t i;

	for (i = 0; i < SCRAM_SLOTS; i++) {
		struct scram_slot *sl = &scram_slots[i];
		if (sl->id != 0 && now - sl->started > SCRAM_SLOT_TTL) {
			scram_server_wipe(&sl->ss);
			sl->id = 0;
		}
		if (sl->id == id && id != 0 && sl->ipc == ipc)
			return sl;
		if (sl->id == 0 && free_slot == NULL)
			free_slot = sl;
		if (sl->started < oldest->started)
			oldest = sl;
	}
	if (!create)
		return NULL;
	if (free_slot == NULL) {
		free_slot = oldest;	/* bounded: the oldest exchange loses */
		scram_server_wipe(&free_slot->ss);
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->ipc = ipc;
	free_slot->id = id;
	free_slot->started = now;
	return free_slot;
}

static void
scram_slot_free(struct scram_slot *sl)
{
	scram_server_wipe(&sl->ss);
	sl->id = 0;
}

static void
scram_first(struct ipc *ipc, uint32_t reply_type, uint64_t id,
    const struct netaddr *addr, const char *msg, size_t len)
{
	struct scram_client_first cf;
	struct scram_verifier v;
	const struct user_entry *e = NULL;
	struct scram_slot *sl;
	unsigned char rnd[24];
	char out[SCRAM_SERVER_FIRST_MAX];
	size_t outlen;
	int have = 0;

	/* Not a check yet, but a penalised address starts no exchange. */
	if (throttle_penalised(&a.thr, addr, time(NULL))) {
		char ip[64];

		log_info("login refused: client=[%s] user=\"?\" mechanism=%s "
		    "reason=\"penalty running\" (not checked)",
		    netaddr_format(addr, ip, sizeof(ip)), SCRAM_MECH);
		auth_answer(ipc, reply_type, id, addr, "?", SCRAM_MECH,
		    OUTCOME_TEMP, NULL, 0);
		return;
	}
	if (a.users == NULL) {
		auth_answer(ipc, reply_type, id, addr, "?", SCRAM_MECH,
		    OUTCOME_TEMP, "temporary failure", 0);
		return;
	}
	if (scram_client_first_parse(&cf, msg, len) != SCRAM_OK) {
		auth_answer(ipc, reply_type, id, addr, "?", SCRAM_MECH,
		    OUTCOME_PERM, "malformed", 0);
		return;
	}
	if (users_name_valid(cf.user))
		e = users_find(a.users, cf.user);
	if (e != NULL && e->scram != NULL &&
	    scram_verifier_parse(&v, e->scram, strlen(e->scram)) == 0)
		have = 1;
	/* Unknown users (or ones without a verifier) get a fake one: the
	 * exchange looks the same until the proof, which cannot match. */
	if (!have && scram_verifier_fake(&v, scram_fake_key,
	    sizeof(scram_fake_key), cf.user, strlen(cf.user)) == -1) {
		auth_answer(ipc, reply_type, id, addr, cf.user,
		    SCRAM_MECH, OUTCOME_TEMP, "temporary failure", 0);
		return;
	}
	sl = scram_slot(ipc, id, 1);
	sl->have = have;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    scram_server_first(&sl->ss, msg, len, &v, rnd, sizeof(rnd), out,
	    sizeof(out), &outlen) != SCRAM_OK) {
		scram_slot_free(sl);
		auth_answer(ipc, reply_type, id, addr, cf.user,
		    SCRAM_MECH, OUTCOME_PERM, "malformed", 0);
		return;
	}
	explicit_bzero(&v, sizeof(v));
	/* Not a login yet: no log line, no failure count. */
	{
		unsigned char ok = OUTCOME_OK;
		struct buf b;

		buf_init(&b, sizeof(out) + 1);
		buf_append(&b, &ok, 1);
		buf_append(&b, out, outlen);
		ipc_send(ipc, reply_type, id, b.data, b.len);
		buf_free(&b);
	}
}

static void
scram_final(struct ipc *ipc, uint32_t reply_type, uint64_t id,
    const struct netaddr *addr, const char *msg, size_t len)
{
	struct scram_slot *sl = scram_slot(ipc, id, 0);
	char out[SCRAM_SERVER_FINAL_MAX], user[SCRAM_NAME_MAX + 1];
	enum scram_status st;
	size_t outlen = 0;
	unsigned char r;
	const char *why;

	if (sl == NULL) {
		auth_answer(ipc, reply_type, id, addr, "?", SCRAM_MECH,
		    OUTCOME_PERM, "malformed", 0);
		return;
	}
	snprintf(user, sizeof(user), "%s", sl->ss.user);
	/* The proof is the check: it waits out the address's penalty like
	 * any other (the first message only sent a salt, real or fake). */
	if (!auth_admit(ipc, reply_type, id, addr,
	    users_name_valid(user) ? user : "?", SCRAM_MECH)) {
		scram_slot_free(sl);
		return;
	}
	why = !users_name_valid(user) || users_find(a.users, user) == NULL ?
	    WHY_UNKNOWN : sl->have ? WHY_PASSWORD : WHY_NO_SCRAM;
	st = scram_server_final(&sl->ss, msg, len, out, sizeof(out), &outlen);
	scram_slot_free(sl);
	r = st == SCRAM_OK ? OUTCOME_OK : st == SCRAM_BAD_PROOF ? OUTCOME_DENIED :
	    st == SCRAM_INTERNAL ? OUTCOME_TEMP : OUTCOME_PERM;
	if (r == OUTCOME_TEMP || r == OUTCOME_PERM)
		why = r == OUTCOME_TEMP ? "temporary failure" : "malformed";
	if (r == OUTCOME_OK && reply_type == IPC_IMAP_AUTH_REPLY) {
		/* imapd learns the name from us: "user NUL server-final". */
		char both[SCRAM_NAME_MAX + 1 + SCRAM_SERVER_FINAL_MAX];
		size_t ul = strlen(user);

		memcpy(both, user, ul + 1);
		memcpy(both + ul + 1, out, outlen);
		auth_answer_data(ipc, reply_type, id, addr, user, SCRAM_MECH, r,
		    why, 1, both, ul + 1 + outlen);
		grant(user, addr);	/* IMAP-before-SMTP, as for a password */
		return;
	}
	auth_answer_data(ipc, reply_type, id, addr,
	    users_name_valid(user) ? user : "?", SCRAM_MECH, r, why, 1,
	    r == OUTCOME_OK ? out : NULL, r == OUTCOME_OK ? outlen : 0);
}

/* ---- aliases: RCPT to an alias is a known recipient ---- */

static struct aliases *auth_aliases;

/* An alias is a known recipient only if it expands: a loop or an
 * expansion too large is refused at RCPT, never bounced later (a bounce
 * would go to whatever sender a stranger wrote: backscatter). The queue
 * process expands with the same table and the same function. */
static int
alias_deliverable(const char *name)
{
	const struct config *cfg = a.cfg;
	struct aliases_target *t = NULL;
	enum aliases_status st;
	size_t n = 0;

	if (!aliases_has(auth_aliases, name))
		return 0;
	st = aliases_expand(auth_aliases, name, cfg->local_domains,
	    cfg->n_local_domains, cfg->recipient_delimiter ?
	    cfg->recipient_delimiter[0] : '\0', cfg->local_domains[0], &t, &n);
	free(t);
	if (st != ALIASES_OK)
		log_info("alias %s refused at RCPT: %s", name, st == ALIASES_LOOP ?
		    "alias loop" : "alias expansion too large");
	return st == ALIASES_OK;
}

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

/* SMTP AUTH requests from smtpd (every other type but the user lookup). */
static void
smtpd_auth_msg(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len)
{
	struct ipc_fields f;
	struct netaddr addr;

	cur_set(ipc, type, id, data, len, smtpd_auth_msg);
	if (type == IPC_SMTP_AUTH_PASS && ipc_unpack(type, data, len, &f) == 0 &&
	    netaddr_parse(f.s[2], &addr) == 0) {
		check_password(ipc, IPC_SMTP_AUTH_REPLY, id, f.s[0], f.s[1], &addr,
		    strcmp(f.s[3], "LOGIN") == 0 ? "LOGIN" : "PLAIN");
		explicit_bzero((void *)(uintptr_t)f.s[1], strlen(f.s[1]));
	} else if (type == IPC_SMTP_AUTH_CRAM &&
	    ipc_unpack(type, data, len, &f) == 0 &&
	    netaddr_parse(f.s[3], &addr) == 0) {
		check_secret(ipc, IPC_SMTP_AUTH_REPLY, id, f.s[0], f.s[1], f.s[2],
		    &addr, 1);
	} else if ((type == IPC_SMTP_SCRAM_FIRST || type == IPC_SMTP_SCRAM_FINAL) &&
	    ipc_unpack(type, data, len, &f) == 0 &&
	    netaddr_parse(f.s[0], &addr) == 0) {
		if (type == IPC_SMTP_SCRAM_FIRST)
			scram_first(ipc, IPC_SMTP_AUTH_REPLY, id, &addr, f.tail,
			    f.tail_len);
		else
			scram_final(ipc, IPC_SMTP_AUTH_REPLY, id, &addr, f.tail,
			    f.tail_len);
	} else if (type == IPC_SMTP_SCRAM_ABORT) {
		struct scram_slot *sl = scram_slot(ipc, id, 0);
		if (sl != NULL)
			scram_slot_free(sl);
	} else {
		log_warn("malformed message %u from smtpd", type);
	}
	memset(&cur, 0, sizeof(cur));
}

static void
smtpd_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	char name[USERS_NAME_MAX + 1];
	unsigned char r;

	(void)arg;
	if (type != IPC_USER_LOOKUP) {
		smtpd_auth_msg(ipc, type, id, data, len);
		return;
	}
	if (a.users == NULL) {
		r = OUTCOME_TEMP;
	} else if (len == 0 || len > USERS_NAME_MAX) {
		r = OUTCOME_PERM;
	} else {
		memcpy(name, data, len);
		name[len] = '\0';
		r = users_name_valid(name) && (users_find(a.users, name) != NULL ||
		    alias_deliverable(name)) ?
		    OUTCOME_OK : OUTCOME_PERM;
	}
	ipc_send(ipc, IPC_USER_LOOKUP_REPLY, id, &r, 1);
}

static void
pop3d_auth_msg(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len)
{
	struct ipc_fields f;
	struct netaddr addr;

	cur_set(ipc, type, id, data, len, pop3d_auth_msg);
	if (type == IPC_POP3_PASS && ipc_unpack(type, data, len, &f) == 0 &&
	    netaddr_parse(f.s[2], &addr) == 0) {
		check_password(ipc, IPC_POP3_AUTH_REPLY, id, f.s[0], f.s[1], &addr,
		    "USER/PASS");
		explicit_bzero((void *)(uintptr_t)f.s[1], strlen(f.s[1]));
	} else if (type == IPC_POP3_APOP && ipc_unpack(type, data, len, &f) == 0 &&
	    netaddr_parse(f.s[3], &addr) == 0) {
		check_secret(ipc, IPC_POP3_AUTH_REPLY, id, f.s[0], f.s[1], f.s[2],
		    &addr, 0);
	} else {
		log_warn("malformed message %u from pop3d", type);
	}
	memset(&cur, 0, sizeof(cur));
}

static void
pop3d_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)arg;
	pop3d_auth_msg(ipc, type, id, data, len);
}

/* imapd: LOGIN / AUTHENTICATE PLAIN take the POP3 password path (and
 * grant relay the same way); SCRAM-SHA-256 the SMTP slots. */
static void
imapd_auth_msg(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len)
{
	struct ipc_fields f;
	struct netaddr addr;

	cur_set(ipc, type, id, data, len, imapd_auth_msg);
	if (type == IPC_IMAP_PASS && ipc_unpack(type, data, len, &f) == 0 &&
	    netaddr_parse(f.s[2], &addr) == 0) {
		check_password(ipc, IPC_IMAP_AUTH_REPLY, id, f.s[0], f.s[1], &addr,
		    "IMAP");
		explicit_bzero((void *)(uintptr_t)f.s[1], strlen(f.s[1]));
	} else if ((type == IPC_IMAP_SCRAM_FIRST || type == IPC_IMAP_SCRAM_FINAL) &&
	    ipc_unpack(type, data, len, &f) == 0 &&
	    netaddr_parse(f.s[0], &addr) == 0) {
		if (type == IPC_IMAP_SCRAM_FIRST)
			scram_first(ipc, IPC_IMAP_AUTH_REPLY, id, &addr, f.tail,
			    f.tail_len);
		else
			scram_final(ipc, IPC_IMAP_AUTH_REPLY, id, &addr, f.tail,
			    f.tail_len);
	} else if (type == IPC_IMAP_SCRAM_ABORT) {
		struct scram_slot *sl = scram_slot(ipc, id, 0);
		if (sl != NULL)
			scram_slot_free(sl);
	} else {
		log_warn("malformed message %u from imapd", type);
	}
	memset(&cur, 0, sizeof(cur));
}

static void
imapd_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)arg;
	imapd_auth_msg(ipc, type, id, data, len);
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
	if (a.imapd_fd != -1)
		a.imapd = ipc_new(a.base, a.imapd_fd, imapd_msg_cb, eof_cb, NULL);
	grants_push();
}

void
auth_main(struct runtime *rt, int smtpd_fd, int pop3d_fd, int imapd_fd)
{
	/* auth (and its hashing workers) reach spool/ only, for the grants.
	 * SIGTERM keeps its default action. */
	const struct proc_child pc = {
		.keep = PROC_KEEP_SPOOL,
		.dirs = { { rt->spool_fd, PROC_FS_READ | PROC_FS_WRITE } },
		.ndirs = 1,
		.master_msg = master_msg_cb,
		.master_eof = eof_cb,
	};
	struct timeval sec = { 1, 0 };
	struct event *gt;
	int lock;

	a.cfg = rt->cfg;
	a.spool_fd = rt->spool_fd;
	a.base = proc_child_start(rt, &pc, &a.master);
	if (RAND_bytes(scram_fake_key, sizeof(scram_fake_key)) != 1)
		fatal("RAND_bytes failed");
	if (hasher_start(a.base, HASHER_WORKERS) == -1)
		fatal("cannot start the password hashing workers: %s",
		    strerror(errno));
	/* smtpd's, pop3d's and imapd's questions wait in their sockets until the
	 * master's tables are here (open_clients). */
	a.smtpd_fd = smtpd_fd;
	a.pop3d_fd = pop3d_fd;
	a.imapd_fd = imapd_fd;
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
