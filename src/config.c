/* config - postern.conf parser: one static parameter table drives parsing,
 * defaults, bounds and `postern check` output. See config.h.
 *
 * Adding a key: add the field to struct config (config.h) and one line to
 * config_params[] below. The table's type says how the value is parsed,
 * printed and freed; a default (as text) goes through the same parser as a
 * value from the file, so a default can never bypass a check. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "decimal.h"
#include "dnsbl.h"
#include "fileio.h"
#include "log.h"

#define CONFIG_FILE_MAX		(1024 * 1024)	/* config and relay_rules files */
#define CONFIG_LINE_MAX		4096
#define CONFIG_LIST_MAX		1024		/* items in one list value */
#define CONFIG_ROUTES_MAX	4096
#define CONFIG_DKIM_SIGN_MAX	4096	/* dkim_sign lines: one per domain */

enum param_type {
	PT_HOSTNAME,	/* char *: a domain-syntax host name */
	PT_DOMAINS,	/* char ** + size_t: comma list of domains */
	PT_CIDRS,	/* struct cidr * + size_t: comma list of networks */
	PT_PATH,	/* char *: absolute after resolution */
	PT_LISTEN,	/* struct listen_addr * + size_t: "addr:port" list */
	PT_UINT,	/* unsigned, min..max */
	PT_U64,		/* uint64_t, min..max */
	PT_USERNAME,	/* char *: [a-z0-9._-], 1..32 */
	PT_ENUM,	/* int: index into a comma list of choices */
	PT_DURATION,	/* unsigned seconds: N, Ns, Nm, Nh, Nd; min..max */
	PT_SERVERS,	/* char *: "IP[:port], ..." (numeric), kept as given */
	PT_DELIM,	/* char *: one of + - = _ (recipient_delimiter) */
};

#define PF_REQUIRED	0x01

struct param {
	const char	*name;
	enum param_type	 type;
	unsigned	 flags;
	const char	*def;		/* default as text; NULL = none (or deffn) */
	uint64_t	 min, max;	/* PT_UINT, PT_U64 */
	size_t		 off;		/* where the value lands */
	size_t		 off_n;		/* list types: where the count lands */
	const char	*choices;	/* PT_ENUM: "stderr,syslog" */
	/* Computed default (hostname): fills buf, 0 or -1. */
	int		(*deffn)(char *buf, size_t len);
};

static int	config_default_hostname(char *, size_t);

#define OFF(f)		offsetof(struct config, f)
#define OFFN(f, n)	offsetof(struct config, f), offsetof(struct config, n)

