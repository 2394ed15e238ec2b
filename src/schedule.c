/* schedule - retry intervals and the deferred/ID format; see schedule.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "schedule.h"

unsigned
schedule_backoff(unsigned attempts, unsigned retry_min, unsigned retry_max)
{
	uint64_t v = retry_min ? retry_min : 1;
	unsigned i;

	if (retry_max < v)
		retry_max = (unsigned)v;
	for (i = 1; i < attempts && v < retry_max; i++)
		v *= 2;
	return v > retry_max ? retry_max : (unsigned)v;
}

int
schedule_expired(time_t queued, time_t now, unsigned lifetime)
{
	return now >= queued && (uint64_t)(now - queued) >= lifetime;
}

void
schedule_fail(struct schedule *s, time_t now, unsigned retry_min,
    unsigned retry_max)
{
	if (s->attempts < 1000000)
		s->attempts++;
	s->next = now + (time_t)schedule_backoff(s->attempts, retry_min,
	    retry_max);
}

int
schedule_set_error(struct schedule *s, size_t rcpt, const char *text)
{
	struct schedule_error *e = NULL;
	size_t i, o;

	for (i = 0; i < s->nerrors; i++)
		if (s->errors[i].rcpt == rcpt)
			e = &s->errors[i];
	if (e == NULL) {
		if (s->nerrors >= SCHEDULE_ERRORS_MAX)
			return -1;
		s->errors = xreallocarray(s->errors, s->nerrors + 1,
		    sizeof(*s->errors));
		e = &s->errors[s->nerrors++];
		e->rcpt = rcpt;
	}
	for (o = 0; text[o] != '\0' && o < sizeof(e->text) - 1; o++) {
		unsigned char c = (unsigned char)text[o];

		e->text[o] = (c < 0x20 || c >= 0x7f) ? ' ' : (char)c;
	}
	e->text[o] = '\0';
	return 0;
}

const char *
schedule_error(const struct schedule *s, size_t rcpt)
{
	size_t i;

	for (i = 0; i < s->nerrors; i++)
		if (s->errors[i].rcpt == rcpt)
			return s->errors[i].text;
	return NULL;
}

int
schedule_format(struct buf *out, const struct schedule *s)
{
	size_t i;
	int r = 0;

	r |= buf_printf(out, "next %lld\nattempts %u\n", (long long)s->next,
	    s->attempts);
	for (i = 0; i < s->nerrors; i++)
		r |= buf_printf(out, "error %zu %s\n", s->errors[i].rcpt,
		    s->errors[i].text);
	return r ? -1 : 0;
}

/* Decimal digits only, as schedule_format writes them; no more than
 * 18 digits' worth (time_t holds it). */
static int
parse_num(const char *p, size_t n, long long *r)
{
	uint64_t v;

	if (parse_decimal(p, n, 999999999999999999ull, &v) == -1)
		return -1;
	*r = (long long)v;
	return 0;
}

int
schedule_parse(const char *text, size_t len, struct schedule *s)
{
	const char *line, *nl, *sp;
	size_t pos, n, i;
	long long v, idx;
	int seen_next = 0, seen_attempts = 0;
	char tmp[SCHEDULE_ERROR_MAX];

	memset(s, 0, sizeof(*s));
	if (len > SCHEDULE_FILE_MAX)
		return -1;
	for (pos = 0; pos < len; pos += n + 1) {
		line = text + pos;
		nl = memchr(line, '\n', len - pos);
		if (nl == NULL)
			goto bad;
		n = (size_t)(nl - line);
		if (n > 5 && memcmp(line, "next ", 5) == 0) {
			/* Held to what schedule_format writes. */
			if (seen_next || parse_num(line + 5, n - 5, &v) == -1)
				goto bad;
			s->next = (time_t)v;
			seen_next = 1;
		} else if (n > 9 && memcmp(line, "attempts ", 9) == 0) {
			if (seen_attempts || parse_num(line + 9, n - 9, &v) == -1 ||
			    v > 1000000)
				goto bad;
			s->attempts = (unsigned)v;
			seen_attempts = 1;
		} else if (n > 6 && memcmp(line, "error ", 6) == 0) {
			sp = memchr(line + 6, ' ', n - 6);
			if (sp == NULL)
				goto bad;
			if (parse_num(line + 6, (size_t)(sp - line - 6), &idx) == -1 ||
			    idx > 100000000)
				goto bad;
			n = (size_t)(nl - sp - 1);
			if (n >= sizeof(tmp))
				goto bad;
			memcpy(tmp, sp + 1, n);
			tmp[n] = '\0';
			/* schedule_set_error stores printable ASCII only. */
			for (i = 0; i < n; i++)
				if ((unsigned char)tmp[i] < 0x20 ||
				    (unsigned char)tmp[i] >= 0x7f)
					goto bad;
			if (schedule_set_error(s, (size_t)idx, tmp) == -1)
				goto bad;
			n = (size_t)(nl - line);
		} else
			goto bad;
	}
	if (!seen_next)
		goto bad;
	return 0;
bad:
	schedule_free(s);
	return -1;
}

void
schedule_free(struct schedule *s)
{
	free(s->errors);
	memset(s, 0, sizeof(*s));
}
