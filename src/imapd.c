/* imapd - the IMAP process: runs one imap_session per connection the
 *         connection layer (conn.c) accepts on the IMAP listeners, asks
 *         the auth process to check credentials (LOGIN, AUTHENTICATE
 *         PLAIN and SCRAM-SHA-256), serves Maildirs from spool/mail, and
 *         watches the selected folders with one inotify descriptor so
 *         that IDLE hears of new mail at once.
 * Trusts: nothing from the network (the session parses it); the auth
 *         process's answers; its spool/mail directory descriptor; the
 *         kernel's inotify events only as "look again" hints.
 * Gives:  IMAP's side of the connection layer: its clock (IMAP_AUTOLOGOUT
 *         while a command is awaited), its BYE lines, long FETCH
 *         responses pumped as the socket drains. Any number of sessions
 *         on one mailbox (IMAP allows it; the store copes).
 * Limits: IMAPD_FEED_CHUNK / IMAPD_IN_MAX of unprocessed input per
 *         session; one inotify descriptor, two watches (new/, cur/) per
 *         selected folder, shared by the sessions on the same folder.
 * Never:  reads the users or secrets files, runs as root, touches a socket
 *         (conn.c does), or logs a password. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "buf.h"
#include "conn.h"
#include "imap_session.h"
#include "ipc.h"
#include "log.h"
#include "maildir.h"
#include "netaddr.h"
#include "outcome.h"
#include "proc.h"
#include "relay.h"
#include "users.h"

#define IMAPD_FEED_CHUNK	4096
#define IMAPD_IN_MAX		16384	/* unprocessed input before reads stop */
/* IDLE clients stay connected for days; the autologout clock (reset by
 * every reply) is what ends a silent one, not a whole-session cap. */
#define IMAPD_MAX_SESSION_TIME	604800
/* One read of the inotify descriptor: many events, coalesced per watch. */
#define IMAPD_INOTIFY_BUF	(64 * (sizeof(struct inotify_event) + NAME_MAX + 1))
/* Distinct watches remembered per read; beyond, every session looks. */
#define IMAPD_WATCHES_PER_READ	64
#define IMAPD_WATCH_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
				 IN_MOVED_TO | IN_ONLYDIR)

/* One IMAP session; it lives exactly as long as its connection. */
struct session {
	uint64_t	id;		/* the connection's, for auth's answers */
	char		sid[24];
	char		ip[64];
	struct imap_session s;
	int		scram_step;	/* 0, or the SCRAM step auth is answering */
	int		wd_new, wd_cur;	/* inotify watches of the selected
					 * folder, -1 for none */
};

static struct imapd {
	struct event_base *base;
	struct runtime	*rt;
	struct ipc	*auth;
	struct ipc	*master;
	struct conn_server *srv;	/* listeners and connections */
	struct relay_policy policy;	/* local_networks: exempt per client */
	struct imap_settings set;
	int		 inotify_fd;
	struct event	*inotify_ev;
	int		 shutting_down;	/* one goodbye, whoever asked first */
} p;

/* ---- folder watches: one inotify descriptor for the process ---- */

/* Whether some live session other than except uses watch wd. */
static int
wd_used(int wd, const struct session *except)
{
	struct conn *conn;
	size_t cursor = 0;

	while ((conn = conn_next(p.srv, &cursor)) != NULL) {
		const struct session *o = conn_session(conn);

		if (o != except && (o->wd_new == wd || o->wd_cur == wd))
			return 1;
	}
	return 0;
}

static void
unwatch(struct session *c)
{
	if (c->wd_new != -1 && !wd_used(c->wd_new, c))
		inotify_rm_watch(p.inotify_fd, c->wd_new);
	if (c->wd_cur != -1 && !wd_used(c->wd_cur, c))
		inotify_rm_watch(p.inotify_fd, c->wd_cur);
	c->wd_new = c->wd_cur = -1;
}

