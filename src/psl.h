/* psl - the Public Suffix List (https://publicsuffix.org/list/) and the
 *       organisational domain of RFC 7489 3.2 that DMARC alignment and
 *       record discovery need.
 * Trusts: nothing about the list text (the caller reads the file, e.g.
 *         Debian's /usr/share/publicsuffix/public_suffix_list.dat, and
 *         passes its bytes): bad rules are skipped and counted; nothing
 *         about the domains asked about (they come from mail).
 * Gives:  psl_parse: the rules of the sections asked for (PSL_ICANN, the
 *         "===BEGIN ICANN DOMAINS===" part; PSL_PRIVATE, the "===BEGIN
 *         PRIVATE DOMAINS===" part; rules outside both count as ICANN).
 *         DMARC takes both (RFC 7489 3.2 names the list as published, and
 *         a private suffix like github.io separates its users' domains
 *         just as co.uk does). Normal rules, wildcards "*.ck" (any one
 *         label there) and exceptions "!www.ck"; the prevailing rule is
 *         an exception if one matches, else the matching rule with most
 *         labels, else "*" (an unknown TLD is a public suffix).
 *         psl_org_domain: the public suffix and one more label. A domain
 *         that is itself a public suffix is its own organisational domain
 *         (nothing to add; alignment then means equality).
 * Limits: PSL_RULES_MAX rules; labels of 1..63 octets, names of at most
 *         253 (RFC 1035 2.3.4); case is folded for ASCII only; a trailing
 *         dot is dropped; A-labels ("xn--...") are compared as they are
 *         and U-labels only byte for byte (no IDNA conversion: mail
 *         domains in DNS are A-labels). Label octets allowed: letters,
 *         digits, '-', '_' and 8-bit bytes (the list holds U-labels).
 * Never:  does I/O or reads the list itself. */
#ifndef POSTERN_PSL_H
#define POSTERN_PSL_H
#include <stddef.h>

/* The list holds about 10 000 rules; four times that is room to grow and
 * still a bound on what a broken or hostile file can make us allocate. */
#define PSL_RULES_MAX	40000
#define PSL_LABEL_MAX	63
#define PSL_NAME_MAX	253
#define PSL_LABELS_MAX	127	/* 253 octets hold at most 127 labels */

#define PSL_ICANN	0x1
#define PSL_PRIVATE	0x2

struct psl;

struct psl_stats {
	size_t	rules;		/* kept */
	size_t	skipped;	/* malformed, too long, or over PSL_RULES_MAX */
};

/* A list from text[0..len) keeping the sections in `sections`; stats (may
 * be NULL) gets the counts. NULL when no rule at all was kept (an empty
 * or unreadable file must not silently make every TLD a suffix alone). */
struct psl *psl_parse(const char *text, size_t len, unsigned sections,
	    struct psl_stats *stats);
void	psl_free(struct psl *psl);

/* Normalise a domain name: lower case, one trailing dot dropped, labels
 * checked. The length written to out (NUL-terminated), or -1 when it is
 * not a valid name or out is too small. */
int	psl_normalise(const char *domain, size_t len, char *out, size_t outlen);
/* The public suffix of domain into out: 0, or -1 (invalid name, out too
 * small). */
int	psl_public_suffix(const struct psl *psl, const char *domain,
	    char *out, size_t outlen);
/* The organisational domain (RFC 7489 3.2) of domain into out: 0, or -1
 * (invalid name, out too small). */
int	psl_org_domain(const struct psl *psl, const char *domain, char *out,
	    size_t outlen);

/* The list read from a file (psl_file.c, the one impure part: not in the
 * pure library). PSL_FILE_DEFAULT is Debian's publicsuffix package's. NULL
 * with errno (EINVAL: no rule in it). */
#define PSL_FILE_DEFAULT	"/usr/share/publicsuffix/public_suffix_list.dat"
#define PSL_FILE_MAX		(4 * 1024 * 1024)	/* the list is ~250 KB */
struct psl *psl_load_file(const char *path, unsigned sections,
	    struct psl_stats *stats);
#endif
