/* master - `postern serve`: reads the config, binds the listeners, opens
 *          the spool, forks smtpd, pop3d (when POP3 listens), auth and the
 *          queue process, restarts them, reloads on SIGHUP and stops on
 *          SIGTERM.
 * Trusts: the config file and the users file (root's files).
 * Never:  parses network input; it stays root only to bind, to read the
 *         users file for the auth process, and to restart children. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "aliases.h"
#include "buf.h"
#include "cmds.h"
#include "config.h"
#include "fileio.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "tls.h"
#include "users.h"

#define EX_CONFIG	78

enum { CHILD_SMTPD, CHILD_AUTH, CHILD_QUEUE, CHILD_POP3D, CHILD_IMAPD,
    NCHILDREN };
static const char *const child_names[NCHILDREN] = { "smtpd", "auth", "queue",
    "pop3d", "imapd" };

static struct master {
	struct event_base *base;
	struct runtime	rt;
	const char	*config_path;
	pid_t		pids[NCHILDREN];
	struct ipc	*ipc[NCHILDREN];	/* to each child */
	struct event	*restart_ev;
	struct event	*users_ev;
	struct event	*stop_ev;
	int		stopping;
	time_t		last_start;
	int		sigpipe[2];	/* signal handler -> event loop */
} m;

static int
spool_subdir(int spool_fd, const char *name)
{
	int fd;

	if (mkdirat(spool_fd, name, 0700) == -1 && errno != EEXIST)
		fatal("spool: cannot create %s: %s", name, strerror(errno));
	fd = openat(spool_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		fatal("spool: cannot open %s: %s", name, strerror(errno));
	if (m.rt.drop && fchown(fd, m.rt.uid, m.rt.gid) == -1)
		fatal("spool: cannot chown %s: %s", name, strerror(errno));
	return fd;
}

/* Invariant 1 of qfile.h: nothing in incoming/ was acknowledged. */
static void
clean_incoming(void)
{
	struct dirent *de;
	DIR *d;
	int fd = fcntl(m.rt.incoming_fd, F_DUPFD_CLOEXEC, 0);

	if (fd == -1 || (d = fdopendir(fd)) == NULL)
		fatal("spool: cannot read incoming: %s", strerror(errno));
	/* The dup shares its offset with incoming_fd: the last scan left it
	 * at the end of the directory. */
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(m.rt.incoming_fd, de->d_name, 0) == 0)
			log_info("removed unacknowledged incoming/%s", de->d_name);
	}
	closedir(d);
}

static void
open_spool(void)
{
	struct config *cfg = m.rt.cfg;

	if (mkdir(cfg->spool, 0700) == -1 && errno != EEXIST)
		fatal("spool %s: %s", cfg->spool, strerror(errno));
	m.rt.spool_fd = open(cfg->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m.rt.spool_fd == -1)
		fatal("spool %s: %s", cfg->spool, strerror(errno));
	if (m.rt.drop && fchown(m.rt.spool_fd, m.rt.uid, m.rt.gid) == -1)
		fatal("spool %s: chown: %s", cfg->spool, strerror(errno));
	m.rt.incoming_fd = spool_subdir(m.rt.spool_fd, "incoming");
	m.rt.queue_fd = spool_subdir(m.rt.spool_fd, "queue");
	m.rt.mail_fd = spool_subdir(m.rt.spool_fd, "mail");
	/* postern sendmail (any user) drops mail into maildrop/: others may
	 * pass through the spool (not list it; every other subdirectory is
	 * 0700) and create files in maildrop/ (1733: sticky, not listable). */
	close(spool_subdir(m.rt.spool_fd, "hold"));
	close(spool_subdir(m.rt.spool_fd, "deferred"));
	m.rt.maildrop_fd = spool_subdir(m.rt.spool_fd, "maildrop");
	if (fchmod(m.rt.maildrop_fd, 01733) == -1 ||
	    fchmod(m.rt.spool_fd, 0711) == -1)
		fatal("spool: chmod maildrop: %s", strerror(errno));
	clean_incoming();
}

