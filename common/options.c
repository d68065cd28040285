/*
 * options.c: strict parsing of the shared command line.
 *
 * Numbers are parsed strictly: digits only, no sign, no spaces, no trailing
 * text, inside the contract's range. "-p 70000", "-p 8o", "-m 0" and "-m ''"
 * are usage errors (exit 2), reported on one line before anything starts.
 */
#include "options.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *program = "daemon";

static int usage_error(const struct stage *stage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const struct stage *stage, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    (void)fprintf(stderr, "%s: %s (usage: try '%s --help')\n", stage->name, msg, program);
    return EXIT_USAGE;
}

static void print_help(const struct stage *stage)
{
    (void)printf("Usage: %s [-f] [-b ADDR] [-p PORT]%s [-t SEC] [-P PIDFILE] [-l LOGFILE]\n"
                 "%s: %s\n\n"
                 "  -f, --foreground          do not detach; log to stderr\n"
                 "  -b, --bind ADDR           IPv4 address to listen on (default 127.0.0.1)\n"
                 "  -p, --port PORT           TCP port, 0 picks a free one (default %u)\n",
                 program, stage->has_limit ? " [-m N]" : "", stage->name, stage->summary,
                 stage->default_port);
    if (stage->has_limit)
        (void)printf("  -m, --max-connections N   simultaneous clients, 1..%d (default 10)\n",
                     MAX_CONNECTIONS_LIMIT);
    (void)printf("  -t, --idle-timeout SEC    close a client silent for SEC seconds, 0..%d\n"
                 "                            (default 30; 0 = never)\n"
                 "  -P, --pidfile FILE        write the pid there, locked; refuse to start if a\n"
                 "                            live instance holds it\n"
                 "  -l, --log FILE            log to FILE, also with -f (in the background the\n"
                 "                            default is syslog, facility daemon)\n"
                 "  -h, --help                this text\n"
                 "  -V, --version             the version\n",
                 IDLE_TIMEOUT_LIMIT);
}

/* Digits only (no sign, no blanks), no trailing text, min..max. */
static int parse_number(const char *text, long min, long max, long *out)
{
    char *end;
    long value;

    if (!isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

static const struct option longopts[] = {
    {"foreground", no_argument, NULL, 'f'},
    {"bind", required_argument, NULL, 'b'},
    {"port", required_argument, NULL, 'p'},
    {"max-connections", required_argument, NULL, 'm'},
    {"idle-timeout", required_argument, NULL, 't'},
    {"pidfile", required_argument, NULL, 'P'},
    {"log", required_argument, NULL, 'l'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* "-p/--port" for 'p': both spellings, since either may have been typed. */
static const char *option_name(int short_opt)
{
    static char buf[32];

    for (const struct option *o = longopts; o->name != NULL; o++) {
        if (o->val == short_opt) {
            (void)snprintf(buf, sizeof buf, "-%c/--%s", short_opt, o->name);
            return buf;
        }
    }
    return "?";
}

int options_parse(struct options *opt, const struct stage *stage, int argc, char **argv)
{
    struct in_addr addr;
    long value;
    int c;

    if (argc > 0 && argv[0] != NULL)
        program = argv[0];
    *opt = (struct options){
        .foreground = false,
        .bind_addr = "127.0.0.1",
        .port = stage->default_port,
        .max_connections = 10,
        .idle_timeout = 30,
    };

    opterr = 0; /* every message is ours, and one line long */
    while ((c = getopt_long(argc, argv, ":fb:p:m:t:P:l:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            opt->foreground = true;
            break;
        case 'b':
            if (inet_pton(AF_INET, optarg, &addr) != 1)
                return usage_error(stage,
                                   "invalid address '%s' for --bind (expected IPv4, e.g. "
                                   "127.0.0.1)",
                                   optarg);
            opt->bind_addr = optarg;
            break;
        case 'p':
            if (parse_number(optarg, 0, 65535, &value) == -1)
                return usage_error(stage, "invalid port '%s' (expected 0..65535)", optarg);
            opt->port = (unsigned short)value;
            break;
        case 'm':
            if (!stage->has_limit)
                return usage_error(stage,
                                   "option '%s' is not available in %s (the connection "
                                   "limit arrives in part3-signals-bug)",
                                   option_name('m'), stage->name);
            if (parse_number(optarg, 1, MAX_CONNECTIONS_LIMIT, &value) == -1)
                return usage_error(stage, "invalid max-connections '%s' (expected 1..%d)", optarg,
                                   MAX_CONNECTIONS_LIMIT);
            opt->max_connections = value;
            break;
        case 't':
            if (parse_number(optarg, 0, IDLE_TIMEOUT_LIMIT, &value) == -1)
                return usage_error(stage, "invalid idle-timeout '%s' (expected 0..%d seconds)",
                                   optarg, IDLE_TIMEOUT_LIMIT);
            opt->idle_timeout = value;
            break;
        case 'P':
        case 'l':
            if (optarg[0] == '\0')
                return usage_error(stage, "option '%s' needs a file name", option_name(c));
            if (c == 'P')
                opt->pidfile = optarg;
            else
                opt->logfile = optarg;
            break;
        case 'h':
            print_help(stage);
            return fflush(stdout) == 0 ? 0 : 1;
        case 'V':
            (void)printf("%s (forkd) %s\n", stage->name, FORKD_VERSION);
            return fflush(stdout) == 0 ? 0 : 1;
        case ':':
            return usage_error(stage, "option '%s' needs a value", option_name(optopt));
        default:
            if (optopt > 0)
                return usage_error(stage, "unknown option '-%c'", optopt);
            return usage_error(stage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error(stage, "unexpected argument '%s'", argv[optind]);
    return OPTIONS_RUN;
}
