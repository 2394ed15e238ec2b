/* dns - MX, address and record lookups with c-ares on libevent; see dns.h.
 *
 * c-ares tells us which sockets it wants watched (ARES_OPT_SOCK_STATE_CB);
 * each gets a persistent libevent event, and one timer follows
 * ares_timeout(). A mail routing lookup is an MX query, then one
 * ares_getaddrinfo per exchange host (in parallel); the callback fires
 * when all are back. A record lookup is one ares_query whose raw answer
 * dns_parse_answer() reads itself: c-ares's own parsers neither give the
 * TTLs of every type nor the SOA of a negative answer, which the cache
 * needs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <event2/event.h>

#include "buf.h"
#include "dns.h"
#include "dns_cache.h"

struct dns_sock {
	ares_socket_t	fd;
	struct event	*ev;
	struct dns_sock	*next;
};

struct dns {
	struct event_base *base;
	ares_channel	channel;
	struct event	*timer;
	struct dns_sock	*socks;
	struct dns_cache *cache;	/* record answers */
};

struct dns_req {
	struct dns	*d;
	dns_cb		cb;
	void		*arg;
	char		domain[256];
	struct dns_result res;
	size_t		pending;	/* address lookups outstanding */
	int		any_temp;	/* an address lookup failed temporarily */
};

static void dns_timer_cb(evutil_socket_t, short, void *);

static void
dns_reschedule(struct dns *d)
{
	struct timeval tv, *tvp;

	tvp = ares_timeout(d->channel, NULL, &tv);
	if (tvp == NULL)
		evtimer_del(d->timer);
	else
		evtimer_add(d->timer, tvp);
}

static void
dns_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;

	ares_process_fd(d->channel,
	    (what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	dns_reschedule(d);
}

static void
dns_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;

	(void)fd; (void)what;
	ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_reschedule(d);
}

static void
dns_sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	struct dns_sock **pp, *s;
	short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));

	for (pp = &d->socks; (s = *pp) != NULL; pp = &s->next)
		if (s->fd == fd)
			break;
	if (s != NULL) {
		event_free(s->ev);
		s->ev = NULL;
		if (what == 0) {
			*pp = s->next;
			free(s);
			return;
		}
	} else {
		if (what == 0)
			return;
		s = xcalloc(1, sizeof(*s));
		s->fd = fd;
		s->next = d->socks;
		d->socks = s;
	}
	s->ev = event_new(d->base, fd, what | EV_PERSIST, dns_io_cb, d);
	if (s->ev != NULL)
		event_add(s->ev, NULL);
}

struct dns *
dns_new(struct event_base *base, const char *servers, char *err, size_t errlen)
{
	struct ares_options o;
	struct dns *d;
	int r, mask;

	if ((r = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(r));
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->base = base;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = dns_sock_state_cb;
	o.sock_state_cb_data = d;
	o.timeout = DNS_TIMEOUT_MS;
	o.tries = DNS_TRIES;
	o.lookups = (char *)(uintptr_t)"b";
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_LOOKUPS | ARES_OPT_FLAGS;
	if ((r = ares_init_options(&d->channel, &o, mask)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares init: %s", ares_strerror(r));
		free(d);
		return NULL;
	}
	if (servers != NULL &&
	    (r = ares_set_servers_ports_csv(d->channel, servers)) != ARES_SUCCESS) {
		snprintf(err, errlen, "dns_servers '%s': %s", servers,
		    ares_strerror(r));
		ares_destroy(d->channel);
		free(d);
		return NULL;
	}
	d->timer = evtimer_new(base, dns_timer_cb, d);
	d->cache = dns_cache_new(DNS_CACHE_ENTRIES);
	return d;
}

void
dns_free(struct dns *d)
{
	struct dns_sock *s;

	if (d == NULL)
		return;
	ares_destroy(d->channel);	/* may call the state callback */
	while ((s = d->socks) != NULL) {
		d->socks = s->next;
		if (s->ev)
			event_free(s->ev);
		free(s);
	}
	event_free(d->timer);
	dns_cache_free(d->cache);	/* after ares_destroy's callbacks */
	free(d);
}

static int
status_temp(int status)
{
	return status != ARES_ENOTFOUND && status != ARES_ENODATA &&
	    status != ARES_ENONAME;
}

static void
req_finish(struct dns_req *q)
{
	struct dns_result *r = &q->res;
	size_t i, o = 0;

	/* Keep hosts that have addresses, in order. */
	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].naddrs > 0)
			r->hosts[o++] = r->hosts[i];
	r->nhosts = o;
	if (o == 0 && r->status == OUTCOME_OK) {
		if (q->any_temp) {
			r->status = OUTCOME_TEMP;
			snprintf(r->error, sizeof(r->error), "temporary DNS "
			    "failure looking up the addresses of %s%s",
			    r->implicit ? "" : "the MX hosts of ", q->domain);
		} else {
			r->status = OUTCOME_PERM;
			snprintf(r->error, sizeof(r->error), "%s%s has no "
			    "address (A/AAAA)", r->implicit ? "" :
			    "no MX host of ", q->domain);
		}
	}
	q->cb(r, q->arg);
	free(q);
}

