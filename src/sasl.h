/* sasl - server side of SMTP AUTH (RFC 4954): the mechanisms PLAIN
 *        (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195) and SCRAM-SHA-256
 *        (RFC 7677) as one small state machine per AUTH command.
 * Trusts: nothing the client sends; the caller's sasl_params (mechanisms
 *         allowed, TLS state, host, random bytes, pid, time) and the auth
 *         process's verdicts handed back through sasl_verdict().
 * Gives:  for each client step, an outcome and the exact SMTP reply line
 *         (s->reply, without CRLF; s->code its number):
 *
 *   outcome               reply (s->reply)
 *   SASL_CONTINUE         334 <base64 challenge>        (read one more line)
 *   SASL_NEED_PASS        -  ask auth: s->user, s->pass  (PLAIN, LOGIN)
 *   SASL_NEED_CRAM        -  ask auth: s->user, s->challenge, s->digest
 *   SASL_NEED_SCRAM_FIRST -  ask auth: s->msg (client-first-message)
 *   SASL_NEED_SCRAM_FINAL -  ask auth: s->msg (client-final-message)
 *   SASL_SUCCESS          235 2.7.0 Authentication successful
 *   SASL_FAIL             one of:
 *     535 5.7.8 Authentication credentials invalid   auth said no; PLAIN
 *                                authzid other than the user; SCRAM authzid
 *     454 4.7.0 Temporary authentication failure     auth unavailable
 *     501 5.0.0 Authentication cancelled             client sent "*"
 *     501 5.5.2 Cannot decode response               not strict base64
 *     501 5.5.2 Malformed authentication response    decoded, but not what
 *                                the mechanism expects (no NUL, empty or
 *                                over-long field, bad SCRAM syntax, "p="
 *                                channel binding, "m=" extension)
 *     501 5.5.4 Initial response not allowed for CRAM-MD5
 *     500 5.5.6 Authentication exchange line is too long
 *     504 5.5.4 Unrecognized authentication type     unknown, or not offered
 *     538 5.7.11 Encryption required for requested authentication mechanism
 *                                a known mechanism, offered here, but the
 *                                session is in plaintext and plaintext AUTH
 *                                is not allowed
 *     503 5.5.1 Bad sequence of commands             caller bug: a step
 *                                while no exchange runs or while waiting
 *
 *         A NEED_* outcome means: send that request to the auth process
 *         (which applies the failure delay), read no client input, and
 *         call sasl_verdict() with its answer. What the SMTP session keeps:
 *         the AUTH continuation state (linebuf limit SASL_LINE_MAX+2) and,
 *         after SASL_SUCCESS, s->user as the authenticated identity.
 * IPC:    PLAIN/LOGIN: one round trip (user, password) -> OK/BAD/TEMPFAIL,
 *         auth runs users_check_password.
 *         CRAM-MD5: one round trip (user, challenge, digest) -> OK/BAD/
 *         TEMPFAIL, auth runs sasl_cram_check with the user's APOP secret.
 *         SCRAM-SHA-256: two round trips that share one scram_server kept
 *         by auth for this session: (client-first) -> OK + server-first /
 *         BAD / TEMPFAIL; then (client-final) -> OK + server-final / BAD /
 *         MALFORMED / TEMPFAIL. The SMTP process never sees a verifier.
 * Limits: decoded responses SASL_MSG_MAX octets, response lines
 *         SASL_LINE_MAX characters, user names SASL_USER_MAX, passwords
 *         SASL_PASS_MAX; one AUTH exchange per sasl_start().
 * Never:  does I/O, reads a clock or a random source, or logs; the password
 *         is wiped by sasl_verdict()/sasl_reset(). It does not decide
 *         whether AUTH is allowed at all (already authenticated, during a
 *         transaction: the SMTP session's 503). */
#ifndef POSTERN_SASL_H
#define POSTERN_SASL_H
#include <stddef.h>
#include "apop.h"
#include "outcome.h"
#include "scram.h"

#define SASL_USER_MAX	255
#define SASL_PASS_MAX	512	/* = CRYPT_MAX_PASSPHRASE_SIZE */
#define SASL_MSG_MAX	2048	/* decoded octets of one client response */
#define SASL_LINE_MAX	12286	/* RFC 4954: 12288 with CRLF */
#define SASL_REPLY_MAX	1024	/* "334 " + base64(server-first) fits */
#define SASL_RANDOM_MIN	16	/* octets for a CRAM-MD5 challenge */
#define SASL_CRAM_DIGEST_HEX 32

enum sasl_mech {
	SASL_MECH_NONE = 0,
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
	SASL_MECH_CRAM_MD5,
	SASL_MECH_SCRAM_SHA_256,
};
#define SASL_M_PLAIN		(1u << SASL_MECH_PLAIN)
#define SASL_M_LOGIN		(1u << SASL_MECH_LOGIN)
#define SASL_M_CRAM_MD5		(1u << SASL_MECH_CRAM_MD5)
#define SASL_M_SCRAM_SHA_256	(1u << SASL_MECH_SCRAM_SHA_256)
#define SASL_M_ALL		(SASL_M_PLAIN | SASL_M_LOGIN | \
				    SASL_M_CRAM_MD5 | SASL_M_SCRAM_SHA_256)

enum sasl_result {
	SASL_CONTINUE,
	SASL_NEED_PASS,
	SASL_NEED_CRAM,
	SASL_NEED_SCRAM_FIRST,
	SASL_NEED_SCRAM_FINAL,
	SASL_SUCCESS,
	SASL_FAIL,
};

