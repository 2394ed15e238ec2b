/* qfile - the queue file format; see qfile.h for the layout and invariants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "buf.h"
#include "decimal.h"
#include "netaddr.h"
#include "qfile.h"
#include "users.h"

void
qfile_make_id(char *id_r, uint64_t usec, uint32_t salt)
{
	snprintf(id_r, QFILE_ID_LEN + 1, "%014llX%05X",
	    (unsigned long long)(usec & 0xFFFFFFFFFFFFFFull),
	    (unsigned)(salt & 0xFFFFF));
}

int
qfile_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < QFILE_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return s[i] == '\0';
}

/* An authres value: printable ASCII, tabs (the folds) and spaces. */
static int
authres_ok(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') ||
		    (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* No CR, LF, NUL, and (unless spaces_ok) no space or tab. */
static int
field_ok(const char *s, int spaces_ok)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c == ' ' && !spaces_ok)
			return 0;
	}
	return 1;
}

int
qfile_envelope_format(struct buf *out, struct qfile_envelope *e)
{
	size_t i;
	int r = 0;

	if (!qfile_id_valid(e->id) || !field_ok(e->client, 0) ||
	    !field_ok(e->auth, 0) || !field_ok(e->from, 0) ||
	    !field_ok(e->helo, 1))
		return -1;
	r |= buf_appends(out, QFILE_MAGIC);
	r |= buf_printf(out, "id %s\ntime %lld\nclient %s\nauth %s\nfrom <%s>\n",
	    e->id, (long long)e->time, e->client, e->auth[0] ? e->auth : "-",
	    e->from);
	for (i = 0; i < e->nrcpts; i++) {
		const struct qfile_rcpt *rc = &e->rcpts[i];
		if (!field_ok(rc->mailbox, 0) || !field_ok(rc->addr, 0) ||
		    (rc->kind != QFILE_LOCAL && rc->kind != QFILE_REMOTE))
			return -1;
		r |= buf_printf(out, "rcpt %c %c %s <%s>\n",
		    rc->status ? rc->status : QFILE_PENDING, rc->kind,
		    rc->mailbox[0] ? rc->mailbox : "-", rc->addr);
	}
	r |= buf_printf(out, "helo %s\n", e->helo);
	if (!authres_ok(e->authres) || strlen(e->authres) > QFILE_AUTHRES_MAX ||
	    (e->authres_slot > 0 && (e->authres_slot > QFILE_AUTHRES_MAX ||
	    strlen(e->authres) > e->authres_slot)))
		return -1;
	if (e->authres_slot > 0) {
		/* A slot of spaces that smtpd fills in place once the checks
		 * are done (before the file's fsync). */
		r |= buf_appends(out, "authres ");
		e->authres_off = out->len;
		r |= buf_appends(out, e->authres);
		for (i = strlen(e->authres); i < e->authres_slot; i++)
			r |= buf_appendc(out, ' ');
		r |= buf_appendc(out, '\n');
	} else if (e->authres[0] != '\0')
		r |= buf_printf(out, "authres %s\n", e->authres);
	r |= buf_appendc(out, '\n');
	return r ? -1 : 0;
}

int
qfile_authres_encode(const char *field, size_t len, char *out, size_t outlen)
{
	static const char name[] = "Authentication-Results: ";
	size_t i, o = 0, nl = sizeof(name) - 1;

	if (len < nl + 2 || strncasecmp(field, name, nl) != 0 ||
	    field[len - 2] != '\r' || field[len - 1] != '\n')
		return -1;
	for (i = nl; i < len - 2; i++) {
		if (field[i] == '\r' && i + 2 < len && field[i + 1] == '\n' &&
		    field[i + 2] == '\t') {
			i++;		/* CRLF TAB: the TAB stands for the fold */
			continue;
		}
		if (o + 1 >= outlen || ((unsigned char)field[i] < 0x20 &&
		    field[i] != '\t') || (unsigned char)field[i] == 0x7f)
			return -1;
		out[o++] = field[i];
	}
	out[o] = '\0';
	return authres_ok(out) ? 0 : -1;
}

int
qfile_authres_header(const char *value, struct buf *out)
{
	int r = buf_appends(out, "Authentication-Results: ");

	for (; *value != '\0'; value++)
		r |= *value == '\t' ? buf_appends(out, "\r\n\t") :
		    buf_appendc(out, *value);
	r |= buf_appends(out, "\r\n");
	return r ? -1 : 0;
}

