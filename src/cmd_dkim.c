/* cmd_dkim - `postern dkim keygen|check|sign|verify`: make a DKIM key and
 * the DNS record to publish; check that the published record carries our
 * key; sign and verify a message on stdin (diagnostics: the server signs
 * and verifies by itself).
 * Trusts: the administrator's command line and config; the message on
 *         stdin is anyone's and goes through dkim.c's checks.
 * Gives:  keygen: the private key written (0600, never over an existing
 *         file) and the TXT record on stdout; sign: the signed message;
 *         check: "match" or what differs; verify: one line per
 *         signature. Exit codes as in cmds.h.
 * Never:  overwrites a key file; asks DNS only for check (verify takes
 *         the record from a file). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "cmds.h"
#include "config.h"
#include "dkim.h"
#include "dkim_key.h"
#include "dns.h"
#include "fileio.h"

/* A message on stdin: the largest max_message_size allows. */
#define CMD_DKIM_MESSAGE_MAX	((size_t)2147483647)

static struct config *
load_config(const char *file)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;
	size_t i;

	if ((c = config_load(file, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		errlist_free(&errs);
	}
	return c;
}

/* stdin, with bare LF line ends made CRLF (a message saved by a Unix
 * tool). 0, or -1 (said why). */
static int
read_message(size_t max, struct buf *out)
{
	struct buf in;

	buf_init(&in, max);
	if (fileio_read_all(0, &in) == -1) {
		fprintf(stderr, "postern: dkim: stdin: %s\n", errno == EFBIG ?
		    "message too large" : strerror(errno));
		buf_free(&in);
		return -1;
	}
	buf_init(out, max + max / 2 + 2);
	if (dkim_crlf(in.data ? in.data : "", in.len, out) == -1)
		goto big;
	if (out->data == NULL)
		(void)buf_append(out, "", 0);
	buf_free(&in);
	return 0;
big:
	fprintf(stderr, "postern: dkim: stdin: message too large\n");
	buf_free(&in);
	buf_free(out);
	return -1;
}

static int
keygen(int argc, char **argv, const struct config *c)
{
	const struct config_dkim_sign *ds;
	const char *domain = NULL, *selector = NULL;
	char why[512], *path = NULL, *dir = NULL, *slash;
	struct buf zone;
	EVP_PKEY *k;
	int ed = 0, i, suggest = 0, ex;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ed25519") == 0)
			ed = 1;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "postern: dkim keygen: unknown option "
			    "%s\n", argv[i]);
			return CMDS_EX_USAGE;
		} else if (domain == NULL)
			domain = argv[i];
		else if (selector == NULL)
			selector = argv[i];
		else {
			fprintf(stderr, "postern: dkim keygen: unexpected "
			    "argument %s\n", argv[i]);
			return CMDS_EX_USAGE;
		}
	}
	if (selector == NULL) {
		fprintf(stderr, "postern: dkim keygen: DOMAIN and SELECTOR "
		    "are required\n");
		return CMDS_EX_USAGE;
	}
	ds = config_dkim_sign(c, domain);
	if (ds != NULL && strcasecmp(ds->selector, selector) == 0)
		path = xstrdup(ds->keyfile);
	else {
		/* dkim/DOMAIN.SELECTOR.key next to the config. */
		slash = strrchr(c->path, '/');
		dir = slash ? xstrndup(c->path, (size_t)(slash - c->path)) :
		    xstrdup(".");
		if (asprintf(&path, "%s/dkim/%s.%s.key", dir, domain,
		    selector) == -1) {
			free(dir);
			return CMDS_EX_TEMPFAIL;
		}
		free(dir);
		suggest = 1;
	}
	/* The key's directory (dkim/ next to the config) is made private. */
	dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	if (dir[0] != '\0' && mkdir(dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "postern: dkim keygen: %s: %s\n", dir,
		    strerror(errno));
		free(dir);
		free(path);
		return CMDS_EX_TEMPFAIL;
	}
	free(dir);
	if ((k = dkim_key_generate(ed)) == NULL) {
		fprintf(stderr, "postern: dkim keygen: cannot generate a key\n");
		free(path);
		return CMDS_EX_TEMPFAIL;
	}
	if (dkim_key_write(path, k, why, sizeof(why)) == -1) {
		fprintf(stderr, "postern: dkim keygen: %s\n", why);
		EVP_PKEY_free(k);
		free(path);
		return errno == EEXIST ? CMDS_EX_REFUSED : CMDS_EX_TEMPFAIL;
	}
	fprintf(stderr, "postern: dkim keygen: %s key written to %s\n",
	    ed ? "ed25519" : "rsa 2048", path);
	if (suggest)
		fprintf(stderr, "postern: dkim keygen: %s %s:\n"
		    "dkim_sign %s = %s:%s\n", ds != NULL ? "to sign with it, "
		    "replace the dkim_sign line for this domain in" : "add to",
		    c->path, domain, selector, path);
	fprintf(stderr, "postern: dkim keygen: publish this record:\n");
	buf_init(&zone, 8192);
	ex = CMDS_EX_OK;
	if (dkim_key_zone_line(k, domain, selector, &zone) == -1)
		ex = CMDS_EX_TEMPFAIL;
	else
		fputs(zone.data, stdout);
	buf_free(&zone);
	EVP_PKEY_free(k);
	free(path);
	return ex;
}

