/* test_dns - MX ordering (RFC 5321 5.1): preference, shuffling among
 * equal preferences, null MX (RFC 7505); the record answer parser on
 * packets built here (joined TXT strings, compression, CNAME chains,
 * NXDOMAIN vs NODATA, negative TTLs from the SOA, every cut of a packet,
 * pointer loops, bounds); name checks and PTR names; dns_query on an
 * event loop against a fake server on a loopback UDP socket (callbacks
 * exactly once, the cache, TEMP never cached, dns_free with a query
 * out). More c-ares runs in the integration tests against dnsmasq
 * (test_outbound_delivery, test_dns_records). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>

#include "unit.h"
#include "dns.h"

static uint32_t seq;

static uint32_t
fake_rand(void *arg)
{
	(void)arg;
	return seq++ * 2654435761u;
}

static void
set(struct dns_mx *v, size_t i, const char *name, unsigned pref)
{
	snprintf(v[i].name, sizeof(v[i].name), "%s", name);
	v[i].pref = pref;
}

static void
test_order_by_preference(void **state)
{
	struct dns_mx v[4];
	int isnull;
	size_t n;

	(void)state;
	set(v, 0, "c", 30);
	set(v, 1, "a", 10);
	set(v, 2, "d", 40);
	set(v, 3, "b", 20);
	n = dns_mx_order(v, 4, &isnull, fake_rand, NULL);
	assert_int_equal(n, 4);
	assert_false(isnull);
	assert_string_equal(v[0].name, "a");
	assert_string_equal(v[1].name, "b");
	assert_string_equal(v[2].name, "c");
	assert_string_equal(v[3].name, "d");
}

static void
test_equal_preferences_shuffled(void **state)
{
	int seen_first[3] = { 0, 0, 0 };
	int round;

	(void)state;
	for (round = 0; round < 60; round++) {
		struct dns_mx v[5];
		int isnull;
		size_t n;

		set(v, 0, "x0", 10);
		set(v, 1, "x1", 10);
		set(v, 2, "x2", 10);
		set(v, 3, "backup", 20);
		set(v, 4, "best", 5);
		seq = (uint32_t)round;
		n = dns_mx_order(v, 5, &isnull, fake_rand, NULL);
		assert_int_equal(n, 5);
		assert_string_equal(v[0].name, "best");
		assert_string_equal(v[4].name, "backup");
		/* the three equal ones stay together, in some order */
		assert_int_equal(v[1].pref, 10);
		assert_int_equal(v[3].pref, 10);
		seen_first[v[1].name[1] - '0']++;
	}
	/* each of them came first sometimes */
	assert_true(seen_first[0] > 0 && seen_first[1] > 0 && seen_first[2] > 0);
}

static void
test_null_mx(void **state)
{
	struct dns_mx v[2];
	int isnull;

	(void)state;
	set(v, 0, "", 0);
	assert_int_equal(dns_mx_order(v, 1, &isnull, fake_rand, NULL), 0);
	assert_true(isnull);
	/* a null MX next to a real one is ignored (RFC 7505 3: MUST NOT mix) */
	set(v, 0, "", 0);
	set(v, 1, "real", 10);
	assert_int_equal(dns_mx_order(v, 2, &isnull, fake_rand, NULL), 1);
	assert_false(isnull);
	assert_string_equal(v[0].name, "real");
	assert_int_equal(dns_mx_order(v, 0, &isnull, fake_rand, NULL), 0);
	assert_false(isnull);
}

/* A DNS message under construction. */
struct pkt {
	unsigned char	b[4096];
	size_t		len;
};

static void
put8(struct pkt *p, unsigned v)
{
	assert_true(p->len < sizeof(p->b));
	p->b[p->len++] = (unsigned char)v;
}

static void
put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void
putbytes(struct pkt *p, const void *d, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

/* "a.b.c" as labels; "" is the root. */
static void
putname(struct pkt *p, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		put8(p, (unsigned)l);
		putbytes(p, name, l);
		name += l + (dot != NULL);
	}
	put8(p, 0);
}

/* Header and one question (at offset 12, for pointers 0xc00c). */
static void
start(struct pkt *p, unsigned rcode, unsigned an, unsigned ns,
    const char *qname, unsigned qtype)
{
	p->len = 0;
	put16(p, 0x1234);
	put16(p, 0x8180 | rcode);
	put16(p, 1);
	put16(p, an);
	put16(p, ns);
	put16(p, 0);
	putname(p, qname);
	put16(p, qtype);
	put16(p, 1);
}

