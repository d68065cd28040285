/*
 * hostile: clients that misbehave on purpose, for the reliability suite.
 *
 *   hostile -p PORT flood BYTES      send BYTES without a newline; print the
 *                                    reply line and whether the end was clean
 *   hostile -p PORT slow MS LINE     send LINE and "\n" one byte every MS ms;
 *                                    print every reply line until EOF
 *   hostile -p PORT reset N          ask for N long echoes, read one byte of
 *                                    the replies, then close with a reset (RST)
 *   hostile -p PORT hold N           open N connections, never read or write;
 *                                    print "held N", keep them until stdin ends
 *
 * Prints what happened on stdout, one line per fact; exit 0 unless the tool
 * itself failed (a daemon's misbehaviour is for the caller to judge).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netline.h"

static const char *addr = "127.0.0.1";
static int port;

static void sleep_ms(long ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&t, &t) == -1 && errno == EINTR) {
        /* sleep what is left */
    }
}

/* Prints the next reply line, or how the stream ended. 1 if a line came. */
static int report_reply(int fd)
{
    char line[2048];
    int n = read_line(fd, line, sizeof line);

    if (n >= 0) {
        (void)printf("reply: %s\n", line);
        return 1;
    }
    if (n == LINE_EOF)
        (void)printf("end: eof\n");
    else if (n == LINE_TOO_LONG)
        (void)printf("end: line too long\n");
    else
        (void)printf("end: %s\n", errno == ECONNRESET ? "reset" : strerror(errno));
    return 0;
}

static int flood(long bytes)
{
    char chunk[65536];
    long sent = 0;
    int fd = connect_to(addr, port, 10000);

    if (fd == -1 || !report_reply(fd)) /* the greeting */
        return 1;
    memset(chunk, 'z', sizeof chunk);
    while (sent < bytes) {
        size_t n = (size_t)(bytes - sent < (long)sizeof chunk ? bytes - sent : (long)sizeof chunk);
        ssize_t w = write(fd, chunk, n);
        if (w <= 0)
            break; /* the daemon stopped reading: fine, it has answered */
        sent += w;
    }
    (void)printf("sent: %ld\n", sent);
    while (report_reply(fd)) {
        /* every line until the end */
    }
    (void)close(fd);
    return 0;
}

static int slow(long ms, const char *text)
{
    int fd = connect_to(addr, port, 30000);
    size_t len = strlen(text);

    if (fd == -1 || !report_reply(fd))
        return 1;
    for (size_t i = 0; i <= len; i++) {
        char c = '\n';
        if (i < len)
            c = text[i];
        sleep_ms(ms);
        if (write(fd, &c, 1) != 1) {
            (void)printf("end: write failed after %zu bytes: %s\n", i, strerror(errno));
            (void)close(fd);
            return 0;
        }
    }
    while (report_reply(fd)) {
        /* every line until the end */
    }
    (void)close(fd);
    return 0;
}

static int reset(int n)
{
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    char big[1100];
    char byte;
    int fd = connect_to(addr, port, 10000);

    if (fd == -1 || !report_reply(fd))
        return 1;
    (void)snprintf(big, sizeof big, "ECHO %01000d\n", 0);
    for (int i = 0; i < n; i++) {
        if (write_line(fd, big) == -1)
            break;
    }
    if (read(fd, &byte, 1) == 1)
        (void)printf("read: 1 byte, then reset\n");
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close) == -1)
        return 1;
    (void)close(fd);
    return 0;
}

static int hold(int n)
{
    int *fds = calloc((size_t)n, sizeof *fds);
    char buf[64];
    int opened = 0;

    if (fds == NULL)
        return 1;
    for (int i = 0; i < n; i++) {
        fds[i] = connect_to(addr, port, 10000);
        if (fds[i] == -1)
            break;
        opened++;
    }
    (void)printf("held %d\n", opened);
    (void)fflush(stdout);
    while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
        /* hold until stdin ends */
    }
    for (int i = 0; i < opened; i++)
        (void)close(fds[i]);
    free(fds);
    return opened == n ? 0 : 1;
}

int main(int argc, char **argv)
{
    int r = 2;

    if (argc >= 5 && strcmp(argv[1], "-p") == 0) {
        port = (int)parse_long(argv[2], 1, 65535);
        if (port > 0 && strcmp(argv[3], "flood") == 0)
            r = flood(parse_long(argv[4], 1, 1L << 40));
        else if (port > 0 && strcmp(argv[3], "slow") == 0 && argc >= 6)
            r = slow(parse_long(argv[4], 0, 60000), argv[5]);
        else if (port > 0 && strcmp(argv[3], "reset") == 0)
            r = reset((int)parse_long(argv[4], 1, 100000));
        else if (port > 0 && strcmp(argv[3], "hold") == 0)
            r = hold((int)parse_long(argv[4], 1, 100000));
    }
    if (r == 2)
        (void)fprintf(stderr,
                      "usage: hostile -p PORT flood BYTES | slow MS LINE | reset N | hold N\n");
    (void)fflush(stdout);
    return r;
}
