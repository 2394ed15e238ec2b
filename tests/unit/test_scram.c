/* test_scram - SCRAM-SHA-256: RFC 7677's example exchange exactly (keys,
 * server-first, proof, server signature), verifier text form both ways,
 * every malformed client-first and client-final side by side with valid
 * ones, every proof octet wrong, out-of-order calls, fake verifiers for
 * unknown users, and the limits at limit-1, limit, limit+1. */
#include "unit.h"
#include "base64.h"
#include "scram.h"

/* RFC 7677 section 3 */
#define RFC_PW		"pencil"
#define RFC_SALT64	"W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_CNONCE	"rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE	"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_C1		"n,,n=user,r=" RFC_CNONCE
#define RFC_S1		"r=" RFC_CNONCE RFC_SNONCE ",s=" RFC_SALT64 ",i=4096"
#define RFC_C2_WP	"c=biws,r=" RFC_CNONCE RFC_SNONCE
#define RFC_PROOF	"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_C2		RFC_C2_WP ",p=" RFC_PROOF
#define RFC_S2		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
/* StoredKey and ServerKey of "pencil" with that salt (computed
 * independently with Python's hashlib/hmac). */
#define RFC_VERIFIER	"SCRAM-SHA-256$4096:" RFC_SALT64 "$" \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:" \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

static void
rfc_verifier(struct scram_verifier *v)
{
	unsigned char salt[16];
	size_t n;

	assert_int_equal(base64_decode(salt, sizeof(salt), &n, RFC_SALT64,
	    strlen(RFC_SALT64)), BASE64_OK);
	assert_int_equal(n, 16);
	assert_int_equal(scram_verifier_make(v, RFC_PW, strlen(RFC_PW), salt,
	    n, 4096), 0);
}

static void
test_rfc7677_verifier(void **state)
{
	struct scram_verifier v, w;
	char text[SCRAM_VERIFIER_MAX];

	(void)state;
	rfc_verifier(&v);
	assert_int_equal(scram_verifier_format(&v, text, sizeof(text)),
	    (long)strlen(RFC_VERIFIER));
	assert_string_equal(text, RFC_VERIFIER);
	assert_int_equal(scram_verifier_parse(&w, text, strlen(text)), 0);
	assert_memory_equal(&v, &w, sizeof(v));
}

static enum scram_status
rfc_first(struct scram_server *s, const struct scram_verifier *v)
{
	char out[SCRAM_SERVER_FIRST_MAX];
	size_t n;
	enum scram_status st;

	memset(s, 0, sizeof(*s));
	st = scram_server_first_nonce(s, RFC_C1, strlen(RFC_C1), v,
	    RFC_SNONCE, strlen(RFC_SNONCE), out, sizeof(out), &n);
	if (st == SCRAM_OK) {
		assert_string_equal(out, RFC_S1);
		assert_int_equal(n, strlen(RFC_S1));
	}
	return st;
}

static void
test_rfc7677_exchange(void **state)
{
	struct scram_verifier v;
	struct scram_server s;
	char out[SCRAM_SERVER_FINAL_MAX];
	size_t n;

	(void)state;
	/* From the verifier text only: no password on the server. */
	assert_int_equal(scram_verifier_parse(&v, RFC_VERIFIER,
	    strlen(RFC_VERIFIER)), 0);
	assert_int_equal(rfc_first(&s, &v), SCRAM_OK);
	assert_string_equal(s.user, "user");
	assert_int_equal(s.state, SCRAM_SERVER_FIRST);
	assert_int_equal(scram_server_final(&s, RFC_C2, strlen(RFC_C2), out,
	    sizeof(out), &n), SCRAM_OK);
	assert_string_equal(out, RFC_S2);
	assert_int_equal(n, strlen(RFC_S2));
	assert_int_equal(s.state, SCRAM_SERVER_DONE);
	/* One try per exchange. */
	assert_int_equal(scram_server_final(&s, RFC_C2, strlen(RFC_C2), out,
	    sizeof(out), &n), SCRAM_SEQUENCE);
	assert_string_equal(out, "");
}

