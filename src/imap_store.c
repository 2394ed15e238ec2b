/* imap_store - a user's Maildir++ folders as IMAP mailboxes (see
 *              imap_store.h). The file I/O half; the index format, the
 *              flag letters, names and the snapshot diff are pure, in
 *              imap_index.c.
 * Locking: every change to a folder (index rewrite, new/ -> cur/ moves,
 *          flag renames, appends, copies in) happens under flock(2) on the
 *          folder's postern-uidlist.lock, and so does every scan: a
 *          session never sees a file between two names of ours. */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "decimal.h"
#include "fileio.h"
#include "imap_index.h"
#include "imap_store.h"
#include "log.h"

#define INDEX_NAME	"postern-uidlist"
#define INDEX_TMP	"postern-uidlist.tmp"
#define INDEX_LOCK	"postern-uidlist.lock"
#define UIDV_NAME	"postern-uidvalidity"	/* in the Maildir: last given */
#define UIDV_TMP	"postern-uidvalidity.tmp"
#define UIDV_LOCK	"postern-uidvalidity.lock"
#define SUBS_NAME	"subscriptions"
#define SUBS_TMP	"subscriptions.tmp"
#define SUBS_LOCK	"subscriptions.lock"
/* An index line is at most a 10-digit UID, a space, a basename, '\n'. */
#define INDEX_FILE_MAX	((size_t)IMAP_FOLDER_MSGS_MAX * (IMAP_INDEX_BASE_MAX + 12) + 64)
#define SUBS_FILE_MAX	(1024 * 1024)
#define FNAME_MAX	(IMAP_INDEX_BASE_MAX + IMAP_INFO_MAX + 8)	/* "cur/" + name */
#define COPY_CHUNK	65536

struct fpriv {
	struct imap_index	ix;	/* the index as last read or written */
	struct stat		ix_st;	/* and its stat, to see others' writes */
	int			have_ix;
};

static unsigned store_counter;

static const struct fileio_new index_mode = { 0600, (uid_t)-1, (gid_t)-1,
	FILEIO_TMP_LEFTOVER };

/* ---- small helpers ---- */

