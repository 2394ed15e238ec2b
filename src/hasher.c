/* hasher - crypt(3) in worker processes; see hasher.h.
 * Protocol on each worker's socketpair (SOCK_SEQPACKET: one message per
 * request, no framing to get wrong): request an IPC_HASH_CHECK payload
 * (ipc_pack: hash, password), answer one byte '1' or '0'. A worker does
 * one request at a time. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>

#include "buf.h"
#include "hasher.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "users.h"

#define HASHER_MSG_MAX	2048

struct request {
	char		*hash;		/* NULL: dummy */
	char		*pw;
	hasher_cb	cb;
	void		*arg;
};

struct worker {
	int		fd;
	pid_t		pid;
	struct event	*ev;
	struct request	*busy;		/* NULL when idle */
};

static struct {
	struct event_base *base;
	struct worker	w[8];
	int		n;
	struct request	**queue;	/* FIFO of waiting requests */
	size_t		head, count;
} h;

static void
request_free(struct request *r)
{
	if (r->pw != NULL) {
		explicit_bzero(r->pw, strlen(r->pw));
		free(r->pw);
	}
	free(r->hash);
	free(r);
}

/* The worker: blocking is fine here, it is all it does. */
static void __attribute__((noreturn))
worker_main(int fd)
{
	struct user_entry e;
	struct ipc_fields f;
	char msg[HASHER_MSG_MAX];
	ssize_t n;
	char r;

	signal(SIGTERM, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		n = recv(fd, msg, HASHER_MSG_MAX, 0);
		if (n <= 0)
			_exit(0);
		if (ipc_unpack(IPC_HASH_CHECK, msg, (size_t)n, &f) == -1) {
			r = '0';
		} else {
			memset(&e, 0, sizeof(e));
			e.hash = msg;	/* f.s[0], writable */
			r = users_check_password(f.s[0][0] ? &e : NULL,
			    f.s[1]) == 1 ? '1' : '0';
		}
		explicit_bzero(msg, sizeof(msg));
		if (send(fd, &r, 1, 0) != 1)
			_exit(0);
	}
}

static void dispatch(void);

static void
worker_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct request *r = w->busy;
	char c;
	ssize_t n;

	(void)what;
	n = recv(fd, &c, 1, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	w->busy = NULL;
	if (n != 1) {
		log_warn("hasher worker %ld gone", (long)w->pid);
		event_del(w->ev);
		close(w->fd);
		w->fd = -1;
	}
	if (r != NULL) {
		r->cb(n == 1 ? (c == '1') : -1, r->arg);
		request_free(r);
	}
	dispatch();
}

static int
send_request(struct worker *w, struct request *r)
{
	struct ipc_fields f = { { r->hash ? r->hash : "", r->pw }, 2, NULL, 0 };
	char msg[HASHER_MSG_MAX];
	ssize_t len, n = -1;

	len = ipc_pack(IPC_HASH_CHECK, &f, msg, sizeof(msg));
	if (len > 0)
		n = send(w->fd, msg, (size_t)len, 0);
	explicit_bzero(msg, sizeof(msg));
	return len > 0 && n == len ? 0 : -1;
}

/* Hand waiting requests to idle workers. */
static void
dispatch(void)
{
	struct request *r;
	int i, any = 0;

	for (i = 0; i < h.n && h.count > 0; i++) {
		struct worker *w = &h.w[i];
		if (w->fd == -1)
			continue;
		any = 1;
		if (w->busy != NULL)
			continue;
		r = h.queue[h.head];
		h.head = (h.head + 1) % HASHER_QUEUE_MAX;
		h.count--;
		if (send_request(w, r) == -1) {
			r->cb(-1, r->arg);
			request_free(r);
			continue;
		}
		w->busy = r;
	}
	for (i = 0; i < h.n; i++)
		any |= h.w[i].fd != -1;
	/* No worker left: fail what waits, rather than hang sessions. */
	while (!any && h.count > 0) {
		r = h.queue[h.head];
		h.head = (h.head + 1) % HASHER_QUEUE_MAX;
		h.count--;
		r->cb(-1, r->arg);
		request_free(r);
	}
}

int
hasher_start(struct event_base *base, int nworkers)
{
	int i, sv[2];
	pid_t pid;

	h.base = base;
	h.queue = xcalloc(HASHER_QUEUE_MAX, sizeof(*h.queue));
	if (nworkers > (int)(sizeof(h.w) / sizeof(h.w[0])))
		nworkers = (int)(sizeof(h.w) / sizeof(h.w[0]));
	for (i = 0; i < nworkers; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
			return -1;
		pid = fork();
		if (pid == -1)
			return -1;
		if (pid == 0) {
			/* The worker keeps its own channel and stdio, nothing
			 * of auth's: not its channels to the master, smtpd and
			 * pop3d (a compromised worker could forge their answers),
			 * not its event base, not the other workers. */
			proc_close_fds_except(&sv[1], 1);
			worker_main(sv[1]);
		}
		close(sv[1]);
		evutil_make_socket_nonblocking(sv[0]);
		h.w[h.n].fd = sv[0];
		h.w[h.n].pid = pid;
		h.w[h.n].ev = event_new(base, sv[0], EV_READ | EV_PERSIST,
		    worker_cb, &h.w[h.n]);
		event_add(h.w[h.n].ev, NULL);
		h.n++;
	}
	return 0;
}

void
hasher_check(const char *hash, const char *pw, hasher_cb cb, void *arg)
{
	struct request *r;

	if (h.count >= HASHER_QUEUE_MAX || h.n == 0) {
		cb(-1, arg);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->hash = hash ? xstrdup(hash) : NULL;
	r->pw = xstrdup(pw);
	r->cb = cb;
	r->arg = arg;
	h.queue[(h.head + h.count) % HASHER_QUEUE_MAX] = r;
	h.count++;
	dispatch();
}
