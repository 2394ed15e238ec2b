/* test_config - config_parse / config_load / config_print / config_route:
 * every key valid and invalid, defaults, bounds at min-1/min/max/max+1,
 * route lines, every error reported with its line, relative paths. */
#include "unit.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define NAME	"/etc/postern/postern.conf"
#define BASE	"local_domains = mydomain.test\n" \
		"users = users\n" \
		"spool = /var/spool/postern\n" \
		"listen_smtp = 127.0.0.1:25\n"

static struct config *
parse(const char *text, struct errlist *errs)
{
	return config_parse(NAME, text, strlen(text), errs);
}

/* BASE with one extra line appended (line 5). */
static struct config *
parse_with(const char *line, struct errlist *errs)
{
	char text[8192];

	snprintf(text, sizeof(text), "%s%s\n", BASE, line);
	return parse(text, errs);
}

static int
errs_have(const struct errlist *e, const char *needle)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strstr(e->msgs[i], needle) != NULL)
			return 1;
	return 0;
}

static void
dump_errs(const struct errlist *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		fprintf(stderr, "  err: %s\n", e->msgs[i]);
}

static void
test_defaults(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;
	char host[256], tmp[64];

	(void)state;
	c = parse(BASE, &errs);
	dump_errs(&errs);
	assert_non_null(c);
	assert_int_equal(errs.n, 0);
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	assert_string_equal(c->hostname, host);
	assert_int_equal(c->n_local_domains, 1);
	assert_string_equal(c->local_domains[0], "mydomain.test");
	assert_int_equal(c->n_local_networks, 2);
	assert_string_equal(cidr_format(&c->local_networks[0], tmp,
	    sizeof(tmp)), "127.0.0.1/32");
	assert_string_equal(cidr_format(&c->local_networks[1], tmp,
	    sizeof(tmp)), "::1/128");
	assert_null(c->relay_rules_path);
	assert_null(c->rules);
	assert_string_equal(c->users_path, "/etc/postern/users");
	assert_string_equal(c->spool, "/var/spool/postern");
	assert_int_equal(c->n_listen_smtp, 1);
	assert_string_equal(c->listen_smtp[0].host, "127.0.0.1");
	assert_int_equal(c->listen_smtp[0].port, 25);
	assert_true(c->max_message_size == 10240000);
	assert_null(c->postmaster);
	assert_string_equal(c->user, "postern");
	assert_int_equal(c->log_syslog, 0);
	assert_int_equal(c->max_recipients, 1000);
	assert_int_equal(c->max_errors, 20);
	assert_int_equal(c->smtp_timeout, 300);
	assert_int_equal(c->data_timeout, 180);
	assert_int_equal(c->n_routes, 0);
	assert_string_equal(c->path, NAME);
	config_free(c);
}

/* One extra line after BASE: valid, or invalid with a message that names
 * line 5. */
struct line_case {
	const char	*line;
	int		 ok;
	const char	*err;	/* substring when !ok */
};

