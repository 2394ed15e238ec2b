/* test_sasl - SMTP AUTH mechanisms: every outcome with its exact reply
 * line, PLAIN/LOGIN/CRAM-MD5/SCRAM-SHA-256 dialogues from start to 235,
 * each malformed response beside a valid one, limits at -1/0/+1, the RFC
 * 2195 CRAM-MD5 example, a whole SCRAM-SHA-256 exchange with RFC 7677's
 * messages (the auth side played by scram.c), and misuse by the caller. */
#include "unit.h"
#include "base64.h"
#include "sasl.h"
#include "scram.h"

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

static const unsigned char rnd[16] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4,
	5, 6, 7, 8, 9, 10, 11, 12 };

static struct sasl_params
params(int tls)
{
	struct sasl_params p;

	memset(&p, 0, sizeof(p));
	p.mechs = SASL_M_ALL;
	p.tls = tls;
	p.host = "mx.example.org";
	p.random = rnd;
	p.nrandom = sizeof(rnd);
	p.pid = 4242;
	p.now = 1700000000;
	return p;
}

/* base64 of n raw octets into a static buffer. */
static const char *
b64(const void *raw, size_t n)
{
	static char out[BASE64_ENCODED_SIZE(4096)];

	assert_true(base64_encode(out, sizeof(out), raw, n) >= 0);
	return out;
}

/* AUTH as the session sends it; an exchange left waiting for auth by the
 * previous case is reset first, as the session does when it abandons one. */
static enum sasl_result
start(struct sasl_server *s, const struct sasl_params *p, const char *mech,
    const char *ir)
{
	if (s->step == SASL_STEP_WAIT_AUTH)
		sasl_reset(s);
	return sasl_start(s, p, mech, strlen(mech), ir, ir ? strlen(ir) : 0);
}

static enum sasl_result
step(struct sasl_server *s, const char *line)
{
	return sasl_step(s, line, strlen(line));
}

