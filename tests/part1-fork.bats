#!/usr/bin/env bats
# tests/part1-fork.bats: the lesson of part 1. The parent never waits, so
# every finished child stays a zombie under it until the parent exits.

bats_require_minimum_version 1.5.0
load helpers

setup_file() { build_if_needed; }

ST=part1-fork

# zombie_of CHILD DAEMON: CHILD is a zombie whose parent is DAEMON.
zombie_of() { [ "$(ps -o stat=,ppid= -p "$1" | awk '{ print substr($1, 1, 1), $2 }')" = "Z $2" ]; }
all_zombies_of() {
    local daemon=$1 kid
    shift
    for kid in "$@"; do zombie_of "$kid" "$daemon" || return 1; done
}

# finished_session PORT: one session that ends with QUIT; CHILD = its child's pid.
finished_session() {
    connect_greeted "$1"
    CHILD=$(field_of "$GREETING" pid)
    send_line "$CONN" QUIT
    read_line "$CONN" && [ "$LINE" = BYE ]
    close_conn "$CONN"
}

@test "part 1: every finished child stays a zombie (Z) under the daemon" {
    local kids=() i
    start_daemon "$ST"
    for i in 1 2 3 4 5; do
        finished_session "$DPORT"
        kids+=("$CHILD")
    done
    wait_for "5 zombies under the daemon" all_zombies_of "$DPID" "${kids[@]}"
    [ "$(count_zombies "$DPID")" -eq 5 ]
    # nothing ever reaps them: after another client came and went, 6 zombies
    finished_session "$DPORT"
    wait_for "6th zombie" zombie_of "$CHILD" "$DPID"
    all_zombies_of "$DPID" "${kids[@]}"
    [ "$(count_zombies "$DPID")" -eq 6 ]
    ps -o pid,stat,cmd --ppid "$DPID" # shown when the test fails
    run grep -c reaped "$DLOG"
    [ "$output" = 0 ]
}

@test "part 1: the zombies accumulate, one per connection served (50 clients, 50 zombies)" {
    local i
    start_daemon "$ST"
    for i in $(seq 50); do ping_session "$DPORT"; done
    wait_for "50 zombies" zombie_count_is "$DPID" 50
    [ "$(count_living "$DPID")" -eq 0 ]
}

@test "part 1: the zombies vanish when the daemon exits, and it exits 0" {
    local kids=() i kid status=0
    start_daemon "$ST"
    for i in 1 2 3; do
        finished_session "$DPORT"
        kids+=("$CHILD")
    done
    wait_for "3 zombies" all_zombies_of "$DPID" "${kids[@]}"
    kill -TERM "$DPID"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID"
    wait "$DPID" || status=$?
    [ "$status" -eq 0 ]
    for kid in "${kids[@]}"; do gone "$kid"; done
}

@test "part 1: a zombie does not stop the daemon serving (it only holds a pid)" {
    start_daemon "$ST"
    finished_session "$DPORT"
    wait_for "a zombie" zombie_of "$CHILD" "$DPID"
    ping_session "$DPORT"
    connect_greeted "$DPORT"
    [[ $GREETING == "HELLO part1-fork pid="* ]]
}
