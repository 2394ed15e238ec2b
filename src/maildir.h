/* maildir - durable delivery into spool/mail/USER/Maildir.
 * Trusts: the message bytes it is given (already accepted).
 * Gives:  one new file in new/, written through tmp/ -> fsync -> rename
 *         -> fsync(new/), named "SECS.MUSECPPID_N.HOST,S=SIZE".
 * Limits: works from a directory descriptor of spool/mail, so it runs
 *         after privileges were dropped and inside root-only parents.
 * Never:  uses a user name that fails users_name_valid, has a '/' or a
 *         leading '.' (checked again here, EINVAL: a forged queue file
 *         must not name a path); overwrites an existing file (O_EXCL) or
 *         leaves a half-written file in new/. */
#ifndef POSTERN_MAILDIR_H
#define POSTERN_MAILDIR_H
#include <stddef.h>
#include <sys/types.h>

/* Remove what a crash left in every USER/Maildir/tmp: the queue process
 * is the only writer of these Maildirs, so at its start-up every file
 * there is a delivery that never reached new/ (it will be repeated: the
 * recipient is still pending). Returns the number removed. */
size_t	maildir_clean_tmp(int mail_fd);
/* 1 if user may name a mailbox directory (see Never). */
int	maildir_name_ok(const char *user);
/* Create USER/Maildir/{tmp,new,cur} under mail_fd if missing. 0 or -1. */
int	maildir_create(int mail_fd, const char *user);
/* Deliver: header bytes (trace headers) then len bytes of the file src_fd
 * starting at src_off. 0 on success (durable); -1 with errno on failure
 * (always temporary from the caller's view: disk trouble). name_r (may be
 * NULL) receives the file name in new/. */
int	maildir_deliver(int mail_fd, const char *user, const char *host,
	    const char *header, size_t header_len, int src_fd, off_t src_off,
	    char *name_r, size_t name_len);
#endif
