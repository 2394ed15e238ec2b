/* cmds - the administrator's subcommands of postern (main.c dispatches).
 * Trusts: the command line and the config file of the administrator; the
 *         password arrives on stdin or from the terminal, never in argv.
 * Gives:  each returns the process exit code; messages go to stderr,
 *         results to stdout.
 * Never:  starts the server or talks to a running one. */
#ifndef POSTERN_CMDS_H
#define POSTERN_CMDS_H

/* sysexits.h values, spelled out so the man page and the code agree. */
#define CMDS_EX_OK		0
#define CMDS_EX_USAGE		64	/* reserved; check/user use 1 for usage */
#define CMDS_EX_TEMPFAIL	75
#define CMDS_EX_CONFIG		78

/* postern check -c FILE: 0 valid (effective values on stdout), 78 invalid
 * (every error on stderr as FILE:LINE: message), 1 usage. */
int	cmd_check(int argc, char **argv);
/* postern user add|passwd|del [--apop] -c FILE NAME: 0 done, 1 refused
 * (usage, bad name or password, user exists, no such user), 75 I/O
 * trouble (retry), 78 bad config. */
int	cmd_user(int argc, char **argv);
/* postern relay-check -c FILE --client IP [--auth USER] --from ADDR
 * --rcpt ADDR: 0 accept (local or relay), 1 reject, 2 usage/config error. */
int	cmd_relaycheck(int argc, char **argv);
/* postern queue -c FILE list|flush|delete ID...|hold ID...|release ID...
 * (cmd_queue.c): 0 done, 1 usage or no such message, 75 I/O trouble,
 * 78 bad config. Works on the spool whether the server runs or not. */
int	cmd_queue(int argc, char **argv);
/* postern sendmail [flags] [--] [RCPT...], or run as "sendmail"
 * (cmd_sendmail.c): 0 dropped into spool/maildrop, 64 usage, 65 bad
 * address or data, 75 temporary failure, 78 bad config. */
int	cmd_sendmail(int argc, char **argv);
/* `postern grants -c FILE [list|revoke IP]` (cmd_grants.c): the
 * POP-before-SMTP grants in spool/grants. 0 done, 1 usage or no such
 * grant, 75 I/O trouble, 78 bad config. */
int	cmd_grants(int argc, char **argv);
#endif
