/* cmd_relaycheck - `postern relay-check`: ask relay.c, with the policy
 * built from the config exactly as the server builds it
 * (relay_policy_from_config), what the server would do with a client and a
 * recipient: first the connect decision (relay_connect: a relay_rules
 * `deny` line refuses the client before the greeting), then the recipient
 * decision (relay_decide). Prints both, with the rules that made them.
 * A client refused at connect never reaches RCPT, so the overall
 * `decision:` is then `reject`. The sender is parsed (so typos show) but
 * never consulted: relay_decide has no sender argument, by design. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "cmds.h"
#include "config.h"
#include "netaddr.h"
#include "relay.h"

/* Parse an address as given on the command line: "<a@b>", "a@b", "<>". */
static int
rc_parse_addr(const char *what, const char *s, int is_rcpt,
    struct address *a)
{
	char path[ADDRESS_PATH_MAX + 8];
	enum address_status st;
	size_t end = 0, len;
	int n;

	if (s[0] == '<')
		n = snprintf(path, sizeof(path), "%s", s);
	else
		n = snprintf(path, sizeof(path), "<%s>", s);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "postern: %s: address too long\n", what);
		return -1;
	}
	len = (size_t)n;
	st = address_parse_path(path, len, !is_rcpt, is_rcpt, a, &end);
	if (st != ADDRESS_OK) {
		fprintf(stderr, "postern: %s: '%s' is not a valid address%s\n",
		    what, s, st == ADDRESS_ERR_TOO_LONG ? " (too long)" :
		    st == ADDRESS_ERR_8BIT ? " (8-bit characters)" :
		    st == ADDRESS_ERR_NO_DOMAIN ? " (no domain)" : "");
		return -1;
	}
	if (end != len) {
		fprintf(stderr, "postern: %s: junk after the address '%s'\n",
		    what, s);
		return -1;
	}
	return 0;
}

int
cmd_relaycheck(int argc, char **argv, const char *file)
{
	struct errlist errs = { NULL, 0 };
	const char *client = NULL, *auth = NULL, *from = NULL;
	const char *rcpt = NULL, **slot;
	struct address from_a, rcpt_a;
	struct relay_policy pol;
	struct relay_client rc;
	struct relay_decision d, conn;
	struct config *c;
	const char *what;
	size_t i;
	int k, ret;

	for (k = 1; k < argc; k++) {
		const char *opt = argv[k], *val = NULL, *eq;
		char name[16];

		/* "--opt=value" or "--opt value" */
		if (strncmp(opt, "--", 2) == 0 && (eq = strchr(opt, '=')) !=
		    NULL && (size_t)(eq - opt) < sizeof(name)) {
			memcpy(name, opt, (size_t)(eq - opt));
			name[eq - opt] = '\0';
			opt = name;
			val = eq + 1;
		}
		if (strcmp(opt, "--client") == 0)
			slot = &client;
		else if (strcmp(opt, "--auth") == 0)
			slot = &auth;
		else if (strcmp(opt, "--from") == 0)
			slot = &from;
		else if (strcmp(opt, "--rcpt") == 0)
			slot = &rcpt;
		else {
			fprintf(stderr, "postern: relay-check: unknown argument "
			    "%s\n", argv[k]);
			return CMDS_EX_USAGE;
		}
		if (val == NULL) {
			if (k + 1 == argc) {
				fprintf(stderr, "postern: relay-check: %s needs "
				    "a value\n", opt);
				return CMDS_EX_USAGE;
			}
			val = argv[++k];
		}
		*slot = val;
	}
	if (client == NULL || from == NULL || rcpt == NULL) {
		fprintf(stderr, "postern: relay-check: --client, --from and "
		    "--rcpt are required\n");
		return CMDS_EX_USAGE;
	}

	memset(&rc, 0, sizeof(rc));
	if (netaddr_parse(client, &rc.addr) == -1) {
		fprintf(stderr, "postern: --client: '%s' is not a numeric IP "
		    "address\n", client);
		return CMDS_EX_USAGE;
	}
	if (auth != NULL && auth[0] == '\0') {
		fprintf(stderr, "postern: --auth: empty user name\n");
		return CMDS_EX_USAGE;
	}
	rc.auth_user = auth;
	if (rc_parse_addr("--from", from, 0, &from_a) == -1 ||
	    rc_parse_addr("--rcpt", rcpt, 1, &rcpt_a) == -1)
		return CMDS_EX_USAGE;

	if ((c = config_load(file, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		errlist_free(&errs);
		return CMDS_EX_CONFIG;
	}
	relay_policy_from_config(&pol, c);

	relay_connect(&pol, &rc.addr, &conn);
	relay_decide(&pol, &rc, NULL, time(NULL), &rcpt_a, &d);
	switch (conn.result == RELAY_REJECT ? RELAY_REJECT : d.result) {
	case RELAY_ACCEPT_LOCAL:
		what = "accept-local";
		ret = 0;
		break;
	case RELAY_ACCEPT_RELAY:
		what = "accept-relay";
		ret = 0;
		break;
	default:
		what = "reject";
		ret = 1;
		break;
	}
	printf("decision: %s\n", what);
	printf("reply: %d %s %s\n", d.code, d.status ? d.status : "",
	    d.text ? d.text : "");
	printf("rule: %s\n", d.rule);
	printf("connect: %s\n", conn.result == RELAY_REJECT ? "reject" :
	    "accept");
	printf("connect-reply: %d %s %s\n", conn.code,
	    conn.status ? conn.status : "", conn.text ? conn.text : "");
	printf("connect-rule: %s\n", conn.rule);
	if (ret == 1 && conn.result != RELAY_REJECT && !from_a.is_null &&
	    relay_domain_is_local(&pol, from_a.domain))
		printf("note: the envelope sender never influences relaying\n");
	config_free(c);
	return ret;
}
