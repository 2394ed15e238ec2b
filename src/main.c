/* main - subcommand dispatch only. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "proc.h"

static int
usage(void)
{
	fprintf(stderr,
	    "usage: postern serve -c FILE\n"
	    "       postern check -c FILE\n"
	    "       postern relay-check -c FILE --client IP [--auth USER] --from ADDR --rcpt ADDR\n"
	    "       postern user add|passwd|del [--apop] -c FILE NAME\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "serve", master_main },
		{ "check", cmd_check },
		{ "relay-check", cmd_relaycheck },
		{ "user", cmd_user },
	};
	size_t i;

	if (argc < 2)
		return usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	return usage();
}
