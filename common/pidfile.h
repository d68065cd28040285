/*
 * pidfile.h: the locked pidfile (daemon(7) step 12), the answer to part I's
 * wish for one instance at a time.
 *
 * The file holds the daemon's pid, and an fcntl(2) write lock held for the
 * daemon's whole life says whether that pid is alive: the kernel drops the
 * lock when the process dies, however it dies, so a stale file (a daemon
 * killed with -9) is taken over, and a live one is refused with its
 * holder's pid, read from the lock and not from the file.
 */
#ifndef FORKD_PIDFILE_H
#define FORKD_PIDFILE_H

#include <stddef.h>

/* Opens path (absolute), locks it and writes our pid. Returns the
 * descriptor, which holds the lock while it stays open; or -1 with why (a
 * sentence without the stage's name) filled in. */
int pidfile_lock(const char *path, char *why, size_t size);

/* At shutdown: removes the file, then gives up the lock. */
void pidfile_remove(const char *path, int fd);

#endif
