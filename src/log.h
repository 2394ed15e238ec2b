/* log - one line per event, to stderr (default) or syslog.
 * Trusts: callers to pass peer-supplied text only through log_quote().
 * Gives:  "TIME postern/PROC[PID]: text" lines on stderr, or syslog(3).
 * Never:  blocks on anything but the write itself.
 *
 * The line format, so that nobody can forge a field (fail2ban reads
 * these lines: an injected "client=[192.0.2.99]" would ban a stranger):
 *   - our own facts come first and bare: client=[IP], id=, size=, ...;
 *   - every string a peer chose is key="..." through log_quote(): '"' and
 *     '\' get a backslash, bytes outside printable ASCII become \xNN, so
 *     the value ends at the first unescaped '"' and a line never breaks;
 *     spaces stay as they are inside the quotes (user="a b");
 *   - addresses keep their brackets, key=<local@domain>, through
 *     log_quote_token(), which also writes ' ', '<' and '>' as \xNN: a
 *     quoted local part ("a b"@x) stays one whitespace-free token. */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H
#include <stdarg.h>
#include <stddef.h>

void	log_init(const char *procname, int use_syslog);
void	log_setproc(const char *procname);
/* syslog's descriptor across proc_close_fds_except() (see log.c). */
void	log_before_close_fds(void);
void	log_after_close_fds(void);
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits 1: for bugs and unrecoverable start-up errors only. */
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Format a line (truncated at 2 KiB: a cut log line beats none) and hand
 * it to sink(arg, line): how the pure session modules log through their
 * ops table. Nothing happens when sink is NULL. */
void	log_vsink(void (*sink)(void *, const char *), void *arg,
	    const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/* Copy peer text into dst for logging: non-printable bytes become \xNN,
 * '"' and '\' are escaped, output is truncated to fit. Returns dst. */
char	*log_quote(char *dst, size_t dstlen, const char *src, size_t srclen);
/* log_quote() that also writes ' ', '<' and '>' as \xNN: for a value
 * that must stay one token without quotes (addresses in <...>). */
char	*log_quote_token(char *dst, size_t dstlen, const char *src,
	    size_t srclen);
/* log_quote() of a C string (NULL as ""). Returns dst. Size dst at
 * 4 * strlen + 1 to never truncate. */
const char *log_quote_str(char *dst, size_t dstlen, const char *src);
#endif