static void
test_mechs(void **state)
{
	struct sasl_params p = params(1);
	char buf[64];

	(void)state;
	assert_int_equal(sasl_mech_parse("PLAIN", 5), SASL_MECH_PLAIN);
	assert_int_equal(sasl_mech_parse("plain", 5), SASL_MECH_PLAIN);
	assert_int_equal(sasl_mech_parse("Scram-Sha-256", 13),
	    SASL_MECH_SCRAM_SHA_256);
	assert_int_equal(sasl_mech_parse("CRAM-MD5", 8), SASL_MECH_CRAM_MD5);
	assert_int_equal(sasl_mech_parse("LOGIN", 5), SASL_MECH_LOGIN);
	assert_int_equal(sasl_mech_parse("PLAI", 4), SASL_MECH_NONE);
	assert_int_equal(sasl_mech_parse("PLAINX", 6), SASL_MECH_NONE);
	assert_int_equal(sasl_mech_parse("SCRAM-SHA-256-PLUS", 18),
	    SASL_MECH_NONE);
	assert_int_equal(sasl_mech_parse("", 0), SASL_MECH_NONE);
	assert_string_equal(sasl_mech_name(SASL_MECH_SCRAM_SHA_256),
	    "SCRAM-SHA-256");
	assert_string_equal(sasl_mech_name(SASL_MECH_NONE), "");

	assert_int_equal(sasl_mechs_format(SASL_M_ALL, buf, sizeof(buf)), 34);
	assert_string_equal(buf, "SCRAM-SHA-256 PLAIN LOGIN CRAM-MD5");
	assert_int_equal(sasl_mechs_format(SASL_M_ALL, buf, 34), -1);
	assert_int_equal(sasl_mechs_format(SASL_M_ALL, buf, 35), 34);
	assert_int_equal(sasl_mechs_format(SASL_M_PLAIN | SASL_M_LOGIN, buf,
	    sizeof(buf)), 11);
	assert_string_equal(buf, "PLAIN LOGIN");
	assert_int_equal(sasl_mechs_format(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	assert_int_equal(sasl_mechs_usable(&p), SASL_M_ALL);
	p.tls = 0;
	assert_int_equal(sasl_mechs_usable(&p), 0);
	p.plaintext_ok = 1;
	assert_int_equal(sasl_mechs_usable(&p), SASL_M_ALL);
}

/* AUTH gating: unknown / not offered -> 504; plaintext -> 538. */
static void
test_start_gating(void **state)
{
	struct sasl_server s;
	struct sasl_params p = params(1), plain = params(0);
	static const char *names[] = { "PLAIN", "LOGIN", "CRAM-MD5",
	    "SCRAM-SHA-256" };
	size_t i;

	(void)state;
	sasl_init(&s);
	assert_int_equal(start(&s, &p, "GSSAPI", NULL), SASL_FAIL);
	assert_string_equal(s.reply, R_UNKNOWN);
	assert_int_equal(s.code, 504);
	assert_int_equal(start(&s, &p, "", NULL), SASL_FAIL);
	assert_string_equal(s.reply, R_UNKNOWN);
	for (i = 0; i < 4; i++) {
		assert_int_equal(start(&s, &plain, names[i], NULL), SASL_FAIL);
		assert_string_equal(s.reply, R_ENCRYPT);
		assert_int_equal(s.code, 538);
		assert_int_equal(start(&s, &p, names[i], NULL),
		    SASL_CONTINUE);
		assert_int_equal(s.code, 334);
	}
	plain.plaintext_ok = 1;
	assert_int_equal(start(&s, &plain, "PLAIN", NULL), SASL_CONTINUE);
	/* Not enabled on this listener: unknown, even with TLS. */
	p.mechs = SASL_M_SCRAM_SHA_256;
	assert_int_equal(start(&s, &p, "PLAIN", NULL), SASL_FAIL);
	assert_string_equal(s.reply, R_UNKNOWN);
	plain.mechs = SASL_M_PLAIN;
	plain.plaintext_ok = 0;
	assert_int_equal(start(&s, &plain, "CRAM-MD5", NULL), SASL_FAIL);
	assert_string_equal(s.reply, R_UNKNOWN);
}

struct plain_case {
	const char	*raw;
	size_t		 len;
	enum sasl_result want;
	const char	*reply;		/* for FAIL */
	const char	*user, *pass;	/* for NEED_PASS */
};

#define PC(s, w, r, u, p) { s, sizeof(s) - 1, w, r, u, p }
static const struct plain_case plain_cases[] = {
	PC("\0alice\0secret", SASL_NEED_PASS, NULL, "alice", "secret"),
	PC("alice\0alice\0secret", SASL_NEED_PASS, NULL, "alice", "secret"),
	PC("\0alice\0pass word : with \xc3\xa9", SASL_NEED_PASS, NULL,
	    "alice", "pass word : with \xc3\xa9"),
	PC("bob\0alice\0secret", SASL_FAIL, R_BAD, NULL, NULL),
	PC("alic\0alice\0secret", SASL_FAIL, R_BAD, NULL, NULL),
	PC("alice\0alic\0secret", SASL_FAIL, R_BAD, NULL, NULL),
	PC("", SASL_FAIL, R_MALFORMED, NULL, NULL),
	PC("alice", SASL_FAIL, R_MALFORMED, NULL, NULL),
	PC("alice secret", SASL_FAIL, R_MALFORMED, NULL, NULL),
	PC("\0alice", SASL_FAIL, R_MALFORMED, NULL, NULL),
	PC("\0alice\0", SASL_FAIL, R_MALFORMED, NULL, NULL),
	PC("\0\0secret", SASL_FAIL, R_MALFORMED, NULL, NULL),
	PC("\0\0", SASL_FAIL, R_MALFORMED, NULL, NULL),
	PC("\0alice\0sec\0ret", SASL_FAIL, R_MALFORMED, NULL, NULL),
	PC("\0ali\nce\0secret", SASL_FAIL, R_MALFORMED, NULL, NULL),
	PC("\0ali\rce\0secret", SASL_FAIL, R_MALFORMED, NULL, NULL),
	PC("\0alice\x7f\0secret", SASL_FAIL, R_MALFORMED, NULL, NULL),
};

static void
run_plain_case(const struct plain_case *c, int as_ir, size_t idx)
{
	struct sasl_server s;
	struct sasl_params p = params(1);
	enum sasl_result r;
	const char *enc = c->len ? b64(c->raw, c->len) : "=";

	sasl_init(&s);
	if (as_ir) {
		r = start(&s, &p, "PLAIN", enc);
	} else {
		assert_int_equal(start(&s, &p, "PLAIN", NULL), SASL_CONTINUE);
		assert_string_equal(s.reply, "334 ");
		r = step(&s, c->len ? enc : "");
	}
	if (r != c->want)
		fail_msg("plain case %zu (ir %d): got %d", idx, as_ir, r);
	if (r == SASL_FAIL)
		assert_string_equal(s.reply, c->reply);
	if (r == SASL_NEED_PASS) {
		assert_string_equal(s.user, c->user);
		assert_string_equal(s.pass, c->pass);
		assert_string_equal(s.reply, "");
		assert_int_equal(sasl_verdict(&s, OUTCOME_OK, NULL, 0),
		    SASL_SUCCESS);
		assert_string_equal(s.reply, R_SUCCESS);
		assert_int_equal(s.code, 235);
		assert_string_equal(s.user, c->user);
		assert_string_equal(s.pass, "");	/* wiped */
	}
}

static void
test_plain(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(plain_cases) / sizeof(plain_cases[0]); i++) {
		run_plain_case(&plain_cases[i], 1, i);
		run_plain_case(&plain_cases[i], 0, i);
	}
}

/* Each verdict's reply. */
static void
test_verdicts(void **state)
{
	static const struct {
		int v;
		enum sasl_result r;
		const char *reply;
	} t[] = {
		{ OUTCOME_OK, SASL_SUCCESS, R_SUCCESS },
		{ OUTCOME_DENIED, SASL_FAIL, R_BAD },
		{ OUTCOME_PERM, SASL_FAIL, R_MALFORMED },
		{ OUTCOME_TEMP, SASL_FAIL, R_TEMPFAIL },
	};
	struct sasl_server s;
	struct sasl_params p = params(1);
	size_t i;

	(void)state;
	sasl_init(&s);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(start(&s, &p, "PLAIN", "AGEAYg=="),
		    SASL_NEED_PASS);
		assert_string_equal(s.user, "a");
		assert_string_equal(s.pass, "b");
		assert_int_equal(sasl_verdict(&s, t[i].v, NULL, 0), t[i].r);
		assert_string_equal(s.reply, t[i].reply);
		assert_string_equal(s.pass, "");
	}
}