static int
sign(int argc, char **argv, const struct config *c)
{
	const struct config_dkim_sign *ds;
	struct dkim_sign_params p;
	struct buf msg, out;
	char why[512];
	EVP_PKEY *k;
	int ex = CMDS_EX_OK;

	if (argc != 2) {
		fprintf(stderr, "postern: dkim sign: DOMAIN is required\n");
		return CMDS_EX_USAGE;
	}
	if ((ds = config_dkim_sign(c, argv[1])) == NULL) {
		fprintf(stderr, "postern: dkim sign: no dkim_sign line for %s "
		    "in %s\n", argv[1], c->path);
		return CMDS_EX_REFUSED;
	}
	if ((k = dkim_key_load(ds->keyfile, why, sizeof(why))) == NULL) {
		fprintf(stderr, "postern: dkim sign: %s\n", why);
		return CMDS_EX_CONFIG;
	}
	if (read_message(c->max_message_size, &msg) == -1) {
		EVP_PKEY_free(k);
		return CMDS_EX_DATAERR;
	}
	memset(&p, 0, sizeof(p));
	p.domain = ds->domain;
	p.selector = ds->selector;
	(void)dkim_key_alg(k, &p.alg);
	p.key = k;
	p.hcanon = p.bcanon = DKIM_CANON_RELAXED;
	p.now = (int64_t)time(NULL);
	buf_init(&out, DKIM_TAGLIST_MAX);
	if (dkim_sign(msg.data, msg.len, &p, &out, why, sizeof(why)) == -1) {
		fprintf(stderr, "postern: dkim sign: %s\n", why);
		ex = CMDS_EX_DATAERR;
	} else if (fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fwrite(msg.data, 1, msg.len, stdout) != msg.len ||
	    fflush(stdout) == EOF)
		ex = CMDS_EX_TEMPFAIL;
	buf_free(&out);
	buf_free(&msg);
	EVP_PKEY_free(k);
	return ex;
}

static int
verify(int argc, char **argv)
{
	struct dkim_verify v;
	struct buf rec, msg;
	size_t i, rl;
	int ex = CMDS_EX_OK;

	if (argc != 3 || strcmp(argv[1], "--key-record") != 0) {
		fprintf(stderr, "postern: dkim verify: --key-record FILE is "
		    "required\n");
		return CMDS_EX_USAGE;
	}
	if (fileio_read_file(AT_FDCWD, argv[2], FILEIO_FOLLOW,
	    DKIM_TAGLIST_MAX, &rec, NULL) == -1) {
		fprintf(stderr, "postern: dkim verify: %s: %s\n", argv[2],
		    strerror(errno));
		buf_free(&rec);
		return CMDS_EX_TEMPFAIL;
	}
	rl = rec.len;
	while (rl > 0 && (rec.data[rl - 1] == '\n' || rec.data[rl - 1] == '\r'
	    || rec.data[rl - 1] == ' ' || rec.data[rl - 1] == '\t'))
		rl--;
	if (read_message(CMD_DKIM_MESSAGE_MAX / 2, &msg) == -1) {
		buf_free(&rec);
		return CMDS_EX_DATAERR;
	}
	(void)dkim_verify_message(&v, msg.data, msg.len, (int64_t)time(NULL));
	for (i = 0; i < v.n; i++)
		dkim_verify_key(&v, i, OUTCOME_OK, rec.data ? rec.data : "",
		    rl);
	if (v.n == 0) {
		printf("dkim=none (no signature)\n");
		ex = CMDS_EX_REFUSED;
	}
	for (i = 0; i < v.n; i++) {
		const struct dkim_sig *s = &v.sigs[i];

		printf("dkim=%s d=%s s=%s %s%s\n", dkim_result_name(s->result),
		    s->domain[0] ? s->domain : "-",
		    s->selector[0] ? s->selector : "-", s->reason,
		    s->unsigned_tail ? " (unsigned text after l=)" : "");
		if (s->result != DKIM_PASS)
			ex = CMDS_EX_REFUSED;
	}
	if (v.skipped > 0)
		printf("# %zu more signatures not evaluated\n", v.skipped);
	dkim_verify_free(&v);
	buf_free(&msg);
	buf_free(&rec);
	if (fflush(stdout) == EOF)
		return CMDS_EX_TEMPFAIL;
	return ex;
}

