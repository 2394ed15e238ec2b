/* cmd_check - `postern check [-c FILE]`: validate the configuration, the
 * relay rules and the users file; print every error as FILE:LINE: message,
 * or every effective value when the configuration is valid. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "config.h"
#include "fileio.h"
#include "users.h"

/* Warnings only: a server starts without users (it then has no mailboxes),
 * and `postern user add` creates the file. */
static void
check_users(const struct config *c)
{
	struct errlist errs = { NULL, 0 };
	struct users *u;
	struct buf b;
	size_t i;

	if (fileio_read_file(AT_FDCWD, c->users_path, FILEIO_FOLLOW,
	    USERS_FILE_MAX, &b, NULL) == -1) {
		if (errno == ENOENT)
			fprintf(stderr, "postern: warning: users file %s does "
			    "not exist yet (postern user add creates it)\n",
			    c->users_path);
		else
			fprintf(stderr, "postern: warning: users file %s: "
			    "%s\n", c->users_path, strerror(errno));
		buf_free(&b);
		return;
	}
	u = users_parse(c->users_path, b.data ? b.data : "", b.len, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "postern: warning: %s\n", errs.msgs[i]);
	if (c->postmaster != NULL && users_find(u, c->postmaster) == NULL)
		fprintf(stderr, "postern: warning: postmaster = %s, but there "
		    "is no such user in %s\n", c->postmaster, c->users_path);
	fprintf(stderr, "postern: %s: %zu user%s\n", c->users_path, u->n,
	    u->n == 1 ? "" : "s");
	errlist_free(&errs);
	users_free(u);
	buf_free(&b);
}

int
cmd_check(int argc, char **argv, const char *file)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;
	size_t i;

	if (argc > 1) {
		fprintf(stderr, "postern: check: unexpected argument %s\n",
		    argv[1]);
		return CMDS_EX_USAGE;
	}
	if ((c = config_load(file, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "postern: %s: %zu error%s\n", file, errs.n,
		    errs.n == 1 ? "" : "s");
		errlist_free(&errs);
		return CMDS_EX_CONFIG;
	}
	config_print(c, stdout);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		config_free(c);
		return CMDS_EX_TEMPFAIL;
	}
	check_users(c);
	config_free(c);
	return 0;
}
