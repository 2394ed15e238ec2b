/* cmd_grants - `postern grants [-c FILE] [list|revoke IP]`: show and revoke
 *              POP-before-SMTP relay grants. Works whether the server runs
 *              or not: the file is edited under spool/grants.lock, the lock
 *              the auth process takes, and auth picks the change up within
 *              a second and tells smtpd.
 * Trusts: the config; the IP argument is parsed, never used as a path.
 * Gives:  every revocation logged (log_info: the IP and the invoking uid). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmds.h"
#include "config.h"
#include "fileio.h"
#include "grants.h"
#include "log.h"

static int
read_grants(int spool_fd, struct grants *g)
{
	struct buf b;
	int rc = 0;

	/* A table larger than GRANTS_FILE_MAX: what fits is what counts, as
	 * for the auth process. */
	if (fileio_read_file(spool_fd, "grants", 0, GRANTS_FILE_MAX, &b,
	    NULL) == -1 && errno != EFBIG)
		rc = errno == ENOENT ? 0 : -1;
	if (rc == 0)
		grants_parse(g, b.data ? b.data : "", b.len);
	buf_free(&b);
	return rc;
}

/* Run as root, we still write the file for the spool's owner: the auth
 * process (run-as user) must be able to read it. */
static int
spool_owner(int spool_fd, struct fileio_new *nf)
{
	struct stat st;

	if (fstat(spool_fd, &st) == -1)
		return -1;
	nf->uid = st.st_uid;
	nf->gid = st.st_gid;
	return 0;
}

static int
fchown_like_spool(int spool_fd, int fd)
{
	struct stat st;

	if (fstat(spool_fd, &st) == -1)
		return -1;
	if (geteuid() != 0)
		return 0;
	return fchown(fd, st.st_uid, st.st_gid);
}

static int
write_grants(int spool_fd, const struct grants *g)
{
	struct fileio_new nf = { 0600, (uid_t)-1, (gid_t)-1,
	    FILEIO_TMP_LEFTOVER };
	struct buf b;
	int rc = -1;

	buf_init(&b, GRANTS_FILE_MAX);
	if (grants_format(g, &b) == 0 && spool_owner(spool_fd, &nf) == 0)
		rc = fileio_replace(spool_fd, "grants", "grants.tmp", b.data,
		    b.len, &nf, NULL);
	buf_free(&b);
	return rc;
}

int
cmd_grants(int argc, char **argv, const char *file)
{
	struct errlist errs = { NULL, 0 };
	struct grants g = { NULL, 0 };
	struct config *c = NULL;
	struct netaddr addr;
	const char *verb = "list", *ip = NULL;
	char text[64], when[32];
	time_t now = time(NULL);
	int k, spool_fd = -1, lock = -1, ret = CMDS_EX_TEMPFAIL;
	size_t i;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "list") == 0 || strcmp(argv[k], "revoke") == 0)
			verb = argv[k];
		else if (ip == NULL && strcmp(verb, "revoke") == 0)
			ip = argv[k];
		else {
			fprintf(stderr, "postern: grants: unexpected argument "
			    "%s\n", argv[k]);
			return CMDS_EX_USAGE;
		}
	}
	if ((strcmp(verb, "revoke") == 0) != (ip != NULL)) {
		fprintf(stderr, "postern: grants: revoke needs one IP\n");
		return CMDS_EX_USAGE;
	}
	if (ip != NULL && netaddr_parse(ip, &addr) == -1) {
		fprintf(stderr, "postern: grants: '%s' is not an IP address\n", ip);
		return CMDS_EX_USAGE;
	}
	if ((c = config_load(file, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		errlist_free(&errs);
		return CMDS_EX_CONFIG;
	}
	/* A revocation is logged where the server's config logs. */
	log_init("grants", c->log_syslog);
	spool_fd = open(c->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (spool_fd == -1) {
		if (errno == ENOENT && ip == NULL) {
			ret = 0;	/* never started: no grants */
			goto done;
		}
		fprintf(stderr, "postern: %s: %s\n", c->spool, strerror(errno));
		goto done;
	}
	lock = openat(spool_fd, "grants.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock == -1 || fchown_like_spool(spool_fd, lock) == -1 ||
	    flock(lock, LOCK_EX) == -1 ||
	    read_grants(spool_fd, &g) == -1) {
		fprintf(stderr, "postern: %s/grants: %s\n", c->spool, strerror(errno));
		goto done;
	}
	if (ip == NULL) {
		for (i = 0; i < g.n; i++) {
			struct tm tm;
			if (g.v[i].expires <= now)
				continue;
			gmtime_r(&g.v[i].expires, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf("%s user=%s expires=%s (%llds)\n",
			    netaddr_format(&g.v[i].addr, text, sizeof(text)),
			    g.v[i].user, when, (long long)(g.v[i].expires - now));
		}
		ret = 0;
		goto done;
	}
	if (!grants_revoke(&g, &addr)) {
		fprintf(stderr, "postern: grants: no grant for %s\n", ip);
		ret = 1;
		goto done;
	}
	if (write_grants(spool_fd, &g) == -1) {
		fprintf(stderr, "postern: %s/grants: %s\n", c->spool, strerror(errno));
		goto done;
	}
	log_info("admin: grants revoke client=[%s] uid=%ld",
	    netaddr_format(&addr, text, sizeof(text)), (long)getuid());
	printf("postern: grant for %s revoked\n", ip);
	ret = 0;
done:
	if (lock != -1)
		close(lock);
	if (spool_fd != -1)
		close(spool_fd);
	grants_free(&g);
	config_free(c);
	return ret;
}
