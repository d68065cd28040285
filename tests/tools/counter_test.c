/*
 * counter_test: unit tests of part 4's counter functions
 * (part4-shm-semaphore/counter.c), run by make test.
 *
 * Prints one TAP line per check; exits 1 if any failed. Every System V
 * object it creates is removed before it exits, whatever happens.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counter.h"

static int failures;
static int checks;

static void check(int ok, const char *what)
{
    checks++;
    if (!ok)
        failures++;
    (void)printf("%s %d - %s\n", ok ? "ok" : "not ok", checks, what);
    (void)fflush(stdout);
}

/* A forked child that hangs would hang the suite: end it all after 20 s. */
static void on_alarm(int sig)
{
    static const char msg[] = "not ok - counter_test timed out (a lock stayed taken?)\n";
    (void)sig;
    (void)write(STDOUT_FILENO, msg, sizeof msg - 1);
    _exit(1);
}

static int semaphore_value(const struct counter *c)
{
    return semctl(c->semid, 0, GETVAL);
}

static void test_create(struct counter *c)
{
    struct shmid_ds shm;
    struct semid_ds sem;
    long active = -1;

    check(counter_create(c) == 0, "counter_create succeeds");
    check(c->shmid >= 0 && c->semid >= 0 && c->shared != NULL,
          "it returns both ids and the segment");
    check(shmctl(c->shmid, IPC_STAT, &shm) == 0 && (shm.shm_perm.mode & 0777) == 0600,
          "the segment has mode 0600");
    check(semctl(c->semid, 0, IPC_STAT, &sem) == 0 && (sem.sem_perm.mode & 0777) == 0600,
          "the semaphore set has mode 0600");
    check(semaphore_value(c) == 1, "the lock starts open (1)");
    check(counter_read(c, &active) == 0 && active == 0, "the counter starts at 0");
}

static void test_limit(struct counter *c)
{
    long active = -1;
    int ok = 1;

    for (long i = 1; i <= 3; i++)
        ok &= counter_acquire(c, 3, &active) == COUNTER_TAKEN && active == i;
    check(ok, "acquire takes slots 1, 2, 3 under max 3");
    check(counter_acquire(c, 3, &active) == COUNTER_BUSY && active == 3,
          "the 4th acquire is BUSY and reports 3");
    check(counter_release(c, &active) == 0 && active == 2, "release gives one back (2)");
    check(counter_acquire(c, 3, &active) == COUNTER_TAKEN && active == 3,
          "a freed slot can be taken again");
    for (int i = 0; i < 5; i++)
        (void)counter_release(c, &active);
    check(active == 0, "release never goes below 0");
    check(semaphore_value(c) == 1, "every operation left the lock open");
}

static void test_undo(struct counter *c)
{
    int ready[2];
    char byte;
    pid_t pid;
    int status;

    if (pipe(ready) == -1) {
        check(0, "pipe");
        return;
    }
    pid = fork();
    if (pid == 0) {
        (void)close(ready[0]);
        if (counter_lock(c) == -1)
            _exit(1);
        (void)write(ready[1], "x", 1);
        for (;;)
            pause(); /* hold the lock until killed */
    }
    (void)close(ready[1]);
    check(pid > 0 && read(ready[0], &byte, 1) == 1, "a child takes the lock");
    (void)close(ready[0]);
    check(semaphore_value(c) == 0, "while it holds it, the lock is taken (0)");
    (void)kill(pid, SIGKILL);
    (void)waitpid(pid, &status, 0);
    check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child dies by SIGKILL");
    check(semaphore_value(c) == 1, "SEM_UNDO gave the lock back when it died");
    check(counter_lock(c) == 0 && counter_unlock(c) == 0, "the lock can be taken again");
}

/* Two processes add N each, read-modify-write under the lock: nothing lost. */
static void test_contention(struct counter *c)
{
    enum { N = 20000 };
    long active = -1;
    pid_t pid;
    int status;

    pid = fork();
    if (pid == 0) {
        for (int i = 0; i < N; i++) {
            if (counter_lock(c) == -1)
                _exit(1);
            long v = c->shared->active;
            c->shared->active = v + 1;
            if (counter_unlock(c) == -1)
                _exit(1);
        }
        _exit(0);
    }
    for (int i = 0; i < N; i++) {
        if (counter_acquire(c, 1000000, &active) != COUNTER_TAKEN)
            break;
    }
    (void)waitpid(pid, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the contending child finished");
    check(counter_read(c, &active) == 0 && active == 2L * N,
          "two processes, 20000 increments each, under the lock: 40000");
    while (active > 0)
        (void)counter_release(c, &active);
}

static void test_owner_only(struct counter *c)
{
    struct shmid_ds shm;
    pid_t pid = fork();
    int status;

    if (pid == 0)
        _exit(counter_destroy(c) == 0 && c->shmid != -1 ? 0 : 1);
    (void)waitpid(pid, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "counter_destroy in a child does nothing");
    check(shmctl(c->shmid, IPC_STAT, &shm) == 0 && semaphore_value(c) == 1,
          "both objects survive a child's counter_destroy");
}

static void test_removed_underneath(void)
{
    struct counter c;
    long active;
    int shmid;
    int semid;

    if (counter_create(&c) == -1) {
        check(0, "second counter_create");
        return;
    }
    shmid = c.shmid;
    semid = c.semid;
    check(semctl(semid, 0, IPC_RMID) == 0 && shmctl(shmid, IPC_RMID, NULL) == 0,
          "someone else removes both objects");
    errno = 0;
    check(counter_acquire(&c, 10, &active) == COUNTER_ERROR && (errno == EINVAL || errno == EIDRM),
          "acquire then reports an error (EINVAL/EIDRM), no crash");
    check(counter_release(&c, &active) == -1, "release reports an error");
    check(counter_read(&c, &active) == -1, "read reports an error");
    check(counter_destroy(&c) == 0 && c.gone_before == (COUNTER_SHM_GONE | COUNTER_SEM_GONE),
          "destroy is no error, and says both objects were already gone");
    check(counter_destroy(&c) == 0, "a second destroy is harmless");
}

int main(void)
{
    struct counter c;
    struct shmid_ds shm;
    int shmid;
    int semid;

    if (signal(SIGALRM, on_alarm) == SIG_ERR)
        return 1;
    alarm(20);
    test_create(&c);
    shmid = c.shmid;
    semid = c.semid;
    if (c.shared != NULL) {
        test_limit(&c);
        test_undo(&c);
        test_contention(&c);
        test_owner_only(&c);
    }
    check(counter_destroy(&c) == 0, "counter_destroy by the owner succeeds");
    check(shmctl(shmid, IPC_STAT, &shm) == -1 && semctl(semid, 0, GETVAL) == -1,
          "after it, neither object exists");
    test_removed_underneath();
    (void)printf("1..%d\n", checks);
    return failures == 0 ? 0 : 1;
}
