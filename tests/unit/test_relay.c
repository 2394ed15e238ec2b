/* test_relay - the relay decision as a matrix: client x auth x grant x
 * recipient -> result, reply and the name of the deciding rule. */
#include "unit.h"

#include <arpa/inet.h>
#include <time.h>

#include "relay.h"

#define NOW	((time_t)700)
#define SERVER	"192.0.2.10"

static char *const domains[] = { "mydomain.test", "other.test" };
static struct cidr nets[3];
static struct rules *rules;
static struct grants grants;
static struct relay_policy policy;

static const char rulestext[] =
	"10.1.1.1:allow,RELAYCLIENT=\"\"\n"	/* 1: relay */
	"10.1.1.2:allow\n"			/* 2: allow, no relay */
	"10.1.1.:deny,RELAYCLIENT=\"\"\n"	/* 3: deny never relays */
	"10.2.:allow,RELAY=\"\"\n"		/* 4 */
	"2001:db8:1::/48:allow,RELAYCLIENT=\"\"\n"; /* 5 */

static struct netaddr
A(const char *s)
{
	struct netaddr a;

	memset(&a, 0, sizeof(a));
	if (s == NULL)
		return a;
	if (strncmp(s, "raw:", 4) == 0) {
		/* an IPv4-mapped address as a caller might fill it by hand,
		 * without netaddr.c's normalisation */
		a.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, s + 4, a.a), 1);
		return a;
	}
	assert_int_equal(netaddr_parse(s, &a), 0);
	return a;
}

static int
setup(void **state)
{
	struct netaddr g;
	char *t;

	(void)state;
	assert_int_equal(cidr_parse("127.0.0.1/32", &nets[0]), 0);
	assert_int_equal(cidr_parse("::1/128", &nets[1]), 0);
	assert_int_equal(cidr_parse("192.168.1.0/24", &nets[2]), 0);
	t = malloc(sizeof(rulestext) - 1);
	memcpy(t, rulestext, sizeof(rulestext) - 1);
	rules = rules_parse("relay_rules", t, sizeof(rulestext) - 1, NULL);
	free(t);
	assert_non_null(rules);
	memset(&grants, 0, sizeof(grants));
	g = A("203.0.113.5");
	grants_put(&grants, &g, "bob", NOW + 300);	/* live */
	g = A("203.0.113.6");
	grants_put(&grants, &g, "carol", NOW - 1);	/* expired */
	g = A("203.0.113.8");
	grants_put(&grants, &g, "dave", NOW);		/* expires now */
	policy.local_domains = domains;
	policy.n_local_domains = 2;
	policy.local_networks = nets;
	policy.n_local_networks = 3;
	policy.rules = rules;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rules_free(rules);
	grants_free(&grants);
	return 0;
}

#define LOC	RELAY_ACCEPT_LOCAL
#define RLY	RELAY_ACCEPT_RELAY
#define REJ	RELAY_REJECT
#define DENIED	"Relay access denied"
#define ROUTED	"Relay access denied: address routing is not allowed here"

