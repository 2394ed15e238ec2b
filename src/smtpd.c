/* smtpd - the SMTP process: accepts connections on every SMTP listener,
 *         runs one smtp_session per connection, streams DATA into
 *         spool/incoming and commits messages into spool/queue.
 * Trusts: nothing from the network (the session parses it); the auth
 *         process's answers; its own spool directory descriptors.
 * Gives:  a 250 after DATA only once the message file and queue/'s
 *         directory entry are fsync'ed. Commits of all sessions that end
 *         DATA in the same event-loop round share one directory fsync.
 * Never:  reads the users file, delivers mail, or runs as root. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "fileio.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "queue.h"
#include "relay.h"
#include "slots.h"
#include "smtp_session.h"
#include "throttle.h"
#include "tls.h"

#define SMTPD_WRITE_CHUNK	65536
#define SMTPD_FEED_CHUNK	65536
#define SMTPD_OUT_PAUSE		65536	/* stop reading while this much is unsent */
/* libevent stops reading the socket while this much input is unprocessed:
 * with the pause above, a client that does not read its replies costs at
 * most these two buffers (and the kernel's), whatever it sends. */
#define SMTPD_IN_MAX		(2 * SMTPD_FEED_CHUNK)

struct conn {
	uint64_t	id;		/* slot | generation << 32 */
	char		sid[24];	/* session id in logs */
	struct bufferevent *bev;
	struct event	*timer;
	struct smtp_session s;
	int		msg_fd;		/* incoming/ID while receiving, else -1 */
	char		msg_id[QUEUE_ID_LEN + 1];
	struct buf	wbuf;		/* content waiting for write(2) */
	int		write_err;
	int		committing;	/* on the commit list */
	int		closing;	/* close once the output is flushed */
	unsigned	close_polls;	/* drain checks while closing */
	unsigned	messages;
	int		scram;		/* a SCRAM exchange is open in auth */
	time_t		started;	/* accepted at; max_session_time counts from here */
	time_t		own_since;	/* we asked auth or committed at (own_wait) */
	time_t		active;		/* last input used: the idlest goes first */
	int		kind;		/* enum listen_kind of its listener */
	int		local;		/* client in local_networks */
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
	struct evconnlistener **listeners;
	size_t		nlisteners;
	struct slots	conns;		/* live connections by id */
	struct grants	grants;		/* POP-before-SMTP, from auth */
	struct ipc	*master;
	struct tls_server tls;		/* context from the master's PEM */
	int		*kinds;		/* listener kinds (enum listen_kind) */
	int		listening;	/* listeners enabled */
	int		have_grants;	/* auth sent its first grants table */
	int		have_tls;	/* the master sent the certificate and key */
	struct conn	**commits;	/* waiting for the next group commit */
	size_t		ncommits, commits_cap;
	struct event	*commit_ev;
	uint32_t	id_salt;
	unsigned	nconns;
	unsigned	sessions;	/* accepted so far */
} d;

static void conn_process(struct conn *c);
static void conn_free(struct conn *c);
static void conn_starttls(struct conn *c);
static void listeners_enable(void);

/* ---- the session's requests (smtp_session_ops) ---- */

static void
op_user_lookup(void *arg, const char *mailbox)
{
	struct conn *c = arg;

	c->own_since = time(NULL);
	if (ipc_send(d.auth, IPC_USER_LOOKUP, c->id, mailbox, strlen(mailbox)) == -1)
		smtp_session_user_result(&c->s, SMTP_USER_TEMPFAIL);
}

