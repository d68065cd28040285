/*
 * server.h: the life of a forking daemon, minus the lesson.
 *
 * server_start() parses nothing and decides nothing: it daemonizes (unless
 * -f), sets up the signals, opens the log, locks the pidfile and listens.
 * The stage then installs its own handlers and objects, calls server_ready()
 * (the "listening on" line), and loops on server_accept(). What the stage
 * does with each connection (fork, count, refuse, reap) is the lesson, and
 * stays in its daemon.c.
 *
 * Signals (the contract's table is in README.md):
 *   SIGTERM, SIGINT, SIGHUP, SIGQUIT  stop: children ended by pid, cleanup, exit 0
 *   SIGUSR1, SIGUSR2                  ignored, one log line each; a stage whose
 *                                     lesson uses one installs its own handler
 *                                     over ours (part 3 does, for SIGUSR2)
 *   SIGCHLD                           the stage's handler
 *   SIGPIPE                           ignored: a write to a gone client fails
 *   everything else                   its default, whatever was inherited
 * All but SIGPIPE are blocked for the whole life of the parent, except inside
 * server_accept(): while it waits in pselect(2), and for a moment after
 * pselect found a client already queued (pselect then returns without
 * delivering pending signals). So a handler can only run there, never in the
 * middle of the main loop's work; a signal that arrives just before the wait
 * still ends it (no lost wake-up); and a steady queue of clients never keeps
 * a signal waiting. A signal that arrives twice while blocked is delivered
 * once: that is part 3's lesson, not an accident of this design.
 */
#ifndef FORKD_SERVER_H
#define FORKD_SERVER_H

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>

#include "children.h"
#include "net.h"
#include "options.h"

struct server {
    const struct stage *stage;
    const struct options *opt;
    char *pidfile;  /* absolute path (the daemon chdirs to /), or NULL */
    char *logfile;  /* absolute path, or NULL */
    int pidfile_fd; /* holds the lock while the daemon lives */
    int listen_fd;
    int ready_fd;            /* background: pipe to the waiting launcher, until ready */
    unsigned short port;     /* the port really bound (differs with -p 0) */
    sigset_t wait_mask;      /* the mask inside pselect: our signals unblocked */
    long long backoff_until; /* accept ran out of descriptors or memory: pause until then (ms) */
    bool short_of_resources;
    struct net_clients clients;      /* what accepted sockets inherit here */
    long long refusal_logged_at;     /* monotonic ms of the last refusal line, 0 = none yet */
    unsigned long refusals_unlogged; /* refusals since then, to be counted in the next line */
    int exit_status;
};

/* Everything up to listening. On failure: one line on stderr, exit 1. */
void server_start(struct server *s, const struct stage *stage, const struct options *opt);

/* Announces readiness: "listening on ADDR:PORT pid=PID" on stdout (the
 * launcher's stdout in the background) and a start line in the log. */
void server_ready(struct server *s);

/* A start-up failure: one line on stderr (via the launcher in the
 * background), pidfile removed, exit(1) (atexit handlers run). */
_Noreturn void server_fail(struct server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A runtime failure: logged; the main loop ends and shutdown runs, exit 1. */
void server_fatal(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* False once a stop signal arrived or server_fatal() was called. */
bool server_running(const struct server *s);

/*
 * Waits (signals unblocked) for a client and accepts it. Returns its socket,
 * or -1 when there is nothing to accept yet (a signal ran, the client
 * vanished, or descriptors ran out and the loop must pause): the caller just
 * loops. Also reserves a slot in the children table for the fork to come.
 */
int server_accept(struct server *s, struct sockaddr_in *peer);

/* Sends one line to a client the parent will not serve, and closes it
 * without ever blocking the parent. Logs "refused PEER LINE" (with why, if
 * not NULL), at most one such line a second: a flood of refusals cannot fill
 * the disk; the next line counts the refusals it stands for. */
void server_refuse(struct server *s, int client, const char *peer, const char *line,
                   const char *why);

/* First thing in a forked child: its signals unblocked, the parent's
 * descriptors closed. It keeps the parent's handlers, which act for a
 * child: SIGTERM, SIGINT, SIGHUP and SIGQUIT end it as their defaults
 * would; SIGUSR1, SIGUSR2 and SIGCHLD change nothing it uses. */
void server_child_init(struct server *s);

/* Shutdown: stop accepting, end and reap every child (telling fn), remove
 * the pidfile. Returns the status to exit with. */
int server_stop(struct server *s, children_reaped_fn *fn, void *arg);

#endif
