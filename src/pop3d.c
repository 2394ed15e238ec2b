/* pop3d - the POP3 process: runs one pop3_session per connection the
 *         connection layer (conn.c) accepts on the POP3 listeners, asks
 *         the auth process to check credentials, and serves Maildirs from
 *         spool/mail.
 * Trusts: nothing from the network (the session parses it); the auth
 *         process's answers; its spool/mail directory descriptor.
 * Gives:  one session per mailbox at a time (a second gets -ERR [IN-USE]);
 *         the lock is released when the connection ends, whatever the way.
 *         POP3's side of the connection layer: its clock (POP3D_TIMEOUT),
 *         its -ERR lines, the multi-line responses pumped as the socket
 *         drains.
 * Never:  reads the users or secrets files, runs as root, or touches a
 *         socket (conn.c does). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "conn.h"
#include "ipc.h"
#include "log.h"
#include "mailbox.h"
#include "maildir.h"
#include "netaddr.h"
#include "pop3_session.h"
#include "proc.h"
#include "relay.h"

#define POP3D_TIMEOUT		600	/* RFC 1939: at least 10 minutes */
#define POP3D_MAX_MESSAGES	100000	/* per snapshot */
#define POP3D_FEED_CHUNK	4096
#define POP3D_IN_MAX		16384	/* unprocessed input before reads stop */

/* One POP3 session; it lives exactly as long as its connection. */
struct session {
	uint64_t	id;		/* the connection's, for auth's answers */
	char		sid[24];
	char		ip[64];
	struct pop3_session s;
	struct mailbox	mb;
	int		mb_open;
	char		locked[POP3_USER_MAX + 1];	/* "" when no lock held */
	int		msg_fd;
};

static struct pop3d {
	struct event_base *base;
	struct runtime	*rt;
	struct ipc	*auth;
	struct conn_server *srv;	/* listeners and connections */
	struct relay_policy policy;	/* local_networks: exempt per client */
	struct pop3_settings set;
	struct ipc	*master;
} p;

/* ---- mailbox locks: one session per user ---- */

static int
user_locked(const char *user)
{
	struct conn *conn;
	size_t cursor = 0;

	while ((conn = conn_next(p.srv, &cursor)) != NULL) {
		const struct session *o = conn_session(conn);

		if (strcmp(o->locked, user) == 0)
			return 1;
	}
	return 0;
}

/* ---- the session's requests ---- */

static void
op_check_password(void *arg, const char *user, const char *pass)
{
	struct session *c = arg;
	const struct ipc_fields f = { { user, pass, c->ip }, 3, NULL, 0 };

	if (ipc_send_fields(p.auth, IPC_POP3_PASS, c->id, &f) == -1)
		pop3_session_auth_result(&c->s, OUTCOME_TEMP);
}

static void
op_check_apop(void *arg, const char *user, const char *ts, const char *digest)
{
	struct session *c = arg;
	const struct ipc_fields f = { { user, ts, digest, c->ip }, 4, NULL, 0 };

	if (ipc_send_fields(p.auth, IPC_POP3_APOP, c->id, &f) == -1)
		pop3_session_auth_result(&c->s, OUTCOME_TEMP);
}

static void
op_open_mailbox(void *arg, const char *user)
{
	struct session *c = arg;
	char path[128];
	int fd;

	if (user_locked(user)) {
		pop3_session_mailbox_result(&c->s, POP3_IN_USE, NULL);
		return;
	}
	if (xsnprintf(path, sizeof(path), "%s/Maildir", user) == -1) {
		pop3_session_mailbox_result(&c->s, OUTCOME_PERM, NULL);
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
		pop3_session_mailbox_result(&c->s, OUTCOME_TEMP, NULL);
		return;
	}
	c->mb_open = 1;
	snprintf(c->locked, sizeof(c->locked), "%s", user);
	pop3_session_mailbox_result(&c->s, OUTCOME_OK, &c->mb);
}

static int
op_msg_open(void *arg, const struct mailbox *mb, size_t index)
{
	struct session *c = arg;

	c->msg_fd = mailbox_msg_open(mb, index);
	return c->msg_fd == -1 ? -1 : 0;
}

static ssize_t
op_msg_read(void *arg, char *buf, size_t len)
{
	struct session *c = arg;

	return mailbox_fd_read(&c->msg_fd, buf, len);
}

