/* scram - SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, without the
 *         plaintext password: stored verifiers, and the exchange as a
 *         small state machine that lives in the auth process.
 * Trusts: the verifier it is handed (it comes from the users file via the
 *         master and auth); the caller's random bytes and salt; nothing in
 *         a client message.
 * Gives:  (a) verifiers: SaltedPassword = PBKDF2-HMAC-SHA-256(pw, salt, i),
 *             ClientKey = HMAC(SaltedPassword, "Client Key"),
 *             StoredKey = SHA-256(ClientKey),
 *             ServerKey = HMAC(SaltedPassword, "Server Key"),
 *             in the text form (as Dovecot and PostgreSQL write it)
 *             "SCRAM-SHA-256$<iter>:<b64 salt>$<b64 StoredKey>:<b64 ServerKey>",
 *             and a deterministic fake verifier for unknown users;
 *         (b) the exchange:
 *             client-first  -> scram_client_first_parse() gives the user
 *                              name whose verifier the caller looks up;
 *             scram_server_first(client-first, verifier, nonce random)
 *                           -> server-first-message "r=..,s=..,i=..";
 *             scram_server_final(client-final)
 *                           -> SCRAM_OK + server-final "v=..", or why not.
 *         Only the auth process needs (b)'s second half: the SMTP process
 *         relays the messages and never sees a verifier, a key or a proof
 *         check. The proof check is ClientKey = proof XOR
 *         HMAC(StoredKey, AuthMessage), then SHA-256(ClientKey) == StoredKey
 *         compared in constant time (CRYPTO_memcmp).
 * Limits: gs2 header "n,," or "y,," (optionally "a=AUTHZID" equal to the
 *         user): no channel binding ("p=" is refused: we offer no -PLUS
 *         mechanism, so "y" is a correct client's answer and is accepted);
 *         "m=" (mandatory extension) is refused, other extensions ignored;
 *         user names 1..SCRAM_NAME_MAX octets after "=2C"/"=3D" unescaping,
 *         no control characters; client nonce 1..SCRAM_NONCE_MAX printable
 *         characters other than ','; each client message at most
 *         SCRAM_MSG_MAX octets; iterations SCRAM_ITER_MIN..SCRAM_ITER_MAX;
 *         salts SCRAM_SALT_MIN..SCRAM_SALT_MAX octets; the server's nonce
 *         part is at least SCRAM_NONCE_RANDOM_MIN random octets.
 *         Passwords are used as the octets given: no SASLprep (RFC 4013).
 *         For printable ASCII SASLprep is the identity; a client that
 *         normalises a non-ASCII password differently will not match.
 * Never:  does I/O, reads a clock or a random source, logs, or allocates;
 *         keys and intermediate values are wiped (OPENSSL_cleanse) before
 *         returning, and scram_server_wipe() wipes an exchange. */
#ifndef POSTERN_SCRAM_H
#define POSTERN_SCRAM_H
#include <stddef.h>

#define SCRAM_MECH		"SCRAM-SHA-256"
#define SCRAM_KEY_LEN		32	/* SHA-256 */
#define SCRAM_SALT_LEN		16	/* what `postern user` generates */
#define SCRAM_SALT_MIN		8
#define SCRAM_SALT_MAX		64
#define SCRAM_ITER_DEFAULT	4096
#define SCRAM_ITER_MIN		4096	/* RFC 7677 section 4 */
#define SCRAM_ITER_MAX		1000000
#define SCRAM_NONCE_RANDOM_MIN	18	/* server nonce randomness, octets */
#define SCRAM_NONCE_RANDOM_MAX	48
#define SCRAM_SNONCE_MIN	24	/* chars of a text server nonce */
#define SCRAM_SNONCE_MAX	64
#define SCRAM_NAME_MAX		255	/* user name, unescaped */
#define SCRAM_NONCE_MAX		255	/* client nonce */
#define SCRAM_MSG_MAX		1024	/* one client message */
#define SCRAM_SERVER_FIRST_MAX	512	/* server-first-message + NUL */
#define SCRAM_SERVER_FINAL_MAX	64	/* "v=" + 44 + NUL, rounded up */
/* "SCRAM-SHA-256$" + 7 + ":" + 88 + "$" + 44 + ":" + 44 + NUL */
#define SCRAM_VERIFIER_MAX	256