/* An RR header owned by the question name (a pointer); rdlen follows. */
static void
rr_head(struct pkt *p, unsigned type, uint32_t ttl, unsigned rdlen)
{
	put16(p, 0xc00c);
	put16(p, type);
	put16(p, 1);
	put32(p, ttl);
	put16(p, rdlen);
}

static void
txt_rr(struct pkt *p, uint32_t ttl, const char *const *strs, size_t n)
{
	size_t i, rdlen = 0;

	for (i = 0; i < n; i++)
		rdlen += 1 + strlen(strs[i]);
	rr_head(p, DNS_T_TXT, ttl, (unsigned)rdlen);
	for (i = 0; i < n; i++) {
		put8(p, (unsigned)strlen(strs[i]));
		putbytes(p, strs[i], strlen(strs[i]));
	}
}

static void
soa_rr(struct pkt *p, uint32_t ttl, uint32_t minimum)
{
	struct pkt rd = { .len = 0 };

	putname(&rd, "ns.example");
	putname(&rd, "host.example");
	put32(&rd, 1);
	put32(&rd, 2);
	put32(&rd, 3);
	put32(&rd, 4);
	put32(&rd, minimum);
	put16(p, 0xc00c);
	put16(p, 6);
	put16(p, 1);
	put32(p, ttl);
	put16(p, (unsigned)rd.len);
	putbytes(p, rd.b, rd.len);
}

static struct dns_answer ans;

static void
test_txt_joined(void **state)
{
	static const char *const spf[] = { "v=spf1 ip4:192.0.2.0/24", " -all" };
	static const char *const other[] = { "hello" };
	struct pkt p;

	(void)state;
	start(&p, 0, 2, 0, "example.org", DNS_T_TXT);
	txt_rr(&p, 300, spf, 2);
	txt_rr(&p, 100, other, 1);
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, OUTCOME_OK);
	assert_int_equal(ans.nrr, 2);
	assert_string_equal(dns_rr_text(&ans, 0), "v=spf1 ip4:192.0.2.0/24 -all");
	assert_int_equal(ans.rr[0].len, strlen("v=spf1 ip4:192.0.2.0/24 -all"));
	assert_string_equal(dns_rr_text(&ans, 1), "hello");
	assert_int_equal(ans.ttl, 100);
	assert_false(ans.truncated);
}

static void
test_txt_binary_and_empty(void **state)
{
	struct pkt p;

	(void)state;
	start(&p, 0, 2, 0, "example.org", DNS_T_TXT);
	rr_head(&p, DNS_T_TXT, 60, 4);
	putbytes(&p, "\003a\000b", 4);		/* a NUL inside */
	rr_head(&p, DNS_T_TXT, 60, 1);
	put8(&p, 0);				/* one empty string */
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, OUTCOME_OK);
	assert_int_equal(ans.nrr, 2);
	assert_int_equal(ans.rr[0].len, 3);
	assert_memory_equal(dns_rr_text(&ans, 0), "a\0b", 4);
	assert_int_equal(ans.rr[1].len, 0);
}

static void
test_txt_bad_string_length_dropped(void **state)
{
	static const char *const good[] = { "good" };
	struct pkt p;

	(void)state;
	start(&p, 0, 2, 0, "example.org", DNS_T_TXT);
	rr_head(&p, DNS_T_TXT, 60, 3);
	putbytes(&p, "\005ab", 3);		/* says 5, has 2 */
	txt_rr(&p, 60, good, 1);
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, OUTCOME_OK);
	assert_int_equal(ans.nrr, 1);
	assert_string_equal(dns_rr_text(&ans, 0), "good");
}

