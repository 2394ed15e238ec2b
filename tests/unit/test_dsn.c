/* test_dsn - bounce generation (RFC 3464), Received: counting, status. */
#include "unit.h"
#include "dsn.h"

static const char HDRS[] = "Received: from a by b\r\n\tfolded\r\n"
    "Subject: hello\r\nreceived: from c\r\nX-Received: no\r\n\r\n";

static void
test_build(void **state)
{
	struct dsn_rcpt r[2] = {
		{ "bob@example.net", NULL, "550 5.1.1 <bob@example.net>: no such user",
		    "mx.example.net[127.0.0.5]:25", 1 },
		{ "eve@loop.example", "5.4.6", "mail for loop.example loops back "
		    "to myself", NULL, 0 },
	};
	struct dsn_info in;
	struct buf b;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.hostname = "mx.mydomain.test";
	in.queue_id = "0000019C7E3A1B2F4A1";
	in.arrival = 1795812345;
	in.now = 1795812400;
	in.to = "alice@mydomain.test";
	in.orig_from = "alice@mydomain.test";
	in.rcpts = r;
	in.nrcpts = 2;
	in.headers = HDRS;
	in.headers_len = strlen(HDRS);
	in.boundary = "B0UND";
	buf_init(&b, DSN_MAX);
	assert_int_equal(dsn_build(&b, &in), 0);
	assert_non_null(strstr(b.data, "From: Mail Delivery System "
	    "<MAILER-DAEMON@mx.mydomain.test>\r\n"));
	assert_non_null(strstr(b.data, "To: <alice@mydomain.test>\r\n"));
	assert_non_null(strstr(b.data, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(b.data, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\"B0UND\"\r\n"));
	assert_non_null(strstr(b.data, "\r\n--B0UND\r\nContent-Description: "
	    "Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx.mydomain.test\r\n"));
	assert_non_null(strstr(b.data, "Final-Recipient: rfc822; bob@example.net\r\n"
	    "Original-Recipient: rfc822; bob@example.net\r\n"
	    "Action: failed\r\nStatus: 5.1.1\r\n"
	    "Remote-MTA: dns; mx.example.net[127.0.0.5]:25\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: no such user\r\n"));
	assert_non_null(strstr(b.data, "Status: 5.4.6\r\nDiagnostic-Code: "
	    "x-postern; mail for loop.example loops back to myself\r\n"));
	assert_non_null(strstr(b.data, "Content-Type: text/rfc822-headers\r\n\r\n"
	    "Received: from a by b\r\n\tfolded\r\nSubject: hello\r\n"));
	assert_non_null(strstr(b.data, "X-Received: no\r\n\r\n--B0UND--\r\n"));
	/* CRLF only, never a bare LF */
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\n')
			assert_true(i > 0 && b.data[i - 1] == '\r');
	buf_free(&b);
	/* too small an output buffer: -1 */
	buf_init(&b, 100);
	assert_int_equal(dsn_build(&b, &in), -1);
	buf_free(&b);
}

static void
test_reply_sanitised(void **state)
{
	struct dsn_rcpt r = { "x@example.net", NULL, "550 bad\r\nInjected: yes",
	    NULL, 1 };
	struct dsn_info in;
	struct buf b;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.hostname = "h";
	in.queue_id = "0000019C7E3A1B2F4A1";
	in.to = "";
	in.orig_from = "";
	in.rcpts = &r;
	in.nrcpts = 1;
	in.headers = "";
	in.boundary = "b";
	buf_init(&b, DSN_MAX);
	assert_int_equal(dsn_build(&b, &in), 0);
	assert_null(strstr(b.data, "\r\nInjected: yes"));
	assert_non_null(strstr(b.data, "To: <postmaster>"));
	assert_non_null(strstr(b.data, "Status: 5.0.0"));
	buf_free(&b);
}

static void
test_headers_cut(void **state)
{
	struct dsn_rcpt r = { "x@example.net", "5.0.0", "no", NULL, 0 };
	struct dsn_info in;
	struct buf b, h;
	size_t i;

	(void)state;
	buf_init(&h, DSN_HEADERS_MAX * 2);
	for (i = 0; h.len < DSN_HEADERS_MAX + 100; i++)
		buf_printf(&h, "X-Filler-%zu: 0123456789abcdef\r\n", i);
	memset(&in, 0, sizeof(in));
	in.hostname = "h";
	in.queue_id = "q";
	in.to = "a@b";
	in.orig_from = "a@b";
	in.rcpts = &r;
	in.nrcpts = 1;
	in.headers = h.data;
	in.headers_len = h.len;
	in.boundary = "b";
	buf_init(&b, DSN_MAX);
	assert_int_equal(dsn_build(&b, &in), 0);
	assert_true(b.len < DSN_HEADERS_MAX + 4096);
	assert_non_null(strstr(b.data, "0123456789abcdef\r\n\r\n--b--\r\n"));
	buf_free(&b);
	buf_free(&h);
}

static void
test_count_received(void **state)
{
	char big[64 * 60];
	size_t i, o = 0;

	(void)state;
	assert_int_equal(dsn_count_received(HDRS, strlen(HDRS)), 2);
	assert_int_equal(dsn_count_received("", 0), 0);
	assert_int_equal(dsn_count_received("Received:", 9), 1);
	assert_int_equal(dsn_count_received("Receive", 7), 0);
	for (i = 0; i < DSN_LOOP_RECEIVED + 1; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o,
		    "Received: hop %zu\r\n", i);
	assert_int_equal(dsn_count_received(big, o), DSN_LOOP_RECEIVED + 1);
	assert_int_equal(dsn_header_len("A: b\r\n\r\nbody", 12), 8);
	assert_int_equal(dsn_header_len("\r\nbody", 6), 2);
	assert_int_equal(dsn_header_len("A: b\r\n", 6), 6);
}

static void
test_status(void **state)
{
	static const struct { const char *reply; int perm; const char *want; } t[] = {
		{ "550 5.1.1 no", 1, "5.1.1" },
		{ "552 5.3.4 too big", 1, "5.3.4" },
		{ "550 no such user", 1, "5.0.0" },
		{ "451 4.3.0 later", 0, "4.3.0" },
		{ "451 5.3.0 mismatch", 0, "4.0.0" },
		{ "550 5.1", 1, "5.0.0" },
		{ "550 5.1.", 1, "5.0.0" },
		{ "550 5.1.1.1 x", 1, "5.0.0" },
		{ "", 1, "5.0.0" },
		{ NULL, 0, "4.0.0" },
		{ "550 5.123.456 x", 1, "5.123.456" },
	};
	char buf[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(dsn_status(t[i].reply, t[i].perm, buf,
		    sizeof(buf)), t[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_reply_sanitised),
		cmocka_unit_test(test_headers_cut),
		cmocka_unit_test(test_count_received),
		cmocka_unit_test(test_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