/* The table. Order is the order of `postern check` output. */
static const struct param config_params[] = {
	{ "hostname", PT_HOSTNAME, 0, NULL, 0, 0, OFF(hostname), 0, NULL,
	    config_default_hostname },
	/* The authserv-id of our Authentication-Results fields (RFC 8601);
	 * unset: the hostname. */
	{ "auth_serv_id", PT_HOSTNAME, 0, NULL, 0, 0, OFF(auth_serv_id), 0,
	    NULL, NULL },
	/* SPF, DKIM and DMARC of mail from strangers, at the end of DATA;
	 * with dmarc_reject, a p=reject failure is refused (550 5.7.1). */
	{ "verify_incoming", PT_ENUM, 0, "yes", 0, 0, OFF(verify_incoming), 0,
	    "no,yes", NULL },
	{ "dmarc_reject", PT_ENUM, 0, "no", 0, 0, OFF(dmarc_reject), 0,
	    "no,yes", NULL },
	/* DNS blocklists ("dnsbl ZONE [= WEIGHT]" lines, see dnsbl_line)
	 * and greylisting, for strangers (not local_networks, relay_rules
	 * relay clients, RBLSMTPD="" clients, dnsbl_allow, AUTH). */
	{ "dnsbl_threshold", PT_UINT, 0, "1", 1, 1000, OFF(dnsbl_threshold),
	    0, NULL, NULL },
	{ "dnsbl_tempfail", PT_ENUM, 0, "no", 0, 0, OFF(dnsbl_tempfail), 0,
	    "no,yes", NULL },
	{ "dnsbl_reject_at", PT_ENUM, 0, "greeting", 0, 0,
	    OFF(dnsbl_reject_at), 0, "greeting,rcpt", NULL },
	{ "dnsbl_allow", PT_CIDRS, 0, NULL, 0, 0,
	    OFFN(dnsbl_allow, n_dnsbl_allow), NULL, NULL },
	{ "greylist", PT_ENUM, 0, "no", 0, 0, OFF(greylist), 0, "no,yes",
	    NULL },
	{ "greylist_delay", PT_DURATION, 0, "300", 1, 86400,
	    OFF(greylist_delay), 0, NULL, NULL },
	{ "greylist_window", PT_DURATION, 0, "4h", 1, 864000,
	    OFF(greylist_window), 0, NULL, NULL },
	{ "greylist_expire", PT_DURATION, 0, "36d", 1, 31536000,
	    OFF(greylist_expire), 0, NULL, NULL },
	{ "local_domains", PT_DOMAINS, PF_REQUIRED, NULL, 0, 0,
	    OFFN(local_domains, n_local_domains), NULL, NULL },
	{ "local_networks", PT_CIDRS, 0, "127.0.0.1/32, ::1/128", 0, 0,
	    OFFN(local_networks, n_local_networks), NULL, NULL },
	{ "relay_rules", PT_PATH, 0, NULL, 0, 0, OFF(relay_rules_path), 0,
	    NULL, NULL },
	{ "users", PT_PATH, PF_REQUIRED, NULL, 0, 0, OFF(users_path), 0,
	    NULL, NULL },
	{ "spool", PT_PATH, PF_REQUIRED, NULL, 0, 0, OFF(spool), 0, NULL,
	    NULL },
	{ "listen_smtp", PT_LISTEN, PF_REQUIRED, NULL, 0, 0,
	    OFFN(listen_smtp, n_listen_smtp), NULL, NULL },
	{ "max_message_size", PT_U64, 0, "10240000", 1024, 2147483647,
	    OFF(max_message_size), 0, NULL, NULL },
	{ "postmaster", PT_USERNAME, 0, NULL, 0, 0, OFF(postmaster), 0, NULL,
	    NULL },
	{ "user", PT_USERNAME, 0, "postern", 0, 0, OFF(user), 0, NULL, NULL },
	/* POP3 and POP-before-SMTP. */
	{ "listen_pop3", PT_LISTEN, 0, NULL, 0, 0,
	    OFFN(listen_pop3, n_listen_pop3), NULL, NULL },
	/* No table default: "tls-only" when TLS is configured, else "any". */
	{ "pop3_auth", PT_ENUM, 0, NULL, 0, 0, OFF(pop3_auth), 0,
	    "any,apop-only,tls-only", NULL },
	{ "pop_before_smtp_ttl", PT_UINT, 0, "900", 0, 604800,
	    OFF(pop_before_smtp_ttl), 0, NULL, NULL },
	{ "secrets", PT_PATH, 0, NULL, 0, 0, OFF(secrets_path), 0, NULL, NULL },
	{ "log", PT_ENUM, 0, "stderr", 0, 0, OFF(log_syslog), 0,
	    "stderr,syslog", NULL },
	{ "max_recipients", PT_UINT, 0, "1000", 1, 100000,
	    OFF(max_recipients), 0, NULL, NULL },
	{ "max_errors", PT_UINT, 0, "20", 1, 1000, OFF(max_errors), 0, NULL,
	    NULL },
	{ "smtp_timeout", PT_UINT, 0, "300", 1, 86400, OFF(smtp_timeout), 0,
	    NULL, NULL },
	{ "data_timeout", PT_UINT, 0, "180", 1, 86400, OFF(data_timeout), 0,
	    NULL, NULL },
	/* Outbound delivery, aliases. */
	{ "dns_servers", PT_SERVERS, 0, NULL, 0, 0, OFF(dns_servers), 0, NULL,
	    NULL },
	{ "remote_smtp_port", PT_UINT, 0, "25", 1, 65535,
	    OFF(remote_smtp_port), 0, NULL, NULL },
	{ "max_queue_lifetime", PT_DURATION, 0, "5d", 1, 8640000,
	    OFF(max_queue_lifetime), 0, NULL, NULL },
	{ "retry_min", PT_DURATION, 0, "300", 1, 86400, OFF(retry_min), 0,
	    NULL, NULL },
	{ "retry_max", PT_DURATION, 0, "4000", 1, 864000, OFF(retry_max), 0,
	    NULL, NULL },
	{ "smtp_connect_timeout", PT_DURATION, 0, "30", 1, 600,
	    OFF(smtp_connect_timeout), 0, NULL, NULL },
	{ "remote_max_connections", PT_UINT, 0, "20", 1, 1000,
	    OFF(remote_max_connections), 0, NULL, NULL },
	{ "remote_max_per_destination", PT_UINT, 0, "4", 1, 100,
	    OFF(remote_max_per_destination), 0, NULL, NULL },
	{ "aliases", PT_PATH, 0, NULL, 0, 0, OFF(aliases_path), 0, NULL, NULL },
	/* The SRS secret (forwards to other domains); unset: no SRS. */
	{ "srs_secret", PT_PATH, 0, NULL, 0, 0, OFF(srs_secret_path), 0, NULL,
	    NULL },
	/* TLS and SMTP AUTH. */
	{ "tls_cert", PT_PATH, 0, NULL, 0, 0, OFF(tls_cert), 0, NULL, NULL },
	{ "tls_key", PT_PATH, 0, NULL, 0, 0, OFF(tls_key), 0, NULL, NULL },
	{ "listen_submission", PT_LISTEN, 0, NULL, 0, 0,
	    OFFN(listen_submission, n_listen_submission), NULL, NULL },
	{ "listen_smtps", PT_LISTEN, 0, NULL, 0, 0,
	    OFFN(listen_smtps, n_listen_smtps), NULL, NULL },
	{ "listen_pop3s", PT_LISTEN, 0, NULL, 0, 0,
	    OFFN(listen_pop3s, n_listen_pop3s), NULL, NULL },
	/* IMAP and IMAP-before-SMTP (the POP3 grants, the same TTL). */
	{ "listen_imap", PT_LISTEN, 0, NULL, 0, 0,
	    OFFN(listen_imap, n_listen_imap), NULL, NULL },
	{ "listen_imaps", PT_LISTEN, 0, NULL, 0, 0,
	    OFFN(listen_imaps, n_listen_imaps), NULL, NULL },
	/* LOGIN and AUTHENTICATE PLAIN before STARTTLS (else LOGINDISABLED).
	 * No table default: "no" when TLS is configured, else "yes". */
	{ "imap_plaintext_auth", PT_ENUM, 0, NULL, 0, 0,
	    OFF(imap_plaintext_auth), 0, "no,yes", NULL },
	{ "auth_over_plaintext", PT_ENUM, 0, "no", 0, 0,
	    OFF(auth_over_plaintext), 0, "no,yes", NULL },
	{ "submission_sender_check", PT_ENUM, 0, "yes", 0, 0,
	    OFF(submission_sender_check), 0, "no,yes", NULL },
	{ "recipient_delimiter", PT_DELIM, 0, NULL, 0, 0,
	    OFF(recipient_delimiter), 0, NULL, NULL },
	/* Resource limits. */
	{ "max_sessions", PT_UINT, 0, "1000", 1, 100000, OFF(max_sessions), 0,
	    NULL, NULL },
	{ "max_sessions_per_client", PT_UINT, 0, "50", 1, 100000,
	    OFF(max_sessions_per_client), 0, NULL, NULL },
	/* Per listener kind (0: derived, see postern.conf.5): a flood on the
	 * MX port cannot take the room of submission and local clients. */
	{ "max_smtp_sessions", PT_UINT, 0, "0", 0, 100000,
	    OFF(max_smtp_sessions), 0, NULL, NULL },
	{ "max_submission_sessions", PT_UINT, 0, "0", 0, 100000,
	    OFF(max_submission_sessions), 0, NULL, NULL },
	{ "max_smtps_sessions", PT_UINT, 0, "0", 0, 100000,
	    OFF(max_smtps_sessions), 0, NULL, NULL },
	{ "reserved_sessions", PT_UINT, 0, "50", 0, 100000,
	    OFF(reserved_sessions), 0, NULL, NULL },
	{ "max_pop3_sessions", PT_UINT, 0, "1000", 1, 100000,
	    OFF(max_pop3_sessions), 0, NULL, NULL },
	{ "max_pop3_sessions_per_client", PT_UINT, 0, "50", 1, 100000,
	    OFF(max_pop3_sessions_per_client), 0, NULL, NULL },
	{ "max_imap_sessions", PT_UINT, 0, "1000", 1, 100000,
	    OFF(max_imap_sessions), 0, NULL, NULL },
	{ "max_imap_sessions_per_client", PT_UINT, 0, "50", 1, 100000,
	    OFF(max_imap_sessions_per_client), 0, NULL, NULL },
	{ "max_session_time", PT_DURATION, 0, "1h", 1, 604800,
	    OFF(max_session_time), 0, NULL, NULL },
};
#define NPARAMS	(sizeof(config_params) / sizeof(config_params[0]))

