/*
 * counterbench: what a shared connection counter costs, for each mechanism a
 * student could pick, in nanoseconds per increment + decrement (each under
 * the lock, as in part 4: the parent increments, the child decrements), in
 * one process and with two processes contending. For scale, one fork +
 * _exit + waitpid and one loopback connect + accept + close.
 *
 * Each figure is the median of REPS repetitions, with the lowest and highest
 * beside it. Figures, never verdicts: nothing here can fail a build.
 *
 * usage: counterbench [REPS]    (default 7)
 */
/* MAP_ANONYMOUS is POSIX only since 2024; glibc shows it with this. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

union semun {
    int val;               // cppcheck-suppress unusedStructMember ; set by its initializer
    struct semid_ds *buf;  // cppcheck-suppress unusedStructMember
    unsigned short *array; // cppcheck-suppress unusedStructMember
};

/* Everything the mechanisms share, in one MAP_SHARED page. */
struct shared {
    long counter;
    sem_t sem;
    pthread_mutex_t mutex;
    atomic_long atomic_counter;
};

static struct shared *shm;
static int semid = -1;

static double now_ns(void)
{
    struct timespec t;

    (void)clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    if (semid != -1)
        (void)semctl(semid, 0, IPC_RMID);
    exit(1);
}

static void sysv(short op, short flags)
{
    struct sembuf b = {.sem_num = 0, .sem_op = op, .sem_flg = flags};

    while (semop(semid, &b, 1) == -1) {
        if (errno != EINTR)
            die("semop");
    }
}

/* One increment and one decrement, each under the lock. */
static void pair_sysv_undo(void)
{
    sysv(-1, SEM_UNDO);
    shm->counter++;
    sysv(1, SEM_UNDO);
    sysv(-1, SEM_UNDO);
    shm->counter--;
    sysv(1, SEM_UNDO);
}

static void pair_sysv(void)
{
    sysv(-1, 0);
    shm->counter++;
    sysv(1, 0);
    sysv(-1, 0);
    shm->counter--;
    sysv(1, 0);
}

static void pair_posix_sem(void)
{
    while (sem_wait(&shm->sem) == -1)
        if (errno != EINTR)
            die("sem_wait");
    shm->counter++;
    (void)sem_post(&shm->sem);
    while (sem_wait(&shm->sem) == -1)
        if (errno != EINTR)
            die("sem_wait");
    shm->counter--;
    (void)sem_post(&shm->sem);
}

static void pair_mutex(void)
{
    (void)pthread_mutex_lock(&shm->mutex);
    shm->counter++;
    (void)pthread_mutex_unlock(&shm->mutex);
    (void)pthread_mutex_lock(&shm->mutex);
    shm->counter--;
    (void)pthread_mutex_unlock(&shm->mutex);
}

static void pair_atomic(void)
{
    atomic_fetch_add(&shm->atomic_counter, 1);
    atomic_fetch_sub(&shm->atomic_counter, 1);
}

/* ns per pair, over n pairs, in `procs` processes at once (1 or 2). */
static double time_pairs(void (*pair)(void), long n, int procs)
{
    pid_t other = -1;
    int go[2];
    double t0;
    double t1;
    char byte = 'x';

    if (pipe(go) == -1)
        die("pipe");
    if (procs == 2) {
        other = fork();
        if (other == -1)
            die("fork");
        if (other == 0) {
            if (read(go[0], &byte, 1) != 1)
                _exit(1);
            for (long i = 0; i < n; i++)
                pair();
            _exit(0);
        }
    }
    t0 = now_ns();
    if (procs == 2 && write(go[1], &byte, 1) != 1)
        die("write");
    for (long i = 0; i < n; i++)
        pair();
    if (other > 0 && waitpid(other, NULL, 0) == -1)
        die("waitpid");
    t1 = now_ns();
    (void)close(go[0]);
    (void)close(go[1]);
    return (t1 - t0) / (double)n;
}

