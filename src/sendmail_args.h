/* sendmail_args - the pure parts of `postern sendmail`: the command line,
 *                 the message on stdin (line ends, the lone "." line),
 *                 address lists in arguments and headers, and the header
 *                 fields added or removed before the message is dropped.
 * Trusts: nothing; the caller is any local user or program (cron, PHP).
 * Gives:  parsed options; the message with CRLF line ends; the -t
 *         recipients; the final message with From:, Date:, Message-ID:
 *         added when missing and Bcc: removed.
 * Limits: message bytes capped by the caller (max_message_size); lines
 *         longer than SENDMAIL_LINE_MAX bytes are split (as Postfix does);
 *         at most SENDMAIL_RCPTS_MAX recipients are collected.
 * Never:  does I/O, reads the clock or the environment, or exits;
 *         cmd_sendmail.c does all that. */
#ifndef POSTERN_SENDMAIL_ARGS_H
#define POSTERN_SENDMAIL_ARGS_H
#include <stddef.h>
#include "address.h"
#include "buf.h"

#define SENDMAIL_LINE_MAX	998	/* text bytes per line, CRLF excluded */
#define SENDMAIL_RCPTS_MAX	100000

enum sendmail_mode {
	SENDMAIL_MODE_DELIVER = 0,	/* -bm, the default */
	SENDMAIL_MODE_NEWALIASES,	/* -bi: nothing to rebuild; exit 0 */
};

struct sendmail_opts {
	enum sendmail_mode mode;
	int		extract;	/* -t */
	int		ignore_dots;	/* -i, -oi */
	int		verbose;	/* -v */
	const char	*sender;	/* -f / -r ADDR, NULL if not given */
	const char	*fullname;	/* -F NAME, NULL if not given */
	const char	*config;	/* -C FILE, NULL if not given */
	char * const	*rcpts;		/* the arguments after the options */
	size_t		nrcpts;
};

/* Parse sendmail's command line (argv[0] is the program name). Options
 * end at "--" or at the first argument that is not an option; clustered
 * flags ("-ti") and attached values ("-fADDR", "-oi", "-odi") work.
 * Accepted and ignored: -v (noted), -m -n -U -G, -oXXX (but -oi), -OXXX,
 * -odX, -oeX, -B -N -R -V -X -L -h -p -A with their value, -bm.
 * 0 on success; -1 for a usage error with a message in err. */
int	sendmail_args_parse(int argc, char * const *argv,
	    struct sendmail_opts *o, char *err, size_t errlen);

/* The message on stdin, normalised as it arrives: LF, CRLF and a CR not
 * followed by LF all end a line; lines are stored with CRLF; without
 * ignore_dots a line "." alone ends the input (and is not stored); a line
 * longer than SENDMAIL_LINE_MAX is split there (CRLF inserted). */
struct sendmail_input {
	struct buf	out;		/* the message, CRLF, capped */
	int		ignore_dots;
	size_t		linelen;	/* text bytes of the current line */
	int		cr;		/* a CR is waiting for its LF */
	int		split;		/* the current line continues a split one */
	int		dot;		/* the current line is "." so far */
	int		done;		/* the "." line was seen */
	int		nul;		/* a NUL byte was seen (refused) */
	int		too_big;	/* more than max bytes */
};

void	sendmail_input_init(struct sendmail_input *in, int ignore_dots,
	    size_t max);
/* Feed bytes; returns 1 once the "." line ended the input (the rest of
 * the input is to be ignored), else 0. */
int	sendmail_input_feed(struct sendmail_input *in, const char *p, size_t n);
/* End of input: a last line without line end is completed. */
void	sendmail_input_end(struct sendmail_input *in);
void	sendmail_input_free(struct sendmail_input *in);

/* A list of addresses in normal form ("local@domain", "" never). */
struct sendmail_rcpts {
	char	**v;
	size_t	  n;
};
void	sendmail_rcpts_free(struct sendmail_rcpts *r);

/* Split an RFC 5322 address list ("A <a@b>, c@d (x), grp: e@f;") into
 * the addr-specs it names; a bare name without '@' ("alice", as cron and
 * sendmail users write) is qualified with "@" domain. Each is parsed with
 * address_parse_path() and must be maildrop_address_ok(); duplicates are
 * dropped. Returns 0; -1 with the offending text in err for a malformed
 * list, a bad address or a routing trick (user%host, bang path, source
 * route), or too many recipients. */
int	sendmail_addrlist_parse(const char *s, size_t n, const char *domain,
	    struct sendmail_rcpts *r, char *err, size_t errlen);

/* Qualify and parse one sender address ("" and "<>" are the null
 * sender). 0 with the normal form in out ("" for null), -1 if invalid. */
int	sendmail_sender_parse(const char *s, const char *domain, char *out,
	    size_t outlen);

/* What sendmail_compose adds and how. */
struct sendmail_compose_ctx {
	int		extract;	/* -t: collect To/Cc/Bcc recipients */
	const char	*domain;	/* qualifies bare names */
	const char	*from_header;	/* value for a missing From: */
	const char	*date;		/* value for a missing Date: */
	const char	*message_id;	/* value for a missing Message-ID: ("<x@y>") */
};

/* Build the final message from the normalised input msg (CRLF lines):
 * the input's header fields minus Bcc:, then From:, Date:, Message-ID:
 * for those missing, then the empty line and the body. The header section
 * ends at the first empty line or at the first line that is not a field
 * or a continuation (that line starts the body). With ctx->extract the
 * addresses of To:, Cc: and Bcc: are appended to rcpts.
 * 0; -1 with err set for a bad -t address or a full out buffer. */
int	sendmail_compose(const char *msg, size_t len,
	    const struct sendmail_compose_ctx *ctx, struct buf *out,
	    struct sendmail_rcpts *rcpts, char *err, size_t errlen);

/* A From: value for addr with display name name (may be NULL or ""):
 * "\"Name\" <addr>" with '"' and '\' escaped, or "<addr>" when the name is
 * empty or has bytes outside printable ASCII (no RFC 2047 here). */
int	sendmail_from_header(const char *name, const char *addr, char *out,
	    size_t outlen);
#endif
