/* smtp_client - the client side of one outbound SMTP connection as a pure
 *               state machine: reply bytes in, commands out (c->out),
 *               events for the driver (deliver_remote.c).
 * Trusts: nothing the server sends: replies are read through linebuf with
 *         a per-line limit and a cap on lines per reply; a malformed reply
 *         fails the session (temporary).
 * Gives:  greeting, EHLO (HELO when EHLO is refused with 5xx), PIPELINING
 *         (MAIL, every RCPT and DATA in one write) when offered, SIZE=
 *         and BODY=8BITMIME when offered, per-recipient results (OK, TEMP,
 *         PERM with the server's reply), RSET after a failed transaction,
 *         several transactions per connection, QUIT. Body dot-stuffing.
 *         STARTTLS (RFC 3207) between EHLO and IDLE, by policy: MAY sends
 *         it when offered, REQUIRED fails the session (temporary, 4.7.x)
 *         rather than ever reaching IDLE in plaintext, NONE never sends it.
 *         After the 220 the driver discards every unread byte, runs the
 *         handshake and calls smtp_client_tls_started(): everything
 *         learnt before TLS is forgotten and EHLO is sent again.
 * Limits: SMTPC_LINE_MAX per reply line (CRLF included), SMTPC_LINES_MAX
 *         lines per reply, SMTPC_TEXT_MAX of reply text kept.
 * Never:  touches a socket, a file or a clock: the driver asks
 *         smtp_client_timeout() how long to wait for the current reply. */
#ifndef POSTERN_SMTP_CLIENT_H
#define POSTERN_SMTP_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "linebuf.h"
#include "outcome.h"

#define SMTPC_LINE_MAX		2048
#define SMTPC_LINES_MAX		100
#define SMTPC_TEXT_MAX		512
#define SMTPC_OUT_MAX		(2u * 1024 * 1024)

/* RFC 5321 4.5.3.2 timeouts, seconds. */
#define SMTPC_TO_GREETING	300
#define SMTPC_TO_MAIL		300
#define SMTPC_TO_RCPT		300
#define SMTPC_TO_DATA		120
#define SMTPC_TO_BLOCK		180
#define SMTPC_TO_DOT		600
#define SMTPC_TO_QUIT		60
#define SMTPC_TO_TLS		300	/* STARTTLS reply and the handshake */

/* STARTTLS policy; MAY is 0, the default after smtp_client_init. */
enum smtpc_tls {
	SMTPC_TLS_MAY = 0,	/* STARTTLS when offered; plaintext otherwise */
	SMTPC_TLS_NONE,		/* never */
	SMTPC_TLS_REQUIRED,	/* STARTTLS or fail (temporary), never clear */
};

enum smtpc_state {
	SMTPC_GREETING = 0,	/* waiting for the 220 */
	SMTPC_EHLO,		/* EHLO sent */
	SMTPC_HELO,		/* HELO sent (EHLO refused) */
	SMTPC_STARTTLS,		/* STARTTLS sent */
	SMTPC_TLS,		/* 220 seen: the driver runs the handshake */
	SMTPC_IDLE,		/* ready for a transaction */
	SMTPC_TXN,		/* MAIL/RCPT/DATA replies expected */
	SMTPC_BODY,		/* 354 seen: the driver sends the body */
	SMTPC_DOT,		/* end of data sent: waiting for its reply */
	SMTPC_RSET,		/* RSET sent after a failed transaction */
	SMTPC_QUIT,		/* QUIT sent */
	SMTPC_CLOSED,		/* finished (QUIT answered, or failed) */
};

enum smtpc_event {
	SMTPC_EV_NONE = 0,	/* all input consumed; wait for more */
	SMTPC_EV_READY,		/* idle: call smtp_client_txn_start or _quit */
	SMTPC_EV_BODY,		/* send the body (smtp_client_stuff), then
				 * call smtp_client_body_done */
	SMTPC_EV_TXN_DONE,	/* every recipient of the txn has a result */
	SMTPC_EV_FAILED,	/* the session failed: fail_text says why;
				 * pending recipients got that result */
	SMTPC_EV_CLOSED,	/* QUIT answered: close the connection */
	SMTPC_EV_STARTTLS,	/* 220 to STARTTLS: discard all unread input
				 * (it came before the handshake), start
				 * TLS, then call smtp_client_tls_started */
};