/* Field limits at limit-1 / limit / limit+1. */
static void
test_plain_limits(void **state)
{
	struct sasl_server s;
	struct sasl_params p = params(1);
	unsigned char raw[SASL_MSG_MAX + 8];
	size_t ul, pl, n;

	(void)state;
	sasl_init(&s);
	for (ul = SASL_USER_MAX - 1; ul <= SASL_USER_MAX + 1; ul++) {
		raw[0] = '\0';
		memset(raw + 1, 'u', ul);
		raw[1 + ul] = '\0';
		memcpy(raw + 2 + ul, "pw", 2);
		n = 4 + ul;
		assert_int_equal(start(&s, &p, "PLAIN", b64(raw, n)),
		    ul <= SASL_USER_MAX ? SASL_NEED_PASS : SASL_FAIL);
		/* authzid the same: over-long authzid is malformed too */
		memset(raw, 'u', ul);
		raw[ul] = '\0';
		memset(raw + ul + 1, 'u', ul);
		raw[2 * ul + 1] = '\0';
		memcpy(raw + 2 * ul + 2, "pw", 2);
		assert_int_equal(start(&s, &p, "PLAIN", b64(raw, 2 * ul + 4)),
		    ul <= SASL_USER_MAX ? SASL_NEED_PASS : SASL_FAIL);
	}
	for (pl = SASL_PASS_MAX - 1; pl <= SASL_PASS_MAX + 1; pl++) {
		memcpy(raw, "\0u\0", 3);
		memset(raw + 3, 'p', pl);
		assert_int_equal(start(&s, &p, "PLAIN", b64(raw, 3 + pl)),
		    pl <= SASL_PASS_MAX ? SASL_NEED_PASS : SASL_FAIL);
		if (pl > SASL_PASS_MAX)
			assert_string_equal(s.reply, R_MALFORMED);
		else
			assert_int_equal(strlen(s.pass), pl);
	}
	/* Decoded size SASL_MSG_MAX is read (and is malformed here);
	 * one more octet is "too long". */
	memset(raw, 'x', sizeof(raw));
	assert_int_equal(start(&s, &p, "PLAIN", b64(raw, SASL_MSG_MAX)),
	    SASL_FAIL);
	assert_string_equal(s.reply, R_MALFORMED);
	assert_int_equal(start(&s, &p, "PLAIN", b64(raw, SASL_MSG_MAX + 1)),
	    SASL_FAIL);
	assert_string_equal(s.reply, R_TOOLONG);
	/* Lines longer than SASL_LINE_MAX: too long before any decoding. */
	{
		static char line[SASL_LINE_MAX + 2];

		memset(line, '!', sizeof(line));
		assert_int_equal(start(&s, &p, "PLAIN", NULL), SASL_CONTINUE);
		assert_int_equal(sasl_step(&s, line, SASL_LINE_MAX + 1),
		    SASL_FAIL);
		assert_string_equal(s.reply, R_TOOLONG);
		assert_int_equal(start(&s, &p, "PLAIN", NULL), SASL_CONTINUE);
		assert_int_equal(sasl_step(&s, line, SASL_LINE_MAX),
		    SASL_FAIL);
		assert_string_equal(s.reply, R_BASE64);
	}
}

