/*
 * burst: opens K connections to a daemon, then closes them all at once (a
 * tight loop of close(2), microseconds apart), round after round, and
 * reports how far the daemon's own counter drifted each round.
 *
 * For part 3: its children then end together and their SIGUSR2s merge. The
 * tool waits until the daemon has reaped every child, then opens one probe
 * connection and reads the counter from its greeting ("active=N"). With an
 * exact counter the probe always sees 1 more than the previous probe saw
 * minus the previous probe itself, i.e. the drift of a round is
 * probe(round) - probe(round - 1), and 0 when nothing was lost.
 *
 * usage: burst -p PORT -d DAEMON_PID [-k K] [-r ROUNDS] [-q]
 * prints one line per round (unless -q) and a summary line:
 *   rounds=R k=K drifted_rounds=D lost_decrements=L first_probe=A last_probe=B
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "netline.h"

#define MAX_K 1000

static const char *addr = "127.0.0.1";

/* Polls until the daemon has no child left; 0, or -1 after 10 s. */
static int wait_no_children(pid_t daemon)
{
    long long deadline = now_us() + 10000000;
    struct timespec tick = {.tv_sec = 0, .tv_nsec = 1000000};

    while (list_children(daemon, NULL, 100000) != 0) {
        if (now_us() > deadline)
            return -1;
        (void)nanosleep(&tick, NULL);
    }
    return 0;
}

static long field(const char *line, const char *name)
{
    const char *p = strstr(line, name);

    return p == NULL ? -1 : strtol(p + strlen(name), NULL, 10);
}

/* One probe: connect, read the greeting, close. Returns active=N or -1. */
static long probe(int port, pid_t daemon, char *line, size_t size)
{
    int fd = connect_to(addr, port, 5000);
    long active;

    if (fd == -1 || read_line(fd, line, size) <= 0) {
        if (fd != -1)
            (void)close(fd);
        return -1;
    }
    active = field(line, " active=");
    (void)write_line(fd, "QUIT\n");
    (void)close(fd);
    if (wait_no_children(daemon) == -1)
        return -1;
    return active;
}

int main(int argc, char **argv)
{
    int fds[MAX_K];
    char line[256];
    int port = 0, k = 5, rounds = 1, quiet = 0, opt;
    long prev, lost = 0, first;
    int drifted = 0;
    pid_t daemon = 0;

    while ((opt = getopt(argc, argv, "p:d:k:r:q")) != -1) {
        switch (opt) {
        case 'p':
            port = (int)parse_long(optarg, 1, 65535);
            break;
        case 'd':
            daemon = (pid_t)parse_long(optarg, 1, 1L << 30);
            break;
        case 'k':
            k = (int)parse_long(optarg, 1, MAX_K);
            break;
        case 'r':
            rounds = (int)parse_long(optarg, 1, 1000000);
            break;
        case 'q':
            quiet = 1;
            break;
        default:
            (void)fprintf(stderr, "usage: burst -p PORT -d DAEMON_PID [-k K] [-r ROUNDS] [-q]\n");
            return 2;
        }
    }
    if (port <= 0 || daemon <= 0 || k < 1 || k > MAX_K || rounds < 1) {
        (void)fprintf(stderr, "usage: burst -p PORT -d DAEMON_PID [-k 1..%d] [-r ROUNDS] [-q]\n",
                      MAX_K);
        return 2;
    }
    prev = first = probe(port, daemon, line, sizeof line);
    if (prev < 0) {
        (void)fprintf(stderr, "burst: first probe failed: %s\n", line);
        return 1;
    }
    for (int r = 1; r <= rounds; r++) {
        long long t0;
        long long spread;
        long now;

        for (int i = 0; i < k; i++) {
            fds[i] = connect_to(addr, port, 5000);
            if (fds[i] == -1 || read_line(fds[i], line, sizeof line) <= 0 ||
                strncmp(line, "HELLO", 5) != 0) {
                (void)fprintf(stderr, "burst: round %d, connection %d: %s\n", r, i + 1,
                              fds[i] == -1 ? strerror(errno) : line);
                return 1;
            }
        }
        t0 = now_us();
        for (int i = 0; i < k; i++)
            (void)close(fds[i]);
        spread = now_us() - t0;
        if (wait_no_children(daemon) == -1) {
            (void)fprintf(stderr, "burst: children still running after 10 s\n");
            return 1;
        }
        now = probe(port, daemon, line, sizeof line);
        if (now < 0) {
            (void)fprintf(stderr, "burst: probe failed after round %d: %s\n", r, line);
            return 1;
        }
        if (now != prev) {
            drifted++;
            lost += now - prev;
        }
        if (!quiet)
            (void)printf("round %d: %d closes in %lld us; probe active=%ld (drift %+ld)\n", r, k,
                         spread, now, now - prev);
        prev = now;
    }
    (void)printf("rounds=%d k=%d drifted_rounds=%d lost_decrements=%ld first_probe=%ld "
                 "last_probe=%ld\n",
                 rounds, k, drifted, lost, first, prev);
    return 0;
}
