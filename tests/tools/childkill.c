/*
 * childkill: SIGKILLs a random living child of a process, again and again,
 * until SIGTERM; then prints how many it killed.
 *
 * The fault injector of tests/stress.bats. It lists the children from
 * /proc/PID/task/PID/children and kills within microseconds of seeing one:
 * a bash loop around ps takes half a second a pass on a loaded machine,
 * and every pid it picked had ended before its kill ran (TRAPS.md). A
 * zombie is not a target (SIGKILL does nothing to it), nor is a pid that
 * has gone in the meantime: only kills that reached a live process count.
 *
 * usage: childkill PID [PERIOD_US]   one kill every PERIOD_US (default 2000)
 *        prints "killed=N passes=P" on SIGTERM, or when PID has gone
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netline.h"

static volatile sig_atomic_t stop;

/* Which child: any spread will do, so a xorshift step rather than rand(). */
static unsigned pick(unsigned *state, int n)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state % (unsigned)n;
}

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    pid_t kids[4096];
    long period_us = 2000;
    long killed = 0;
    long passes = 0;
    pid_t parent;

    if (argc < 2 || argc > 3 || (parent = (pid_t)parse_long(argv[1], 1, 1L << 30)) <= 0 ||
        (argc == 3 && (period_us = parse_long(argv[2], 0, 1000000)) < 0)) {
        (void)fprintf(stderr, "usage: childkill PID [PERIOD_US]\n");
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    if (sigaction(SIGTERM, &sa, NULL) == -1) {
        perror("childkill: sigaction");
        return 2;
    }
    unsigned state = (unsigned)getpid() | 1U; /* xorshift must not start at 0 */
    while (!stop) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = period_us * 1000L};
        int n = list_children(parent, kids, 4096);
        int living = 0;

        if (n < 0)
            break; /* the parent is gone */
        for (int i = 0; i < n; i++) {
            if (!is_zombie(kids[i]))
                kids[living++] = kids[i];
        }
        if (living > 0) {
            /* ESRCH: it ended between the listing and now; no kill then. */
            if (kill(kids[pick(&state, living)], SIGKILL) == 0)
                killed++;
            else if (errno != ESRCH)
                perror("childkill: kill");
        }
        passes++;
        (void)nanosleep(&pause, NULL);
    }
    (void)printf("killed=%ld passes=%ld\n", killed, passes);
    return 0;
}
