/* qmgr - the queue process: finds acknowledged messages in spool/queue,
 *        delivers local recipients into their Maildir (expanding aliases),
 *        hands remote recipients to deliver_remote.c (with a DKIM
 *        signature when the mail is ours: dkim_out.h), records every
 *        result on disk, retries temporary failures on a schedule kept in
 *        spool/deferred, bounces permanent ones (RFC 3464), and removes a
 *        message when nothing is pending.
 * Trusts: no spool file it did not write: every field of a queue file is
 *         checked by qfile_envelope_check (an id that is not the file
 *         name too), deferred/ID by schedule_parse; a bad one is moved
 *         into spool/corrupt with "id=ID moved to corrupt/: REASON",
 *         never acted on, never deleted. deferred/ID files are advisory.
 *         The aliases table comes from the master over IPC; the DKIM
 *         keys are read from the dkim_sign files as root at start.
 * Gives:  at-least-once delivery per qfile.h's invariants: a status byte
 *         goes P -> D only after the Maildir copy is durable or the remote
 *         server said 250 to the end of data; P -> F only after the bounce
 *         (or the postmaster notice) is a durable queue file.
 * Never:  runs as root; delivers a recipient that is not in a queue file;
 *         reaches the file system outside spool/ and (read-only) /etc
 *         once started (landlock, where the kernel has it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "aliases.h"
#include "srs.h"
#include "authres.h"
#include "buf.h"
#include "deliver_remote.h"
#include "dkim.h"
#include "dkim_key.h"
#include "dkim_out.h"
#include "dsn.h"
#include "fileio.h"
#include "ipc.h"
#include "log.h"
#include "maildir.h"
#include "pickup.h"
#include "proc.h"
#include "qfile.h"
#include "relay.h"
#include "schedule.h"

#define QMGR_RESCAN_SECONDS	60
#define QMGR_FLUSH_NAME		".flush"

/* A permanent failure waiting for its bounce. */
struct qfail {
	size_t	idx;
	char	status[16];
	char	diag[SMTPC_TEXT_MAX + 64];
	char	host[300];
	int	from_remote;
};

/* A message being worked on (remote jobs in flight). */
struct qmsg {
	char		id[QFILE_ID_LEN + 1];
	int		fd;
	struct qfile_envelope e;
	struct schedule	sched;
	struct buf	hdr;		/* the content's header block */
	struct buf	dkim;		/* this attempt's DKIM-Signature field,
					 * or empty */
	struct qfail	*fails;
	size_t		nfails;
	int		remote_temp;	/* a remote recipient failed temporarily */
	int		marked;		/* status bytes written: fdatasync */
	struct dr_job	**jobs;
	size_t		njobs, outstanding;
	struct qmsg	*next;
};

static struct qmgr {
	struct event_base *base;
	struct runtime	*rt;
	int		inotify_fd;
	int		deferred_fd;
	int		corrupt_fd;	/* spool/corrupt: files we refuse */
	struct ipc	*master;
	struct aliases	*aliases;
	int		aliases_loaded;
	unsigned char	srs_secret[SRS_SECRET_MAX];	/* srs_secret; srs_len 0: no SRS */
	size_t		srs_len;
	struct qmsg	*inflight;
	struct event	*wake_ev;
	time_t		wake_at;
	uint32_t	idseq;
	EVP_PKEY	**dkim_keys;	/* one per cfg->dkim_sign line; NULL:
					 * unreadable, that domain unsigned */
} q;

static void scan_queue(void);

