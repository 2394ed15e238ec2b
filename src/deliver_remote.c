/* deliver_remote - outbound SMTP connections in the queue process; see
 * deliver_remote.h.
 *
 * A destination is a route (host:port from a route line) or a recipient
 * domain (MX). Jobs wait on their destination. The destination is
 * resolved once while it has work (addresses in MX order, loops removed),
 * then up to remote_max_per_destination connections are opened; each one
 * takes the next waiting job whenever its client is idle, so messages
 * queued together share connections. A connection that fails before its
 * greeting/EHLO moves on to the next address; when every address failed
 * and no other connection serves the destination, every waiting job gets
 * the temporary error. Results go back through done(), always from the
 * event loop (a zero timer), never from inside submit.
 *
 * STARTTLS: the destination's policy (route tls=, else "may") goes to the
 * client. At its STARTTLS event every unread byte is discarded (it came in
 * clear after the 220), the socket's bufferevent is wrapped in an OpenSSL
 * filter (one client SSL_CTX per process, SNI when the host is a name, no
 * certificate verification: opportunistic) and the client sends EHLO
 * again once the handshake is done. A failed handshake under "may" is
 * retried once on a fresh connection to the same address in plaintext
 * (Postfix does the same); under "required" it is a temporary 4.7.5
 * failure, like a server that does not offer STARTTLS (4.7.4). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "deliver_remote.h"
#include "dns.h"
#include "log.h"
#include "netaddr.h"
#include "tls.h"

#define DR_BODY_CHUNK	65536
#define DR_OUT_LOW	(256 * 1024)	/* refill the body below this */
#define DR_IN_MAX	(64 * 1024)	/* unread server bytes held at most */

struct dr_addr {
	struct netaddr	a;
	char		host[256];
};

struct dest {
	char		key[300];
	int		is_route;
	char		name[256];	/* route host, or the domain */
	unsigned	port;
	int		tls;		/* CONFIG_TLS_* */
	struct dr_job	*head, *tail;	/* waiting jobs */
	size_t		nwaiting;
	unsigned	nconn, nbusy;
	int		resolving, resolved;
	struct dr_addr	*addrs;
	size_t		naddrs;
	int		idle;		/* may be freed by the next gc */
	struct dest	*next;
};

struct conn {
	struct dest	*d;
	struct bufferevent *bev;
	struct event	*timer;
	size_t		addr_idx;
	int		connected;
	int		ready_once;	/* reached IDLE at least once */
	int		no_tls;		/* plaintext retry after a failed
					 * handshake (policy may) */
	char		tls_desc[80];	/* "TLSv1.3/TLS_AES_..." or "none" */
	char		host[300];	/* "name[addr]" */
	char		last_error[SMTPC_TEXT_MAX];
	struct smtp_client c;
	struct dr_job	*job;
	struct smtpc_txn txn;
	struct smtpc_rcpt *srcpts;
	int		in_body;
	off_t		body_off;
	struct smtpc_stuff st;
	unsigned	msgs;
};

static struct dr {
	struct event_base *base;
	const struct config *cfg;
	dr_done_cb	done;
	void		*arg;
	struct dns	*dns;
	SSL_CTX		*tls_ctx;	/* STARTTLS; NULL: TLS unavailable */
	struct dest	*dests;
	unsigned	nconn;
	size_t		busy;
	struct dr_job	*done_head;	/* finished, waiting for done_ev */
	struct event	*done_ev;
	struct event	*gc_ev;		/* frees idle destinations */
} dr;

static void dest_kick(struct dest *d);
static void conn_close(struct conn *k);
static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

/* -- results ------------------------------------------------------------ */

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dr_job *j;

	(void)fd; (void)what; (void)arg;
	while ((j = dr.done_head) != NULL) {
		dr.done_head = j->next;
		j->next = NULL;
		dr.busy--;
		dr.done(j, dr.arg);
	}
}

