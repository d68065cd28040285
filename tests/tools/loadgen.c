/*
 * loadgen: a load generator for the forkd daemons (and any server that
 * speaks their greeting + PING/PONG protocol).
 *
 * CONCURRENCY threads run SESSIONS sessions in all. A session: connect, read
 * the greeting, and then
 *   HELLO...  send PING, expect PONG; with -m quit also QUIT/BYE; close
 *   BUSY...   expect a clean end of stream and nothing else (no reset,
 *             no extra byte, no silence)
 * Every read and write has a deadline (-t). One summary line at the end:
 *
 *   sessions=N ok=N busy=N errors=N connect=N reset=N timeout=N protocol=N
 *   busy_unclean=N elapsed_ms=N rate=N/s p50_us=N p99_us=N max_us=N
 *
 * Latency is the whole session, connect to close. Exit status 0 when no
 * session failed, 1 otherwise, 2 for a usage error.
 *
 * usage: loadgen -p PORT [-a ADDR] [-n SESSIONS] [-c CONCURRENCY]
 *                [-t TIMEOUT_MS] [-m quit|close|echo] [-g GREETING_PREFIX] [-s SLEEP_MS]
 *
 * -s makes each served session longer: "SLEEP ms" (expecting OK) before PING.
 * -m echo is for an echo server (socat ... PIPE in make bench): no greeting;
 * send PING, expect PING back, close. [-s SLEEP_MS]
 *
 * -s makes each served session longer: "SLEEP ms" (expecting OK) before PING.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netline.h"

enum result {
    RES_OK,
    RES_BUSY,
    RES_CONNECT,
    RES_RESET,
    RES_TIMEOUT,
    RES_PROTOCOL,
    RES_BUSY_UNCLEAN,
    RES_COUNT
};

struct config {
    const char *addr;
    int port;
    int sessions;
    int timeout_ms;
    int quit;          /* 1: end with QUIT/BYE; 0: just close after PONG */
    int echo;          /* an echo server: no greeting, PING comes back as PING */
    const char *hello; /* what a served greeting starts with */
    int sleep_ms;      /* > 0: a SLEEP before the PING */
};

static struct config cfg = {"127.0.0.1", 0, 1000, 5000, 1, 0, "HELLO", 0};
static atomic_int next_session;
static long long *latency_us;
static atomic_int counts[RES_COUNT];

static enum result failed_io(void)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINPROGRESS)
        return RES_TIMEOUT;
    if (errno == ECONNRESET || errno == EPIPE)
        return RES_RESET;
    return RES_PROTOCOL;
}

static enum result expect(int fd, const char *want)
{
    char line[256];
    int n = read_line(fd, line, sizeof line);

    if (n == LINE_EOF)
        return RES_RESET; /* closed before answering */
    if (n < 0)
        return n == LINE_TOO_LONG ? RES_PROTOCOL : failed_io();
    if (n > 0 && line[n - 1] == '\r')
        line[n - 1] = '\0';
    return strcmp(line, want) == 0 ? RES_OK : RES_PROTOCOL;
}

static enum result session(void)
{
    char line[256];
    enum result r;
    int n;
    int fd = connect_to(cfg.addr, cfg.port, cfg.timeout_ms);

    if (fd == -1)
        return errno == EAGAIN || errno == EINPROGRESS ? RES_TIMEOUT : RES_CONNECT;
    if (cfg.echo) {
        r = write_line(fd, "PING\n") == -1 ? failed_io() : expect(fd, "PING");
        (void)close(fd);
        return r;
    }
    n = read_line(fd, line, sizeof line);
    if (n <= 0) {
        r = n == LINE_EOF ? RES_RESET : n == LINE_ERROR ? failed_io() : RES_PROTOCOL;
    } else if (strncmp(line, "BUSY", 4) == 0) {
        /* a refusal must be the BUSY line, then a clean end */
        char extra;
        ssize_t got = read(fd, &extra, 1);
        r = got == 0 ? RES_BUSY : RES_BUSY_UNCLEAN;
    } else if (strncmp(line, cfg.hello, strlen(cfg.hello)) != 0) {
        r = RES_PROTOCOL;
    } else {
        r = RES_OK;
        if (cfg.sleep_ms > 0) {
            char sleep_line[32];
            (void)snprintf(sleep_line, sizeof sleep_line, "SLEEP %d\n", cfg.sleep_ms);
            r = write_line(fd, sleep_line) == -1 ? failed_io() : expect(fd, "OK");
        }
        if (r == RES_OK)
            r = write_line(fd, "PING\n") == -1 ? failed_io() : expect(fd, "PONG");
        if (r == RES_OK && cfg.quit) {
            r = write_line(fd, "QUIT\n") == -1 ? failed_io() : expect(fd, "BYE");
        }
    }
    (void)close(fd);
    return r;
}

