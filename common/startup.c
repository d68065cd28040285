/*
 * startup.c: the start-up of startup.h, in the order of daemon(7)'s list
 * for a SysV daemon (its step numbers in the comments):
 *
 *    2, 3   inherited signal dispositions and mask reset   startup_reset
 *   10      umask 0                                         startup_reset
 *    5-8    fork, setsid, fork, the first child exits       startup_detach
 *   11      chdir /                                         startup_detach
 *    1      every inherited descriptor closed               startup_detach
 *    9      0-2 on /dev/null                                startup_detach
 *   12      the pidfile (pidfile.c)                         server_start
 *   14, 15  the launcher told the daemon is ready; it exits startup_report
 *
 * The reset and the umask happen in the foreground too, so both modes
 * create the same file modes and take no inherited SIG_IGN. daemon(7)'s
 * step 1 comes after the forks here: the pipe to the launcher is made
 * before them and must stay open. Its step 4 (sanitize the environment)
 * and step 13 (drop privileges) do not apply: the daemon reads no
 * environment variable and is started by the user it runs as.
 */
#include "startup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Longest line the daemon sends the launcher (a reason, or "listening on"). */
#define REPORT_MAX 700

/* Descriptors 0-2 are open before anything else is: a daemon started with
 * one closed would otherwise get its pipe, pidfile or socket there, and
 * later take it for stdin, stdout or stderr (and close or overwrite it). */
static void ensure_std_fds(void)
{
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        /* open returns the lowest free descriptor: this one. Without
         * /dev/null there is no safe start, and maybe no stderr to say so. */
        if (open("/dev/null", O_RDWR) != fd)
            _exit(1);
    }
}

/*
 * Steps 2 and 3: whatever the starting process left (a shell's background
 * job ignores SIGINT and SIGQUIT, nohup ignores SIGHUP, a parent may ignore
 * SIGCHLD or block SIGTERM) is put back to the defaults before the daemon
 * sets its own. An inherited SIG_IGN for SIGCHLD would make the kernel reap
 * the children itself, and part 1 would show no zombie.
 */
static int reset_inherited_signals(const char **what)
{
    struct sigaction sa;
    sigset_t none;
#ifdef SIGRTMAX
    int last = SIGRTMAX;
#else
    int last = 64;
#endif

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig <= last; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        /* EINVAL: not a signal number here, or one the C library keeps. */
        if (sigaction(sig, &sa, NULL) == -1 && errno != EINVAL) {
            *what = "sigaction";
            return -1;
        }
    }
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) == -1) {
        *what = "sigprocmask";
        return -1;
    }
    return 0;
}

int startup_reset(const char **what)
{
    ensure_std_fds();
    if (reset_inherited_signals(what) == -1)
        return -1;
    /* Step 10, the one place the daemon's umask is set, for the foreground
     * and the background alike: the modes given to open(2) and shmget(2)
     * are the modes we get (pidfile 0644, log 0640, IPC objects 0600). */
    (void)umask(0);
    return 0;
}

int startup_absolute_path(const char *path, char **abs, const char **what)
{
    *abs = NULL;
    if (path == NULL)
        return 0;
    if (path[0] == '/') {
        *abs = strdup(path);
    } else {
        char cwd[PATH_MAX];
        size_t size;

        if (getcwd(cwd, sizeof cwd) == NULL) {
            *what = "getcwd";
            return -1;
        }
        size = strlen(cwd) + 1 + strlen(path) + 1;
        *abs = malloc(size);
        if (*abs != NULL)
            (void)snprintf(*abs, size, "%s/%s", cwd, path);
    }
    if (*abs == NULL) {
        *what = "malloc";
        return -1;
    }
    return 0;
}

/* Step 15: the launcher waits for the daemon's verdict on the pipe, passes
 * it on, and exits with it. */
