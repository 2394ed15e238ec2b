/* cmd_common - what the subcommands share on their command line: the one
 *              config option (-c FILE, default CMDS_DEFAULT_CONFIG) and
 *              the config lookup of the sendmail-compatible commands.
 * Trusts: the command line (the invoking user's; only rearranged here).
 * Gives:  argv without the config and help options, the config path.
 * Never:  opens the config; each command loads what it needs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"

static int
is_valued(const char *arg, const char *const *valued)
{
	for (; valued != NULL && *valued != NULL; valued++)
		if (strcmp(arg, *valued) == 0)
			return 1;
	return 0;
}

int
cmds_take_config(int argc, char **argv, const char *const *valued,
    const char **config_r, int *help_r)
{
	const char *arg;
	int k, out = 1;

	*config_r = CMDS_DEFAULT_CONFIG;
	*help_r = 0;
	for (k = 1; k < argc; k++) {
		arg = argv[k];
		if (strcmp(arg, "--") == 0) {
			while (k < argc)
				argv[out++] = argv[k++];
			break;
		}
		if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
			if (k + 1 == argc) {
				fprintf(stderr, "postern: %s: %s needs a file "
				    "name\n", argv[0], arg);
				return -1;
			}
			*config_r = argv[++k];
		} else if (strncmp(arg, "--config=", 9) == 0)
			*config_r = arg + 9;
		else if (strncmp(arg, "-c", 2) == 0)
			*config_r = arg + 2;	/* -cFILE, as getopt allows */
		else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			*help_r = 1;
		else {
			argv[out++] = argv[k];
			/* "--auth VALUE": the value is the option's, whatever
			 * it looks like. */
			if (is_valued(arg, valued) && k + 1 < argc)
				argv[out++] = argv[++k];
		}
	}
	argv[out] = NULL;
	return out;
}

int
cmds_take_compat_config(int argc, char **argv, const char **config_r)
{
	const char *given = NULL;
	int k, out = 1;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "-C") == 0) {
			if (k + 1 == argc) {
				fprintf(stderr, "postern: -C needs a file "
				    "name\n");
				return -1;
			}
			given = argv[++k];
		} else if (strncmp(argv[k], "-C", 2) == 0)
			given = argv[k] + 2;
		else
			argv[out++] = argv[k];
	}
	argv[out] = NULL;
	*config_r = cmds_compat_config(given);
	return out;
}

const char *
cmds_compat_config(const char *given)
{
	const char *env;

	if (given != NULL)
		return given;
	env = getenv("POSTERN_CONF");
	if (env != NULL && env[0] != '\0')
		return env;
	return CMDS_DEFAULT_CONFIG;
}