/* Copy "<x>" (without brackets) from s into dst. */
static int
copy_angle(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n < 2 || s[0] != '<' || s[n - 1] != '>' || n - 2 >= dstlen)
		return -1;
	memcpy(dst, s + 1, n - 2);
	dst[n - 2] = '\0';
	return field_ok(dst, 0) ? 0 : -1;
}

/* Copy n bytes (no NUL inside, no control characters) into dst. */
static int
copy_field(char *dst, size_t dstlen, const char *s, size_t n, int spaces_ok)
{
	if (n >= dstlen || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return field_ok(dst, spaces_ok) ? 0 : -1;
}

/* The same parser smtpd used before writing the address: a queue file is
 * not trusted to hold only what smtpd would have written (a compromised
 * smtpd, a hand-edited file). "" is the null path where null_ok. */
static int
addr_ok(const char *addr, int null_ok, int postmaster_ok)
{
	char path[ADDRESS_PATH_MAX + 8];
	struct address a;
	size_t end = 0, n;

	if (addr[0] == '\0')
		return null_ok;
	n = strlen(addr);
	if (n > ADDRESS_PATH_MAX)
		return 0;
	path[0] = '<';
	memcpy(path + 1, addr, n);
	path[n + 1] = '>';
	if (address_parse_path(path, n + 2, null_ok, postmaster_ok, &a,
	    &end) != ADDRESS_OK || end != n + 2 || a.is_null)
		return 0;
	return 1;
}

/* What smtpd, pickup and the queue process write as "client". */
static int
client_ok(const char *s)
{
	struct netaddr na;

	if (strcmp(s, "local") == 0 || strcmp(s, "bounce") == 0 ||
	    strcmp(s, "double-bounce") == 0)
		return 1;
	return netaddr_parse(s, &na) == 0;
}

/* An authenticated identity: a SASL authcid or a local login, printable
 * ASCII without spaces (field_ok); never a path, so no more is needed. */
static int
auth_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static int
parse_rcpt(struct qfile_envelope *e, const char *line, size_t n, off_t off,
    const char **why_r)
{
	struct qfile_rcpt rc;
	const char *sp;
	size_t mlen;

	/* "rcpt S K MAILBOX <ADDR>" */
	*why_r = "malformed rcpt line";
	if (n < 12 || line[6] != ' ' || line[8] != ' ')
		return -1;
	memset(&rc, 0, sizeof(rc));
	rc.status = line[5];
	rc.kind = line[7];
	*why_r = "bad rcpt status";
	if (rc.status != QFILE_PENDING && rc.status != QFILE_DONE &&
	    rc.status != QFILE_FAILED)
		return -1;
	*why_r = "bad rcpt kind";
	if (rc.kind != QFILE_LOCAL && rc.kind != QFILE_REMOTE)
		return -1;
	*why_r = "malformed rcpt line";
	sp = memchr(line + 9, ' ', n - 9);
	if (sp == NULL)
		return -1;
	mlen = (size_t)(sp - (line + 9));
	*why_r = "bad rcpt mailbox";
	if (copy_field(rc.mailbox, sizeof(rc.mailbox), line + 9, mlen, 0) == -1)
		return -1;
	if (strcmp(rc.mailbox, "-") == 0)
		rc.mailbox[0] = '\0';
	if ((rc.kind == QFILE_LOCAL) != (rc.mailbox[0] != '\0'))
		return -1;
	/* The mailbox becomes a path under spool/mail: the rule of write. */
	if (rc.kind == QFILE_LOCAL && !users_name_valid(rc.mailbox))
		return -1;
	*why_r = "bad rcpt address";
	if (copy_angle(rc.addr, sizeof(rc.addr), sp + 1,
	    n - (size_t)(sp + 1 - line)) == -1 || !addr_ok(rc.addr, 0, 1))
		return -1;
	rc.status_off = off + 5;
	e->rcpts = xreallocarray(e->rcpts, e->nrcpts + 1, sizeof(*e->rcpts));
	e->rcpts[e->nrcpts++] = rc;
	return 0;
}

/* One "NAME VALUE" line of the envelope; *bit_r is its bit in "seen". */
static int
parse_field(struct qfile_envelope *e, const char *line, size_t n,
    unsigned *bit_r, const char **why_r)
{
	uint64_t t;

	if (n > 3 && memcmp(line, "id ", 3) == 0) {
		*bit_r = 1;
		*why_r = "bad id";
		return copy_field(e->id, sizeof(e->id), line + 3, n - 3, 0) == -1 ||
		    !qfile_id_valid(e->id) ? -1 : 0;
	}
	if (n > 5 && memcmp(line, "time ", 5) == 0) {
		*bit_r = 2;
		*why_r = "bad time";
		if (parse_decimal(line + 5, n - 5, INT64_MAX, &t) == -1)
			return -1;
		e->time = (time_t)t;
		return 0;
	}
	if (n > 7 && memcmp(line, "client ", 7) == 0) {
		*bit_r = 4;
		*why_r = "bad client";
		return copy_field(e->client, sizeof(e->client), line + 7, n - 7,
		    0) == -1 || !client_ok(e->client) ? -1 : 0;
	}
	if (n > 5 && memcmp(line, "auth ", 5) == 0) {
		*bit_r = 8;
		*why_r = "bad auth user";
		if (copy_field(e->auth, sizeof(e->auth), line + 5, n - 5, 0) == -1 ||
		    !auth_ok(e->auth))
			return -1;
		if (strcmp(e->auth, "-") == 0)
			e->auth[0] = '\0';
		return 0;
	}
	if (n > 5 && memcmp(line, "from ", 5) == 0) {
		*bit_r = 16;
		*why_r = "bad sender address";
		return copy_angle(e->from, sizeof(e->from), line + 5, n - 5) == -1 ||
		    !addr_ok(e->from, 1, 0) ? -1 : 0;
	}
	if (n >= 5 && memcmp(line, "helo ", 5) == 0) {
		*bit_r = 32;
		*why_r = "bad helo";
		return copy_field(e->helo, sizeof(e->helo), line + 5, n - 5, 1);
	}
	if (n >= 8 && memcmp(line, "authres ", 8) == 0) {
		size_t vn = n - 8;

		*bit_r = 64;
		*why_r = "bad authres";
		while (vn > 0 && line[8 + vn - 1] == ' ')
			vn--;		/* an unused or partly used slot */
		if (vn > QFILE_AUTHRES_MAX || memchr(line + 8, '\0', vn) != NULL)
			return -1;
		memcpy(e->authres, line + 8, vn);
		e->authres[vn] = '\0';
		return authres_ok(e->authres) ? 0 : -1;
	}
	*bit_r = 0;
	*why_r = "unknown envelope line";
	return -1;
}

int
qfile_envelope_check(const char *text, size_t len, struct qfile_envelope *e,
    const char **why_r)
{
	size_t pos, n, mlen = strlen(QFILE_MAGIC);
	const char *line, *nl, *why = "no magic line";
	unsigned seen = 0, bit;

	memset(e, 0, sizeof(*e));
	if (len < mlen || memcmp(text, QFILE_MAGIC, mlen) != 0)
		goto bad;
	why = "envelope not terminated";
	for (pos = mlen; pos < len; pos += n + 1) {
		line = text + pos;
		nl = memchr(line, '\n', len - pos);
		if (nl == NULL)
			goto bad;
		n = (size_t)(nl - line);
		if (n == 0) {
			/* id, time, client, auth, from and helo are required;
			 * authres is not (older files have none). */
			why = "missing envelope field";
			if ((seen & 0x3f) != 0x3f)
				goto bad;
			why = "no recipient";
			if (e->nrcpts == 0)
				goto bad;
			e->content_off = (off_t)(pos + 1);
			if (why_r != NULL)
				*why_r = NULL;
			return 0;
		}
		if (n > 5 && memcmp(line, "rcpt ", 5) == 0) {
			if (parse_rcpt(e, line, n, (off_t)pos, &why) == -1)
				goto bad;
			continue;
		}
		if (parse_field(e, line, n, &bit, &why) == -1)
			goto bad;
		why = "duplicate envelope field";
		if (seen & bit)
			goto bad;
		seen |= bit;
		why = "envelope not terminated";
	}
bad:
	if (why_r != NULL)
		*why_r = why;
	qfile_envelope_free(e);
	return -1;
}

int
qfile_envelope_parse(const char *text, size_t len, struct qfile_envelope *e)
{
	return qfile_envelope_check(text, len, e, NULL);
}

void
qfile_envelope_free(struct qfile_envelope *e)
{
	free(e->rcpts);
	e->rcpts = NULL;
	e->nrcpts = 0;
}

int
qfile_envelope_pending(const struct qfile_envelope *e)
{
	size_t i;

	for (i = 0; i < e->nrcpts; i++)
		if (e->rcpts[i].status == QFILE_PENDING)
			return 1;
	return 0;
}

void
qfile_rfc5322_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}
