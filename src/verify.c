/* verify - SPF, DKIM and DMARC of one message against DNS; see verify.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/rand.h>

#include "authres.h"
#include "buf.h"
#include "dns.h"
#include "verify.h"

enum verify_stage {
	STAGE_SPF = 0,		/* the MAIL FROM (or HELO) identity */
	STAGE_SPF_HELO,		/* the HELO identity */
	STAGE_DKIM,		/* each pending signature's key */
	STAGE_DMARC,		/* the policy record */
	STAGE_DONE,
};

/* The domain of an address ("" for the null sender). */
static const char *
addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

struct verify *
verify_new(const struct netaddr *ip, const char *mailfrom, const char *helo,
    const char *receiver, const struct psl *psl, const char *msg, size_t len,
    time_t now)
{
	struct verify *v = xcalloc(1, sizeof(*v));
	size_t hlen;

	v->ip = *ip;
	(void)xsnprintf(v->mailfrom, sizeof(v->mailfrom), "%s", mailfrom);
	(void)xsnprintf(v->helo, sizeof(v->helo), "%s", helo);
	(void)xsnprintf(v->heloid, sizeof(v->heloid), "postmaster@%s", helo);
	v->psl = psl;
	/* RFC 7208 2.4: the null sender is checked as postmaster@HELO. */
	spf_start(&v->spf, ip, v->mailfrom, v->helo, receiver, now);
	if (v->helo[0] != '\0')
		spf_start(&v->spfh, ip, v->heloid, v->helo, receiver, now);
	if (dkim_verify_message(&v->dk, msg != NULL ? msg : "", len,
	    (int64_t)now) == -1) {
		verify_free(v);
		return NULL;
	}
	hlen = dkim_header_len(msg != NULL ? msg : "", len);
	v->fst = dmarc_from_domain(msg != NULL ? msg : "", hlen, v->fromdom,
	    sizeof(v->fromdom));
	if (v->fst == DMARC_FROM_OK &&
	    dmarc_discovery_init(&v->disc, psl, v->fromdom) == 0)
		v->dmarc_ok = 1;
	else {
		dmarc_verdict_from_error(v->fst != DMARC_FROM_OK ? v->fst :
		    DMARC_FROM_SYNTAX, &v->dv);
		v->fromdom[0] = '\0';
	}
	return v;
}

static enum spf_rcode
spf_rcode(int st)
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
spf_dns_type(enum spf_qtype t)
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

/* The SPF evaluation of the current stage. */
static struct spf *
stage_spf(struct verify *v)
{
	return v->stage == STAGE_SPF ? &v->spf : &v->spfh;
}

/* The next query to ask, moving through the stages; 0 when none is left. */
static int
next_query(struct verify *v, enum dns_qtype *t, const char **name)
{
	for (;;) {
		switch (v->stage) {
		case STAGE_SPF:
		case STAGE_SPF_HELO:
			if ((v->stage == STAGE_SPF || v->helo[0] != '\0') &&
			    spf_step(stage_spf(v)) == SPF_NEED_DNS) {
				*t = spf_dns_type(stage_spf(v)->query.type);
				*name = stage_spf(v)->query.name;
				return 1;
			}
			v->stage++;
			break;
		case STAGE_DKIM:
			while (v->sig < v->dk.n &&
			    v->dk.sigs[v->sig].result != DKIM_PENDING)
				v->sig++;
			if (v->sig < v->dk.n) {
				*t = DNS_T_TXT;
				*name = v->dk.sigs[v->sig].query;
				return 1;
			}
			v->stage++;
			break;
		case STAGE_DMARC:
			if (v->dmarc_ok &&
			    (*name = dmarc_discovery_next(&v->disc)) != NULL) {
				*t = DNS_T_TXT;
				return 1;
			}
			v->stage++;
			break;
		default:
			return 0;
		}
	}
}

/* The answer to the query next_query() gave (a NULL: a temporary failure). */
static void
apply(struct verify *v, const struct dns_answer *a)
{
	char addrs[DNS_RR_MAX][64];
	const char *recs[DNS_RR_MAX];
	size_t lens[DNS_RR_MAX], i, n;
	int st = a != NULL ? a->status : OUTCOME_TEMP;

	n = st == OUTCOME_OK ? a->nrr : 0;
	for (i = 0; i < n; i++) {
		if (a->type == DNS_T_A || a->type == DNS_T_AAAA) {
			netaddr_format(&a->rr[i].addr, addrs[i], sizeof(addrs[i]));
			recs[i] = addrs[i];
			lens[i] = strlen(addrs[i]);
		} else {
			recs[i] = dns_rr_text(a, i);
			lens[i] = a->rr[i].len;
		}
	}
	switch (v->stage) {
	case STAGE_SPF:
	case STAGE_SPF_HELO:
		spf_answer(stage_spf(v), spf_rcode(st), recs, lens, n);
		break;
	case STAGE_DKIM:
		if (st == OUTCOME_OK)
			dkim_verify_key(&v->dk, v->sig, OUTCOME_OK, recs[0], lens[0]);
		else
			dkim_verify_key(&v->dk, v->sig, st == OUTCOME_TEMP ?
			    OUTCOME_TEMP : OUTCOME_PERM, NULL, 0);
		v->sig++;
		break;
	case STAGE_DMARC:
		dmarc_discovery_answer(&v->disc, st == OUTCOME_OK ?
		    DMARC_DNS_ANSWER : st == OUTCOME_TEMP ? DMARC_DNS_TEMP :
		    DMARC_DNS_NOTHING, recs, lens, n);
		break;
	}
}

