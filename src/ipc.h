/* ipc - small typed, length-prefixed messages between postern processes
 *       over socketpairs (OpenSMTPD's imsg is the model).
 * Trusts: the peer process only as far as framing: every message's length
 *         is checked against IPC_MAX before anything is buffered, and the
 *         receiver validates each payload for its type.
 * Gives:  callbacks with (type, id, payload); id lets a reply find the
 *         session that asked. Requests made of strings are packed and
 *         unpacked by type (ipc_pack, ipc_unpack): counts and bounds are
 *         checked in one place.
 * Never:  blocks: reads and writes go through libevent buffers. */
#ifndef POSTERN_IPC_H
#define POSTERN_IPC_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
	IPC_POP3_PASS,		/* pop3d -> auth: fields user, password, client-ip */
	IPC_POP3_APOP,		/* pop3d -> auth: fields user, timestamp, digest,
				 * client-ip */
	IPC_POP3_AUTH_REPLY,	/* auth -> pop3d: one byte, enum pop3_result */
	IPC_GRANTS,		/* auth -> smtpd: grants_format() text, the whole table */
	/* Aliases. */
	IPC_ALIASES_DB = 200,	/* master -> auth, master -> queue: the aliases file's bytes */
	/* TLS and SMTP AUTH. */
	IPC_TLS_CERT = 300,	/* master -> smtpd, pop3d, imapd: certificate chain (PEM) */
	IPC_TLS_KEY,		/* master -> smtpd, pop3d, imapd: private key (PEM); build
				 * a new context with the last certificate */
	IPC_SMTP_AUTH_PASS = 310, /* smtpd -> auth: fields user, password,
				 * client-ip, mech */
	IPC_SMTP_AUTH_CRAM,	/* smtpd -> auth: fields user, challenge, digest,
				 * client-ip */
	IPC_SMTP_SCRAM_FIRST,	/* smtpd -> auth: field client-ip, then the
				 * client-first-message as the tail */
	IPC_SMTP_SCRAM_FINAL,	/* smtpd -> auth: field client-ip, then the
				 * client-final-message as the tail */
	IPC_SMTP_SCRAM_ABORT,	/* smtpd -> auth: the session ended mid-exchange */
	IPC_SMTP_AUTH_REPLY,	/* auth -> smtpd: one byte int, then
				 * the SCRAM server message if any */
	/* IMAP and IMAP-before-SMTP (the POP3 grants). */
	IPC_IMAP_PASS = 500,	/* imapd -> auth: fields user, password, client-ip */
	IPC_IMAP_SCRAM_FIRST,	/* imapd -> auth: field client-ip, then the
				 * client-first-message as the tail */
	IPC_IMAP_SCRAM_FINAL,	/* imapd -> auth: field client-ip, then the
				 * client-final-message as the tail */
	IPC_IMAP_SCRAM_ABORT,	/* imapd -> auth: the session ended mid-exchange */
	IPC_IMAP_AUTH_REPLY,	/* auth -> imapd: one byte outcome, then the SCRAM
				 * server message if any (after a successful
				 * final one: the user name, a NUL, the
				 * server-final-message) */
	/* Password hashing (hasher.c: auth <-> its workers, one message per
	 * SOCK_SEQPACKET datagram, no ipc header). */
	IPC_HASH_CHECK = 400,	/* fields crypt(3) hash ("": a dummy), password */
};

/* Requests with fields: a fixed number of strings, each sent with its
 * NUL, and for some types opaque bytes (which may hold NULs) to the end
 * of the payload. How many strings, and whether a tail follows, is a
 * property of the type (a table in ipc.c), so sender and receiver cannot
 * disagree; types without fields are not packed. */
#define IPC_FIELDS_MAX	4
#define IPC_FIELD_MAX	2048	/* octets of one string (NUL excluded) or tail */

struct ipc_fields {
	const char	*s[IPC_FIELDS_MAX];	/* NUL-terminated */
	size_t		 n;
	const void	*tail;		/* NULL/0 for types without one */
	size_t		 tail_len;
};

/* Encode f as a payload of the given type into out (cap octets).
 * Returns the length, or -1: a type without fields, the wrong number of
 * strings, a string or tail longer than IPC_FIELD_MAX, a tail for a type
 * without one, or more than cap octets. */
ssize_t	ipc_pack(uint32_t type, const struct ipc_fields *f, void *out,
	    size_t cap);
/* Decode a payload of the given type into f (pointers into data, which
 * must stay put). 0, or -1 if it is not exactly the type's strings (each
 * at most IPC_FIELD_MAX octets, NUL-terminated, no embedded NUL) and, for
 * types with a tail, at most IPC_FIELD_MAX octets of tail. */
int	ipc_unpack(uint32_t type, const void *data, size_t len,
	    struct ipc_fields *f);

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
/* ipc_pack() then ipc_send(); the packed copy is wiped (it holds
 * passwords). 0, or -1 if packing or sending fails. */
int	ipc_send_fields(struct ipc *ipc, uint32_t type, uint64_t id,
	    const struct ipc_fields *f);
void	ipc_free(struct ipc *ipc);
#endif
