/*
 * server.c: start-up, readiness, the accept wait and shutdown of server.h.
 *
 * Daemonizing follows daemon(7): fork, setsid, fork again (the daemon is no
 * session leader and can never get a controlling terminal), umask 0,
 * chdir /, every inherited descriptor closed, 0-2 on /dev/null. The command
 * the user typed waits on a pipe and exits only when the daemon listens (0,
 * with the "listening on" line) or has failed (1, with the daemon's reason),
 * so no caller ever needs to sleep.
 */
#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "util.h"

/* How long a stopping daemon lets its children end before SIGKILL. */
#define STOP_GRACE_MS 1000
/* How long accept pauses after running out of descriptors. */
#define BACKOFF_MS 100

static const int handled_signals[] = {SIGTERM, SIGINT, SIGCHLD, SIGUSR2};
#define N_HANDLED ((int)(sizeof handled_signals / sizeof handled_signals[0]))

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static void report(struct server *s, char status, const char *line)
{
    if (s->ready_fd != -1) {
        char buf[700];
        int n = snprintf(buf, sizeof buf, "%c%s", status, line);
        if (n > 0)
            (void)write_all(s->ready_fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
        close_checked(s->ready_fd, "readiness pipe");
        s->ready_fd = -1;
        return;
    }
    (void)write_all(status == '0' ? STDOUT_FILENO : STDERR_FILENO, line, strlen(line));
}

void server_fail(struct server *s, const char *fmt, ...)
{
    char msg[512];
    char line[600];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* With the log on stderr, the line below is the log: do not say it twice. */
    if (!log_is_stderr())
        log_msg(LOG_ERR, "cannot start: %s", msg);
    (void)snprintf(line, sizeof line, "%s: %s\n", s->stage->name, msg);
    report(s, '1', line);
    if (s->pidfile_fd != -1) {
        if (unlink(s->pidfile) == -1)
            log_msg(LOG_ERR, "unlink %s: %s", s->pidfile, strerror(errno));
        close_checked(s->pidfile_fd, "pidfile");
    }
    if (s->listen_fd != -1)
        close_checked(s->listen_fd, "listening socket");
    exit(1);
}

void server_fatal(struct server *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_msg(LOG_ERR, "fatal: %s", msg);
    s->exit_status = 1;
}

bool server_running(const struct server *s)
{
    return stop_signal == 0 && s->exit_status == 0;
}

/* The daemon changes directory to /: a relative -P or -l must not move with it. */
static char *absolute_path(struct server *s, const char *path)
{
    char *abs;

    if (path == NULL)
        return NULL;
    if (path[0] == '/') {
        abs = strdup(path);
    } else {
        char cwd[PATH_MAX];
        size_t size;

        if (getcwd(cwd, sizeof cwd) == NULL)
            server_fail(s, "cannot resolve %s: getcwd: %s", path, strerror(errno));
        size = strlen(cwd) + 1 + strlen(path) + 1;
        abs = malloc(size);
        if (abs != NULL)
            (void)snprintf(abs, size, "%s/%s", cwd, path);
    }
    if (abs == NULL)
        server_fail(s, "out of memory");
    return abs;
}

/* The launcher: waits for the daemon's verdict on the pipe and passes it on. */
static _Noreturn void launcher_wait(const struct server *s, int from_daemon, pid_t first_child)
{
    char buf[700];
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
        (void)fprintf(stderr, "%s: the daemon ended before it was ready\n", s->stage->name);
    exit(1);
}

/* Closes every descriptor the daemon inherited, except keep. */
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
    /* No /proc: try every possible descriptor; EBADF is the usual answer. */
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = STDERR_FILENO + 1; fd < max; fd++) {
        if (fd != keep)
            (void)close(fd);
    }
}

static void daemonize(struct server *s)
{
    int pipefd[2];
    pid_t pid;
    int null;

    (void)fflush(NULL); /* nothing buffered may be written twice by the forks */
    if (pipe(pipefd) == -1)
        server_fail(s, "pipe: %s", strerror(errno));
    pid = fork();
    if (pid == -1)
        server_fail(s, "fork: %s", strerror(errno));
    if (pid > 0) {
        (void)close(pipefd[1]);
        launcher_wait(s, pipefd[0], pid);
    }
    /* First child: a new session without a terminal, then the daemon. */
    (void)close(pipefd[0]);
    s->ready_fd = pipefd[1];
    if (setsid() == -1)
        server_fail(s, "setsid: %s", strerror(errno));
    pid = fork();
    if (pid == -1)
        server_fail(s, "fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    /* The daemon. */
    umask(0); /* the modes given to open(2) and shmget(2) are the modes we get */
    if (chdir("/") == -1)
        server_fail(s, "chdir /: %s", strerror(errno));
    close_inherited(s->ready_fd);
    null = open("/dev/null", O_RDWR);
    if (null == -1)
        server_fail(s, "open /dev/null: %s", strerror(errno));
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (null != fd && dup2(null, fd) == -1)
            server_fail(s, "dup2 /dev/null: %s", strerror(errno));
    }
    if (null > STDERR_FILENO)
        close_checked(null, "/dev/null");
}