/* Parsing context: the file name, its directory, and per-key line numbers. */
struct pctx {
	const char	*name;
	char		*dir;		/* directory of name, "" for none */
	unsigned	 set_line[NPARAMS];
	struct errlist	*errs;
	int		 nerr;
};

static void pctx_err(struct pctx *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
pctx_err(struct pctx *x, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		errlist_add(x->errs, "%s:%u: %s", x->name, line, msg);
	else
		errlist_add(x->errs, "%s: %s", x->name, msg);
	x->nerr++;
}

static int
config_default_hostname(char *buf, size_t len)
{
	if (gethostname(buf, len) == -1)
		return -1;
	buf[len - 1] = '\0';
	return 0;
}

/* Quote a value for an error message: printable ASCII only, bounded. */
static const char *
qv(const char *s, char *dst, size_t len)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 5 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, len - o, "\\x%02x", c);
	}
	if (s[i] != '\0' && o + 4 <= len) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Lower-case in place and drop one trailing dot; 0 if the result is a
 * syntactically valid domain name (LDH labels of 1..63, total <= 253, last
 * label not all digits), -1 otherwise. */
static int
domain_normalise(char *s)
{
	size_t len = strlen(s), lab = 0, i;
	int alldigit = 1;

	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	if (len == 0 || len > 253)
		return -1;
	for (i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return -1;
			if (c == '\0')
				break;
			lab = 0;
			alldigit = 1;
			continue;
		}
		c = (unsigned char)tolower(c);
		s[i] = (char)c;
		if (c == '-') {
			if (lab == 0)
				return -1;
		} else if (!isdigit(c) && !(c >= 'a' && c <= 'z'))
			return -1;
		if (!isdigit(c))
			alldigit = 0;
		lab++;
	}
	if (alldigit)
		return -1;	/* "1.2.3.4" is an address, not a domain */
	return 0;
}

static int
username_valid(const char *s)
{
	size_t i;

	/* Same rule as users_name_valid(); kept here so that config.c links
	 * without libcrypt (fuzzers, unit tests). */
	if (s[0] == '\0' || strlen(s) > 32)
		return 0;
	if (!isalnum((unsigned char)s[0]) || isupper((unsigned char)s[0]))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(c >= 'a' && c <= 'z') && !isdigit(c) && c != '.' &&
		    c != '_' && c != '-')
			return 0;
	}
	return 1;
}

/* Port 1..65535 in decimal. */
static int
parse_port(const char *s, unsigned *r)
{
	uint64_t v;

	if (parse_decimal(s, strlen(s), 65535, &v) == -1 || v < 1)
		return -1;
	*r = (unsigned)v;
	return 0;
}

/* Split a comma list in place (whitespace also separates when spaces_too).
 * Items are trimmed. 0, -1 for an empty item ("a,,b", "a,"), -2 for more
 * than max items. */
static int
split_list(char *v, int spaces_too, char **items, size_t max, size_t *n_r)
{
	size_t n = 0;
	char *p = v, *start, *q;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p != '\0' && *p != ',' &&
		    !(spaces_too && (*p == ' ' || *p == '\t')))
			p++;
		if (p == start)
			return -1;
		if (n == max)
			return -2;
		items[n++] = start;
		q = p;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0') {
			*q = '\0';
			break;
		}
		if (*p == ',')
			p++;
		*q = '\0';
	}
	for (size_t i = 0; i < n; i++)
		items[i] = trim(items[i]);
	*n_r = n;
	return 0;
}

/* Resolve a path value against the config file's directory. */
static char *
path_resolve(const struct pctx *x, const char *v)
{
	char *r;

	if (v[0] == '/' || x->dir[0] == '\0')
		return xstrdup(v);
	while (v[0] == '.' && v[1] == '/')
		v += 2;
	if (asprintf(&r, "%s%s%s", x->dir, strcmp(x->dir, "/") ? "/" : "",
	    v) == -1)
		return NULL;
	return r;
}

/* Parse "addr:port" / "[v6]:port" with a numeric address. */
static int
listen_parse(const char *s, struct listen_addr *la, char *why, size_t wlen)
{
	char host[256];
	const char *colon, *port;
	struct netaddr na;
	size_t hl;

	memset(la, 0, sizeof(*la));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':') {
			snprintf(why, wlen, "expected [IPv6]:port");
			return -1;
		}
		hl = (size_t)(rb - s - 1);
		if (hl >= sizeof(host)) {
			snprintf(why, wlen, "address too long");
			return -1;
		}
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		port = rb + 2;
		if (netaddr_parse(host, &na) == -1 || strchr(host, ':') == NULL) {
			snprintf(why, wlen, "not a numeric IPv6 address");
			return -1;
		}
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			snprintf(why, wlen, "missing :port");
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			snprintf(why, wlen,
			    "IPv6 addresses must be written in brackets, "
			    "e.g. [::1]:25");
			return -1;
		}
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host)) {
			snprintf(why, wlen, "address too long");
			return -1;
		}
		memcpy(host, s, hl);
		host[hl] = '\0';
		port = colon + 1;
		if (netaddr_parse(host, &na) == -1 || na.family != AF_INET) {
			snprintf(why, wlen, "not a numeric IPv4 address");
			return -1;
		}
	}
	if (parse_port(port, &la->port) == -1) {
		snprintf(why, wlen, "port must be 1..65535");
		return -1;
	}
	if (strlen(host) >= sizeof(la->host)) {
		snprintf(why, wlen, "address too long");
		return -1;
	}
	memcpy(la->host, host, strlen(host) + 1);
	if (strchr(host, ':'))
		snprintf(la->text, sizeof(la->text), "[%s]:%u", la->host, la->port);
	else
		snprintf(la->text, sizeof(la->text), "%s:%u", la->host, la->port);
	return 0;
}

/* Free whatever the parameter holds and reset it. */
static void
param_clear(const struct param *p, struct config *c)
{
	char *base = (char *)c;
	size_t i, *np;

	switch (p->type) {
	case PT_HOSTNAME:
	case PT_PATH:
	case PT_SERVERS:
	case PT_DELIM:
	case PT_USERNAME: {
		char **sp = (char **)(base + p->off);

		free(*sp);
		*sp = NULL;
		break;
	}
	case PT_DOMAINS: {
		char ***vp = (char ***)(base + p->off);

		np = (size_t *)(base + p->off_n);
		for (i = 0; i < *np; i++)
			free((*vp)[i]);
		free(*vp);
		*vp = NULL;
		*np = 0;
		break;
	}
	case PT_CIDRS:
	case PT_LISTEN: {
		void **vp = (void **)(base + p->off);

		np = (size_t *)(base + p->off_n);
		free(*vp);
		*vp = NULL;
		*np = 0;
		break;
	}
	case PT_UINT:
	case PT_U64:
	case PT_ENUM:
	case PT_DURATION:
		break;
	}
}

