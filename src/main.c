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
	    "       postern user add|passwd|del [--apop] -c FILE NAME\n"
	    "       postern grants -c FILE [list|revoke IP]\n"
	    "       postern queue -c FILE [list|flush|delete ID|hold ID|release ID]\n"
	    "       postern sendmail [-t] [-i] [-f SENDER] [-F NAME] [-C FILE] [--] [RCPT ...]\n");
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
		{ "queue", cmd_queue },
		{ "sendmail", cmd_sendmail },
		{ "grants", cmd_grants },
	};
	const char *base;
	size_t i;

	/* Installed as /usr/sbin/sendmail (a link): act as sendmail. */
	base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	base = base ? base + 1 : argc > 0 ? argv[0] : "";
	if (strcmp(base, "sendmail") == 0)
		return cmd_sendmail(argc, argv);
	if (argc < 2)
		return usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	return usage();
}
