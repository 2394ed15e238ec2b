/* dsn - RFC 3464 bounce messages; see dsn.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "qfile.h"
#include "smtp_data.h"

size_t
dsn_header_len(const char *content, size_t len)
{
	const char *p;

	if (len >= 2 && content[0] == '\r' && content[1] == '\n')
		return 2;
	p = memmem(content, len, "\r\n\r\n", 4);
	return p ? (size_t)(p - content) + 4 : len;
}

/* A header field's first line: a name of printable ASCII but ':', then
 * ':' (spaces before it are RFC 5322's obsolete syntax, still a field). */
static int
field_start(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (unsigned char)p[i] > 0x20 &&
	    (unsigned char)p[i] < 0x7f && p[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n && p[i] == ':';
}

size_t
dsn_fields_len(const char *h, size_t len, size_t max)
{
	const char *nl;
	size_t i = 0, ll;

	while (i < len) {
		nl = memchr(h + i, '\n', len - i);
		if (nl == NULL)
			break;		/* an unterminated line is not carried */
		ll = (size_t)(nl - (h + i)) + 1;
		if (ll <= 2)
			break;		/* the empty line */
		if (h[i] == ' ' || h[i] == '\t') {
			if (i == 0)
				break;	/* a continuation of nothing */
		} else if (!field_start(h + i, ll))
			break;		/* not a header field: body text */
		if (i + ll > max)
			break;
		i += ll;
	}
	/* A field cut in the middle of its continuation lines stays cut: the
	 * part is still only header text. */
	return i;
}

size_t
dsn_count_received(const char *h, size_t len)
{
	const char *nl;
	size_t i = 0, n = 0, ll;

	/* The same test as the SMTP session's (smtp_data.c): the queue must
	 * never find a loop in a message that smtpd accepted. */
	while (i < len) {
		nl = memchr(h + i, '\n', len - i);
		ll = nl ? (size_t)(nl - (h + i)) : len - i;
		if (smtp_data_is_received(h + i, ll))
			n++;
		i += ll + 1;
	}
	return n;
}

const char *
dsn_status(const char *reply, int perm, char *buf, size_t len)
{
	const char *p = reply;
	size_t i = 0;

	/* "DDD X.Y.Z ..." with X the reply's class. */
	if (reply != NULL && strlen(reply) > 4 && isdigit((unsigned char)p[0]) &&
	    p[3] == ' ' && (p[4] == '2' || p[4] == '4' || p[4] == '5') &&
	    p[5] == '.') {
		int dots = 0;

		p += 4;
		while (i + 1 < len && (isdigit((unsigned char)p[i]) ||
		    p[i] == '.') && i < 11) {
			dots += p[i] == '.';
			buf[i] = p[i];
			i++;
		}
		buf[i] = '\0';
		if (dots == 2 && buf[i - 1] != '.' &&
		    (p[i] == ' ' || p[i] == '\0') && buf[0] == (perm ? '5' : '4'))
			return buf;
	}
	(void)xsnprintf(buf, len, "%s", perm ? "5.0.0" : "4.0.0");
	return buf;
}

/* Printable ASCII only, for header-like lines. */
static void
clean(const char *s, char *dst, size_t len)
{
	size_t o = 0;

	for (; s != NULL && *s != '\0' && o + 1 < len; s++) {
		unsigned char c = (unsigned char)*s;

		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
	}
	dst[o] = '\0';
}

int
dsn_build(struct buf *out, const struct dsn_info *in)
{
	char date[64], arr[64], st[16], diag[600], addr[300], host[300];
	size_t i, hl;
	int r = 0;

	qfile_rfc5322_date(in->now, date, sizeof(date));
	qfile_rfc5322_date(in->arrival, arr, sizeof(arr));
	r |= buf_printf(out,
	    "Date: %s\r\n"
	    "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "Message-ID: <%s.bounce@%s>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a MIME-encapsulated message.\r\n"
	    "\r\n"
	    "--%s\r\n"
	    "Content-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n"
	    "This is the mail system at host %s.\r\n"
	    "\r\n"
	    "I'm sorry to have to inform you that your message could not\r\n"
	    "be delivered to one or more recipients.\r\n"
	    "\r\n",
	    date, in->hostname, in->to[0] ? in->to : "postmaster",
	    in->queue_id, in->hostname, in->boundary, in->boundary,
	    in->hostname);
	for (i = 0; i < in->nrcpts; i++) {
		const struct dsn_rcpt *rc = &in->rcpts[i];

		clean(rc->addr, addr, sizeof(addr));
		clean(rc->diag, diag, sizeof(diag));
		clean(rc->remote_mta, host, sizeof(host));
		if (rc->remote_mta != NULL)
			r |= buf_printf(out, "<%s>: host %s said: %s\r\n\r\n",
			    addr, host, diag);
		else
			r |= buf_printf(out, "<%s>: %s\r\n\r\n", addr, diag);
	}
	r |= buf_printf(out,
	    "--%s\r\n"
	    "Content-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n"
	    "\r\n"
	    "Reporting-MTA: dns; %s\r\n"
	    "X-Postern-Queue-ID: %s\r\n"
	    "X-Postern-Sender: rfc822; %s\r\n"
	    "Arrival-Date: %s\r\n",
	    in->boundary, in->hostname, in->queue_id,
	    in->orig_from[0] ? in->orig_from : "<>", arr);
	for (i = 0; i < in->nrcpts; i++) {
		const struct dsn_rcpt *rc = &in->rcpts[i];

		clean(rc->addr, addr, sizeof(addr));
		clean(rc->diag, diag, sizeof(diag));
		if (rc->status != NULL)
			clean(rc->status, st, sizeof(st));
		else
			dsn_status(rc->diag, 1, st, sizeof(st));
		r |= buf_printf(out, "\r\nFinal-Recipient: rfc822; %s\r\n"
		    "Original-Recipient: rfc822; %s\r\n"
		    "Action: failed\r\nStatus: %s\r\n", addr, addr, st);
		if (rc->remote_mta != NULL) {
			clean(rc->remote_mta, host, sizeof(host));
			r |= buf_printf(out, "Remote-MTA: dns; %s\r\n", host);
		}
		r |= buf_printf(out, "Diagnostic-Code: %s; %s\r\n",
		    rc->from_remote ? "smtp" : "x-postern", diag);
	}
	r |= buf_printf(out, "\r\n--%s\r\n"
	    "Content-Description: Undelivered Message Headers\r\n"
	    "Content-Type: text/rfc822-headers\r\n"
	    "\r\n", in->boundary);
	/* The original's header fields only: never its body, never more
	 * than DSN_HEADERS_CARRY octets, cut at a line end. */
	hl = dsn_fields_len(in->headers, in->headers_len, DSN_HEADERS_CARRY);
	r |= buf_append(out, in->headers, hl);
	if (hl > 0 && in->headers[hl - 1] != '\n')
		r |= buf_appends(out, "\r\n");
	r |= buf_printf(out, "\r\n--%s--\r\n", in->boundary);
	return r ? -1 : 0;
}
