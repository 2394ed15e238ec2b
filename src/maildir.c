/* maildir - durable Maildir delivery; see maildir.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "fileio.h"
#include "buf.h"
#include "maildir.h"
#include "users.h"

static unsigned maildir_counter;

static int
mkdirat_ok(int dfd, const char *path)
{
	if (mkdirat(dfd, path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
maildir_name_ok(const char *user)
{
	/* Defence in depth: the name becomes a path under mail_fd,
	 * so whatever a caller (or a forged queue file) passes, no '/', no
	 * leading '.', and the user-name rule of `postern user add`. */
	if (user == NULL || user[0] == '\0' || user[0] == '.' ||
	    strchr(user, '/') != NULL || !users_name_valid(user))
		return 0;
	return 1;
}

int
maildir_create(int mail_fd, const char *user)
{
	static const char *const sub[] = { "", "/Maildir", "/Maildir/tmp",
	    "/Maildir/new", "/Maildir/cur" };
	char path[256];
	size_t i;

	if (!maildir_name_ok(user)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		if (xsnprintf(path, sizeof(path), "%s%s", user, sub[i]) == -1)
			return -1;
		if (mkdirat_ok(mail_fd, path) == -1)
			return -1;
	}
	return 0;
}

/* Copy src_fd from src_off to its end into fd; returns bytes or -1. */
static off_t
copy_rest(int fd, int src_fd, off_t src_off)
{
	char chunk[65536];
	off_t total = 0;
	ssize_t r;

	for (;;) {
		r = pread(src_fd, chunk, sizeof(chunk), src_off + total);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return total;
		if (fileio_write_all(fd, chunk, (size_t)r) == -1)
			return -1;
		total += r;
	}
}

/* Host part of a Maildir name: '/' and ':' would break the format. */
static void
clean_host(char *dst, size_t len, const char *host)
{
	size_t i;

	for (i = 0; host[i] && i + 1 < len; i++)
		dst[i] = (host[i] == '/' || host[i] == ':') ? '_' : host[i];
	dst[i] = '\0';
}

int
maildir_deliver(int mail_fd, const char *user, const char *host,
    const char *header, size_t header_len, int src_fd, off_t src_off,
    char *name_r, size_t name_len)
{
	char h[128], base[256], tmp[512], fin[512];
	struct timeval tv;
	off_t body;
	int fd = -1, dfd = -1, saved;

	if (maildir_create(mail_fd, user) == -1)
		return -1;
	clean_host(h, sizeof(h), host);
	gettimeofday(&tv, NULL);
	if (xsnprintf(base, sizeof(base), "%lld.M%06ldP%ldQ%u.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
	    ++maildir_counter, h) == -1 ||
	    xsnprintf(tmp, sizeof(tmp), "%s/Maildir/tmp/%s", user, base) == -1)
		return -1;
	fd = openat(mail_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (fileio_write_all(fd, header, header_len) == -1)
		goto fail;
	if ((body = copy_rest(fd, src_fd, src_off)) == -1)
		goto fail;
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (xsnprintf(fin, sizeof(fin), "%s/Maildir/new/%s,S=%lld", user, base,
	    (long long)(body + (off_t)header_len)) == -1) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (renameat(mail_fd, tmp, mail_fd, fin) == -1)
		goto fail;
	if (xsnprintf(tmp, sizeof(tmp), "%s/Maildir/new", user) == -1 ||
	    (dfd = openat(mail_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		/* The file is in new/ but maybe not durably: report failure so
		 * that the queue keeps the recipient (a duplicate beats a loss). */
		saved = errno;
		if (dfd != -1)
			close(dfd);
		errno = saved;
		return -1;
	}
	close(dfd);
	if (name_r != NULL)
		snprintf(name_r, name_len, "%s", strrchr(fin, '/') + 1);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(mail_fd, tmp, 0);
	errno = saved;
	return -1;
}

size_t
maildir_clean_tmp(int mail_fd)
{
	struct dirent *ue, *fe;
	DIR *users, *tmp;
	char path[512];
	size_t removed = 0;
	int fd, tfd;

	if ((fd = fcntl(mail_fd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    (users = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	rewinddir(users);
	while ((ue = readdir(users)) != NULL) {
		if (ue->d_name[0] == '.' ||
		    xsnprintf(path, sizeof(path), "%s/Maildir/tmp", ue->d_name) == -1)
			continue;
		tfd = openat(mail_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (tfd == -1 || (tmp = fdopendir(tfd)) == NULL) {
			if (tfd != -1)
				close(tfd);
			continue;
		}
		while ((fe = readdir(tmp)) != NULL)
			if (fe->d_name[0] != '.' &&
			    unlinkat(dirfd(tmp), fe->d_name, 0) == 0)
				removed++;
		closedir(tmp);
	}
	closedir(users);
	return removed;
}