static void
job_finish(struct dr_job *j)
{
	struct timeval tv = { 0, 0 };
	struct dr_job **pp;

	for (pp = &dr.done_head; *pp != NULL; pp = &(*pp)->next)
		;
	j->next = NULL;
	*pp = j;
	evtimer_add(dr.done_ev, &tv);
}

/* Fail every recipient of j still pending. */
static void
job_fail(struct dr_job *j, enum outcome result, const char *status,
    const char *text, const char *host)
{
	size_t i;

	for (i = 0; i < j->nrcpts; i++) {
		struct dr_rcpt *r = &j->rcpts[i];

		if (r->done)
			continue;
		r->done = 1;
		r->result = result;
		(void)xsnprintf(r->reply, sizeof(r->reply), "%s", text);
		(void)xsnprintf(r->status, sizeof(r->status), "%s",
		    status ? status : "");
		(void)xsnprintf(r->host, sizeof(r->host), "%s",
		    host ? host : "");
		r->from_remote = 0;
	}
	job_finish(j);
}

static void
dest_fail_waiting(struct dest *d, enum outcome result, const char *status,
    const char *text, const char *host)
{
	struct dr_job *j;

	while ((j = d->head) != NULL) {
		d->head = j->next;
		d->nwaiting--;
		job_fail(j, result, status, text, host);
	}
	d->tail = NULL;
}

/* Freed later, from the loop: callers up the stack may still hold d. */
static void
dest_maybe_free(struct dest *d)
{
	struct timeval tv = { 0, 0 };

	if (d->head != NULL || d->nconn > 0 || d->resolving)
		return;
	d->idle = 1;
	evtimer_add(dr.gc_ev, &tv);
}

static void
gc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dest **pp, *d;

	(void)fd; (void)what; (void)arg;
	for (pp = &dr.dests; (d = *pp) != NULL; ) {
		if (d->idle && d->head == NULL && d->nconn == 0 &&
		    !d->resolving) {
			*pp = d->next;
			free(d->addrs);
			free(d);
		} else
			pp = &d->next;
	}
}

/* Connections were released: destinations waiting for a slot go on. */
static void
kick_all(void)
{
	struct dest *d, *next;

	for (d = dr.dests; d != NULL; d = next) {
		next = d->next;
		if (d->head != NULL)
			dest_kick(d);
	}
}

/* -- loops -------------------------------------------------------------- */

/* Is addr:port one of our own listeners? */
static int
addr_is_us(const struct netaddr *a, unsigned port)
{
	size_t i;

	for (i = 0; i < dr.cfg->n_listen_smtp; i++) {
		const struct listen_addr *la = &dr.cfg->listen_smtp[i];
		struct netaddr na;

		if (la->port != port || netaddr_parse(la->host, &na) == -1)
			continue;
		if (netaddr_equal(&na, a))
			return 1;
	}
	return 0;
}

static void
resolved(const struct dns_result *r, void *arg)
{
	struct dest *d = arg;
	unsigned cut = ~0u;
	size_t i, k;

	d->resolving = 0;
	if (r->status != OUTCOME_OK) {
		log_info("destination %s: %s", d->name, r->error);
		dest_fail_waiting(d, r->status, r->null_mx ? "5.1.10" :
		    r->status == OUTCOME_PERM ? "5.1.2" : "4.4.3", r->error,
		    NULL);
		dest_maybe_free(d);
		return;
	}
	/* RFC 5321 5.1: an MX that is us, and every MX not better than it,
	 * is dropped; nothing left is a loop. */
	for (i = 0; i < r->nhosts; i++) {
		const struct dns_host *h = &r->hosts[i];
		int us = strcasecmp(h->name, dr.cfg->hostname) == 0;

		for (k = 0; k < h->naddrs && !us; k++)
			us = addr_is_us(&h->addrs[k], d->port);
		if (us && h->pref < cut)
			cut = h->pref;
	}
	free(d->addrs);
	d->addrs = NULL;
	d->naddrs = 0;
	for (i = 0; i < r->nhosts; i++) {
		const struct dns_host *h = &r->hosts[i];

		if (cut != ~0u && (h->pref >= cut || d->is_route))
			continue;
		for (k = 0; k < h->naddrs; k++) {
			d->addrs = xreallocarray(d->addrs, d->naddrs + 1,
			    sizeof(*d->addrs));
			d->addrs[d->naddrs].a = h->addrs[k];
			(void)xsnprintf(d->addrs[d->naddrs].host,
			    sizeof(d->addrs[d->naddrs].host), "%s", h->name);
			d->naddrs++;
		}
	}
	if (d->naddrs == 0) {
		char text[600];

		(void)xsnprintf(text, sizeof(text), "mail for %s loops back "
		    "to myself", d->name);
		log_info("destination %s: %s", d->name, text);
		dest_fail_waiting(d, OUTCOME_PERM, "5.4.6", text, NULL);
		dest_maybe_free(d);
		return;
	}
	d->resolved = 1;
	dest_kick(d);
}

