/*
 * util.h: small helpers every other file of common/ uses: a monotonic clock,
 * a sleep that survives signals, a write that finishes what it starts. The
 * bottom of common/: they call nothing else of it, and log nothing.
 */
#ifndef FORKD_UTIL_H
#define FORKD_UTIL_H

#include <stddef.h>

/* Milliseconds on CLOCK_MONOTONIC: for deadlines, never for dates. */
long long monotonic_ms(void);

/* Sleeps ms milliseconds, resuming after a signal handler interrupts it. */
void sleep_ms(long ms);

/* Writes all len bytes (retrying short writes and EINTR). 0, or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);

#endif
