/* relay - the one question: may this client send this mail to this recipient?
 * Trusts: the parsed recipient (address.c), the client address from the
 *         socket, the authenticated identity from auth; never the envelope
 *         sender, which is deliberately not an argument.
 * Gives:  ACCEPT_LOCAL / ACCEPT_RELAY / REJECT with the SMTP reply and the
 *         name of the rule that decided, so that the log, the reply and
 *         `postern relay-check` tell the same story; the connect-time
 *         decision (relay_rules deny); the local address -> mailbox rule.
 * Never:  does I/O. Unknown local users are not its business (the SMTP
 *         session asks the auth process after ACCEPT_LOCAL). */
#ifndef POSTERN_RELAY_H
#define POSTERN_RELAY_H
#include <time.h>
#include "address.h"
#include "grants.h"
#include "netaddr.h"
#include "rules.h"

struct config;

enum relay_result {
	RELAY_ACCEPT_LOCAL = 1,
	RELAY_ACCEPT_RELAY,
	RELAY_REJECT,
};

struct relay_policy {
	char * const	*local_domains;	/* lower case, no trailing dot */
	size_t		 n_local_domains;
	const struct cidr *local_networks;
	size_t		 n_local_networks;
	const struct rules *rules;	/* may be NULL */
};

struct relay_client {
	struct netaddr	addr;		/* the peer */
	struct netaddr	local_addr;	/* our end of the connection; family 0 if unknown */
	const char	*auth_user;	/* authenticated identity or NULL */
};

struct relay_decision {
	enum relay_result result;
	int		code;		/* 250 or 554 ... */
	const char	*status;	/* enhanced status code, "2.1.5" / "5.7.1" */
	const char	*text;		/* reply text after the codes */
	char		rule[160];	/* which rule decided, e.g. "local_networks 127.0.0.1/32" */
};

/* The policy of a config: local_domains, local_networks, relay_rules.
 * Points into cfg, which must outlive it. */
void	relay_policy_from_config(struct relay_policy *p,
	    const struct config *cfg);

/* At connect, before the greeting: a relay_rules `deny` line refuses the
 * client (554 5.7.1 "Access denied"), whatever else it might be; anything
 * else may go on to the greeting. Same decision struct as relay_decide():
 * RELAY_REJECT or RELAY_ACCEPT_LOCAL ("may talk to us"), the reply, and
 * the rule that decided. */
void	relay_connect(const struct relay_policy *p, const struct netaddr *client,
	    struct relay_decision *d);

/* 1 if the client is never checked against DNS blocklists or
 * greylisted: in local_networks, or matched by a relay_rules allow line
 * that sets RELAYCLIENT="" (a relay client) or, for DNS blocklists only
 * (dnsbl 1), RBLSMTPD="" (as rblsmtpd honours it). */
int	relay_client_spam_exempt(const struct relay_policy *p,
	    const struct netaddr *client, int dnsbl);

/* 1 if the client is in local_networks: exempt from the per-client and
 * per-port session limits (the room reserved for our own users). */
int	relay_client_is_local(const struct relay_policy *p,
	    const struct netaddr *client);

/* The local address -> mailbox rule, the one every process applies to an
 * address relay_decide() called local (the SMTP session at RCPT, pickup,
 * the queue process for bounces and alias targets, the alias expansion):
 *   - the local part "postmaster" (any case) is the configured postmaster
 *     mailbox, when the rule has one;
 *   - a quoted local part names no mailbox;
 *   - otherwise the local part lower-cased and cut at the recipient
 *     delimiter when that is not its first character (alice+lists -> alice),
 *     which must be a valid user name (users_name_valid). */
struct relay_mailbox_rule {
	char		 delimiter;	/* recipient_delimiter, '\0' for none */
	const char	*postmaster;	/* postmaster's mailbox; NULL: no special case */
};

enum relay_mailbox {
	RELAY_MAILBOX_USER = 1,	/* mailbox is a valid user name */
	RELAY_MAILBOX_POSTMASTER, /* mailbox is the postmaster's: always ours */
	RELAY_MAILBOX_BAD_NAME,	/* mailbox is set but is not a valid user name */
	RELAY_MAILBOX_NONE,	/* quoted, empty, or too long for mailbox: "" */
};

/* The rule of a config (recipient_delimiter, postmaster). Points into cfg. */
void	relay_mailbox_rule_from_config(struct relay_mailbox_rule *r,
	    const struct config *cfg);
/* The mailbox local[0..len) names, into mailbox (size mlen, always
 * terminated). quoted: the local part was a quoted string. */
enum relay_mailbox relay_local_mailbox(const struct relay_mailbox_rule *r,
	    const char *local, size_t len, int quoted, char *mailbox,
	    size_t mlen);
/* The same for a parsed address (<postmaster> included). */
enum relay_mailbox relay_address_mailbox(const struct relay_mailbox_rule *r,
	    const struct address *a, char *mailbox, size_t mlen);

/* Decide for one recipient. grants may be NULL. */
void	relay_decide(const struct relay_policy *p, const struct relay_client *c,
	    const struct grants *grants, time_t now, const struct address *rcpt,
	    struct relay_decision *d);
/* 1 if the domain (normalised) is one of ours, whole labels only. */
int	relay_domain_is_local(const struct relay_policy *p, const char *domain);
/* 1 if the client may relay at all (local network, rule, auth, grant);
 * rule_r (may be NULL) receives the name of the deciding rule. */
int	relay_client_may_relay(const struct relay_policy *p,
	    const struct relay_client *c, const struct grants *grants,
	    time_t now, char *rule_r, size_t rulelen);
#endif
