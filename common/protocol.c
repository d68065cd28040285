/*
 * protocol.c: the child's side of the line protocol.
 *
 * Lines are handled as byte ranges, never as C strings, so NUL bytes and
 * binary data are just data. The buffer holds one maximal line plus its
 * "\r\n"; anything longer is refused without reading it all.
 *
 * The idle timeout is the socket's own (SO_RCVTIMEO, SO_SNDTIMEO, set by the
 * parent, server.c): a read that waits that long fails with EAGAIN. Each read
 * starts right after the last byte received or the last reply sent, so that
 * is what the silence is counted from; a running SLEEP is not a read.
 */
#include "protocol.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

enum outcome { KEEP_GOING, END_QUIT, END_CLOSE_NOW, END_FAILED };

struct conn {
    int fd;
    const struct session *session;
    char buf[LINE_MAX_BYTES + 2];
    size_t len;
};

static int reply(struct conn *c, const char *data, size_t len)
{
    return write_all(c->fd, data, len);
}

static int reply_text(struct conn *c, const char *text)
{
    return reply(c, text, strlen(text));
}

/*
 * Ends the conversation politely: no more output (FIN), then read and drop
 * what the client still sends, up to EOF or LINGER_MS, so that closing with
 * unread input does not turn into a reset that could destroy our last line.
 */
static void linger_and_close(int fd)
{
    long long deadline = monotonic_ms() + LINGER_MS;

    if (shutdown(fd, SHUT_WR) == 0) {
        for (;;) {
            long long left = deadline - monotonic_ms();
            struct pollfd p = {.fd = fd, .events = POLLIN};
            char sink[4096];
            int r;

            if (left <= 0)
                break;
            r = poll(&p, 1, (int)left);
            if (r == -1 && errno == EINTR)
                continue;
            if (r <= 0 || read(fd, sink, sizeof sink) <= 0)
                break;
        }
    }
    close_checked(fd, "client");
}

/* "SLEEP <ms>": one argument, digits only, 0..SLEEP_MAX_MS. */
static int parse_sleep(const char *arg, size_t len, long *ms)
{
    long value = 0;

    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (arg[i] < '0' || arg[i] > '9')
            return -1;
        value = value * 10 + (arg[i] - '0');
    }
    if (value > SLEEP_MAX_MS)
        return -1;
    *ms = value;
    return 0;
}

static bool is_command(const char *line, size_t len, const char *word)
{
    size_t n = strlen(word);

    return len >= n && memcmp(line, word, n) == 0 && (len == n || line[n] == ' ');
}

/* line is in the connection's buffer, followed by its "\n" or "\r\n". */
static enum outcome handle_line(struct conn *c, char *line, size_t len)
{
    long ms;
    int r;

    if (len == 4 && memcmp(line, "PING", 4) == 0) {
        r = reply_text(c, "PONG\n");
    } else if (len == 4 && memcmp(line, "QUIT", 4) == 0) {
        return reply_text(c, "BYE\n") == 0 ? END_QUIT : END_CLOSE_NOW;
    } else if (is_command(line, len, "ECHO")) {
        size_t n = len > 4 ? len - 5 : 0;
        /* The reply is the line's own bytes: sent from the buffer, the byte
         * after the line (its \r or \n) made the \n. No copy, and no
         * 1 kB array on the stack of every child. */
        line[len] = '\n';
        r = reply(c, line + len - n, n + 1);
    } else if (is_command(line, len, "SLEEP")) {
        if (parse_sleep(line + 6, len > 5 ? len - 6 : 0, &ms) == -1) {
            r = reply_text(c, "ERR bad argument\n");
        } else {
            sleep_ms(ms);
            r = reply_text(c, "OK\n");
        }
    } else {
        r = reply_text(c, "ERR unknown command\n");
    }
    /* A failed write means the client is gone: nothing left to say. */
    return r == 0 ? KEEP_GOING : END_CLOSE_NOW;
}

/* Handles every complete line in the buffer. */
static enum outcome handle_buffer(struct conn *c)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        size_t used;
        size_t len;
        enum outcome o;

        if (nl == NULL) {
            /* No newline in a full buffer: the line is too long whatever follows. */
            if (c->len == sizeof c->buf)
                break;
            return KEEP_GOING;
        }
        used = (size_t)(nl - c->buf) + 1;
        len = used - 1;
        if (len > 0 && c->buf[len - 1] == '\r')
            len--;
        if (len > LINE_MAX_BYTES)
            break;
        o = handle_line(c, c->buf, len);
        if (c->len > used) /* pipelined commands: more to come */
            memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        if (o != KEEP_GOING)
            return o;
    }
    return reply_text(c, "ERR line too long\n") == 0 ? END_QUIT : END_CLOSE_NOW;
}

static enum outcome converse(struct conn *c)
{
    for (;;) {
        enum outcome o;
        ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);

        /* A signal handler ran (SIGUSR1 sent to a child): the wait starts again. */
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) && c->session->idle_timeout > 0)
            return reply_text(c, "ERR idle timeout\n") == 0 ? END_QUIT : END_CLOSE_NOW;
        if (n == -1 && (errno == ECONNRESET || errno == ETIMEDOUT))
            return END_CLOSE_NOW;
        if (n == -1) {
            log_msg(LOG_ERR, "read client: %s", strerror(errno));
            return END_FAILED;
        }
        if (n == 0)
            return END_CLOSE_NOW; /* the client hung up; whatever it left unfinished is dropped */
        c->len += (size_t)n;
        o = handle_buffer(c);
        if (o != KEEP_GOING)
            return o;
    }
}

/* Appends text to buf (of size, holding *len bytes); false when it does not
 * fit. A byte at a time: strlen and memcpy would be two more pages of libc
 * for a new child to fault in, for a few dozen bytes (see below). */
static bool append(char *buf, size_t size, size_t *len, const char *text)
{
    for (; *text != '\0'; text++) {
        if (*len + 1 >= size)
            return false;
        buf[(*len)++] = *text;
    }
    return true;
}

/*
 * "HELLO <stage> pid=<pid><extra>\n" into buf; its length, 0 if too long.
 * Built by hand, not with snprintf: the child runs this once, and printf's
 * machinery spans several pages of libc that a freshly forked child must
 * each fault in (measured: 8 of a child's 24 page faults, and 3 more for strlen and
 * memcpy).
 */
static size_t format_greeting(char *buf, size_t size, const struct session *session)
{
    char digits[24];
    char *p = digits + sizeof digits;
    unsigned long pid = (unsigned long)getpid();
    size_t len = 0;

    *--p = '\0';
    do {
        *--p = (char)('0' + pid % 10);
        pid /= 10;
    } while (pid > 0);
    if (append(buf, size, &len, "HELLO ") && append(buf, size, &len, session->stage) &&
        append(buf, size, &len, " pid=") && append(buf, size, &len, p) &&
        append(buf, size, &len, session->greeting_extra) && append(buf, size, &len, "\n"))
        return len;
    return 0;
}

int protocol_serve(int fd, const struct session *session)
{
    struct conn c = {.fd = fd, .session = session};
    char greeting[256];
    enum outcome o;
    size_t n;

    n = format_greeting(greeting, sizeof greeting, session);
    if (n == 0 || reply(&c, greeting, n) == -1)
        o = END_CLOSE_NOW;
    else
        o = converse(&c);

    if (o == END_QUIT)
        linger_and_close(fd);
    else
        close_checked(fd, "client");
    return o == END_FAILED ? 1 : 0;
}
