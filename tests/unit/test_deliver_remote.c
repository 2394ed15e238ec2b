/* test_deliver_remote - destination keys: recipients that share a route
 * or an MX domain share one transaction. (The connection driver itself
 * runs in tests/integration/test_outbound_*.py against real peers.) */
#include "unit.h"
#include "config.h"
#include "deliver_remote.h"

static void
test_dest_key(void **state)
{
	static const char conf[] = "local_domains = mydomain.test\n"
	    "users = /nonexistent/users\nspool = /nonexistent/spool\n"
	    "listen_smtp = 127.0.0.1:2525\nhostname = mx.mydomain.test\n"
	    "route example.org = 127.0.0.6:2526\n"
	    "route Example.COM = relay.example.net:587\n";
	struct errlist errs = { NULL, 0 };
	struct config *c;
	char k[300];

	(void)state;
	c = config_parse("/x/postern.conf", conf, strlen(conf), &errs);
	assert_non_null(c);
	deliver_remote_dest_key(c, "example.org", k, sizeof(k));
	assert_string_equal(k, "route 127.0.0.6:2526");
	deliver_remote_dest_key(c, "EXAMPLE.ORG", k, sizeof(k));
	assert_string_equal(k, "route 127.0.0.6:2526");
	deliver_remote_dest_key(c, "example.com", k, sizeof(k));
	assert_string_equal(k, "route relay.example.net:587");
	deliver_remote_dest_key(c, "example.net", k, sizeof(k));
	assert_string_equal(k, "mx example.net");
	assert_int_equal(c->remote_smtp_port, 25);
	assert_int_equal(c->max_queue_lifetime, 5 * 86400);
	assert_int_equal(c->retry_min, 300);
	assert_int_equal(c->retry_max, 4000);
	assert_int_equal(c->remote_max_connections, 20);
	assert_int_equal(c->remote_max_per_destination, 4);
	assert_null(c->dns_servers);
	assert_null(c->recipient_delimiter);
	config_free(c);
}

static void
test_outbound_keys(void **state)
{
	static const struct { const char *line; int ok; } t[] = {
		{ "dns_servers = 127.0.0.1:5353", 1 },
		{ "dns_servers = 127.0.0.1, [::1]:53", 1 },
		{ "dns_servers = ::1", 1 },
		{ "dns_servers = localhost", 0 },
		{ "dns_servers = 127.0.0.1:0", 0 },
		{ "dns_servers = 127.0.0.1:,", 0 },
		{ "max_queue_lifetime = 5d", 1 },
		{ "max_queue_lifetime = 3h", 1 },
		{ "max_queue_lifetime = 90m", 1 },
		{ "max_queue_lifetime = 30s", 1 },
		{ "max_queue_lifetime = 100d", 1 },	/* limit */
		{ "max_queue_lifetime = 101d", 0 },	/* limit + 1 day */
		{ "max_queue_lifetime = 0", 0 },
		{ "max_queue_lifetime = 5w", 0 },
		{ "max_queue_lifetime = d", 0 },
		{ "retry_min = 1", 1 },
		{ "retry_min = 0", 0 },
		{ "remote_smtp_port = 65535", 1 },
		{ "remote_smtp_port = 65536", 0 },
		{ "remote_max_per_destination = 100", 1 },
		{ "remote_max_per_destination = 101", 0 },
		{ "recipient_delimiter = +", 1 },
		{ "recipient_delimiter = -", 1 },
		{ "recipient_delimiter = ++", 0 },
		{ "recipient_delimiter = @", 0 },
		{ "aliases = aliases", 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct errlist errs = { NULL, 0 };
		char conf[512];
		struct config *c;

		snprintf(conf, sizeof(conf), "local_domains = d.test\n"
		    "users = /u\nspool = /s\nlisten_smtp = 127.0.0.1:25\n"
		    "hostname = h.test\n%s\n", t[i].line);
		c = config_parse("/x/postern.conf", conf, strlen(conf), &errs);
		if ((c != NULL) != t[i].ok)
			fail_msg("case '%s': %s", t[i].line,
			    errs.n ? errs.msgs[0] : "accepted");
		if (c != NULL && strcmp(t[i].line, "max_queue_lifetime = 3h") == 0)
			assert_int_equal(c->max_queue_lifetime, 10800);
		if (c != NULL && strcmp(t[i].line, "aliases = aliases") == 0)
			assert_string_equal(c->aliases_path, "/x/aliases");
		config_free(c);
		errlist_free(&errs);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dest_key),
		cmocka_unit_test(test_outbound_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
