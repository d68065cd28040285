/*
 * children.h: the parent's table of its children.
 *
 * The parent must know its children by pid: at shutdown it signals each of
 * them (never its process group, which in the foreground is the shell's or
 * the test runner's) and reaps them all. Stages 2-4 also learn here which
 * children their SIGCHLD handler reaped, to log them in the main loop.
 *
 * Concurrency rule: the daemon's signals are blocked everywhere except while
 * server_accept() waits in pselect(2), so the handler that calls
 * children_reaped() never runs at the same time as the other functions.
 */
#ifndef FORKD_CHILDREN_H
#define FORKD_CHILDREN_H

#include <stddef.h>
#include <sys/types.h>

/* Told about each reaped child: its pid and its wait status. */
typedef void children_reaped_fn(pid_t pid, int status, void *arg);

/* Makes room for one more child before fork(). -1 with errno (ENOMEM). */
int children_reserve(void);

/* Records a child fork() just created (room was reserved). */
void children_add(pid_t pid);

/* Children not yet reaped (zombies included). */
size_t children_count(void);

/*
 * Async-signal-safe: records that a SIGCHLD handler reaped pid with status.
 * The table reserves one record per child, so none is ever dropped.
 */
void children_reaped(pid_t pid, int status);

/* Main loop: forgets the children reaped since the last call, telling fn. */
void children_collect(children_reaped_fn *fn, void *arg);

/*
 * Shutdown: SIGTERM to every child, SIGKILL to any still there after
 * grace_ms, and reap them all, telling fn (which may be NULL) of each.
 */
void children_stop_all(long grace_ms, children_reaped_fn *fn, void *arg);

/* A children_reaped_fn that logs how a child ended: "reaped child pid=N exit=S" or
 * "reaped child pid=N signal=S". */
void children_log_reaped(pid_t pid, int status, void *unused);

/* Frees the table (the parent at exit; children simply _exit). */
void children_free(void);

#endif
