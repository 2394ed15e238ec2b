/* cmd_user - `postern user add|passwd|del [--apop] [-c FILE] NAME`: edit the
 * user database named by the config's `users` key, atomically and under a
 * lock (users_file_edit_scram), whether the server runs or not.
 * Every password set also stores a SCRAM-SHA-256 verifier (4th field; a
 * fresh 16-octet salt from getrandom, 4096 iterations), so SMTP AUTH
 * SCRAM-SHA-256 works for every user without the plaintext password.
 * The password comes from the first line of stdin when stdin is not a
 * terminal, else from a prompt on /dev/tty asked twice with echo off;
 * never from argv (other users can read a process's arguments). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>
#include <crypt.h>

#include "hex.h"
#include "cmds.h"
#include "config.h"
#include "scram.h"
#include "users.h"

/* A password line may be this long before we stop reading; libcrypt itself
 * refuses passphrases over CRYPT_MAX_PASSPHRASE_SIZE (512) bytes. */
#define PW_READ_MAX	4096

/* Read one line from fd into pw (NUL-terminated), without its \n or \r\n.
 * Returns the length, -1 on read error, -2 when too long, -3 on EOF before
 * any byte. */
static ssize_t
read_line_fd(int fd, char *pw, size_t size)
{
	size_t n = 0;
	ssize_t r;
	char ch;
	int any = 0;

	for (;;) {
		r = read(fd, &ch, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		any = 1;
		if (ch == '\n')
			break;
		if (n + 1 >= size)
			return -2;
		pw[n++] = ch;
	}
	if (!any)
		return -3;
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	return (ssize_t)n;
}

/* Check a password read as len bytes; 0, or -1 after saying why. */
static int
pw_acceptable(const char *pw, ssize_t len)
{
	if (len == 0) {
		fprintf(stderr, "postern: empty password refused\n");
		return -1;
	}
	if (!users_password_valid(pw, (size_t)len)) {
		fprintf(stderr, "postern: password contains NUL, CR or LF; "
		    "refused\n");
		return -1;
	}
	if (len > CRYPT_MAX_PASSPHRASE_SIZE) {
		fprintf(stderr, "postern: password longer than %d bytes; "
		    "refused (libcrypt limit)\n", CRYPT_MAX_PASSPHRASE_SIZE);
		return -1;
	}
	return 0;
}

static ssize_t
prompt_tty(int tty, const char *prompt, char *pw, size_t size)
{
	struct termios old, noecho;
	ssize_t n;

	if (write(tty, prompt, strlen(prompt)) == -1)
		return -1;
	if (tcgetattr(tty, &old) == -1)
		return -1;
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ECHONL;
	if (tcsetattr(tty, TCSAFLUSH, &noecho) == -1)
		return -1;
	n = read_line_fd(tty, pw, size);
	(void)tcsetattr(tty, TCSAFLUSH, &old);
	return n;
}

/* 0 with pw filled, 1 refused (already reported), 75 I/O trouble. */
static int
get_password(const char *name, char *pw, size_t size)
{
	char again[PW_READ_MAX + 2], prompt[128];
	ssize_t n, m;
	int tty, ret;

	if (!isatty(STDIN_FILENO)) {
		n = read_line_fd(STDIN_FILENO, pw, size);
		if (n == -1) {
			fprintf(stderr, "postern: reading stdin: %s\n",
			    strerror(errno));
			return CMDS_EX_TEMPFAIL;
		}
		if (n == -2) {
			fprintf(stderr, "postern: password line too long\n");
			return 1;
		}
		if (n == -3) {
			fprintf(stderr, "postern: no password on stdin\n");
			return 1;
		}
		return pw_acceptable(pw, n) == 0 ? 0 : 1;
	}
	if ((tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1) {
		fprintf(stderr, "postern: /dev/tty: %s\n", strerror(errno));
		return CMDS_EX_TEMPFAIL;
	}
	snprintf(prompt, sizeof(prompt), "New password for %s: ", name);
	ret = 1;
	n = prompt_tty(tty, prompt, pw, size);
	if (n < 0 && n != -2) {
		fprintf(stderr, "postern: reading the password failed\n");
		goto done;
	}
	if (n == -2) {
		fprintf(stderr, "postern: password too long\n");
		goto done;
	}
	if (pw_acceptable(pw, n) == -1)
		goto done;
	m = prompt_tty(tty, "Retype the password: ", again, sizeof(again));
	if (m != n || memcmp(pw, again, (size_t)n) != 0) {
		fprintf(stderr, "postern: the passwords do not match\n");
		goto done;
	}
	ret = 0;
done:
	explicit_bzero(again, sizeof(again));
	close(tty);
	return ret;
}

/* The APOP secret is the password itself (APOP needs it in clear), kept
 * hex-encoded in the secrets file ("name:HEX") so that any byte of it
 * survives the "name:field" format. */
static void
secret_hex(const char *pw, char *out, size_t outlen)
{
	size_t n = strlen(pw);

	if (2 * n + 1 > outlen)
		n = (outlen - 1) / 2;
	hex_encode(out, pw, n);
}

/* Set (hex != NULL) or remove the user's secret. 0 or -1 with err. */
static int
secrets_update(const char *path, const char *name, const char *hex,
    enum outcome *outcome_r, char *err, size_t errlen)
{
	if (hex == NULL) {
		if (users_file_edit_flags(path, USERS_DEL, name, NULL, 0,
		    outcome_r, err, errlen) == -1 && *outcome_r == OUTCOME_TEMP)
			return -1;
		return 0;	/* "no such user" is fine: nothing to remove */
	}
	if (users_file_edit_flags(path, USERS_PASSWD, name, hex, 0, outcome_r,
	    err, errlen) == 0)
		return 0;
	if (*outcome_r == OUTCOME_TEMP)
		return -1;
	return users_file_edit_flags(path, USERS_ADD, name, hex, 0, outcome_r,
	    err, errlen);
}

/* The SCRAM-SHA-256 verifier text for pw into out (SCRAM_VERIFIER_MAX).
 * The only randomness in the SASL code: the salt, here, in the CLI.
 * 0, or -1 (no random source, OpenSSL failure). */
static int
scram_for(const char *pw, char *out, size_t outlen)
{
	unsigned char salt[SCRAM_SALT_LEN];
	struct scram_verifier v;
	size_t got = 0;
	ssize_t r;
	int rc = -1;

	while (got < sizeof(salt)) {
		r = getrandom(salt + got, sizeof(salt) - got, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	if (scram_verifier_make(&v, pw, strlen(pw), salt, sizeof(salt),
	    SCRAM_ITER_DEFAULT) == 0 &&
	    scram_verifier_format(&v, out, outlen) > 0)
		rc = 0;
	explicit_bzero(&v, sizeof(v));
	return rc;
}

int
cmd_user(int argc, char **argv, const char *file)
{
	struct errlist errs = { NULL, 0 };
	const char *opname = NULL, *name = NULL;
	char pw[PW_READ_MAX + 2], err[512], *hash = NULL;
	enum users_op op;
	struct config *c = NULL;
	enum outcome outcome = OUTCOME_OK;
	int k, apop = 0, ret;
	char secret[2 * 1024 + 1] = "";
	char scram[SCRAM_VERIFIER_MAX] = "";
	size_t i;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--apop") == 0)
			apop = 1;
		else if (strcmp(argv[k], "--") == 0 && k + 1 < argc &&
		    name == NULL && opname != NULL)
			name = argv[++k];
		else if (argv[k][0] == '-') {
			fprintf(stderr, "postern: user: unknown option %s\n",
			    argv[k]);
			return CMDS_EX_USAGE;
		} else if (opname == NULL)
			opname = argv[k];
		else if (name == NULL)
			name = argv[k];
		else {
			fprintf(stderr, "postern: user: unexpected argument "
			    "%s (the password is read from stdin)\n", argv[k]);
			return CMDS_EX_USAGE;
		}
	}
	if (opname == NULL || name == NULL) {
		fprintf(stderr, "postern: user: %s\n", opname == NULL ?
		    "add, passwd or del?" : "which user?");
		return CMDS_EX_USAGE;
	}
	if (strcmp(opname, "add") == 0)
		op = USERS_ADD;
	else if (strcmp(opname, "passwd") == 0)
		op = USERS_PASSWD;
	else if (strcmp(opname, "del") == 0)
		op = USERS_DEL;
	else {
		fprintf(stderr, "postern: user: unknown operation %s "
		    "(add, passwd, del)\n", opname);
		return CMDS_EX_USAGE;
	}
	if (op == USERS_DEL && apop) {
		fprintf(stderr, "postern: user: --apop has no meaning with "
		    "del\n");
		return CMDS_EX_USAGE;
	}
	if (!users_name_valid(name)) {
		fprintf(stderr, "postern: bad user name '%s' (1..%d of a-z "
		    "0-9 . _ -, starting with a letter or digit)\n", name,
		    USERS_NAME_MAX);
		return CMDS_EX_REFUSED;
	}
	if ((c = config_load(file, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		errlist_free(&errs);
		return CMDS_EX_CONFIG;
	}
	if (op != USERS_DEL) {
		if ((ret = get_password(name, pw, sizeof(pw))) != 0)
			goto done;
		hash = users_hash_password(pw);
		if (apop)
			secret_hex(pw, secret, sizeof(secret));
		if (hash != NULL && scram_for(pw, scram, sizeof(scram)) == -1) {
			free(hash);
			hash = NULL;
		}
		explicit_bzero(pw, sizeof(pw));
		if (hash == NULL) {
			fprintf(stderr, "postern: hashing the password "
			    "failed\n");
			ret = CMDS_EX_TEMPFAIL;
			goto done;
		}
	}
	if (users_file_edit_scram(c->users_path, op, name, hash,
	    apop ? USERS_F_APOP : 0, op != USERS_DEL ? scram : NULL, &outcome,
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "postern: %s\n", err);
		ret = outcome == OUTCOME_TEMP ? CMDS_EX_TEMPFAIL : 1;
		goto done;
	}
	/* The APOP secret follows the users file: set with --apop, removed
	 * otherwise (a stale secret would be a second, forgotten password). */
	if (secrets_update(c->secrets_path, name, apop && op != USERS_DEL ?
	    secret : NULL, &outcome, err, sizeof(err)) == -1) {
		fprintf(stderr, "postern: %s: %s\n", c->secrets_path, err);
		ret = outcome == OUTCOME_TEMP ? CMDS_EX_TEMPFAIL : 1;
		goto done;
	}
	printf("postern: user %s %s\n", name, op == USERS_ADD ? "added" :
	    op == USERS_PASSWD ? "password changed" : "deleted");
	ret = 0;
done:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(scram, sizeof(scram));
	if (hash != NULL) {
		explicit_bzero(hash, strlen(hash));
		free(hash);
	}
	config_free(c);
	return ret;
}
