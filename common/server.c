/*
 * server.c: start-up, readiness, the accept wait and shutdown of server.h.
 *
 * Start-up follows daemon(7), in the foreground too: descriptors 0-2 open,
 * inherited signal dispositions and mask reset, umask 0 (the modes we ask
 * for are the modes we get). In the background, also: fork, setsid, fork
 * again (the daemon is no session leader and can never get a controlling
 * terminal), chdir /, every inherited descriptor closed, 0-2 on /dev/null. The command
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
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "util.h"

/* How long a stopping daemon lets its children end before SIGKILL. */
#define STOP_GRACE_MS 1000
/* How long accept pauses after running out of descriptors. */
#define BACKOFF_MS 100
/* At most one "refused" log line in this many ms. */
#define REFUSAL_LOG_MS 1000

/* The signals the parent handles itself (and blocks outside pselect). */
static const int stop_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
static const int noted_signals[] = {SIGUSR1, SIGUSR2};
static const int handled_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t noted_usr1;
static volatile sig_atomic_t noted_usr2;

static void on_stop(int sig)
{
    stop_signal = sig;
}

/* SIGUSR1 and SIGUSR2 mean nothing here, but their default action would end
 * the daemon without its cleanup: note them, and the main loop logs them. */
static void on_noted(int sig)
{
    if (sig == SIGUSR1)
        noted_usr1 = 1;
    else
        noted_usr2 = 1;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGTERM:
        return "SIGTERM";
    case SIGINT:
        return "SIGINT";
    case SIGHUP:
        return "SIGHUP";
    case SIGQUIT:
        return "SIGQUIT";
    case SIGUSR1:
        return "SIGUSR1";
    case SIGUSR2:
        return "SIGUSR2";
    default:
        return "a fatal error";
    }
}

/* Tells the launcher (background) or stdout/stderr (foreground) how the
 * start went. -1 when the launcher could not be told: it is gone. */
static int report(struct server *s, char status, const char *line)
{
    if (s->ready_fd != -1) {
        char buf[700];
        int n = snprintf(buf, sizeof buf, "%c%s", status, line);
        int r = -1;
        if (n > 0)
            r = write_all(s->ready_fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
        close_checked(s->ready_fd, "readiness pipe");
        s->ready_fd = -1;
        return r;
    }
    /* In the foreground nobody may be reading stdout: that is no failure. */
    (void)write_all(status == '0' ? STDOUT_FILENO : STDERR_FILENO, line, strlen(line));
    return 0;
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
    (void)report(s, '1', line); /* a launcher that is gone has nobody to tell */
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

/*
 * daemon(7): whatever the starting process left (a shell's background job
 * ignores SIGINT and SIGQUIT, nohup ignores SIGHUP, a parent may ignore
 * SIGCHLD or block SIGTERM) is put back to the defaults before we set ours.
 * An inherited SIG_IGN for SIGCHLD would make the kernel reap the children
 * itself, and part 1 would show no zombie.
 */
static void reset_inherited_signals(struct server *s)
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
        if (sigaction(sig, &sa, NULL) == -1 && errno != EINVAL)
            server_fail(s, "sigaction %d: %s", sig, strerror(errno));
    }
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
        server_fail(s, "sigprocmask: %s", strerror(errno));
}

static void install(struct server *s, int sig, void (*handler)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = handler;
    if (sigaction(sig, &sa, NULL) == -1)
        server_fail(s, "sigaction %s: %s", signal_name(sig), strerror(errno));
}

