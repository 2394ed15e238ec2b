/* linebuf - bounded line reader for SMTP and POP3 command lines; see linebuf.h.
 *
 * The line is built byte by byte. A CR is not stored when it arrives: it
 * is held in saw_cr until the next byte says whether it was the first half
 * of CRLF (the line ends) or a bare CR (it becomes an ordinary content
 * byte and the line is flagged). Content beyond limit - 2 octets is
 * counted as overflow and dropped, so memory never grows and the fault is
 * reported once, at the line's real end. */
#include <string.h>

#include "linebuf.h"

#define LINEBUF_F_BARE_CR	0x01
#define LINEBUF_F_NUL		0x02

void
linebuf_init(struct linebuf *lb, size_t limit)
{
	lb->len = 0;
	lb->overflow = 0;
	lb->saw_cr = 0;
	lb->flags = 0;
	linebuf_set_limit(lb, limit);
}

void
linebuf_set_limit(struct linebuf *lb, size_t limit)
{
	/* Out-of-range limits are clamped rather than trusted. */
	if (limit < 3)
		limit = 3;
	if (limit > LINEBUF_MAX)
		limit = LINEBUF_MAX;
	lb->limit = limit;
}

void
linebuf_reset(struct linebuf *lb)
{
	lb->len = 0;
	lb->overflow = 0;
	lb->saw_cr = 0;
	lb->flags = 0;
}

int
linebuf_pending(const struct linebuf *lb)
{
	return lb->len > 0 || lb->overflow || lb->saw_cr || lb->flags != 0;
}

/* One content byte (not a terminator). */
static void
linebuf_put(struct linebuf *lb, char c)
{
	if (c == '\0')
		lb->flags |= LINEBUF_F_NUL;
	if (lb->len < lb->limit - 2)
		lb->buf[lb->len++] = c;
	else
		lb->overflow = 1;
}

enum linebuf_status
linebuf_next(struct linebuf *lb, const char *in, size_t len, size_t *used_r,
    const char **line_r, size_t *linelen_r)
{
	enum linebuf_status st;
	size_t i;
	int bare_lf;
	char c;

	*line_r = NULL;
	*linelen_r = 0;
	for (i = 0; i < len; i++) {
		c = in[i];
		if (lb->saw_cr) {
			lb->saw_cr = 0;
			if (c == '\n') {
				bare_lf = 0;
				goto eol;
			}
			lb->flags |= LINEBUF_F_BARE_CR;
			linebuf_put(lb, '\r');
		}
		if (c == '\r') {
			lb->saw_cr = 1;
			continue;
		}
		if (c == '\n') {
			bare_lf = 1;
			goto eol;
		}
		linebuf_put(lb, c);
	}
	*used_r = len;
	return LINEBUF_NEED_MORE;

eol:
	*used_r = i + 1;
	*line_r = lb->buf;
	*linelen_r = lb->len;
	if (lb->overflow)
		st = LINEBUF_TOO_LONG;
	else if (bare_lf)
		st = LINEBUF_BARE_LF;
	else if (lb->flags & LINEBUF_F_BARE_CR)
		st = LINEBUF_BARE_CR;
	else if (lb->flags & LINEBUF_F_NUL)
		st = LINEBUF_NUL;
	else
		st = LINEBUF_LINE;
	/* The bytes stay in buf for the caller until the next call. */
	lb->len = 0;
	lb->overflow = 0;
	lb->flags = 0;
	return st;
}