/* Parse value v (trimmed, writable) into c. 0, or -1 with why filled. */
static int
param_set(const struct param *p, struct config *c, const struct pctx *x,
    char *v, char *why, size_t wlen)
{
	char *base = (char *)c, *items[CONFIG_LIST_MAX], q[128];
	size_t n = 0, i, j;
	uint64_t u;
	int r;

	if (*v == '\0') {
		snprintf(why, wlen, "empty value for '%s'", p->name);
		return -1;
	}
	switch (p->type) {
	case PT_HOSTNAME: {
		char *h = xstrdup(v);

		if (domain_normalise(h) == -1) {
			snprintf(why, wlen, "%s: '%s' is not a valid host name",
			    p->name, qv(v, q, sizeof(q)));
			free(h);
			return -1;
		}
		*(char **)(base + p->off) = h;
		return 0;
	}
	case PT_USERNAME:
		if (!username_valid(v)) {
			snprintf(why, wlen, "%s: '%s' is not a valid user name "
			    "(1..32 of a-z 0-9 . _ -, starting with a letter or "
			    "digit)", p->name, qv(v, q, sizeof(q)));
			return -1;
		}
		*(char **)(base + p->off) = xstrdup(v);
		return 0;
	case PT_PATH: {
		char *path = path_resolve(x, v);

		if (path == NULL) {
			snprintf(why, wlen, "out of memory");
			return -1;
		}
		if (strlen(path) >= PATH_MAX) {
			snprintf(why, wlen, "%s: path too long", p->name);
			free(path);
			return -1;
		}
		*(char **)(base + p->off) = path;
		return 0;
	}
	case PT_UINT:
	case PT_U64:
		if (parse_decimal(v, strlen(v), UINT64_MAX, &u) == -1) {
			snprintf(why, wlen, "%s: '%s' is not a number",
			    p->name, qv(v, q, sizeof(q)));
			return -1;
		}
		if (u < p->min || u > p->max) {
			snprintf(why, wlen, "%s: %" PRIu64 " is out of range "
			    "(%" PRIu64 "..%" PRIu64 ")", p->name, u, p->min,
			    p->max);
			return -1;
		}
		if (p->type == PT_UINT)
			*(unsigned *)(base + p->off) = (unsigned)u;
		else
			*(uint64_t *)(base + p->off) = u;
		return 0;
	case PT_ENUM: {
		const char *ch = p->choices, *e;
		int idx = 0;

		for (;;) {
			e = strchr(ch, ',');
			if (e == NULL)
				e = ch + strlen(ch);
			if ((size_t)(e - ch) == strlen(v) &&
			    strncmp(ch, v, (size_t)(e - ch)) == 0) {
				*(int *)(base + p->off) = idx;
				return 0;
			}
			if (*e == '\0')
				break;
			ch = e + 1;
			idx++;
		}
		snprintf(why, wlen, "%s: '%s' is not one of %s", p->name,
		    qv(v, q, sizeof(q)), p->choices);
		return -1;
	}
	case PT_DURATION: {
		size_t vl = strlen(v);
		uint64_t mul = 1;

		if (vl > 1 && strchr("smhd", v[vl - 1]) != NULL) {
			mul = v[vl - 1] == 's' ? 1 : v[vl - 1] == 'm' ? 60 :
			    v[vl - 1] == 'h' ? 3600 : 86400;
			vl--;
		}
		if (parse_decimal(v, vl, UINT32_MAX, &u) == -1) {
			snprintf(why, wlen, "%s: '%s' is not a duration "
			    "(N, Ns, Nm, Nh or Nd)", p->name, qv(v, q, sizeof(q)));
			return -1;
		}
		u *= mul;
		if (u < p->min || u > p->max) {
			snprintf(why, wlen, "%s: %" PRIu64 " seconds is out of "
			    "range (%" PRIu64 "..%" PRIu64 ")", p->name, u,
			    p->min, p->max);
			return -1;
		}
		*(unsigned *)(base + p->off) = (unsigned)u;
		return 0;
	}
	case PT_DELIM:
		if (strlen(v) != 1 || strchr("+-=_", v[0]) == NULL) {
			snprintf(why, wlen, "%s: '%s' must be one of + - = _",
			    p->name, qv(v, q, sizeof(q)));
			return -1;
		}
		*(char **)(base + p->off) = xstrdup(v);
		return 0;
	case PT_SERVERS: {
		char *copy = xstrdup(v), *it[CONFIG_LIST_MAX];
		struct listen_addr la;
		struct netaddr na;
		char w[200];

		r = split_list(copy, 0, it, 32, &n);
		if (r != 0 || n == 0) {
			snprintf(why, wlen, "%s: a comma list of at most 32 "
			    "addresses expected", p->name);
			free(copy);
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (netaddr_parse(it[i], &na) == 0)
				continue;	/* bare address: port 53 */
			if (listen_parse(it[i], &la, w, sizeof(w)) == -1) {
				snprintf(why, wlen, "%s: '%s': a numeric IP, "
				    "IP:PORT or [IPv6]:PORT expected", p->name,
				    qv(it[i], q, sizeof(q)));
				free(copy);
				return -1;
			}
		}
		free(copy);
		*(char **)(base + p->off) = xstrdup(v);
		return 0;
	}
	case PT_DOMAINS:
	case PT_CIDRS:
	case PT_LISTEN:
		break;
	}

	/* List types. */
	r = split_list(v, p->type == PT_LISTEN, items, CONFIG_LIST_MAX, &n);
	if (r == -2) {
		snprintf(why, wlen, "%s: more than %d items", p->name,
		    CONFIG_LIST_MAX);
		return -1;
	}
	if (r == -1 || n == 0) {
		snprintf(why, wlen, "%s: empty item in list", p->name);
		return -1;
	}
	if (p->type == PT_DOMAINS) {
		char **dv = xcalloc(n, sizeof(*dv));

		for (i = 0; i < n; i++) {
			dv[i] = xstrdup(items[i]);
			if (domain_normalise(dv[i]) == -1) {
				snprintf(why, wlen, "%s: '%s' is not a valid "
				    "domain name", p->name,
				    qv(items[i], q, sizeof(q)));
				goto bad_domains;
			}
			for (j = 0; j < i; j++)
				if (strcmp(dv[j], dv[i]) == 0) {
					snprintf(why, wlen, "%s: '%s' is "
					    "listed twice", p->name, dv[i]);
					goto bad_domains;
				}
		}
		*(char ***)(base + p->off) = dv;
		*(size_t *)(base + p->off_n) = n;
		return 0;
bad_domains:
		for (j = 0; j <= i; j++)
			free(dv[j]);
		free(dv);
		return -1;
	}
	if (p->type == PT_CIDRS) {
		struct cidr *cv = xcalloc(n, sizeof(*cv));

		for (i = 0; i < n; i++) {
			if (cidr_parse(items[i], &cv[i]) == -1) {
				char addr[128];
				const char *sl = strchr(items[i], '/');
				struct netaddr na;
				size_t al = sl ? (size_t)(sl - items[i]) :
				    strlen(items[i]);

				snprintf(why, wlen, "%s: '%s' is not a network "
				    "(address/prefix)", p->name,
				    qv(items[i], q, sizeof(q)));
				if (sl != NULL && al < sizeof(addr)) {
					memcpy(addr, items[i], al);
					addr[al] = '\0';
					if (netaddr_parse(addr, &na) == 0)
						snprintf(why, wlen, "%s: '%s': "
						    "bad prefix length, or host "
						    "bits set below the prefix",
						    p->name,
						    qv(items[i], q, sizeof(q)));
				}
				free(cv);
				return -1;
			}
		}
		*(struct cidr **)(base + p->off) = cv;
		*(size_t *)(base + p->off_n) = n;
		return 0;
	}
	/* PT_LISTEN */
	{
		struct listen_addr *lv = xcalloc(n, sizeof(*lv));
		char w[200];

		for (i = 0; i < n; i++) {
			if (listen_parse(items[i], &lv[i], w, sizeof(w)) == -1) {
				snprintf(why, wlen, "%s: '%s': %s", p->name,
				    qv(items[i], q, sizeof(q)), w);
				free(lv);
				return -1;
			}
			for (j = 0; j < i; j++)
				if (strcmp(lv[j].text, lv[i].text) == 0) {
					snprintf(why, wlen, "%s: '%s' is "
					    "listed twice", p->name,
					    lv[i].text);
					free(lv);
					return -1;
				}
		}
		*(struct listen_addr **)(base + p->off) = lv;
		*(size_t *)(base + p->off_n) = n;
		return 0;
	}
}

