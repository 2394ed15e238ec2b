/* fuzz_authres - the Authentication-Results remover and writer on
 * arbitrary bytes. The input is a header section for authres_strip and,
 * cut at its first NUL bytes, the values for authres_write.
 * Checks beyond "no crash": strip keeps every byte but those of the
 * fields it drops (the output is the input less the dropped fields, in
 * order), none of our fields is left, and stripping again drops nothing;
 * the writer's field is one header field of the A-R name, carrying our id,
 * with CRLF line ends only and every line after the first a fold. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "buf.h"
#include "msgheader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID	"mx.example.net"

static void
check_strip(const char *h, size_t len)
{
	struct buf out, again;
	struct msgheader_iter it;
	struct msgheader_field f;
	long dropped, n = 0;
	size_t kept = 0, in_pos = 0;

	buf_init(&out, len + 1);
	dropped = authres_strip(h, len, ID, &out);
	if (dropped < 0)
		abort();	/* the input always fits */
	/* The same walk by hand: the output is the input less our fields. */
	msgheader_init(&it, h, len);
	for (;;) {
		int r = msgheader_next(&it, &f);

		if (r == MSGHEADER_BROKEN) {
			if (msgheader_skip_broken(&it) != 0)
				abort();
			continue;
		}
		if (r != MSGHEADER_FIELD)
			break;
		if (f.start >= f.end || f.end > len)
			abort();
		if (msgheader_name_is(&f, "Authentication-Results") &&
		    authres_is_ours(f.value, f.value_len, ID)) {
			if (memcmp(out.data + kept, h + in_pos,
			    f.start - in_pos) != 0)
				abort();
			kept += f.start - in_pos;
			in_pos = f.end;
			n++;
		}
	}
	if (n != dropped || out.len != kept + (len - in_pos) ||
	    memcmp(out.data + kept, h + in_pos, len - in_pos) != 0)
		abort();
	buf_init(&again, out.len + 1);
	if (authres_strip(out.data, out.len, ID, &again) != 0 ||
	    again.len != out.len || memcmp(again.data, out.data, out.len) != 0)
		abort();
	buf_free(&again);
	buf_free(&out);
}

static void
check_write(const char *p, size_t len)
{
	static const char *const methods[] = { "spf", "dkim", "dmarc" };
	struct authres_result r[3];
	const char *vals[6];
	char *copy = malloc(len + 1);
	struct buf out;
	struct msgheader_iter it;
	struct msgheader_field f;
	size_t i, nv = 0, start = 0;

	memcpy(copy, p, len);
	copy[len] = '\0';
	for (i = 0; i <= len && nv < 6; i++)
		if (i == len || copy[i] == '\0') {
			vals[nv++] = copy + start;
			start = i + 1;
		}
	while (nv < 6)
		vals[nv++] = "";
	memset(r, 0, sizeof(r));
	for (i = 0; i < 3; i++) {
		r[i].method = methods[i];
		r[i].result = "pass";
		r[i].comment = i == 2 ? vals[5] : NULL;
		r[i].props[0] = (struct authres_prop){ "header", "d",
		    vals[i] };
		r[i].props[1] = (struct authres_prop){ "smtp", "mailfrom",
		    vals[i + 3] };
		r[i].nprops = 2;
	}
	buf_init(&out, 1 << 20);
	if (authres_write(&out, ID, r, 3) != 0)
		abort();
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\r' && (i + 1 >= out.len ||
		    out.data[i + 1] != '\n'))
			abort();
		if (out.data[i] == '\n' && (i == 0 || out.data[i - 1] != '\r'))
			abort();
		if (out.data[i] == '\n' && i + 1 < out.len &&
		    out.data[i + 1] != '\t')
			abort();
		if (out.data[i] == '\0')
			abort();
	}
	msgheader_init(&it, out.data, out.len);
	if (msgheader_next(&it, &f) != MSGHEADER_FIELD ||
	    !msgheader_name_is(&f, "Authentication-Results") ||
	    !authres_is_ours(f.value, f.value_len, ID) ||
	    f.end != out.len ||
	    msgheader_next(&it, &f) != MSGHEADER_END)
		abort();
	buf_free(&out);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_strip((const char *)data, size);
	check_write((const char *)data, size);
	return 0;
}
