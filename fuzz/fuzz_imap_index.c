/* fuzz_imap_index - imap_index_parse on arbitrary bytes (a postern-uidlist
 * file any Maildir tool may have written). Checks beyond "no crash": an
 * accepted index has UIDs strictly ascending, all below UIDNEXT, valid
 * basenames; formatting it and parsing again gives the same index. The
 * input as a file name also goes through the flag and name helpers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_index ix, iy;
	struct buf b;
	char *s, info[IMAP_INFO_MAX], dir[IMAP_DIR_MAX], name[IMAP_NAME_MAX + 1];
	size_t i;

	if (imap_index_parse((const char *)data, size, &ix) == 0) {
		for (i = 0; i < ix.n; i++) {
			if (ix.e[i].uid == 0 || ix.e[i].uid >= ix.uidnext ||
			    (i > 0 && ix.e[i].uid <= ix.e[i - 1].uid) ||
			    !imap_index_base_ok(ix.e[i].base,
			    strlen(ix.e[i].base)))
				abort();
		}
		buf_init(&b, size * 2 + 128);
		if (imap_index_format(&ix, &b) != 0 ||
		    imap_index_parse(b.data, b.len, &iy) != 0 ||
		    iy.n != ix.n || iy.uidnext != ix.uidnext ||
		    iy.uidvalidity != ix.uidvalidity)
			abort();
		for (i = 0; i < ix.n; i++)
			if (iy.e[i].uid != ix.e[i].uid ||
			    strcmp(iy.e[i].base, ix.e[i].base) != 0)
				abort();
		imap_index_free(&iy);
		buf_free(&b);
	}
	imap_index_free(&ix);

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (imap_maildir_info(s, imap_maildir_flags(s), info, sizeof(info)) == 0 &&
	    imap_maildir_flags(info) != imap_maildir_flags(s))
		abort();
	(void)imap_maildir_base_len(s);
	if (imap_name_to_dir(s, dir, sizeof(dir)) == 0 &&
	    !imap_name_is_inbox(s) &&
	    (imap_dir_to_name(dir, name, sizeof(name)) != 0 ||
	    strcmp(name, s) != 0))
		abort();
	free(s);
	return 0;
}
