/* buf - growable byte buffer with a hard cap fixed at creation.
 * Trusts: nothing about the bytes; they may contain NUL.
 * Gives:  contiguous bytes + length; data is always followed by a NUL byte
 *         (not counted in len) so that text users may treat it as a string.
 * Limits: never grows past `max` bytes; an append that would is refused
 *         whole (nothing is appended) and returns -1.
 * Never:  does I/O or aborts on a full buffer; allocation failure is fatal(). */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H
#include <stddef.h>
#include <stdarg.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
};

void	buf_init(struct buf *b, size_t max);
/* 0, or -1 when len + n would exceed max (buffer unchanged). */
int	buf_append(struct buf *b, const void *p, size_t n);
int	buf_appendc(struct buf *b, char c);
int	buf_appends(struct buf *b, const char *s);
/* printf-style append; -1 when the result would exceed max (unchanged). */
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* A protocol reply line: the formatted text and CRLF, or nothing (-1)
 * when both do not fit. */
int	buf_vprintf_crlf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* Drop the first n bytes. */
void	buf_consume(struct buf *b, size_t n);
void	buf_reset(struct buf *b);
/* Give back the room beyond keep octets (the trailing NUL counts) of a
 * buffer that once held much more, when its contents fit in keep; an
 * empty buffer with keep 0 frees its data. A long-lived buffer calls it
 * between uses so one large reply is not kept for the rest of a session. */
void	buf_shrink(struct buf *b, size_t keep);
void	buf_free(struct buf *b);

/* A list of error messages ("file:line: text"), for parsers that must
 * report every problem rather than stop at the first. */
struct errlist {
	char	**msgs;
	size_t	  n;
};
void	errlist_add(struct errlist *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	errlist_free(struct errlist *e);

/* Small string helpers used everywhere. */
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xreallocarray(void *p, size_t n, size_t size);
/* snprintf that returns -1 on truncation or error, else the length. */
int	xsnprintf(char *dst, size_t size, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
#endif
