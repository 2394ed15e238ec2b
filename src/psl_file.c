/* psl_file - the Public Suffix List read from its file; see psl.h.
 * Trusts: the path (from configuration or the default).
 * Gives:  psl_parse of the file's bytes.
 * Never:  keeps the file open or its bytes after parsing. */
#include <errno.h>
#include <fcntl.h>

#include "buf.h"
#include "fileio.h"
#include "psl.h"

struct psl *
psl_load_file(const char *path, unsigned sections, struct psl_stats *stats)
{
	struct buf b;
	struct psl *psl = NULL;

	if (fileio_read_file(AT_FDCWD, path, FILEIO_FOLLOW, PSL_FILE_MAX, &b,
	    NULL) == 0) {
		psl = psl_parse(b.data, b.len, sections, stats);
		if (psl == NULL)
			errno = EINVAL;
	}
	buf_free(&b);
	return psl;
}
