/* pop3_session - one POP3 server session (RFC 1939, CAPA of RFC 2449,
 *                response codes of RFC 2449/3206) as an explicit state
 *                machine.
 * Trusts: nothing the client sends. Trusts its ops (pop3d.c), the
 *         settings and the random bytes it is given, and the mailbox
 *         snapshot handed to pop3_session_mailbox_result().
 * Gives:  bytes in (pop3_session_feed), replies out (s->out), and requests
 *         to the world through ops: "is this password / APOP digest right
 *         for this user?", "open this user's mailbox", "open / read / close
 *         message i", "commit the deletions". Credential and mailbox
 *         answers are asynchronous and come back through
 *         pop3_session_auth_result() and pop3_session_mailbox_result();
 *         while one is pending the session consumes no input.
 *         Dispatch: line -> verb ("-ERR unknown command") -> state ("-ERR
 *         command not valid in this state") -> handler checks arguments
 *         ("-ERR syntax: ...", "-ERR no such message") -> act.
 *         Multi-line responses (LIST, UIDL, RETR, TOP, CAPA) are
 *         dot-stuffed and end with ".\r\n"; LIST, UIDL, RETR and TOP are
 *         produced piecewise (pop3_session_pump) so s->out stays bounded.
 * Limits: command lines 255 octets with CRLF (linebuf); user names
 *         POP3_USER_MAX; -ERR replies caused by the client max_errors
 *         (then "-ERR too many errors" and close); s->out never holds more
 *         than POP3_OUT_MAX, and no input is consumed while it holds
 *         POP3_OUT_HIGHWATER or more.
 * Never:  touches a socket, a file, a clock or a random source itself;
 *         logs or keeps a password (the copy it passes to check_password
 *         is wiped when the call returns); deletes anything unless the
 *         client says QUIT in TRANSACTION. */
#ifndef POSTERN_POP3_SESSION_H
#define POSTERN_POP3_SESSION_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "apop.h"
#include "buf.h"
#include "linebuf.h"
#include "mailbox.h"
#include "outcome.h"

#define POP3_CMD_LIMIT		255	/* octets with CRLF (RFC 2449: 255) */
#define POP3_USER_MAX		64
#define POP3_MAX_ERRORS_DEFAULT	10
#define POP3_OUT_HIGHWATER	65536
#define POP3_OUT_MAX		(POP3_OUT_HIGHWATER + MAILBOX_ITER_MAXOUT + 4096)

enum pop3_state {
	POP3_STATE_GREETING = 0,	/* before pop3_session_start() */
	POP3_STATE_AUTHORIZATION,	/* needs USER/PASS or APOP */
	POP3_STATE_AUTH_USER,		/* USER accepted: PASS must follow */
	POP3_STATE_AUTH_WAIT,		/* check_password/check_apop pending */
	POP3_STATE_TLS_WAIT,		/* "+OK Begin TLS" sent: the caller throws
					 * away what it holds (injection), does the
					 * handshake, calls pop3_session_tls_started() */
	POP3_STATE_MAILBOX_WAIT,	/* open_mailbox pending */
	POP3_STATE_TRANSACTION,		/* logged in, mailbox snapshot held */
	POP3_STATE_UPDATE,		/* QUIT in TRANSACTION: deletions done */
	POP3_STATE_CLOSED,		/* QUIT, too many errors, timeout... */
};

/* The answer to check_password, check_apop and open_mailbox: an outcome
 * (outcome.h: OUTCOME_OK; OUTCOME_TEMP, auth or disk trouble: -ERR
 * [SYS/TEMP]; OUTCOME_PERM, e.g. no mailbox for this user: -ERR [SYS/PERM])
 * or one of the two refusals that have a reply of their own, numbered
 * after the outcomes so that one byte carries either. */
enum pop3_result {
	POP3_BAD = OUTCOME_DENIED,	/* wrong user, password or digest:
					 * -ERR [AUTH] (permanent) */
	POP3_IN_USE,	/* another session holds the mailbox: -ERR [IN-USE]
			 * (temporary); the largest value */
};

enum pop3_auth_policy {
	POP3_AUTH_ANY = 0,	/* USER/PASS and APOP */
	POP3_AUTH_APOP_ONLY,	/* APOP only; CAPA does not list USER */
	POP3_AUTH_TLS_ONLY,	/* USER/PASS only over TLS; APOP always */
};

/* What multi-line response is being produced by pop3_session_pump(). */
enum pop3_stream {
	POP3_STREAM_NONE = 0,
	POP3_STREAM_LIST,
	POP3_STREAM_UIDL,
	POP3_STREAM_MSG,	/* RETR or TOP */
};

struct pop3_settings {
	const char	*hostname;	/* for the APOP timestamp; must outlive s */
	enum pop3_auth_policy auth;
	unsigned	 max_errors;	/* 0: POP3_MAX_ERRORS_DEFAULT */
};

struct pop3_session;

