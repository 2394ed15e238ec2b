/* test_dkim_out - who gets signed: origin x From: domain -> line or none. */
#include "unit.h"

#include "dkim_out.h"

static struct cidr nets[2];
static struct relay_policy policy;
static struct config_dkim_sign signs[2];

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(cidr_parse("127.0.0.1/32", &nets[0]), 0);
	assert_int_equal(cidr_parse("10.0.0.0/8", &nets[1]), 0);
	memset(&policy, 0, sizeof(policy));
	policy.local_networks = nets;
	policy.n_local_networks = 2;
	memset(signs, 0, sizeof(signs));
	(void)snprintf(signs[0].domain, sizeof(signs[0].domain), "mydomain.test");
	(void)snprintf(signs[0].selector, sizeof(signs[0].selector), "s1");
	(void)snprintf(signs[1].domain, sizeof(signs[1].domain), "mx.mydomain.test");
	(void)snprintf(signs[1].selector, sizeof(signs[1].selector), "m1");
	return 0;
}

static void
test_origin(void **state)
{
	(void)state;
	assert_int_equal(dkim_out_origin(&policy, "bounce", ""), DKIM_OUT_BOUNCE);
	assert_int_equal(dkim_out_origin(&policy, "double-bounce", ""),
	    DKIM_OUT_BOUNCE);
	assert_int_equal(dkim_out_origin(&policy, "local", "alice"),
	    DKIM_OUT_SENDMAIL);
	assert_int_equal(dkim_out_origin(&policy, "192.0.2.7", "alice"),
	    DKIM_OUT_AUTHENTICATED);
	assert_int_equal(dkim_out_origin(&policy, "127.0.0.1", ""),
	    DKIM_OUT_LOCAL_NETWORK);
	assert_int_equal(dkim_out_origin(&policy, "10.9.8.7", ""),
	    DKIM_OUT_LOCAL_NETWORK);
	assert_int_equal(dkim_out_origin(&policy, "::ffff:10.9.8.7", ""),
	    DKIM_OUT_LOCAL_NETWORK);
	assert_int_equal(dkim_out_origin(&policy, "127.0.0.2", ""),
	    DKIM_OUT_STRANGER);
	assert_int_equal(dkim_out_origin(&policy, "2001:db8::1", ""),
	    DKIM_OUT_STRANGER);
	assert_int_equal(dkim_out_origin(&policy, "garbage", ""),
	    DKIM_OUT_STRANGER);
	assert_string_equal(dkim_out_origin_name(DKIM_OUT_STRANGER), "stranger");
	assert_string_equal(dkim_out_origin_name(DKIM_OUT_BOUNCE), "bounce");
}

static int
choose(enum dkim_out_origin o, const char *h, char *d, size_t dl)
{
	return dkim_out_choose(signs, 2, o, h, strlen(h), d, dl);
}

static void
test_choose(void **state)
{
	char d[256];

	(void)state;
	assert_int_equal(choose(DKIM_OUT_AUTHENTICATED, "Received: x\r\n"
	    "From: Alice <alice@MyDomain.Test.>\r\nTo: b@example.net\r\n\r\n",
	    d, sizeof(d)), 0);
	assert_string_equal(d, "mydomain.test");
	assert_int_equal(choose(DKIM_OUT_BOUNCE, "From: Mail Delivery System "
	    "<MAILER-DAEMON@mx.mydomain.test>\r\n\r\n", d, sizeof(d)), 1);
	/* a subdomain is not the domain */
	assert_int_equal(choose(DKIM_OUT_LOCAL_NETWORK,
	    "From: a@sub.mydomain.test\r\n\r\n", d, sizeof(d)), -1);
	assert_string_equal(d, "sub.mydomain.test");
	assert_int_equal(choose(DKIM_OUT_LOCAL_NETWORK,
	    "From: a@other.example\r\n\r\n", d, sizeof(d)), -1);
	/* a stranger, even From: our domain */
	assert_int_equal(choose(DKIM_OUT_STRANGER,
	    "From: alice@mydomain.test\r\n\r\n", d, sizeof(d)), -1);
	assert_string_equal(d, "");
	/* two From: fields, two mailboxes, none */
	assert_int_equal(choose(DKIM_OUT_SENDMAIL, "From: alice@mydomain.test\r\n"
	    "From: x@mx.mydomain.test\r\n\r\n", d, sizeof(d)), -1);
	assert_int_equal(choose(DKIM_OUT_SENDMAIL, "From: alice@mydomain.test, "
	    "x@mydomain.test\r\n\r\n", d, sizeof(d)), -1);
	assert_int_equal(choose(DKIM_OUT_SENDMAIL, "Subject: x\r\n\r\n", d,
	    sizeof(d)), -1);
	assert_int_equal(choose(DKIM_OUT_SENDMAIL, "From: a@[192.0.2.1]\r\n\r\n",
	    d, sizeof(d)), -1);
	/* a From: in the body is not a From: field */
	assert_int_equal(choose(DKIM_OUT_SENDMAIL, "Subject: x\r\n\r\n"
	    "From: alice@mydomain.test\r\n", d, sizeof(d)), -1);
	/* no lines at all */
	assert_int_equal(dkim_out_choose(signs, 0, DKIM_OUT_SENDMAIL,
	    "From: alice@mydomain.test\r\n\r\n", 30, d, sizeof(d)), -1);
	/* a too-small domain buffer: the decision still holds */
	assert_int_equal(choose(DKIM_OUT_SENDMAIL,
	    "From: alice@mydomain.test\r\n\r\n", d, 4), 0);
	assert_string_equal(d, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_choose),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
