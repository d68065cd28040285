/*
 * reaper: runs a command as a child subreaper (Linux), so that every process
 * the command leaves behind comes back to us.
 *
 * The suites start daemons in the background; those detach and, when they
 * exit, belong to whichever process reaps orphans. On machines whose init
 * does not reap (some container inits), they would stay zombies forever.
 * Under this tool they are reaped here. When the command ends, any process
 * it started that is still running is a leak: reaper names it, kills it by
 * pid, and exits 1, so the suite fails instead of leaving it behind.
 *
 * usage: reaper COMMAND [ARGS...]   exit: the command's status, or 1 on a leak
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Our children's pids, from /proc (Linux); how many, at most max. */
static int list_children(pid_t *pids, int max)
{
    char path[64];
    char buf[8192];
    char *p = buf;
    ssize_t got;
    int fd;
    int n = 0;

    (void)snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)getpid(),
                   (long)getpid());
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return 0;
    got = read(fd, buf, sizeof buf - 1);
    (void)close(fd);
    buf[got > 0 ? got : 0] = '\0';
    while (n < max) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        pids[n++] = (pid_t)pid;
        p = end;
    }
    return n;
}

static int reap_ready(void)
{
    int reaped = 0;
    int status;

    while (waitpid(-1, &status, WNOHANG) > 0)
        reaped++;
    return reaped;
}

int main(int argc, char **argv)
{
    pid_t command;
    pid_t leaks[256];
    int status;
    int result;
    int n;

    if (argc < 2) {
        (void)fprintf(stderr, "usage: reaper COMMAND [ARGS...]\n");
        return 2;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) == -1) {
        perror("reaper: prctl PR_SET_CHILD_SUBREAPER");
        return 2;
    }
    command = fork();
    if (command == -1) {
        perror("reaper: fork");
        return 2;
    }
    if (command == 0) {
        execvp(argv[1], argv + 1);
        (void)fprintf(stderr, "reaper: %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    /* Reap everything until the command itself ends. */
    for (;;) {
        pid_t pid = waitpid(-1, &status, 0);
        if (pid == command)
            break;
        if (pid == -1 && errno != EINTR) {
            perror("reaper: waitpid");
            return 2;
        }
    }
    result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

    /* Whatever exited meanwhile is not a leak; give it a moment to be reaped. */
    for (int round = 0; round < 50; round++) {
        (void)reap_ready();
        if (list_children(leaks, 256) == 0)
            return result;
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 20000000L};
        (void)nanosleep(&pause, NULL);
    }
    n = list_children(leaks, 256);
    (void)fprintf(stderr, "reaper: %d process(es) started by the tests outlived them:", n);
    for (int i = 0; i < n; i++)
        (void)fprintf(stderr, " %ld", (long)leaks[i]);
    (void)fprintf(stderr, "; killing them\n");
    for (int i = 0; i < n; i++) {
        if (kill(leaks[i], SIGKILL) == -1 && errno != ESRCH)
            perror("reaper: kill");
    }
    while (waitpid(-1, &status, 0) > 0) {
        /* reap the killed */
    }
    return 1;
}
