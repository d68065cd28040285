/*
 * counter.h: the active-connection counter of part 4, in a System V shared
 * memory segment, guarded by a System V semaphore used as a lock.
 *
 * The parent creates both objects before it forks anything; children inherit
 * the attached segment and the semaphore id through fork(). Every change to
 * the counter happens under the lock, in whichever process makes it.
 */
#ifndef FORKD_COUNTER_H
#define FORKD_COUNTER_H

#include <sys/types.h>

/* What lives in the shared segment. */
struct counter_shared {
    long active; /* connections being served right now */
};

struct counter {
    int shmid;                     /* the segment, or -1 */
    int semid;                     /* the semaphore set (one semaphore), or -1 */
    struct counter_shared *shared; /* the segment, attached; NULL when not */
    pid_t owner;                   /* the process that created them: the only one to remove them */
    pid_t holder; /* after the owner's lock timed out: who took the lock last, 0 if unknown */
    unsigned gone_before; /* after counter_destroy: COUNTER_SHM_GONE, COUNTER_SEM_GONE */
};

/* Objects counter_destroy found already removed by someone else (ipcrm). */
#define COUNTER_SHM_GONE 1u
#define COUNTER_SEM_GONE 2u

/* The longest the creating process (the parent) waits for the lock. */
#define COUNTER_OWNER_WAIT_MS 500

enum counter_result { COUNTER_ERROR = -1, COUNTER_BUSY = 0, COUNTER_TAKEN = 1 };

/* Creates the segment and the semaphore (IPC_PRIVATE, mode 0600), lock
 * open, counter 0. -1 with errno on failure, with nothing left behind. */
int counter_create(struct counter *c);

/* The lock: semop -1 / +1 with SEM_UNDO, retried on EINTR. -1 with errno.
 * In the creating process, taking it fails with EAGAIN after
 * COUNTER_OWNER_WAIT_MS (c->holder names who holds it). */
int counter_lock(struct counter *c);
int counter_unlock(struct counter *c);

/* Parent, before fork: under the lock, takes a slot if fewer than max are
 * taken. *active gets the count after the call (the new one when taken). */
enum counter_result counter_acquire(struct counter *c, long max, long *active);

/* Under the lock, gives a slot back (never below 0). *active (if not NULL)
 * gets the count after the call. -1 with errno. */
int counter_release(struct counter *c, long *active);

/* Under the lock, reads the count. -1 with errno. */
int counter_read(struct counter *c, long *active);

/* Detaches and removes both objects, if this process created them (a forked
 * child shares the ids, and its atexit handlers, but must never remove
 * anything). Safe to call twice. An object already removed by someone else
 * is no error: c->gone_before says which. -1 with errno if a removal failed. */
int counter_destroy(struct counter *c);

#endif
