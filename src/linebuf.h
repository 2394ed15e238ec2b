/* linebuf - bounded line reader for SMTP and POP3 command lines.
 * Trusts: nothing; bytes come from an unauthenticated peer.
 * Gives:  one complete line without its CRLF, or why not: need more, too
 *         long, bare LF, bare CR, NUL. A bad line is reported once, when
 *         its end has been reached, so that the reply comes at the moment
 *         the client expects one and the next line starts clean.
 * Limits: `limit` counts the line including its CRLF (512 for SMTP
 *         commands, 255 for POP3, 12288 for AUTH responses); memory never
 *         grows past LINEBUF_MAX.
 * Never:  does I/O, logs, or exits; the caller decides the reply. */
#ifndef POSTERN_LINEBUF_H
#define POSTERN_LINEBUF_H
#include <stddef.h>

#define LINEBUF_MAX	12288

enum linebuf_status {
	LINEBUF_NEED_MORE = 0,	/* all input consumed, no complete line yet */
	LINEBUF_LINE,		/* a good line */
	LINEBUF_TOO_LONG,	/* longer than limit; the rest was discarded up to its end */
	LINEBUF_BARE_LF,	/* ended by LF without CR (the line is returned anyway) */
	LINEBUF_BARE_CR,	/* contains a CR not followed by LF */
	LINEBUF_NUL,		/* contains a NUL byte */
};

struct linebuf {
	char	buf[LINEBUF_MAX];
	size_t	len;		/* bytes of the current line held */
	size_t	limit;		/* including CRLF */
	int	overflow;	/* current line is too long: discarding */
	int	saw_cr;		/* last byte held was CR */
	unsigned flags;		/* bare CR / NUL seen in the current line */
};

/* limit must be 3..LINEBUF_MAX. */
void	linebuf_init(struct linebuf *lb, size_t limit);
/* Change the limit for the next line (e.g. entering AUTH). */
void	linebuf_set_limit(struct linebuf *lb, size_t limit);
/* Forget any partial line (e.g. at STARTTLS). */
void	linebuf_reset(struct linebuf *lb);
/* 1 if a partial line is held. */
int	linebuf_pending(const struct linebuf *lb);

/* Consume bytes from in[0..len) up to and including the end of one line.
 * *used_r: bytes consumed (always all of them when NEED_MORE).
 * For every status but NEED_MORE, *line_r and *linelen_r give the line without
 * its terminator (for TOO_LONG: the first limit-2 bytes); the pointer stays
 * valid until the next call. A line ends at CRLF, or at a bare LF
 * (reported as LINEBUF_BARE_LF). Precedence when a line has several faults:
 * TOO_LONG, BARE_LF, BARE_CR, NUL. */
enum linebuf_status linebuf_next(struct linebuf *lb, const char *in,
	    size_t len, size_t *used_r, const char **line_r, size_t *linelen_r);
#endif
