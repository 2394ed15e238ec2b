/* imap_parse - the IMAP command reader: a resumable byte machine.
 * Trusts: nothing; every octet comes from the network.
 * Gives:  see imap_parse.h. One state per position in the grammar; every
 *         octet moves the machine by itself, so any split of the input
 *         gives the same events. APPEND's message literal (a literal at
 *         the top level after the mailbox of an APPEND) is streamed.
 * Limits: IMAP_CMD_MAX octets of command text (arena and line), the
 *         token and depth limits of imap_parse.h; literal sizes at most
 *         20 digits.
 * Memory: arena and token list grow on demand (doubling, up to the
 *         limits) and are cut back to their starting size when the next
 *         command begins; a moved arena has its tokens' pointers rebased.
 * Never:  does I/O, or writes past its arena. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_parse.h"

enum pstate {
	S_TAG,		/* at a command's first octet, or in its tag */
	S_NAME,		/* in the command name */
	S_ARGS,		/* between tokens */
	S_ATOM,		/* in an atom */
	S_QUOTED,	/* in a quoted string */
	S_QUOTED_ESC,	/* after '\' in a quoted string */
	S_LITNUM,	/* after '{': digits, then '+'? then '}' */
	S_LITPLUS,	/* after "{N+": '}' */
	S_LITCR,	/* after '}': CR or LF */
	S_LITLF,	/* after "}\r": LF */
	S_LITBEGIN,	/* stream: CONTINUE given, LITERAL_BEGIN next */
	S_STREAM,	/* stream: octets as LITERAL_DATA, then END */
	S_COLLECT,	/* a small literal's octets into the arena */
	S_EOL,		/* after CR: LF ends the command */
	S_SKIPLIT,	/* dropping a literal's octets */
	S_SKIPLINE,	/* dropping the rest of a line */
};

/* Why IMAP_CMD_MAX also bounds the line: spaces take no arena room, yet
 * a client could send an endless line of them. */

#define ARENA_MAX	(IMAP_CMD_MAX + 1)	/* the text and its last NUL */

/* Move the arena to a block of cap octets, keeping its text (and the
 * tokens pointing into it). The old block is wiped: it may hold a
 * LOGIN password. */
static void
arena_move(struct imap_parser *p, size_t cap)
{
	char *a = xreallocarray(NULL, cap, 1);
	size_t k;

	if (p->arena_len > 0)
		memcpy(a, p->arena, p->arena_len);
	for (k = 0; k < p->cmd.nargs; k++)
		p->cmd.args[k].s = a + (p->cmd.args[k].s - p->arena);
	if (p->arena != NULL) {
		explicit_bzero(p->arena, p->arena_cap);
		free(p->arena);
	}
	p->arena = a;
	p->arena_cap = cap;
}

/* Back to the small arena and token list between commands: a command
 * that needed 64 KiB does not make every later idle moment cost it. */
static void
shrink(struct imap_parser *p)
{
	if (p->arena_cap > IMAP_ARENA_START)
		arena_move(p, IMAP_ARENA_START);
	if (p->args_cap > IMAP_ARGS_START) {
		p->cmd.args = xreallocarray(p->cmd.args, IMAP_ARGS_START,
		    sizeof(*p->cmd.args));
		p->args_cap = IMAP_ARGS_START;
	}
}

static void
reset_cmd(struct imap_parser *p)
{
	p->cmd.nargs = 0;
	p->arena_len = 0;
	shrink(p);
	p->cmd.tag[0] = '\0';
	p->cmd.name[0] = '\0';
	p->tok_start = 0;
	p->depth = 0;
	p->top_args = 0;
	p->line_octets = 0;
	p->lit_plus = 0;
	p->lit_stream = 0;
	p->in_bracket = 0;
	p->ndigits = 0;
	p->need_reset = 0;
}

void
imap_parse_init(struct imap_parser *p, uint64_t max_literal)
{
	memset(&p->cmd, 0, sizeof(p->cmd));
	p->arena = NULL;
	p->arena_cap = 0;
	p->arena_len = 0;
	arena_move(p, IMAP_ARENA_START);
	p->cmd.args = xreallocarray(NULL, IMAP_ARGS_START, sizeof(*p->cmd.args));
	p->args_cap = IMAP_ARGS_START;
	p->literal_size = 0;
	p->data = NULL;
	p->data_len = 0;
	p->error = NULL;
	p->toobig = 0;
	p->max_literal = max_literal;
	p->state = S_TAG;
	p->skip_phase = 0;
	p->skip_num = 0;
	p->skip_ndigits = 0;
	p->lit_left = 0;	/* not in reset_cmd(): a skip outlives it */
	p->bad_after_skip = 0;
	reset_cmd(p);
}

