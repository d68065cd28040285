/*
 * sigwatch: runs a command as a child subreaper (Linux) and writes one line
 * to REPORT for every SIGUSR2 it receives.
 *
 * For part 3's "parent is gone" test: the daemon runs under sigwatch; when
 * the daemon is killed, its children are re-parented to sigwatch. A child
 * that then signals getppid() instead of the parent it was forked by would
 * hit sigwatch, and show up in REPORT.
 *
 * usage: sigwatch REPORT COMMAND [ARGS...]    (ends on SIGTERM, exit 0)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    sigset_t set;
    siginfo_t info;
    int report;
    pid_t pid;

    if (argc < 3) {
        (void)fprintf(stderr, "usage: sigwatch REPORT COMMAND [ARGS...]\n");
        return 2;
    }
    report = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (report == -1 || prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) == -1) {
        perror("sigwatch");
        return 2;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        perror("sigwatch: sigprocmask");
        return 2;
    }
    pid = fork();
    if (pid == -1) {
        perror("sigwatch: fork");
        return 2;
    }
    if (pid == 0) {
        (void)sigprocmask(SIG_UNBLOCK, &set, NULL);
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    for (;;) {
        int sig = sigwaitinfo(&set, &info);
        char line[64];
        int n;

        if (sig == -1 && errno == EINTR)
            continue;
        if (sig == SIGTERM || sig == -1)
            break;
        if (sig == SIGCHLD) {
            while (waitpid(-1, NULL, WNOHANG) > 0) {
                /* reap every child that ended */
            }
            continue;
        }
        n = snprintf(line, sizeof line, "SIGUSR2 from pid %ld\n", (long)info.si_pid);
        if (write(report, line, (size_t)n) != n)
            perror("sigwatch: write");
    }
    while (waitpid(-1, NULL, WNOHANG) > 0) {
        /* reap what is left */
    }
    return 0;
}
