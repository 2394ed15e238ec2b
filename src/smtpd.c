/* smtpd - the SMTP process: runs one smtp_session per connection the
 *         connection layer (conn.c) accepts on every SMTP listener,
 *         streams DATA into spool/incoming and commits messages into
 *         spool/queue.
 * Trusts: nothing from the network (the session parses it); the auth
 *         process's answers; its own spool directory descriptors.
 * Gives:  a 250 after DATA only once the message file and queue/'s
 *         directory entry are fsync'ed. Commits of all sessions that end
 *         DATA in the same event-loop round share one directory fsync.
 *         SMTP's side of the connection layer: its clocks (smtp_timeout,
 *         data_timeout, the bound on our own waits), its 421 lines, which
 *         sessions may be evicted (idle strangers on the MX port).
 *         A stranger's message (not AUTH, not local_networks) is checked
 *         before its commit (verify.c: SPF, DKIM, DMARC through dns.c on
 *         this loop): refused with dmarc_reject, else the verdict goes
 *         into the envelope's authres slot. Bounces to our SRS addresses
 *         are validated at RCPT (srs.c). Strangers on an MX listener are
 *         looked up in the dnsbl zones before their greeting (refused
 *         there or at RCPT) and greylisted at RCPT (greylist = yes; the
 *         triplets in spool/greylist/).
 * Never:  reads the users file, delivers mail, runs as root, or touches a
 *         socket (conn.c does). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "dns.h"
#include "dnsbl.h"
#include "fileio.h"
#include "greylist.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "psl.h"
#include "qfile.h"
#include "relay.h"
#include "smtp_session.h"
#include "srs.h"
#include "verify.h"

#define SMTPD_WRITE_CHUNK	65536
#define SMTPD_FEED_CHUNK	65536
#define SMTPD_OUT_PAUSE		65536	/* stop reading while this much is unsent */
/* libevent stops reading the socket while this much input is unprocessed:
 * with the pause above, a client that does not read its replies costs at
 * most these two buffers (and the kernel's), whatever it sends. */
#define SMTPD_IN_MAX		(2 * SMTPD_FEED_CHUNK)

/* One SMTP session. Its connection may go before it: a commit in flight
 * owns the message file and finishes first. */
struct session {
	struct conn	*conn;		/* NULL once the client is gone */
	uint64_t	id;		/* the connection's, for auth's answers */
	char		sid[24];	/* session id in logs */
	struct smtp_session s;
	int		msg_fd;		/* incoming/ID while receiving, else -1 */
	char		msg_id[QFILE_ID_LEN + 1];
	struct buf	wbuf;		/* content waiting for write(2) */
	int		write_err;
	int		committing;	/* on the commit list */
	unsigned	messages;
	int		scram;		/* a SCRAM exchange is open in auth */
	time_t		own_since;	/* we asked auth or committed at (own_wait) */
	int		check;		/* a stranger's message: verify before the commit */
	size_t		authres_off;	/* the envelope's authres slot in the file */
	size_t		content_off;	/* our Received: line, then the message */
	struct verify	*v;		/* SPF/DKIM/DMARC in flight, else NULL */
	int		v_starting;	/* inside verify_run() (an answer may come at once) */
	struct dnsbl_run *bl;		/* blocklist queries before the greeting, else NULL */
	int		mx;		/* on an MX listener (not submission/smtps) */
	int		grey_exempt;	/* local_networks or a relay client */
	char		bl_line[300];	/* dnsbl_reject_at = rcpt: the reply, "" if not listed */
	char		bl_rule[220];	/* "dnsbl ZONE" */
};

/* The DNS blocklist check of one client: every zone's A query at once,
 * then the TXT of each listing. It outlives its session while a query is
 * in flight (the answers point into it). */
struct dnsbl_query {
	struct dnsbl_run *run;
	size_t		zone;
	int		txt;		/* the reason query, else the A query */
};

struct dnsbl_run {
	struct session	*c;		/* NULL once decided or the client left */
	unsigned	pending;	/* queries in flight */
	int		starting;	/* inside dnsbl_start() */
	struct event	*timer;		/* DNSBL_TIMEOUT_SEC */
	int		listed[DNSBL_ZONES_MAX];
	char		name[DNSBL_ZONES_MAX][DNS_NAME_MAX + 1];
	char		txt[DNSBL_ZONES_MAX][200];
	struct dnsbl_query q[DNSBL_ZONES_MAX][2];
};

/* Bound on a wait for our own processes (a user lookup, an AUTH check,
 * a commit), in units of smtp_timeout: the auth process may hold a check
 * back for its failure delay, but a session is never parked forever on a
 * wedged or flooded child. */
#define SMTPD_OWN_WAIT_FACTOR	2

static struct smtpd {
	struct event_base *base;
	struct runtime	*rt;
	struct relay_policy policy;
	struct ipc	*auth;
	struct conn_server *srv;	/* listeners and connections */
	struct grants	grants;		/* POP-before-SMTP, from auth */
	struct ipc	*master;
	struct session	**commits;	/* waiting for the next group commit */
	size_t		ncommits, commits_cap;
	struct event	*commit_ev;
	uint32_t	id_salt;
	struct dns	*dns;		/* verify_incoming: NULL when off or unavailable */
	struct psl	*psl;
	struct dns	*bl_dns;	/* dnsbl lines: NULL when none or no resolver */
	struct greylist	grey;		/* greylist = yes */
	int		grey_fd;	/* spool/greylist/, -1 when off */
	struct event	*grey_ev;	/* saves the state when it changed */
	unsigned char	srs_secret[SRS_SECRET_MAX];	/* srs_len 0: no SRS */
	size_t		srs_len;
} d;

static void session_free(struct session *c);

/* ---- the session's requests (smtp_session_ops) ---- */

static void
op_user_lookup(void *arg, const char *mailbox)
{
	struct session *c = arg;

	c->own_since = time(NULL);
	if (ipc_send(d.auth, IPC_USER_LOOKUP, c->id, mailbox, strlen(mailbox)) == -1)
		smtp_session_user_result(&c->s, OUTCOME_TEMP);
}

