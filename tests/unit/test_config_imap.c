/* test_config_imap - the IMAP keys: listen_imap / listen_imaps,
 * imap_plaintext_auth (derived from tls_cert when unset),
 * max_imap_sessions and max_imap_sessions_per_client (defaults, bounds). */
#include "unit.h"

#include "config.h"

#define NAME	"/etc/postern/postern.conf"
#define BASE	"local_domains = mydomain.test\n" \
		"users = users\n" \
		"spool = /var/spool/postern\n" \
		"listen_smtp = 127.0.0.1:25\n"
#define TLS	"tls_cert = /etc/ssl/c.pem\ntls_key = /etc/ssl/k.pem\n"

static struct config *
parse(const char *extra, struct errlist *errs)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s", BASE, extra);
	return config_parse(NAME, text, strlen(text), errs);
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
test_defaults(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;

	(void)state;
	c = parse("", &errs);
	assert_non_null(c);
	assert_int_equal(c->n_listen_imap, 0);
	assert_int_equal(c->n_listen_imaps, 0);
	assert_int_equal(c->max_imap_sessions, 1000);
	assert_int_equal(c->max_imap_sessions_per_client, 50);
	assert_int_equal(c->imap_plaintext_auth, 1);	/* no TLS: yes */
	config_free(c);
	c = parse(TLS, &errs);
	assert_non_null(c);
	assert_int_equal(c->imap_plaintext_auth, 0);	/* TLS: no */
	config_free(c);
	c = parse(TLS "imap_plaintext_auth = yes\n", &errs);
	assert_non_null(c);
	assert_int_equal(c->imap_plaintext_auth, 1);
	config_free(c);
	errlist_free(&errs);
}

static void
test_listeners(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;

	(void)state;
	c = parse("listen_imap = 127.0.0.1:143, [::1]:143\n", &errs);
	assert_non_null(c);
	assert_int_equal(c->n_listen_imap, 2);
	config_free(c);
	c = parse("listen_imaps = 127.0.0.1:993\n", &errs);
	assert_null(c);
	assert_true(errs_have(&errs, "listen_imaps needs tls_cert"));
	errlist_free(&errs);
	c = parse(TLS "listen_imaps = 127.0.0.1:993\n", &errs);
	assert_non_null(c);
	assert_int_equal(c->n_listen_imaps, 1);
	config_free(c);
	c = parse("listen_imap = nonsense\n", &errs);
	assert_null(c);
	errlist_free(&errs);
}

static void
test_bounds(void **state)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;

	(void)state;
	c = parse("max_imap_sessions = 0\n", &errs);
	assert_null(c);
	errlist_free(&errs);
	c = parse("max_imap_sessions = 100000\nmax_imap_sessions_per_client = 1\n",
	    &errs);
	assert_non_null(c);
	assert_int_equal(c->max_imap_sessions, 100000);
	assert_int_equal(c->max_imap_sessions_per_client, 1);
	config_free(c);
	c = parse("max_imap_sessions_per_client = 100001\n", &errs);
	assert_null(c);
	errlist_free(&errs);
	c = parse("imap_plaintext_auth = maybe\n", &errs);
	assert_null(c);
	errlist_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