static const struct rcase {
	const char	*client;
	const char	*server;	/* our end; NULL = unknown */
	const char	*auth;
	const char	*rcpt;
	enum relay_result result;
	const char	*rule;
} cases[] = {
	/* the four cases: local/external client x local/external domain */
	{ "127.0.0.1",   SERVER, NULL, "<u@mydomain.test>", LOC, "local_domains mydomain.test" },
	{ "127.0.0.1",   SERVER, NULL, "<u@example.com>",   RLY, "local_networks 127.0.0.1/32" },
	{ "203.0.113.9", SERVER, NULL, "<u@mydomain.test>", LOC, "local_domains mydomain.test" },
	{ "203.0.113.9", SERVER, NULL, "<u@example.com>",   REJ, "default-deny" },
	{ "203.0.113.9", SERVER, NULL, "<u@other.test>",    LOC, "local_domains other.test" },
	/* local networks, exactly */
	{ "127.0.0.2",   SERVER, NULL, "<u@example.com>", REJ, "default-deny" },
	{ "raw:::ffff:127.0.0.1", SERVER, NULL, "<u@example.com>", RLY, "local_networks 127.0.0.1/32" },
	{ "::ffff:127.0.0.1", SERVER, NULL, "<u@example.com>", RLY, "local_networks 127.0.0.1/32" },
	{ "::1",         SERVER, NULL, "<u@example.com>", RLY, "local_networks ::1/128" },
	{ "::2",         SERVER, NULL, "<u@example.com>", REJ, "default-deny" },
	{ "192.168.1.77", SERVER, NULL, "<u@example.com>", RLY, "local_networks 192.168.1.0/24" },
	{ "192.168.2.77", SERVER, NULL, "<u@example.com>", REJ, "default-deny" },
	/* authentication */
	{ "203.0.113.9", SERVER, "alice", "<u@example.com>", RLY, "authenticated alice" },
	{ "203.0.113.9", SERVER, "",      "<u@example.com>", REJ, "default-deny" },
	{ "203.0.113.9", SERVER, "alice", "<u@mydomain.test>", LOC, "local_domains mydomain.test" },
	{ "127.0.0.1",   SERVER, "alice", "<u@example.com>", RLY, "local_networks 127.0.0.1/32" },
	/* POP-before-SMTP grants */
	{ "203.0.113.5", SERVER, NULL, "<u@example.com>", RLY, "pop-before-smtp bob" },
	{ "::ffff:203.0.113.5", SERVER, NULL, "<u@example.com>", RLY, "pop-before-smtp bob" },
	{ "raw:::ffff:203.0.113.5", SERVER, NULL, "<u@example.com>", RLY, "pop-before-smtp bob" },
	{ "203.0.113.6", SERVER, NULL, "<u@example.com>", REJ, "default-deny" },
	{ "203.0.113.8", SERVER, NULL, "<u@example.com>", REJ, "default-deny" },
	{ "203.0.113.7", SERVER, NULL, "<u@example.com>", REJ, "default-deny" },
	{ "203.0.113.5", SERVER, "alice", "<u@example.com>", RLY, "authenticated alice" },
	/* relay_rules */
	{ "10.1.1.1",    SERVER, NULL, "<u@example.com>", RLY, "relay_rules line 1 (10.1.1.1)" },
	{ "raw:::ffff:10.1.1.1", SERVER, NULL, "<u@example.com>", RLY, "relay_rules line 1 (10.1.1.1)" },
	{ "10.1.1.2",    SERVER, NULL, "<u@example.com>", REJ, "default-deny" },
	{ "10.1.1.3",    SERVER, NULL, "<u@example.com>", REJ, "default-deny" },
	{ "10.1.1.3",    SERVER, "alice", "<u@example.com>", RLY, "authenticated alice" },
	{ "10.2.9.9",    SERVER, NULL, "<u@example.com>", RLY, "relay_rules line 4 (10.2.)" },
	{ "10.2.9.9",    SERVER, "alice", "<u@example.com>", RLY, "relay_rules line 4 (10.2.)" },
	{ "2001:db8:1::9", SERVER, NULL, "<u@example.com>", RLY, "relay_rules line 5 (2001:db8:1::/48)" },
	{ "2001:db8:2::9", SERVER, NULL, "<u@example.com>", REJ, "default-deny" },
	/* routing tricks: refused even for trusted clients */
	{ "203.0.113.9", SERVER, NULL, "<user%evil.com@mydomain.test>", REJ, "address-routing (percent hack)" },
	{ "127.0.0.1",   SERVER, NULL, "<user%evil.com@mydomain.test>", REJ, "address-routing (percent hack)" },
	{ "203.0.113.9", SERVER, NULL, "<evil.com!user@mydomain.test>", REJ, "address-routing (bang path)" },
	{ "203.0.113.9", SERVER, "alice", "<evil.com!user@mydomain.test>", REJ, "address-routing (bang path)" },
	{ "203.0.113.9", SERVER, NULL, "<@evil.com:user@mydomain.test>", REJ, "address-routing (source route)" },
	{ "127.0.0.1",   SERVER, NULL, "<@mydomain.test:user@mydomain.test>", REJ, "address-routing (source route)" },
	{ "203.0.113.9", SERVER, NULL, "<\"user@evil.com\"@mydomain.test>", REJ, "address-routing (quoted routing)" },
	{ "203.0.113.9", SERVER, NULL, "<\"a%b\"@mydomain.test>", REJ, "address-routing (quoted routing)" },
	{ "203.0.113.9", SERVER, NULL, "<\"a!b\"@mydomain.test>", REJ, "address-routing (quoted routing)" },
	{ "203.0.113.5", SERVER, NULL, "<\"a@b\"@example.com>", REJ, "address-routing (quoted routing)" },
	{ "203.0.113.9", SERVER, NULL, "<\"a b\"@mydomain.test>", 0, NULL },	/* not a path */
	{ "203.0.113.9", SERVER, NULL, "<\"a(b)\"@mydomain.test>", LOC, "local_domains mydomain.test" },
	/* domain matching: whole domain, case-insensitive, one trailing dot */
	{ "203.0.113.9", SERVER, NULL, "<u@mydomain.test.>", LOC, "local_domains mydomain.test" },
	{ "203.0.113.9", SERVER, NULL, "<u@MYDOMAIN.TEST>", LOC, "local_domains mydomain.test" },
	{ "203.0.113.9", SERVER, NULL, "<u@MyDomain.Test.>", LOC, "local_domains mydomain.test" },
	{ "203.0.113.9", SERVER, NULL, "<u@evilmydomain.test>", REJ, "default-deny" },
	{ "203.0.113.9", SERVER, NULL, "<u@sub.mydomain.test>", REJ, "default-deny" },
	{ "203.0.113.9", SERVER, NULL, "<u@mydomain.test.evil>", REJ, "default-deny" },
	{ "203.0.113.9", SERVER, NULL, "<u@mydomain>", REJ, "default-deny" },
	{ "127.0.0.1",   SERVER, NULL, "<u@evilmydomain.test>", RLY, "local_networks 127.0.0.1/32" },
	/* postmaster */
	{ "203.0.113.9", SERVER, NULL, "<postmaster>", LOC, "postmaster" },
	{ "203.0.113.9", SERVER, NULL, "<POSTMASTER>", LOC, "postmaster" },
	{ "203.0.113.9", SERVER, NULL, "<postmaster@mydomain.test>", LOC, "local_domains mydomain.test" },
	{ "203.0.113.9", SERVER, NULL, "<postmaster@evil.com>", REJ, "default-deny" },
	/* address literals */
	{ "203.0.113.9", SERVER, NULL, "<u@[192.0.2.10]>", LOC, "address literal of this server" },
	{ "203.0.113.9", "::ffff:192.0.2.10", NULL, "<u@[192.0.2.10]>", LOC, "address literal of this server" },
	{ "203.0.113.9", "raw:::ffff:192.0.2.10", NULL, "<u@[192.0.2.10]>", LOC, "address literal of this server" },
	{ "203.0.113.9", SERVER, NULL, "<u@[IPv6:::ffff:192.0.2.10]>", LOC, "address literal of this server" },
	{ "203.0.113.9", SERVER, NULL, "<u@[127.0.0.1]>", REJ, "default-deny" },
	{ "203.0.113.9", NULL,   NULL, "<u@[192.0.2.10]>", REJ, "default-deny" },
	{ "203.0.113.9", "127.0.0.1", NULL, "<u@[127.0.0.1]>", LOC, "address literal of this server" },
	{ "127.0.0.1",   SERVER, NULL, "<u@[127.0.0.1]>", RLY, "local_networks 127.0.0.1/32" },
	{ "203.0.113.9", SERVER, NULL, "<u@[IPv6:::1]>", REJ, "default-deny" },
	{ "203.0.113.9", "::1",  NULL, "<u@[IPv6:::1]>", LOC, "address literal of this server" },
	{ "203.0.113.9", "::1",  NULL, "<u@[IPv6:0:0::1]>", LOC, "address literal of this server" },
	{ "203.0.113.9", "::1",  NULL, "<u@[127.0.0.1]>", REJ, "default-deny" },
	{ "::1",         "::1",  NULL, "<u@[IPv6:::2]>", RLY, "local_networks ::1/128" },
};