/* Bad base64 and cancellation, in every mechanism's first response. */
static void
test_bad_base64_and_cancel(void **state)
{
	static const char *mechs[] = { "PLAIN", "LOGIN", "CRAM-MD5",
	    "SCRAM-SHA-256" };
	static const char *bad[] = { "AGEAYg", "AGEAYg=", "AGEA Yg==",
	    " AGEAYg==", "AGEAYg==\r", "AGE=AYg=", "AGEAYh==", "**", "*=",
	    "=", "==", "AGEAYg==\0" };
	struct sasl_server s;
	struct sasl_params p = params(1);
	size_t m, i;

	(void)state;
	sasl_init(&s);
	for (m = 0; m < 4; m++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(start(&s, &p, mechs[m], NULL),
			    SASL_CONTINUE);
			assert_int_equal(sasl_step(&s, bad[i], strlen(bad[i])
			    + (i == 11)), SASL_FAIL);
			if (strcmp(s.reply, R_BASE64) != 0)
				fail_msg("%s case %zu: %s", mechs[m], i,
				    s.reply);
		}
		assert_int_equal(start(&s, &p, mechs[m], NULL), SASL_CONTINUE);
		assert_int_equal(step(&s, "*"), SASL_FAIL);
		assert_string_equal(s.reply, R_CANCELLED);
		assert_int_equal(s.code, 501);
	}
	/* Initial responses: "=" is empty (malformed for PLAIN); "*" and
	 * "" are not base64. */
	assert_int_equal(start(&s, &p, "PLAIN", "="), SASL_FAIL);
	assert_string_equal(s.reply, R_MALFORMED);
	assert_int_equal(start(&s, &p, "PLAIN", "*"), SASL_FAIL);
	assert_string_equal(s.reply, R_BASE64);
	assert_int_equal(start(&s, &p, "PLAIN", ""), SASL_FAIL);
	assert_string_equal(s.reply, R_BASE64);
	assert_int_equal(start(&s, &p, "PLAIN", "AGEAYg"), SASL_FAIL);
	assert_string_equal(s.reply, R_BASE64);
}

static void
test_login(void **state)
{
	struct sasl_server s;
	struct sasl_params p = params(1);

	(void)state;
	sasl_init(&s);
	assert_int_equal(start(&s, &p, "LOGIN", NULL), SASL_CONTINUE);
	assert_string_equal(s.reply, "334 VXNlcm5hbWU6");
	assert_int_equal(step(&s, b64("alice", 5)), SASL_CONTINUE);
	assert_string_equal(s.reply, "334 UGFzc3dvcmQ6");
	assert_int_equal(step(&s, b64("s3cret pw", 9)), SASL_NEED_PASS);
	assert_string_equal(s.user, "alice");
	assert_string_equal(s.pass, "s3cret pw");
	/* No input while auth decides. */
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, NULL, 0), SASL_SUCCESS);
	assert_string_equal(s.reply, R_SUCCESS);

	/* Initial response is the user name. */
	assert_int_equal(start(&s, &p, "login", b64("bob", 3)),
	    SASL_CONTINUE);
	assert_string_equal(s.reply, "334 UGFzc3dvcmQ6");
	assert_int_equal(step(&s, b64("x", 1)), SASL_NEED_PASS);
	assert_string_equal(s.user, "bob");
	assert_int_equal(sasl_verdict(&s, OUTCOME_DENIED, NULL, 0), SASL_FAIL);
	assert_string_equal(s.reply, R_BAD);

	/* Empty user, empty password, NUL in either, cancel at password. */
	assert_int_equal(start(&s, &p, "LOGIN", NULL), SASL_CONTINUE);
	assert_int_equal(step(&s, ""), SASL_FAIL);
	assert_string_equal(s.reply, R_MALFORMED);
	assert_int_equal(start(&s, &p, "LOGIN", "="), SASL_FAIL);
	assert_string_equal(s.reply, R_MALFORMED);
	assert_int_equal(start(&s, &p, "LOGIN", b64("a\0b", 3)), SASL_FAIL);
	assert_string_equal(s.reply, R_MALFORMED);
	assert_int_equal(start(&s, &p, "LOGIN", b64("a", 1)), SASL_CONTINUE);
	assert_int_equal(step(&s, ""), SASL_FAIL);
	assert_string_equal(s.reply, R_MALFORMED);
	assert_int_equal(start(&s, &p, "LOGIN", b64("a", 1)), SASL_CONTINUE);
	assert_int_equal(step(&s, b64("p\0w", 3)), SASL_FAIL);
	assert_string_equal(s.reply, R_MALFORMED);
	assert_int_equal(start(&s, &p, "LOGIN", b64("a", 1)), SASL_CONTINUE);
	assert_int_equal(step(&s, "*"), SASL_FAIL);
	assert_string_equal(s.reply, R_CANCELLED);
	assert_string_equal(s.user, "a");
}

