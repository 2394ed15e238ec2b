/* proc - child process set-up and privilege dropping; see proc.h. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <event2/event.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/landlock.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "decimal.h"
#include "proc.h"

/* gcc says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer). */
#if defined(__SANITIZE_ADDRESS__)
#define POSTERN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POSTERN_ASAN 1
#endif
#endif

/* Newer than some distributions' kernel headers (ABI 3, Linux 6.2). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif

static pid_t proc_master_pid;

/* Die with the master. Set again after every credential change: the
 * kernel clears the parent-death signal when uids change. */
static void
proc_die_with_master(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		fatal("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
	if (getppid() != proc_master_pid)
		_exit(0);
}

static int
fd_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* close_range(2) over the gaps between the kept descriptors; where the
 * kernel lacks it, the descriptors listed in /proc/self/fd one by one. */
static void
close_from(unsigned lo, unsigned hi, const int *keep, size_t n)
{
	DIR *dir;
	struct dirent *de;
	size_t i;
	int fd, dfd, kept;
	uint64_t v;

	if (lo > hi)
		return;
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
	if ((dir = opendir("/proc/self/fd")) == NULL)
		fatal("close descriptors: /proc/self/fd: %s", strerror(errno));
	dfd = dirfd(dir);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (parse_decimal(de->d_name, strlen(de->d_name), INT_MAX,
		    &v) == -1)
			continue;
		fd = (int)v;
		if (fd == dfd || fd < (int)lo || (unsigned)fd > hi)
			continue;
		for (kept = 0, i = 0; i < n; i++)
			kept |= keep[i] == fd;
		if (!kept)
			close(fd);
	}
	closedir(dir);
}

void
proc_close_fds_except(const int *keep, size_t n)
{
	int *k = xcalloc(n + 1, sizeof(*k));
	size_t i, m = 0;
	unsigned lo = 3;

	for (i = 0; i < n; i++)
		if (keep[i] > 2)
			k[m++] = keep[i];
	qsort(k, m, sizeof(*k), fd_cmp);
	log_before_close_fds();
	for (i = 0; i < m; i++) {
		if ((unsigned)k[i] > lo)
			close_from(lo, (unsigned)k[i] - 1, k, m);
		lo = (unsigned)k[i] + 1;
	}
	close_from(lo, ~0U, k, m);
	log_after_close_fds();
	free(k);
}

void
proc_child_init(const char *name, pid_t master_pid)
{
	/* Children must not outlive the master, even a SIGKILLed one, or a
	 * restarted server could not bind its ports. */
	proc_master_pid = master_pid;
	proc_die_with_master();
	/* No core files with mail in them; no ptrace between our processes. */
	prctl(PR_SET_DUMPABLE, 0);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	log_setproc(name);
}

void
proc_drop(const struct runtime *rt)
{
	if (!rt->drop)
		return;
	if (setgroups(1, &rt->gid) == -1 || setresgid(rt->gid, rt->gid, rt->gid) == -1 ||
	    setresuid(rt->uid, rt->uid, rt->uid) == -1)
		fatal("cannot drop privileges: %s", strerror(errno));
	if (getuid() != rt->uid || geteuid() != rt->uid || getgid() != rt->gid ||
	    setuid(0) != -1)
		fatal("privileges were not dropped");
	prctl(PR_SET_DUMPABLE, 0);
	proc_die_with_master();
}

/* Rights landlock knows by ABI version; we handle all we can name, so an
 * unlisted right is denied everywhere. */
static uint64_t
landlock_handled(long abi)
{
	uint64_t r = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return r;
}

void
proc_landlock(const int *dirfds, const unsigned *rights, size_t n)
{
	struct landlock_ruleset_attr attr;
	struct landlock_path_beneath_attr pb;
	long abi;
	size_t i;
	int rfd;

#if defined(POSTERN_ASAN)
	/* Sanitizer builds (make check-asan) are test builds: LeakSanitizer
	 * reads /proc and writes its log at exit, which landlock forbids. */
	(void)dirfds; (void)rights; (void)n;
	log_info("landlock off in this sanitizer build");
	return;
#endif
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		log_info("landlock not available: confined by uid and directory "
		    "descriptors only");
		return;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = landlock_handled(abi);
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rfd == -1)
		fatal("landlock_create_ruleset: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		memset(&pb, 0, sizeof(pb));
		pb.parent_fd = dirfds[i];
		if (rights[i] & PROC_FS_READ)
			pb.allowed_access |= LANDLOCK_ACCESS_FS_READ_FILE |
			    LANDLOCK_ACCESS_FS_READ_DIR;
		if (rights[i] & PROC_FS_WRITE)
			pb.allowed_access |= LANDLOCK_ACCESS_FS_WRITE_FILE |
			    LANDLOCK_ACCESS_FS_MAKE_REG |
			    LANDLOCK_ACCESS_FS_REMOVE_FILE |
			    (abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0) |
			    (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0);
		if (rights[i] & PROC_FS_MKDIR)
			pb.allowed_access |= LANDLOCK_ACCESS_FS_MAKE_DIR;
		if (rights[i] & PROC_FS_RMDIR)
			pb.allowed_access |= LANDLOCK_ACCESS_FS_REMOVE_DIR;
		pb.allowed_access &= attr.handled_access_fs;
		if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH,
		    &pb, 0) == -1)
			fatal("landlock_add_rule: %s", strerror(errno));
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_landlock_restrict_self, rfd, 0) == -1)
		fatal("landlock_restrict_self: %s", strerror(errno));
	close(rfd);
}