static struct qmsg *
inflight_find(const char *id)
{
	struct qmsg *m;

	for (m = q.inflight; m != NULL; m = m->next)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

/* Read the envelope: up to the empty line, at most QFILE_ENVELOPE_MAX.
 * On -1 *why_r says what was wrong with it (for the corrupt/ log line). */
static int
read_envelope(int fd, struct qfile_envelope *e, const char **why_r)
{
	struct buf b;
	int r, rc = -1;

	buf_init(&b, QFILE_ENVELOPE_MAX);
	r = fileio_read_prefix(fd, "\n\n", 2, &b);
	if (r == 1)
		rc = qfile_envelope_check(b.data, b.len, e, why_r);
	else
		*why_r = r == 0 ? "envelope not terminated" :
		    errno == EFBIG ? "envelope too large" : "unreadable";
	buf_free(&b);
	return rc;
}

/* The header block of the content (bounded), for loops and bounces. */
static void
read_headers(int fd, off_t off, struct buf *h)
{
	char chunk[8192];
	ssize_t r;
	size_t hl;

	buf_init(h, DSN_HEADERS_MAX + sizeof(chunk));
	while ((r = pread(fd, chunk, sizeof(chunk), off)) > 0) {
		if (buf_append(h, chunk, (size_t)r) == -1)
			break;
		off += r;
		if (memmem(h->data, h->len, "\r\n\r\n", 4) != NULL ||
		    h->len >= DSN_HEADERS_MAX)
			break;
	}
	if (h->data == NULL)
		(void)buf_append(h, "", 0);
	hl = dsn_header_len(h->data, h->len);
	h->len = hl;
	h->data[hl] = '\0';
}

static int
content_8bit(int fd, off_t off)
{
	unsigned char chunk[65536];
	ssize_t r, i;

	while ((r = pread(fd, chunk, sizeof(chunk), off)) > 0) {
		for (i = 0; i < r; i++)
			if (chunk[i] & 0x80)
				return 1;
		off += r;
	}
	return 0;
}

/* Move dir_fd/name into spool/corrupt/ under dst (never replacing a file
 * there: a suffix is added), and log why. The file is not acted on again:
 * nothing scans corrupt/. If the move fails, the file stays where it is
 * and is refused again at the next look, never delivered. */
static void
move_aside(int dir_fd, const char *name, const char *dst, const char *what,
    const char *why)
{
	char to[96];
	int i, r = -1;

	if (q.corrupt_fd == -1) {
		log_warn("id=%s malformed %s not moved (no corrupt/): %s",
		    name, what, why);
		return;
	}
	(void)xsnprintf(to, sizeof(to), "%s", dst);
	for (i = 0; i < 100; i++) {
		if (i > 0)
			(void)xsnprintf(to, sizeof(to), "%s.%d", dst, i);
		r = renameat2(dir_fd, name, q.corrupt_fd, to, RENAME_NOREPLACE);
		if (r == 0 || errno != EEXIST)
			break;
	}
	if (r == -1) {
		log_warn("id=%s malformed %s: cannot move to corrupt/: %s (%s)",
		    name, what, strerror(errno), why);
		return;
	}
	(void)fsync(q.corrupt_fd);
	log_warn("id=%s moved to corrupt/: %s (%s)", name, why, what);
}

/* -- deferred/ID ---------------------------------------------------------- */

static void
sched_load(const char *id, struct schedule *s)
{
	struct buf b;
	int r;

	memset(s, 0, sizeof(*s));
	if (q.deferred_fd == -1)
		return;
	r = fileio_read_file(q.deferred_fd, id, 0, SCHEDULE_FILE_MAX, &b,
	    NULL);
	if (r == -1 && errno == ENOENT) {
		buf_free(&b);
		return;
	}
	if (r == 0 && b.data != NULL &&
	    schedule_parse(b.data, b.len, s) == -1) {
		char dst[64];

		(void)xsnprintf(dst, sizeof(dst), "%s.deferred", id);
		move_aside(q.deferred_fd, id, dst, "deferred file",
		    "malformed retry state");
	} else if (r != 0)
		log_warn("id=%s deferred/%s unreadable or too large; ignored",
		    id, id);
	buf_free(&b);
}

/* Write deferred/ID atomically (qfile.h). Advisory: failures are logged. */
static void
sched_save(const char *id, const struct schedule *s)
{
	/* A leftover .ID.tmp (a crash, or `postern queue flush` writing
	 * this very state this instant: flush then finds its temporary gone
	 * and leaves the state to us) is replaced. */
	const struct fileio_new nf = { 0600, (uid_t)-1, (gid_t)-1,
	    FILEIO_TMP_LEFTOVER };
	struct stat st;
	char tmp[64];
	struct buf b;

	if (q.deferred_fd == -1)
		return;
	(void)xsnprintf(tmp, sizeof(tmp), ".%s.tmp", id);
	buf_init(&b, SCHEDULE_FILE_MAX);
	if (schedule_format(&b, s) == -1)
		goto out;
	if (fileio_replace(q.deferred_fd, id, tmp, b.data, b.len, &nf,
	    NULL) == -1) {
		log_warn("id=%s cannot write deferred/%s: %s", id, id,
		    strerror(errno));
		goto out;
	}
	/* `postern queue delete` may have removed the message while its
	 * delivery was in flight: then the retry state goes too. */
	if (fstatat(q.rt->queue_fd, id, &st, AT_SYMLINK_NOFOLLOW) == -1 &&
	    errno == ENOENT)
		unlinkat(q.deferred_fd, id, 0);
out:
	buf_free(&b);
}

static void
wake_at(time_t t)
{
	time_t now = time(NULL);
	struct timeval tv = { 0, 0 };

	if (q.wake_at != 0 && q.wake_at <= t)
		return;
	q.wake_at = t;
	tv.tv_sec = t > now ? t - now : 0;
	evtimer_add(q.wake_ev, &tv);
}

static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	q.wake_at = 0;
	scan_queue();
}

/* -- new queue files (bounces, alias expansions) -------------------------- */

/* Write a new queue file: incoming/ID -> fsync -> rename into queue/ ->
 * fsync(queue/) (qfile.h). The content is text[0..len) followed by the
 * bytes of src_fd from src_off to its end (src_fd -1: none). 0 or -1. */
