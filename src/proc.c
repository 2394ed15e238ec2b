/* proc - child process set-up and privilege dropping; see proc.h. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

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
