/* config - postern.conf: one parameter table, defaults that are safe on the
 *          internet, and every error reported as file:line.
 * Trusts: nothing in the file; values are checked against the table's bounds.
 * Gives:  a struct config with every effective value (defaults filled in),
 *         the parsed relay rules, or the list of all errors found.
 * Syntax: "key = value" lines, '#' comments (whole line, or after
 *         whitespace), "route DOMAIN = HOST:PORT [tls=may|none|required]"
 *         lines, "dkim_sign DOMAIN = SELECTOR:KEYFILE" lines. Unknown keys, repeated keys and bad values are errors.
 *         Required keys:
 *         local_domains, users, spool, listen_smtp.
 * Never:  opens anything but the config file itself and the relay_rules
 *         file (config_load); config_parse does no I/O at all. */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "buf.h"
#include "netaddr.h"
#include "rules.h"

struct listen_addr {
	char		host[64];	/* numeric: "127.0.0.1", "::1" */
	unsigned	port;
	char		text[80];	/* as written, for logs */
};

/* route option tls=, in the order of route_tls_names[] in config.c. MAY is
 * 0: a route without the option, and MX delivery, are opportunistic. */
#define CONFIG_TLS_MAY		0	/* STARTTLS when offered, else plaintext */
#define CONFIG_TLS_NONE		1	/* never STARTTLS */
#define CONFIG_TLS_REQUIRED	2	/* STARTTLS or defer (4.7.x), never plaintext */

struct route {
	char		domain[256];	/* lower case; "*" for the catch-all */
	char		host[256];	/* host name or numeric address (no brackets) */
	unsigned	port;
	unsigned	line;
	int		tls;		/* CONFIG_TLS_*; default MAY */
};

/* "dkim_sign DOMAIN = SELECTOR:KEYFILE": mail from DOMAIN is signed with
 * the private key in KEYFILE (PEM; relative to the config's directory),
 * published as SELECTOR._domainkey.DOMAIN. */
struct config_dkim_sign {
	char		domain[256];	/* lower case, no trailing dot */
	char		selector[64];	/* LDH labels, at most 63 octets */
	char		*keyfile;	/* absolute after resolution */
	unsigned	line;
};

/* "dnsbl ZONE [= WEIGHT]": clients are looked up under ZONE (RFC 5782). */
struct config_dnsbl {
	char		zone[200];	/* lower case, no trailing dot */
	unsigned	weight;		/* default 1 */
	unsigned	line;
};

/* dnsbl_reject_at values, in the order of the table's choices. */
#define CONFIG_DNSBL_AT_GREETING	0
#define CONFIG_DNSBL_AT_RCPT		1

/* pop3_auth values, in the order of the parameter table's choices. */
#define CONFIG_POP3_AUTH_ANY		0
#define CONFIG_POP3_AUTH_APOP_ONLY	1
#define CONFIG_POP3_AUTH_TLS_ONLY	2

