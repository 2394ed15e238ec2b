/* dkim_out - which outgoing messages are DKIM-signed, and with which
 *            dkim_sign line.
 * Trusts: the queue envelope's client and auth fields (written by smtpd,
 *         pickup or the queue process itself, checked by qfile.c); the
 *         config's local_networks and dkim_sign lines. Nothing in the
 *         message: its header section is parsed strictly (dmarc.c).
 * Gives:  the origin of a message (a stranger, an authenticated client,
 *         a client in local_networks, `postern sendmail`, our own bounce)
 *         and, for any origin but a stranger, the dkim_sign line of the
 *         domain of its one From: mailbox.
 * Never:  signs (dkim.c does), reads keys or files, or says yes for a
 *         stranger's mail: an alias forward keeps the envelope of the
 *         mail it forwards, so a stranger's message is never signed with
 *         our key even when its From: names our domain. */
#ifndef POSTERN_DKIM_OUT_H
#define POSTERN_DKIM_OUT_H
#include <stddef.h>

#include "config.h"
#include "relay.h"

enum dkim_out_origin {
	DKIM_OUT_STRANGER = 0,	/* never signed */
	DKIM_OUT_AUTHENTICATED,	/* SMTP AUTH */
	DKIM_OUT_LOCAL_NETWORK,	/* client address in local_networks */
	DKIM_OUT_SENDMAIL,	/* `postern sendmail` (client "local") */
	DKIM_OUT_BOUNCE,	/* our bounce or postmaster notice */
};

/* The origin from the envelope's client ("local", "bounce",
 * "double-bounce" or an IP address) and auth ("" when none). */
enum dkim_out_origin dkim_out_origin(const struct relay_policy *p,
	    const char *client, const char *auth);
/* "stranger", "authenticated", "local network", "sendmail", "bounce". */
const char *dkim_out_origin_name(enum dkim_out_origin o);

/* The index in signs[0..n) of the dkim_sign line to sign with, or -1:
 * a stranger, no usable From: domain in the header section
 * header[0..hlen) (exactly one From: with one mailbox), or no line for
 * that domain. domain (dlen octets) receives the From: domain when there
 * is one, "" otherwise. */
int	dkim_out_choose(const struct config_dkim_sign *signs, size_t n,
	    enum dkim_out_origin o, const char *header, size_t hlen,
	    char *domain, size_t dlen);
#endif
