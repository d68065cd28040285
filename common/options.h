/*
 * options.h: the command line every stage shares (SPEC.md, "Command line").
 */
#ifndef FORKD_OPTIONS_H
#define FORKD_OPTIONS_H

#include <stdbool.h>

#define FORKD_VERSION "1.0.0"

/* Exit statuses of the contract. */
enum { EXIT_USAGE = 2 };

/* The limits the contract gives for -m and -t. */
#define MAX_CONNECTIONS_LIMIT 10000
#define IDLE_TIMEOUT_LIMIT    86400

/* What a stage says about itself. */
struct stage {
    const char *name;            /* "part1-fork": in the greeting, every log line, --version */
    const char *summary;         /* one line for --help */
    unsigned short default_port; /* stage N listens on 900N */
    bool has_limit;              /* parts 3 and 4 take -m */
};

struct options {
    bool foreground;
    const char *bind_addr; /* dotted IPv4, already validated */
    unsigned short port;   /* 0 lets the kernel pick a free port */
    long max_connections;  /* parts 3 and 4 only */
    long idle_timeout;     /* seconds; 0 = never */
    const char *pidfile;   /* NULL: no pidfile */
    const char *logfile;   /* NULL: stderr with -f, syslog otherwise */
};

/* Returned by options_parse when the daemon should start. */
#define OPTIONS_RUN (-1)

/*
 * Fills opt from argv. Returns OPTIONS_RUN, or the status to exit with:
 * 0 after --help or --version (printed on stdout), EXIT_USAGE after a bad
 * option or value (one line on stderr that names it and points to --help).
 */
int options_parse(struct options *opt, const struct stage *stage, int argc, char **argv);

#endif