void
imap_parse_free(struct imap_parser *p)
{
	if (p->arena != NULL) {
		explicit_bzero(p->arena, p->arena_cap);
		free(p->arena);
	}
	free(p->cmd.args);
	p->arena = NULL;
	p->arena_cap = 0;
	p->arena_len = 0;
	p->cmd.args = NULL;
	p->cmd.nargs = 0;
	p->args_cap = 0;
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* ATOM-CHAR of RFC 9051 (no atom-specials), 7-bit. */
static int
is_atom_char(unsigned char c)
{
	if (c >= 0x80 || is_ctl(c))
		return 0;
	return strchr("(){ %*\"\\]", c) == NULL;
}

/* An atom as this reader takes it: ATOM-CHAR plus '*' and '%' (sequence
 * sets, LIST patterns) and ']' (astring). '\' and '[' are handled apart. */
static int
is_arg_atom_char(unsigned char c)
{
	return is_atom_char(c) || c == '*' || c == '%' || c == ']';
}

/* A syntax error. at_eol: the octet that showed it ended the line, so
 * the next octet starts a command; else the rest of the line goes. */
static enum imap_event
bad(struct imap_parser *p, const char *why, int toobig, int at_eol)
{
	if (p->cmd.tag[0] == '\0') {
		p->cmd.tag[0] = '*';
		p->cmd.tag[1] = '\0';
	}
	p->error = why;
	p->toobig = toobig;
	p->need_reset = 1;
	p->skip_phase = 0;
	p->state = at_eol ? S_TAG : S_SKIPLINE;
	return IMAP_EV_BAD;
}

/* Room for n more octets (and the NUL) in the arena, grown when the
 * limit allows: 1, or 0 when the command would be too long. */
static int
arena_room(struct imap_parser *p, size_t n)
{
	size_t cap;

	if (n >= ARENA_MAX - p->arena_len)
		return 0;
	if (n < p->arena_cap - p->arena_len)
		return 1;
	cap = p->arena_cap;
	while (cap - p->arena_len <= n)
		cap = cap > ARENA_MAX / 2 ? ARENA_MAX : cap * 2;
	arena_move(p, cap);
	return 1;
}

static void
tok_begin(struct imap_parser *p)
{
	p->tok_start = p->arena_len;
}

/* Close the token started by tok_begin(): 0, or -1 when too many. */
static int
tok_end(struct imap_parser *p, enum imap_token type, int literal)
{
	struct imap_arg *a;
	size_t len = p->arena_len - p->tok_start;

	if (p->cmd.nargs >= IMAP_ARGS_MAX)
		return -1;
	if (p->cmd.nargs == p->args_cap) {
		size_t cap = p->args_cap * 2;

		if (cap > IMAP_ARGS_MAX)
			cap = IMAP_ARGS_MAX;
		p->cmd.args = xreallocarray(p->cmd.args, cap,
		    sizeof(*p->cmd.args));
		p->args_cap = cap;
	}
	p->arena[p->arena_len++] = '\0';	/* room kept by arena_room */
	a = &p->cmd.args[p->cmd.nargs++];
	a->s = p->arena + p->tok_start;
	a->len = len;
	a->depth = p->depth;
	a->literal = literal;
	if (type == IMAP_TOK_ATOM && len == 3 &&
	    (a->s[0] | 0x20) == 'n' && (a->s[1] | 0x20) == 'i' &&
	    (a->s[2] | 0x20) == 'l')
		type = IMAP_TOK_NIL;
	a->type = type;
	if (p->depth == 0 && type != IMAP_TOK_LIST_CLOSE)
		p->top_args++;
	return 0;
}

/* A token of its own ("(" / ")" or a streamed literal's stand-in). */
static int
tok_mark(struct imap_parser *p, enum imap_token type, const char *text,
    int literal)
{
	size_t n = strlen(text);

	if (!arena_room(p, n))
		return -1;
	tok_begin(p);
	memcpy(p->arena + p->arena_len, text, n);
	p->arena_len += n;
	return tok_end(p, type, literal);
}

/* The command is whole (its LF was the last octet). */
static enum imap_event
line_end(struct imap_parser *p)
{
	if (p->depth != 0)
		return bad(p, "unbalanced parentheses", 0, 1);
	p->need_reset = 1;
	p->state = S_TAG;
	return IMAP_EV_COMMAND;
}

/* The literal header "{N}\r\n" / "{N+}\r\n" is complete. */
static enum imap_event
literal_header(struct imap_parser *p)
{
	uint64_t n = p->lit_left;
	int stream = strcmp(p->cmd.name, "APPEND") == 0 && p->depth == 0 &&
	    p->top_args >= 1;
	uint64_t max = stream ? p->max_literal : IMAP_LITERAL_SMALL;

	p->lit_stream = stream;
	p->literal_size = n;
	if (n > max || (!stream && !arena_room(p, (size_t)n))) {
		if (!p->lit_plus)	/* the client waits: it sends nothing */
			return bad(p, "literal too big", 1, 1);
		p->bad_after_skip = 1;
		p->state = S_SKIPLIT;
		if (n == 0)
			return bad(p, "literal too big", 1, 0);
		return IMAP_EV_NONE;
	}
	if (stream) {
		if (p->lit_plus) {
			p->state = S_STREAM;
			return IMAP_EV_LITERAL_BEGIN;
		}
		p->state = S_LITBEGIN;
		return IMAP_EV_CONTINUE;
	}
	tok_begin(p);
	p->state = S_COLLECT;
	if (!p->lit_plus)	/* even for {0}: the client waits */
		return IMAP_EV_CONTINUE;
	if (n == 0) {
		p->state = S_ARGS;
		if (tok_end(p, IMAP_TOK_STRING, 1) == -1)
			return bad(p, "too many arguments", 1, 0);
	}
	return IMAP_EV_NONE;
}

/* In a skipped line, watch for "{N+}" right before its LF: those octets
 * are the client's and must be skipped too. 1 when a literal follows. */
static int
skip_watch(struct imap_parser *p, unsigned char c)
{
	if (c == '{') {
		p->skip_phase = 1;
		p->skip_num = 0;
		p->skip_ndigits = 0;
	} else if (p->skip_phase == 1 && c >= '0' && c <= '9' &&
	    p->skip_ndigits < 19) {
		p->skip_num = p->skip_num * 10 + (uint64_t)(c - '0');
		p->skip_ndigits++;
	} else if (p->skip_phase == 1 && c == '+' && p->skip_ndigits > 0) {
		p->skip_phase = 2;
	} else if (p->skip_phase == 2 && c == '}') {
		p->skip_phase = 3;
	} else if (p->skip_phase == 3 && c == '\r') {
		p->skip_phase = 4;
	} else if ((p->skip_phase == 3 || p->skip_phase == 4) && c == '\n') {
		p->skip_phase = 0;
		return 1;
	} else
		p->skip_phase = 0;
	return 0;
}

static enum imap_event	step(struct imap_parser *, unsigned char);

static enum imap_event
atom_octet(struct imap_parser *p, unsigned char c)
{
	if (!arena_room(p, 1))
		return bad(p, "command too long", 1, 0);
	p->arena[p->arena_len++] = (char)c;
	return IMAP_EV_NONE;
}

/* An octet in an atom: '\' only first (a flag), "[...]" may hold any
 * printable text, spaces and parentheses included. */
static enum imap_event
step_atom(struct imap_parser *p, unsigned char c)
{
	if (p->in_bracket) {
		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			return bad(p, "invalid character in atom", 0,
			    c == '\n');
		if (c == '[')
			return bad(p, "nested brackets in atom", 0, 0);
		if (c == ']')
			p->in_bracket = 0;
		return atom_octet(p, c);
	}
	if (c == '[') {
		p->in_bracket = 1;
		return atom_octet(p, c);
	}
	if (c == '\\') {
		if (p->arena_len != p->tok_start)
			return bad(p, "invalid character in atom", 0, 0);
		return atom_octet(p, c);
	}
	if (is_arg_atom_char(c))
		return atom_octet(p, c);
	if (c != ' ' && c != ')' && c != '\r' && c != '\n')
		return bad(p, "invalid character in atom", 0, 0);
	if (tok_end(p, IMAP_TOK_ATOM, 0) == -1)
		return bad(p, "too many arguments", 1, c == '\n');
	p->state = S_ARGS;
	if (c == ' ')
		return IMAP_EV_NONE;
	p->line_octets--;	/* step() counts this octet again */
	return step(p, c);
}

/* One octet of command text. */
static enum imap_event
step(struct imap_parser *p, unsigned char c)
{
	if (++p->line_octets > IMAP_CMD_MAX)
		return bad(p, "command too long", 1, c == '\n');

	switch (p->state) {
	case S_TAG:
		if (p->cmd.tag[0] == '\0' && (c == '\r' || c == '\n')) {
			if (c == '\r')
				p->state = S_EOL;	/* an empty line */
			p->line_octets = 0;
			return IMAP_EV_NONE;
		}
		if (c == ' ') {
			if (p->cmd.tag[0] == '\0')
				return bad(p, "missing tag", 0, 0);
			p->state = S_NAME;
			return IMAP_EV_NONE;
		}
		if (c == '\r' || c == '\n')
			return bad(p, "missing command", 0, c == '\n');
		if (c == '+' || !(is_atom_char(c) || c == ']')) {
			p->cmd.tag[0] = '\0';	/* not a tag to answer */
			return bad(p, "invalid tag", 0, 0);
		}
		{
			size_t n = strlen(p->cmd.tag);

			if (n >= IMAP_TAG_MAX)
				return bad(p, "tag too long", 1, 0);
			p->cmd.tag[n] = (char)c;
			p->cmd.tag[n + 1] = '\0';
		}
		return IMAP_EV_NONE;

	case S_NAME: {
		size_t n = strlen(p->cmd.name);

		if (c == ' ' || c == '\r' || c == '\n') {
			if (n == 0)
				return bad(p, "missing command", 0,
				    c == '\n');
			if (c == ' ')
				p->state = S_ARGS;
			else if (c == '\r')
				p->state = S_EOL;
			else
				return line_end(p);
			return IMAP_EV_NONE;
		}
		if (!is_atom_char(c))
			return bad(p, "invalid command name", 0, 0);
		if (n + 1 >= sizeof(p->cmd.name))
			return bad(p, "command name too long", 0, 0);
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		p->cmd.name[n] = (char)c;
		p->cmd.name[n + 1] = '\0';
		return IMAP_EV_NONE;
	}

	case S_EOL:
		if (c != '\n')
			return bad(p, "CR without LF", 0, 0);
		if (p->cmd.tag[0] == '\0') {	/* the empty line */
			p->state = S_TAG;
			p->line_octets = 0;
			return IMAP_EV_NONE;
		}
		return line_end(p);

	case S_ARGS:
		switch (c) {
		case ' ':
			return IMAP_EV_NONE;
		case '\r':
			p->state = S_EOL;
			return IMAP_EV_NONE;
		case '\n':
			return line_end(p);
		case '(':
			if (p->depth >= IMAP_DEPTH_MAX)
				return bad(p, "lists nested too deep", 1, 0);
			if (tok_mark(p, IMAP_TOK_LIST_OPEN, "(", 0) == -1)
				return bad(p, "too many arguments", 1, 0);
			p->depth++;
			return IMAP_EV_NONE;
		case ')':
			if (p->depth == 0)
				return bad(p, "unbalanced parentheses", 0, 0);
			p->depth--;
			if (tok_mark(p, IMAP_TOK_LIST_CLOSE, ")", 0) == -1)
				return bad(p, "too many arguments", 1, 0);
			return IMAP_EV_NONE;
		case '"':
			tok_begin(p);
			p->state = S_QUOTED;
			return IMAP_EV_NONE;
		case '{':
			p->lit_left = 0;
			p->ndigits = 0;
			p->lit_plus = 0;
			p->state = S_LITNUM;
			return IMAP_EV_NONE;
		default:
			if (c != '\\' && c != '[' && !is_arg_atom_char(c))
				return bad(p, "invalid character", 0, 0);
			tok_begin(p);
			p->in_bracket = 0;
			p->state = S_ATOM;
			return step_atom(p, c);
		}

	case S_ATOM:
		return step_atom(p, c);

	case S_QUOTED:
		if (c == '"') {
			p->state = S_ARGS;
			if (tok_end(p, IMAP_TOK_STRING, 0) == -1)
				return bad(p, "too many arguments", 1, 0);
			return IMAP_EV_NONE;
		}
		if (c == '\\') {
			p->state = S_QUOTED_ESC;
			return IMAP_EV_NONE;
		}
		if (c == '\r' || c == '\n' || c == '\0')
			return bad(p, "invalid character in quoted string",
			    0, c == '\n');
		goto quoted_octet;

	case S_QUOTED_ESC:
		if (c != '"' && c != '\\')
			return bad(p, "invalid escape in quoted string", 0,
			    c == '\n');
		p->state = S_QUOTED;
	quoted_octet:
		if (!arena_room(p, 1))
			return bad(p, "command too long", 1, 0);
		p->arena[p->arena_len++] = (char)c;
		return IMAP_EV_NONE;

	case S_LITNUM:
		if (c >= '0' && c <= '9') {
			uint64_t d = (uint64_t)(c - '0');

			if (++p->ndigits > 20 ||
			    p->lit_left > (UINT64_MAX - d) / 10)
				return bad(p, "literal size too big", 1, 0);
			p->lit_left = p->lit_left * 10 + d;
			return IMAP_EV_NONE;
		}
		if (p->ndigits == 0)
			return bad(p, "invalid literal", 0, c == '\n');
		if (c == '+') {
			p->lit_plus = 1;
			p->state = S_LITPLUS;
			return IMAP_EV_NONE;
		}
		/* FALLTHROUGH */
	case S_LITPLUS:
		if (c != '}')
			return bad(p, "invalid literal", 0, c == '\n');
		p->state = S_LITCR;
		return IMAP_EV_NONE;

	case S_LITCR:
		if (c == '\r') {
			p->state = S_LITLF;
			return IMAP_EV_NONE;
		}
		if (c != '\n')
			return bad(p, "literal not at end of line", 0, 0);
		return literal_header(p);

	case S_LITLF:
		if (c != '\n')
			return bad(p, "CR without LF", 0, 0);
		return literal_header(p);

	default:	/* the octet states are handled by the caller */
		return bad(p, "internal error", 0, 0);
	}
}

size_t
imap_parse_feed(struct imap_parser *p, const char *in, size_t len,
    enum imap_event *ev)
{
	size_t i = 0, n;

	*ev = IMAP_EV_NONE;
	p->data = NULL;
	p->data_len = 0;
	if (p->need_reset)
		reset_cmd(p);
	for (;;) {
		/* States with an event to give before any octet. */
		if (p->state == S_LITBEGIN) {
			p->state = S_STREAM;
			*ev = IMAP_EV_LITERAL_BEGIN;
			return i;
		}
		if (p->state == S_STREAM && p->lit_left == 0) {
			p->state = S_ARGS;
			if (tok_mark(p, IMAP_TOK_STRING, "", 1) == -1)
				*ev = bad(p, "too many arguments", 1, 0);
			else
				*ev = IMAP_EV_LITERAL_END;
			return i;
		}
		if (i == len)
			return i;
		switch (p->state) {
		case S_STREAM:
			n = len - i;
			if (n > p->lit_left)
				n = (size_t)p->lit_left;
			p->data = in + i;
			p->data_len = n;
			p->lit_left -= n;
			*ev = IMAP_EV_LITERAL_DATA;
			return i + n;
		case S_COLLECT:
			n = len - i;
			if (n > p->lit_left)
				n = (size_t)p->lit_left;
			memcpy(p->arena + p->arena_len, in + i, n);
			p->arena_len += n;	/* room checked at its header */
			p->lit_left -= n;
			i += n;
			if (p->lit_left == 0) {
				p->state = S_ARGS;
				if (tok_end(p, IMAP_TOK_STRING, 1) == -1) {
					*ev = bad(p, "too many arguments", 1,
					    0);
					return i;
				}
			}
			continue;
		case S_SKIPLIT:
			n = len - i;
			if (n > p->lit_left)
				n = (size_t)p->lit_left;
			p->lit_left -= n;
			i += n;
			if (p->lit_left == 0) {
				p->state = S_SKIPLINE;
				p->skip_phase = 0;
				if (p->bad_after_skip) {
					p->bad_after_skip = 0;
					*ev = bad(p, "literal too big", 1, 0);
					return i;
				}
			}
			continue;
		case S_SKIPLINE: {
			unsigned char c = (unsigned char)in[i++];

			if (skip_watch(p, c)) {
				p->lit_left = p->skip_num;
				p->state = S_SKIPLIT;
			} else if (c == '\n')
				p->state = S_TAG;
			continue;
		}
		default:
			*ev = step(p, (unsigned char)in[i++]);
			if (*ev != IMAP_EV_NONE)
				return i;
			continue;
		}
	}
}

void
imap_parse_reject_literal(struct imap_parser *p)
{
	p->need_reset = 1;
	if (p->lit_plus && p->lit_left > 0 && (p->state == S_LITBEGIN ||
	    p->state == S_STREAM || p->state == S_COLLECT)) {
		p->bad_after_skip = 0;
		p->state = S_SKIPLIT;	/* the client sends them anyway */
		return;
	}
	if (p->state == S_LITBEGIN || p->state == S_COLLECT) {
		if (!p->lit_plus) {	/* no "+" was sent: nothing comes */
			p->state = S_TAG;
			return;
		}
	}
	if (p->state == S_STREAM && p->lit_left > 0) {
		p->bad_after_skip = 0;
		p->state = S_SKIPLIT;
		return;
	}
	p->skip_phase = 0;
	p->state = S_SKIPLINE;
}

/* ---- sequence sets ---- */

/* One seq-number at s[*i]: nz-number or "*". */
static int
seq_number(const char *s, size_t len, size_t *i, uint32_t *out)
{
	uint64_t v = 0;
	size_t start = *i;

	if (*i < len && s[*i] == '*') {
		(*i)++;
		*out = IMAP_SEQ_STAR;
		return 0;
	}
	if (*i >= len || s[*i] < '1' || s[*i] > '9')
		return -1;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (uint64_t)(s[*i] - '0');
		if (v >= IMAP_SEQ_STAR || *i - start >= 10)
			return -1;	/* UINT32_MAX is "*" here */
		(*i)++;
	}
	*out = (uint32_t)v;
	return 0;
}

