/* pickup - in the queue process: turns maildrop files (written by
 *          `postern sendmail`, format and invariants in maildrop.h) into
 *          queue files (qfile.h).
 * Trusts: nothing in a maildrop file (any local user wrote it); only the
 *         kernel's word on who wrote it: the file owner (fstat) must equal
 *         the "uid" line, and the file must be a regular file with one
 *         link. The passwd name of that uid is the "authenticated" user
 *         for relay_decide (rule "authenticated NAME"): local submission
 *         is authenticated by the kernel.
 * Gives:  queue/QID (a new id) written incoming/QID -> fdatasync ->
 *         rename (never replacing) -> fsync(queue/), and only then the
 *         maildrop file unlinked (maildrop.h invariant 2). Every recipient
 *         goes through relay_decide: local domains become QFILE_LOCAL with
 *         mailbox = lower-cased local part, without a recipient_delimiter
 *         part (postmaster -> cfg->postmaster; as smtp_session.c does),
 *         others QFILE_REMOTE; rejected recipients (routing tricks, names
 *         that cannot be mailboxes) are dropped with a log line. A file
 *         that fails a check, or keeps no recipient, goes to
 *         spool/corrupt/maildrop-ID. Our trace header leads the content:
 *           Received: by HOST (postern sendmail, uid N)
 *           	id QID; DATE
 * Limits: content max_message_size, recipients max_recipients, envelope
 *         MAILDROP_ENVELOPE_MAX; ".tmp.*" and other non-id names older
 *         than PICKUP_STALE_SECONDS are removed.
 * Never:  checks that a local user exists (the users file is root's and
 *         the queue process has no channel to auth yet), delivers, or
 *         replaces an existing queue file. */
#ifndef POSTERN_PICKUP_H
#define POSTERN_PICKUP_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "config.h"
#include "maildrop.h"
#include "outcome.h"
#include "qfile.h"

#define PICKUP_STALE_SECONDS	86400
#define PICKUP_RESCAN_SECONDS	60

struct runtime;
struct event_base;

/* What pickup works with; the queue process fills it from its runtime,
 * a unit test from temporary directories. */
struct pickup_ctx {
	const struct config *cfg;
	int		spool_fd;	/* for corrupt/ */
	int		maildrop_fd;
	int		incoming_fd;
	int		queue_fd;
	uint32_t	salt;		/* queue id counter */
};

/* Build the queue envelope (id, time, client "local", auth login, from,
 * recipients; helo "") for a parsed maildrop envelope: pure. Rejected
 * recipients are reported through why_r (one line per recipient, may be
 * NULL). Returns the number of recipients kept (0: nothing to deliver).
 * qe->rcpts is malloc'ed (free with qfile_envelope_free). */
size_t	pickup_envelope(const struct config *cfg,
	    const struct maildrop_envelope *me, const char *login,
	    const char *id, time_t now, struct qfile_envelope *qe,
	    struct buf *why_r);

/* Pick up maildrop/name (a queue id). Logs what it did. qid_r
 * (QFILE_ID_LEN + 1 bytes, may be NULL) receives the new queue id, or ""
 * when there was nothing to pick up. Returns
 *   OUTCOME_OK    now queue/QID and the maildrop file is gone; or no such
 *                 file (picked up already, or not a queue id): qid_r "";
 *   OUTCOME_TEMP  I/O trouble: the file stays, retried later;
 *   OUTCOME_PERM  invalid: moved to corrupt/ (or could not be). */
enum outcome pickup_file(struct pickup_ctx *c, const char *name,
	    char *qid_r);
/* Pick up every file in maildrop/ (sorted by name) and remove stale
 * leftovers. Returns how many were picked up. */
size_t	pickup_scan(struct pickup_ctx *c);

/* The queue process: before privileges are dropped, open incoming/ and
 * watch maildrop/ (inotify IN_MOVED_TO); 0, or -1 (logged; pickup then
 * relies on rescans, or is off if maildrop/ is missing). */
int	pickup_init(struct runtime *rt);
/* In the queue process's loop: events, a rescan every
 * PICKUP_RESCAN_SECONDS, and a first scan now. */
void	pickup_start(struct event_base *base);
#endif