static int
msg_flush(struct session *c)
{
	if (c->write_err)
		return -1;
	if (c->wbuf.len > 0 && fileio_write_all(c->msg_fd, c->wbuf.data, c->wbuf.len) == -1) {
		log_warn("session=%s incoming/%s: write: %s", c->sid, c->msg_id,
		    strerror(errno));
		c->write_err = 1;
	}
	buf_reset(&c->wbuf);
	return c->write_err ? -1 : 0;
}

/* Our trace header: RFC 5321 4.4 (TCP-info is the address we saw). */
static int
add_received(struct session *c, const struct smtp_session *s, time_t now)
{
	char date[64], ip[INET6_ADDRSTRLEN], rcpt[ADDRESS_PATH_MAX + 8];
	char proto[16];

	qfile_rfc5322_date(now, date, sizeof(date));
	netaddr_format(&s->client.addr, ip, sizeof(ip));
	/* RFC 3848 protocol names: ESMTPS with TLS, ...A when authenticated. */
	snprintf(proto, sizeof(proto), "%s%s%s", s->esmtp ? "ESMTP" : "SMTP",
	    s->tls_active ? "S" : "", s->client.auth_user ? "A" : "");
	if (buf_printf(&c->wbuf, "Received: from %s ([%s%s])\r\n", s->helo[0] ?
	    s->helo : "unknown", s->client.addr.family == AF_INET6 ? "IPv6:" : "",
	    ip) == -1 ||
	    (s->tls_active && s->tls_desc[0] &&
	    buf_printf(&c->wbuf, "\t(using %s)\r\n", s->tls_desc) == -1) ||
	    buf_printf(&c->wbuf, "\tby %s (postern) with %s id %s",
	    s->cfg->hostname, proto, c->msg_id) == -1)
		return -1;
	if (s->txn.nrcpts == 1 &&
	    address_format(&s->txn.rcpts[0].addr, rcpt, sizeof(rcpt)) != NULL)
		return buf_printf(&c->wbuf, "\r\n\tfor <%s>; %s\r\n", rcpt, date);
	return buf_printf(&c->wbuf, ";\r\n\t%s\r\n", date);
}

