/* sasl - SMTP AUTH mechanisms, server side; see sasl.h for the outcomes,
 * the replies they map to, and the IPC each mechanism needs.
 *
 * Every client response goes through one decoder (decode_response): "*"
 * cancels, then the length cap, then strict base64 into a fixed buffer
 * that is wiped after use. Each mechanism's parser takes decoded octets
 * and either asks for more (334), hands a request to the auth process
 * (NEED_*), or fails with the reply that says why. No path keeps a
 * password longer than until sasl_verdict()/sasl_reset(). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hex.h"
#include "base64.h"
#include "sasl.h"

#define R_CONTINUE	"334 "
#define R_SUCCESS	"235 2.7.0 Authentication successful"
#define R_BAD		"535 5.7.8 Authentication credentials invalid"
#define R_TEMPFAIL	"454 4.7.0 Temporary authentication failure"
#define R_CANCELLED	"501 5.0.0 Authentication cancelled"
#define R_BASE64	"501 5.5.2 Cannot decode response"
#define R_MALFORMED	"501 5.5.2 Malformed authentication response"
#define R_NO_IR		"501 5.5.4 Initial response not allowed for CRAM-MD5"
#define R_TOOLONG	"500 5.5.6 Authentication exchange line is too long"
#define R_UNKNOWN	"504 5.5.4 Unrecognized authentication type"
#define R_ENCRYPT	"538 5.7.11 Encryption required for requested " \
			    "authentication mechanism"
#define R_SEQUENCE	"503 5.5.1 Bad sequence of commands"

/* base64 of "Username:" and "Password:": what LOGIN clients expect. */
#define LOGIN_USER_PROMPT	"VXNlcm5hbWU6"
#define LOGIN_PASS_PROMPT	"UGFzc3dvcmQ6"

static const struct {
	enum sasl_mech	mech;
	const char	*name;
} mechs[] = {		/* strongest first: the EHLO order */
	{ SASL_MECH_SCRAM_SHA_256, "SCRAM-SHA-256" },
	{ SASL_MECH_PLAIN, "PLAIN" },
	{ SASL_MECH_LOGIN, "LOGIN" },
	{ SASL_MECH_CRAM_MD5, "CRAM-MD5" },
};
#define NMECHS	(sizeof(mechs) / sizeof(mechs[0]))

enum sasl_mech
sasl_mech_parse(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NMECHS; i++)
		if (strlen(mechs[i].name) == len &&
		    strncasecmp(mechs[i].name, name, len) == 0)
			return mechs[i].mech;
	return SASL_MECH_NONE;
}

const char *
sasl_mech_name(enum sasl_mech m)
{
	size_t i;

	for (i = 0; i < NMECHS; i++)
		if (mechs[i].mech == m)
			return mechs[i].name;
	return "";
}

unsigned
sasl_mechs_usable(const struct sasl_params *p)
{
	return p->tls || p->plaintext_ok ? p->mechs & SASL_M_ALL : 0;
}

int
sasl_mechs_format(unsigned mask, char *dst, size_t dstlen)
{
	size_t i, o = 0, n;

	if (dstlen == 0)
		return -1;
	dst[0] = '\0';
	for (i = 0; i < NMECHS; i++) {
		if (!(mask & (1u << mechs[i].mech)))
			continue;
		n = strlen(mechs[i].name);
		if (o + (o > 0) + n + 1 > dstlen) {
			dst[0] = '\0';
			return -1;
		}
		if (o > 0)
			dst[o++] = ' ';
		memcpy(dst + o, mechs[i].name, n + 1);
		o += n;
	}
	return (int)o;
}

void
sasl_init(struct sasl_server *s)
{
	memset(s, 0, sizeof(*s));
}

static void
wipe_secrets(struct sasl_server *s)
{
	OPENSSL_cleanse(s->pass, sizeof(s->pass));
	OPENSSL_cleanse(s->msg, sizeof(s->msg));
	s->msglen = 0;
}