/* RFC 2195 section 2's example. */
#define CRAM_TS		"<1896.697170952@postoffice.reston.mci.net>"
#define CRAM_SECRET	"tanstaaftanstaaf"
#define CRAM_DIGEST	"b913a602c7eda7a495b4e6e7334d3890"

static void
test_cram_rfc(void **state)
{
	char hex[SASL_CRAM_DIGEST_HEX + 1];
	char d[] = CRAM_DIGEST;
	size_t i;

	(void)state;
	assert_int_equal(sasl_cram_digest(CRAM_TS, strlen(CRAM_TS),
	    CRAM_SECRET, 16, hex), 0);
	assert_string_equal(hex, CRAM_DIGEST);
	assert_int_equal(sasl_cram_check(CRAM_TS, strlen(CRAM_TS),
	    CRAM_SECRET, 16, CRAM_DIGEST, 32), 1);
	assert_int_equal(sasl_cram_check(CRAM_TS, strlen(CRAM_TS),
	    CRAM_SECRET, 16, "B913A602C7EDA7A495B4E6E7334D3890", 32), 1);
	assert_int_equal(sasl_cram_check(CRAM_TS, strlen(CRAM_TS),
	    "tanstaaftanstaaF", 16, CRAM_DIGEST, 32), 0);
	assert_int_equal(sasl_cram_check(CRAM_TS, strlen(CRAM_TS),
	    CRAM_SECRET, 16, CRAM_DIGEST, 31), 0);
	assert_int_equal(sasl_cram_check(CRAM_TS, strlen(CRAM_TS),
	    CRAM_SECRET, 16, NULL, 0), 0);
	for (i = 0; i < 32; i++) {
		char saved = d[i];

		d[i] = saved == '0' ? '1' : '0';
		assert_int_equal(sasl_cram_check(CRAM_TS, strlen(CRAM_TS),
		    CRAM_SECRET, 16, d, 32), 0);
		d[i] = saved;
	}
	/* A secret longer than the HMAC block (64) is hashed first. */
	{
		static const char longsecret[100] = "x";

		assert_int_equal(sasl_cram_digest(CRAM_TS, strlen(CRAM_TS),
		    longsecret, sizeof(longsecret), hex), 0);
		assert_int_equal(sasl_cram_check(CRAM_TS, strlen(CRAM_TS),
		    longsecret, sizeof(longsecret), hex, 32), 1);
	}
}

static void
test_cram_dialogue(void **state)
{
	struct sasl_server s;
	struct sasl_params p = params(1);
	char challenge[APOP_TIMESTAMP_MAX], resp[300], hex[33];
	size_t n;

	(void)state;
	sasl_init(&s);
	assert_int_equal(start(&s, &p, "CRAM-MD5", NULL), SASL_CONTINUE);
	assert_true(strncmp(s.reply, "334 ", 4) == 0);
	assert_int_equal(base64_decode(challenge, sizeof(challenge) - 1, &n,
	    s.reply + 4, strlen(s.reply + 4)), BASE64_OK);
	challenge[n] = '\0';
	assert_string_equal(challenge, "<deadbeef0102030405060708090a0b0c."
	    "4242.1700000000@mx.example.org>");
	assert_string_equal(s.challenge, challenge);
	assert_int_equal(sasl_cram_digest(challenge, n, "pw", 2, hex), 0);
	snprintf(resp, sizeof(resp), "tim %s", hex);
	assert_int_equal(step(&s, b64(resp, strlen(resp))), SASL_NEED_CRAM);
	assert_string_equal(s.user, "tim");
	assert_string_equal(s.digest, hex);
	/* What auth would do with the user's secret. */
	assert_int_equal(sasl_cram_check(s.challenge, strlen(s.challenge),
	    "pw", 2, s.digest, strlen(s.digest)), 1);
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, NULL, 0), SASL_SUCCESS);

	/* A user name with a space: the digest follows the last one. */
	assert_int_equal(start(&s, &p, "CRAM-MD5", NULL), SASL_CONTINUE);
	snprintf(resp, sizeof(resp), "tim smith %s", CRAM_DIGEST);
	assert_int_equal(step(&s, b64(resp, strlen(resp))), SASL_NEED_CRAM);
	assert_string_equal(s.user, "tim smith");

	/* Initial response refused; no randomness -> temporary failure. */
	assert_int_equal(start(&s, &p, "CRAM-MD5", "dGlt"), SASL_FAIL);
	assert_string_equal(s.reply, R_NO_IR);
	p.random = NULL;
	assert_int_equal(start(&s, &p, "CRAM-MD5", NULL), SASL_FAIL);
	assert_string_equal(s.reply, R_TEMPFAIL);
	p = params(1);
	p.nrandom = SASL_RANDOM_MIN - 1;
	assert_int_equal(start(&s, &p, "CRAM-MD5", NULL), SASL_FAIL);
	assert_string_equal(s.reply, R_TEMPFAIL);
	p = params(1);
	p.host = "bad host";
	assert_int_equal(start(&s, &p, "CRAM-MD5", NULL), SASL_FAIL);
	assert_string_equal(s.reply, R_TEMPFAIL);
}

