/* pop3d - the POP3 process: accepts connections on the POP3 listeners,
 *         runs one pop3_session per connection, asks the auth process to
 *         check credentials, and serves Maildirs from spool/mail.
 * Trusts: nothing from the network (the session parses it); the auth
 *         process's answers; its spool/mail directory descriptor.
 * Gives:  one session per mailbox at a time (a second gets -ERR [IN-USE]);
 *         the lock is released when the connection ends, whatever the way.
 * Never:  reads the users or secrets files, or runs as root. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "mailbox.h"
#include "maildir.h"
#include "netaddr.h"
#include "pop3_session.h"
#include "proc.h"
#include "slots.h"
#include "tls.h"

#define POP3D_TIMEOUT		600	/* RFC 1939: at least 10 minutes */
#define POP3D_MAX_MESSAGES	100000	/* per snapshot */
#define POP3D_FEED_CHUNK	4096
#define POP3D_IN_MAX		16384	/* unprocessed input before reads stop */

struct pconn {
	uint64_t	id;
	char		sid[24];
	char		ip[64];
	struct bufferevent *bev;
	struct event	*timer;
	struct pop3_session s;
	struct mailbox	mb;
	int		mb_open;
	char		locked[POP3_USER_MAX + 1];	/* "" when no lock held */
	int		msg_fd;
	int		closing;
	unsigned	close_polls;	/* drain checks while closing */
	struct netaddr	addr;		/* the client, for max_pop3_sessions_per_client */
	time_t		started;	/* max_session_time counts from here */
};

static struct pop3d {
	struct event_base *base;
	struct runtime	*rt;
	struct ipc	*auth;
	struct evconnlistener **listeners;
	size_t		nlisteners;
	struct slots	conns;
	struct pop3_settings set;
	unsigned	sessions;
	struct ipc	*master;
	struct tls_server tls;
	int		listening;
} p;

static void pconn_process(struct pconn *c);
static void pconn_free(struct pconn *c);
static void pconn_stls(struct pconn *c);
static void pconn_read_cb(struct bufferevent *, void *);
static void pconn_write_cb(struct bufferevent *, void *);
static void pconn_event_cb(struct bufferevent *, short, void *);

/* ---- mailbox locks: one session per user ---- */

static int
user_locked(const char *user)
{
	size_t i;

	for (i = 0; i < p.conns.n; i++) {
		struct pconn *o = p.conns.v[i];
		if (o != NULL && strcmp(o->locked, user) == 0)
			return 1;
	}
	return 0;
}

/* ---- the session's requests ---- */

static void
op_check_password(void *arg, const char *user, const char *pass)
{
	struct pconn *c = arg;
	struct buf b;

	buf_init(&b, 2048);
	if (buf_append(&b, user, strlen(user) + 1) == -1 ||
	    buf_append(&b, pass, strlen(pass) + 1) == -1 ||
	    buf_append(&b, c->ip, strlen(c->ip) + 1) == -1 ||
	    ipc_send(p.auth, IPC_POP3_PASS, c->id, b.data, b.len) == -1)
		pop3_session_auth_result(&c->s, POP3_TEMPFAIL);
	if (b.data != NULL)
		explicit_bzero(b.data, b.cap);
	buf_free(&b);
}

static void
op_check_apop(void *arg, const char *user, const char *ts, const char *digest)
{
	struct pconn *c = arg;
	struct buf b;

	buf_init(&b, 2048);
	if (buf_append(&b, user, strlen(user) + 1) == -1 ||
	    buf_append(&b, ts, strlen(ts) + 1) == -1 ||
	    buf_append(&b, digest, strlen(digest) + 1) == -1 ||
	    buf_append(&b, c->ip, strlen(c->ip) + 1) == -1 ||
	    ipc_send(p.auth, IPC_POP3_APOP, c->id, b.data, b.len) == -1)
		pop3_session_auth_result(&c->s, POP3_TEMPFAIL);
	buf_free(&b);
}

