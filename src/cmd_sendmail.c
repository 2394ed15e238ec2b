/* cmd_sendmail - `postern sendmail [flags] [--] [RCPT...]`, also run as
 *                "sendmail" (argv[0]): local submission for cron, PHP and
 *                every local program, by any local user, whether the
 *                server runs or not, without setuid.
 * Trusts: the kernel for who we are (geteuid); the config file (read,
 *         not trusted for more than the spool path, the first local
 *         domain, the host name and the size limit).
 * Gives:  one maildrop file (maildrop.h) per message, exit 0 only once
 *         it is complete and fsync'ed; sysexits codes otherwise:
 *         64 usage (also: no recipient), 65 bad address or data (NUL,
 *         too large), 75 temporary (no config, no maildrop, disk full),
 *         78 invalid config.
 * Config: -C FILE, else $POSTERN_CONF, else /etc/postern/postern.conf
 *         (cmds_compat_config). -bi is newaliases (cmds_check_aliases).
 *         Only config_parse() is used: the relay_rules and users files
 *         (root's) are never opened here.
 * Sender: -f ADDR, else LOGIN@DOMAIN where LOGIN is the passwd name of
 *         the effective uid and DOMAIN the first of local_domains; bare
 *         names anywhere ("alice", as cron writes) get "@DOMAIN" too.
 * Never:  creates anything but its own file in spool/maildrop, talks to
 *         the server, or needs privileges. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "buf.h"
#include "cmds.h"
#include "config.h"
#include "maildrop.h"
#include "qfile.h"
#include "sendmail_args.h"

#define SM_CONF_MAX		(1024 * 1024)
#define SM_EX_DATAERR		65

static void sm_err(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
sm_err(const char *fmt, ...)
{
	va_list ap;

	fputs("postern sendmail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t
sm_random(void)
{
	uint64_t r = 0;
	struct timeval tv;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		gettimeofday(&tv, NULL);
		r = ((uint64_t)tv.tv_usec << 32) ^ (uint64_t)getpid() ^
		    (uint64_t)tv.tv_sec * 2654435761u;
	}
	return r;
}

/* Read and parse the config; returns NULL with the exit code in *ex_r. */
static struct config *
sm_config(const char *path, int *ex_r)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;
	char abs[PATH_MAX], cwd[PATH_MAX];
	struct buf b;
	ssize_t r;
	size_t i;

	if (path[0] == '/')
		r = xsnprintf(abs, sizeof(abs), "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		r = -1;
	else
		r = xsnprintf(abs, sizeof(abs), "%s/%s", cwd, path);
	if (r < 0) {
		sm_err("%s: path too long", path);
		*ex_r = CMDS_EX_TEMPFAIL;
		return NULL;
	}
	if (fileio_read_file(AT_FDCWD, abs, FILEIO_FOLLOW, SM_CONF_MAX, &b,
	    NULL) == -1) {
		if (errno == ENOENT || errno == EACCES || errno == EPERM)
			sm_err("cannot read the configuration %s: %s (set "
			    "POSTERN_CONF or use -C FILE)", abs, strerror(errno));
		else
			sm_err("%s: %s", abs, strerror(errno));
		buf_free(&b);
		*ex_r = CMDS_EX_TEMPFAIL;
		return NULL;
	}
	c = config_parse(abs, b.data, b.len, &errs);
	buf_free(&b);
	if (c == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		errlist_free(&errs);
		sm_err("invalid configuration %s", abs);
		*ex_r = CMDS_EX_CONFIG;
		return NULL;
	}
	errlist_free(&errs);
	return c;
}