/* The auth process's answer to a NEED_* request (one IPC byte) is a
 * credential verdict (outcome.h): OUTCOME_OK (for SCRAM: with the server
 * message), OUTCOME_DENIED -> 535 5.7.8, OUTCOME_PERM (auth found the
 * message malformed) -> 501 5.5.2, OUTCOME_TEMP -> 454 4.7.0. */

/* What the session knows when AUTH arrives. */
struct sasl_params {
	unsigned	mechs;		/* SASL_M_* enabled on this listener
					 * (CRAM-MD5 only if APOP secrets exist) */
	int		tls;		/* the session is encrypted */
	int		plaintext_ok;	/* auth_over_plaintext = yes */
	const char	*host;		/* CRAM-MD5 challenge host name */
	const unsigned char *random;	/* >= SASL_RANDOM_MIN fresh octets
					 * (CRAM-MD5 challenge); may be NULL
					 * when CRAM-MD5 is not enabled */
	size_t		nrandom;
	long long	pid, now;	/* CRAM-MD5 challenge */
};

enum sasl_step {
	SASL_STEP_IDLE = 0,
	SASL_STEP_PLAIN,	/* sent "334 ", wait for the PLAIN message */
	SASL_STEP_LOGIN_USER,	/* sent "334 VXNlcm5hbWU6" (Username:) */
	SASL_STEP_LOGIN_PASS,	/* sent "334 UGFzc3dvcmQ6" (Password:) */
	SASL_STEP_CRAM,		/* sent the challenge */
	SASL_STEP_SCRAM_FIRST,	/* sent "334 ", wait for client-first */
	SASL_STEP_SCRAM_FINAL,	/* sent server-first, wait for client-final */
	SASL_STEP_SCRAM_ACK,	/* sent server-final, wait for "" */
	SASL_STEP_WAIT_AUTH,	/* a NEED_* is out; only sasl_verdict() */
	SASL_STEP_DONE,		/* SUCCESS or FAIL given */
};

struct sasl_server {
	enum sasl_mech	mech;
	enum sasl_step	step;
	enum sasl_result waiting;	/* which NEED_* is out */
	int		code;		/* 334, 235, 535, ... of reply */
	char		reply[SASL_REPLY_MAX];
	char		user[SASL_USER_MAX + 1];	/* authcid */
	char		pass[SASL_PASS_MAX + 1];	/* NEED_PASS only */
	char		challenge[APOP_TIMESTAMP_MAX];	/* CRAM-MD5 */
	char		digest[SASL_CRAM_DIGEST_HEX + 1];	/* CRAM-MD5 */
	char		msg[SASL_MSG_MAX + 1];		/* SCRAM message, NUL- */
	size_t		msglen;				/* terminated too */
};

/* Mechanism by name, case-insensitive ("scram-sha-256"); NONE if unknown. */
enum sasl_mech sasl_mech_parse(const char *name, size_t len);
/* Canonical name ("SCRAM-SHA-256"), "" for NONE. */
const char *sasl_mech_name(enum sasl_mech m);
/* The mechanisms usable now: p->mechs if p->tls or p->plaintext_ok, else
 * none. The EHLO keyword lists exactly these. */
unsigned sasl_mechs_usable(const struct sasl_params *p);
/* "SCRAM-SHA-256 PLAIN LOGIN CRAM-MD5" (strongest first) for the mask into
 * dst, for "250-AUTH ...". Returns the length, 0 for an empty mask (offer
 * no AUTH), -1 if dst is too small. */
int	sasl_mechs_format(unsigned mask, char *dst, size_t dstlen);

/* Zero s (SASL_STEP_IDLE). */
void	sasl_init(struct sasl_server *s);
/* Wipe the password and messages; back to IDLE. Call it when the session
 * ends, times out, or is reset in the middle of an exchange. */
void	sasl_reset(struct sasl_server *s);

/* AUTH mech [initial-response]: ir is NULL when absent, "=" for an empty
 * one (RFC 4954 section 4). Returns CONTINUE, NEED_*, or FAIL. An exchange
 * in progress is abandoned, except one waiting for sasl_verdict() (503). */
enum sasl_result sasl_start(struct sasl_server *s, const struct sasl_params *p,
	    const char *mech, size_t mechlen, const char *ir, size_t irlen);
/* One client response line (without CRLF) after a 334. Returns CONTINUE,
 * NEED_*, SUCCESS or FAIL. */
enum sasl_result sasl_step(struct sasl_server *s, const char *line,
	    size_t len);
/* The auth process's answer to the outstanding NEED_*. For
 * NEED_SCRAM_FIRST/FINAL with OUTCOME_OK, data/len is the server-first /
 * server-final message (printable, no NUL); else ignored (may be NULL).
 * Returns CONTINUE (SCRAM: 334 with the server message), SUCCESS or FAIL. */
enum sasl_result sasl_verdict(struct sasl_server *s, int v,
	    const char *data, size_t len);

/* For the auth process: 1 if digest (32 hex digits, either case) is
 * HMAC-MD5(secret, challenge) (RFC 2195), 0 if not or malformed, -1 if it
 * could not be computed. The 16 octets are compared in constant time. */
int	sasl_cram_check(const char *challenge, size_t challengelen,
	    const void *secret, size_t secretlen, const char *digest,
	    size_t digestlen);
/* The lower-case hex HMAC-MD5(secret, challenge) into hex_r (33 octets),
 * for tests and clients. 0 or -1. */
int	sasl_cram_digest(const char *challenge, size_t challengelen,
	    const void *secret, size_t secretlen,
	    char hex_r[SASL_CRAM_DIGEST_HEX + 1]);
#endif
