/*
 * part4-shm-semaphore: the active-connection counter in System V shared
 * memory, under a System V semaphore (PHP Daemon, part IV).
 *
 * Part 3 counted with signals and drifted, because signals are not queued.
 * Here the counter lives in a shared memory segment that the parent and all
 * its children see, and a semaphore lets one process at a time change it
 * (counter.c). The parent takes a slot before it forks; the child gives it
 * back before it exits. No signal carries the count any more, so bursts
 * cannot lose an update. Reaping stays as in part 2.
 *
 * A child killed by a signal (kill -9) never gives its slot back: the parent
 * does it for that child when it reaps it. System V objects outlive their
 * creator, so the parent removes both with IPC_RMID when it stops, from an
 * atexit handler that only the creating process may run.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "children.h"
#include "counter.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "protocol.h"
#include "server.h"
#include "util.h"

static const struct stage stage = {
    .name = "part4-shm-semaphore",
    .summary = "limits active connections, counted in System V shared memory under a semaphore",
    .default_port = 9004,
    .has_limit = true,
};

static struct options opt;
static struct server srv;

/* The counter: shared with every child through fork(). */
static struct counter counter = {.shmid = -1, .semid = -1};

static void serve_in_child(int client, const char *peer, long active);
static void on_sigchld(int sig);
static void on_reaped(pid_t pid, int status, void *unused);
static void remove_ipc(void);

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
    if (counter_create(&counter) == -1)
        server_fail(&srv, "cannot create the IPC objects: %s", strerror(errno));
    /* From here on, every exit of this process removes them (children _exit). */
    if (atexit(remove_ipc) != 0) {
        (void)counter_destroy(&counter);
        server_fail(&srv, "atexit: cannot register the IPC cleanup");
    }
    log_msg(LOG_INFO, "ipc shm=%d sem=%d", counter.shmid, counter.semid);
    server_ready(&srv);

    while (server_running(&srv)) {
        struct sockaddr_in addr;
        char peer[32];
        enum counter_result taken;
        long active;
        int client;

        client = server_accept(&srv, &addr);
        /* Before the limit check: a killed child's slot is free again. */
        children_collect(on_reaped, NULL); /* log what on_sigchld reaped */
        if (client == -1)
            continue;
        net_format_peer(&addr, peer, sizeof peer);
        taken = counter_acquire(&counter, opt.max_connections, &active);
        if (taken == COUNTER_ERROR && errno == EAGAIN) {
            /* The lock's holder does not run (stopped, traced): the parent
             * must not stop with it. This client goes; SIGTERM still works. */
            char why[128];
            (void)snprintf(why, sizeof why,
                           "the counter's lock was not free for %d ms, held by pid %ld",
                           COUNTER_OWNER_WAIT_MS, (long)counter.holder);
            server_refuse(&srv, client, peer, "ERR try again later\n", why);
            continue;
        }
        if (taken == COUNTER_ERROR) {
            server_fatal(&srv, "counter: %s", strerror(errno));
            server_refuse(&srv, client, peer, "ERR internal error\n", NULL);
            continue;
        }
        if (taken == COUNTER_BUSY) {
            char busy[64];
            (void)snprintf(busy, sizeof busy, "BUSY active=%ld max=%ld\n", active,
                           opt.max_connections);
            server_refuse(&srv, client, peer, busy, NULL);
            continue;
        }
        serve_in_child(client, peer, active);
    }
    return server_stop(&srv, on_reaped, NULL);
}

static void serve_in_child(int client, const char *peer, long active)
{
    char extra[64];
    struct session session = {stage.name, extra, opt.idle_timeout};
    pid_t pid;

    (void)snprintf(extra, sizeof extra, " active=%ld max=%ld", active, opt.max_connections);
    pid = fork();
    if (pid == -1) {
        if (counter_release(&counter, NULL) == -1) /* no child, no connection to count */
            log_msg(LOG_ERR, "counter: %s", strerror(errno));
        server_refuse(&srv, client, peer, "ERR cannot fork\n", strerror(errno));
        return;
    }
    if (pid == 0) {
        server_child_init(&srv);
        int status = protocol_serve(client, &session);
        /* Give the slot back, under the lock, before leaving. */
        if (counter_release(&counter, NULL) == -1) {
            log_msg(LOG_ERR, "counter: %s", strerror(errno));
            status = 1;
        }
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

/* Main loop, for each reaped child. Not in on_sigchld: semop is not
 * async-signal-safe, and the main loop may be holding the lock. */
static void on_reaped(pid_t pid, int status, void *unused)
{
    long active;

    children_log_reaped(pid, status, unused);
    /*
     * A child killed by a signal never gave its slot back: do it for it.
     * Window left: a SIGKILL that lands after the child's release and before
     * its _exit makes this a second release (one slot too many, until restart).
     */
    if (!WIFSIGNALED(status))
        return;
    /* Stopping: the counter is removed next, there is nothing to give back
     * (and each release could wait on a lock a stopped child holds). */
    if (!server_running(&srv))
        return;
    if (counter_release(&counter, &active) == -1)
        log_msg(LOG_ERR, "counter: the slot of killed child pid=%ld stays taken: %s", (long)pid,
                strerror(errno));
    else
        log_msg(LOG_INFO, "released the slot of killed child pid=%ld: active=%ld", (long)pid,
                active);
}

/* atexit: in the creating process only (counter_destroy checks the pid). */
static void remove_ipc(void)
{
    int shmid = counter.shmid;
    int semid = counter.semid;

    if (counter.owner != getpid() || shmid == -1)
        return;
    if (counter_destroy(&counter) == -1) {
        log_msg(LOG_ERR, "ipc removal: %s", strerror(errno));
        return;
    }
    /* Say so when ipcrm was faster: that is no error of ours. */
    log_msg(LOG_INFO, "ipc removed shm=%d%s sem=%d%s", shmid,
            counter.gone_before & COUNTER_SHM_GONE ? " (already removed by someone else)" : "",
            semid,
            counter.gone_before & COUNTER_SEM_GONE ? " (already removed by someone else)" : "");
}
