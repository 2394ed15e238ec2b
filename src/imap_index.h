/* imap_index - the pure half of imap_store: the "postern-uidlist" index
 *              format, Maildir info suffix <-> IMAP flags, mailbox name
 *              <-> Maildir++ directory name, and the diff of two folder
 *              snapshots into struct imap_changes.
 * Format:  first line "postern-uidlist 1 UIDVALIDITY UIDNEXT", then one
 *          "UID BASENAME" line per message, UIDs ascending, BASENAME the
 *          Maildir file name up to ':' (what POP3 calls the UID too).
 * Trusts:  nothing: the index is a file any Maildir tool may have touched.
 * Gives:   imap_index_parse never fails on a bad body line: the line is
 *          skipped (a UID not above the previous one, a bad basename, no
 *          separator); only a bad first line makes the whole index void.
 *          UIDNEXT parsed is always above every UID kept.
 * Limits:  IMAP_INDEX_BASE_MAX octets of basename, IMAP_FOLDER_MSGS_MAX
 *          entries (more are ignored).
 * Never:   does I/O (the pure library). */
#ifndef POSTERN_IMAP_INDEX_H
#define POSTERN_IMAP_INDEX_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "imap_store.h"

#define IMAP_INDEX_MAGIC	"postern-uidlist"
#define IMAP_INDEX_VERSION	1
#define IMAP_INDEX_BASE_MAX	255	/* NAME_MAX of one file name */
#define IMAP_INFO_MAX		64	/* ":2," and the flag letters */
#define IMAP_DIR_MAX		(IMAP_NAME_MAX + 2)	/* "." + name + NUL */

struct imap_index_entry {
	uint32_t	 uid;
	char		*base;
};

struct imap_index {
	uint32_t		 uidvalidity;	/* 0: no (valid) index */
	uint32_t		 uidnext;
	struct imap_index_entry	*e;
	size_t			 n;
};

/* Parse p[0..len). 0, or -1 when the first line is not a valid header
 * (ix then empty with uidvalidity 0). ix is overwritten (not freed). */
int	imap_index_parse(const char *p, size_t len, struct imap_index *ix);
/* Append the file text of ix to b. 0, or -1 (b full). */
int	imap_index_format(const struct imap_index *ix, struct buf *b);
void	imap_index_free(struct imap_index *ix);
/* Whether s[0..len) may be a basename in the index (and on disk). */
int	imap_index_base_ok(const char *s, size_t len);

/* Length of the basename of a Maildir file name (up to ':'). */
size_t	imap_maildir_base_len(const char *fname);
/* IMAP_F_* of a Maildir file name's ":2,LETTERS" (0 without one). */
unsigned imap_maildir_flags(const char *fname);
/* Write into dst the info suffix ":2,LETTERS" for flags, keeping the
 * letters of fname's own ":2," info that are not ours (keywords a-z,
 * P passed...), all in ASCII order. 0, or -1 (too long). */
int	imap_maildir_info(const char *fname, unsigned flags, char *dst,
	    size_t dstlen);

/* Whether name is INBOX (any case). */
int	imap_name_is_inbox(const char *name);
/* See imap_store.h Layout. */
int	imap_name_valid(const char *name);
/* Directory for name: "." for INBOX, ".A.B" for "A/B". 0, or -1 (bad). */
int	imap_name_to_dir(const char *name, char *dst, size_t dstlen);
/* Mailbox name for a directory ".A.B" -> "A/B". 0, or -1 (not a folder
 * directory, or it gives an invalid name). */
int	imap_dir_to_name(const char *dir, char *dst, size_t dstlen);
/* SPECIAL-USE of a name. */
enum imap_special imap_name_special(const char *name);

/* One message of a snapshot, for the diff. */
struct imap_snap {
	uint32_t	 uid;
	unsigned	 flags;
};
/* Compare old[0..nold) with new[0..nnew) (both by UID ascending) into *c
 * (zeroed first; free with imap_changes_free). */
void	imap_changes_diff(const struct imap_snap *old, size_t nold,
	    const struct imap_snap *cur, size_t ncur, struct imap_changes *c);
#endif
