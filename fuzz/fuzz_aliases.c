/* fuzz_aliases - libFuzzer target for the aliases parser and expansion.
 * Build: clang -D_GNU_SOURCE -Isrc -g -fsanitize=fuzzer,address,undefined \
 *        fuzz/fuzz_aliases.c src/aliases.c src/buf.c src/log.c \
 *        -o fuzz_aliases
 * Run:   ./fuzz_aliases fuzz/corpus/aliases */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aliases.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *domains[] = { "mydomain.test" };
	static const char *names[] = { "a", "team", "postmaster", "loop1", "x" };
	struct errlist errs = { NULL, 0 };
	struct aliases_target *t;
	struct aliases *a;
	size_t i, n, k;

	a = aliases_parse("fuzz", (const char *)data, size, &errs);
	errlist_free(&errs);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum aliases_status st = aliases_expand(a, names[i], domains,
		    1, '+', "mydomain.test", &t, &n);

		if (st != ALIASES_OK && (t != NULL || n != 0))
			__builtin_trap();
		if (st == ALIASES_OK && (n == 0 || n > ALIASES_TARGETS_MAX))
			__builtin_trap();
		for (k = 0; k < n; k++)
			if (t[k].local && strchr(t[k].mailbox, '@') != NULL)
				__builtin_trap();
		free(t);
	}
	aliases_free(a);
	return 0;
}