/* The client side helper gives the RFC's proof and signature. */
static void
test_rfc7677_client(void **state)
{
	static const char am[] = "n=user,r=" RFC_CNONCE "," RFC_S1 ","
	    RFC_C2_WP;
	unsigned char salt[16], proof[32], sig[32];
	char p64[64], s64[64];
	size_t n;

	(void)state;
	assert_int_equal(base64_decode(salt, sizeof(salt), &n, RFC_SALT64,
	    strlen(RFC_SALT64)), BASE64_OK);
	assert_int_equal(scram_client_proof(RFC_PW, 6, salt, n, 4096, am,
	    strlen(am), proof, sig), 0);
	base64_encode(p64, sizeof(p64), proof, 32);
	base64_encode(s64, sizeof(s64), sig, 32);
	assert_string_equal(p64, RFC_PROOF);
	assert_string_equal(s64, RFC_S2 + 2);
}

/* Every octet of the proof wrong in turn: refused; wrong password too. */
static void
test_bad_proofs(void **state)
{
	struct scram_verifier v, other;
	struct scram_server s;
	unsigned char proof[32];
	char p64[64], msg[256], out[SCRAM_SERVER_FINAL_MAX];
	size_t n, i;
	int bit;

	(void)state;
	rfc_verifier(&v);
	assert_int_equal(base64_decode(proof, sizeof(proof), &n, RFC_PROOF,
	    strlen(RFC_PROOF)), BASE64_OK);
	for (i = 0; i < 32; i++) {
		for (bit = 0; bit < 8; bit += 7) {
			proof[i] ^= (unsigned char)(1u << bit);
			base64_encode(p64, sizeof(p64), proof, 32);
			snprintf(msg, sizeof(msg), "%s,p=%s", RFC_C2_WP, p64);
			assert_int_equal(rfc_first(&s, &v), SCRAM_OK);
			assert_int_equal(scram_server_final(&s, msg,
			    strlen(msg), out, sizeof(out), &n),
			    SCRAM_BAD_PROOF);
			assert_string_equal(out, "");
			assert_int_equal(n, 0);
			proof[i] ^= (unsigned char)(1u << bit);
		}
	}
	/* The same exchange against another password's verifier. */
	{
		unsigned char salt[16];

		assert_int_equal(base64_decode(salt, sizeof(salt), &n,
		    RFC_SALT64, strlen(RFC_SALT64)), BASE64_OK);
		assert_int_equal(scram_verifier_make(&other, "pencil2", 7,
		    salt, 16, 4096), 0);
	}
	assert_int_equal(rfc_first(&s, &other), SCRAM_OK);
	assert_int_equal(scram_server_final(&s, RFC_C2, strlen(RFC_C2), out,
	    sizeof(out), &n), SCRAM_BAD_PROOF);
	/* The server wiped the keys when the exchange ended. */
	{
		static const unsigned char zero[SCRAM_KEY_LEN];

		assert_memory_equal(s.stored_key, zero, SCRAM_KEY_LEN);
		assert_memory_equal(s.server_key, zero, SCRAM_KEY_LEN);
	}
}