static _Noreturn void launcher_wait(const char *stage_name, int from_daemon, pid_t first_child)
{
    char buf[REPORT_MAX];
    size_t len = 0;
    int status;

    for (;;) {
        ssize_t n = read(from_daemon, buf + len, sizeof buf - 1 - len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof buf - 1)
            break;
    }
    buf[len] = '\0';
    /* The first child ends as soon as it has forked the daemon. */
    while (waitpid(first_child, &status, 0) == -1 && errno == EINTR) {
        /* retry */
    }
    if (len > 1 && buf[0] == '0') {
        (void)fputs(buf + 1, stdout);
        exit(fflush(stdout) == 0 ? 0 : 1);
    }
    if (len > 1 && buf[0] == '1')
        (void)fputs(buf + 1, stderr);
    else
        (void)fprintf(stderr, "%s: the daemon ended before it was ready\n", stage_name);
    exit(1);
}

/* Step 1: closes every descriptor the daemon inherited, except keep. */
static void close_inherited(int keep)
{
    DIR *dir = opendir("/proc/self/fd");

    if (dir != NULL) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            char *end;
            long fd = strtol(e->d_name, &end, 10);
            if (*end != '\0' || e->d_name[0] == '.' || fd <= STDERR_FILENO || fd == keep ||
                fd == dirfd(dir))
                continue;
            (void)close((int)fd); /* inherited and unknown: nothing to report */
        }
        (void)closedir(dir);
        return;
    }
    /*
     * No /proc (macOS, FreeBSD without linprocfs): try every descriptor up
     * to the limit; EBADF is the usual answer. A descriptor can only be at
     * or above the current limit if the limit was lowered after it was
     * opened, so take the larger of the soft and hard limits, within reason
     * (1M closes take a fraction of a second, once).
     */
    long max = sysconf(_SC_OPEN_MAX);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
        (rlim_t)max < rl.rlim_max)
        max = (long)(rl.rlim_max < (1L << 20) ? rl.rlim_max : (1L << 20));
    if (max < 0 || max > (1L << 20))
        max = 1L << 20;
    for (long fd = STDERR_FILENO + 1; fd < max; fd++) {
        if (fd != keep)
            (void)close((int)fd);
    }
}

/* -1 with *what = call: the shape of every failure below. */
static int failed(const char **what, const char *call)
{
    *what = call;
    return -1;
}

int startup_detach(const char *stage_name, int *ready_fd, const char **what)
{
    int pipefd[2];
    pid_t pid;
    int null;

    (void)fflush(NULL); /* nothing buffered may be written twice by the forks */
    if (pipe(pipefd) == -1)
        return failed(what, "pipe");
    /* Step 5: the original process stays behind as the launcher. */
    pid = fork();
    if (pid == -1)
        return failed(what, "fork");
    if (pid > 0) {
        (void)close(pipefd[1]); /* the daemon's end: a failure changes nothing here */
        launcher_wait(stage_name, pipefd[0], pid);
    }
    (void)close(pipefd[0]); /* the launcher's end, likewise */
    *ready_fd = pipefd[1];
    /* Steps 6-8: a new session without a terminal, then the daemon, which
     * is no session leader and so can never get a controlling terminal. */
    if (setsid() == -1)
        return failed(what, "setsid");
    pid = fork();
    if (pid == -1)
        return failed(what, "fork");
    if (pid > 0)
        _exit(0);
    /* Step 11: no mount point held busy (relative paths were resolved). */
    if (chdir("/") == -1)
        return failed(what, "chdir /");
    /* Steps 1 and 9. */
    close_inherited(*ready_fd);
    null = open("/dev/null", O_RDWR);
    if (null == -1)
        return failed(what, "open /dev/null");
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (null != fd && dup2(null, fd) == -1)
            return failed(what, "dup2 /dev/null");
    }
    if (null > STDERR_FILENO)
        close_checked(null, "/dev/null");
    return 0;
}

int startup_report(int *ready_fd, char status, const char *line)
{
    if (*ready_fd != -1) {
        char buf[REPORT_MAX];
        int n = snprintf(buf, sizeof buf, "%c%s", status, line);
        int r = -1;
        if (n > 0)
            r = write_all(*ready_fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
        close_checked(*ready_fd, "readiness pipe");
        *ready_fd = -1;
        return r;
    }
    /* In the foreground nobody may be reading stdout: that is no failure. */
    (void)write_all(status == '0' ? STDOUT_FILENO : STDERR_FILENO, line, strlen(line));
    return 0;
}
