/* test_ipc - framing over a real socketpair: order, ids, large messages,
 * and a peer that announces an oversized message; typed payloads: the
 * bytes on the wire, and every way a payload can fail to be its type. */
#include "unit.h"
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>
#include "ipc.h"

struct got {
	int		n;
	uint32_t	types[8];
	uint64_t	ids[8];
	size_t		lens[8];
	int		eof;
	struct event_base *base;
	int		want;
};

static void
msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	struct got *g = arg;
	const unsigned char *p = data;

	(void)ipc;
	if (len > 0)
		assert_int_equal(p[len - 1], (unsigned char)(len & 0xff));
	g->types[g->n] = type;
	g->ids[g->n] = id;
	g->lens[g->n] = len;
	if (++g->n == g->want)
		event_base_loopbreak(g->base);
}

static void
eof_cb(struct ipc *ipc, void *arg)
{
	struct got *g = arg;

	(void)ipc;
	g->eof = 1;
	event_base_loopbreak(g->base);
}

static void
test_roundtrip(void **state)
{
	struct event_base *base = event_base_new();
	struct got g;
	struct ipc *a, *b;
	unsigned char *big = calloc(1, 1 << 20);	/* sent whole: no uninitialised bytes */
	int sv[2];

	(void)state;
	memset(&g, 0, sizeof(g));
	g.base = base;
	g.want = 3;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a = ipc_new(base, sv[0], msg_cb, eof_cb, &g);
	b = ipc_new(base, sv[1], msg_cb, eof_cb, &g);
	big[0] = 0;
	big[(1 << 20) - 1] = (unsigned char)((1 << 20) & 0xff);
	big[4] = 5;
	assert_int_equal(ipc_send(a, IPC_USER_LOOKUP, 42, big, 5), 0);
	assert_int_equal(ipc_send(a, IPC_USERS_DB, 0, NULL, 0), 0);
	assert_int_equal(ipc_send(a, IPC_USERS_DB, 7, big, 1 << 20), 0);
	assert_int_equal(ipc_send(a, 1, 1, big, IPC_MAX + 1), -1);
	event_base_dispatch(base);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.types[0], IPC_USER_LOOKUP);
	assert_int_equal(g.ids[0], 42);
	assert_int_equal(g.lens[0], 5);
	assert_int_equal(g.lens[1], 0);
	assert_int_equal(g.ids[2], 7);
	assert_int_equal(g.lens[2], 1 << 20);
	ipc_free(a);
	event_base_dispatch(base);	/* b sees the close */
	assert_int_equal(g.eof, 1);
	ipc_free(b);
	event_base_free(base);
	free(big);
}

static void
test_oversized_header_breaks_channel(void **state)
{
	struct event_base *base = event_base_new();
	struct got g;
	struct ipc *b;
	uint32_t hdr[4] = { IPC_MAX + 1, 1, 0, 0 };
	int sv[2];

	(void)state;
	memset(&g, 0, sizeof(g));
	g.base = base;
	g.want = 1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	b = ipc_new(base, sv[1], msg_cb, eof_cb, &g);
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	event_base_dispatch(base);
	assert_int_equal(g.n, 0);
	assert_int_equal(g.eof, 1);
	assert_int_equal(ipc_send(b, 1, 1, "x", 1), -1);
	ipc_free(b);
	close(sv[0]);
	event_base_free(base);
}

static void
test_pack_wire_bytes(void **state)
{
	struct ipc_fields f = { { "joe", "secret", "192.0.2.1" }, 3, NULL, 0 };
	struct ipc_fields s = { { "192.0.2.1" }, 1, "n,,n=joe\0x", 10 };
	char out[64];

	(void)state;
	/* The bytes pop3d and smtpd have always sent: strings with NULs. */
	assert_int_equal(ipc_pack(IPC_POP3_PASS, &f, out, sizeof(out)), 21);
	assert_memory_equal(out, "joe\0secret\0" "192.0.2.1\0", 21);
	/* A tail goes as it is, NULs and all, with no NUL of its own. */
	assert_int_equal(ipc_pack(IPC_SMTP_SCRAM_FIRST, &s, out, sizeof(out)), 20);
	assert_memory_equal(out, "192.0.2.1\0n,,n=joe\0x", 20);
	/* Exactly as long as the buffer: fits; one octet short: refused. */
	assert_int_equal(ipc_pack(IPC_POP3_PASS, &f, out, 21), 21);
	assert_int_equal(ipc_pack(IPC_POP3_PASS, &f, out, 20), -1);
	assert_int_equal(ipc_pack(IPC_SMTP_SCRAM_FIRST, &s, out, 19), -1);
}