/* Values of the route option tls=, indexed by CONFIG_TLS_*. */
static const char *const route_tls_names[] = { "may", "none", "required" };

/* The options after HOST:PORT: "key=value" words ("key = value" too),
 * separated by blanks. Only tls= exists so far; an unknown or repeated
 * option is an error, like an unknown key. 0, or -1 (reported). */
static int
route_options(struct pctx *x, unsigned line, struct route *r, char *opts)
{
	char q[128], *key, *v;
	size_t kl, vl, i;
	int seen_tls = 0;

	for (;;) {
		while (*opts == ' ' || *opts == '\t')
			opts++;
		if (*opts == '\0')
			return 0;
		key = opts;
		while (*opts != '\0' && *opts != '=' && *opts != ' ' &&
		    *opts != '\t')
			opts++;
		kl = (size_t)(opts - key);
		while (*opts == ' ' || *opts == '\t')
			opts++;
		if (*opts != '=') {
			key[kl] = '\0';
			pctx_err(x, line, "route %s: option '%s' needs a value "
			    "(e.g. tls=required)", r->domain,
			    qv(key, q, sizeof(q)));
			return -1;
		}
		key[kl] = '\0';
		opts++;
		while (*opts == ' ' || *opts == '\t')
			opts++;
		v = opts;
		while (*opts != '\0' && *opts != ' ' && *opts != '\t')
			opts++;
		vl = (size_t)(opts - v);
		if (*opts != '\0')
			*opts++ = '\0';
		if (strcmp(key, "tls") != 0) {
			pctx_err(x, line, "route %s: unknown option '%s' "
			    "(known: tls)", r->domain, qv(key, q, sizeof(q)));
			return -1;
		}
		if (seen_tls++) {
			pctx_err(x, line, "route %s: option tls given twice",
			    r->domain);
			return -1;
		}
		for (i = 0; i < sizeof(route_tls_names) /
		    sizeof(route_tls_names[0]); i++)
			if (vl > 0 && strcmp(v, route_tls_names[i]) == 0)
				break;
		if (i == sizeof(route_tls_names) / sizeof(route_tls_names[0])) {
			pctx_err(x, line, "route %s: tls '%s' must be may, none "
			    "or required", r->domain, qv(v, q, sizeof(q)));
			return -1;
		}
		r->tls = (int)i;
	}
}

/* "route DOMAIN = HOST:PORT [tls=may|none|required]"; dom is what follows
 * "route", val what follows '='. */
static void
route_line(struct config *c, struct pctx *x, unsigned line, char *dom,
    char *val)
{
	struct route r;
	char q[128], *colon, *host, *port, *opts;
	struct netaddr na;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.line = line;
	r.tls = CONFIG_TLS_MAY;
	dom = trim(dom);
	if (*dom == '\0') {
		pctx_err(x, line, "route: missing domain "
		    "(route DOMAIN = HOST:PORT)");
		return;
	}
	if (strcmp(dom, "*") != 0 && domain_normalise(dom) == -1) {
		pctx_err(x, line, "route: '%s' is not a domain name or '*'",
		    qv(dom, q, sizeof(q)));
		return;
	}
	memcpy(r.domain, dom, strlen(dom) + 1);	/* <= 253 */
	if (*val == '\0') {
		pctx_err(x, line, "route %s: missing HOST:PORT", r.domain);
		return;
	}
	/* HOST:PORT is the first word; options follow it. */
	opts = val + strcspn(val, " \t");
	if (*opts != '\0')
		*opts++ = '\0';
	if (route_options(x, line, &r, opts) == -1)
		return;
	if (val[0] == '[') {
		char *rb = strchr(val, ']');

		if (rb == NULL || rb[1] != ':') {
			pctx_err(x, line, "route %s: '%s': expected "
			    "[IPv6]:PORT", r.domain, qv(val, q, sizeof(q)));
			return;
		}
		*rb = '\0';
		host = val + 1;
		port = rb + 2;
		if (netaddr_parse(host, &na) == -1 ||
		    strchr(host, ':') == NULL) {
			pctx_err(x, line, "route %s: '%s' is not an IPv6 "
			    "address", r.domain, qv(host, q, sizeof(q)));
			return;
		}
	} else {
		colon = strrchr(val, ':');
		if (colon == NULL) {
			pctx_err(x, line, "route %s: '%s': the port is "
			    "required (HOST:PORT)", r.domain,
			    qv(val, q, sizeof(q)));
			return;
		}
		*colon = '\0';
		host = val;
		port = colon + 1;
		if (strchr(host, ':') != NULL) {
			pctx_err(x, line, "route %s: IPv6 addresses must be "
			    "written in brackets, e.g. [2001:db8::1]:25",
			    r.domain);
			return;
		}
		if (netaddr_parse(host, &na) == 0 && na.family == AF_INET)
			;	/* IPv4 literal */
		else if (domain_normalise(host) == -1) {
			pctx_err(x, line, "route %s: '%s' is not a host name "
			    "or address", r.domain, qv(host, q, sizeof(q)));
			return;
		}
	}
	if (parse_port(port, &r.port) == -1) {
		pctx_err(x, line, "route %s: port '%s' must be 1..65535",
		    r.domain, qv(port, q, sizeof(q)));
		return;
	}
	if (strlen(host) >= sizeof(r.host)) {
		pctx_err(x, line, "route %s: host too long", r.domain);
		return;
	}
	memcpy(r.host, host, strlen(host) + 1);
	for (i = 0; i < c->n_routes; i++)
		if (strcmp(c->routes[i].domain, r.domain) == 0) {
			pctx_err(x, line, "duplicate route for '%s' (first on "
			    "line %u)", r.domain, c->routes[i].line);
			return;
		}
	if (c->n_routes == CONFIG_ROUTES_MAX) {
		pctx_err(x, line, "too many routes (max %d)",
		    CONFIG_ROUTES_MAX);
		return;
	}
	c->routes = xreallocarray(c->routes, c->n_routes + 1,
	    sizeof(*c->routes));
	c->routes[c->n_routes++] = r;
}

