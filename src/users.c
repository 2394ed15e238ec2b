/* users - the user database ("name:hash[:flags[:scram]]" lines); see users.h.
 * Parsing and lookups do no I/O. users_file_edit is the only writer: it
 * serialises editors with an flock on PATH.lock, rewrites the file into
 * PATH.tmp.PID, fsyncs, renames over PATH and fsyncs the directory
 * (fileio_replace), so a reader (the auth process) sees either the old or
 * the new file, whole. */
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "scram.h"
#include "users.h"

#define USERS_LINE_MAX	4096

/* A stored hash: printable ASCII without ':' or spaces. */
static int
hash_valid(const char *h, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (h[i] <= ' ' || h[i] > '~' || h[i] == ':')
			return 0;
	return 1;
}

/* Flags field: comma list; "apop" is the only flag so far. */
static int
flags_parse(const char *f, size_t len, int *apop)
{
	const char *p = f, *end = f + len, *c;

	*apop = 0;
	while (p < end) {
		c = memchr(p, ',', (size_t)(end - p));
		if (c == NULL)
			c = end;
		if ((size_t)(c - p) == 4 && memcmp(p, "apop", 4) == 0)
			*apop = 1;
		else
			return -1;
		p = c + 1;
		if (c + 1 == end)
			return -1;	/* trailing comma */
	}
	return 0;
}

/* Split one line (without terminator) into name, hash and flags. Returns 0,
 * 1 for a comment/blank line, -1 with why on error. */
static int
line_parse(const char *l, size_t len, struct user_entry *e, char **hash_r,
    const char **why)
{
	const char *c1, *c2, *c3, *end = l + len;
	struct scram_verifier v;
	size_t nl, hl;
	size_t i = 0;

	while (i < len && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i == len || l[i] == '#')
		return 1;
	if (memchr(l, '\0', len) != NULL) {
		*why = "NUL byte in line";
		return -1;
	}
	if ((c1 = memchr(l, ':', len)) == NULL) {
		*why = "missing ':' (expected name:hash)";
		return -1;
	}
	nl = (size_t)(c1 - l);
	if (nl == 0 || nl > USERS_NAME_MAX) {
		*why = "bad user name";
		return -1;
	}
	memcpy(e->name, l, nl);
	e->name[nl] = '\0';
	if (!users_name_valid(e->name)) {
		*why = "bad user name";
		return -1;
	}
	c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
	hl = (size_t)((c2 ? c2 : end) - (c1 + 1));
	if (!hash_valid(c1 + 1, hl)) {
		*why = "bad or empty password hash";
		return -1;
	}
	e->apop = 0;
	e->scram = NULL;
	/* Flags end at a 3rd ':'; the rest of the line (':' included, as
	 * the verifier's text form has one) is the SCRAM verifier. */
	c3 = c2 ? memchr(c2 + 1, ':', (size_t)(end - c2 - 1)) : NULL;
	if (c2 != NULL && flags_parse(c2 + 1, (size_t)((c3 ? c3 : end) - c2 -
	    1), &e->apop) == -1) {
		*why = "unknown flag (only 'apop' is known)";
		return -1;
	}
	if (c3 != NULL && scram_verifier_parse(&v, c3 + 1,
	    (size_t)(end - c3 - 1)) == -1) {
		*why = "bad SCRAM-SHA-256 verifier (4th field)";
		return -1;
	}
	explicit_bzero(&v, sizeof(v));
	if (c3 != NULL)
		e->scram = xstrndup(c3 + 1, (size_t)(end - c3 - 1));
	*hash_r = xstrndup(c1 + 1, hl);
	return 0;
}

struct users *
users_parse(const char *name, const char *text, size_t len,
    struct errlist *errs)
{
	struct users *u = xcalloc(1, sizeof(*u));
	const char *p = text, *end = text + len, *nl, *why = NULL;
	struct user_entry e;
	unsigned lineno = 0;
	size_t ll;
	char *hash;
	int r;

	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		memset(&e, 0, sizeof(e));
		r = line_parse(p, ll, &e, &hash, &why);
		if (r == -1) {
			errlist_add(errs, "%s:%u: %s; line ignored", name,
			    lineno, why);
		} else if (r == 0 && users_find(u, e.name) != NULL) {
			errlist_add(errs, "%s:%u: user %s appears again; the "
			    "first line wins", name, lineno, e.name);
			free(hash);
			free(e.scram);
		} else if (r == 0) {
			e.hash = hash;
			u->v = xreallocarray(u->v, u->n + 1, sizeof(*u->v));
			u->v[u->n++] = e;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return u;
}

void
users_free(struct users *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++) {
		explicit_bzero(u->v[i].hash, strlen(u->v[i].hash));
		free(u->v[i].hash);
		if (u->v[i].scram != NULL) {
			explicit_bzero(u->v[i].scram, strlen(u->v[i].scram));
			free(u->v[i].scram);
		}
	}
	free(u->v);
	free(u);
}

