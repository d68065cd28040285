/*
 * log.h: one line per event, each naming the stage.
 *
 * Where the lines go: a file with -l (O_APPEND, so parent and children never
 * interleave inside a line), stderr with -f, syslog (facility daemon) in the
 * background. Not async-signal-safe: never call it from a signal handler.
 */
#ifndef FORKD_LOG_H
#define FORKD_LOG_H

#include <stdbool.h>

enum log_open_result {
    LOG_OPEN_OK = 0,
    LOG_OPEN_ERROR = -1,       /* errno says why */
    LOG_OPEN_SYMLINK = -2,     /* the path is a symbolic link: refused */
    LOG_OPEN_NOT_REGULAR = -3, /* a FIFO, a device, a directory...: refused */
};

/* Opens the log: a log_open_result. */
int log_open(const char *stage, const char *path, bool foreground);

/* In a forked child, before it logs: its lines name its own pid, not the
 * parent's (the pid is asked of the kernel once per process). */
void log_forked(void);

/* True when the log is stderr (so an error line need not be printed twice). */
bool log_is_stderr(void);

/* priority is a syslog level: LOG_INFO for events, LOG_ERR for failures. */
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* close(2) whose failure is logged ("close WHAT (fd N): reason"), so no
 * result goes unchecked. */
void close_checked(int fd, const char *what);

#endif