/* One smtpd serves a thousand connections and more: lift the soft limit
 * on descriptors to the hard one. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
bind_one(const struct listen_addr *la, const char *proto)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(la->host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)la->port);
		if (inet_pton(AF_INET6, la->host, &s6->sin6_addr) != 1)
			fatal("listen %s: bad address", la->text);
		sslen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)la->port);
		if (inet_pton(AF_INET, la->host, &s4->sin_addr) != 1)
			fatal("listen %s: bad address", la->text);
		sslen = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1)
		fatal("listen %s: bind: %s", la->text, strerror(errno));
	if (listen(fd, 511) == -1)
		fatal("listen %s: %s", la->text, strerror(errno));
	log_info("listening on %s (%s)", la->text, proto);
	return fd;
}

/* Every listener, tagged with its kind (enum listen_kind in proc.h):
 * smtpd serves the SMTP kinds, pop3d the POP3 ones. */
static void
bind_kind(const struct listen_addr *la, size_t n, int kind, const char *proto,
    int **fds, int **kinds, size_t *nfds)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*fds = xreallocarray(*fds, *nfds + 1, sizeof(int));
		*kinds = xreallocarray(*kinds, *nfds + 1, sizeof(int));
		(*fds)[*nfds] = bind_one(&la[i], proto);
		(*kinds)[(*nfds)++] = kind;
	}
}

static void
bind_listeners(void)
{
	const struct config *c = m.rt.cfg;

	bind_kind(c->listen_smtp, c->n_listen_smtp, LISTEN_SMTP, "smtp",
	    &m.rt.smtp_fds, &m.rt.smtp_kinds, &m.rt.n_smtp_fds);
	bind_kind(c->listen_submission, c->n_listen_submission,
	    LISTEN_SUBMISSION, "submission", &m.rt.smtp_fds, &m.rt.smtp_kinds,
	    &m.rt.n_smtp_fds);
	bind_kind(c->listen_smtps, c->n_listen_smtps, LISTEN_SMTPS, "smtps",
	    &m.rt.smtp_fds, &m.rt.smtp_kinds, &m.rt.n_smtp_fds);
	bind_kind(c->listen_pop3, c->n_listen_pop3, LISTEN_POP3, "pop3",
	    &m.rt.pop3_fds, &m.rt.pop3_kinds, &m.rt.n_pop3_fds);
	bind_kind(c->listen_pop3s, c->n_listen_pop3s, LISTEN_POP3S, "pop3s",
	    &m.rt.pop3_fds, &m.rt.pop3_kinds, &m.rt.n_pop3_fds);
	bind_kind(c->listen_imap, c->n_listen_imap, LISTEN_IMAP, "imap",
	    &m.rt.imap_fds, &m.rt.imap_kinds, &m.rt.n_imap_fds);
	bind_kind(c->listen_imaps, c->n_listen_imaps, LISTEN_IMAPS, "imaps",
	    &m.rt.imap_fds, &m.rt.imap_kinds, &m.rt.n_imap_fds);
}

/* Everything that a restart of the children cannot change: listeners and
 * the spool. Compared as postern check prints them. */
static char *
config_text(const struct config *c, int listeners_only)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		fatal("open_memstream: %s", strerror(errno));
	if (listeners_only) {
		const struct listen_addr *const lists[] = { c->listen_smtp,
		    c->listen_submission, c->listen_smtps, c->listen_pop3,
		    c->listen_pop3s, c->listen_imap, c->listen_imaps };
		const size_t ns[] = { c->n_listen_smtp, c->n_listen_submission,
		    c->n_listen_smtps, c->n_listen_pop3, c->n_listen_pop3s,
		    c->n_listen_imap, c->n_listen_imaps };
		size_t i, j;

		fprintf(f, "spool %s\n", c->spool);
		for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
			for (j = 0; j < ns[i]; j++)
				fprintf(f, "%zu %s\n", i, lists[i][j].text);
	} else {
		config_print(c, f);
	}
	fclose(f);
	return text;
}

