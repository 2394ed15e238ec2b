/* test_sendmail_args - the pure parts of postern sendmail: the command
 * line (table), stdin normalisation (whole and byte by byte, the "." line,
 * -i, line splitting at 998/999), address lists (valid and invalid side
 * by side), sender parsing, and header composition (added headers, Bcc
 * removal, -t extraction, messages without a header section). */
#include "unit.h"
#include "sendmail_args.h"

#define DOM	"mydomain.test"

/* ---- command line ---- */

static int
args(struct sendmail_opts *o, char *err, size_t errlen, ...)
{
	static char *argv[32];	/* o->rcpts points into it */
	int argc = 0;
	va_list ap;

	argv[argc++] = "sendmail";
	va_start(ap, errlen);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return sendmail_args_parse(argc, argv, o, err, errlen);
}

static void
test_args(void **state)
{
	struct sendmail_opts o;
	char err[256];

	(void)state;
	assert_int_equal(args(&o, err, sizeof(err), "alice", NULL), 0);
	assert_int_equal(o.nrcpts, 1);
	assert_string_equal(o.rcpts[0], "alice");
	assert_false(o.extract);
	assert_false(o.ignore_dots);
	assert_null(o.sender);

	/* cron's command line */
	assert_int_equal(args(&o, err, sizeof(err), "-FCronDaemon", "-i",
	    "-B8BITMIME", "-oem", "root", NULL), 0);
	assert_string_equal(o.fullname, "CronDaemon");
	assert_true(o.ignore_dots);
	assert_int_equal(o.nrcpts, 1);
	assert_string_equal(o.rcpts[0], "root");

	/* PHP's default: sendmail -t -i */
	assert_int_equal(args(&o, err, sizeof(err), "-t", "-i", NULL), 0);
	assert_true(o.extract);
	assert_true(o.ignore_dots);
	assert_int_equal(o.nrcpts, 0);

	/* clustered flags, attached and separate values */
	assert_int_equal(args(&o, err, sizeof(err), "-ti", "-f", "a@b.c",
	    "-F", "Full Name", "-C", "/x.conf", "--", "-notanoption", NULL), 0);
	assert_true(o.extract && o.ignore_dots);
	assert_string_equal(o.sender, "a@b.c");
	assert_string_equal(o.fullname, "Full Name");
	assert_string_equal(o.config, "/x.conf");
	assert_int_equal(o.nrcpts, 1);
	assert_string_equal(o.rcpts[0], "-notanoption");
	assert_int_equal(args(&o, err, sizeof(err), "-fa@b.c", "-ra@x.y", "-Cz",
	    NULL), 0);
	assert_string_equal(o.sender, "a@x.y");	/* the last wins */
	assert_string_equal(o.config, "z");

	/* -oi and -o i; other -o options ignored */
	assert_int_equal(args(&o, err, sizeof(err), "-oi", "x", NULL), 0);
	assert_true(o.ignore_dots);
	assert_int_equal(args(&o, err, sizeof(err), "-o", "i", "x", NULL), 0);
	assert_true(o.ignore_dots);
	assert_int_equal(args(&o, err, sizeof(err), "-odi", "-oem", "-oQ/tmp",
	    "-v", "-bm", "-U", "-m", "-n", "-G", "-N", "never", "-R", "hdrs",
	    "-V", "envid", "-X", "/log", "-L", "tag", "-h", "17", "-Am",
	    "-pesmtp", "-Ooption=1", "x", NULL), 0);
	assert_false(o.ignore_dots);
	assert_true(o.verbose);
	assert_int_equal(o.mode, SENDMAIL_MODE_DELIVER);
	assert_int_equal(o.nrcpts, 1);

	/* options stop at the first recipient */
	assert_int_equal(args(&o, err, sizeof(err), "a", "-t", NULL), 0);
	assert_false(o.extract);
	assert_int_equal(o.nrcpts, 2);
	/* a lone "-" is a recipient, as in getopt */
	assert_int_equal(args(&o, err, sizeof(err), "-", NULL), 0);
	assert_int_equal(o.nrcpts, 1);

	assert_int_equal(args(&o, err, sizeof(err), "-bi", NULL), 0);
	assert_int_equal(o.mode, SENDMAIL_MODE_NEWALIASES);

	/* usage errors */
	assert_int_equal(args(&o, err, sizeof(err), "-f", NULL), -1);
	assert_non_null(strstr(err, "-f"));
	assert_int_equal(args(&o, err, sizeof(err), "-t", "-F", NULL), -1);
	assert_int_equal(args(&o, err, sizeof(err), "-bs", NULL), -1);
	assert_non_null(strstr(err, "-bs"));
	assert_int_equal(args(&o, err, sizeof(err), "-bp", NULL), -1);
	assert_int_equal(args(&o, err, sizeof(err), "-bd", NULL), -1);
	assert_int_equal(args(&o, err, sizeof(err), "-q", NULL), -1);
	assert_int_equal(args(&o, err, sizeof(err), "-q30m", NULL), -1);
	assert_int_equal(args(&o, err, sizeof(err), "-Z", NULL), -1);
	assert_non_null(strstr(err, "-Z"));
	assert_int_equal(args(&o, err, sizeof(err), "-tZ", NULL), -1);
}

