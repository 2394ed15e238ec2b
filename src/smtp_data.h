/* smtp_data - the DATA byte stream: end-of-data detection and dot-unstuffing.
 * Trusts: nothing; bytes come from the client, in chunks of any size.
 * Gives:  the message content with transparency dots removed, appended to
 *         an output buffer, and the exact moment <CRLF>.<CRLF> ends it.
 *         The end of data is <CRLF>.<CRLF> and nothing else: "\n.\n",
 *         "\r\n.\n", "\n.\r\n", "\r.\r" never end it (SMTP smuggling).
 *         Faults are flags, never early replies: the caller keeps feeding
 *         until the real end and then answers once. It also counts the
 *         Received: fields of the header section (for the hop limit), so
 *         that a loop is refused before the 250 instead of bounced later.
 * Limits: text lines of 1000 octets including CRLF, not counting the
 *         transparency dot; message size max_size (content after
 *         unstuffing); beyond it nothing more is appended to out. The
 *         header scan keeps SMTP_DATA_HDR_PREFIX bytes of a line, never
 *         more, and its count saturates at SMTP_DATA_RECEIVED_MAX.
 * Never:  does I/O or allocates beyond the caller's out buffer. */
#ifndef POSTERN_SMTP_DATA_H
#define POSTERN_SMTP_DATA_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define SMTP_DATA_LINE_MAX	1000	/* including CRLF */

#define SMTP_DATA_F_BARE_LF	0x01
#define SMTP_DATA_F_BARE_CR	0x02
#define SMTP_DATA_F_NUL		0x04
#define SMTP_DATA_F_LONG_LINE	0x08
#define SMTP_DATA_F_TOO_BIG	0x10
#define SMTP_DATA_F_8BIT	0x20	/* informational: a byte >= 0x80 was seen */
#define SMTP_DATA_F_REJECT	(SMTP_DATA_F_BARE_LF | SMTP_DATA_F_BARE_CR | \
				 SMTP_DATA_F_NUL | SMTP_DATA_F_LONG_LINE | \
				 SMTP_DATA_F_TOO_BIG)

#define SMTP_DATA_HDR_PREFIX	16	/* enough for "Received" WSP* ":" */
#define SMTP_DATA_RECEIVED_MAX	100000	/* the count saturates here */

struct smtp_data {
	int		state;		/* private */
	size_t		linelen;	/* octets in the current line so far */
	uint64_t	size;		/* content octets produced (after unstuffing) */
	uint64_t	max_size;
	unsigned	flags;		/* SMTP_DATA_F_* */
	unsigned	done;		/* <CRLF>.<CRLF> seen */
	/* The header section, scanned on the content as it is stored (after
	 * unstuffing): it ends at the first empty line. Private but for
	 * received. */
	int		in_body;	/* the empty line was seen */
	size_t		hlen;		/* octets of the current header line */
	char		hline[SMTP_DATA_HDR_PREFIX];	/* its first octets */
	unsigned	received;	/* Received: fields in the header section */
};

/* Start of the content: the DATA command's CRLF counts as the previous line end. */
void	smtp_data_init(struct smtp_data *d, uint64_t max_size);
/* Feed in[0..len). Appends content to out (not beyond max_size; out's own
 * cap must allow at least len more bytes: the caller flushes out to disk
 * between calls). Returns the number of bytes consumed: all of them, or
 * fewer when the end of data was reached (d->done is then set and the
 * remaining bytes belong to the next command). The content ends with the
 * CRLF of its last line; the final ".\r\n" is not part of it. */
size_t	smtp_data_feed(struct smtp_data *d, const char *in, size_t len,
	    struct buf *out);
/* 1 if the line that starts with p[0..n) (n: the octets of the line, or
 * of its prefix that is known) is a Received: field: "Received", optional
 * spaces or tabs (RFC 5322 4.5.3 obs-optional), ':', in any case. A
 * folded continuation starts with WSP and is never one. Shared with
 * dsn_count_received() so that the queue never sees a loop that the SMTP
 * session let through. */
int	smtp_data_is_received(const char *p, size_t n);
#endif