static int
msg_flush(struct conn *c)
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
add_received(struct conn *c, const struct smtp_session *s, time_t now)
{
	char date[64], ip[INET6_ADDRSTRLEN], rcpt[ADDRESS_PATH_MAX + 8];
	char proto[16];

	queue_rfc5322_date(now, date, sizeof(date));
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
	struct conn *c = arg;
	struct queue_envelope e;
	struct queue_rcpt *rc;
	struct timeval tv;
	char ip[INET6_ADDRSTRLEN];
	size_t i;
	int tries, r;

	memset(&e, 0, sizeof(e));
	for (tries = 0; tries < 8; tries++) {
		gettimeofday(&tv, NULL);
		queue_make_id(c->msg_id, (uint64_t)tv.tv_sec * 1000000 +
		    (uint64_t)tv.tv_usec, d.id_salt++);
		c->msg_fd = openat(d.rt->incoming_fd, c->msg_id,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
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
	e.rcpts = xcalloc(s->txn.nrcpts, sizeof(*e.rcpts));
	e.nrcpts = s->txn.nrcpts;
	for (i = 0; i < s->txn.nrcpts; i++) {
		rc = &e.rcpts[i];
		rc->status = QUEUE_PENDING;
		if (s->txn.rcpts[i].kind == RELAY_ACCEPT_LOCAL) {
			rc->kind = QUEUE_LOCAL;
			snprintf(rc->mailbox, sizeof(rc->mailbox), "%s",
			    s->txn.rcpts[i].mailbox);
		} else {
			rc->kind = QUEUE_REMOTE;
		}
		address_format(&s->txn.rcpts[i].addr, rc->addr, sizeof(rc->addr));
	}
	r = queue_envelope_format(&c->wbuf, &e);
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
	struct conn *c = arg;

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
	struct conn *c = arg;

	if (c->msg_fd == -1)
		return;
	close(c->msg_fd);
	c->msg_fd = -1;
	unlinkat(d.rt->incoming_fd, c->msg_id, 0);
	buf_reset(&c->wbuf);
}

static void
op_message_commit(void *arg)
{
	struct conn *c = arg;

	if (msg_flush(c) == -1) {
		op_message_abort(c);
		smtp_session_commit_result(&c->s, 0, NULL);
		return;
	}
	buf_free(&c->wbuf);	/* idle sessions hold no content buffer */
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

/* SMTP AUTH: the credentials go to the auth process, which applies the
 * failure delays and answers with IPC_SMTP_AUTH_REPLY. */
static void
op_auth_request(void *arg, enum sasl_result need, const struct sasl_server *sasl)
{
	struct conn *c = arg;
	char ip[INET6_ADDRSTRLEN];
	struct buf b;
	uint32_t type;
	int r = 0;

	c->own_since = time(NULL);
	netaddr_format(&c->s.client.addr, ip, sizeof(ip));
	buf_init(&b, 2 * SASL_MSG_MAX + 2 * SASL_USER_MAX);
	switch (need) {
	case SASL_NEED_PASS:
		type = IPC_SMTP_AUTH_PASS;
		r |= buf_append(&b, sasl->user, strlen(sasl->user) + 1);
		r |= buf_append(&b, sasl->pass, strlen(sasl->pass) + 1);
		r |= buf_append(&b, ip, strlen(ip) + 1);
		r |= buf_append(&b, sasl->mech == SASL_MECH_LOGIN ? "LOGIN" :
		    "PLAIN", 6);
		break;
	case SASL_NEED_CRAM:
		type = IPC_SMTP_AUTH_CRAM;
		r |= buf_append(&b, sasl->user, strlen(sasl->user) + 1);
		r |= buf_append(&b, sasl->challenge, strlen(sasl->challenge) + 1);
		r |= buf_append(&b, sasl->digest, strlen(sasl->digest) + 1);
		r |= buf_append(&b, ip, strlen(ip) + 1);
		break;
	default:
		type = need == SASL_NEED_SCRAM_FIRST ? IPC_SMTP_SCRAM_FIRST :
		    IPC_SMTP_SCRAM_FINAL;
		c->scram = need == SASL_NEED_SCRAM_FIRST;
		r |= buf_append(&b, ip, strlen(ip) + 1);
		r |= buf_append(&b, sasl->msg, sasl->msglen);
		break;
	}
	if (r != 0 || ipc_send(d.auth, type, c->id, b.data, b.len) == -1)
		smtp_session_auth_result(&c->s, SASL_V_TEMPFAIL, NULL, 0);
	if (b.data != NULL)
		explicit_bzero(b.data, b.cap);
	buf_free(&b);
}

static void
op_log(void *arg, const char *line)
{
	struct conn *c = arg;

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
};

/* ---- group commit ---- */

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn **batch, *c;
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
		if (c->bev == NULL)
			conn_free(c);	/* the client left while we committed */
		else
			conn_process(c);
	}
	free(ok);
	free(batch);
}

/* ---- connections ---- */

/* Waiting for one of our own processes rather than for the peer. Every
 * other state (greeting, command, DATA, AUTH continuation, the STARTTLS
 * or smtps handshake) waits for the client and runs on its clock. */
static int
own_wait(const struct conn *c)
{
	return c->s.wait == SMTP_WAIT_USER || c->s.wait == SMTP_WAIT_AUTH ||
	    c->s.wait == SMTP_WAIT_COMMIT;
}

/* The TLS layer is there but its handshake is not done (smtps before the
 * greeting, or after "220 Ready to start TLS"): nothing can be said to
 * the client, it can only be dropped. */
static int
tls_handshaking(const struct conn *c)
{
	SSL *ssl = c->bev != NULL ? bufferevent_openssl_get_ssl(c->bev) : NULL;

	return ssl != NULL && !SSL_is_init_finished(ssl);
}

/* RFC 5321 4.5.3.2 timeouts: in a command state the clock runs from our
 * last reply (a whole command must arrive within smtp_timeout, so one
 * byte a minute does not keep a session alive); in DATA from the last
 * content byte (data_timeout). Either is cut short by what is left of
 * max_session_time, which ends a client that dribbles just fast enough. */
static void
conn_timer_arm(struct conn *c)
{
	struct timeval tv = { 0, 0 };
	time_t left;

	tv.tv_sec = c->s.state == SMTP_STATE_DATA ? c->s.cfg->data_timeout :
	    c->s.cfg->smtp_timeout;
	left = c->started + (time_t)c->s.cfg->max_session_time - time(NULL);
	if (left < 1)	/* over: now, or soon while we wait ourselves */
		left = own_wait(c);
	if (left < tv.tv_sec)
		tv.tv_sec = left;
	event_add(c->timer, &tv);
}

static void
conn_flush(struct conn *c)
{
	if (c->bev == NULL)
		return;
	if (c->s.out.len > 0) {
		bufferevent_write(c->bev, c->s.out.data, c->s.out.len);
		buf_reset(&c->s.out);
	}
	if (c->s.close && !c->closing) {
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ);
		event_del(c->timer);
	}
	if (!c->closing)
		return;
	if (tls_bev_unsent(c->bev) == 0 || ++c->close_polls > 250) {
		conn_free(c);
	} else {
		/* Look again soon: a TLS filter's socket drains silently. */
		struct timeval tv = { 0, 20000 };
		event_add(c->timer, &tv);
	}
}

