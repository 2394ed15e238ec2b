/* cmd_authcheck - `postern auth-check [-c FILE] --client IP --mail-from ADDR
 *                 [--helo NAME] MESSAGE`: SPF (of MAIL FROM and of HELO),
 *                 every DKIM signature and DMARC on a saved message, each
 *                 with its reason, then the Authentication-Results field
 *                 postern adds for them. DNS goes to the config's
 *                 dns_servers (else the system resolver), one query at a
 *                 time: this is the administrator's "why did this message
 *                 score as it did", not the server's path.
 * Trusts: the administrator's command line and config. Nothing in the
 *         message or in DNS answers: the pure modules (spf, dkim, dmarc,
 *         authres) parse them, bounded.
 * Gives:  lines "spf: RESULT ...", "spf-helo: ...", "dkim: ..." (one per
 *         signature, or "dkim: none"), "dmarc: ...", then the field; exit
 *         0 when the checks ran (whatever they found), 64 usage, 75 the
 *         message or the resolver could not be had, 78 bad config.
 * Never:  changes anything: no spool, no mail. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "address.h"
#include "authres.h"
#include "buf.h"
#include "cmds.h"
#include "config.h"
#include "dkim.h"
#include "dmarc.h"
#include "dns.h"
#include "fileio.h"
#include "netaddr.h"
#include "psl.h"
#include "spf.h"

/* A saved message larger than this is not one postern would accept. */
#define AC_MESSAGE_MAX	(64u * 1024 * 1024)

struct ac {
	struct event_base *base;
	struct dns	*dns;
	struct dns_answer *ans;
};

static const char *
ac_arg(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* A message written with LF line ends (a file saved by a mail client) is
 * read as CRLF, the form it had on the wire: DKIM hashes CRLF. */
static int
ac_crlf(struct buf *b)
{
	struct buf c;

	if (b->len == 0 || memchr(b->data, '\n', b->len) == NULL)
		return 0;
	buf_init(&c, 2 * AC_MESSAGE_MAX);
	if (dkim_crlf(b->data, b->len, &c) == -1) {
		buf_free(&c);
		return -1;
	}
	buf_free(b);
	*b = c;
	return 0;
}

static enum spf_rcode
ac_spf_rcode(int st)
{
	switch (st) {
	case OUTCOME_OK:
		return SPF_DNS_OK;
	case DNS_NODATA:
		return SPF_DNS_NODATA;
	case DNS_NXDOMAIN:
	case OUTCOME_PERM:		/* a name that cannot exist */
		return SPF_DNS_NXDOMAIN;
	default:
		return SPF_DNS_TEMP;
	}
}

static enum dns_qtype
ac_qtype(enum spf_qtype t)
{
	switch (t) {
	case SPF_Q_A:
		return DNS_T_A;
	case SPF_Q_AAAA:
		return DNS_T_AAAA;
	case SPF_Q_MX:
		return DNS_T_MX;
	case SPF_Q_PTR:
		return DNS_T_PTR;
	default:
		return DNS_T_TXT;
	}
}

/* One SPF check, its DNS asked one query at a time. */
static void
ac_spf(struct ac *ac, struct spf *s, const struct netaddr *ip,
    const char *sender, const char *helo, const char *receiver)
{
	char addrs[DNS_RR_MAX][64];
	const char *recs[DNS_RR_MAX];
	size_t lens[DNS_RR_MAX], i, n;
	enum dns_qtype t;

	spf_start(s, ip, sender, helo, receiver, time(NULL));
	while (spf_step(s) == SPF_NEED_DNS) {
		t = ac_qtype(s->query.type);
		(void)dns_query_wait(ac->dns, ac->base, t, s->query.name,
		    ac->ans);
		n = ac->ans->status == OUTCOME_OK ? ac->ans->nrr : 0;
		for (i = 0; i < n; i++) {
			if (t == DNS_T_A || t == DNS_T_AAAA) {
				netaddr_format(&ac->ans->rr[i].addr, addrs[i],
				    sizeof(addrs[i]));
				recs[i] = addrs[i];
				lens[i] = strlen(addrs[i]);
			} else {
				recs[i] = dns_rr_text(ac->ans, i);
				lens[i] = ac->ans->rr[i].len;
			}
		}
		spf_answer(s, ac_spf_rcode(ac->ans->status), recs, lens, n);
	}
}

static void
ac_dkim(struct ac *ac, struct dkim_verify *v)
{
	const struct dns_answer *a = ac->ans;
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (v->sigs[i].result != DKIM_PENDING)
			continue;
		(void)dns_query_wait(ac->dns, ac->base, DNS_T_TXT,
		    v->sigs[i].query, ac->ans);
		if (a->status == OUTCOME_OK)
			dkim_verify_key(v, i, OUTCOME_OK, dns_rr_text(a, 0),
			    a->rr[0].len);
		else
			dkim_verify_key(v, i, a->status == OUTCOME_TEMP ?
			    OUTCOME_TEMP : OUTCOME_PERM, NULL, 0);
	}
}