static void
test_client_first_parse(void **state)
{
	static const struct {
		const char *msg;
		enum scram_status want;
		const char *user;
	} t[] = {
		{ "n,,n=user,r=abc", SCRAM_OK, "user" },
		{ "y,,n=user,r=abc", SCRAM_OK, "user" },
		{ "n,a=user,n=user,r=abc", SCRAM_OK, "user" },
		{ "n,,n=a=2Cb=3Dc,r=abc", SCRAM_OK, "a,b=c" },
		{ "n,,n=user,r=abc,x=1", SCRAM_OK, "user" },
		{ "n,,n=user,r=abc,x=1,Y=a=b", SCRAM_OK, "user" },
		{ "n,,n=user,r=abc,r=def", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,r=abc,m=def", SCRAM_MALFORMED, NULL },
		{ "n,,n=\xc3\xa9mile,r=abc", SCRAM_OK, "\xc3\xa9mile" },
		{ "n,,n=user,r=!\"#$%&'()*+-./~", SCRAM_OK, "user" },
		{ "p=tls-unique,,n=user,r=abc", SCRAM_UNSUPPORTED, NULL },
		{ "p,,n=user,r=abc", SCRAM_UNSUPPORTED, NULL },
		{ "n,,m=ext,n=user,r=abc", SCRAM_UNSUPPORTED, NULL },
		{ "n,a=admin,n=user,r=abc", SCRAM_AUTHZID, NULL },
		{ "n,a=use,n=user,r=abc", SCRAM_AUTHZID, NULL },
		{ "", SCRAM_MALFORMED, NULL },
		{ "n", SCRAM_MALFORMED, NULL },
		{ "n,", SCRAM_MALFORMED, NULL },
		{ "n,,", SCRAM_MALFORMED, NULL },
		{ "x,,n=user,r=abc", SCRAM_MALFORMED, NULL },
		{ "N,,n=user,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,n=user,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,a=,n=user,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,b=user,n=user,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,,n=,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,,n=a=2cb,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,,n=a=,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,,n=a=2,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,,n=a=41,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,,n=us\ter,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,,n=us\x7f,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,,n=user", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,r=", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,r=ab c", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,r=ab\x80", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,s=abc", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,r=abc,", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,r=abc,x", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,r=abc,x=", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,r=abc,1=x", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,r=abc,,x=1", SCRAM_MALFORMED, NULL },
		{ " n,,n=user,r=abc", SCRAM_MALFORMED, NULL },
		{ "n,,n=user,r=abc\r\n", SCRAM_MALFORMED, NULL },
	};
	struct scram_client_first cf;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum scram_status st = scram_client_first_parse(&cf,
		    t[i].msg, strlen(t[i].msg));

		if (st != t[i].want)
			fail_msg("case %zu '%s': got %d want %d", i, t[i].msg,
			    st, t[i].want);
		if (t[i].user != NULL)
			assert_string_equal(cf.user, t[i].user);
	}
	/* NUL inside. */
	assert_int_equal(scram_client_first_parse(&cf, "n,,n=us\0r,r=abc",
	    15), SCRAM_MALFORMED);
	/* gs2 and bare lengths. */
	assert_int_equal(scram_client_first_parse(&cf, "y,a=u,n=u,r=x", 13),
	    SCRAM_OK);
	assert_int_equal(cf.gs2len, 6);
	assert_int_equal(cf.barelen, 7);
	assert_int_equal(cf.cbind, 'y');
	assert_string_equal(cf.nonce, "x");
}

/* Every prefix of a valid message parses without reading past it, and
 * only the whole one is OK (the nonce can end anywhere, so also those). */
static void
test_client_first_prefixes(void **state)
{
	static const char m[] = "n,a=u=2Cv,n=u=2Cv,r=abcdef,x=1";
	struct scram_client_first cf;
	size_t i;

	(void)state;
	for (i = 0; i <= sizeof(m) - 1; i++) {
		char *copy = malloc(i + 1);
		enum scram_status st;

		memcpy(copy, m, i);
		st = scram_client_first_parse(&cf, copy, i);
		free(copy);
		if (i >= 21 && i <= 26)		/* "...r=a" .. "...r=abcdef" */
			assert_int_equal(st, SCRAM_OK);
		else if (i == sizeof(m) - 1)
			assert_int_equal(st, SCRAM_OK);
		else
			assert_int_not_equal(st, SCRAM_OK);
	}
}

/* Limits: user name, nonce, message at limit-1, limit, limit+1. */
static void
test_client_first_limits(void **state)
{
	struct scram_client_first cf;
	char msg[SCRAM_MSG_MAX + 64];
	size_t len;

	(void)state;
	/* User 255 / 256 (unescaped). */
	len = (size_t)snprintf(msg, sizeof(msg), "n,,n=%0255d,r=a", 0);
	assert_int_equal(scram_client_first_parse(&cf, msg, len), SCRAM_OK);
	assert_int_equal(strlen(cf.user), 255);
	len = (size_t)snprintf(msg, sizeof(msg), "n,,n=%0256d,r=a", 0);
	assert_int_equal(scram_client_first_parse(&cf, msg, len),
	    SCRAM_TOOLONG);
	/* 255 octets after unescaping: the escapes count once. */
	len = (size_t)snprintf(msg, sizeof(msg), "n,,n==2C%0254d,r=a", 0);
	assert_int_equal(scram_client_first_parse(&cf, msg, len), SCRAM_OK);
	/* Nonce 255 / 256. */
	len = (size_t)snprintf(msg, sizeof(msg), "n,,n=u,r=%0255d", 0);
	assert_int_equal(scram_client_first_parse(&cf, msg, len), SCRAM_OK);
	len = (size_t)snprintf(msg, sizeof(msg), "n,,n=u,r=%0256d", 0);
	assert_int_equal(scram_client_first_parse(&cf, msg, len),
	    SCRAM_TOOLONG);
	/* Whole message 1023 / 1024 / 1025 (padded with an extension). */
	for (len = SCRAM_MSG_MAX - 1; len <= SCRAM_MSG_MAX + 1; len++) {
		size_t head = (size_t)snprintf(msg, sizeof(msg),
		    "n,,n=u,r=a,x=");

		memset(msg + head, 'y', len - head);
		assert_int_equal(scram_client_first_parse(&cf, msg, len),
		    len <= SCRAM_MSG_MAX ? SCRAM_OK : SCRAM_TOOLONG);
	}
}

/* Runs one exchange with a password-derived client; c2fmt gets the
 * combined nonce; the proof is computed over what is sent. */
static enum scram_status
exchange(const struct scram_verifier *v, const char *pw, const char *c1,
    const char *c2_wp, int use_nonce, char *s2, size_t s2len)
{
	struct scram_server s;
	struct scram_client_first cf;
	char s1[SCRAM_SERVER_FIRST_MAX], c2[2048], am[4096], p64[64];
	unsigned char proof[32], sig[32], rnd[18];
	size_t n, i;
	enum scram_status st;

	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (unsigned char)(i * 13 + 7);
	memset(&s, 0, sizeof(s));
	st = scram_server_first(&s, c1, strlen(c1), v, rnd, sizeof(rnd), s1,
	    sizeof(s1), &n);
	if (st != SCRAM_OK)
		return st;
	assert_int_equal(scram_client_first_parse(&cf, c1, strlen(c1)),
	    SCRAM_OK);
	/* c2_wp may hold one %s for the combined nonce. */
	if (use_nonce) {
		const char *at = strstr(c2_wp, "%s");

		snprintf(c2, sizeof(c2), "%.*s%s%s", (int)(at - c2_wp), c2_wp,
		    s.nonce, at + 2);
	} else
		snprintf(c2, sizeof(c2), "%s", c2_wp);
	snprintf(am, sizeof(am), "%s,%s,%s", c1 + cf.gs2len, s1, c2);
	assert_int_equal(scram_client_proof(pw, strlen(pw), v->salt,
	    v->saltlen, v->iterations, am, strlen(am), proof, sig), 0);
	base64_encode(p64, sizeof(p64), proof, 32);
	n = strlen(c2);
	snprintf(c2 + n, sizeof(c2) - n, ",p=%s", p64);
	st = scram_server_final(&s, c2, strlen(c2), s2, s2len, &n);
	if (st == SCRAM_OK) {
		char want[64];

		base64_encode(want + 2, sizeof(want) - 2, sig, 32);
		memcpy(want, "v=", 2);
		assert_string_equal(s2, want);
	}
	return st;
}

static void
test_exchange_variants(void **state)
{
	static const struct {
		const char *c1, *c2;
		enum scram_status want;
	} t[] = {
		{ "n,,n=bob,r=cn", "c=biws,r=%s", SCRAM_OK },
		{ "y,,n=bob,r=cn", "c=eSws,r=%s", SCRAM_OK },
		{ "n,a=bob,n=bob,r=cn", "c=bixhPWJvYiw=,r=%s", SCRAM_OK },
		{ "n,,n=bob,r=cn,q=1", "c=biws,r=%s", SCRAM_OK },
		{ "n,,n=bob,r=cn", "c=biws,r=%s,x=ext", SCRAM_OK },
		{ "n,,n=bob,r=cn", "c=biws,r=%s,e=ext", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "c=biws,r=%s,r=%s", SCRAM_MALFORMED },
		/* channel binding data not the gs2 header */
		{ "n,,n=bob,r=cn", "c=eSws,r=%s", SCRAM_MALFORMED },
		{ "y,,n=bob,r=cn", "c=biws,r=%s", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "c=biwsAA==,r=%s", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "c=,r=%s", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "c=biw,r=%s", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "r=%s", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "r=%s,c=biws", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "c=biws,r=%sX", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "c=biws,r=cn", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "c=biws", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "c=biws,r=%s,", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", "c=biws,r=%s,1=x", SCRAM_MALFORMED },
		{ "n,,n=bob,r=cn", " c=biws,r=%s", SCRAM_MALFORMED },
	};
	struct scram_verifier v;
	unsigned char salt[SCRAM_SALT_LEN];
	char s2[SCRAM_SERVER_FINAL_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (unsigned char)(0xa5 ^ i);
	assert_int_equal(scram_verifier_make(&v, "s3cret pw", 9, salt,
	    sizeof(salt), 4096), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum scram_status st = exchange(&v, "s3cret pw", t[i].c1,
		    t[i].c2, strstr(t[i].c2, "%s") != NULL, s2, sizeof(s2));

		if (st != t[i].want)
			fail_msg("case %zu (%s / %s): got %d", i, t[i].c1,
			    t[i].c2, st);
	}
	assert_int_equal(exchange(&v, "s3cret pW", "n,,n=bob,r=cn",
	    "c=biws,r=%s", 1, s2, sizeof(s2)), SCRAM_BAD_PROOF);
	/* Refused client-firsts end the exchange at once. */
	assert_int_equal(exchange(&v, "x", "p=tls-unique,,n=bob,r=cn",
	    "c=biws,r=%s", 1, s2, sizeof(s2)), SCRAM_UNSUPPORTED);
	assert_int_equal(exchange(&v, "x", "n,a=root,n=bob,r=cn",
	    "c=biws,r=%s", 1, s2, sizeof(s2)), SCRAM_AUTHZID);
}

/* Malformed proofs: not last, not base64, wrong length, twice. */
static void
test_final_malformed(void **state)
{
	static const char *bad[] = {
		RFC_C2_WP,
		RFC_C2_WP ",p=",
		RFC_C2_WP ",p=" RFC_PROOF ",x=1",
		RFC_C2_WP ",p=" RFC_PROOF ",p=" RFC_PROOF,
		RFC_C2_WP ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndQ==",
		RFC_C2_WP ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQAAA==",
		RFC_C2_WP ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
		RFC_C2_WP ",p=dHzbZapWIk4jUhN-Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		RFC_C2_WP ",P=" RFC_PROOF,
		"p=" RFC_PROOF,
		"",
		",",
	};
	struct scram_verifier v;
	struct scram_server s;
	char out[SCRAM_SERVER_FINAL_MAX], big[SCRAM_MSG_MAX + 2];
	size_t i, n;

	(void)state;
	rfc_verifier(&v);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rfc_first(&s, &v), SCRAM_OK);
		if (scram_server_final(&s, bad[i], strlen(bad[i]), out,
		    sizeof(out), &n) != SCRAM_MALFORMED)
			fail_msg("case %zu accepted", i);
	}
	/* NUL inside */
	assert_int_equal(rfc_first(&s, &v), SCRAM_OK);
	{
		char c2[] = RFC_C2;

		c2[3] = '\0';
		assert_int_equal(scram_server_final(&s, c2, sizeof(c2) - 1,
		    out, sizeof(out), &n), SCRAM_MALFORMED);
	}
	/* Too long: 1025 octets. */
	memset(big, 'a', sizeof(big));
	assert_int_equal(rfc_first(&s, &v), SCRAM_OK);
	assert_int_equal(scram_server_final(&s, big, SCRAM_MSG_MAX + 1, out,
	    sizeof(out), &n), SCRAM_TOOLONG);
	/* Output buffer too small for v=: internal, nothing written. */
	assert_int_equal(rfc_first(&s, &v), SCRAM_OK);
	assert_int_equal(scram_server_final(&s, RFC_C2, strlen(RFC_C2), out,
	    strlen(RFC_S2), &n), SCRAM_INTERNAL);
	assert_int_equal(rfc_first(&s, &v), SCRAM_OK);
	assert_int_equal(scram_server_final(&s, RFC_C2, strlen(RFC_C2), out,
	    strlen(RFC_S2) + 1, &n), SCRAM_OK);
}

static void
test_sequence(void **state)
{
	struct scram_verifier v;
	struct scram_server s;
	char out[SCRAM_SERVER_FIRST_MAX];
	size_t n;

	(void)state;
	rfc_verifier(&v);
	memset(&s, 0, sizeof(s));
	assert_int_equal(scram_server_final(&s, RFC_C2, strlen(RFC_C2), out,
	    sizeof(out), &n), SCRAM_SEQUENCE);
	assert_int_equal(rfc_first(&s, &v), SCRAM_OK);
	assert_int_equal(scram_server_first_nonce(&s, RFC_C1, strlen(RFC_C1),
	    &v, RFC_SNONCE, strlen(RFC_SNONCE), out, sizeof(out), &n),
	    SCRAM_SEQUENCE);
	assert_int_equal(s.state, SCRAM_SERVER_DONE);
	scram_server_wipe(&s);
	assert_int_equal(s.state, SCRAM_SERVER_INIT);
	assert_int_equal(rfc_first(&s, &v), SCRAM_OK);
}

/* Server nonce randomness 17/18/48/49 octets; text nonce 23/24/64/65. */
static void
test_nonce_limits(void **state)
{
	struct scram_verifier v;
	struct scram_server s;
	unsigned char rnd[64];
	char out[SCRAM_SERVER_FIRST_MAX], sn[80];
	size_t n, k;

	(void)state;
	rfc_verifier(&v);
	memset(rnd, 0xfb, sizeof(rnd));
	for (k = 17; k <= 49; k++) {
		enum scram_status st;

		memset(&s, 0, sizeof(s));
		st = scram_server_first(&s, RFC_C1, strlen(RFC_C1), &v, rnd,
		    k, out, sizeof(out), &n);
		if (k < 18 || k > 48) {
			assert_int_equal(st, SCRAM_INTERNAL);
			continue;
		}
		assert_int_equal(st, SCRAM_OK);
		assert_int_equal(s.noncelen, strlen(RFC_CNONCE) +
		    BASE64_ENCODED_LEN(k));
		assert_true(strncmp(out, "r=" RFC_CNONCE "+/v7", 26) == 0);
	}
	memset(sn, 'Z', sizeof(sn));
	for (k = 23; k <= 65; k += 1) {
		enum scram_status st;

		memset(&s, 0, sizeof(s));
		st = scram_server_first_nonce(&s, RFC_C1, strlen(RFC_C1), &v,
		    sn, k, out, sizeof(out), &n);
		assert_int_equal(st, k >= 24 && k <= 64 ? SCRAM_OK :
		    SCRAM_INTERNAL);
	}
	/* A text nonce with a ',' or a space is refused. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(scram_server_first_nonce(&s, RFC_C1, strlen(RFC_C1),
	    &v, "aaaaaaaaaaaa,aaaaaaaaaaaaaaa", 28, out, sizeof(out), &n),
	    SCRAM_INTERNAL);
	memset(&s, 0, sizeof(s));
	assert_int_equal(scram_server_first_nonce(&s, RFC_C1, strlen(RFC_C1),
	    &v, "aaaaaaaaaaaa aaaaaaaaaaaaaaa", 28, out, sizeof(out), &n),
	    SCRAM_INTERNAL);
}

static void
test_verifier_parse(void **state)
{
#define K1 "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
#define K2 "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
	static const struct {
		const char *text;
		int ok;
	} t[] = {
		{ RFC_VERIFIER, 1 },
		{ "SCRAM-SHA-256$1000000:" RFC_SALT64 "$" K1 ":" K2, 1 },
		{ "SCRAM-SHA-256$8192:AAAAAAAAAAA=$" K1 ":" K2, 1 },	/* 8 */
		{ "SCRAM-SHA-256$1000001:" RFC_SALT64 "$" K1 ":" K2, 0 },
		{ "SCRAM-SHA-256$4095:" RFC_SALT64 "$" K1 ":" K2, 0 },
		{ "SCRAM-SHA-256$04096:" RFC_SALT64 "$" K1 ":" K2, 0 },
		{ "SCRAM-SHA-256$+4096:" RFC_SALT64 "$" K1 ":" K2, 0 },
		{ "SCRAM-SHA-256$:" RFC_SALT64 "$" K1 ":" K2, 0 },
		{ "SCRAM-SHA-256$99999999999:" RFC_SALT64 "$" K1 ":" K2, 0 },
		{ "SCRAM-SHA-1$4096:" RFC_SALT64 "$" K1 ":" K2, 0 },
		{ "scram-sha-256$4096:" RFC_SALT64 "$" K1 ":" K2, 0 },
		{ "SCRAM-SHA-256$4096:AAAAAAAAAA==$" K1 ":" K2, 0 },	/* 7 */
		{ "SCRAM-SHA-256$4096:$" K1 ":" K2, 0 },
		{ "SCRAM-SHA-256$4096:" RFC_SALT64 "$" K1 ":", 0 },
		{ "SCRAM-SHA-256$4096:" RFC_SALT64 "$" K1, 0 },
		{ "SCRAM-SHA-256$4096:" RFC_SALT64 "$:" K2, 0 },
		{ "SCRAM-SHA-256$4096:" RFC_SALT64 "$" K1 ":" K2 ":", 0 },
		{ "SCRAM-SHA-256$4096:" RFC_SALT64 "$" K1 ":" K2 " ", 0 },
		{ "SCRAM-SHA-256$4096:" RFC_SALT64 "$" K1 ":" K2 "AAAA", 0 },
		{ "SCRAM-SHA-256$4096:" RFC_SALT64 "$" K1 "$" K2, 0 },
		{ "SCRAM-SHA-256$4096:" RFC_SALT64 ":" K1 ":" K2, 0 },
		{ "SCRAM-SHA-256$4096:" RFC_SALT64 "$"
		    "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qZ=:" K2, 0 },
		{ "SCRAM-SHA-256$4096:" RFC_SALT64 "$" K2 ":" K1, 1 },
		{ "", 0 },
		{ "SCRAM-SHA-256$", 0 },
	};
	struct scram_verifier v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if ((scram_verifier_parse(&v, t[i].text, strlen(t[i].text)) ==
		    0) != t[i].ok)
			fail_msg("verifier case %zu", i);
	/* Every prefix of a valid one fails, without overreading. */
	for (i = 0; i < strlen(RFC_VERIFIER); i++) {
		char *copy = malloc(i + 1);

		memcpy(copy, RFC_VERIFIER, i);
		assert_int_equal(scram_verifier_parse(&v, copy, i), -1);
		free(copy);
	}
}