/* A file whose bytes the master hands to children (the users table, the
 * APOP secrets, the aliases, the TLS certificate and key): they may be
 * root-only, and the network-facing processes never open them. Re-sent
 * whenever inode, size or mtime change (checked every second, or only on
 * SIGHUP for the TLS files). Missing means empty. At start-up (force) it
 * is always sent, empty if unreadable: children wait for their tables. */
struct pushed_file {
	const char	*label;
	uint32_t	 type;		/* IPC message type */
	unsigned	 to;		/* bit per CHILD_* */
	size_t		 max;
	int		 watched;	/* re-read every second */
	struct stat	 st;		/* what the children have */
	int		 known;
};

static struct pushed_file pushed[] = {
	{ "users", IPC_USERS_DB, 1u << CHILD_AUTH, USERS_FILE_MAX, 1, { 0 }, 0 },
	{ "secrets", IPC_SECRETS_DB, 1u << CHILD_AUTH, USERS_FILE_MAX, 1, { 0 }, 0 },
	{ "aliases", IPC_ALIASES_DB, 1u << CHILD_AUTH | 1u << CHILD_QUEUE,
	    ALIASES_FILE_MAX, 1, { 0 }, 0 },
	{ "tls_cert", IPC_TLS_CERT, 1u << CHILD_SMTPD | 1u << CHILD_POP3D |
	    1u << CHILD_IMAPD, TLS_PEM_MAX, 0, { 0 }, 0 },
	{ "tls_key", IPC_TLS_KEY, 1u << CHILD_SMTPD | 1u << CHILD_POP3D |
	    1u << CHILD_IMAPD, TLS_PEM_MAX, 0, { 0 }, 0 },
};
#define NPUSHED	(sizeof(pushed) / sizeof(pushed[0]))

static const char *
pushed_path(const struct pushed_file *pf)
{
	const struct config *c = m.rt.cfg;

	switch (pf->type) {
	case IPC_USERS_DB:	return c->users_path;
	case IPC_SECRETS_DB:	return c->secrets_path;
	case IPC_ALIASES_DB:	return c->aliases_path;
	case IPC_TLS_CERT:	return c->tls_cert;
	case IPC_TLS_KEY:	return c->tls_key;
	}
	return NULL;
}

static void
push_file(struct pushed_file *pf, int force)
{
	const char *path = pushed_path(pf);
	struct stat st;
	struct buf b;
	int r = 0;
	int fd = -1, i, sent = 0;

	if (path == NULL && pf->type >= IPC_TLS_CERT)
		return;		/* no TLS configured: nothing to send */
	memset(&st, 0, sizeof(st));
	if (path != NULL) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd == -1 && errno != ENOENT) {
			log_warn("%s %s: %s", pf->label, path, strerror(errno));
			if (!force)
				return;
		}
		if (fd != -1 && fstat(fd, &st) == -1) {
			close(fd);
			return;
		}
	}
	if (!force && pf->known && st.st_ino == pf->st.st_ino &&
	    st.st_size == pf->st.st_size &&
	    st.st_mtim.tv_sec == pf->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == pf->st.st_mtim.tv_nsec) {
		if (fd != -1)
			close(fd);
		return;
	}
	buf_init(&b, pf->max);
	if (fd != -1) {
		if ((r = fileio_read_all(fd, &b)) == -1 && errno == EFBIG)
			log_warn("%s %s: larger than %zu bytes", pf->label,
			    path, pf->max);
		else if (r == -1)
			log_warn("%s %s: %s", pf->label, path, strerror(errno));
		close(fd);
	}
	if (r == -1 && force)
		buf_reset(&b);
	if (r == 0 || force) {
		for (i = 0; i < NCHILDREN; i++)
			if ((pf->to & (1u << i)) && m.ipc[i] != NULL &&
			    ipc_send(m.ipc[i], pf->type, 0, b.data, b.len) == 0)
				sent = 1;
		if (sent) {
			pf->st = st;
			pf->known = 1;
			if (!force)
				log_info("%s file %s changed: reloaded", pf->label,
				    path);
		}
	}
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);	/* the TLS key */
	buf_free(&b);
}

