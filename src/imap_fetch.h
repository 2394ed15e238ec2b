/* imap_fetch - FETCH and SEARCH of IMAP over one message at a time: parse
 *              the fetch attributes and search keys from imap_parse's
 *              tokens, produce a "* N FETCH (...)" response piecewise,
 *              decide whether a message matches a search program.
 * Trusts: nothing in the tokens (they come from the client) nor in the
 *         message bytes; the struct imap_msg metadata from imap_store.
 * Gives:  - imap_fetch_parse(): the attribute list of FETCH (macros ALL,
 *           FAST, FULL; FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODY,
 *           BODYSTRUCTURE, UID, BODY[...]<p.n>, BODY.PEEK[...]<p.n>,
 *           RFC822, RFC822.HEADER, RFC822.TEXT; BINARY* and MODSEQ are
 *           not offered), the modifier (CHANGEDSINCE n), or -1 and a
 *           reason for BAD. UID FETCH puts UID first. The response names
 *           a section "BODY[SPEC]" (spec upper-cased) and a partial by its
 *           origin only, "BODY[TEXT]<100>" (RFC 9051 7.5.2).
 *         - an iterator writing one message's response into a buf in
 *           bounded steps: literals are copied from the mapped message in
 *           chunks, never built whole.
 *         - imap_search_parse()/imap_search_match(): the common keys (ALL,
 *           ANSWERED, BCC, BEFORE, BODY, CC, DELETED, DRAFT, FLAGGED, FROM,
 *           HEADER, KEYWORD/UNKEYWORD (never/always match: no keywords),
 *           LARGER, NEW, NOT, OLD, ON, OR, SEEN, SENTBEFORE, SENTON,
 *           SENTSINCE, SINCE, SMALLER, SUBJECT, TEXT, TO, UID, UNANSWERED,
 *           UNDELETED, UNDRAFT, UNFLAGGED, UNSEEN, sequence sets,
 *           parenthesised groups), CHARSET UTF-8 / US-ASCII accepted,
 *           others refused ([BADCHARSET]); RETURN (MIN MAX ALL COUNT) of
 *           ESEARCH parsed for IMAP4rev2 (RETURN () is RETURN (ALL); SAVE
 *           is refused). BEFORE/ON/SINCE compare the internal date's UTC
 *           date; NEW is UNSEEN (no \Recent), OLD all, RECENT none.
 *         - imap_search_format(): the "* SEARCH ..." or "* ESEARCH ..."
 *           line of the result, ranges compressed ("1:3,9").
 * Limits: IMAP_SEARCH_NODES keys in a program, IMAP_SEARCH_SETS sequence
 *         sets in it, IMAP_SEARCH_DEPTH nested groups; IMAP_FETCH_ITEMS
 *         items; an ENVELOPE or BODYSTRUCTURE of at most IMAP_FETCH_TMP_MAX
 *         octets (a larger one is answered NIL). No mod-sequences are
 *         kept: MODSEQ is refused, CHANGEDSINCE is only parsed. SENT*
 *         compare the Date: field's instant as a UTC date.
 * Never:  does I/O: the caller maps the message and passes its octets
 *         (NULL, 0 when the items need none: imap_fetch_needs_body()).
 *         struct imap_search points into itself (node -> sets) and into
 *         the command's tokens: do not copy it, keep the command. */
#ifndef POSTERN_IMAP_FETCH_H
#define POSTERN_IMAP_FETCH_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"
#include "imap_mime.h"
#include "imap_parse.h"
#include "imap_store.h"

#define IMAP_FETCH_ITEMS	64
#define IMAP_SEARCH_NODES	256
#define IMAP_SEARCH_SETS	8	/* sequence/UID sets in one SEARCH:
					 * 8 KiB each; clients send one or two */
#define IMAP_SEARCH_DEPTH	32	/* nested ( ) and NOT/OR levels */
#define IMAP_FETCH_TMP_MAX	(8u << 20)	/* BODYSTRUCTURE of 4096 parts
					 * with long parameters fits */

enum imap_fetch_kind {
	IMAP_FA_UID = 1, IMAP_FA_FLAGS, IMAP_FA_INTERNALDATE, IMAP_FA_SIZE,
	IMAP_FA_ENVELOPE, IMAP_FA_BODY, IMAP_FA_BODYSTRUCTURE,
	IMAP_FA_SECTION,	/* BODY[...] / BODY.PEEK[...] / RFC822* */
	IMAP_FA_MODSEQ,
};

struct imap_fetch_item {
	enum imap_fetch_kind kind;
	int	 peek;			/* BODY.PEEK (RFC822.HEADER too) */
	char	 spec[256];		/* section text between [ ] */
	char	 label[300];		/* how the response names it:
					 * "BODY[HEADER]<0>", "RFC822" ... */
	int	 partial;		/* <origin.count> given */
	uint64_t origin, count;
};

struct imap_fetch_items {
	struct imap_fetch_item it[IMAP_FETCH_ITEMS];
	size_t	 n;
	int	 uid;			/* UID FETCH: UID always in the reply */
	uint64_t changedsince;		/* CHANGEDSINCE (CONDSTORE); 0 none */
};

