/* spf_driver - runs spf.c's check against a DNS zone read on stdin, for
 * tests/integration/test_spf_suite.py (the RFC 7208 test suite, pyspf).
 * Not a unit test: built by that test with cc against build/*.a.
 * Input, one item a line, fields separated by one space, text in hex
 * ("-" for empty):
 *   R                          forget the zone (a new scenario)
 *   Z HEXNAME TYPE HEXVALUE      a record: TXT (strings joined), A, AAAA,
 *                              MX (the exchange), PTR, CNAME, TIMEOUT
 *   C ID IP HEXSENDER HEXHELO  check; prints one line:
 *   ID RESULT HEXEXPLANATION HEXMECHANISM HEXWHY
 * The fake resolver follows CNAMEs, answers NXDOMAIN for names without
 * any record, NODATA for names with other types, TEMP for TIMEOUT names. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"

#define ZONE_MAX	8192
#define LINE_MAX_	(SPF_RECORD_MAX * 2 + 1024)

struct rr {
	char	*name;
	char	*type;
	char	*value;
	size_t	 len;
};

static struct rr zone[ZONE_MAX];
static size_t nzone;

static char *
unhex_len(const char *h, size_t *len)
{
	size_t n = strlen(h), i;
	char *r = malloc(n / 2 + 1);

	if (r == NULL)
		abort();
	*len = 0;
	if (strcmp(h, "-") == 0) {
		r[0] = '\0';
		return r;
	}
	for (i = 0; i + 1 < n; i += 2) {
		unsigned v;

		if (sscanf(h + i, "%2x", &v) != 1)
			abort();
		r[i / 2] = (char)v;
	}
	r[n / 2] = '\0';
	*len = n / 2;
	return r;
}

static char *
unhex(const char *h)
{
	size_t n;

	return unhex_len(h, &n);
}

static void
puthex(const char *s)
{
	if (*s == '\0')
		fputs("-", stdout);
	for (; *s; s++)
		printf("%02x", (unsigned char)*s);
}

static void
lower(char *s)
{
	size_t n;

	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	(void)n;
}

static void
strip_dot(char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
}

static const char *const qtypes[] = { "TXT", "A", "AAAA", "MX", "PTR" };

/* Look name up; records point into the zone. */
static enum spf_rcode
lookup(const char *qname, const char *type, const char **recs, size_t *lens,
    size_t *n)
{
	char name[SPF_NAME_MAX + 2];
	size_t i, hops;
	int exists, timeout;

	*n = 0;
	(void)snprintf(name, sizeof(name), "%s", qname);
	lower(name);
	strip_dot(name);
	for (hops = 0; hops < 8; hops++) {
		const char *cname = NULL;

		exists = timeout = 0;
		for (i = 0; i < nzone; i++) {
			if (strcmp(zone[i].name, name) != 0)
				continue;
			exists = 1;
			if (strcmp(zone[i].type, "TIMEOUT") == 0)
				timeout = 1;
			if (strcmp(zone[i].type, "CNAME") == 0)
				cname = zone[i].value;
			if (strcmp(zone[i].type, type) == 0 && *n < 64) {
				lens[*n] = zone[i].len;
				recs[(*n)++] = zone[i].value;
			}
		}
		/* As the suite's own drivers: a TIMEOUT name answers the
		 * types it lists and times out on the others. */
		if (*n > 0)
			return SPF_DNS_OK;
		if (timeout)
			return SPF_DNS_TEMP;
		if (cname == NULL)
			return exists ? SPF_DNS_NODATA : SPF_DNS_NXDOMAIN;
		(void)snprintf(name, sizeof(name), "%s", cname);
		lower(name);
		strip_dot(name);
	}
	return SPF_DNS_TEMP;
}

int
main(void)
{
	static char line[LINE_MAX_];

	while (fgets(line, sizeof(line), stdin)) {
		char *f[6];
		size_t nf = 0;
		char *p = line;

		line[strcspn(line, "\n")] = '\0';
		while (nf < 6 && (f[nf] = strsep(&p, " ")) != NULL)
			nf++;
		if (nf == 0)
			continue;
		if (strcmp(f[0], "R") == 0) {
			size_t i;

			for (i = 0; i < nzone; i++) {
				free(zone[i].name);
				free(zone[i].type);
				free(zone[i].value);
			}
			nzone = 0;
		} else if (strcmp(f[0], "Z") == 0 && nf == 4 &&
		    nzone < ZONE_MAX) {
			zone[nzone].name = unhex(f[1]);
			lower(zone[nzone].name);
			strip_dot(zone[nzone].name);
			zone[nzone].type = strdup(f[2]);
			zone[nzone].value = unhex_len(f[3], &zone[nzone].len);
			nzone++;
		} else if (strcmp(f[0], "C") == 0 && nf == 5) {
			struct netaddr ip;
			struct spf s;
			char *sender = unhex(f[3]), *helo = unhex(f[4]);
			const char *recs[64];
			size_t lens[64], n, steps = 0;

			if (netaddr_parse(f[2], &ip) == -1) {
				printf("%s badip - - -\n", f[1]);
				continue;
			}
			spf_start(&s, &ip, sender, helo, "receiver.test",
			    1700000000);
			while (spf_step(&s) == SPF_NEED_DNS && steps++ < 1000) {
				enum spf_rcode rc = lookup(s.query.name,
				    qtypes[s.query.type], recs, lens, &n);

				spf_answer(&s, rc, recs, lens, n);
			}
			printf("%s %s ", f[1], spf_result_name(s.result));
			puthex(s.explanation);
			putchar(' ');
			puthex(s.mechanism);
			putchar(' ');
			puthex(s.why);
			putchar('\n');
			fflush(stdout);
			spf_free(&s);
			free(sender);
			free(helo);
		}
	}
	return 0;
}