static const struct line_case line_cases[] = {
	/* hostname */
	{ "hostname = mx.example.org", 1, NULL },
	{ "hostname = MX.Example.ORG.", 1, NULL },
	{ "hostname = localhost", 1, NULL },
	{ "hostname = mx_1.example.org", 0, "not a valid host name" },
	{ "hostname = -mx.example.org", 0, "not a valid host name" },
	{ "hostname = mx..example.org", 0, "not a valid host name" },
	{ "hostname = 192.0.2.1", 0, "not a valid host name" },
	{ "hostname = a b", 0, "not a valid host name" },
	{ "hostname =", 0, "empty value for 'hostname'" },
	/* local_networks */
	{ "local_networks = 10.0.0.0/8", 1, NULL },
	{ "local_networks = 10.0.0.0/8, 192.168.1.0/24 ,2001:db8::/32", 1,
	    NULL },
	{ "local_networks = 192.0.2.7", 1, NULL },
	{ "local_networks = 10.1.2.3/8", 0, "host bits" },
	{ "local_networks = 10.0.0.0/33", 0, "local_networks" },
	{ "local_networks = example.org", 0, "not a network" },
	{ "local_networks = 10.0.0.0/8,", 0, "empty item" },
	{ "local_networks = 10.0.0.0/8,,::1", 0, "empty item" },
	/* relay_rules */
	{ "relay_rules = rules.txt", 1, NULL },
	{ "relay_rules = /etc/tcp.smtp", 1, NULL },
	{ "relay_rules =", 0, "empty value" },
	/* listen_smtp */
	{ "max_errors = 1", 1, NULL },
	/* max_message_size */
	{ "max_message_size = 1k", 0, "not a number" },
	{ "max_message_size = -1", 0, "not a number" },
	{ "max_message_size = 99999999999999999999999", 0, "not a number" },
	/* postmaster, user */
	{ "postmaster = alice", 1, NULL },
	{ "postmaster = Alice", 0, "not a valid user name" },
	{ "postmaster = al:ice", 0, "not a valid user name" },
	{ "postmaster = .alice", 0, "not a valid user name" },
	{ "postmaster = abcdefghijabcdefghijabcdefghijab", 1, NULL },
	{ "postmaster = abcdefghijabcdefghijabcdefghijabc", 0,
	    "not a valid user name" },
	{ "user = mail", 1, NULL },
	{ "user = root user", 0, "not a valid user name" },
	/* log */
	{ "log = stderr", 1, NULL },
	{ "log = syslog", 1, NULL },
	{ "log = file", 0, "not one of stderr,syslog" },
	{ "log = Syslog", 0, "not one of" },
	{ "log = syslo", 0, "not one of" },
	/* syntax */
	{ "foo = bar", 0, "unknown key 'foo'" },
	{ "Hostname = x.org", 0, "unknown key 'Hostname'" },
	{ "hostname x.org", 0, "missing '='" },
	{ "= x", 0, "unknown key ''" },
	{ "spool = /elsewhere", 0, "repeated key 'spool' (first set on line 3)" },
	{ "  # indented comment", 1, NULL },
	{ "hostname = mx.example.org # trailing comment", 1, NULL },
	{ "hostname=mx.example.org", 1, NULL },
	{ "\thostname\t=\tmx.example.org\t", 1, NULL },
	{ "route mx.example.org = relay.example.net:25", 1, NULL },
};

static void
test_lines(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
		const struct line_case *t = &line_cases[i];
		struct errlist errs = { NULL, 0 };
		struct config *c = parse_with(t->line, &errs);

		if ((c != NULL) != t->ok || (!t->ok && !errs_have(&errs,
		    t->err)) || (!t->ok && !errs_have(&errs, NAME ":5: "))) {
			fprintf(stderr, "case %zu '%s' ok=%d\n", i, t->line,
			    c != NULL);
			dump_errs(&errs);
			fail();
		}
		if (!t->ok)
			assert_int_equal(errs.n, 1);
		config_free(c);
		errlist_free(&errs);
	}
}

/* Keys that are required, replaced one at a time with a test value. */
struct req_case {
	const char	*key;
	const char	*value;
	int		 ok;
	const char	*err;
};

static const struct req_case req_cases[] = {
	{ "local_domains", "a.test, B.Test., c.a.test", 1, NULL },
	{ "local_domains", "a.test,", 0, "empty item" },
	{ "local_domains", "a.test, a.test", 0, "listed twice" },
	{ "local_domains", "a.test, A.TEST.", 0, "listed twice" },
	{ "local_domains", "a_b.test", 0, "not a valid domain" },
	{ "local_domains", "a..test", 0, "not a valid domain" },
	{ "local_domains", "[192.0.2.1]", 0, "not a valid domain" },
	{ "local_domains", "a.test.. ", 0, "not a valid domain" },
	{ "local_domains", "", 0, "empty value" },
	{ "listen_smtp", "127.0.0.1:25", 1, NULL },
	{ "listen_smtp", "127.0.0.1:25 [::1]:25, 0.0.0.0:587,[::]:465", 1,
	    NULL },
	{ "listen_smtp", "127.0.0.1:0", 0, "port must be 1..65535" },
	{ "listen_smtp", "127.0.0.1:65535", 1, NULL },
	{ "listen_smtp", "127.0.0.1:65536", 0, "port must be 1..65535" },
	{ "listen_smtp", "127.0.0.1:", 0, "port must be" },
	{ "listen_smtp", "127.0.0.1", 0, "missing :port" },
	{ "listen_smtp", "localhost:25", 0, "not a numeric IPv4" },
	{ "listen_smtp", "::1:25", 0, "brackets" },
	{ "listen_smtp", "[::1]25", 0, "expected [IPv6]:port" },
	{ "listen_smtp", "[127.0.0.1]:25", 0, "not a numeric IPv6" },
	{ "listen_smtp", "127.0.0.1:25, 127.0.0.1:25", 0, "listed twice" },
	{ "listen_smtp", "127.0.0.1:25,,127.0.0.1:26", 0, "empty item" },
	{ "users", "/etc/postern/users.db", 1, NULL },
	{ "spool", "spool", 1, NULL },
};

