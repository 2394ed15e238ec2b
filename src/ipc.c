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

/* ---- typed payloads ---- */

/* The strings of each type with fields, and whether a tail follows. */
static const struct ipc_schema {
	uint32_t	type;
	unsigned char	nfields;
	unsigned char	tail;
} ipc_schemas[] = {
	{ IPC_POP3_PASS, 3, 0 },
	{ IPC_POP3_APOP, 4, 0 },
	{ IPC_SMTP_AUTH_PASS, 4, 0 },
	{ IPC_SMTP_AUTH_CRAM, 4, 0 },
	{ IPC_SMTP_SCRAM_FIRST, 1, 1 },
	{ IPC_SMTP_SCRAM_FINAL, 1, 1 },
	{ IPC_IMAP_PASS, 3, 0 },
	{ IPC_IMAP_SCRAM_FIRST, 1, 1 },
	{ IPC_IMAP_SCRAM_FINAL, 1, 1 },
	{ IPC_HASH_CHECK, 2, 0 },
};

static const struct ipc_schema *
ipc_schema(uint32_t type)
{
	size_t i;

	for (i = 0; i < sizeof(ipc_schemas) / sizeof(ipc_schemas[0]); i++)
		if (ipc_schemas[i].type == type)
			return &ipc_schemas[i];
	return NULL;
}

ssize_t
ipc_pack(uint32_t type, const struct ipc_fields *f, void *out, size_t cap)
{
	const struct ipc_schema *sc = ipc_schema(type);
	unsigned char *p = out;
	size_t i, l, len = 0;

	if (sc == NULL || f->n != sc->nfields ||
	    (!sc->tail && f->tail_len > 0) || f->tail_len > IPC_FIELD_MAX)
		return -1;
	for (i = 0; i < f->n; i++) {
		l = strnlen(f->s[i], IPC_FIELD_MAX + 1);
		if (l > IPC_FIELD_MAX || cap - len < l + 1)
			return -1;
		memcpy(p + len, f->s[i], l + 1);
		len += l + 1;
	}
	if (f->tail_len > 0) {
		if (cap - len < f->tail_len)
			return -1;
		memcpy(p + len, f->tail, f->tail_len);
		len += f->tail_len;
	}
	return (ssize_t)len;
}

int
ipc_unpack(uint32_t type, const void *data, size_t len, struct ipc_fields *f)
{
	const struct ipc_schema *sc = ipc_schema(type);
	const char *p = data, *nul;
	size_t off = 0;

	memset(f, 0, sizeof(*f));
	if (sc == NULL)
		return -1;
	while (f->n < sc->nfields) {
		if (off == len)
			return -1;	/* fewer strings than the type has */
		nul = memchr(p + off, '\0', len - off);
		if (nul == NULL || (size_t)(nul - (p + off)) > IPC_FIELD_MAX)
			return -1;
		f->s[f->n++] = p + off;
		off = (size_t)(nul - p) + 1;
	}
	if (sc->tail) {
		if (len - off > IPC_FIELD_MAX)
			return -1;
		f->tail = p + off;
		f->tail_len = len - off;
	} else if (off != len) {
		return -1;	/* more strings than the type has */
	}
	return 0;
}

int
ipc_send_fields(struct ipc *ipc, uint32_t type, uint64_t id,
    const struct ipc_fields *f)
{
	unsigned char out[IPC_FIELDS_MAX * (IPC_FIELD_MAX + 1) + IPC_FIELD_MAX];
	ssize_t len = ipc_pack(type, f, out, sizeof(out));
	int r = len < 0 ? -1 : ipc_send(ipc, type, id, out, (size_t)len);

	explicit_bzero(out, sizeof(out));
	return r;
}

void
ipc_free(struct ipc *ipc)
{
	if (ipc == NULL)
		return;
	bufferevent_free(ipc->bev);
	free(ipc);
}