static void
test_a_aaaa(void **state)
{
	static const unsigned char v4[4] = { 192, 0, 2, 7 };
	unsigned char v6[16], mapped[16];
	char buf[INET6_ADDRSTRLEN];
	struct pkt p;

	(void)state;
	inet_pton(AF_INET6, "2001:db8::25", v6);
	inet_pton(AF_INET6, "::ffff:198.51.100.1", mapped);
	start(&p, 0, 2, 0, "h.example", DNS_T_A);
	rr_head(&p, DNS_T_A, 50, 4);
	putbytes(&p, v4, 4);
	rr_head(&p, DNS_T_A, 50, 3);		/* wrong length: left out */
	putbytes(&p, v4, 3);
	dns_parse_answer(p.b, p.len, DNS_T_A, &ans);
	assert_int_equal(ans.status, OUTCOME_OK);
	assert_int_equal(ans.nrr, 1);
	assert_string_equal(netaddr_format(&ans.rr[0].addr, buf, sizeof(buf)),
	    "192.0.2.7");

	start(&p, 0, 2, 0, "h.example", DNS_T_AAAA);
	rr_head(&p, DNS_T_AAAA, 50, 16);
	putbytes(&p, v6, 16);
	rr_head(&p, DNS_T_AAAA, 50, 16);
	putbytes(&p, mapped, 16);
	dns_parse_answer(p.b, p.len, DNS_T_AAAA, &ans);
	assert_int_equal(ans.nrr, 2);
	assert_int_equal(ans.rr[0].addr.family, AF_INET6);
	assert_string_equal(netaddr_format(&ans.rr[0].addr, buf, sizeof(buf)),
	    "2001:db8::25");
	assert_int_equal(ans.rr[1].addr.family, AF_INET);
}

static void
test_mx_names_compression_null(void **state)
{
	struct pkt p;

	(void)state;
	start(&p, 0, 3, 0, "example.org", DNS_T_MX);
	/* "mx1" + pointer to example.org in the question */
	rr_head(&p, DNS_T_MX, 600, 2 + 4 + 2);
	put16(&p, 10);
	put8(&p, 3);
	putbytes(&p, "mx1", 3);
	put16(&p, 0xc00c);
	/* the question name itself */
	rr_head(&p, DNS_T_MX, 600, 2 + 2);
	put16(&p, 20);
	put16(&p, 0xc00c);
	/* the root: a null MX */
	rr_head(&p, DNS_T_MX, 600, 3);
	put16(&p, 0);
	put8(&p, 0);
	dns_parse_answer(p.b, p.len, DNS_T_MX, &ans);
	assert_int_equal(ans.status, OUTCOME_OK);
	assert_int_equal(ans.nrr, 3);
	assert_string_equal(dns_rr_text(&ans, 0), "mx1.example.org");
	assert_int_equal(ans.rr[0].pref, 10);
	assert_string_equal(dns_rr_text(&ans, 1), "example.org");
	assert_int_equal(ans.rr[1].pref, 20);
	assert_string_equal(dns_rr_text(&ans, 2), "");
	assert_int_equal(ans.rr[2].len, 0);
}

static void
test_ptr(void **state)
{
	struct pkt p;

	(void)state;
	start(&p, 0, 1, 0, "7.2.0.192.in-addr.arpa", DNS_T_PTR);
	rr_head(&p, DNS_T_PTR, 600, 11);
	putname(&p, "mail.test");
	dns_parse_answer(p.b, p.len, DNS_T_PTR, &ans);
	assert_int_equal(ans.status, OUTCOME_OK);
	assert_int_equal(ans.nrr, 1);
	assert_string_equal(dns_rr_text(&ans, 0), "mail.test");
}

static void
test_cname_chain(void **state)
{
	static const unsigned char v4[4] = { 192, 0, 2, 9 };
	struct pkt p;
	size_t target;

	(void)state;
	start(&p, 0, 2, 0, "alias.example", DNS_T_A);
	rr_head(&p, 5, 30, 9);			/* CNAME, TTL 30 */
	target = p.len;
	putname(&p, "real.ex");
	put16(&p, 0xc000 | (unsigned)target);
	put16(&p, DNS_T_A);
	put16(&p, 1);
	put32(&p, 500);
	put16(&p, 4);
	putbytes(&p, v4, 4);
	dns_parse_answer(p.b, p.len, DNS_T_A, &ans);
	assert_int_equal(ans.status, OUTCOME_OK);
	assert_int_equal(ans.nrr, 1);
	assert_int_equal(ans.ttl, 30);
}

