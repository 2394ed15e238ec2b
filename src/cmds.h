/* cmds - the subcommands of postern (main.c dispatches them from its table).
 * Trusts: the command line and the config file of the administrator; the
 *         password arrives on stdin or from the terminal, never in argv.
 * Gives:  each handler returns the process exit code (the CMDS_EX_ values,
 *         the same meaning in every subcommand); messages go to stderr,
 *         results to stdout. A handler that returns CMDS_EX_USAGE has said
 *         what was wrong; main.c then prints the usage line.
 * Never:  starts the server (but serve) or talks to a running one.
 *
 * Every handler is called as fn(argc, argv, config): argv[0] is the
 * subcommand's name, the config option is already taken out of argv (see
 * cmds_take_config), and config is the file it named, or
 * CMDS_DEFAULT_CONFIG. The sendmail-compatible commands name theirs with
 * -C, as sendmail does: mailq and newaliases get it from
 * cmds_take_compat_config, sendmail gets NULL and parses -C itself. */
#ifndef POSTERN_CMDS_H
#define POSTERN_CMDS_H

struct config;

/* sysexits.h values, spelled out so the man page and the code agree. */
#define CMDS_EX_OK		0
#define CMDS_EX_REFUSED		1	/* a reasoned "no": see each command */
#define CMDS_EX_USAGE		64	/* bad command line, in every command */
#define CMDS_EX_DATAERR		65	/* sendmail: bad address or data */
#define CMDS_EX_TEMPFAIL	75	/* I/O trouble: worth retrying */
#define CMDS_EX_CONFIG		78	/* the configuration is invalid */

#define CMDS_DEFAULT_CONFIG	"/etc/postern/postern.conf"

/* Take the config option (-c FILE, -cFILE, --config FILE, --config=FILE;
 * the last one wins) and -h / --help out of argv[1..argc-1], in place: the
 * other arguments keep their order, and "--" and everything after it are
 * kept as they are. valued lists (NULL-terminated, or NULL) the
 * subcommand's own options that take a value in the next argument, which
 * is then never read as an option ("--auth -c" names the user "-c").
 * *config_r is CMDS_DEFAULT_CONFIG when no config option is given; *help_r
 * is 1 when help was asked for. Returns the new argc, or -1 (a message on
 * stderr) when the config option has no value. */
int	cmds_take_config(int argc, char **argv, const char *const *valued,
	    const char **config_r, int *help_r);
/* The config of the sendmail-compatible commands: the -C FILE given (may
 * be NULL), else $POSTERN_CONF when set and not empty, else
 * CMDS_DEFAULT_CONFIG. */
const char *cmds_compat_config(const char *given);
/* mailq's and newaliases' config option: -C FILE or -CFILE taken out of
 * argv as cmds_take_config does, *config_r set by cmds_compat_config.
 * Returns the new argc, or -1 (a message on stderr) when -C has no value.
 * (sendmail parses its own -C among its other flags.) */
int	cmds_take_compat_config(int argc, char **argv, const char **config_r);

/* postern serve [-c FILE] (master.c): runs until SIGTERM; 0 stopped, 64
 * usage, 78 invalid config (or no such run-as user). */
int	master_main(int argc, char **argv, const char *config);
/* postern check [-c FILE]: 0 valid (effective values on stdout), 78
 * invalid (every error on stderr as FILE:LINE: message), 64 usage. */
int	cmd_check(int argc, char **argv, const char *config);
/* postern user add|passwd|del [--apop] [-c FILE] NAME: 0 done, 1 refused
 * (bad name or password, user exists, no such user), 64 usage, 75 I/O
 * trouble (retry), 78 bad config. */
int	cmd_user(int argc, char **argv, const char *config);
/* postern relay-check [-c FILE] --client IP [--auth USER] --from ADDR
 * --rcpt ADDR: 0 accept (local or relay), 1 reject, 64 usage (also: an
 * argument that does not parse), 78 bad config. */
int	cmd_relaycheck(int argc, char **argv, const char *config);
/* postern queue [-c FILE] list|flush|delete ID...|hold ID...|release ID...
 * (cmd_queue.c): 0 done, 1 no such message (also: an ID that is not
 * one), 64 usage, 75 I/O trouble, 78 bad config. Works on the spool
 * whether the server runs or not. */
int	cmd_queue(int argc, char **argv, const char *config);
/* postern sendmail [flags] [--] [RCPT...], or run as "sendmail"
 * (cmd_sendmail.c): 0 dropped into spool/maildrop, 64 usage (also: no
 * recipient), 65 bad address or data, 75 temporary failure, 78 bad
 * config. -bi is newaliases. config is NULL (-C names it). */
int	cmd_sendmail(int argc, char **argv, const char *config);
/* postern newaliases [-C FILE], or run as "newaliases"
 * (cmd_newaliases.c): the server reads the aliases file as it is (there
 * is no database to rebuild), so this checks it: every bad line on stderr
 * as FILE:LINE: message, the count on stdout. 0 valid (or no aliases
 * configured), 64 usage, 75 I/O trouble, 78 bad config or aliases. */
int	cmd_newaliases(int argc, char **argv, const char *config);
/* The check behind newaliases and sendmail -bi, of c's aliases file. */
int	cmds_check_aliases(const struct config *c);
/* `postern grants [-c FILE] [list|revoke IP]` (cmd_grants.c): the
 * POP-before-SMTP grants in spool/grants. 0 done, 1 no such grant, 64
 * usage (also: IP is not an address), 75 I/O trouble, 78 bad config. */
int	cmd_grants(int argc, char **argv, const char *config);
/* `postern dns-query [-c FILE] TYPE NAME` (cmd_dnsquery.c), a diagnostic:
 * one DNS lookup through dns_servers, the records and
 * "status=ok|nxdomain|nodata|temp|perm ttl=N" on stdout. 0 ok, 1
 * nxdomain, nodata or an invalid name, 64 usage, 75 temp, 78 bad config. */
int	cmd_dnsquery(int argc, char **argv, const char *config);

/* postern dkim keygen [-c FILE] DOMAIN SELECTOR [--ed25519] | sign [-c
 * FILE] DOMAIN | verify --key-record FILE (cmd_dkim.c): 0 done (verify:
 * every signature passes), 1 refused (keygen: the key file exists; sign:
 * no key for the domain; verify: a signature does not pass, or none),
 * 64 usage, 65 bad message, 75 I/O trouble, 78 bad config or key. */
int	cmd_dkim(int argc, char **argv, const char *config);
/* postern auth-check [-c FILE] --client IP --mail-from ADDR [--helo NAME]
 * MESSAGE|- (cmd_authcheck.c): SPF, DKIM and DMARC of a saved message,
 * each result with its reason, then the Authentication-Results field. 0
 * the checks ran (whatever they found), 64 usage, 75 the message, the
 * resolver or the suffix list could not be had, 78 bad config. */
int	cmd_authcheck(int argc, char **argv, const char *config);
#endif
