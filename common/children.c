/*
 * children.c: the table of children of children.h.
 *
 * Two arrays of the same capacity: the pids of live children, and the
 * records a SIGCHLD handler leaves for the main loop. A record is written
 * only for a child in the table, so the records can never outnumber the
 * slots, and the handler never allocates or loses one.
 *
 * The table, its counts included, is in memory of its own. The parent
 * writes it for every child, and after fork every page the parent writes
 * while a child still shares it is copied first (copy-on-write): a fault
 * and 4 kB copied, per page, per connection. On Linux the block is not
 * inherited at all (MADV_DONTFORK): a child never has it, so the parent's
 * writes copy nothing (measured: 2 page faults per connection fewer). A
 * child must therefore never call these functions; none does.
 */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS and madvise(2)'s MADV_DONTFORK */
#endif
#include "children.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <syslog.h>

#include "log.h"
#include "util.h"

struct reaped_child {
    pid_t pid;
    int status;
};

struct table {
    size_t size;     /* bytes mapped, this header included */
    size_t capacity; /* of each array */
    size_t live_count;
    volatile sig_atomic_t reaped_count;
    struct reaped_child *reaped; /* the two arrays follow the header */
    pid_t *live;
};

/* Until the first children_reserve: an empty table, capacity 0. */
static struct table no_table;
static struct table *table = &no_table;

/* A new, empty table of capacity slots; NULL with errno. */
static struct table *table_map(size_t capacity)
{
    size_t size = sizeof *table + capacity * (sizeof *table->reaped + sizeof *table->live);
    struct table *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (m == MAP_FAILED)
        return NULL;
#ifdef MADV_DONTFORK
    /* If the kernel refuses, children inherit it: only slower. */
    (void)madvise(m, size, MADV_DONTFORK);
#endif
    m->size = size;
    m->capacity = capacity;
    m->reaped = (struct reaped_child *)(m + 1);
    m->live = (pid_t *)(m->reaped + capacity);
    return m;
}

static void table_unmap(struct table *old)
{
    if (old != &no_table && munmap(old, old->size) == -1)
        log_msg(LOG_ERR, "munmap children table: %s", strerror(errno));
}

int children_reserve(void)
{
    struct table *bigger;

    if (table->live_count < table->capacity)
        return 0;
    bigger = table_map(table->capacity == 0 ? 64 : table->capacity * 2);
    if (bigger == NULL)
        return -1;
    /* The first table has nothing to copy (and memcpy from no_table's NULL
     * arrays would be undefined, even of 0 bytes). */
    if (table != &no_table) {
        bigger->live_count = table->live_count;
        bigger->reaped_count = table->reaped_count;
        memcpy(bigger->reaped, table->reaped, (size_t)table->reaped_count * sizeof *table->reaped);
        memcpy(bigger->live, table->live, table->live_count * sizeof *table->live);
        table_unmap(table);
    }
    table = bigger;
    return 0;
}

void children_add(pid_t pid)
{
    table->live[table->live_count++] = pid;
}

size_t children_count(void)
{
    return table->live_count;
}

void children_reaped(pid_t pid, int status)
{
    sig_atomic_t n = table->reaped_count;

    if ((size_t)n < table->capacity) {
        table->reaped[n].pid = pid;
        table->reaped[n].status = status;
        table->reaped_count = n + 1;
    }
}

/* Removes pid from the live table; the order of the table does not matter. */
static void forget(pid_t pid)
{
    for (size_t i = 0; i < table->live_count; i++) {
        if (table->live[i] == pid) {
            table->live[i] = table->live[--table->live_count];
            return;
        }
    }
}

void children_collect(children_reaped_fn *fn, void *arg)
{
    sig_atomic_t n = table->reaped_count;

    for (sig_atomic_t i = 0; i < n; i++) {
        forget(table->reaped[i].pid);
        if (fn != NULL)
            fn(table->reaped[i].pid, table->reaped[i].status, arg);
    }
    table->reaped_count = 0;
}

static void signal_all(int sig)
{
    for (size_t i = 0; i < table->live_count; i++) {
        /* ESRCH cannot happen (an unreaped child, even a zombie, exists). */
        if (kill(table->live[i], sig) == -1)
            log_msg(LOG_ERR, "kill child pid=%ld: %s", (long)table->live[i], strerror(errno));
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
    table->live_count = 0; /* no child is left to wait for */
    return -1;
}

void children_stop_all(long grace_ms, children_reaped_fn *fn, void *arg)
{
    long long deadline = monotonic_ms() + grace_ms;

    children_collect(fn, arg);
    signal_all(SIGTERM);
    while (table->live_count > 0 && monotonic_ms() < deadline) {
        int r = reap_one(WNOHANG, fn, arg);
        if (r == 0)
            sleep_ms(5);
    }
    if (table->live_count == 0)
        return;
    log_msg(LOG_INFO, "%zu children still running after %ld ms: SIGKILL", table->live_count,
            grace_ms);
    signal_all(SIGKILL);
    while (table->live_count > 0 && reap_one(0, fn, arg) >= 0) {
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
    table_unmap(table);
    table = &no_table;
}
