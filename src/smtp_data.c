/* smtp_data - end-of-data detection and dot-unstuffing; see smtp_data.h.
 *
 * A byte state machine in the spirit of qmail's blast(): the state says
 * where in a line we are, and only the exact sequence
 *	(start of line) "." CR LF
 * where "start of line" means "just after CR LF" ends the data. A bare LF
 * never puts us at the start of a line, so "\n.\n", "\n.\r\n" and
 * "\r\n.\n" are content. CRs are held back one byte so that we know
 * whether they were half of a CRLF or bare.
 *
 * Faults only set flags; we keep consuming until the real end so that
 * the reply comes at the moment the client expects it.
 *
 * The header scan looks at the content exactly as it is stored (after
 * unstuffing), the bytes the queue process will count again: the first
 * SMTP_DATA_HDR_PREFIX octets of each line until the first empty line.
 * Counting more than the queue would is harmless (a refusal at SMTP time);
 * counting less would let a loop through to a bounce. */
#include <string.h>
#include <strings.h>

#include "smtp_data.h"

enum {
	D_BOL = 0,	/* at the start of a line (after CRLF) */
	D_DOT,		/* BOL then "." */
	D_DOT_CR,	/* BOL then ".\r" */
	D_TEXT,		/* inside a line */
	D_CR,		/* inside a line, a CR is held back */
	D_DONE,
};

/* Longest text of a line: the limit counts the CRLF. */
#define D_TEXT_MAX	(SMTP_DATA_LINE_MAX - 2)

void
smtp_data_init(struct smtp_data *d, uint64_t max_size)
{
	memset(d, 0, sizeof(*d));
	d->state = D_BOL;
	d->max_size = max_size;
}

int
smtp_data_is_received(const char *p, size_t n)
{
	size_t i = 8;

	if (n < 9 || strncasecmp(p, "Received", 8) != 0)
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n && p[i] == ':';
}

/* The end of a header line (LF seen): an empty line ("" or a lone CR)
 * ends the header section. A bare LF counts as a line end here too: such
 * a message is refused anyway, and over-counting is the safe side. */
static void
hdr_line_end(struct smtp_data *d)
{
	size_t n = d->hlen < sizeof(d->hline) ? d->hlen : sizeof(d->hline);

	if (d->hlen == 0 || (d->hlen == 1 && d->hline[0] == '\r'))
		d->in_body = 1;
	else if (smtp_data_is_received(d->hline, n) &&
	    d->received < SMTP_DATA_RECEIVED_MAX)
		d->received++;
	d->hlen = 0;
}

static void
hdr_scan(struct smtp_data *d, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !d->in_body; i++) {
		if (p[i] == '\n') {
			hdr_line_end(d);
			continue;
		}
		if (d->hlen < sizeof(d->hline))
			d->hline[d->hlen] = p[i];
		d->hlen++;
	}
}

/* Append content; past max_size nothing more is appended. */
static void
emit(struct smtp_data *d, const char *p, size_t n, struct buf *out)
{
	uint64_t room;

	if (n == 0)
		return;
	if (!d->in_body)
		hdr_scan(d, p, n);
	room = d->size < d->max_size ? d->max_size - d->size : 0;
	d->size += n;
	if (n > room) {
		d->flags |= SMTP_DATA_F_TOO_BIG;
		n = (size_t)room;
	}
	/* The caller guarantees room in out (len + 1 bytes per call); a
	 * refused append cannot happen, and if it did the content would be
	 * short, never long. */
	if (n > 0)
		(void)buf_append(out, p, n);
}

/* Count text octets of the current line (not the transparency dot). */
static void
count(struct smtp_data *d, size_t n)
{
	d->linelen += n;
	if (d->linelen > D_TEXT_MAX)
		d->flags |= SMTP_DATA_F_LONG_LINE;
}

static void
bare_lf(struct smtp_data *d, struct buf *out)
{
	d->flags |= SMTP_DATA_F_BARE_LF;
	emit(d, "\n", 1, out);
	/* Treated as a line end for counting only; it is never a start of
	 * line for the end-of-data test. */
	d->linelen = 0;
	d->state = D_TEXT;
}

static void
bare_cr(struct smtp_data *d, struct buf *out)
{
	d->flags |= SMTP_DATA_F_BARE_CR;
	emit(d, "\r", 1, out);
	count(d, 1);
}

size_t
smtp_data_feed(struct smtp_data *d, const char *in, size_t len,
    struct buf *out)
{
	size_t i = 0, j;
	unsigned char c;

	if (d->done)
		return 0;
	while (i < len) {
		c = (unsigned char)in[i];
		switch (d->state) {
		case D_BOL:
			if (c == '.') {
				d->state = D_DOT;
				i++;
				continue;
			}
			d->state = D_TEXT;
			break;	/* handle c as text */
		case D_DOT:
			if (c == '\r') {
				d->state = D_DOT_CR;
				i++;
				continue;
			}
			/* The transparency dot is dropped (RFC 5321 4.5.2). */
			d->state = D_TEXT;
			break;
		case D_DOT_CR:
			if (c == '\n') {
				d->state = D_DONE;
				d->done = 1;
				return i + 1;
			}
			/* ".\r" then something else: the dot was transparency,
			 * the CR is bare. */
			bare_cr(d, out);
			d->state = D_TEXT;
			break;
		case D_CR:
			if (c == '\n') {
				emit(d, "\r\n", 2, out);
				d->linelen = 0;
				d->state = D_BOL;
				i++;
				continue;
			}
			bare_cr(d, out);
			d->state = D_TEXT;
			break;
		case D_TEXT:
			break;
		default:
			return i;
		}

		/* D_TEXT with byte c at in[i]. */
		if (c == '\r') {
			d->state = D_CR;
			i++;
			continue;
		}
		if (c == '\n') {
			bare_lf(d, out);
			i++;
			continue;
		}
		/* A run of ordinary bytes goes out in one piece. */
		for (j = i; j < len; j++) {
			c = (unsigned char)in[j];
			if (c == '\r' || c == '\n')
				break;
			if (c == '\0')
				d->flags |= SMTP_DATA_F_NUL;
			else if (c >= 0x80)
				d->flags |= SMTP_DATA_F_8BIT;
		}
		emit(d, in + i, j - i, out);
		count(d, j - i);
		i = j;
	}
	return len;
}
