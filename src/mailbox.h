/* mailbox - the Maildir half of a POP3 session's mailbox: the snapshot of
 *           new/ and cur/, the deletions at QUIT and reading a message.
 *           The list, marks, UIDs and the RETR/TOP stream are pure and
 *           live in mailbox_index.h, which this header includes.
 * Trusts: the Maildir directory descriptor it is given (the caller opened
 *         USER/Maildir and holds the mailbox lock); nothing about the file
 *         names or contents in it (another MDA may have written them).
 * Gives:  - mailbox_open(): the messages of new/ and cur/ at that moment,
 *           sorted by name (delivery time first), each with its size and a
 *           UID; messages delivered later are not in it.
 *         - mailbox_commit(): unlinks the marked files (the UPDATE state).
 *           Unmarked messages stay where they are: new/ is NOT moved to
 *           cur/ (a POP3 maildrop has no "seen" state and renaming would
 *           cost a syscall per message and change nothing for the next
 *           session; UIDs ignore the directory).
 *         - mailbox_msg_open()/mailbox_fd_read(): the real source for the
 *           RETR/TOP iterator.
 * Sizes:  ",S=N" in the name when present and well-formed, else the file
 *         size (fstatat).
 * Limits: at most `max_msgs` messages per snapshot (the rest wait for a
 *         later session); names up to NAME_MAX.
 * Never:  follows symbolic links, renames files, or reads a whole message
 *         into memory. */
#ifndef POSTERN_MAILBOX_H
#define POSTERN_MAILBOX_H
#include <stddef.h>
#include <sys/types.h>
#include "mailbox_index.h"

/* Snapshot the Maildir open at maildir_fd (which the mailbox takes over:
 * it is closed by mailbox_free, or here on failure). 0, or -1 with errno
 * (new/ or cur/ unreadable: a temporary failure for the client). Files
 * that vanish while we look are skipped. */
int	mailbox_open(struct mailbox *mb, int maildir_fd, size_t max_msgs);
/* Unlink every marked message (UPDATE). A file already gone counts as
 * removed. Returns 0, or -1 if at least one could not be removed (an
 * in-memory mailbox removes none); *removed_r (may be NULL) counts the
 * ones that were. Marks are cleared on the removed messages. The
 * directories are not fsynced: a crash just after QUIT may bring a
 * deleted message back (fetched twice, never lost), and the event loop
 * does not wait for the disk. */
int	mailbox_commit(struct mailbox *mb, size_t *removed_r);
/* Open message i read-only (O_NOFOLLOW). An fd, or -1 with errno. */
int	mailbox_msg_open(const struct mailbox *mb, size_t i);
/* A mailbox_iter read callback: arg points to an int fd. read(2) with
 * EINTR retried: octets read, 0 at the end, -1 on error. */
ssize_t	mailbox_fd_read(void *arg, char *p, size_t len);
#endif
