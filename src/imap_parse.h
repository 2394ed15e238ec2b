/* imap_parse - the IMAP4rev2/rev1 command reader (RFC 9051 section 9
 *              grammar, LITERAL+/LITERAL- of RFC 7888) as a resumable,
 *              bounded byte machine: bytes in, events out.
 * Trusts: nothing; every octet comes from the network.
 * Gives:  - imap_parse_feed(): consumes client bytes and reports one
 *           event at a time (see enum imap_event). A command is handed out
 *           whole as a flat token list (struct imap_cmd) once its final
 *           CRLF arrives; a synchronizing literal ({N}) asks the caller to
 *           send "+ ..." first (IMAP_EV_CONTINUE); the message literal of
 *           APPEND is not buffered but streamed out in pieces
 *           (IMAP_EV_LITERAL_BEGIN / _DATA / _END), so a 50 MB APPEND costs
 *           no memory.
 *         - A syntax error gives IMAP_EV_BAD with the tag when one was
 *           read (else "*"); the reader has then skipped to the end of the
 *           command (the rest of the line, and the octets of any literal
 *           the client already announced as non-synchronizing), so the
 *           next command parses cleanly: the session stays intact.
 *         - Token lists: atoms, strings (quoted or literal, unescaped),
 *           NIL, and list brackets as tokens of their own, each with its
 *           depth. "BODY[HEADER.FIELDS (A B)]<0.10>" is one atom (the
 *           bracketed part of an atom may hold spaces and parentheses).
 *         - Which literal is streamed: in an APPEND, any literal at the
 *           top level after the mailbox (so the message, and each message
 *           of MULTIAPPEND; a date sent as a literal would be streamed
 *           too). Every other literal is a STRING token.
 *         - Leniencies: a bare LF ends a line like CRLF; empty lines are
 *           ignored; runs of spaces between tokens are one separator.
 *           Quoted strings may hold 8-bit octets (UTF-8 of IMAP4rev2).
 *         - Sequence sets ("1:3,5,7:*") parsed and tested; 4294967295
 *           is refused as a number (it stands for "*" in struct
 *           imap_seqset).
 * Limits: IMAP_CMD_MAX octets of command text (tokens, small literals
 *         included); IMAP_ARGS_MAX tokens; IMAP_DEPTH_MAX nested lists;
 *         literals other than APPEND's message at most IMAP_LITERAL_SMALL
 *         octets; APPEND's message literal at most the max_literal given
 *         at init (max_message_size).
 * Memory: the arena and the token list start small (IMAP_ARENA_START
 *         octets, IMAP_ARGS_START tokens) and grow, by doubling, only as a
 *         command needs, up to the limits; the next command starts small
 *         again, so an idle session's reader costs a few KiB.
 * Never:  does I/O, or grows past its limits. */
#ifndef POSTERN_IMAP_PARSE_H
#define POSTERN_IMAP_PARSE_H
#include <stddef.h>
#include <stdint.h>

#define IMAP_CMD_MAX		65536	/* command text: long UID sets from
					 * real clients fit many times over */
#define IMAP_ARGS_MAX		1024	/* tokens in one command */
#define IMAP_DEPTH_MAX		16	/* nested parenthesised lists */
#define IMAP_LITERAL_SMALL	65536	/* literal other than APPEND's message */
#define IMAP_TAG_MAX		64
#define IMAP_ARENA_START	1024	/* command text kept between commands:
					 * FETCH/STORE/SELECT lines fit */
#define IMAP_ARGS_START		32	/* tokens kept between commands */

enum imap_token {
	IMAP_TOK_ATOM = 1,	/* incl. flags (\Seen), seq sets, BODY[...]<..> */
	IMAP_TOK_STRING,	/* quoted or literal, unescaped; may hold NUL
				 * only when it came as a literal */
	IMAP_TOK_NIL,		/* the atom NIL (case-insensitive) */
	IMAP_TOK_LIST_OPEN,	/* "(" */
	IMAP_TOK_LIST_CLOSE,	/* ")" */
};

struct imap_arg {
	enum imap_token	 type;
	const char	*s;	/* into the parser's arena, NUL-terminated;
				 * the arena may move while the command is
				 * read (s is kept right), so keep no copy
				 * of s across imap_parse_feed() calls */
	size_t		 len;
	unsigned	 depth;	/* 0 at top level; a LIST_OPEN has the depth
				 * of its surroundings, its members one more */
	int		 literal;	/* came as a literal */
};

struct imap_cmd {
	char		 tag[IMAP_TAG_MAX + 1];
	char		 name[32];	/* command name, upper-cased ("UID FETCH"
					 * is name "UID" and args[0] "FETCH") */
	struct imap_arg	*args;		/* nargs of them (at most
					 * IMAP_ARGS_MAX), owned by the parser */
	size_t		 nargs;
};