/* watched_only: the timer's pass (TLS files wait for SIGHUP). */
static void
push_files(int force, int watched_only)
{
	size_t i;

	for (i = 0; i < NPUSHED; i++)
		if (!watched_only || pushed[i].watched)
			push_file(&pushed[i], force);
}

static void
users_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	push_files(0, 1);
}

/* Children say nothing to the master yet; a dying child is seen by
 * SIGCHLD, not by its channel closing. */
static void
child_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)ipc; (void)id; (void)data; (void)len; (void)arg;
	log_warn("unexpected message %u from a child", type);
}

static void
child_eof_cb(struct ipc *ipc, void *arg)
{
	(void)ipc; (void)arg;
}

/* The socketpairs between the processes of one generation: mc[i] master
 * <-> child i ([0] the master's end, [1] the child's: rt->master_fd);
 * sa smtpd<->auth, pa pop3d<->auth and ia imapd<->auth ([0] the auth
 * end). */
struct plumbing {
	int	mc[NCHILDREN][2];
	int	sa[2], pa[2], ia[2];
};

static void
close_pair(int p[2])
{
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* Keep fd: take it out of the table so close_pair leaves it open. */
static int
take(int *fd)
{
	int keep = *fd;

	*fd = -1;
	return keep;
}

static pid_t
fork_child(int which, struct plumbing *pl, pid_t master_pid)
{
	sigset_t all, old;
	pid_t pid;
	int i, fd_a, fd_b, fd_c;

	/* Until the child has reset its handlers, a signal must not reach the
	 * master's handler in the child (it would write to our self-pipe). */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == -1)
		fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return pid;
	}
	proc_child_init(child_names[which], master_pid);
	close(m.sigpipe[0]);
	close(m.sigpipe[1]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	m.rt.master_fd = take(&pl->mc[which][1]);
	fd_a = which == CHILD_AUTH ? take(&pl->sa[0]) :
	    which == CHILD_SMTPD ? take(&pl->sa[1]) :
	    which == CHILD_POP3D ? take(&pl->pa[1]) :
	    which == CHILD_IMAPD ? take(&pl->ia[1]) : -1;
	fd_b = which == CHILD_AUTH ? take(&pl->pa[0]) : -1;
	fd_c = which == CHILD_AUTH ? take(&pl->ia[0]) : -1;
	for (i = 0; i < NCHILDREN; i++)
		close_pair(pl->mc[i]);
	close_pair(pl->sa);
	close_pair(pl->pa);
	close_pair(pl->ia);
	/* The child keeps stdio, its channels and the runtime, nothing of
	 * the master's: not its event base (epoll and its internal pipe),
	 * not another child's channel. Of the runtime, each child's
	 * proc_child_start() closes what its job does not use. A child
	 * compromised later has only these to abuse. */
	{
		const int chans[] = { fd_a, fd_b, fd_c };
		proc_keep_runtime(&m.rt, chans, 3);
	}
	switch (which) {
	case CHILD_SMTPD:
		smtpd_main(&m.rt, fd_a);
	case CHILD_AUTH:
		auth_main(&m.rt, fd_a, fd_b, fd_c);
	case CHILD_POP3D:
		pop3d_main(&m.rt, fd_a);
	case CHILD_IMAPD:
		imapd_main(&m.rt, fd_a);
	default:
		qmgr_main(&m.rt);
	}
}

