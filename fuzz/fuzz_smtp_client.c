/* fuzz_smtp_client - libFuzzer target for the SMTP client's reply parser
 * and state machine: arbitrary server bytes, fed in two pieces, with a
 * transaction started whenever the client is ready.
 * Build: clang -D_GNU_SOURCE -Isrc -g -fsanitize=fuzzer,address,undefined \
 *        fuzz/fuzz_smtp_client.c src/smtp_client.c src/linebuf.c \
 *        src/buf.c src/log.c -o fuzz_smtp_client
 * Run:   ./fuzz_smtp_client fuzz/corpus/smtp_client */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp_client.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_client c;
	struct smtpc_rcpt r[2];
	struct smtpc_txn t;
	const char *in = (const char *)data;
	size_t pos = 0, used, cut = size ? data[0] % (size + 1) : 0;
	int started = 0, rounds = 0;
	enum smtpc_event ev;

	memset(r, 0, sizeof(r));
	r[0].addr = "a@example.net";
	r[1].addr = "b@example.net";
	memset(&t, 0, sizeof(t));
	t.from = "s@example.org";
	t.rcpts = r;
	t.nrcpts = 2;
	t.size = 5000;
	smtp_client_init(&c, "fuzz.test");
	while (rounds++ < 100000) {
		size_t end = pos < cut ? cut : size;

		ev = smtp_client_feed(&c, in + pos, end - pos, &used);
		if (used > end - pos)
			__builtin_trap();
		pos += used;
		if (ev == SMTPC_EV_READY) {
			if (!started) {
				started = 1;
				(void)smtp_client_txn_start(&c, &t);
			} else
				smtp_client_quit(&c);
		} else if (ev == SMTPC_EV_BODY) {
			struct smtpc_stuff st;

			smtp_client_stuff_init(&st);
			(void)smtp_client_stuff(&st, ".x\r\n", 4, &c.out);
			(void)smtp_client_stuff_end(&st, &c.out);
			smtp_client_body_done(&c);
		} else if (ev == SMTPC_EV_TXN_DONE) {
			/* every recipient has a final result or awaits none */
			if (!r[0].done && !r[0].accepted)
				__builtin_trap();
		} else if (ev == SMTPC_EV_FAILED || ev == SMTPC_EV_CLOSED)
			break;
		buf_reset(&c.out);
		if (ev == SMTPC_EV_NONE && pos >= size)
			break;
	}
	smtp_client_abort(&c, "end of input");
	smtp_client_free(&c);
	return 0;
}
