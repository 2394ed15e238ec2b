/* deliver_remote - the outbound SMTP driver of the queue process: routes
 *        (static route lines, else DNS MX via dns.c), connections
 *        (non-blocking, libevent), the smtp_client state machine, timeouts,
 *        connection reuse and concurrency limits.
 * Trusts: jobs from qmgr.c (recipients recorded in queue files: outbound
 *         only ever carries what the policy accepted), and the prefix
 *         qmgr puts before the content (a DKIM-Signature it made); nothing from the
 *         network (smtp_client.c parses it, bounded).
 * Gives:  per-recipient results for each job (OK / TEMP / PERM with the
 *         reply and the host that gave it), through the done callback,
 *         called exactly once per job and never from inside submit.
 * Limits: cfg->remote_max_connections in total,
 *         cfg->remote_max_per_destination per destination,
 *         DR_MESSAGES_PER_CONN transactions per connection.
 * Never:  writes the spool: qmgr.c records the results. */
#ifndef POSTERN_DELIVER_REMOTE_H
#define POSTERN_DELIVER_REMOTE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"
#include "smtp_client.h"

#define DR_MESSAGES_PER_CONN	100

struct event_base;

struct dr_rcpt {
	size_t		index;		/* recipient number in the queue file */
	char		addr[260];
	int		done;		/* result and reply are set (else pending) */
	enum outcome	result;
	char		reply[SMTPC_TEXT_MAX];	/* reply or our own reason */
	char		status[16];	/* "5.4.6" when we decided; "" = from reply */
	char		host[300];	/* "mx.example.net[127.0.0.5]" or "" */
	int		from_remote;	/* reply is the server's */
};

struct dr_job {
	char		id[32];
	int		fd;		/* the queue file (owned by qmgr) */
	off_t		content_off;
	uint64_t	size;		/* prefix and content bytes */
	const char	*prefix;	/* sent before the content (the
					 * DKIM-Signature field), owned by
					 * qmgr; NULL: none */
	size_t		prefix_len;
	int		body_8bit;
	char		from[260];
	char		domain[256];	/* recipient domain (all rcpts share it) */
	struct dr_rcpt	*rcpts;
	size_t		nrcpts;
	void		*owner;		/* qmgr's message */
	struct dr_job	*next;		/* private: destination queue */
};

typedef void (*dr_done_cb)(struct dr_job *job, void *arg);

/* 0, or -1 (logged) when the resolver cannot be set up: remote jobs then
 * fail temporarily. */
int	deliver_remote_init(struct event_base *base, const struct config *cfg,
	    dr_done_cb done, void *arg);
/* Queue a job; done(job) follows later. */
void	deliver_remote_submit(struct dr_job *job);
/* The destination key of a recipient domain ("route HOST:PORT" or
 * "mx DOMAIN"): recipients with the same key share one transaction. */
void	deliver_remote_dest_key(const struct config *cfg, const char *domain,
	    char *buf, size_t len);
/* Jobs queued or in flight. */
size_t	deliver_remote_busy(void);
#endif