/* Rename without replacing; -1 with EEXIST if the name is taken. */
static int
rename_noreplace(int dfd, const char *from, const char *to)
{
	struct stat st;

	if (renameat2(dfd, from, dfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: check, then rename (the
	 * window can only replace a file of ours: the directory is sticky). */
	if (fstatat(dfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(dfd, from, dfd, to);
}

/* Write the maildrop file; 0, or -1 after saying why (tempfail). */
static int
sm_drop(const struct config *cfg, uid_t uid, const char *from,
    const struct sendmail_rcpts *rcpts, const struct buf *msg,
    char *id_r, int verbose)
{
	char dir[PATH_MAX], tmp[32];
	struct buf env;
	struct timeval tv;
	int dfd, fd = -1, rdfd, tries, rv = -1, renamed = 0;

	if (xsnprintf(dir, sizeof(dir), "%s/maildrop", cfg->spool) < 0) {
		sm_err("spool path too long");
		return -1;
	}
	/* O_PATH: searching the directory needs no read permission. */
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		sm_err("cannot open %s: %s%s", dir, strerror(errno),
		    errno == ENOENT ? " (it is created when `postern serve` "
		    "starts)" : "");
		return -1;
	}
	(void)snprintf(tmp, sizeof(tmp), "%s%016llx", MAILDROP_TMP_PREFIX,
	    (unsigned long long)sm_random());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	if (fd == -1) {
		sm_err("cannot create a file in %s: %s", dir, strerror(errno));
		goto out;
	}
	buf_init(&env, MAILDROP_ENVELOPE_MAX);
	if (maildrop_envelope_format(&env, uid, from, rcpts->v, rcpts->n) == -1) {
		sm_err("too many recipients for one message");
		buf_free(&env);
		goto out;
	}
	/* 0644 whatever the umask: the queue process runs as another user. */
	if (fchmod(fd, 0644) == -1 || fileio_write_all(fd, env.data, env.len) == -1 ||
	    fileio_write_all(fd, msg->data, msg->len) == -1 || fsync(fd) == -1) {
		sm_err("cannot write %s/%s: %s", dir, tmp, strerror(errno));
		buf_free(&env);
		goto out;
	}
	buf_free(&env);
	for (tries = 0; tries < 16; tries++) {
		gettimeofday(&tv, NULL);
		qfile_make_id(id_r, (uint64_t)tv.tv_sec * 1000000 +
		    (uint64_t)tv.tv_usec, (uint32_t)sm_random());
		if (rename_noreplace(dfd, tmp, id_r) == 0) {
			renamed = 1;
			break;
		}
		if (errno != EEXIST)
			break;
	}
	if (!renamed) {
		sm_err("cannot rename %s/%s: %s", dir, tmp, strerror(errno));
		goto out;
	}
	/* The rename must be durable too. Whoever may read the directory
	 * fsyncs it; others (mode 1733) cannot open it, so they fsync the
	 * file again, which on journalling file systems (ext4, xfs) commits
	 * the transaction holding the rename. */
	rdfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((rdfd != -1 && fsync(rdfd) == -1) || (rdfd == -1 && fsync(fd) == -1)) {
		sm_err("fsync %s: %s", dir, strerror(errno));
		if (rdfd != -1)
			close(rdfd);
		/* The file is complete under its ID: leave it. */
		goto out;
	}
	if (rdfd != -1)
		close(rdfd);
	if (verbose)
		fprintf(stderr, "postern sendmail: queued as maildrop/%s\n", id_r);
	rv = 0;
out:
	if (fd != -1) {
		if (close(fd) == -1 && rv == 0) {
			sm_err("close: %s", strerror(errno));
			rv = -1;
		}
		if (!renamed)
			unlinkat(dfd, tmp, 0);
	}
	close(dfd);
	return rv;
}

int
cmd_sendmail(int argc, char **argv, const char *config)
{
	struct sendmail_opts o;
	struct sendmail_compose_ctx ctx;
	struct sendmail_input in;
	struct sendmail_rcpts rcpts = { NULL, 0 };
	struct config *cfg;
	struct passwd *pw;
	struct buf msg;
	struct timeval tv;
	struct tm tm;
	char err[512], from[ADDRESS_PATH_MAX * 2 + 8], login[64], date[64];
	char fromhdr[1024], msgid[ADDRESS_DOMAIN_MAX + 64], gecos[256];
	char id[QFILE_ID_LEN + 1], chunk[65536];
	const char *conf, *domain, *name;
	ssize_t r;
	size_t i;
	uid_t uid;
	int ex = CMDS_EX_OK;

	if (sendmail_args_parse(argc, argv, &o, err, sizeof(err)) == -1) {
		sm_err("%s", err);
		return CMDS_EX_USAGE;
	}
	(void)config;		/* -C names it, as sendmail's does */
	conf = cmds_compat_config(o.config);
	if ((cfg = sm_config(conf, &ex)) == NULL)
		return ex;
	if (o.mode == SENDMAIL_MODE_NEWALIASES) {
		ex = cmds_check_aliases(cfg);
		config_free(cfg);
		return ex;
	}
	domain = cfg->local_domains[0];

	uid = geteuid();
	pw = getpwuid(uid);
	if (pw != NULL && pw->pw_name[0] != '\0')
		(void)xsnprintf(login, sizeof(login), "%s", pw->pw_name);
	else
		(void)xsnprintf(login, sizeof(login), "uid%lu",
		    (unsigned long)uid);
	if (sendmail_sender_parse(o.sender ? o.sender : login, domain, from,
	    sizeof(from)) == -1) {
		if (o.sender)
			sm_err("bad sender address: %s", o.sender);
		else
			sm_err("cannot make a sender address from the login "
			    "name %s; use -f ADDRESS", login);
		ex = SM_EX_DATAERR;
		goto out_cfg;
	}
	for (i = 0; i < o.nrcpts; i++)
		if (sendmail_addrlist_parse(o.rcpts[i], strlen(o.rcpts[i]),
		    domain, &rcpts, err, sizeof(err)) == -1) {
			sm_err("%s", err);
			ex = SM_EX_DATAERR;
			goto out_rcpts;
		}
	if (!o.extract && rcpts.n == 0) {
		sm_err("no recipients given (and no -t)");
		ex = CMDS_EX_USAGE;
		goto out_rcpts;
	}

	/* The message. */
	sendmail_input_init(&in, o.ignore_dots, cfg->max_message_size);
	for (;;) {
		r = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (sendmail_input_feed(&in, chunk, (size_t)r))
			break;
	}
	if (r == -1) {
		sm_err("reading the message: %s", strerror(errno));
		ex = CMDS_EX_TEMPFAIL;
		goto out_in;
	}
	sendmail_input_end(&in);
	if (in.nul || in.too_big) {
		sm_err(in.nul ? "the message contains a NUL byte" :
		    "the message is larger than max_message_size (%llu bytes)",
		    (unsigned long long)cfg->max_message_size);
		ex = SM_EX_DATAERR;
		goto out_in;
	}

	/* Headers we add when missing. */
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	if (strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		qfile_rfc5322_date(tv.tv_sec, date, sizeof(date));
	qfile_make_id(id, (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec,
	    (uint32_t)sm_random());
	(void)xsnprintf(msgid, sizeof(msgid), "<%s.%08llx@%s>", id,
	    (unsigned long long)(sm_random() & 0xffffffffu), cfg->hostname);
	name = o.fullname;
	if (name == NULL && pw != NULL && pw->pw_gecos != NULL) {
		(void)xsnprintf(gecos, sizeof(gecos), "%.*s",
		    (int)strcspn(pw->pw_gecos, ","), pw->pw_gecos);
		name = gecos;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.extract = o.extract;
	ctx.domain = domain;
	ctx.date = date;
	ctx.message_id = msgid;
	if (from[0] != '\0' && sendmail_from_header(name, from, fromhdr,
	    sizeof(fromhdr)) == 0)
		ctx.from_header = fromhdr;
	else if (from[0] == '\0' && sendmail_sender_parse(login, domain, err,
	    sizeof(err)) == 0 && sendmail_from_header(name, err, fromhdr,
	    sizeof(fromhdr)) == 0)
		ctx.from_header = fromhdr;
	buf_init(&msg, cfg->max_message_size);
	if (sendmail_compose(in.out.data, in.out.len, &ctx, &msg, &rcpts, err,
	    sizeof(err)) == -1) {
		sm_err("%s", strcmp(err, "message too large") == 0 ?
		    "the message is larger than max_message_size" : err);
		ex = SM_EX_DATAERR;
		goto out_msg;
	}
	if (rcpts.n == 0) {
		sm_err("no recipients in To:, Cc: or Bcc: (-t)");
		ex = CMDS_EX_USAGE;
		goto out_msg;
	}
	if (rcpts.n > cfg->max_recipients) {
		sm_err("%zu recipients; max_recipients is %u", rcpts.n,
		    cfg->max_recipients);
		ex = SM_EX_DATAERR;
		goto out_msg;
	}
	if (sm_drop(cfg, uid, from, &rcpts, &msg, id, o.verbose) == -1)
		ex = CMDS_EX_TEMPFAIL;
out_msg:
	buf_free(&msg);
out_in:
	sendmail_input_free(&in);
out_rcpts:
	sendmail_rcpts_free(&rcpts);
out_cfg:
	config_free(cfg);
	return ex;
}
