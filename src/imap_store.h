/* imap_store - a user's Maildir++ folders as IMAP mailboxes: folder list,
 *              UIDs and UIDVALIDITY that survive restarts and POP3,
 *              flags kept as Maildir info suffixes, append, copy, move,
 *              expunge, subscriptions.
 * Layout:  USER/Maildir/ is INBOX; a folder "A" is USER/Maildir/.A/ and a
 *          child "A/B" is .A.B/ (Maildir++: '.' separates levels in the
 *          directory name; IMAP hierarchy delimiter is '/', and a name
 *          holding '.' or starting with '.' is refused, as are "..", '%',
 *          '*', control octets and names longer than IMAP_NAME_MAX).
 *          Names are UTF-8 on the wire (IMAP4rev2) and on disk.
 *          Each folder has a "postern-uidlist" file (format: imap_index.h,
 *          documented in doc/ARCHITECTURE.md) rewritten atomically under
 *          flock(2) on "postern-uidlist.lock". "subscriptions" in the
 *          Maildir holds one subscribed name per line (Dovecot's file name).
 *          Flags: ":2," + letters in ASCII order (D draft, F flagged,
 *          R answered, S seen, T deleted), as every Maildir tool reads them.
 * Trusts: the Maildir directory descriptor it is given (imapd opened
 *         USER/Maildir for an authenticated user); nothing about the names,
 *         sizes and contents of files in it (deliveries, POP3 and other
 *         Maildir tools change it underneath: every sync re-reads it).
 * Gives:  a folder snapshot with message sequence numbers (1-based index
 *         + 1) that change only when the caller applies a sync; sync reports
 *         what others did since (expunged, new, flags changed), so each
 *         session tells its client in IMAP's order.
 * Limits: IMAP_FOLDER_MSGS_MAX messages shown per folder (the rest, by
 *         UID, hidden with a warning); basenames of IMAP_INDEX_BASE_MAX.
 *         A folder's scan is one readdir of new/ and cur/, one index read
 *         (none when its stat is unchanged) and an fstatat per file not
 *         already in the snapshot under the same name: no per-message open.
 * Never:  follows symbolic links, reuses a UID within one UIDVALIDITY,
 *         removes a file it was not asked to, or reads a message whole. */
#ifndef POSTERN_IMAP_STORE_H
#define POSTERN_IMAP_STORE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define IMAP_NAME_MAX		200	/* octets of a mailbox name */
#define IMAP_FOLDER_MSGS_MAX	1000000

/* System flags (RFC 9051 2.3.2); \Recent is not stored (IMAP4rev2 drops it). */
#define IMAP_F_SEEN	0x01
#define IMAP_F_ANSWERED	0x02
#define IMAP_F_FLAGGED	0x04
#define IMAP_F_DELETED	0x08
#define IMAP_F_DRAFT	0x10
#define IMAP_F_ALL	0x1f

/* SPECIAL-USE (RFC 6154) attributes. */
enum imap_special {
	IMAP_SPECIAL_NONE = 0,
	IMAP_SPECIAL_SENT,	/* .Sent   \Sent */
	IMAP_SPECIAL_DRAFTS,	/* .Drafts \Drafts */
	IMAP_SPECIAL_TRASH,	/* .Trash  \Trash */
	IMAP_SPECIAL_JUNK,	/* .Junk   \Junk */
};

struct imap_msg {
	uint32_t	 uid;
	unsigned	 flags;		/* IMAP_F_* */
	uint64_t	 size;		/* RFC822.SIZE: the file's octets */
	time_t		 internaldate;	/* the file's mtime (delivery time) */
	char		*name;		/* "cur/BASE:2,FS" or "new/BASE" */
};

struct imap_folder {
	int		 maildir_fd;	/* borrowed: the user's Maildir */
	int		 dir_fd;	/* this folder's directory (owned) */
	char		 name[IMAP_NAME_MAX + 1];	/* "INBOX", "Sent", "A/B" */
	int		 readonly;	/* EXAMINE: no flag or new/ changes */
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;
	struct imap_msg	*msgs;		/* by UID ascending; seq = index + 1 */
	size_t		 n;
	/* private to imap_store.c */
	void		*priv;
};

/* What a sync found changed by others (or by this session's own earlier
 * calls that were not applied yet). expunged: sequence numbers in the
 * OLD numbering, in descending order (so "* N EXPUNGE" can be sent one
 * after another as IMAP requires); flag_changed: sequence numbers in the
 * NEW numbering; exists: the new count. */
struct imap_changes {
	uint32_t	*expunged;
	size_t		 n_expunged;
	uint32_t	*flag_changed;
	size_t		 n_flag_changed;
	size_t		 exists;
	size_t		 old_exists;
	int		 uidvalidity_changed;	/* folder recreated: sessions
						 * must drop it (BYE/close) */
};
void	imap_changes_free(struct imap_changes *c);

struct imap_folder_info {
	char		 name[IMAP_NAME_MAX + 1];
	enum imap_special special;
	int		 has_children;
	int		 subscribed;
	int		 nonexistent;	/* subscribed but gone (LIST-EXTENDED) */
};