/* Each address lookup carries its request and host index. */
struct addr_ctx {
	struct dns_req	*q;
	size_t		idx;
};

static void
addr_done(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct addr_ctx *x = arg;
	struct dns_req *q = x->q;
	struct dns_host *h = &q->res.hosts[x->idx];
	struct ares_addrinfo_node *n;

	(void)timeouts;
	free(x);
	if (status == ARES_SUCCESS && ai != NULL) {
		/* IPv4 first (loopback tests and most MXs), then IPv6. */
		for (int fam = 0; fam < 2; fam++)
			for (n = ai->nodes; n != NULL; n = n->ai_next) {
				struct netaddr na;

				if ((fam == 0) != (n->ai_family == AF_INET))
					continue;
				if (h->naddrs >= DNS_ADDRS_MAX ||
				    netaddr_from_sockaddr(n->ai_addr, &na) == -1)
					continue;
				h->addrs[h->naddrs++] = na;
			}
	} else if (status_temp(status))
		q->any_temp = 1;
	if (ai != NULL)
		ares_freeaddrinfo(ai);
	if (--q->pending == 0)
		req_finish(q);
}

static void
lookup_addrs(struct dns_req *q)
{
	struct ares_addrinfo_hints hints;
	size_t i, n = q->res.nhosts;

	if (n == 0) {
		req_finish(q);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* One extra count so that a callback run synchronously by c-ares
	 * cannot finish (and free) the request inside this loop. */
	q->pending = n + 1;
	for (i = 0; i < n; i++) {
		struct addr_ctx *x = xcalloc(1, sizeof(*x));
		struct netaddr na;

		x->q = q;
		x->idx = i;
		/* A numeric host needs no lookup. */
		if (netaddr_parse(q->res.hosts[i].name, &na) == 0) {
			q->res.hosts[i].addrs[0] = na;
			q->res.hosts[i].naddrs = 1;
			free(x);
			q->pending--;
			continue;
		}
		ares_getaddrinfo(q->d->channel, q->res.hosts[i].name, NULL,
		    &hints, addr_done, x);
	}
	if (--q->pending == 0) {
		req_finish(q);
		return;
	}
	dns_reschedule(q->d);
}

static uint32_t
dns_random(void *arg)
{
	(void)arg;
	return (uint32_t)random();
}

static void
mx_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_req *q = arg;
	struct ares_mx_reply *mx = NULL, *m;
	struct dns_mx v[64];
	size_t n = 0, i;
	int isnull = 0;

	(void)timeouts;
	if (status == ARES_SUCCESS)
		status = ares_parse_mx_reply(abuf, alen, &mx);
	if (status == ARES_ENODATA) {
		/* No MX: the implicit MX is the domain itself. */
		q->res.implicit = 1;
		q->res.nhosts = 1;
		(void)xsnprintf(q->res.hosts[0].name, sizeof(q->res.hosts[0].name),
		    "%s", q->domain);
		lookup_addrs(q);
		return;
	}
	if (status != ARES_SUCCESS) {
		q->res.status = status_temp(status) ? OUTCOME_TEMP :
		    OUTCOME_PERM;
		snprintf(q->res.error, sizeof(q->res.error), "%s looking up "
		    "MX of %s: %s", q->res.status == OUTCOME_TEMP ?
		    "temporary DNS failure" : "domain not found", q->domain,
		    ares_strerror(status));
		req_finish(q);
		return;
	}
	for (m = mx; m != NULL && n < sizeof(v) / sizeof(v[0]); m = m->next) {
		const char *h = m->host ? m->host : "";

		if (strcmp(h, ".") == 0)
			h = "";
		if (xsnprintf(v[n].name, sizeof(v[n].name), "%s", h) == -1)
			continue;
		v[n].pref = m->priority;
		n++;
	}
	ares_free_data(mx);
	n = dns_mx_order(v, n, &isnull, dns_random, NULL);
	if (isnull) {
		q->res.status = OUTCOME_PERM;
		q->res.null_mx = 1;
		snprintf(q->res.error, sizeof(q->res.error), "domain %s "
		    "accepts no mail (null MX, RFC 7505)", q->domain);
		req_finish(q);
		return;
	}
	for (i = 0; i < n && i < DNS_HOSTS_MAX; i++) {
		memcpy(q->res.hosts[i].name, v[i].name, sizeof(v[i].name));
		q->res.hosts[i].pref = v[i].pref;
	}
	q->res.nhosts = i;
	lookup_addrs(q);
}