static void
test_cram_malformed(void **state)
{
	static const char *bad[] = {
		"",
		CRAM_DIGEST,
		" " CRAM_DIGEST,
		"tim" CRAM_DIGEST,
		"tim  b913a602c7eda7a495b4e6e7334d389",
		"tim b913a602c7eda7a495b4e6e7334d3890 ",
		"tim b913a602c7eda7a495b4e6e7334d38900",
		"tim g913a602c7eda7a495b4e6e7334d3890",
		"tim\tb913a602c7eda7a495b4e6e7334d3890",
		"t\nm b913a602c7eda7a495b4e6e7334d3890",
	};
	struct sasl_server s;
	struct sasl_params p = params(1);
	size_t i;

	(void)state;
	sasl_init(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(start(&s, &p, "CRAM-MD5", NULL),
		    SASL_CONTINUE);
		assert_int_equal(step(&s, *bad[i] ? b64(bad[i],
		    strlen(bad[i])) : ""), SASL_FAIL);
		if (strcmp(s.reply, R_MALFORMED) != 0)
			fail_msg("cram case %zu: %s", i, s.reply);
	}
}

/* RFC 7677's exchange through sasl, with scram.c playing auth. */
#define RFC_C1	"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SN	"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_C2	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
		"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_S2	"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
#define RFC_VERIFIER "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$" \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:" \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

/* Auth's side of one NEED_SCRAM_*; returns the verdict given to sasl. */
static enum sasl_result
auth_scram(struct sasl_server *s, struct scram_server *ss,
    enum sasl_result need)
{
	struct scram_verifier v;
	char out[SCRAM_SERVER_FIRST_MAX];
	size_t n;
	enum scram_status st;

	assert_int_equal(scram_verifier_parse(&v, RFC_VERIFIER,
	    strlen(RFC_VERIFIER)), 0);
	if (need == SASL_NEED_SCRAM_FIRST)
		st = scram_server_first_nonce(ss, s->msg, s->msglen, &v,
		    RFC_SN, strlen(RFC_SN), out, sizeof(out), &n);
	else
		st = scram_server_final(ss, s->msg, s->msglen, out,
		    sizeof(out), &n);
	if (st == SCRAM_OK)
		return sasl_verdict(s, OUTCOME_OK, out, n);
	if (st == SCRAM_BAD_PROOF)
		return sasl_verdict(s, OUTCOME_DENIED, NULL, 0);
	return sasl_verdict(s, OUTCOME_PERM, NULL, 0);
}

static void
test_scram_dialogue(void **state)
{
	struct sasl_server s;
	struct scram_server ss;
	struct sasl_params p = params(1);
	char want[SASL_REPLY_MAX];
	int ir;

	(void)state;
	for (ir = 0; ir <= 1; ir++) {
		sasl_init(&s);
		memset(&ss, 0, sizeof(ss));
		if (ir) {
			assert_int_equal(start(&s, &p, "SCRAM-SHA-256",
			    b64(RFC_C1, strlen(RFC_C1))),
			    SASL_NEED_SCRAM_FIRST);
		} else {
			assert_int_equal(start(&s, &p, "SCRAM-SHA-256", NULL),
			    SASL_CONTINUE);
			assert_string_equal(s.reply, "334 ");
			assert_int_equal(step(&s, b64(RFC_C1,
			    strlen(RFC_C1))), SASL_NEED_SCRAM_FIRST);
		}
		assert_string_equal(s.user, "user");
		assert_string_equal(s.msg, RFC_C1);
		assert_int_equal(s.msglen, strlen(RFC_C1));
		assert_int_equal(auth_scram(&s, &ss, SASL_NEED_SCRAM_FIRST),
		    SASL_CONTINUE);
		assert_string_equal(s.reply, "334 cj1yT3ByTkdmd0ViZVJXZ2JOR"
		    "WtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlp"
		    "hSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=");
		assert_int_equal(step(&s, b64(RFC_C2, strlen(RFC_C2))),
		    SASL_NEED_SCRAM_FINAL);
		assert_string_equal(s.msg, RFC_C2);
		assert_int_equal(auth_scram(&s, &ss, SASL_NEED_SCRAM_FINAL),
		    SASL_CONTINUE);
		snprintf(want, sizeof(want), "334 %s", b64(RFC_S2,
		    strlen(RFC_S2)));
		assert_string_equal(s.reply, want);
		assert_int_equal(step(&s, ""), SASL_SUCCESS);
		assert_string_equal(s.reply, R_SUCCESS);
		assert_string_equal(s.user, "user");
	}
}

