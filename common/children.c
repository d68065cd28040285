/*
 * children.c: the table of children of children.h.
 *
 * Two arrays of the same capacity: the pids of live children, and the
 * records a SIGCHLD handler leaves for the main loop. A record is written
 * only for a child in the table, so the records can never outnumber the
 * slots, and the handler never allocates or loses one.
 */
#include "children.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>

#include "log.h"
#include "util.h"

struct reaped_child {
    pid_t pid;
    int status;
};

static pid_t *live;
static size_t live_count;
static size_t capacity;
static struct reaped_child *reaped;
static volatile sig_atomic_t reaped_count;

int children_reserve(void)
{
    size_t bigger;
    void *block;

    if (live_count < capacity)
        return 0;
    /* Both arrays in one block: the parent writes them for every child, and
     * while children run each written page costs a copy (copy-on-write). */
    bigger = capacity == 0 ? 64 : capacity * 2;
    block = malloc(bigger * (sizeof *reaped + sizeof *live));
    if (block == NULL)
        return -1;
    if (capacity > 0) {
        memcpy(block, reaped, (size_t)reaped_count * sizeof *reaped);
        memcpy((struct reaped_child *)block + bigger, live, live_count * sizeof *live);
    }
    free(reaped); /* the start of the old block */
    reaped = block;
    live = (pid_t *)(reaped + bigger);
    capacity = bigger;
    return 0;
}

void children_add(pid_t pid)
{
    live[live_count++] = pid;
}

size_t children_count(void)
{
    return live_count;
}

void children_reaped(pid_t pid, int status)
{
    sig_atomic_t n = reaped_count;

    if ((size_t)n < capacity) {
        reaped[n].pid = pid;
        reaped[n].status = status;
        reaped_count = n + 1;
    }
}

/* Removes pid from the live table; the order of the table does not matter. */
static void forget(pid_t pid)
{
    for (size_t i = 0; i < live_count; i++) {
        if (live[i] == pid) {
            live[i] = live[--live_count];
            return;
        }
    }
}

void children_collect(children_reaped_fn *fn, void *arg)
{
    sig_atomic_t n = reaped_count;

    for (sig_atomic_t i = 0; i < n; i++) {
        forget(reaped[i].pid);
        if (fn != NULL)
            fn(reaped[i].pid, reaped[i].status, arg);
    }
    reaped_count = 0;
}

static void signal_all(int sig)
{
    for (size_t i = 0; i < live_count; i++) {
        /* ESRCH cannot happen (an unreaped child, even a zombie, exists). */
        if (kill(live[i], sig) == -1)
            log_msg(LOG_ERR, "kill child pid=%ld: %s", (long)live[i], strerror(errno));
    }
}

/* Reaps one child; blocking or not. 1 reaped, 0 none ready, -1 none left. */
static int reap_one(int options, children_reaped_fn *fn, void *arg)
{
    int status;
    pid_t pid = waitpid(-1, &status, options);

    if (pid > 0) {
        forget(pid);
        if (fn != NULL)
            fn(pid, status, arg);
        return 1;
    }
    if (pid == 0 || errno == EINTR)
        return 0;
    if (errno != ECHILD)
        log_msg(LOG_ERR, "waitpid: %s", strerror(errno));
    live_count = 0; /* no child is left to wait for */
    return -1;
}

void children_stop_all(long grace_ms, children_reaped_fn *fn, void *arg)
{
    long long deadline = monotonic_ms() + grace_ms;

    children_collect(fn, arg);
    signal_all(SIGTERM);
    while (live_count > 0 && monotonic_ms() < deadline) {
        int r = reap_one(WNOHANG, fn, arg);
        if (r == 0)
            sleep_ms(5);
    }
    if (live_count == 0)
        return;
    log_msg(LOG_INFO, "%zu children still running after %ld ms: SIGKILL", live_count, grace_ms);
    signal_all(SIGKILL);
    while (live_count > 0 && reap_one(0, fn, arg) >= 0) {
        /* blocking: every child left has been sent SIGKILL */
    }
}

void children_log_reaped(pid_t pid, int status, void *unused)
{
    (void)unused;
    if (WIFEXITED(status))
        log_msg(LOG_INFO, "reaped child pid=%ld exit=%d", (long)pid, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        log_msg(LOG_INFO, "reaped child pid=%ld signal=%d", (long)pid, WTERMSIG(status));
}

void children_free(void)
{
    free(reaped); /* the block that holds both arrays */
    live = NULL;
    reaped = NULL;
    live_count = capacity = 0;
    reaped_count = 0;
}
