/* auth - the auth process: owns the user table (handed over by the master,
 *        which reads the root-only file) and answers the network-facing
 *        processes' questions about users.
 * Trusts: the master's messages; smtpd's requests only as far as their
 *         framing, each one is validated.
 * Gives:  "does this local user exist" answers (later: password checks,
 *         POP-before-SMTP grants).
 * Never:  reads the users file itself or touches the network. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "smtp_session.h"
#include "users.h"

static struct auth {
	struct event_base *base;
	struct ipc	*master;
	struct ipc	*smtpd;
	struct users	*users;		/* NULL until the master sent the table */
	const struct config *cfg;
} a;

static void
load_users(const char *text, size_t len)
{
	struct errlist errs = { NULL, 0 };
	size_t i;

	if (a.users != NULL)
		users_free(a.users);
	a.users = users_parse(a.cfg->users_path, text, len, &errs);
	for (i = 0; i < errs.n; i++)
		log_warn("%s", errs.msgs[i]);
	errlist_free(&errs);
	log_info("user table loaded: %zu users", a.users->n);
}

static void
master_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	(void)ipc; (void)id; (void)arg;
	if (type == IPC_USERS_DB)
		load_users(data, len);
	else
		log_warn("unexpected message %u from master", type);
}

static void
smtpd_msg_cb(struct ipc *ipc, uint32_t type, uint64_t id, const void *data,
    size_t len, void *arg)
{
	char name[USERS_NAME_MAX + 1];
	unsigned char r;

	(void)arg;
	if (type != IPC_USER_LOOKUP) {
		log_warn("unexpected message %u from smtpd", type);
		return;
	}
	if (a.users == NULL) {
		r = SMTP_USER_TEMPFAIL;
	} else if (len == 0 || len > USERS_NAME_MAX) {
		r = SMTP_USER_UNKNOWN;
	} else {
		memcpy(name, data, len);
		name[len] = '\0';
		r = users_name_valid(name) && users_find(a.users, name) != NULL ?
		    SMTP_USER_FOUND : SMTP_USER_UNKNOWN;
	}
	ipc_send(ipc, IPC_USER_LOOKUP_REPLY, id, &r, 1);
}

static void
eof_cb(struct ipc *ipc, void *arg)
{
	(void)ipc; (void)arg;
	log_info("peer closed; exiting");
	exit(0);
}

void
auth_main(struct runtime *rt, int master_fd, int smtpd_fd)
{
	a.cfg = rt->cfg;
	close(rt->incoming_fd);
	close(rt->queue_fd);
	close(rt->mail_fd);
	close(rt->spool_fd);
	for (size_t i = 0; i < rt->n_smtp_fds; i++)
		close(rt->smtp_fds[i]);
	proc_drop(rt);
	a.base = event_base_new();
	if (a.base == NULL)
		fatal("event_base_new failed");
	a.master = ipc_new(a.base, master_fd, master_msg_cb, eof_cb, NULL);
	a.smtpd = ipc_new(a.base, smtpd_fd, smtpd_msg_cb, eof_cb, NULL);
	event_base_dispatch(a.base);
	exit(0);
}
