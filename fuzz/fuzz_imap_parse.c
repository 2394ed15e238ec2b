/* fuzz_imap_parse - the IMAP command reader on arbitrary bytes, fed whole
 * and cut at pseudo-random points chosen by the input's first octets.
 * Checks beyond "no crash": every call consumes at most what it was
 * given, and all of it when it gives no event; calls are bounded (no
 * event loop without progress); tokens are NUL-terminated, inside the
 * arena, within the depth and count limits; both feedings give the same
 * events (streamed octets compared by count and checksum); a token's
 * text written by imap_put_string and read back is the same token; the
 * sequence-set parser's ranges are ordered. The second octet chooses
 * max_literal and which CONTINUEs are refused. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct imap_parser p1, p2, p3;

struct log {
	uint64_t	hash;	/* of the events, in order */
	uint64_t	nev;
};

static void
mix(struct log *l, uint64_t v)
{
	l->hash = (l->hash ^ v) * 0x100000001b3ULL;
}

static void
check_cmd(const struct imap_parser *p)
{
	size_t k;

	if (p->cmd.nargs > IMAP_ARGS_MAX)
		abort();
	for (k = 0; k < p->cmd.nargs; k++) {
		const struct imap_arg *a = &p->cmd.args[k];

		if (a->s < p->arena || a->s + a->len >= p->arena +
		    p->arena_cap || p->arena_cap > IMAP_CMD_MAX + 1 ||
		    p->cmd.nargs > p->args_cap || a->s[a->len] != '\0' ||
		    a->depth > IMAP_DEPTH_MAX)
			abort();
	}
}

/* Feed in[0..len) in pieces cut where cuts says; log the events. */
static void
run(struct imap_parser *p, const uint8_t *in, size_t len,
    const uint8_t *cuts, size_t ncuts, uint64_t max, unsigned refuse,
    struct log *l)
{
	size_t pos = 0, k = 0, calls = 0, n, chunk;
	enum imap_event ev;
	unsigned conts = 0;

	memset(l, 0, sizeof(*l));
	imap_parse_free(p);	/* the last input's (static: zeroed at first) */
	imap_parse_init(p, max);
	for (;;) {
		chunk = len - pos;
		if (ncuts > 0) {
			size_t c = (size_t)cuts[k++ % ncuts] + 1;

			if (c < chunk)
				chunk = c;
		}
		n = imap_parse_feed(p, (const char *)in + pos, chunk, &ev);
		if (n > chunk || (ev == IMAP_EV_NONE && n != chunk))
			abort();
		if (++calls > 4 * len + 16)
			abort();	/* no progress */
		pos += n;
		switch (ev) {
		case IMAP_EV_NONE:
			break;
		case IMAP_EV_LITERAL_DATA:
			if (p->data != (const char *)in + pos - n ||
			    p->data_len != n || n == 0)
				abort();
			for (size_t i = 0; i < n; i++)
				l->hash += (uint8_t)p->data[i];	/* order-free */
			break;
		case IMAP_EV_COMMAND:
		case IMAP_EV_BAD:
			check_cmd(p);
			mix(l, (uint64_t)ev);
			mix(l, p->cmd.nargs);
			mix(l, (uint64_t)p->toobig);
			for (size_t i = 0; p->cmd.tag[i] != '\0'; i++)
				mix(l, (uint8_t)p->cmd.tag[i]);
			for (size_t a = 0; ev == IMAP_EV_COMMAND &&
			    a < p->cmd.nargs; a++) {
				mix(l, p->cmd.args[a].type);
				mix(l, p->cmd.args[a].len);
			}
			l->nev++;
			break;
		case IMAP_EV_CONTINUE:
			mix(l, (uint64_t)ev);
			if ((refuse >> (conts++ % 8)) & 1)
				imap_parse_reject_literal(p);
			break;
		case IMAP_EV_LITERAL_BEGIN:
			mix(l, (uint64_t)ev);
			mix(l, p->literal_size);
			break;
		default:
			mix(l, (uint64_t)ev);
			break;
		}
		if (pos == len && ev == IMAP_EV_NONE)
			break;
		if (pos == len && (ev == IMAP_EV_COMMAND || ev == IMAP_EV_BAD ||
		    ev == IMAP_EV_CONTINUE))
			break;
	}
}

/* imap_put_string(s) read back as the one argument of a command. */
static void
roundtrip(const char *s, size_t len)
{
	static char line[4096];
	struct buf b;
	size_t pos = 0, n;
	enum imap_event ev = IMAP_EV_NONE;

	buf_init(&b, sizeof(line));
	if (buf_append(&b, "t X ", 4) == -1 || imap_put_string(&b, s, len) ==
	    -1 || buf_append(&b, "\r\n", 2) == -1) {
		buf_free(&b);
		return;
	}
	imap_parse_free(&p3);
	imap_parse_init(&p3, 0);
	while (pos < b.len) {
		n = imap_parse_feed(&p3, b.data + pos, b.len - pos, &ev);
		pos += n;
		if (ev == IMAP_EV_COMMAND || ev == IMAP_EV_BAD)
			break;
	}
	if (ev != IMAP_EV_COMMAND || pos != b.len || p3.cmd.nargs != 1 ||
	    p3.cmd.args[0].len != len || memcmp(p3.cmd.args[0].s, s, len) != 0)
		abort();
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct log a, b;
	struct imap_seqset *set;
	uint64_t max;
	unsigned refuse;
	size_t ncuts, k;

	if (size < 3)
		return 0;
	ncuts = data[0] & 15;
	max = (uint64_t)(data[1] & 0x0f) * 16;
	refuse = data[1] >> 4;
	data += 2;
	size -= 2;
	if (ncuts > size)
		ncuts = size;
	run(&p1, data + ncuts, size - ncuts, NULL, 0, max, refuse, &a);
	/* the commands of the whole run, each token written and read back */
	if (a.nev > 0 && p1.cmd.nargs > 0 && p1.cmd.args[0].len < 2000 &&
	    p1.cmd.args[0].type != IMAP_TOK_LIST_OPEN &&
	    p1.cmd.args[0].type != IMAP_TOK_LIST_CLOSE &&
	    p1.cmd.args[0].type != IMAP_TOK_NIL &&
	    !(p1.cmd.args[0].type == IMAP_TOK_ATOM &&
	    memchr(p1.cmd.args[0].s, '[', p1.cmd.args[0].len) != NULL)) {
		set = malloc(sizeof(*set));
		if (imap_seqset_parse(p1.cmd.args[0].s, p1.cmd.args[0].len,
		    set) == 0) {
			if (set->n == 0)
				abort();
			for (k = 0; k < set->n; k++)
				if (set->r[k].lo > set->r[k].hi ||
				    set->r[k].lo == 0)
					abort();
			(void)imap_seqset_contains(set, 5, 10);
		}
		free(set);
		roundtrip(p1.cmd.args[0].s, p1.cmd.args[0].len);
	}
	run(&p2, data + ncuts, size - ncuts, data, ncuts, max, refuse, &b);
	if (a.hash != b.hash || a.nev != b.nev)
		abort();
	return 0;
}
