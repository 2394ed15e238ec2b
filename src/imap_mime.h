/* imap_mime - what IMAP's FETCH and SEARCH need to know about one message
 *             held in memory (imapd maps the file read-only): ENVELOPE,
 *             BODY and BODYSTRUCTURE (RFC 9051 7.5.2), the octet ranges of
 *             a BODY[section], header and body text search, and the date
 *             formats of IMAP.
 * Trusts: nothing about the message: any octets, any length, broken MIME
 *         (a missing boundary, a header without a colon, 8-bit text, a
 *         message with LF line ends) give a best-effort answer, never a
 *         crash or an overrun.
 * Gives:  output appended to a struct buf (ENVELOPE, BODYSTRUCTURE as IMAP
 *         parenthesised lists, strings quoted or as literals by
 *         imap_put_nstring's rules; nothing appended on -1) and sections as spans into the message, so
 *         BODY[] of a 50 MB message copies nothing.
 *         BODYSTRUCTURE as Dovecot writes it: types, parameters and
 *         encodings as the message gives them, the defaults lower case
 *         ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit"), lines
 *         = line ends in the part, sizes = octets as stored (the octets
 *         BODY[] sends), Content-MD5 as given. A bare local part with no
 *         '@' is (NIL NIL "local" "") so that a NIL host still means a
 *         group marker.
 * Limits: MIME nesting to IMAP_MIME_DEPTH (deeper parts are treated as
 *         opaque leaves, and a section path longer than that names no
 *         part); IMAP_MIME_PARTS parts per message; at most
 *         IMAP_SPANS_MAX spans per section (a HEADER.FIELDS with more
 *         matching lines is cut there). RFC 2047 words and RFC 2231
 *         parameters are passed on undecoded (clients decode them);
 *         search decodes base64 and quoted-printable but no charset.
 * Never:  does I/O or keeps pointers into the message after returning. */
#ifndef POSTERN_IMAP_MIME_H
#define POSTERN_IMAP_MIME_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"

#define IMAP_MIME_DEPTH		32
#define IMAP_MIME_PARTS		4096
#define IMAP_SPANS_MAX		2048

/* ENVELOPE: (date subject from sender reply-to to cc bcc in-reply-to
 * message-id), addresses parsed from the header fields (groups
 * included), encoded words left as they are. 0, or -1 when out is full. */
int	imap_envelope(const char *msg, size_t len, struct buf *out);
/* BODYSTRUCTURE (extended = 1) or BODY (extended = 0). 0 or -1 (full). */
int	imap_bodystructure(const char *msg, size_t len, int extended,
	    struct buf *out);

/* One piece of a section: len octets of the message at off, or, when off
 * is IMAP_SPAN_CRLF, the two octets "\r\n" (the blank line that ends a
 * HEADER.FIELDS result). */
#define IMAP_SPAN_CRLF	SIZE_MAX
struct imap_span { size_t off, len; };
struct imap_spans {
	struct imap_span s[IMAP_SPANS_MAX];
	size_t		 n;
	uint64_t	 total;		/* sum of the lengths */
};
/* The octets of BODY[spec], spec being the text between '[' and ']'
 * ("", "HEADER", "TEXT", "1.2", "1.2.MIME", "HEADER.FIELDS (FROM TO)",
 * "2.HEADER.FIELDS.NOT (X-A)", case-insensitive). A part that does not
 * exist is an empty result (RFC 9051 6.4.5). 0, or -1 when spec is not
 * valid syntax (the session answers BAD). */
int	imap_section(const char *msg, size_t len, const char *spec,
	    size_t speclen, struct imap_spans *out);
/* The offset where the body starts (after the blank line), len when the
 * message has no body. */
size_t	imap_header_length(const char *msg, size_t len);

/* SEARCH helpers: 1 when needle occurs (ASCII case-insensitive; UTF-8
 * octets compared as they are), else 0. An empty needle always matches
 * when the field exists. */
/* field NULL: any header field (as in SEARCH TEXT's header half); else
 * only in fields of that name (HEADER name, FROM, TO, CC, BCC, SUBJECT). */
int	imap_search_header(const char *msg, size_t len, const char *field,
	    const char *needle, size_t nlen);
/* BODY: the body, and also the decoded text of base64 and
 * quoted-printable text parts. */
int	imap_search_body(const char *msg, size_t len, const char *needle,
	    size_t nlen);

/* ---- dates ---- */
/* The Date: header field as a time (SENTBEFORE, SENTON, SENTSINCE);
 * 0, or -1 when absent or unparseable. */
int	imap_message_date(const char *msg, size_t len, time_t *t_r);
/* INTERNALDATE "17-Jul-1996 02:44:25 +0000" (UTC) into out[32]. */
void	imap_format_datetime(time_t t, char out[32]);
/* APPEND's date-time ("17-Jul-1996 02:44:25 -0700", without the quotes,
 * leading space for a one-digit day allowed): 0 and *t_r, or -1. */
int	imap_parse_datetime(const char *s, size_t len, time_t *t_r);
/* SEARCH's date ("1-Feb-1994", day start in UTC): 0 and *t_r, or -1. */
int	imap_parse_date(const char *s, size_t len, time_t *t_r);
#endif