static void setup_signals(struct server *s)
{
    sigset_t block;

    /* A write to a client that left must fail with EPIPE, not kill the process. */
    install(s, SIGPIPE, SIG_IGN);
    sigemptyset(&block);
    for (int i = 0; i < COUNT(handled_signals); i++)
        sigaddset(&block, handled_signals[i]);
    if (sigprocmask(SIG_BLOCK, &block, &s->wait_mask) == -1)
        server_fail(s, "sigprocmask: %s", strerror(errno));
    for (int i = 0; i < COUNT(handled_signals); i++)
        sigdelset(&s->wait_mask, handled_signals[i]);
    for (int i = 0; i < COUNT(stop_signals); i++)
        install(s, stop_signals[i], on_stop);
    for (int i = 0; i < COUNT(noted_signals); i++)
        install(s, noted_signals[i], on_noted);
}

/* Logs the signals on_noted saw since the last call (main loop). */
static void log_noted_signals(void)
{
    if (noted_usr1) {
        noted_usr1 = 0;
        log_msg(LOG_INFO, "ignored SIGUSR1 (SIGTERM, SIGINT, SIGHUP and SIGQUIT stop this daemon)");
    }
    if (noted_usr2) {
        noted_usr2 = 0;
        log_msg(LOG_INFO, "ignored SIGUSR2 (SIGTERM, SIGINT, SIGHUP and SIGQUIT stop this daemon)");
    }
}

/* Opens the pidfile: never through a symbolic link (another user could
 * point it at a file of ours), only a regular file, only our own. */
static int open_pidfile(struct server *s, struct stat *st)
{
    /* O_NONBLOCK: a FIFO planted at the path must not hang the start. */
    int fd = open(s->pidfile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);

    if (fd == -1 && errno == ELOOP)
        server_fail(s, "refusing pidfile %s: it is a symbolic link", s->pidfile);
    if (fd == -1)
        server_fail(s, "cannot open pidfile %s: %s", s->pidfile, strerror(errno));
    if (fstat(fd, st) == -1) {
        (void)close(fd);
        server_fail(s, "cannot stat pidfile %s: %s", s->pidfile, strerror(errno));
    }
    if (!S_ISREG(st->st_mode)) {
        (void)close(fd);
        server_fail(s, "refusing pidfile %s: not a regular file", s->pidfile);
    }
    if (st->st_uid != geteuid()) {
        (void)close(fd);
        server_fail(s, "refusing pidfile %s: owned by uid %ld, not by this user (uid %ld)",
                    s->pidfile, (long)st->st_uid, (long)geteuid());
    }
    return fd;
}