static void
check(const struct rcase *c)
{
	struct relay_client cl;
	struct relay_decision d;
	struct address rcpt;
	enum address_status st;
	size_t len = strlen(c->rcpt), end;
	char *p = malloc(len);

	memcpy(p, c->rcpt, len);
	st = address_parse_path(p, len, 0, 1, &rcpt, &end);
	free(p);
	if (c->rule == NULL) {
		assert_int_not_equal(st, ADDRESS_OK);
		return;
	}
	if (st != ADDRESS_OK)
		fail_msg("%s: parse status %d", c->rcpt, st);
	memset(&cl, 0, sizeof(cl));
	cl.addr = A(c->client);
	cl.local_addr = A(c->server);
	cl.auth_user = c->auth;
	relay_decide(&policy, &cl, &grants, NOW, &rcpt, &d);
	if (d.result != c->result || strcmp(d.rule, c->rule) != 0)
		fail_msg("%s -> %s (auth %s): result %d rule \"%s\", "
		    "want %d \"%s\"", c->client, c->rcpt,
		    c->auth ? c->auth : "-", d.result, d.rule, c->result,
		    c->rule);
	if (c->result == REJ) {
		assert_int_equal(d.code, 554);
		assert_string_equal(d.status, "5.7.1");
		assert_string_equal(d.text, strncmp(c->rule, "address-routing",
		    15) == 0 ? ROUTED : DENIED);
	} else {
		assert_int_equal(d.code, 250);
		assert_string_equal(d.status, "2.1.5");
		assert_string_equal(d.text, "Ok");
	}
}

