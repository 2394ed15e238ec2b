/* fuzz_sasl - SMTP AUTH decoders and SCRAM on arbitrary input.
 * Input: byte 0 picks the target, byte 1 the auth process's verdicts
 * (two bits per NEED_*), the rest is '\n'-separated lines.
 *   0: base64_decode; a decoded input must re-encode to the same text.
 *   1..4: a sasl_server dialogue for PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256;
 *      the first line is the initial response ("!" alone: none), the
 *      others are client responses; NEED_SCRAM_* are answered by a real
 *      scram_server holding RFC 7677's verifier (so RFC 7677's messages
 *      reach 235).
 *   5: scram_verifier_parse; an accepted verifier must format back to the
 *      same text.
 *   6: scram server directly: line 1 client-first, line 2 client-final.
 * Checks beyond "no crash": every reply is one line (no CR, LF or NUL),
 * CONTINUE replies start "334 ", the code matches the reply, SUCCESS only
 * follows a verdict OK, the password is wiped whenever an exchange ends,
 * and a NEED_* always names a user of 1..SASL_USER_MAX octets. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "sasl.h"
#include "scram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RFC_VERIFIER "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$" \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:" \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"

static void
check_reply(const struct sasl_server *s, enum sasl_result r)
{
	size_t n = strlen(s->reply);
	int code;

	if (memchr(s->reply, '\r', n) || memchr(s->reply, '\n', n))
		abort();
	if (r == SASL_NEED_PASS || r == SASL_NEED_CRAM ||
	    r == SASL_NEED_SCRAM_FIRST || r == SASL_NEED_SCRAM_FINAL) {
		n = strlen(s->user);
		if (n == 0 || n > SASL_USER_MAX)
			abort();
		if (r == SASL_NEED_PASS && s->pass[0] == '\0')
			abort();
		return;
	}
	if (n < 4)
		abort();
	code = (s->reply[0] - '0') * 100 + (s->reply[1] - '0') * 10 +
	    (s->reply[2] - '0');
	if (code != s->code)
		abort();
	if ((r == SASL_CONTINUE) != (memcmp(s->reply, "334 ", 4) == 0))
		abort();
	if (r == SASL_SUCCESS && s->code != 235)
		abort();
	if (r == SASL_FAIL && s->code < 400)
		abort();
	if (r != SASL_CONTINUE) {
		size_t i;

		for (i = 0; i < sizeof(s->pass); i++)
			if (s->pass[i] != '\0')
				abort();
	}
}

/* The auth process's part. */
static enum sasl_result
answer(struct sasl_server *s, struct scram_server *ss,
    const struct scram_verifier *v, enum sasl_result need, unsigned pick,
    int *ok_given)
{
	char out[SCRAM_SERVER_FIRST_MAX];
	size_t n = 0;
	enum scram_status st;
	int vd;

	if (need == SASL_NEED_SCRAM_FIRST || need == SASL_NEED_SCRAM_FINAL) {
		if (need == SASL_NEED_SCRAM_FIRST)
			st = scram_server_first_nonce(ss, s->msg, s->msglen,
			    v, RFC_SNONCE, strlen(RFC_SNONCE), out,
			    sizeof(out), &n);
		else
			st = scram_server_final(ss, s->msg, s->msglen, out,
			    sizeof(out), &n);
		vd = st == SCRAM_OK ? OUTCOME_OK : st == SCRAM_BAD_PROOF ?
		    OUTCOME_DENIED : st == SCRAM_INTERNAL ? OUTCOME_TEMP :
		    OUTCOME_PERM;
		if (vd == OUTCOME_OK)
			*ok_given = 1;
		return sasl_verdict(s, vd, out, n);
	}
	vd = (int)(pick & 3);
	if (vd == OUTCOME_OK)
		*ok_given = 1;
	return sasl_verdict(s, vd, NULL, 0);
}

