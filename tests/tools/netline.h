/*
 * netline.h: the little client plumbing the test tools share: connect with a
 * deadline, read one line, write one line. Header-only (static functions), so
 * each tool stays a single file to compile.
 */
#ifndef FORKD_NETLINE_H
#define FORKD_NETLINE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static inline long long now_us(void)
{
    struct timespec t;

    (void)clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* ms times FORKD_TIME_SCALE, the suites' one knob for a slow machine
 * (tests/helpers.bash): every deadline of the tools scales with it. */
static inline int scaled_ms(int ms)
{
    const char *text = getenv("FORKD_TIME_SCALE");
    double scale = text != NULL ? strtod(text, NULL) : 1.0;

    if (!(scale >= 1.0 && scale <= 100.0))
        scale = 1.0;
    return (int)(ms * scale + 0.5);
}

/* A connected socket whose reads and writes give up after timeout_ms (times
 * the scale). -1 on failure. */
static inline int connect_to(const char *addr, int port, int timeout_ms)
{
    int ms = scaled_ms(timeout_ms);
    struct sockaddr_in sa;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd == -1)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
        int saved = errno;
        (void)close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

enum { LINE_ERROR = -1, LINE_TOO_LONG = -2, LINE_EOF = -3 };

/* Reads one line (without "\n") byte by byte (no read-ahead lost to the
 * caller). Returns its length (0 for an empty line), LINE_EOF at a clean end
 * of stream before any byte, LINE_TOO_LONG past size - 1 bytes, LINE_ERROR
 * with errno on error or timeout (EAGAIN). */
static inline int read_line(int fd, char *buf, size_t size)
{
    size_t len = 0;

    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            return LINE_ERROR;
        if (n == 0) {
            if (len == 0)
                return LINE_EOF;
            errno = EPIPE; /* EOF in the middle of a line */
            return LINE_ERROR;
        }
        if (c == '\n') {
            buf[len] = '\0';
            return (int)len;
        }
        if (len + 1 >= size)
            return LINE_TOO_LONG;
        buf[len++] = c;
    }
}

/* A whole decimal number in min..max, or -1: the tools parse like the daemon. */
static inline long parse_long(const char *text, long min, long max)
{
    char *end;
    long v;

    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    v = strtol(text, &end, 10);
    return errno != 0 || *end != '\0' || v < min || v > max ? -1 : v;
}

/* The pids of a process's children (Linux /proc); how many, at most max; -1 if unreadable. */
static inline int list_children(pid_t parent, pid_t *pids, int max)
{
    char path[64];
    char buf[8192];
    char *p = buf;
    ssize_t got;
    int fd;
    int n = 0;

    (void)snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)parent, (long)parent);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -1;
    got = read(fd, buf, sizeof buf - 1);
    (void)close(fd);
    if (got < 0)
        return -1;
    buf[got] = '\0';
    while (n < max) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pids != NULL)
            pids[n] = (pid_t)pid;
        n++;
        p = end;
    }
    return n;
}

static inline int write_line(int fd, const char *line)
{
    size_t len = strlen(line);

    while (len > 0) {
        ssize_t n = write(fd, line, len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        line += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Whether a process is a zombie (Linux /proc); 0 when it is gone. */
static inline int is_zombie(pid_t pid)
{
    char path[64];
    char buf[256];
    const char *state;
    ssize_t n;
    int fd;

    (void)snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    (void)close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    state = strrchr(buf, ')'); /* the state follows the command name */
    return state != NULL && state[1] == ' ' && state[2] == 'Z';
}

#endif
