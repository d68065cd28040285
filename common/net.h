/*
 * net.h: the listening socket and the few socket chores around it.
 */
#ifndef FORKD_NET_H
#define FORKD_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Queue length for connections the parent has not accepted yet. With 5 or 20
 * (the defaults of socat and tcpserver) a burst of 8-32 simultaneous connects
 * overflows the queue, the kernel drops SYNs, and each dropped client waits a
 * full second to retry. The kernel caps it at net.core.somaxconn.
 */
#define LISTEN_BACKLOG 1024

/*
 * An IPv4 TCP socket bound to addr:port and listening, non-blocking (accept
 * returns EAGAIN instead of hanging when a client vanished before the parent
 * got to it). *bound_port receives the real port (useful with port 0).
 * -1 with errno on failure, nothing left open.
 */
int net_listen(const char *addr, unsigned short port, unsigned short *bound_port);

/* "a.b.c.d:port" of an IPv4 peer. */
void net_format_peer(const struct sockaddr_in *peer, char *buf, size_t size);

/* Whether accept(2) failed for this client only (it is gone, or was never
 * really there), so that the daemon just goes on to the next one. */
bool net_accept_error_is_transient(int err);

/* Makes an accepted socket blocking (the child's protocol relies on it).
 * 0, or -1 with errno. */
int net_make_blocking(int fd);

/* What an accepted socket inherits from the listening one, learnt from the
 * first client (all false before it). */
struct net_clients {
    bool known;
    bool need_unblocking; /* O_NONBLOCK inherited (BSD, macOS): cleared on each */
    bool need_timeouts;   /* the timeouts not inherited: set on each */
};

/*
 * Makes an accepted socket what the child's protocol needs: blocking, with
 * the idle timeout (seconds, 0 = none) on its reads and writes. The
 * timeouts are set once, on the listening socket; Linux's accepted sockets
 * inherit them and never O_NONBLOCK, BSD and macOS pass O_NONBLOCK on. The
 * first client shows what this system does (known): later ones get only
 * the calls they need, none on Linux. 0, or -1 with errno.
 */
int net_prepare_client(struct net_clients *known, int client, long timeout);

/* Reads and writes on fd give up after seconds of waiting (SO_RCVTIMEO,
 * SO_SNDTIMEO): the idle timeout. 0, or -1 with errno. */
int net_set_timeouts(int fd, long seconds);

/* Whether fd has those timeouts already (an accepted socket inherits them
 * from the listening one on Linux). 1, 0, or -1 with errno. */
int net_has_timeouts(int fd, long seconds);

#endif