static void
conn_process(struct conn *c)
{
	struct evbuffer *in, *out;
	unsigned char *p;
	size_t avail, used;
	enum smtp_state state0 = c->s.state;
	int rearm = c->s.out.len > 0;	/* a reply restarts the command clock */

	if (c->bev == NULL)
		return;
	in = bufferevent_get_input(c->bev);
	out = bufferevent_get_output(c->bev);
	while (!c->closing && !c->s.close && c->s.wait == SMTP_WAIT_NONE &&
	    (avail = evbuffer_get_length(in)) > 0 &&
	    evbuffer_get_length(out) + c->s.out.len < SMTPD_OUT_PAUSE) {
		if (avail > SMTPD_FEED_CHUNK)
			avail = SMTPD_FEED_CHUNK;
		p = evbuffer_pullup(in, (ev_ssize_t)avail);
		/* Bytes beyond this chunk still count as "sent before our
		 * reply" for the session's DATA pipelining check. */
		c->s.more_input = evbuffer_get_length(in) - avail;
		c->s.now = time(NULL);
		used = smtp_session_feed(&c->s, (const char *)p, avail);
		if (used > 0)
			c->active = c->s.now;
		evbuffer_drain(in, used);
		if (c->s.out.len > 0 || (used > 0 &&
		    c->s.state == SMTP_STATE_DATA))
			rearm = 1;
		if (c->s.out.len > 0 && c->bev != NULL) {
			bufferevent_write(c->bev, c->s.out.data, c->s.out.len);
			buf_reset(&c->s.out);
		}
		if (used == 0)
			break;
	}
	if (c->bev != NULL && !c->s.close && (rearm || c->s.state != state0 ||
	    !event_pending(c->timer, EV_TIMEOUT, NULL)))
		conn_timer_arm(c);
	if (c->s.wait == SMTP_WAIT_TLS && c->bev != NULL &&
	    bufferevent_openssl_get_ssl(c->bev) == NULL) {
		conn_starttls(c);
		return;
	}
	conn_flush(c);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_process(arg);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->closing)
		conn_flush(c);
	else
		conn_process(c);	/* output drained: read again */
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		/* A TLS handshake finished (smtps, or after STARTTLS). */
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		char desc[64];

		if (ssl == NULL)
			return;
		tls_describe(ssl, desc, sizeof(desc));
		if (c->s.wait == SMTP_WAIT_TLS) {
			smtp_session_tls_started(&c->s, desc);
			conn_timer_arm(c);	/* the EHLO clock starts now */
			conn_process(c);
		} else {
			snprintf(c->s.tls_desc, sizeof(c->s.tls_desc), "%s", desc);
			log_info("session=%s tls %s", c->sid, desc);
		}
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if ((what & BEV_EVENT_ERROR) && bufferevent_openssl_get_ssl(bev))
			log_info("session=%s TLS error: %s", c->sid,
			    tls_error_text());
		conn_free(c);
	}
}