static void
ac_dmarc(struct ac *ac, struct dmarc_discovery *d)
{
	const char *txt[DNS_RR_MAX], *name;
	size_t lens[DNS_RR_MAX], n;
	enum dmarc_dns st;

	while ((name = dmarc_discovery_next(d)) != NULL) {
		(void)dns_query_wait(ac->dns, ac->base, DNS_T_TXT, name, ac->ans);
		n = 0;
		if (ac->ans->status == OUTCOME_OK) {
			st = DMARC_DNS_ANSWER;
			for (n = 0; n < ac->ans->nrr; n++) {
				txt[n] = dns_rr_text(ac->ans, n);
				lens[n] = ac->ans->rr[n].len;
			}
		} else
			st = ac->ans->status == OUTCOME_TEMP ? DMARC_DNS_TEMP :
			    DMARC_DNS_NOTHING;
		dmarc_discovery_answer(d, st, txt, lens, n);
	}
}

/* The domain of an address ("" for the null sender). */
static const char *
ac_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

int
cmd_authcheck(int argc, char **argv, const char *file)
{
	const char *client = NULL, *mailfrom = NULL, *helo = NULL, *msgpath = NULL;
	struct errlist errs = { NULL, 0 };
	struct authres_result res[2 + DKIM_SIGS_MAX + 1];
	struct dmarc_discovery disc;
	struct dmarc_verdict dv;
	struct dmarc_auth da;
	struct dkim_verify dk;
	struct spf spf, spfh;
	struct config *cfg;
	struct psl *psl = NULL;
	struct netaddr ip;
	struct buf msg, ar;
	struct ac ac;
	const char *dkim_domains[DKIM_SIGS_MAX], *id;
	char err[256], fromdom[256], heloid[300], pcomment[32];
	enum dmarc_from_status fst;
	size_t i, nres = 0, ndk = 0, hlen;
	unsigned char rnd;
	int r, ret = CMDS_EX_OK;

	for (i = 1; i < (size_t)argc; i++) {
		int k = (int)i;

		if (strcmp(argv[i], "--client") == 0)
			client = ac_arg(argc, argv, &k);
		else if (strcmp(argv[i], "--mail-from") == 0)
			mailfrom = ac_arg(argc, argv, &k);
		else if (strcmp(argv[i], "--helo") == 0)
			helo = ac_arg(argc, argv, &k);
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "postern: auth-check: unknown option "
			    "%s\n", argv[i]);
			return CMDS_EX_USAGE;
		} else if (msgpath == NULL)
			msgpath = argv[i];
		else
			return CMDS_EX_USAGE;
		if (k == (int)i && (strcmp(argv[i], "--client") == 0 ||
		    strcmp(argv[i], "--mail-from") == 0 ||
		    strcmp(argv[i], "--helo") == 0))
			return CMDS_EX_USAGE;	/* a value is missing */
		i = (size_t)k;
	}
	if (client == NULL || mailfrom == NULL || msgpath == NULL)
		return CMDS_EX_USAGE;
	if (netaddr_parse(client, &ip) == -1) {
		fprintf(stderr, "postern: auth-check: --client %s: not an IP "
		    "address\n", client);
		return CMDS_EX_USAGE;
	}
	if (mailfrom[0] == '<') {
		/* "<a@b>" as in the SMTP dialogue, "<>" the null sender */
		static char bare[ADDRESS_PATH_MAX + 1];
		size_t n = strlen(mailfrom);

		if (n < 2 || mailfrom[n - 1] != '>' || n - 2 > ADDRESS_PATH_MAX)
			return CMDS_EX_USAGE;
		memcpy(bare, mailfrom + 1, n - 2);
		bare[n - 2] = '\0';
		mailfrom = bare;
	}
	if ((cfg = config_load(file, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		errlist_free(&errs);
		return CMDS_EX_CONFIG;
	}
	if (helo == NULL)
		helo = "";
	id = cfg->auth_serv_id != NULL ? cfg->auth_serv_id : cfg->hostname;

	if (strcmp(msgpath, "-") == 0) {
		buf_init(&msg, AC_MESSAGE_MAX);
		r = fileio_read_all(STDIN_FILENO, &msg);
	} else
		r = fileio_read_file(AT_FDCWD, msgpath, FILEIO_FOLLOW,
		    AC_MESSAGE_MAX, &msg, NULL);
	if (r == -1 || ac_crlf(&msg) == -1) {
		fprintf(stderr, "postern: auth-check: %s: %s\n", msgpath,
		    strerror(errno));
		buf_free(&msg);
		config_free(cfg);
		return CMDS_EX_TEMPFAIL;
	}
	memset(&ac, 0, sizeof(ac));
	memset(&spf, 0, sizeof(spf));
	memset(&spfh, 0, sizeof(spfh));
	memset(&dk, 0, sizeof(dk));
	ac.ans = calloc(1, sizeof(*ac.ans));
	if (ac.ans == NULL || (ac.base = event_base_new()) == NULL ||
	    (ac.dns = dns_new(ac.base, cfg->dns_servers, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "postern: auth-check: resolver: %s\n",
		    ac.base == NULL ? "no event base" : err);
		ret = CMDS_EX_TEMPFAIL;
		goto out;
	}
	psl = psl_load_file(PSL_FILE_DEFAULT, PSL_ICANN | PSL_PRIVATE, NULL);
	if (psl == NULL) {
		fprintf(stderr, "postern: auth-check: %s: cannot read the public "
		    "suffix list\n", PSL_FILE_DEFAULT);
		ret = CMDS_EX_TEMPFAIL;
		goto out;
	}

	/* SPF: the MAIL FROM identity, or the HELO one for the null sender
	 * (RFC 7208 2.4), and the HELO identity on its own. */
	ac_spf(&ac, &spf, &ip, mailfrom[0] ? mailfrom : "", helo,
	    cfg->hostname);
	printf("spf: %s (%s=%s%s%s)%s%s\n", spf_result_name(spf.result),
	    mailfrom[0] ? "mailfrom" : "helo", mailfrom[0] ? mailfrom : helo,
	    spf.mechanism[0] ? ", mechanism " : "", spf.mechanism,
	    spf.why[0] ? ": " : "", spf.why);
	if (helo[0] != '\0') {
		(void)snprintf(heloid, sizeof(heloid), "postmaster@%s", helo);
		ac_spf(&ac, &spfh, &ip, heloid, helo, cfg->hostname);
		printf("spf-helo: %s (helo=%s)%s%s\n",
		    spf_result_name(spfh.result), helo, spfh.why[0] ? ": " : "",
		    spfh.why);
	}

	/* DKIM: every signature, each key from DNS. */
	if (dkim_verify_message(&dk, msg.data ? msg.data : "", msg.len,
	    (int64_t)time(NULL)) == -1) {
		fprintf(stderr, "postern: auth-check: out of memory\n");
		ret = CMDS_EX_TEMPFAIL;
		goto out_dkim;
	}
	ac_dkim(&ac, &dk);
	if (dk.n == 0)
		printf("dkim: none (no signature)\n");
	for (i = 0; i < dk.n; i++) {
		const struct dkim_sig *sg = &dk.sigs[i];

		printf("dkim: %s d=%s s=%s%s%s\n", dkim_result_name(sg->result),
		    sg->domain, sg->selector, sg->reason[0] ? ": " : "",
		    sg->reason);
		if (sg->result == DKIM_PASS && ndk < DKIM_SIGS_MAX)
			dkim_domains[ndk++] = sg->domain;
	}

	/* DMARC: the From domain, its record, alignment. */
	hlen = dkim_header_len(msg.data ? msg.data : "", msg.len);
	fst = dmarc_from_domain(msg.data ? msg.data : "", hlen, fromdom,
	    sizeof(fromdom));
	memset(&dv, 0, sizeof(dv));
	if (fst != DMARC_FROM_OK || dmarc_discovery_init(&disc, psl,
	    fromdom) == -1) {
		dmarc_verdict_from_error(fst != DMARC_FROM_OK ? fst :
		    DMARC_FROM_SYNTAX, &dv);
		fromdom[0] = '\0';
	} else {
		ac_dmarc(&ac, &disc);
		memset(&da, 0, sizeof(da));
		if (spf.result == SPF_RESULT_PASS)
			da.spf_domain = mailfrom[0] ? ac_domain(mailfrom) : helo;
		da.dkim_domains = dkim_domains;
		da.ndkim = ndk;
		if (RAND_bytes(&rnd, 1) != 1)
			rnd = 0;
		da.pct_random = rnd % 100;
		dmarc_evaluate(psl, &disc, &da, &dv);
	}
	printf("dmarc: %s (p=%s, policy to apply: %s)%s%s%s%s\n",
	    dmarc_result_name(dv.result), dmarc_policy_name(dv.requested),
	    dmarc_policy_name(dv.policy), fromdom[0] ? " header.from=" : "",
	    fromdom, dv.reason ? ": " : "", dv.reason ? dv.reason : "");

	/* The field, as delivery would prepend it. */
	memset(res, 0, sizeof(res));
	res[nres].method = "spf";
	res[nres].result = spf_result_name(spf.result);
	res[nres].props[0].ptype = "smtp";
	res[nres].props[0].property = mailfrom[0] ? "mailfrom" : "helo";
	res[nres].props[0].value = mailfrom[0] ? mailfrom : helo;
	res[nres++].nprops = 1;
	for (i = 0; i < dk.n && nres < sizeof(res) / sizeof(res[0]) - 1; i++) {
		const struct dkim_sig *sg = &dk.sigs[i];

		res[nres].method = "dkim";
		res[nres].result = sg->result == DKIM_PENDING ? "none" :
		    dkim_result_name(sg->result);
		res[nres].props[0].ptype = "header";
		res[nres].props[0].property = "d";
		res[nres].props[0].value = sg->domain;
		res[nres].props[1].ptype = "header";
		res[nres].props[1].property = "s";
		res[nres].props[1].value = sg->selector;
		res[nres].nprops = 2;
		nres++;
	}
	if (dk.n == 0) {
		res[nres].method = "dkim";
		res[nres++].result = "none";
	}
	res[nres].method = "dmarc";
	res[nres].result = dmarc_result_name(dv.result);
	if (dv.result == DMARC_RESULT_PASS || dv.result == DMARC_RESULT_FAIL) {
		(void)snprintf(pcomment, sizeof(pcomment), "p=%s",
		    dmarc_policy_name(dv.requested));
		res[nres].comment = pcomment;
	}
	if (fromdom[0] != '\0') {
		res[nres].props[0].ptype = "header";
		res[nres].props[0].property = "from";
		res[nres].props[0].value = fromdom;
		res[nres].nprops = 1;
	}
	nres++;
	buf_init(&ar, 8192);
	if (authres_write(&ar, id, res, nres) == 0)
		fwrite(ar.data, 1, ar.len, stdout);
	else
		fprintf(stderr, "postern: auth-check: cannot write the "
		    "Authentication-Results field\n");
	buf_free(&ar);
out_dkim:
	dkim_verify_free(&dk);
out:
	spf_free(&spfh);
	spf_free(&spf);
	if (psl != NULL)
		psl_free(psl);
	if (ac.dns != NULL)
		dns_free(ac.dns);
	if (ac.base != NULL)
		event_base_free(ac.base);
	free(ac.ans);
	buf_free(&msg);
	config_free(cfg);
	return ret;
}