struct pop3_session_ops {
	/* Check user's password; answer with pop3_session_auth_result().
	 * May answer before returning. pass is wiped when this returns:
	 * copy it if it is needed later (e.g. into an IPC message). */
	void	(*check_password)(void *arg, const char *user, const char *pass);
	/* Check an APOP digest (32 hex digits, either case) against
	 * MD5(timestamp || user's secret) (apop_check()); answer with
	 * pop3_session_auth_result(). May answer before returning. */
	void	(*check_apop)(void *arg, const char *user, const char *timestamp,
		    const char *digest);
	/* Credentials were right: lock and snapshot the user's mailbox and
	 * answer with pop3_session_mailbox_result(). May answer before
	 * returning. */
	void	(*open_mailbox)(void *arg, const char *user);
	/* RETR/TOP of message index (0-based in the snapshot): open it.
	 * 0, or -1 ("-ERR [SYS/TEMP]"). At most one is open at a time. */
	int	(*msg_open)(void *arg, const struct mailbox *mb, size_t index);
	/* Raw octets of the open message (mailbox_read_fn): n, 0 at the end,
	 * -1 on error (the session then closes the connection). */
	ssize_t	(*msg_read)(void *arg, char *p, size_t len);
	/* Done with the open message (also on error and at free). */
	void	(*msg_close)(void *arg);
	/* QUIT in TRANSACTION with messages marked: remove them
	 * (mailbox_commit()). 0, or -1 if some could not be removed. */
	int	(*update)(void *arg, struct mailbox *mb);
	/* A log line about this session; never contains a password. */
	void	(*log)(void *arg, const char *line);
};

struct pop3_session {
	enum pop3_state	state;
	struct pop3_settings set;
	char		client_text[64];	/* "[192.0.2.1]" for logs */
	char		timestamp[APOP_TIMESTAMP_MAX];	/* "<...@host>" */
	char		user[POP3_USER_MAX + 1];	/* "" until USER/APOP */
	int		apop;			/* the pending/finished login used APOP */
	struct linebuf	lb;
	struct buf	out;			/* replies; the caller drains it */
	unsigned	errors;			/* client-caused -ERR so far */
	int		close;			/* close once out is flushed */
	struct mailbox	*mb;			/* borrowed; NULL before TRANSACTION */
	enum pop3_stream stream;		/* multi-line response in progress */
	size_t		cursor;			/* LIST/UIDL: next index */
	int		msg_is_open;		/* msg_open succeeded, no msg_close yet */
	struct mailbox_iter iter;		/* RETR/TOP */
	unsigned	retrieved;		/* RETRs completed, for the log */
	int		tls_available;		/* set by the caller: offer STLS */
	int		tls_active;		/* pop3s, or after STLS */
	const struct pop3_session_ops *ops;
	void		*arg;
};

/* Set up; nothing is sent yet. client_text ("[192.0.2.1]") is copied. */
void	pop3_session_init(struct pop3_session *s, const struct pop3_settings *set,
	    const char *client_text, const struct pop3_session_ops *ops,
	    void *arg);
/* Release what the session holds: closes an open message (msg_close). The
 * mailbox is the caller's: it frees it and releases its lock. Pending
 * answers must not be delivered after this. */
void	pop3_session_free(struct pop3_session *s);
/* Queue "+OK postern POP3 server ready <timestamp>". random: the caller's
 * APOP_RANDOM_BYTES unpredictable octets (RAND_bytes); pid and now go into
 * the timestamp too. 0, or -1 if the hostname is unusable ("localhost" is
 * used instead). */
int	pop3_session_start(struct pop3_session *s, const unsigned char *random,
	    size_t nrandom, long long pid, long long now);
/* Feed client bytes. Returns how many were consumed: fewer than len while
 * an answer is pending, a multi-line response is unfinished, s->out holds
 * POP3_OUT_HIGHWATER or more, or the session is closing. The caller keeps
 * the rest and feeds it again later (after an answer or a pump). */
size_t	pop3_session_feed(struct pop3_session *s, const char *in, size_t len);
/* Continue a multi-line response (LIST, UIDL, RETR, TOP) until s->out
 * reaches POP3_OUT_HIGHWATER; call it when the socket has drained. Returns
 * 1 if more remains, 0 if none. */
int	pop3_session_pump(struct pop3_session *s);
/* The answer to check_password/check_apop: an enum outcome or an enum
 * pop3_result (POP3_BAD, POP3_IN_USE). OUTCOME_OK goes on to
 * open_mailbox; anything else is a -ERR and back to AUTHORIZATION. */
void	pop3_session_auth_result(struct pop3_session *s, int r);
/* The answer to open_mailbox: OUTCOME_OK with the snapshot (borrowed until
 * the session is freed) enters TRANSACTION; otherwise mb is NULL and the
 * session answers -ERR [IN-USE] / [SYS/TEMP] / [SYS/PERM]. */
void	pop3_session_mailbox_result(struct pop3_session *s, int r,
	    struct mailbox *mb);
/* The handshake after STLS succeeded: back to AUTHORIZATION, with any
 * USER forgotten (RFC 2595 4). */
void	pop3_session_tls_started(struct pop3_session *s);
/* Idle timeout: "-ERR disconnected for inactivity" and close; nothing is
 * deleted. Mid-response the connection just closes. */
void	pop3_session_timeout(struct pop3_session *s);
/* Server shutting down: "-ERR [SYS/TEMP] server shutting down", close. */
void	pop3_session_shutdown(struct pop3_session *s);
#endif