static void
test_required_values(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *t = &req_cases[i];
		const char *keys[] = { "local_domains", "users", "spool",
		    "listen_smtp" };
		const char *vals[] = { "mydomain.test", "users", "/spool",
		    "127.0.0.1:25" };
		struct errlist errs = { NULL, 0 };
		char text[2048];
		size_t k, off = 0;
		struct config *c;

		for (k = 0; k < 4; k++)
			off += (size_t)snprintf(text + off, sizeof(text) - off,
			    "%s = %s\n", keys[k], strcmp(keys[k], t->key) == 0 ?
			    t->value : vals[k]);
		c = parse(text, &errs);
		if ((c != NULL) != t->ok || (!t->ok && !errs_have(&errs,
		    t->err))) {
			fprintf(stderr, "case %zu %s = '%s' ok=%d\n", i,
			    t->key, t->value, c != NULL);
			dump_errs(&errs);
			fail();
		}
		config_free(c);
		errlist_free(&errs);
	}
}

static void
test_domains_and_listen(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;

	(void)state;
	c = parse("local_domains = A.Test, B.Test., c.a.test\n"
	    "users = u\nspool = s\n"
	    "listen_smtp = 127.0.0.1:25 [::1]:2525, 0.0.0.0:587\n", &errs);
	assert_non_null(c);
	assert_int_equal(c->n_local_domains, 3);
	assert_string_equal(c->local_domains[0], "a.test");
	assert_string_equal(c->local_domains[1], "b.test");
	assert_string_equal(c->local_domains[2], "c.a.test");
	assert_int_equal(c->n_listen_smtp, 3);
	assert_string_equal(c->listen_smtp[1].host, "::1");
	assert_int_equal(c->listen_smtp[1].port, 2525);
	assert_string_equal(c->listen_smtp[1].text, "[::1]:2525");
	assert_string_equal(c->listen_smtp[2].text, "0.0.0.0:587");
	config_free(c);
}

struct range_case {
	const char	*key;
	uint64_t	 min, max;
};

static const struct range_case range_cases[] = {
	{ "max_message_size", 1024, 2147483647 },
	{ "max_recipients", 1, 100000 },
	{ "max_errors", 1, 1000 },
	{ "smtp_timeout", 1, 86400 },
	{ "data_timeout", 1, 86400 },
};

static uint64_t
num_value(const struct config *c, const char *key)
{
	if (strcmp(key, "max_message_size") == 0)
		return c->max_message_size;
	if (strcmp(key, "max_recipients") == 0)
		return c->max_recipients;
	if (strcmp(key, "max_errors") == 0)
		return c->max_errors;
	if (strcmp(key, "smtp_timeout") == 0)
		return c->smtp_timeout;
	return c->data_timeout;
}

static void
test_ranges(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
		const struct range_case *t = &range_cases[i];
		uint64_t v[4] = { t->min - 1, t->min, t->max, t->max + 1 };
		int ok[4] = { 0, 1, 1, 0 };

		for (j = 0; j < 4; j++) {
			struct errlist errs = { NULL, 0 };
			char line[128];
			struct config *c;

			snprintf(line, sizeof(line), "%s = %llu", t->key,
			    (unsigned long long)v[j]);
			c = parse_with(line, &errs);
			if ((c != NULL) != ok[j]) {
				fprintf(stderr, "%s\n", line);
				dump_errs(&errs);
				fail();
			}
			if (c != NULL)
				assert_true(num_value(c, t->key) == v[j]);
			else
				assert_true(errs_have(&errs, "out of range"));
			config_free(c);
			errlist_free(&errs);
		}
	}
}