static void
test_pack_refuses(void **state)
{
	static char big[IPC_FIELD_MAX + 2];
	struct ipc_fields f = { { "joe", "secret", "192.0.2.1" }, 3, NULL, 0 };
	char out[3 * IPC_FIELD_MAX];

	(void)state;
	/* Wrong count for the type, a type without fields, a stray tail. */
	f.n = 2;
	assert_int_equal(ipc_pack(IPC_POP3_PASS, &f, out, sizeof(out)), -1);
	f.n = 4;
	f.s[3] = "x";
	assert_int_equal(ipc_pack(IPC_POP3_PASS, &f, out, sizeof(out)), -1);
	f.n = 3;
	assert_int_equal(ipc_pack(IPC_USER_LOOKUP, &f, out, sizeof(out)), -1);
	assert_int_equal(ipc_pack(IPC_GRANTS, &f, out, sizeof(out)), -1);
	f.tail = "x";
	f.tail_len = 1;
	assert_int_equal(ipc_pack(IPC_POP3_PASS, &f, out, sizeof(out)), -1);
	f.tail = NULL;
	f.tail_len = 0;
	/* A string of IPC_FIELD_MAX octets goes, one more does not. */
	memset(big, 'a', IPC_FIELD_MAX);
	f.s[1] = big;
	assert_true(ipc_pack(IPC_POP3_PASS, &f, out, sizeof(out)) > 0);
	big[IPC_FIELD_MAX] = 'a';
	assert_int_equal(ipc_pack(IPC_POP3_PASS, &f, out, sizeof(out)), -1);
}

static void
test_unpack(void **state)
{
	struct ipc_fields f;
	static const char scram[] = "192.0.2.1\0n,,n=joe\0x";

	(void)state;
	assert_int_equal(ipc_unpack(IPC_POP3_APOP, "joe\0<1.2@h>\0abc\0::1\0",
	    20, &f), 0);
	assert_int_equal(f.n, 4);
	assert_string_equal(f.s[0], "joe");
	assert_string_equal(f.s[1], "<1.2@h>");
	assert_string_equal(f.s[2], "abc");
	assert_string_equal(f.s[3], "::1");
	assert_null(f.tail);
	assert_int_equal(f.tail_len, 0);
	/* Empty strings are strings (the hasher's dummy hash). */
	assert_int_equal(ipc_unpack(IPC_HASH_CHECK, "\0pw\0", 4, &f), 0);
	assert_string_equal(f.s[0], "");
	assert_string_equal(f.s[1], "pw");
	/* The tail keeps its NULs; an empty tail is a tail. */
	assert_int_equal(ipc_unpack(IPC_SMTP_SCRAM_FINAL, scram, 20, &f), 0);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.s[0], "192.0.2.1");
	assert_int_equal(f.tail_len, 10);
	assert_memory_equal(f.tail, "n,,n=joe\0x", 10);
	assert_int_equal(ipc_unpack(IPC_SMTP_SCRAM_FIRST, scram, 10, &f), 0);
	assert_int_equal(f.tail_len, 0);
}