struct smtpc_rcpt {
	const char	*addr;		/* without <> */
	int		done;		/* result and reply are set (else pending) */
	enum outcome	result;		/* the class of the reply code */
	int		accepted;	/* RCPT got 2xx: waiting for the data */
	char		reply[SMTPC_TEXT_MAX];	/* "550 5.1.1 ..." */
};

struct smtpc_txn {
	const char	*from;		/* "" for the null sender */
	struct smtpc_rcpt *rcpts;	/* owned by the caller */
	size_t		nrcpts;
	uint64_t	size;		/* bytes of the message, for SIZE= */
	int		body_8bit;	/* the content has 8-bit bytes */
};

#define SMTPC_EXT_PIPELINING	0x01
#define SMTPC_EXT_SIZE		0x02
#define SMTPC_EXT_8BITMIME	0x04
#define SMTPC_EXT_STARTTLS	0x08

struct smtp_client {
	enum smtpc_state state;
	char		helo_name[256];
	struct linebuf	lb;
	struct buf	out;		/* commands for the server; driver drains */
	unsigned	ext;		/* SMTPC_EXT_* from the EHLO reply */
	int		esmtp;
	enum smtpc_tls	tls_policy;	/* set by the driver after init */
	int		tls;		/* the session runs over TLS */
	int		fail_tls;	/* the failure is a TLS policy one (4.7.x) */
	uint64_t	size_max;	/* SIZE n, 0 = no limit announced */
	/* the reply being read */
	int		rcode;
	unsigned	rlines;
	char		rtext[SMTPC_TEXT_MAX];	/* "250 text text ..." */
	/* the transaction */
	struct smtpc_txn *txn;
	size_t		expect_rcpt;	/* next RCPT reply belongs to this one */
	int		expect_mail;	/* MAIL reply outstanding */
	int		expect_data;	/* DATA reply outstanding */
	int		mail_ok;
	size_t		naccepted;
	int		txn_done;	/* TXN_DONE to report */
	int		ready_told;	/* READY reported for this IDLE */
	unsigned	transactions;
	/* failure */
	enum outcome	fail;		/* PERM only when the server said 5xx */
	char		fail_text[SMTPC_TEXT_MAX];
};

/* Set up for a new connection: waits for the greeting. Policy MAY;
 * change c->tls_policy before the first feed. */
void	smtp_client_init(struct smtp_client *c, const char *helo_name);
void	smtp_client_free(struct smtp_client *c);
/* Feed server bytes. Consumes input until an event is due (or all of
 * it); *used_r says how much. Call again with the rest (possibly 0
 * bytes: pending events are reported without input). */
enum smtpc_event smtp_client_feed(struct smtp_client *c, const char *in,
	    size_t len, size_t *used_r);
/* In IDLE: start a transaction. Returns SMTPC_EV_TXN_DONE at once when
 * it cannot be sent (too big for the server's SIZE: 552 5.3.4 for every
 * recipient), SMTPC_EV_NONE otherwise (commands are in c->out). */
enum smtpc_event smtp_client_txn_start(struct smtp_client *c,
	    struct smtpc_txn *t);
/* The body was queued (through smtp_client_stuff*): send the final dot. */
void	smtp_client_body_done(struct smtp_client *c);
/* In IDLE: send QUIT. */
void	smtp_client_quit(struct smtp_client *c);
/* In SMTPC_TLS, the handshake succeeded: forget the EHLO reply and any
 * partial line, send EHLO again (c->out). No-op in any other state. */
void	smtp_client_tls_started(struct smtp_client *c);
/* The connection broke or timed out: fail what is pending with a
 * temporary error "text"; state CLOSED. */
void	smtp_client_abort(struct smtp_client *c, const char *text);
/* Seconds to wait for the next reply in the current state. */
unsigned smtp_client_timeout(const struct smtp_client *c);

/* Dot-stuffing of message content (CRLF lines) for DATA. */
struct smtpc_stuff {
	int	bol;		/* at the beginning of a line */
	int	cr;		/* last byte was CR */
};
void	smtp_client_stuff_init(struct smtpc_stuff *st);
/* Append in[0..n) to out with a '.' doubled at every line start.
 * -1 when out is full (nothing is lost: out is unchanged). */
int	smtp_client_stuff(struct smtpc_stuff *st, const char *in, size_t n,
	    struct buf *out);
/* End: CRLF if the content did not end with one. The dot itself is
 * sent by smtp_client_body_done(). */
int	smtp_client_stuff_end(struct smtpc_stuff *st, struct buf *out);
#endif