static void
test_nxdomain_nodata(void **state)
{
	struct pkt p;

	(void)state;
	/* NXDOMAIN, SOA TTL 900, MINIMUM 60: 60 */
	start(&p, 3, 0, 1, "no.example", DNS_T_TXT);
	soa_rr(&p, 900, 60);
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, DNS_NXDOMAIN);
	assert_int_equal(ans.ttl, 60);
	assert_int_equal(ans.nrr, 0);
	/* NODATA, SOA TTL 40 < MINIMUM 3600: 40 */
	start(&p, 0, 0, 1, "yes.example", DNS_T_TXT);
	soa_rr(&p, 40, 3600);
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, DNS_NODATA);
	assert_int_equal(ans.ttl, 40);
	/* without a SOA: not to be cached */
	start(&p, 0, 0, 0, "yes.example", DNS_T_TXT);
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, DNS_NODATA);
	assert_int_equal(ans.ttl, 0);
	/* records of another type only: NODATA too */
	start(&p, 0, 1, 0, "yes.example", DNS_T_TXT);
	rr_head(&p, DNS_T_A, 60, 4);
	putbytes(&p, "\x01\x02\x03\x04", 4);
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, DNS_NODATA);
}

static void
test_errors_are_temp(void **state)
{
	struct pkt p;

	(void)state;
	start(&p, 2, 0, 0, "x.example", DNS_T_TXT);	/* SERVFAIL */
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, OUTCOME_TEMP);
	start(&p, 5, 0, 0, "x.example", DNS_T_TXT);	/* REFUSED */
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, OUTCOME_TEMP);
	start(&p, 0, 0, 0, "x.example", DNS_T_TXT);
	p.b[2] &= 0x7f;					/* a query, not a response */
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, OUTCOME_TEMP);
	dns_parse_answer(p.b, 5, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, OUTCOME_TEMP);
}

/* Every cut of a packet parses within its bounds: the ones that end
 * inside the answer are TEMP. */
static void
test_every_cut(void **state)
{
	static const char *const s1[] = { "v=DKIM1; k=ed25519; p=abc" };
	struct pkt p;
	size_t cut, qend;

	(void)state;
	start(&p, 0, 2, 1, "sel._domainkey.example", DNS_T_TXT);
	qend = p.len;
	txt_rr(&p, 60, s1, 1);
	rr_head(&p, DNS_T_MX, 60, 4);		/* another type, a pointer */
	put16(&p, 1);
	put16(&p, 0xc00c);
	soa_rr(&p, 60, 60);
	for (cut = 0; cut < p.len; cut++) {
		unsigned char *copy = malloc(cut ? cut : 1);

		memcpy(copy, p.b, cut);
		dns_parse_answer(copy, cut, DNS_T_TXT, &ans);
		if (cut < qend)
			assert_int_equal(ans.status, OUTCOME_TEMP);
		free(copy);
	}
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.status, OUTCOME_OK);
}

static void
test_pointer_loops(void **state)
{
	struct pkt p;

	(void)state;
	/* an owner name pointing at itself */
	start(&p, 0, 1, 0, "x.example", DNS_T_A);
	put16(&p, 0xc000 | (unsigned)p.len);
	put16(&p, DNS_T_A);
	put16(&p, 1);
	put32(&p, 60);
	put16(&p, 4);
	putbytes(&p, "\x01\x02\x03\x04", 4);
	dns_parse_answer(p.b, p.len, DNS_T_A, &ans);
	assert_int_equal(ans.status, OUTCOME_TEMP);
	/* a PTR name pointing forward (into itself) is left out */
	start(&p, 0, 1, 0, "x.example", DNS_T_PTR);
	rr_head(&p, DNS_T_PTR, 60, 2);
	put16(&p, 0xc000 | (unsigned)p.len);
	dns_parse_answer(p.b, p.len, DNS_T_PTR, &ans);
	assert_int_equal(ans.status, DNS_NODATA);
}

static void
test_bounds(void **state)
{
	static const unsigned char v4[4] = { 10, 0, 0, 1 };
	char big[256];
	const char *strs[40];
	struct pkt p;
	size_t i;

	(void)state;
	/* more records than DNS_RR_MAX */
	start(&p, 0, DNS_RR_MAX + 5, 0, "many.example", DNS_T_A);
	for (i = 0; i < DNS_RR_MAX + 5; i++) {
		rr_head(&p, DNS_T_A, 60, 4);
		putbytes(&p, v4, 4);
	}
	dns_parse_answer(p.b, p.len, DNS_T_A, &ans);
	assert_int_equal(ans.status, OUTCOME_OK);
	assert_int_equal(ans.nrr, DNS_RR_MAX);
	assert_true(ans.truncated);
	/* one record longer than DNS_TEXT_MAX: dropped, said so */
	memset(big, 'k', 255);
	big[255] = '\0';
	for (i = 0; i < 40; i++)
		strs[i] = big;
	start(&p, 0, 1, 0, "big.example", DNS_T_TXT);
	txt_rr(&p, 60, strs, 15);		/* 3825 bytes: fits */
	dns_parse_answer(p.b, p.len, DNS_T_TXT, &ans);
	assert_int_equal(ans.nrr, 1);
	assert_int_equal(ans.rr[0].len, 15 * 255);
	assert_false(ans.truncated);
}

