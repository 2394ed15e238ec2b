/* outcome - the one vocabulary for "did it work, and if not, is it worth
 *           trying again": DNS answers, SMTP replies from a remote server,
 *           remote and local delivery attempts, pickup of a maildrop file,
 *           auth answers, edits of the user file.
 * Trusts: nothing; values only.
 * Gives:  enum outcome (OK / TEMP / PERM) and the class of an SMTP reply
 *         code, so that every module spells "temporary vs permanent" the
 *         same way: TEMP is retried (4xx, EX_TEMPFAIL, the file stays),
 *         PERM is not (5xx, a bounce, a refusal). A module whose answers
 *         need a finer refusal with its own reply (pop3's [AUTH] and
 *         [IN-USE]) numbers those after OUTCOME_PERM, so one value (and one
 *         IPC byte) carries either; the reply text travels beside the
 *         outcome (smtpc_rcpt.reply, dr_rcpt.reply, dns_result.error).
 * Never:  does I/O; holds no state. Header only. */
#ifndef POSTERN_OUTCOME_H
#define POSTERN_OUTCOME_H

enum outcome {
	OUTCOME_OK = 0,
	OUTCOME_TEMP,		/* try again later: 4xx, I/O trouble */
	OUTCOME_PERM,		/* never again: 5xx, refused, invalid */
};

/* A credential check's verdict (the auth process's one-byte answer to
 * smtpd and pop3d, and what sasl.c and pop3_session.c take): an outcome,
 * PERM meaning the request itself was malformed, or this one more: the
 * request was well formed and the credentials are wrong. Not in the enum,
 * so a switch over outcomes elsewhere need not name it. */
#define OUTCOME_DENIED	(OUTCOME_PERM + 1)

/* The outcome of an SMTP reply code: 2xx ok, 5xx permanent, anything
 * else (4xx, and nonsense) temporary: a reply we cannot read is never a
 * reason to bounce. */
static inline enum outcome
outcome_of_smtp_code(int code)
{
	if (code >= 200 && code < 300)
		return OUTCOME_OK;
	if (code >= 500 && code < 600)
		return OUTCOME_PERM;
	return OUTCOME_TEMP;
}
#endif
