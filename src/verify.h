/* verify - the checks on one received message: SPF of the MAIL FROM (or,
 *          for the null sender, HELO) identity and of the HELO identity,
 *          every DKIM signature with its key from DNS, and DMARC on the
 *          From domain; then the Authentication-Results field for them.
 *          The one driver of spf.c, dkim.c and dmarc.c against dns.c:
 *          smtpd runs it on its event loop at the end of DATA, `postern
 *          auth-check` runs the same on a loop of its own.
 * Trusts: nothing in the message, the identities or DNS answers (the pure
 *         modules parse them, bounded); the psl and dns it is given.
 * Gives:  verify_run: the queries one at a time through dns_query (the
 *         cache answers repeated names at once), then done() exactly
 *         once, from the event loop or before verify_run returns. After
 *         VERIFY_TIME_MAX seconds no new query is asked: what is left is
 *         answered as a temporary failure (a slow or hostile DNS costs a
 *         session that bound plus one query's c-ares timeout, no more).
 * Never:  decides what to do with the verdict (the caller: reject, or
 *         keep the field), writes a file or logs. */
#ifndef POSTERN_VERIFY_H
#define POSTERN_VERIFY_H
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "address.h"
#include "dkim.h"
#include "dmarc.h"
#include "netaddr.h"
#include "spf.h"

struct dns;
struct psl;

/* Seconds of DNS a verification may take before it gives up asking. */
#define VERIFY_TIME_MAX	20
/* The field with a few DKIM results fits in this (the queue file's slot). */
#define VERIFY_AUTHRES_MAX	1536

struct verify;
typedef void (*verify_done_cb)(struct verify *v, void *arg);

struct verify {
	/* The identities (copied). */
	struct netaddr	 ip;
	char		 mailfrom[ADDRESS_PATH_MAX + 1];	/* "" null sender */
	char		 helo[256];
	char		 heloid[300];	/* postmaster@HELO */
	const struct psl *psl;

	/* Results, final when done() is called. */
	struct spf	 spf;		/* MAIL FROM (or HELO for <>) */
	struct spf	 spfh;		/* HELO; run when helo is set */
	struct dkim_verify dk;
	struct dmarc_verdict dv;
	char		 fromdom[256];	/* "" when the From domain is unusable */

	/* Private. */
	int		 stage;
	size_t		 sig;		/* the DKIM signature being asked for */
	struct dmarc_discovery disc;
	enum dmarc_from_status fst;
	int		 dmarc_ok;	/* discovery set up */
	struct dns	*dns;
	time_t		 deadline;
	int		 waiting;	/* a dns_query is out */
	int		 running;	/* inside advance() */
	verify_done_cb	 done;
	void		*arg;
};

/* A verification of the message msg[0..len) (CRLF line ends; the whole
 * message: the header section is parsed and the DKIM body hashes run
 * here, so msg may be freed afterwards) from ip, MAIL FROM mailfrom (no
 * brackets, "" for <>), HELO helo ("" if none); receiver is our host
 * name (SPF's %{r}). NULL when libcrypto is out of memory. */
struct verify *verify_new(const struct netaddr *ip, const char *mailfrom,
	    const char *helo, const char *receiver, const struct psl *psl,
	    const char *msg, size_t len, time_t now);
/* Ask DNS and call done(v, arg) once everything is known. */
void	verify_run(struct verify *v, struct dns *dns, verify_done_cb done,
	    void *arg);
/* 1 when DMARC failed and the domain asks for p=reject (after pct). */
int	verify_dmarc_reject(const struct verify *v);
/* Append our Authentication-Results field (CRLF line ends, folded with
 * tabs) to out. 0, or -1 when out is full. */
int	verify_authres(const struct verify *v, const char *authserv_id,
	    struct buf *out);
void	verify_free(struct verify *v);
#endif
