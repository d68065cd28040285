/*
 * startup.h: how a SysV daemon starts, step by step as daemon(7) lists it.
 *
 * server_start() (server.c) calls these in order. Each returns 0, or -1
 * with errno set and *what naming the call that failed: the caller says so
 * and stops (server_fail). They report to their caller rather than log: the
 * log is not open yet when most of them run.
 */
#ifndef FORKD_STARTUP_H
#define FORKD_STARTUP_H

/* Before anything else, in the foreground too: descriptors 0-2 open (on
 * /dev/null if the caller closed them), every inherited signal disposition
 * back to its default and the signal mask empty (daemon(7) steps 2 and 3),
 * umask 0 (step 10: the modes the daemon asks for are the modes it gets). */
int startup_reset(const char **what);

/* path made absolute against the current directory (the daemon will chdir
 * to /), in a new string; NULL stays NULL. -1 with errno on failure. */
int startup_absolute_path(const char *path, char **abs, const char **what);

/*
 * Detaches (daemon(7) steps 5 to 9 and 11, then step 1): fork, and the
 * original process becomes the launcher, which waits on a pipe for the
 * daemon's verdict and exits with it (step 15: it never returns here);
 * setsid; fork again, the first child exits; chdir /; every inherited
 * descriptor closed; 0-2 on /dev/null. Returns in the daemon, with
 * *ready_fd the pipe's end on which startup_report() answers the launcher
 * (set as soon as it exists, so that a failure can be reported through it).
 */
int startup_detach(const char *stage_name, int *ready_fd, const char **what);

/*
 * Tells whoever started the daemon how the start went (step 14): status '0'
 * and the "listening on" line, or '1' and the reason. In the background the
 * line goes through the pipe to the launcher, which prints it (stdout for
 * '0', stderr for '1') and exits 0 or 1; the pipe is then closed and
 * *ready_fd is -1. In the foreground (*ready_fd == -1) the line goes to
 * stdout or stderr directly. -1 when the launcher could not be told: it is
 * gone.
 */
int startup_report(int *ready_fd, char status, const char *line);

#endif
