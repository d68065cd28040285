/*
 * childwatch: samples, every millisecond until SIGTERM, how many children of
 * a process are serving a client and how many are zombies, and reports the
 * most of each seen at once.
 *
 * "Serving" means holding at least one socket: a child that has closed its
 * client and is on its way out no longer counts, nor does a zombie. For a
 * daemon with a connection limit, the count must never exceed the limit. A
 * daemon that reaps must keep its zombies few, even under steady load.
 *
 * usage: childwatch PID    prints "max=N zombies_max=Z samples=S" on SIGTERM
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netline.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int holds_socket(pid_t pid)
{
    char path[64];
    char target[64];
    struct dirent *e;
    DIR *dir;
    int found = 0;

    (void)snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    dir = opendir(path);
    if (dir == NULL)
        return 0; /* gone, or a zombie */
    while (!found && (e = readdir(dir)) != NULL) {
        char link[64 + 256 + 2];
        ssize_t n;
        if (e->d_name[0] == '.')
            continue;
        (void)snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            found = strncmp(target, "socket:", 7) == 0;
        }
    }
    (void)closedir(dir);
    return found;
}

int main(int argc, char **argv)
{
    struct timespec tick = {.tv_sec = 0, .tv_nsec = 1000000};
    struct sigaction sa;
    pid_t kids[4096];
    long samples = 0;
    int max = 0;
    int zombies_max = 0;
    pid_t parent;

    if (argc != 2 || (parent = (pid_t)parse_long(argv[1], 1, 1L << 30)) <= 0) {
        (void)fprintf(stderr, "usage: childwatch PID\n");
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    if (sigaction(SIGTERM, &sa, NULL) == -1) {
        perror("childwatch: sigaction");
        return 2;
    }
    while (!stop) {
        int n = list_children(parent, kids, 4096);
        int serving = 0;
        int zombies = 0;
        if (n < 0)
            break; /* the parent is gone */
        for (int i = 0; i < n; i++) {
            serving += holds_socket(kids[i]);
            zombies += is_zombie(kids[i]);
        }
        if (serving > max)
            max = serving;
        if (zombies > zombies_max)
            zombies_max = zombies;
        samples++;
        (void)nanosleep(&tick, NULL);
    }
    (void)printf("max=%d zombies_max=%d samples=%ld\n", max, zombies_max, samples);
    return 0;
}
