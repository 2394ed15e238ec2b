/* srs_secret - the SRS secret read from its file (see srs.h); the one
 *              impure part of SRS. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "buf.h"
#include "fileio.h"
#include "srs.h"

int
srs_secret_read(const char *path, unsigned char *out, size_t *len)
{
	struct buf b;

	if (fileio_read_file(AT_FDCWD, path, FILEIO_FOLLOW, SRS_SECRET_MAX + 1,
	    &b, NULL) == -1) {
		buf_free(&b);
		return -1;
	}
	if (b.len < SRS_SECRET_MIN || b.len > SRS_SECRET_MAX) {
		buf_free(&b);
		errno = EINVAL;
		return -1;
	}
	memcpy(out, b.data, b.len);
	*len = b.len;
	buf_free(&b);
	return 0;
}