static int
op_message_open(void *arg, const struct smtp_session *s)
{
	struct session *c = arg;
	struct qfile_envelope e;
	struct qfile_rcpt *rc;
	struct timeval tv;
	char ip[INET6_ADDRSTRLEN];
	size_t i;
	int tries, r;

	memset(&e, 0, sizeof(e));
	for (tries = 0; tries < 8; tries++) {
		gettimeofday(&tv, NULL);
		qfile_make_id(c->msg_id, (uint64_t)tv.tv_sec * 1000000 +
		    (uint64_t)tv.tv_usec, d.id_salt++);
		c->msg_fd = openat(d.rt->incoming_fd, c->msg_id,
		    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (c->msg_fd != -1 || errno != EEXIST)
			break;
	}
	if (c->msg_fd == -1) {
		log_warn("session=%s incoming: %s", c->sid, strerror(errno));
		return -1;
	}
	c->write_err = 0;
	buf_reset(&c->wbuf);
	memcpy(e.id, c->msg_id, sizeof(e.id));
	e.time = tv.tv_sec;
	netaddr_format(&s->client.addr, ip, sizeof(ip));
	snprintf(e.client, sizeof(e.client), "%s", ip);
	if (s->client.auth_user)
		snprintf(e.auth, sizeof(e.auth), "%s", s->client.auth_user);
	if (!s->txn.from.is_null)
		address_format(&s->txn.from, e.from, sizeof(e.from));
	snprintf(e.helo, sizeof(e.helo), "%s", s->helo);
	/* Strangers' mail is checked at the end of DATA; the envelope keeps a
	 * slot for the verdict, filled before the fsync. */
	c->check = d.dns != NULL && s->client.auth_user == NULL &&
	    !relay_client_is_local(&d.policy, &s->client.addr);
	e.authres_slot = c->check ? QFILE_AUTHRES_MAX : 0;
	e.rcpts = xcalloc(s->txn.nrcpts, sizeof(*e.rcpts));
	e.nrcpts = s->txn.nrcpts;
	for (i = 0; i < s->txn.nrcpts; i++) {
		rc = &e.rcpts[i];
		rc->status = QFILE_PENDING;
		if (s->txn.rcpts[i].kind == RELAY_ACCEPT_LOCAL) {
			rc->kind = QFILE_LOCAL;
			snprintf(rc->mailbox, sizeof(rc->mailbox), "%s",
			    s->txn.rcpts[i].mailbox);
		} else {
			rc->kind = QFILE_REMOTE;
		}
		address_format(&s->txn.rcpts[i].addr, rc->addr, sizeof(rc->addr));
	}
	r = qfile_envelope_format(&c->wbuf, &e);
	c->authres_off = e.authres_off;
	c->content_off = c->wbuf.len;
	free(e.rcpts);
	if (r == -1 || add_received(c, s, e.time) == -1) {
		log_warn("session=%s cannot format envelope", c->sid);
		close(c->msg_fd);
		c->msg_fd = -1;
		unlinkat(d.rt->incoming_fd, c->msg_id, 0);
		return -1;
	}
	return 0;
}

static int
op_message_write(void *arg, const char *p, size_t n)
{
	struct session *c = arg;

	if (c->write_err)
		return -1;
	if (buf_append(&c->wbuf, p, n) == -1) {
		if (msg_flush(c) == -1)
			return -1;
		if (n >= SMTPD_WRITE_CHUNK) {
			if (fileio_write_all(c->msg_fd, p, n) == -1) {
				c->write_err = 1;
				return -1;
			}
			return 0;
		}
		buf_append(&c->wbuf, p, n);
	}
	if (c->wbuf.len >= SMTPD_WRITE_CHUNK)
		return msg_flush(c);
	return 0;
}

static void
op_message_abort(void *arg)
{
	struct session *c = arg;

	if (c->msg_fd == -1)
		return;
	close(c->msg_fd);
	c->msg_fd = -1;
	unlinkat(d.rt->incoming_fd, c->msg_id, 0);
	buf_reset(&c->wbuf);
}

static void
commit_enqueue(struct session *c)
{
	if (d.ncommits == d.commits_cap) {
		d.commits_cap = d.commits_cap ? d.commits_cap * 2 : 32;
		d.commits = xreallocarray(d.commits, d.commits_cap, sizeof(*d.commits));
	}
	d.commits[d.ncommits++] = c;
	c->committing = 1;
	c->own_since = time(NULL);
	/* Runs after every ready I/O event of this round (lower priority):
	 * sessions finishing DATA together share the directory fsync. */
	event_active(d.commit_ev, EV_TIMEOUT, 0);
}

/* The message as spooled (our Received: line and the content), for the
 * checks. NULL data on a read error. */
static void
msg_read(struct session *c, struct buf *b)
{
	char chunk[65536];
	off_t off = (off_t)c->content_off;
	ssize_t r;

	buf_init(b, (size_t)c->s.cfg->max_message_size + 2 * sizeof(chunk));
	while ((r = pread(c->msg_fd, chunk, sizeof(chunk), off)) > 0) {
		if (buf_append(b, chunk, (size_t)r) == -1)
			break;
		off += r;
	}
	if (r == -1) {
		log_warn("session=%s incoming/%s: read: %s", c->sid, c->msg_id,
		    strerror(errno));
		buf_free(b);
	}
}

/* The verdict goes into the envelope's slot; a refusal throws the file
 * away. A temporary DNS failure never refuses: where it might have
 * changed a p=reject failure, the client is asked to try again (451). */
static void
verify_done(struct verify *v, void *arg)
{
	struct session *c = arg;
	char val[QFILE_AUTHRES_MAX + 1], line[400];
	const char *id = c->s.cfg->auth_serv_id ? c->s.cfg->auth_serv_id :
	    c->s.cfg->hostname;
	struct buf ar;
	size_t i;
	int temp = v->spf.result == SPF_RESULT_TEMPERROR;

	for (i = 0; i < v->dk.n; i++)
		temp |= v->dk.sigs[i].result == DKIM_TEMPERROR;
	log_info("session=%s id=%s spf=%s dkim=%s dmarc=%s from_domain=%s",
	    c->sid, c->msg_id, spf_result_name(v->spf.result),
	    v->dk.n == 0 ? "none" : dkim_result_name(v->dk.sigs[0].result),
	    dmarc_result_name(v->dv.result), v->fromdom[0] ? v->fromdom : "-");
	c->v = NULL;
	if (c->conn == NULL) {
		/* The client left: nothing was acknowledged. */
		verify_free(v);
		session_free(c);
		return;
	}
	if (c->s.cfg->dmarc_reject && verify_dmarc_reject(v)) {
		if (temp)
			(void)xsnprintf(line, sizeof(line), "451 4.7.1 Try again "
			    "later: DMARC of %s cannot be checked now", v->fromdom);
		else
			(void)xsnprintf(line, sizeof(line), "550 5.7.1 Message "
			    "rejected: DMARC policy of %s says reject", v->fromdom);
		log_info("session=%s id=%s dmarc policy reject: %.9s", c->sid,
		    c->msg_id, line);
		verify_free(v);
		op_message_abort(c);
		smtp_session_commit_refused(&c->s, line);
		if (!c->v_starting)
			conn_process(c->conn);
		return;
	}
	buf_init(&ar, 2 * QFILE_AUTHRES_MAX);
	if (verify_authres(v, id, &ar) == -1 ||
	    qfile_authres_encode(ar.data, ar.len, val, sizeof(val)) == -1 ||
	    pwrite(c->msg_fd, val, strlen(val), (off_t)c->authres_off) !=
	    (ssize_t)strlen(val))
		log_warn("session=%s id=%s cannot keep the Authentication-Results "
		    "field", c->sid, c->msg_id);
	buf_free(&ar);
	verify_free(v);
	commit_enqueue(c);
}

static void
op_message_commit(void *arg)
{
	struct session *c = arg;
	struct netaddr ip;
	struct buf msg;
	char from[ADDRESS_PATH_MAX + 8];

	if (msg_flush(c) == -1) {
		op_message_abort(c);
		smtp_session_commit_result(&c->s, 0, NULL);
		return;
	}
	buf_free(&c->wbuf);	/* idle sessions hold no content buffer */
	c->own_since = time(NULL);
	if (!c->check) {
		commit_enqueue(c);
		return;
	}
	msg_read(c, &msg);
	from[0] = '\0';
	if (!c->s.txn.from.is_null &&
	    address_format(&c->s.txn.from, from, sizeof(from)) == NULL)
		from[0] = '\0';
	ip = c->s.client.addr;
	c->v = msg.data != NULL ? verify_new(&ip, from, c->s.helo,
	    c->s.cfg->hostname, d.psl, msg.data, msg.len, time(NULL)) : NULL;
	buf_free(&msg);
	if (c->v == NULL) {
		commit_enqueue(c);	/* unchecked: no field, no refusal */
		return;
	}
	c->v_starting = 1;
	verify_run(c->v, d.dns, verify_done, c);
	c->v_starting = 0;
}

/* SMTP AUTH: the credentials go to the auth process, which applies the
 * failure delays and answers with IPC_SMTP_AUTH_REPLY. */
static void
op_auth_request(void *arg, enum sasl_result need, const struct sasl_server *sasl)
{
	struct session *c = arg;
	char ip[INET6_ADDRSTRLEN];
	struct ipc_fields f;
	uint32_t type;

	c->own_since = time(NULL);
	netaddr_format(&c->s.client.addr, ip, sizeof(ip));
	memset(&f, 0, sizeof(f));
	switch (need) {
	case SASL_NEED_PASS:
		type = IPC_SMTP_AUTH_PASS;
		f.s[f.n++] = sasl->user;
		f.s[f.n++] = sasl->pass;
		f.s[f.n++] = ip;
		f.s[f.n++] = sasl->mech == SASL_MECH_LOGIN ? "LOGIN" : "PLAIN";
		break;
	case SASL_NEED_CRAM:
		type = IPC_SMTP_AUTH_CRAM;
		f.s[f.n++] = sasl->user;
		f.s[f.n++] = sasl->challenge;
		f.s[f.n++] = sasl->digest;
		f.s[f.n++] = ip;
		break;
	default:
		type = need == SASL_NEED_SCRAM_FIRST ? IPC_SMTP_SCRAM_FIRST :
		    IPC_SMTP_SCRAM_FINAL;
		c->scram = need == SASL_NEED_SCRAM_FIRST;
		f.s[f.n++] = ip;
		f.tail = sasl->msg;
		f.tail_len = sasl->msglen;
		break;
	}
	if (ipc_send_fields(d.auth, type, c->id, &f) == -1)
		smtp_session_auth_result(&c->s, OUTCOME_TEMP, NULL, 0);
}

static int
op_srs_reverse(void *arg, const char *local, char *out, size_t outlen)
{
	struct session *c = arg;
	enum srs_status st;

	if (d.srs_len == 0)
		return 1;
	st = srs_reverse(d.srs_secret, d.srs_len, local, time(NULL), out, outlen);
	if (st == SRS_NOT_SRS)
		return 1;
	if (st != SRS_OK)
		log_info("session=%s srs: %s", c->sid, srs_status_text(st));
	return st == SRS_OK ? 0 : -1;
}

/* ---- DNS blocklists and greylisting ---- */

static void dnsbl_query_cb(const struct dns_answer *a, void *arg);

/* The verdict: the greeting, or its refusal; with dnsbl_reject_at =
 * rcpt the refusal waits in bl_line for each RCPT. */
static void
dnsbl_finish(struct dnsbl_run *run)
{
	const struct config *cfg = d.rt->cfg;
	struct session *c = run->c;
	unsigned weights[DNSBL_ZONES_MAX];
	char ip[INET6_ADDRSTRLEN];
	size_t i, first = cfg->n_dnsbl;

	run->c = NULL;
	c->bl = NULL;
	if (run->timer != NULL) {
		event_free(run->timer);
		run->timer = NULL;
	}
	netaddr_format(&c->s.client.addr, ip, sizeof(ip));
	for (i = 0; i < cfg->n_dnsbl; i++) {
		weights[i] = cfg->dnsbl[i].weight;
		if (!run->listed[i])
			continue;
		if (first == cfg->n_dnsbl)
			first = i;
		log_info("session=%s dnsbl %s listed [%s] (%s)", c->sid,
		    cfg->dnsbl[i].zone, ip, run->txt[i]);
	}
	c->s.now = time(NULL);
	if (dnsbl_decide(weights, run->listed, cfg->n_dnsbl,
	    cfg->dnsbl_threshold)) {
		dnsbl_reply(c->bl_line, sizeof(c->bl_line), cfg->dnsbl_tempfail,
		    ip, cfg->dnsbl[first].zone, run->txt[first]);
		(void)xsnprintf(c->bl_rule, sizeof(c->bl_rule), "dnsbl %s",
		    cfg->dnsbl[first].zone);
		if (cfg->dnsbl_reject_at == CONFIG_DNSBL_AT_GREETING) {
			smtp_session_start_refused(&c->s, c->bl_line, c->bl_rule);
			c->bl_line[0] = '\0';
		} else
			smtp_session_start(&c->s, NULL);
	} else
		smtp_session_start(&c->s, NULL);
	if (!run->starting)
		conn_process(c->conn);
}

static void
dnsbl_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsbl_run *run = arg;

	(void)fd; (void)what;
	log_info("session=%s dnsbl: no answer within %ds; not listed where "
	    "unanswered", run->c->sid, DNSBL_TIMEOUT_SEC);
	dnsbl_finish(run);
	if (run->pending == 0)
		free(run);
}