static void
test_routes(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;
	const struct route *r;

	(void)state;
	c = parse(BASE
	    "route Example.ORG. = Relay.Example.NET:2525\n"
	    "route * = [::1]:25\n"
	    "route v4.test = 192.0.2.1:26\n"
	    "route\tsub.v4.test=relay:27\n", &errs);
	dump_errs(&errs);
	assert_non_null(c);
	assert_int_equal(c->n_routes, 4);
	assert_string_equal(c->routes[0].domain, "example.org");
	assert_string_equal(c->routes[0].host, "relay.example.net");
	assert_int_equal(c->routes[0].port, 2525);
	assert_int_equal(c->routes[0].line, 5);
	assert_string_equal(c->routes[1].domain, "*");
	assert_string_equal(c->routes[1].host, "::1");
	assert_string_equal(c->routes[2].host, "192.0.2.1");

	r = config_route(c, "example.org");
	assert_non_null(r);
	assert_int_equal(r->port, 2525);
	r = config_route(c, "EXAMPLE.org.");
	assert_non_null(r);
	assert_int_equal(r->port, 2525);
	r = config_route(c, "sub.example.org");	/* exact only, then "*" */
	assert_ptr_equal(r, &c->routes[1]);
	r = config_route(c, "[192.0.2.9]");
	assert_ptr_equal(r, &c->routes[1]);
	r = config_route(c, "sub.v4.test");
	assert_int_equal(r->port, 27);
	config_free(c);

	/* No "*": unknown domains have no route. */
	c = parse(BASE "route a.test = mx.a.test:25\n", &errs);
	assert_non_null(c);
	assert_null(config_route(c, "b.test"));
	assert_non_null(config_route(c, "a.test"));
	config_free(c);
}

static const struct line_case route_cases[] = {
	{ "route a.test = mx.a.test", 0, "port is required" },
	{ "route a.test = mx.a.test:0", 0, "must be 1..65535" },
	{ "route a.test = mx.a.test:65536", 0, "must be 1..65535" },
	{ "route a.test = mx.a.test:65535", 1, NULL },
	{ "route a.test = mx.a.test:x", 0, "must be 1..65535" },
	{ "route a.test = ::1:25", 0, "brackets" },
	{ "route a.test = [::1:25", 0, "expected [IPv6]:PORT" },
	{ "route a.test = [192.0.2.1]:25", 0, "not an IPv6" },
	{ "route a.test = mx_a.test:25", 0, "not a host name" },
	{ "route a.test = 1.2.3:25", 0, "not a host name" },
	{ "route a.test =", 0, "missing HOST:PORT" },
	{ "route = mx.a.test:25", 0, "missing domain" },
	{ "route a_b = mx.a.test:25", 0, "not a domain name" },
	{ "route a.test b.test = mx:25", 0, "not a domain name" },
	{ "route ** = mx:25", 0, "not a domain name" },
	{ "routes a.test = mx:25", 0, "unknown key 'routes a.test'" },
	/* options after HOST:PORT */
	{ "route a.test = mx:25 tls=required", 1, NULL },
	{ "route a.test = mx:25 tls=may", 1, NULL },
	{ "route a.test = [::1]:25\ttls = none  ", 1, NULL },
	{ "route a.test = mx:25 tls=none # comment", 1, NULL },
	{ "route a.test = mx:25 tls=maybe", 0, "tls 'maybe' must be may, "
	  "none or required" },
	{ "route a.test = mx:25 tls=Required", 0, "must be may, none" },
	{ "route a.test = mx:25 tls=", 0, "tls '' must be" },
	{ "route a.test = mx:25 tls", 0, "option 'tls' needs a value" },
	{ "route a.test = mx:25 tls required", 0, "needs a value" },
	{ "route a.test = mx:25 tls=may tls=none", 0, "tls given twice" },
	{ "route a.test = mx:25 verify=yes", 0, "unknown option 'verify'" },
	{ "route a.test = mx:25 =x", 0, "unknown option ''" },
	{ "route a.test = mx tls=none", 0, "port is required" },
	{ "route a.test = mx:x tls=none", 0, "must be 1..65535" },
};