enum scram_status {
	SCRAM_OK = 0,
	SCRAM_MALFORMED,	/* syntax, wrong nonce or channel binding data */
	SCRAM_UNSUPPORTED,	/* "p=" channel binding, or "m=" extension */
	SCRAM_AUTHZID,		/* authzid other than the user: not allowed */
	SCRAM_TOOLONG,		/* a message or field over its limit */
	SCRAM_BAD_PROOF,	/* wrong password, unknown user, no verifier */
	SCRAM_SEQUENCE,		/* call out of order (a bug in the caller) */
	SCRAM_INTERNAL,		/* OpenSSL failed: a temporary failure */
};

struct scram_verifier {
	unsigned	iterations;
	size_t		saltlen;
	unsigned char	salt[SCRAM_SALT_MAX];
	unsigned char	stored_key[SCRAM_KEY_LEN];
	unsigned char	server_key[SCRAM_KEY_LEN];
};

/* A short English name for a status, for logs ("malformed message"). */
const char *scram_status_str(enum scram_status st);

/* --- verifiers ------------------------------------------------------ */

/* Derive v from a password (pwlen octets, may hold any byte), the caller's
 * random salt (SCRAM_SALT_MIN..MAX octets; SCRAM_SALT_LEN recommended) and
 * an iteration count (SCRAM_ITER_MIN..MAX; SCRAM_ITER_DEFAULT recommended).
 * 0, or -1 (bad argument, OpenSSL failure; v is then zeroed). */
int	scram_verifier_make(struct scram_verifier *v, const char *pw,
	    size_t pwlen, const unsigned char *salt, size_t saltlen,
	    unsigned iterations);

/* The text form into dst (NUL-terminated). Returns its length, or -1 when
 * dstlen < SCRAM_VERIFIER_MAX would not hold it or v is out of limits. */
long	scram_verifier_format(const struct scram_verifier *v, char *dst,
	    size_t dstlen);

/* Parse exactly len octets of the text form (strict: canonical base64,
 * decimal iterations without leading zeros, in limits, key lengths exact).
 * 0, or -1 (v zeroed). */
int	scram_verifier_parse(struct scram_verifier *v, const char *text,
	    size_t len);

/* A verifier for a user who has none (unknown, or no SCRAM line): salt and
 * keys are HMAC-SHA-256(key, label || user), so the same user always gets
 * the same salt and the exchange looks like a real user's until the proof,
 * which can never match (that would need a SHA-256 preimage). key should
 * be secret and stable (e.g. 32 random octets kept by the auth process;
 * if it changes at every start, a patient prober can tell that a user's
 * salt changed). 0, or -1 on OpenSSL failure. */
int	scram_verifier_fake(struct scram_verifier *v, const unsigned char *key,
	    size_t keylen, const char *user, size_t userlen);

/* --- the exchange ------------------------------------------------------- */

/* What a client-first-message says. */
struct scram_client_first {
	char	cbind;				/* 'n' or 'y' */
	char	user[SCRAM_NAME_MAX + 1];	/* unescaped authcid */
	size_t	gs2len;				/* gs2 header length ("n,,") */
	size_t	barelen;			/* client-first-message-bare */
	size_t	noncelen;
	char	nonce[SCRAM_NONCE_MAX + 1];	/* client nonce */
};

/* Parse a client-first-message (len octets, no NUL inside). SCRAM_OK,
 * SCRAM_MALFORMED, SCRAM_UNSUPPORTED, SCRAM_AUTHZID or SCRAM_TOOLONG.
 * Pure syntax: smtpd uses it to name the user early, auth to find the
 * verifier to pass to scram_server_first(). */
enum scram_status scram_client_first_parse(struct scram_client_first *cf,
	    const char *msg, size_t len);