/* -- connections -------------------------------------------------------- */

static void
conn_timer_set(struct conn *k, unsigned secs)
{
	struct timeval tv = { (time_t)secs, 0 };

	evtimer_add(k->timer, &tv);
}

static void
conn_flush(struct conn *k)
{
	if (k->c.out.len > 0 && k->bev != NULL) {
		bufferevent_write(k->bev, k->c.out.data, k->c.out.len);
		buf_reset(&k->c.out);
	}
}

/* Copy the client's per-recipient results into the job and finish it. */
static void
conn_job_done(struct conn *k)
{
	struct dr_job *j = k->job;
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->nrcpts; i++) {
		struct dr_rcpt *r = &j->rcpts[i];
		struct smtpc_rcpt *s = &k->srcpts[i];

		r->done = 1;
		r->result = s->done ? s->result : OUTCOME_TEMP;
		(void)xsnprintf(r->reply, sizeof(r->reply), "%s",
		    s->reply[0] ? s->reply : k->last_error);
		(void)xsnprintf(r->host, sizeof(r->host), "%s", k->host);
		r->status[0] = '\0';
		/* Our own texts ("lost connection ...") never start with a
		 * reply code. */
		r->from_remote = s->reply[0] >= '2' && s->reply[0] <= '5' &&
		    s->reply[1] >= '0' && s->reply[1] <= '9' &&
		    s->reply[2] >= '0' && s->reply[2] <= '9';
		if (r->result == OUTCOME_OK)
			log_info("id=%s to=<%s> relay=%s status=sent (%s) "
			    "tls=%s", j->id, r->addr, k->host, r->reply,
			    k->tls_desc);
	}
	free(k->srcpts);
	k->srcpts = NULL;
	k->job = NULL;
	k->in_body = 0;
	k->d->nbusy--;
	job_finish(j);
}

/* 1 if k was closed (freed). */
static int
conn_send_body(struct conn *k)
{
	struct evbuffer *out = bufferevent_get_output(k->bev);
	struct buf b;
	char chunk[DR_BODY_CHUNK];
	ssize_t n;

	buf_init(&b, 2 * DR_BODY_CHUNK + 16);
	while (k->in_body && evbuffer_get_length(out) < DR_OUT_LOW) {
		n = pread(k->job->fd, chunk, sizeof(chunk), k->body_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			/* Disk trouble: abort the connection; temporary. */
			log_warn("id=%s read: %s", k->job->id, strerror(errno));
			smtp_client_abort(&k->c, "local read error");
			(void)xsnprintf(k->last_error, sizeof(k->last_error),
			    "local read error");
			conn_job_done(k);
			buf_free(&b);
			conn_close(k);
			return 1;
		}
		buf_reset(&b);
		if (n == 0) {
			(void)smtp_client_stuff_end(&k->st, &b);
			bufferevent_write(k->bev, b.data, b.len);
			smtp_client_body_done(&k->c);
			conn_flush(k);
			k->in_body = 0;
			conn_timer_set(k, smtp_client_timeout(&k->c));
			break;
		}
		(void)smtp_client_stuff(&k->st, chunk, (size_t)n, &b);
		bufferevent_write(k->bev, b.data, b.len);
		k->body_off += n;
	}
	buf_free(&b);
	return 0;
}