static void
test_relay_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

/* The full cross product, with the expected answer computed from the
 * policy in five lines: routing -> reject; local domain -> local;
 * trusted client (network, rule, auth, grant) -> relay; else reject. */
static void
test_relay_matrix(void **state)
{
	static const struct {
		const char *addr;
		int trusted;
	} clients[] = {
		{ "127.0.0.1", 1 }, { "10.1.1.1", 1 }, { "203.0.113.5", 1 },
		{ "203.0.113.6", 0 }, { "203.0.113.9", 0 }, { "10.1.1.2", 0 },
	};
	static const char *const auths[] = { NULL, "alice" };
	static const struct {
		const char *path;
		int kind;	/* 0 external, 1 local, 2 routed */
	} rcpts[] = {
		{ "<u@example.com>", 0 }, { "<u@mydomain.test>", 1 },
		{ "<u@Other.Test.>", 1 }, { "<u%x@mydomain.test>", 2 },
		{ "<@a.b:u@example.com>", 2 }, { "<u@evilmydomain.test>", 0 },
	};
	size_t i, j, k;

	(void)state;
	for (i = 0; i < sizeof(clients) / sizeof(clients[0]); i++)
		for (j = 0; j < 2; j++)
			for (k = 0; k < sizeof(rcpts) / sizeof(rcpts[0]); k++) {
				struct relay_client cl;
				struct relay_decision d;
				struct address a;
				enum relay_result want;
				size_t end;

				assert_int_equal(address_parse_path(rcpts[k].path,
				    strlen(rcpts[k].path), 0, 0, &a, &end),
				    ADDRESS_OK);
				memset(&cl, 0, sizeof(cl));
				cl.addr = A(clients[i].addr);
				cl.auth_user = auths[j];
				if (rcpts[k].kind == 2)
					want = REJ;
				else if (rcpts[k].kind == 1)
					want = LOC;
				else if (clients[i].trusted || auths[j])
					want = RLY;
				else
					want = REJ;
				relay_decide(&policy, &cl, &grants, NOW, &a, &d);
				if (d.result != want)
					fail_msg("%s %s %s: %d (%s), want %d",
					    clients[i].addr,
					    auths[j] ? auths[j] : "-",
					    rcpts[k].path, d.result, d.rule,
					    want);
			}
}

