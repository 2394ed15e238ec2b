/* cmd_newaliases - `newaliases [-C FILE]` (a link of that name, or
 *                  `postern newaliases`; also `sendmail -bi`). The server
 *                  reads the aliases file as it is, and re-reads it when it
 *                  changes: there is no database to rebuild. So this checks
 *                  the file the way the server will parse it (aliases.c),
 *                  which is what an administrator runs newaliases for.
 * Trusts: the config (found as sendmail finds it: -C, $POSTERN_CONF, the
 *         default) and the aliases file it names, parsed, never executed.
 * Gives:  every bad line on stderr as FILE:LINE: message; "FILE: N
 *         aliases" on stdout. 0 valid, or no aliases key (nothing to
 *         check); 64 usage; 75 a read error worth retrying; 78 invalid
 *         config, or an aliases file that is missing, unreadable, too big
 *         or has bad lines (the server would skip those lines).
 * Never:  writes anything or tells the server (it notices by itself).
 *         Loops show only at delivery (they need an address to expand). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aliases.h"
#include "buf.h"
#include "cmds.h"
#include "config.h"
#include "fileio.h"

int
cmds_check_aliases(const struct config *c)
{
	struct errlist errs = { NULL, 0 };
	struct aliases *a;
	struct buf b;
	size_t i;
	int fd, ex;

	if (c->aliases_path == NULL) {
		printf("postern: no aliases file configured; nothing to "
		    "check\n");
		return CMDS_EX_OK;
	}
	if ((fd = open(c->aliases_path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) ==
	    -1) {
		fprintf(stderr, "postern: newaliases: %s: %s\n",
		    c->aliases_path, strerror(errno));
		return CMDS_EX_CONFIG;
	}
	buf_init(&b, ALIASES_FILE_MAX);
	if (fileio_read_all(fd, &b) == -1) {
		ex = errno == EFBIG ? CMDS_EX_CONFIG : CMDS_EX_TEMPFAIL;
		if (errno == EFBIG)
			fprintf(stderr, "postern: newaliases: %s: larger than "
			    "%d bytes\n", c->aliases_path, ALIASES_FILE_MAX);
		else
			fprintf(stderr, "postern: newaliases: %s: %s\n",
			    c->aliases_path, strerror(errno));
		close(fd);
		buf_free(&b);
		return ex;
	}
	close(fd);
	a = aliases_parse(c->aliases_path, b.data ? b.data : "", b.len, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	printf("%s: %zu alias%s\n", c->aliases_path, aliases_count(a),
	    aliases_count(a) == 1 ? "" : "es");
	ex = errs.n > 0 ? CMDS_EX_CONFIG : CMDS_EX_OK;
	aliases_free(a);
	errlist_free(&errs);
	buf_free(&b);
	return ex;
}

int
cmd_newaliases(int argc, char **argv, const char *config)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;
	size_t i;
	int ex;

	if (argc > 1) {
		fprintf(stderr, "postern: newaliases: unexpected argument %s\n",
		    argv[1]);
		return CMDS_EX_USAGE;
	}
	if ((c = config_load(config, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		errlist_free(&errs);
		return CMDS_EX_CONFIG;
	}
	ex = cmds_check_aliases(c);
	config_free(c);
	return ex;
}
