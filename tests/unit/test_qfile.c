/* test_qfile - queue file envelope: format, parse, status offsets, ids. */
#include "unit.h"
#include "qfile.h"

static void
make_env(struct qfile_envelope *e, struct qfile_rcpt *r)
{
	memset(e, 0, sizeof(*e));
	memset(r, 0, 2 * sizeof(*r));
	qfile_make_id(e->id, 1795812345123456ull, 7);
	e->time = 1795812345;
	snprintf(e->client, sizeof(e->client), "127.0.0.2");
	snprintf(e->from, sizeof(e->from), "a@example.net");
	snprintf(e->helo, sizeof(e->helo), "client name with spaces");
	r[0].status = QFILE_PENDING;
	r[0].kind = QFILE_LOCAL;
	snprintf(r[0].mailbox, sizeof(r[0].mailbox), "alice");
	snprintf(r[0].addr, sizeof(r[0].addr), "alice@mydomain.test");
	r[1].status = QFILE_PENDING;
	r[1].kind = QFILE_REMOTE;
	snprintf(r[1].addr, sizeof(r[1].addr), "bob@example.net");
	e->rcpts = r;
	e->nrcpts = 2;
}

static void
test_roundtrip(void **state)
{
	struct qfile_envelope e, p;
	struct qfile_rcpt r[2];
	struct buf b;

	(void)state;
	make_env(&e, r);
	buf_init(&b, 4096);
	assert_int_equal(qfile_envelope_format(&b, &e), 0);
	buf_appends(&b, "Received: x\r\n\r\nbody\r\n");
	assert_int_equal(qfile_envelope_parse(b.data, b.len, &p), 0);
	assert_string_equal(p.id, e.id);
	assert_int_equal(p.time, e.time);
	assert_string_equal(p.from, "a@example.net");
	assert_string_equal(p.helo, "client name with spaces");
	assert_int_equal(p.nrcpts, 2);
	assert_string_equal(p.rcpts[0].mailbox, "alice");
	assert_string_equal(p.rcpts[1].mailbox, "");
	assert_int_equal(p.rcpts[1].kind, QFILE_REMOTE);
	/* The status byte is where the queue process will pwrite() it. */
	assert_int_equal(b.data[p.rcpts[0].status_off], 'P');
	assert_int_equal(b.data[p.rcpts[1].status_off], 'P');
	assert_memory_equal(b.data + p.content_off, "Received: x\r\n", 13);
	assert_int_equal(qfile_envelope_pending(&p), 1);
	b.data[p.rcpts[0].status_off] = 'D';
	b.data[p.rcpts[1].status_off] = 'F';
	qfile_envelope_free(&p);
	assert_int_equal(qfile_envelope_parse(b.data, b.len, &p), 0);
	assert_int_equal(qfile_envelope_pending(&p), 0);
	qfile_envelope_free(&p);
	buf_free(&b);
}

static void
test_null_sender(void **state)
{
	struct qfile_envelope e, p;
	struct qfile_rcpt r[2];
	struct buf b;

	(void)state;
	make_env(&e, r);
	e.from[0] = '\0';
	buf_init(&b, 4096);
	assert_int_equal(qfile_envelope_format(&b, &e), 0);
	assert_non_null(strstr(b.data, "\nfrom <>\n"));
	assert_int_equal(qfile_envelope_parse(b.data, b.len, &p), 0);
	assert_string_equal(p.from, "");
	qfile_envelope_free(&p);
	buf_free(&b);
}

static void
test_format_refuses_bad_fields(void **state)
{
	struct qfile_envelope e;
	struct qfile_rcpt r[2];
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	make_env(&e, r);
	snprintf(e.from, sizeof(e.from), "a@b\ncontent");
	assert_int_equal(qfile_envelope_format(&b, &e), -1);
	make_env(&e, r);
	snprintf(r[1].addr, sizeof(r[1].addr), "a b@c");
	assert_int_equal(qfile_envelope_format(&b, &e), -1);
	make_env(&e, r);
	snprintf(e.helo, sizeof(e.helo), "x\ry");
	assert_int_equal(qfile_envelope_format(&b, &e), -1);
	buf_free(&b);
}