static void
test_relay_helpers(void **state)
{
	struct relay_client cl;
	struct relay_decision d;
	struct relay_policy empty;
	struct address a;
	char rule[8], longuser[400];

	(void)state;
	assert_true(relay_domain_is_local(&policy, "mydomain.test"));
	assert_true(relay_domain_is_local(&policy, "MYDOMAIN.test."));
	assert_false(relay_domain_is_local(&policy, "evilmydomain.test"));
	assert_false(relay_domain_is_local(&policy, "sub.mydomain.test"));
	assert_false(relay_domain_is_local(&policy, "test"));
	assert_false(relay_domain_is_local(&policy, ""));
	assert_false(relay_domain_is_local(&policy, NULL));

	memset(&cl, 0, sizeof(cl));
	cl.addr = A("127.0.0.1");
	assert_true(relay_client_may_relay(&policy, &cl, NULL, NOW, NULL, 0));
	/* a short rule buffer truncates, never overflows */
	assert_true(relay_client_may_relay(&policy, &cl, NULL, NOW, rule,
	    sizeof(rule)));
	assert_string_equal(rule, "local_n");
	cl.addr = A("203.0.113.5");
	assert_false(relay_client_may_relay(&policy, &cl, NULL, NOW, rule,
	    sizeof(rule)));
	assert_string_equal(rule, "");
	/* no client address at all: nothing but auth */
	memset(&cl, 0, sizeof(cl));
	assert_false(relay_client_may_relay(&policy, &cl, &grants, NOW, NULL,
	    0));

	/* an empty policy: closed */
	memset(&empty, 0, sizeof(empty));
	cl.addr = A("127.0.0.1");
	assert_int_equal(address_parse_path("<u@localhost>", 13, 0, 0, &a,
	    NULL), ADDRESS_OK);
	relay_decide(&empty, &cl, NULL, NOW, &a, &d);
	assert_int_equal(d.result, REJ);
	assert_string_equal(d.rule, "default-deny");

	/* a null recipient is never relayed */
	assert_int_equal(address_parse_path("<>", 2, 1, 0, &a, NULL),
	    ADDRESS_OK);
	relay_decide(&policy, &cl, NULL, NOW, &a, &d);
	assert_int_equal(d.result, REJ);
	assert_int_equal(d.code, 554);
	assert_string_equal(d.rule, "no recipient domain");

	/* a long identity is cut to fit the rule */
	memset(longuser, 'u', sizeof(longuser) - 1);
	longuser[sizeof(longuser) - 1] = '\0';
	cl.addr = A("203.0.113.9");
	cl.auth_user = longuser;
	assert_int_equal(address_parse_path("<u@example.com>", 15, 0, 0, &a,
	    NULL), ADDRESS_OK);
	relay_decide(&policy, &cl, NULL, NOW, &a, &d);
	assert_int_equal(d.result, RLY);
	assert_int_equal(strlen(d.rule), sizeof(d.rule) - 1);

	/* AT_IN_LOCAL (reserved, never set by the parser) still refuses */
	a.flags = ADDRESS_F_AT_IN_LOCAL;
	relay_decide(&policy, &cl, NULL, NOW, &a, &d);
	assert_int_equal(d.result, REJ);
	assert_string_equal(d.rule, "address-routing (quoted routing)");
}

/* At connect: only a deny line refuses, and it refuses even a client
 * that local_networks would let relay (a deny is the administrator's
 * last word); local_networks is what the session limits exempt. */
static void
test_relay_connect(void **state)
{
	static const struct {
		const char *client;
		enum relay_result want;
		const char *rule;
	} conn_cases[] = {
		{ "10.1.1.5", RELAY_REJECT, "relay_rules line 3 (10.1.1.)" },
		{ "10.1.1.1", RELAY_ACCEPT_LOCAL, "relay_rules line 1 (10.1.1.1)" },
		{ "10.9.9.9", RELAY_ACCEPT_LOCAL, "no deny rule" },
		{ "raw:::ffff:10.1.1.7", RELAY_REJECT, "relay_rules line 3 (10.1.1.)" },
		{ "127.0.0.1", RELAY_ACCEPT_LOCAL, "no deny rule" },
	};
	struct relay_decision d;
	struct netaddr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(conn_cases) / sizeof(conn_cases[0]); i++) {
		a = A(conn_cases[i].client);
		relay_connect(&policy, &a, &d);
		assert_int_equal(d.result, conn_cases[i].want);
		assert_string_equal(d.rule, conn_cases[i].rule);
		if (conn_cases[i].want == RELAY_REJECT) {
			assert_int_equal(d.code, 554);
			assert_string_equal(d.status, "5.7.1");
			assert_string_equal(d.text, "Access denied");
		}
	}
	a = A("127.0.0.1");
	assert_true(relay_client_is_local(&policy, &a));
	a = A("raw:::ffff:192.168.1.9");
	assert_true(relay_client_is_local(&policy, &a));
	a = A("127.0.0.2");
	assert_false(relay_client_is_local(&policy, &a));
	a = A("10.1.1.1");		/* may relay by rule, but not "local" */
	assert_false(relay_client_is_local(&policy, &a));
}

