/* msgheader - iteration over the header section of a message (RFC 5322):
 *             one field at a time, its name and its (still folded) value.
 * Trusts: nothing: the bytes come from any sender; they may hold NUL,
 *         bare LF, 8-bit text, lines that are not fields.
 * Gives:  for each field its name (trailing WSP before ':' dropped, so
 *         the obsolete "Name :" form is still that name), its raw value
 *         (from after ':' up to, not including, the line end of its last
 *         continuation line) and the byte range of the whole field with
 *         its line end, for callers that drop fields; msgheader_unfold
 *         for a value's unfolded text (RFC 5322 2.2.3: CRLF before WSP
 *         removed), bounded by the caller's buffer.
 * Limits: line ends are CRLF or a bare LF (both seen in stored mail); the
 *         section ends at the empty line, at the end of the bytes, or at
 *         the first line that is neither a field nor a continuation
 *         (msgheader_next says which); an unterminated last line is a
 *         field all the same. Work is linear in the bytes given.
 * Never:  allocates, does I/O, or interprets a value. */
#ifndef POSTERN_MSGHEADER_H
#define POSTERN_MSGHEADER_H
#include <stddef.h>

struct msgheader_field {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* raw: folds and the leading space kept */
	size_t		 value_len;
	size_t		 start;		/* whole field: [start, end) of the section, */
	size_t		 end;		/* line end of its last line included */
};

struct msgheader_iter {
	const char	*h;
	size_t		 len;
	size_t		 pos;
	int		 state;		/* MSGHEADER_* of the last step */
};

#define MSGHEADER_FIELD		1	/* a field was returned */
#define MSGHEADER_END		0	/* empty line or end of bytes */
#define MSGHEADER_BROKEN	(-1)	/* a line that is no field: stop */

void	msgheader_init(struct msgheader_iter *it, const char *h, size_t len);
/* MSGHEADER_FIELD with *f set, or MSGHEADER_END / MSGHEADER_BROKEN (and
 * the same again on every later call). */
int	msgheader_next(struct msgheader_iter *it, struct msgheader_field *f);
/* After MSGHEADER_BROKEN: step over the broken line (and any lines that
 * begin with WSP after it) and go on. For the callers that must see every
 * field a lenient reader could find before the empty line (a forged
 * field hidden behind a line of junk); 0, or -1 when not at a broken
 * line. */
int	msgheader_skip_broken(struct msgheader_iter *it);
/* Where the iteration stopped: the offset of the empty line, of the
 * broken line, or len. */
size_t	msgheader_pos(const struct msgheader_iter *it);
/* Case-insensitive comparison of a field's name with name (ASCII). */
int	msgheader_name_is(const struct msgheader_field *f, const char *name);
/* The value unfolded into out (NUL-terminated): every CR and LF of a
 * fold removed, leading and trailing WSP trimmed. The length, or -1 when
 * it does not fit in outlen - 1 octets. */
long	msgheader_unfold(const char *v, size_t n, char *out, size_t outlen);
#endif
