/* users - the user database: "name:hash[:flags[:scram]]" lines, hash from
 *         crypt(3) (yescrypt, or SHA-512 "$6$" where yescrypt is missing),
 *         scram a SCRAM-SHA-256 verifier (scram.h).
 * Trusts: the file's owner (root), but still parses it defensively.
 * Gives:  lookups, password checks, and atomic edits for `postern user`.
 * Limits: user names 1..32 of [a-z0-9._-], starting with a letter or digit;
 *         passwords non-empty, no NUL, CR or LF.
 * Never:  logs passwords or hashes. users_parse/users_find do no I/O. */
#ifndef POSTERN_USERS_H
#define POSTERN_USERS_H
#include <stddef.h>
#include "buf.h"
#include "outcome.h"

#define USERS_NAME_MAX	32
/* Added: largest users file read or written (same value as master.c's). */
#define USERS_FILE_MAX	(16 * 1024 * 1024)

struct user_entry {
	char	name[USERS_NAME_MAX + 1];
	char	*hash;
	int	apop;		/* flag "apop": an APOP/CRAM-MD5 secret exists */
	char	*scram;		/* The 4th field, a SCRAM-SHA-256
				 * verifier "SCRAM-SHA-256$i:salt$stored:server"
				 * (scram.h), or NULL: then no SCRAM for this
				 * user. Parse it with scram_verifier_parse. */
};

struct users {
	struct user_entry *v;
	size_t		   n;
};

/* Parse file text; bad lines are reported as name:line in errs and skipped.
 * Returns a table (possibly empty); never NULL. */
struct users *users_parse(const char *name, const char *text, size_t len,
	    struct errlist *errs);
void	users_free(struct users *u);
const struct user_entry *users_find(const struct users *u, const char *name);
/* 1 if name is a valid user name (see Limits). */
int	users_name_valid(const char *name);
/* 1 if the password is acceptable (see Limits). */
int	users_password_valid(const char *pw, size_t len);
/* A new salted hash (malloc'ed), or NULL on failure. */
char	*users_hash_password(const char *pw);
/* 1 if pw matches the entry's hash, 0 otherwise (constant-time compare).
 * e may be NULL (unknown user): a dummy hash is computed so that the
 * answer takes as long as for a wrong password, and 0 is returned. */
int	users_check_password(const struct user_entry *e, const char *pw);

enum users_op { USERS_ADD, USERS_PASSWD, USERS_DEL };
/* Edit the file at path atomically (lock, write temp, fsync, rename,
 * fsync dir). hash is ignored for USERS_DEL. Returns 0, or -1 with a
 * message in err (e.g. "user exists", "no such user"). */
int	users_file_edit(const char *path, enum users_op op, const char *name,
	    const char *hash, char *err, size_t errlen);

/* Added: flags for the line's third field, and the kind of failure. */
#define USERS_F_APOP	0x01	/* write "name:hash:apop" */
/* As users_file_edit, with flags (USERS_F_*; PASSWD rewrites the line with
 * exactly these flags). *outcome_r (may be NULL) is OUTCOME_OK on 0; on
 * -1, OUTCOME_TEMP for I/O trouble (lock, read, write, fsync, rename:
 * retrying may help) and OUTCOME_PERM for a refused request (bad name,
 * user exists, no such user). */
int	users_file_edit_flags(const char *path, enum users_op op,
	    const char *name, const char *hash, unsigned flags,
	    enum outcome *outcome_r, char *err, size_t errlen);

/* As users_file_edit_flags, and with scram non-NULL the
 * line gets a 4th field: "name:hash:FLAGS:SCRAM-SHA-256$..." (FLAGS may be
 * empty: "name:hash::SCRAM..."). scram must pass scram_verifier_parse.
 * ADD/PASSWD with scram NULL write no 4th field: a password change always
 * drops the old verifier (it would be a second, stale password).
 * Old "name:hash" and "name:hash:flags" lines stay valid. */
int	users_file_edit_scram(const char *path, enum users_op op,
	    const char *name, const char *hash, unsigned flags,
	    const char *scram, enum outcome *outcome_r, char *err,
	    size_t errlen);
#endif