static void
test_route_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		const struct line_case *t = &route_cases[i];
		struct errlist errs = { NULL, 0 };
		struct config *c = parse_with(t->line, &errs);

		if ((c != NULL) != t->ok || (!t->ok && (!errs_have(&errs,
		    t->err) || !errs_have(&errs, NAME ":5: ")))) {
			fprintf(stderr, "case %zu '%s' ok=%d\n", i, t->line,
			    c != NULL);
			dump_errs(&errs);
			fail();
		}
		config_free(c);
		errlist_free(&errs);
	}
}

/* tls=: the default is may (also for a route written before tls=
 * existed), values land in struct route, config_print writes the
 * non-default ones back. */
static void
test_route_tls(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c, *c2;
	char *out = NULL;
	size_t l = 0;
	FILE *f;

	(void)state;
	c = parse(BASE
	    "route a.test = mx.a.test:25\n"
	    "route b.test = mx.b.test:25 tls=required\n"
	    "route c.test = [::1]:26 tls=none\n"
	    "route d.test = 192.0.2.1:27 tls = may\n", &errs);
	dump_errs(&errs);
	assert_non_null(c);
	assert_int_equal(c->n_routes, 4);
	assert_int_equal(CONFIG_TLS_MAY, 0);
	assert_int_equal(c->routes[0].tls, CONFIG_TLS_MAY);
	assert_int_equal(c->routes[1].tls, CONFIG_TLS_REQUIRED);
	assert_string_equal(c->routes[1].host, "mx.b.test");
	assert_int_equal(c->routes[1].port, 25);
	assert_int_equal(c->routes[2].tls, CONFIG_TLS_NONE);
	assert_string_equal(c->routes[2].host, "::1");
	assert_int_equal(c->routes[2].port, 26);
	assert_int_equal(c->routes[3].tls, CONFIG_TLS_MAY);
	assert_int_equal(c->routes[3].port, 27);
	f = open_memstream(&out, &l);
	config_print(c, f);
	fclose(f);
	assert_non_null(strstr(out, "route a.test = mx.a.test:25\n"));
	assert_non_null(strstr(out, "route b.test = mx.b.test:25 "
	    "tls=required\n"));
	assert_non_null(strstr(out, "route c.test = [::1]:26 tls=none\n"));
	assert_non_null(strstr(out, "route d.test = 192.0.2.1:27\n"));
	c2 = config_parse(NAME, out, l, &errs);
	dump_errs(&errs);
	assert_non_null(c2);
	assert_int_equal(c2->routes[1].tls, CONFIG_TLS_REQUIRED);
	assert_int_equal(c2->routes[2].tls, CONFIG_TLS_NONE);
	free(out);
	config_free(c2);
	config_free(c);
}

static void
test_route_duplicate(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;

	(void)state;
	c = parse(BASE "route a.test = x:25\nroute A.TEST. = y:25\n"
	    "route * = x:25\nroute * = y:25\n", &errs);
	assert_null(c);
	assert_int_equal(errs.n, 2);
	assert_true(errs_have(&errs, NAME ":6: duplicate route for 'a.test' "
	    "(first on line 5)"));
	assert_true(errs_have(&errs, NAME ":8: duplicate route for '*' "
	    "(first on line 7)"));
	errlist_free(&errs);
}

