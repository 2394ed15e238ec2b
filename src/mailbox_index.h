/* mailbox_index - a POP3 session's snapshot of one Maildir as a list in
 *                 memory, and the RETR/TOP byte stream; the pure half of
 *                 the mailbox (mailbox.h is the Maildir half).
 * Trusts: nothing about the names and sizes it is given (another MDA may
 *         have written the files), nor the bytes its read callback returns.
 * Gives:  - the list: messages added by name and size (mailbox_add, which
 *           mailbox_open calls for every file), sorted by name, delivery
 *           time first, each with a UID (mailbox_finish).
 *         - deletion marks held in memory (DELE, RSET, STAT); removing the
 *           marked files is mailbox_commit's, in the Maildir half.
 *         - an iterator that turns a message's raw bytes into the body of
 *           a RETR or TOP response: dot-stuffed, CRLF line ends (a bare LF
 *           becomes CRLF), ended by ".\r\n", appended in bounded chunks to
 *           a struct buf, so a 50 MB message never sits in memory whole.
 *           It reads through a callback, so tests and fuzzers feed it from
 *           memory; mailbox_msg_open()/mailbox_fd_read() are the real source.
 * UIDs:   the file's base name up to the first ':' or ',' when that is
 *         1..MAILBOX_UID_MAX octets of 0x21-0x7E; otherwise, and for a
 *         base name seen twice, "h," + SHA-256 hex of the name (66 octets;
 *         ',' never occurs in a plain UID, so the two kinds cannot clash).
 * Sizes:  ",S=N" in the name when present and well-formed (mailbox_name_size),
 *         else whatever the caller measured; postern's Maildir files have
 *         CRLF line ends, so that is the POP3 size.
 * Never:  does I/O: no file, directory or descriptor call. The one
 *         descriptor in struct mailbox belongs to the Maildir half, which
 *         also gives mailbox_free the function that closes it. */
#ifndef POSTERN_MAILBOX_INDEX_H
#define POSTERN_MAILBOX_INDEX_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "buf.h"

#define MAILBOX_UID_MAX		70
#define MAILBOX_CHUNK		16384	/* raw octets read per iterator step */
/* Most a single mailbox_iter_next() appends: every octet may double
 * (LF -> CRLF, "." -> ".." at a line start), plus CRLF ".\r\n". */
#define MAILBOX_ITER_MAXOUT	(2 * MAILBOX_CHUNK + 8)

struct mailbox_msg {
	char		*name;		/* "new/BASE" or "cur/BASE:2,FLAGS" */
	uint64_t	 size;		/* octets, for STAT/LIST */
	char		 uid[MAILBOX_UID_MAX + 1];
	int		 deleted;	/* marked by DELE; undone by RSET */
};

struct mailbox {
	int		 fd;		/* the Maildir directory; -1 for in-memory */
	/* Closes fd at mailbox_free: set by mailbox_open (the Maildir
	 * half), NULL for an in-memory mailbox. */
	void		(*close_dir)(int fd);
	struct mailbox_msg *msgs;
	size_t		 n;
};

/* ---- the list ------------------------------------------------------ */

/* An empty in-memory mailbox (fd -1), for mailbox_add in tests/fuzzers. */
void	mailbox_init(struct mailbox *mb);
/* Append a message named `name` ("new/X" or "cur/X"), computing its UID.
 * Does not sort or de-duplicate (mailbox_finish does). 0. */
int	mailbox_add(struct mailbox *mb, const char *name, uint64_t size);
/* Sort by name and make UIDs unique; mailbox_open calls it. */
void	mailbox_finish(struct mailbox *mb);
/* Free the list and close the directory through close_dir, if any (not
 * the struct itself); the mailbox is empty and in-memory again. */
void	mailbox_free(struct mailbox *mb);
/* UID for a file name (its directory part, if any, is ignored) into uid_r;
 * see UIDs above. */
void	mailbox_uid(const char *name, char uid_r[MAILBOX_UID_MAX + 1]);
/* The size announced by ",S=N" in name: 0 and *size_r, or -1. */
int	mailbox_name_size(const char *name, uint64_t *size_r);
/* Count and octets of the messages not marked deleted. */
void	mailbox_stat(const struct mailbox *mb, size_t *count_r,
	    uint64_t *octets_r);
/* Mark message i (0-based). 0; -1 if i is out of range or already marked. */
int	mailbox_mark(struct mailbox *mb, size_t i);
/* RSET: clear every mark. */
void	mailbox_unmark_all(struct mailbox *mb);
/* How many are marked. */
size_t	mailbox_marked(const struct mailbox *mb);

/* ---- RETR / TOP stream --------------------------------------------- */

/* The dot-stuffing byte machine, usable on its own. */
struct mailbox_stuff {
	int	bol;		/* next octet starts a line */
	int	cr;		/* previous octet was CR */
	int	header;		/* still in the header (TOP counts body lines) */
	size_t	linelen;	/* octets of the current line so far */
	long	lines_left;	/* body lines TOP still sends; -1: whole message */
	int	done;		/* TOP has sent all it will */
};

/* top_lines < 0: RETR (everything); >= 0: TOP with that many body lines. */
void	mailbox_stuff_init(struct mailbox_stuff *st, long top_lines);
/* Transform in[0..n) into out, which must hold 2 * n octets. Returns the
 * octets written to out; *used_r gets the input consumed (less than n only
 * when TOP is done: the rest is not wanted). */
size_t	mailbox_stuff_feed(struct mailbox_stuff *st, const char *in, size_t n,
	    char *out, size_t *used_r);
/* End of input: out (5 octets) gets CRLF if the last line was not ended,
 * then ".\r\n". Returns the octets written. */
size_t	mailbox_stuff_end(struct mailbox_stuff *st, char *out);

/* The iterator's source of raw octets: n, 0 at the end, -1 on error. */
typedef ssize_t mailbox_read_fn(void *arg, char *p, size_t len);

struct mailbox_iter {
	mailbox_read_fn	*read;
	void		*arg;
	struct mailbox_stuff st;
	int		 finished;	/* ".\r\n" has been appended */
	uint64_t	 raw;		/* raw octets read so far */
};

/* Start a RETR (top_lines < 0) or TOP stream reading through fn(arg). */
void	mailbox_iter_init(struct mailbox_iter *it, long top_lines,
	    mailbox_read_fn *fn, void *arg);
/* Append the next piece to out: at most `chunk` raw octets are read (fewer
 * when out lacks room for twice as many; chunk is capped at MAILBOX_CHUNK),
 * so at most MAILBOX_ITER_MAXOUT octets are appended.
 * Returns 1 (more to come), 0 (finished: ".\r\n" appended) or -1 (read
 * error: the response is unfinished and the connection must be closed). */
int	mailbox_iter_next(struct mailbox_iter *it, struct buf *out,
	    size_t chunk);
#endif