struct imap_status {
	uint32_t	 messages, unseen, deleted, uidnext, uidvalidity;
	uint64_t	 size;
};

/* ---- the user's mailbox tree ---- */

/* First login (or any): make sure INBOX's new/ cur/ tmp/ and .Sent,
 * .Drafts, .Trash, .Junk exist (and subscribed). 0, or -1 with errno. */
int	imap_store_prepare(int maildir_fd);
/* All folders (INBOX first, then by name) and the subscribed names that no
 * longer exist; *n_r entries in *r (free()). 0 or -1. */
int	imap_store_list(int maildir_fd, struct imap_folder_info **r, size_t *n_r);
/* 0; -1 with errno: EINVAL bad name, EEXIST, ENOENT, EPERM (INBOX for
 * delete/rename-from is EPERM except RENAME INBOX, which moves its
 * messages into the new folder as RFC 9051 says), ENOTEMPTY (DELETE of a
 * folder with children keeps it as \Noselect: we refuse instead). */
int	imap_store_create(int maildir_fd, const char *name);
int	imap_store_delete(int maildir_fd, const char *name);
int	imap_store_rename(int maildir_fd, const char *from, const char *to);
int	imap_store_subscribe(int maildir_fd, const char *name, int on);
/* STATUS without selecting (reads the index and the directories). */
int	imap_store_status(int maildir_fd, const char *name, struct imap_status *st);
/* The special use of a name ("Sent" -> IMAP_SPECIAL_SENT ...). */
enum imap_special imap_store_special(const char *name);
/* Whether name is a valid mailbox name (see Layout). */
int	imap_store_name_ok(const char *name);

/* ---- one selected folder ---- */

/* SELECT/EXAMINE: snapshot the folder and assign UIDs to files that have
 * none yet, persisting them (EXAMINE too: UIDs must be the same for every
 * viewer, read-only or not). Not readonly: files in new/ move to
 * cur/ (their POP3 UID is the base name, unchanged by the move).
 * 0, or -1 with errno (ENOENT: no such mailbox). */
int	imap_folder_open(struct imap_folder *f, int maildir_fd, const char *name,
	    int readonly);
void	imap_folder_close(struct imap_folder *f);
/* Re-read the directories and the index; apply what changed to f and
 * describe it in *c (caller frees with imap_changes_free). 0 or -1. */
int	imap_folder_sync(struct imap_folder *f, struct imap_changes *c);
/* Set/add/remove flags of message index i (0-based): mode '=' '+' '-'.
 * Renames the file; the new flags are in f->msgs[i].flags ('+'/'-' apply
 * to the flags on disk, which another session may have changed). 0, or -1
 * (ENOENT: the file was gone, the next sync reports the expunge; EROFS:
 * the folder was opened readonly). */
int	imap_folder_store(struct imap_folder *f, size_t i, int mode,
	    unsigned flags);
/* Expunge: remove the messages with \Deleted (uids == NULL) or only those
 * with \Deleted whose UID is in uids[0..nuids) (UID EXPUNGE). The removed
 * messages leave f at once; expunged_r/n_r (may be NULL) get their
 * sequence numbers, descending, in the numbering before the call. 0/-1
 * (EROFS when readonly). */
int	imap_folder_expunge(struct imap_folder *f, const uint32_t *uids,
	    size_t nuids, uint32_t **expunged_r, size_t *n_r);
/* Open message i read-only (O_NOFOLLOW): fd, or -1 (gone). */
int	imap_folder_msg_open(const struct imap_folder *f, size_t i);
/* COPY message i into folder `dest` (hard link when possible, else a
 * copy), keeping its flags; *uid_r gets its UID there and *uidvalidity_r
 * that folder's UIDVALIDITY (COPYUID). 0, or -1 with errno (ENOENT: no
 * such destination -> [TRYCREATE]). MOVE = copy, then expunge of the
 * source. */
int	imap_folder_copy(struct imap_folder *f, size_t i, const char *dest,
	    uint32_t *uid_r, uint32_t *uidvalidity_r);

/* ---- APPEND: the message streams into the destination's tmp/ ---- */
struct imap_append {
	int		 maildir_fd;
	int		 fd;		/* write the octets here */
	char		 folder[IMAP_NAME_MAX + 1];
	char		 tmpname[256];
	uint64_t	 written;
};
/* 0, or -1 with errno (ENOENT: no such mailbox -> [TRYCREATE]). */
int	imap_append_begin(struct imap_append *a, int maildir_fd,
	    const char *folder);
/* write(2) all of it; 0 or -1 (the caller then aborts). */
int	imap_append_write(struct imap_append *a, const char *p, size_t n);
/* fsync, move into cur/ with the flags and internaldate (0: now),
 * assign the UID (APPENDUID). 0 or -1 (file removed). */
int	imap_append_commit(struct imap_append *a, unsigned flags,
	    time_t internaldate, uint32_t *uid_r, uint32_t *uidvalidity_r);
void	imap_append_abort(struct imap_append *a);
#endif
