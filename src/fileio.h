/* fileio - the small file helpers every process needs: write a whole
 *          buffer, read a whole (bounded) file.
 * Trusts: its callers' descriptors.
 * Never:  allocates past the buf's cap. */
#ifndef POSTERN_FILEIO_H
#define POSTERN_FILEIO_H
#include <stddef.h>
#include "buf.h"

/* write(2) until all n bytes are out (EINTR retried). 0, or -1 with errno. */
int	fileio_write_all(int fd, const void *p, size_t n);
/* Append what fd has left to b (b's cap bounds it). 0, or -1 with errno
 * (EFBIG when the file does not fit). */
int	fileio_read_all(int fd, struct buf *b);
#endif
