/* test_imap_mime - ENVELOPE and BODYSTRUCTURE of an RFC-like multipart/mixed
 * (text, attachment, nested message/rfc822) against the exact strings a
 * Dovecot-style server gives; address forms (groups, routes, comments,
 * quoted local parts, bare local parts, broken input); sections including
 * parts that do not exist and bad syntax; LF-only, header-only,
 * body-only and NUL-holding messages; header and body search (base64 and
 * quoted-printable); the three date formats. */
#include "unit.h"
#include "buf.h"
#include "imap_mime.h"

static const char m1[] =
    "From: \"Joe Q. Public\" <john.q.public@example.com>\r\n"
    "To: Mary Smith <mary@x.test>, jdoe@example.org (John),\r\n"
    " Who? <one@y.test>, <@r1,@r2:a@b.c>, root\r\n"
    "Cc: undisclosed-recipients:;\r\n"
    "Bcc: A Group: x@y, \"q u\"@z;\r\n"
    "Subject: test\r\n"
    "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
    "Message-ID: <1234@local.machine.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--XX\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "hello\r\n"
    "world\r\n"
    "--XX\r\n"
    "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
    "\r\n"
    "AAEC\r\n"
    "--XX\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: a@b\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "inner body\r\n"
    "--XX--\r\n"
    "epilogue\r\n"
    "";

static const char m1_env[] =
    "(\"Tue, 1 Jul 2003 10:52:37 +0200\" \"test\" "
    "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
    "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
    "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
    "((\"Mary Smith\" NIL \"mary\" \"x.test\")"
    "(\"John\" NIL \"jdoe\" \"example.org\")"
    "(\"Who?\" NIL \"one\" \"y.test\")"
    "(NIL \"@r1,@r2\" \"a\" \"b.c\")"
    "(NIL NIL \"root\" \"\")) "
    "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
    "((NIL NIL \"A Group\" NIL)(NIL NIL \"x\" \"y\")(NIL NIL \"q u\" \"z\")"
    "(NIL NIL NIL NIL)) "
    "NIL \"<1234@local.machine.example>\")";

#define INNER_ENV \
    "(NIL \"inner\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) " \
    "((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL)"

static const char m1_bs[] =
    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 12 1 "
    "NIL NIL NIL NIL)"
    "(\"application\" \"octet-stream\" (\"name\" \"a.bin\") NIL NIL "
    "\"base64\" 4 NIL (\"attachment\" (\"filename\" \"a.bin\")) NIL NIL)"
    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 39 " INNER_ENV " "
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 "
    "NIL NIL NIL NIL) 3 NIL NIL NIL NIL) "
    "\"mixed\" (\"boundary\" \"XX\") NIL NIL NIL)";

static const char m1_body[] =
    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 12 1)"
    "(\"application\" \"octet-stream\" (\"name\" \"a.bin\") NIL NIL "
    "\"base64\" 4)"
    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 39 " INNER_ENV " "
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0) "
    "3) \"mixed\")";