/* The job's prefix (a header field qmgr made) goes out through the same
 * stuffer as the content: it is the first line of the message. */
static void
conn_send_prefix(struct conn *k)
{
	struct buf b;

	buf_init(&b, 2 * k->job->prefix_len + 16);
	(void)smtp_client_stuff(&k->st, k->job->prefix, k->job->prefix_len, &b);
	bufferevent_write(k->bev, b.data, b.len);
	buf_free(&b);
}

/* Take the next waiting job, or say goodbye. */
static void
conn_next_job(struct conn *k)
{
	struct dest *d = k->d;
	struct dr_job *j = d->head;
	size_t i;

	if (j == NULL || k->msgs >= DR_MESSAGES_PER_CONN) {
		smtp_client_quit(&k->c);
		conn_flush(k);
		conn_timer_set(k, smtp_client_timeout(&k->c));
		return;
	}
	d->head = j->next;
	if (d->head == NULL)
		d->tail = NULL;
	d->nwaiting--;
	j->next = NULL;
	d->nbusy++;
	k->job = j;
	k->msgs++;
	k->srcpts = xcalloc(j->nrcpts, sizeof(*k->srcpts));
	for (i = 0; i < j->nrcpts; i++)
		k->srcpts[i].addr = j->rcpts[i].addr;
	memset(&k->txn, 0, sizeof(k->txn));
	k->txn.from = j->from;
	k->txn.rcpts = k->srcpts;
	k->txn.nrcpts = j->nrcpts;
	k->txn.size = j->size;
	k->txn.body_8bit = j->body_8bit;
	if (smtp_client_txn_start(&k->c, &k->txn) == SMTPC_EV_TXN_DONE) {
		conn_job_done(k);
		conn_next_job(k);
		return;
	}
	conn_flush(k);
	conn_timer_set(k, smtp_client_timeout(&k->c));
}

static int conn_try(struct conn *k);

/* Before the session was usable: try the next address, or give up.
 * status is the enhanced code for the jobs when this was the last
 * address. 1 if k was closed (freed). */
static int
conn_failed_early(struct conn *k, const char *status, const char *why)
{
	(void)xsnprintf(k->last_error, sizeof(k->last_error), "%s", why);
	log_info("destination %s: %s", k->d->name, why);
	if (k->bev != NULL) {
		bufferevent_free(k->bev);
		k->bev = NULL;
	}
	k->addr_idx++;
	k->no_tls = 0;		/* a new address gets TLS again */
	if (k->addr_idx < k->d->naddrs)
		return conn_try(k);
	/* Every address failed. Nobody else serving: defer what waits. */
	if (k->d->nconn == 1)
		dest_fail_waiting(k->d, OUTCOME_TEMP, status, k->last_error,
		    NULL);
	conn_close(k);
	return 1;
}

/* -- STARTTLS ----------------------------------------------------------- */

static enum smtpc_tls
tls_policy(int config_tls)
{
	switch (config_tls) {
	case CONFIG_TLS_NONE:
		return SMTPC_TLS_NONE;
	case CONFIG_TLS_REQUIRED:
		return SMTPC_TLS_REQUIRED;
	default:
		return SMTPC_TLS_MAY;
	}
}

/* Why a handshake failed, for logs and the deferred reason. */
static const char *
tls_why(struct bufferevent *bev, short what, char *buf, size_t len)
{
	unsigned long e = bufferevent_get_openssl_error(bev);

	if (e != 0) {
		ERR_error_string_n(e, buf, len);
		while (bufferevent_get_openssl_error(bev) != 0)
			;
		return buf;
	}
	if (what & BEV_EVENT_EOF)
		return "connection closed during the handshake";
	if (EVUTIL_SOCKET_ERROR() != 0) {
		(void)xsnprintf(buf, len, "%s",
		    strerror(EVUTIL_SOCKET_ERROR()));
		return buf;
	}
	return tls_error_text();
}

