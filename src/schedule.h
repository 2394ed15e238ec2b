/* schedule - retry intervals and the deferred/ID file (see qfile.h).
 * Trusts: nothing in a deferred/ID file: it is advisory, every field is
 *         checked, and a bad file parses as "no state" (retry now).
 * Gives:  the next retry time after N failed attempts (doubling from
 *         retry_min, capped at retry_max), the expiry test for
 *         max_queue_lifetime, and formatting/parsing of deferred/ID: the
 *         one parser and writer of that format, for the queue process and
 *         `postern queue` alike (what one believes, the other shows).
 * Limits: SCHEDULE_FILE_MAX bytes per file, SCHEDULE_ERROR_MAX per error
 *         text; at most SCHEDULE_ERRORS_MAX error lines are kept.
 * Never:  does I/O or reads a clock: the caller passes `now`. */
#ifndef POSTERN_SCHEDULE_H
#define POSTERN_SCHEDULE_H
#include <stddef.h>
#include <time.h>
#include "buf.h"

#define SCHEDULE_FILE_MAX	(256 * 1024)
#define SCHEDULE_ERROR_MAX	512
#define SCHEDULE_ERRORS_MAX	1000

struct schedule_error {
	size_t	rcpt;				/* 0-based, queue-file order */
	char	text[SCHEDULE_ERROR_MAX];	/* printable ASCII */
};

struct schedule {
	time_t	next;		/* earliest next attempt; 0 = now */
	unsigned attempts;	/* failed attempts so far */
	struct schedule_error *errors;
	size_t	nerrors;
};

/* Seconds to wait after the attempts-th failed attempt (attempts >= 1):
 * retry_min * 2^(attempts-1), never more than retry_max (nor less than 1). */
unsigned schedule_backoff(unsigned attempts, unsigned retry_min,
	    unsigned retry_max);
/* 1 if a message queued at `queued` has outlived lifetime at now. */
int	schedule_expired(time_t queued, time_t now, unsigned lifetime);
/* Record one failed attempt at now: attempts++, next = now + backoff. */
void	schedule_fail(struct schedule *s, time_t now, unsigned retry_min,
	    unsigned retry_max);
/* Set (replace) the last error of recipient rcpt. Text is sanitised:
 * CR/LF/controls become spaces, truncated to SCHEDULE_ERROR_MAX - 1.
 * -1 when SCHEDULE_ERRORS_MAX would be exceeded (ignored). */
int	schedule_set_error(struct schedule *s, size_t rcpt, const char *text);
/* The last error recorded for rcpt, or NULL. */
const char *schedule_error(const struct schedule *s, size_t rcpt);
/* The deferred/ID text. 0, or -1 if out is full. */
int	schedule_format(struct buf *out, const struct schedule *s);
/* Parse deferred/ID text. 0 and *s filled (free with schedule_free), or
 * -1 (s is left empty) on any malformation: unknown line, bad number,
 * missing "next", a line without its LF. */
int	schedule_parse(const char *text, size_t len, struct schedule *s);
void	schedule_free(struct schedule *s);
#endif
