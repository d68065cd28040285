/*
 * pidfile.c: the locked pidfile of pidfile.h.
 *
 * The path may be in a directory other users can write (/tmp): the file is
 * never opened through a symbolic link (another user could point it at a
 * file of ours), must be a regular file (a FIFO planted there must not hang
 * the start) and our own, and is checked again after locking (another
 * instance may have removed and recreated it in between).
 */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

/* Opens the pidfile, or -1 with why filled in. */
static int open_pidfile(const char *path, struct stat *st, char *why, size_t size)
{
    /* O_NONBLOCK: a FIFO planted at the path must not hang the start. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);

    if (fd == -1 && errno == ELOOP) {
        (void)snprintf(why, size, "refusing pidfile %s: it is a symbolic link", path);
        return -1;
    }
    if (fd == -1) {
        (void)snprintf(why, size, "cannot open pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) == -1)
        (void)snprintf(why, size, "cannot stat pidfile %s: %s", path, strerror(errno));
    else if (!S_ISREG(st->st_mode))
        (void)snprintf(why, size, "refusing pidfile %s: not a regular file", path);
    else if (st->st_uid != geteuid())
        (void)snprintf(why, size,
                       "refusing pidfile %s: owned by uid %ld, not by this user (uid %ld)", path,
                       (long)st->st_uid, (long)geteuid());
    else
        return fd;
    (void)close(fd); /* refused: nothing was written to it */
    return -1;
}

/* Takes the write lock on fd, or -1 with why filled in. */
static int lock_whole_file(int fd, const char *path, char *why, size_t size)
{
    struct flock lock;
    int err;
    long holder;

    memset(&lock, 0, sizeof lock);
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &lock) == 0)
        return 0;
    err = errno;
    /* The holder is whoever holds the lock, not what the file says. */
    holder = fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK ? (long)lock.l_pid : -1;
    if ((err == EACCES || err == EAGAIN) && holder > 0)
        (void)snprintf(why, size, "already running: pidfile %s is locked by pid %ld", path, holder);
    else if (err == EACCES || err == EAGAIN)
        (void)snprintf(why, size, "already running: pidfile %s is locked", path);
    else
        (void)snprintf(why, size, "cannot lock pidfile %s: %s", path, strerror(err));
    return -1;
}

int pidfile_lock(const char *path, char *why, size_t size)
{
    struct stat opened;
    struct stat now;
    char text[32];
    int fd;
    int n;

    for (int attempt = 1;; attempt++) {
        fd = open_pidfile(path, &opened, why, size);
        if (fd == -1)
            return -1;
        if (lock_whole_file(fd, path, why, size) == -1) {
            (void)close(fd); /* not ours: left as it was */
            return -1;
        }
        /* The instance we raced with may have removed the file between our
         * open and our lock, and a third may have created a new one: then
         * we hold the lock of a file nobody can see. Try again. */
        if (stat(path, &now) == 0 && now.st_dev == opened.st_dev && now.st_ino == opened.st_ino)
            break;
        (void)close(fd); /* a file nobody can see any more */
        if (attempt == 5) {
            (void)snprintf(why, size, "pidfile %s keeps being replaced: giving up", path);
            return -1;
        }
    }
    /* Locked: any earlier content is a stale instance's, and ours now. */
    n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == -1 || pwrite(fd, text, (size_t)n, 0) != n) {
        (void)snprintf(why, size, "cannot write pidfile %s: %s", path, strerror(errno));
        pidfile_remove(path, fd);
        return -1;
    }
    return fd;
}

void pidfile_remove(const char *path, int fd)
{
    /* Removed while still locked: no second instance can take over a file
     * that is about to vanish under it. */
    if (unlink(path) == -1)
        log_msg(LOG_ERR, "unlink %s: %s", path, strerror(errno));
    close_checked(fd, "pidfile");
}
