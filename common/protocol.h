/*
 * protocol.h: the line protocol a child speaks with its one client
 * (SPEC.md, "The line protocol"). Identical in every stage: the stages
 * differ in how the parent manages children, never in what a child says.
 */
#ifndef FORKD_PROTOCOL_H
#define FORKD_PROTOCOL_H

/* Longest line accepted, not counting its "\n" or "\r\n". */
#define LINE_MAX_BYTES 1024

/* Longest SLEEP, in milliseconds. */
#define SLEEP_MAX_MS 60000

/* How long a closing child keeps reading (and dropping) what the client still sends. */
#define LINGER_MS 1000

struct session {
    const char *stage;          /* named in the greeting */
    const char *greeting_extra; /* appended to the greeting: " active=3 max=10" in parts 3-4 */
    long idle_timeout;          /* seconds; 0 = never (the socket carries it: server.c) */
};

/*
 * Serves the client on fd until it quits, leaves, misbehaves or falls
 * silent, and closes fd. Returns the child's exit status: 0 when the
 * session ended in any of the ways the protocol foresees, 1 when a system
 * call failed unexpectedly.
 */
int protocol_serve(int fd, const struct session *session);

#endif