void
sasl_reset(struct sasl_server *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
	sasl_init(s);
}

/* --- outcomes ---------------------------------------------------------- */

static enum sasl_result
fail(struct sasl_server *s, const char *reply)
{
	wipe_secrets(s);
	snprintf(s->reply, sizeof(s->reply), "%s", reply);
	s->code = (reply[0] - '0') * 100 + (reply[1] - '0') * 10 +
	    (reply[2] - '0');
	s->step = SASL_STEP_DONE;
	return SASL_FAIL;
}

static enum sasl_result
success(struct sasl_server *s)
{
	wipe_secrets(s);
	snprintf(s->reply, sizeof(s->reply), "%s", R_SUCCESS);
	s->code = 235;
	s->step = SASL_STEP_DONE;
	return SASL_SUCCESS;
}

/* 334 with data base64-encoded (data may be empty: "334 "). */
static enum sasl_result
challenge(struct sasl_server *s, enum sasl_step next, const void *data,
    size_t len)
{
	memcpy(s->reply, R_CONTINUE, 4);
	if (base64_encode(s->reply + 4, sizeof(s->reply) - 4, data, len) < 0)
		return fail(s, R_TEMPFAIL);	/* cannot happen: sizes */
	s->code = 334;
	s->step = next;
	return SASL_CONTINUE;
}

/* 334 with a fixed, already encoded prompt. */
static enum sasl_result
prompt(struct sasl_server *s, enum sasl_step next, const char *b64)
{
	snprintf(s->reply, sizeof(s->reply), R_CONTINUE "%s", b64);
	s->code = 334;
	s->step = next;
	return SASL_CONTINUE;
}

static enum sasl_result
need(struct sasl_server *s, enum sasl_result what)
{
	s->reply[0] = '\0';
	s->code = 0;
	s->waiting = what;
	s->step = SASL_STEP_WAIT_AUTH;
	return what;
}

/* --- input checks ------------------------------------------------------- */

/* Decode one client response into out (SASL_MSG_MAX octets). 0, or -1
 * after fail() set the reply. */
static int
decode_response(struct sasl_server *s, const char *line, size_t len,
    unsigned char *out, size_t *outlen_r, enum sasl_result *r)
{
	enum base64_status st;

	*outlen_r = 0;
	if (len == 1 && line[0] == '*') {
		*r = fail(s, R_CANCELLED);
		return -1;
	}
	if (len > SASL_LINE_MAX) {
		*r = fail(s, R_TOOLONG);
		return -1;
	}
	st = base64_decode(out, SASL_MSG_MAX, outlen_r, line, len);
	if (st == BASE64_TOOBIG) {
		OPENSSL_cleanse(out, SASL_MSG_MAX);
		*r = fail(s, R_TOOLONG);
		return -1;
	}
	if (st != BASE64_OK) {
		OPENSSL_cleanse(out, SASL_MSG_MAX);
		*r = fail(s, R_BASE64);
		return -1;
	}
	return 0;
}

/* A user name as the client gave it: 1..SASL_USER_MAX octets, no control
 * characters (they would reach log lines). Whether it names a user is for
 * auth to say, after the same delay as a wrong password. */