static struct dns_req *
req_new(struct dns *d, const char *name, dns_cb cb, void *arg)
{
	struct dns_req *q = xcalloc(1, sizeof(*q));

	q->d = d;
	q->cb = cb;
	q->arg = arg;
	(void)xsnprintf(q->domain, sizeof(q->domain), "%s", name);
	return q;
}

void
dns_resolve_mx(struct dns *d, const char *domain, dns_cb cb, void *arg)
{
	struct dns_req *q = req_new(d, domain, cb, arg);
	struct netaddr na;
	char lit[64];
	size_t l = strlen(domain);

	/* An address literal [1.2.3.4] is its own single host. */
	if (domain[0] == '[' && l > 2 && l - 2 < sizeof(lit) &&
	    domain[l - 1] == ']') {
		memcpy(lit, domain + 1, l - 2);
		lit[l - 2] = '\0';
		if (strncasecmp(lit, "IPv6:", 5) == 0)
			memmove(lit, lit + 5, strlen(lit + 5) + 1);
		if (netaddr_parse(lit, &na) == 0) {
			q->res.implicit = 1;
			q->res.nhosts = 1;
			(void)xsnprintf(q->res.hosts[0].name,
			    sizeof(q->res.hosts[0].name), "%s", lit);
			lookup_addrs(q);
			return;
		}
	}
	ares_query(d->channel, domain, C_IN, T_MX, mx_done, q);
	dns_reschedule(d);
}

void
dns_resolve_host(struct dns *d, const char *host, dns_cb cb, void *arg)
{
	struct dns_req *q = req_new(d, host, cb, arg);

	q->res.implicit = 1;
	q->res.nhosts = 1;
	(void)xsnprintf(q->res.hosts[0].name, sizeof(q->res.hosts[0].name),
	    "%s", host);
	lookup_addrs(q);
}