static void setup_signals(struct server *s)
{
    struct sigaction sa;
    sigset_t block;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    /* A write to a client that left must fail with EPIPE, not kill the process. */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) == -1)
        server_fail(s, "sigaction SIGPIPE: %s", strerror(errno));

    sigemptyset(&block);
    for (int i = 0; i < N_HANDLED; i++)
        sigaddset(&block, handled_signals[i]);
    if (sigprocmask(SIG_BLOCK, &block, &s->wait_mask) == -1)
        server_fail(s, "sigprocmask: %s", strerror(errno));
    for (int i = 0; i < N_HANDLED; i++)
        sigdelset(&s->wait_mask, handled_signals[i]);

    sa.sa_handler = on_stop;
    if (sigaction(SIGTERM, &sa, NULL) == -1 || sigaction(SIGINT, &sa, NULL) == -1)
        server_fail(s, "sigaction: %s", strerror(errno));
}

static void lock_pidfile(struct server *s)
{
    struct flock lock;
    char text[32];
    int fd;
    int n;

    fd = open(s->pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1)
        server_fail(s, "cannot open pidfile %s: %s", s->pidfile, strerror(errno));
    memset(&lock, 0, sizeof lock);
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &lock) == -1) {
        int err = errno;
        ssize_t got = pread(fd, text, sizeof text - 1, 0);
        (void)close(fd);
        text[got > 0 ? got : 0] = '\0';
        text[strcspn(text, "\n")] = '\0';
        if (err == EACCES || err == EAGAIN)
            server_fail(s, "already running: pidfile %s is locked by pid %s", s->pidfile,
                        text[0] != '\0' ? text : "?");
        server_fail(s, "cannot lock pidfile %s: %s", s->pidfile, strerror(err));
    }
    /* Locked: any earlier content is a stale instance's, and ours now. */
    s->pidfile_fd = fd;
    n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == -1 || pwrite(fd, text, (size_t)n, 0) != n)
        server_fail(s, "cannot write pidfile %s: %s", s->pidfile, strerror(errno));
}

void server_start(struct server *s, const struct stage *stage, const struct options *opt)
{
    *s = (struct server){
        .stage = stage,
        .opt = opt,
        .pidfile_fd = -1,
        .listen_fd = -1,
        .ready_fd = -1,
    };
    s->pidfile = absolute_path(s, opt->pidfile);
    s->logfile = absolute_path(s, opt->logfile);
    if (!opt->foreground)
        daemonize(s);
    setup_signals(s);
    if (log_open(stage->name, s->logfile, opt->foreground) == -1)
        server_fail(s, "cannot open log file %s: %s", s->logfile, strerror(errno));
    if (s->pidfile != NULL)
        lock_pidfile(s);
    s->listen_fd = net_listen(opt->bind_addr, opt->port, &s->port);
    if (s->listen_fd == -1)
        server_fail(s, "cannot listen on %s:%u: %s", opt->bind_addr, opt->port, strerror(errno));
    if (s->listen_fd >= FD_SETSIZE)
        server_fail(s, "listening socket is descriptor %d, beyond FD_SETSIZE", s->listen_fd);
}

void server_ready(struct server *s)
{
    char line[128];

    (void)snprintf(line, sizeof line, "listening on %s:%u pid=%ld\n", s->opt->bind_addr, s->port,
                   (long)getpid());
    log_msg(LOG_INFO, "start %s: listening on %s:%u pid=%ld%s", s->stage->name, s->opt->bind_addr,
            s->port, (long)getpid(), s->opt->foreground ? " (foreground)" : "");
    report(s, '0', line);
}

static void pause_accepting(struct server *s, const char *why)
{
    if (!s->short_of_resources)
        log_msg(LOG_ERR, "%s: %s; accepting again in %d ms steps", why, strerror(errno),
                BACKOFF_MS);
    s->short_of_resources = true;
    s->backing_off = true;
}

/*
 * pselect(2) delivers a pending signal only when it has to wait: if a client
 * is already queued, it returns at once with the signals blocked again and
 * the signal still pending. Under steady load the queue is never empty, so
 * SIGCHLD, SIGUSR2 and even SIGTERM would wait for a lull. Let them in here.
 */