static void lock_pidfile(struct server *s)
{
    struct flock lock;
    struct stat opened;
    struct stat now;
    char text[32];
    int fd;
    int n;

    for (int attempt = 1;; attempt++) {
        fd = open_pidfile(s, &opened);
        memset(&lock, 0, sizeof lock);
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        if (fcntl(fd, F_SETLK, &lock) == -1) {
            int err = errno;
            /* The holder is whoever holds the lock, not what the file says. */
            long holder =
                fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK ? (long)lock.l_pid : -1;
            (void)close(fd);
            if ((err == EACCES || err == EAGAIN) && holder > 0)
                server_fail(s, "already running: pidfile %s is locked by pid %ld", s->pidfile,
                            holder);
            if (err == EACCES || err == EAGAIN)
                server_fail(s, "already running: pidfile %s is locked", s->pidfile);
            server_fail(s, "cannot lock pidfile %s: %s", s->pidfile, strerror(err));
        }
        /* The instance we raced with may have removed the file between our
         * open and our lock, and a third may have created a new one: then
         * we hold the lock of a file nobody can see. Try again. */
        if (stat(s->pidfile, &now) == 0 && now.st_dev == opened.st_dev &&
            now.st_ino == opened.st_ino)
            break;
        (void)close(fd);
        if (attempt == 5)
            server_fail(s, "pidfile %s keeps being replaced: giving up", s->pidfile);
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
    ensure_std_fds();
    reset_inherited_signals(s);
    /* The one place the daemon's umask is set, for the foreground and the
     * background alike: the modes given to open(2) and shmget(2) are the
     * modes we get (pidfile 0644, log 0640, IPC objects 0600). */
    (void)umask(0);
    s->pidfile = absolute_path(s, opt->pidfile);
    s->logfile = absolute_path(s, opt->logfile);
    if (!opt->foreground)
        daemonize(s);
    setup_signals(s);
    switch (log_open(stage->name, s->logfile, opt->foreground)) {
    case LOG_OPEN_OK:
        break;
    case LOG_OPEN_SYMLINK:
        server_fail(s, "refusing log file %s: it is a symbolic link", s->logfile);
    case LOG_OPEN_NOT_REGULAR:
        server_fail(s, "refusing log file %s: not a regular file", s->logfile);
    default:
        server_fail(s, "cannot open log file %s: %s", s->logfile, strerror(errno));
    }
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
    /* A launcher that cannot be told has gone (interrupted): it will exit
     * non-zero, so no daemon of it may stay behind. */
    if (report(s, '0', line) == -1)
        server_fail(s, "the launcher is gone (%s): not staying in the background", strerror(errno));
}

static void pause_accepting(struct server *s, const char *why)
{
    if (!s->short_of_resources)
        log_msg(LOG_ERR, "%s: %s; accepting again in %d ms steps", why, strerror(errno),
                BACKOFF_MS);
    s->short_of_resources = true;
    /* A deadline, not a duration: a signal that ends the wait early (a
     * SIGCHLD every few ms) must not restart the pause from zero. */
    s->backoff_until = monotonic_ms() + BACKOFF_MS;
}

/* Writes the line that counts the refusals not logged one by one, once a
 * second has passed since the last refusal line. */
static void flush_refusals(struct server *s, bool now)
{
    long long elapsed = monotonic_ms() - s->refusal_logged_at;

    if (s->refusals_unlogged == 0 || (!now && elapsed < REFUSAL_LOG_MS))
        return;
    log_msg(LOG_INFO, "refused %lu more clients in the last %lld ms (one line a second at most)",
            s->refusals_unlogged, elapsed);
    s->refusals_unlogged = 0;
    s->refusal_logged_at = monotonic_ms();
}

/* How long pselect may wait (ms), or -1 for as long as it takes: until the
 * back-off ends, or until unlogged refusals are due to be counted. */
static long long wait_limit(const struct server *s)
{
    long long now = monotonic_ms();
    long long limit = -1;

    if (s->backoff_until != 0)
        limit = s->backoff_until > now ? s->backoff_until - now : 0;
    if (s->refusals_unlogged > 0) {
        long long due = s->refusal_logged_at + REFUSAL_LOG_MS - now;
        if (due < 0)
            due = 0;
        if (limit == -1 || due < limit)
            limit = due;
    }
    return limit;
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
    for (int i = 0; i < COUNT(handled_signals); i++) {
        if (sigismember(&pending, handled_signals[i]) == 1) {
            /* Unblocking delivers them before sigprocmask returns. */
            if (sigprocmask(SIG_SETMASK, &s->wait_mask, &blocked) == -1 ||
                sigprocmask(SIG_SETMASK, &blocked, NULL) == -1)
                server_fatal(s, "sigprocmask: %s", strerror(errno));
            return;
        }
    }
}

/* accept(2) failures after which the daemon just goes on: the client is
 * gone (or was never really there), the next one may be fine. */
static bool accept_error_is_transient(int err)
{
    switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM: /* a firewall rule refused it */
    case ETIMEDOUT:
    /* Linux reports the new connection's pending network errors here;
     * accept(2) says to treat them like EAGAIN and retry. */
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
#ifdef EHOSTDOWN
    case EHOSTDOWN:
#endif
#ifdef ENONET
    case ENONET:
#endif
#ifdef ENOSR
    case ENOSR:
#endif
        return true;
    default:
        return false;
    }
}

/* The accepted socket must block (the child's protocol relies on it): BSD
 * and macOS let it inherit O_NONBLOCK from the listening socket. */