/* The handshake failed or timed out. Under "required": the next address,
 * or a temporary 4.7.5. Under "may": once more in plaintext, on a fresh
 * connection to the same address. 1 if k was closed (freed). */
static int
conn_tls_failed(struct conn *k, const char *reason)
{
	char why[SMTPC_TEXT_MAX + 320];

	if (k->d->tls == CONFIG_TLS_REQUIRED) {
		(void)xsnprintf(why, sizeof(why), "4.7.5 TLS required but not "
		    "available: TLS handshake with %s failed: %s", k->host,
		    reason);
		return conn_failed_early(k, "4.7.5", why);
	}
	log_info("destination %s: TLS handshake with %s failed: %s; trying "
	    "again without TLS", k->d->name, k->host, reason);
	if (k->bev != NULL) {
		bufferevent_free(k->bev);
		k->bev = NULL;
	}
	k->no_tls = 1;
	return conn_try(k);
}

/* The client's STARTTLS got its 220: drop what the server sent behind it
 * in clear, then the handshake. 1 if k was closed (freed). */
static int
conn_starttls(struct conn *k)
{
	struct evbuffer *in = bufferevent_get_input(k->bev);
	const char *name = k->d->addrs[k->addr_idx].host;
	size_t junk = evbuffer_get_length(in);
	struct bufferevent *tls;
	struct netaddr na;
	SSL *ssl;

	if (junk > 0) {
		log_info("destination %s: %zu bytes from %s behind the "
		    "STARTTLS reply discarded", k->d->name, junk, k->host);
		evbuffer_drain(in, junk);
	}
	if (dr.tls_ctx == NULL || (ssl = SSL_new(dr.tls_ctx)) == NULL)
		return conn_tls_failed(k, "TLS is unavailable here");
	/* SNI for a host name; never for an address literal (RFC 6066 3). */
	if (netaddr_parse(name, &na) == -1 &&
	    SSL_set_tlsext_host_name(ssl, name) != 1) {
		SSL_free(ssl);
		return conn_tls_failed(k, "cannot set the server name");
	}
	tls = bufferevent_openssl_filter_new(dr.base, k->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		return conn_tls_failed(k, "cannot set up TLS");
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	/* The filter moves ciphertext into the socket's buffer only up to
	 * its high mark: the body keeps its back-pressure (DR_OUT_LOW). */
	bufferevent_setwatermark(k->bev, EV_WRITE, DR_OUT_LOW / 2, DR_OUT_LOW);
	k->bev = tls;
	bufferevent_setcb(tls, conn_read_cb, conn_write_cb, conn_event_cb, k);
	bufferevent_setwatermark(tls, EV_WRITE, DR_OUT_LOW / 2, 0);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	conn_timer_set(k, smtp_client_timeout(&k->c));
	return 0;
}

static void
conn_tls_done(struct conn *k)
{
	SSL *ssl = bufferevent_openssl_get_ssl(k->bev);
	char *p;

	(void)tls_describe(ssl, k->tls_desc, sizeof(k->tls_desc));
	for (p = k->tls_desc; *p != '\0'; p++)
		if (*p == ' ')
			*p = '/';
	log_info("destination %s: TLS with %s: %s (certificate not verified)",
	    k->d->name, k->host, k->tls_desc);
	smtp_client_tls_started(&k->c);
	conn_flush(k);
	conn_timer_set(k, smtp_client_timeout(&k->c));
}

/* 1 if k was closed (freed). */
static int
conn_handle(struct conn *k, enum smtpc_event ev)
{
	switch (ev) {
	case SMTPC_EV_NONE:
		break;
	case SMTPC_EV_READY:
		k->ready_once = 1;
		conn_next_job(k);
		break;
	case SMTPC_EV_BODY:
		k->in_body = 1;
		k->body_off = k->job->content_off;
		smtp_client_stuff_init(&k->st);
		if (k->job->prefix_len > 0)
			conn_send_prefix(k);
		conn_timer_set(k, SMTPC_TO_BLOCK);
		return conn_send_body(k);
	case SMTPC_EV_TXN_DONE:
		conn_job_done(k);
		break;
	case SMTPC_EV_STARTTLS:
		return conn_starttls(k);
	case SMTPC_EV_FAILED:
		(void)xsnprintf(k->last_error, sizeof(k->last_error), "%s",
		    k->c.fail_text);
		if (!k->ready_once) {
			char why[SMTPC_TEXT_MAX + 320];

			/* A job can only be here after READY; conn_try
			 * starts a fresh client. */
			if (k->c.fail_tls) {
				(void)xsnprintf(why, sizeof(why),
				    "%s (host %s)", k->c.fail_text, k->host);
				return conn_failed_early(k, "4.7.4", why);
			}
			(void)xsnprintf(why, sizeof(why), "host %s refused to "
			    "talk to me: %s", k->host, k->c.fail_text);
			return conn_failed_early(k, "4.4.1", why);
		}
		conn_job_done(k);
		conn_close(k);
		return 1;
	case SMTPC_EV_CLOSED:
		conn_close(k);
		return 1;
	}
	return 0;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *k = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	enum smtpc_event ev;
	size_t len, used;
	char *p;

	for (;;) {
		len = evbuffer_get_length(in);
		p = (char *)evbuffer_pullup(in, (ev_ssize_t)len);
		ev = smtp_client_feed(&k->c, p, len, &used);
		evbuffer_drain(in, used);
		conn_flush(k);
		if (ev == SMTPC_EV_NONE) {
			if (k->c.state != SMTPC_CLOSED && !k->in_body)
				conn_timer_set(k, smtp_client_timeout(&k->c));
			if (evbuffer_get_length(in) > DR_IN_MAX) {
				smtp_client_abort(&k->c, "server sent too much");
				(void)conn_handle(k, SMTPC_EV_FAILED);
			}
			return;
		}
		if (ev == SMTPC_EV_FAILED || ev == SMTPC_EV_CLOSED ||
		    ev == SMTPC_EV_STARTTLS) {
			/* STARTTLS: the rest of this buffer is discarded
			 * unread; TLS input comes through a new bufferevent. */
			(void)conn_handle(k, ev);
			return;
		}
		if (conn_handle(k, ev))
			return;
	}
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *k = arg;

	(void)bev;
	if (k->in_body) {
		conn_timer_set(k, SMTPC_TO_BLOCK);
		(void)conn_send_body(k);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *k = arg;
	char why[SMTPC_TEXT_MAX + 320];

	if (k->c.state == SMTPC_TLS) {
		/* The STARTTLS handshake, on the filter. */
		if (what & BEV_EVENT_CONNECTED)
			conn_tls_done(k);
		else
			(void)conn_tls_failed(k, tls_why(bev, what, why,
			    sizeof(why)));
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		k->connected = 1;
		conn_timer_set(k, smtp_client_timeout(&k->c));
		return;
	}
	if (!k->connected) {
		(void)xsnprintf(why, sizeof(why), "connect to %s: %s", k->host,
		    strerror(EVUTIL_SOCKET_ERROR() ? EVUTIL_SOCKET_ERROR() :
		    ECONNREFUSED));
		(void)conn_failed_early(k, "4.4.1", why);
		return;
	}
	(void)xsnprintf(why, sizeof(why), "lost connection with %s", k->host);
	smtp_client_abort(&k->c, why);
	(void)conn_handle(k, SMTPC_EV_FAILED);
}

static void
conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *k = arg;
	char why[SMTPC_TEXT_MAX + 320];

	(void)fd; (void)what;
	if (!k->connected) {
		(void)xsnprintf(why, sizeof(why), "connect to %s: timed out",
		    k->host);
		(void)conn_failed_early(k, "4.4.1", why);
		return;
	}
	if (k->c.state == SMTPC_TLS) {
		(void)conn_tls_failed(k, "handshake timed out");
		return;
	}
	(void)xsnprintf(why, sizeof(why), "timeout talking to %s", k->host);
	smtp_client_abort(&k->c, why);
	(void)conn_handle(k, SMTPC_EV_FAILED);
}

/* 1 if k was closed (freed). */
static int
conn_try(struct conn *k)
{
	const struct dr_addr *a = &k->d->addrs[k->addr_idx];
	struct sockaddr_storage ss;
	socklen_t sl;
	char ip[64];

	netaddr_format(&a->a, ip, sizeof(ip));
	(void)xsnprintf(k->host, sizeof(k->host), "%s[%s]:%u", a->host, ip,
	    k->d->port);
	k->connected = 0;
	/* A fresh client for every connection. */
	smtp_client_free(&k->c);
	smtp_client_init(&k->c, dr.cfg->hostname);
	k->c.tls_policy = k->no_tls ? SMTPC_TLS_NONE : tls_policy(k->d->tls);
	if (dr.tls_ctx == NULL && k->c.tls_policy == SMTPC_TLS_MAY)
		k->c.tls_policy = SMTPC_TLS_NONE;
	(void)xsnprintf(k->tls_desc, sizeof(k->tls_desc), "none");
	memset(&ss, 0, sizeof(ss));
	if (a->a.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)k->d->port);
		memcpy(&s4->sin_addr, a->a.a, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)k->d->port);
		memcpy(&s6->sin6_addr, a->a.a, 16);
		sl = sizeof(*s6);
	}
	k->bev = bufferevent_socket_new(dr.base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (k->bev == NULL)
		fatal("bufferevent_socket_new failed");
	bufferevent_setcb(k->bev, conn_read_cb, conn_write_cb, conn_event_cb, k);
	bufferevent_setwatermark(k->bev, EV_WRITE, DR_OUT_LOW / 2, 0);
	bufferevent_enable(k->bev, EV_READ | EV_WRITE);
	conn_timer_set(k, dr.cfg->smtp_connect_timeout);
	if (bufferevent_socket_connect(k->bev, (struct sockaddr *)&ss,
	    (int)sl) == -1) {
		char why[SMTPC_TEXT_MAX + 320];

		(void)xsnprintf(why, sizeof(why), "connect to %s: %s", k->host,
		    strerror(errno));
		/* Recursion is bounded by the number of addresses. */
		return conn_failed_early(k, "4.4.1", why);
	}
	return 0;
}

