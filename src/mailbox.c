/* mailbox - the Maildir half of the POP3 mailbox: the snapshot, the
 * deletions at QUIT and reading a message; see mailbox.h.
 *
 * The snapshot is taken once, when the session enters TRANSACTION: new/
 * and cur/ are read with readdir through descriptors relative to the
 * Maildir (openat/fdopendir), so the process never needs a path to it,
 * and every file found goes into the in-memory list of mailbox_index.c.
 * Everything after that works on that list; the only later I/O is
 * opening one message for RETR/TOP and unlinking at QUIT. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailbox.h"

/* ---- snapshot ------------------------------------------------------ */

/* The mailbox's close_dir: mailbox_free (pure) closes the directory
 * through it. */
static void
close_dir(int fd)
{
	close(fd);
}

/* Add the regular files of sub ("new" or "cur"). 0 or -1. */
static int
scan_dir(struct mailbox *mb, const char *sub, size_t max_msgs)
{
	char name[NAME_MAX + 8];
	struct dirent *de;
	struct stat st;
	uint64_t size;
	DIR *d;
	int dfd;

	dfd = openat(mb->fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (dfd == -1)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (mb->n >= max_msgs)
			break;
		if (xsnprintf(name, sizeof(name), "%s/%s", sub,
		    de->d_name) == -1)
			continue;
		if (de->d_type == DT_UNKNOWN || mailbox_name_size(de->d_name,
		    &size) == -1) {
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1) {
				if (errno == ENOENT)
					continue;	/* gone meanwhile */
				goto fail;
			}
			if (!S_ISREG(st.st_mode))
				continue;
			if (mailbox_name_size(de->d_name, &size) == -1)
				size = (uint64_t)st.st_size;
		}
		(void)mailbox_add(mb, name, size);
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	return 0;
fail:
	closedir(d);
	return -1;
}

int
mailbox_open(struct mailbox *mb, int maildir_fd, size_t max_msgs)
{
	int saved;

	mailbox_init(mb);
	mb->fd = maildir_fd;
	mb->close_dir = close_dir;
	if (scan_dir(mb, "new", max_msgs) == -1 ||
	    scan_dir(mb, "cur", max_msgs) == -1) {
		saved = errno;
		mailbox_free(mb);
		errno = saved;
		return -1;
	}
	mailbox_finish(mb);
	return 0;
}

int
mailbox_commit(struct mailbox *mb, size_t *removed_r)
{
	size_t i, removed = 0;
	int rc = 0;

	for (i = 0; i < mb->n; i++) {
		if (!mb->msgs[i].deleted)
			continue;
		if (mb->fd == -1 || (unlinkat(mb->fd, mb->msgs[i].name, 0) == -1 &&
		    errno != ENOENT)) {
			rc = -1;
			continue;
		}
		mb->msgs[i].deleted = 0;
		removed++;
	}
	if (removed_r != NULL)
		*removed_r = removed;
	return rc;
}

/* ---- reading a message --------------------------------------------- */

int
mailbox_msg_open(const struct mailbox *mb, size_t i)
{
	struct stat st;
	int fd;

	if (i >= mb->n || mb->fd == -1) {
		errno = EINVAL;
		return -1;
	}
	/* O_NONBLOCK: a FIFO put in place of a message must not hang us. */
	fd = openat(mb->fd, mb->msgs[i].name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

ssize_t
mailbox_fd_read(void *arg, char *p, size_t len)
{
	int fd = *(int *)arg;
	ssize_t r;

	do
		r = read(fd, p, len);
	while (r == -1 && errno == EINTR);
	return r;
}
