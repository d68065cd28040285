#!/usr/bin/env bats
# Exercise part1-2 (part1-fork/README.md): the double fork. Passes when the
# process that serves a client is not the daemon's child, and no zombie
# stays under the daemon.

load ../helpers
setup_file() { build_stages_if_needed; }

@test "part1-2: the server process is a grandchild, adopted by someone else" {
    local server
    start_daemon part1-fork
    connect_greeted "$DPORT"
    server=$(field_of "$GREETING" pid)
    alive "$server"
    [ "$(ps -o ppid= -p "$server" | tr -d ' ')" != "$DPID" ]
    send_line "$CONN" QUIT
    read_line "$CONN" && [ "$LINE" = BYE ]
}

@test "part1-2: after 10 clients, no zombie under the daemon" {
    local i
    start_daemon part1-fork
    for i in $(seq 10); do ping_session "$DPORT"; done
    ps -o pid,stat,cmd --ppid "$DPID" || true # shown if it fails
    wait_for "no child of the daemon left" no_children "$DPID"
}