static int
user_ok(const unsigned char *u, size_t n)
{
	size_t i;

	if (n == 0 || n > SASL_USER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (u[i] < 0x20 || u[i] == 0x7f)
			return 0;
	return 1;
}

static void
set_user(struct sasl_server *s, const unsigned char *u, size_t n)
{
	memcpy(s->user, u, n);
	s->user[n] = '\0';
}

/* --- mechanisms ------------------------------------------------------- */

/* RFC 4616: [authzid] NUL authcid NUL passwd */
static enum sasl_result
plain_message(struct sasl_server *s, const unsigned char *d, size_t n)
{
	const unsigned char *nul1, *nul2, *pw;
	size_t zl, ul, pl;

	if ((nul1 = memchr(d, '\0', n)) == NULL ||
	    (nul2 = memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - d))) ==
	    NULL)
		return fail(s, R_MALFORMED);
	zl = (size_t)(nul1 - d);
	ul = (size_t)(nul2 - nul1 - 1);
	pw = nul2 + 1;
	pl = n - (size_t)(pw - d);
	if (zl > SASL_USER_MAX || !user_ok(nul1 + 1, ul) || pl == 0 ||
	    pl > SASL_PASS_MAX || memchr(pw, '\0', pl) != NULL)
		return fail(s, R_MALFORMED);
	/* Acting for someone else is not something postern grants. */
	if (zl > 0 && (zl != ul || memcmp(d, nul1 + 1, ul) != 0))
		return fail(s, R_BAD);
	set_user(s, nul1 + 1, ul);
	memcpy(s->pass, pw, pl);
	s->pass[pl] = '\0';
	return need(s, SASL_NEED_PASS);
}

static enum sasl_result
login_user(struct sasl_server *s, const unsigned char *d, size_t n)
{
	if (!user_ok(d, n))
		return fail(s, R_MALFORMED);
	set_user(s, d, n);
	return prompt(s, SASL_STEP_LOGIN_PASS, LOGIN_PASS_PROMPT);
}

static enum sasl_result
login_pass(struct sasl_server *s, const unsigned char *d, size_t n)
{
	if (n == 0 || n > SASL_PASS_MAX || memchr(d, '\0', n) != NULL)
		return fail(s, R_MALFORMED);
	memcpy(s->pass, d, n);
	s->pass[n] = '\0';
	return need(s, SASL_NEED_PASS);
}

/* RFC 2195: "user SP digest", the digest 32 lower-case hex digits (upper
 * case is tolerated); the user is everything before the last space. */
static enum sasl_result
cram_response(struct sasl_server *s, const unsigned char *d, size_t n)
{
	size_t sp;

	if (n < SASL_CRAM_DIGEST_HEX + 2)
		return fail(s, R_MALFORMED);
	sp = n - SASL_CRAM_DIGEST_HEX - 1;
	if (d[sp] != ' ' || !apop_digest_valid((const char *)d + sp + 1,
	    SASL_CRAM_DIGEST_HEX) || !user_ok(d, sp))
		return fail(s, R_MALFORMED);
	set_user(s, d, sp);
	memcpy(s->digest, d + sp + 1, SASL_CRAM_DIGEST_HEX);
	s->digest[SASL_CRAM_DIGEST_HEX] = '\0';
	return need(s, SASL_NEED_CRAM);
}

static enum sasl_result
scram_first(struct sasl_server *s, const unsigned char *d, size_t n)
{
	struct scram_client_first cf;

	switch (scram_client_first_parse(&cf, (const char *)d, n)) {
	case SCRAM_OK:
		break;
	case SCRAM_AUTHZID:
		return fail(s, R_BAD);
	default:
		return fail(s, R_MALFORMED);
	}
	/* cf.user is at most SCRAM_NAME_MAX == SASL_USER_MAX, no controls. */
	set_user(s, (const unsigned char *)cf.user, strlen(cf.user));
	memcpy(s->msg, d, n);
	s->msg[n] = '\0';
	s->msglen = n;
	return need(s, SASL_NEED_SCRAM_FIRST);
}

static enum sasl_result
scram_final(struct sasl_server *s, const unsigned char *d, size_t n)
{
	if (n == 0 || n > SCRAM_MSG_MAX || memchr(d, '\0', n) != NULL)
		return fail(s, R_MALFORMED);
	memcpy(s->msg, d, n);
	s->msg[n] = '\0';
	s->msglen = n;
	return need(s, SASL_NEED_SCRAM_FINAL);
}

