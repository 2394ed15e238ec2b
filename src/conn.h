/* conn - the connection layer of every protocol server process: accepts
 *        on its listeners, applies the session limits before anything is
 *        allocated, owns each client's socket, bufferevent, clock and TLS
 *        layer (implicit TLS, or an upgrade after a STARTTLS-style
 *        command with the cleartext behind it thrown away), feeds the
 *        client's bytes to the protocol in bounded chunks, stops reading
 *        while a client does not read its replies, and closes only once
 *        the output has drained.
 * Trusts: nothing from the network; the protocol's operations (its
 *         session machine glue) to say what state the session is in.
 * Gives:  one place where the limits, the clocks (idle, whole-session
 *         max_session_time, our own waits) and the closing of a
 *         connection live, for every protocol. A protocol plugs in with a
 *         table of operations (struct conn_ops): it parses bytes and
 *         writes replies; it never touches a socket.
 *         The limit arithmetic, the choice of the session to evict and
 *         the session clock are pure functions (conn_limits.c: conn_count,
 *         conn_limit_check, conn_idlest, conn_clock), unit tested.
 * Never:  parses a protocol, writes a protocol reply of its own (the
 *         protocol gives the lines), or keeps a session after its
 *         connection is gone (the protocol's object may outlive it: it is
 *         told with closed()). */
#ifndef POSTERN_CONN_H
#define POSTERN_CONN_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"
#include "netaddr.h"

struct event_base;
struct relay_policy;
struct conn;
struct conn_server;

/* ---- pure parts ---- */

/* What the layer knows of one live connection when a newcomer arrives. */
struct conn_snapshot {
	struct netaddr	client;		/* counting key (see conn_config.per_client_prefix) */
	int		kind;		/* its listener's kind */
	int		local;		/* client in local_networks */
	int		evictable;	/* may be closed to make room (listener allows,
					 * stranger, protocol says it is between commands) */
	time_t		active;		/* last input used */
};

struct conn_count {
	unsigned	client;		/* connections of the same client */
	unsigned	kind;		/* strangers on listeners of the same kind */
	unsigned	total;		/* all connections */
};

/* Count v[0..n) for a newcomer `client` (a counting key) on a `kind`
 * listener. Local clients do not count against the kind. */
void	conn_count(const struct conn_snapshot *v, size_t n,
	    const struct netaddr *client, int kind, struct conn_count *r);

struct conn_limits {
	unsigned	total;		/* all listeners of the server */
	unsigned	per_client;	/* per client; local_networks exempt */
	unsigned	kind;		/* strangers per listener kind ... */
	int		kind_limited;	/* ... if set */
};

enum conn_limit_hit {
	CONN_LIMIT_NONE = 0,
	CONN_LIMIT_PER_CLIENT,		/* eviction cannot help: it is the client */
	CONN_LIMIT_KIND,
	CONN_LIMIT_TOTAL,
};

/* Which limit the newcomer hits first (per client, then its listener
 * kind, then the total), with the count and the limit that decided. */
enum conn_limit_hit conn_limit_check(const struct conn_count *n,
	    const struct conn_limits *l, int local, unsigned *count_r,
	    unsigned *max_r);

/* The index of the idlest evictable connection in v[0..n), or -1. */
long	conn_idlest(const struct conn_snapshot *v, size_t n);

/* Milliseconds on a session's clock: `idle` seconds for the current state,
 * cut short by what is left of max_session_time, counted from started_ms
 * to now_ms (a monotonic clock in milliseconds: whole seconds would let
 * a session end up to a second early). Once that is over: 0 (now), or
 * 1000 while the session waits for our own processes (a second look soon,
 * rather than a busy loop). */
uint64_t conn_clock(unsigned idle, uint64_t started_ms,
	    unsigned max_session_time, uint64_t now_ms, int waiting_for_us);

/* ---- the protocol's side ---- */

/* What the session is doing, as far as the layer cares. */
enum conn_phase {
	CONN_PHASE_PEER = 0,	/* waiting for the client: fed, on its clock */
	CONN_PHASE_US,		/* waiting for one of our own processes: not fed */
	CONN_PHASE_TLS,		/* accepted a TLS upgrade: the layer throws away
				 * what the client sent so far (injection,
				 * CVE-2011-0411), runs the handshake and calls
				 * tls_started(upgraded = 1) */
	CONN_PHASE_CLOSE,	/* close once the output is flushed */
};

enum conn_timeout {
	CONN_TIMEOUT_IDLE,	/* the peer was silent for idle_seconds */
	CONN_TIMEOUT_SESSION,	/* max_session_time is over */
	CONN_TIMEOUT_HANDSHAKE,	/* TLS handshake never finished: log only, the
				 * layer drops the socket (no channel to talk on) */
	CONN_TIMEOUT_OURS,	/* the clock ran out while in CONN_PHASE_US */
};

enum conn_pump {
	CONN_PUMP_IDLE = 0,	/* no long response in progress: feed input */
	CONN_PUMP_DONE,		/* produced more, or finished: go on */
	CONN_PUMP_MORE,		/* more remains (a stall if nothing came out) */
};

/* Why a client is turned away, for the protocol's log line and reply. */
struct conn_rejection {
	enum conn_limit_hit hit;
	unsigned	count, max;
	const char	*ip;		/* the client, formatted */
	unsigned	port;		/* the client's port */
};

