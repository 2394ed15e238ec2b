/* imap_session - one IMAP4rev2 server session (RFC 9051, serving
 *                IMAP4rev1 clients too, RFC 3501) as an explicit state
 *                machine: NOT_AUTHENTICATED -> AUTHENTICATED -> SELECTED
 *                -> LOGOUT, with the waits in between (credentials, TLS
 *                handshake, IDLE, an APPEND literal streaming to disk).
 * Trusts: nothing the client sends (imap_parse reads it); its ops
 *         (imapd.c) for credentials and the user's Maildir; the Maildir
 *         through imap_store.
 * Gives:  bytes in (imap_session_feed), responses out (s->out), requests
 *         through ops: "are these credentials right", the SCRAM exchange,
 *         "open this user's Maildir", "watch / stop watching this folder".
 *         Answers come back through imap_session_auth_result(),
 *         imap_session_sasl_result(); folder changes seen by the watcher
 *         through imap_session_changed(). Large FETCH responses are
 *         produced piecewise (imap_session_pump) so s->out stays bounded.
 *         Every malformed command gets a tagged BAD and the session goes
 *         on; too many in a row (max_errors) gives BYE.
 * Limits: see imap_parse.h for the reader; an AUTHENTICATE line or the
 *         line ending IDLE at most 16 KiB; s->out never holds more than
 *         IMAP_OUT_MAX and no input is consumed while it holds
 *         IMAP_OUT_HIGHWATER or more; one message mapped at a time. Only
 *         FETCH is produced piecewise: a SEARCH, LIST or STORE answer
 *         larger than IMAP_OUT_MAX is cut short. One message per APPEND
 *         (no MULTIAPPEND); keywords are not kept (PERMANENTFLAGS has no
 *         \*). SCRAM: after the auth process's server-final message
 *         (imap_session_sasl_result) and outcome (auth_result) the client
 *         gets "+ base64(server-final)" and must answer an empty line
 *         before the tagged OK.
 * Never:  touches a socket; logs or keeps a password; deletes a message
 *         without EXPUNGE/CLOSE/MOVE/UID EXPUNGE from the client. */
#ifndef POSTERN_IMAP_SESSION_H
#define POSTERN_IMAP_SESSION_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "outcome.h"

#define IMAP_USER_MAX		64
#define IMAP_OUT_HIGHWATER	65536
#define IMAP_OUT_MAX		(4 * IMAP_OUT_HIGHWATER)
#define IMAP_MAX_ERRORS_DEFAULT	20
#define IMAP_AUTOLOGOUT		1800	/* RFC 9051 5.4: at least 30 minutes */

enum imap_state {
	IMAP_STATE_GREETING = 0,	/* before imap_session_start() */
	IMAP_STATE_NOT_AUTH,
	IMAP_STATE_AUTH_WAIT,		/* check_password / SCRAM step pending */
	IMAP_STATE_SASL,		/* AUTHENTICATE: waiting for the client's
					 * next base64 line */
	IMAP_STATE_TLS_WAIT,		/* "OK Begin TLS" sent: the caller discards
					 * pending input, handshakes, then calls
					 * imap_session_tls_started() */
	IMAP_STATE_AUTH,		/* authenticated, nothing selected */
	IMAP_STATE_SELECTED,
	IMAP_STATE_IDLE,		/* IDLE: waiting for DONE */
	IMAP_STATE_LOGOUT,		/* BYE sent: close once flushed */
};

struct imap_settings {
	const char	*hostname;		/* must outlive s */
	int		 plaintext_without_tls;	/* allow LOGIN/PLAIN before TLS */
	uint64_t	 max_message_size;	/* APPEND limit */
	unsigned	 max_errors;		/* 0: IMAP_MAX_ERRORS_DEFAULT */
};

struct imap_session_ops {
	/* LOGIN or AUTHENTICATE PLAIN: answer with imap_session_auth_result().
	 * pass is wiped when this returns. */
	void	(*check_password)(void *arg, const char *user, const char *pass);
	/* AUTHENTICATE SCRAM-SHA-256: one client message (decoded) of the
	 * exchange: step 1 client-first, step 2 client-final. The auth
	 * process answers (imap_session_sasl_result) with the server-first /
	 * server-final message, and, after the final one, the outcome and
	 * the user name. */
	void	(*scram_step)(void *arg, int step, const char *msg, size_t len);
	void	(*scram_abort)(void *arg);
	/* Logged in: open USER/Maildir (created if missing) and return its
	 * directory descriptor (the session owns it), or -1 (NO [UNAVAILABLE]). */
	int	(*open_maildir)(void *arg, const char *user);
	/* Start (dir_fd >= 0: the selected folder's directory) or stop
	 * (dir_fd -1) being told of changes in its new/ and cur/; the caller
	 * calls imap_session_changed() when something moved there. */
	void	(*watch)(void *arg, int dir_fd);
	/* A log line about this session; never a password. */
	void	(*log)(void *arg, const char *line);
};

struct imap_session;	/* the state is in imap_session.c's struct below */
struct imap_session {
	enum imap_state	 state;
	struct buf	 out;		/* responses; the caller drains it */
	int		 close;		/* close once out is flushed */
	int		 tls_available;	/* set by the caller: offer STARTTLS */
	int		 tls_active;	/* imaps (993), or after STARTTLS */
	char		 user[IMAP_USER_MAX + 1];	/* "" until logged in */
	void		*priv;		/* imap_session.c's */
};

/* Set up; nothing is sent. client_text ("[192.0.2.1]") is copied. */
void	imap_session_init(struct imap_session *s, const struct imap_settings *set,
	    const char *client_text, const struct imap_session_ops *ops,
	    void *arg);
/* Release everything (closes the Maildir, the folder, an open message,
 * aborts an APPEND in progress, stops a watch). */
void	imap_session_free(struct imap_session *s);
/* Queue "* OK [CAPABILITY ...] postern IMAP4rev2 ready". */
void	imap_session_start(struct imap_session *s);
/* Feed client bytes; returns how many were consumed (fewer while an
 * answer is pending, a response is being pumped, out is at its high
 * watermark, or the session is closing). */
size_t	imap_session_feed(struct imap_session *s, const char *in, size_t len);
/* Continue a long response until out reaches IMAP_OUT_HIGHWATER; 1 if
 * more remains, 0 if none. */
int	imap_session_pump(struct imap_session *s);
/* Whether a response is in progress (for the connection layer's pump). */
int	imap_session_pumping(const struct imap_session *s);
/* Answer to check_password and to the last SCRAM step: an outcome
 * (OUTCOME_OK, OUTCOME_TEMP, OUTCOME_DENIED for wrong credentials). user:
 * the authenticated name (NULL: the one given). */
void	imap_session_auth_result(struct imap_session *s, int outcome,
	    const char *user);
/* Answer to a SCRAM step that continues the exchange: the server message
 * to send as "+ base64". */
void	imap_session_sasl_result(struct imap_session *s, const char *msg,
	    size_t len);
/* The selected folder changed on disk: in IDLE, tell the client now; else
 * remember it for the next command's untagged responses. */
void	imap_session_changed(struct imap_session *s);
/* STARTTLS handshake done: back to NOT_AUTH with capabilities re-sent on
 * request. */
void	imap_session_tls_started(struct imap_session *s);
/* Autologout: "* BYE Autologout; idle for too long" and close. */
void	imap_session_timeout(struct imap_session *s);
/* Server shutting down: "* BYE [UNAVAILABLE] shutting down" and close. */
void	imap_session_shutdown(struct imap_session *s);
#endif
