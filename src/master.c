/* master - `postern serve`: reads the config, binds the listeners, opens
 *          the spool, forks smtpd, auth and the queue process, restarts
 *          them, reloads on SIGHUP and stops on SIGTERM.
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
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "users.h"

#define EX_CONFIG	78

enum { CHILD_SMTPD, CHILD_AUTH, CHILD_QUEUE, CHILD_POP3D, NCHILDREN };
static const char *const child_names[NCHILDREN] = { "smtpd", "auth", "queue",
    "pop3d" };

static struct master {
	struct event_base *base;
	struct runtime	rt;
	const char	*config_path;
	pid_t		pids[NCHILDREN];
	struct ipc	*auth_ipc;	/* to the auth process */
	struct ipc	*queue_ipc;	/* to the queue process (aliases) */
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

/* Invariant 1 of queue.h: nothing in incoming/ was acknowledged. */
static void
clean_incoming(void)
{
	struct dirent *de;
	DIR *d;
	int fd = dup(m.rt.incoming_fd);

	if (fd == -1 || (d = fdopendir(fd)) == NULL)
		fatal("spool: cannot read incoming: %s", strerror(errno));
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

static void
bind_listeners(void)
{
	size_t i;

	m.rt.n_smtp_fds = m.rt.cfg->n_listen_smtp;
	m.rt.smtp_fds = xcalloc(m.rt.n_smtp_fds, sizeof(int));
	for (i = 0; i < m.rt.n_smtp_fds; i++)
		m.rt.smtp_fds[i] = bind_one(&m.rt.cfg->listen_smtp[i], "smtp");
	m.rt.n_pop3_fds = m.rt.cfg->n_listen_pop3;
	m.rt.pop3_fds = xcalloc(m.rt.n_pop3_fds, sizeof(int));
	for (i = 0; i < m.rt.n_pop3_fds; i++)
		m.rt.pop3_fds[i] = bind_one(&m.rt.cfg->listen_pop3[i], "pop3");
}

/* A root-only file whose bytes the master hands to a child (the users
 * table, the APOP secrets), re-sent whenever its inode, size or mtime
 * changes. A missing file is empty; an unreadable one keeps the old. */
struct pushed_file {
	const char	*label;
	uint32_t	 type;		/* IPC message type */
	struct stat	 st;		/* what the child has */
	int		 known;
};

static struct pushed_file pushed_users = { "users", IPC_USERS_DB, { 0 }, 0 };
static struct pushed_file pushed_secrets = { "secrets", IPC_SECRETS_DB, { 0 }, 0 };

static void
push_file(struct pushed_file *pf, const char *path, int force)
{
	struct stat st;
	struct buf b;
	char chunk[8192];
	ssize_t r = 0;
	int fd;

	if (m.auth_ipc == NULL || path == NULL)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno != ENOENT) {
			log_warn("%s %s: %s", pf->label, path, strerror(errno));
			return;
		}
		memset(&st, 0, sizeof(st));
	} else if (fstat(fd, &st) == -1) {
		close(fd);
		return;
	}
	if (!force && pf->known && st.st_ino == pf->st.st_ino &&
	    st.st_size == pf->st.st_size &&
	    st.st_mtim.tv_sec == pf->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == pf->st.st_mtim.tv_nsec) {
		if (fd != -1)
			close(fd);
		return;
	}
	buf_init(&b, USERS_FILE_MAX);
	if (fd != -1) {
		while ((r = read(fd, chunk, sizeof(chunk))) > 0)
			if (buf_append(&b, chunk, (size_t)r) == -1) {
				log_warn("%s %s: larger than %d bytes", pf->label,
				    path, USERS_FILE_MAX);
				r = -1;
				break;
			}
		close(fd);
	}
	if (r == 0 && ipc_send(m.auth_ipc, pf->type, 0, b.data, b.len) == 0) {
		pf->st = st;
		pf->known = 1;
		if (!force)
			log_info("%s file %s changed: reloaded", pf->label, path);
	}
	buf_free(&b);
}

