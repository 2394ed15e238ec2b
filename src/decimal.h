/* decimal - the one parser of unsigned decimal numbers in files, replies
 *           and command lines.
 * Trusts: nothing: the text may be anything, not NUL-terminated.
 * Gives:  parse_decimal: exactly [s, s+len) as digits 0-9 (at least one,
 *         no sign, no space, no suffix; leading zeros allowed - callers
 *         that need the canonical form check s[0] != '0' themselves),
 *         a value no larger than max, overflow checked.
 * Never:  does I/O, reads errno or a locale. */
#ifndef POSTERN_DECIMAL_H
#define POSTERN_DECIMAL_H
#include <stddef.h>
#include <stdint.h>

/* 0 and *out set, or -1 (*out untouched): empty, a non-digit, or more
 * than max. */
int	parse_decimal(const char *s, size_t len, uint64_t max, uint64_t *out);
#endif
