/* cmd_queue - the pure parts of `postern queue` (cmd_queue.c): reading
 *             and rewriting the advisory retry state deferred/ID (format
 *             in queue.h), and ages for the listing.
 * Trusts: nothing in deferred/ID: it is advisory, so bad lines are
 *         skipped, never fatal.
 * Gives:  the parsed state; the same text with "next 0" for a flush.
 * Limits: texts up to CMD_QUEUE_DEFERRED_MAX bytes.
 * Never:  does I/O. */
#ifndef POSTERN_CMD_QUEUE_H
#define POSTERN_CMD_QUEUE_H
#include <stddef.h>
#include <time.h>
#include "buf.h"

#define CMD_QUEUE_DEFERRED_MAX	(1024 * 1024)

struct cmd_queue_error {
	size_t		rcpt;		/* recipient number, 0-based */
	char		*text;		/* malloc'ed, printable ASCII only */
};

struct cmd_queue_deferred {
	int		has_next;
	long long	next;		/* earliest next attempt (unix time) */
	unsigned long	attempts;
	struct cmd_queue_error *errors;
	size_t		nerrors;
};

/* Parse deferred/ID text. Unknown or malformed lines are skipped; a later
 * "error N" line for the same N replaces an earlier one. Control bytes in
 * error texts become '?'. Free with cmd_queue_deferred_free. */
void	cmd_queue_deferred_parse(const char *text, size_t len,
	    struct cmd_queue_deferred *d);
void	cmd_queue_deferred_free(struct cmd_queue_deferred *d);
/* The last error of recipient rcpt, or NULL. */
const char *cmd_queue_deferred_error(const struct cmd_queue_deferred *d,
	    size_t rcpt);

/* The text with every "next" line replaced by "next 0" (one is added in
 * front if there is none); other lines are kept byte for byte, a last
 * line without "\n" gets one. 0, or -1 when out is full. */
int	cmd_queue_deferred_flush(const char *text, size_t len, struct buf *out);

/* A duration as "45s", "12m", "3h", "2d5h" into buf. */
void	cmd_queue_age(long long secs, char *buf, size_t len);
#endif
