/*
 * part3-signals-bug: a limit on simultaneous connections, counted with
 * signals, and the bug that comes with it (PHP Daemon, part II's counter,
 * whose bug part IV describes).
 *
 * The parent counts active connections: +1 when it forks a child for a
 * client, -1 when a child reports, with kill(parent, SIGUSR2), that its
 * client is done. At the limit (-m, default 10) the parent answers
 * "BUSY active=<n> max=<m>" and forks nothing. Reaping stays as in part 2.
 *
 * What is wrong with it, on purpose: standard signals are not queued. When
 * several children end while a SIGUSR2 is already pending, the kernel keeps
 * one, the handler runs once, and the counter goes down by one instead of
 * by several. It drifts upward with every such burst, until the daemon
 * answers BUSY while a single client is connected; a child killed with
 * SIGKILL never reports at all, and those leaks bring it to BUSY with nobody
 * connected. Part 4 moves the counter into shared memory.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "children.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "protocol.h"
#include "server.h"
#include "util.h"

static const struct stage stage = {
    .name = "part3-signals-bug",
    .summary = "limits active connections, counted with SIGUSR2 from each child (drifts)",
    .default_port = 9003,
    .has_limit = true,
};

static struct options opt;
static struct server srv;

/* Changed by the main loop (+1) and by on_sigusr2 (-1), which only runs
 * inside server_accept's pselect: the two never interleave. */
static volatile sig_atomic_t active_connections;
static volatile sig_atomic_t sigusr2_arrived;

static void serve_in_child(int client, const char *peer, long active);
static void on_sigchld(int sig);
static void on_sigusr2(int sig);

int main(int argc, char **argv)
{
    struct sigaction sa;
    int status = options_parse(&opt, &stage, argc, argv);

    if (status != OPTIONS_RUN)
        return status;
    server_start(&srv, &stage, &opt);

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_NOCLDSTOP; /* a stopped child has not ended */
    if (sigaction(SIGCHLD, &sa, NULL) == -1)
        server_fail(&srv, "sigaction SIGCHLD: %s", strerror(errno));
    sa.sa_handler = on_sigusr2;
    sa.sa_flags = 0;
    if (sigaction(SIGUSR2, &sa, NULL) == -1)
        server_fail(&srv, "sigaction SIGUSR2: %s", strerror(errno));
    server_ready(&srv);

    while (server_running(&srv)) {
        struct sockaddr_in addr;
        char peer[32];
        int client;

        client = server_accept(&srv, &addr);
        children_collect(children_log_reaped, NULL); /* log what on_sigchld reaped */
        if (sigusr2_arrived) {
            sigusr2_arrived = 0;
            log_msg(LOG_INFO, "SIGUSR2 received: active=%d", (int)active_connections);
        }
        if (client == -1)
            continue;
        net_format_peer(&addr, peer, sizeof peer);
        if (active_connections >= opt.max_connections) {
            char busy[64];
            (void)snprintf(busy, sizeof busy, "BUSY active=%d max=%ld\n", (int)active_connections,
                           opt.max_connections);
            server_refuse(&srv, client, peer, busy, NULL);
            continue;
        }
        active_connections++;
        serve_in_child(client, peer, active_connections);
    }
    return server_stop(&srv, children_log_reaped, NULL);
}

static void serve_in_child(int client, const char *peer, long active)
{
    char extra[64];
    struct session session = {stage.name, extra, opt.idle_timeout};
    pid_t parent = getpid();
    pid_t pid;

    (void)snprintf(extra, sizeof extra, " active=%ld max=%ld", active, opt.max_connections);
    pid = fork();
    if (pid == -1) {
        active_connections--; /* no child, no connection to count */
        server_refuse(&srv, client, peer, "ERR cannot fork\n", strerror(errno));
        return;
    }
    if (pid == 0) {
        server_child_init(&srv);
        int status = protocol_serve(client, &session);
        /*
         * Tell the parent this connection is over. If the parent has died,
         * getppid() names init or a subreaper, which must not get our signal.
         */
        if (getppid() == parent && kill(parent, SIGUSR2) == -1)
            log_msg(LOG_ERR, "kill parent SIGUSR2: %s", strerror(errno));
        _exit(status);
    }
    children_add(pid);
    log_msg(LOG_INFO, "accepted %s child pid=%ld active=%ld max=%ld", peer, (long)pid, active,
            opt.max_connections);
    close_checked(client, "client socket");
}

static void on_sigchld(int sig)
{
    int saved_errno = errno; /* the interrupted code may be about to read errno */
    int status;
    pid_t pid;

    (void)sig;
    /*
     * One SIGCHLD may stand for many ended children: signals are not queued,
     * so all the children that end while one SIGCHLD is pending produce only
     * that one. Wait until no ended child is left; WNOHANG returns 0 instead
     * of blocking when the remaining children are still running.
     */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        children_reaped(pid, status); /* async-signal-safe: a note for the main loop */
    errno = saved_errno;
}

static void on_sigusr2(int sig)
{
    (void)sig;
    /*
     * BUG (deliberate, fixed in part 4): this runs once per signal delivered,
     * not once per signal sent. SIGUSR2s sent while one is pending merge into
     * it, so children ending together decrement once and the count drifts up.
     */
    if (active_connections > 0) /* a stray SIGUSR2 must not make it negative */
        active_connections--;
    sigusr2_arrived = 1;
}