static char *
envelope(const char *m, size_t n)
{
	struct buf b;
	char *s;

	buf_init(&b, 1 << 20);
	assert_int_equal(imap_envelope(m, n, &b), 0);
	s = xstrndup(b.data ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

static char *
structure(const char *m, size_t n, int ext)
{
	struct buf b;
	char *s;

	buf_init(&b, 1 << 20);
	assert_int_equal(imap_bodystructure(m, n, ext, &b), 0);
	s = xstrndup(b.data ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

/* The section's octets joined, or "(bad)" when the spec is refused. */
static char *
section(const char *m, size_t n, const char *spec)
{
	static struct imap_spans sp;
	struct buf b;
	size_t k;
	uint64_t total = 0;
	char *s;

	if (imap_section(m, n, spec, strlen(spec), &sp) < 0)
		return xstrdup("(bad)");
	buf_init(&b, 1 << 20);
	buf_appends(&b, "");
	for (k = 0; k < sp.n; k++) {
		if (sp.s[k].off == IMAP_SPAN_CRLF) {
			assert_int_equal(sp.s[k].len, 2);
			buf_appends(&b, "\r\n");
		} else {
			assert_true(sp.s[k].off + sp.s[k].len <= n);
			buf_append(&b, m + sp.s[k].off, sp.s[k].len);
		}
		total += sp.s[k].len;
	}
	assert_int_equal(total, sp.total);
	s = xstrndup(b.data, b.len);
	buf_free(&b);
	return s;
}

#define CHECK_STR(expr, want) do {				\
	char *got_ = (expr);					\
	assert_string_equal(got_, (want));			\
	free(got_);						\
} while (0)

static void
test_envelope_rfc_like(void **state)
{
	(void)state;
	CHECK_STR(envelope(m1, strlen(m1)), m1_env);
}

static void
test_bodystructure_mixed(void **state)
{
	(void)state;
	CHECK_STR(structure(m1, strlen(m1), 1), m1_bs);
	CHECK_STR(structure(m1, strlen(m1), 0), m1_body);
}

/* The same message with LF line ends: same structure, sizes in LF octets. */
/* Dovecot's own test message (lib-imap's test-imap-bodystructure), with
 * CRLF line ends so that our octet counts are its (CRLF) sizes: the
 * structure must be the one Dovecot gives, character for character. */
static const char dovecot_msg[] =
    "From: user@domain.org\n"
    "Date: Sat, 24 Mar 2007 23:00:00 +0200\n"
    "Mime-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"foo\n"
    " bar\"\n"
    "\n"
    "Root MIME prologue\n"
    "\n"
    "--foo bar\n"
    "Content-Type: text/x-myown; charset=us-ascii; foo=\"quoted\\\"string\"\n"
    "Content-ID: <foo@example.com>\n"
    "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
    "Content-Disposition: inline; foo=bar\n"
    "Content-Description: hellodescription\n"
    "Content-Language: en, fi, se\n"
    "Content-Location: http://example.com/test.txt\n"
    "\n"
    "hello\n"
    "\n"
    "--foo bar\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: sub@domain.org\n"
    "To: sub-to1@domain.org, sub-to2@domain.org\n"
    "Date: Sun, 12 Aug 2012 12:34:56 +0300\n"
    "Subject: submsg\n"
    "Content-Type: multipart/alternative; boundary=\"sub1\"\n"
    "\n"
    "Sub MIME prologue\n"
    "--sub1\n"
    "Content-Type: text/html\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "<p>Hello world</p>\n"
    "\n"
    "--sub1\n"
    "Content-Type: text/plain\n"
    "Content-Transfer-Encoding: ?invalid\n"
    "\n"
    "Hello another world\n"
    "\n"
    "--sub1--\n"
    "Sub MIME epilogue\n"
    "\n"
    "--foo bar--\n"
    "Root MIME epilogue\n";

#define DOVECOT_SUBENV \
    "(\"Sun, 12 Aug 2012 12:34:56 +0300\" \"submsg\" " \
    "((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) " \
    "((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub-to1\" \"domain.org\")" \
    "(NIL NIL \"sub-to2\" \"domain.org\")) NIL NIL NIL NIL)"

static void
test_dovecot_structure(void **state)
{
	struct buf crlf;
	size_t i;

	(void)state;
	buf_init(&crlf, 1 << 16);
	for (i = 0; dovecot_msg[i] != '\0'; i++) {
		if (dovecot_msg[i] == '\n')
			buf_appendc(&crlf, '\r');
		buf_appendc(&crlf, dovecot_msg[i]);
	}
	CHECK_STR(structure(crlf.data, crlf.len, 1),
	    "((\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" "
	    "\"quoted\\\"string\") \"<foo@example.com>\" \"hellodescription\" "
	    "\"7bit\" 7 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"inline\" (\"foo\" "
	    "\"bar\")) (\"en\" \"fi\" \"se\") \"http://example.com/test.txt\")"
	    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 412 " DOVECOT_SUBENV
	    " ((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"8bit\" 20 "
	    "1 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL "
	    "NIL \"7bit\" 21 1 NIL NIL NIL NIL) \"alternative\" (\"boundary\" "
	    "\"sub1\") NIL NIL NIL) 21 NIL NIL NIL NIL) \"mixed\" (\"boundary\" "
	    "\"foo bar\") NIL NIL NIL)");
	CHECK_STR(structure(crlf.data, crlf.len, 0),
	    "((\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" "
	    "\"quoted\\\"string\") \"<foo@example.com>\" \"hellodescription\" "
	    "\"7bit\" 7 1)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 412 "
	    DOVECOT_SUBENV " ((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL "
	    "NIL \"8bit\" 20 1)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL "
	    "NIL \"7bit\" 21 1) \"alternative\") 21) \"mixed\")");
	CHECK_STR(section(crlf.data, crlf.len, "2.1"),
	    "<p>Hello world</p>\r\n");
	CHECK_STR(section(crlf.data, crlf.len, "2.3"), "");
	CHECK_STR(section(crlf.data, crlf.len, "2.1.1"), "");
	CHECK_STR(section(crlf.data, crlf.len, "2.2"),
	    "Hello another world\r\n");
	CHECK_STR(section(crlf.data, crlf.len, "2.2.MIME"),
	    "Content-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: ?invalid\r\n\r\n");
	CHECK_STR(section(crlf.data, crlf.len, "2.HEADER.FIELDS (subject)"),
	    "Subject: submsg\r\n\r\n");
	buf_free(&crlf);
}

static void
test_lf_only(void **state)
{
	const char *m =
	    "From: a@b\nSubject: s\nContent-Type: multipart/alternative;\n"
	    " boundary=b\n\n--b\nContent-Type: text/html\n\n<p>x</p>\n--b\n"
	    "\nplain\n--b--\n";

	(void)state;
	CHECK_STR(structure(m, strlen(m), 1),
	    "((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 "
	    "0 NIL NIL NIL NIL)"
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "5 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"b\") "
	    "NIL NIL NIL)");
	CHECK_STR(section(m, strlen(m), "1"), "<p>x</p>");
	CHECK_STR(section(m, strlen(m), "2"), "plain");
	CHECK_STR(section(m, strlen(m), "1.MIME"), "Content-Type: text/html\n\n");
	CHECK_STR(section(m, strlen(m), "HEADER.FIELDS (Subject)"),
	    "Subject: s\n\r\n");
}

static void
test_addresses(void **state)
{
	static const struct { const char *hdr, *want; } t[] = {
		{ "From: \"Smith, J\" <j@x>\r\n",
		  "((\"Smith, J\" NIL \"j\" \"x\"))" },
		{ "From: <j@x>\r\n", "((NIL NIL \"j\" \"x\"))" },
		{ "From: j@x (Joe)\r\n", "((\"Joe\" NIL \"j\" \"x\"))" },
		{ "From: \"j d\"@x\r\n", "((NIL NIL \"j d\" \"x\"))" },
		{ "From: root\r\n", "((NIL NIL \"root\" \"\"))" },
		{ "From: a@b,,c@d,\r\n",
		  "((NIL NIL \"a\" \"b\")(NIL NIL \"c\" \"d\"))" },
		{ "From: =?utf-8?q?J=C3=B6?= <j@x>\r\n",
		  "((\"=?utf-8?q?J=C3=B6?=\" NIL \"j\" \"x\"))" },
		{ "From: g: ;\r\n",
		  "((NIL NIL \"g\" NIL)(NIL NIL NIL NIL))" },
		{ "From: g: a@b\r\n",
		  "((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL))" },
		{ "From: \"q\\\"x\" <a@b>\r\n", "((\"q\\\"x\" NIL \"a\" \"b\"))" },
		{ "From: \r\n", "NIL" },
		{ "From: <>\r\n", "NIL" },
		{ "From: \"\" <a@b>\r\n", "((NIL NIL \"a\" \"b\"))" },
		{ "From: \"broken <x@y\r\n", "((NIL NIL \"broken <x\" \"y\"))" },
	};
	char buf[256], *e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_true(xsnprintf(buf, sizeof(buf), "%s\r\n", t[i].hdr) > 0);
		e = envelope(buf, strlen(buf));
		/* date subject FROM ... */
		assert_non_null(strstr(e, t[i].want));
		assert_memory_equal(e, "(NIL NIL ", 9);
		assert_memory_equal(e + 9, t[i].want, strlen(t[i].want));
		free(e);
	}
}

static void
test_envelope_defaults(void **state)
{
	const char *m = "Sender: s@x\r\nFrom: f@x\r\nReply-To:\r\n"
	    "Subject: a\r\n b\r\n\r\n";

	(void)state;
	CHECK_STR(envelope(m, strlen(m)),
	    "(NIL \"a b\" ((NIL NIL \"f\" \"x\")) ((NIL NIL \"s\" \"x\")) "
	    "((NIL NIL \"f\" \"x\")) NIL NIL NIL NIL NIL)");
	CHECK_STR(envelope("", 0),
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	CHECK_STR(envelope("Subject: caf\xc3\xa9\r\n", 16),
	    "(NIL {5}\r\ncaf\xc3\xa9 NIL NIL NIL NIL NIL NIL NIL NIL)");
}

static void
test_sections(void **state)
{
	size_t n = strlen(m1), hl = imap_header_length(m1, n);

	(void)state;
	assert_memory_equal(m1 + hl, "preamble", 8);
	CHECK_STR(section(m1, n, ""), m1);
	CHECK_STR(section(m1, n, "TEXT"), m1 + hl);
	CHECK_STR(section(m1, n, "1"), "hello\r\nworld");
	CHECK_STR(section(m1, n, "2"), "AAEC");
	CHECK_STR(section(m1, n, "2.MIME"),
	    "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\n");
	CHECK_STR(section(m1, n, "3"),
	    "From: a@b\r\nSubject: inner\r\n\r\ninner body");
	CHECK_STR(section(m1, n, "3.HEADER"),
	    "From: a@b\r\nSubject: inner\r\n\r\n");
	CHECK_STR(section(m1, n, "3.TEXT"), "inner body");
	CHECK_STR(section(m1, n, "3.1"), "inner body");
	CHECK_STR(section(m1, n, "3.1.MIME"),
	    "From: a@b\r\nSubject: inner\r\n\r\n");
	CHECK_STR(section(m1, n, "3.header.fields (SUBJECT)"),
	    "Subject: inner\r\n\r\n");
	CHECK_STR(section(m1, n, "header.fields (to subject)"),
	    "To: Mary Smith <mary@x.test>, jdoe@example.org (John),\r\n"
	    " Who? <one@y.test>, <@r1,@r2:a@b.c>, root\r\n"
	    "Subject: test\r\n\r\n");
	CHECK_STR(section(m1, n, "HEADER.FIELDS.NOT (to subject from bcc cc "
	    "\"Message-ID\")"),
	    "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n");
	CHECK_STR(section(m1, n, "HEADER.FIELDS (X-None)"), "\r\n");
	/* parts that do not exist: empty */
	CHECK_STR(section(m1, n, "4"), "");
	CHECK_STR(section(m1, n, "1.1"), "");
	CHECK_STR(section(m1, n, "1.HEADER"), "");
	CHECK_STR(section(m1, n, "3.2"), "");
	CHECK_STR(section(m1, n, "99.1.MIME"), "");
	/* not valid */
	CHECK_STR(section(m1, n, "0"), "(bad)");
	CHECK_STR(section(m1, n, "1."), "(bad)");
	CHECK_STR(section(m1, n, "MIME"), "(bad)");
	CHECK_STR(section(m1, n, "HEADER.FIELDS"), "(bad)");
	CHECK_STR(section(m1, n, "HEADER.FIELDS ()"), "(bad)");
	CHECK_STR(section(m1, n, "TEXTX"), "(bad)");
	CHECK_STR(section(m1, n, "1..2"), "(bad)");
	CHECK_STR(section(m1, n, "99999999999"), "(bad)");
}

static void
test_odd_messages(void **state)
{
	const char *hdr_only = "Subject: hi\n";
	const char *body_only = "\nbody only\n";
	const char nul[] = "X\0Y: a\nSubject: a\0b\n\nb\0dy\n";
	const char *msg822 = "Content-Type: message/rfc822\n\nSubject: x\n"
	    "\nhi\n";
	const char *nobnd = "Content-Type: multipart/mixed\n\nno boundary\n";

	(void)state;
	assert_int_equal(imap_header_length(hdr_only, strlen(hdr_only)),
	    strlen(hdr_only));
	CHECK_STR(structure(hdr_only, strlen(hdr_only), 0),
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "0 0)");
	CHECK_STR(section(hdr_only, strlen(hdr_only), "TEXT"), "");
	CHECK_STR(section(hdr_only, strlen(hdr_only), "HEADER"), hdr_only);
	assert_int_equal(imap_header_length(body_only, strlen(body_only)), 1);
	CHECK_STR(section(body_only, strlen(body_only), "1"), "body only\n");
	CHECK_STR(section(body_only, strlen(body_only), "HEADER"), "\n");
	CHECK_STR(envelope(nul, sizeof(nul) - 1),
	    "(NIL \"ab\" NIL NIL NIL NIL NIL NIL NIL NIL)");
	CHECK_STR(structure(msg822, strlen(msg822), 0),
	    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 15 "
	    "(NIL \"x\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1)"
	    " 3)");
	CHECK_STR(section(msg822, strlen(msg822), "1"), "Subject: x\n\nhi\n");
	CHECK_STR(section(msg822, strlen(msg822), "1.1"), "hi\n");
	CHECK_STR(section(msg822, strlen(msg822), "1.HEADER"),
	    "Subject: x\n\n");
	CHECK_STR(structure(nobnd, strlen(nobnd), 0),
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "12 1)");
	CHECK_STR(structure("", 0, 1),
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "0 0 NIL NIL NIL NIL)");
}

static void
test_extension_fields(void **state)
{
	const char *m =
	    "Content-Type: multipart/related; boundary=\"=_b\"; type=x/y\r\n"
	    "Content-Language: en, de\r\n\r\n"
	    "--=_b\r\nContent-Type: TEXT/PLAIN; CHARSET=\"ISO-8859-1\" (c)\r\n"
	    "Content-ID: <id1@x>\r\nContent-Description: a \"desc\"\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "Content-MD5: Q2hlY2s=\r\n"
	    "Content-Disposition: inline\r\nContent-Location: http://x/a\r\n"
	    "\r\ncaf=E9\r\n--=_b--\r\n";

	(void)state;
	CHECK_STR(structure(m, strlen(m), 1),
	    "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"ISO-8859-1\") \"<id1@x>\" "
	    "\"a \\\"desc\\\"\" \"quoted-printable\" 6 0 \"Q2hlY2s=\" (\"inline\" NIL) "
	    "NIL \"http://x/a\") \"related\" (\"boundary\" \"=_b\" \"type\" "
	    "\"x/y\") NIL (\"en\" \"de\") NIL)");
}

/* "--b2" is no delimiter of boundary "b" (only WSP may follow it). */
static void
test_boundary_prefix(void **state)
{
	const char *m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b \r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n"
	    "--b2\r\n\r\none\r\n--b2\r\n\r\ntwo\r\n--b2--\r\n"
	    "--b\r\n\r\nthree\r\n--b--\r\n";

	(void)state;
	CHECK_STR(structure(m, strlen(m), 0),
	    "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "3 0)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 3 0) \"alternative\")(\"text\" \"plain\" (\"charset\" "
	    "\"us-ascii\") NIL NIL \"7bit\" 5 0) \"mixed\")");
	CHECK_STR(section(m, strlen(m), "1.2"), "two");
	CHECK_STR(section(m, strlen(m), "2"), "three");
}

static void
test_digest_default(void **state)
{
	const char *m = "Content-Type: multipart/digest; boundary=d\r\n\r\n"
	    "--d\r\n\r\nSubject: one\r\n\r\nx\r\n--d--\r\n";

	(void)state;
	CHECK_STR(structure(m, strlen(m), 0),
	    "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 17 "
	    "(NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) "
	    "2) \"digest\")");
	CHECK_STR(section(m, strlen(m), "1.1"), "x");
	CHECK_STR(section(m, strlen(m), "1.HEADER"), "Subject: one\r\n\r\n");
}

static void
test_nesting_limit(void **state)
{
	struct buf m, out;
	int i;

	(void)state;
	buf_init(&m, 1 << 20);
	buf_init(&out, 1 << 22);
	for (i = 0; i < 200; i++)
		buf_appends(&m, "Content-Type: message/rfc822\r\n\r\n");
	buf_appends(&m, "x\r\n");
	assert_int_equal(imap_bodystructure(m.data, m.len, 1, &out), 0);
	/* the innermost shown is an opaque leaf, not a half message */
	assert_non_null(strstr(out.data, "(\"application\" \"octet-stream\" "
	    "NIL NIL NIL \"7bit\" "));
	assert_null(strstr(strstr(out.data, "octet-stream"), "rfc822"));
	{
		char spec[512];
		size_t k = 0;

		for (i = 0; i < IMAP_MIME_DEPTH - 1; i++) {
			spec[k++] = '1';
			spec[k++] = '.';
		}
		memcpy(spec + k, "HEADER", 7);
		CHECK_STR(section(m.data, m.len, spec),
		    "Content-Type: message/rfc822\r\n\r\n");
		memcpy(spec + k, "1.1", 4);
		CHECK_STR(section(m.data, m.len, spec), "");
	}
	buf_reset(&out);
	buf_reset(&m);
	for (i = 0; i < 200; i++)
		buf_printf(&m, "Content-Type: multipart/mixed; boundary=%d\r\n"
		    "\r\n--%d\r\n", i, i);
	assert_int_equal(imap_bodystructure(m.data, m.len, 1, &out), 0);
	assert_non_null(strstr(out.data, "(\"application\" \"octet-stream\" "
	    "NIL NIL NIL \"7bit\" "));
	buf_free(&m);
	buf_free(&out);
}

static void
test_search(void **state)
{
	const char *m =
	    "Subject: Hello\r\n World\r\nX-Tag: abc\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\naGlkZGVuIHdvcmQ=\r\n"
	    "--b\r\nContent-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "soft=\r\nbreak caf=C3=A9\r\n--b--\r\n";
	size_t n = strlen(m);

	(void)state;
	assert_int_equal(imap_search_header(m, n, "subject", "hello world",
	    11), 1);
	assert_int_equal(imap_search_header(m, n, "SUBJECT", "abc", 3), 0);
	assert_int_equal(imap_search_header(m, n, "x-tag", "", 0), 1);
	assert_int_equal(imap_search_header(m, n, "x-none", "", 0), 0);
	assert_int_equal(imap_search_header(m, n, NULL, "ABC", 3), 1);
	assert_int_equal(imap_search_header(m, n, NULL, "x-tag", 5), 1);
	assert_int_equal(imap_search_body(m, n, "aGlkZGVu", 8), 1);
	assert_int_equal(imap_search_body(m, n, "HIDDEN WORD", 11), 1);
	assert_int_equal(imap_search_body(m, n, "softbreak caf\xc3\xa9", 15),
	    1);
	assert_int_equal(imap_search_body(m, n, "hello", 5), 0);
	assert_int_equal(imap_search_body(m, n, "", 0), 1);
	assert_int_equal(imap_search_body("", 0, "x", 1), 0);
	/* needles with repeats (the failure links of the scan) */
	assert_int_equal(imap_search_body("\r\naabaabaaab", 12, "AABAAAB", 7),
	    1);
	assert_int_equal(imap_search_body("\r\naabaabaaab", 12, "aabaaba",
	    7), 1);
	assert_int_equal(imap_search_body("\r\naabaabaaab", 12, "aaaa", 4),
	    0);
	assert_int_equal(imap_search_header("S: ababac\r\n", 12, "s",
	    "abac", 4), 1);
}

static void
test_message_date(void **state)
{
	static const struct { const char *date; long long want; } t[] = {
		{ "Tue, 1 Jul 2003 10:52:37 +0200", 1057049557LL },
		{ "1 Jul 2003 10:52:37 +0200", 1057049557LL },
		{ "Tue,  1 Jul 2003 08:52:37 GMT", 1057049557LL },
		{ "Tue, 1 Jul 2003 01:52:37 PDT", 1057049557LL },
		{ "Tue, 1 Jul 2003 03:52:37 EST", 1057049557LL },
		{ "Tue, 01 Jul 03 17:52:37 +0900", 1057049557LL },
		{ "Tue, 1 Jul 103 08:52:37 +0000", 1057049557LL },
		{ "Tue (day), 1 (x) July 2003 08:52 (y) +0000", 1057049520LL },
		{ "21 Nov 1997 09:55:06 -0600", 880127706LL },
		{ "Thu, 13 Feb 1969 23:32:54 -0330", -27723426LL },
		{ "1 Jul 2003 08:52:37 Z", 1057049557LL },
		{ "1 Jul 2003 08:52:37", 1057049557LL },
	};
	static const char *bad[] = { "", "garbage", "32 Jan 2003 10:00 +0000",
	    "29 Feb 2003 10:00 +0000", "1 Foo 2003 10:00 +0000",
	    "1 Jan 2003 25:00 +0000", "1 Jan 2003" };
	char m[256];
	time_t tt;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_true(xsnprintf(m, sizeof(m), "Date: %s\r\n\r\n",
		    t[i].date) > 0);
		assert_int_equal(imap_message_date(m, strlen(m), &tt), 0);
		assert_int_equal((long long)tt, t[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(xsnprintf(m, sizeof(m), "Date: %s\r\n\r\n",
		    bad[i]) > 0);
		assert_int_equal(imap_message_date(m, strlen(m), &tt), -1);
	}
	assert_int_equal(imap_message_date("Subject: x\r\n", 12, &tt), -1);
}

static void
test_imap_dates(void **state)
{
	static const char *bad_dt[] = { "", "17-Jul-1996 02:44:25",
	    "17-Jul-1996 02:44:25 0700", "17-Jul-96 02:44:25 -0700",
	    "17-Jux-1996 02:44:25 -0700", "17-Jul-1996 2:44:25 -0700",
	    "31-Feb-1996 02:44:25 -0700", "17-Jul-1996 02:44:25 -0700 ",
	    "17-Jul-1996 02:44:60x -0700", "117-Jul-1996 02:44:25 -0700" };
	static const char *bad_d[] = { "", "1-Feb", "1-Feb-94", "0-Feb-1994",
	    "1-Feb-1994 ", "x1-Feb-1994", "1 Feb 1994" };
	char out[32];
	time_t t;
	size_t i;

	(void)state;
	imap_format_datetime(837571465, out);
	assert_string_equal(out, "17-Jul-1996 02:44:25 +0000");
	imap_format_datetime(0, out);
	assert_string_equal(out, "01-Jan-1970 00:00:00 +0000");
	assert_int_equal(imap_parse_datetime("17-Jul-1996 02:44:25 -0700",
	    26, &t), 0);
	assert_int_equal((long long)t, 837571465LL + 7 * 3600);
	assert_int_equal(imap_parse_datetime(" 7-jul-1996 02:44:25 +0000",
	    26, &t), 0);
	assert_int_equal((long long)t, 837571465LL - 10 * 86400);
	assert_int_equal(imap_parse_datetime("7-Jul-1996 02:44:25 +0000",
	    25, &t), 0);
	for (i = 0; i < sizeof(bad_dt) / sizeof(bad_dt[0]); i++)
		assert_int_equal(imap_parse_datetime(bad_dt[i],
		    strlen(bad_dt[i]), &t), -1);
	assert_int_equal(imap_parse_date("1-Feb-1994", 10, &t), 0);
	assert_int_equal((long long)t, 760060800LL);
	assert_int_equal(imap_parse_date("29-Feb-2000", 11, &t), 0);
	for (i = 0; i < sizeof(bad_d) / sizeof(bad_d[0]); i++)
		assert_int_equal(imap_parse_date(bad_d[i], strlen(bad_d[i]),
		    &t), -1);
}

/* A full output buffer is -1, never a partial answer left behind. */
static void
test_output_full(void **state)
{
	struct buf b;
	size_t cap;

	(void)state;
	for (cap = 1; cap < 64; cap += 7) {
		buf_init(&b, cap);
		assert_int_equal(imap_envelope(m1, strlen(m1), &b), -1);
		assert_int_equal(b.len, 0);
		assert_int_equal(imap_bodystructure(m1, strlen(m1), 1, &b), -1);
		assert_int_equal(b.len, 0);
		buf_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope_rfc_like),
		cmocka_unit_test(test_bodystructure_mixed),
		cmocka_unit_test(test_dovecot_structure),
		cmocka_unit_test(test_lf_only),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_envelope_defaults),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_odd_messages),
		cmocka_unit_test(test_extension_fields),
		cmocka_unit_test(test_boundary_prefix),
		cmocka_unit_test(test_digest_default),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_message_date),
		cmocka_unit_test(test_imap_dates),
		cmocka_unit_test(test_output_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
