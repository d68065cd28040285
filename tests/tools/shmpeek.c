/*
 * shmpeek: prints the active-connection count that part 4 keeps in System V
 * shared memory, by attaching the segment read-only. For make watch, and for
 * students who want to look inside: ipcs -m shows the id.
 *
 * usage: shmpeek SHMID    prints the count (a long at offset 0)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "netline.h"

int main(int argc, char **argv)
{
    long shmid = argc == 2 ? parse_long(argv[1], 0, 0x7fffffffL) : -1;
    const long *counter;
    long value;

    if (shmid < 0) {
        (void)fprintf(stderr, "usage: shmpeek SHMID\n");
        return 2;
    }
    counter = shmat((int)shmid, NULL, SHM_RDONLY);
    if (counter == (const void *)-1) { // NOLINT(performance-no-int-to-ptr): shmat's error value
        (void)fprintf(stderr, "shmpeek: shmat %ld: %s\n", shmid, strerror(errno));
        return 1;
    }
    value = *counter;
    if (shmdt(counter) == -1) {
        (void)fprintf(stderr, "shmpeek: shmdt: %s\n", strerror(errno));
        return 1;
    }
    (void)printf("%ld\n", value);
    return 0;
}