static void
test_unpack_refuses(void **state)
{
	static char big[IPC_FIELD_MAX + 8];
	struct ipc_fields f;

	(void)state;
	/* Too few strings, a last string without its NUL, nothing at all. */
	assert_int_equal(ipc_unpack(IPC_POP3_PASS, "joe\0pw\0", 7, &f), -1);
	assert_int_equal(ipc_unpack(IPC_POP3_PASS, "joe\0pw\0::1", 10, &f), -1);
	assert_int_equal(ipc_unpack(IPC_POP3_PASS, "", 0, &f), -1);
	assert_int_equal(ipc_unpack(IPC_POP3_PASS, NULL, 0, &f), -1);
	assert_int_equal(ipc_unpack(IPC_SMTP_SCRAM_FIRST, "::1", 3, &f), -1);
	/* An embedded NUL makes one string too many; so do trailing bytes. */
	assert_int_equal(ipc_unpack(IPC_POP3_PASS, "joe\0p\0w\0::1\0", 13, &f),
	    -1);
	assert_int_equal(ipc_unpack(IPC_POP3_PASS, "joe\0pw\0::1\0x", 12, &f),
	    -1);
	/* A type that has no fields. */
	assert_int_equal(ipc_unpack(IPC_USER_LOOKUP, "joe\0", 4, &f), -1);
	assert_int_equal(ipc_unpack(IPC_SMTP_SCRAM_ABORT, "", 0, &f), -1);
	/* Over-long: a string of IPC_FIELD_MAX + 1 octets, and a tail. */
	memset(big, 'a', sizeof(big));
	big[IPC_FIELD_MAX] = '\0';
	big[IPC_FIELD_MAX + 2] = '\0';
	assert_int_equal(ipc_unpack(IPC_HASH_CHECK, big, IPC_FIELD_MAX + 3, &f), 0);
	big[IPC_FIELD_MAX] = 'a';
	big[IPC_FIELD_MAX + 1] = '\0';
	assert_int_equal(ipc_unpack(IPC_HASH_CHECK, big, IPC_FIELD_MAX + 3, &f),
	    -1);
	big[0] = '\0';
	assert_int_equal(ipc_unpack(IPC_SMTP_SCRAM_FIRST, big, IPC_FIELD_MAX + 1,
	    &f), 0);
	assert_int_equal(ipc_unpack(IPC_SMTP_SCRAM_FIRST, big, IPC_FIELD_MAX + 2,
	    &f), -1);
}

struct fields_got {
	struct event_base *base;
	uint32_t	type;
	uint64_t	id;
	char		data[64];
	size_t		len;
};

static void
fields_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	struct fields_got *g = arg;

	(void)ipc;
	g->type = type;
	g->id = id;
	g->len = len < sizeof(g->data) ? len : sizeof(g->data);
	memcpy(g->data, data, g->len);
	event_base_loopbreak(g->base);
}

static void
test_send_fields(void **state)
{
	struct event_base *base = event_base_new();
	struct ipc_fields f = { { "joe", "pw", "::1", "PLAIN" }, 4, NULL, 0 }, u;
	struct fields_got g;
	struct ipc *a, *b;
	int sv[2];

	(void)state;
	memset(&g, 0, sizeof(g));
	g.base = base;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a = ipc_new(base, sv[0], fields_cb, NULL, &g);
	b = ipc_new(base, sv[1], fields_cb, NULL, &g);
	assert_int_equal(ipc_send_fields(a, IPC_POP3_PASS, 1, &f), -1);
	assert_int_equal(ipc_send_fields(a, IPC_SMTP_AUTH_PASS, 9, &f), 0);
	event_base_dispatch(base);
	assert_int_equal(g.type, IPC_SMTP_AUTH_PASS);
	assert_int_equal(g.id, 9);
	assert_int_equal(ipc_unpack(g.type, g.data, g.len, &u), 0);
	assert_string_equal(u.s[0], "joe");
	assert_string_equal(u.s[1], "pw");
	assert_string_equal(u.s[2], "::1");
	assert_string_equal(u.s[3], "PLAIN");
	ipc_free(a);
	ipc_free(b);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_oversized_header_breaks_channel),
		cmocka_unit_test(test_pack_wire_bytes),
		cmocka_unit_test(test_pack_refuses),
		cmocka_unit_test(test_unpack),
		cmocka_unit_test(test_unpack_refuses),
		cmocka_unit_test(test_send_fields),
	};
	return cmocka_run_group_tests_name("ipc", tests, NULL, NULL);
}
