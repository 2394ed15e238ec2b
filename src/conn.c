/* conn - the connection layer of every protocol server; see conn.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "log.h"
#include "relay.h"
#include "slots.h"
#include "throttle.h"
#include "tls.h"

/* A closing connection looks at its unsent output this often, this many
 * times at most, before it is dropped anyway. */
#define CONN_DRAIN_POLL_USEC	20000
#define CONN_DRAIN_POLLS	250
/* SIGTERM: sessions get this long to say goodbye. */
#define CONN_SHUTDOWN_USEC	300000

/* ---- the layer ---- */

struct conn_listener {
	struct conn_server *srv;
	struct conn_listen spec;
	struct evconnlistener *ev;
};

struct conn {
	struct conn_server *srv;
	const struct conn_listener *l;
	uint64_t	id;		/* slot | generation << 32 */
	char		sid[24];
	char		ip[INET6_ADDRSTRLEN];
	unsigned	port;
	struct netaddr	addr, local_addr;
	struct netaddr	key;		/* counting key for the per-client limit */
	int		local;		/* client in local_networks */
	struct bufferevent *bev;
	struct event	*timer;
	void		*p;		/* the protocol's session */
	uint64_t	started_ms;	/* max_session_time counts from here
					 * (monotonic, milliseconds) */
	time_t		active;		/* last input used: the idlest goes first */
	int		closing;	/* close once the output is flushed */
	unsigned	close_polls;
	int		rearm;		/* restart the clock at the end of this round */
};

struct conn_server {
	struct event_base *base;
	struct conn_config cfg;
	struct conn_listener *listeners;
	size_t		nlisteners;
	struct slots	conns;
	struct tls_server tls;
	unsigned	gates;		/* still closed */
	int		listening;
	unsigned	sessions;	/* accepted so far, for session ids */
	struct conn_snapshot *snaps;	/* scratch for the limit checks */
	struct conn	**snapconn;
	size_t		snapcap;
};

static void conn_free(struct conn *c);
static void conn_flush(struct conn *c);
static void conn_upgrade(struct conn *c);

static SSL *
conn_ssl(const struct conn *c)
{
	return bufferevent_openssl_get_ssl(c->bev);
}

/* The TLS layer is there but its handshake is not done: nothing can be
 * said to the client, it can only be dropped. */
static int
tls_handshaking(const struct conn *c)
{
	SSL *ssl = conn_ssl(c);

	return ssl != NULL && !SSL_is_init_finished(ssl);
}

static uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
conn_timer_arm(struct conn *c)
{
	const struct conn_ops *ops = c->srv->cfg.ops;
	struct timeval tv = { 0, 0 };
	uint64_t ms;

	ms = conn_clock(ops->idle_seconds(c->p), c->started_ms,
	    c->srv->cfg.max_session_time, monotonic_ms(),
	    ops->phase(c->p) == CONN_PHASE_US);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	event_add(c->timer, &tv);
}

/* The session's replies into the bufferevent; 1 if there were any. */
static int
conn_send_output(struct conn *c)
{
	struct buf *out = c->srv->cfg.ops->output(c->p);

	if (out->len == 0)
		return 0;
	bufferevent_write(c->bev, out->data, out->len);
	buf_reset(out);
	return 1;
}

static void
conn_flush(struct conn *c)
{
	conn_send_output(c);
	if (!c->closing && c->srv->cfg.ops->phase(c->p) == CONN_PHASE_CLOSE) {
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ);
		event_del(c->timer);
	}
	if (!c->closing)
		return;
	if (tls_bev_unsent(c->bev) == 0 || ++c->close_polls > CONN_DRAIN_POLLS) {
		conn_free(c);
	} else {
		/* Look again soon: a TLS filter's socket drains silently. */
		struct timeval tv = { 0, CONN_DRAIN_POLL_USEC };
		event_add(c->timer, &tv);
	}
}

void
conn_clock_restart(struct conn *c)
{
	c->rearm = 1;
}

