/* pure_fatal - fatal() for programs linked against the pure library alone
 *              (the pure modules' unit tests, fuzz targets and the link
 *              check in the Makefile).
 * Trusts: nothing.
 * Gives:  fatal() as log.h declares it: the message on stderr, exit 1, the
 *         way log.c's does when logging to stderr.
 * Never:  is linked into postern: there log.c's fatal() logs the message.
 *
 * fatal() is the one symbol a pure module may take from outside the pure
 * library (tools/check-pure.sh): the exit on a bug or when memory runs
 * out, not a way to do I/O. With -DPURE_LINK_CHECK this file also gives
 * the empty main() the link check needs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	exit(1);
}

#ifdef PURE_LINK_CHECK
int	main(void);

int
main(void)
{
	return 0;
}
#endif
