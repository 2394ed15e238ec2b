/* authres - the Authentication-Results header field (RFC 8601): writing
 *           ours, and removing incoming ones that claim to be ours.
 * Trusts: nothing about the header section (any sender wrote it) nor
 *         about the values given to the writer (a MAIL FROM, a From
 *         domain, a selector: sender-chosen text); method, result and
 *         property names are the caller's own constants.
 * Gives:  authres_write: one complete field, CRLF line ends, one resinfo
 *         per line folded with a tab ("Authentication-Results: ID;" then
 *         "\tspf=pass smtp.mailfrom=a@b.example;" ...), long resinfos
 *         folded again before a property; "ID; none" when there is no
 *         result. A value is written bare when it is a token (RFC 2045)
 *         or local-part@domain of dot-atoms, else as a quoted-string;
 *         comments get '(' ')' '\' escaped. Control characters and DEL in
 *         values and comments are written as '?': no value can end the
 *         line or the field.
 *         authres_is_ours / authres_strip: the authserv-id of a field
 *         value (after any comments and folding whitespace; a token or a
 *         quoted-string), compared with ours case-insensitively, a
 *         trailing dot ignored on either side; the header section copied
 *         without every Authentication-Results field whose id is ours.
 *         A field whose id is another's, or that cannot be read at all,
 *         is kept (it claims nothing of ours). Lines that are not fields
 *         (junk) are kept and looked past, up to the empty line: a forged
 *         field behind junk is still dropped, since a lenient reader may
 *         take it for a field.
 * Limits: AUTHRES_PROPS_MAX properties per result; the output buffer's
 *         max bounds the field; lines are folded at AUTHRES_FOLD octets
 *         where a break is possible (a single long value is not cut).
 * Never:  does I/O, or decides a result. */
#ifndef POSTERN_AUTHRES_H
#define POSTERN_AUTHRES_H
#include <stddef.h>

#include "buf.h"

#define AUTHRES_PROPS_MAX	4	/* dkim: header.d, .s, .i, .b */
#define AUTHRES_FOLD		78	/* RFC 5322 2.1.1's SHOULD */

struct authres_prop {
	const char	*ptype;		/* "smtp", "header", "policy" */
	const char	*property;	/* "mailfrom", "d", "from" */
	const char	*value;		/* any text */
};

struct authres_result {
	const char	*method;	/* "spf", "dkim", "dmarc" */
	const char	*result;	/* "pass", "fail", ... */
	const char	*comment;	/* NULL, or text put in parentheses */
	struct authres_prop props[AUTHRES_PROPS_MAX];
	size_t		 nprops;
};

/* Append the field (name, value, final CRLF) to out. 0, or -1 when out
 * is full (out then holds a part: reset it) or a method, result, ptype or
 * property is not a keyword. */
int	authres_write(struct buf *out, const char *authserv_id,
	    const struct authres_result *res, size_t n);

/* 1 when the Authentication-Results value v[0..len) (folded, as in the
 * message) carries authserv_id, else 0. */
int	authres_is_ours(const char *v, size_t len, const char *authserv_id);
/* Append the header section h[0..len) to out without our fields; what
 * follows the section (the empty line and on) is copied unchanged. The number of fields dropped, or -1 when
 * out is full. */
long	authres_strip(const char *h, size_t len, const char *authserv_id,
	    struct buf *out);
#endif