static void
op_open_mailbox(void *arg, const char *user)
{
	struct pconn *c = arg;
	char path[128];
	int fd;

	if (user_locked(user)) {
		pop3_session_mailbox_result(&c->s, POP3_IN_USE, NULL);
		return;
	}
	if (xsnprintf(path, sizeof(path), "%s/Maildir", user) == -1) {
		pop3_session_mailbox_result(&c->s, POP3_PERMFAIL, NULL);
		return;
	}
	/* A user who never got mail has an empty mailbox, not an error. */
	fd = openat(p.rt->mail_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT && maildir_create(p.rt->mail_fd, user) == 0)
		fd = openat(p.rt->mail_fd, path, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || mailbox_open(&c->mb, fd, POP3D_MAX_MESSAGES) == -1) {
		log_warn("session=%s mailbox %s: %s", c->sid, user, strerror(errno));
		pop3_session_mailbox_result(&c->s, POP3_TEMPFAIL, NULL);
		return;
	}
	c->mb_open = 1;
	snprintf(c->locked, sizeof(c->locked), "%s", user);
	pop3_session_mailbox_result(&c->s, POP3_OK, &c->mb);
}

static int
op_msg_open(void *arg, const struct mailbox *mb, size_t index)
{
	struct pconn *c = arg;

	c->msg_fd = mailbox_msg_open(mb, index);
	return c->msg_fd == -1 ? -1 : 0;
}

static ssize_t
op_msg_read(void *arg, char *buf, size_t len)
{
	struct pconn *c = arg;

	return mailbox_fd_read(&c->msg_fd, buf, len);
}

static void
op_msg_close(void *arg)
{
	struct pconn *c = arg;

	if (c->msg_fd != -1)
		close(c->msg_fd);
	c->msg_fd = -1;
}

static int
op_update(void *arg, struct mailbox *mb)
{
	struct pconn *c = arg;
	size_t removed = 0;
	int r;

	r = mailbox_commit(mb, &removed);
	log_info("session=%s user=%s deleted=%zu%s", c->sid, c->locked, removed,
	    r == -1 ? " (some could not be removed)" : "");
	return r;
}

static void
op_log(void *arg, const char *line)
{
	struct pconn *c = arg;

	log_info("session=%s %s", c->sid, line);
}

static const struct pop3_session_ops ops = {
	.check_password = op_check_password,
	.check_apop = op_check_apop,
	.open_mailbox = op_open_mailbox,
	.msg_open = op_msg_open,
	.msg_read = op_msg_read,
	.msg_close = op_msg_close,
	.update = op_update,
	.log = op_log,
};

/* ---- connections ---- */

static void
pconn_flush(struct pconn *c)
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
		pconn_free(c);
	} else {
		/* Look again soon: a TLS filter's socket drains silently. */
		struct timeval tv = { 0, 20000 };
		event_add(c->timer, &tv);
	}
}

/* The clock runs from our last output (a command must arrive within
 * POP3D_TIMEOUT of the previous reply: dribbling bytes does not reset it),
 * and never past max_session_time. */
static void
pconn_timer_arm(struct pconn *c)
{
	struct timeval tv = { POP3D_TIMEOUT, 0 };
	time_t left;

	left = c->started + (time_t)p.rt->cfg->max_session_time - time(NULL);
	if (left < 0)
		left = 0;
	if (left < tv.tv_sec)
		tv.tv_sec = left;
	event_add(c->timer, &tv);
}

