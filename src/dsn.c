/* dsn - RFC 3464 bounce messages; see dsn.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "queue.h"

size_t
dsn_header_len(const char *content, size_t len)
{
	const char *p;

	if (len >= 2 && content[0] == '\r' && content[1] == '\n')
		return 2;
	p = memmem(content, len, "\r\n\r\n", 4);
	return p ? (size_t)(p - content) + 4 : len;
}

size_t
dsn_count_received(const char *h, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i + 9 <= len; ) {
		if (strncasecmp(h + i, "Received:", 9) == 0)
			n++;
		while (i < len && h[i] != '\n')
			i++;
		i++;
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

	queue_rfc5322_date(in->now, date, sizeof(date));
	queue_rfc5322_date(in->arrival, arr, sizeof(arr));
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
	/* The original's header block, without its empty line, cut at a line
	 * end when too long. */
	hl = in->headers_len;
	if (hl >= 2 && in->headers[hl - 1] == '\n' && in->headers[hl - 2] == '\r' &&
	    (hl == 2 || (hl >= 4 && memcmp(in->headers + hl - 4, "\r\n\r\n", 4) == 0)))
		hl -= 2;
	if (hl > DSN_HEADERS_MAX) {
		hl = DSN_HEADERS_MAX;
		while (hl > 0 && in->headers[hl - 1] != '\n')
			hl--;
	}
	r |= buf_append(out, in->headers, hl);
	if (hl > 0 && in->headers[hl - 1] != '\n')
		r |= buf_appends(out, "\r\n");
	r |= buf_printf(out, "\r\n--%s--\r\n", in->boundary);
	return r ? -1 : 0;
}
