/* smtp_session - one SMTP server session as an explicit state machine.
 * Trusts: nothing the client sends. Trusts its ops (smtpd.c) and the
 *         config it is given.
 * Gives:  bytes in (smtp_session_feed), replies out (s->out), and requests
 *         to the world through ops: "does this local user exist?", "open /
 *         write / commit / abort the message file". Asynchronous answers
 *         come back through smtp_session_user_result() and
 *         smtp_session_commit_result(); while one is pending the session is
 *         busy and consumes no input (pipelined commands wait their turn).
 *         Dispatch: line -> verb (500 5.5.1 unknown) -> state (503 5.5.1)
 *         -> handler checks arguments (501 5.5.4 / 553 5.1.x) -> act.
 * Limits: command lines 512 octets with CRLF, text lines 1000, recipients
 *         cfg->max_recipients, errors cfg->max_errors (then 421 and close),
 *         message size cfg->max_message_size.
 * Never:  touches a socket, a file or a clock itself; it does not decide
 *         relaying (relay.c does) or know where messages are stored. */
#ifndef POSTERN_SMTP_SESSION_H
#define POSTERN_SMTP_SESSION_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "address.h"
#include "buf.h"
#include "config.h"
#include "grants.h"
#include "linebuf.h"
#include "outcome.h"
#include "relay.h"
#include "sasl.h"
#include "smtp_data.h"

#define SMTP_OUT_HIGHWATER	65536
#define SMTP_CMD_LIMIT		512

enum smtp_state {
	SMTP_STATE_GREETING = 0, /* before smtp_session_start() */
	SMTP_STATE_READY,	/* greeted; needs EHLO/HELO */
	SMTP_STATE_HELO,	/* after EHLO/HELO or RSET: MAIL may come */
	SMTP_STATE_MAIL,	/* after MAIL: RCPT may come */
	SMTP_STATE_RCPT,	/* at least one recipient: DATA may come */
	SMTP_STATE_DATA,	/* reading message content */
	SMTP_STATE_QUIT,	/* closing: no more input is read */
	SMTP_STATE_AUTH,	/* AUTH exchange: lines are SASL responses */
};

enum smtp_wait {
	SMTP_WAIT_NONE = 0,
	SMTP_WAIT_USER,		/* user_lookup() is pending */
	SMTP_WAIT_COMMIT,	/* message_commit() is pending */
	SMTP_WAIT_TLS,		/* "220 Ready to start TLS" sent: the caller
				 * throws away every byte received so far
				 * (injection, CVE-2011-0411), does the
				 * handshake and calls smtp_session_tls_started() */
	SMTP_WAIT_AUTH,		/* auth_request() is pending */
};

struct smtp_rcpt {
	struct address	addr;
	enum relay_result kind;		/* RELAY_ACCEPT_LOCAL or RELAY_ACCEPT_RELAY */
	char		mailbox[64];	/* local user for ACCEPT_LOCAL, "" otherwise */
	char		rule[160];	/* the relay rule that accepted it */
};

struct smtp_txn {
	struct address	from;
	struct smtp_rcpt *rcpts;
	size_t		nrcpts;
	uint64_t	declared_size;	/* SIZE= or 0 */
	int		body_8bit;	/* BODY=8BITMIME */
};

struct smtp_session;

struct smtp_session_ops {
	/* Ask whether local user `mailbox` exists; answer with
	 * smtp_session_user_result(). May answer before returning. */
	void	(*user_lookup)(void *arg, const char *mailbox);
	/* DATA accepted: create the message file for s->txn.
	 * 0 on success; -1 (disk trouble) makes the session reply 451 4.3.0. */
	int	(*message_open)(void *arg, const struct smtp_session *s);
	/* Append content bytes (unstuffed). 0, or -1 on disk trouble (the
	 * session keeps reading to the end of data, then replies 451). */
	int	(*message_write)(void *arg, const char *p, size_t n);
	/* The whole message is written and acceptable: make it durable and
	 * answer with smtp_session_commit_result(). May answer before returning. */
	void	(*message_commit)(void *arg);
	/* Throw away the open message file (bad data, disk error, RSET, close). */
	void	(*message_abort)(void *arg);
	/* A log line about this session (the session prefixes nothing). */
	void	(*log)(void *arg, const char *line);
	/* SMTP AUTH: hand the SASL request (s->sasl: user and password,
	 * CRAM digest, or a SCRAM message; `need` says which) to the auth
	 * process; answer with smtp_session_auth_result(). */
	void	(*auth_request)(void *arg, enum sasl_result need,
		    const struct sasl_server *sasl);
	/* Optional: a local part at one of our domains that may be an SRS
	 * address (a bounce to a forward's sender): 0 with the original
	 * address in out (the recipient becomes that address, relayed),
	 * -1 an SRS address that fails validation (550 5.1.1), 1 not one
	 * (or no SRS here): the recipient is looked up as usual. */
	int	(*srs_reverse)(void *arg, const char *local, char *out,
		    size_t outlen);
	/* Optional: a recipient the relay policy accepted (postmaster: it
	 * is postmaster@ one of our domains) may still be refused for its
	 * client (a DNS blocklist at RCPT, greylisting): NULL goes on, else
	 * the rule for the log, with the reply ("451 4.7.1 ...", no CRLF)
	 * in line. */
	const char *(*rcpt_check)(void *arg, const struct address *rcpt,
		    int postmaster, char *line, size_t len);
};