/* The aliases table goes to auth (RCPT to an alias is accepted) and to
 * the queue process (which expands it at delivery). Unset or missing: an
 * empty table, sent anyway, because the queue process waits for it before
 * its first delivery. */
static struct stat aliases_st;
static int aliases_known;

static void
push_aliases(int force)
{
	const char *path = m.rt.cfg->aliases_path;
	struct stat st;
	struct buf b;
	char chunk[8192];
	ssize_t r = 0;
	int fd = -1;

	memset(&st, 0, sizeof(st));
	if (path != NULL) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd == -1 && errno != ENOENT) {
			log_warn("aliases %s: %s", path, strerror(errno));
			if (!force)
				return;
		}
		if (fd != -1 && fstat(fd, &st) == -1) {
			close(fd);
			return;
		}
	}
	if (!force && aliases_known && st.st_ino == aliases_st.st_ino &&
	    st.st_size == aliases_st.st_size &&
	    st.st_mtim.tv_sec == aliases_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == aliases_st.st_mtim.tv_nsec) {
		if (fd != -1)
			close(fd);
		return;
	}
	buf_init(&b, ALIASES_FILE_MAX);
	if (fd != -1) {
		while ((r = read(fd, chunk, sizeof(chunk))) > 0)
			if (buf_append(&b, chunk, (size_t)r) == -1) {
				log_warn("aliases %s: larger than %d bytes",
				    path, ALIASES_FILE_MAX);
				r = -1;
				break;
			}
		close(fd);
	}
	if (r == -1 && force)
		buf_reset(&b);	/* the queue process must hear something */
	if (r == 0 || force) {
		(void)ipc_send(m.auth_ipc, IPC_ALIASES_DB, 0, b.data, b.len);
		(void)ipc_send(m.queue_ipc, IPC_ALIASES_DB, 0, b.data, b.len);
		aliases_st = st;
		aliases_known = 1;
		if (!force)
			log_info("aliases file %s changed: reloaded", path);
	}
	buf_free(&b);
}

static void
push_files(int force)
{
	push_file(&pushed_users, m.rt.cfg->users_path, force);
	push_file(&pushed_secrets, m.rt.cfg->secrets_path, force);
	push_aliases(force);
}

static void
users_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	push_files(0);
}

static void
auth_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)ipc; (void)type; (void)id; (void)data; (void)len; (void)arg;
}

static void
auth_eof_cb(struct ipc *ipc, void *arg)
{
	(void)ipc; (void)arg;
}

/* The socketpairs between the processes of one generation:
 * ma master<->auth, sa smtpd<->auth, pa pop3d<->auth; [0] is the auth end
 * except for ma, where [0] is the master's. */
struct plumbing {
	int	ma[2], sa[2], pa[2];
	int	mq[2];		/* master<->queue: [0] master, [1] queue */
};

static void
close_pair(int p[2])
{
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
}

static pid_t
fork_child(int which, struct plumbing *pl, pid_t master_pid)
{
	sigset_t all, old;
	pid_t pid;
	int keep;

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
	close(pl->ma[0]);
	close(pl->mq[0]);
	if (which == CHILD_QUEUE)
		m.rt.queue_master_fd = pl->mq[1];
	else
		close(pl->mq[1]);
	switch (which) {
	case CHILD_SMTPD:
		keep = pl->sa[1];
		pl->sa[1] = -1;
		close(pl->ma[1]);
		close_pair(pl->sa);
		close_pair(pl->pa);
		smtpd_main(&m.rt, keep);
	case CHILD_AUTH:
		close(pl->sa[1]);
		if (pl->pa[1] != -1)
			close(pl->pa[1]);
		auth_main(&m.rt, pl->ma[1], pl->sa[0], pl->pa[0]);
	case CHILD_POP3D:
		keep = pl->pa[1];
		pl->pa[1] = -1;
		close(pl->ma[1]);
		close_pair(pl->sa);
		close_pair(pl->pa);
		pop3d_main(&m.rt, keep);
	default:
		close(pl->ma[1]);
		close_pair(pl->sa);
		close_pair(pl->pa);
		qmgr_main(&m.rt);
	}
}