void
conn_process(struct conn *c)
{
	const struct conn_ops *ops = c->srv->cfg.ops;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	enum conn_phase ph;
	unsigned char *data;
	size_t avail, used;

	while (!c->closing && (ph = ops->phase(c->p)) != CONN_PHASE_CLOSE) {
		if (conn_send_output(c))
			c->rearm = 1;	/* a reply restarts the clock */
		/* A client that does not read is not fed more. */
		if (evbuffer_get_length(out) >= c->srv->cfg.out_pause ||
		    ph != CONN_PHASE_PEER)
			break;
		if (ops->pump != NULL) {
			enum conn_pump r = ops->pump(c->p);

			if (r == CONN_PUMP_MORE && ops->output(c->p)->len == 0)
				break;
			if (r != CONN_PUMP_IDLE)
				continue;
		}
		if ((avail = evbuffer_get_length(in)) == 0)
			break;
		if (avail > c->srv->cfg.feed_chunk)
			avail = c->srv->cfg.feed_chunk;
		data = evbuffer_pullup(in, (ev_ssize_t)avail);
		/* Bytes beyond this chunk still count as "sent before our
		 * reply" (a protocol's pipelining checks). */
		used = ops->feed(c, c->p, (const char *)data, avail,
		    evbuffer_get_length(in) - avail);
		if (used > 0)
			c->active = time(NULL);
		evbuffer_drain(in, used);
		if (used == 0 && ops->output(c->p)->len == 0)
			break;
	}
	ph = ops->phase(c->p);
	if (!c->closing && ph != CONN_PHASE_CLOSE &&
	    (c->rearm || !event_pending(c->timer, EV_TIMEOUT, NULL)))
		conn_timer_arm(c);
	c->rearm = 0;
	if (!c->closing && ph == CONN_PHASE_TLS && conn_ssl(c) == NULL) {
		conn_upgrade(c);
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
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	if (what & BEV_EVENT_CONNECTED) {
		/* A TLS handshake finished (implicit TLS, or an upgrade). */
		const struct conn_ops *ops = c->srv->cfg.ops;
		char desc[64];
		int upgraded;

		if (ssl == NULL)
			return;
		tls_describe(ssl, desc, sizeof(desc));
		upgraded = ops->phase(c->p) == CONN_PHASE_TLS;
		ops->tls_started(c, c->p, desc, upgraded);
		if (upgraded) {
			conn_timer_arm(c);	/* the next command's clock */
			conn_process(c);
		}
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if ((what & BEV_EVENT_ERROR) && ssl != NULL)
			log_info("session=%s TLS error: %s", c->sid,
			    tls_error_text());
		conn_free(c);
	}
}

/* After the protocol's "go ahead" to a TLS upgrade: whatever the client
 * sent behind the command in clear is thrown away unread (CVE-2011-0411),
 * then the handshake runs over the same socket. */
static void
conn_upgrade(struct conn *c)
{
	struct conn_server *srv = c->srv;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct bufferevent *tls;
	size_t junk = evbuffer_get_length(in);
	SSL *ssl;

	if (junk > 0) {
		log_info("session=%s %zu bytes received behind %s discarded",
		    c->sid, junk, srv->cfg.upgrade_verb);
		evbuffer_drain(in, junk);
	}
	conn_send_output(c);
	ssl = srv->tls.ctx ? SSL_new(srv->tls.ctx) : NULL;
	tls = ssl ? bufferevent_openssl_filter_new(srv->base, c->bev, ssl,
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
	bufferevent_setwatermark(c->bev, EV_READ, 0, srv->cfg.in_max);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	const struct conn_ops *ops = c->srv->cfg.ops;

	(void)fd; (void)what;
	if (c->closing) {
		conn_flush(c);	/* waiting for the output to drain */
		return;
	}
	if (ops->phase(c->p) == CONN_PHASE_US) {
		/* Our own answer is late, not the client: the protocol
		 * says how long it waits. */
		if (ops->timeout(c, c->p, CONN_TIMEOUT_OURS))
			conn_timer_arm(c);
		else
			conn_flush(c);
		return;
	}
	if (tls_handshaking(c)) {
		/* An upgrade or implicit TLS and then silence. */
		ops->timeout(c, c->p, CONN_TIMEOUT_HANDSHAKE);
		conn_free(c);
		return;
	}
	ops->timeout(c, c->p, monotonic_ms() - c->started_ms >=
	    (uint64_t)c->srv->cfg.max_session_time * 1000 ?
	    CONN_TIMEOUT_SESSION : CONN_TIMEOUT_IDLE);
	conn_flush(c);
}

static void
conn_free(struct conn *c)
{
	struct conn_server *srv = c->srv;

	srv->cfg.ops->closed(c, c->p);
	bufferevent_free(c->bev);
	event_free(c->timer);
	slots_remove(&srv->conns, c->id);
	free(c);
}

/* A snapshot of every live connection into srv->snaps. */
static size_t
conn_snapshots(struct conn_server *srv)
{
	const struct conn_ops *ops = srv->cfg.ops;
	size_t i, n = 0;

	if (srv->snapcap < srv->conns.n) {
		srv->snapcap = srv->conns.n;
		srv->snaps = xreallocarray(srv->snaps, srv->snapcap,
		    sizeof(*srv->snaps));
		srv->snapconn = xreallocarray(srv->snapconn, srv->snapcap,
		    sizeof(*srv->snapconn));
	}
	for (i = 0; i < srv->conns.n; i++) {
		struct conn *o = srv->conns.v[i];
		struct conn_snapshot *s;

		if (o == NULL)
			continue;
		s = &srv->snaps[n];
		s->client = o->key;
		s->kind = o->l->spec.kind;
		s->local = o->local;
		s->active = o->active;
		s->evictable = o->l->spec.evict && !o->local && !o->closing &&
		    ops->evictable != NULL && ops->evictable(o->p);
		srv->snapconn[n++] = o;
	}
	return n;
}

/* Close o now to make room: one line written straight to the socket (a
 * TLS session gets none: it would need the TLS layer's flush), then freed
 * at once, so the count drops before the newcomer is admitted. */
static void
conn_evict(struct conn *o)
{
	const struct conn_config *cfg = &o->srv->cfg;
	char line[256];
	size_t len;

	log_info("session=%s evicted: idle for %llds, room needed for a new "
	    "client (client=[%s])", o->sid, (long long)(time(NULL) - o->active),
	    o->ip);
	if (conn_ssl(o) == NULL && cfg->ops->evict_line != NULL &&
	    (len = cfg->ops->evict_line(cfg->arg, line, sizeof(line))) > 0 &&
	    len < sizeof(line))
		(void)send(bufferevent_getfd(o->bev), line, len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	conn_free(o);
}

/* The session limits for a newcomer: 0 if admitted (perhaps after
 * evicting the idlest strangers on listeners that allow it), or the limit
 * that turns it away. Linear in the number of sessions, which the total
 * limit bounds; every round evicts one or ends. */
static enum conn_limit_hit
conn_admit(struct conn_server *srv, const struct conn_listener *l,
    const struct netaddr *key, int local, unsigned *count_r, unsigned *max_r)
{
	struct conn_limits lim;
	struct conn_count cnt;
	enum conn_limit_hit hit;
	size_t n;
	long victim;

	lim.total = srv->cfg.max_sessions;
	lim.per_client = srv->cfg.max_per_client;
	lim.kind = l->spec.limit;
	lim.kind_limited = l->spec.limited;
	for (;;) {
		n = conn_snapshots(srv);
		conn_count(srv->snaps, n, key, l->spec.kind, &cnt);
		hit = conn_limit_check(&cnt, &lim, local, count_r, max_r);
		if (hit == CONN_LIMIT_NONE || hit == CONN_LIMIT_PER_CLIENT ||
		    (hit == CONN_LIMIT_KIND && !l->spec.evict) ||
		    (victim = conn_idlest(srv->snaps, n)) == -1)
			return hit;
		conn_evict(srv->snapconn[victim]);
	}
}

static void
conn_accept_cb(struct evconnlistener *el, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	const struct conn_listener *l = arg;
	struct conn_server *srv = l->srv;
	const struct conn_ops *ops = srv->cfg.ops;
	struct sockaddr_storage local;
	socklen_t locallen = sizeof(local);
	struct netaddr addr, key;
	struct conn *c;
	char ip[INET6_ADDRSTRLEN];
	unsigned port = 0, n, max;
	int is_local;
	SSL *ssl = NULL;

	(void)el; (void)salen;
	if (netaddr_from_sockaddr(sa, &addr) == -1) {
		close(fd);
		return;
	}
	if (sa->sa_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
	key = srv->cfg.per_client_prefix ? throttle_key(&addr) : addr;
	is_local = srv->cfg.policy != NULL &&
	    relay_client_is_local(srv->cfg.policy, &addr);
	netaddr_format(&addr, ip, sizeof(ip));
	{
		struct conn_rejection r;
		char line[512];
		size_t len;

		r.hit = conn_admit(srv, l, &key, is_local, &n, &max);
		if (r.hit != CONN_LIMIT_NONE) {
			/* Before anything is allocated for the client. No
			 * line where the client expects a TLS handshake. */
			r.count = n;
			r.max = max;
			r.ip = ip;
			r.port = port;
			len = ops->rejected(srv->cfg.arg, &r, line, sizeof(line));
			if (!l->spec.implicit_tls && len > 0 && len < sizeof(line))
				(void)send(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			return;
		}
	}
	/* Implicit TLS (RFC 8314): the greeting already goes through TLS. */
	if (l->spec.implicit_tls &&
	    (srv->tls.ctx == NULL || (ssl = SSL_new(srv->tls.ctx)) == NULL)) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->l = l;
	c->addr = addr;
	c->key = key;
	c->local = is_local;
	c->port = port;
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
	if (getsockname(fd, (struct sockaddr *)&local, &locallen) == 0)
		netaddr_from_sockaddr((struct sockaddr *)&local, &c->local_addr);
	c->active = time(NULL);
	c->started_ms = monotonic_ms();
	/* Unique per process lifetime (slots are reused, the counter is not),
	 * and across restarts by the time prefix. */
	snprintf(c->sid, sizeof(c->sid), "%s%08X%06X", srv->cfg.sid_prefix,
	    (unsigned)time(NULL), (unsigned)(++srv->sessions & 0xffffff));
	c->bev = ssl != NULL ? bufferevent_openssl_socket_new(srv->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE) :
	    bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(srv->base, conn_timeout_cb, c);
	if (c->bev == NULL || c->timer == NULL)
		fatal("out of memory");
	if (ssl != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	c->id = slots_add(&srv->conns, c);
	if ((c->p = ops->opened(c)) == NULL) {
		bufferevent_free(c->bev);
		event_free(c->timer);
		slots_remove(&srv->conns, c->id);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, srv->cfg.in_max);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_process(c);
}

void
conn_tls_preload(struct event_base *base, void *arg)
{
	(void)base; (void)arg;
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
}

struct conn_server *
conn_server_new(struct event_base *base, const struct conn_config *cfg,
    const struct conn_listen *l, size_t n)
{
	struct conn_server *srv = xcalloc(1, sizeof(*srv));
	size_t i;

	srv->base = base;
	srv->cfg = *cfg;
	srv->gates = cfg->gates;
	srv->nlisteners = n;
	srv->listeners = xcalloc(n ? n : 1, sizeof(*srv->listeners));
	for (i = 0; i < n; i++) {
		srv->listeners[i].srv = srv;
		srv->listeners[i].spec = l[i];
	}
	return srv;
}

void
conn_server_unblock(struct conn_server *srv, unsigned gate)
{
	struct conn_listener *l;
	size_t i;

	if (srv->listening)
		return;
	srv->gates &= ~gate;
	if (srv->gates != 0)
		return;
	srv->listening = 1;
	for (i = 0; i < srv->nlisteners; i++) {
		l = &srv->listeners[i];
		l->ev = evconnlistener_new(srv->base, conn_accept_cb, l,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, l->spec.fd);
		if (l->ev == NULL)
			fatal("evconnlistener_new failed");
	}
	log_info("ready");
}

void
conn_server_tls_message(struct conn_server *srv, uint32_t type,
    const void *data, size_t len)
{
	if (tls_server_ipc(&srv->tls, type, data, len) == 1)
		conn_server_unblock(srv, CONN_GATE_TLS);
}

void
conn_server_shutdown(struct conn_server *srv)
{
	struct timeval tv = { 0, CONN_SHUTDOWN_USEC };
	size_t i;

	for (i = 0; i < srv->nlisteners; i++)
		if (srv->listeners[i].ev != NULL)
			evconnlistener_disable(srv->listeners[i].ev);
	for (i = 0; i < srv->conns.n; i++) {
		struct conn *c = srv->conns.v[i];

		if (c != NULL) {
			srv->cfg.ops->shutdown(c->p);
			conn_flush(c);
		}
	}
	event_base_loopexit(srv->base, &tv);
}

struct conn *
conn_find(const struct conn_server *srv, uint64_t id)
{
	return slots_get(&srv->conns, id);
}

struct conn *
conn_next(const struct conn_server *srv, size_t *cursor)
{
	while (*cursor < srv->conns.n) {
		struct conn *c = srv->conns.v[(*cursor)++];

		if (c != NULL)
			return c;
	}
	return NULL;
}

void *conn_session(const struct conn *c) { return c->p; }
uint64_t conn_id(const struct conn *c) { return c->id; }
const char *conn_sid(const struct conn *c) { return c->sid; }
const struct netaddr *conn_peer(const struct conn *c) { return &c->addr; }
const struct netaddr *conn_local(const struct conn *c) { return &c->local_addr; }
const char *conn_peer_text(const struct conn *c) { return c->ip; }
unsigned conn_peer_port(const struct conn *c) { return c->port; }
int conn_kind(const struct conn *c) { return c->l->spec.kind; }
int conn_tls_available(const struct conn *c) { return c->srv->tls.ctx != NULL; }
int conn_tls_active(const struct conn *c) { return conn_ssl(c) != NULL; }