static void
test_all_errors(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;

	(void)state;
	c = parse("# a config with many mistakes\n"
	    "local_domains = a.test\n"
	    "foo = 1\n"
	    "max_errors = 0\n"
	    "\n"
	    "no equals sign here\n"
	    "local_domains = b.test\n"
	    "max_recipients = lots\n"
	    "route x.test = y\n", &errs);
	assert_null(c);
	assert_int_equal(errs.n, 9);
	assert_string_equal(errs.msgs[0], NAME ":3: unknown key 'foo'");
	assert_true(strncmp(errs.msgs[1], NAME ":4: max_errors: 0 is out of "
	    "range (1..1000)", 40) == 0);
	assert_true(strncmp(errs.msgs[2], NAME ":6: missing '='", 20) == 0);
	assert_string_equal(errs.msgs[3], NAME ":7: repeated key "
	    "'local_domains' (first set on line 2)");
	assert_true(strncmp(errs.msgs[4], NAME ":8: max_recipients:", 20)
	    == 0);
	assert_true(strncmp(errs.msgs[5], NAME ":9: route x.test", 20) == 0);
	assert_string_equal(errs.msgs[6], NAME ": missing required key "
	    "'users'");
	assert_string_equal(errs.msgs[7], NAME ": missing required key "
	    "'spool'");
	assert_string_equal(errs.msgs[8], NAME ": missing required key "
	    "'listen_smtp'");
	errlist_free(&errs);

	/* An empty file: every required key, nothing else. */
	c = parse("", &errs);
	assert_null(c);
	assert_int_equal(errs.n, 4);
	assert_string_equal(errs.msgs[0], NAME ": missing required key "
	    "'local_domains'");
	errlist_free(&errs);
}

static void
test_syntax(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;

	(void)state;
	/* CRLF, comments, blank lines, '#' inside a value without a space
	 * before it is part of the value. */
	c = parse("# comment\r\n\r\n   \r\n"
	    "local_domains = a.test # ours\r\n"
	    "users = /u#1\r\n"
	    "spool=/s\r\n"
	    "listen_smtp = 127.0.0.1:25\r\n"
	    "#hostname = nope.test\r\n", &errs);
	dump_errs(&errs);
	assert_non_null(c);
	assert_string_equal(c->users_path, "/u#1");
	assert_string_equal(c->local_domains[0], "a.test");
	config_free(c);

	/* No final newline. */
	c = parse(BASE "log = syslog", &errs);
	assert_non_null(c);
	assert_int_equal(c->log_syslog, 1);
	config_free(c);

	/* NUL and stray CR are errors with a line number. */
	{
		static const char t[] = BASE "hostname = a\0b\nuser = a\rb\n";

		c = config_parse(NAME, t, sizeof(t) - 1, &errs);
		assert_null(c);
		assert_int_equal(errs.n, 2);
		assert_true(errs_have(&errs, NAME ":5: NUL byte"));
		assert_true(errs_have(&errs, NAME ":6: stray CR"));
		errlist_free(&errs);
	}

	/* An over-long line. */
	{
		char big[6000];

		memset(big, 'a', sizeof(big));
		memcpy(big, "hostname = ", 11);
		big[sizeof(big) - 1] = '\0';
		c = parse_with(big, &errs);
		assert_null(c);
		assert_true(errs_have(&errs, NAME ":5: line longer than"));
		errlist_free(&errs);
	}
}

static void
test_relative_paths(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;
	const char *text = "local_domains = a.test\nusers = ./users\n"
	    "spool = ../spool\nrelay_rules = rules/tcp.smtp\n"
	    "listen_smtp = 127.0.0.1:25\n";

	(void)state;
	c = config_parse("/srv/mail/etc/postern.conf", text, strlen(text),
	    &errs);
	assert_non_null(c);
	assert_string_equal(c->users_path, "/srv/mail/etc/users");
	assert_string_equal(c->spool, "/srv/mail/etc/../spool");
	assert_string_equal(c->relay_rules_path,
	    "/srv/mail/etc/rules/tcp.smtp");
	config_free(c);

	c = config_parse("/postern.conf", text, strlen(text), &errs);
	assert_non_null(c);
	assert_string_equal(c->users_path, "/users");
	config_free(c);

	/* A bare name (no directory): paths stay as written. */
	c = config_parse("postern.conf", text, strlen(text), &errs);
	assert_non_null(c);
	assert_string_equal(c->relay_rules_path, "rules/tcp.smtp");
	config_free(c);
}