struct config {
	char		*path;		/* the config file */
	char		*hostname;	/* default gethostname() */
	char		*auth_serv_id;	/* Authentication-Results id; default hostname */
	int		 verify_incoming;	/* SPF/DKIM/DMARC of strangers' mail, default yes */
	int		 dmarc_reject;		/* 550 on a p=reject failure, default no */
	/* DNS blocklists and greylisting of strangers on the MX port */
	struct config_dnsbl *dnsbl;		/* in file order */
	size_t		 n_dnsbl;
	unsigned	 dnsbl_threshold;	/* sum of listing weights, default 1 */
	int		 dnsbl_tempfail;	/* 451 4.7.1 instead of 554 5.7.1 */
	int		 dnsbl_reject_at;	/* CONFIG_DNSBL_AT_* */
	struct cidr	*dnsbl_allow;		/* never checked */
	size_t		 n_dnsbl_allow;
	int		 greylist;		/* default no */
	unsigned	 greylist_delay;	/* seconds before a retry passes, default 300 */
	unsigned	 greylist_window;	/* seconds the retry may take, default 4h */
	unsigned	 greylist_expire;	/* seconds a passed triplet is kept, default 36d */
	char		**local_domains; /* lower case, trailing dot removed */
	size_t		 n_local_domains;
	struct cidr	*local_networks; /* default 127.0.0.1/32, ::1/128 */
	size_t		 n_local_networks;
	char		*relay_rules_path; /* NULL if unset */
	struct rules	*rules;		/* parsed relay_rules, NULL if unset */
	char		*users_path;
	char		*spool;
	struct listen_addr *listen_smtp;
	size_t		 n_listen_smtp;
	uint64_t	 max_message_size;	/* default 10240000 */
	struct route	*routes;
	size_t		 n_routes;
	struct config_dkim_sign *dkim_sign;	/* in file order */
	size_t		 n_dkim_sign;
	char		*postmaster;	/* user that receives postmaster@ mail; default "postmaster" unset -> NULL */
	char		*user;		/* run-as user when started as root; default "postern" */
	int		 log_syslog;	/* log = stderr | syslog */
	unsigned	 max_recipients;	/* default 1000 */
	unsigned	 max_errors;		/* per session, default 20 */
	unsigned	 smtp_timeout;		/* seconds idle in a command state, default 300 */
	unsigned	 data_timeout;		/* seconds without a byte in DATA, default 180 */
	/* Outbound delivery and aliases */
	char		*dns_servers;		/* "IP[:port], ..."; NULL: system resolver */
	unsigned	 remote_smtp_port;	/* MX delivery port, default 25 */
	unsigned	 max_queue_lifetime;	/* seconds, default 5d; then bounce */
	unsigned	 retry_min;		/* seconds, first retry interval, default 300 */
	unsigned	 retry_max;		/* seconds, longest interval, default 4000 */
	unsigned	 smtp_connect_timeout;	/* seconds, default 30 */
	unsigned	 remote_max_connections;	/* in total, default 20 */
	unsigned	 remote_max_per_destination;	/* per destination, default 4 */
	char		*aliases_path;		/* NULL if unset */
	char		*srs_secret_path;	/* SRS key file; NULL: no SRS */
	char		*recipient_delimiter;	/* "+" etc.; NULL if unset */
	/* POP3 */
	struct listen_addr *listen_pop3;	/* optional */
	size_t		 n_listen_pop3;
	int		 pop3_auth;		/* CONFIG_POP3_AUTH_* */
	unsigned	 pop_before_smtp_ttl;	/* seconds, 0 disables; default 900 */
	char		*secrets_path;		/* APOP secrets; default USERS.secrets */
	/* TLS and SMTP AUTH */
	char		*tls_cert;		/* PEM chain; NULL: no TLS */
	char		*tls_key;
	struct listen_addr *listen_submission;	/* port 587: AUTH required */
	size_t		 n_listen_submission;
	struct listen_addr *listen_smtps;	/* port 465: implicit TLS, AUTH required */
	size_t		 n_listen_smtps;
	/* IMAP */
	struct listen_addr *listen_imap;	/* optional; port 143 */
	size_t		 n_listen_imap;
	struct listen_addr *listen_imaps;	/* port 993: implicit TLS */
	size_t		 n_listen_imaps;
	int		 imap_plaintext_auth;	/* LOGIN before TLS: 0 no, 1 yes */
	struct listen_addr *listen_pop3s;	/* port 995: implicit TLS */
	size_t		 n_listen_pop3s;
	int		 auth_over_plaintext;	/* 0 = no (default) */
	int		 submission_sender_check; /* 1 = yes (default) */
	/* Resource limits; local_networks are exempt from the
	 * per-client limits, never from the totals. */
	unsigned	 max_sessions;		/* SMTP sessions at once, default 1000 */
	unsigned	 max_sessions_per_client; /* SMTP, per address, default 50 */
	unsigned	 max_smtp_sessions;	/* MX listeners; 0: max_sessions - reserved */
	unsigned	 max_submission_sessions; /* 0: max_sessions */
	unsigned	 max_smtps_sessions;	/* 0: max_sessions */
	unsigned	 reserved_sessions;	/* kept from MX strangers, default 50 */
	unsigned	 max_pop3_sessions;	/* POP3 sessions at once, default 1000 */
	unsigned	 max_pop3_sessions_per_client; /* POP3, per address, default 50 */
	unsigned	 max_imap_sessions;	/* IMAP sessions at once, default 1000 */
	unsigned	 max_imap_sessions_per_client; /* IMAP, per address, default 50 */
	unsigned	 max_session_time;	/* seconds, whole SMTP/POP3 session, default 3600 */
};

/* Parse the text of a config file. name is used in messages. Relative
 * paths in values are taken relative to the directory of name.
 * Returns NULL if any error was added to errs (all of them are). */
struct config *config_parse(const char *name, const char *text, size_t len,
	    struct errlist *errs);
/* Read and parse path, then read and parse the relay_rules file.
 * Returns NULL with errs filled on any error. */
struct config *config_load(const char *path, struct errlist *errs);
void	config_free(struct config *c);
/* Print every effective value, "key = value" lines, as postern check does. */
void	config_print(const struct config *c, FILE *out);
/* The route for a domain (exact domain first, then "*"), or NULL. */
const struct route *config_route(const struct config *c, const char *domain);
/* The dkim_sign line of a domain (exact, case-insensitive), or NULL. */
const struct config_dkim_sign *config_dkim_sign(const struct config *c,
	    const char *domain);
#endif