/* A query answered: the A of a listing asks for its TXT. A timeout or a
 * SERVFAIL is "not listed". */
static void
dnsbl_query_cb(const struct dns_answer *a, void *arg)
{
	struct dnsbl_query *q = arg;
	struct dnsbl_run *run = q->run;
	size_t i, z = q->zone;

	if (run->c != NULL && a->status == OUTCOME_OK) {
		if (!q->txt) {
			for (i = 0; i < a->nrr; i++)
				if (a->type == DNS_T_A &&
				    dnsbl_address_lists(&a->rr[i].addr))
					run->listed[z] = 1;
			if (run->listed[z]) {
				/* Counted before it is asked: the answer
				 * may come at once, from the cache. */
				run->pending++;
				dns_query(d.bl_dns, DNS_T_TXT, run->name[z],
				    dnsbl_query_cb, &run->q[z][1]);
			}
		} else if (a->nrr > 0)
			(void)xsnprintf(run->txt[z], sizeof(run->txt[z]), "%s",
			    dns_rr_text(a, 0));
	}
	if (--run->pending > 0)
		return;
	if (run->c != NULL)
		dnsbl_finish(run);
	if (!run->starting)
		free(run);
}

/* Ask every zone about the client; the greeting (or its refusal) comes
 * from dnsbl_finish, possibly before this returns. 0. */
static int
dnsbl_start(struct session *c)
{
	const struct config *cfg = d.rt->cfg;
	struct dnsbl_run *run = xcalloc(1, sizeof(*run));
	struct timeval tv = { DNSBL_TIMEOUT_SEC, 0 };
	size_t i;

	run->c = c;
	run->starting = 1;
	run->pending = 1;	/* ours, until every query is asked */
	c->bl = run;
	c->own_since = time(NULL);
	run->timer = evtimer_new(d.base, dnsbl_timeout_cb, run);
	if (run->timer == NULL || evtimer_add(run->timer, &tv) == -1)
		fatal("dnsbl: cannot set a timer");
	for (i = 0; i < cfg->n_dnsbl && run->c != NULL; i++) {
		run->q[i][0] = (struct dnsbl_query){ run, i, 0 };
		run->q[i][1] = (struct dnsbl_query){ run, i, 1 };
		if (dnsbl_query_name(&c->s.client.addr, cfg->dnsbl[i].zone,
		    run->name[i], sizeof(run->name[i])) == -1)
			continue;
		run->pending++;
		dns_query(d.bl_dns, DNS_T_A, run->name[i], dnsbl_query_cb,
		    &run->q[i][0]);
	}
	if (--run->pending == 0) {
		if (run->c != NULL)
			dnsbl_finish(run);
		free(run);
		return 0;
	}
	run->starting = 0;
	return 0;
}

/* Whether this client is asked about at all. */
static int
dnsbl_applies(const struct session *c)
{
	const struct config *cfg = d.rt->cfg;
	struct netaddr addr = c->s.client.addr;
	size_t i;

	if (d.bl_dns == NULL || !c->mx ||
	    relay_client_spam_exempt(&d.policy, &addr, 1))
		return 0;
	for (i = 0; i < cfg->n_dnsbl_allow; i++)
		if (cidr_match(&cfg->dnsbl_allow[i], &addr))
			return 0;
	return 1;
}