/* What config_print writes parses back to the same configuration. */
static void
test_print_roundtrip(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c, *c2;
	char *out1 = NULL, *out2 = NULL;
	size_t l1 = 0, l2 = 0;
	FILE *f;

	(void)state;
	c = parse(BASE "local_networks = 10.0.0.0/8, 2001:db8::/32\n"
	    "postmaster = alice\nlog = syslog\nmax_message_size = 1024\n"
	    "listen_smtp2 = x\n", &errs);
	assert_null(c);		/* unknown key */
	errlist_free(&errs);

	c = parse("local_domains = a.test, b.test\nusers = /u\nspool = /s\n"
	    "listen_smtp = 127.0.0.1:25 [::1]:26\n"
	    "local_networks = 10.0.0.0/8, 2001:db8::/32\n"
	    "postmaster = alice\nlog = syslog\nmax_message_size = 1024\n"
	    "hostname = mx.a.test\nroute * = [::1]:25\n"
	    "route b.test = mx.b.test:2525\n", &errs);
	dump_errs(&errs);
	assert_non_null(c);
	f = open_memstream(&out1, &l1);
	config_print(c, f);
	fclose(f);
	assert_non_null(strstr(out1, "max_message_size = 1024\n"));
	assert_non_null(strstr(out1, "log = syslog\n"));
	assert_non_null(strstr(out1, "local_networks = 10.0.0.0/8, "
	    "2001:db8::/32\n"));
	assert_non_null(strstr(out1, "listen_smtp = 127.0.0.1:25, [::1]:26\n"));
	assert_non_null(strstr(out1, "route * = [::1]:25\n"));
	assert_non_null(strstr(out1, "# relay_rules is not set\n"));
	assert_non_null(strstr(out1, "max_recipients = 1000\n"));
	assert_non_null(strstr(out1, "data_timeout = 180\n"));
	c2 = config_parse(NAME, out1, l1, &errs);
	dump_errs(&errs);
	assert_non_null(c2);
	free(c2->path);
	c2->path = xstrdup(c->path);
	f = open_memstream(&out2, &l2);
	config_print(c2, f);
	fclose(f);
	assert_string_equal(out1, out2);
	free(out1);
	free(out2);
	config_free(c);
	config_free(c2);
}

/* Every prefix of a valid file parses or fails cleanly (ASan watches). */
static void
test_prefixes(void **state)
{
	const char *text = BASE "route * = [::1]:25\nlocal_networks = "
	    "10.0.0.0/8, ::1/128 # x\nmax_errors = 5\r\n";
	size_t i, n = strlen(text);

	(void)state;
	for (i = 0; i <= n; i++) {
		struct errlist errs = { NULL, 0 };
		char *copy = malloc(i + 1);
		struct config *c;

		memcpy(copy, text, i);	/* no NUL: the parser must not look */
		c = config_parse(NAME, copy, i, &errs);
		assert_true(c != NULL || errs.n > 0);
		config_free(c);
		errlist_free(&errs);
		free(copy);
	}
}

/* --- config_load: files on disk -------------------------------------- */

