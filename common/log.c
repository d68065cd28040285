/*
 * log.c: the event log of log.h.
 *
 * A line is formatted whole in a buffer and written with one write(2): lines
 * from the parent and from many children then never mix, whether the target
 * is a terminal, a pipe or a file opened with O_APPEND.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

enum log_target { TARGET_STDERR, TARGET_FILE, TARGET_SYSLOG };

static const char *log_stage = "forkd";
static enum log_target log_target = TARGET_STDERR;
static int log_file = -1;

int log_open(const char *stage, const char *path, bool foreground)
{
    log_stage = stage;
    if (path != NULL) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd == -1)
            return -1;
        log_file = fd;
        log_target = TARGET_FILE;
    } else if (foreground) {
        log_target = TARGET_STDERR;
    } else {
        openlog(stage, LOG_PID, LOG_DAEMON);
        log_target = TARGET_SYSLOG;
    }
    return 0;
}

bool log_is_stderr(void)
{
    return log_target == TARGET_STDERR;
}

int log_fd(void)
{
    return log_file;
}

static void format_time(char *buf, size_t size)
{
    struct timespec now;
    struct tm tm;
    char whole[32];

    if (clock_gettime(CLOCK_REALTIME, &now) == -1 || gmtime_r(&now.tv_sec, &tm) == NULL ||
        strftime(whole, sizeof whole, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        (void)snprintf(buf, size, "-");
        return;
    }
    (void)snprintf(buf, size, "%s.%03ldZ", whole, now.tv_nsec / 1000000);
}

void log_msg(int priority, const char *fmt, ...)
{
    char msg[1024];
    char stamp[48];
    char line[1200];
    va_list ap;
    int n;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    if (log_target == TARGET_SYSLOG) {
        syslog(priority, "%s", msg);
        return;
    }
    format_time(stamp, sizeof stamp);
    n = snprintf(line, sizeof line, "%s %s[%ld]: %s\n", stamp, log_stage, (long)getpid(), msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    /* Nowhere is left to report a failing log write; the event is lost. */
    (void)write_all(log_target == TARGET_FILE ? log_file : STDERR_FILENO, line, (size_t)n);
}

void log_close(void)
{
    if (log_target == TARGET_SYSLOG)
        closelog();
    if (log_file != -1 && close(log_file) == -1 && errno != EINTR)
        (void)fprintf(stderr, "%s: close log: %s\n", log_stage, strerror(errno));
    log_file = -1;
    log_target = TARGET_STDERR;
}