void
proc_peer_gone(struct ipc *ipc, void *arg)
{
	(void)ipc; (void)arg;
	log_info("auth process gone; exiting");
	exit(0);
}

struct runtime_fd {
	int		*fd;
	unsigned	 bit;		/* PROC_KEEP_* */
};

/* Every descriptor of the runtime but the master channel, each with the
 * PROC_KEEP_* bit it goes by (an allocated array; *n its length). */
static struct runtime_fd *
runtime_fds(struct runtime *rt, size_t *n)
{
	struct runtime_fd *v = xcalloc(5 + rt->n_smtp_fds + rt->n_pop3_fds +
	    rt->n_imap_fds, sizeof(*v));
	size_t i, k = 0;

	v[k++] = (struct runtime_fd){ &rt->spool_fd, PROC_KEEP_SPOOL };
	v[k++] = (struct runtime_fd){ &rt->incoming_fd, PROC_KEEP_INCOMING };
	v[k++] = (struct runtime_fd){ &rt->queue_fd, PROC_KEEP_QUEUE };
	v[k++] = (struct runtime_fd){ &rt->mail_fd, PROC_KEEP_MAIL };
	v[k++] = (struct runtime_fd){ &rt->maildrop_fd, PROC_KEEP_MAILDROP };
	for (i = 0; i < rt->n_smtp_fds; i++)
		v[k++] = (struct runtime_fd){ &rt->smtp_fds[i], PROC_KEEP_SMTP };
	for (i = 0; i < rt->n_pop3_fds; i++)
		v[k++] = (struct runtime_fd){ &rt->pop3_fds[i], PROC_KEEP_POP3 };
	for (i = 0; i < rt->n_imap_fds; i++)
		v[k++] = (struct runtime_fd){ &rt->imap_fds[i], PROC_KEEP_IMAP };
	*n = k;
	return v;
}

void
proc_keep_runtime(struct runtime *rt, const int *extra, size_t n)
{
	size_t i, k;
	struct runtime_fd *v = runtime_fds(rt, &k);
	int *keep = xcalloc(k + n + 1, sizeof(*keep));

	for (i = 0; i < k; i++)
		keep[i] = *v[i].fd;
	for (i = 0; i < n; i++)
		keep[k + i] = extra[i];
	keep[k + n] = rt->master_fd;
	proc_close_fds_except(keep, k + n + 1);
	free(keep);
	free(v);
}

/* The runtime descriptors outside keep: closed, and -1 in rt, so that
 * the runtime says what the process still holds. */
static void
runtime_close_unused(struct runtime *rt, unsigned keep)
{
	size_t i, n;
	struct runtime_fd *v = runtime_fds(rt, &n);

	for (i = 0; i < n; i++)
		if (!(v[i].bit & keep) && *v[i].fd != -1) {
			close(*v[i].fd);
			*v[i].fd = -1;
		}
	free(v);
}

struct event_base *
proc_child_start(struct runtime *rt, const struct proc_child *pc,
    struct ipc **master)
{
	struct event_base *base;
	struct event *sig;
	int fds[PROC_DIRS_MAX];
	unsigned rights[PROC_DIRS_MAX];
	size_t i, n = pc->ndirs < PROC_DIRS_MAX ? pc->ndirs : PROC_DIRS_MAX;

	runtime_close_unused(rt, pc->keep);
	proc_drop(rt);
	base = event_base_new();
	if (base == NULL || (pc->priorities > 1 &&
	    event_base_priority_init(base, pc->priorities) == -1))
		fatal("event_base_new failed");
	if (pc->setup != NULL)
		pc->setup(base, pc->arg);
	for (i = 0; i < n; i++) {
		fds[i] = pc->dirs[i].fd;
		rights[i] = pc->dirs[i].rights;
	}
	proc_landlock(fds, rights, n);
	if (pc->on_sigterm != NULL) {
		sig = evsignal_new(base, SIGTERM, pc->on_sigterm, pc->arg);
		if (sig == NULL || evsignal_add(sig, NULL) == -1)
			fatal("cannot catch SIGTERM");
	}
	*master = NULL;
	if (rt->master_fd != -1) {
		*master = ipc_new(base, rt->master_fd, pc->master_msg,
		    pc->master_eof != NULL ? pc->master_eof : proc_peer_gone,
		    pc->arg);
		if (*master == NULL)
			fatal("cannot set up the channel to the master");
	}
	return base;
}
