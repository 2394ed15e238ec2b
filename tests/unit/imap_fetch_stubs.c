/* imap_fetch_stubs - test stand-ins until the real modules land; the lead
 * deletes this file at merge. Minimal versions of the imap_parse.c and
 * imap_mime.c functions imap_fetch.c calls, only good enough for
 * test_imap_fetch and fuzz_imap_fetch (no MIME, no encoded words). */
#include <string.h>
#include <strings.h>
#include <time.h>
#include "decimal.h"
#include "imap_mime.h"
#include "imap_parse.h"

int
imap_seqset_parse(const char *s, size_t len, struct imap_seqset *set)
{
	size_t i = 0, st;
	uint64_t v[2];
	int k;

	set->n = 0;
	set->saved = 0;
	if (len == 0)
		return -1;
	while (i < len) {
		for (k = 0; k < 2; k++) {
			if (i < len && s[i] == '*') {
				v[k] = IMAP_SEQ_STAR;
				i++;
			} else {
				st = i;
				while (i < len && s[i] >= '0' && s[i] <= '9')
					i++;
				if (parse_decimal(s + st, i - st,
				    UINT32_MAX - 1, &v[k]) < 0 || v[k] == 0)
					return -1;
			}
			if (k == 0 && !(i < len && s[i] == ':')) {
				v[1] = v[0];
				break;
			}
			if (k == 0)
				i++;
		}
		if (set->n >= IMAP_SEQ_RANGES_MAX)
			return -1;
		set->r[set->n].lo = (uint32_t)(v[0] < v[1] ? v[0] : v[1]);
		set->r[set->n].hi = (uint32_t)(v[0] < v[1] ? v[1] : v[0]);
		set->n++;
		if (i < len && (s[i] != ',' || i + 1 == len))
			return -1;
		if (i < len)
			i++;
	}
	return 0;
}

int
imap_seqset_contains(const struct imap_seqset *set, uint32_t n,
    uint32_t max)
{
	size_t k;

	for (k = 0; k < set->n; k++) {
		uint32_t lo = set->r[k].lo, hi = set->r[k].hi;

		if (lo == IMAP_SEQ_STAR)
			lo = max;
		if (hi == IMAP_SEQ_STAR)
			hi = max;
		if (lo > hi) {
			uint32_t t = lo;

			lo = hi;
			hi = t;
		}
		if (n >= lo && n <= hi)
			return 1;
	}
	return 0;
}

