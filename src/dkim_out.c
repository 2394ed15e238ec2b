/* dkim_out - the signing decision for outgoing mail; see dkim_out.h. */
#include <string.h>

#include "dkim_out.h"
#include "dmarc.h"
#include "netaddr.h"

enum dkim_out_origin
dkim_out_origin(const struct relay_policy *p, const char *client,
    const char *auth)
{
	struct netaddr a;

	if (strcmp(client, "bounce") == 0 ||
	    strcmp(client, "double-bounce") == 0)
		return DKIM_OUT_BOUNCE;
	/* pickup writes the login name as auth too: "local" decides. */
	if (strcmp(client, "local") == 0)
		return DKIM_OUT_SENDMAIL;
	if (auth != NULL && auth[0] != '\0')
		return DKIM_OUT_AUTHENTICATED;
	if (netaddr_parse(client, &a) == 0 && relay_client_is_local(p, &a))
		return DKIM_OUT_LOCAL_NETWORK;
	return DKIM_OUT_STRANGER;
}

const char *
dkim_out_origin_name(enum dkim_out_origin o)
{
	switch (o) {
	case DKIM_OUT_AUTHENTICATED:
		return "authenticated";
	case DKIM_OUT_LOCAL_NETWORK:
		return "local network";
	case DKIM_OUT_SENDMAIL:
		return "sendmail";
	case DKIM_OUT_BOUNCE:
		return "bounce";
	case DKIM_OUT_STRANGER:
		break;
	}
	return "stranger";
}

int
dkim_out_choose(const struct config_dkim_sign *signs, size_t n,
    enum dkim_out_origin o, const char *header, size_t hlen, char *domain,
    size_t dlen)
{
	char d[256];
	size_t i;

	if (dlen > 0)
		domain[0] = '\0';
	if (o == DKIM_OUT_STRANGER)
		return -1;
	if (dmarc_from_domain(header, hlen, d, sizeof(d)) != DMARC_FROM_OK)
		return -1;
	if (dlen > strlen(d))
		memcpy(domain, d, strlen(d) + 1);
	/* Both lower case without a trailing dot (config.c, dmarc.c). */
	for (i = 0; i < n; i++)
		if (strcmp(signs[i].domain, d) == 0)
			return (int)i;
	return -1;
}