const struct user_entry *
users_find(const struct users *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->v[i].name, name) == 0)
			return &u->v[i];
	return NULL;
}

/* crypt_ra into a fresh malloc'ed string, or NULL (also for the failure
 * tokens "*0"/"*1" that libxcrypt returns). */
static char *
hash_with(const char *pw, const char *setting)
{
	void *data = NULL;
	int size = 0;
	char *h, *r = NULL;

	if (strlen(pw) > CRYPT_MAX_PASSPHRASE_SIZE)
		return NULL;
	h = crypt_ra(pw, setting, &data, &size);
	if (h != NULL && h[0] != '*')
		r = xstrdup(h);
	if (data != NULL) {
		explicit_bzero(data, (size_t)size);
		free(data);
	}
	return r;
}

char *
users_hash_password(const char *pw)
{
	char *salt, *h;

	if (!users_password_valid(pw, strlen(pw)))
		return NULL;
	/* NULL rbytes: libxcrypt draws the salt from the OS's random source. */
	salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (salt != NULL) {
		h = hash_with(pw, salt);
		free(salt);
		if (h != NULL)
			return h;
	}
	salt = crypt_gensalt_ra("$6$", 0, NULL, 0);
	if (salt == NULL)
		return NULL;
	h = hash_with(pw, salt);
	free(salt);
	return h;
}

/* Constant time in the length of a (the computed hash). */
static int
ct_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)(i < lb ? b[i] : 0);
	return d == 0;
}

int
users_check_password(const struct user_entry *e, const char *pw)
{
	/* A setting with the default yescrypt cost, used for unknown users so
	 * that "no such user" takes as long as "wrong password". */
	static const char dummy[] = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$"
	    "X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7";
	char *h;
	int ok;

	if (pw == NULL)
		return 0;
	if (e == NULL || e->hash == NULL) {
		free(hash_with(pw, dummy));
		return 0;
	}
	if ((h = hash_with(pw, e->hash)) == NULL)
		return 0;
	ok = ct_equal(h, e->hash);
	explicit_bzero(h, strlen(h));
	free(h);
	return ok;
}

/* --- atomic file edit ------------------------------------------------ */

/* Read path into b; a missing file reads as empty (*exists_r = 0). */
static int
read_current(const char *path, struct buf *b, struct stat *st, int *exists_r)
{
	*exists_r = 0;
	if (fileio_read_file(AT_FDCWD, path, FILEIO_FOLLOW, USERS_FILE_MAX, b,
	    st) == -1)
		return errno == ENOENT ? 0 : -1;
	*exists_r = 1;
	return 0;
}

/* Replace path (its directory opened here) with out through tmppath,
 * keeping the owner and mode of the file it replaces. 0, or -1 with err
 * filled. */