static void
pconn_process(struct pconn *c)
{
	struct evbuffer *in, *out;
	unsigned char *d;
	size_t avail, used, out0;
	int rearm = c->s.out.len > 0;

	if (c->bev == NULL)
		return;
	in = bufferevent_get_input(c->bev);
	out = bufferevent_get_output(c->bev);
	out0 = evbuffer_get_length(out);
	while (!c->closing && !c->s.close) {
		if (c->s.out.len > 0) {
			rearm = 1;
			bufferevent_write(c->bev, c->s.out.data, c->s.out.len);
			buf_reset(&c->s.out);
		}
		/* A client that does not read is not fed more. */
		if (evbuffer_get_length(out) >= POP3_OUT_HIGHWATER)
			break;
		if (c->s.stream != POP3_STREAM_NONE) {
			size_t before = evbuffer_get_length(out);
			if (pop3_session_pump(&c->s) == 1 && c->s.out.len == 0 &&
			    evbuffer_get_length(out) == before)
				break;
			continue;
		}
		if ((avail = evbuffer_get_length(in)) == 0)
			break;
		if (avail > POP3D_FEED_CHUNK)
			avail = POP3D_FEED_CHUNK;
		d = evbuffer_pullup(in, (ev_ssize_t)avail);
		used = pop3_session_feed(&c->s, (const char *)d, avail);
		evbuffer_drain(in, used);
		if (used == 0 && c->s.out.len == 0)
			break;
	}
	if (evbuffer_get_length(out) > out0)
		rearm = 1;
	if (!c->s.close && (rearm || !event_pending(c->timer, EV_TIMEOUT, NULL)))
		pconn_timer_arm(c);
	if (c->s.state == POP3_STATE_TLS_WAIT &&
	    bufferevent_openssl_get_ssl(c->bev) == NULL) {
		if (c->s.out.len > 0) {
			bufferevent_write(c->bev, c->s.out.data, c->s.out.len);
			buf_reset(&c->s.out);
		}
		pconn_stls(c);
		return;
	}
	pconn_flush(c);
}

static void
pconn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	pconn_process(arg);
}

static void
pconn_write_cb(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;

	(void)bev;
	if (c->closing)
		pconn_flush(c);
	else
		pconn_process(c);
}

static void
pconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct pconn *c = arg;
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	char desc[64];

	if (what & BEV_EVENT_CONNECTED) {
		if (ssl == NULL)
			return;
		log_info("session=%s tls %s", c->sid,
		    tls_describe(ssl, desc, sizeof(desc)));
		if (c->s.state == POP3_STATE_TLS_WAIT) {
			pop3_session_tls_started(&c->s);
			pconn_timer_arm(c);	/* the next command's clock */
			pconn_process(c);
		}
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if ((what & BEV_EVENT_ERROR) && ssl != NULL)
			log_info("session=%s TLS error: %s", c->sid,
			    tls_error_text());
		pconn_free(c);
	}
}

/* After "+OK Begin TLS negotiation": what the client sent behind STLS in
 * clear is thrown away unread, then the handshake. */
