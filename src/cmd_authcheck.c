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
#include "verify.h"

/* A saved message larger than this is not one postern would accept. */
#define AC_MESSAGE_MAX	(64u * 1024 * 1024)

struct ac {
	struct event_base *base;
	struct dns	*dns;
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

static void
ac_done(struct verify *v, void *arg)
{
	(void)v;
	*(int *)arg = 1;
}

int
cmd_authcheck(int argc, char **argv, const char *file)
{
	const char *client = NULL, *mailfrom = NULL, *helo = NULL, *msgpath = NULL;
	struct errlist errs = { NULL, 0 };
	struct verify *v = NULL;
	struct config *cfg;
	struct psl *psl = NULL;
	struct netaddr ip;
	struct buf msg, ar;
	struct ac ac;
	const char *id;
	char err[256];
	size_t i;
	int r, done = 0, ret = CMDS_EX_OK;

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
	if ((ac.base = event_base_new()) == NULL ||
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
	v = verify_new(&ip, mailfrom, helo, cfg->hostname, psl,
	    msg.data ? msg.data : "", msg.len, time(NULL));
	if (v == NULL) {
		fprintf(stderr, "postern: auth-check: out of memory\n");
		ret = CMDS_EX_TEMPFAIL;
		goto out;
	}
	verify_run(v, ac.dns, ac_done, &done);
	while (!done)
		(void)event_base_loop(ac.base, EVLOOP_ONCE);

	/* SPF: the MAIL FROM identity, or the HELO one for the null sender
	 * (RFC 7208 2.4), and the HELO identity on its own. */
	printf("spf: %s (%s=%s%s%s)%s%s\n", spf_result_name(v->spf.result),
	    mailfrom[0] ? "mailfrom" : "helo", mailfrom[0] ? mailfrom : helo,
	    v->spf.mechanism[0] ? ", mechanism " : "", v->spf.mechanism,
	    v->spf.why[0] ? ": " : "", v->spf.why);
	if (helo[0] != '\0')
		printf("spf-helo: %s (helo=%s)%s%s\n",
		    spf_result_name(v->spfh.result), helo,
		    v->spfh.why[0] ? ": " : "", v->spfh.why);

	/* DKIM: every signature, each key from DNS. */
	if (v->dk.n == 0)
		printf("dkim: none (no signature)\n");
	for (i = 0; i < v->dk.n; i++) {
		const struct dkim_sig *sg = &v->dk.sigs[i];

		printf("dkim: %s d=%s s=%s%s%s\n", dkim_result_name(sg->result),
		    sg->domain, sg->selector, sg->reason[0] ? ": " : "",
		    sg->reason);
	}

	/* DMARC: the From domain, its record, alignment. */
	printf("dmarc: %s (p=%s, policy to apply: %s)%s%s%s%s\n",
	    dmarc_result_name(v->dv.result), dmarc_policy_name(v->dv.requested),
	    dmarc_policy_name(v->dv.policy), v->fromdom[0] ? " header.from=" : "",
	    v->fromdom, v->dv.reason ? ": " : "",
	    v->dv.reason ? v->dv.reason : "");

	/* The field, as delivery would prepend it. */
	buf_init(&ar, 8192);
	if (verify_authres(v, id, &ar) == 0)
		fwrite(ar.data, 1, ar.len, stdout);
	else
		fprintf(stderr, "postern: auth-check: cannot write the "
		    "Authentication-Results field\n");
	buf_free(&ar);
out:
	verify_free(v);
	if (psl != NULL)
		psl_free(psl);
	if (ac.dns != NULL)
		dns_free(ac.dns);
	if (ac.base != NULL)
		event_base_free(ac.base);
	buf_free(&msg);
	config_free(cfg);
	return ret;
}