enum scram_server_state {
	SCRAM_SERVER_INIT = 0,	/* zeroed: before scram_server_first */
	SCRAM_SERVER_FIRST,	/* server-first sent, waiting for client-final */
	SCRAM_SERVER_DONE,	/* over (success or failure); one try only */
};

/* One exchange (auth keeps one per SMTP session in the middle of AUTH
 * SCRAM-SHA-256). Plain data, about 2.5 KiB, no pointers: zero it (or
 * scram_server_wipe it) to start. */
struct scram_server {
	enum scram_server_state state;
	char		user[SCRAM_NAME_MAX + 1];
	unsigned char	stored_key[SCRAM_KEY_LEN];
	unsigned char	server_key[SCRAM_KEY_LEN];
	size_t		gs2len, barelen, sflen, noncelen;
	char		gs2[SCRAM_MSG_MAX];		/* gs2 header */
	char		bare[SCRAM_MSG_MAX];		/* client-first-bare */
	char		server_first[SCRAM_SERVER_FIRST_MAX];
	char		nonce[SCRAM_NONCE_MAX + SCRAM_SNONCE_MAX + 1];
};

/* Start the exchange: parse client_first (as scram_client_first_parse),
 * take the keys, salt and iterations from v (the user's verifier, or
 * scram_verifier_fake's for an unknown user), and append to the client's
 * nonce the base64 of nrandom (SCRAM_NONCE_RANDOM_MIN..MAX) fresh random
 * octets from the caller. On SCRAM_OK out (outlen >= SCRAM_SERVER_FIRST_MAX
 * is always enough) holds the NUL-terminated server-first-message,
 * *outlen_r its length, and s->user the user. On any other status the
 * exchange is over (s->state == SCRAM_SERVER_DONE). */
enum scram_status scram_server_first(struct scram_server *s,
	    const char *client_first, size_t len, const struct scram_verifier *v,
	    const unsigned char *random, size_t nrandom, char *out,
	    size_t outlen, size_t *outlen_r);

/* As scram_server_first, with the server's nonce part given as text
 * (SCRAM_SNONCE_MIN..MAX printable characters other than ','): for test
 * vectors (RFC 7677's is not base64) and callers with their own format. */
enum scram_status scram_server_first_nonce(struct scram_server *s,
	    const char *client_first, size_t len, const struct scram_verifier *v,
	    const char *snonce, size_t snoncelen, char *out, size_t outlen,
	    size_t *outlen_r);

/* Finish: check a client-final-message "c=..,r=..[,ext],p=..": the
 * channel binding must be the base64 of the gs2 header ("biws" for "n,,"),
 * the nonce the combined one, the proof 32 octets that verify. SCRAM_OK
 * with the NUL-terminated server-final-message "v=<ServerSignature>" in out
 * (outlen >= SCRAM_SERVER_FINAL_MAX); SCRAM_BAD_PROOF (wrong password or no
 * such user: count it as a failed login); SCRAM_MALFORMED / SCRAM_TOOLONG
 * (not a valid client-final); SCRAM_SEQUENCE (not after server_first);
 * SCRAM_INTERNAL. Whatever the result, the exchange is then over. */
enum scram_status scram_server_final(struct scram_server *s,
	    const char *client_final, size_t len, char *out, size_t outlen,
	    size_t *outlen_r);

/* Wipe keys and messages; s is then SCRAM_SERVER_INIT again. */
void	scram_server_wipe(struct scram_server *s);

/* --- client side, for tests and tools ------------------------------------ */

/* The client's proof and expected server signature for an exchange, from
 * the password: what a real client computes. auth_message is
 * client-first-bare "," server-first "," client-final-without-proof.
 * 0, or -1 on OpenSSL failure. Used by unit tests and the fuzzer to drive
 * successful exchanges; the server never calls it. */
int	scram_client_proof(const char *pw, size_t pwlen,
	    const unsigned char *salt, size_t saltlen, unsigned iterations,
	    const char *auth_message, size_t amlen,
	    unsigned char proof_r[SCRAM_KEY_LEN],
	    unsigned char server_sig_r[SCRAM_KEY_LEN]);
#endif
