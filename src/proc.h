/* proc - what the master hands each child process, and the child set-up
 *        every process does: die with the master, no core dumps, keep
 *        only the descriptors of its job, drop privileges (verified),
 *        confine the file system, then run its own event loop with its
 *        channel to the master (proc_child_start).
 * Trusts: the master's runtime (opened while it was root).
 * Gives:  proc_child_start(): the whole prelude from one description of
 *         the child (struct proc_child), the same steps in the same order
 *         for every process the master forks.
 * Never:  returns from a *_main function: children exit. */
#ifndef POSTERN_PROC_H
#define POSTERN_PROC_H
#include <sys/types.h>
#include <event2/event.h>
#include "config.h"
#include "ipc.h"

/* What a listener is for. */
enum listen_kind {
	LISTEN_SMTP,		/* MX: port 25 */
	LISTEN_SUBMISSION,	/* 587: AUTH required before MAIL (RFC 6409) */
	LISTEN_SMTPS,		/* 465: implicit TLS, otherwise as submission (RFC 8314) */
	LISTEN_POP3,		/* 110 */
	LISTEN_POP3S,		/* 995: implicit TLS */
	LISTEN_IMAP,		/* 143 */
	LISTEN_IMAPS,		/* 993: implicit TLS */
};

struct runtime {
	struct config	*cfg;
	int		 spool_fd;	/* directory descriptors, opened as root */
	int		 incoming_fd;
	int		 queue_fd;
	int		 mail_fd;
	int		 drop;		/* started as root: drop to uid/gid */
	uid_t		 uid;
	gid_t		 gid;
	int		*smtp_fds;	/* listening sockets */
	size_t		 n_smtp_fds;
	int		*pop3_fds;	/* POP3 listening sockets */
	size_t		 n_pop3_fds;
	int		*smtp_kinds;	/* enum listen_kind of each smtp_fds[i] */
	int		*pop3_kinds;	/* ... of each pop3_fds[i] */
	int		*imap_fds;	/* IMAP listening sockets */
	int		*imap_kinds;	/* ... and their kinds */
	size_t		 n_imap_fds;
	int		 master_fd;	/* in a child: its channel to the master */
	int		 maildrop_fd;	/* spool/maildrop (1733), for pickup.c */
};

/* In a freshly forked child (the master's fork_child): PR_SET_PDEATHSIG, PR_SET_DUMPABLE 0, default
 * signal dispositions, log name. Exits if the master is already gone. */
void	proc_child_init(const char *name, pid_t master_pid);
/* Close every descriptor but stdin/stdout/stderr and keep[0..n) (-1
 * entries are ignored): right after fork, so that a child holds only
 * what its job needs (not the master's event base, not another child's
 * channel). syslog is reopened afterwards. */
void	proc_close_fds_except(const int *keep, size_t n);
/* ipc_eof_cb for a channel the process cannot live without (auth, as
 * seen from smtpd and pop3d): log and exit; the master restarts the set. */
void	proc_peer_gone(struct ipc *ipc, void *arg) __attribute__((noreturn));
/* Drop to rt->uid/gid when rt->drop; fatal() unless verified. */
void	proc_drop(const struct runtime *rt);

/* Landlock (where the kernel has it): after this call the process can
 * reach the file system only beneath the given directory descriptors,
 * each with its PROC_FS_* rights. Without landlock support it logs once
 * and returns: the uid and the descriptors remain the confinement. */
#define PROC_FS_READ	0x1	/* read files, list directories */
#define PROC_FS_WRITE	0x2	/* create, write, rename, remove files */
#define PROC_FS_MKDIR	0x4	/* create directories */
#define PROC_FS_RMDIR	0x8	/* remove or rename directories (IMAP
				 * DELETE and RENAME of folders) */
void	proc_landlock(const int *dirfds, const unsigned *rights, size_t n);

/* The runtime descriptors a child's job uses (struct proc_child.keep). */
#define PROC_KEEP_SPOOL		0x01
#define PROC_KEEP_INCOMING	0x02
#define PROC_KEEP_QUEUE		0x04
#define PROC_KEEP_MAIL		0x08
#define PROC_KEEP_MAILDROP	0x10
#define PROC_KEEP_SMTP		0x20	/* the SMTP listeners (smtp_fds) */
#define PROC_KEEP_POP3		0x40	/* the POP3 listeners (pop3_fds) */
#define PROC_KEEP_IMAP		0x80	/* the IMAP listeners (imap_fds) */

#define PROC_DIRS_MAX	4
/* One directory the process may still reach after landlock. */
struct proc_dir {
	int		 fd;
	unsigned	 rights;	/* PROC_FS_* */
};

/* What one child process is: the part of the runtime it keeps, where it
 * may reach the file system, and how it hears from the master. */
struct proc_child {
	unsigned	 keep;		/* PROC_KEEP_*; the rest is closed */
	struct proc_dir	 dirs[PROC_DIRS_MAX];	/* for proc_landlock() */
	size_t		 ndirs;
	int		 priorities;	/* event_base_priority_init(); 0: one */
	/* After the drop, before landlock: whatever must still read files
	 * outside dirs (OpenSSL's configuration, resolv.conf). May be NULL. */
	void		(*setup)(struct event_base *base, void *arg);
	ipc_msg_cb	 master_msg;
	ipc_eof_cb	 master_eof;	/* NULL: proc_peer_gone */
	/* NULL: SIGTERM keeps its default action (the process dies). */
	void		(*on_sigterm)(evutil_socket_t sig, short what, void *arg);
	void		*arg;		/* for setup, master_* and on_sigterm */
};

/* The prelude of every child's *_main, in this order: close the runtime
 * descriptors outside pc->keep (marked -1 in rt), proc_drop(), a new
 * event base, pc->setup, proc_landlock(pc->dirs), the SIGTERM event, the
 * channel to the master (*master; NULL if rt->master_fd is -1). What
 * must happen as root (qmgr's inotify through /proc/self/fd) is done
 * before the call. Returns the event base; fatal() on failure. */
struct event_base *proc_child_start(struct runtime *rt,
	    const struct proc_child *pc, struct ipc **master);
/* For the master, right after fork: keep rt's descriptors and extra[0..n)
 * (-1 entries ignored), close everything else (proc_close_fds_except). */
void	proc_keep_runtime(struct runtime *rt, const int *extra, size_t n);

void	smtpd_main(struct runtime *rt, int auth_fd) __attribute__((noreturn));
void	auth_main(struct runtime *rt, int smtpd_fd, int pop3d_fd,
	    int imapd_fd) __attribute__((noreturn));
void	qmgr_main(struct runtime *rt) __attribute__((noreturn));
void	pop3d_main(struct runtime *rt, int auth_fd) __attribute__((noreturn));
void	imapd_main(struct runtime *rt, int auth_fd) __attribute__((noreturn));

#endif