static void
test_verifier_make_limits(void **state)
{
	struct scram_verifier v;
	unsigned char salt[SCRAM_SALT_MAX + 1];
	char text[SCRAM_VERIFIER_MAX];
	long n;

	(void)state;
	memset(salt, 7, sizeof(salt));
	assert_int_equal(scram_verifier_make(&v, "pw", 2, salt, 16, 4095), -1);
	assert_int_equal(scram_verifier_make(&v, "pw", 2, salt, 16,
	    SCRAM_ITER_MAX + 1), -1);
	assert_int_equal(scram_verifier_make(&v, "pw", 2, salt, 7, 4096), -1);
	assert_int_equal(scram_verifier_make(&v, "pw", 2, salt, 8, 4096), 0);
	assert_int_equal(scram_verifier_make(&v, "pw", 2, salt, 65, 4096), -1);
	assert_int_equal(scram_verifier_make(&v, "pw", 2, salt, 64, 4096), 0);
	/* The biggest verifier fits SCRAM_VERIFIER_MAX. */
	v.iterations = SCRAM_ITER_MAX;
	n = scram_verifier_format(&v, text, sizeof(text));
	assert_true(n > 0 && (size_t)n < sizeof(text));
	/* Output at limit-1 / limit. */
	assert_int_equal(scram_verifier_format(&v, text, (size_t)n), -1);
	assert_string_equal(text, "");
	assert_int_equal(scram_verifier_format(&v, text, (size_t)n + 1), n);
	/* A password with any octets (a NUL too) works. */
	assert_int_equal(scram_verifier_make(&v, "a\0b", 3, salt, 16, 4096),
	    0);
}

