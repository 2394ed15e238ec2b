/* cmd_queue - `postern queue` (cmd_queue.c), the administrator's view of
 *             the spool; this header has its entry point's pure helper.
 *             The deferred/ID state is read and rewritten with the queue
 *             process's own parser and writer (schedule.h), so the listing
 *             shows what the queue process believes and no more.
 * Gives:  ages for the listing.
 * Never:  cmd_queue_age does I/O (the subcommand itself does: cmds.h). */
#ifndef POSTERN_CMD_QUEUE_H
#define POSTERN_CMD_QUEUE_H
#include <stddef.h>

/* A duration as "45s", "12m", "3h", "2d5h" into buf. */
void	cmd_queue_age(long long secs, char *buf, size_t len);
#endif