static int
open_dir(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* The folder's directory, with its cur/ there (a Maildir). */
static int
open_folder_dir(int maildir_fd, const char *name)
{
	char dir[IMAP_DIR_MAX];
	struct stat st;
	int fd;

	if (imap_name_to_dir(name, dir, sizeof(dir)) == -1) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = open_dir(maildir_fd, dir)) == -1) {
		if (errno == ELOOP || errno == ENOTDIR)
			errno = ENOENT;
		return -1;
	}
	if (fstatat(fd, "cur", &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	return fd;
}

static int
lock_file(int dir_fd, const char *lockname)
{
	int fd = openat(dir_fd, lockname,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int
lock_folder(int dir_fd)
{
	return lock_file(dir_fd, INDEX_LOCK);
}

static void
unlock_folder(int lock_fd)
{
	if (lock_fd != -1)
		close(lock_fd);	/* releases the flock */
}

static void
clean_host(char *dst, size_t len)
{
	char h[128];
	size_t i, o = 0;

	if (gethostname(h, sizeof(h)) == -1)
		snprintf(h, sizeof(h), "localhost");
	h[sizeof(h) - 1] = '\0';
	for (i = 0; h[i] != '\0' && o + 1 < len; i++)
		dst[o++] = (h[i] == '/' || h[i] == ':' || h[i] == '.' ||
		    (unsigned char)h[i] <= ' ') ? '_' : h[i];
	dst[o] = '\0';
}

/* A fresh Maildir basename, as maildir_deliver makes them. */
static int
unique_base(char *dst, size_t len)
{
	char h[64];
	struct timeval tv;

	clean_host(h, sizeof(h));
	gettimeofday(&tv, NULL);
	return xsnprintf(dst, len, "%lld.M%06ldP%ldQ%uI.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
	    ++store_counter, h);
}

/* A UIDVALIDITY above every one this Maildir gave before. */
static uint32_t
new_uidvalidity(int maildir_fd)
{
	struct buf b;
	uint64_t last = 0, v;
	char line[32];
	int lfd;

	lfd = lock_file(maildir_fd, UIDV_LOCK);
	if (fileio_read_file(maildir_fd, UIDV_NAME, 0, 64, &b, NULL) == 0 &&
	    b.len > 0) {
		size_t n = b.len;

		while (n > 0 && (b.data[n - 1] == '\n'))
			n--;
		if (parse_decimal(b.data, n, UINT32_MAX, &v) == 0)
			last = v;
	}
	buf_free(&b);
	v = (uint64_t)time(NULL);
	if (v <= last)
		v = last + 1;
	if (v >= UINT32_MAX || v == 0)
		v = 1;
	snprintf(line, sizeof(line), "%llu\n", (unsigned long long)v);
	if (fileio_replace(maildir_fd, UIDV_NAME, UIDV_TMP, line, strlen(line),
	    &index_mode, NULL) == -1)
		log_warn("imap: cannot save uidvalidity: %s", strerror(errno));
	unlock_folder(lfd);
	return (uint32_t)v;
}

/* Under the lock: the index in p->ix, re-read when the file changed.
 * A missing or void index gives a new UIDVALIDITY. 1 when new. */
static int
load_index(int maildir_fd, int dir_fd, struct fpriv *p)
{
	struct stat st;
	struct buf b;

	if (fstatat(dir_fd, INDEX_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    p->have_ix && st.st_ino == p->ix_st.st_ino &&
	    st.st_size == p->ix_st.st_size &&
	    st.st_mtim.tv_sec == p->ix_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == p->ix_st.st_mtim.tv_nsec)
		return 0;
	imap_index_free(&p->ix);
	p->have_ix = 0;
	if (fileio_read_file(dir_fd, INDEX_NAME, 0, INDEX_FILE_MAX, &b, &st) == 0 &&
	    imap_index_parse(b.data, b.len, &p->ix) == 0) {
		buf_free(&b);
		p->ix_st = st;
		p->have_ix = 1;
		return 0;
	}
	buf_free(&b);
	imap_index_free(&p->ix);
	p->ix.uidvalidity = new_uidvalidity(maildir_fd);
	p->ix.uidnext = 1;
	return 1;
}

static int
save_index(int dir_fd, struct fpriv *p)
{
	struct buf b;
	enum fileio_step step;
	int r;

	buf_init(&b, INDEX_FILE_MAX);
	if (imap_index_format(&p->ix, &b) == -1) {
		buf_free(&b);
		errno = EFBIG;
		return -1;
	}
	r = fileio_replace(dir_fd, INDEX_NAME, INDEX_TMP, b.data, b.len,
	    &index_mode, &step);
	buf_free(&b);
	if (r == -1) {
		log_warn("imap: index rewrite failed at %s: %s",
		    fileio_step_name(step), strerror(errno));
		p->have_ix = 0;
		return -1;
	}
	if (fstatat(dir_fd, INDEX_NAME, &p->ix_st, AT_SYMLINK_NOFOLLOW) == 0)
		p->have_ix = 1;
	return 0;
}

/* Under the lock: give base the next UID in the index. */
static int
index_add(int maildir_fd, int dir_fd, const char *base, uint32_t *uid_r,
    uint32_t *uidv_r)
{
	struct fpriv p;
	int r;

	memset(&p, 0, sizeof(p));
	load_index(maildir_fd, dir_fd, &p);
	if (p.ix.uidnext == UINT32_MAX || p.ix.n >= IMAP_FOLDER_MSGS_MAX) {
		imap_index_free(&p.ix);
		errno = ENOSPC;
		return -1;
	}
	p.ix.e = xreallocarray(p.ix.e, p.ix.n + 1, sizeof(*p.ix.e));
	p.ix.e[p.ix.n].uid = p.ix.uidnext++;
	p.ix.e[p.ix.n].base = xstrdup(base);
	*uid_r = p.ix.e[p.ix.n].uid;
	*uidv_r = p.ix.uidvalidity;
	p.ix.n++;
	r = save_index(dir_fd, &p);
	imap_index_free(&p.ix);
	return r;
}

/* ---- scanning a folder ---- */

struct found {
	char		*fname;		/* "cur/..." or "new/..." */
	size_t		 base_off;	/* 4 */
	size_t		 base_len;
	int		 in_cur;
	uint32_t	 uid;
};

static int
cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	size_t n = x->base_len < y->base_len ? x->base_len : y->base_len;
	int c = memcmp(x->fname + 4, y->fname + 4, n);

	if (c != 0)
		return c;
	if (x->base_len != y->base_len)
		return x->base_len < y->base_len ? -1 : 1;
	return y->in_cur - x->in_cur;	/* cur/ first */
}

static int
cmp_entry_base(const void *a, const void *b)
{
	const struct imap_index_entry *const *x = a, *const *y = b;

	return strcmp((*x)->base, (*y)->base);
}

static int
cmp_msg_uid(const void *a, const void *b)
{
	const struct imap_msg *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int
read_sub(int dir_fd, const char *sub, int in_cur, struct found **v,
    size_t *n, size_t *cap)
{
	DIR *d;
	struct dirent *de;
	int fd;

	if ((fd = open_dir(dir_fd, sub)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t bl;

		if (de->d_name[0] == '.' || de->d_type == DT_LNK ||
		    de->d_type == DT_DIR)
			continue;
		bl = imap_maildir_base_len(de->d_name);
		if (!imap_index_base_ok(de->d_name, bl) ||
		    strlen(de->d_name) + 5 > FNAME_MAX)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 256;
			*v = xreallocarray(*v, *cap, sizeof(**v));
		}
		(*v)[*n].fname = xcalloc(1, strlen(de->d_name) + 5);
		memcpy((*v)[*n].fname, sub, 3);
		(*v)[*n].fname[3] = '/';
		memcpy((*v)[*n].fname + 4, de->d_name, strlen(de->d_name) + 1);
		(*v)[*n].base_len = bl;
		(*v)[*n].in_cur = in_cur;
		(*v)[*n].uid = 0;
		(*n)++;
	}
	closedir(d);
	return 0;
}

/* Find the old snapshot's message with this UID (old is by UID). */
static const struct imap_msg *
old_by_uid(const struct imap_msg *old, size_t nold, uint32_t uid)
{
	size_t lo = 0, hi = nold;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (old[mid].uid == uid)
			return &old[mid];
		if (old[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Under the lock: the folder as it is now, UIDs assigned and persisted,
 * new/ moved into cur/ unless readonly. old (may be NULL) lends sizes and
 * dates of files whose name did not change. */
static int
scan(int maildir_fd, int dir_fd, int readonly, struct fpriv *p,
    const struct imap_msg *old, size_t nold, struct imap_msg **msgs_r,
    size_t *n_r)
{
	struct found *v = NULL;
	struct imap_index_entry **byb = NULL;
	struct imap_msg *m = NULL;
	size_t n = 0, cap = 0, i, k, nm = 0;
	int dirty, saved;

	/* new/ before cur/: a file moving new/ -> cur/ meanwhile is seen
	 * twice (kept once) rather than not at all */
	if (read_sub(dir_fd, "new", 0, &v, &n, &cap) == -1 ||
	    read_sub(dir_fd, "cur", 1, &v, &n, &cap) == -1)
		goto fail;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_found);
	/* keep one per basename */
	for (i = 0, k = 0; i < n; i++) {
		if (k > 0 && v[k - 1].base_len == v[i].base_len &&
		    memcmp(v[k - 1].fname + 4, v[i].fname + 4, v[i].base_len) == 0) {
			free(v[i].fname);
			continue;
		}
		v[k++] = v[i];
	}
	n = k;
	dirty = load_index(maildir_fd, dir_fd, p);
	if (p->ix.n > 0) {
		byb = xcalloc(p->ix.n, sizeof(*byb));
		for (i = 0; i < p->ix.n; i++)
			byb[i] = &p->ix.e[i];
		qsort(byb, p->ix.n, sizeof(*byb), cmp_entry_base);
	}
	k = 0;
	for (i = 0; i < n; i++) {
		char base[IMAP_INDEX_BASE_MAX + 1];
		struct imap_index_entry key, *kp = &key, **hit;

		memcpy(base, v[i].fname + 4, v[i].base_len);
		base[v[i].base_len] = '\0';
		key.base = base;
		hit = p->ix.n ? bsearch(&kp, byb, p->ix.n, sizeof(*byb),
		    cmp_entry_base) : NULL;
		if (hit != NULL) {
			v[i].uid = (*hit)->uid;
			k++;
		}
	}
	if (k != p->ix.n)
		dirty = 1;	/* entries whose files vanished */
	/* files without a UID get the next ones, in file name order */
	for (i = 0; i < n; i++) {
		if (v[i].uid != 0)
			continue;
		if (p->ix.uidnext == UINT32_MAX)
			continue;
		v[i].uid = p->ix.uidnext++;
		dirty = 1;
	}
	m = n ? xcalloc(n, sizeof(*m)) : NULL;
	for (i = 0; i < n; i++) {
		const struct imap_msg *om;
		struct stat st;
		char *fname = v[i].fname;

		if (v[i].uid == 0)
			continue;
		if (!v[i].in_cur && !readonly) {
			char info[IMAP_INFO_MAX], to[FNAME_MAX];

			if (imap_maildir_info(fname + 4, imap_maildir_flags(fname + 4), info,
			    sizeof(info)) == 0 &&
			    xsnprintf(to, sizeof(to), "cur/%.*s%s",
			    (int)v[i].base_len, fname + 4, info) != -1 &&
			    renameat(dir_fd, fname, dir_fd, to) == 0) {
				free(fname);
				fname = v[i].fname = xstrdup(to);
			}
		}
		om = old ? old_by_uid(old, nold, v[i].uid) : NULL;
		if (om != NULL && strcmp(om->name, fname) == 0) {
			m[nm].size = om->size;
			m[nm].internaldate = om->internaldate;
		} else {
			if (fstatat(dir_fd, fname, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
			    !S_ISREG(st.st_mode))
				continue;
			m[nm].size = (uint64_t)st.st_size;
			m[nm].internaldate = st.st_mtime;
		}
		m[nm].uid = v[i].uid;
		m[nm].flags = imap_maildir_flags(fname);
		m[nm].name = fname;
		v[i].fname = NULL;
		nm++;
	}
	if (nm > 1)
		qsort(m, nm, sizeof(*m), cmp_msg_uid);
	if (nm > IMAP_FOLDER_MSGS_MAX) {
		log_warn("imap: folder over %d messages: the rest is hidden",
		    IMAP_FOLDER_MSGS_MAX);
		for (i = IMAP_FOLDER_MSGS_MAX; i < nm; i++)
			free(m[i].name);
		nm = IMAP_FOLDER_MSGS_MAX;
	}
	if (dirty) {
		uint32_t uidnext = p->ix.uidnext, uidv = p->ix.uidvalidity;

		imap_index_free(&p->ix);
		p->ix.uidvalidity = uidv;
		p->ix.uidnext = uidnext;
		p->ix.e = nm ? xcalloc(nm, sizeof(*p->ix.e)) : NULL;
		for (i = 0; i < nm; i++) {
			p->ix.e[i].uid = m[i].uid;
			p->ix.e[i].base = xstrndup(m[i].name + 4,
			    imap_maildir_base_len(m[i].name + 4));
		}
		p->ix.n = nm;
		if (save_index(dir_fd, p) == -1 && !readonly)
			log_warn("imap: UIDs not saved");
	}
	for (i = 0; i < n; i++)
		free(v[i].fname);
	free(v);
	free(byb);
	*msgs_r = m;
	*n_r = nm;
	return 0;
fail:
	saved = errno;
	for (i = 0; i < n; i++)
		free(v[i].fname);
	free(v);
	errno = saved;
	return -1;
}

static void
free_msgs(struct imap_msg *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(m[i].name);
	free(m);
}

/* ---- one selected folder ---- */

int
imap_folder_open(struct imap_folder *f, int maildir_fd, const char *name,
    int readonly)
{
	struct fpriv *p;
	int lfd;

	memset(f, 0, sizeof(*f));
	f->dir_fd = -1;
	if ((f->dir_fd = open_folder_dir(maildir_fd, name)) == -1)
		return -1;
	f->maildir_fd = maildir_fd;
	snprintf(f->name, sizeof(f->name), "%s",
	    imap_name_is_inbox(name) ? "INBOX" : name);
	f->readonly = readonly;
	p = f->priv = xcalloc(1, sizeof(*p));
	if ((lfd = lock_folder(f->dir_fd)) == -1 ||
	    scan(maildir_fd, f->dir_fd, readonly, p, NULL, 0, &f->msgs,
	    &f->n) == -1) {
		int saved = errno;

		unlock_folder(lfd);
		imap_folder_close(f);
		errno = saved;
		return -1;
	}
	unlock_folder(lfd);
	f->uidvalidity = p->ix.uidvalidity;
	f->uidnext = p->ix.uidnext;
	return 0;
}

void
imap_folder_close(struct imap_folder *f)
{
	struct fpriv *p = f->priv;

	if (f->dir_fd != -1)
		close(f->dir_fd);
	free_msgs(f->msgs, f->n);
	if (p != NULL) {
		imap_index_free(&p->ix);
		free(p);
	}
	memset(f, 0, sizeof(*f));
	f->dir_fd = -1;
}

int
imap_folder_sync(struct imap_folder *f, struct imap_changes *c)
{
	struct fpriv *p = f->priv;
	struct imap_msg *m;
	struct imap_snap *os, *ns;
	size_t n, i;
	uint32_t olduidv = f->uidvalidity;
	int lfd;

	memset(c, 0, sizeof(*c));
	if ((lfd = lock_folder(f->dir_fd)) == -1)
		return -1;
	if (scan(f->maildir_fd, f->dir_fd, f->readonly, p, f->msgs, f->n,
	    &m, &n) == -1) {
		int saved = errno;

		unlock_folder(lfd);
		errno = saved;
		return -1;
	}
	unlock_folder(lfd);
	os = xcalloc(f->n + 1, sizeof(*os));
	ns = xcalloc(n + 1, sizeof(*ns));
	for (i = 0; i < f->n; i++) {
		os[i].uid = f->msgs[i].uid;
		os[i].flags = f->msgs[i].flags;
	}
	for (i = 0; i < n; i++) {
		ns[i].uid = m[i].uid;
		ns[i].flags = m[i].flags;
	}
	imap_changes_diff(os, f->n, ns, n, c);
	free(os);
	free(ns);
	if (p->ix.uidvalidity != olduidv)
		c->uidvalidity_changed = 1;
	free_msgs(f->msgs, f->n);
	f->msgs = m;
	f->n = n;
	f->uidvalidity = p->ix.uidvalidity;
	f->uidnext = p->ix.uidnext;
	return 0;
}

/* The file of message i under another name now (another session changed
 * its flags): its current name, found by basename in cur/. */
static int
refind(struct imap_folder *f, size_t i)
{
	struct imap_msg *m = &f->msgs[i];
	const char *base = m->name + 4;
	size_t bl = imap_maildir_base_len(base);
	DIR *d;
	struct dirent *de;
	int fd, found = -1;

	if ((fd = open_dir(f->dir_fd, "cur")) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, bl) == 0 &&
		    (de->d_name[bl] == '\0' || de->d_name[bl] == ':')) {
			char nn[FNAME_MAX];

			if (xsnprintf(nn, sizeof(nn), "cur/%s", de->d_name) != -1) {
				free(m->name);
				m->name = xstrdup(nn);
				found = 0;
			}
			break;
		}
	}
	closedir(d);
	if (found == -1)
		errno = ENOENT;
	return found;
}

int
imap_folder_store(struct imap_folder *f, size_t i, int mode, unsigned flags)
{
	struct imap_msg *m;
	char info[IMAP_INFO_MAX], to[FNAME_MAX];
	unsigned nf;
	int lfd, r = -1, tries;

	if (i >= f->n) {
		errno = EINVAL;
		return -1;
	}
	if (f->readonly) {
		errno = EROFS;
		return -1;
	}
	m = &f->msgs[i];
	flags &= IMAP_F_ALL;
	if ((lfd = lock_folder(f->dir_fd)) == -1)
		return -1;
	for (tries = 0; tries < 2; tries++) {
		const char *fn = m->name + 4;
		/* +/- apply to the flags on disk (another session may have
		 * changed them since our snapshot: refind gave the name) */
		unsigned cur = imap_maildir_flags(fn);

		nf = mode == '+' ? (cur | flags) : mode == '-' ?
		    (cur & ~flags) : flags;

		if (imap_maildir_info(fn, nf, info, sizeof(info)) == -1 ||
		    xsnprintf(to, sizeof(to), "cur/%.*s%s",
		    (int)imap_maildir_base_len(fn), fn, info) == -1) {
			errno = ENAMETOOLONG;
			break;
		}
		if (strcmp(to, m->name) == 0 ||
		    renameat(f->dir_fd, m->name, f->dir_fd, to) == 0) {
			free(m->name);
			m->name = xstrdup(to);
			m->flags = nf;
			r = 0;
			break;
		}
		if (errno != ENOENT || tries > 0 || refind(f, i) == -1)
			break;
	}
	unlock_folder(lfd);
	return r;
}

static int
uid_listed(uint32_t uid, const uint32_t *uids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (uids[i] == uid)
			return 1;
	return 0;
}

int
imap_folder_expunge(struct imap_folder *f, const uint32_t *uids,
    size_t nuids, uint32_t **expunged_r, size_t *n_r)
{
	uint32_t *ex = NULL;
	size_t nex = 0, i, k;
	int lfd;

	if (expunged_r != NULL)
		*expunged_r = NULL;
	if (n_r != NULL)
		*n_r = 0;
	if (f->readonly) {
		errno = EROFS;
		return -1;
	}
	if ((lfd = lock_folder(f->dir_fd)) == -1)
		return -1;
	if (f->n > 0)
		ex = xcalloc(f->n, sizeof(*ex));
	for (i = f->n; i-- > 0;) {
		struct imap_msg *m = &f->msgs[i];

		if (!(m->flags & IMAP_F_DELETED) ||
		    (uids != NULL && !uid_listed(m->uid, uids, nuids)))
			continue;
		if (unlinkat(f->dir_fd, m->name, 0) == -1 && errno == ENOENT &&
		    refind(f, i) == 0)
			unlinkat(f->dir_fd, m->name, 0);
		ex[nex++] = (uint32_t)(i + 1);
		free(m->name);
		m->name = NULL;
	}
	unlock_folder(lfd);
	for (i = 0, k = 0; i < f->n; i++)
		if (f->msgs[i].name != NULL)
			f->msgs[k++] = f->msgs[i];
	f->n = k;
	if (expunged_r != NULL)
		*expunged_r = ex;
	else
		free(ex);
	if (n_r != NULL)
		*n_r = nex;
	return 0;
}

int
imap_folder_msg_open(const struct imap_folder *f, size_t i)
{
	int fd;

	if (i >= f->n) {
		errno = EINVAL;
		return -1;
	}
	fd = openat(f->dir_fd, f->msgs[i].name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT &&
	    refind((struct imap_folder *)f, i) == 0)
		fd = openat(f->dir_fd, f->msgs[i].name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	return fd;
}

/* Copy src (open) into dir_fd/tmpname; fsync. 0 or -1. */
static int
copy_into(int src, int dir_fd, const char *tmpname)
{
	char chunk[COPY_CHUNK];
	ssize_t r;
	int fd, saved;

	fd = openat(dir_fd, tmpname,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	for (;;) {
		r = read(src, chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (fileio_write_all(fd, chunk, (size_t)r) == -1) {
			r = -1;
			break;
		}
	}
	if (r == 0 && fsync(fd) == 0 && close(fd) == 0)
		return 0;
	saved = errno;
	close(fd);
	unlinkat(dir_fd, tmpname, 0);
	errno = saved;
	return -1;
}

int
imap_folder_copy(struct imap_folder *f, size_t i, const char *dest,
    uint32_t *uid_r, uint32_t *uidvalidity_r)
{
	char base[IMAP_INDEX_BASE_MAX + 1], info[IMAP_INFO_MAX];
	char to[FNAME_MAX], tmp[FNAME_MAX];
	struct imap_msg *m;
	int dfd, lfd = -1, r = -1, saved, src;

	if (i >= f->n) {
		errno = EINVAL;
		return -1;
	}
	m = &f->msgs[i];
	if ((dfd = open_folder_dir(f->maildir_fd, dest)) == -1)
		return -1;
	if (unique_base(base, sizeof(base) - 24) == -1 ||
	    imap_maildir_info(m->name + 4, m->flags, info, sizeof(info)) == -1 ||
	    xsnprintf(to, sizeof(to), "cur/%s,S=%llu%s", base,
	    (unsigned long long)m->size, info) == -1 ||
	    xsnprintf(tmp, sizeof(tmp), "tmp/%s", base) == -1) {
		errno = ENAMETOOLONG;
		goto out;
	}
	{
		/* the basename in the index is all before ':' */
		size_t bl = imap_maildir_base_len(to + 4);

		memcpy(base, to + 4, bl);
		base[bl] = '\0';
	}
	if ((lfd = lock_folder(dfd)) == -1)
		goto out;
	if (linkat(f->dir_fd, m->name, dfd, to, 0) == -1) {
		if (errno == ENOENT && refind(f, i) == 0 &&
		    linkat(f->dir_fd, m->name, dfd, to, 0) == 0)
			goto linked;
		if (errno == ENOENT)
			goto out;
		/* another file system or no links allowed: copy the octets */
		if ((src = imap_folder_msg_open(f, i)) == -1)
			goto out;
		r = copy_into(src, dfd, tmp);
		saved = errno;
		close(src);
		errno = saved;
		if (r == -1)
			goto out;
		r = -1;
		if (renameat(dfd, tmp, dfd, to) == -1) {
			saved = errno;
			unlinkat(dfd, tmp, 0);
			errno = saved;
			goto out;
		}
	}
linked:
	r = index_add(f->maildir_fd, dfd, base, uid_r, uidvalidity_r);
out:
	saved = errno;
	unlock_folder(lfd);
	close(dfd);
	errno = saved;
	return r;
}

/* ---- APPEND ---- */

int
imap_append_begin(struct imap_append *a, int maildir_fd, const char *folder)
{
	char base[IMAP_INDEX_BASE_MAX + 1];
	int dfd;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	a->maildir_fd = maildir_fd;
	if ((dfd = open_folder_dir(maildir_fd, folder)) == -1)
		return -1;
	snprintf(a->folder, sizeof(a->folder), "%s", folder);
	if (unique_base(base, sizeof(base) - 24) == -1 ||
	    xsnprintf(a->tmpname, sizeof(a->tmpname), "tmp/%s", base) == -1) {
		close(dfd);
		errno = ENAMETOOLONG;
		return -1;
	}
	a->fd = openat(dfd, a->tmpname,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (a->fd == -1) {
		int saved = errno;

		close(dfd);
		errno = saved;
		return -1;
	}
	close(dfd);
	return 0;
}

int
imap_append_write(struct imap_append *a, const char *p, size_t n)
{
	if (a->fd == -1) {
		errno = EBADF;
		return -1;
	}
	if (fileio_write_all(a->fd, p, n) == -1)
		return -1;
	a->written += n;
	return 0;
}

int
imap_append_commit(struct imap_append *a, unsigned flags,
    time_t internaldate, uint32_t *uid_r, uint32_t *uidvalidity_r)
{
	char info[IMAP_INFO_MAX], to[FNAME_MAX], base[FNAME_MAX];
	struct timespec ts[2];
	int dfd = -1, lfd = -1, saved, r = -1;

	if (a->fd == -1) {
		errno = EBADF;
		return -1;
	}
	if (internaldate != 0) {
		ts[0].tv_sec = ts[1].tv_sec = internaldate;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if (futimens(a->fd, ts) == -1)
			goto out;
	}
	if (fsync(a->fd) == -1)
		goto out;
	if (close(a->fd) == -1) {
		a->fd = -1;
		goto out;
	}
	a->fd = -1;
	if ((dfd = open_folder_dir(a->maildir_fd, a->folder)) == -1)
		goto out;
	if (imap_maildir_info("", flags & IMAP_F_ALL, info, sizeof(info)) == -1 ||
	    xsnprintf(base, sizeof(base), "%s,S=%llu", a->tmpname + 4,
	    (unsigned long long)a->written) == -1 ||
	    xsnprintf(to, sizeof(to), "cur/%s%s", base, info) == -1) {
		errno = ENAMETOOLONG;
		goto out;
	}
	if ((lfd = lock_folder(dfd)) == -1)
		goto out;
	if (renameat(dfd, a->tmpname, dfd, to) == -1)
		goto out;
	a->tmpname[0] = '\0';
	if (index_add(a->maildir_fd, dfd, base, uid_r, uidvalidity_r) == -1)
		goto out;
	r = 0;
out:
	saved = errno;
	unlock_folder(lfd);
	if (r == -1 && dfd != -1 && a->tmpname[0] != '\0')
		unlinkat(dfd, a->tmpname, 0);
	if (r == -1 && a->tmpname[0] != '\0' && dfd == -1 &&
	    (dfd = open_folder_dir(a->maildir_fd, a->folder)) != -1)
		unlinkat(dfd, a->tmpname, 0);
	if (dfd != -1)
		close(dfd);
	a->tmpname[0] = '\0';
	errno = saved;
	return r;
}

void
imap_append_abort(struct imap_append *a)
{
	int dfd;

	if (a->fd != -1)
		close(a->fd);
	a->fd = -1;
	if (a->tmpname[0] != '\0' &&
	    (dfd = open_folder_dir(a->maildir_fd, a->folder)) != -1) {
		unlinkat(dfd, a->tmpname, 0);
		close(dfd);
	}
	a->tmpname[0] = '\0';
}

/* ---- the mailbox tree ---- */

int
imap_store_name_ok(const char *name)
{
	return imap_name_valid(name);
}

enum imap_special
imap_store_special(const char *name)
{
	return imap_name_special(name);
}

/* new/ cur/ tmp/ under dir_fd (EEXIST fine). */
static int
make_maildir(int dir_fd)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	size_t i;

	for (i = 0; i < 3; i++)
		if (mkdirat(dir_fd, subs[i], 0700) == -1 && errno != EEXIST)
			return -1;
	return 0;
}

/* A folder directory that does not exist yet. */
static int
make_folder(int maildir_fd, const char *dir)
{
	int fd, mf;

	if (mkdirat(maildir_fd, dir, 0700) == -1)
		return -1;
	if ((fd = open_dir(maildir_fd, dir)) == -1)
		return -1;
	if (make_maildir(fd) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	/* Maildir++: marks a folder (deliver tools read it) */
	mf = openat(fd, "maildirfolder",
	    O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (mf != -1)
		close(mf);
	close(fd);
	return 0;
}

static int
dir_exists(int maildir_fd, const char *dir)
{
	struct stat st;

	return fstatat(maildir_fd, dir, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
}

int
imap_store_prepare(int maildir_fd)
{
	static const char *const special[] = { "Sent", "Drafts", "Trash",
		"Junk" };
	char dir[IMAP_DIR_MAX];
	size_t i;

	if (make_maildir(maildir_fd) == -1)
		return -1;
	for (i = 0; i < 4; i++) {
		if (imap_name_to_dir(special[i], dir, sizeof(dir)) == -1)
			return -1;
		if (dir_exists(maildir_fd, dir))
			continue;
		if (make_folder(maildir_fd, dir) == -1 && errno != EEXIST)
			return -1;
		if (imap_store_subscribe(maildir_fd, special[i], 1) == -1)
			return -1;
	}
	return 0;
}

/* The subscribed names (one per line). */
static char **
read_subs(int maildir_fd, size_t *n_r)
{
	struct buf b;
	char **v = NULL;
	size_t n = 0, i, start = 0;

	*n_r = 0;
	if (fileio_read_file(maildir_fd, SUBS_NAME, 0, SUBS_FILE_MAX, &b,
	    NULL) == -1) {
		buf_free(&b);
		return NULL;
	}
	for (i = 0; i <= b.len; i++) {
		if (i < b.len && b.data[i] != '\n')
			continue;
		if (i > start && i - start <= IMAP_NAME_MAX) {
			char *s = xstrndup(b.data + start, i - start);

			if (imap_name_valid(s)) {
				v = xreallocarray(v, n + 1, sizeof(*v));
				v[n++] = s;
			} else
				free(s);
		}
		start = i + 1;
	}
	buf_free(&b);
	*n_r = n;
	return v;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
name_eq(const char *a, const char *b)
{
	if (imap_name_is_inbox(a) && imap_name_is_inbox(b))
		return 1;
	return strcmp(a, b) == 0;
}

int
imap_store_subscribe(int maildir_fd, const char *name, int on)
{
	struct buf b;
	char **v;
	size_t n, i;
	int lfd, found = 0, r;

	if (!imap_name_valid(name)) {
		errno = EINVAL;
		return -1;
	}
	if ((lfd = openat(maildir_fd, SUBS_LOCK,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return -1;
	while (flock(lfd, LOCK_EX) == -1 && errno == EINTR)
		;
	v = read_subs(maildir_fd, &n);
	buf_init(&b, SUBS_FILE_MAX);
	for (i = 0; i < n; i++) {
		if (name_eq(v[i], name)) {
			found = 1;
			if (!on)
				continue;
		}
		buf_printf(&b, "%s\n", v[i]);
	}
	if (on && !found)
		buf_printf(&b, "%s\n", imap_name_is_inbox(name) ? "INBOX" : name);
	r = 0;
	if (on != found)
		r = fileio_replace(maildir_fd, SUBS_NAME, SUBS_TMP, b.data, b.len,
		    &index_mode, NULL);
	buf_free(&b);
	free_strv(v, n);
	close(lfd);
	return r;
}

static int
cmp_info(const void *a, const void *b)
{
	const struct imap_folder_info *x = a, *y = b;

	if (strcmp(x->name, "INBOX") == 0)
		return strcmp(y->name, "INBOX") == 0 ? 0 : -1;
	if (strcmp(y->name, "INBOX") == 0)
		return 1;
	return strcmp(x->name, y->name);
}

int
imap_store_list(int maildir_fd, struct imap_folder_info **r, size_t *n_r)
{
	struct imap_folder_info *v;
	char **subs;
	size_t n = 1, cap = 16, nsubs, i, j, len;
	DIR *d;
	struct dirent *de;
	int fd;

	*r = NULL;
	*n_r = 0;
	if ((fd = open_dir(maildir_fd, ".")) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	v = xcalloc(cap, sizeof(*v));
	snprintf(v[0].name, sizeof(v[0].name), "INBOX");
	while ((de = readdir(d)) != NULL) {
		char name[IMAP_NAME_MAX + 1];

		if (de->d_name[0] != '.' || de->d_type == DT_LNK ||
		    imap_dir_to_name(de->d_name, name, sizeof(name)) == -1 ||
		    !dir_exists(maildir_fd, de->d_name))
			continue;
		if (n == cap) {
			cap *= 2;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].name, sizeof(v[n].name), "%s", name);
		v[n].special = imap_name_special(name);
		n++;
	}
	closedir(d);
	subs = read_subs(maildir_fd, &nsubs);
	for (j = 0; j < nsubs; j++) {
		int seen = 0;

		for (i = 0; i < n; i++)
			if (name_eq(v[i].name, subs[j])) {
				v[i].subscribed = 1;
				seen = 1;
			}
		if (seen)
			continue;
		if (n == cap) {
			cap *= 2;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].name, sizeof(v[n].name), "%s", subs[j]);
		v[n].subscribed = 1;
		v[n].nonexistent = 1;
		n++;
	}
	free_strv(subs, nsubs);
	for (i = 0; i < n; i++) {
		len = strlen(v[i].name);
		for (j = 0; j < n; j++)
			if (j != i && !v[j].nonexistent &&
			    strncmp(v[j].name, v[i].name, len) == 0 &&
			    v[j].name[len] == '/')
				v[i].has_children = 1;
	}
	qsort(v, n, sizeof(*v), cmp_info);
	*r = v;
	*n_r = n;
	return 0;
}

/* Whether some folder is a child of name (".A.x" for "A"). */
static int
has_children(int maildir_fd, const char *dir)
{
	size_t len = strlen(dir);
	DIR *d;
	struct dirent *de;
	int fd, found = 0;

	if ((fd = open_dir(maildir_fd, ".")) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, dir, len) == 0 && de->d_name[len] == '.')
			found = 1;
	closedir(d);
	return found;
}

int
imap_store_create(int maildir_fd, const char *name)
{
	char dir[IMAP_DIR_MAX];

	if (imap_name_to_dir(name, dir, sizeof(dir)) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (imap_name_is_inbox(name)) {
		errno = EEXIST;
		return -1;
	}
	return make_folder(maildir_fd, dir);
}

/* Remove the files of dir_fd/sub and sub itself. */
static int
remove_sub(int dir_fd, const char *sub)
{
	DIR *d;
	struct dirent *de;
	int fd;

	if ((fd = open_dir(dir_fd, sub)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	return unlinkat(dir_fd, sub, AT_REMOVEDIR);
}

int
imap_store_delete(int maildir_fd, const char *name)
{
	char dir[IMAP_DIR_MAX];
	int fd, r;

	if (imap_name_to_dir(name, dir, sizeof(dir)) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (imap_name_is_inbox(name)) {
		errno = EPERM;
		return -1;
	}
	if (!dir_exists(maildir_fd, dir)) {
		errno = ENOENT;
		return -1;
	}
	if ((r = has_children(maildir_fd, dir)) != 0) {
		if (r == 1)
			errno = ENOTEMPTY;
		return -1;
	}
	if ((fd = open_dir(maildir_fd, dir)) == -1)
		return -1;
	/* a folder's files: new/ cur/ tmp/ and our own plain files */
	if (remove_sub(fd, "new") == -1 || remove_sub(fd, "cur") == -1 ||
	    remove_sub(fd, "tmp") == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return remove_sub(maildir_fd, dir);
}

/* RENAME INBOX: its messages move into the new folder, INBOX stays. */
static int
rename_inbox(int maildir_fd, const char *to)
{
	static const char *const subs[] = { "new", "cur" };
	int dfd, lfd, sfd, r = 0;
	size_t i;

	if (imap_store_create(maildir_fd, to) == -1)
		return -1;
	if ((dfd = open_folder_dir(maildir_fd, to)) == -1)
		return -1;
	if ((lfd = lock_folder(maildir_fd)) == -1) {
		close(dfd);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		DIR *d;
		struct dirent *de;

		if ((sfd = open_dir(maildir_fd, subs[i])) == -1)
			continue;
		if ((d = fdopendir(sfd)) == NULL) {
			close(sfd);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			char to_name[FNAME_MAX];

			if (de->d_name[0] == '.' || de->d_type == DT_DIR)
				continue;
			if (xsnprintf(to_name, sizeof(to_name), "%s/%s", subs[i],
			    de->d_name) == -1)
				continue;
			if (renameat(sfd, de->d_name, dfd, to_name) == -1)
				r = -1;
		}
		closedir(d);
	}
	unlock_folder(lfd);
	close(dfd);
	return r;
}

int
imap_store_rename(int maildir_fd, const char *from, const char *to)
{
	char fdir[IMAP_DIR_MAX], tdir[IMAP_DIR_MAX];
	size_t flen;
	DIR *d;
	struct dirent *de;
	int fd;

	if (imap_name_to_dir(from, fdir, sizeof(fdir)) == -1 ||
	    imap_name_to_dir(to, tdir, sizeof(tdir)) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (imap_name_is_inbox(to)) {
		errno = EEXIST;
		return -1;
	}
	if (dir_exists(maildir_fd, tdir)) {
		errno = EEXIST;
		return -1;
	}
	if (imap_name_is_inbox(from))
		return rename_inbox(maildir_fd, to);
	if (!dir_exists(maildir_fd, fdir)) {
		errno = ENOENT;
		return -1;
	}
	flen = strlen(fdir);
	if (strncmp(tdir, fdir, flen) == 0 && tdir[flen] == '.') {
		errno = EINVAL;		/* into its own child */
		return -1;
	}
	if (renameat(maildir_fd, fdir, maildir_fd, tdir) == -1)
		return -1;
	/* the children: ".from.x" -> ".to.x" */
	if ((fd = open_dir(maildir_fd, ".")) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char nd[IMAP_DIR_MAX + IMAP_NAME_MAX];

		if (strncmp(de->d_name, fdir, flen) != 0 ||
		    de->d_name[flen] != '.')
			continue;
		if (xsnprintf(nd, sizeof(nd), "%s%s", tdir,
		    de->d_name + flen) == -1 || strlen(nd) > IMAP_NAME_MAX + 1)
			continue;
		if (renameat(maildir_fd, de->d_name, maildir_fd, nd) == -1)
			log_warn("imap: rename of a child folder failed: %s",
			    strerror(errno));
	}
	closedir(d);
	return 0;
}

int
imap_store_status(int maildir_fd, const char *name, struct imap_status *st)
{
	struct imap_folder f;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (imap_folder_open(&f, maildir_fd, name, 1) == -1)
		return -1;
	st->messages = (uint32_t)f.n;
	st->uidnext = f.uidnext;
	st->uidvalidity = f.uidvalidity;
	for (i = 0; i < f.n; i++) {
		if (!(f.msgs[i].flags & IMAP_F_SEEN))
			st->unseen++;
		if (f.msgs[i].flags & IMAP_F_DELETED)
			st->deleted++;
		st->size += f.msgs[i].size;
	}
	imap_folder_close(&f);
	return 0;
}