/* The same directory watched twice gives the same wd: sessions on one
 * folder share it. The path goes through /proc/self/fd (our own
 * descriptors stay reachable after the privilege drop; inotify is not a
 * file access landlock restricts). */
static int
add_watch(int dir_fd, const char *sub)
{
	char path[64];

	if (xsnprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dir_fd,
	    sub) == -1)
		return -1;
	return inotify_add_watch(p.inotify_fd, path, IMAPD_WATCH_MASK);
}

/* Whether wd is among v[0..n). */
static int
wd_in(const int *v, size_t n, int wd)
{
	size_t i;

	for (i = 0; i < n && wd != -1; i++)
		if (v[i] == wd)
			return 1;
	return 0;
}

/* Drain the descriptor, gather the watches that saw something (a delivery
 * burst or a big EXPUNGE is many events on few watches), then tell each
 * session on them once. */
static void
inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[IMAPD_INOTIFY_BUF]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	int hit[IMAPD_WATCHES_PER_READ], gone[IMAPD_WATCHES_PER_READ];
	size_t nhit = 0, ngone = 0, cursor, n = 0, cap = 0, i;
	int all = 0;	/* events lost, or too many watches: everyone looks */
	struct conn *conn;
	uint64_t *ids = NULL;
	ssize_t r;

	(void)what; (void)arg;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		const char *q = buf;

		while (q < buf + r) {
			const struct inotify_event *ev = (const void *)q;

			q += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW)
				all = 1;
			else if (!wd_in(hit, nhit, ev->wd)) {
				if (nhit < IMAPD_WATCHES_PER_READ)
					hit[nhit++] = ev->wd;
				else
					all = 1;
			}
			/* The directory itself went away: so did its watch. */
			if ((ev->mask & IN_IGNORED) && ngone < IMAPD_WATCHES_PER_READ)
				gone[ngone++] = ev->wd;
		}
	}
	if (r == -1 && errno != EAGAIN && errno != EINTR)
		log_warn("inotify read: %s", strerror(errno));
	if (nhit == 0 && !all)
		return;
	/* conn_process() may close a connection: collect ids first. */
	cursor = 0;
	while ((conn = conn_next(p.srv, &cursor)) != NULL) {
		struct session *c = conn_session(conn);

		if (c->wd_new == -1 && c->wd_cur == -1)
			continue;
		if (!all && !wd_in(hit, nhit, c->wd_new) &&
		    !wd_in(hit, nhit, c->wd_cur))
			continue;
		if (wd_in(gone, ngone, c->wd_new))
			c->wd_new = -1;
		if (wd_in(gone, ngone, c->wd_cur))
			c->wd_cur = -1;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = xreallocarray(ids, cap, sizeof(*ids));
		}
		ids[n++] = c->id;
	}
	for (i = 0; i < n; i++) {
		if ((conn = conn_find(p.srv, ids[i])) == NULL)
			continue;
		imap_session_changed(&((struct session *)conn_session(conn))->s);
		conn_process(conn);
	}
	free(ids);
}

/* ---- the session's requests ---- */

static void
op_check_password(void *arg, const char *user, const char *pass)
{
	struct session *c = arg;
	const struct ipc_fields f = { { user, pass, c->ip }, 3, NULL, 0 };

	c->scram_step = 0;
	if (ipc_send_fields(p.auth, IPC_IMAP_PASS, c->id, &f) == -1)
		imap_session_auth_result(&c->s, OUTCOME_TEMP, NULL);
}

static void
op_scram_step(void *arg, int step, const char *msg, size_t len)
{
	struct session *c = arg;
	const struct ipc_fields f = { { c->ip }, 1, msg, len };

	c->scram_step = step;
	if (ipc_send_fields(p.auth, step == 1 ? IPC_IMAP_SCRAM_FIRST :
	    IPC_IMAP_SCRAM_FINAL, c->id, &f) == -1) {
		c->scram_step = 0;
		imap_session_auth_result(&c->s, OUTCOME_TEMP, NULL);
	}
}

