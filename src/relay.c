/* relay - may this client send this mail to this recipient? See relay.h.
 * The order of the questions is the policy:
 *   1. routing tricks in the recipient        -> reject, whoever asks;
 *   2. <postmaster>                           -> local;
 *   3. one of our domains / our own literal   -> local;
 *   4. a client allowed to relay              -> relay;
 *   5. anything else                          -> reject (closed default).
 * The envelope sender is not an argument, so it cannot matter. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "buf.h"
#include "config.h"
#include "relay.h"
#include "users.h"

static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* netaddr.c normalises what it parses; a caller that filled a netaddr by
 * hand with ::ffff:a.b.c.d must still match IPv4 networks. */
static struct netaddr
unmapped(const struct netaddr *a)
{
	struct netaddr r = *a;

	if (r.family == AF_INET6 && memcmp(r.a, v4mapped, 12) == 0) {
		memmove(r.a, r.a + 12, 4);
		memset(r.a + 4, 0, 12);
		r.family = AF_INET;
	}
	return r;
}

static void set_rule(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_rule(char *rule_r, size_t rulelen, const char *fmt, ...)
{
	va_list ap;

	if (rule_r == NULL || rulelen == 0)
		return;
	/* Truncation is acceptable here: the rule name is for humans. */
	va_start(ap, fmt);
	(void)vsnprintf(rule_r, rulelen, fmt, ap);
	va_end(ap);
}

int
relay_domain_is_local(const struct relay_policy *p, const char *domain)
{
	size_t i;

	if (p == NULL || domain == NULL || domain[0] == '\0')
		return 0;
	for (i = 0; i < p->n_local_domains; i++)
		if (address_domain_equal(p->local_domains[i], domain))
			return 1;
	return 0;
}

void
relay_policy_from_config(struct relay_policy *p, const struct config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->local_domains = cfg->local_domains;
	p->n_local_domains = cfg->n_local_domains;
	p->local_networks = cfg->local_networks;
	p->n_local_networks = cfg->n_local_networks;
	p->rules = cfg->rules;
}

void
relay_mailbox_rule_from_config(struct relay_mailbox_rule *r,
    const struct config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->delimiter = cfg->recipient_delimiter != NULL ?
	    cfg->recipient_delimiter[0] : '\0';
	r->postmaster = cfg->postmaster != NULL ? cfg->postmaster :
	    "postmaster";
}

enum relay_mailbox
relay_local_mailbox(const struct relay_mailbox_rule *r, const char *local,
    size_t len, int quoted, char *mailbox, size_t mlen)
{
	size_t i;

	if (mlen == 0)
		return RELAY_MAILBOX_NONE;
	mailbox[0] = '\0';
	if (r->postmaster != NULL && len == 10 &&
	    strncasecmp(local, "postmaster", len) == 0) {
		/* A postmaster name that does not fit is still postmaster. */
		if (xsnprintf(mailbox, mlen, "%s", r->postmaster) == -1)
			(void)xsnprintf(mailbox, mlen, "postmaster");
		return RELAY_MAILBOX_POSTMASTER;
	}
	if (quoted)
		return RELAY_MAILBOX_NONE;
	for (i = 0; i < len; i++) {
		if (i > 0 && r->delimiter != '\0' && local[i] == r->delimiter)
			break;
		if (i + 1 >= mlen) {
			mailbox[0] = '\0';
			return RELAY_MAILBOX_NONE;
		}
		mailbox[i] = (char)tolower((unsigned char)local[i]);
	}
	mailbox[i] = '\0';
	if (i == 0)
		return RELAY_MAILBOX_NONE;
	return users_name_valid(mailbox) ? RELAY_MAILBOX_USER :
	    RELAY_MAILBOX_BAD_NAME;
}

enum relay_mailbox
relay_address_mailbox(const struct relay_mailbox_rule *r,
    const struct address *a, char *mailbox, size_t mlen)
{
	if (a->is_postmaster)
		return relay_local_mailbox(r, "postmaster", 10, 0, mailbox,
		    mlen);
	return relay_local_mailbox(r, a->local, strlen(a->local),
	    (a->flags & ADDRESS_F_QUOTED) != 0, mailbox, mlen);
}

int
relay_client_is_local(const struct relay_policy *p,
    const struct netaddr *client)
{
	struct netaddr addr = unmapped(client);
	size_t i;

	for (i = 0; i < p->n_local_networks; i++)
		if (cidr_match(&p->local_networks[i], &addr))
			return 1;
	return 0;
}

int
relay_client_spam_exempt(const struct relay_policy *p,
    const struct netaddr *client, int dnsbl)
{
	struct netaddr addr = unmapped(client);
	struct rules_match m;

	if (relay_client_is_local(p, client))
		return 1;
	rules_lookup(p->rules, &addr, &m);
	return m.relay || (dnsbl && m.rblsmtpd);
}

void
relay_connect(const struct relay_policy *p, const struct netaddr *client,
    struct relay_decision *d)
{
	struct netaddr addr = unmapped(client);
	struct rules_match m;

	memset(d, 0, sizeof(*d));
	rules_lookup(p->rules, &addr, &m);
	if (m.action == RULES_DENY) {
		d->result = RELAY_REJECT;
		d->code = 554;
		d->status = "5.7.1";
		d->text = "Access denied";
		set_rule(d->rule, sizeof(d->rule), "relay_rules line %u (%s)",
		    m.line, m.text ? m.text : "");
		return;
	}
	d->result = RELAY_ACCEPT_LOCAL;
	d->code = 220;
	d->status = "2.0.0";
	d->text = "Ok";
	if (m.action == RULES_ALLOW)
		set_rule(d->rule, sizeof(d->rule), "relay_rules line %u (%s)",
		    m.line, m.text ? m.text : "");
	else
		set_rule(d->rule, sizeof(d->rule), "%s", "no deny rule");
}

int
relay_client_may_relay(const struct relay_policy *p,
    const struct relay_client *c, const struct grants *grants, time_t now,
    char *rule_r, size_t rulelen)
{
	struct netaddr addr = unmapped(&c->addr);
	const struct grant *gr;
	struct rules_match m;
	char text[INET6_ADDRSTRLEN + 8];
	size_t i;

	if (rule_r && rulelen)
		rule_r[0] = '\0';
	for (i = 0; i < p->n_local_networks; i++)
		if (cidr_match(&p->local_networks[i], &addr)) {
			cidr_format(&p->local_networks[i], text, sizeof(text));
			set_rule(rule_r, rulelen, "local_networks %s", text);
			return 1;
		}
	rules_lookup(p->rules, &addr, &m);
	if (m.action == RULES_ALLOW && m.relay) {
		set_rule(rule_r, rulelen, "relay_rules line %u (%s)", m.line,
		    m.text ? m.text : "");
		return 1;
	}
	if (c->auth_user != NULL && c->auth_user[0] != '\0') {
		set_rule(rule_r, rulelen, "authenticated %s", c->auth_user);
		return 1;
	}
	if ((gr = grants_lookup(grants, &addr, now)) != NULL) {
		set_rule(rule_r, rulelen, "pop-before-smtp %s", gr->user);
		return 1;
	}
	return 0;
}

static const char *
routing_name(unsigned flags)
{
	if (flags & ADDRESS_F_SOURCE_ROUTE)
		return "source route";
	if (flags & ADDRESS_F_PERCENT)
		return "percent hack";
	if (flags & ADDRESS_F_BANG)
		return "bang path";
	return "quoted routing";	/* QUOTED_ROUTE, AT_IN_LOCAL */
}

static void
decide(struct relay_decision *d, enum relay_result result)
{
	d->result = result;
	if (result == RELAY_REJECT) {
		d->code = 554;
		d->status = "5.7.1";
		d->text = "Relay access denied";
	} else {
		d->code = 250;
		d->status = "2.1.5";
		d->text = "Ok";
	}
}

void
relay_decide(const struct relay_policy *p, const struct relay_client *c,
    const struct grants *grants, time_t now, const struct address *rcpt,
    struct relay_decision *d)
{
	struct netaddr self;
	size_t i;

	memset(d, 0, sizeof(*d));

	if (rcpt->flags & ADDRESS_F_ROUTING) {
		decide(d, RELAY_REJECT);
		d->text = "Relay access denied: address routing is not "
		    "allowed here";
		set_rule(d->rule, sizeof(d->rule), "address-routing (%s)",
		    routing_name(rcpt->flags));
		return;
	}
	if (rcpt->is_postmaster) {
		decide(d, RELAY_ACCEPT_LOCAL);
		set_rule(d->rule, sizeof(d->rule), "%s", "postmaster");
		return;
	}
	/* A recipient without a domain (the null path) is a caller bug;
	 * never relay it. */
	if (rcpt->is_null || rcpt->domain[0] == '\0') {
		decide(d, RELAY_REJECT);
		set_rule(d->rule, sizeof(d->rule), "%s", "no recipient domain");
		return;
	}
	for (i = 0; i < p->n_local_domains; i++)
		if (address_domain_equal(p->local_domains[i], rcpt->domain)) {
			decide(d, RELAY_ACCEPT_LOCAL);
			set_rule(d->rule, sizeof(d->rule), "local_domains %s",
			    p->local_domains[i]);
			return;
		}
	if (rcpt->is_literal && c->local_addr.family != 0) {
		struct netaddr lit = unmapped(&rcpt->literal);

		self = unmapped(&c->local_addr);
		if (netaddr_equal(&lit, &self)) {
			decide(d, RELAY_ACCEPT_LOCAL);
			set_rule(d->rule, sizeof(d->rule), "%s",
			    "address literal of this server");
			return;
		}
	}
	if (relay_client_may_relay(p, c, grants, now, d->rule,
	    sizeof(d->rule))) {
		decide(d, RELAY_ACCEPT_RELAY);
		return;
	}
	decide(d, RELAY_REJECT);
	set_rule(d->rule, sizeof(d->rule), "%s", "default-deny");
}
