/* fuzz_config - libFuzzer target for config_parse (no I/O, so the whole
 * parser, defaults and config_print run on arbitrary bytes).
 * Build: clang -D_GNU_SOURCE -Isrc -g -fsanitize=fuzzer,address,undefined \
 *        fuzz/fuzz_config.c src/config.c src/netaddr.c src/rules.c \
 *        src/buf.c src/log.c -o fuzz_config
 * Run:   ./fuzz_config fuzz/corpus/config */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errlist errs = { NULL, 0 };
	struct config *c;
	FILE *devnull;

	c = config_parse("/fuzz/postern.conf", (const char *)data, size, &errs);
	if (c != NULL) {
		/* A valid config must not have produced errors, and must
		 * print; its routes must be found again. */
		if (errs.n != 0)
			__builtin_trap();
		if ((devnull = fopen("/dev/null", "w")) != NULL) {
			config_print(c, devnull);
			fclose(devnull);
		}
		for (size_t i = 0; i < c->n_routes; i++)
			if (config_route(c, c->routes[i].domain) == NULL)
				__builtin_trap();
		config_free(c);
	} else if (errs.n == 0)
		__builtin_trap();	/* NULL without a reason */
	errlist_free(&errs);
	return 0;
}
