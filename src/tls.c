/* tls - OpenSSL contexts; see tls.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "tls.h"

/* TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3's defaults are
 * all modern already. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"

static void
tls_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256] = "";

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	snprintf(err, errlen, "%s%s%s", what, reason[0] ? ": " : "", reason);
	ERR_clear_error();
}

static SSL_CTX *
ctx_common(const SSL_METHOD *method, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL) {
		tls_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		tls_err(err, errlen, "TLS settings");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	return ctx;
}

SSL_CTX *
tls_server_ctx(const char *cert, size_t certlen, const char *key,
    size_t keylen, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	BIO *bio = NULL;
	X509 *x = NULL;
	EVP_PKEY *pkey = NULL;

	if (certlen == 0 || keylen == 0 || certlen > TLS_PEM_MAX ||
	    keylen > TLS_PEM_MAX) {
		snprintf(err, errlen, "empty or oversized certificate or key");
		return NULL;
	}
	if ((ctx = ctx_common(TLS_server_method(), err, errlen)) == NULL)
		return NULL;
	/* The first certificate is ours, the rest its chain. */
	bio = BIO_new_mem_buf(cert, (int)certlen);
	if (bio == NULL || (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1) {
		tls_err(err, errlen, "certificate");
		goto fail;
	}
	X509_free(x);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			tls_err(err, errlen, "certificate chain");
			goto fail;
		}
	ERR_clear_error();	/* the loop ends on "no start line" */
	BIO_free(bio);
	bio = BIO_new_mem_buf(key, (int)keylen);
	if (bio == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, errlen, "private key");
		goto fail;
	}
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return ctx;
fail:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_client_ctx(char *err, size_t errlen)
{
	SSL_CTX *ctx = ctx_common(TLS_client_method(), err, errlen);

	if (ctx != NULL)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

char *
tls_describe(SSL *ssl, char *buf, size_t len)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	snprintf(buf, len, "%s %s", SSL_get_version(ssl),
	    c ? SSL_CIPHER_get_name(c) : "?");
	return buf;
}

int
tls_server_update(struct tls_server *t, int is_key, const void *pem, size_t len)
{
	char err[256];
	SSL_CTX *ctx;

	if (!is_key) {
		free(t->cert);
		t->cert = xcalloc(1, len + 1);
		memcpy(t->cert, pem, len);
		t->certlen = len;
		return 0;
	}
	if (t->cert == NULL) {
		log_warn("TLS: key received without a certificate");
		return -1;
	}
	ctx = tls_server_ctx(t->cert, t->certlen, pem, len, err, sizeof(err));
	explicit_bzero((void *)(uintptr_t)pem, len);
	free(t->cert);
	t->cert = NULL;
	if (ctx == NULL) {
		log_warn("TLS: %s; %s", err, t->ctx ? "keeping the previous "
		    "certificate" : "TLS is unavailable");
		return -1;
	}
	if (t->ctx != NULL)
		SSL_CTX_free(t->ctx);
	t->ctx = ctx;
	return 1;
}

const char *
tls_error_text(void)
{
	static char text[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "connection closed during the handshake";
	ERR_error_string_n(e, text, sizeof(text));
	ERR_clear_error();
	return text;
}

size_t
tls_bev_unsent(struct bufferevent *bev)
{
	struct bufferevent *under = bufferevent_get_underlying(bev);
	size_t n = evbuffer_get_length(bufferevent_get_output(bev));

	if (under != NULL)
		n += evbuffer_get_length(bufferevent_get_output(under));
	return n;
}

int
tls_server_ipc(struct tls_server *t, uint32_t type, const void *data, size_t len)
{
	if (type != IPC_TLS_CERT && type != IPC_TLS_KEY) {
		log_warn("unexpected message %u from master", type);
		return -1;
	}
	if (tls_server_update(t, type == IPC_TLS_KEY, data, len) == 1)
		log_info("TLS certificate loaded");
	return type == IPC_TLS_KEY ? 1 : 0;
}
