/* fileio - whole-buffer writes, bounded whole-file reads and the atomic
 *          rewrite; see fileio.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

int
fileio_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fileio_read_all(int fd, struct buf *b)
{
	char chunk[8192];
	ssize_t r;
	int rc;

	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r == 0) {
			rc = 0;
			break;
		}
		if (r == -1) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		if (buf_append(b, chunk, (size_t)r) == -1) {
			errno = EFBIG;
			rc = -1;
			break;
		}
	}
	/* The files read this way include secrets (the users file, the TLS
	 * key): no copy stays behind on the stack. */
	explicit_bzero(chunk, sizeof(chunk));
	return rc;
}

int
fileio_read_file(int dirfd, const char *name, int flags, size_t max,
    struct buf *b, struct stat *st_r)
{
	struct stat st;
	int fd, saved, rc = -1;

	buf_init(b, max);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
	    ((flags & FILEIO_FOLLOW) ? 0 : O_NOFOLLOW));
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	if (st_r != NULL)
		*st_r = st;
	rc = fileio_read_all(fd, b);
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
fileio_read_prefix(int fd, const char *delim, size_t dlen, struct buf *b)
{
	char chunk[8192];
	off_t off = 0;
	ssize_t r;

	for (;;) {
		r = pread(fd, chunk, sizeof(chunk), off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			return 0;
		if (buf_append(b, chunk, (size_t)r) == -1) {
			errno = EFBIG;
			return -1;
		}
		off += r;
		if (memmem(b->data, b->len, delim, dlen) != NULL)
			return 1;
	}
}

static int
create_tmp(int dirfd, const char *tmpname, int flags)
{
	int fd, tries;

	for (tries = 0; tries < 2; tries++) {
		fd = openat(dirfd, tmpname, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
		if (fd != -1 || errno != EEXIST ||
		    !(flags & FILEIO_TMP_LEFTOVER))
			return fd;
		if (unlinkat(dirfd, tmpname, 0) == -1 && errno != ENOENT)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

int
fileio_replace(int dirfd, const char *name, const char *tmpname,
    const void *data, size_t len, const struct fileio_new *nf,
    enum fileio_step *failed_r)
{
	enum fileio_step step = FILEIO_OPEN;
	int fd, saved;

	if ((fd = create_tmp(dirfd, tmpname, nf->flags)) == -1)
		goto fail;
	step = FILEIO_OWNER;
	if ((nf->uid != (uid_t)-1 || nf->gid != (gid_t)-1) && geteuid() == 0 &&
	    fchown(fd, nf->uid, nf->gid) == -1)
		goto fail_fd;
	step = FILEIO_MODE;
	if (fchmod(fd, nf->mode) == -1)
		goto fail_fd;
	step = FILEIO_WRITE;
	if (fileio_write_all(fd, data, len) == -1)
		goto fail_fd;
	step = FILEIO_SYNC;
	if (fsync(fd) == -1)
		goto fail_fd;
	step = FILEIO_CLOSE;
	if (close(fd) == -1)
		goto fail_tmp;
	step = FILEIO_RENAME;
	if (renameat(dirfd, tmpname, dirfd, name) == -1) {
		if (errno == ENOENT)
			goto fail;	/* not ours any more to remove */
		goto fail_tmp;
	}
	/* The rename is durable once the directory is. */
	step = FILEIO_DIRSYNC;
	if (fsync(dirfd) == -1)
		goto fail;
	if (failed_r != NULL)
		*failed_r = FILEIO_DONE;
	return 0;

fail_fd:
	saved = errno;
	close(fd);
	errno = saved;
fail_tmp:
	saved = errno;
	(void)unlinkat(dirfd, tmpname, 0);
	errno = saved;
fail:
	if (failed_r != NULL)
		*failed_r = step;
	return -1;
}

const char *
fileio_step_name(enum fileio_step s)
{
	switch (s) {
	case FILEIO_DONE:	return "done";
	case FILEIO_OPEN:	return "create";
	case FILEIO_OWNER:	return "chown";
	case FILEIO_MODE:	return "chmod";
	case FILEIO_WRITE:	return "write";
	case FILEIO_SYNC:	return "fsync";
	case FILEIO_CLOSE:	return "close";
	case FILEIO_RENAME:	return "rename";
	case FILEIO_DIRSYNC:	return "directory fsync";
	}
	return "?";
}