static void
op_msg_close(void *arg)
{
	struct session *c = arg;

	if (c->msg_fd != -1)
		close(c->msg_fd);
	c->msg_fd = -1;
}

static int
op_update(void *arg, struct mailbox *mb)
{
	struct session *c = arg;
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
	struct session *c = arg;

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


/* ---- POP3's side of the connection layer (conn_ops) ---- */

static void *
pop_opened(struct conn *conn)
{
	unsigned char rnd[APOP_RANDOM_BYTES];
	struct session *c;
	char text[80];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->msg_fd = -1;
	c->id = conn_id(conn);
	snprintf(c->sid, sizeof(c->sid), "%s", conn_sid(conn));
	snprintf(c->ip, sizeof(c->ip), "%s", conn_peer_text(conn));
	snprintf(text, sizeof(text), "[%s]", c->ip);
	log_info("session=%s connect from %s", c->sid, text);
	pop3_session_init(&c->s, &p.set, text, &ops, c);
	c->s.tls_available = conn_tls_available(conn);
	c->s.tls_active = conn_tls_active(conn);	/* pop3s (995) */
	pop3_session_start(&c->s, rnd, sizeof(rnd), (long long)getpid(),
	    (long long)time(NULL));
	explicit_bzero(rnd, sizeof(rnd));
	return c;
}

static struct buf *
pop_output(void *arg)
{
	struct session *c = arg;

	return &c->s.out;
}

/* Every state runs on the client's clock, the auth wait included. */
static enum conn_phase
pop_phase(void *arg)
{
	const struct session *c = arg;

	if (c->s.close)
		return CONN_PHASE_CLOSE;
	return c->s.state == POP3_STATE_TLS_WAIT ? CONN_PHASE_TLS :
	    CONN_PHASE_PEER;
}

/* The clock runs from our last output (a command must arrive within
 * POP3D_TIMEOUT of the previous reply: dribbling bytes does not reset
 * it), and never past max_session_time. */
static unsigned
pop_idle_seconds(void *arg)
{
	(void)arg;
	return POP3D_TIMEOUT;
}

static size_t
pop_feed(struct conn *conn, void *arg, const char *data, size_t n, size_t more)
{
	struct session *c = arg;

	(void)conn; (void)more;
	return pop3_session_feed(&c->s, data, n);
}

static enum conn_pump
pop_pump(void *arg)
{
	struct session *c = arg;

	if (c->s.stream == POP3_STREAM_NONE)
		return CONN_PUMP_IDLE;
	return pop3_session_pump(&c->s) == 1 ? CONN_PUMP_MORE : CONN_PUMP_DONE;
}

static void
pop_tls_started(struct conn *conn, void *arg, const char *desc, int upgraded)
{
	struct session *c = arg;

	(void)conn;
	log_info("session=%s tls %s", c->sid, desc);
	if (upgraded)
		pop3_session_tls_started(&c->s);
}

static int
pop_timeout(struct conn *conn, void *arg, enum conn_timeout why)
{
	struct session *c = arg;

	(void)conn;
	if (why == CONN_TIMEOUT_HANDSHAKE) {
		/* STLS or pop3s and then silence: there is no channel to say
		 * "-ERR" on, only the socket to drop. */
		log_info("session=%s timeout in TLS handshake", c->sid);
		return 0;
	}
	if (why == CONN_TIMEOUT_SESSION)
		log_info("session=%s max_session_time (%us) reached", c->sid,
		    p.rt->cfg->max_session_time);
	else
		log_info("session=%s timeout", c->sid);
	pop3_session_timeout(&c->s);	/* sets s.close, mid-response too */
	return 0;
}

static void
pop_shutdown(void *arg)
{
	struct session *c = arg;

	pop3_session_shutdown(&c->s);
}

/* max_pop3_sessions, max_pop3_sessions_per_client (local_networks
 * exempt from the second). */
static size_t
pop_rejected(void *arg, const struct conn_rejection *r, char *line, size_t len)
{
	static const char msg[] = "-ERR [SYS/TEMP] too many connections\r\n";

	(void)arg;
	log_info("connect from [%s] rejected: too many connections "
	    "(%s: %u, limit %u)", r->ip, r->hit == CONN_LIMIT_PER_CLIENT ?
	    "per client" : "total", r->count, r->max);
	if (len < sizeof(msg))
		return 0;
	memcpy(line, msg, sizeof(msg));
	return sizeof(msg) - 1;
}

static void
pop_closed(struct conn *conn, void *arg)
{
	struct session *c = arg;

	(void)conn;
	log_info("session=%s disconnect from [%s]", c->sid, c->ip);
	pop3_session_free(&c->s);	/* closes an open message */
	if (c->mb_open)
		mailbox_free(&c->mb);	/* deletes nothing: only QUIT does */
	c->locked[0] = '\0';
	free(c);
}

static const struct conn_ops pop3_conn_ops = {
	.opened = pop_opened,
	.output = pop_output,
	.phase = pop_phase,
	.idle_seconds = pop_idle_seconds,
	.feed = pop_feed,
	.pump = pop_pump,
	.tls_started = pop_tls_started,
	.timeout = pop_timeout,
	.shutdown = pop_shutdown,
	.rejected = pop_rejected,
	.closed = pop_closed,
};

static struct conn_server *
pop3_server(const struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct conn_config cc;
	struct conn_listen *l;
	struct conn_server *srv;
	size_t i;

	memset(&cc, 0, sizeof(cc));
	cc.ops = &pop3_conn_ops;
	cc.sid_prefix = "P";
	cc.upgrade_verb = "STLS";
	cc.feed_chunk = POP3D_FEED_CHUNK;
	cc.in_max = POP3D_IN_MAX;
	cc.out_pause = POP3_OUT_HIGHWATER;
	cc.max_session_time = cfg->max_session_time;
	cc.max_sessions = cfg->max_pop3_sessions;
	cc.max_per_client = cfg->max_pop3_sessions_per_client;
	cc.policy = &p.policy;
	/* With TLS configured, no client before the certificate is here. */
	cc.gates = cfg->tls_cert ? CONN_GATE_TLS : 0;
	l = xcalloc(rt->n_pop3_fds ? rt->n_pop3_fds : 1, sizeof(*l));
	for (i = 0; i < rt->n_pop3_fds; i++) {
		l[i].fd = rt->pop3_fds[i];
		l[i].kind = rt->pop3_kinds[i];
		l[i].implicit_tls = l[i].kind == LISTEN_POP3S;
	}
	srv = conn_server_new(p.base, &cc, l, rt->n_pop3_fds);
	free(l);
	return srv;
}


static void
auth_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	struct conn *conn;
	struct session *c;
	unsigned char r;

	(void)ipc; (void)arg;
	if (type != IPC_POP3_AUTH_REPLY || len != 1)
		fatal("auth sent an unexpected message (type %u, %zu bytes)",
		    type, len);
	if ((conn = conn_find(p.srv, id)) == NULL ||
	    (c = conn_session(conn))->s.state != POP3_STATE_AUTH_WAIT)
		return;
	r = *(const unsigned char *)data;
	pop3_session_auth_result(&c->s, r <= POP3_IN_USE ? (enum pop3_result)r :
	    OUTCOME_TEMP);
	conn_process(conn);
}