static void
test_scram_failures(void **state)
{
	static const char wrong[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2"
	    "RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7And"
	    "VU=";
	static const struct {
		const char *c1;
		const char *reply;
	} first[] = {
		{ "p=tls-unique,,n=user,r=abc", R_MALFORMED },
		{ "n,,m=x,n=user,r=abc", R_MALFORMED },
		{ "n,a=admin,n=user,r=abc", R_BAD },
		{ "n,,n=user", R_MALFORMED },
		{ "", R_MALFORMED },
	};
	struct sasl_server s;
	struct scram_server ss;
	struct sasl_params p = params(1);
	size_t i;

	(void)state;
	sasl_init(&s);
	for (i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		const char *ir = *first[i].c1 ? b64(first[i].c1,
		    strlen(first[i].c1)) : "=";

		assert_int_equal(start(&s, &p, "SCRAM-SHA-256", ir),
		    SASL_FAIL);
		assert_string_equal(s.reply, first[i].reply);
	}
	/* Wrong proof: auth says BAD -> 535. */
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(start(&s, &p, "SCRAM-SHA-256", b64(RFC_C1,
	    strlen(RFC_C1))), SASL_NEED_SCRAM_FIRST);
	assert_int_equal(auth_scram(&s, &ss, SASL_NEED_SCRAM_FIRST),
	    SASL_CONTINUE);
	assert_int_equal(step(&s, b64(wrong, strlen(wrong))),
	    SASL_NEED_SCRAM_FINAL);
	assert_int_equal(auth_scram(&s, &ss, SASL_NEED_SCRAM_FINAL),
	    SASL_FAIL);
	assert_string_equal(s.reply, R_BAD);
	/* Client-final malformed for auth -> 501. */
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(start(&s, &p, "SCRAM-SHA-256", b64(RFC_C1,
	    strlen(RFC_C1))), SASL_NEED_SCRAM_FIRST);
	assert_int_equal(auth_scram(&s, &ss, SASL_NEED_SCRAM_FIRST),
	    SASL_CONTINUE);
	assert_int_equal(step(&s, b64("c=biws", 6)), SASL_NEED_SCRAM_FINAL);
	assert_int_equal(auth_scram(&s, &ss, SASL_NEED_SCRAM_FINAL),
	    SASL_FAIL);
	assert_string_equal(s.reply, R_MALFORMED);
	/* Empty or NUL-holding client-final: refused in smtpd already. */
	assert_int_equal(start(&s, &p, "SCRAM-SHA-256", b64(RFC_C1,
	    strlen(RFC_C1))), SASL_NEED_SCRAM_FIRST);
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, "r=x,s=QUFBQUFBQUE=,i=4096",
	    25), SASL_CONTINUE);
	assert_int_equal(step(&s, ""), SASL_FAIL);
	assert_string_equal(s.reply, R_MALFORMED);
	assert_int_equal(start(&s, &p, "SCRAM-SHA-256", b64(RFC_C1,
	    strlen(RFC_C1))), SASL_NEED_SCRAM_FIRST);
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, "r=x,s=QUFBQUFBQUE=,i=4096",
	    25), SASL_CONTINUE);
	assert_int_equal(step(&s, b64("c=\0", 3)), SASL_FAIL);
	assert_string_equal(s.reply, R_MALFORMED);
	/* Bad server messages from auth: temporary failure, never relayed. */
	assert_int_equal(start(&s, &p, "SCRAM-SHA-256", b64(RFC_C1,
	    strlen(RFC_C1))), SASL_NEED_SCRAM_FIRST);
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, "r=x\r\n", 5), SASL_FAIL);
	assert_string_equal(s.reply, R_TEMPFAIL);
	assert_int_equal(start(&s, &p, "SCRAM-SHA-256", b64(RFC_C1,
	    strlen(RFC_C1))), SASL_NEED_SCRAM_FIRST);
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, NULL, 0), SASL_FAIL);
	assert_string_equal(s.reply, R_TEMPFAIL);
	assert_int_equal(start(&s, &p, "SCRAM-SHA-256", b64(RFC_C1,
	    strlen(RFC_C1))), SASL_NEED_SCRAM_FIRST);
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, "r=x", 3), SASL_CONTINUE);
	assert_int_equal(step(&s, b64("c=biws", 6)), SASL_NEED_SCRAM_FINAL);
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, "e=invalid-proof", 15),
	    SASL_FAIL);
	assert_string_equal(s.reply, R_TEMPFAIL);
	/* After v=: a non-empty answer or "*" ends it without 235. */
	for (i = 0; i < 2; i++) {
		assert_int_equal(start(&s, &p, "SCRAM-SHA-256", b64(RFC_C1,
		    strlen(RFC_C1))), SASL_NEED_SCRAM_FIRST);
		assert_int_equal(sasl_verdict(&s, OUTCOME_OK, "r=x", 3),
		    SASL_CONTINUE);
		assert_int_equal(step(&s, b64("c=biws", 6)),
		    SASL_NEED_SCRAM_FINAL);
		assert_int_equal(sasl_verdict(&s, OUTCOME_OK, RFC_S2,
		    strlen(RFC_S2)), SASL_CONTINUE);
		assert_int_equal(step(&s, i ? "*" : "AA=="), SASL_FAIL);
		assert_string_equal(s.reply, i ? R_CANCELLED : R_MALFORMED);
	}
}

