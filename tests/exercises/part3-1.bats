#!/usr/bin/env bats
# Exercise part3-1 (part3-signals-bug/README.md): a queued, realtime signal
# instead of SIGUSR2. Passes when a frozen burst of 5 no longer drifts.

load ../helpers
setup_file() { build_stages_if_needed; }

# The greeting of a lone client says active=1 (retried: the queued signals
# are handled one per turn of the parent's loop).
lone_client_is_first() {
    connect "$DPORT"
    read_line "$CONN" || return 1
    close_conn "$CONN"
    wait_for "probe reaped" no_children "$DPID"
    [[ $LINE == "HELLO part3-signals-bug pid="*" active=1 max=5" ]]
}

@test "part3-1: 5 children ending together: the next client is active=1" {
    start_daemon part3-signals-bug -m 5
    hold 5 "$DPORT"
    frozen_burst 5
    wait_for "every child reaped" no_children "$DPID"
    WAIT_MS=3000 wait_for "an exact count" lone_client_is_first
}

@test "part3-1: it still counts: the limit is reached and refused" {
    start_daemon part3-signals-bug -m 2
    hold 2 "$DPORT"
    connect "$DPORT"
    read_line "$CONN"
    [ "$LINE" = "BUSY active=2 max=2" ]
}