static void
dialogue(enum sasl_mech m, unsigned picks, const char *in, size_t len)
{
	static const unsigned char rnd[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct sasl_params p;
	struct sasl_server s;
	struct scram_server ss;
	struct scram_verifier v;
	const char *name = sasl_mech_name(m), *nl, *end = in + len;
	enum sasl_result r;
	size_t ll;
	int ok_given = 0, first = 1;

	if (scram_verifier_parse(&v, RFC_VERIFIER, strlen(RFC_VERIFIER)) != 0)
		abort();
	memset(&p, 0, sizeof(p));
	p.mechs = SASL_M_ALL;
	p.tls = 1;
	p.host = "mx.example.org";
	p.random = rnd;
	p.nrandom = sizeof(rnd);
	sasl_init(&s);
	memset(&ss, 0, sizeof(ss));
	r = SASL_CONTINUE;
	for (;;) {
		nl = memchr(in, '\n', (size_t)(end - in));
		ll = nl ? (size_t)(nl - in) : (size_t)(end - in);
		if (first) {
			if (ll == 1 && in[0] == '!')
				r = sasl_start(&s, &p, name, strlen(name), NULL,
				    0);
			else
				r = sasl_start(&s, &p, name, strlen(name), in,
				    ll);
			first = 0;
		} else {
			r = sasl_step(&s, in, ll);
		}
		check_reply(&s, r);
		while (r != SASL_CONTINUE && r != SASL_SUCCESS &&
		    r != SASL_FAIL) {
			r = answer(&s, &ss, &v, r, picks, &ok_given);
			picks >>= 2;
			check_reply(&s, r);
		}
		if (r == SASL_SUCCESS && !ok_given)
			abort();
		if (r != SASL_CONTINUE || nl == NULL)
			break;
		in = nl + 1;
	}
	sasl_reset(&s);
	scram_server_wipe(&ss);
}

static void
scram_direct(const char *in, size_t len)
{
	struct scram_verifier v;
	struct scram_server ss;
	struct scram_client_first cf;
	char out[SCRAM_SERVER_FIRST_MAX];
	const char *nl = memchr(in, '\n', len);
	size_t l1 = nl ? (size_t)(nl - in) : len, n;
	enum scram_status st;

	if (scram_verifier_parse(&v, RFC_VERIFIER, strlen(RFC_VERIFIER)) != 0)
		abort();
	st = scram_client_first_parse(&cf, in, l1);
	memset(&ss, 0, sizeof(ss));
	if (scram_server_first_nonce(&ss, in, l1, &v, RFC_SNONCE,
	    strlen(RFC_SNONCE), out, sizeof(out), &n) != st)
		abort();
	if (st != SCRAM_OK || nl == NULL)
		return;
	if (strcmp(ss.user, cf.user) != 0 || strlen(out) != n)
		abort();
	st = scram_server_final(&ss, nl + 1, len - l1 - 1, out, sizeof(out),
	    &n);
	if (ss.state != SCRAM_SERVER_DONE)
		abort();
	if (st == SCRAM_OK && (n != 46 || memcmp(out, "v=", 2) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in;
	size_t len;
	unsigned picks;

	if (size < 2)
		return 0;
	picks = data[1];
	in = (const char *)data + 2;
	len = size - 2;
	switch (data[0] % 7) {
	case 0: {
		static unsigned char dec[16384];
		static char enc[BASE64_ENCODED_SIZE(16384)];
		size_t n;

		if (base64_decode(dec, sizeof(dec), &n, in, len) ==
		    BASE64_OK) {
			if (base64_encode(enc, sizeof(enc), dec, n) !=
			    (long)len || memcmp(enc, in, len) != 0)
				abort();
		}
		break;
	}
	case 1:
		dialogue(SASL_MECH_PLAIN, picks, in, len);
		break;
	case 2:
		dialogue(SASL_MECH_LOGIN, picks, in, len);
		break;
	case 3:
		dialogue(SASL_MECH_CRAM_MD5, picks, in, len);
		break;
	case 4:
		dialogue(SASL_MECH_SCRAM_SHA_256, picks, in, len);
		break;
	case 5: {
		struct scram_verifier v;
		char text[SCRAM_VERIFIER_MAX];

		if (scram_verifier_parse(&v, in, len) == 0 &&
		    (scram_verifier_format(&v, text, sizeof(text)) !=
		    (long)len || memcmp(text, in, len) != 0))
			abort();
		break;
	}
	case 6:
		scram_direct(in, len);
		break;
	}
	return 0;
}