/* A DKIM selector: LDH labels separated by dots, at most 63 octets in
 * all (it is one part of SELECTOR._domainkey.DOMAIN). */
static int
dkim_selector_valid(const char *s)
{
	size_t i, lab = 0, len = strlen(s);

	if (len == 0 || len > 63)
		return 0;
	for (i = 0; i <= len; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && !(s[i] == '-' && lab > 0))
			return 0;
		lab++;
	}
	return 1;
}

/* "dnsbl ZONE [= WEIGHT]"; rest is what follows "dnsbl". */
static void
dnsbl_line(struct config *c, struct pctx *x, unsigned line, char *rest)
{
	struct config_dnsbl b;
	char q[128], *eq, *zone, *w, *end;
	unsigned long weight = 1;
	size_t i, lab = 0, len;

	memset(&b, 0, sizeof(b));
	b.line = line;
	eq = strchr(rest, '=');
	if (eq != NULL)
		*eq = '\0';
	zone = trim(rest);
	len = strlen(zone);
	if (len > 0 && zone[len - 1] == '.')
		zone[--len] = '\0';
	for (i = 0; i <= len; i++) {
		if (zone[i] == '.' || zone[i] == '\0') {
			if (lab == 0 || lab > 63)
				break;
			lab = 0;
			continue;
		}
		if (!isalnum((unsigned char)zone[i]) && zone[i] != '-' &&
		    zone[i] != '_')
			break;
		lab++;
	}
	if (len == 0 || len >= sizeof(b.zone) || i <= len) {
		pctx_err(x, line, "dnsbl: '%s' is not a zone name (dnsbl ZONE "
		    "[= WEIGHT])", qv(zone, q, sizeof(q)));
		return;
	}
	for (i = 0; i < len; i++)
		b.zone[i] = (char)tolower((unsigned char)zone[i]);
	if (eq != NULL) {
		w = trim(eq + 1);
		errno = 0;
		weight = strtoul(w, &end, 10);
		if (!isdigit((unsigned char)*w) || *end != '\0' || errno != 0 ||
		    weight < 1 || weight > 1000) {
			pctx_err(x, line, "dnsbl %s: weight '%s' is not a "
			    "number from 1 to 1000", b.zone, qv(w, q, sizeof(q)));
			return;
		}
	}
	b.weight = (unsigned)weight;
	for (i = 0; i < c->n_dnsbl; i++)
		if (strcmp(c->dnsbl[i].zone, b.zone) == 0) {
			pctx_err(x, line, "duplicate dnsbl '%s' (first on line "
			    "%u)", b.zone, c->dnsbl[i].line);
			return;
		}
	if (c->n_dnsbl == DNSBL_ZONES_MAX) {
		pctx_err(x, line, "too many dnsbl lines (max %d)",
		    DNSBL_ZONES_MAX);
		return;
	}
	c->dnsbl = xreallocarray(c->dnsbl, c->n_dnsbl + 1, sizeof(*c->dnsbl));
	c->dnsbl[c->n_dnsbl++] = b;
}

/* "dkim_sign DOMAIN = SELECTOR:KEYFILE"; dom is what follows "dkim_sign",
 * val what follows '='. */
static void
dkim_sign_line(struct config *c, struct pctx *x, unsigned line, char *dom,
    char *val)
{
	struct config_dkim_sign d;
	char q[128], *colon, *path;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.line = line;
	dom = trim(dom);
	if (*dom == '\0' || domain_normalise(dom) == -1) {
		pctx_err(x, line, "dkim_sign: '%s' is not a domain name "
		    "(dkim_sign DOMAIN = SELECTOR:KEYFILE)",
		    qv(dom, q, sizeof(q)));
		return;
	}
	memcpy(d.domain, dom, strlen(dom) + 1);	/* <= 253 */
	colon = strchr(val, ':');
	if (colon == NULL || colon[1] == '\0') {
		pctx_err(x, line, "dkim_sign %s: expected SELECTOR:KEYFILE",
		    d.domain);
		return;
	}
	*colon = '\0';
	val = trim(val);
	if (!dkim_selector_valid(val)) {
		pctx_err(x, line, "dkim_sign %s: '%s' is not a selector "
		    "(letters, digits, '-' and '.', at most 63)", d.domain,
		    qv(val, q, sizeof(q)));
		return;
	}
	for (i = 0; val[i] != '\0'; i++)
		d.selector[i] = (char)tolower((unsigned char)val[i]);
	path = trim(colon + 1);
	if (*path == '\0' || (path = path_resolve(x, path)) == NULL) {
		pctx_err(x, line, "dkim_sign %s: missing KEYFILE", d.domain);
		return;
	}
	if (strlen(path) >= PATH_MAX) {
		pctx_err(x, line, "dkim_sign %s: path too long", d.domain);
		free(path);
		return;
	}
	for (i = 0; i < c->n_dkim_sign; i++)
		if (strcmp(c->dkim_sign[i].domain, d.domain) == 0) {
			pctx_err(x, line, "duplicate dkim_sign for '%s' (first "
			    "on line %u)", d.domain, c->dkim_sign[i].line);
			free(path);
			return;
		}
	if (c->n_dkim_sign == CONFIG_DKIM_SIGN_MAX) {
		pctx_err(x, line, "too many dkim_sign lines (max %d)",
		    CONFIG_DKIM_SIGN_MAX);
		free(path);
		return;
	}
	d.keyfile = path;
	c->dkim_sign = xreallocarray(c->dkim_sign, c->n_dkim_sign + 1,
	    sizeof(*c->dkim_sign));
	c->dkim_sign[c->n_dkim_sign++] = d;
}