static void
test_parse_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"POSTERN-QUEUE 2\n",
		"POSTERN-QUEUE 1\nid 0000000000000100001\n\n",	/* fields missing */
		"POSTERN-QUEUE 1\nid 0000000000000100001\ntime 1\nclient x\nauth -\n"
		    "from <a@b>\nhelo h\n\n",			/* no recipient */
		"POSTERN-QUEUE 1\nid 0000000000000100001\ntime 1\nclient x\nauth -\n"
		    "from <a@b>\nrcpt X L alice <a@b>\nhelo h\n\n",	/* bad status */
		"POSTERN-QUEUE 1\nid 0000000000000100001\ntime 1\nclient x\nauth -\n"
		    "from <a@b>\nrcpt P L - <a@b>\nhelo h\n\n",	/* local without mailbox */
		"POSTERN-QUEUE 1\nid 0000000000000100001\ntime 1\nclient x\nauth -\n"
		    "from <a@b>\nrcpt P R - <a@b>\nhelo h\n",	/* no empty line */
		"POSTERN-QUEUE 1\nid zz\ntime 1\nclient x\nauth -\n"
		    "from <a@b>\nrcpt P R - <a@b>\nhelo h\n\n",	/* bad id */
		"POSTERN-QUEUE 1\nid 0000000000000100001\ntime 1x\nclient x\nauth -\n"
		    "from <a@b>\nrcpt P R - <a@b>\nhelo h\n\n",	/* bad time */
		"POSTERN-QUEUE 1\nid 0000000000000100001\ntime 1\nclient x\nauth -\n"
		    "from a@b\nrcpt P R - <a@b>\nhelo h\n\n",	/* from without <> */
		"POSTERN-QUEUE 1\nid 0000000000000100001\ntime 1\nclient x\nauth -\n"
		    "from <a@b>\nrcpt P R - <a@b>\nhelo h\nbogus 1\n\n", /* unknown line */
	};
	struct qfile_envelope p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);
		char *copy = malloc(n ? n : 1);	/* exact size: ASan sees over-reads */
		memcpy(copy, bad[i], n);
		assert_int_equal(qfile_envelope_parse(copy, n, &p), -1);
		free(copy);
	}
}


/* A forged queue file (a compromised smtpd, a hand edit) is held
 * to the rules of the writer, field by field, with a reason for the log. */
#define FORGE_HEAD "POSTERN-QUEUE 1\nid 0000000000000100001\ntime 1\n"
static const struct {
	const char *text, *why;
} forged[] = {
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P L ../../../../tmp/x <a@b.example>\nhelo h\n\n",
	    "bad rcpt mailbox" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P L a/b <a@b.example>\nhelo h\n\n", "bad rcpt mailbox" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P L .hidden <a@b.example>\nhelo h\n\n", "bad rcpt mailbox" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P L Alice <a@b.example>\nhelo h\n\n", "bad rcpt mailbox" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P R - <evil@[1.2.3.4]%x>\nhelo h\n\n", "bad rcpt address" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P R - <no-domain>\nhelo h\n\n", "bad rcpt address" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt Q R - <c@d.example>\nhelo h\n\n", "bad rcpt status" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P X - <c@d.example>\nhelo h\n\n", "bad rcpt kind" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@@b>\n"
	    "rcpt P R - <c@d.example>\nhelo h\n\n", "bad sender address" },
	{ FORGE_HEAD "client 1.2.3.4.5\nauth -\nfrom <a@b.example>\n"
	    "rcpt P R - <c@d.example>\nhelo h\n\n", "bad client" },
	{ FORGE_HEAD "client 127.0.0.2\nauth \xc3\xa9t\xc3\xa9\nfrom <a@b.example>\n"
	    "rcpt P R - <c@d.example>\nhelo h\n\n", "bad auth user" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P R - <c@d.example>\nhelo h\x01i\n\n", "bad helo" },
	{ "POSTERN-QUEUE 1\nid 0000000000000100001\ntime -5\n"
	    "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P R - <c@d.example>\nhelo h\n\n", "bad time" },
	{ "POSTERN-QUEUE 1\nid 00000000000001000G1\ntime 1\n"
	    "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P R - <c@d.example>\nhelo h\n\n", "bad id" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "client 127.0.0.3\nrcpt P R - <c@d.example>\nhelo h\n\n",
	    "duplicate envelope field" },
	{ FORGE_HEAD "client 127.0.0.2\nauth -\nfrom <a@b.example>\n"
	    "rcpt P R - <c@d.example>\nhelo "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "\n\n", "bad helo" },		/* 256 bytes: one too many */
};

static void
test_parse_rejects_forged_fields(void **state)
{
	struct qfile_envelope p;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		size_t n = strlen(forged[i].text);
		char *copy = malloc(n);
		memcpy(copy, forged[i].text, n);
		why = NULL;
		assert_int_equal(qfile_envelope_check(copy, n, &p, &why), -1);
		assert_non_null(why);
		if (strcmp(why, forged[i].why) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, why,
			    forged[i].why);
		assert_int_equal(qfile_envelope_parse(copy, n, &p), -1);
		free(copy);
	}
}

/* What the real writers put there still parses: IPv6 client, "local",
 * "bounce", a SASL user with '@', the bare postmaster, the null sender. */