static const char *
op_rcpt_check(void *arg, const struct address *rcpt, int postmaster,
    char *line, size_t len)
{
	struct session *c = arg;
	char from[ADDRESS_PATH_MAX + 8], to[ADDRESS_PATH_MAX + 8];
	enum greylist_verdict v;

	if (c->s.client.auth_user != NULL)
		return NULL;		/* authenticated: never refused here */
	if (c->bl_line[0] != '\0' && !postmaster) {
		(void)xsnprintf(line, len, "%s", c->bl_line);
		return c->bl_rule;
	}
	if (d.grey_fd == -1 || !c->mx || c->grey_exempt)
		return NULL;
	from[0] = to[0] = '\0';
	if (!c->s.txn.from.is_null &&
	    address_format(&c->s.txn.from, from, sizeof(from)) == NULL)
		from[0] = '\0';
	if (address_format(rcpt, to, sizeof(to)) == NULL)
		to[0] = '\0';
	v = greylist_check(&d.grey, greylist_key(&c->s.client.addr, from, to),
	    (int64_t)time(NULL));
	if (v == GREYLIST_PASS)
		return NULL;
	log_info("session=%s greylist %s client=%s", c->sid,
	    greylist_verdict_name(v), c->s.client_text);
	(void)xsnprintf(line, len, "451 4.7.1 Greylisted, please try again "
	    "later");
	return "greylist";
}

/* spool/greylist/greylist, rewritten whole when it changed. */
#define GREYLIST_FILE		"greylist"
#define GREYLIST_FILE_MAX	((size_t)GREYLIST_ENTRIES_MAX * 80)
#define GREYLIST_SAVE_SEC	10

static void
greylist_save(void)
{
	/* Only smtpd writes it: a temporary left is a crash leftover. */
	struct fileio_new nf = { 0600, (uid_t)-1, (gid_t)-1,
	    FILEIO_TMP_LEFTOVER };
	enum fileio_step step;
	struct buf b;

	if (d.grey_fd == -1 || !d.grey.dirty)
		return;
	buf_init(&b, GREYLIST_FILE_MAX);
	if (greylist_format(&d.grey, &b, (int64_t)time(NULL)) == -1 ||
	    fileio_replace(d.grey_fd, GREYLIST_FILE, GREYLIST_FILE ".tmp",
	    b.data != NULL ? b.data : "", b.len, &nf, &step) == -1)
		log_warn("greylist: cannot save %s: %s", GREYLIST_FILE,
		    strerror(errno));
	buf_free(&b);
}

static void
greylist_save_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	greylist_save();
}

/* Before the privilege drop: spool/greylist/ (ours), and what it kept. */
static void
greylist_open(const struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct buf b;

	d.grey_fd = -1;
	if (!cfg->greylist)
		return;
	greylist_init(&d.grey, cfg->greylist_delay, cfg->greylist_window,
	    cfg->greylist_expire);
	if (mkdirat(rt->spool_fd, "greylist", 0700) == -1 && errno != EEXIST)
		fatal("spool: cannot create greylist: %s", strerror(errno));
	d.grey_fd = openat(rt->spool_fd, "greylist", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW);
	if (d.grey_fd == -1)
		fatal("spool: cannot open greylist: %s", strerror(errno));
	if (rt->drop && fchown(d.grey_fd, rt->uid, rt->gid) == -1)
		fatal("spool: cannot chown greylist: %s", strerror(errno));
	if (fileio_read_file(d.grey_fd, GREYLIST_FILE, 0, GREYLIST_FILE_MAX,
	    &b, NULL) == 0)
		greylist_parse(&d.grey, b.data != NULL ? b.data : "", b.len,
		    (int64_t)time(NULL));
	else if (errno != ENOENT)
		log_warn("greylist: cannot read %s: %s", GREYLIST_FILE,
		    strerror(errno));
	buf_free(&b);
}

static void
op_log(void *arg, const char *line)
{
	struct session *c = arg;

	log_info("session=%s %s", c->sid, line);
}

static const struct smtp_session_ops ops = {
	.user_lookup = op_user_lookup,
	.message_open = op_message_open,
	.message_write = op_message_write,
	.message_commit = op_message_commit,
	.message_abort = op_message_abort,
	.log = op_log,
	.auth_request = op_auth_request,
	.srs_reverse = op_srs_reverse,
	.rcpt_check = op_rcpt_check,
};

/* ---- group commit ---- */

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session **batch, *c;
	size_t n, i;
	int *ok, dir_ok;

	(void)fd; (void)what; (void)arg;
	batch = d.commits;
	n = d.ncommits;
	d.commits = NULL;
	d.ncommits = d.commits_cap = 0;
	ok = xcalloc(n, sizeof(*ok));
	for (i = 0; i < n; i++) {
		c = batch[i];
		ok[i] = fdatasync(c->msg_fd) == 0 && close(c->msg_fd) == 0;
		if (!ok[i])
			log_warn("session=%s incoming/%s: fsync: %s", c->sid,
			    c->msg_id, strerror(errno));
		c->msg_fd = -1;
		if (ok[i] && renameat(d.rt->incoming_fd, c->msg_id,
		    d.rt->queue_fd, c->msg_id) == -1) {
			log_warn("session=%s rename into queue: %s", c->sid,
			    strerror(errno));
			ok[i] = 0;
		}
		if (!ok[i])
			unlinkat(d.rt->incoming_fd, c->msg_id, 0);
	}
	dir_ok = n == 0 || fsync(d.rt->queue_fd) == 0;
	if (!dir_ok)
		log_warn("fsync(queue/): %s", strerror(errno));
	for (i = 0; i < n; i++) {
		c = batch[i];
		c->committing = 0;
		if (ok[i] && dir_ok)
			c->messages++;
		smtp_session_commit_result(&c->s, ok[i] && dir_ok, c->msg_id);
		if (c->conn == NULL)
			session_free(c);	/* the client left while we committed */
		else
			conn_process(c->conn);
	}
	free(ok);
	free(batch);
}

static void
session_free(struct session *c)
{
	verify_free(c->v);
	if (c->msg_fd != -1)
		op_message_abort(c);
	smtp_session_free(&c->s);
	buf_free(&c->wbuf);
	free(c);
}