static void
test_fake_verifier(void **state)
{
	static const unsigned char key[32] = { 1, 2, 3 };
	struct scram_verifier a, b, c;
	struct scram_server s;
	char out[SCRAM_SERVER_FIRST_MAX];
	size_t n;

	(void)state;
	assert_int_equal(scram_verifier_fake(&a, key, sizeof(key), "nobody",
	    6), 0);
	assert_int_equal(scram_verifier_fake(&b, key, sizeof(key), "nobody",
	    6), 0);
	assert_int_equal(scram_verifier_fake(&c, key, sizeof(key), "nobodx",
	    6), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_memory_not_equal(a.salt, c.salt, SCRAM_SALT_LEN);
	assert_int_equal(a.saltlen, SCRAM_SALT_LEN);
	assert_int_equal(a.iterations, SCRAM_ITER_DEFAULT);
	/* It looks like any other; no password passes. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(scram_server_first_nonce(&s, RFC_C1, strlen(RFC_C1),
	    &a, RFC_SNONCE, strlen(RFC_SNONCE), out, sizeof(out), &n),
	    SCRAM_OK);
	assert_int_equal(scram_server_final(&s, RFC_C2, strlen(RFC_C2), out,
	    sizeof(out), &n), SCRAM_BAD_PROOF);
	{
		char s2[SCRAM_SERVER_FINAL_MAX];

		assert_int_equal(exchange(&a, "", "n,,n=nobody,r=q",
		    "c=biws,r=%s", 1, s2, sizeof(s2)), SCRAM_BAD_PROOF);
		assert_int_equal(exchange(&a, "pencil", "n,,n=nobody,r=q",
		    "c=biws,r=%s", 1, s2, sizeof(s2)), SCRAM_BAD_PROOF);
	}
	assert_int_equal(scram_verifier_fake(&a, key, sizeof(key), "x", 256),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7677_verifier),
		cmocka_unit_test(test_rfc7677_exchange),
		cmocka_unit_test(test_rfc7677_client),
		cmocka_unit_test(test_bad_proofs),
		cmocka_unit_test(test_client_first_parse),
		cmocka_unit_test(test_client_first_prefixes),
		cmocka_unit_test(test_client_first_limits),
		cmocka_unit_test(test_exchange_variants),
		cmocka_unit_test(test_final_malformed),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_nonce_limits),
		cmocka_unit_test(test_verifier_parse),
		cmocka_unit_test(test_verifier_make_limits),
		cmocka_unit_test(test_fake_verifier),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
