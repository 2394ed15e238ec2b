/* ipc - typed messages over socketpairs; see ipc.h. */
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buf.h"
#include "ipc.h"

struct ipc_header {
	uint32_t	len;	/* payload bytes */
	uint32_t	type;
	uint64_t	id;
};

struct ipc {
	struct bufferevent *bev;
	ipc_msg_cb	msg_cb;
	ipc_eof_cb	eof_cb;
	void		*arg;
	int		dead;
};

static void
ipc_fail(struct ipc *ipc)
{
	if (ipc->dead)
		return;
	ipc->dead = 1;
	bufferevent_disable(ipc->bev, EV_READ | EV_WRITE);
	if (ipc->eof_cb)
		ipc->eof_cb(ipc, ipc->arg);
}

static void
ipc_read_cb(struct bufferevent *bev, void *arg)
{
	struct ipc *ipc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct ipc_header h;
	unsigned char *p;

	while (!ipc->dead && evbuffer_get_length(in) >= sizeof(h)) {
		evbuffer_copyout(in, &h, sizeof(h));
		if (h.len > IPC_MAX) {
			ipc_fail(ipc);
			return;
		}
		if (evbuffer_get_length(in) < sizeof(h) + h.len)
			return;
		p = evbuffer_pullup(in, (ev_ssize_t)(sizeof(h) + h.len));
		ipc->msg_cb(ipc, h.type, h.id, p + sizeof(h), h.len, ipc->arg);
		evbuffer_drain(in, sizeof(h) + h.len);
	}
}

static void
ipc_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ipc_fail(arg);
}

struct ipc *
ipc_new(struct event_base *base, int fd, ipc_msg_cb msg_cb, ipc_eof_cb eof_cb,
    void *arg)
{
	struct ipc *ipc = xcalloc(1, sizeof(*ipc));

	evutil_make_socket_nonblocking(fd);
	ipc->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (ipc->bev == NULL) {
		free(ipc);
		return NULL;
	}
	ipc->msg_cb = msg_cb;
	ipc->eof_cb = eof_cb;
	ipc->arg = arg;
	bufferevent_setcb(ipc->bev, ipc_read_cb, NULL, ipc_event_cb, ipc);
	bufferevent_enable(ipc->bev, EV_READ | EV_WRITE);
	return ipc;
}

int
ipc_send(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len)
{
	struct evbuffer *out;
	struct ipc_header h;

	if (ipc == NULL || ipc->dead || len > IPC_MAX)
		return -1;
	memset(&h, 0, sizeof(h));
	h.len = (uint32_t)len;
	h.type = type;
	h.id = id;
	out = bufferevent_get_output(ipc->bev);
	if (evbuffer_add(out, &h, sizeof(h)) == -1 ||
	    (len && evbuffer_add(out, data, len) == -1))
		return -1;
	return 0;
}

void
ipc_free(struct ipc *ipc)
{
	if (ipc == NULL)
		return;
	bufferevent_free(ipc->bev);
	free(ipc);
}
