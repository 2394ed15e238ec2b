/* log - one line per event, to stderr (default) or syslog.
 * Trusts: callers to pass peer-supplied text only through log_quote().
 * Gives:  "TIME postern/PROC[PID]: text" lines on stderr, or syslog(3).
 * Never:  blocks on anything but the write itself. */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H
#include <stdarg.h>
#include <stddef.h>

void	log_init(const char *procname, int use_syslog);
void	log_setproc(const char *procname);
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
#endif
