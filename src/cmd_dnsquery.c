/* cmd_dnsquery - `postern dns-query [-c FILE] TYPE NAME`, a diagnostic:
 *                one record lookup (dns_query_wait) through the config's
 *                dns_servers, as SPF, DKIM and DMARC checks will make it.
 * Trusts: the command line and the config; what the DNS answers is printed
 *         with every byte that is not printable ASCII as \DDD.
 * Gives:  one line per record (TXT: the joined text; A, AAAA: the
 *         address; MX: "PREF NAME", "." for a null MX; PTR: the name),
 *         then "status=ok|nxdomain|nodata|temp|perm ttl=N". Exit 0 ok, 1
 *         nxdomain, nodata or an invalid name (perm), 75 temp, 64 usage,
 *         78 bad config.
 * Never:  consults /etc/hosts or a search list. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/event.h>

#include "cmds.h"
#include "config.h"
#include "dns.h"
#include "netaddr.h"

static const struct {
	const char	*name;
	enum dns_qtype	 type;
} qtypes[] = {
	{ "TXT", DNS_T_TXT }, { "A", DNS_T_A }, { "AAAA", DNS_T_AAAA },
	{ "MX", DNS_T_MX }, { "PTR", DNS_T_PTR },
};

static void
print_escaped(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < ' ' || ch > '~' || ch == '\\')
			printf("\\%03u", ch);
		else
			putchar(ch);
	}
	putchar('\n');
}

static void
print_answer(const struct dns_answer *a)
{
	char ip[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < a->nrr; i++)
		switch (a->type) {
		case DNS_T_A:
		case DNS_T_AAAA:
			printf("%s\n", netaddr_format(&a->rr[i].addr, ip,
			    sizeof(ip)));
			break;
		case DNS_T_MX:
			printf("%u ", a->rr[i].pref);
			if (a->rr[i].len == 0)
				printf(".\n");
			else
				print_escaped(dns_rr_text(a, i), a->rr[i].len);
			break;
		case DNS_T_PTR:
		case DNS_T_TXT:
			print_escaped(dns_rr_text(a, i), a->rr[i].len);
			break;
		}
	printf("status=%s ttl=%u%s\n", dns_status_name(a->status),
	    (unsigned)a->ttl, a->truncated ? " truncated" : "");
}

int
cmd_dnsquery(int argc, char **argv, const char *config)
{
	char err[256], ptr[DNS_NAME_MAX + 1];
	struct errlist errs = { NULL, 0 };
	struct event_base *base;
	struct dns_answer *a;
	struct config *c;
	struct netaddr na;
	const char *name;
	struct dns *d;
	size_t i;
	int ex;

	if (argc != 3) {
		fprintf(stderr, "postern: dns-query: TYPE and NAME expected\n");
		return CMDS_EX_USAGE;
	}
	for (i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++)
		if (strcasecmp(argv[1], qtypes[i].name) == 0)
			break;
	if (i == sizeof(qtypes) / sizeof(qtypes[0])) {
		fprintf(stderr, "postern: dns-query: unknown type %s (TXT, A, "
		    "AAAA, MX or PTR)\n", argv[1]);
		return CMDS_EX_USAGE;
	}
	name = argv[2];
	/* PTR of an address: its in-addr.arpa / ip6.arpa name. */
	if (qtypes[i].type == DNS_T_PTR && netaddr_parse(name, &na) == 0 &&
	    dns_ptr_name(&na, ptr, sizeof(ptr)) == 0)
		name = ptr;
	if ((c = config_load(config, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		errlist_free(&errs);
		return CMDS_EX_CONFIG;
	}
	if ((base = event_base_new()) == NULL) {
		fprintf(stderr, "postern: dns-query: no event base\n");
		config_free(c);
		return CMDS_EX_TEMPFAIL;
	}
	if ((d = dns_new(base, c->dns_servers, err, sizeof(err))) == NULL) {
		fprintf(stderr, "postern: dns-query: %s\n", err);
		event_base_free(base);
		config_free(c);
		return CMDS_EX_CONFIG;
	}
	a = malloc(sizeof(*a));
	if (a == NULL) {
		fprintf(stderr, "postern: dns-query: out of memory\n");
		ex = CMDS_EX_TEMPFAIL;
	} else {
		dns_query_wait(d, base, qtypes[i].type, name, a);
		print_answer(a);
		ex = a->status == OUTCOME_OK ? CMDS_EX_OK : a->status == OUTCOME_TEMP ?
		    CMDS_EX_TEMPFAIL : CMDS_EX_REFUSED;
		free(a);
	}
	dns_free(d);
	event_base_free(base);
	config_free(c);
	return ex;
}
