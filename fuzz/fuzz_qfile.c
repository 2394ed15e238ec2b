/* fuzz_qfile - qfile_envelope_check on arbitrary bytes: a queue file is
 * hostile input to the queue process (a compromised smtpd, a hand edit).
 * Checks beyond "no crash": an accepted envelope has a valid id, its
 * content starts right after "\n\n" inside the input, every recipient's
 * status byte sits at its status_off with a known status and kind;
 * formatting it again and re-parsing gives the same envelope; and the
 * authres value, written out as the Authentication-Results field
 * delivery prepends (qfile_authres_header), encodes back to itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "qfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qfile_envelope e, e2;
	const char *text = (const char *)data, *why = NULL;
	struct buf out, ar;
	char back[QFILE_AUTHRES_MAX + 1];
	size_t i;

	if (qfile_envelope_check(text, size, &e, &why) != 0) {
		if (why == NULL)
			abort();	/* a refusal always names its field */
		return 0;
	}
	if (!qfile_id_valid(e.id) || e.content_off < 2 ||
	    (size_t)e.content_off > size ||
	    memcmp(text + e.content_off - 2, "\n\n", 2) != 0 || e.nrcpts == 0)
		abort();
	for (i = 0; i < e.nrcpts; i++) {
		const struct qfile_rcpt *r = &e.rcpts[i];

		if ((r->status != QFILE_PENDING && r->status != QFILE_DONE &&
		    r->status != QFILE_FAILED) ||
		    (r->kind != QFILE_LOCAL && r->kind != QFILE_REMOTE) ||
		    r->status_off < 0 || r->status_off >= e.content_off ||
		    text[r->status_off] != r->status)
			abort();
	}
	buf_init(&out, 2 * QFILE_ENVELOPE_MAX);
	if (qfile_envelope_format(&out, &e) == -1 ||
	    qfile_envelope_check(out.data, out.len, &e2, NULL) != 0)
		abort();
	if (strcmp(e.id, e2.id) != 0 || e.time != e2.time ||
	    strcmp(e.client, e2.client) != 0 || strcmp(e.auth, e2.auth) != 0 ||
	    strcmp(e.from, e2.from) != 0 || strcmp(e.helo, e2.helo) != 0 ||
	    strcmp(e.authres, e2.authres) != 0 ||
	    e.nrcpts != e2.nrcpts || (size_t)e2.content_off != out.len)
		abort();
	buf_init(&ar, 2 * QFILE_AUTHRES_MAX + 64);
	if (qfile_authres_header(e.authres, &ar) == -1 ||
	    memchr(ar.data, '\0', ar.len) != NULL ||
	    qfile_authres_encode(ar.data, ar.len, back, sizeof(back)) == -1 ||
	    strcmp(back, e.authres) != 0)
		abort();
	buf_free(&ar);
	for (i = 0; i < e.nrcpts; i++)
		if (e.rcpts[i].status != e2.rcpts[i].status ||
		    e.rcpts[i].kind != e2.rcpts[i].kind ||
		    strcmp(e.rcpts[i].mailbox, e2.rcpts[i].mailbox) != 0 ||
		    strcmp(e.rcpts[i].addr, e2.rcpts[i].addr) != 0)
			abort();
	qfile_envelope_free(&e2);
	qfile_envelope_free(&e);
	buf_free(&out);
	return 0;
}