/* ---- SMTP's side of the connection layer (conn_ops) ---- */

/* Waiting for one of our own processes rather than for the peer. Every
 * other state (greeting, command, DATA, AUTH continuation, the STARTTLS
 * or smtps handshake) waits for the client and runs on its clock. */
static int
own_wait(const struct session *c)
{
	return c->s.wait == SMTP_WAIT_USER || c->s.wait == SMTP_WAIT_AUTH ||
	    c->s.wait == SMTP_WAIT_COMMIT || c->bl != NULL;
}

static void *
sop_opened(struct conn *conn)
{
	struct relay_client client;
	struct relay_decision dec;
	struct session *c;
	char lip[INET6_ADDRSTRLEN];
	const char *deny = NULL;
	int kind = conn_kind(conn);

	memset(&client, 0, sizeof(client));
	client.addr = *conn_peer(conn);
	client.local_addr = *conn_local(conn);
	c = xcalloc(1, sizeof(*c));
	c->conn = conn;
	c->id = conn_id(conn);
	snprintf(c->sid, sizeof(c->sid), "%s", conn_sid(conn));
	c->msg_fd = -1;
	buf_init(&c->wbuf, SMTPD_WRITE_CHUNK * 2);
	smtp_session_init(&c->s, d.rt->cfg, &d.policy, &client, &ops, c);
	c->s.grants = &d.grants;
	c->s.tls_available = conn_tls_available(conn);
	c->s.tls_active = kind == LISTEN_SMTPS;
	c->s.submission = kind == LISTEN_SUBMISSION || kind == LISTEN_SMTPS;
	if (c->s.submission &&
	    getrandom(c->s.random, sizeof(c->s.random), 0) != (ssize_t)sizeof(c->s.random))
		fatal("getrandom: %s", strerror(errno));
	netaddr_format(&client.local_addr, lip, sizeof(lip));
	log_info("session=%s connect from [%s]:%u to [%s]", c->sid,
	    conn_peer_text(conn), conn_peer_port(conn), lip);
	/* A relay_rules deny line: 554 at connect, whoever the client. */
	relay_connect(&d.policy, &client.addr, &dec);
	if (dec.result == RELAY_REJECT) {
		deny = dec.text;
		log_info("session=%s denied by %s", c->sid, dec.rule);
	}
	c->s.now = time(NULL);
	c->mx = kind == LISTEN_SMTP;
	c->grey_exempt = relay_client_spam_exempt(&d.policy, &client.addr, 0);
	/* A listed client is told so instead of the greeting: the DNS
	 * blocklists are asked first (the session waits on our side). */
	if (deny != NULL || !dnsbl_applies(c) || dnsbl_start(c) == -1)
		smtp_session_start(&c->s, deny);
	return c;
}

static struct buf *
sop_output(void *p)
{
	struct session *c = p;

	return &c->s.out;
}

static enum conn_phase
sop_phase(void *p)
{
	const struct session *c = p;

	if (c->s.close)
		return CONN_PHASE_CLOSE;
	if (c->s.wait == SMTP_WAIT_TLS)
		return CONN_PHASE_TLS;
	return own_wait(c) ? CONN_PHASE_US : CONN_PHASE_PEER;
}

/* RFC 5321 4.5.3.2 timeouts: in a command state the clock runs from our
 * last reply (a whole command must arrive within smtp_timeout, so one
 * byte a minute does not keep a session alive); in DATA from the last
 * content byte (data_timeout). The layer cuts either short by what is
 * left of max_session_time, which ends a client that dribbles just fast
 * enough. */
static unsigned
sop_idle_seconds(void *p)
{
	const struct session *c = p;

	return c->s.state == SMTP_STATE_DATA ? c->s.cfg->data_timeout :
	    c->s.cfg->smtp_timeout;
}

static size_t
sop_feed(struct conn *conn, void *p, const char *data, size_t n, size_t more)
{
	struct session *c = p;
	enum smtp_state state0 = c->s.state;
	size_t used;

	c->s.more_input = more;
	c->s.now = time(NULL);
	used = smtp_session_feed(&c->s, data, n);
	/* Content bytes restart the DATA clock, a new state its own. */
	if ((used > 0 && c->s.state == SMTP_STATE_DATA) || c->s.state != state0)
		conn_clock_restart(conn);
	return used;
}

static void
sop_tls_started(struct conn *conn, void *p, const char *desc, int upgraded)
{
	struct session *c = p;

	(void)conn;
	if (upgraded) {
		smtp_session_tls_started(&c->s, desc);	/* the EHLO clock starts now */
	} else {
		snprintf(c->s.tls_desc, sizeof(c->s.tls_desc), "%s", desc);
		log_info("session=%s tls %s", c->sid, desc);
	}
}

static int
sop_timeout(struct conn *conn, void *p, enum conn_timeout why)
{
	struct session *c = p;

	(void)conn;
	switch (why) {
	case CONN_TIMEOUT_OURS:
		/* Our own answer is late, not the client: wait, but not
		 * forever. A commit in flight owns the message file and ends
		 * with the group fsync; it is never cut short. */
		if (c->s.wait == SMTP_WAIT_COMMIT || time(NULL) - c->own_since <
		    (time_t)c->s.cfg->smtp_timeout * SMTPD_OWN_WAIT_FACTOR)
			return 1;
		log_info("session=%s no answer from auth within %us", c->sid,
		    c->s.cfg->smtp_timeout * SMTPD_OWN_WAIT_FACTOR);
		/* A late answer finds the slot gone and is dropped. */
		break;
	case CONN_TIMEOUT_HANDSHAKE:
		/* STARTTLS or smtps and then silence: the peer is late. */
		log_info("session=%s timeout in TLS handshake client=%s",
		    c->sid, c->s.client_text);
		return 0;
	case CONN_TIMEOUT_SESSION:
		log_info("session=%s max_session_time (%us) reached in state %d",
		    c->sid, c->s.cfg->max_session_time, (int)c->s.state);
		break;
	case CONN_TIMEOUT_IDLE:
		log_info("session=%s timeout in state %d", c->sid,
		    (int)c->s.state);
		break;
	}
	smtp_session_timeout(&c->s);
	return 0;
}

static void
sop_shutdown(void *p)
{
	struct session *c = p;

	if (!c->committing && c->v == NULL)
		smtp_session_shutdown(&c->s);
}