static void
op_scram_abort(void *arg)
{
	struct session *c = arg;

	c->scram_step = 0;
	ipc_send(p.auth, IPC_IMAP_SCRAM_ABORT, c->id, NULL, 0);
}

static int
op_open_maildir(void *arg, const char *user)
{
	struct session *c = arg;
	char path[128];
	int fd;

	/* auth checked the name; a path is built from it all the same. */
	if (!users_name_valid(user) ||
	    xsnprintf(path, sizeof(path), "%s/Maildir", user) == -1)
		return -1;
	/* A user who never got mail has an empty INBOX, not an error. */
	fd = openat(p.rt->mail_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT && maildir_create(p.rt->mail_fd, user) == 0)
		fd = openat(p.rt->mail_fd, path, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		log_warn("session=%s maildir %s: %s", c->sid, user,
		    strerror(errno));
	return fd;
}

static void
op_watch(void *arg, int dir_fd)
{
	struct session *c = arg;

	unwatch(c);
	if (dir_fd == -1 || p.inotify_fd == -1)
		return;
	c->wd_new = add_watch(dir_fd, "new");
	c->wd_cur = add_watch(dir_fd, "cur");
	if (c->wd_new == -1 || c->wd_cur == -1)
		log_warn("session=%s inotify_add_watch: %s (changes seen at the "
		    "next command only)", c->sid, strerror(errno));
}

static void
op_log(void *arg, const char *line)
{
	struct session *c = arg;

	log_info("session=%s %s", c->sid, line);
}

static const struct imap_session_ops ops = {
	.check_password = op_check_password,
	.scram_step = op_scram_step,
	.scram_abort = op_scram_abort,
	.open_maildir = op_open_maildir,
	.watch = op_watch,
	.log = op_log,
};

/* ---- IMAP's side of the connection layer (conn_ops) ---- */

static void *
imap_opened(struct conn *conn)
{
	struct session *c;
	char text[80];

	c = xcalloc(1, sizeof(*c));
	c->id = conn_id(conn);
	c->wd_new = c->wd_cur = -1;
	snprintf(c->sid, sizeof(c->sid), "%s", conn_sid(conn));
	snprintf(c->ip, sizeof(c->ip), "%s", conn_peer_text(conn));
	snprintf(text, sizeof(text), "[%s]", c->ip);
	log_info("session=%s connect from %s", c->sid, text);
	imap_session_init(&c->s, &p.set, text, &ops, c);
	c->s.tls_available = conn_tls_available(conn);
	c->s.tls_active = conn_tls_active(conn);	/* imaps (993) */
	imap_session_start(&c->s);
	return c;
}

static struct buf *
imap_output(void *arg)
{
	struct session *c = arg;

	return &c->s.out;
}

/* Every state runs on the client's clock, the auth wait included (auth
 * answers within its own bounded delays). */
static enum conn_phase
imap_phase(void *arg)
{
	const struct session *c = arg;

	if (c->s.close)
		return CONN_PHASE_CLOSE;
	return c->s.state == IMAP_STATE_TLS_WAIT ? CONN_PHASE_TLS :
	    CONN_PHASE_PEER;
}

/* RFC 9051 5.4: the autologout timer is at least 30 minutes; IDLE is
 * on the same clock (clients re-issue IDLE well within it). */
static unsigned
imap_idle_seconds(void *arg)
{
	(void)arg;
	return IMAP_AUTOLOGOUT;
}

static size_t
imap_feed(struct conn *conn, void *arg, const char *data, size_t n,
    size_t more)
{
	struct session *c = arg;

	(void)conn; (void)more;
	return imap_session_feed(&c->s, data, n);
}

static enum conn_pump
imap_pump(void *arg)
{
	struct session *c = arg;

	if (!imap_session_pumping(&c->s))
		return CONN_PUMP_IDLE;
	return imap_session_pump(&c->s) == 1 ? CONN_PUMP_MORE : CONN_PUMP_DONE;
}

static void
imap_tls_started(struct conn *conn, void *arg, const char *desc, int upgraded)
{
	struct session *c = arg;

	(void)conn;
	log_info("session=%s tls %s", c->sid, desc);
	c->s.tls_active = 1;
	if (upgraded)
		imap_session_tls_started(&c->s);
}

static int
imap_timeout(struct conn *conn, void *arg, enum conn_timeout why)
{
	struct session *c = arg;

	(void)conn;
	if (why == CONN_TIMEOUT_HANDSHAKE) {
		log_info("session=%s timeout in TLS handshake", c->sid);
		return 0;
	}
	if (why == CONN_TIMEOUT_SESSION)
		log_info("session=%s session time (%us) reached", c->sid,
		    IMAPD_MAX_SESSION_TIME);
	else
		log_info("session=%s autologout", c->sid);
	imap_session_timeout(&c->s);	/* sets s.close */
	return 0;
}

static void
imap_shutdown(void *arg)
{
	struct session *c = arg;

	imap_session_shutdown(&c->s);
}

/* max_imap_sessions, max_imap_sessions_per_client (local_networks exempt
 * from the second). */
static size_t
imap_rejected(void *arg, const struct conn_rejection *r, char *line,
    size_t len)
{
	static const char msg[] = "* BYE [UNAVAILABLE] too many connections\r\n";

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
imap_closed(struct conn *conn, void *arg)
{
	struct session *c = arg;

	(void)conn;
	log_info("session=%s disconnect from [%s]", c->sid, c->ip);
	if (c->scram_step != 0)
		ipc_send(p.auth, IPC_IMAP_SCRAM_ABORT, c->id, NULL, 0);
	imap_session_free(&c->s);	/* may call op_watch(-1) */
	unwatch(c);
	free(c);
}

static const struct conn_ops imap_conn_ops = {
	.opened = imap_opened,
	.output = imap_output,
	.phase = imap_phase,
	.idle_seconds = imap_idle_seconds,
	.feed = imap_feed,
	.pump = imap_pump,
	.tls_started = imap_tls_started,
	.timeout = imap_timeout,
	.shutdown = imap_shutdown,
	.rejected = imap_rejected,
	.closed = imap_closed,
};

static struct conn_server *
imap_server(const struct runtime *rt)
{
	const struct config *cfg = rt->cfg;
	struct conn_config cc;
	struct conn_listen *l;
	struct conn_server *srv;
	size_t i;

	memset(&cc, 0, sizeof(cc));
	cc.ops = &imap_conn_ops;
	cc.sid_prefix = "I";
	cc.upgrade_verb = "STARTTLS";
	cc.feed_chunk = IMAPD_FEED_CHUNK;
	cc.in_max = IMAPD_IN_MAX;
	cc.out_pause = IMAP_OUT_HIGHWATER;
	cc.max_session_time = IMAPD_MAX_SESSION_TIME;
	cc.max_sessions = cfg->max_imap_sessions;
	cc.max_per_client = cfg->max_imap_sessions_per_client;
	cc.policy = &p.policy;
	/* With TLS configured, no client before the certificate is here. */
	cc.gates = cfg->tls_cert ? CONN_GATE_TLS : 0;
	l = xcalloc(rt->n_imap_fds ? rt->n_imap_fds : 1, sizeof(*l));
	for (i = 0; i < rt->n_imap_fds; i++) {
		l[i].fd = rt->imap_fds[i];
		l[i].kind = rt->imap_kinds[i];
		l[i].implicit_tls = l[i].kind == LISTEN_IMAPS;
	}
	srv = conn_server_new(p.base, &cc, l, rt->n_imap_fds);
	free(l);
	return srv;
}

/* One byte outcome, then: after SCRAM step 1 the server-first message;
 * after a successful step 2 "user NUL server-final". */
static void
auth_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	const char *d = data, *nul;
	struct conn *conn;
	struct session *c;
	int r, step;

	(void)ipc; (void)arg;
	if (type != IPC_IMAP_AUTH_REPLY || len < 1)
		fatal("auth sent an unexpected message (type %u, %zu bytes)",
		    type, len);
	if ((conn = conn_find(p.srv, id)) == NULL ||
	    (c = conn_session(conn))->s.state != IMAP_STATE_AUTH_WAIT)
		return;
	r = (unsigned char)d[0];
	if (r > OUTCOME_DENIED)
		r = OUTCOME_TEMP;
	step = c->scram_step;
	c->scram_step = 0;
	if (step == 1 && r == OUTCOME_OK && len > 1) {
		c->scram_step = 1;	/* auth keeps a slot: abort it if we go */
		imap_session_sasl_result(&c->s, d + 1, len - 1);
	} else if (step == 2 && r == OUTCOME_OK && len > 1 &&
	    (nul = memchr(d + 1, '\0', len - 1)) != NULL) {
		/* The session sends the server-final message and completes
		 * with the outcome once the client has answered it. */
		imap_session_sasl_result(&c->s, nul + 1,
		    len - (size_t)(nul + 1 - d));
		imap_session_auth_result(&c->s, OUTCOME_OK, d + 1);
	} else {
		imap_session_auth_result(&c->s, r == OUTCOME_OK && step != 0 ?
		    OUTCOME_TEMP : r, NULL);
	}
	conn_process(conn);
}

static void
master_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)ipc; (void)id; (void)arg;
	conn_server_tls_message(p.srv, type, data, len);
}

