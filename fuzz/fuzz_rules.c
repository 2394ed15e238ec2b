/* fuzz_rules - rules_parse on arbitrary text, then lookups of a few
 * fixed addresses and of addresses taken from the input. A NULL result
 * must always come with at least one error message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const probes[] = {
	"127.0.0.1", "10.0.0.1", "1.2.3.4", "192.168.1.1", "0.0.0.0",
	"255.255.255.255", "::1", "2001:db8::1", "::ffff:10.0.0.1", "::",
};

static void
check(const struct rules *r, const struct netaddr *a)
{
	struct rules_match m;

	rules_lookup(r, a, &m);
	if (m.action == RULES_NO_MATCH) {
		if (m.relay || m.text != NULL)
			abort();
		return;
	}
	if (m.action != RULES_ALLOW && m.action != RULES_DENY)
		abort();
	if ((m.relay && m.action != RULES_ALLOW) || m.line == 0 ||
	    m.text == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errlist errs = { NULL, 0 };
	struct rules *r;
	struct netaddr a;
	size_t i;

	r = rules_parse("fuzz", (const char *)data, size, &errs);
	if ((r == NULL) != (errs.n > 0))
		abort();
	if (r != NULL) {
		for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			if (netaddr_parse(probes[i], &a) != 0)
				abort();
			check(r, &a);
		}
		/* raw bytes as addresses, both families */
		memset(&a, 0, sizeof(a));
		a.family = AF_INET;
		memcpy(a.a, data, size < 4 ? size : 4);
		check(r, &a);
		memset(&a, 0, sizeof(a));
		a.family = AF_INET6;
		memcpy(a.a, data, size < 16 ? size : 16);
		check(r, &a);
		memset(&a, 0, sizeof(a));
		check(r, &a);
	}
	rules_free(r);
	errlist_free(&errs);
	return 0;
}