static void
master_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)ipc; (void)id; (void)arg;
	conn_server_tls_message(p.srv, type, data, len);
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig; (void)what; (void)arg;
	conn_server_shutdown(p.srv);
}

void
pop3d_main(struct runtime *rt, int auth_fd)
{
	/* pop3d reaches spool/mail only. */
	const struct proc_child pc = {
		.keep = PROC_KEEP_MAIL | PROC_KEEP_POP3,
		.dirs = { { rt->mail_fd,
		    PROC_FS_READ | PROC_FS_WRITE | PROC_FS_MKDIR } },
		.ndirs = 1,
		.setup = conn_tls_preload,
		.master_msg = master_msg_cb,
		.on_sigterm = sigterm_cb,
	};

	p.rt = rt;
	relay_policy_from_config(&p.policy, rt->cfg);
	p.set.hostname = rt->cfg->hostname;
	p.set.auth = rt->cfg->pop3_auth == CONFIG_POP3_AUTH_APOP_ONLY ?
	    POP3_AUTH_APOP_ONLY : rt->cfg->pop3_auth == CONFIG_POP3_AUTH_TLS_ONLY ?
	    POP3_AUTH_TLS_ONLY : POP3_AUTH_ANY;
	p.base = proc_child_start(rt, &pc, &p.master);
	p.srv = pop3_server(rt);
	p.auth = ipc_new(p.base, auth_fd, auth_msg_cb, proc_peer_gone, NULL);
	conn_server_unblock(p.srv, 0);	/* at once unless waiting for TLS */
	event_base_dispatch(p.base);
	exit(0);
}