static int make_blocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags == -1)
        return -1;
    if ((flags & O_NONBLOCK) == 0)
        return 0;
    return fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

int server_accept(struct server *s, struct sockaddr_in *peer)
{
    socklen_t len = sizeof *peer;
    struct timespec timeout;
    long long limit;
    fd_set readable;
    int client;
    int n;

    log_noted_signals();
    flush_refusals(s, false);
    if (!server_running(s))
        return -1;
    if (s->backoff_until != 0 && monotonic_ms() >= s->backoff_until)
        s->backoff_until = 0; /* the pause is over: try again */
    if (s->backoff_until == 0 && children_reserve() == -1)
        pause_accepting(s, "cannot grow the children table");
    FD_ZERO(&readable);
    if (s->backoff_until == 0)
        FD_SET(s->listen_fd, &readable);
    limit = wait_limit(s);
    timeout.tv_sec = (time_t)(limit / 1000);
    timeout.tv_nsec = (long)(limit % 1000) * 1000000L;
    /* The only place where the daemon's signals are unblocked. */
    n = pselect(s->listen_fd + 1, &readable, NULL, NULL, limit >= 0 ? &timeout : NULL,
                &s->wait_mask);
    if (n == -1) {
        if (errno != EINTR)
            server_fatal(s, "pselect: %s", strerror(errno));
        return -1;
    }
    if (n == 0 || !FD_ISSET(s->listen_fd, &readable))
        return -1; /* a time limit ran out: the loop comes back here */
    deliver_pending_signals(s);
    if (!server_running(s))
        return -1;
    client = accept(s->listen_fd, (struct sockaddr *)peer, &len);
    if (client != -1) {
        if (make_blocking(client) == -1) {
            log_msg(LOG_ERR, "fcntl on a new client: %s", strerror(errno));
            close_checked(client, "client socket");
            return -1;
        }
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
    default:
        if (!accept_error_is_transient(errno))
            server_fatal(s, "accept: %s", strerror(errno));
        return -1;
    }
}

void server_refuse(struct server *s, int client, const char *peer, const char *line,
                   const char *why)
{
    size_t len = strlen(line);
    long long now = monotonic_ms();
    int flags;

    if (s->refusal_logged_at != 0 && now - s->refusal_logged_at < REFUSAL_LOG_MS) {
        s->refusals_unlogged++;
    } else {
        log_msg(LOG_INFO, "refused %s %.*s%s%s%s", peer, (int)strcspn(line, "\n"), line,
                why != NULL ? " (" : "", why != NULL ? why : "", why != NULL ? ")" : "");
        s->refusal_logged_at = now;
    }
    /* Never wait for this client: a fresh socket's send buffer takes a short
     * line whole, and whatever it sent is dropped below. */
    flags = fcntl(client, F_GETFL);
    if (flags == -1 || fcntl(client, F_SETFL, flags | O_NONBLOCK) == -1) {
        log_msg(LOG_ERR, "fcntl on a refused client: %s", strerror(errno));
        close_checked(client, "refused client"); /* no line: better than a blocked parent */
        return;
    }
    if (send(client, line, len, 0) != (ssize_t)len)
        log_msg(LOG_INFO, "refused client did not take the reply: %s", strerror(errno));
    /* FIN after the line, then drop what the client already sent: closing
     * with unread input would send a reset instead of a clean end. */
    if (shutdown(client, SHUT_WR) == 0) {
        char sink[512];
        for (int i = 0; i < 16 && recv(client, sink, sizeof sink, 0) > 0; i++) {
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
    for (int i = 0; i < COUNT(handled_signals); i++) {
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

int server_stop(struct server *s, children_reaped_fn *fn, void *arg)
{
    log_noted_signals();
    flush_refusals(s, true);
    log_msg(LOG_INFO, "shutdown on %s: ending %zu %s", signal_name(stop_signal), children_count(),
            children_count() == 1 ? "child" : "children");
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
