/*
 * server.c: what a stage's main loop calls (server.h): the start in order
 * (startup.c's daemon(7) steps, the signals, the log, pidfile.c, the
 * listening socket), readiness, the wait for a client with its signal
 * window, refusing a client, a child's first step, and the stop.
 *
 * The signals are the heart of it: the parent blocks its own for its whole
 * life and unblocks them only while it waits in pselect(2) (server.h says
 * why), so a handler never runs in the middle of the main loop's work.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "pidfile.h"
#include "startup.h"
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
/* Set by server_child_init in a forked child, before it unblocks signals. */
static volatile sig_atomic_t in_child;

static void on_stop(int sig)
{
    if (in_child) {
        /* A child keeps the parent's handlers (putting back seven defaults
         * would cost seven system calls per connection). A stop signal
         * must still end it, as the default action would: the parent's
         * SIGTERM at shutdown, a Ctrl-C in the foreground. */
        struct sigaction dfl = {.sa_handler = SIG_DFL};

        (void)sigemptyset(&dfl.sa_mask);
        (void)sigaction(sig, &dfl, NULL);
        (void)raise(sig); /* delivered, and fatal, as this handler returns */
        return;
    }
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
    static const struct {
        int sig;
        const char *name;
    } names[] = {{SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"},   {SIGHUP, "SIGHUP"},
                 {SIGQUIT, "SIGQUIT"}, {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"}};

    for (int i = 0; i < COUNT(names); i++) {
        if (names[i].sig == sig)
            return names[i].name;
    }
    return "a fatal error"; /* no signal: server_fatal() ended the loop */
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
    (void)startup_report(&s->ready_fd, '1', line); /* a launcher that is gone has nobody to tell */
    if (s->pidfile_fd != -1)
        pidfile_remove(s->pidfile, s->pidfile_fd);
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

void server_start(struct server *s, const struct stage *stage, const struct options *opt)
{
    const char *what = "";

    *s = (struct server){
        .stage = stage,
        .opt = opt,
        .pidfile_fd = -1,
        .listen_fd = -1,
        .ready_fd = -1,
    };
    if (startup_reset(&what) == -1 ||
        startup_absolute_path(opt->pidfile, &s->pidfile, &what) == -1 ||
        startup_absolute_path(opt->logfile, &s->logfile, &what) == -1)
        server_fail(s, "%s: %s", what, strerror(errno));
    if (!opt->foreground && startup_detach(stage->name, &s->ready_fd, &what) == -1)
        server_fail(s, "%s: %s", what, strerror(errno));
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
    if (s->pidfile != NULL) {
        char why[512];
        s->pidfile_fd = pidfile_lock(s->pidfile, why, sizeof why);
        if (s->pidfile_fd == -1)
            server_fail(s, "%s", why);
    }
    s->listen_fd = net_listen(opt->bind_addr, opt->port, &s->port);
    if (s->listen_fd == -1)
        server_fail(s, "cannot listen on %s:%u: %s", opt->bind_addr, opt->port, strerror(errno));
    if (s->listen_fd >= FD_SETSIZE)
        server_fail(s, "listening socket is descriptor %d, beyond FD_SETSIZE", s->listen_fd);
    /* Once here rather than on every client: see net_prepare_client. */
    if (opt->idle_timeout > 0 && net_set_timeouts(s->listen_fd, opt->idle_timeout) == -1)
        server_fail(s, "cannot set the idle timeout on the listening socket: %s", strerror(errno));
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
    if (startup_report(&s->ready_fd, '0', line) == -1)
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
        if (net_prepare_client(&s->clients, client, s->opt->idle_timeout) == -1) {
            log_msg(LOG_ERR, "setting up a new client: %s", strerror(errno));
            close_checked(client, "client socket");
            return -1;
        }
        /* Written only when it changes: a write to a page a child shares
         * costs the parent a copy of it. */
        if (s->short_of_resources) {
            log_msg(LOG_INFO, "accepting again");
            s->short_of_resources = false;
        }
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
        if (!net_accept_error_is_transient(errno))
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
    /* The handlers stay the parent's (on_stop ends a child); the child's
     * signals were blocked since fork, so none has run before this. */
    in_child = 1;
    log_forked();
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
        pidfile_remove(s->pidfile, s->pidfile_fd);
        s->pidfile_fd = -1;
    }
    log_msg(LOG_INFO, "stopped");
    free(s->pidfile);
    free(s->logfile);
    s->pidfile = s->logfile = NULL;
    return s->exit_status;
}
