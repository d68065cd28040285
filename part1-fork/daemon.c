/*
 * part1-fork: a daemon that forks one child per connection (PHP Daemon,
 * part I).
 *
 * The parent listens, accepts a client and forks. The child serves that one
 * client with the line protocol (common/protocol.c) and ends with _exit; the
 * parent goes straight back to accept. Daemonizing, the pidfile and the log
 * come from common/server.c.
 *
 * What is wrong with it, on purpose: the parent never waits for a child.
 * A child that ends stays in the process table as a zombie ("Z", <defunct>
 * in ps) holding its pid and exit status until the parent waits for it or
 * exits. Serve a hundred clients and `ps --ppid <pid>` lists a hundred
 * zombies; serve enough and fork fails for everyone on the machine. Part 2
 * (part2-zombies) reaps them.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
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
    .summary = "forks one child per connection and never waits for them (zombies)",
    .default_port = 9001,
    .has_limit = false,
};

static struct options opt;
static struct server srv;

static void serve_in_child(int client, const char *peer);

int main(int argc, char **argv)
{
    int status = options_parse(&opt, &stage, argc, argv);

    if (status != OPTIONS_RUN)
        return status;
    server_start(&srv, &stage, &opt);
    server_ready(&srv);

    while (server_running(&srv)) {
        struct sockaddr_in addr;
        char peer[32];
        int client;

        client = server_accept(&srv, &addr);
        if (client == -1)
            continue;
        net_format_peer(&addr, peer, sizeof peer);
        serve_in_child(client, peer);
    }
    /* Only now, at shutdown, are the children (zombies included) reaped. */
    return server_stop(&srv, NULL, NULL);
}

static void serve_in_child(int client, const char *peer)
{
    struct session session = {stage.name, "", opt.idle_timeout};
    pid_t pid = fork();

    if (pid == -1) {
        log_msg(LOG_ERR, "fork for %s: %s", peer, strerror(errno));
        server_refuse(client, "ERR cannot fork\n");
        return;
    }
    if (pid == 0) {
        server_child_init(&srv);
        _exit(protocol_serve(client, &session));
    }
    /*
     * LESSON: nothing ever waits for this child. When it ends, the kernel
     * keeps its pid and exit status for a wait() that never comes: a zombie,
     * until this process exits. Part 2 adds the wait (a SIGCHLD handler).
     */
    children_add(pid);
    log_msg(LOG_INFO, "accepted %s child pid=%ld", peer, (long)pid);
    close_checked(client, "client socket");
}
