/* fuzz_schedule - libFuzzer target for the deferred/ID parser: whatever
 * parses must format and parse back to the same state.
 * Build: clang -D_GNU_SOURCE -Isrc -g -fsanitize=fuzzer,address,undefined \
 *        fuzz/fuzz_schedule.c src/schedule.c src/buf.c src/log.c \
 *        -o fuzz_schedule
 * Run:   ./fuzz_schedule fuzz/corpus/schedule */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "schedule.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct schedule s, s2;
	struct buf b;
	size_t i;

	if (schedule_parse((const char *)data, size, &s) == -1)
		return 0;
	buf_init(&b, SCHEDULE_FILE_MAX * 2);
	if (schedule_format(&b, &s) == -1)
		__builtin_trap();
	if (schedule_parse(b.data, b.len, &s2) == -1)
		__builtin_trap();
	if (s2.next != s.next || s2.attempts != s.attempts ||
	    s2.nerrors != s.nerrors)
		__builtin_trap();
	for (i = 0; i < s.nerrors; i++)
		if (s.errors[i].rcpt != s2.errors[i].rcpt ||
		    strcmp(s.errors[i].text, s2.errors[i].text) != 0)
			__builtin_trap();
	schedule_free(&s);
	schedule_free(&s2);
	buf_free(&b);
	return 0;
}