/* May make room for a newcomer (the layer asks only about strangers on
 * an MX listener): between commands, not in DATA, not waiting for us,
 * not authenticated. */
static int
sop_evictable(void *p)
{
	const struct session *c = p;

	return !c->committing && c->v == NULL && c->s.client.auth_user == NULL && !c->s.close &&
	    c->s.wait == SMTP_WAIT_NONE && c->s.state != SMTP_STATE_DATA &&
	    c->msg_fd == -1;
}

static size_t
sop_line(char *line, size_t len, const char *why)
{
	int n = snprintf(line, len, "421 4.7.0 %s Error: %s\r\n",
	    d.rt->cfg->hostname, why);

	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

/* Over a limit: one 421 line (the layer sends none on smtps, where the
 * client expects a TLS handshake). */
static size_t
sop_rejected(void *arg, const struct conn_rejection *r, char *line, size_t len)
{
	const char *why = r->hit == CONN_LIMIT_PER_CLIENT ?
	    "too many connections from your address" : r->hit == CONN_LIMIT_KIND ?
	    "too many connections on this port" : "too many connections";

	(void)arg;
	log_info("connect from [%s]:%u rejected: %s (%u, limit %u)", r->ip,
	    r->port, why, r->count, r->max);
	return sop_line(line, len, why);
}

static size_t
sop_evict_line(void *arg, char *line, size_t len)
{
	(void)arg;
	return sop_line(line, len, "too many connections; closing the idlest");
}

static void
sop_closed(struct conn *conn, void *p)
{
	struct session *c = p;

	(void)conn;
	log_info("session=%s disconnect from %s messages=%u", c->sid,
	    c->s.client_text, c->messages);
	c->conn = NULL;
	if (c->scram) {
		/* The client left mid-SCRAM: auth may forget the exchange. */
		ipc_send(d.auth, IPC_SMTP_SCRAM_ABORT, c->id, NULL, 0);
		c->scram = 0;
	}
	if (c->bl != NULL) {
		/* Its queries finish without us. */
		c->bl->c = NULL;
		if (c->bl->timer != NULL) {
			event_free(c->bl->timer);
			c->bl->timer = NULL;
		}
		c->bl = NULL;
	}
	/* A commit in flight owns the file; commit_cb frees us afterwards
	 * (verify_done, for checks in flight: they hold a DNS query). */
	if (!c->committing && c->v == NULL)
		session_free(c);
}

static const struct conn_ops smtp_conn_ops = {
	.opened = sop_opened,
	.output = sop_output,
	.phase = sop_phase,
	.idle_seconds = sop_idle_seconds,
	.feed = sop_feed,
	.tls_started = sop_tls_started,
	.timeout = sop_timeout,
	.shutdown = sop_shutdown,
	.evictable = sop_evictable,
	.rejected = sop_rejected,
	.evict_line = sop_evict_line,
	.closed = sop_closed,
};

/* The session limit of a listener kind: max_smtp_sessions (default
 * max_sessions - reserved_sessions: what strangers on the MX port may
 * fill), max_submission_sessions and max_smtps_sessions (default
 * max_sessions). local_networks clients do not count against it: the
 * room between the MX limit and max_sessions (reserved_sessions) is
 * theirs and submission's. */
static unsigned
kind_limit(int kind)
{
	const struct config *cfg = d.rt->cfg;
	unsigned reserve = cfg->reserved_sessions;

	if (kind == LISTEN_SUBMISSION)
		return cfg->max_submission_sessions ?
		    cfg->max_submission_sessions : cfg->max_sessions;
	if (kind == LISTEN_SMTPS)
		return cfg->max_smtps_sessions ? cfg->max_smtps_sessions :
		    cfg->max_sessions;
	if (cfg->max_smtp_sessions)
		return cfg->max_smtp_sessions;
	if (reserve > cfg->max_sessions / 2)
		reserve = cfg->max_sessions / 2;	/* strangers get half at least */
	return cfg->max_sessions - reserve;
}

/* The connection layer for the SMTP listeners. Limits: max_sessions for
 * all of them together; the listener kind's own (kind_limit);
 * max_sessions_per_client per address (IPv6: per /64, the key login
 * throttling counts under), local_networks exempt. When the MX listener
 * or the pool is full, the idlest stranger on an MX listener is closed
 * to make room rather than refusing forever (a flood of idle strangers
 * cannot lock newcomers out). */
static struct conn_server *
smtp_server(const struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct conn_config cc;
	struct conn_listen *l;
	struct conn_server *srv;
	size_t i;

	memset(&cc, 0, sizeof(cc));
	cc.ops = &smtp_conn_ops;
	cc.sid_prefix = "";
	cc.upgrade_verb = "STARTTLS";
	cc.feed_chunk = SMTPD_FEED_CHUNK;
	cc.in_max = SMTPD_IN_MAX;
	cc.out_pause = SMTPD_OUT_PAUSE;
	cc.max_session_time = cfg->max_session_time;
	cc.max_sessions = cfg->max_sessions;
	cc.max_per_client = cfg->max_sessions_per_client;
	cc.per_client_prefix = 1;
	cc.policy = &d.policy;
	/* The first client waits for what its session needs: the grants
	 * table from auth (auth sends it once its own tables are loaded, so
	 * a restarted server relays for yesterday's grants from the first
	 * RCPT on) and, with TLS configured, the certificate (no session may
	 * miss STARTTLS). */
	cc.gates = CONN_GATE_PROTOCOL | (cfg->tls_cert ? CONN_GATE_TLS : 0);
	l = xcalloc(rt->n_smtp_fds ? rt->n_smtp_fds : 1, sizeof(*l));
	for (i = 0; i < rt->n_smtp_fds; i++) {
		l[i].fd = rt->smtp_fds[i];
		l[i].kind = rt->smtp_kinds[i];
		l[i].limit = kind_limit(l[i].kind);
		l[i].limited = 1;
		l[i].implicit_tls = l[i].kind == LISTEN_SMTPS;
		l[i].evict = l[i].kind == LISTEN_SMTP;
	}
	srv = conn_server_new(d.base, &cc, l, rt->n_smtp_fds);
	free(l);
	return srv;
}

/* ---- the auth process ---- */

static void
auth_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	struct conn *conn = conn_find(d.srv, id);
	struct session *c = conn != NULL ? conn_session(conn) : NULL;
	unsigned char r;

	(void)ipc; (void)arg;
	if (type == IPC_SMTP_AUTH_REPLY && len >= 1) {
		const unsigned char *p = data;

		if (c == NULL || c->s.wait != SMTP_WAIT_AUTH)
			return;
		c->scram = c->scram && p[0] == OUTCOME_OK &&
		    c->s.sasl.step == SASL_STEP_WAIT_AUTH &&
		    c->s.sasl.waiting == SASL_NEED_SCRAM_FIRST;
		smtp_session_auth_result(&c->s, p[0] <= OUTCOME_DENIED ?
		    (int)p[0] : OUTCOME_TEMP,
		    (const char *)p + 1, len - 1);
		conn_process(conn);
		return;
	}
	if (type == IPC_GRANTS) {
		/* The whole POP-before-SMTP table; sessions point at it. */
		grants_parse(&d.grants, data, len);
		conn_server_unblock(d.srv, CONN_GATE_PROTOCOL);
		return;
	}
	if (type != IPC_USER_LOOKUP_REPLY || len != 1)
		fatal("auth sent an unexpected message (type %u, %zu bytes)",
		    type, len);
	if (c == NULL || c->s.wait != SMTP_WAIT_USER)
		return;		/* the session is gone */
	r = *(const unsigned char *)data;
	smtp_session_user_result(&c->s, r == OUTCOME_OK ? OUTCOME_OK :
	    r == OUTCOME_PERM ? OUTCOME_PERM : OUTCOME_TEMP);
	conn_process(conn);
}