/* args[0..nargs): the tokens after the sequence set. 0, or -1 with
 * *why_r a short static reason (BAD). */
int	imap_fetch_parse(const struct imap_arg *args, size_t nargs, int uid,
	    struct imap_fetch_items *items, const char **why_r);
/* Whether producing these items needs the message octets (anything past
 * UID, FLAGS, INTERNALDATE, RFC822.SIZE). */
int	imap_fetch_needs_body(const struct imap_fetch_items *items);
/* Whether the items set \Seen (a BODY[] / RFC822 / RFC822.TEXT that is
 * not PEEK) - the caller sets the flag before producing the response, so
 * FLAGS in it is already right, and adds FLAGS if it was not asked. */
int	imap_fetch_sets_seen(const struct imap_fetch_items *items);

struct imap_fetch_iter {
	const struct imap_fetch_items *items;
	const struct imap_msg	*msg;
	uint32_t		 seq;
	const char		*data;	/* the message, mapped */
	size_t			 len;
	int			 add_flags;	/* FLAGS added after \Seen was set */
	/* private */
	size_t			 item;
	int			 step;
	struct imap_spans	 spans;
	size_t			 span;
	uint64_t		 span_off;
	uint64_t		 left;
	uint64_t		 skip;
	size_t			 nitems;	/* items->n, + 1 for add_flags */
	int			 phase;
	struct buf		 tmp;	/* ENVELOPE / BODYSTRUCTURE text */
	size_t			 tmp_off;
};
void	imap_fetch_begin(struct imap_fetch_iter *it,
	    const struct imap_fetch_items *items, const struct imap_msg *msg,
	    uint32_t seq, const char *data, size_t len, int add_flags);
/* imap_fetch_begin keeps items, msg and data borrowed until the end; an
 * ENVELOPE or BODYSTRUCTURE is built in it->tmp (heap), freed when next
 * returns 0 or -1, or by imap_fetch_abort().
 * Append to out until it holds at least `until` octets or the response
 * ("* seq FETCH (...)\r\n") is complete. 1 more to come, 0 done, -1 out
 * is full (cannot happen when until + 16 KiB <= out->max). */
int	imap_fetch_next(struct imap_fetch_iter *it, struct buf *out,
	    size_t until);
/* Drop a response not produced to its end (0 or -1 from next already
 * did this; calling it again is harmless). */
void	imap_fetch_abort(struct imap_fetch_iter *it);

/* ---- SEARCH ---- */
struct imap_search {
	struct imap_search_node {
		int		 op;	/* private: key or combinator */
		int		 a, b;	/* children (node indices) */
		uint64_t	 num;
		time_t		 t;
		const char	*str;	/* into the tokens (valid while cmd is) */
		size_t		 slen;
		const char	*field;
		struct imap_seqset *set;
	} node[IMAP_SEARCH_NODES];
	size_t	 n;
	int	 root;
	int	 needs_body;	/* any key reads the message */
	int	 esearch;	/* RETURN (...) given: answer with ESEARCH */
	unsigned ret;		/* IMAP_SEARCH_RET_* */
	struct imap_seqset sets[IMAP_SEARCH_SETS];
	size_t	 nsets;
};
#define IMAP_SEARCH_RET_MIN	1
#define IMAP_SEARCH_RET_MAX	2
#define IMAP_SEARCH_RET_ALL	4
#define IMAP_SEARCH_RET_COUNT	8
/* args after SEARCH (or UID SEARCH). 0, -1 (BAD, *why_r), or -2 (NO
 * [BADCHARSET]). */
int	imap_search_parse(const struct imap_arg *args, size_t nargs,
	    struct imap_search *s, const char **why_r);
/* Whether message (seq, msg, data/len — NULL, 0 unless needs_body) matches.
 * maxseq/maxuid: what "*" means in this folder. */
int	imap_search_match(const struct imap_search *s, uint32_t seq,
	    const struct imap_msg *msg, const char *data, size_t len,
	    uint32_t maxseq, uint32_t maxuid);
/* The result line of a search: nums[0..n) ascending (sequence numbers or,
 * uid set, UIDs). An IMAP4rev2 client always gets ESEARCH (RFC 9051
 * 6.4.4): for one the caller sets s->esearch = 1 and, if ret was 0,
 * s->ret = IMAP_SEARCH_RET_ALL before calling. Data in the order MIN MAX
 * COUNT ALL. Without s->esearch "* SEARCH 1 2 3"; with it
 * "* ESEARCH (TAG \"t\") UID MIN 1 MAX 9 COUNT 3 ALL 1:3,9" as s->ret asks
 * (MIN, MAX, ALL left out when nothing matched; tag NULL: no TAG). CRLF
 * included. 0, or -1 when out is full (out unchanged). */
int	imap_search_format(struct buf *out, const struct imap_search *s,
	    const char *tag, int uid, const uint32_t *nums, size_t n);
#endif