static void
conn_open(struct dest *d)
{
	struct conn *k = xcalloc(1, sizeof(*k));

	k->d = d;
	d->nconn++;
	dr.nconn++;
	k->timer = evtimer_new(dr.base, conn_timeout_cb, k);
	smtp_client_init(&k->c, dr.cfg->hostname);
	(void)conn_try(k);
}

static void
conn_close(struct conn *k)
{
	struct dest *d = k->d;

	if (k->job != NULL) {
		smtp_client_abort(&k->c, k->last_error[0] ? k->last_error :
		    "connection closed");
		conn_job_done(k);
	}
	if (k->bev != NULL)
		bufferevent_free(k->bev);
	event_free(k->timer);
	smtp_client_free(&k->c);
	free(k->srcpts);
	free(k);
	d->nconn--;
	dr.nconn--;
	if (d->head == NULL)
		dest_maybe_free(d);
	kick_all();
}

void
deliver_remote_dest_key(const struct config *cfg, const char *domain,
    char *buf, size_t len)
{
	const struct route *rt = config_route(cfg, domain);

	/* Routes to one host with different tls= never share a connection;
	 * the default (may) keeps the key it always had. */
	if (rt != NULL)
		(void)xsnprintf(buf, len, "route %s:%u%s", rt->host, rt->port,
		    rt->tls == CONFIG_TLS_NONE ? " tls=none" :
		    rt->tls == CONFIG_TLS_REQUIRED ? " tls=required" : "");
	else
		(void)xsnprintf(buf, len, "mx %s", domain);
}

