/* qmgr - the queue process: finds acknowledged messages in spool/queue,
 *        delivers local recipients into their Maildir, marks each
 *        recipient done on disk, and removes a message when nothing is
 *        pending. Remote recipients wait for outbound delivery.
 * Trusts: queue files (written by smtpd, checked by queue_envelope_parse);
 *         a malformed one is moved aside into spool/corrupt, never deleted.
 * Gives:  at-least-once delivery per queue.h's invariants.
 * Never:  talks to the network or runs as root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "maildir.h"
#include "proc.h"
#include "queue.h"

#define QMGR_RESCAN_SECONDS	60

static struct qmgr {
	struct event_base *base;
	struct runtime	*rt;
	int		inotify_fd;
	char		**deferred_logged;	/* ids whose remote wait was logged */
	size_t		ndeferred;
} q;

static int
deferred_seen(const char *id)
{
	size_t i;

	for (i = 0; i < q.ndeferred; i++)
		if (strcmp(q.deferred_logged[i], id) == 0)
			return 1;
	q.deferred_logged = xreallocarray(q.deferred_logged, q.ndeferred + 1,
	    sizeof(char *));
	q.deferred_logged[q.ndeferred++] = xstrdup(id);
	return 0;
}

static void
deferred_forget(const char *id)
{
	size_t i;

	for (i = 0; i < q.ndeferred; i++)
		if (strcmp(q.deferred_logged[i], id) == 0) {
			free(q.deferred_logged[i]);
			q.deferred_logged[i] = q.deferred_logged[--q.ndeferred];
			return;
		}
}

/* Read the envelope: up to the empty line, at most QUEUE_ENVELOPE_MAX. */
static int
read_envelope(int fd, struct queue_envelope *e)
{
	struct buf b;
	char chunk[8192];
	ssize_t r;
	off_t off = 0;
	int rc = -1;

	buf_init(&b, QUEUE_ENVELOPE_MAX);
	for (;;) {
		r = pread(fd, chunk, sizeof(chunk), off);
		if (r <= 0)
			break;
		if (buf_append(&b, chunk, (size_t)r) == -1)
			break;
		off += r;
		if (memmem(b.data, b.len, "\n\n", 2) != NULL) {
			rc = queue_envelope_parse(b.data, b.len, e);
			break;
		}
	}
	buf_free(&b);
	return rc;
}

static void
move_aside(const char *id)
{
	if (mkdirat(q.rt->spool_fd, "corrupt", 0700) == -1 && errno != EEXIST)
		return;
	if (renameat(q.rt->queue_fd, id, q.rt->spool_fd, "corrupt/x") == 0) {
		char dst[64];
		snprintf(dst, sizeof(dst), "corrupt/%s", id);
		renameat(q.rt->spool_fd, "corrupt/x", q.rt->spool_fd, dst);
	}
	log_warn("id=%s malformed queue file moved to corrupt/", id);
}

static int
deliver_local(int fd, const struct queue_envelope *e, struct queue_rcpt *rc)
{
	struct buf hdr;
	char name[512];
	int r;

	buf_init(&hdr, 1024);
	buf_printf(&hdr, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", e->from,
	    rc->addr);
	r = maildir_deliver(q.rt->mail_fd, rc->mailbox, q.rt->cfg->hostname,
	    hdr.data, hdr.len, fd, e->content_off, name, sizeof(name));
	buf_free(&hdr);
	if (r == -1) {
		log_warn("id=%s to=<%s> relay=local mailbox=%s status=deferred (%s)",
		    e->id, rc->addr, rc->mailbox, strerror(errno));
		return -1;
	}
	log_info("id=%s to=<%s> relay=local mailbox=%s status=sent (new/%s)",
	    e->id, rc->addr, rc->mailbox, name);
	return 0;
}

