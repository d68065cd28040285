/*
 * floor: the least work a fork-per-connection server can do, as the
 * baseline of make bench. Accept, fork; the child greets, answers one line
 * (PONG to PING) and exits; a SIGCHLD handler reaps with a waitpid loop. No
 * daemonizing, no log, no limit, no timeout: every stage does at least this,
 * so each stage's rate divided by this one's is what its extra work costs.
 *
 * usage: floor PORT    prints "listening on 127.0.0.1:PORT pid=PID" when ready
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_sigchld(int sig)
{
    int saved = errno;

    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
        /* reap all */
    }
    errno = saved;
}

static void serve(int fd)
{
    static const char greeting[] = "HELLO floor\n";
    char line[128];
    ssize_t n;

    if (write(fd, greeting, sizeof greeting - 1) != (ssize_t)sizeof greeting - 1)
        _exit(1);
    n = read(fd, line, sizeof line);
    if (n >= 4 && memcmp(line, "PING", 4) == 0 && write(fd, "PONG\n", 5) != 5)
        _exit(1);
    _exit(0);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    struct sigaction act;
    socklen_t len = sizeof sa;
    int one = 1;
    int fd;

    if (argc != 2) {
        (void)fprintf(stderr, "usage: floor PORT\n");
        return 2;
    }
    memset(&act, 0, sizeof act);
    act.sa_handler = on_sigchld;
    act.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)strtol(argv[1], NULL, 10));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1 || sigaction(SIGCHLD, &act, NULL) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 || listen(fd, 1024) == -1 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
        perror("floor");
        return 1;
    }
    (void)printf("listening on 127.0.0.1:%u pid=%ld\n", ntohs(sa.sin_port), (long)getpid());
    (void)fflush(stdout);
    for (;;) {
        int client = accept(fd, NULL, NULL);
        pid_t pid;

        if (client == -1)
            continue;
        pid = fork();
        if (pid == 0) {
            (void)close(fd);
            serve(client);
        }
        (void)close(client);
    }
}
