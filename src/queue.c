/* queue - on-disk message format; see queue.h for the layout and invariants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "queue.h"

void
queue_make_id(char *id_r, uint64_t usec, uint32_t salt)
{
	snprintf(id_r, QUEUE_ID_LEN + 1, "%014llX%05X",
	    (unsigned long long)(usec & 0xFFFFFFFFFFFFFFull),
	    (unsigned)(salt & 0xFFFFF));
}

int
queue_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return s[i] == '\0';
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
queue_envelope_format(struct buf *out, const struct queue_envelope *e)
{
	size_t i;
	int r = 0;

	if (!queue_id_valid(e->id) || !field_ok(e->client, 0) ||
	    !field_ok(e->auth, 0) || !field_ok(e->from, 0) ||
	    !field_ok(e->helo, 1))
		return -1;
	r |= buf_appends(out, QUEUE_MAGIC);
	r |= buf_printf(out, "id %s\ntime %lld\nclient %s\nauth %s\nfrom <%s>\n",
	    e->id, (long long)e->time, e->client, e->auth[0] ? e->auth : "-",
	    e->from);
	for (i = 0; i < e->nrcpts; i++) {
		const struct queue_rcpt *rc = &e->rcpts[i];
		if (!field_ok(rc->mailbox, 0) || !field_ok(rc->addr, 0) ||
		    (rc->kind != QUEUE_LOCAL && rc->kind != QUEUE_REMOTE))
			return -1;
		r |= buf_printf(out, "rcpt %c %c %s <%s>\n",
		    rc->status ? rc->status : QUEUE_PENDING, rc->kind,
		    rc->mailbox[0] ? rc->mailbox : "-", rc->addr);
	}
	r |= buf_printf(out, "helo %s\n\n", e->helo);
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

static int
copy_field(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n >= dstlen)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int
parse_rcpt(struct queue_envelope *e, const char *line, size_t n, off_t off)
{
	struct queue_rcpt rc;
	const char *sp;
	size_t mlen;

	/* "rcpt S K MAILBOX <ADDR>" */
	if (n < 12 || line[6] != ' ' || line[8] != ' ')
		return -1;
	memset(&rc, 0, sizeof(rc));
	rc.status = line[5];
	rc.kind = line[7];
	if (rc.status != QUEUE_PENDING && rc.status != QUEUE_DONE &&
	    rc.status != QUEUE_FAILED)
		return -1;
	if (rc.kind != QUEUE_LOCAL && rc.kind != QUEUE_REMOTE)
		return -1;
	sp = memchr(line + 9, ' ', n - 9);
	if (sp == NULL)
		return -1;
	mlen = (size_t)(sp - (line + 9));
	if (copy_field(rc.mailbox, sizeof(rc.mailbox), line + 9, mlen) == -1)
		return -1;
	if (strcmp(rc.mailbox, "-") == 0)
		rc.mailbox[0] = '\0';
	if ((rc.kind == QUEUE_LOCAL) != (rc.mailbox[0] != '\0'))
		return -1;
	if (copy_angle(rc.addr, sizeof(rc.addr), sp + 1,
	    n - (size_t)(sp + 1 - line)) == -1)
		return -1;
	rc.status_off = off + 5;
	e->rcpts = xreallocarray(e->rcpts, e->nrcpts + 1, sizeof(*e->rcpts));
	e->rcpts[e->nrcpts++] = rc;
	return 0;
}

int
queue_envelope_parse(const char *text, size_t len, struct queue_envelope *e)
{
	size_t pos, n, mlen = strlen(QUEUE_MAGIC);
	const char *line, *nl;
	unsigned seen = 0;
	char num[32];

	memset(e, 0, sizeof(*e));
	if (len < mlen || memcmp(text, QUEUE_MAGIC, mlen) != 0)
		return -1;
	for (pos = mlen; pos < len; pos += n + 1) {
		line = text + pos;
		nl = memchr(line, '\n', len - pos);
		if (nl == NULL)
			goto bad;
		n = (size_t)(nl - line);
		if (n == 0) {
			/* id, time, client, auth, from and helo are required. */
			if (seen != 0x3f || e->nrcpts == 0)
				goto bad;
			e->content_off = (off_t)(pos + 1);
			return 0;
		}
		if (n > 5 && memcmp(line, "rcpt ", 5) == 0) {
			if (parse_rcpt(e, line, n, (off_t)pos) == -1)
				goto bad;
		} else if (n > 3 && memcmp(line, "id ", 3) == 0) {
			if (copy_field(e->id, sizeof(e->id), line + 3, n - 3) == -1 ||
			    !queue_id_valid(e->id))
				goto bad;
			seen |= 1;
		} else if (n > 5 && memcmp(line, "time ", 5) == 0) {
			char *end;
			if (copy_field(num, sizeof(num), line + 5, n - 5) == -1)
				goto bad;
			e->time = (time_t)strtoll(num, &end, 10);
			if (*end != '\0')
				goto bad;
			seen |= 2;
		} else if (n > 7 && memcmp(line, "client ", 7) == 0) {
			if (copy_field(e->client, sizeof(e->client), line + 7, n - 7) == -1)
				goto bad;
			seen |= 4;
		} else if (n > 5 && memcmp(line, "auth ", 5) == 0) {
			if (copy_field(e->auth, sizeof(e->auth), line + 5, n - 5) == -1)
				goto bad;
			if (strcmp(e->auth, "-") == 0)
				e->auth[0] = '\0';
			seen |= 8;
		} else if (n > 5 && memcmp(line, "from ", 5) == 0) {
			if (copy_angle(e->from, sizeof(e->from), line + 5, n - 5) == -1)
				goto bad;
			seen |= 16;
		} else if (n >= 5 && memcmp(line, "helo ", 5) == 0) {
			if (copy_field(e->helo, sizeof(e->helo), line + 5, n - 5) == -1)
				goto bad;
			seen |= 32;
		} else {
			goto bad;
		}
	}
bad:
	queue_envelope_free(e);
	return -1;
}

void
queue_envelope_free(struct queue_envelope *e)
{
	free(e->rcpts);
	e->rcpts = NULL;
	e->nrcpts = 0;
}

int
queue_envelope_pending(const struct queue_envelope *e)
{
	size_t i;

	for (i = 0; i < e->nrcpts; i++)
		if (e->rcpts[i].status == QUEUE_PENDING)
			return 1;
	return 0;
}

void
queue_rfc5322_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}
