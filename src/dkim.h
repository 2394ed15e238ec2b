/* dkim - DomainKeys Identified Mail (RFC 6376, ed25519 from RFC 8463):
 *        the tag-list parser, header and body canonicalisation, signing
 *        and verification, all on bytes and keys in memory.
 * Trusts: nothing in a message, a DKIM-Signature or a key record: every
 *         one is parsed strictly and within the bounds below. The caller's
 *         EVP_PKEY (signing) and `now`.
 * Gives:  dkim_tags_parse (RFC 6376 3.2); dkim_canon_header and the
 *         streaming body canonicaliser (the same hash fed whole or byte by
 *         byte); dkim_sign (a folded DKIM-Signature field); a verifier
 *         that parses every signature of a header section, names the key
 *         record each needs (selector._domainkey.domain), takes the body
 *         in chunks and the DNS answers in any order, and gives one result
 *         per signature with a reason.
 * Results: pass; fail (the body hash or the signature does not match,
 *         rsa-sha1 (RFC 8301), an expired x=, a body shorter than l=);
 *         neutral (a signature we cannot evaluate: unknown v=, a=, c= or
 *         q=); permerror (a malformed signature, h= without From, i= not
 *         under d=, a missing, malformed, revoked or mismatched key);
 *         temperror (the key record lookup failed temporarily).
 * l=:     a body longer than l= still passes, with unsigned_tail set:
 *         whatever follows the first l= canonical octets was added by
 *         anyone, so a caller must not trust it (a signature with l= can
 *         be treated as weaker, or the tail flagged to the user).
 * Never:  does I/O (no BIO, no files, no DNS: the caller fetches the key
 *         record), reads the clock, or signs with rsa-sha1. */
#ifndef POSTERN_DKIM_H
#define POSTERN_DKIM_H
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "buf.h"
#include "outcome.h"

/* Tags in one tag list: a signature has 14 defined tags, a key record 7;
 * more is an attack on the parser's time, not a real record. */
#define DKIM_TAGS_MAX		32
/* Bytes of one tag list (a DKIM-Signature value, a key record): an RSA
 * 4096 signature with a long h= is well under 2 KiB. */
#define DKIM_TAGLIST_MAX	8192
/* DKIM-Signature fields of one message that are evaluated; more are
 * ignored (counted in skipped): each costs a DNS lookup. */
#define DKIM_SIGS_MAX		8
/* Entries in h=: the default list over-signed is 17. */
#define DKIM_H_MAX		64
/* Header fields of a message considered: the verifier cuts a longer
 * header there, the signer refuses it. */
#define DKIM_FIELDS_MAX		1000
/* Longest key record name: selector._domainkey.domain. */
#define DKIM_QUERY_MAX		256
/* A signature's b= decoded: RSA 8192 bits. */
#define DKIM_SIG_BYTES_MAX	1024

/* One tag: name and value point into the parsed text. The value has no
 * leading or trailing whitespace but may contain folding inside it. raw,
 * raw_len is everything between '=' and ';' (or the end): what
 * verification removes of b=. */
struct dkim_tag {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
	const char	*raw;
	size_t		 raw_len;
};

struct dkim_taglist {
	struct dkim_tag	 tags[DKIM_TAGS_MAX];
	size_t		 n;
};

/* RFC 6376 3.2: tag-spec *(";" tag-spec) [";"], FWS allowed around
 * names, '=', values and ';' (folding as CRLF followed by WSP only).
 * 0, or -1: a syntax error, a duplicate tag name, more than
 * DKIM_TAGS_MAX tags or DKIM_TAGLIST_MAX bytes, a NUL. */
int	dkim_tags_parse(const char *s, size_t len, struct dkim_taglist *out);
/* The tag called name (case-sensitive, as RFC 6376 says), or NULL. */
const struct dkim_tag *dkim_tags_find(const struct dkim_taglist *t,
	    const char *name);

enum dkim_canon {
	DKIM_CANON_SIMPLE = 0,
	DKIM_CANON_RELAXED,
};

enum dkim_alg {
	DKIM_ALG_RSA_SHA256 = 0,
	DKIM_ALG_ED25519_SHA256,
	DKIM_ALG_RSA_SHA1,		/* recognised only to be failed */
};

/* One header field (name, ':', value, with its continuation lines and
 * final CRLF if any) canonicalised into out; with_crlf adds the CRLF the
 * canonical form ends with (not for the signature field itself). 0 or -1
 * (out is full, or the field has no ':'). */
int	dkim_canon_header(struct buf *out, enum dkim_canon c, const char *f,
	    size_t len, int with_crlf);

/* The body canonicaliser (RFC 6376 3.4.3, 3.4.4): fed any chunks, it
 * hashes the canonical body (the first `limit` octets of it when limit >=
 * 0) and counts every canonical octet, so that l= can be checked.
 * Trailing empty lines are held back until a line with content follows. */
struct dkim_body {
	enum dkim_canon	 canon;
	EVP_MD_CTX	*md;		/* NULL: only count (and copy) */
	struct buf	*copy;		/* optional: the canonical bytes too */
	int64_t		 limit;		/* -1: no l= */
	uint64_t	 total;		/* canonical octets produced so far */
	uint64_t	 empty_lines;	/* held back: CRLF x this many */
	int		 cr;		/* last byte a CR, not yet judged */
	int		 wsp;		/* relaxed: WSP run not yet written */
	int		 line_content;	/* the current line has content */
	size_t		 stage_len;
	unsigned char	 stage[512];	/* batches bytes for the digest */
};

/* md: EVP_sha256() (or NULL: count only); copy may be NULL. 0, or -1 when
 * the digest cannot be set up. */