static int
queue_write_new(struct qfile_envelope *e, const char *text, size_t len,
    int src_fd, off_t src_off, char *id_r)
{
	struct timeval tv;
	struct buf b;
	char chunk[65536];
	ssize_t r;
	int fd = -1, tries, rc = -1;

	for (tries = 0; tries < 10; tries++) {
		gettimeofday(&tv, NULL);
		qfile_make_id(e->id, (uint64_t)tv.tv_sec * 1000000 +
		    (uint64_t)tv.tv_usec, ((uint32_t)getpid() << 8) ^ ++q.idseq);
		fd = openat(q.rt->incoming_fd, e->id, O_WRONLY | O_CREAT |
		    O_EXCL | O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		return -1;
	buf_init(&b, QFILE_ENVELOPE_MAX);
	if (qfile_envelope_format(&b, e) == -1) {
		errno = EINVAL;
		goto out;
	}
	if (write(fd, b.data, b.len) != (ssize_t)b.len ||
	    (len > 0 && write(fd, text, len) != (ssize_t)len))
		goto out;
	if (src_fd != -1) {
		while ((r = pread(src_fd, chunk, sizeof(chunk), src_off)) > 0) {
			if (write(fd, chunk, (size_t)r) != r)
				goto out;
			src_off += r;
		}
		if (r == -1)
			goto out;
	}
	if (fsync(fd) == -1)
		goto out;
	if (renameat(q.rt->incoming_fd, e->id, q.rt->queue_fd, e->id) == -1)
		goto out;
	if (fsync(q.rt->queue_fd) == -1)
		goto out;
	(void)xsnprintf(id_r, QFILE_ID_LEN + 1, "%s", e->id);
	rc = 0;
out:
	if (rc == -1) {
		log_warn("cannot create queue file %s: %s", e->id,
		    strerror(errno));
		unlinkat(q.rt->incoming_fd, e->id, 0);
	}
	close(fd);
	buf_free(&b);
	return rc;
}

/* One of local_domains, matched as relay_decide matches a recipient. */
static int
is_local_domain(const char *d)
{
	struct relay_policy pol;

	relay_policy_from_config(&pol, q.rt->cfg);
	return relay_domain_is_local(&pol, d);
}

static char
delim(void)
{
	return q.rt->cfg->recipient_delimiter ?
	    q.rt->cfg->recipient_delimiter[0] : '\0';
}

static const char *
postmaster_box(void)
{
	return q.rt->cfg->postmaster ? q.rt->cfg->postmaster : "postmaster";
}

/* A recipient entry for addr: local (mailbox from the local part) or
 * remote. A local address that cannot be a mailbox goes to postmaster. */
static void
rcpt_for(struct qfile_rcpt *rc, const char *addr)
{
	const char *at = strrchr(addr, '@');
	struct relay_mailbox_rule rule;
	enum relay_mailbox mb;

	memset(rc, 0, sizeof(*rc));
	rc->status = QFILE_PENDING;
	(void)xsnprintf(rc->addr, sizeof(rc->addr), "%s", addr);
	if (at == NULL || is_local_domain(at + 1)) {
		rc->kind = QFILE_LOCAL;
		relay_mailbox_rule_from_config(&rule, q.rt->cfg);
		mb = relay_local_mailbox(&rule, addr, at ? (size_t)(at - addr) :
		    strlen(addr), 0, rc->mailbox, sizeof(rc->mailbox));
		if (mb != RELAY_MAILBOX_USER && mb != RELAY_MAILBOX_POSTMASTER)
			(void)xsnprintf(rc->mailbox, sizeof(rc->mailbox), "%s",
			    postmaster_box());
	} else
		rc->kind = QFILE_REMOTE;
}

/* -- bounces -------------------------------------------------------------- */

static void
add_fail(struct qmsg *m, size_t idx, const char *status, const char *diag,
    const char *host, int from_remote)
{
	struct qfail *f;

	m->fails = xreallocarray(m->fails, m->nfails + 1, sizeof(*m->fails));
	f = &m->fails[m->nfails++];
	memset(f, 0, sizeof(*f));
	f->idx = idx;
	(void)xsnprintf(f->status, sizeof(f->status), "%s", status ? status : "");
	(void)xsnprintf(f->diag, sizeof(f->diag), "%s", diag);
	(void)xsnprintf(f->host, sizeof(f->host), "%s", host ? host : "");
	f->from_remote = from_remote;
}

/* A sender whose domain is an address literal ("[192.0.2.1]",
 * "[IPv6:...]") that is neither local nor covered by a route
 * (config_route: a route line cannot name a literal, so in practice only
 * "route *"): anyone can write such a sender to aim our bounces at an
 * arbitrary address, so a bounce to it is never sent.
 * A literal the admin routed or made local is a destination they chose. */
static int
bounce_sender_unrouted_literal(const char *from)
{
	const char *at = strrchr(from, '@');

	if (at == NULL || at[1] != '[' || is_local_domain(at + 1))
		return 0;
	return config_route(q.rt->cfg, at + 1) == NULL;
}

/* Queue the bounce for m's failures. 0 when it is durable (or none is
 * due: a postmaster notice that failed itself is only logged, a bounce to
 * an unrouted address-literal sender is dropped), -1. */
static int
bounce(struct qmsg *m)
{
	const struct config *cfg = q.rt->cfg;
	struct qfile_envelope be;
	struct qfile_rcpt br;
	struct dsn_rcpt *dr;
	struct dsn_info in;
	struct buf content;
	char bid[QFILE_ID_LEN + 1], boundary[128], pm[300];
	size_t i;
	int to_pm = m->e.from[0] == '\0', rc;

	if (to_pm && strcmp(m->e.client, "double-bounce") == 0) {
		log_warn("id=%s undeliverable postmaster notice: dropped", m->id);
		return 0;
	}
	if (!to_pm && bounce_sender_unrouted_literal(m->e.from)) {
		log_info("id=%s bounce to <%s> dropped: address-literal sender "
		    "domain with no route", m->id, m->e.from);
		return 0;
	}
	(void)xsnprintf(pm, sizeof(pm), "postmaster@%s", cfg->local_domains[0]);
	memset(&be, 0, sizeof(be));
	be.time = time(NULL);
	(void)xsnprintf(be.client, sizeof(be.client), "%s",
	    to_pm ? "double-bounce" : "bounce");
	(void)xsnprintf(be.helo, sizeof(be.helo), "%s", cfg->hostname);
	if (to_pm) {
		memset(&br, 0, sizeof(br));
		br.status = QFILE_PENDING;
		br.kind = QFILE_LOCAL;
		(void)xsnprintf(br.mailbox, sizeof(br.mailbox), "%s",
		    postmaster_box());
		(void)xsnprintf(br.addr, sizeof(br.addr), "%s", pm);
	} else
		rcpt_for(&br, m->e.from);
	be.rcpts = &br;
	be.nrcpts = 1;

	dr = xcalloc(m->nfails, sizeof(*dr));
	for (i = 0; i < m->nfails; i++) {
		struct qfail *f = &m->fails[i];

		dr[i].addr = m->e.rcpts[f->idx].addr;
		dr[i].status = f->status[0] ? f->status : NULL;
		dr[i].diag = f->diag;
		dr[i].remote_mta = f->host[0] ? f->host : NULL;
		dr[i].from_remote = f->from_remote;
	}
	(void)xsnprintf(boundary, sizeof(boundary), "%s.%lld/%s", m->id,
	    (long long)be.time, cfg->hostname);
	memset(&in, 0, sizeof(in));
	in.hostname = cfg->hostname;
	in.queue_id = m->id;
	in.arrival = m->e.time;
	in.now = be.time;
	in.to = to_pm ? pm : m->e.from;
	in.orig_from = m->e.from;
	in.rcpts = dr;
	in.nrcpts = m->nfails;
	in.headers = m->hdr.data;
	in.headers_len = m->hdr.len;
	in.boundary = boundary;
	buf_init(&content, DSN_MAX + 64 * 1024);
	rc = dsn_build(&content, &in);
	if (rc == 0)
		rc = queue_write_new(&be, content.data, content.len, -1, 0, bid);
	if (rc == 0)
		log_info("id=%s bounce %s queued for <%s>", m->id, bid,
		    to_pm ? pm : m->e.from);
	buf_free(&content);
	free(dr);
	return rc;
}

/* -- status bytes --------------------------------------------------------- */

static int
mark(struct qmsg *m, size_t idx, char status)
{
	struct qfile_rcpt *rc = &m->e.rcpts[idx];

	if (pwrite(m->fd, &status, 1, rc->status_off) != 1) {
		log_warn("id=%s cannot mark recipient %zu: %s", m->id, idx,
		    strerror(errno));
		return -1;
	}
	rc->status = status;
	m->marked = 1;
	return 0;
}

static void
sync_marks(struct qmsg *m)
{
	if (m->marked && fdatasync(m->fd) == -1)
		log_warn("id=%s fdatasync: %s", m->id, strerror(errno));
	m->marked = 0;
}

/* -- local delivery ------------------------------------------------------- */

static int
deliver_local(struct qmsg *m, const char *mailbox, const char *addr)
{
	const struct config *cfg = q.rt->cfg;
	const char *id = cfg->auth_serv_id ? cfg->auth_serv_id : cfg->hostname;
	off_t src_off = m->e.content_off;
	struct buf hdr;
	char name[512];
	size_t before;
	int r;

	buf_init(&hdr, 2 * DSN_HEADERS_MAX + QFILE_AUTHRES_MAX + 1024);
	buf_printf(&hdr, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", m->e.from,
	    addr);
	/* Our verdict on a stranger's message, and no field that claims to
	 * be ours from anyone else (a forged "spf=pass" must not survive).
	 * A header section too long for m->hdr is left as it is. */
	if (m->e.authres[0] != '\0')
		(void)qfile_authres_header(m->e.authres, &hdr);
	before = hdr.len;
	if (m->hdr.len >= 4 &&
	    memcmp(m->hdr.data + m->hdr.len - 4, "\r\n\r\n", 4) == 0) {
		if (authres_strip(m->hdr.data, m->hdr.len, id, &hdr) > 0)
			src_off += (off_t)m->hdr.len;
		else
			hdr.len = before;
	}
	r = maildir_deliver(q.rt->mail_fd, mailbox, q.rt->cfg->hostname,
	    hdr.data, hdr.len, m->fd, src_off, name, sizeof(name));
	buf_free(&hdr);
	if (r == -1) {
		log_warn("id=%s to=<%s> relay=local mailbox=%s status=deferred (%s)",
		    m->id, addr, mailbox, strerror(errno));
		return -1;
	}
	log_info("id=%s to=<%s> relay=local mailbox=%s status=sent (new/%s)",
	    m->id, addr, mailbox, name);
	return 0;
}

/* The sender of a forward to another domain: SRS0=...@our domain, so
 * that the destination's SPF check sees us, not the original sender's
 * domain (whose SPF record does not list us). The null sender, our own
 * domains' senders and an address too long for SRS stay as they are. */
static void
srs_sender(const struct qmsg *m, char *from, size_t len)
{
	const char *at = strrchr(m->e.from, '@');
	char srs[sizeof(m->e.from)];
	enum srs_status st;

	if (q.srs_len == 0 || at == NULL || is_local_domain(at + 1))
		return;
	st = srs_forward(q.srs_secret, q.srs_len, m->e.from,
	    q.rt->cfg->local_domains[0], time(NULL), srs, sizeof(srs));
	if (st != SRS_OK) {
		log_info("id=%s from=<%s> forwarded unrewritten: %s", m->id,
		    m->e.from, srs_status_text(st));
		return;
	}
	(void)xsnprintf(from, len, "%s", srs);
}

/* One pending local recipient: 0 delivered (mark D), 1 failed for good
 * (in m->fails), -1 try again later. */
static int
local_one(struct qmsg *m, size_t idx)
{
	const struct config *cfg = q.rt->cfg;
	struct qfile_rcpt *rc = &m->e.rcpts[idx];
	struct aliases_target *t = NULL;
	struct qfile_envelope ne;
	struct buf arh;
	enum aliases_status st;
	char nid[QFILE_ID_LEN + 1], why[600];
	size_t n = 0, i, nremote = 0;
	int r = 0;

	if (!aliases_has(q.aliases, rc->mailbox))
		return deliver_local(m, rc->mailbox, rc->addr);
	st = aliases_expand(q.aliases, rc->mailbox, cfg->local_domains,
	    cfg->n_local_domains, delim(), cfg->local_domains[0], &t, &n);
	if (st != ALIASES_OK) {
		(void)xsnprintf(why, sizeof(why), "%s for alias %s",
		    st == ALIASES_LOOP ? "alias loop" :
		    "alias expansion too large", rc->mailbox);
		log_info("id=%s to=<%s> relay=local status=bounced (%s)",
		    m->id, rc->addr, why);
		add_fail(m, idx, st == ALIASES_LOOP ? "5.4.6" : "5.3.0", why,
		    NULL, 0);
		return 1;
	}
	/* Local targets first, then one new queue file for the remote ones
	 * (same sender), all before this recipient is marked D. */
	for (i = 0; i < n; i++) {
		if (!t[i].local) {
			nremote++;
			continue;
		}
		if (deliver_local(m, t[i].mailbox, t[i].addr) == -1) {
			r = -1;
			goto out;
		}
	}
	if (nremote > 0) {
		ne = m->e;
		ne.rcpts = xcalloc(nremote, sizeof(*ne.rcpts));
		ne.nrcpts = 0;
		for (i = 0; i < n; i++)
			if (!t[i].local)
				rcpt_for(&ne.rcpts[ne.nrcpts++], t[i].addr);
		srs_sender(m, ne.from, sizeof(ne.from));
		/* The forwarded copy carries our verdict on the original
		 * (its SPF result is about the sender before SRS). */
		buf_init(&arh, QFILE_AUTHRES_MAX + 256);
		if (m->e.authres[0] != '\0' &&
		    qfile_authres_header(m->e.authres, &arh) == 0)
			ne.authres[0] = '\0';
		else
			buf_reset(&arh);
		r = queue_write_new(&ne, arh.data, arh.len, m->fd,
		    m->e.content_off, nid);
		buf_free(&arh);
		if (r == 0)
			log_info("id=%s to=<%s> alias %s: %zu remote target(s) "
			    "queued as %s", m->id, rc->addr, rc->mailbox,
			    nremote, nid);
		free(ne.rcpts);
	}
out:
	free(t);
	return r;
}

/* -- the end of an attempt ------------------------------------------------ */

static void
msg_free(struct qmsg *m)
{
	size_t i;

	for (i = 0; i < m->njobs; i++) {
		free(m->jobs[i]->rcpts);
		free(m->jobs[i]);
	}
	free(m->jobs);
	free(m->fails);
	buf_free(&m->hdr);
	buf_free(&m->dkim);
	schedule_free(&m->sched);
	qfile_envelope_free(&m->e);
	if (m->fd != -1)
		close(m->fd);
	free(m);
}

static void
finish(struct qmsg *m)
{
	const struct config *cfg = q.rt->cfg;
	time_t now = time(NULL);
	size_t i;

	/* Out of time: the temporary failures become permanent. */
	if (m->remote_temp && schedule_expired(m->e.time, now,
	    cfg->max_queue_lifetime)) {
		for (i = 0; i < m->e.nrcpts; i++) {
			const char *err = schedule_error(&m->sched, i);
			char diag[SMTPC_TEXT_MAX + 64];

			if (m->e.rcpts[i].status != QFILE_PENDING ||
			    m->e.rcpts[i].kind != QFILE_REMOTE)
				continue;
			(void)xsnprintf(diag, sizeof(diag), "delivery time "
			    "expired; last error: %s", err ? err : "unknown");
			log_info("id=%s to=<%s> status=bounced (%s)", m->id,
			    m->e.rcpts[i].addr, diag);
			add_fail(m, i, "4.4.7", diag, NULL, 0);
		}
		m->remote_temp = 0;
	}
	/* A bounce exists before any recipient is marked F. */
	if (m->nfails > 0) {
		if (bounce(m) == 0) {
			for (i = 0; i < m->nfails; i++)
				(void)mark(m, m->fails[i].idx, QFILE_FAILED);
		} else {
			log_warn("id=%s bounce not queued; will retry", m->id);
			m->remote_temp = 1;
		}
	}
	sync_marks(m);
	if (!qfile_envelope_pending(&m->e)) {
		if (unlinkat(q.rt->queue_fd, m->id, 0) == 0)
			log_info("id=%s removed (all recipients done)", m->id);
		if (q.deferred_fd != -1)
			unlinkat(q.deferred_fd, m->id, 0);
	} else if (m->remote_temp) {
		schedule_fail(&m->sched, now, cfg->retry_min, cfg->retry_max);
		sched_save(m->id, &m->sched);
		wake_at(m->sched.next);
	}
	msg_free(m);
}

static void
job_done(struct dr_job *j, void *arg)
{
	struct qmsg *m = j->owner, **pp;
	size_t i;

	(void)arg;
	for (i = 0; i < j->nrcpts; i++) {
		struct dr_rcpt *r = &j->rcpts[i];
		const char *host = r->host[0] ? r->host : "none";

		switch (r->done ? r->result : OUTCOME_TEMP) {
		case OUTCOME_OK:
			(void)mark(m, r->index, QFILE_DONE);
			break;
		case OUTCOME_PERM:
			log_info("id=%s to=<%s> relay=%s status=bounced (%s)",
			    m->id, r->addr, host, r->reply);
			add_fail(m, r->index, r->status[0] ? r->status : NULL,
			    r->reply, r->host, r->from_remote);
			break;
		case OUTCOME_TEMP:
			log_info("id=%s to=<%s> relay=%s status=deferred (%s)",
			    m->id, r->addr, host, r->reply);
			(void)schedule_set_error(&m->sched, r->index, r->reply);
			m->remote_temp = 1;
			break;
		}
	}
	/* The 250 is recorded now: a crash repeats only what is in flight. */
	sync_marks(m);
	if (--m->outstanding > 0)
		return;
	for (pp = &q.inflight; *pp != NULL; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	finish(m);
}

/* -- DKIM signing -------------------------------------------------------- */

/* As root, before the drop: every dkim_sign line's key. A key that cannot
 * be read is said once here; its domain's mail goes out unsigned. */
static void
dkim_keys_load(const struct config *cfg)
{
	char why[512];
	size_t i;

	if (cfg->n_dkim_sign == 0)
		return;
	q.dkim_keys = xcalloc(cfg->n_dkim_sign, sizeof(*q.dkim_keys));
	for (i = 0; i < cfg->n_dkim_sign; i++) {
		const struct config_dkim_sign *ds = &cfg->dkim_sign[i];
		enum dkim_alg alg;

		q.dkim_keys[i] = dkim_key_load(ds->keyfile, why, sizeof(why));
		if (q.dkim_keys[i] != NULL &&
		    dkim_key_alg(q.dkim_keys[i], &alg) == -1) {
			EVP_PKEY_free(q.dkim_keys[i]);
			q.dkim_keys[i] = NULL;
			(void)xsnprintf(why, sizeof(why), "%s: not an RSA or "
			    "Ed25519 key", ds->keyfile);
		}
		if (q.dkim_keys[i] == NULL)
			log_warn("dkim_sign %s (line %u): %s; mail from %s "
			    "goes out unsigned", ds->domain, ds->line, why,
			    ds->domain);
	}
}

/* This attempt's DKIM-Signature into m->dkim, when m comes from one of
 * ours (dkim_out.h) and its From: domain has a readable key; else
 * m->dkim stays empty and the mail goes unsigned. The signature covers
 * the content as stored, our Received: first. size: content bytes. */
static void
dkim_for(struct qmsg *m, uint64_t size)
{
	const struct config *cfg = q.rt->cfg;
	struct dkim_sign_params p;
	struct relay_policy pol;
	enum dkim_out_origin o;
	char domain[256], why[512];
	const char *msg;
	size_t maplen;
	void *map;
	int i;

	buf_init(&m->dkim, DKIM_TAGLIST_MAX);
	if (q.dkim_keys == NULL || size == 0)
		return;
	relay_policy_from_config(&pol, cfg);
	o = dkim_out_origin(&pol, m->e.client, m->e.auth);
	if (o == DKIM_OUT_STRANGER)
		return;
	maplen = (size_t)m->e.content_off + (size_t)size;
	map = mmap(NULL, maplen, PROT_READ, MAP_SHARED, m->fd, 0);
	if (map == MAP_FAILED) {
		log_warn("id=%s dkim: not signed: mmap: %s", m->id,
		    strerror(errno));
		return;
	}
	msg = (const char *)map + m->e.content_off;
	/* The whole header section (m->hdr may be cut for bounces): a
	 * second From: anywhere in it means no signature. */
	i = dkim_out_choose(cfg->dkim_sign, cfg->n_dkim_sign, o, msg,
	    dkim_header_len(msg, (size_t)size), domain, sizeof(domain));
	if (i < 0 || q.dkim_keys[i] == NULL) {
		(void)munmap(map, maplen);
		return;
	}
	memset(&p, 0, sizeof(p));
	p.domain = cfg->dkim_sign[i].domain;
	p.selector = cfg->dkim_sign[i].selector;
	(void)dkim_key_alg(q.dkim_keys[i], &p.alg);
	p.key = q.dkim_keys[i];
	p.hcanon = p.bcanon = DKIM_CANON_RELAXED;
	p.now = (int64_t)time(NULL);
	if (dkim_sign(msg, (size_t)size, &p, &m->dkim, why, sizeof(why)) == -1) {
		buf_reset(&m->dkim);
		log_warn("id=%s dkim: not signed: %s", m->id, why);
	} else
		log_info("id=%s dkim=signed d=%s s=%s", m->id, p.domain,
		    p.selector);
	(void)munmap(map, maplen);
}

/* Group m's pending remote recipients by destination and submit them. */
static void
submit_remote(struct qmsg *m, const int *want)
{
	const struct config *cfg = q.rt->cfg;
	struct stat st;
	uint64_t size = 0;
	int eight = content_8bit(m->fd, m->e.content_off);
	size_t i, k;

	if (fstat(m->fd, &st) == 0 && st.st_size > m->e.content_off)
		size = (uint64_t)(st.st_size - m->e.content_off);
	/* One signature per attempt, shared by every destination. */
	dkim_for(m, size);
	for (i = 0; i < m->e.nrcpts; i++) {
		const char *at;
		char key[300], kj[300];
		struct dr_job *j = NULL;
		struct dr_rcpt *r;

		if (!want[i])
			continue;
		at = strrchr(m->e.rcpts[i].addr, '@');
		at = at ? at + 1 : "";
		deliver_remote_dest_key(cfg, at, key, sizeof(key));
		for (k = 0; k < m->njobs && j == NULL; k++) {
			deliver_remote_dest_key(cfg, m->jobs[k]->domain, kj,
			    sizeof(kj));
			if (strcmp(kj, key) == 0)
				j = m->jobs[k];
		}
		if (j == NULL) {
			j = xcalloc(1, sizeof(*j));
			(void)xsnprintf(j->id, sizeof(j->id), "%s", m->id);
			j->fd = m->fd;
			j->content_off = m->e.content_off;
			j->prefix = m->dkim.len > 0 ? m->dkim.data : NULL;
			j->prefix_len = m->dkim.len;
			j->size = size + m->dkim.len;
			j->body_8bit = eight;
			(void)xsnprintf(j->from, sizeof(j->from), "%s", m->e.from);
			(void)xsnprintf(j->domain, sizeof(j->domain), "%s", at);
			j->owner = m;
			m->jobs = xreallocarray(m->jobs, m->njobs + 1,
			    sizeof(*m->jobs));
			m->jobs[m->njobs++] = j;
		}
		j->rcpts = xreallocarray(j->rcpts, j->nrcpts + 1,
		    sizeof(*j->rcpts));
		r = &j->rcpts[j->nrcpts++];
		memset(r, 0, sizeof(*r));
		r->index = i;
		(void)xsnprintf(r->addr, sizeof(r->addr), "%s",
		    m->e.rcpts[i].addr);
	}
	m->outstanding = m->njobs;
	m->next = q.inflight;
	q.inflight = m;
	for (k = 0; k < m->njobs; k++)
		deliver_remote_submit(m->jobs[k]);
}

/* Deliver what can be delivered of one queue file. */
static void
process_one(const char *id)
{
	struct qmsg *m;
	time_t now = time(NULL);
	size_t i, nremote = 0;
	int *want, loop;
	const char *why;

	if (!q.aliases_loaded || inflight_find(id) != NULL)
		return;
	m = xcalloc(1, sizeof(*m));
	(void)xsnprintf(m->id, sizeof(m->id), "%s", id);
	m->fd = openat(q.rt->queue_fd, id, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (m->fd == -1) {
		if (errno != ENOENT)
			log_warn("id=%s open: %s", id, strerror(errno));
		free(m);
		return;
	}
	if (read_envelope(m->fd, &m->e, &why) == 0 && strcmp(m->e.id, id) != 0) {
		/* Bounces and logs use the envelope's id: it must be the name. */
		qfile_envelope_free(&m->e);
		why = "id does not match the file name";
	} else if (why == NULL)
		goto ok;
	close(m->fd);
	free(m);
	move_aside(q.rt->queue_fd, id, id, "queue file", why);
	return;
ok:
	read_headers(m->fd, m->e.content_off, &m->hdr);
	sched_load(id, &m->sched);
	loop = dsn_count_received(m->hdr.data, m->hdr.len) > DSN_LOOP_RECEIVED;
	want = xcalloc(m->e.nrcpts, sizeof(*want));
	for (i = 0; i < m->e.nrcpts; i++) {
		struct qfile_rcpt *rc = &m->e.rcpts[i];

		if (rc->status != QFILE_PENDING)
			continue;
		if (loop) {
			log_info("id=%s to=<%s> status=bounced (mail loop: "
			    "more than %d Received: headers)", id, rc->addr,
			    DSN_LOOP_RECEIVED);
			add_fail(m, i, "5.4.6", "mail loop: too many Received: "
			    "headers", NULL, 0);
			continue;
		}
		if (rc->kind == QFILE_LOCAL) {
			/* Invariant 3: the copy is durable; now record it. */
			if (local_one(m, i) == 0)
				(void)mark(m, i, QFILE_DONE);
			continue;
		}
		if (m->sched.next > now) {
			wake_at(m->sched.next);
			continue;
		}
		want[i] = 1;
		nremote++;
	}
	sync_marks(m);
	if (nremote > 0)
		submit_remote(m, want);
	else
		finish(m);
	free(want);
}

static void
scan_queue(void)
{
	struct dirent *de;
	char **ids = NULL;
	size_t n = 0, i;
	DIR *dir;
	int fd = fcntl(q.rt->queue_fd, F_DUPFD_CLOEXEC, 0);

	if (fd == -1 || (dir = fdopendir(fd)) == NULL) {
		log_warn("queue: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		if (!qfile_id_valid(de->d_name))
			continue;
		ids = xreallocarray(ids, n + 1, sizeof(*ids));
		ids[n++] = xstrdup(de->d_name);
	}
	closedir(dir);
	for (i = 0; i < n; i++) {
		process_one(ids[i]);
		free(ids[i]);
	}
	free(ids);
}

static void
inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	char evbuf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t r;
	char *p;
	int flush = 0;

	(void)what; (void)arg;
	while ((r = read(fd, evbuf, sizeof(evbuf))) > 0) {
		for (p = evbuf; p < evbuf + r; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW)
				flush = 1;
			else if (ev->len > 0 && strcmp(ev->name,
			    QMGR_FLUSH_NAME) == 0)
				flush = 1;
			else if ((ev->mask & IN_MOVED_TO) && ev->len > 0 &&
			    qfile_id_valid(ev->name))
				process_one(ev->name);
			/* IN_CLOSE_WRITE of a queue file is our own status
			 * update: nothing new. */
		}
	}
	/* queue/.flush: `postern queue flush` set every deferred/ID's next
	 * to 0; a scan now retries everything. */
	if (flush)
		scan_queue();
}

static void
rescan_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	scan_queue();
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig; (void)what; (void)arg;
	event_base_loopbreak(q.base);
}

static void
load_aliases(const char *text, size_t len)
{
	struct errlist errs = { NULL, 0 };
	const char *name = q.rt->cfg->aliases_path ? q.rt->cfg->aliases_path :
	    "aliases";
	size_t i;

	aliases_free(q.aliases);
	q.aliases = aliases_parse(name, text, len, &errs);
	for (i = 0; i < errs.n; i++)
		log_warn("%s", errs.msgs[i]);
	errlist_free(&errs);
	if (q.rt->cfg->aliases_path != NULL)
		log_info("aliases loaded: %zu", aliases_count(q.aliases));
	if (!q.aliases_loaded) {
		q.aliases_loaded = 1;
		scan_queue();
	}
}

static void
master_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)ipc; (void)id; (void)arg;
	if (type == IPC_ALIASES_DB)
		load_aliases(data, len);
	else
		log_warn("unexpected message %u from master", type);
}