/* Run the parser of the current step on decoded octets. */
static enum sasl_result
dispatch(struct sasl_server *s, const unsigned char *d, size_t n)
{
	switch (s->step) {
	case SASL_STEP_PLAIN:
		return plain_message(s, d, n);
	case SASL_STEP_LOGIN_USER:
		return login_user(s, d, n);
	case SASL_STEP_LOGIN_PASS:
		return login_pass(s, d, n);
	case SASL_STEP_CRAM:
		return cram_response(s, d, n);
	case SASL_STEP_SCRAM_FIRST:
		return scram_first(s, d, n);
	case SASL_STEP_SCRAM_FINAL:
		return scram_final(s, d, n);
	default:
		return fail(s, R_SEQUENCE);
	}
}

enum sasl_result
sasl_start(struct sasl_server *s, const struct sasl_params *p,
    const char *mech, size_t mechlen, const char *ir, size_t irlen)
{
	unsigned char buf[SASL_MSG_MAX];
	enum sasl_mech m;
	enum sasl_result r;
	size_t n;
	int tl;

	/* An answer from auth is outstanding: the session must not read
	 * another command now. Any other state is simply abandoned. */
	if (s->step == SASL_STEP_WAIT_AUTH) {
		sasl_reset(s);
		return fail(s, R_SEQUENCE);
	}
	sasl_reset(s);
	m = sasl_mech_parse(mech, mechlen);
	if (m == SASL_MECH_NONE || !(p->mechs & (1u << m)))
		return fail(s, R_UNKNOWN);
	if (!(sasl_mechs_usable(p) & (1u << m)))
		return fail(s, R_ENCRYPT);
	s->mech = m;
	switch (m) {
	case SASL_MECH_PLAIN:
		s->step = SASL_STEP_PLAIN;
		break;
	case SASL_MECH_LOGIN:
		s->step = SASL_STEP_LOGIN_USER;
		break;
	case SASL_MECH_SCRAM_SHA_256:
		s->step = SASL_STEP_SCRAM_FIRST;
		break;
	case SASL_MECH_CRAM_MD5:
		if (ir != NULL)
			return fail(s, R_NO_IR);
		if (p->random == NULL || p->nrandom < SASL_RANDOM_MIN ||
		    p->host == NULL)
			return fail(s, R_TEMPFAIL);
		tl = apop_timestamp(s->challenge, sizeof(s->challenge),
		    p->random, p->nrandom > APOP_RANDOM_MAX ? APOP_RANDOM_MAX :
		    p->nrandom, p->pid, p->now, p->host);
		if (tl < 0)
			return fail(s, R_TEMPFAIL);
		return challenge(s, SASL_STEP_CRAM, s->challenge, (size_t)tl);
	default:
		return fail(s, R_UNKNOWN);
	}
	if (ir == NULL) {
		if (m == SASL_MECH_LOGIN)
			return prompt(s, s->step, LOGIN_USER_PROMPT);
		return prompt(s, s->step, "");
	}
	/* RFC 4954: "=" is an empty initial response. */
	if (irlen == 1 && ir[0] == '=')
		irlen = 0;
	else if (irlen == 0 || (irlen == 1 && ir[0] == '*'))
		return fail(s, R_BASE64);
	if (decode_response(s, ir, irlen, buf, &n, &r) == -1)
		return r;
	r = dispatch(s, buf, n);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

enum sasl_result
sasl_step(struct sasl_server *s, const char *line, size_t len)
{
	unsigned char buf[SASL_MSG_MAX];
	enum sasl_result r;
	size_t n;

	switch (s->step) {
	case SASL_STEP_PLAIN:
	case SASL_STEP_LOGIN_USER:
	case SASL_STEP_LOGIN_PASS:
	case SASL_STEP_CRAM:
	case SASL_STEP_SCRAM_FIRST:
	case SASL_STEP_SCRAM_FINAL:
		break;
	case SASL_STEP_SCRAM_ACK:
		/* RFC 4954 section 4: the client answers the server's final
		 * message with an empty response, then gets the 235. */
		if (len == 0)
			return success(s);
		if (len == 1 && line[0] == '*')
			return fail(s, R_CANCELLED);
		return fail(s, R_MALFORMED);
	default:
		return fail(s, R_SEQUENCE);
	}
	if (decode_response(s, line, len, buf, &n, &r) == -1)
		return r;
	r = dispatch(s, buf, n);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

/* A server message from auth to relay to the client: 1..max-1 printable
 * octets. Anything else is auth misbehaving: a temporary failure. */
static int
server_msg_ok(const char *d, size_t n, size_t max)
{
	size_t i;

	if (d == NULL || n == 0 || n >= max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)d[i] < 0x21 || (unsigned char)d[i] > 0x7e)
			return 0;
	return 1;
}

enum sasl_result
sasl_verdict(struct sasl_server *s, int v, const char *data,
    size_t len)
{
	enum sasl_result what = s->waiting;

	if (s->step != SASL_STEP_WAIT_AUTH)
		return fail(s, R_SEQUENCE);
	s->waiting = SASL_CONTINUE;
	wipe_secrets(s);
	switch (v) {
	case OUTCOME_OK:
		break;
	case OUTCOME_DENIED:
		return fail(s, R_BAD);
	case OUTCOME_PERM:
		return fail(s, R_MALFORMED);
	default:
		return fail(s, R_TEMPFAIL);
	}
	switch (what) {
	case SASL_NEED_PASS:
	case SASL_NEED_CRAM:
		return success(s);
	case SASL_NEED_SCRAM_FIRST:
		if (!server_msg_ok(data, len, SCRAM_SERVER_FIRST_MAX))
			return fail(s, R_TEMPFAIL);
		return challenge(s, SASL_STEP_SCRAM_FINAL, data, len);
	case SASL_NEED_SCRAM_FINAL:
		if (!server_msg_ok(data, len, SCRAM_SERVER_FINAL_MAX) ||
		    data[0] != 'v' || data[1] != '=')
			return fail(s, R_TEMPFAIL);
		return challenge(s, SASL_STEP_SCRAM_ACK, data, len);
	default:
		return fail(s, R_SEQUENCE);
	}
}

/* --- CRAM-MD5 verification (auth process) ------------------------------ */

#define MD5_LEN	16

static int
cram_raw(const char *challenge_text, size_t clen, const void *secret,
    size_t secretlen, unsigned char md[MD5_LEN])
{
	unsigned int ml = 0;

	if (secretlen > 0x7fffffff)
		return -1;
	if (HMAC(EVP_md5(), secret, (int)secretlen,
	    (const unsigned char *)challenge_text, clen, md, &ml) == NULL ||
	    ml != MD5_LEN)
		return -1;
	return 0;
}

int
sasl_cram_digest(const char *challenge_text, size_t clen, const void *secret,
    size_t secretlen, char hex_r[SASL_CRAM_DIGEST_HEX + 1])
{
	unsigned char md[MD5_LEN];

	hex_r[0] = '\0';
	if (cram_raw(challenge_text, clen, secret, secretlen, md) == -1)
		return -1;
	hex_encode(hex_r, md, MD5_LEN);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

int
sasl_cram_check(const char *challenge_text, size_t clen, const void *secret,
    size_t secretlen, const char *digest, size_t digestlen)
{
	unsigned char want[MD5_LEN], got[MD5_LEN];
	int rc;

	if (digest == NULL || !apop_digest_valid(digest, digestlen))
		return 0;
	/* Decode the client's digest first: its timing depends only on what
	 * the client sent. */
	(void)hex_decode(got, sizeof(got), digest, digestlen);
	if (cram_raw(challenge_text, clen, secret, secretlen, want) == -1)
		return -1;
	rc = CRYPTO_memcmp(want, got, MD5_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}
