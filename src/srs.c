/* srs - the Sender Rewriting Scheme; see srs.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "srs.h"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* HHHHHH of "TT=domain=local" (lower-cased). -1 when it does not fit. */
static int
srs_hash(const unsigned char *secret, size_t slen, const char *tt,
    const char *domain, const char *local, char out[SRS_HASH_LEN + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	char data[600];
	unsigned ml = 0;
	uint64_t bits;
	size_t i, n;
	int k;

	k = snprintf(data, sizeof(data), "%s=%s=%s", tt, domain, local);
	if (k < 0 || (size_t)k >= sizeof(data))
		return -1;
	n = (size_t)k;
	for (i = 0; i < n; i++)
		if (data[i] >= 'A' && data[i] <= 'Z')
			data[i] = (char)(data[i] - 'A' + 'a');
	if (HMAC(EVP_sha256(), secret, (int)slen, (const unsigned char *)data,
	    n, mac, &ml) == NULL || ml < 4)
		return -1;
	bits = ((uint64_t)mac[0] << 24) | ((uint64_t)mac[1] << 16) |
	    ((uint64_t)mac[2] << 8) | mac[3];
	for (i = 0; i < SRS_HASH_LEN; i++)
		out[i] = b32[(bits >> (27 - 5 * i)) & 31];
	out[SRS_HASH_LEN] = '\0';
	return 0;
}

static unsigned
srs_day(time_t now)
{
	return (unsigned)((now < 0 ? 0 : now) / 86400) % 1024;
}

enum srs_status
srs_forward(const unsigned char *secret, size_t slen, const char *sender,
    const char *our_domain, time_t now, char *out, size_t outlen)
{
	char local[SRS_LOCAL_MAX * 4], tt[3], h[SRS_HASH_LEN + 1];
	const char *at = strrchr(sender, '@');
	unsigned day = srs_day(now);
	size_t ll;
	int k;

	if (at == NULL || at == sender || at[1] == '\0' ||
	    (ll = (size_t)(at - sender)) >= sizeof(local))
		return SRS_SYNTAX;
	memcpy(local, sender, ll);
	local[ll] = '\0';
	tt[0] = b32[(day >> 5) & 31];
	tt[1] = b32[day & 31];
	tt[2] = '\0';
	if (srs_hash(secret, slen, tt, at + 1, local, h) == -1)
		return SRS_TOO_LONG;
	/* SRS0= HASH = TT = domain = local */
	if (5 + SRS_HASH_LEN + 1 + 2 + 1 + strlen(at + 1) + 1 + ll > SRS_LOCAL_MAX)
		return SRS_TOO_LONG;
	k = snprintf(out, outlen, "SRS0=%s=%s=%s=%s@%s", h, tt, at + 1, local,
	    our_domain);
	return k < 0 || (size_t)k >= outlen ? SRS_TOO_LONG : SRS_OK;
}

static int
b32_value(char c)
{
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	p = c != '\0' ? strchr(b32, c) : NULL;
	return p != NULL ? (int)(p - b32) : -1;
}

enum srs_status
srs_reverse(const unsigned char *secret, size_t slen, const char *local,
    time_t now, char *out, size_t outlen)
{
	const char *hash, *tt, *dom, *orig, *eq;
	char h[SRS_HASH_LEN + 1], ttb[3], domb[256];
	unsigned day, age;
	int v0, v1, k;

	if (strncasecmp(local, "SRS0", 4) != 0 || (local[4] != '=' &&
	    local[4] != '-' && local[4] != '+'))
		return SRS_NOT_SRS;
	hash = local + 5;
	if ((eq = strchr(hash, '=')) == NULL || eq - hash != SRS_HASH_LEN)
		return SRS_SYNTAX;
	tt = eq + 1;
	if (strlen(tt) < 3 || tt[2] != '=' || (v0 = b32_value(tt[0])) < 0 ||
	    (v1 = b32_value(tt[1])) < 0)
		return SRS_SYNTAX;
	dom = tt + 3;
	if ((eq = strchr(dom, '=')) == NULL || eq == dom ||
	    (size_t)(eq - dom) >= sizeof(domb))
		return SRS_SYNTAX;
	memcpy(domb, dom, (size_t)(eq - dom));
	domb[eq - dom] = '\0';
	orig = eq + 1;
	if (orig[0] == '\0')
		return SRS_SYNTAX;
	ttb[0] = tt[0];
	ttb[1] = tt[1];
	ttb[2] = '\0';
	if (srs_hash(secret, slen, ttb, domb, orig, h) == -1 ||
	    strncasecmp(h, hash, SRS_HASH_LEN) != 0)
		return SRS_BAD_HASH;
	day = (unsigned)(v0 * 32 + v1);
	age = (srs_day(now) + 1024 - day) % 1024;
	if (age > SRS_MAX_AGE_DAYS)
		return SRS_EXPIRED;
	k = snprintf(out, outlen, "%s@%s", orig, domb);
	return k < 0 || (size_t)k >= outlen ? SRS_SYNTAX : SRS_OK;
}

const char *
srs_status_text(enum srs_status st)
{
	switch (st) {
	case SRS_OK:		return "ok";
	case SRS_NOT_SRS:	return "not an SRS address";
	case SRS_SYNTAX:	return "malformed SRS address";
	case SRS_BAD_HASH:	return "SRS hash does not match";
	case SRS_EXPIRED:	return "SRS address expired";
	case SRS_TOO_LONG:	return "SRS address too long";
	}
	return "unknown";
}