static void
master_eof_cb(struct ipc *ipc, void *arg)
{
	(void)ipc; (void)arg;
	event_base_loopbreak(q.base);
}

/* A crash during sched_save() leaves deferred/.ID.tmp behind; nobody
 * else writes there while we start (`postern queue flush` gives up on a
 * temporary file it did not create). */
static void
clean_deferred_tmp(void)
{
	struct dirent *de;
	DIR *dir;
	int fd = fcntl(q.deferred_fd, F_DUPFD_CLOEXEC, 0);

	if (fd == -1 || (dir = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' && n > 5 &&
		    strcmp(de->d_name + n - 4, ".tmp") == 0)
			unlinkat(q.deferred_fd, de->d_name, 0);
	}
	closedir(dir);
}

/* After the drop, before landlock: deferred/ and corrupt/ are created
 * as the queue's user; the TLS context and the resolver are set up (so
 * OpenSSL's configuration and resolv.conf were read). */
static void
queue_setup(struct event_base *base, void *arg)
{
	const struct runtime *rt = arg;

	if (mkdirat(rt->spool_fd, "deferred", 0700) == -1 && errno != EEXIST)
		log_warn("spool: cannot create deferred/: %s", strerror(errno));
	q.deferred_fd = openat(rt->spool_fd, "deferred", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW);
	if (q.deferred_fd == -1)
		log_warn("spool: deferred/: %s; retry times will not survive "
		    "a restart", strerror(errno));
	else
		clean_deferred_tmp();
	/* A spool file that fails validation goes here, untouched. */
	if (mkdirat(rt->spool_fd, "corrupt", 0700) == -1 && errno != EEXIST)
		log_warn("spool: cannot create corrupt/: %s", strerror(errno));
	q.corrupt_fd = openat(rt->spool_fd, "corrupt", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW);
	if (q.corrupt_fd == -1)
		log_warn("spool: corrupt/: %s", strerror(errno));
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	q.base = base;
	(void)deliver_remote_init(base, rt->cfg, job_done, NULL);
}