/* ---- stdin ---- */

/* Normalise in, whole and byte by byte; both must give want. */
static void
norm(const char *in, size_t inlen, int ignore_dots, const char *want,
    size_t wantlen, int want_done)
{
	struct sendmail_input a, b;
	size_t i;
	int done_b = 0;

	sendmail_input_init(&a, ignore_dots, 1 << 20);
	sendmail_input_feed(&a, in, inlen);
	sendmail_input_end(&a);
	sendmail_input_init(&b, ignore_dots, 1 << 20);
	for (i = 0; i < inlen && !done_b; i++)
		done_b = sendmail_input_feed(&b, in + i, 1);
	sendmail_input_end(&b);
	if (a.out.len != wantlen || (wantlen > 0 && memcmp(a.out.data, want, wantlen) != 0))
		fail_msg("whole: got [%.*s] want [%.*s]", (int)a.out.len,
		    a.out.data, (int)wantlen, want);
	if (b.out.len != wantlen || (wantlen > 0 && memcmp(b.out.data, want, wantlen) != 0))
		fail_msg("bytes: got [%.*s] want [%.*s]", (int)b.out.len,
		    b.out.data, (int)wantlen, want);
	assert_int_equal(a.done, want_done);
	assert_int_equal(b.done, want_done);
	assert_false(a.nul || a.too_big);
	sendmail_input_free(&a);
	sendmail_input_free(&b);
}

#define N(in, dots, want, done) \
	norm(in, sizeof(in) - 1, dots, want, sizeof(want) - 1, done)

