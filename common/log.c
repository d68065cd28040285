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
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

enum log_target { TARGET_STDERR, TARGET_FILE, TARGET_SYSLOG };

static const char *log_stage = "forkd";
static enum log_target log_target = TARGET_STDERR;
static int log_file = -1;
/* The pid every line names, asked of the kernel once per process (0:
 * not yet, or a child that has not logged since its fork). */
static pid_t log_pid;

/*
 * The log file: never through a symbolic link (O_NOFOLLOW), and only a
 * regular file. O_NONBLOCK, because opening a FIFO for writing would wait
 * for a reader forever (and hang the launcher with it); it is cleared once
 * the file is known to be regular, so a write is never short.
 */
static int open_log_file(const char *path)
{
    struct stat st;
    int flags;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640);

    if (fd == -1) {
        int err = errno;
        if (err == ELOOP)
            return LOG_OPEN_SYMLINK;
        /* A FIFO without a reader (ENXIO), a directory (EISDIR)...: say what it is. */
        if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
            return LOG_OPEN_NOT_REGULAR;
        errno = err;
        return LOG_OPEN_ERROR;
    }
    if (fstat(fd, &st) == -1)
        goto fail;
    if (!S_ISREG(st.st_mode)) {
        (void)close(fd);
        return LOG_OPEN_NOT_REGULAR;
    }
    flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1)
        goto fail;
    log_file = fd;
    return LOG_OPEN_OK;
fail : {
    int saved = errno;
    (void)close(fd);
    errno = saved;
    return LOG_OPEN_ERROR;
}
}

int log_open(const char *stage, const char *path, bool foreground)
{
    log_stage = stage;
    log_pid = 0; /* the daemon's, once it has detached */
    if (path != NULL) {
        int r = open_log_file(path);
        if (r != LOG_OPEN_OK)
            return r;
        log_target = TARGET_FILE;
    } else if (foreground) {
        log_target = TARGET_STDERR;
    } else {
        openlog(stage, LOG_PID, LOG_DAEMON);
        log_target = TARGET_SYSLOG;
    }
    return 0;
}

void log_forked(void)
{
    log_pid = 0;
}

bool log_is_stderr(void)
{
    return log_target == TARGET_STDERR;
}

/*
 * The UTC date of a day count since 1970-01-01, by arithmetic on 400-year
 * eras (the proleptic Gregorian calendar repeats every 146097 days). Not
 * gmtime_r: that takes libc's time zone lock and writes its state, and the
 * parent logs between fork() and its children's exit, when every page it
 * writes is copied.
 */
static void date_of_day(long long days, long long *year, int *month, int *day)
{
    long long era;
    long long day_of_era;
    long long year_of_era;
    long long day_of_year;
    long long m;

    days += 719468; /* from 1970-01-01 to 0000-03-01: years start in March here */
    era = (days >= 0 ? days : days - 146096) / 146097;
    day_of_era = days - era * 146097;
    year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    m = (5 * day_of_year + 2) / 153; /* 0 = March ... 11 = February */
    *day = (int)(day_of_year - (153 * m + 2) / 5 + 1);
    *month = (int)(m < 10 ? m + 3 : m - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

/* "2026-11-26T16:46:19.123Z stage[pid]: " into buf; its length. */
static size_t format_prefix(char *buf, size_t size)
{
    struct timespec now = {0, 0};
    long long year;
    long long secs;
    int month;
    int day;
    int r;

    if (log_pid == 0)
        log_pid = getpid();
    (void)clock_gettime(CLOCK_REALTIME, &now);
    secs = (long long)now.tv_sec;
    date_of_day(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400, &year, &month, &day);
    secs = ((secs % 86400) + 86400) % 86400;
    r = snprintf(buf, size, "%04lld-%02d-%02dT%02lld:%02lld:%02lld.%03ldZ %s[%ld]: ", year, month,
                 day, secs / 3600, secs / 60 % 60, secs % 60, now.tv_nsec / 1000000, log_stage,
                 (long)log_pid);
    return r > 0 && (size_t)r < size ? (size_t)r : 0;
}

/*
 * One buffer, formatted in place: the parent logs between fork() and the
 * child's exit, when every stack page it writes is copied (copy-on-write),
 * so a small stack here is a measurably faster daemon.
 */
void log_msg(int priority, const char *fmt, ...)
{
    char line[1200];
    size_t n = 0;
    va_list ap;
    int r;

    if (log_target != TARGET_SYSLOG)
        n = format_prefix(line, sizeof line);
    va_start(ap, fmt);
    r = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    n += (size_t)r < sizeof line - n - 1 ? (size_t)r : sizeof line - n - 2;
    if (log_target == TARGET_SYSLOG) {
        syslog(priority, "%s", line);
        return;
    }
    line[n++] = '\n';
    /* Nowhere is left to report a failing log write; the event is lost. */
    (void)write_all(log_target == TARGET_FILE ? log_file : STDERR_FILENO, line, n);
}

void close_checked(int fd, const char *what)
{
    /* On Linux the descriptor is gone even when close reports EINTR. */
    if (close(fd) == -1 && errno != EINTR)
        log_msg(LOG_ERR, "close %s (fd %d): %s", what, fd, strerror(errno));
}
