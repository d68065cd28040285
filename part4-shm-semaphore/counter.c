/*
 * counter.c: the shared counter of counter.h (PHP Daemon, part IV).
 *
 * The article's scheme, step by step, in the System V calls that PHP's
 * shm_* and sem_* functions make:
 *   shmget + shmat     a segment that parent and children all see
 *   semget + SETVAL 1  a semaphore used as a lock, open
 *   semop -1           take the lock (wait while another process holds it)
 *   change the count
 *   semop +1           give the lock back
 *   IPC_RMID           remove them at shutdown: System V objects outlive
 *                      the processes that made them, until removed or reboot.
 *                      The article removes the segment only; here both go.
 *
 * What PHP's sem_acquire does unasked, and C must write out:
 *   SEM_UNDO  the kernel reverts a process's semop when it dies, so a child
 *             killed while holding the lock does not leave it locked.
 *   EINTR     semop is never restarted after a signal handler ran, whatever
 *             SA_RESTART says: the caller must retry.
 * And one detail neither handles there:
 *   time      a child stopped (SIGSTOP, a debugger) while it holds the lock
 *             would stop the parent too, and with it every client and even
 *             SIGTERM. The parent waits at most COUNTER_OWNER_WAIT_MS;
 *             children, who serve one client each, wait as long as it takes.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* semtimedop(2), Linux's bounded semop */
#endif
#include "counter.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

/* semctl(2): "the calling program must define this union". */
union semun {
    int val;
    struct semid_ds *buf;  // cppcheck-suppress unusedStructMember ; the kernel's layout
    unsigned short *array; // cppcheck-suppress unusedStructMember
};

int counter_create(struct counter *c)
{
    union semun arg;
    void *at;

    c->owner = getpid();
    c->shared = NULL;
    c->semid = -1;
    /* IPC_PRIVATE: a fresh object no other daemon can stumble on by key;
     * the children know its id because they are forked after this. */
    c->shmid = shmget(IPC_PRIVATE, sizeof *c->shared, IPC_CREAT | 0600);
    if (c->shmid == -1)
        return -1;
    at = shmat(c->shmid, NULL, 0);
    if (at == (void *)-1) // NOLINT(performance-no-int-to-ptr): shmat's error value
        goto fail;
    c->shared = at; /* a new segment is zero-filled: active starts at 0 */
    c->semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (c->semid == -1)
        goto fail;
    arg.val = 1; /* 1 = open; a process that takes it brings it to 0 */
    if (semctl(c->semid, 0, SETVAL, arg) == -1)
        goto fail;
    return 0;
fail : {
    int saved = errno;
    (void)counter_destroy(c);
    errno = saved;
    return -1;
}
}

static long long monotonic_ms(void)
{
    struct timespec now;

    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* semop that gives up after a deadline: -1 with EAGAIN. */
static int semop_until(int semid, struct sembuf *op, long long deadline)
{
    for (;;) {
        long long left = deadline - monotonic_ms();
        if (left <= 0) {
            errno = EAGAIN;
            return -1;
        }
#ifdef __linux__
        struct timespec wait = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
        if (semtimedop(semid, op, 1, &wait) == 0)
            return 0;
        if (errno != EINTR && errno != EAGAIN)
            return -1;
#else
        /* No semtimedop: try without waiting, and again in a millisecond. */
        struct timespec ms = {0, 1000000L};
        op->sem_flg |= IPC_NOWAIT;
        if (semop(semid, op, 1) == 0)
            return 0;
        if (errno != EINTR && errno != EAGAIN)
            return -1;
        (void)nanosleep(&ms, NULL);
#endif
    }
}

static int change_semaphore(struct counter *c, short delta)
{
    struct sembuf op = {.sem_num = 0, .sem_op = delta, .sem_flg = SEM_UNDO};

    /* Taking the lock in the parent: bounded. (+1 never waits.) */
    if (delta < 0 && getpid() == c->owner) {
        if (semop_until(c->semid, &op, monotonic_ms() + COUNTER_OWNER_WAIT_MS) == 0)
            return 0;
        if (errno == EAGAIN) {
            union semun none = {.val = 0};
            int holder = semctl(c->semid, 0, GETPID, none); /* the last to take it */
            c->holder = holder > 0 ? (pid_t)holder : 0;
            errno = EAGAIN;
        }
        return -1;
    }
    while (semop(c->semid, &op, 1) == -1) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

int counter_lock(struct counter *c)
{
    return change_semaphore(c, -1);
}

int counter_unlock(struct counter *c)
{
    return change_semaphore(c, +1);
}

enum counter_result counter_acquire(struct counter *c, long max, long *active)
{
    bool busy;

    if (counter_lock(c) == -1)
        return COUNTER_ERROR;
    busy = c->shared->active >= max;
    if (!busy)
        c->shared->active++;
    *active = c->shared->active;
    if (counter_unlock(c) == -1)
        return COUNTER_ERROR;
    return busy ? COUNTER_BUSY : COUNTER_TAKEN;
}

int counter_release(struct counter *c, long *active)
{
    long now;

    if (counter_lock(c) == -1)
        return -1;
    if (c->shared->active > 0)
        c->shared->active--;
    now = c->shared->active;
    if (counter_unlock(c) == -1)
        return -1;
    if (active != NULL)
        *active = now;
    return 0;
}

int counter_read(struct counter *c, long *active)
{
    long now;

    if (counter_lock(c) == -1)
        return -1;
    now = c->shared->active;
    if (counter_unlock(c) == -1)
        return -1;
    *active = now;
    return 0;
}

/* IPC_RMID's answer when the object no longer exists: removed by someone
 * else (ipcrm), and for a segment, freed when we detached it. */
static bool already_gone(int err)
{
    return err == EINVAL || err == EIDRM;
}

int counter_destroy(struct counter *c)
{
    int result = 0;
    int first_error = 0;

    if (c->owner != getpid())
        return 0;
    c->gone_before = 0;
    if (c->shared != NULL && shmdt(c->shared) == -1) {
        first_error = errno;
        result = -1;
    }
    /* The segment is freed when its last process detaches: our children
     * are reaped by now, so this frees it at once. */
    if (c->shmid != -1 && shmctl(c->shmid, IPC_RMID, NULL) == -1) {
        if (already_gone(errno)) {
            c->gone_before |= COUNTER_SHM_GONE;
        } else if (result == 0) {
            first_error = errno;
            result = -1;
        }
    }
    if (c->semid != -1 && semctl(c->semid, 0, IPC_RMID) == -1) {
        if (already_gone(errno)) {
            c->gone_before |= COUNTER_SEM_GONE;
        } else if (result == 0) {
            first_error = errno;
            result = -1;
        }
    }
    c->shared = NULL;
    c->shmid = c->semid = -1;
    errno = first_error;
    return result;
}