static void
test_input(void **state)
{
	struct sendmail_input in;
	char big[SENDMAIL_LINE_MAX + 10], want[SENDMAIL_LINE_MAX + 20];
	size_t n;

	(void)state;
	N("", 0, "", 0);
	N("a\nb\n", 0, "a\r\nb\r\n", 0);
	N("a\r\nb\r\n", 0, "a\r\nb\r\n", 0);
	N("a\nb", 0, "a\r\nb\r\n", 0);		/* last line completed */
	N("a\rb\r", 0, "a\r\nb\r\n", 0);	/* lone CR ends a line */
	N("a\r\r\nb\n", 0, "a\r\n\r\nb\r\n", 0);
	N("\n\n", 0, "\r\n\r\n", 0);
	/* the "." line */
	N("a\n.\nb\n", 0, "a\r\n", 1);
	N("a\r\n.\r\nb\r\n", 0, "a\r\n", 1);
	N("a\n.\rb\n", 0, "a\r\n", 1);
	N("a\n.", 0, "a\r\n", 1);		/* "." then EOF */
	N(".\n", 0, "", 1);
	N("a\n..\n.x\n .\n", 0, "a\r\n..\r\n.x\r\n .\r\n", 0);
	N("a\n.\nb\n", 1, "a\r\n.\r\nb\r\n", 0);	/* -i */
	N("a\n.", 1, "a\r\n.\r\n", 0);
	/* lines of 998, 999 text bytes: the second is split */
	for (n = SENDMAIL_LINE_MAX; n <= SENDMAIL_LINE_MAX + 1; n++) {
		memset(big, 'x', n);
		big[n] = '\n';
		memset(want, 'x', SENDMAIL_LINE_MAX);
		if (n == SENDMAIL_LINE_MAX) {
			memcpy(want + n, "\r\n", 2);
			norm(big, n + 1, 0, want, n + 2, 0);
		} else {
			memcpy(want + SENDMAIL_LINE_MAX, "\r\nx\r\n", 5);
			norm(big, n + 1, 0, want, SENDMAIL_LINE_MAX + 5, 0);
		}
	}
	/* a split line that continues with "." is not the end */
	memset(big, 'x', SENDMAIL_LINE_MAX);
	memcpy(big + SENDMAIL_LINE_MAX, ".\n", 2);
	memset(want, 'x', SENDMAIL_LINE_MAX);
	memcpy(want + SENDMAIL_LINE_MAX, "\r\n.\r\n", 5);
	norm(big, SENDMAIL_LINE_MAX + 2, 0, want, SENDMAIL_LINE_MAX + 5, 0);

	/* NUL and size: flagged, reading goes on */
	sendmail_input_init(&in, 0, 100);
	assert_int_equal(sendmail_input_feed(&in, "a\0b\n", 4), 0);
	assert_true(in.nul);
	sendmail_input_free(&in);
	/* max 6: "abcd\r\n" fits, one more byte does not */
	sendmail_input_init(&in, 0, 6);
	sendmail_input_feed(&in, "abcd\n", 5);
	sendmail_input_end(&in);
	assert_false(in.too_big);
	sendmail_input_free(&in);
	sendmail_input_init(&in, 0, 6);
	sendmail_input_feed(&in, "abcde\n", 6);
	sendmail_input_end(&in);
	assert_true(in.too_big);
	sendmail_input_free(&in);
	sendmail_input_init(&in, 0, 7);
	sendmail_input_feed(&in, "abcde\n", 6);
	sendmail_input_end(&in);
	assert_false(in.too_big);
	sendmail_input_free(&in);
	/* the "." line still ends a too big message */
	sendmail_input_init(&in, 0, 4);
	assert_int_equal(sendmail_input_feed(&in, "abcdef\n.\nxyz", 12), 1);
	assert_true(in.too_big);
	sendmail_input_free(&in);
}

/* ---- addresses ---- */

static void
test_addrlist(void **state)
{
	static const struct {
		const char *in;
		const char *want;	/* addresses joined by " ", NULL: error */
	} cases[] = {
		{ "alice", "alice@" DOM },
		{ "alice@example.net", "alice@example.net" },
		{ "Alice <alice@Example.NET>", "alice@example.net" },
		{ "a@b.c, d@e.f", "a@b.c d@e.f" },
		{ "a@b.c,d@e.f,,", "a@b.c d@e.f" },
		{ "\"Doe, John\" <j@x.y>, k@x.y", "j@x.y k@x.y" },
		{ "j@x.y (John, the boss), k@x.y", "j@x.y k@x.y" },
		{ "(c (nested)) j@x.y", "j@x.y" },
		{ "team: a@b.c, d@e.f;, g@h.i", "a@b.c d@e.f g@h.i" },
		{ "undisclosed-recipients:;", "" },
		{ "", "" },
		{ "  \r\n\t", "" },
		{ "a@b.c,\r\n\tbob", "a@b.c bob@" DOM },
		{ "a@b.c, A@b.c, a@B.C", "a@b.c A@b.c" },	/* dup dropped */
		{ "\"quoted\"@x.y", "quoted@x.y" },
		{ "postmaster", "postmaster@" DOM },
		{ "<root>", "root@" DOM },
		/* errors */
		{ "<>", NULL },
		{ "a@b.c <d@e.f> <g@h.i>", NULL },
		{ "a@b.c>", NULL },
		{ "<a@b.c", NULL },
		{ "\"unterminated@b.c", NULL },
		{ "(unterminated a@b.c", NULL },
		{ "a@@b.c", NULL },
		{ "a@", NULL },
		{ "a@b..c", NULL },
		{ "a b c@d.e", "abc@d.e" },	/* whitespace folded away */
		{ "user%other@example.net", NULL },
		{ "host!user@example.net", NULL },
		{ "<@relay.net:user@example.net>", NULL },
		{ "\"a b\"@example.net", NULL },	/* cannot be stored */
		{ "\xc3\xa9@example.net", NULL },
		{ "a: b: c@d.e;;", NULL },
		{ "<a<b>@c.d>", NULL },
	};
	struct sendmail_rcpts r;
	struct buf joined;
	char err[256];
	size_t i, k;
	int rc;

	(void)state;
	buf_init(&joined, 4096);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0, sizeof(r));
		err[0] = '\0';
		rc = sendmail_addrlist_parse(cases[i].in, strlen(cases[i].in),
		    DOM, &r, err, sizeof(err));
		buf_reset(&joined);
		for (k = 0; k < r.n; k++)
			buf_printf(&joined, "%s%s", k ? " " : "", r.v[k]);
		if (cases[i].want == NULL) {
			if (rc != -1)
				fail_msg("case %zu [%s]: accepted as [%s]", i,
				    cases[i].in, joined.data);
			assert_true(err[0] != '\0');
		} else if (rc != 0 || strcmp(joined.data ? joined.data : "", cases[i].want) != 0)
			fail_msg("case %zu [%s]: rc %d [%s] (%s), want [%s]", i,
			    cases[i].in, rc, joined.data, err, cases[i].want);
		sendmail_rcpts_free(&r);
	}
	buf_free(&joined);
}