static int
replace_file(const char *path, const char *tmppath, const struct buf *out,
    const struct stat *st, int exists, char *err, size_t errlen)
{
	/* A leftover temporary is a crashed editor's with our pid: we hold
	 * the lock. */
	struct fileio_new nf = { 0600, (uid_t)-1, (gid_t)-1,
	    FILEIO_TMP_LEFTOVER };
	char dirpath[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base, *tmpname;
	enum fileio_step step;
	int dfd, rc, saved;

	base = slash ? slash + 1 : path;
	if (slash == NULL)
		snprintf(dirpath, sizeof(dirpath), ".");
	else if (slash == path)
		snprintf(dirpath, sizeof(dirpath), "/");
	else
		snprintf(dirpath, sizeof(dirpath), "%.*s",
		    (int)(slash - path), path);
	tmpname = tmppath + (base - path);	/* tmppath is path + a suffix */
	if (exists) {
		/* Only root can give a file away; an ordinary user keeps
		 * owning it anyway. */
		nf.mode = st->st_mode & 07777;
		nf.uid = st->st_uid;
		nf.gid = st->st_gid;
	}
	if ((dfd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", dirpath, strerror(errno));
		return -1;
	}
	rc = fileio_replace(dfd, base, tmpname, out->data ? out->data : "",
	    out->len, &nf, &step);
	saved = errno;
	close(dfd);
	if (rc == 0)
		return 0;
	if (step == FILEIO_OPEN)
		snprintf(err, errlen, "%s: %s", tmppath, strerror(saved));
	else if (step == FILEIO_RENAME)
		snprintf(err, errlen, "rename %s to %s: %s", tmppath, path,
		    strerror(saved));
	else if (step == FILEIO_DIRSYNC)
		snprintf(err, errlen, "%s: fsync: %s", dirpath,
		    strerror(saved));
	else
		snprintf(err, errlen, "%s: %s: %s", tmppath,
		    step == FILEIO_SYNC ? "write" : fileio_step_name(step),
		    strerror(saved));
	return -1;
}

/* The name on a user line (text up to the first ':'), or 0 if the line is
 * a comment, blank, or has no ':'. */
static int
line_is_user(const char *l, size_t len, const char *name)
{
	size_t nl = strlen(name);

	if (len == 0 || l[0] == '#')
		return 0;
	return len > nl && l[nl] == ':' && memcmp(l, name, nl) == 0;
}

int
users_file_edit(const char *path, enum users_op op, const char *name,
    const char *hash, char *err, size_t errlen)
{
	return users_file_edit_flags(path, op, name, hash, 0, NULL, err,
	    errlen);
}

int
users_file_edit_flags(const char *path, enum users_op op, const char *name,
    const char *hash, unsigned flags, enum outcome *outcome_r, char *err,
    size_t errlen)
{
	return users_file_edit_scram(path, op, name, hash, flags, NULL,
	    outcome_r, err, errlen);
}

int
users_file_edit_scram(const char *path, enum users_op op, const char *name,
    const char *hash, unsigned flags, const char *scram,
    enum outcome *outcome_r, char *err, size_t errlen)
{
	struct buf cur, out;
	struct stat st;
	struct scram_verifier sv;
	char lockpath[PATH_MAX], tmppath[PATH_MAX];
	char tail[8 + SCRAM_VERIFIER_MAX];	/* ":apop:SCRAM-SHA-256$..." */
	const char *p, *end, *nl;
	int lockfd = -1, exists, found = 0, ret = -1;
	int tempfail = 1;
	size_t ll, tl;

	buf_init(&cur, USERS_FILE_MAX);
	buf_init(&out, USERS_FILE_MAX);

	if (!users_name_valid(name)) {
		snprintf(err, errlen, "bad user name (1..%d of a-z 0-9 . _ -, "
		    "starting with a letter or digit)", USERS_NAME_MAX);
		tempfail = 0;
		goto done;
	}
	if (op != USERS_DEL && (hash == NULL ||
	    !hash_valid(hash, strlen(hash)))) {
		snprintf(err, errlen, "bad password hash");
		tempfail = 0;
		goto done;
	}
	if (op != USERS_DEL && scram != NULL && scram_verifier_parse(&sv,
	    scram, strlen(scram)) == -1) {
		snprintf(err, errlen, "bad SCRAM-SHA-256 verifier");
		tempfail = 0;
		goto done;
	}
	explicit_bzero(&sv, sizeof(sv));
	/* Everything after the hash: the flags, then the verifier. */
	if (scram != NULL && op != USERS_DEL)
		snprintf(tail, sizeof(tail), ":%s:%s",
		    (flags & USERS_F_APOP) ? "apop" : "", scram);
	else
		snprintf(tail, sizeof(tail), "%s",
		    (flags & USERS_F_APOP) ? ":apop" : "");
	if (xsnprintf(lockpath, sizeof(lockpath), "%s.lock", path) == -1 ||
	    xsnprintf(tmppath, sizeof(tmppath), "%s.tmp.%ld", path,
	    (long)getpid()) == -1) {
		snprintf(err, errlen, "%s: path too long", path);
		tempfail = 0;
		goto done;
	}
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (lockfd == -1) {
		snprintf(err, errlen, "%s: %s", lockpath, strerror(errno));
		goto done;
	}
	while (flock(lockfd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			snprintf(err, errlen, "%s: lock: %s", lockpath,
			    strerror(errno));
				goto done;
		}
	}
	if (read_current(path, &cur, &st, &exists) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}

	/* Copy every line byte for byte, except the one being edited. */
	p = cur.data ? cur.data : "";
	end = p + cur.len;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		tl = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
		ll = nl ? (size_t)(nl - p) : tl;
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (!line_is_user(p, ll, name)) {
			if (buf_append(&out, p, tl) == -1)
				goto toobig;
		} else if (op == USERS_PASSWD && !found) {
			if (buf_printf(&out, "%s:%s%s%.*s", name, hash, tail,
			    (int)(tl - ll), p + ll) == -1)
				goto toobig;
			found = 1;
		} else
			found = 1;	/* DEL, ADD (error below), duplicates */
		p += tl;
	}
	if (op == USERS_ADD && found) {
		snprintf(err, errlen, "user %s already exists", name);
		tempfail = 0;
		goto done;
	}
	if (op != USERS_ADD && !found) {
		snprintf(err, errlen, "no such user %s", name);
		tempfail = 0;
		goto done;
	}
	if (op == USERS_ADD) {
		if (out.len > 0 && out.data[out.len - 1] != '\n' &&
		    buf_appendc(&out, '\n') == -1)
			goto toobig;
		if (buf_printf(&out, "%s:%s%s\n", name, hash, tail) == -1)
			goto toobig;
	}

	if (replace_file(path, tmppath, &out, &st, exists, err, errlen) == -1)
		goto done;
	ret = 0;
	tempfail = 0;
	goto done;

toobig:
	snprintf(err, errlen, "%s: file too large", path);
done:
	if (lockfd != -1)
		close(lockfd);	/* releases the lock */
	buf_free(&cur);
	buf_free(&out);
	if (outcome_r != NULL)
		*outcome_r = ret == 0 ? OUTCOME_OK : tempfail ? OUTCOME_TEMP :
		    OUTCOME_PERM;
	return ret;
}
