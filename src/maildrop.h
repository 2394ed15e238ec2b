/* maildrop - the file format of spool/maildrop, where `postern sendmail`
 *            (any local user, no privileges) leaves new mail for the
 *            queue process's pickup (pickup.c).
 * Trusts: nothing. A maildrop file is written by an unprivileged, possibly
 *         hostile local user; every byte is checked before the message
 *         becomes a queue file.
 * Gives:  envelope formatting (sendmail), strict envelope parsing, and an
 *         incremental content checker (pickup, fuzz_maildrop).
 * Limits: envelope MAILDROP_ENVELOPE_MAX bytes, recipients as the caller
 *         says (max_recipients), content max_message_size bytes, content
 *         lines MAILDROP_LINE_MAX bytes including CRLF.
 * Never:  does I/O, logs or allocates beyond the parsed recipients.
 *
 * A maildrop file is an envelope, an empty line, and the content:
 *   POSTERN-MAILDROP 1
 *   uid 1000                      the writer's uid, decimal, no sign, no
 *                                 leading zero; must equal the file owner
 *   from <alice@mydomain.test>    "from <>" for the null sender
 *   rcpt <bob@example.net>        one line per recipient, at least one
 *   rcpt <postmaster>
 *                                 (empty line)
 *   Date: ...<CRLF>               the message, every line ending in CRLF
 * The lines come in exactly this order, each ends in "\n" (no CR), and
 * every address is one address_parse_path() accepts whose normal form has
 * no space or control character (so that it fits a queue file's envelope).
 * The content has no NUL, no bare CR or LF, no line over 1000 bytes with
 * its CRLF, and is empty or ends in CRLF.
 *
 * Spool/maildrop, and the states of a file there:
 *   maildrop/          mode 1733, owner the server's run-as user: anyone
 *                      may create a file, nobody but the owner (and the
 *                      queue process) may list, read others' or remove them
 *   maildrop/.tmp.R    being written by `postern sendmail` (R: 16 random
 *                      hex digits); ignored by pickup, removed by it when
 *                      older than a day (a killed sendmail)
 *   maildrop/ID        complete and fsync'ed (rename from .tmp.R, without
 *                      replacing); ID is a queue id (qfile_id_valid)
 * Invariants:
 *   1. `postern sendmail` exits 0 only after the file's data was fsync'ed
 *      and then renamed to its ID: an ID name is always a complete file.
 *   2. Pickup unlinks maildrop/ID only after queue/QID (a new id) and
 *      queue/'s directory entry are fsync'ed: a crash in between picks the
 *      file up again (a duplicate, never a loss).
 *   3. A file that fails any check is moved to spool/corrupt/maildrop-ID
 *      with a log line, never delivered, never deleted.
 * Files are mode 0644 so that the queue process (another uid) can read
 * them; the directory cannot be listed by others and the names carry 64
 * (.tmp) or 20 (ID) random bits, so other users cannot find them. */
#ifndef POSTERN_MAILDROP_H
#define POSTERN_MAILDROP_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "address.h"
#include "buf.h"

#define MAILDROP_MAGIC		"POSTERN-MAILDROP 1\n"
#define MAILDROP_ENVELOPE_MAX	(1024 * 1024)
#define MAILDROP_LINE_MAX	1000	/* content line, CRLF included */
#define MAILDROP_TMP_PREFIX	".tmp."

enum maildrop_status {
	MAILDROP_OK = 0,
	MAILDROP_ERR_MAGIC,		/* not "POSTERN-MAILDROP 1" */
	MAILDROP_ERR_TRUNCATED,		/* no empty line ends the envelope */
	MAILDROP_ERR_ENVELOPE_SIZE,	/* envelope over MAILDROP_ENVELOPE_MAX */
	MAILDROP_ERR_LINE,		/* a line out of order or unknown */
	MAILDROP_ERR_UID,		/* bad uid line */
	MAILDROP_ERR_FROM,		/* bad sender address */
	MAILDROP_ERR_RCPT,		/* bad recipient address */
	MAILDROP_ERR_NO_RCPT,		/* no recipient */
	MAILDROP_ERR_TOO_MANY_RCPTS,	/* more than max_rcpts */
	MAILDROP_ERR_NUL,		/* NUL byte (envelope or content) */
	MAILDROP_ERR_BARE_CR,		/* CR not followed by LF */
	MAILDROP_ERR_BARE_LF,		/* LF not preceded by CR */
	MAILDROP_ERR_LONG_LINE,		/* content line over MAILDROP_LINE_MAX */
	MAILDROP_ERR_NO_FINAL_CRLF,	/* content does not end in CRLF */
	MAILDROP_ERR_TOO_BIG,		/* content over the size limit */
};

struct maildrop_envelope {
	uid_t		uid;
	struct address	from;		/* from.is_null for "from <>" */
	struct address	*rcpts;		/* nrcpts entries, malloc'ed */
	size_t		nrcpts;
	size_t		content_off;	/* first byte of the content */
};

/* The content checker: feed the content in pieces of any size. */
struct maildrop_content {
	uint64_t	size;		/* bytes seen */
	uint64_t	max;		/* limit on size */
	size_t		linelen;	/* bytes of the current line */
	int		cr;		/* last byte was CR */
	enum maildrop_status status;	/* first error, sticky */
};

/* Short text for logs ("bare LF in content"); never NULL. */
const char *maildrop_strerror(enum maildrop_status st);

/* 1 if the address may appear in a maildrop (and a queue) file: its
 * normal form (address_format) fits in out (may be NULL) and has no space
 * or control byte; the null path is fine for the sender. */
int	maildrop_address_ok(const struct address *a, char *out, size_t outlen);

/* Append the envelope through the empty line to out. from is "" for the
 * null sender; every address must be maildrop_address_ok's normal form.
 * 0, or -1 if an address has a space/control byte or out is full. */
int	maildrop_envelope_format(struct buf *out, uid_t uid, const char *from,
	    char *const *rcpts, size_t nrcpts);

/* Parse the envelope at the start of text (len bytes: the envelope and
 * perhaps some content). max_rcpts bounds the recipients (0: no bound).
 * MAILDROP_OK fills e (free with maildrop_envelope_free); any other status
 * leaves e empty. MAILDROP_ERR_TRUNCATED when len ends before the empty
 * line (the caller may read more, up to MAILDROP_ENVELOPE_MAX). */
enum maildrop_status maildrop_envelope_parse(const char *text, size_t len,
	    size_t max_rcpts, struct maildrop_envelope *e);
void	maildrop_envelope_free(struct maildrop_envelope *e);

void	maildrop_content_init(struct maildrop_content *c, uint64_t max);
/* Check n more bytes; returns the sticky status (MAILDROP_OK so far). */
enum maildrop_status maildrop_content_feed(struct maildrop_content *c,
	    const char *p, size_t n);
/* The content ended; returns the final status. */
enum maildrop_status maildrop_content_end(struct maildrop_content *c);
#endif