size_t
dns_mx_order(struct dns_mx *v, size_t n, int *null_r,
    uint32_t (*rnd)(void *), void *arg)
{
	size_t i, j, o = 0, start;
	struct dns_mx t;
	int has_null = 0;

	*null_r = 0;
	for (i = 0; i < n; i++)
		if (v[i].name[0] == '\0')
			has_null = 1;
	if (has_null && n == 1) {
		*null_r = 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		if (v[i].name[0] != '\0')
			v[o++] = v[i];
	n = o;
	/* Insertion sort by preference (n is small), then shuffle runs. */
	for (i = 1; i < n; i++) {
		t = v[i];
		for (j = i; j > 0 && v[j - 1].pref > t.pref; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
	for (start = 0; start < n; start = i) {
		for (i = start + 1; i < n && v[i].pref == v[start].pref; i++)
			;
		for (j = i - 1; j > start; j--) {
			size_t k = start + rnd(arg) % (j - start + 1);

			t = v[j];
			v[j] = v[k];
			v[k] = t;
		}
	}
	return n;
}

/* Record lookups. */

const char *
dns_rr_text(const struct dns_answer *a, size_t i)
{
	return a->text + a->rr[i].off;
}

const char *
dns_status_name(int st)
{
	switch (st) {
	case OUTCOME_OK:		return "ok";
	case OUTCOME_TEMP:		return "temp";
	case OUTCOME_PERM:		return "perm";
	case DNS_NXDOMAIN:	return "nxdomain";
	case DNS_NODATA:	return "nodata";
	}
	return "temp";
}

int
dns_name_check(const char *name)
{
	size_t l = strlen(name), label = 0, i;

	if (l > 0 && name[l - 1] == '.')
		l--;
	if (l == 0 || l > DNS_NAME_MAX)
		return -1;
	for (i = 0; i < l; i++) {
		unsigned char ch = (unsigned char)name[i];

		/* c-ares reads a backslash as an escape: the query would
		 * not be for this name. */
		if (ch <= ' ' || ch == 0x7f || ch == '\\')
			return -1;
		if (ch == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (++label > 63)
			return -1;
	}
	return label == 0 ? -1 : 0;
}

int
dns_ptr_name(const struct netaddr *a, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char v6[64 + sizeof("ip6.arpa")];
	size_t o = 0;
	int i;

	if (a->family == AF_INET)
		return xsnprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa",
		    a->a[3], a->a[2], a->a[1], a->a[0]) == -1 ? -1 : 0;
	if (a->family != AF_INET6)
		return -1;
	for (i = 15; i >= 0; i--) {
		v6[o++] = hex[a->a[i] & 15];
		v6[o++] = '.';
		v6[o++] = hex[a->a[i] >> 4];
		v6[o++] = '.';
	}
	v6[o] = '\0';
	return xsnprintf(buf, len, "%sip6.arpa", v6) == -1 ? -1 : 0;
}

static int
rd16(const unsigned char *m, size_t len, size_t off, unsigned *v)
{
	if (off > len || len - off < 2)
		return -1;
	*v = (unsigned)m[off] << 8 | m[off + 1];
	return 0;
}

static int
rd32(const unsigned char *m, size_t len, size_t off, uint32_t *v)
{
	if (off > len || len - off < 4)
		return -1;
	*v = (uint32_t)m[off] << 24 | (uint32_t)m[off + 1] << 16 |
	    (uint32_t)m[off + 2] << 8 | m[off + 3];
	return 0;
}

/* The name at off, as text without the final dot ("" for the root), into
 * out (DNS_NAME_MAX + 1 bytes); *next is the offset after the name where
 * it stands. out NULL: only skip it. A compression pointer must point
 * before the labels it continues, so no loop is possible. -1 for a
 * malformed name, one too long, or (with out) one with a byte that has no
 * plain text form: a dot inside a label, a space, a control byte, a
 * backslash (so that every name read is one dns_name_check() takes). */
static int
read_name(const unsigned char *m, size_t len, size_t off, char *out,
    size_t *next)
{
	size_t o = 0, pos = off, limit = off, i;
	int jumped = 0;

	for (;;) {
		unsigned l;

		if (pos >= len)
			return -1;
		l = m[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t p;

			if (len - pos < 2)
				return -1;
			p = (size_t)(l & 0x3f) << 8 | m[pos + 1];
			if (!jumped)
				*next = pos + 2;
			jumped = 1;
			if (p >= limit)
				return -1;
			limit = pos = p;
			continue;
		}
		if (l & 0xc0)
			return -1;	/* extended label types: not used */
		pos++;
		if (l == 0)
			break;
		if (len - pos < l || o + (o > 0) + l > DNS_NAME_MAX)
			return -1;
		if (out != NULL) {
			if (o > 0)
				out[o] = '.';
			o += o > 0;
			for (i = 0; i < l; i++) {
				unsigned char ch = m[pos + i];

				if (ch <= ' ' || ch >= 0x7f || ch == '.' ||
				    ch == '\\')
					return -1;
				out[o++] = (char)ch;
			}
		} else
			o += (o > 0) + l;
		pos += l;
	}
	if (out != NULL)
		out[o] = '\0';
	if (!jumped)
		*next = pos;
	return 0;
}

/* Room for len bytes and a NUL in a's text: the offset, or -1 (and the
 * answer is marked truncated). */
static long
text_room(struct dns_answer *a, size_t len)
{
	long off = (long)a->textlen;

	if (a->nrr >= DNS_RR_MAX || sizeof(a->text) - a->textlen < len + 1) {
		a->truncated = 1;
		return -1;
	}
	return off;
}

/* One record of the type asked for, rdata at m[off..off+rdlen). Records
 * whose data does not parse are left out. */
static void
add_record(struct dns_answer *a, const unsigned char *m, size_t len,
    size_t off, size_t rdlen)
{
	struct dns_rr *rr = &a->rr[a->nrr];
	char name[DNS_NAME_MAX + 1];
	size_t end = off + rdlen, next, p, tl;
	unsigned pref = 0;
	long at;

	if (a->nrr >= DNS_RR_MAX) {
		a->truncated = 1;
		return;
	}
	memset(rr, 0, sizeof(*rr));
	switch (a->type) {
	case DNS_T_A:
		if (rdlen != 4)
			return;
		rr->addr.family = AF_INET;
		memcpy(rr->addr.a, m + off, 4);
		break;
	case DNS_T_AAAA: {
		struct sockaddr_in6 sin6;

		if (rdlen != 16)
			return;
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, m + off, 16);
		/* as netaddr has it: a mapped IPv4 address is IPv4 */
		if (netaddr_from_sockaddr((struct sockaddr *)&sin6,
		    &rr->addr) == -1)
			return;
		break;
	}
	case DNS_T_MX:
	case DNS_T_PTR:
		if (a->type == DNS_T_MX) {
			if (rd16(m, end, off, &pref) == -1)
				return;
			off += 2;
		}
		if (read_name(m, len, off, name, &next) == -1 || next != end)
			return;
		tl = strlen(name);
		if ((at = text_room(a, tl)) == -1)
			return;
		memcpy(a->text + at, name, tl + 1);
		rr->off = (uint32_t)at;
		rr->len = (uint32_t)tl;
		rr->pref = pref;
		a->textlen += tl + 1;
		break;
	case DNS_T_TXT:
		/* the character-strings joined, without separators */
		for (p = off, tl = 0; p < end; p += 1 + m[p])
			if (end - p - 1 < m[p])
				return;
			else
				tl += m[p];
		if ((at = text_room(a, tl)) == -1)
			return;
		for (p = off, tl = 0; p < end; p += 1 + m[p]) {
			memcpy(a->text + at + tl, m + p + 1, m[p]);
			tl += m[p];
		}
		a->text[at + (long)tl] = '\0';
		rr->off = (uint32_t)at;
		rr->len = (uint32_t)tl;
		a->textlen += tl + 1;
		break;
	}
	a->nrr++;
}

/* RFC 2308 5: the negative answer's TTL is min(SOA TTL, SOA MINIMUM). */
static uint32_t
negative_ttl(const unsigned char *m, size_t len, size_t off, unsigned ns)
{
	unsigned i, rtype, rclass, rdlen;
	uint32_t ttl, minimum;
	size_t p;

	for (i = 0; i < ns; i++) {
		if (read_name(m, len, off, NULL, &off) == -1 ||
		    rd16(m, len, off, &rtype) == -1 ||
		    rd16(m, len, off + 2, &rclass) == -1 ||
		    rd32(m, len, off + 4, &ttl) == -1 ||
		    rd16(m, len, off + 8, &rdlen) == -1 ||
		    len - (off + 10) < rdlen)
			return 0;
		off += 10;
		if (rtype == T_SOA && rclass == C_IN &&
		    read_name(m, off + rdlen, off, NULL, &p) == 0 &&
		    read_name(m, off + rdlen, p, NULL, &p) == 0 &&
		    rd32(m, off + rdlen, p + 16, &minimum) == 0)
			return ttl < minimum ? ttl : minimum;
		off += rdlen;
	}
	return 0;
}

void
dns_parse_answer(const unsigned char *m, size_t len, enum dns_qtype type,
    struct dns_answer *a)
{
	unsigned flags, qd, an, ns, i, rtype, rclass, rdlen, rcode;
	uint32_t ttl, minttl = UINT32_MAX;
	size_t off = 12;

	a->status = OUTCOME_TEMP;
	a->type = type;
	a->ttl = 0;
	a->truncated = 0;
	a->nrr = 0;
	a->textlen = 0;
	if (len < 12)
		return;
	flags = (unsigned)m[2] << 8 | m[3];
	qd = (unsigned)m[4] << 8 | m[5];
	an = (unsigned)m[6] << 8 | m[7];
	ns = (unsigned)m[8] << 8 | m[9];
	rcode = flags & 0x0f;
	if (!(flags & 0x8000) || (rcode != ns_r_noerror &&
	    rcode != ns_r_nxdomain))
		return;		/* not a response, or SERVFAIL, REFUSED... */
	for (i = 0; i < qd; i++) {
		if (read_name(m, len, off, NULL, &off) == -1 ||
		    len - off < 4)
			return;
		off += 4;
	}
	for (i = 0; i < an; i++) {
		if (read_name(m, len, off, NULL, &off) == -1 ||
		    rd16(m, len, off, &rtype) == -1 ||
		    rd16(m, len, off + 2, &rclass) == -1 ||
		    rd32(m, len, off + 4, &ttl) == -1 ||
		    rd16(m, len, off + 8, &rdlen) == -1 ||
		    len - (off + 10) < rdlen) {
			a->nrr = 0;
			a->textlen = 0;
			return;
		}
		off += 10;
		if (rclass == C_IN) {
			/* a CNAME on the way counts for the TTL too */
			if (ttl < minttl)
				minttl = ttl;
			if (rtype == (unsigned)type)
				add_record(a, m, len, off, rdlen);
		}
		off += rdlen;
	}
	if (rcode == ns_r_nxdomain || a->nrr == 0) {
		a->status = rcode == ns_r_nxdomain ? DNS_NXDOMAIN : DNS_NODATA;
		a->nrr = 0;
		a->textlen = 0;
		a->ttl = negative_ttl(m, len, off, ns);
		return;
	}
	a->status = OUTCOME_OK;
	a->ttl = minttl;
}

struct query_req {
	struct dns	*d;
	dns_query_cb	cb;
	void		*arg;
	char		name[DNS_NAME_MAX + 2];
	struct dns_answer ans;
};

static int64_t
mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void
query_done(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct query_req *q = arg;

	(void)timeouts;
	if ((status == ARES_SUCCESS || status == ARES_ENODATA ||
	    status == ARES_ENOTFOUND) && abuf != NULL && alen > 0) {
		dns_parse_answer(abuf, (size_t)alen, q->ans.type, &q->ans);
		q->ans.ttl = dns_cache_ttl(q->ans.status, q->ans.ttl);
		dns_cache_put(q->d->cache, q->name, &q->ans, mono_seconds());
	} else
		q->ans.status = OUTCOME_TEMP;	/* timeout, refused, shut down */
	q->cb(&q->ans, q->arg);
	free(q);
}

void
dns_query(struct dns *d, enum dns_qtype type, const char *name,
    dns_query_cb cb, void *arg)
{
	struct query_req *q = xcalloc(1, sizeof(*q));

	q->d = d;
	q->cb = cb;
	q->arg = arg;
	q->ans.type = type;
	q->ans.status = OUTCOME_PERM;
	if (dns_name_check(name) == -1 ||
	    xsnprintf(q->name, sizeof(q->name), "%s", name) == -1) {
		cb(&q->ans, arg);
		free(q);
		return;
	}
	if (dns_cache_get(d->cache, type, name, mono_seconds(), &q->ans)) {
		cb(&q->ans, arg);
		free(q);
		return;
	}
	q->ans.status = OUTCOME_TEMP;
	ares_query(d->channel, q->name, C_IN, (int)type, query_done, q);
	dns_reschedule(d);
}

struct query_wait {
	struct dns_answer *out;
	int		done;
};

static void
query_wait_cb(const struct dns_answer *a, void *arg)
{
	struct query_wait *w = arg;

	memcpy(w->out, a, offsetof(struct dns_answer, text) + a->textlen);
	w->done = 1;
}

int
dns_query_wait(struct dns *d, struct event_base *base, enum dns_qtype type,
    const char *name, struct dns_answer *out)
{
	struct query_wait w = { out, 0 };

	dns_query(d, type, name, query_wait_cb, &w);
	/* c-ares's timer is armed while the query is out, so the loop has
	 * an event until the answer or the timeout. Should the loop fail
	 * anyway, cancelling calls the callback (w must not outlive it). */
	while (!w.done)
		if (event_base_loop(base, EVLOOP_ONCE) != 0 && !w.done)
			ares_cancel(d->channel);
	return out->status;
}