static void
start_children(void)
{
	struct plumbing pl;
	pid_t self = getpid();
	int i;

	memset(&pl, -1, sizeof(pl));
	for (i = 0; i < NCHILDREN; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pl.mc[i]) == -1)
			fatal("socketpair: %s", strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pl.sa) == -1 ||
	    (m.rt.n_pop3_fds > 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pl.pa) == -1) ||
	    (m.rt.n_imap_fds > 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pl.ia) == -1))
		fatal("socketpair: %s", strerror(errno));
	for (i = 0; i < NCHILDREN; i++) {
		m.pids[i] = 0;
		if (i == CHILD_POP3D && m.rt.n_pop3_fds == 0)
			continue;	/* no POP3 listener: no pop3d */
		if (i == CHILD_IMAPD && m.rt.n_imap_fds == 0)
			continue;	/* no IMAP listener: no imapd */
		m.pids[i] = fork_child(i, &pl, self);
	}
	close_pair(pl.sa);
	close_pair(pl.pa);
	close_pair(pl.ia);
	for (i = 0; i < NCHILDREN; i++) {
		close(pl.mc[i][1]);
		m.ipc[i] = m.pids[i] ? ipc_new(m.base, pl.mc[i][0], child_msg_cb,
		    child_eof_cb, NULL) : NULL;
		if (m.ipc[i] == NULL)
			close(pl.mc[i][0]);
	}
	push_files(1, 0);
	m.last_start = time(NULL);
	log_info("started smtpd[%ld] auth[%ld] queue[%ld] pop3d[%ld] "
	    "imapd[%ld]", (long)m.pids[CHILD_SMTPD], (long)m.pids[CHILD_AUTH],
	    (long)m.pids[CHILD_QUEUE], (long)m.pids[CHILD_POP3D],
	    (long)m.pids[CHILD_IMAPD]);
}

static void
signal_children(int sig)
{
	int i;

	for (i = 0; i < NCHILDREN; i++)
		if (m.pids[i] > 0)
			kill(m.pids[i], sig);
}

static int
children_alive(void)
{
	int i, n = 0;

	for (i = 0; i < NCHILDREN; i++)
		n += m.pids[i] > 0;
	return n;
}

/* Reap; returns 1 if a child died that we did not ask to stop. */
static int
reap(void)
{
	int status, i, unexpected = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < NCHILDREN; i++) {
			if (m.pids[i] != pid)
				continue;
			m.pids[i] = 0;
			if (!m.stopping) {
				unexpected = 1;
				if (WIFSIGNALED(status))
					log_warn("%s[%ld] killed by signal %d",
					    child_names[i], (long)pid, WTERMSIG(status));
				else
					log_warn("%s[%ld] exited with status %d",
					    child_names[i], (long)pid, WEXITSTATUS(status));
			}
		}
	}
	return unexpected;
}

/* Stop all children: SIGTERM, then SIGKILL after `grace` seconds. */
static void
stop_children(int grace_ms)
{
	int waited = 0, i;

	signal_children(SIGTERM);
	while (children_alive() && waited < grace_ms) {
		usleep(20000);
		waited += 20;
		reap();
	}
	if (children_alive()) {
		signal_children(SIGKILL);
		while (children_alive()) {
			usleep(10000);
			reap();
		}
	}
	for (i = 0; i < NCHILDREN; i++)
		if (m.ipc[i] != NULL) {
			ipc_free(m.ipc[i]);
			m.ipc[i] = NULL;
		}
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	/* Every child is gone (stop_children waited for each): whatever a
	 * dead smtpd left in incoming/ was never acknowledged. */
	clean_incoming();
	m.stopping = 0;
	start_children();
}

/* One child died: the processes share socketpairs, so restart the set. */
static void
restart_all(void)
{
	struct timeval tv = { 0, 0 };

	m.stopping = 1;
	stop_children(2000);
	/* A crash loop must not spin: wait a second between quick restarts. */
	if (time(NULL) - m.last_start < 2)
		tv.tv_sec = 1;
	event_add(m.restart_ev, &tv);
}

static void
sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	if (reap() && !m.stopping) {
		log_warn("restarting all children");
		restart_all();
	}
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what; (void)arg;
	log_info("signal %d: stopping", (int)sig);
	m.stopping = 1;
	stop_children(4000);
	event_base_loopbreak(m.base);
}

