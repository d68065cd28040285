/*
 * part2-zombies: the forking daemon of part 1, now reaping its children
 * (PHP Daemon, part II).
 *
 * Part 1 reaped only when the next client arrived: its SIGCHLD handler just
 * noted the signal, and the waitpid loop ran after accept returned, so every
 * child that ended while the daemon waited stayed a zombie. Here the loop
 * moves into the handler itself: the kernel sends SIGCHLD when a child ends,
 * and the handler collects the exit status of every child that has ended
 * with waitpid(-1, ..., WNOHANG), at once, client or no client. (The article
 * ignores SIGCHLD instead; the README compares the two ways.)
 *
 * Why a loop: standard signals are not queued. If twenty children end while
 * SIGCHLD is already pending (the parent is busy, stopped, or in the handler)
 * the kernel delivers one SIGCHLD, not twenty. A handler that waits once per
 * signal leaves nineteen zombies; the loop leaves none.
 *
 * The handler only reaps and records (async-signal-safe work); the main loop
 * logs each reaped child. Next, part 3 counts active connections, with
 * signals.
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
    .name = "part2-zombies",
    .summary = "forks one child per connection and reaps them with a SIGCHLD handler",
    .default_port = 9002,
    .has_limit = false,
};

static struct options opt;
static struct server srv;

static void serve_in_child(int client, const char *peer);
static void on_sigchld(int sig);

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
        children_collect(children_log_reaped, NULL); /* log what on_sigchld reaped */
        if (client == -1)
            continue;
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
