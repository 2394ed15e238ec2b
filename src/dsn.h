/* dsn - delivery status notifications (RFC 3464 multipart/report) and the
 *       message facts that decide them (Received: count for loops).
 * Trusts: the original message's header bytes only as data: they are
 *         copied into a text/rfc822-headers part, bounded, never parsed
 *         beyond line ends; remote replies are sanitised to printable ASCII.
 * Gives:  the complete content (headers + body, CRLF) of a bounce message
 *         for the queue process to write as a new queue file.
 * Limits: the original's header fields only (lines that are "name:" or
 *         their continuations, up to the first other line), at most
 *         DSN_HEADERS_CARRY octets, cut at a line end; the original body
 *         is never returned, even when it has no empty line before it.
 * Never:  does I/O or reads a clock (the caller passes the times). */
#ifndef POSTERN_DSN_H
#define POSTERN_DSN_H
#include <stddef.h>
#include <time.h>
#include "buf.h"

#define DSN_HEADERS_MAX		(64 * 1024)	/* read from the original */
#define DSN_HEADERS_CARRY	(16 * 1024)	/* copied into a bounce */
#define DSN_MAX			(DSN_HEADERS_MAX + 256 * 1024)
#define DSN_LOOP_RECEIVED	50	/* more Received: headers is a loop */

struct dsn_rcpt {
	const char	*addr;		/* the original recipient */
	const char	*status;	/* "5.1.1"; NULL: taken from diag */
	const char	*diag;		/* "550 5.1.1 ... " or our own text */
	const char	*remote_mta;	/* host that answered, or NULL */
	int		from_remote;	/* diag is an SMTP reply */
};

struct dsn_info {
	const char	*hostname;	/* our name (Reporting-MTA, From:) */
	const char	*queue_id;	/* the original's queue id */
	time_t		arrival;	/* when the original was queued */
	time_t		now;
	const char	*to;		/* who gets the bounce ("" postmaster) */
	const char	*orig_from;	/* the original's envelope sender */
	const struct dsn_rcpt *rcpts;
	size_t		nrcpts;
	const char	*headers;	/* the original's header block */
	size_t		headers_len;
	const char	*boundary;	/* unique text for the MIME boundary */
};

/* Append the whole bounce (headers, empty line, body) to out.
 * 0, or -1 if out is too small. */
int	dsn_build(struct buf *out, const struct dsn_info *in);
/* Length of the header block at the start of content: through the empty
 * line (CRLF CRLF), or all of it when there is none. */
size_t	dsn_header_len(const char *content, size_t len);
/* How many octets at the start of h[0..len) are whole header field lines
 * (with continuations), stopping at the empty line, at the first line
 * that is not a field, at an unterminated line, or before max. */
size_t	dsn_fields_len(const char *h, size_t len, size_t max);
/* Received: header fields in a header block (case-insensitive, at line
 * starts, not counting continuation lines). */
size_t	dsn_count_received(const char *hdrs, size_t len);
/* The enhanced status code of an SMTP reply ("550 5.1.1 x" -> "5.1.1"),
 * or the default by class (perm: "5.0.0", else "4.0.0"), into buf. */
const char *dsn_status(const char *reply, int perm, char *buf, size_t len);
#endif
