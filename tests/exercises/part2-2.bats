#!/usr/bin/env bats
# Exercise part2-2 (part2-zombies/README.md): log how many children one run
# of the SIGCHLD handler reaped. Passes when a frozen burst of 20 is logged
# as "SIGCHLD reaped 20 children in one call".

load ../helpers
setup_file() { build_stages_if_needed; }

@test "part2-2: one SIGCHLD, 20 children: 'SIGCHLD reaped 20 children in one call'" {
    start_daemon part2-zombies
    hold 20 "$DPORT"
    frozen_burst 20
    wait_for "every child reaped" no_children "$DPID"
    WAIT_MS=3000 wait_for "the count in the log" grep -q 'SIGCHLD reaped 20 children in one call' "$DLOG"
}

@test "part2-2: children ending one by one are one per call" {
    start_daemon part2-zombies
    ping_session "$DPORT"
    WAIT_MS=3000 wait_for "the count in the log" grep -q 'SIGCHLD reaped 1 children in one call' "$DLOG"
}