static void
pconn_stls(struct pconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct bufferevent *tls;
	size_t junk = evbuffer_get_length(in);
	SSL *ssl;

	if (junk > 0) {
		log_info("session=%s %zu bytes received behind STLS discarded",
		    c->sid, junk);
		evbuffer_drain(in, junk);
	}
	ssl = p.tls.ctx ? SSL_new(p.tls.ctx) : NULL;
	tls = ssl ? bufferevent_openssl_filter_new(p.base, c->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (tls == NULL) {
		if (ssl != NULL)
			SSL_free(ssl);
		pconn_free(c);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	c->bev = tls;
	bufferevent_setcb(c->bev, pconn_read_cb, pconn_write_cb, pconn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, POP3D_IN_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
pconn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pconn *c = arg;
	SSL *ssl;

	(void)fd; (void)what;
	if (c->closing) {
		pconn_flush(c);	/* waiting for the output to drain */
		return;
	}
	if ((ssl = bufferevent_openssl_get_ssl(c->bev)) != NULL &&
	    !SSL_is_init_finished(ssl)) {
		/* STLS or pop3s and then silence: there is no channel to say
		 * "-ERR" on, only the socket to drop. Every state runs on this
		 * clock, the handshake and the auth wait included. */
		log_info("session=%s timeout in TLS handshake", c->sid);
		pconn_free(c);
		return;
	}
	if (time(NULL) - c->started >= (time_t)p.rt->cfg->max_session_time)
		log_info("session=%s max_session_time (%us) reached", c->sid,
		    p.rt->cfg->max_session_time);
	else
		log_info("session=%s timeout", c->sid);
	pop3_session_timeout(&c->s);	/* sets s.close, mid-response too */
	pconn_flush(c);
}

static void
pconn_free(struct pconn *c)
{
	log_info("session=%s disconnect from [%s]", c->sid, c->ip);
	pop3_session_free(&c->s);	/* closes an open message */
	if (c->mb_open)
		mailbox_free(&c->mb);	/* deletes nothing: only QUIT does */
	c->locked[0] = '\0';
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->timer != NULL)
		event_free(c->timer);
	slots_remove(&p.conns, c->id);
	free(c);
}

/* max_pop3_sessions, max_pop3_sessions_per_client (local_networks
 * exempt from the second): NULL, or why the client is turned away, with
 * the count in *n_r and the limit in *max_r. */
static const char *
pconn_limit(const struct netaddr *a, unsigned *n_r, unsigned *max_r)
{
	const struct config *cfg = p.rt->cfg;
	unsigned total = 0, n = 0;
	size_t i;

	for (i = 0; i < p.conns.n; i++) {
		const struct pconn *o = p.conns.v[i];

		if (o == NULL)
			continue;
		total++;
		if (netaddr_equal(&o->addr, a))
			n++;
	}
	*n_r = total;
	*max_r = cfg->max_pop3_sessions;
	if (total >= cfg->max_pop3_sessions)
		return "total";
	for (i = 0; i < cfg->n_local_networks; i++)
		if (cidr_match(&cfg->local_networks[i], a))
			return NULL;
	*n_r = n;
	*max_r = cfg->max_pop3_sessions_per_client;
	return n >= cfg->max_pop3_sessions_per_client ? "per client" : NULL;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	unsigned char rnd[APOP_RANDOM_BYTES];
	struct netaddr addr;
	struct pconn *c;
	char text[80];
	const char *over;
	unsigned n, max;

	int kind = *(const int *)arg;
	SSL *ssl = NULL;

	(void)l; (void)salen;
	if (netaddr_from_sockaddr(sa, &addr) == 0 &&
	    (over = pconn_limit(&addr, &n, &max)) != NULL) {
		static const char msg[] = "-ERR [SYS/TEMP] too many connections\r\n";

		netaddr_format(&addr, text, sizeof(text));
		log_info("connect from [%s] rejected: too many connections "
		    "(%s: %u, limit %u)", text, over, n, max);
		/* Not on pop3s, where the client expects a TLS handshake. */
		if (kind != LISTEN_POP3S)
			(void)send(fd, msg, sizeof(msg) - 1,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	if (netaddr_from_sockaddr(sa, &addr) == -1 ||
	    getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) ||
	    (kind == LISTEN_POP3S && (p.tls.ctx == NULL ||
	    (ssl = SSL_new(p.tls.ctx)) == NULL))) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->msg_fd = -1;
	c->addr = addr;
	c->started = time(NULL);
	c->id = slots_add(&p.conns, c);
	snprintf(c->sid, sizeof(c->sid), "P%08X%06X", (unsigned)time(NULL),
	    (unsigned)(++p.sessions & 0xffffff));
	netaddr_format(&addr, c->ip, sizeof(c->ip));
	snprintf(text, sizeof(text), "[%s]", c->ip);
	/* pop3s (995): implicit TLS, the greeting already encrypted. */
	c->bev = ssl ? bufferevent_openssl_socket_new(p.base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE) :
	    bufferevent_socket_new(p.base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(p.base, pconn_timeout_cb, c);
	if (c->bev == NULL || c->timer == NULL)
		fatal("out of memory");
	log_info("session=%s connect from %s", c->sid, text);
	pop3_session_init(&c->s, &p.set, text, &ops, c);
	c->s.tls_available = p.tls.ctx != NULL;
	c->s.tls_active = ssl != NULL;
	if (ssl != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, pconn_read_cb, pconn_write_cb, pconn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, POP3D_IN_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	pop3_session_start(&c->s, rnd, sizeof(rnd), (long long)getpid(),
	    (long long)time(NULL));
	explicit_bzero(rnd, sizeof(rnd));
	pconn_process(c);
}

static void
auth_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	struct pconn *c;
	unsigned char r;

	(void)ipc; (void)arg;
	if (type != IPC_POP3_AUTH_REPLY || len != 1)
		fatal("auth sent an unexpected message (type %u, %zu bytes)",
		    type, len);
	if ((c = slots_get(&p.conns, id)) == NULL ||
	    c->s.state != POP3_STATE_AUTH_WAIT)
		return;
	r = *(const unsigned char *)data;
	pop3_session_auth_result(&c->s, r <= POP3_IN_USE ? (enum pop3_result)r :
	    POP3_TEMPFAIL);
	pconn_process(c);
}

static void listeners_enable(void);

static void
master_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)ipc; (void)id; (void)arg;
	if (tls_server_ipc(&p.tls, type, data, len) == 1)
		listeners_enable();
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = { 0, 300000 };
	size_t i;

	(void)sig; (void)what; (void)arg;
	for (i = 0; i < p.nlisteners; i++)
		evconnlistener_disable(p.listeners[i]);
	for (i = 0; i < p.conns.n; i++) {
		struct pconn *c = p.conns.v[i];
		if (c != NULL) {
			pop3_session_shutdown(&c->s);
			pconn_flush(c);
		}
	}
	event_base_loopexit(p.base, &tv);
}

static void
listeners_enable(void)
{
	size_t i;

	if (p.listening)
		return;
	p.listening = 1;
	p.nlisteners = p.rt->n_pop3_fds;
	p.listeners = xcalloc(p.nlisteners, sizeof(*p.listeners));
	for (i = 0; i < p.nlisteners; i++) {
		p.listeners[i] = evconnlistener_new(p.base, accept_cb,
		    &p.rt->pop3_kinds[i],
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
		    p.rt->pop3_fds[i]);
		if (p.listeners[i] == NULL)
			fatal("evconnlistener_new failed");
	}
	log_info("ready");
}

void
pop3d_main(struct runtime *rt, int auth_fd)
{
	struct event *sig;
	size_t i;

	p.rt = rt;
	p.set.hostname = rt->cfg->hostname;
	p.set.auth = rt->cfg->pop3_auth == CONFIG_POP3_AUTH_APOP_ONLY ?
	    POP3_AUTH_APOP_ONLY : rt->cfg->pop3_auth == CONFIG_POP3_AUTH_TLS_ONLY ?
	    POP3_AUTH_TLS_ONLY : POP3_AUTH_ANY;
	close(rt->incoming_fd);
	close(rt->queue_fd);
	close(rt->spool_fd);
	for (i = 0; i < rt->n_smtp_fds; i++)
		close(rt->smtp_fds[i]);
	if (rt->maildrop_fd != -1)
		close(rt->maildrop_fd);
	proc_drop(rt);
	/* After this, pop3d reaches spool/mail only. */
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
	{
		const unsigned rights = PROC_FS_READ | PROC_FS_WRITE | PROC_FS_MKDIR;
		proc_landlock(&rt->mail_fd, &rights, 1);
	}
	p.base = event_base_new();
	if (p.base == NULL)
		fatal("event_base_new failed");
	p.auth = ipc_new(p.base, auth_fd, auth_msg_cb, proc_peer_gone, NULL);
	sig = evsignal_new(p.base, SIGTERM, sigterm_cb, NULL);
	evsignal_add(sig, NULL);
	p.master = ipc_new(p.base, rt->master_fd, master_msg_cb, proc_peer_gone,
	    NULL);
	/* With TLS configured, no client before the certificate is here. */
	if (rt->cfg->tls_cert == NULL)
		listeners_enable();
	event_base_dispatch(p.base);
	exit(0);
}
