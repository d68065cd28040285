/*
 * net.c: the listening socket of net.h, and the chores around accept(2).
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Closes fd and returns -1 with the errno of the failure that led here. */
static int fail_closing(int fd)
{
    int saved = errno;

    (void)close(fd);
    errno = saved;
    return -1;
}

int net_listen(const char *addr, unsigned short port, unsigned short *bound_port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1;
    int flags;
    int fd;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1)
        return -1;
    /* A restarted daemon can bind again while old connections sit in TIME_WAIT. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
        return fail_closing(fd);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
        return fail_closing(fd);
    if (listen(fd, LISTEN_BACKLOG) == -1)
        return fail_closing(fd);
    flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
        return fail_closing(fd);
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
        return fail_closing(fd);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
        return fail_closing(fd);
    *bound_port = ntohs(sa.sin_port);
    return fd;
}

void net_format_peer(const struct sockaddr_in *peer, char *buf, size_t size)
{
    char ip[INET_ADDRSTRLEN];

    if (inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof ip) == NULL)
        (void)snprintf(ip, sizeof ip, "?");
    (void)snprintf(buf, size, "%s:%u", ip, ntohs(peer->sin_port));
}

/* accept(2) failures after which the daemon just goes on: the client is
 * gone (or was never really there), the next one may be fine. */
bool net_accept_error_is_transient(int err)
{
    switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM: /* a firewall rule refused it */
    case ETIMEDOUT:
    /* Linux reports the new connection's pending network errors here;
     * accept(2) says to treat them like EAGAIN and retry. */
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
#ifdef EHOSTDOWN
    case EHOSTDOWN:
#endif
#ifdef ENONET
    case ENONET:
#endif
#ifdef ENOSR
    case ENOSR:
#endif
        return true;
    default:
        return false;
    }
}

/* The accepted socket must block (the child's protocol relies on it): BSD
 * and macOS let it inherit O_NONBLOCK from the listening socket. */
int net_make_blocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags == -1)
        return -1;
    if ((flags & O_NONBLOCK) == 0)
        return 0;
    return fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

int net_set_timeouts(int fd, long seconds)
{
    struct timeval tv = {.tv_sec = (time_t)seconds};

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1)
        return -1;
    return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int net_has_timeouts(int fd, long seconds)
{
    const int options[] = {SO_RCVTIMEO, SO_SNDTIMEO};

    for (int i = 0; i < 2; i++) {
        struct timeval tv;
        socklen_t len = sizeof tv;
        if (getsockopt(fd, SOL_SOCKET, options[i], &tv, &len) == -1)
            return -1;
        if (tv.tv_sec != (time_t)seconds || tv.tv_usec != 0)
            return 0;
    }
    return 1;
}

int net_prepare_client(struct net_clients *known, int client, long timeout)
{
    if (!known->known) {
        int flags = fcntl(client, F_GETFL);
        int inherited = timeout > 0 ? net_has_timeouts(client, timeout) : 1;

        if (flags == -1 || inherited == -1)
            return -1;
        known->need_unblocking = (flags & O_NONBLOCK) != 0;
        known->need_timeouts = !inherited;
        known->known = true;
    }
    if (known->need_unblocking && net_make_blocking(client) == -1)
        return -1;
    if (known->need_timeouts && net_set_timeouts(client, timeout) == -1)
        return -1;
    return 0;
}