static char tmpdir[256];

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown_tmp(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_load(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;
	char path[PATH_MAX], want[PATH_MAX + 32], cwd[PATH_MAX];
	struct rules_match m;
	struct netaddr a;

	(void)state;
	write_file(tmpdir, "postern.conf", BASE "relay_rules = tcp.smtp\n");
	write_file(tmpdir, "tcp.smtp", "127.:allow,RELAYCLIENT=\"\"\n"
	    "192.168.1.:allow\n:allow\n");
	snprintf(path, sizeof(path), "%s/postern.conf", tmpdir);
	c = config_load(path, &errs);
	dump_errs(&errs);
	assert_non_null(c);
	snprintf(want, sizeof(want), "%s/tcp.smtp", tmpdir);
	assert_string_equal(c->relay_rules_path, want);
	snprintf(want, sizeof(want), "%s/users", tmpdir);
	assert_string_equal(c->users_path, want);
	assert_non_null(c->rules);
	assert_int_equal(netaddr_parse("127.0.0.5", &a), 0);
	rules_lookup(c->rules, &a, &m);
	assert_int_equal(m.action, RULES_ALLOW);
	assert_int_equal(m.relay, 1);
	config_free(c);

	/* A relative config path: stored absolute, paths under its dir. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	c = config_load("./postern.conf", &errs);
	assert_int_equal(chdir(cwd), 0);
	assert_non_null(c);
	assert_string_equal(c->path, path);
	snprintf(want, sizeof(want), "%s/users", tmpdir);
	assert_string_equal(c->users_path, want);
	config_free(c);

	/* Errors in the rules file are reported with its name and line. */
	write_file(tmpdir, "tcp.smtp", "127.:allow\n=evil.example:allow\n");
	c = config_load(path, &errs);
	assert_null(c);
	snprintf(want, sizeof(want), "%s/tcp.smtp:2:", tmpdir);
	assert_true(errs_have(&errs, want));
	errlist_free(&errs);

	/* A missing rules file. */
	write_file(tmpdir, "postern.conf", BASE "relay_rules = nope\n");
	c = config_load(path, &errs);
	assert_null(c);
	assert_true(errs_have(&errs, "nope: cannot open"));
	errlist_free(&errs);

	/* A missing config file. */
	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	c = config_load(path, &errs);
	assert_null(c);
	assert_int_equal(errs.n, 1);
	errlist_free(&errs);
}

static void
test_load_too_big(void **state)
{
	struct errlist errs = { NULL, 0 };
	char path[PATH_MAX];
	struct config *c;
	FILE *f;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(BASE, f);
	for (i = 0; i < 1024 * 1024 / 16 + 1; i++)
		fputs("# padding......\n", f);
	fclose(f);
	c = config_load(path, &errs);
	assert_null(c);
	assert_true(errs_have(&errs, "larger than 1048576 bytes"));
	errlist_free(&errs);
}

/* dnsbl lines (the key without '=' when the weight is left out) and
 * the greylisting keys. */
static void
test_dnsbl_greylist(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;

	(void)state;
	c = parse(BASE "dnsbl zen.example.org\n"
	    "dnsbl  BL.Example.NET. = 3\n"
	    "dnsbl_threshold = 2\ndnsbl_tempfail = yes\n"
	    "dnsbl_reject_at = rcpt\ndnsbl_allow = 192.0.2.0/24, 2001:db8::1\n"
	    "greylist = yes\ngreylist_delay = 2m\n", &errs);
	assert_int_equal(errs.n, 0);
	assert_non_null(c);
	assert_int_equal(c->n_dnsbl, 2);
	assert_string_equal(c->dnsbl[0].zone, "zen.example.org");
	assert_int_equal(c->dnsbl[0].weight, 1);
	assert_string_equal(c->dnsbl[1].zone, "bl.example.net");
	assert_int_equal(c->dnsbl[1].weight, 3);
	assert_int_equal(c->dnsbl_threshold, 2);
	assert_int_equal(c->dnsbl_tempfail, 1);
	assert_int_equal(c->dnsbl_reject_at, CONFIG_DNSBL_AT_RCPT);
	assert_int_equal(c->n_dnsbl_allow, 2);
	assert_int_equal(c->greylist, 1);
	assert_int_equal(c->greylist_delay, 120);
	assert_int_equal(c->greylist_window, 4 * 3600);
	assert_int_equal(c->greylist_expire, 36 * 86400);
	config_free(c);
	c = parse(BASE, &errs);
	assert_non_null(c);
	assert_int_equal(c->n_dnsbl, 0);
	assert_int_equal(c->dnsbl_threshold, 1);
	assert_int_equal(c->dnsbl_tempfail, 0);
	assert_int_equal(c->dnsbl_reject_at, CONFIG_DNSBL_AT_GREETING);
	assert_int_equal(c->greylist, 0);
	assert_int_equal(c->greylist_delay, 300);
	config_free(c);
	assert_null(parse_with("dnsbl bad..zone", &errs));
	assert_true(errs_have(&errs, "is not a zone name"));
	errlist_free(&errs);
	assert_null(parse_with("dnsbl bl.example = 0", &errs));
	assert_true(errs_have(&errs, "weight"));
	errlist_free(&errs);
	assert_null(parse(BASE "dnsbl bl.example\ndnsbl BL.example\n", &errs));
	assert_true(errs_have(&errs, "duplicate dnsbl"));
	errlist_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsbl_greylist),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_required_values),
		cmocka_unit_test(test_domains_and_listen),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_route_errors),
		cmocka_unit_test(test_route_tls),
		cmocka_unit_test(test_route_duplicate),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_too_big),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