static void
test_local_mailbox(void **state)
{
	struct relay_mailbox_rule r = { '+', "root" }, plain = { '\0', NULL };
	struct address a;
	char b[8], big[64], name33[33];
	size_t end;

	(void)state;
	/* lower-cased, cut at the delimiter, but never at its first byte */
	assert_int_equal(relay_local_mailbox(&r, "Alice+x", 7, 0, b, sizeof(b)),
	    RELAY_MAILBOX_USER);
	assert_string_equal(b, "alice");
	assert_int_equal(relay_local_mailbox(&plain, "alice+x", 7, 0, b,
	    sizeof(b)), RELAY_MAILBOX_BAD_NAME);
	assert_string_equal(b, "alice+x");
	assert_int_equal(relay_local_mailbox(&r, "+x", 2, 0, b, sizeof(b)),
	    RELAY_MAILBOX_BAD_NAME);
	assert_string_equal(b, "+x");
	/* empty, too long for the buffer, quoted: no mailbox */
	assert_int_equal(relay_local_mailbox(&r, "", 0, 0, b, sizeof(b)),
	    RELAY_MAILBOX_NONE);
	assert_string_equal(b, "");
	assert_int_equal(relay_local_mailbox(&r, "abcdefg", 7, 0, b, sizeof(b)),
	    RELAY_MAILBOX_USER);
	assert_int_equal(relay_local_mailbox(&r, "abcdefgh", 8, 0, b, sizeof(b)),
	    RELAY_MAILBOX_NONE);
	assert_string_equal(b, "");
	/* the cut part is what must fit: a long detail is still alice's */
	assert_int_equal(relay_local_mailbox(&r, "alice+averylongdetail", 21, 0,
	    b, sizeof(b)), RELAY_MAILBOX_USER);
	assert_string_equal(b, "alice");
	assert_int_equal(relay_local_mailbox(&r, "alice", 5, 1, b, sizeof(b)),
	    RELAY_MAILBOX_NONE);
	/* only len bytes count */
	assert_int_equal(relay_local_mailbox(&r, "bob@x", 3, 0, b, sizeof(b)),
	    RELAY_MAILBOX_USER);
	assert_string_equal(b, "bob");
	/* valid user names only: no leading dot, no odd bytes, 32 at most */
	assert_int_equal(relay_local_mailbox(&r, ".bob", 4, 0, b, sizeof(b)),
	    RELAY_MAILBOX_BAD_NAME);
	assert_int_equal(relay_local_mailbox(&r, "b=b", 3, 0, b, sizeof(b)),
	    RELAY_MAILBOX_BAD_NAME);
	memset(name33, 'a', sizeof(name33));
	assert_int_equal(relay_local_mailbox(&r, name33, 32, 0, big,
	    sizeof(big)), RELAY_MAILBOX_USER);
	assert_int_equal(relay_local_mailbox(&r, name33, 33, 0, big,
	    sizeof(big)), RELAY_MAILBOX_BAD_NAME);
	/* postmaster, any case, whole local part, even quoted */
	assert_int_equal(relay_local_mailbox(&r, "PostMaster", 10, 0, b,
	    sizeof(b)), RELAY_MAILBOX_POSTMASTER);
	assert_string_equal(b, "root");
	assert_int_equal(relay_local_mailbox(&r, "postmaster", 10, 1, b,
	    sizeof(b)), RELAY_MAILBOX_POSTMASTER);
	assert_int_equal(relay_local_mailbox(&r, "postmaster+x", 12, 0, big,
	    sizeof(big)), RELAY_MAILBOX_USER);
	assert_string_equal(big, "postmaster");
	assert_int_equal(relay_local_mailbox(&plain, "Postmaster", 10, 0, big,
	    sizeof(big)), RELAY_MAILBOX_USER);
	assert_string_equal(big, "postmaster");
	/* parsed addresses: <postmaster>, quoted local parts */
	memset(&a, 0, sizeof(a));
	assert_int_equal(address_parse_path("<postmaster>", 12, 0, 1, &a, &end),
	    ADDRESS_OK);
	assert_int_equal(relay_address_mailbox(&r, &a, b, sizeof(b)),
	    RELAY_MAILBOX_POSTMASTER);
	assert_string_equal(b, "root");
	assert_int_equal(address_parse_path("<Bob+Lists@MyDomain.test>", 25, 0,
	    1, &a, &end), ADDRESS_OK);
	assert_int_equal(relay_address_mailbox(&r, &a, b, sizeof(b)),
	    RELAY_MAILBOX_USER);
	assert_string_equal(b, "bob");
	assert_int_equal(address_parse_path("<\"a..b\"@mydomain.test>", 22, 0,
	    1, &a, &end), ADDRESS_OK);
	assert_int_equal(relay_address_mailbox(&r, &a, b, sizeof(b)),
	    RELAY_MAILBOX_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_table),
		cmocka_unit_test(test_relay_matrix),
		cmocka_unit_test(test_relay_helpers),
		cmocka_unit_test(test_relay_connect),
		cmocka_unit_test(test_local_mailbox),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