int
imap_envelope(const char *msg, size_t len, struct buf *out)
{
	(void)msg;
	(void)len;
	return buf_appends(out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

int
imap_bodystructure(const char *msg, size_t len, int extended,
    struct buf *out)
{
	(void)msg;
	return buf_printf(out, "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" %zu 0%s)",
	    len, extended ? " NIL NIL NIL NIL" : "");
}

size_t
imap_header_length(const char *msg, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (msg[i] == '\n' && msg[i + 1] == '\n')
			return i + 2;
		if (i + 3 < len && memcmp(msg + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	}
	return len;
}

int
imap_section(const char *msg, size_t len, const char *spec,
    size_t speclen, struct imap_spans *out)
{
	size_t h = imap_header_length(msg, len);

	(void)msg;
	out->n = 0;
	out->total = 0;
	if (speclen == 0) {
		out->s[0].off = 0;
		out->s[0].len = len;
	} else if (speclen == 6 && strncasecmp(spec, "HEADER", 6) == 0) {
		out->s[0].off = 0;
		out->s[0].len = h;
	} else if (speclen == 4 && strncasecmp(spec, "TEXT", 4) == 0) {
		out->s[0].off = h;
		out->s[0].len = len - h;
	} else if (speclen > 15 && strncasecmp(spec, "HEADER.FIELDS (", 15)
	    == 0) {
		/* Lines whose name is in the list, then the blank line. */
		size_t i = 0, e, c;

		while (i < h && out->n + 1 < IMAP_SPANS_MAX) {
			for (e = i; e < h && msg[e] != '\n'; e++)
				;
			if (e < h)
				e++;
			for (c = i; c < e && msg[c] != ':'; c++)
				;
			if (c < e && c > i) {
				size_t k;

				for (k = 15; k + (c - i) <= speclen; k++)
					if (strncasecmp(spec + k, msg + i,
					    c - i) == 0 && (spec[k + c - i] ==
					    ' ' || spec[k + c - i] == ')') &&
					    (spec[k - 1] == ' ' ||
					    spec[k - 1] == '('))
						break;
				if (k + (c - i) <= speclen) {
					out->s[out->n].off = i;
					out->s[out->n].len = e - i;
					out->total += e - i;
					out->n++;
				}
			}
			i = e;
		}
		out->s[out->n].off = IMAP_SPAN_CRLF;
		out->s[out->n].len = 2;
		out->n++;
		out->total += 2;
		return 0;
	} else
		return 0;
	out->n = 1;
	out->total = out->s[0].len;
	return 0;
}

static int
find_ci(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	size_t i;

	if (nlen == 0)
		return 1;
	for (i = 0; i + nlen <= hlen; i++)
		if (strncasecmp(hay + i, needle, nlen) == 0)
			return 1;
	return 0;
}

int
imap_search_header(const char *msg, size_t len, const char *field,
    const char *needle, size_t nlen)
{
	size_t h = imap_header_length(msg, len), i = 0, e, fl;

	while (i < h) {
		for (e = i; e < h && msg[e] != '\n'; e++)
			;
		if (field == NULL)
			fl = 0;
		else
			fl = strlen(field);
		if (field == NULL ? find_ci(msg + i, e - i, needle, nlen) :
		    (e - i > fl && strncasecmp(msg + i, field, fl) == 0 &&
		    msg[i + fl] == ':' &&
		    find_ci(msg + i + fl + 1, e - i - fl - 1, needle, nlen)))
			return 1;
		i = e + 1;
	}
	return 0;
}

int
imap_search_body(const char *msg, size_t len, const char *needle,
    size_t nlen)
{
	size_t h = imap_header_length(msg, len);

	return find_ci(msg + h, len - h, needle, nlen);
}

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static time_t
days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (time_t)(era * 146097 + doe - 719468) * 86400;
}

/* "D-Mon-YYYY" or "D Mon YYYY". */
static int
parse_dmy(const char *s, size_t len, char sepc, time_t *t_r, size_t *used)
{
	size_t i = 0;
	int d = 0, y = 0, m, k;

	while (i < len && s[i] >= '0' && s[i] <= '9' && i < 2)
		d = d * 10 + s[i++] - '0';
	if (i == 0 || i >= len || s[i] != sepc || len - i < 5)
		return -1;
	i++;
	for (m = 0; m < 12; m++)
		if (strncasecmp(s + i, months[m], 3) == 0)
			break;
	if (m == 12 || s[i + 3] != sepc)
		return -1;
	i += 4;
	for (k = 0; k < 4; k++, i++) {
		if (i >= len || s[i] < '0' || s[i] > '9')
			return -1;
		y = y * 10 + s[i] - '0';
	}
	if (d < 1 || d > 31)
		return -1;
	*t_r = days_from_civil(y, m + 1, d);
	*used = i;
	return 0;
}

int
imap_parse_date(const char *s, size_t len, time_t *t_r)
{
	size_t used;

	if (parse_dmy(s, len, '-', t_r, &used) < 0 || used != len)
		return -1;
	return 0;
}

int
imap_message_date(const char *msg, size_t len, time_t *t_r)
{
	size_t h = imap_header_length(msg, len), i, e, used;

	for (i = 0; i < h; i = e + 1) {
		for (e = i; e < h && msg[e] != '\n'; e++)
			;
		if (e - i > 5 && strncasecmp(msg + i, "Date:", 5) == 0) {
			const char *p = msg + i + 5, *end = msg + e;
			const char *c = memchr(p, ',', (size_t)(end - p));

			if (c != NULL)
				p = c + 1;
			while (p < end && *p == ' ')
				p++;
			return parse_dmy(p, (size_t)(end - p), ' ', t_r, &used);
		}
	}
	return -1;
}

void
imap_format_datetime(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	xsnprintf(out, 32, "%2d-%s-%04d %02d:%02d:%02d +0000", tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}
