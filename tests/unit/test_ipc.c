/* test_ipc - framing over a real socketpair: order, ids, large messages,
 * and a peer that announces an oversized message. */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_oversized_header_breaks_channel),
	};
	return cmocka_run_group_tests_name("ipc", tests, NULL, NULL);
}