/* -- destinations ------------------------------------------------------- */

static void
dest_kick(struct dest *d)
{
	if (d->head == NULL)
		return;
	if (!d->resolved) {
		if (d->resolving)
			return;
		if (dr.dns == NULL && !d->is_route) {
			dest_fail_waiting(d, OUTCOME_TEMP, "4.4.3",
			    "no DNS resolver", NULL);
			return;
		}
		d->resolving = 1;
		if (d->is_route) {
			struct dns_result r;

			memset(&r, 0, sizeof(r));
			if (netaddr_parse(d->name, &r.hosts[0].addrs[0]) == 0) {
				r.nhosts = 1;
				r.implicit = 1;
				r.hosts[0].naddrs = 1;
				(void)xsnprintf(r.hosts[0].name,
				    sizeof(r.hosts[0].name), "%s", d->name);
				resolved(&r, d);
				return;
			}
			if (dr.dns == NULL) {
				d->resolving = 0;
				dest_fail_waiting(d, OUTCOME_TEMP, "4.4.3",
				    "no DNS resolver", NULL);
				return;
			}
			dns_resolve_host(dr.dns, d->name, resolved, d);
		} else
			dns_resolve_mx(dr.dns, d->name, resolved, d);
		return;
	}
	/* Idle connections (connecting, or between jobs) pick jobs up; open
	 * more while there is more work than they can take. */
	while (d->nwaiting > d->nconn - d->nbusy &&
	    d->nconn < dr.cfg->remote_max_per_destination &&
	    dr.nconn < dr.cfg->remote_max_connections)
		conn_open(d);
}