static void deliver_pending_signals(struct server *s)
{
    sigset_t pending;
    sigset_t blocked;

    if (sigpending(&pending) == -1) {
        server_fatal(s, "sigpending: %s", strerror(errno));
        return;
    }
    for (int i = 0; i < N_HANDLED; i++) {
        if (sigismember(&pending, handled_signals[i]) == 1) {
            /* Unblocking delivers them before sigprocmask returns. */
            if (sigprocmask(SIG_SETMASK, &s->wait_mask, &blocked) == -1 ||
                sigprocmask(SIG_SETMASK, &blocked, NULL) == -1)
                server_fatal(s, "sigprocmask: %s", strerror(errno));
            return;
        }
    }
}

int server_accept(struct server *s, struct sockaddr_in *peer)
{
    struct timespec pause = {.tv_sec = 0, .tv_nsec = BACKOFF_MS * 1000000L};
    socklen_t len = sizeof *peer;
    fd_set readable;
    int client;
    int n;

    if (!server_running(s))
        return -1;
    if (!s->backing_off && children_reserve() == -1)
        pause_accepting(s, "cannot grow the children table");
    FD_ZERO(&readable);
    if (!s->backing_off)
        FD_SET(s->listen_fd, &readable);
    /* The only place where the daemon's signals are unblocked. */
    n = pselect(s->listen_fd + 1, &readable, NULL, NULL, s->backing_off ? &pause : NULL,
                &s->wait_mask);
    if (n == -1) {
        if (errno != EINTR)
            server_fatal(s, "pselect: %s", strerror(errno));
        return -1;
    }
    if (n == 0) {
        s->backing_off = false; /* the pause is over: try again */
        return -1;
    }
    deliver_pending_signals(s);
    if (!server_running(s))
        return -1;
    client = accept(s->listen_fd, (struct sockaddr *)peer, &len);
    if (client != -1) {
        if (s->short_of_resources)
            log_msg(LOG_INFO, "accepting again");
        s->short_of_resources = false;
        return client;
    }
    switch (errno) {
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
        /* The client stays queued; retrying at once would spin on it. */
        pause_accepting(s, "accept");
        return -1;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM:
    /* Linux reports pending network errors here; accept(2) says retry. */
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return -1;
    default:
        server_fatal(s, "accept: %s", strerror(errno));
        return -1;
    }
}

void server_refuse(int client, const char *line)
{
    size_t len = strlen(line);

    /* A fresh socket's send buffer takes a short line whole; never wait for it. */
    if (send(client, line, len, MSG_DONTWAIT) != (ssize_t)len)
        log_msg(LOG_INFO, "refused client did not take the reply: %s", strerror(errno));
    /* FIN after the line, then drop what the client already sent: closing
     * with unread input would send a reset instead of a clean end. */
    if (shutdown(client, SHUT_WR) == 0) {
        char sink[512];
        for (int i = 0; i < 16 && recv(client, sink, sizeof sink, MSG_DONTWAIT) > 0; i++) {
            /* dropped */
        }
    }
    close_checked(client, "refused client");
}

void server_child_init(struct server *s)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    for (int i = 0; i < N_HANDLED; i++) {
        if (sigaction(handled_signals[i], &sa, NULL) == -1) {
            log_msg(LOG_ERR, "child: sigaction: %s", strerror(errno));
            _exit(1);
        }
    }
    if (sigprocmask(SIG_SETMASK, &s->wait_mask, NULL) == -1) {
        log_msg(LOG_ERR, "child: sigprocmask: %s", strerror(errno));
        _exit(1);
    }
    close_checked(s->listen_fd, "listening socket");
    if (s->pidfile_fd != -1)
        close_checked(s->pidfile_fd, "pidfile");
    /* The parent's memory (children table, paths) is left alone: freeing it
     * would only dirty pages the child shares with the parent, each one a
     * copy, just before _exit returns them all anyway. */
}

static const char *signal_name(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "a fatal error";
}

int server_stop(struct server *s, children_reaped_fn *fn, void *arg)
{
    log_msg(LOG_INFO, "shutdown on %s: ending %zu children", signal_name(stop_signal),
            children_count());
    close_checked(s->listen_fd, "listening socket");
    s->listen_fd = -1;
    children_stop_all(STOP_GRACE_MS, fn, arg);
    children_free();
    if (s->pidfile_fd != -1) {
        if (unlink(s->pidfile) == -1)
            log_msg(LOG_ERR, "unlink %s: %s", s->pidfile, strerror(errno));
        close_checked(s->pidfile_fd, "pidfile");
        s->pidfile_fd = -1;
    }
    log_msg(LOG_INFO, "stopped");
    free(s->pidfile);
    free(s->logfile);
    s->pidfile = s->logfile = NULL;
    return s->exit_status;
}
