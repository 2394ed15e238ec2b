/* log - one line per event, to stderr or syslog; see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char	log_proc[32] = "postern";
static int	log_to_syslog;

void
log_init(const char *procname, int use_syslog)
{
	log_setproc(procname);
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog("postern", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* Around proc_close_fds_except(): syslog's socket is one of the
 * descriptors a fresh child closes, so it is closed first and opened
 * again afterwards (a later log line must never go to a reused number). */
void
log_before_close_fds(void)
{
	if (log_to_syslog)
		closelog();
}

void
log_after_close_fds(void)
{
	if (log_to_syslog)
		openlog("postern", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_setproc(const char *procname)
{
	snprintf(log_proc, sizeof(log_proc), "%s", procname);
}

static void log_emit(int, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
log_emit(int prio, const char *fmt, va_list ap)
{
	char msg[2048], stamp[32];
	struct timespec ts;
	struct tm tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_syslog) {
		syslog(prio, "%s: %s", log_proc, msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One write per line so that lines of several processes never mix. */
	dprintf(STDERR_FILENO, "%s.%03ldZ postern/%s[%ld]: %s%s\n", stamp,
	    ts.tv_nsec / 1000000, log_proc, (long)getpid(),
	    prio <= LOG_WARNING ? "warning: " : "", msg);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