static struct dest *
dest_get(const char *domain)
{
	const struct route *rt = config_route(dr.cfg, domain);
	char key[300];
	struct dest *d;

	deliver_remote_dest_key(dr.cfg, domain, key, sizeof(key));
	for (d = dr.dests; d != NULL; d = d->next)
		if (strcmp(d->key, key) == 0) {
			d->idle = 0;
			return d;
		}
	d = xcalloc(1, sizeof(*d));
	memcpy(d->key, key, sizeof(key));
	if (rt != NULL) {
		d->is_route = 1;
		(void)xsnprintf(d->name, sizeof(d->name), "%s", rt->host);
		d->port = rt->port;
		d->tls = rt->tls;
	} else {
		(void)xsnprintf(d->name, sizeof(d->name), "%s", domain);
		d->port = dr.cfg->remote_smtp_port;
		d->tls = CONFIG_TLS_MAY;	/* MX: opportunistic */
	}
	d->next = dr.dests;
	dr.dests = d;
	return d;
}

void
deliver_remote_submit(struct dr_job *j)
{
	struct dest *d = dest_get(j->domain);

	dr.busy++;
	j->next = NULL;
	if (d->tail)
		d->tail->next = j;
	else
		d->head = j;
	d->tail = j;
	d->nwaiting++;
	dest_kick(d);
}

size_t
deliver_remote_busy(void)
{
	return dr.busy;
}

int
deliver_remote_init(struct event_base *base, const struct config *cfg,
    dr_done_cb done, void *arg)
{
	char err[256];

	dr.base = base;
	dr.cfg = cfg;
	dr.done = done;
	dr.arg = arg;
	dr.done_ev = evtimer_new(base, done_cb, NULL);
	dr.gc_ev = evtimer_new(base, gc_cb, NULL);
	/* One client context for the process's life. Without it "may"
	 * sends in plaintext and "required" defers. */
	if (dr.tls_ctx == NULL &&
	    (dr.tls_ctx = tls_client_ctx(err, sizeof(err))) == NULL)
		log_warn("outbound TLS unavailable: %s", err);
	dr.dns = dns_new(base, cfg->dns_servers, err, sizeof(err));
	if (dr.dns == NULL) {
		log_warn("outbound DNS unavailable: %s", err);
		return -1;
	}
	return 0;
}