/* The caller's mistakes get 503 and never a success. */
static void
test_sequence(void **state)
{
	struct sasl_server s;
	struct sasl_params p = params(1);

	(void)state;
	sasl_init(&s);
	assert_int_equal(step(&s, "AGEAYg=="), SASL_FAIL);
	assert_string_equal(s.reply, R_SEQUENCE);
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, NULL, 0), SASL_FAIL);
	assert_string_equal(s.reply, R_SEQUENCE);
	/* A line while auth decides. */
	assert_int_equal(start(&s, &p, "PLAIN", "AGEAYg=="), SASL_NEED_PASS);
	assert_int_equal(step(&s, "AGEAYg=="), SASL_FAIL);
	assert_string_equal(s.reply, R_SEQUENCE);
	assert_string_equal(s.pass, "");
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, NULL, 0), SASL_FAIL);
	/* A new AUTH in the middle. */
	assert_int_equal(start(&s, &p, "PLAIN", "AGEAYg=="), SASL_NEED_PASS);
	assert_int_equal(sasl_start(&s, &p, "PLAIN", 5, "AGEAYg==", 8),
	    SASL_FAIL);
	assert_string_equal(s.reply, R_SEQUENCE);
	assert_string_equal(s.pass, "");
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, NULL, 0), SASL_FAIL);
	/* After SUCCESS or FAIL, steps are out of sequence; a new start is
	 * fine (the session refuses a second AUTH after success). */
	assert_int_equal(start(&s, &p, "PLAIN", "AGEAYg=="), SASL_NEED_PASS);
	assert_int_equal(sasl_verdict(&s, OUTCOME_OK, NULL, 0), SASL_SUCCESS);
	assert_int_equal(step(&s, ""), SASL_FAIL);
	assert_string_equal(s.reply, R_SEQUENCE);
	/* reset wipes */
	assert_int_equal(start(&s, &p, "PLAIN", "AGEAYg=="), SASL_NEED_PASS);
	sasl_reset(&s);
	assert_string_equal(s.pass, "");
	assert_string_equal(s.user, "");
	assert_int_equal(s.step, SASL_STEP_IDLE);
}

/* Every prefix of a PLAIN message (as base64 of the prefix): only the
 * whole one is a credential request. */
static void
test_plain_prefixes(void **state)
{
	static const char raw[] = "alice\0alice\0pw";
	struct sasl_server s;
	struct sasl_params p = params(1);
	size_t i;

	(void)state;
	sasl_init(&s);
	for (i = 0; i < sizeof(raw) - 1; i++) {
		enum sasl_result r = start(&s, &p, "PLAIN", i ? b64(raw, i) :
		    "=");

		assert_int_equal(r, i >= 13 ? SASL_NEED_PASS : SASL_FAIL);
	}
	assert_int_equal(start(&s, &p, "PLAIN", b64(raw, sizeof(raw) - 1)),
	    SASL_NEED_PASS);
	assert_string_equal(s.pass, "pw");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mechs),
		cmocka_unit_test(test_start_gating),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_plain_limits),
		cmocka_unit_test(test_bad_base64_and_cancel),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_cram_rfc),
		cmocka_unit_test(test_cram_dialogue),
		cmocka_unit_test(test_cram_malformed),
		cmocka_unit_test(test_scram_dialogue),
		cmocka_unit_test(test_scram_failures),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_plain_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