static void
test_parse_accepts_real_writers(void **state)
{
	static const char *const good[] = {
		FORGE_HEAD "client ::1\nauth alice@mydomain.test\nfrom <>\n"
		    "rcpt P L postmaster <postmaster>\nhelo h\n\n",
		FORGE_HEAD "client local\nauth root\nfrom <root@mydomain.test>\n"
		    "rcpt D L alice <alice@mydomain.test>\n"
		    "rcpt F R - <\"a..b\"@[127.0.0.2]>\nhelo \n\n",
		FORGE_HEAD "client double-bounce\nauth -\nfrom <>\n"
		    "rcpt P R - <bob@example.net>\nhelo mx.mydomain.test\n\n",
	};
	struct qfile_envelope p;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = "unset";
		if (qfile_envelope_check(good[i], strlen(good[i]), &p, &why) != 0)
			fail_msg("case %zu refused: %s", i, why ? why : "?");
		assert_null(why);
		qfile_envelope_free(&p);
	}
}

/* The authres slot: spaces at first (no field), filled in place, and
 * the field again at delivery; a file without the line is fine. */
static void
test_authres_slot(void **state)
{
	static const char field[] = "Authentication-Results: mx.test;\r\n"
	    "\tspf=fail smtp.mailfrom=a@example.net;\r\n"
	    "\tdmarc=fail header.from=example.net\r\n";
	struct qfile_envelope e, p;
	struct qfile_rcpt r[2];
	char val[QFILE_AUTHRES_MAX + 1];
	struct buf b, h;

	(void)state;
	make_env(&e, r);
	e.authres_slot = QFILE_AUTHRES_MAX;
	buf_init(&b, 8192);
	assert_int_equal(qfile_envelope_format(&b, &e), 0);
	assert_memory_equal(b.data + e.authres_off - 8, "authres ", 8);
	buf_appends(&b, "Received: x\r\n\r\nbody\r\n");
	assert_int_equal(qfile_envelope_parse(b.data, b.len, &p), 0);
	assert_string_equal(p.authres, "");
	qfile_envelope_free(&p);

	assert_int_equal(qfile_authres_encode(field, strlen(field), val,
	    sizeof(val)), 0);
	assert_string_equal(val, "mx.test;\tspf=fail smtp.mailfrom=a@example.net;"
	    "\tdmarc=fail header.from=example.net");
	memcpy(b.data + e.authres_off, val, strlen(val));
	assert_int_equal(qfile_envelope_parse(b.data, b.len, &p), 0);
	assert_string_equal(p.authres, val);
	buf_init(&h, 4096);
	assert_int_equal(qfile_authres_header(p.authres, &h), 0);
	assert_int_equal(h.len, strlen(field));
	assert_memory_equal(h.data, field, h.len);
	/* Copied into a new file (an alias forward): a plain line. */
	buf_reset(&b);
	e.authres_slot = 0;
	memcpy(e.authres, val, strlen(val) + 1);
	assert_int_equal(qfile_envelope_format(&b, &e), 0);
	buf_appends(&b, "body\r\n");
	qfile_envelope_free(&p);
	assert_int_equal(qfile_envelope_parse(b.data, b.len, &p), 0);
	assert_string_equal(p.authres, val);
	qfile_envelope_free(&p);
	/* Not a field, or a control character: refused. */
	assert_int_equal(qfile_authres_encode("X: y\r\n", 6, val, sizeof(val)), -1);
	assert_int_equal(qfile_authres_encode("Authentication-Results: a;\x01b\r\n",
	    strlen("Authentication-Results: a;\x01b\r\n"), val, sizeof(val)), -1);
	assert_int_equal(qfile_authres_encode(field, strlen(field), val, 10), -1);
	buf_free(&b);
	buf_free(&h);
}

static void
test_ids(void **state)
{
	char a[QFILE_ID_LEN + 1], b[QFILE_ID_LEN + 1];

	(void)state;
	qfile_make_id(a, 1000000, 1);
	qfile_make_id(b, 1000001, 0);
	assert_int_equal(strlen(a), QFILE_ID_LEN);
	assert_true(qfile_id_valid(a));
	assert_true(strcmp(a, b) < 0);		/* ids sort by arrival */
	assert_false(qfile_id_valid("0000000000000100001X"));
	assert_false(qfile_id_valid("000000000000010000"));
	assert_false(qfile_id_valid("00000000000001000g1"));
	assert_false(qfile_id_valid("../../etc/passwd000"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_null_sender),
		cmocka_unit_test(test_format_refuses_bad_fields),
		cmocka_unit_test(test_parse_rejects_malformed),
		cmocka_unit_test(test_parse_rejects_forged_fields),
		cmocka_unit_test(test_parse_accepts_real_writers),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_authres_slot),
	};
	return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