/* Deliver what can be delivered of one queue file. */
static void
process_one(const char *id)
{
	struct queue_envelope e;
	char done = QUEUE_DONE;
	size_t i;
	int fd, marked = 0, remote = 0;

	fd = openat(q.rt->queue_fd, id, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno != ENOENT)
			log_warn("id=%s open: %s", id, strerror(errno));
		return;
	}
	if (read_envelope(fd, &e) == -1) {
		close(fd);
		move_aside(id);
		return;
	}
	for (i = 0; i < e.nrcpts; i++) {
		struct queue_rcpt *rc = &e.rcpts[i];
		if (rc->status != QUEUE_PENDING)
			continue;
		if (rc->kind == QUEUE_REMOTE) {
			remote++;
			continue;
		}
		if (deliver_local(fd, &e, rc) == -1)
			continue;
		/* Invariant 3: the Maildir copy is durable; now record it. */
		if (pwrite(fd, &done, 1, rc->status_off) != 1) {
			log_warn("id=%s cannot mark recipient done: %s", id,
			    strerror(errno));
			continue;
		}
		rc->status = QUEUE_DONE;
		marked = 1;
	}
	if (marked && fdatasync(fd) == -1)
		log_warn("id=%s fdatasync: %s", id, strerror(errno));
	if (remote && !deferred_seen(id)) {
		for (i = 0; i < e.nrcpts; i++)
			if (e.rcpts[i].status == QUEUE_PENDING &&
			    e.rcpts[i].kind == QUEUE_REMOTE)
				log_info("id=%s to=<%s> status=deferred (outbound "
				    "delivery is not available yet)", id,
				    e.rcpts[i].addr);
	}
	if (!queue_envelope_pending(&e)) {
		if (unlinkat(q.rt->queue_fd, id, 0) == 0)
			log_info("id=%s removed (all recipients done)", id);
		deferred_forget(id);
	}
	queue_envelope_free(&e);
	close(fd);
}

static void
scan_queue(void)
{
	struct dirent *de;
	char **ids = NULL;
	size_t n = 0, i;
	DIR *dir;
	int fd = dup(q.rt->queue_fd);

	if (fd == -1 || (dir = fdopendir(fd)) == NULL) {
		log_warn("queue: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		if (!queue_id_valid(de->d_name))
			continue;
		ids = xreallocarray(ids, n + 1, sizeof(*ids));
		ids[n++] = xstrdup(de->d_name);
	}
	closedir(dir);
	for (i = 0; i < n; i++) {
		process_one(ids[i]);
		free(ids[i]);
	}
	free(ids);
}

static void
inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	char evbuf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t r;
	char *p;

	(void)what; (void)arg;
	while ((r = read(fd, evbuf, sizeof(evbuf))) > 0) {
		for (p = evbuf; p < evbuf + r; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			/* Only renames bring new messages: our own writes to a
			 * queue file (status bytes) end in IN_CLOSE_WRITE, and
			 * reacting to those would loop forever. */
			if (ev->mask & IN_Q_OVERFLOW)
				scan_queue();
			else if ((ev->mask & IN_MOVED_TO) && ev->len > 0 &&
			    queue_id_valid(ev->name))
				process_one(ev->name);
		}
	}
}

static void
rescan_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	scan_queue();
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig; (void)what; (void)arg;
	event_base_loopbreak(q.base);
}

void
qmgr_main(struct runtime *rt)
{
	struct timeval tv = { QMGR_RESCAN_SECONDS, 0 };
	struct event *iev, *rescan, *sig;
	char path[64];
	size_t i;

	q.rt = rt;
	close(rt->incoming_fd);
	for (i = 0; i < rt->n_smtp_fds; i++)
		close(rt->smtp_fds[i]);
	/* Watch queue/ through our descriptor: works inside root-only parents. */
	q.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rt->queue_fd);
	if (q.inotify_fd == -1 ||
	    inotify_add_watch(q.inotify_fd, path, IN_MOVED_TO | IN_CLOSE_WRITE) == -1)
		log_warn("inotify on queue/: %s; relying on rescans",
		    strerror(errno));
	proc_drop(rt);
	q.base = event_base_new();
	if (q.base == NULL)
		fatal("event_base_new failed");
	iev = event_new(q.base, q.inotify_fd, EV_READ | EV_PERSIST, inotify_cb, NULL);
	if (q.inotify_fd != -1)
		event_add(iev, NULL);
	rescan = event_new(q.base, -1, EV_PERSIST, rescan_cb, NULL);
	event_add(rescan, &tv);
	sig = evsignal_new(q.base, SIGTERM, sigterm_cb, NULL);
	evsignal_add(sig, NULL);
	scan_queue();
	event_base_dispatch(q.base);
	exit(0);
}