/* p is what opened() returned. Optional operations may be NULL. */
struct conn_ops {
	/* Admitted: set up the session and queue its greeting. NULL drops
	 * the client (the socket is closed; closed() is not called). */
	void	*(*opened)(struct conn *c);
	/* The session's reply buffer: the layer sends and empties it. */
	struct buf *(*output)(void *p);
	enum conn_phase (*phase)(void *p);
	/* Seconds the client has in the current state. */
	unsigned (*idle_seconds)(void *p);
	/* Client bytes: how many were consumed (fewer: busy or closing; the
	 * rest is fed again later). more: bytes already received beyond
	 * these. May call conn_clock_restart(). */
	size_t	(*feed)(struct conn *c, void *p, const char *data, size_t n,
		    size_t more);
	/* Optional: continue a long response once the socket drained. */
	enum conn_pump (*pump)(void *p);
	/* A TLS handshake finished: upgraded (after the protocol's upgrade
	 * command) or implicit TLS. desc: "TLSv1.3 TLS_AES_256_GCM_SHA384". */
	void	(*tls_started)(struct conn *c, void *p, const char *desc,
		    int upgraded);
	/* The clock ran out: log, and (but for HANDSHAKE) queue the goodbye
	 * line and close. For CONN_TIMEOUT_OURS, return 1 to keep waiting
	 * (the clock is armed again); 0 otherwise. */
	int	(*timeout)(struct conn *c, void *p, enum conn_timeout why);
	/* Server shutting down: queue the goodbye line and close (or not,
	 * if the session must finish what it does). */
	void	(*shutdown)(void *p);
	/* Optional: 1 if the session may be closed to make room now. */
	int	(*evictable)(void *p);
	/* Log a turned-away client and give its reply line (CRLF included)
	 * in line; 0 for none. Not sent on implicit-TLS listeners. */
	size_t	(*rejected)(void *arg, const struct conn_rejection *r,
		    char *line, size_t len);
	/* Optional: the line for an evicted cleartext session; 0 for none. */
	size_t	(*evict_line)(void *arg, char *line, size_t len);
	/* The connection is gone (socket closed or about to be): log the
	 * disconnect, release p (or keep it for work in flight: the layer
	 * never touches it again). */
	void	(*closed)(struct conn *c, void *p);
};

/* One listening socket. */
struct conn_listen {
	int		fd;
	int		kind;		/* the protocol's listener kind */
	unsigned	limit;		/* strangers on this kind at once ... */
	int		limited;	/* ... if set */
	int		implicit_tls;	/* TLS from the first byte; no reject line */
	int		evict;		/* its idlest stranger may make room */
};

/* Gates: the listeners open once every gate is clear. */
#define CONN_GATE_TLS		0x1	/* the master's certificate (when TLS is configured) */
#define CONN_GATE_PROTOCOL	0x2	/* the protocol's own (e.g. a table from another process) */

struct conn_config {
	const struct conn_ops *ops;
	void		*arg;		/* passed to rejected() and evict_line() */
	const char	*sid_prefix;	/* before the session id in logs */
	const char	*upgrade_verb;	/* for the "bytes received behind X discarded" log */
	size_t		 feed_chunk;	/* bytes per feed() */
	size_t		 in_max;	/* unprocessed input before reading stops */
	size_t		 out_pause;	/* unsent output before feeding stops */
	unsigned	 max_session_time;
	unsigned	 max_sessions;	/* whole server */
	unsigned	 max_per_client;
	int		 per_client_prefix;	/* count IPv6 clients per /64 (throttle_key) */
	const struct relay_policy *policy;	/* local_networks: exempt from limits */
	unsigned	 gates;		/* CONN_GATE_* that must clear before listening */
};

/* For struct proc_child.setup of a server that speaks TLS: after the
 * privilege drop, before landlock, OpenSSL reads its configuration once
 * while the file system is still open. */
void	conn_tls_preload(struct event_base *base, void *arg);

/* A server on base with listeners l[0..n) (copied; not listening yet). */
struct conn_server *conn_server_new(struct event_base *base,
	    const struct conn_config *cfg, const struct conn_listen *l, size_t n);
/* Clear a gate (0: none); with none left the listeners open and "ready"
 * is logged, once. */
void	conn_server_unblock(struct conn_server *srv, unsigned gate);
/* One of the master's TLS messages (tls_server_ipc); clears
 * CONN_GATE_TLS once the key has been handled. */
void	conn_server_tls_message(struct conn_server *srv, uint32_t type,
	    const void *data, size_t len);
/* SIGTERM: stop accepting, ask every session to say goodbye, and leave
 * the event loop shortly after. */
void	conn_server_shutdown(struct conn_server *srv);
/* The live connection with this id (an answer from another process may
 * find its session gone), or NULL. */
struct conn *conn_find(const struct conn_server *srv, uint64_t id);
/* Walk live connections: start with *cursor = 0; NULL at the end. */
struct conn *conn_next(const struct conn_server *srv, size_t *cursor);

/* The session made progress: feed more input, send output, re-arm the
 * clock; closes the connection when the session says so (c may be gone
 * afterwards). Call after an asynchronous answer. */
void	conn_process(struct conn *c);
/* Restart the client's clock at the end of this round (beyond replies,
 * which restart it anyway). */
void	conn_clock_restart(struct conn *c);

void		*conn_session(const struct conn *c);	/* what opened() returned */
uint64_t	 conn_id(const struct conn *c);		/* never 0 */
const char	*conn_sid(const struct conn *c);	/* for logs */
const struct netaddr *conn_peer(const struct conn *c);
const struct netaddr *conn_local(const struct conn *c);	/* family 0 if unknown */
const char	*conn_peer_text(const struct conn *c);	/* "192.0.2.1" */
unsigned	 conn_peer_port(const struct conn *c);
int		 conn_kind(const struct conn *c);	/* its listener's kind */
int		 conn_tls_available(const struct conn *c);	/* a TLS context exists */
int		 conn_tls_active(const struct conn *c);		/* encrypted now */
#endif