static void
finish(struct verify *v)
{
	const char *dkim_domains[DKIM_SIGS_MAX];
	struct dmarc_auth da;
	unsigned char rnd;
	size_t i, ndk = 0;

	for (i = 0; i < v->dk.n; i++)
		if (v->dk.sigs[i].result == DKIM_PASS && ndk < DKIM_SIGS_MAX)
			dkim_domains[ndk++] = v->dk.sigs[i].domain;
	if (v->dmarc_ok) {
		memset(&da, 0, sizeof(da));
		if (v->spf.result == SPF_RESULT_PASS)
			da.spf_domain = v->mailfrom[0] ? addr_domain(v->mailfrom) :
			    v->helo;
		da.dkim_domains = dkim_domains;
		da.ndkim = ndk;
		if (RAND_bytes(&rnd, 1) != 1)
			rnd = 0;
		da.pct_random = rnd % 100;
		dmarc_evaluate(v->psl, &v->disc, &da, &v->dv);
	}
	v->done(v, v->arg);
}

static void query_cb(const struct dns_answer *a, void *arg);

/* Ask until an answer has to wait for the event loop, or finish. */
static void
advance(struct verify *v)
{
	enum dns_qtype t;
	const char *name;

	v->running = 1;
	while (next_query(v, &t, &name)) {
		if (time(NULL) > v->deadline) {
			apply(v, NULL);
			continue;
		}
		v->waiting = 1;
		dns_query(v->dns, t, name, query_cb, v);
		if (v->waiting) {
			v->running = 0;
			return;		/* query_cb goes on */
		}
	}
	v->running = 0;
	finish(v);
}

static void
query_cb(const struct dns_answer *a, void *arg)
{
	struct verify *v = arg;

	v->waiting = 0;
	apply(v, a);
	if (!v->running)
		advance(v);	/* else: answered from the cache, the loop goes on */
}

void
verify_run(struct verify *v, struct dns *dns, verify_done_cb done, void *arg)
{
	v->dns = dns;
	v->done = done;
	v->arg = arg;
	v->deadline = time(NULL) + VERIFY_TIME_MAX;
	advance(v);
}

int
verify_dmarc_reject(const struct verify *v)
{
	return v->dv.result == DMARC_RESULT_FAIL &&
	    v->dv.policy == DMARC_POLICY_REJECT;
}

int
verify_authres(const struct verify *v, const char *authserv_id,
    struct buf *out)
{
	struct authres_result res[2 + DKIM_SIGS_MAX + 1];
	char pcomment[32];
	size_t i, nres = 0;

	memset(res, 0, sizeof(res));
	res[nres].method = "spf";
	res[nres].result = spf_result_name(v->spf.result);
	res[nres].props[0].ptype = "smtp";
	res[nres].props[0].property = v->mailfrom[0] ? "mailfrom" : "helo";
	res[nres].props[0].value = v->mailfrom[0] ? v->mailfrom : v->helo;
	res[nres++].nprops = 1;
	for (i = 0; i < v->dk.n && nres < sizeof(res) / sizeof(res[0]) - 1; i++) {
		const struct dkim_sig *sg = &v->dk.sigs[i];

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
	if (v->dk.n == 0) {
		res[nres].method = "dkim";
		res[nres++].result = "none";
	}
	res[nres].method = "dmarc";
	res[nres].result = dmarc_result_name(v->dv.result);
	if (v->dv.result == DMARC_RESULT_PASS || v->dv.result == DMARC_RESULT_FAIL) {
		(void)xsnprintf(pcomment, sizeof(pcomment), "p=%s",
		    dmarc_policy_name(v->dv.requested));
		res[nres].comment = pcomment;
	}
	if (v->fromdom[0] != '\0') {
		res[nres].props[0].ptype = "header";
		res[nres].props[0].property = "from";
		res[nres].props[0].value = v->fromdom;
		res[nres].nprops = 1;
	}
	nres++;
	return authres_write(out, authserv_id, res, nres);
}

void
verify_free(struct verify *v)
{
	if (v == NULL)
		return;
	spf_free(&v->spfh);
	spf_free(&v->spf);
	dkim_verify_free(&v->dk);
	free(v);
}
