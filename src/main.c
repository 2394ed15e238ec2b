/* main - the command-line front end: one table of subcommands (name,
 *        handler, usage, which take the config option), one usage style,
 *        one config option parser (cmds_take_config), --version.
 * Trusts: the command line; argv[0] only to pick a sendmail-compatible
 *         name (a link called sendmail, mailq or newaliases).
 * Gives:  the handler's exit code (cmds.h); usage errors exit 64 with the
 *         command's usage line on stderr; help and --version exit 0 with
 *         their text on stdout.
 * Never:  does a command's work itself: mailq is queue list. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "version.h"

/* The options of relay-check that take a value (the next argument). */
static const char *const relaycheck_valued[] = {
	"--client", "--auth", "--from", "--rcpt", NULL
};

/* The options of dkim that take a value. */
static const char *const dkim_valued[] = { "--key-record", NULL };

/* The options of auth-check that take a value. */
static const char *const authcheck_valued[] = {
	"--client", "--mail-from", "--helo", NULL
};

static int	run_mailq(int, char **, const char *);

/* How a command names its config. */
enum config_opt {
	CONFIG_C,		/* -c FILE (cmds_take_config), and -h/--help */
	CONFIG_COMPAT,		/* -C FILE (cmds_take_compat_config) */
	CONFIG_OWN,		/* sendmail: -C among its own flags */
};

static const struct command {
	const char	*name;
	int		(*fn)(int argc, char **argv, const char *config);
	const char	*args;		/* the usage line after the name */
	enum config_opt	 config;
	const char *const *valued;	/* its options with a value */
	int		 as_program;	/* also run when argv[0] is the name */
} commands[] = {
	{ "serve", master_main, "[-c FILE]", CONFIG_C, NULL, 0 },
	{ "check", cmd_check, "[-c FILE]", CONFIG_C, NULL, 0 },
	{ "relay-check", cmd_relaycheck, "[-c FILE] --client IP "
	    "[--auth USER] --from ADDR --rcpt ADDR", CONFIG_C,
	    relaycheck_valued, 0 },
	{ "user", cmd_user, "add|passwd|del [--apop] [-c FILE] NAME",
	    CONFIG_C, NULL, 0 },
	{ "grants", cmd_grants, "[-c FILE] [list|revoke IP]", CONFIG_C, NULL,
	    0 },
	{ "queue", cmd_queue, "[-c FILE] [list|flush|delete ID...|hold ID..."
	    "|release ID...]", CONFIG_C, NULL, 0 },
	{ "dkim", cmd_dkim, "keygen [-c FILE] DOMAIN SELECTOR [--ed25519] | "
	    "check [-c FILE] DOMAIN | sign [-c FILE] DOMAIN | "
	    "verify --key-record FILE", CONFIG_C,
	    dkim_valued, 0 },
	{ "sendmail", cmd_sendmail, "[-t] [-i] [-f SENDER] [-F NAME] "
	    "[-C FILE] [--] [RCPT ...]", CONFIG_OWN, NULL, 1 },
	{ "mailq", run_mailq, "[-C FILE]", CONFIG_COMPAT, NULL, 1 },
	{ "newaliases", cmd_newaliases, "[-C FILE]", CONFIG_COMPAT, NULL, 1 },
	{ "auth-check", cmd_authcheck, "[-c FILE] --client IP --mail-from ADDR "
	    "[--helo NAME] MESSAGE|-", CONFIG_C, authcheck_valued, 0 },
	{ "dns-query", cmd_dnsquery, "[-c FILE] TXT|A|AAAA|MX|PTR NAME",
	    CONFIG_C, NULL, 0 },
};
#define N_COMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void
usage_line(FILE *out, const char *prefix, const struct command *c)
{
	fprintf(out, "%s postern %s %s\n", prefix, c->name, c->args);
}

static void
usage_all(FILE *out)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		usage_line(out, i == 0 ? "usage:" : "      ", &commands[i]);
	fprintf(out, "       postern help | --help | --version\n"
	    "-c FILE defaults to " CMDS_DEFAULT_CONFIG ". sendmail, mailq "
	    "and newaliases\nalso run as links of those names; their -C FILE "
	    "defaults to $POSTERN_CONF, then\nthe same file.\n");
}

/* mailq [-C FILE]: the queue listing, `postern queue list`. */
static int
run_mailq(int argc, char **argv, const char *config)
{
	static char queue_name[] = "queue", list_verb[] = "list";
	char *list_argv[] = { queue_name, list_verb, NULL };

	if (argc > 1) {
		fprintf(stderr, "postern: mailq: unexpected argument %s\n",
		    argv[1]);
		return CMDS_EX_USAGE;
	}
	return cmd_queue(2, list_argv, config);
}

static int
run(const struct command *c, int argc, char **argv)
{
	const char *config = NULL;
	int help, ex;

	help = 0;
	if (c->config == CONFIG_C)
		argc = cmds_take_config(argc, argv, c->valued, &config, &help);
	else if (c->config == CONFIG_COMPAT)
		argc = cmds_take_compat_config(argc, argv, &config);
	if (argc == -1) {
		usage_line(stderr, "usage:", c);
		return CMDS_EX_USAGE;
	}
	if (help) {
		usage_line(stdout, "usage:", c);
		return CMDS_EX_OK;
	}
	ex = c->fn(argc, argv, config);
	if (ex == CMDS_EX_USAGE)
		usage_line(stderr, "usage:", c);
	return ex;
}

int
main(int argc, char **argv)
{
	const char *base;
	size_t i;

	/* Installed as a link named sendmail, mailq or newaliases. */
	base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	base = base ? base + 1 : argc > 0 ? argv[0] : "";
	for (i = 0; i < N_COMMANDS; i++)
		if (commands[i].as_program && strcmp(base, commands[i].name) == 0)
			return run(&commands[i], argc, argv);
	if (argc < 2) {
		usage_all(stderr);
		return CMDS_EX_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage_all(stdout);
		return CMDS_EX_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("postern %s\n", POSTERN_VERSION);
		return CMDS_EX_OK;
	}
	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return run(&commands[i], argc - 1, argv + 1);
	fprintf(stderr, "postern: unknown command %s\n", argv[1]);
	usage_all(stderr);
	return CMDS_EX_USAGE;
}
