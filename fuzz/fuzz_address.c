/* fuzz_address - address_parse_path on arbitrary bytes.
 * Checks beyond "no crash": an accepted path ends inside the input with
 * '>', its parts are within the limits, its text form round-trips, and
 * the first byte chooses allow_null / allow_postmaster. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct address a, b;
	size_t end, end2;
	char text[ADDRESS_PATH_MAX * 2 + 8];
	char path[sizeof(text) + 2];
	unsigned mode;
	size_t n;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	if (address_parse_path((const char *)data, size, mode & 1, mode & 2,
	    &a, &end) != ADDRESS_OK)
		return 0;
	if (end < 2 || end > size || data[end - 1] != '>' ||
	    strlen(a.local) > ADDRESS_LOCAL_MAX + 2 ||
	    strlen(a.domain) > ADDRESS_DOMAIN_MAX)
		abort();
	if (a.is_null || a.is_postmaster)
		return 0;
	/* Re-parsing the normalised form gives the same address. */
	if (address_format(&a, text, sizeof(text)) == NULL)
		abort();
	n = strlen(text);
	path[0] = '<';
	memcpy(path + 1, text, n);
	path[n + 1] = '>';
	/* A source route is dropped and a trailing dot removed; any other
	 * routing trick must survive (a quoted "a%b" may come back as an
	 * unquoted percent hack, which is still routing). */
	if (address_parse_path(path, n + 2, 0, 0, &b, &end2) != ADDRESS_OK ||
	    end2 != n + 2 || strcmp(a.local, b.local) != 0 ||
	    strcmp(a.domain, b.domain) != 0 ||
	    a.is_literal != b.is_literal ||
	    (a.is_literal && !netaddr_equal(&a.literal, &b.literal)) ||
	    (a.flags & ADDRESS_F_QUOTED) != (b.flags & ADDRESS_F_QUOTED) ||
	    !!(a.flags & ADDRESS_F_ROUTING & ~(unsigned)ADDRESS_F_SOURCE_ROUTE) !=
	    !!(b.flags & ADDRESS_F_ROUTING) ||
	    (b.flags & (ADDRESS_F_SOURCE_ROUTE | ADDRESS_F_TRAILING_DOT)))
		abort();
	return 0;
}
