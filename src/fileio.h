/* fileio - the small file helpers every process needs: write a whole
 *          buffer, read a whole (bounded) file, and the one atomic
 *          rewrite of a spool or config file.
 * Trusts: its callers' descriptors and names (a name is one path
 *         component under a directory descriptor).
 * Gives:  fileio_replace: a temporary file created O_EXCL (never through a
 *         symlink), given its mode (and owner, when run as root), the
 *         whole content written and fsync'ed, renamed over the target and
 *         the directory fsync'ed; every failure is reported, the directory
 *         fsync's included, and a failed rewrite leaves the old file and
 *         no temporary behind.
 * Never:  allocates past the buf's cap; follows a symlink it opens. */
#ifndef POSTERN_FILEIO_H
#define POSTERN_FILEIO_H
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "buf.h"

/* write(2) until all n bytes are out (EINTR retried). 0, or -1 with errno. */
int	fileio_write_all(int fd, const void *p, size_t n);
/* Append what fd has left to b (b's cap bounds it). 0, or -1 with errno
 * (EFBIG when the file does not fit). */
int	fileio_read_all(int fd, struct buf *b);
/* Open name under dirfd (a symlink only with FILEIO_FOLLOW; O_NONBLOCK,
 * so a FIFO cannot block; a non-regular file is EINVAL), buf_init(b, max)
 * and read it all. st_r (may be NULL) gets its fstat. 0, or -1 with errno
 * (ENOENT when it does not exist, EFBIG when larger than max, b then
 * holding what fitted); b is initialised either way and the caller frees
 * it. dirfd AT_FDCWD takes a path. */
#define FILEIO_FOLLOW	0x1	/* a symlink is followed (config files) */
int	fileio_read_file(int dirfd, const char *name, int flags, size_t max,
	    struct buf *b, struct stat *st_r);

/* Read fd from offset 0 (pread: the file offset is left alone) into b,
 * which the caller has initialised with its cap, until b holds the
 * delimiter delim[0..dlen) or the file ends. 1 found, 0 the file ended
 * first, -1 with errno (EFBIG when b filled up first). For the envelope
 * of a queue file (delim "\n\n"). */
int	fileio_read_prefix(int fd, const char *delim, size_t dlen,
	    struct buf *b);

/* What the new file of fileio_replace gets. */
struct fileio_new {
	mode_t	mode;		/* exactly (fchmod: the umask does not apply) */
	uid_t	uid;		/* owner, set only when run as root; */
	gid_t	gid;		/* (uid_t)-1 / (gid_t)-1 keep ours */
	int	flags;		/* FILEIO_TMP_* */
};
/* An existing temporary file is a leftover (the caller holds the lock
 * that every writer of it takes): remove it and create ours. Without
 * this, an existing temporary fails the rewrite at FILEIO_OPEN, EEXIST. */
#define FILEIO_TMP_LEFTOVER	0x1

/* The step a rewrite failed at. */
enum fileio_step {
	FILEIO_DONE = 0,
	FILEIO_OPEN,		/* creating the temporary */
	FILEIO_OWNER,		/* fchown */
	FILEIO_MODE,		/* fchmod */
	FILEIO_WRITE,
	FILEIO_SYNC,		/* fsync of the file */
	FILEIO_CLOSE,
	FILEIO_RENAME,		/* ENOENT: the temporary was taken away */
	FILEIO_DIRSYNC		/* the new file is in place, not yet durable */
};

/* Replace dirfd/name with data[0..len) through dirfd/tmpname (see the
 * header comment). 0, or -1 with errno and *failed_r (may be NULL) the
 * step that failed. Before FILEIO_DIRSYNC the old file is intact and the
 * temporary removed (after FILEIO_RENAME with ENOENT nothing of ours is
 * left to remove: another writer of the same temporary name renamed it). */
int	fileio_replace(int dirfd, const char *name, const char *tmpname,
	    const void *data, size_t len, const struct fileio_new *nf,
	    enum fileio_step *failed_r);
/* A word for a step ("write", "fsync", "rename", "directory fsync"...). */
const char *fileio_step_name(enum fileio_step s);
#endif
