/*
 * util.c: the clock, sleep and write helpers of util.h. They log nothing:
 * a failure goes back to the caller, who knows what it means.
 */
#include "util.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

long long monotonic_ms(void)
{
    struct timespec now;

    /* CLOCK_MONOTONIC cannot fail on a POSIX system that defines it. */
    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void sleep_ms(long ms)
{
    struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&left, &left) == -1 && errno == EINTR) {
        /* a handler ran: sleep what is left */
    }
}

int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
