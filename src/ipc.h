/* ipc - small typed, length-prefixed messages between postern processes
 *       over socketpairs (OpenSMTPD's imsg is the model).
 * Trusts: the peer process only as far as framing: every message's length
 *         is checked against IPC_MAX before anything is buffered, and the
 *         receiver validates each payload for its type.
 * Gives:  callbacks with (type, id, payload); id lets a reply find the
 *         session that asked.
 * Never:  blocks: reads and writes go through libevent buffers. */
#ifndef POSTERN_IPC_H
#define POSTERN_IPC_H
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ipc;

#define IPC_MAX		(16u * 1024 * 1024)

enum ipc_type {
	IPC_USERS_DB = 1,	/* master -> auth: the users file's bytes */
	IPC_USER_LOOKUP,	/* smtpd -> auth: a mailbox name */
	IPC_USER_LOOKUP_REPLY,	/* auth -> smtpd: one byte, enum smtp_user_result */
	/* POP3 and POP-before-SMTP: numbered apart so that additions above
	 * never renumber them. */
	IPC_SECRETS_DB = 100,	/* master -> auth: the APOP secrets file's bytes */
	IPC_POP3_PASS,		/* pop3d -> auth: "user\0password\0client-ip" */
	IPC_POP3_APOP,		/* pop3d -> auth: "user\0timestamp\0digest\0client-ip" */
	IPC_POP3_AUTH_REPLY,	/* auth -> pop3d: one byte, enum pop3_result */
	IPC_GRANTS,		/* auth -> smtpd: grants_format() text, the whole table */
	/* Aliases (issue 4). */
	IPC_ALIASES_DB = 200,	/* master -> auth, master -> queue: the aliases file's bytes */
	/* TLS and SMTP AUTH (issue 5). */
	IPC_TLS_CERT = 300,	/* master -> smtpd, pop3d: certificate chain (PEM) */
	IPC_TLS_KEY,		/* master -> smtpd, pop3d: private key (PEM); build
				 * a new context with the last certificate */
	IPC_SMTP_AUTH_PASS = 310, /* smtpd -> auth: "user\0password\0client-ip\0mech" */
	IPC_SMTP_AUTH_CRAM,	/* smtpd -> auth: "user\0challenge\0digest\0client-ip" */
	IPC_SMTP_SCRAM_FIRST,	/* smtpd -> auth: "client-ip\0client-first-message" */
	IPC_SMTP_SCRAM_FINAL,	/* smtpd -> auth: "client-ip\0client-final-message" */
	IPC_SMTP_SCRAM_ABORT,	/* smtpd -> auth: the session ended mid-exchange */
	IPC_SMTP_AUTH_REPLY,	/* auth -> smtpd: one byte enum sasl_verdict, then
				 * the SCRAM server message if any */
};

typedef void (*ipc_msg_cb)(struct ipc *ipc, uint32_t type, uint64_t id,
    const void *data, size_t len, void *arg);
/* Called once when the peer closes or the channel breaks. */
typedef void (*ipc_eof_cb)(struct ipc *ipc, void *arg);

/* Takes ownership of fd (made non-blocking). */
struct ipc *ipc_new(struct event_base *base, int fd, ipc_msg_cb msg_cb,
	    ipc_eof_cb eof_cb, void *arg);
/* Queue a message. 0, or -1 if len > IPC_MAX or the channel is closed. */
int	ipc_send(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
	    size_t len);
void	ipc_free(struct ipc *ipc);
#endif
