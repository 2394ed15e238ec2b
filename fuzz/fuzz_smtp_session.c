/* fuzz_smtp_session - the real SMTP session on arbitrary client bytes,
 * with fake ops that answer user lookups and commits before returning.
 * Checks beyond "no crash": every reply is "DDD" + ' ' or '-' and ends in
 * CRLF; the session consumes everything unless it is closing; once
 * closed it consumes nothing; content is only written between a 354 and
 * the end of data. The first byte chooses the chunk size and which disk
 * operations fail. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct smtp_session *cur;
static unsigned fail_bits;
static int msg_open;

static void
f_user_lookup(void *arg, const char *mailbox)
{
	(void)arg;
	if (cur->wait != SMTP_WAIT_USER)
		abort();
	if (strcmp(mailbox, "alice") == 0 || strcmp(mailbox, "bob") == 0)
		smtp_session_user_result(cur, OUTCOME_OK);
	else if (mailbox[0] == 't')
		smtp_session_user_result(cur, OUTCOME_TEMP);
	else
		smtp_session_user_result(cur, OUTCOME_PERM);
}

static int
f_message_open(void *arg, const struct smtp_session *s)
{
	(void)arg;
	if (msg_open || s->txn.nrcpts == 0)
		abort();
	if (fail_bits & 1)
		return -1;
	msg_open = 1;
	return 0;
}

static int
f_message_write(void *arg, const char *p, size_t n)
{
	(void)arg;
	(void)p;
	if (!msg_open || n == 0)
		abort();
	return (fail_bits & 2) ? -1 : 0;
}

static void
f_message_commit(void *arg)
{
	(void)arg;
	if (!msg_open)
		abort();
	msg_open = 0;
	smtp_session_commit_result(cur, !(fail_bits & 4), "FUZZ1");
}

static void
f_message_abort(void *arg)
{
	(void)arg;
	if (!msg_open)
		abort();
	msg_open = 0;
}

static void
f_log(void *arg, const char *line)
{
	(void)arg;
	if (strchr(line, '\n') != NULL || strchr(line, '\r') != NULL)
		abort();
}

static const struct smtp_session_ops ops = {
	f_user_lookup, f_message_open, f_message_write, f_message_commit,
	f_message_abort, f_log,
	NULL,	/* auth_request: not a submission session, AUTH answers 503 */
	NULL,	/* srs_reverse: no SRS secret, SRS0= addresses are users */
	NULL,	/* rcpt_check: no DNSBL or greylisting */
};

static char *domains[] = { "mydomain.test", "other.test" };

/* Every reply line: three digits, ' ' or '-', text, CRLF. */
static void
check_out(struct buf *out)
{
	size_t i = 0, j;

	while (i < out->len) {
		if (out->len - i < 6 || out->data[i] < '2' ||
		    out->data[i] > '5' ||
		    (out->data[i + 3] != ' ' && out->data[i + 3] != '-'))
			abort();
		for (j = i; j < out->len && out->data[j] != '\n'; j++)
			if (out->data[j] == '\r' &&
			    (j + 1 >= out->len || out->data[j + 1] != '\n'))
				abort();
		if (j >= out->len || out->data[j - 1] != '\r')
			abort();
		i = j + 1;
	}
	buf_consume(out, out->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static struct cidr nets[1];
	static struct relay_policy policy;
	static struct smtp_session s;
	struct relay_client client;
	size_t pos = 0, want, n, chunk;

	if (size < 1)
		return 0;
	if (cfg.hostname == NULL) {
		cfg.hostname = "mx.test";
		cfg.local_domains = domains;
		cfg.n_local_domains = 2;
		if (cidr_parse("127.0.0.1/32", &nets[0]) == -1)
			abort();
		cfg.local_networks = nets;
		cfg.n_local_networks = 1;
		cfg.max_message_size = 4096;
		cfg.postmaster = "alice";
		cfg.max_recipients = 5;
		cfg.max_errors = 20;
		policy.local_domains = domains;
		policy.n_local_domains = 2;
		policy.local_networks = nets;
		policy.n_local_networks = 1;
	}
	chunk = data[0] >> 3;		/* 0: whole */
	fail_bits = data[0] & 7;
	data++;
	size--;

	memset(&client, 0, sizeof(client));
	if (netaddr_parse((fail_bits & 1) ? "127.0.0.1" : "127.0.0.2",
	    &client.addr) == -1)
		abort();
	msg_open = 0;
	cur = &s;
	smtp_session_init(&s, &cfg, &policy, &client, &ops, NULL);
	smtp_session_start(&s, NULL);
	while (pos < size) {
		want = chunk && chunk < size - pos ? chunk : size - pos;
		n = smtp_session_feed(&s, (const char *)data + pos, want);
		if (n > want || s.wait != SMTP_WAIT_NONE)
			abort();
		check_out(&s.out);
		pos += n;
		if (n < want) {
			if (!s.close)
				abort();
			if (smtp_session_feed(&s, (const char *)data + pos,
			    size - pos) != 0)
				abort();
			break;
		}
	}
	if (msg_open != (s.state == SMTP_STATE_DATA))
		abort();
	smtp_session_timeout(&s);
	check_out(&s.out);
	if (msg_open)
		abort();
	smtp_session_free(&s);
	return 0;
}