int
imap_seqset_parse(const char *s, size_t len, struct imap_seqset *set)
{
	size_t i = 0;
	uint32_t a, b;

	set->n = 0;
	set->saved = 0;
	for (;;) {
		if (seq_number(s, len, &i, &a) == -1)
			return -1;
		b = a;
		if (i < len && s[i] == ':') {
			i++;
			if (seq_number(s, len, &i, &b) == -1)
				return -1;
		}
		if (set->n >= IMAP_SEQ_RANGES_MAX)
			return -1;
		set->r[set->n].lo = a < b ? a : b;
		set->r[set->n].hi = a < b ? b : a;
		set->n++;
		if (i == len)
			return 0;
		if (s[i] != ',')
			return -1;
		i++;
	}
}

int
imap_seqset_contains(const struct imap_seqset *set, uint32_t n, uint32_t max)
{
	size_t k;

	for (k = 0; k < set->n; k++) {
		uint32_t lo = set->r[k].lo, hi = set->r[k].hi, t;

		if (lo == IMAP_SEQ_STAR)
			lo = max;
		if (hi == IMAP_SEQ_STAR)
			hi = max;
		if (lo > hi) {
			t = lo;
			lo = hi;
			hi = t;
		}
		if (n >= lo && n <= hi)
			return 1;
	}
	return 0;
}

