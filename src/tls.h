/* tls - OpenSSL contexts: TLS 1.2 and 1.3 only, modern ciphers.
 * Trusts: the certificate and key bytes the master read from root's
 *         files; peers only as far as OpenSSL's handshake goes.
 * Gives:  server contexts built from PEM in memory (so a network-facing
 *         process never opens the key file, and a SIGHUP can hand it a new
 *         one while old sessions keep theirs), a client context for
 *         opportunistic STARTTLS, and a one-line description of a session
 *         ("TLSv1.3 TLS_AES_256_GCM_SHA384") for the logs.
 * Never:  logs key material; the caller wipes the PEM after use. */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#define TLS_PEM_MAX	(1024 * 1024)

/* A server context from PEM text (certificate chain; private key).
 * NULL with a reason in err on failure (bad PEM, key does not match). */
SSL_CTX	*tls_server_ctx(const char *cert, size_t certlen, const char *key,
	    size_t keylen, char *err, size_t errlen);
/* A client context: TLS 1.2+, no verification (opportunistic). */
SSL_CTX	*tls_client_ctx(char *err, size_t errlen);
/* What smtpd and pop3d keep of the master's IPC_TLS_CERT / IPC_TLS_KEY
 * messages: the certificate until its key arrives, then a context. */
struct tls_server {
	SSL_CTX		*ctx;		/* NULL until the first good pair */
	char		*cert;		/* PEM, waiting for its key */
	size_t		 certlen;
};

/* Take one master message (cert or key). Returns 1 when a new context
 * was built (the old one lives on in open sessions: OpenSSL counts its
 * references), 0 when nothing changed, -1 (logged) when the pair is bad:
 * the previous context, if any, stays. The key bytes are wiped. */
int	tls_server_update(struct tls_server *t, int is_key, const void *pem,
	    size_t len);

/* The master's TLS messages (IPC_TLS_CERT, then IPC_TLS_KEY) for smtpd
 * and pop3d: returns 1 once the key has been handled (the process may
 * open its listeners: with or without a usable context), 0 for the
 * certificate, -1 (logged) for any other message type. */
int	tls_server_ipc(struct tls_server *t, uint32_t type, const void *data,
	    size_t len);

struct bufferevent;
/* Bytes not yet handed to the kernel: the bufferevent's output plus, for
 * a TLS filter (STARTTLS/STLS), the output of the socket below it, which
 * sends no callback when it drains. A closing session waits for 0. */
size_t	tls_bev_unsent(struct bufferevent *bev);

/* The last OpenSSL error as text (static buffer), for logs. */
const char *tls_error_text(void);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" into buf; returns buf. */
char	*tls_describe(SSL *ssl, char *buf, size_t len);
#endif
