/* proc - what the master hands each child process, and the child set-up
 *        every process does: die with the master, no core dumps, drop
 *        privileges (verified), then run its own event loop.
 * Trusts: the master's runtime (opened while it was root).
 * Never:  returns from a *_main function: children exit. */
#ifndef POSTERN_PROC_H
#define POSTERN_PROC_H
#include <sys/types.h>
#include "config.h"

/* What a listener is for. */
enum listen_kind {
	LISTEN_SMTP,		/* MX: port 25 */
	LISTEN_SUBMISSION,	/* 587: AUTH required before MAIL (RFC 6409) */
	LISTEN_SMTPS,		/* 465: implicit TLS, otherwise as submission (RFC 8314) */
	LISTEN_POP3,		/* 110 */
	LISTEN_POP3S,		/* 995: implicit TLS */
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
	int		*pop3_fds;	/* POP3 listening sockets (issue 3) */
	size_t		 n_pop3_fds;
	int		*smtp_kinds;	/* enum listen_kind of each smtp_fds[i] */
	int		*pop3_kinds;	/* ... of each pop3_fds[i] */
	int		 master_fd;	/* in a child: its channel to the master */
	int		 maildrop_fd;	/* spool/maildrop (1733), for pickup.c */
};

/* In a freshly forked child: PR_SET_PDEATHSIG, PR_SET_DUMPABLE 0, default
 * signal dispositions, log name. Exits if the master is already gone. */
void	proc_child_init(const char *name, pid_t master_pid);
/* Close every descriptor but stdin/stdout/stderr and keep[0..n) (-1
 * entries are ignored): right after fork, so that a child holds only
 * what its job needs (not the master's event base, not another child's
 * channel). syslog is reopened afterwards. */
void	proc_close_fds_except(const int *keep, size_t n);
struct ipc;
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
void	proc_landlock(const int *dirfds, const unsigned *rights, size_t n);

void	smtpd_main(struct runtime *rt, int auth_fd) __attribute__((noreturn));
void	auth_main(struct runtime *rt, int smtpd_fd, int pop3d_fd)
	    __attribute__((noreturn));
void	qmgr_main(struct runtime *rt) __attribute__((noreturn));
void	pop3d_main(struct runtime *rt, int auth_fd) __attribute__((noreturn));

#endif
