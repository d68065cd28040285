/*
 * sigenv: runs a command with some signals ignored or blocked, the way a
 * careless parent leaves them (a shell's background job ignores SIGINT and
 * SIGQUIT, nohup ignores SIGHUP, some launchers ignore SIGCHLD). Both are
 * inherited across fork and exec: a daemon must reset them (daemon(7)).
 *
 * usage: sigenv [-i SIG]... [-b SIG]... -- COMMAND [ARG...]
 *   -i SIG   ignore SIG (SIG_IGN)      -b SIG   block SIG
 *   SIG: HUP INT QUIT ALRM TERM CHLD USR1 USR2, or a number
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netline.h"

static int signal_number(const char *name)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ALRM", SIGALRM},
                 {"TERM", SIGTERM}, {"CHLD", SIGCHLD}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0)
            return names[i].sig;
    }
    return (int)parse_long(name, 1, 64);
}

static _Noreturn void usage(void)
{
    (void)fprintf(stderr, "usage: sigenv [-i SIG]... [-b SIG]... -- COMMAND [ARG...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct sigaction ignore;
    sigset_t block;
    int i;

    memset(&ignore, 0, sizeof ignore);
    sigemptyset(&ignore.sa_mask);
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&block);
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
        int sig;
        if (i + 1 >= argc)
            usage();
        sig = signal_number(argv[i + 1]);
        if (sig == -1)
            usage();
        if (strcmp(argv[i], "-i") == 0) {
            if (sigaction(sig, &ignore, NULL) == -1) {
                perror("sigenv: sigaction");
                return 1;
            }
        } else if (strcmp(argv[i], "-b") == 0) {
            sigaddset(&block, sig);
        } else {
            usage();
        }
    }
    if (i + 1 >= argc)
        usage();
    if (sigprocmask(SIG_BLOCK, &block, NULL) == -1) {
        perror("sigenv: sigprocmask");
        return 1;
    }
    execvp(argv[i + 1], argv + i + 1);
    (void)fprintf(stderr, "sigenv: %s: %s\n", argv[i + 1], strerror(errno));
    return 127;
}
