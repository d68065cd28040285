/*
 * part1-fork: a daemon that forks one child per connection (PHP Daemon,
 * part I).
 *
 * The parent listens, accepts a client and forks. The child serves that one
 * client with the line protocol (common/protocol.c) and ends with _exit; the
 * parent goes straight back to accept. Daemonizing, the pidfile and the log
 * come from common/ (startup.c, pidfile.c, log.c).
 *
 * Like the article's PHP, it has a SIGCHLD handler and a waitpid(-1, ...,
 * WNOHANG) loop. What is wrong, on purpose, is *when* that loop runs. PHP
 * runs its signal handlers between statements (declare(ticks=1)): its own
 * C-level handler only notes the signal, and socket_accept, blocked in the
 * kernel, is restarted after it. So the PHP handler's loop runs only once
 * socket_accept returns, that is when the next client arrives. Here
 * on_sigchld only notes the signal too, and the loop runs after
 * server_accept has returned a client. Children that end while the daemon
 * waits stay zombies ("Z", <defunct> in ps), holding their pids, until the
 * next client comes; then they all go at once. Part 2 (part2-zombies) moves
 * the loop into the handler, so no zombie waits for a client.
 */
#include <errno.h>
#include <signal.h>
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
    .name = "part1-fork",
    .summary = "forks one child per connection; reaps only when the next client arrives (zombies)",
    .default_port = 9001,
    .has_limit = false,
};

static struct options opt;
static struct server srv;

/* Set by on_sigchld, read by the main loop: PHP's "a signal is waiting". */
static volatile sig_atomic_t sigchld_arrived;

static void serve_in_child(int client, const char *peer);
static void on_sigchld(int sig);
static void reap_children(void);

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
    server_ready(&srv);

    while (server_running(&srv)) {
        struct sockaddr_in addr;
        char peer[32];
        int client;

        client = server_accept(&srv, &addr);
        if (client == -1)
            continue; /* a signal ended the wait: wait again, like a restarted socket_accept */
        /*
         * LESSON: only now, with a client accepted, does the SIGCHLD work run,
         * as PHP dispatches its handler after socket_accept returns. Every
         * child that ended while we waited was a zombie until this moment.
         * Part 2 reaps inside the handler, at once.
         */
        if (sigchld_arrived)
            reap_children();
        net_format_peer(&addr, peer, sizeof peer);
        serve_in_child(client, peer);
    }
    return server_stop(&srv, children_log_reaped, NULL);
}

static void serve_in_child(int client, const char *peer)
{
    struct session session = {stage.name, "", opt.idle_timeout};
    pid_t pid = fork();

    if (pid == -1) {
        server_refuse(&srv, client, peer, "ERR cannot fork\n", strerror(errno));
        return;
    }
    if (pid == 0) {
        server_child_init(&srv);
        _exit(protocol_serve(client, &session));
    }
    children_add(pid);
    log_msg(LOG_INFO, "accepted %s child pid=%ld", peer, (long)pid);
    close_checked(client, "client socket");
}

static void on_sigchld(int sig)
{
    (void)sig;
    sigchld_arrived = 1; /* only noted: the work waits for the next client */
}

/* Main loop: the PHP handler's work, run late. */
static void reap_children(void)
{
    int status;
    pid_t pid;

    sigchld_arrived = 0;
    /*
     * One SIGCHLD may stand for many ended children: signals are not queued,
     * so all the children that end while one SIGCHLD is pending produce only
     * that one. Wait until no ended child is left; WNOHANG returns 0 instead
     * of blocking when the remaining children are still running.
     */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        children_reaped(pid, status);
    children_collect(children_log_reaped, NULL); /* forget them, log each */
}
