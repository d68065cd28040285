#!/usr/bin/env bats
# Exercise part3-2 (part3-signals-bug/README.md): count the children you
# reap instead of the signals you receive. Passes when frozen bursts do not
# drift and children killed with kill -9 do not leak their slots.

load ../helpers
setup_file() { build_stages_if_needed; }

@test "part3-2: 5 children ending together: the next client is active=1" {
    start_daemon part3-signals-bug -m 5
    hold 5 "$DPORT"
    frozen_burst 5
    wait_for "every child reaped" no_children "$DPID"
    connect_greeted "$DPORT"
    [[ $GREETING == *" active=1 max=5" ]]
}

@test "part3-2: 3 children killed with kill -9 do not leak: a client still gets in" {
    start_daemon part3-signals-bug -m 3
    kill_served 3 "$DPORT"
    connect_greeted "$DPORT"
    [[ $GREETING == *" active=1 max=3" ]]
}

@test "part3-2: it still counts: the limit is reached and refused" {
    start_daemon part3-signals-bug -m 2
    hold 2 "$DPORT"
    connect "$DPORT"
    read_line "$CONN"
    [ "$LINE" = "BUSY active=2 max=2" ]
}
