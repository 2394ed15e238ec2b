/* dns - MX and address lookups with c-ares on libevent; see dns.h.
 *
 * c-ares tells us which sockets it wants watched (ARES_OPT_SOCK_STATE_CB);
 * each gets a persistent libevent event, and one timer follows
 * ares_timeout(). A lookup is an MX query, then one ares_getaddrinfo per
 * exchange host (in parallel); the callback fires when all are back. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <event2/event.h>

#include "buf.h"
#include "dns.h"

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
