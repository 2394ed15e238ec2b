/* mailbox - a POP3 session's snapshot of one Maildir, and the RETR/TOP
 *           byte stream.
 * Trusts: the Maildir directory descriptor it is given (the caller opened
 *         USER/Maildir and holds the mailbox lock); nothing about the file
 *         names or contents in it (another MDA may have written them).
 * Gives:  - mailbox_open(): the messages of new/ and cur/ at that moment,
 *           sorted by name (delivery time first), each with its size and a
 *           UID; messages delivered later are not in it.
 *         - deletion marks held in memory; mailbox_commit() unlinks the
 *           marked files (the UPDATE state). Unmarked messages stay where
 *           they are: new/ is NOT moved to cur/ (a POP3 maildrop has no
 *           "seen" state and renaming would cost a syscall per message and
 *           change nothing for the next session; UIDs ignore the directory).
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
 * Sizes:  ",S=N" in the name when present and well-formed, else the file
 *         size; postern's Maildir files have CRLF line ends, so that is
 *         the POP3 size.
 * Limits: at most `max_msgs` messages per snapshot (the rest wait for a
 *         later session); names up to NAME_MAX.
 * Never:  follows symbolic links, renames files, or reads a whole message
 *         into memory. Only mailbox_open, mailbox_commit, mailbox_msg_open,
 *         mailbox_fd_read and mailbox_free do I/O. */
#ifndef POSTERN_MAILBOX_H
#define POSTERN_MAILBOX_H
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
	struct mailbox_msg *msgs;
	size_t		 n;
};

/* ---- snapshot (I/O) ------------------------------------------------ */

/* Snapshot the Maildir open at maildir_fd (which the mailbox takes over:
 * it is closed by mailbox_free, or here on failure). 0, or -1 with errno
 * (new/ or cur/ unreadable: a temporary failure for the client). Files
 * that vanish while we look are skipped. */
int	mailbox_open(struct mailbox *mb, int maildir_fd, size_t max_msgs);
/* Unlink every marked message (UPDATE). A file already gone counts as
 * removed. Returns 0, or -1 if at least one could not be removed;
 * *removed_r (may be NULL) counts the ones that were. Marks are cleared
 * on the removed messages. The directories are not fsynced: a crash just
 * after QUIT may bring a deleted message back (fetched twice, never lost),
 * and the event loop does not wait for the disk. */
int	mailbox_commit(struct mailbox *mb, size_t *removed_r);
/* Close the directory and free everything (not the struct itself). */
void	mailbox_free(struct mailbox *mb);
/* Open message i read-only (O_NOFOLLOW). An fd, or -1 with errno. */
int	mailbox_msg_open(const struct mailbox *mb, size_t i);
/* A mailbox_iter read callback: arg points to an int fd. read(2) with
 * EINTR retried: octets read, 0 at the end, -1 on error. */
ssize_t	mailbox_fd_read(void *arg, char *p, size_t len);

/* ---- snapshot (pure) ----------------------------------------------- */

/* An empty in-memory mailbox (fd -1), for mailbox_add in tests/fuzzers. */
void	mailbox_init(struct mailbox *mb);
/* Append a message named `name` ("new/X" or "cur/X"), computing its UID.
 * Does not sort or de-duplicate (mailbox_finish does). 0. */
int	mailbox_add(struct mailbox *mb, const char *name, uint64_t size);
/* Sort by name and make UIDs unique; mailbox_open calls it. */
void	mailbox_finish(struct mailbox *mb);
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

/* ---- RETR / TOP stream (pure but for its read callback) ------------ */

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
