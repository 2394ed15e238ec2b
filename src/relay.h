/* relay - the one question: may this client send this mail to this recipient?
 * Trusts: the parsed recipient (address.c), the client address from the
 *         socket, the authenticated identity from auth; never the envelope
 *         sender, which is deliberately not an argument.
 * Gives:  ACCEPT_LOCAL / ACCEPT_RELAY / REJECT with the SMTP reply and the
 *         name of the rule that decided, so that the log, the reply and
 *         `postern relay-check` tell the same story.
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

/* 1 if the client is in local_networks: exempt from the per-client and
 * per-port session limits (the room reserved for our own users). */
int	relay_client_is_local(const struct relay_policy *p,
	    const struct netaddr *client);

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