/* The p= of a key record, or NULL with *len 0. */
static const char *
record_key(const char *txt, size_t len, size_t *klen)
{
	struct dkim_taglist t;
	const struct dkim_tag *p;

	*klen = 0;
	if (dkim_tags_parse(txt, len, &t) == -1 ||
	    (p = dkim_tags_find(&t, "p")) == NULL)
		return NULL;
	*klen = p->value_len;
	return p->value;
}

/* postern dkim check DOMAIN: does SELECTOR._domainkey.DOMAIN publish the
 * public half of our key? 0 match, 1 it does not (or no record), 75 DNS
 * trouble, 78 no key. */
static int
check(int argc, char **argv, const struct config *c)
{
	const struct config_dkim_sign *ds;
	struct event_base *base = NULL;
	struct dns_answer *a = NULL;
	struct dns *d = NULL;
	struct buf ours;
	const char *ok, *pk;
	char why[512], name[400];
	size_t oklen, pklen, i;
	EVP_PKEY *k;
	int ex = CMDS_EX_REFUSED, st;

	if (argc != 2) {
		fprintf(stderr, "postern: dkim check: DOMAIN is required\n");
		return CMDS_EX_USAGE;
	}
	if ((ds = config_dkim_sign(c, argv[1])) == NULL) {
		fprintf(stderr, "postern: dkim check: no dkim_sign line for %s "
		    "in %s\n", argv[1], c->path);
		return CMDS_EX_REFUSED;
	}
	if ((k = dkim_key_load(ds->keyfile, why, sizeof(why))) == NULL) {
		fprintf(stderr, "postern: dkim check: %s\n", why);
		return CMDS_EX_CONFIG;
	}
	buf_init(&ours, DKIM_TAGLIST_MAX);
	(void)snprintf(name, sizeof(name), "%s._domainkey.%s", ds->selector,
	    ds->domain);
	if (dkim_key_record(k, &ours) == -1 ||
	    (ok = record_key(ours.data, ours.len, &oklen)) == NULL) {
		fprintf(stderr, "postern: dkim check: cannot format our key\n");
		ex = CMDS_EX_CONFIG;
		goto out;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (base = event_base_new()) == NULL ||
	    (d = dns_new(base, c->dns_servers, why, sizeof(why))) == NULL) {
		fprintf(stderr, "postern: dkim check: resolver: %s\n",
		    base == NULL ? "no event base" : why);
		ex = CMDS_EX_TEMPFAIL;
		goto out;
	}
	st = dns_query_wait(d, base, DNS_T_TXT, name, a);
	if (st == OUTCOME_TEMP) {
		printf("%s: DNS trouble (temporary); try again\n", name);
		ex = CMDS_EX_TEMPFAIL;
		goto out;
	}
	if (st != OUTCOME_OK) {
		printf("%s: no record (%s); publish:\n", name,
		    dns_status_name(st));
		buf_reset(&ours);
		if (dkim_key_zone_line(k, ds->domain, ds->selector, &ours) == 0)
			fwrite(ours.data, 1, ours.len, stdout);
		goto out;
	}
	for (i = 0; i < a->nrr; i++) {
		pk = record_key(dns_rr_text(a, i), a->rr[i].len, &pklen);
		if (pk != NULL && pklen == oklen && memcmp(pk, ok, oklen) == 0) {
			printf("%s: match\n", name);
			ex = CMDS_EX_OK;
			goto out;
		}
	}
	printf("%s: the published key is not ours (%zu record%s); publish:\n",
	    name, a->nrr, a->nrr == 1 ? "" : "s");
	buf_reset(&ours);
	if (dkim_key_zone_line(k, ds->domain, ds->selector, &ours) == 0)
		fwrite(ours.data, 1, ours.len, stdout);
out:
	if (d != NULL)
		dns_free(d);
	if (base != NULL)
		event_base_free(base);
	free(a);
	buf_free(&ours);
	EVP_PKEY_free(k);
	return ex;
}

int
cmd_dkim(int argc, char **argv, const char *config)
{
	struct config *c;
	int ex;

	if (argc < 2) {
		fprintf(stderr, "postern: dkim: keygen, check, sign or "
		    "verify?\n");
		return CMDS_EX_USAGE;
	}
	if (strcmp(argv[1], "verify") == 0)
		return verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "keygen") != 0 && strcmp(argv[1], "sign") != 0 &&
	    strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "postern: dkim: unknown subcommand %s\n",
		    argv[1]);
		return CMDS_EX_USAGE;
	}
	if ((c = load_config(config)) == NULL)
		return CMDS_EX_CONFIG;
	if (strcmp(argv[1], "keygen") == 0)
		ex = keygen(argc - 1, argv + 1, c);
	else if (strcmp(argv[1], "check") == 0)
		ex = check(argc - 1, argv + 1, c);
	else
		ex = sign(argc - 1, argv + 1, c);
	config_free(c);
	return ex;
}