/* auth is gone (the master stops or restarts the set, and the order in
 * which its children see SIGTERM is chance): no login can be checked any
 * more, so say BYE to every session as for SIGTERM, then exit. */
static void
auth_eof_cb(struct ipc *ipc, void *arg)
{
	(void)ipc; (void)arg;
	log_info("auth process gone; exiting");
	if (!p.shutting_down++)
		conn_server_shutdown(p.srv);
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig; (void)what; (void)arg;
	if (!p.shutting_down++)
		conn_server_shutdown(p.srv);
}

void
imapd_main(struct runtime *rt, int auth_fd)
{
	/* imapd reaches spool/mail only: it creates, renames and removes
	 * folders (directories) and messages. */
	const struct proc_child pc = {
		.keep = PROC_KEEP_MAIL | PROC_KEEP_IMAP,
		.dirs = { { rt->mail_fd, PROC_FS_READ | PROC_FS_WRITE |
		    PROC_FS_MKDIR | PROC_FS_RMDIR } },
		.ndirs = 1,
		.setup = conn_tls_preload,
		.master_msg = master_msg_cb,
		.on_sigterm = sigterm_cb,
	};

	p.rt = rt;
	relay_policy_from_config(&p.policy, rt->cfg);
	p.set.hostname = rt->cfg->hostname;
	p.set.plaintext_without_tls = rt->cfg->imap_plaintext_auth;
	p.set.max_message_size = rt->cfg->max_message_size;
	p.set.max_errors = rt->cfg->max_errors;
	p.base = proc_child_start(rt, &pc, &p.master);
	/* Without inotify, IDLE and other sessions' changes are seen at the
	 * client's next command only (NOOP polling still works). */
	p.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p.inotify_fd == -1)
		log_warn("inotify_init1: %s (IDLE will not be immediate)",
		    strerror(errno));
	else {
		p.inotify_ev = event_new(p.base, p.inotify_fd,
		    EV_READ | EV_PERSIST, inotify_cb, NULL);
		event_add(p.inotify_ev, NULL);
	}
	p.srv = imap_server(rt);
	p.auth = ipc_new(p.base, auth_fd, auth_msg_cb, auth_eof_cb, NULL);
	conn_server_unblock(p.srv, 0);	/* at once unless waiting for TLS */
	event_base_dispatch(p.base);
	exit(0);
}