static const struct param *
param_find(const char *key, size_t *idx)
{
	size_t i;

	for (i = 0; i < NPARAMS; i++)
		if (strcmp(config_params[i].name, key) == 0) {
			*idx = i;
			return &config_params[i];
		}
	return NULL;
}

static void
parse_line(struct config *c, struct pctx *x, unsigned lineno, char *l)
{
	char *eq, *key, *val, q[128], why[512];
	const struct param *p;
	size_t i, idx;

	/* Comments: '#' at the start or after whitespace. */
	for (i = 0; l[i] != '\0'; i++)
		if (l[i] == '#' && (i == 0 || l[i - 1] == ' ' ||
		    l[i - 1] == '\t')) {
			l[i] = '\0';
			break;
		}
	l = trim(l);
	if (*l == '\0')
		return;
	/* The one key whose '=' is optional. */
	if (strncmp(l, "dnsbl", 5) == 0 && (l[5] == ' ' || l[5] == '\t')) {
		dnsbl_line(c, x, lineno, l + 5);
		return;
	}
	eq = strchr(l, '=');
	if (eq == NULL) {
		pctx_err(x, lineno, "missing '=' in '%s' (expected key = value)",
		    qv(l, q, sizeof(q)));
		return;
	}
	*eq = '\0';
	key = trim(l);
	val = trim(eq + 1);
	if (strncmp(key, "route", 5) == 0 && (key[5] == ' ' ||
	    key[5] == '\t' || key[5] == '\0')) {
		route_line(c, x, lineno, key + 5, val);
		return;
	}
	if (strncmp(key, "dkim_sign", 9) == 0 && (key[9] == ' ' ||
	    key[9] == '\t' || key[9] == '\0')) {
		dkim_sign_line(c, x, lineno, key + 9, val);
		return;
	}
	if ((p = param_find(key, &idx)) == NULL) {
		pctx_err(x, lineno, "unknown key '%s'", qv(key, q, sizeof(q)));
		return;
	}
	if (x->set_line[idx] != 0) {
		pctx_err(x, lineno, "repeated key '%s' (first set on line %u)",
		    p->name, x->set_line[idx]);
		return;
	}
	if (param_set(p, c, x, val, why, sizeof(why)) == -1) {
		/* Mark it as set anyway: one bad value, one message; no
		 * "missing required key" on top. */
		x->set_line[idx] = lineno;
		pctx_err(x, lineno, "%s", why);
		return;
	}
	x->set_line[idx] = lineno;
}

struct config *
config_parse(const char *name, const char *text, size_t len,
    struct errlist *errs)
{
	struct config *c;
	struct pctx x;
	const char *p = text, *end = text + len, *nl, *slash;
	char line[CONFIG_LINE_MAX + 2], why[512], dbuf[256];
	unsigned lineno = 0;
	size_t i, ll;

	memset(&x, 0, sizeof(x));
	x.name = name;
	x.errs = errs;
	slash = strrchr(name, '/');
	x.dir = slash ? xstrndup(name, slash == name ? 1 :
	    (size_t)(slash - name)) : xstrdup("");

	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(name);

	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll > CONFIG_LINE_MAX) {
			pctx_err(&x, lineno, "line longer than %d bytes",
			    CONFIG_LINE_MAX);
		} else if (memchr(p, '\0', ll) != NULL) {
			pctx_err(&x, lineno, "NUL byte in line");
		} else if (memchr(p, '\r', ll) != NULL) {
			pctx_err(&x, lineno, "stray CR in line");
		} else {
			memcpy(line, p, ll);
			line[ll] = '\0';
			parse_line(c, &x, lineno, line);
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}

	/* Defaults and required keys, in table order. */
	for (i = 0; i < NPARAMS; i++) {
		const struct param *pp = &config_params[i];
		char *v;

		if (x.set_line[i] != 0)
			continue;
		if (pp->flags & PF_REQUIRED) {
			pctx_err(&x, 0, "missing required key '%s'", pp->name);
			continue;
		}
		if (pp->deffn != NULL) {
			if (pp->deffn(dbuf, sizeof(dbuf)) == -1) {
				pctx_err(&x, 0, "%s: no default available; "
				    "set it", pp->name);
				continue;
			}
			v = xstrdup(dbuf);
		} else if (pp->def != NULL)
			v = xstrdup(pp->def);
		else
			continue;
		if (param_set(pp, c, &x, v, why, sizeof(why)) == -1)
			pctx_err(&x, 0, "default %s (set it explicitly)", why);
		free(v);
	}

	/* Defaults derived from other keys. */
	if (c->auth_serv_id == NULL && c->hostname != NULL)
		c->auth_serv_id = xstrdup(c->hostname);
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		pctx_err(&x, 0, "tls_cert and tls_key go together");
	if (c->tls_cert == NULL && (c->n_listen_smtps || c->n_listen_pop3s ||
	    c->n_listen_submission))
		pctx_err(&x, 0, "listen_submission, listen_smtps and listen_pop3s "
		    "need tls_cert and tls_key");
	if (c->tls_cert == NULL && c->n_listen_imaps)
		pctx_err(&x, 0, "listen_imaps needs tls_cert and tls_key");
	if (param_find("imap_plaintext_auth", &i) != NULL && x.set_line[i] == 0)
		c->imap_plaintext_auth = c->tls_cert == NULL;
	if (param_find("pop3_auth", &i) != NULL && x.set_line[i] == 0)
		c->pop3_auth = c->tls_cert != NULL ? CONFIG_POP3_AUTH_TLS_ONLY :
		    CONFIG_POP3_AUTH_ANY;
	else if (c->pop3_auth == CONFIG_POP3_AUTH_TLS_ONLY && c->tls_cert == NULL)
		pctx_err(&x, x.set_line[i], "pop3_auth = tls-only needs tls_cert "
		    "and tls_key");
	if (c->secrets_path == NULL && c->users_path != NULL) {
		size_t n = strlen(c->users_path) + sizeof(".secrets");
		c->secrets_path = xcalloc(1, n);
		(void)xsnprintf(c->secrets_path, n, "%s.secrets", c->users_path);
	}

	free(x.dir);
	if (x.nerr > 0) {
		config_free(c);
		return NULL;
	}
	return c;
}