static double time_fork(long n)
{
    double t0 = now_ns();

    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == -1)
            die("fork");
        if (pid == 0)
            _exit(0);
        if (waitpid(pid, NULL, 0) == -1)
            die("waitpid");
    }
    return (now_ns() - t0) / (double)n;
}

static double time_connect(long n)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    double t0;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd == -1 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
        bind(lfd, (struct sockaddr *)&sa, sizeof sa) == -1 || listen(lfd, 1024) == -1 ||
        getsockname(lfd, (struct sockaddr *)&sa, &len) == -1)
        die("listen");
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        int s;
        if (c == -1 || connect(c, (struct sockaddr *)&sa, sizeof sa) == -1)
            die("connect");
        s = accept(lfd, NULL, NULL);
        if (s == -1)
            die("accept");
        (void)close(s);
        (void)close(c);
    }
    t0 = (now_ns() - t0) / (double)n;
    (void)close(lfd);
    return t0;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

static void report(const char *name, const char *procs, double *v, int reps, double unit_ns)
{
    qsort(v, (size_t)reps, sizeof *v, compare);
    (void)printf("| %-44s | %-9s | %10.1f | %10.1f | %10.1f |\n", name, procs,
                 v[reps / 2] / unit_ns, v[0] / unit_ns, v[reps - 1] / unit_ns);
}

int main(int argc, char **argv)
{
    struct {
        const char *name;
        void (*pair)(void);
        long n;
    } mech[] = {
        {"System V semop, SEM_UNDO (part 4)", pair_sysv_undo, 200000},
        {"System V semop, no SEM_UNDO", pair_sysv, 200000},
        {"POSIX unnamed semaphore (sem_wait/sem_post)", pair_posix_sem, 2000000},
        {"process-shared pthread mutex", pair_mutex, 2000000},
        {"C11 atomic_fetch_add/sub (no lock)", pair_atomic, 5000000},
    };
    pthread_mutexattr_t ma;
    union semun arg = {.val = 1};
    double v[64];
    int reps = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 7;

    if (reps < 1 || reps > 64)
        reps = 7;
    shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) // NOLINT(performance-no-int-to-ptr): mmap's error value
        die("mmap");
    if (sem_init(&shm->sem, 1, 1) == -1)
        die("sem_init");
    if (pthread_mutexattr_init(&ma) != 0 ||
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) != 0 ||
        pthread_mutex_init(&shm->mutex, &ma) != 0)
        die("pthread_mutex_init");
    atomic_init(&shm->atomic_counter, 0);
    semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (semid == -1 || semctl(semid, 0, SETVAL, arg) == -1)
        die("semget");

    (void)printf("Counter mechanisms: one increment + one decrement, each under the lock "
                 "(median of %d; min, max)\n\n",
                 reps);
    (void)printf("| %-44s | %-9s | %10s | %10s | %10s |\n", "mechanism", "processes", "ns median",
                 "ns min", "ns max");
    (void)printf("| %.44s | %.9s | %.10s | %.10s | %.10s |\n",
                 "--------------------------------------------", "---------", "----------",
                 "----------", "----------");
    for (size_t m = 0; m < sizeof mech / sizeof mech[0]; m++) {
        for (int procs = 1; procs <= 2; procs++) {
            for (int r = 0; r < reps; r++)
                v[r] = time_pairs(mech[m].pair, mech[m].n / procs, procs);
            report(mech[m].name, procs == 1 ? "1" : "2 (both)", v, reps, 1.0);
        }
    }
    (void)printf("\nFor scale (the same units):\n\n");
    for (int r = 0; r < reps; r++)
        v[r] = time_fork(1000);
    report("fork + _exit + waitpid", "1", v, reps, 1.0);
    for (int r = 0; r < reps; r++)
        v[r] = time_connect(3000);
    report("loopback connect + accept + close", "1", v, reps, 1.0);
    if (shm->counter != 0 || atomic_load(&shm->atomic_counter) != 0)
        (void)printf("\nwarning: a counter did not return to 0 (%ld, %ld)\n", shm->counter,
                     atomic_load(&shm->atomic_counter));
    (void)semctl(semid, 0, IPC_RMID);
    return 0;
}
