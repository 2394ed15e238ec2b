/* dnsbl - DNS blocklist names and decisions; see dnsbl.h. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "dnsbl.h"

#define DNS_NAME_LIMIT	253

int
dnsbl_query_name(const struct netaddr *client, const char *zone, char *buf,
    size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	char rev[80];
	size_t o = 0;
	int i, r;

	if (client->family == AF_INET6 &&
	    memcmp(client->a, mapped, sizeof(mapped)) != 0) {
		for (i = 15; i >= 0; i--) {
			rev[o++] = hexd[client->a[i] & 0x0f];
			rev[o++] = '.';
			rev[o++] = hexd[client->a[i] >> 4];
			rev[o++] = '.';
		}
		rev[o] = '\0';
	} else if (client->family == AF_INET || client->family == AF_INET6) {
		const uint8_t *v4 = client->family == AF_INET ? client->a :
		    client->a + 12;

		(void)snprintf(rev, sizeof(rev), "%u.%u.%u.%u.", v4[3], v4[2],
		    v4[1], v4[0]);
	} else
		return -1;
	r = snprintf(buf, len, "%s%s", rev, zone);
	if (r < 0 || (size_t)r >= len || r > DNS_NAME_LIMIT || zone[0] == '\0')
		return -1;
	return 0;
}

int
dnsbl_address_lists(const struct netaddr *a)
{
	return a->family == AF_INET && a->a[0] == 127 &&
	    !(a->a[1] == 255 && a->a[2] == 255);
}

int
dnsbl_decide(const unsigned *weights, const int *listed, size_t n,
    unsigned threshold)
{
	unsigned long sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (listed[i])
			sum += weights[i];
	return sum > 0 && sum >= threshold;
}

void
dnsbl_reply(char *buf, size_t len, int tempfail, const char *client_ip,
    const char *zone, const char *txt)
{
	char clean[200];
	size_t i;

	for (i = 0; txt != NULL && txt[i] != '\0' && i < sizeof(clean) - 1; i++)
		clean[i] = txt[i] >= 0x20 && txt[i] < 0x7f ? txt[i] : '?';
	clean[i] = '\0';
	(void)xsnprintf(buf, len, "%s Service unavailable; client [%s] blocked "
	    "using %s%s%s", tempfail ? "451 4.7.1" : "554 5.7.1", client_ip,
	    zone, clean[0] ? ": " : "", clean);
}