static void *worker(void *unused)
{
    (void)unused;
    for (;;) {
        int i = atomic_fetch_add(&next_session, 1);
        long long t0;
        enum result r;

        if (i >= cfg.sessions)
            return NULL;
        t0 = now_us();
        r = session();
        latency_us[i] = now_us() - t0;
        atomic_fetch_add(&counts[r], 1);
    }
}

static int compare_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a;
    long long y = *(const long long *)b;

    return (x > y) - (x < y);
}

static int usage(void)
{
    (void)fprintf(stderr,
                  "usage: loadgen -p PORT [-a ADDR] [-n SESSIONS] [-c CONCURRENCY] "
                  "[-t TIMEOUT_MS] [-m quit|close|echo] [-g GREETING_PREFIX] [-s SLEEP_MS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    pthread_t threads[512];
    int concurrency = 8;
    long long t0;
    long long elapsed;
    int errors;
    int opt;

    while ((opt = getopt(argc, argv, "a:p:n:c:t:m:g:s:")) != -1) {
        switch (opt) {
        case 'a':
            cfg.addr = optarg;
            break;
        case 'p':
            cfg.port = (int)parse_long(optarg, 1, 65535);
            break;
        case 'n':
            cfg.sessions = (int)parse_long(optarg, 1, 100000000);
            break;
        case 'c':
            concurrency = (int)parse_long(optarg, 1, 512);
            break;
        case 't':
            cfg.timeout_ms = (int)parse_long(optarg, 1, 3600000);
            break;
        case 'm':
            if (strcmp(optarg, "quit") != 0 && strcmp(optarg, "close") != 0 &&
                strcmp(optarg, "echo") != 0)
                return usage();
            cfg.quit = strcmp(optarg, "quit") == 0;
            cfg.echo = strcmp(optarg, "echo") == 0;
            break;
        case 'g':
            cfg.hello = optarg;
            break;
        case 's':
            cfg.sleep_ms = (int)parse_long(optarg, 0, 60000);
            break;
        default:
            return usage();
        }
    }
    if (cfg.port <= 0 || cfg.sessions < 1 || concurrency < 1 || concurrency > 512 ||
        cfg.timeout_ms < 1 || cfg.sleep_ms < 0)
        return usage();
    latency_us = calloc((size_t)cfg.sessions, sizeof *latency_us);
    if (latency_us == NULL) {
        perror("loadgen: calloc");
        return 1;
    }
    t0 = now_us();
    for (int i = 0; i < concurrency; i++) {
        int err = pthread_create(&threads[i], NULL, worker, NULL);
        if (err != 0) {
            (void)fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(err));
            return 1;
        }
    }
    for (int i = 0; i < concurrency; i++)
        (void)pthread_join(threads[i], NULL);
    elapsed = now_us() - t0;

    qsort(latency_us, (size_t)cfg.sessions, sizeof *latency_us, compare_ll);
    errors = cfg.sessions - counts[RES_OK] - counts[RES_BUSY];
    (void)printf("sessions=%d ok=%d busy=%d errors=%d connect=%d reset=%d timeout=%d protocol=%d "
                 "busy_unclean=%d elapsed_ms=%lld rate=%.0f/s p50_us=%lld p99_us=%lld "
                 "max_us=%lld\n",
                 cfg.sessions, counts[RES_OK], counts[RES_BUSY], errors, counts[RES_CONNECT],
                 counts[RES_RESET], counts[RES_TIMEOUT], counts[RES_PROTOCOL],
                 counts[RES_BUSY_UNCLEAN], elapsed / 1000,
                 cfg.sessions * 1e6 / (double)(elapsed > 0 ? elapsed : 1),
                 latency_us[cfg.sessions / 2], latency_us[(cfg.sessions * 99) / 100],
                 latency_us[cfg.sessions - 1]);
    free(latency_us);
    return errors == 0 ? 0 : 1;
}