static void
sighup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct errlist errs = { NULL, 0 };
	struct config *ncfg;
	char *old, *new;
	size_t i;
	int same_listen, same_config;

	(void)fd; (void)what; (void)arg;
	ncfg = config_load(m.config_path, &errs);
	if (ncfg == NULL) {
		for (i = 0; i < errs.n; i++)
			log_warn("reload: %s", errs.msgs[i]);
		log_warn("reload refused: keeping the running configuration");
		errlist_free(&errs);
		return;
	}
	old = config_text(m.rt.cfg, 1);
	new = config_text(ncfg, 1);
	same_listen = strcmp(old, new) == 0;
	free(old);
	free(new);
	if (!same_listen) {
		log_warn("reload: listeners or spool changed; restart postern to apply");
		config_free(ncfg);
		return;
	}
	old = config_text(m.rt.cfg, 0);
	new = config_text(ncfg, 0);
	same_config = strcmp(old, new) == 0;
	free(old);
	free(new);
	if (same_config) {
		/* Nothing to restart for: hand the TLS certificate and key
		 * over again. New connections use them, open sessions keep
		 * theirs. */
		config_free(ncfg);
		log_info("SIGHUP: configuration unchanged; TLS certificate reloaded");
		push_files(1, 0);
		return;
	}
	log_info("SIGHUP: configuration reloaded, restarting children");
	m.stopping = 1;
	stop_children(4000);
	clean_incoming();
	config_free(m.rt.cfg);
	m.rt.cfg = ncfg;
	m.stopping = 0;
	start_children();
}

/* The master's signals go through a self-pipe rather than evsignal:
 * libevent allows one base with signals per process, and that must be the
 * children's own base after fork. */
static void
sig_handler(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	(void)write(m.sigpipe[1], &c, 1);
	errno = saved;
}

static void
sigpipe_cb(evutil_socket_t fd, short what, void *arg)
{
	unsigned char c;

	(void)what; (void)arg;
	while (read(fd, &c, 1) == 1) {
		switch (c) {
		case SIGTERM:
		case SIGINT:
			sigterm_cb(c, 0, NULL);
			return;
		case SIGHUP:
			sighup_cb(-1, 0, NULL);
			break;
		case SIGCHLD:
			sigchld_cb(-1, 0, NULL);
			break;
		}
	}
}

static void
catch_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct sigaction sa;
	size_t i;

	if (pipe2(m.sigpipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

int
master_main(int argc, char **argv, const char *config)
{
	struct errlist errs = { NULL, 0 };
	struct timeval sec = { 1, 0 };
	struct event *sigev;
	struct passwd *pw;
	size_t i;

	if (argc > 1) {
		fprintf(stderr, "postern: serve: unexpected argument %s\n",
		    argv[1]);
		return CMDS_EX_USAGE;
	}
	m.config_path = config;
	m.rt.cfg = config_load(m.config_path, &errs);
	if (m.rt.cfg == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "postern: configuration errors; not starting\n");
		errlist_free(&errs);
		return EX_CONFIG;
	}
	log_init("master", m.rt.cfg->log_syslog);
	if (geteuid() == 0) {
		pw = getpwnam(m.rt.cfg->user);
		if (pw == NULL) {
			fprintf(stderr, "postern: user '%s' does not exist; create it with:\n"
			    "  useradd --system --no-create-home --home-dir /nonexistent "
			    "--shell /usr/sbin/nologin %s\n", m.rt.cfg->user, m.rt.cfg->user);
			return EX_CONFIG;
		}
		if (pw->pw_uid == 0)
			fatal("user '%s' is root; postern will not run its children as root",
			    m.rt.cfg->user);
		m.rt.drop = 1;
		m.rt.uid = pw->pw_uid;
		m.rt.gid = pw->pw_gid;
	}
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	open_spool();
	bind_listeners();

	m.base = event_base_new();
	if (m.base == NULL)
		fatal("event_base_new failed");
	catch_signals();
	sigev = event_new(m.base, m.sigpipe[0], EV_READ | EV_PERSIST, sigpipe_cb, NULL);
	event_add(sigev, NULL);
	m.restart_ev = evtimer_new(m.base, restart_cb, NULL);
	m.users_ev = event_new(m.base, -1, EV_PERSIST, users_timer_cb, NULL);
	event_add(m.users_ev, &sec);

	log_info("postern starting: hostname %s, spool %s, children run as %s",
	    m.rt.cfg->hostname, m.rt.cfg->spool,
	    m.rt.drop ? m.rt.cfg->user : "the invoking user");
	start_children();
	event_base_dispatch(m.base);
	log_info("stopped");
	return 0;
}
