/*
 * handler: the program tcpserver (ucspi-tcp) runs per connection in make
 * bench: the floor's protocol (greeting, PONG to PING) on stdin/stdout, so
 * the comparison costs tcpserver's fork + exec, not a different exchange.
 */
#include <string.h>
#include <unistd.h>

int main(void)
{
    static const char greeting[] = "HELLO tcpserver\n";
    char line[128];
    ssize_t n;

    if (write(STDOUT_FILENO, greeting, sizeof greeting - 1) != (ssize_t)sizeof greeting - 1)
        return 1;
    n = read(STDIN_FILENO, line, sizeof line);
    if (n >= 4 && memcmp(line, "PING", 4) == 0 && write(STDOUT_FILENO, "PONG\n", 5) != 5)
        return 1;
    return 0;
}