static void
test_sender(void **state)
{
	char out[300];

	(void)state;
	assert_int_equal(sendmail_sender_parse("alice", DOM, out, sizeof(out)), 0);
	assert_string_equal(out, "alice@" DOM);
	assert_int_equal(sendmail_sender_parse("<a@b.c>", DOM, out, sizeof(out)), 0);
	assert_string_equal(out, "a@b.c");
	assert_int_equal(sendmail_sender_parse(" a@B.C ", DOM, out, sizeof(out)), 0);
	assert_string_equal(out, "a@b.c");
	assert_int_equal(sendmail_sender_parse("<>", DOM, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(sendmail_sender_parse("", DOM, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(sendmail_sender_parse("a b@c.d", DOM, out, sizeof(out)), -1);
	assert_int_equal(sendmail_sender_parse("a@", DOM, out, sizeof(out)), -1);
	assert_int_equal(sendmail_sender_parse("Name <a@b.c>", DOM, out, sizeof(out)), -1);
	assert_int_equal(sendmail_sender_parse("u%h@b.c", DOM, out, sizeof(out)), -1);
	assert_int_equal(sendmail_sender_parse("a\n@b.c", DOM, out, sizeof(out)), -1);
}

static void
test_from_header(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(sendmail_from_header("Cron Daemon", "r@d.t", out, sizeof(out)), 0);
	assert_string_equal(out, "\"Cron Daemon\" <r@d.t>");
	assert_int_equal(sendmail_from_header("a \"b\" \\c", "r@d.t", out, sizeof(out)), 0);
	assert_string_equal(out, "\"a \\\"b\\\" \\\\c\" <r@d.t>");
	assert_int_equal(sendmail_from_header(NULL, "r@d.t", out, sizeof(out)), 0);
	assert_string_equal(out, "r@d.t");
	assert_int_equal(sendmail_from_header("", "r@d.t", out, sizeof(out)), 0);
	assert_string_equal(out, "r@d.t");
	assert_int_equal(sendmail_from_header("Jos\xc3\xa9", "r@d.t", out, sizeof(out)), 0);
	assert_string_equal(out, "r@d.t");
	assert_int_equal(sendmail_from_header("a\r\nBcc: x", "r@d.t", out, sizeof(out)), 0);
	assert_string_equal(out, "r@d.t");
	assert_int_equal(sendmail_from_header("long name", "r@d.t", out, 10), -1);
}

/* ---- composition ---- */

static void
compose(const char *in, int extract, const char *want, const char *want_rcpts)
{
	struct sendmail_compose_ctx ctx;
	struct sendmail_rcpts r = { NULL, 0 };
	struct buf out, j;
	char err[256];
	size_t k;

	memset(&ctx, 0, sizeof(ctx));
	ctx.extract = extract;
	ctx.domain = DOM;
	ctx.from_header = "F";
	ctx.date = "D";
	ctx.message_id = "<M>";
	buf_init(&out, 1 << 16);
	buf_init(&j, 4096);
	if (sendmail_compose(in, strlen(in), &ctx, &out, &r, err, sizeof(err)) != 0)
		fail_msg("compose [%s]: %s", in, err);
	if (out.data == NULL || strcmp(out.data, want) != 0)
		fail_msg("compose [%s]:\ngot  [%s]\nwant [%s]", in, out.data, want);
	for (k = 0; k < r.n; k++)
		buf_printf(&j, "%s%s", k ? " " : "", r.v[k]);
	assert_string_equal(j.data ? j.data : "", want_rcpts);
	sendmail_rcpts_free(&r);
	buf_free(&out);
	buf_free(&j);
}

#define ADDED	"From: F\r\nDate: D\r\nMessage-ID: <M>\r\n"

static void
test_compose(void **state)
{
	struct sendmail_compose_ctx ctx;
	struct sendmail_rcpts r = { NULL, 0 };
	struct buf out;
	char err[256];

	(void)state;
	compose("", 0, ADDED "\r\n", "");
	compose("Subject: x\r\n\r\nbody\r\n", 0,
	    "Subject: x\r\n" ADDED "\r\nbody\r\n", "");
	/* present headers are kept, not added (case-insensitively) */
	compose("FROM: me\r\ndate : today\r\nmessage-id: <x@y>\r\n\r\nb\r\n", 0,
	    "FROM: me\r\ndate : today\r\nmessage-id: <x@y>\r\n\r\nb\r\n", "");
	/* no header section: the first line is body */
	compose("hello world\r\nsecond\r\n", 0,
	    ADDED "\r\nhello world\r\nsecond\r\n", "");
	compose(" indented\r\n", 0, ADDED "\r\n indented\r\n", "");
	/* headers end at a line that is not a header */
	compose("Subject: s\r\nnot a header\r\nX: y\r\n", 0,
	    "Subject: s\r\n" ADDED "\r\nnot a header\r\nX: y\r\n", "");
	/* headers only, no empty line */
	compose("Subject: s\r\n", 0, "Subject: s\r\n" ADDED "\r\n", "");
	/* -t: To, Cc, Bcc (folded) collected; Bcc removed; others not */
	compose("To: a@b.c, Alice <alice@" DOM ">\r\n"
	    "Cc: c@d.e\r\n"
	    "Bcc: secret@x.y,\r\n\thidden\r\n"
	    "Reply-To: r@x.y\r\n"
	    "Resent-To: no@x.y\r\n"
	    "Subject: Bcc: not@this.one\r\n"
	    "\r\n"
	    "To: body@x.y\r\n", 1,
	    "To: a@b.c, Alice <alice@" DOM ">\r\n"
	    "Cc: c@d.e\r\n"
	    "Reply-To: r@x.y\r\n"
	    "Resent-To: no@x.y\r\n"
	    "Subject: Bcc: not@this.one\r\n"
	    ADDED "\r\n"
	    "To: body@x.y\r\n",
	    "a@b.c alice@" DOM " c@d.e secret@x.y hidden@" DOM);
	/* without -t, Bcc is still removed and nothing collected */
	compose("bcc: s@x.y\r\nTo: t@x.y\r\n\r\n", 0,
	    "To: t@x.y\r\n" ADDED "\r\n", "");
	/* a last header without CRLF gets one */
	compose("Subject: s", 0, "Subject: s\r\n" ADDED "\r\n", "");

	/* a bad -t address is an error */
	memset(&ctx, 0, sizeof(ctx));
	ctx.extract = 1;
	ctx.domain = DOM;
	buf_init(&out, 4096);
	assert_int_equal(sendmail_compose("To: a@@b\r\n\r\n", 11, &ctx, &out, &r,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a@@b"));
	sendmail_rcpts_free(&r);
	/* full output buffer */
	buf_free(&out);
	buf_init(&out, 10);
	ctx.extract = 0;
	assert_int_equal(sendmail_compose("Subject: long enough\r\n\r\n", 24, &ctx,
	    &out, &r, err, sizeof(err)), -1);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_input),
		cmocka_unit_test(test_addrlist),
		cmocka_unit_test(test_sender),
		cmocka_unit_test(test_from_header),
		cmocka_unit_test(test_compose),
	};

	return cmocka_run_group_tests_name("sendmail_args", tests, NULL, NULL);
}