int	dkim_body_init(struct dkim_body *b, enum dkim_canon c, const EVP_MD *md,
	    int64_t limit, struct buf *copy);
void	dkim_body_feed(struct dkim_body *b, const void *p, size_t n);
/* Ends the body: the digest (32 octets for sha256) into out (at least
 * EVP_MAX_MD_SIZE), *outlen its length. 0 or -1. Frees the context. */
int	dkim_body_final(struct dkim_body *b, unsigned char *out,
	    unsigned *outlen);
/* Frees the context without a digest (an abandoned verification). */
void	dkim_body_free(struct dkim_body *b);

/* Signing. headers NULL: the default list (dkim_default_headers); every
 * name in oversign is signed once more than it occurs, so that none can be
 * added later. */
struct dkim_sign_params {
	const char		*domain;	/* d= */
	const char		*selector;	/* s= */
	enum dkim_alg		 alg;		/* RSA_SHA256 or ED25519_SHA256 */
	EVP_PKEY		*key;
	enum dkim_canon		 hcanon, bcanon; /* relaxed/relaxed normally */
	const char *const	*headers;	/* NULL-terminated, or NULL */
	const char *const	*oversign;	/* NULL-terminated, or NULL */
	int64_t			 now;		/* t= */
	int			 body_length;	/* add l= (tests; never by
						 * default: see l= above) */
};

/* From Reply-To Subject Date To Cc Message-ID In-Reply-To References
 * MIME-Version Content-Type Content-Transfer-Encoding, and the over-signed
 * From Subject To Date Message-ID (NULL-terminated). */
extern const char *const dkim_default_headers[];
extern const char *const dkim_default_oversign[];

/* Sign msg (header section, empty line, body; CRLF line ends): appends to
 * out the DKIM-Signature field, folded at 78 columns, ending in CRLF, to
 * be prepended to the message. 0, or -1 with why (no From field, a bad
 * domain or selector, a key that does not fit the algorithm, more than
 * DKIM_FIELDS_MAX header fields, out full). */
int	dkim_sign(const char *msg, size_t len, const struct dkim_sign_params *p,
	    struct buf *out, char *why, size_t wlen);

/* Verification. */
enum dkim_result {
	DKIM_PENDING = 0,	/* still waits for the body end or the key */
	DKIM_PASS,
	DKIM_FAIL,
	DKIM_NEUTRAL,
	DKIM_PERMERROR,
	DKIM_TEMPERROR,
};

struct dkim_sig {
	enum dkim_result result;
	char		 reason[128];
	char		 domain[254];	/* d=, lower case */
	char		 selector[64];	/* s= */
	char		 query[DKIM_QUERY_MAX];	/* the key record's name */
	char		 identity[256];	/* i=, or "@" d= */
	enum dkim_alg	 alg;
	enum dkim_canon	 hcanon, bcanon;
	int64_t		 length;	/* l=, -1 without */
	int		 unsigned_tail;	/* the body goes on after l= octets */
	int64_t		 timestamp;	/* t=, -1 without */
	int64_t		 expires;	/* x=, -1 without */
	unsigned char	 bh[EVP_MAX_MD_SIZE];
	size_t		 bh_len;
	unsigned char	 sig[DKIM_SIG_BYTES_MAX];
	size_t		 sig_len;
	unsigned char	 hhash[EVP_MAX_MD_SIZE];	/* header hash */
	struct dkim_body body;
	int		 body_done;	/* bh compared */
	int		 body_ok;
	EVP_PKEY	*key;		/* from dkim_verify_key */
	int		 key_done;
};

struct dkim_verify {
	struct dkim_sig	 sigs[DKIM_SIGS_MAX];
	size_t		 n;
	size_t		 skipped;	/* signatures past DKIM_SIGS_MAX */
	int64_t		 now;
};

/* Parse the header section (every field up to, not including, the empty
 * line) and every DKIM-Signature in it; the header hashes are computed
 * here. Signatures that are already decided (malformed, rsa-sha1,
 * expired) have their result set; the others are DKIM_PENDING and need
 * the body and their key. 0, or -1 (out of memory in libcrypto). */
int	dkim_verify_begin(struct dkim_verify *v, const char *header,
	    size_t hlen, int64_t now);
/* The body (what follows the empty line), in any chunks. */
void	dkim_verify_body(struct dkim_verify *v, const void *p, size_t n);
void	dkim_verify_body_end(struct dkim_verify *v);
/* The key record answer for signature i: OUTCOME_OK with the TXT text
 * (strings concatenated), OUTCOME_TEMP (temperror), OUTCOME_PERM (no such
 * record: permerror). Any order with the body. */
void	dkim_verify_key(struct dkim_verify *v, size_t i, enum outcome dns,
	    const char *txt, size_t len);
/* Parse a key record: the public key (caller frees), or NULL with why. */
EVP_PKEY *dkim_key_record_parse(const char *txt, size_t len,
	    enum dkim_alg alg, char *why, size_t wlen);
/* Releases keys and digests. */
void	dkim_verify_free(struct dkim_verify *v);
/* The whole message at once: dkim_verify_begin and the body. */
int	dkim_verify_message(struct dkim_verify *v, const char *msg,
	    size_t len, int64_t now);
/* "pass", "fail", "neutral", "permerror", "temperror" ("none" pending). */
const char *dkim_result_name(enum dkim_result r);
/* Append in[0..n) to out with every bare LF made CRLF (a message saved
 * with LF line ends, as the CRLF form DKIM hashes). 0, or -1 when out is
 * full. */
int	dkim_crlf(const char *in, size_t n, struct buf *out);
/* The length of the header section of msg, including the empty line
 * that ends it (the body starts there); len when there is none. */
size_t	dkim_header_len(const char *msg, size_t len);
#endif