enum imap_event {
	IMAP_EV_NONE = 0,	/* nothing yet: feed more bytes */
	IMAP_EV_COMMAND,	/* p->cmd holds a whole command */
	IMAP_EV_CONTINUE,	/* a synchronizing literal: send "+ Ready"
				 * (after any untagged data), then feed on */
	IMAP_EV_LITERAL_BEGIN,	/* APPEND's message literal starts:
				 * p->literal_size octets; p->cmd holds the
				 * tokens so far (tag, name, mailbox, flags,
				 * date). A synchronizing one already had its
				 * IMAP_EV_CONTINUE. */
	IMAP_EV_LITERAL_DATA,	/* p->data / p->data_len: the next octets */
	IMAP_EV_LITERAL_END,	/* all octets given; the command goes on
				 * (MULTIAPPEND: another message may follow,
				 * with another BEGIN) and ends with
				 * IMAP_EV_COMMAND, whose args include the
				 * streamed literal as a STRING token of
				 * len 0 with literal = 1 */
	IMAP_EV_BAD,		/* syntax error: p->cmd.tag ("*" if none),
				 * p->error (a short text for "BAD ..."),
				 * p->toobig when a limit was hit ([TOOBIG]) */
};

struct imap_parser;	/* opaque state lives in the struct below */

struct imap_parser {
	/* results */
	struct imap_cmd	 cmd;
	uint64_t	 literal_size;	/* IMAP_EV_LITERAL_BEGIN */
	const char	*data;		/* IMAP_EV_LITERAL_DATA */
	size_t		 data_len;
	const char	*error;		/* IMAP_EV_BAD, static text */
	int		 toobig;
	/* state (private to imap_parse.c) */
	uint64_t	 max_literal;
	int		 state;		/* enum pstate in imap_parse.c */
	int		 need_reset;	/* last event ended a command */
	unsigned	 depth;		/* open lists */
	size_t		 top_args;	/* tokens at depth 0 */
	uint64_t	 lit_left;	/* octets of the current literal */
	int		 lit_plus;	/* the current literal is non-synchronizing */
	int		 lit_stream;	/* ... and is APPEND's message */
	int		 bad_after_skip;	/* give IMAP_EV_BAD once skipped */
	size_t		 line_octets;	/* command text so far, literals excluded */
	size_t		 arena_len;
	size_t		 arena_cap;	/* octets allocated at arena */
	size_t		 args_cap;	/* tokens allocated at cmd.args */
	size_t		 tok_start;	/* current token's first octet in arena */
	int		 in_bracket;	/* atom: inside "[...]" */
	unsigned	 ndigits;
	int		 skip_phase;	/* skipping a line: "{N+}" at its end? */
	uint64_t	 skip_num;
	unsigned	 skip_ndigits;
	char		*arena;		/* command text, at most IMAP_CMD_MAX + 1 */
};

/* Ready for the first command; max_literal: the largest APPEND message.
 * Allocates the small arena and token list: imap_parse_free() gives them
 * back (call it before initialising p again). */
void	imap_parse_init(struct imap_parser *p, uint64_t max_literal);
/* Release what init and the commands allocated; harmless on a zeroed or
 * already freed parser. */
void	imap_parse_free(struct imap_parser *p);
/* Consume from in[0..len) up to and including the octet that completes
 * the next event; *ev gets it (IMAP_EV_NONE when all input was consumed
 * without one). Returns octets consumed. Data of IMAP_EV_LITERAL_DATA
 * points into `in` and is valid until the next call. After
 * IMAP_EV_COMMAND or IMAP_EV_BAD the command's tokens stay valid until
 * the next call. */
size_t	imap_parse_feed(struct imap_parser *p, const char *in, size_t len,
	    enum imap_event *ev);
/* The caller refuses the literal announced by IMAP_EV_CONTINUE (too big
 * for this command, or the command is refused anyway): it answers NO/BAD
 * itself, and the parser drops the rest of that command. For a
 * non-synchronizing literal the octets are skipped. */
void	imap_parse_reject_literal(struct imap_parser *p);

/* ---- sequence sets (RFC 9051 "sequence-set") ---- */
#define IMAP_SEQ_RANGES_MAX	1024
#define IMAP_SEQ_STAR		UINT32_MAX	/* "*": the largest in use */
struct imap_seqset {
	struct { uint32_t lo, hi; } r[IMAP_SEQ_RANGES_MAX];	/* lo <= hi */
	size_t	n;
	int	saved;	/* "$" (SEARCHRES): not supported, always 0 */
};
/* 0, or -1 if s is not a sequence set (0 is never valid). */
int	imap_seqset_parse(const char *s, size_t len, struct imap_seqset *set);
/* Whether n is in the set, "*" standing for max (the highest seq or UID
 * in the mailbox; a range "x:*" includes max even when x > max). */
int	imap_seqset_contains(const struct imap_seqset *set, uint32_t n,
	    uint32_t max);

/* ---- output helpers ---- */
struct buf;
/* Append s as an IMAP astring-safe string: an atom when it is one (not
 * "NIL", no '[' or '*'/'%'), else quoted when it can be (no CR, LF, NUL
 * or 8-bit octet, under 1024 octets; "" when empty), else a literal
 * "{n}\r\n...". -1 when out is full (then nothing was appended). */
int	imap_put_string(struct buf *out, const char *s, size_t len);
/* NIL for s == NULL, else imap_put_string (never an atom: nstring). */
int	imap_put_nstring(struct buf *out, const char *s, size_t len);
#endif
