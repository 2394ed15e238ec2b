/* qfile - the queue file: its on-disk format and the queue's invariants.
 * Trusts: files in spool/queue were written by postern (smtpd or the
 *         queue process); still, every field is checked when read.
 * Gives:  envelope formatting (smtpd), envelope parsing with the file
 *         offsets of each recipient's status byte (queue process), ids.
 * Never:  does I/O; the callers own the files (smtpd.c, qmgr.c).
 *
 * Spool layout:
 *   incoming/ID   being received; not acknowledged; removed at start-up
 *   queue/ID      acknowledged: renamed here after fsync(file); the 250 is
 *                 sent only after fsync(queue/) too
 *   deferred/ID   advisory retry state of queue/ID (see below)
 *   hold/ID       a queue file put on hold by `postern queue hold`; the
 *                 queue process does not look here; `release` renames it
 *                 back into queue/ (the inotify watch sees IN_MOVED_TO)
 *   maildrop/     `postern sendmail` drops new mail here (mode 1733)
 *   mail/USER/Maildir/{tmp,new,cur}   local mailboxes
 *   queue/.flush  created (and removed) by `postern queue flush` after it
 *                 set every deferred/ID's "next" to 0: the queue process
 *                 sees IN_CLOSE_WRITE on it and retries everything now
 *
 * deferred/ID is text (schedule.h), rewritten atomically (fileio_replace:
 * deferred/.ID.tmp, fsync, rename, fsync deferred/). It is advisory:
 * losing it only makes the next retry earlier.
 *   next UNIXTIME          earliest next attempt
 *   attempts N             attempts so far
 *   error N TEXT           last error of recipient number N (0-based, in
 *                          queue-file order), TEXT to the end of the line
 *
 * A queue file is an envelope, an empty line, and the content:
 *   POSTERN-QUEUE 1
 *   id 0000019C7E3A1B2F4A1
 *   time 1795812345
 *   client 127.0.0.2
 *   auth -
 *   from <alice@example.net>          ("from <>" for the null sender)
 *   rcpt P L alice <alice@mydomain.test>
 *   rcpt P R - <bob@example.net>
 *   helo the client's HELO text (printable ASCII, to the end of the line)
 *   authres mx.example; spf=pass ...<TAB>dkim=...   (optional: our
 *           Authentication-Results of a stranger's message, folds as
 *           TABs; written as a slot of spaces at DATA and filled in place
 *           before the fsync; trailing spaces are not part of it)
 *
 *   Received: ... (our trace header, then the message as received, CRLF)
 * Each "rcpt" line carries a status byte at a fixed place (column 5):
 *   P pending, D delivered, F failed permanently (bounced).
 * kind L = local mailbox (third field), R = remote (third field "-").
 *
 * States and the invariant start-up relies on (as qmail's INTERNALS):
 *   1. incoming/ID exists only while a session receives it; no client was
 *      told 250 for it, so recovery deletes it.
 *   2. queue/ID is complete and fsync'ed before the directory entry is
 *      fsync'ed, and both before the 250: every acknowledged message is
 *      in queue/ after any crash.
 *   3. A recipient's byte goes P -> D (or F) only after its delivery is
 *      durable (the Maildir file and its directory fsync'ed). A crash in
 *      between repeats that one delivery: at least once, never zero.
 *   4. queue/ID is unlinked only when no recipient is P.
 */
#ifndef POSTERN_QFILE_H
#define POSTERN_QFILE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "buf.h"

#define QFILE_ID_LEN		19
#define QFILE_MAGIC		"POSTERN-QUEUE 1\n"
#define QFILE_ENVELOPE_MAX	(1024 * 1024)
/* Our Authentication-Results value: a few results; more DKIM signatures
 * than fit are left out by the writer (verify.h). */
#define QFILE_AUTHRES_MAX	1536

enum qfile_rcpt_kind { QFILE_LOCAL = 'L', QFILE_REMOTE = 'R' };
enum qfile_rcpt_status { QFILE_PENDING = 'P', QFILE_DONE = 'D', QFILE_FAILED = 'F' };

struct qfile_rcpt {
	char		status;		/* QFILE_PENDING ... */
	char		kind;		/* QFILE_LOCAL / QFILE_REMOTE */
	char		mailbox[64];	/* local user, "" for remote */
	char		addr[260];	/* without <> */
	off_t		status_off;	/* file offset of the status byte */
};

struct qfile_envelope {
	char		id[QFILE_ID_LEN + 1];
	time_t		time;
	char		client[64];
	char		auth[64];	/* "" when none */
	char		from[260];	/* "" for the null sender */
	char		helo[256];
	struct qfile_rcpt *rcpts;
	size_t		nrcpts;
	off_t		content_off;	/* first byte of the content */
	/* Our Authentication-Results field of a stranger's message, its value
	 * with each fold (CRLF TAB) as one TAB; "" none (older files). */
	char		authres[QFILE_AUTHRES_MAX + 1];
	size_t		authres_slot;	/* format: reserve this many bytes for it */
	size_t		authres_off;	/* format: where in out the slot starts */
};

/* A new queue id into id_r (QFILE_ID_LEN + 1 bytes): time in
 * microseconds and a counter, in hex, so ids sort by arrival.
 * Collisions are possible across processes; callers create with O_EXCL. */
void	qfile_make_id(char *id_r, uint64_t usec, uint32_t salt);
/* 1 if s is a well-formed queue id. */
int	qfile_id_valid(const char *s);

/* Append the envelope (through the empty line) to out. With
 * e->authres_slot, an "authres" line of that many bytes (e->authres and
 * spaces) whose value starts at e->authres_off in out. Values must be
 * free of CR, LF and (except helo) spaces; returns -1 if not or if out is full. */
int	qfile_envelope_format(struct buf *out, struct qfile_envelope *e);
/* The queue file's form of an Authentication-Results field (name, CRLF
 * TAB folds, final CRLF) into out (outlen bytes): 0, or -1 when it is not
 * such a field or does not fit. */
int	qfile_authres_encode(const char *field, size_t len, char *out,
	    size_t outlen);
/* The field again, from that form, appended to out. 0 or -1 (full). */
int	qfile_authres_header(const char *value, struct buf *out);
/* Parse the envelope at the start of text. On success fills e (free with
 * qfile_envelope_free) and returns 0; -1 on any malformation. Every field
 * is checked with the rule its writer used: local mailboxes with
 * users_name_valid, addresses with address_parse_path, the client as an
 * IP address (or "local", "bounce", "double-bounce"), the id, the status
 * and kind letters, the auth name (printable ASCII, no spaces). */
int	qfile_envelope_parse(const char *text, size_t len,
	    struct qfile_envelope *e);
/* The same, and on -1 *why_r (may be NULL) names the first bad field in
 * a static string for the log ("bad rcpt mailbox"). */
int	qfile_envelope_check(const char *text, size_t len,
	    struct qfile_envelope *e, const char **why_r);
void	qfile_envelope_free(struct qfile_envelope *e);
/* 1 if any recipient is still pending. */
int	qfile_envelope_pending(const struct qfile_envelope *e);
/* RFC 5322 date for trace headers ("Fri, 27 Nov 2026 20:34:30 +0000"). */
void	qfile_rfc5322_date(time_t t, char *buf, size_t len);
#endif
