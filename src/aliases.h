/* aliases - the aliases table: "name: target, target" and its expansion.
 * Trusts: nothing in the file beyond its syntax: it is the admin's, but
 *         read by the master and handed over as bytes, and checked here.
 * Gives:  a parsed table (bad lines are reported as file:line and skipped),
 *         "is this name an alias", and the expansion of a local name into
 *         final targets: local mailboxes and remote addresses, each once.
 * Syntax: '#' comment lines; "name: t1, t2"; a line starting with
 *         whitespace continues the previous one. A target is a local name
 *         ("alice"), or an address ("alice@mydomain.test" is local when its
 *         domain is one of local_domains, anything else is remote). Pipes,
 *         files and :include: are refused.
 * Limits: ALIASES_FILE_MAX bytes, nesting ALIASES_DEPTH_MAX, at most
 *         ALIASES_TARGETS_MAX final targets per expansion.
 * Never:  does I/O. A name that reaches itself through another alias is a
 *         loop (an error); a name listing itself ("alice: alice, bob")
 *         means its own mailbox, as in sendmail. */
#ifndef POSTERN_ALIASES_H
#define POSTERN_ALIASES_H
#include <stddef.h>
#include "buf.h"

#define ALIASES_FILE_MAX	(4 * 1024 * 1024)
#define ALIASES_DEPTH_MAX	16
#define ALIASES_TARGETS_MAX	1000
#define ALIASES_NAME_MAX	64

struct aliases;

struct aliases_target {
	int	local;			/* 1: mailbox is set; 0: remote addr */
	char	mailbox[ALIASES_NAME_MAX + 1];
	char	addr[260];		/* full address (remote), or mailbox@domain */
};

enum aliases_status {
	ALIASES_OK = 0,
	ALIASES_NOT_ALIAS,	/* the name is not in the table */
	ALIASES_LOOP,		/* an alias reaches itself: 5.4.6 */
	ALIASES_TOO_BIG,	/* too deep or too many targets: 5.3.0 */
};

/* Parse the table. Never NULL (an empty table on no input); every bad
 * line is added to errs (prefixed with name:line) and skipped. */
struct aliases *aliases_parse(const char *name, const char *text, size_t len,
	    struct errlist *errs);
void	aliases_free(struct aliases *a);
size_t	aliases_count(const struct aliases *a);
/* 1 if name (lower case, delimiter already stripped) is an alias. */
int	aliases_has(const struct aliases *a, const char *name);
/* Expand name into *out_r / *n_r (caller frees *out_r). Local names are
 * lower-cased and cut at delim (when delim != '\0': "alice+x" -> alice),
 * by relay_local_mailbox() (relay.h), the rule of every other process.
 * domain is used to build addr for local targets. On anything but
 * ALIASES_OK, *out_r is NULL and *n_r 0. */
enum aliases_status aliases_expand(const struct aliases *a, const char *name,
	    char **const local_domains, size_t n_local_domains, char delim,
	    const char *domain, struct aliases_target **out_r, size_t *n_r);
#endif