static void
start_children(void)
{
	struct plumbing pl;
	pid_t self = getpid();
	int i;

	pl.pa[0] = pl.pa[1] = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pl.ma) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pl.sa) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pl.mq) == -1 ||
	    (m.rt.n_pop3_fds > 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pl.pa) == -1))
		fatal("socketpair: %s", strerror(errno));
	for (i = 0; i < NCHILDREN; i++) {
		m.pids[i] = 0;
		if (i == CHILD_POP3D && m.rt.n_pop3_fds == 0)
			continue;	/* no POP3 listener: no pop3d */
		m.pids[i] = fork_child(i, &pl, self);
	}
	close(pl.ma[1]);
	close_pair(pl.sa);
	close_pair(pl.pa);
	m.auth_ipc = ipc_new(m.base, pl.ma[0], auth_msg_cb, auth_eof_cb, NULL);
	close(pl.mq[1]);
	m.queue_ipc = ipc_new(m.base, pl.mq[0], auth_msg_cb, auth_eof_cb, NULL);
	push_files(1);
	m.last_start = time(NULL);
	log_info("started smtpd[%ld] auth[%ld] queue[%ld] pop3d[%ld]",
	    (long)m.pids[CHILD_SMTPD], (long)m.pids[CHILD_AUTH],
	    (long)m.pids[CHILD_QUEUE], (long)m.pids[CHILD_POP3D]);
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
	int waited = 0;

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
	if (m.auth_ipc != NULL) {
		ipc_free(m.auth_ipc);
		m.auth_ipc = NULL;
	}
	if (m.queue_ipc != NULL) {
		ipc_free(m.queue_ipc);
		m.queue_ipc = NULL;
	}
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
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
	size_t i;
	int same_listen;

	(void)fd; (void)what; (void)arg;
	ncfg = config_load(m.config_path, &errs);
	if (ncfg == NULL) {
		for (i = 0; i < errs.n; i++)
			log_warn("reload: %s", errs.msgs[i]);
		log_warn("reload refused: keeping the running configuration");
		errlist_free(&errs);
		return;
	}
	same_listen = ncfg->n_listen_smtp == m.rt.cfg->n_listen_smtp &&
	    strcmp(ncfg->spool, m.rt.cfg->spool) == 0;
	for (i = 0; same_listen && i < ncfg->n_listen_smtp; i++)
		same_listen = strcmp(ncfg->listen_smtp[i].text,
		    m.rt.cfg->listen_smtp[i].text) == 0;
	same_listen = same_listen &&
	    ncfg->n_listen_pop3 == m.rt.cfg->n_listen_pop3;
	for (i = 0; same_listen && i < ncfg->n_listen_pop3; i++)
		same_listen = strcmp(ncfg->listen_pop3[i].text,
		    m.rt.cfg->listen_pop3[i].text) == 0;
	if (!same_listen) {
		log_warn("reload: listeners or spool changed; restart postern to apply");
		config_free(ncfg);
		return;
	}
	log_info("SIGHUP: configuration reloaded, restarting children");
	m.stopping = 1;
	stop_children(4000);
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

static int
usage(void)
{
	fprintf(stderr, "usage: postern serve -c FILE\n");
	return 2;
}

int
master_main(int argc, char **argv)
{
	struct errlist errs = { NULL, 0 };
	struct timeval sec = { 1, 0 };
	struct event *sigev;
	struct passwd *pw;
	size_t i;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c')
			return usage();
		m.config_path = optarg;
	}
	if (m.config_path == NULL || optind != argc)
		return usage();
	m.rt.cfg = config_load(m.config_path, &errs);
	if (m.rt.cfg == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "postern: configuration errors; not starting\n");
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