static void
test_name_check(void **state)
{
	char n[300];

	(void)state;
	assert_int_equal(dns_name_check("example.org"), 0);
	assert_int_equal(dns_name_check("example.org."), 0);
	assert_int_equal(dns_name_check("_dmarc.example.org"), 0);
	assert_int_equal(dns_name_check(""), -1);
	assert_int_equal(dns_name_check("."), -1);
	assert_int_equal(dns_name_check("a..b"), -1);
	assert_int_equal(dns_name_check(".a"), -1);
	assert_int_equal(dns_name_check("a.."), -1);
	assert_int_equal(dns_name_check("a b"), -1);
	assert_int_equal(dns_name_check("a\\.b"), -1);
	/* a label of 63 is fine, 64 is not */
	memset(n, 'a', 64);
	n[63] = '\0';
	assert_int_equal(dns_name_check(n), 0);
	n[63] = 'a';
	n[64] = '\0';
	assert_int_equal(dns_name_check(n), -1);
	/* 253 characters are fine (and with the final dot), 254 are not */
	for (size_t i = 0; i < 253; i++)
		n[i] = (i % 2) ? '.' : 'a';
	n[253] = '\0';
	assert_int_equal(dns_name_check(n), 0);
	n[253] = '.';
	n[254] = '\0';
	assert_int_equal(dns_name_check(n), 0);
	n[253] = 'b';
	n[252] = 'b';
	assert_int_equal(dns_name_check(n), -1);
}