void
qmgr_main(struct runtime *rt)
{
	/* Once started, the queue process reaches spool/ (read, write,
	 * mkdir: queue, deferred, corrupt, maildrop, mail) and reads /etc
	 * only: getpwuid for `postern sendmail` pickup, c-ares re-reading
	 * resolv.conf. A forged queue file that got past the parser still
	 * cannot write outside the spool. */
	struct proc_child pc = {
		.keep = PROC_KEEP_SPOOL | PROC_KEEP_INCOMING | PROC_KEEP_QUEUE |
		    PROC_KEEP_MAIL | PROC_KEEP_MAILDROP,
		.dirs = { { rt->spool_fd,
		    PROC_FS_READ | PROC_FS_WRITE | PROC_FS_MKDIR } },
		.ndirs = 1,
		.setup = queue_setup,
		.master_msg = master_msg_cb,
		.master_eof = master_eof_cb,
		.on_sigterm = sigterm_cb,
		.arg = rt,
	};
	struct timeval tv = { QMGR_RESCAN_SECONDS, 0 };
	struct event *iev, *rescan;
	char path[64];
	size_t n;
	int etc_fd;

	q.rt = rt;
	q.deferred_fd = -1;
	q.corrupt_fd = -1;
	/* As root: watch queue/ through our descriptor (works inside
	 * root-only parents; /proc/self is root's once we drop). */
	q.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rt->queue_fd);
	if (q.inotify_fd == -1 ||
	    inotify_add_watch(q.inotify_fd, path, IN_MOVED_TO | IN_CLOSE_WRITE) == -1)
		log_warn("inotify on queue/: %s; relying on rescans",
		    strerror(errno));
	(void)pickup_init(rt);		/* maildrop/ -> queue/ (postern sendmail) */
	/* The DKIM keys are root's files, like tls_key: read them now. */
	dkim_keys_load(rt->cfg);
	etc_fd = open("/etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (etc_fd != -1) {
		pc.dirs[pc.ndirs].fd = etc_fd;
		pc.dirs[pc.ndirs++].rights = PROC_FS_READ;
	}
	/* The SRS secret is root's file: read before the privilege drop. */
	if (rt->cfg->srs_secret_path != NULL &&
	    srs_secret_read(rt->cfg->srs_secret_path, q.srs_secret,
	    &q.srs_len) == -1) {
		log_warn("srs_secret %s: %s; forwards keep their sender",
		    rt->cfg->srs_secret_path, strerror(errno));
		q.srs_len = 0;
	}
	q.base = proc_child_start(rt, &pc, &q.master);
	if (etc_fd != -1)
		close(etc_fd);
	iev = event_new(q.base, q.inotify_fd, EV_READ | EV_PERSIST, inotify_cb, NULL);
	if (q.inotify_fd != -1)
		event_add(iev, NULL);
	rescan = event_new(q.base, -1, EV_PERSIST, rescan_cb, NULL);
	event_add(rescan, &tv);
	q.wake_ev = evtimer_new(q.base, wake_cb, NULL);
	pickup_start(q.base);
	n = maildir_clean_tmp(rt->mail_fd);
	if (n > 0)
		log_info("removed %zu unfinished deliveries from Maildir tmp/ "
		    "(they are repeated)", n);
	/* The first scan waits for the aliases table (an alias must never be
	 * delivered as a mailbox of its own name). */
	if (q.master == NULL)
		load_aliases("", 0);
	event_base_dispatch(q.base);
	exit(0);
}