/* After "220 Ready to start TLS": whatever the client sent behind
 * STARTTLS in clear is thrown away unread (CVE-2011-0411), then the
 * handshake runs over the same socket. */
static void
conn_starttls(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct bufferevent *tls;
	size_t junk = evbuffer_get_length(in);
	SSL *ssl;

	if (junk > 0) {
		log_info("session=%s %zu bytes received behind STARTTLS "
		    "discarded", c->sid, junk);
		evbuffer_drain(in, junk);
	}
	if (c->s.out.len > 0) {
		bufferevent_write(c->bev, c->s.out.data, c->s.out.len);
		buf_reset(&c->s.out);
	}
	ssl = d.tls.ctx ? SSL_new(d.tls.ctx) : NULL;
	tls = ssl ? bufferevent_openssl_filter_new(d.base, c->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (tls == NULL) {
		if (ssl != NULL)
			SSL_free(ssl);
		conn_free(c);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	c->bev = tls;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, SMTPD_IN_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd; (void)what;
	if (c->closing) {
		conn_flush(c);	/* waiting for the output to drain */
		return;
	}
	if (own_wait(c)) {
		/* Our own answer is late, not the client: wait, but not
		 * forever. A commit in flight owns the message file and ends
		 * with the group fsync; it is never cut short. */
		if (c->s.wait == SMTP_WAIT_COMMIT || time(NULL) - c->own_since <
		    (time_t)c->s.cfg->smtp_timeout * SMTPD_OWN_WAIT_FACTOR) {
			conn_timer_arm(c);
			return;
		}
		log_info("session=%s no answer from auth within %us", c->sid,
		    c->s.cfg->smtp_timeout * SMTPD_OWN_WAIT_FACTOR);
		/* A late answer finds the slot gone and is dropped. */
		smtp_session_timeout(&c->s);
		conn_flush(c);
		return;
	}
	if (tls_handshaking(c)) {
		/* STARTTLS or smtps and then silence: the peer is late. */
		log_info("session=%s timeout in TLS handshake client=%s",
		    c->sid, c->s.client_text);
		conn_free(c);
		return;
	}
	if (time(NULL) - c->started >= (time_t)c->s.cfg->max_session_time)
		log_info("session=%s max_session_time (%us) reached in state %d",
		    c->sid, c->s.cfg->max_session_time, (int)c->s.state);
	else
		log_info("session=%s timeout in state %d", c->sid,
		    (int)c->s.state);
	smtp_session_timeout(&c->s);
	conn_flush(c);
}

static void
conn_free(struct conn *c)
{
	if (c->bev != NULL) {
		log_info("session=%s disconnect from %s messages=%u", c->sid,
		    c->s.client_text, c->messages);
		bufferevent_free(c->bev);
		c->bev = NULL;
		event_free(c->timer);
		c->timer = NULL;
		d.nconns--;
	}
	if (c->scram) {
		/* The client left mid-SCRAM: auth may forget the exchange. */
		ipc_send(d.auth, IPC_SMTP_SCRAM_ABORT, c->id, NULL, 0);
		c->scram = 0;
	}
	/* A commit in flight owns the file; commit_cb frees us afterwards. */
	if (c->committing)
		return;
	if (c->msg_fd != -1)
		op_message_abort(c);
	slots_remove(&d.conns, c->id);
	smtp_session_free(&c->s);
	buf_free(&c->wbuf);
	free(c);
}

/* The session limit of a listener kind: max_smtp_sessions (default
 * max_sessions - reserved_sessions: what strangers on the MX port may
 * fill), max_submission_sessions and max_smtps_sessions (default
 * max_sessions). */
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

static int
is_local_client(const struct netaddr *a)
{
	size_t i;

	for (i = 0; i < d.policy.n_local_networks; i++)
		if (cidr_match(&d.policy.local_networks[i], a))
			return 1;
	return 0;
}

/* Same client for max_sessions_per_client: the key login throttling
 * counts under (IPv4 address, IPv6 /64), one rule for both. */
static int
same_client(const struct netaddr *x, const struct netaddr *y)
{
	struct netaddr kx = throttle_key(x), ky = throttle_key(y);

	return netaddr_equal(&kx, &ky);
}

/* The session to close when the MX port or the whole pool is full: the
 * idlest stranger on an MX listener that is between commands (not in
 * DATA, not waiting for us, not authenticated). NULL if none. */
static struct conn *
conn_evictable(void)
{
	struct conn *best = NULL;
	size_t i;

	for (i = 0; i < d.conns.n; i++) {
		struct conn *o = d.conns.v[i];

		if (o == NULL || o->bev == NULL || o->closing || o->committing ||
		    o->kind != LISTEN_SMTP || o->local ||
		    o->s.client.auth_user != NULL || o->s.close ||
		    o->s.wait != SMTP_WAIT_NONE || o->s.state == SMTP_STATE_DATA ||
		    o->msg_fd != -1)
			continue;
		if (best == NULL || o->active < best->active)
			best = o;
	}
	return best;
}

/* Close o now to make room: one 421 written straight to the socket (a
 * TLS session gets none: it would need the TLS layer's flush), then
 * freed at once, so the count drops before the new client is admitted. */
static void
conn_evict(struct conn *o)
{
	char line[256];
	int len;

	log_info("session=%s evicted: idle for %llds, room needed for a new "
	    "client (client=%s)", o->sid, (long long)(time(NULL) - o->active),
	    o->s.client_text);
	if (bufferevent_openssl_get_ssl(o->bev) == NULL) {
		len = snprintf(line, sizeof(line), "421 4.7.0 %s Error: too many "
		    "connections; closing the idlest\r\n", d.rt->cfg->hostname);
		if (len > 0 && (size_t)len < sizeof(line))
			(void)send(bufferevent_getfd(o->bev), line, (size_t)len,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	conn_free(o);
}

/* Session limits: NULL, or the reason for the 421, with the count that
 * hit the limit in *n_r and the limit in *max_r.
 *  - max_sessions for all SMTP listeners together;
 *  - the listener kind's own limit (kind_limit), which local_networks
 *    clients do not count against: the room between the MX limit and
 *    max_sessions (reserved_sessions) is theirs and submission's;
 *  - max_sessions_per_client per address (IPv6: per /64), local_networks
 *    exempt.
 * When the MX listener or the pool is full, the idlest stranger on an MX
 * listener is closed to make room rather than refusing forever (a flood
 * of idle strangers cannot lock newcomers out). Linear in the number of
 * sessions, which max_sessions bounds. */
static const char *
conn_limit(const struct netaddr *a, int kind, int local, unsigned *n_r,
    unsigned *max_r)
{
	const struct config *cfg = d.rt->cfg;
	struct conn *victim;
	size_t i;
	unsigned n = 0, nkind = 0;

	for (i = 0; i < d.conns.n; i++) {
		const struct conn *o = d.conns.v[i];

		if (o == NULL || o->bev == NULL)
			continue;
		if (o->kind == kind && !o->local)
			nkind++;
		if (same_client(&o->s.client.addr, a))
			n++;
	}
	if (!local && n >= cfg->max_sessions_per_client) {
		*n_r = n;
		*max_r = cfg->max_sessions_per_client;
		return "too many connections from your address";
	}
	if (!local && nkind >= kind_limit(kind)) {
		if (kind != LISTEN_SMTP || (victim = conn_evictable()) == NULL) {
			*n_r = nkind;
			*max_r = kind_limit(kind);
			return "too many connections on this port";
		}
		conn_evict(victim);
	}
	if (d.nconns >= cfg->max_sessions) {
		if ((victim = conn_evictable()) == NULL) {
			*n_r = d.nconns;
			*max_r = cfg->max_sessions;
			return "too many connections";
		}
		conn_evict(victim);
	}
	return NULL;
}

/* Over a limit: one 421 line (not on smtps, where the client expects a
 * TLS handshake) and close, before anything is allocated for the client. */
static void
conn_reject(evutil_socket_t fd, int kind, const char *ip, unsigned port,
    const char *why, unsigned n, unsigned max)
{
	char line[512];
	int len;

	log_info("connect from [%s]:%u rejected: %s (%u, limit %u)", ip, port,
	    why, n, max);
	if (kind != LISTEN_SMTPS) {
		len = snprintf(line, sizeof(line), "421 4.7.0 %s Error: %s\r\n",
		    d.rt->cfg->hostname, why);
		if (len > 0 && (size_t)len < sizeof(line))
			(void)send(fd, line, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	close(fd);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct sockaddr_storage local;
	socklen_t locallen = sizeof(local);
	struct relay_client client;
	struct rules_match rm;
	struct conn *c;
	char ip[INET6_ADDRSTRLEN], lip[INET6_ADDRSTRLEN];
	const char *deny = NULL, *over;
	unsigned port = 0, n, max;
	int kind = *(const int *)arg;
	SSL *ssl = NULL;

	(void)l; (void)salen;
	memset(&client, 0, sizeof(client));
	if (netaddr_from_sockaddr(sa, &client.addr) == -1) {
		close(fd);
		return;
	}
	if (getsockname(fd, (struct sockaddr *)&local, &locallen) == 0)
		netaddr_from_sockaddr((struct sockaddr *)&local, &client.local_addr);
	if (sa->sa_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
	if ((over = conn_limit(&client.addr, kind, is_local_client(&client.addr),
	    &n, &max)) != NULL) {
		netaddr_format(&client.addr, ip, sizeof(ip));
		conn_reject(fd, kind, ip, port, over, n, max);
		return;
	}

	/* Implicit TLS (RFC 8314, smtps): the greeting already goes
	 * through TLS. */
	if (kind == LISTEN_SMTPS &&
	    (d.tls.ctx == NULL || (ssl = SSL_new(d.tls.ctx)) == NULL)) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->msg_fd = -1;
	c->started = c->active = time(NULL);
	c->kind = kind;
	c->local = is_local_client(&client.addr);
	buf_init(&c->wbuf, SMTPD_WRITE_CHUNK * 2);
	c->id = slots_add(&d.conns, c);
	/* Unique per process lifetime (slots are reused, the counter is not),
	 * and across restarts by the time prefix. */
	snprintf(c->sid, sizeof(c->sid), "%08X%06X", (unsigned)time(NULL),
	    (unsigned)(++d.sessions & 0xffffff));
	c->bev = ssl != NULL ? bufferevent_openssl_socket_new(d.base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE) :
	    bufferevent_socket_new(d.base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(d.base, conn_timeout_cb, c);
	if (c->bev == NULL || c->timer == NULL)
		fatal("out of memory");
	d.nconns++;
	smtp_session_init(&c->s, d.rt->cfg, &d.policy, &client, &ops, c);
	c->s.grants = &d.grants;
	c->s.tls_available = d.tls.ctx != NULL;
	c->s.tls_active = kind == LISTEN_SMTPS;
	c->s.submission = kind == LISTEN_SUBMISSION || kind == LISTEN_SMTPS;
	if (c->s.submission &&
	    getrandom(c->s.random, sizeof(c->s.random), 0) != (ssize_t)sizeof(c->s.random))
		fatal("getrandom: %s", strerror(errno));
	if (ssl != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	netaddr_format(&client.addr, ip, sizeof(ip));
	netaddr_format(&client.local_addr, lip, sizeof(lip));
	log_info("session=%s connect from [%s]:%u to [%s]", c->sid, ip, port, lip);
	if (d.rt->cfg->rules != NULL) {
		rules_lookup(d.rt->cfg->rules, &client.addr, &rm);
		if (rm.action == RULES_DENY) {
			deny = "Access denied";
			log_info("session=%s denied by relay_rules line %u (%s)",
			    c->sid, rm.line, rm.text);
		}
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, SMTPD_IN_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->s.now = time(NULL);
	smtp_session_start(&c->s, deny);
	conn_process(c);
}

/* ---- the auth process ---- */

static void
auth_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	struct conn *c;
	unsigned char r;

	(void)ipc; (void)arg;
	if (type == IPC_SMTP_AUTH_REPLY && len >= 1) {
		const unsigned char *p = data;

		if ((c = slots_get(&d.conns, id)) == NULL ||
		    c->s.wait != SMTP_WAIT_AUTH)
			return;
		c->scram = c->scram && p[0] == SASL_V_OK &&
		    c->s.sasl.step == SASL_STEP_WAIT_AUTH &&
		    c->s.sasl.waiting == SASL_NEED_SCRAM_FIRST;
		smtp_session_auth_result(&c->s, p[0] <= SASL_V_TEMPFAIL ?
		    (enum sasl_verdict)p[0] : SASL_V_TEMPFAIL,
		    (const char *)p + 1, len - 1);
		conn_process(c);
		return;
	}
	if (type == IPC_GRANTS) {
		/* The whole POP-before-SMTP table; sessions point at it. */
		grants_parse(&d.grants, data, len);
		d.have_grants = 1;
		listeners_enable();
		return;
	}
	if (type != IPC_USER_LOOKUP_REPLY || len != 1)
		fatal("auth sent an unexpected message (type %u, %zu bytes)",
		    type, len);
	if ((c = slots_get(&d.conns, id)) == NULL || c->s.wait != SMTP_WAIT_USER)
		return;		/* the session is gone */
	r = *(const unsigned char *)data;
	smtp_session_user_result(&c->s, r == SMTP_USER_FOUND ? SMTP_USER_FOUND :
	    r == SMTP_USER_UNKNOWN ? SMTP_USER_UNKNOWN : SMTP_USER_TEMPFAIL);
	conn_process(c);
}

static void
master_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)ipc; (void)id; (void)arg;
	if (tls_server_ipc(&d.tls, type, data, len) == 1) {
		d.have_tls = 1;
		listeners_enable();
	}
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = { 0, 300000 };
	size_t i;

	(void)sig; (void)what; (void)arg;
	for (i = 0; i < d.nlisteners; i++)
		evconnlistener_disable(d.listeners[i]);
	for (i = 0; i < d.conns.n; i++) {
		struct conn *c = d.conns.v[i];
		if (c != NULL && c->bev != NULL && !c->committing) {
			smtp_session_shutdown(&c->s);
			conn_flush(c);
		}
	}
	event_base_loopexit(d.base, &tv);
}

static void
listeners_enable(void)
{
	size_t i;

	/* The first client waits for what its session needs: the grants
	 * table from auth (auth sends it once its own tables are loaded, so
	 * a restarted server relays for yesterday's grants from the first
	 * RCPT on) and, with TLS configured, the certificate (no session may
	 * miss STARTTLS). */
	if (d.listening || !d.have_grants || (!d.have_tls && d.rt->cfg->tls_cert))
		return;
	d.listening = 1;
	d.nlisteners = d.rt->n_smtp_fds;
	d.listeners = xcalloc(d.nlisteners, sizeof(*d.listeners));
	for (i = 0; i < d.nlisteners; i++) {
		d.listeners[i] = evconnlistener_new(d.base, accept_cb, &d.kinds[i],
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
		    d.rt->smtp_fds[i]);
		if (d.listeners[i] == NULL)
			fatal("evconnlistener_new failed");
	}
	log_info("ready");
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

void
smtpd_main(struct runtime *rt, int auth_fd)
{
	struct event *sig;
	size_t i;

	d.rt = rt;
	d.id_salt = (uint32_t)getpid() << 8;
	d.policy.local_domains = rt->cfg->local_domains;
	d.policy.n_local_domains = rt->cfg->n_local_domains;
	d.policy.local_networks = rt->cfg->local_networks;
	d.policy.n_local_networks = rt->cfg->n_local_networks;
	d.policy.rules = rt->cfg->rules;
	close(rt->mail_fd);
	close(rt->spool_fd);
	if (rt->maildrop_fd != -1)
		close(rt->maildrop_fd);
	for (i = 0; i < rt->n_pop3_fds; i++)
		close(rt->pop3_fds[i]);
	proc_drop(rt);
	/* OpenSSL reads its configuration once, before the file system
	 * closes: after this, smtpd reaches incoming/ and queue/ only. */
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
	{
		const int fds[] = { rt->incoming_fd, rt->queue_fd };
		const unsigned rights[] = { PROC_FS_READ | PROC_FS_WRITE,
		    PROC_FS_READ | PROC_FS_WRITE };
		proc_landlock(fds, rights, 2);
	}
	limits_check(rt->cfg);

	d.base = event_base_new();
	if (d.base == NULL || event_base_priority_init(d.base, 2) == -1)
		fatal("event_base_new failed");
	d.commit_ev = event_new(d.base, -1, 0, commit_cb, NULL);
	event_priority_set(d.commit_ev, 1);
	d.auth = ipc_new(d.base, auth_fd, auth_msg_cb, proc_peer_gone, NULL);
	sig = evsignal_new(d.base, SIGTERM, sigterm_cb, NULL);
	evsignal_add(sig, NULL);
	d.master = ipc_new(d.base, rt->master_fd, master_msg_cb, proc_peer_gone,
	    NULL);
	d.kinds = rt->smtp_kinds;
	event_base_dispatch(d.base);
	exit(0);
}