static void
test_ptr_name(void **state)
{
	struct netaddr a;
	char buf[DNS_NAME_MAX + 1];

	(void)state;
	assert_int_equal(netaddr_parse("192.0.2.7", &a), 0);
	assert_int_equal(dns_ptr_name(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "7.2.0.192.in-addr.arpa");
	assert_int_equal(netaddr_parse("2001:db8::567:89ab", &a), 0);
	assert_int_equal(dns_ptr_name(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(dns_ptr_name(&a, buf, 20), -1);
	assert_int_equal(dns_status_name(DNS_NODATA)[0], 'n');
	assert_string_equal(dns_status_name(DNS_NXDOMAIN), "nxdomain");
}

/* A fake DNS server on 127.0.0.1: answers by the first label of the
 * question: "ok" a TXT record (TTL 100), "nx" NXDOMAIN with a SOA
 * (negative TTL 50), "fail" SERVFAIL, "quiet" nothing. */
struct fake {
	int		fd;
	unsigned	queries;
	struct event	*ev;
};

static void
fake_read(evutil_socket_t fd, short what, void *arg)
{
	static const char *const txt[] = { "v=spf1 ", "-all" };
	struct fake *f = arg;
	unsigned char q[512];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	struct pkt p;
	ssize_t n;
	size_t qend = 12;

	(void)what;
	n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	if (n < 17)
		return;
	f->queries++;
	while (qend < (size_t)n && q[qend] != 0)
		qend += 1 + q[qend];
	qend += 5;
	if (qend > (size_t)n || memcmp(q + 13, "quiet", 5) == 0)
		return;
	p.len = 0;
	putbytes(&p, q, 2);
	if (memcmp(q + 13, "ok", 2) == 0) {
		put16(&p, 0x8180);
		put16(&p, 1);
		put16(&p, 1);
		put16(&p, 0);
		put16(&p, 0);
		putbytes(&p, q + 12, qend - 12);
		txt_rr(&p, 100, txt, 2);
	} else if (memcmp(q + 13, "nx", 2) == 0) {
		put16(&p, 0x8183);
		put16(&p, 1);
		put16(&p, 0);
		put16(&p, 1);
		put16(&p, 0);
		putbytes(&p, q + 12, qend - 12);
		soa_rr(&p, 900, 50);
	} else {
		put16(&p, 0x8182);
		put16(&p, 1);
		put16(&p, 0);
		put16(&p, 0);
		put16(&p, 0);
		putbytes(&p, q + 12, qend - 12);
	}
	(void)sendto(fd, p.b, p.len, 0, (struct sockaddr *)&from, fl);
}

struct got {
	unsigned		calls;
	int		status;
	uint32_t		ttl;
	char			text[64];
};

static void
got_cb(const struct dns_answer *a, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->status = a->status;
	g->ttl = a->ttl;
	g->text[0] = '\0';
	if (a->nrr > 0 && a->type == DNS_T_TXT)
		snprintf(g->text, sizeof(g->text), "%s", dns_rr_text(a, 0));
}

static void
run_until(struct event_base *base, struct got *g)
{
	while (g->calls == 0)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
}

static void
test_query_on_event_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct fake f = { -1, 0, NULL };
	struct got g;
	struct dns *d;
	char servers[64], err[256];
	static struct dns_answer w;

	(void)state;
	assert_non_null(base);
	f.fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(f.fd, (struct sockaddr *)&sin, &sl), 0);
	f.ev = event_new(base, f.fd, EV_READ | EV_PERSIST, fake_read, &f);
	event_add(f.ev, NULL);
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", ntohs(sin.sin_port));
	d = dns_new(base, servers, err, sizeof(err));
	assert_non_null(d);

	/* found, then from the cache without a packet, before returning */
	memset(&g, 0, sizeof(g));
	dns_query(d, DNS_T_TXT, "ok.example", got_cb, &g);
	run_until(base, &g);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, OUTCOME_OK);
	assert_int_equal(g.ttl, 100);
	assert_string_equal(g.text, "v=spf1 -all");
	assert_int_equal(f.queries, 1);
	memset(&g, 0, sizeof(g));
	dns_query(d, DNS_T_TXT, "OK.example.", got_cb, &g);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, OUTCOME_OK);
	assert_true(g.ttl <= 100 && g.ttl >= 98);
	assert_string_equal(g.text, "v=spf1 -all");
	assert_int_equal(f.queries, 1);

	/* NXDOMAIN is kept for the SOA's 50 s */
	memset(&g, 0, sizeof(g));
	dns_query(d, DNS_T_TXT, "nx.example", got_cb, &g);
	run_until(base, &g);
	assert_int_equal(g.status, DNS_NXDOMAIN);
	assert_int_equal(g.ttl, 50);
	assert_int_equal(dns_query_wait(d, base, DNS_T_TXT, "nx.example", &w),
	    DNS_NXDOMAIN);
	assert_int_equal(f.queries, 2);

	/* SERVFAIL is TEMP and never kept: asked again */
	assert_int_equal(dns_query_wait(d, base, DNS_T_TXT, "fail.example", &w),
	    OUTCOME_TEMP);
	{
		unsigned before = f.queries;

		assert_int_equal(dns_query_wait(d, base, DNS_T_TXT,
		    "fail.example", &w), OUTCOME_TEMP);
		assert_true(f.queries > before);
	}

	/* an invalid name: PERM at once, no packet */
	{
		unsigned before = f.queries;

		memset(&g, 0, sizeof(g));
		dns_query(d, DNS_T_A, "a..example", got_cb, &g);
		assert_int_equal(g.calls, 1);
		assert_int_equal(g.status, OUTCOME_PERM);
		assert_int_equal(f.queries, before);
	}

	/* a query still out when dns_free runs: called once, TEMP */
	{
		unsigned before = f.queries;

		memset(&g, 0, sizeof(g));
		dns_query(d, DNS_T_TXT, "quiet.example", got_cb, &g);
		while (f.queries == before)	/* until the fake has it */
			assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
		assert_int_equal(g.calls, 0);
	}
	dns_free(d);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, OUTCOME_TEMP);

	event_free(f.ev);
	close(f.fd);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_by_preference),
		cmocka_unit_test(test_equal_preferences_shuffled),
		cmocka_unit_test(test_null_mx),
		cmocka_unit_test(test_txt_joined),
		cmocka_unit_test(test_txt_binary_and_empty),
		cmocka_unit_test(test_txt_bad_string_length_dropped),
		cmocka_unit_test(test_a_aaaa),
		cmocka_unit_test(test_mx_names_compression_null),
		cmocka_unit_test(test_ptr),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_nxdomain_nodata),
		cmocka_unit_test(test_errors_are_temp),
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_pointer_loops),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_name_check),
		cmocka_unit_test(test_ptr_name),
		cmocka_unit_test(test_query_on_event_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