/* ---- output ---- */

#define IMAP_QUOTED_MAX	1024	/* longer strings go as literals: easier
				 * on clients' line buffers */

static int
put(struct buf *out, const char *s, size_t len, int atom_ok)
{
	size_t i;
	int atom = atom_ok && len > 0, quotable = len < IMAP_QUOTED_MAX;
	size_t mark = out->len;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_atom_char(c) || c == '[')	/* '[' opens a section */
			atom = 0;
		if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			quotable = 0;
	}
	if (atom && len == 3 && (s[0] | 0x20) == 'n' &&
	    (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'l')
		atom = 0;	/* would read as NIL */
	if (atom)
		return buf_append(out, s, len);
	if (quotable) {
		if (buf_appendc(out, '"') == -1)
			return -1;
		for (i = 0; i < len; i++) {
			if ((s[i] == '"' || s[i] == '\\') &&
			    buf_appendc(out, '\\') == -1)
				goto full;
			if (buf_appendc(out, s[i]) == -1)
				goto full;
		}
		if (buf_appendc(out, '"') == -1)
			goto full;
		return 0;
	}
	if (buf_printf(out, "{%zu}\r\n", len) == -1 ||
	    buf_append(out, s, len) == -1)
		goto full;
	return 0;
full:
	out->len = mark;	/* nothing half-written */
	if (out->data != NULL)
		out->data[mark] = '\0';
	return -1;
}

int
imap_put_string(struct buf *out, const char *s, size_t len)
{
	return put(out, s, len, 1);
}

int
imap_put_nstring(struct buf *out, const char *s, size_t len)
{
	if (s == NULL)
		return buf_append(out, "NIL", 3);
	return put(out, s, len, 0);
}
