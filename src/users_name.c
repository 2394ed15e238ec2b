/* users_name - the rules for a user name and a password, without the
 *              user database; see users.h.
 * Trusts: nothing in the strings it checks.
 * Gives:  users_name_valid() and users_password_valid().
 * Never:  does I/O: it is in the pure library (doc/ARCHITECTURE.md), so the
 *         policy modules that check a mailbox name (grants, queue, the SMTP
 *         session) link without users.c's file writer and crypt(3). */
#include <string.h>

#include "users.h"

int
users_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];

		if (i >= USERS_NAME_MAX)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		return 0;
	}
	return 1;
}

int
users_password_valid(const char *pw, size_t len)
{
	if (pw == NULL || len == 0)
		return 0;
	if (memchr(pw, '\0', len) || memchr(pw, '\r', len) ||
	    memchr(pw, '\n', len))
		return 0;
	return 1;
}