/* Read a whole file, at most max bytes. 0, or -1 with errno-ish message. */
static int
read_file(const char *path, size_t max, struct buf *b, char *why, size_t wlen)
{
	struct stat st;
	int fd;

	buf_init(b, max);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(why, wlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "not a regular file");
		close(fd);
		return -1;
	}
	if (fileio_read_all(fd, b) == -1) {
		if (errno == EFBIG)
			snprintf(why, wlen, "larger than %zu bytes", max);
		else
			snprintf(why, wlen, "read error: %s", strerror(errno));
		goto fail;
	}
	close(fd);
	if (b->data == NULL)
		buf_append(b, "", 0);
	return 0;
fail:
	close(fd);
	buf_free(b);
	return -1;
}

struct config *
config_load(const char *path, struct errlist *errs)
{
	struct config *c;
	struct buf b, rb;
	char *abs = NULL, why[256], cwd[PATH_MAX];

	if (path[0] == '/')
		abs = xstrdup(path);
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			errlist_add(errs, "%s: cannot get the current "
			    "directory: %s", path, strerror(errno));
			return NULL;
		}
		while (path[0] == '.' && path[1] == '/')
			path += 2;
		if (asprintf(&abs, "%s/%s", strcmp(cwd, "/") ? cwd : "",
		    path) == -1)
			fatal("out of memory");
	}
	if (read_file(abs, CONFIG_FILE_MAX, &b, why, sizeof(why)) == -1) {
		errlist_add(errs, "%s: %s", abs, why);
		free(abs);
		return NULL;
	}
	c = config_parse(abs, b.data, b.len, errs);
	buf_free(&b);
	free(abs);
	if (c == NULL || c->relay_rules_path == NULL)
		return c;
	if (read_file(c->relay_rules_path, CONFIG_FILE_MAX, &rb, why,
	    sizeof(why)) == -1) {
		errlist_add(errs, "%s: %s", c->relay_rules_path, why);
		config_free(c);
		return NULL;
	}
	c->rules = rules_parse(c->relay_rules_path, rb.data, rb.len, errs);
	buf_free(&rb);
	if (c->rules == NULL) {
		config_free(c);
		return NULL;
	}
	return c;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NPARAMS; i++)
		param_clear(&config_params[i], c);
	if (c->rules)
		rules_free(c->rules);
	free(c->routes);
	for (i = 0; i < c->n_dkim_sign; i++)
		free(c->dkim_sign[i].keyfile);
	free(c->dkim_sign);
	free(c->dnsbl);
	free(c->path);
	free(c);
}

static void
param_print(const struct param *p, const struct config *c, FILE *out)
{
	const char *base = (const char *)c;
	char tmp[128];
	size_t i, n = p->off_n ? *(const size_t *)(base + p->off_n) : 0;

	switch (p->type) {
	case PT_HOSTNAME:
	case PT_PATH:
	case PT_SERVERS:
	case PT_DELIM:
	case PT_USERNAME: {
		const char *s = *(char * const *)(base + p->off);

		if (s == NULL)
			fprintf(out, "# %s is not set\n", p->name);
		else
			fprintf(out, "%s = %s\n", p->name, s);
		return;
	}
	case PT_UINT:
	case PT_DURATION:
		fprintf(out, "%s = %u\n", p->name,
		    *(const unsigned *)(base + p->off));
		return;
	case PT_U64:
		fprintf(out, "%s = %" PRIu64 "\n", p->name,
		    *(const uint64_t *)(base + p->off));
		return;
	case PT_ENUM: {
		const char *ch = p->choices, *e;
		int idx = *(const int *)(base + p->off);

		while (idx-- > 0 && (e = strchr(ch, ',')) != NULL)
			ch = e + 1;
		e = strchr(ch, ',');
		fprintf(out, "%s = %.*s\n", p->name,
		    (int)(e ? (size_t)(e - ch) : strlen(ch)), ch);
		return;
	}
	case PT_DOMAINS:
	case PT_CIDRS:
	case PT_LISTEN:
		break;
	}
	if (n == 0) {
		fprintf(out, "# %s is not set\n", p->name);
		return;
	}
	fprintf(out, "%s = ", p->name);
	for (i = 0; i < n; i++) {
		const char *sep = i ? ", " : "";

		if (p->type == PT_DOMAINS)
			fprintf(out, "%s%s", sep,
			    (*(char ** const *)(base + p->off))[i]);
		else if (p->type == PT_CIDRS)
			fprintf(out, "%s%s", sep, cidr_format(
			    &(*(struct cidr * const *)(base + p->off))[i],
			    tmp, sizeof(tmp)));
		else
			fprintf(out, "%s%s", sep,
			    (*(struct listen_addr * const *)(base +
			    p->off))[i].text);
	}
	fputc('\n', out);
}

void
config_print(const struct config *c, FILE *out)
{
	size_t i;

	fprintf(out, "# %s\n", c->path);
	for (i = 0; i < NPARAMS; i++)
		param_print(&config_params[i], c, out);
	for (i = 0; i < c->n_routes; i++) {
		const struct route *r = &c->routes[i];

		char opts[32] = "";

		/* The default (may) is left out, as it was before tls=. */
		if (r->tls != CONFIG_TLS_MAY)
			(void)xsnprintf(opts, sizeof(opts), " tls=%s",
			    route_tls_names[r->tls]);
		if (strchr(r->host, ':'))
			fprintf(out, "route %s = [%s]:%u%s\n", r->domain,
			    r->host, r->port, opts);
		else
			fprintf(out, "route %s = %s:%u%s\n", r->domain,
			    r->host, r->port, opts);
	}
	for (i = 0; i < c->n_dkim_sign; i++)
		fprintf(out, "dkim_sign %s = %s:%s\n", c->dkim_sign[i].domain,
		    c->dkim_sign[i].selector, c->dkim_sign[i].keyfile);
	for (i = 0; i < c->n_dnsbl; i++)
		fprintf(out, "dnsbl %s = %u\n", c->dnsbl[i].zone,
		    c->dnsbl[i].weight);
}

const struct config_dkim_sign *
config_dkim_sign(const struct config *c, const char *domain)
{
	size_t i, dl = strlen(domain);

	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	for (i = 0; i < c->n_dkim_sign; i++)
		if (strlen(c->dkim_sign[i].domain) == dl &&
		    strncasecmp(c->dkim_sign[i].domain, domain, dl) == 0)
			return &c->dkim_sign[i];
	return NULL;
}

const struct route *
config_route(const struct config *c, const char *domain)
{
	const struct route *star = NULL;
	size_t i, dl = strlen(domain);

	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	for (i = 0; i < c->n_routes; i++) {
		const struct route *r = &c->routes[i];

		if (strcmp(r->domain, "*") == 0)
			star = r;
		else if (strlen(r->domain) == dl &&
		    strncasecmp(r->domain, domain, dl) == 0)
			return r;
	}
	return star;
}