static void
master_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)ipc; (void)id; (void)arg;
	conn_server_tls_message(d.srv, type, data, len);
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig; (void)what; (void)arg;
	greylist_save();
	conn_server_shutdown(d.srv);
}

/* The auth process or the master went (a shutdown, most often, which may
 * reach us that way before our SIGTERM): keep the triplets, then exit. */
static void
peer_gone_cb(struct ipc *ipc, void *arg)
{
	greylist_save();
	proc_peer_gone(ipc, arg);
}

/* Each session needs a socket, and one more file while it receives DATA. */
static void
limits_check(const struct config *cfg)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 2 * (rlim_t)cfg->max_sessions + 64)
		log_warn("max_sessions = %u needs %llu descriptors; the limit "
		    "is %llu (ulimit -n)", cfg->max_sessions,
		    2ULL * cfg->max_sessions + 64, (unsigned long long)rl.rlim_cur);
}

/* After the privilege drop, before landlock: the resolver (resolv.conf
 * when no dns_servers are set) and the public suffix list are read
 * while the file system is open. Without either the checks are off
 * (logged once): mail is taken unchecked rather than slowed down. */
static void
smtpd_setup(struct event_base *base, void *arg)
{
	const struct config *cfg = d.rt->cfg;
	char err[256];

	conn_tls_preload(base, arg);
	if (cfg->n_dnsbl > 0) {
		d.bl_dns = dns_new(base, cfg->dns_servers, err, sizeof(err));
		if (d.bl_dns == NULL)
			log_warn("dnsbl: no resolver (%s); clients are not "
			    "checked against DNS blocklists", err);
	}
	if (cfg->greylist) {
		struct timeval tv = { GREYLIST_SAVE_SEC, 0 };

		d.grey_ev = event_new(base, -1, EV_PERSIST, greylist_save_cb,
		    NULL);
		if (d.grey_ev == NULL || event_add(d.grey_ev, &tv) == -1)
			fatal("greylist: cannot set a timer");
	}
	if (!cfg->verify_incoming)
		return;
	d.psl = psl_load_file(PSL_FILE_DEFAULT, PSL_ICANN | PSL_PRIVATE, NULL);
	if (d.psl == NULL) {
		log_warn("verify_incoming: %s: %s; incoming mail is not checked",
		    PSL_FILE_DEFAULT, strerror(errno));
		return;
	}
	d.dns = dns_new(base, cfg->dns_servers, err, sizeof(err));
	if (d.dns == NULL) {
		log_warn("verify_incoming: no resolver (%s); incoming mail is "
		    "not checked", err);
		psl_free(d.psl);
		d.psl = NULL;
	}
}

void
smtpd_main(struct runtime *rt, int auth_fd)
{
	/* smtpd reaches incoming/ and queue/ only. Two event priorities:
	 * the commit of finished messages runs after each round's I/O. */
	struct proc_child pc = {
		.keep = PROC_KEEP_INCOMING | PROC_KEEP_QUEUE | PROC_KEEP_SMTP,
		.dirs = { { rt->incoming_fd, PROC_FS_READ | PROC_FS_WRITE },
		    { rt->queue_fd, PROC_FS_READ | PROC_FS_WRITE } },
		.ndirs = 2,
		.priorities = 2,
		.setup = smtpd_setup,
		.master_msg = master_msg_cb,
		.on_sigterm = sigterm_cb,
		.master_eof = peer_gone_cb,
	};

	d.rt = rt;
	d.id_salt = (uint32_t)getpid() << 8;
	/* The SRS secret is root's file: read before the privilege drop. */
	if (rt->cfg->srs_secret_path != NULL &&
	    srs_secret_read(rt->cfg->srs_secret_path, d.srs_secret,
	    &d.srs_len) == -1) {
		log_warn("srs_secret %s: %s; bounces to SRS addresses are "
		    "refused", rt->cfg->srs_secret_path, strerror(errno));
		d.srs_len = 0;
	}
	relay_policy_from_config(&d.policy, rt->cfg);
	/* With greylist = yes, spool/greylist/ too (the triplets). */
	greylist_open(rt);
	if (d.grey_fd != -1)
		pc.dirs[pc.ndirs++] = (struct proc_dir){ d.grey_fd,
		    PROC_FS_READ | PROC_FS_WRITE };
	d.base = proc_child_start(rt, &pc, &d.master);
	limits_check(rt->cfg);
	d.srv = smtp_server(rt);
	d.commit_ev = event_new(d.base, -1, 0, commit_cb, NULL);
	event_priority_set(d.commit_ev, 1);
	d.auth = ipc_new(d.base, auth_fd, auth_msg_cb, peer_gone_cb, NULL);
	event_base_dispatch(d.base);
	exit(0);
}