struct smtp_session {
	enum smtp_state	state;
	enum smtp_wait	wait;
	const struct config *cfg;
	const struct relay_policy *policy;
	const struct grants *grants;	/* may be NULL; may change between calls */
	struct relay_client client;
	char		client_text[64];	/* "[127.0.0.2]" for logs/Received */
	char		helo[256];		/* as given, sanitised; "" before HELO */
	int		esmtp;			/* EHLO (1) or HELO (0) */
	struct smtp_txn	txn;
	struct linebuf	lb;
	struct smtp_data data;
	struct buf	pending_out;		/* private: content awaiting message_write */
	struct buf	out;			/* replies for the client; the caller drains it */
	unsigned	errors;			/* bad commands so far */
	int		data_failed;		/* message_write failed during DATA */
	int		close;			/* close after out is flushed */
	time_t		now;			/* set by the caller before each call */
	struct smtp_rcpt pending_rcpt;		/* private: RCPT waiting for user_lookup */
	const struct smtp_session_ops *ops;
	void		*arg;
	unsigned	messages;		/* accepted in this session */
	/* Set by the caller before smtp_session_start(): */
	int		tls_available;	/* a TLS context exists: offer STARTTLS */
	int		tls_active;	/* the connection is encrypted (smtps, or after STARTTLS) */
	int		submission;	/* submission/smtps: AUTH before MAIL (530) */
	char		tls_desc[64];	/* "TLSv1.3 TLS_AES_..." for Received: and logs */
	unsigned char	random[SASL_RANDOM_MIN];	/* fresh bytes for a CRAM-MD5 challenge */
	struct sasl_server sasl;	/* the AUTH exchange */
	char		auth_user[SASL_USER_MAX + 1];	/* client.auth_user points here */
	char		auth_mech[24];
	size_t		more_input;		/* set by the caller before feed():
						 * bytes already received beyond
						 * the ones passed to this feed()
						 * call (for the DATA pipelining
						 * check; 0 if none or unknown) */
};

/* Set up; nothing is sent yet. client->local_addr may be family 0. */
void	smtp_session_init(struct smtp_session *s, const struct config *cfg,
	    const struct relay_policy *policy, const struct relay_client *client,
	    const struct smtp_session_ops *ops, void *arg);
void	smtp_session_free(struct smtp_session *s);
/* Queue the 220 greeting (or, with reject_text non-NULL, "554 5.7.1 text"
 * and close: a relay_rules deny). */
void	smtp_session_start(struct smtp_session *s, const char *reject_text);
/* Instead of the greeting: the reply line ("554 5.7.1 ..." or "451
 * 4.7.1 ...", no CRLF), logged with rule, and close. */
void	smtp_session_start_refused(struct smtp_session *s, const char *line,
	    const char *rule);
/* Feed client bytes. Returns how many were consumed: fewer than len when
 * the session became busy (wait != NONE) or is closing; the caller keeps
 * the rest and feeds it again after the answer. Replies are in s->out. */
size_t	smtp_session_feed(struct smtp_session *s, const char *in, size_t len);
/* Answers to the asynchronous requests. */
void	smtp_session_user_result(struct smtp_session *s, enum outcome r);
/* ok: the message is durable under queue id `id` -> 250 2.0.0 Ok: queued as ID;
 * !ok -> 451 4.3.0. */
void	smtp_session_commit_result(struct smtp_session *s, int ok, const char *id);
/* The message was checked and is not taken after all (the caller threw
 * its file away): reply line ("550 5.7.1 ...", no CRLF), as a commit
 * failure would, and the transaction is over. */
void	smtp_session_commit_refused(struct smtp_session *s, const char *line);
/* The TLS handshake after STARTTLS succeeded: the session starts over
 * (RFC 3207 4.2: forget HELO, MAIL, RCPT; a new EHLO is required).
 * desc ("TLSv1.3 TLS_AES_256_GCM_SHA384") goes into logs and Received:. */
void	smtp_session_tls_started(struct smtp_session *s, const char *desc);
/* The auth process's answer to auth_request(); data is the SCRAM server
 * message for OUTCOME_OK on a SCRAM step. */
void	smtp_session_auth_result(struct smtp_session *s, int v,
	    const char *data, size_t len);
/* Idle timeout: queue "421 4.4.2 HOST Error: timeout exceeded" and close. */
void	smtp_session_timeout(struct smtp_session *s);
/* Server shutting down: 421 4.3.2 and close. */
void	smtp_session_shutdown(struct smtp_session *s);
#endif
