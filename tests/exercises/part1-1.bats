#!/usr/bin/env bats
# Exercise part1-1 (part1-fork/README.md): ignore SIGCHLD, and the kernel
# reaps the children itself. Passes when no finished child stays a zombie
# and the daemon still serves and stops cleanly.

load ../helpers
setup_file() { build_stages_if_needed; }

@test "part1-1: after 10 clients, no zombie under the daemon" {
    local i
    start_daemon part1-fork
    for i in $(seq 10); do ping_session "$DPORT"; done
    ps -o pid,stat,cmd --ppid "$DPID" || true # shown if it fails
    wait_for "every child gone (not a zombie)" no_children "$DPID"
}

@test "part1-1: it still serves, and SIGTERM still stops it with status 0" {
    local status=0
    start_daemon part1-fork
    ping_session "$DPORT"
    kill -TERM "$DPID"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID"
    wait "$DPID" || status=$?
    [ "$status" -eq 0 ]
}
