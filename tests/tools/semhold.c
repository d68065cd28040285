/*
 * semhold: takes part 4's semaphore (the counter's lock) and stops itself
 * while holding it, as a child stopped by SIGSTOP or a debugger would. To
 * the parent the two are the same: a process that holds the lock and does
 * not run. SEM_UNDO gives the lock back when semhold is killed.
 *
 * usage: semhold SEMID    prints "held" once the lock is taken, then stops
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>

#include "netline.h"

int main(int argc, char **argv)
{
    long semid = argc == 2 ? parse_long(argv[1], 0, 0x7fffffffL) : -1;
    struct sembuf take = {.sem_num = 0, .sem_op = -1, .sem_flg = SEM_UNDO};

    if (semid == -1) {
        (void)fprintf(stderr, "usage: semhold SEMID\n");
        return 2;
    }
    while (semop((int)semid, &take, 1) == -1) {
        if (errno != EINTR) {
            (void)fprintf(stderr, "semhold: semop: %s\n", strerror(errno));
            return 1;
        }
    }
    if (printf("held\n") < 0 || fflush(stdout) != 0)
        return 1;
    for (;;) {
        if (raise(SIGSTOP) != 0) /* continued (SIGCONT)? stop again */
            return 1;
    }
}
