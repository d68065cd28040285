#!/usr/bin/env bats
# tests/part1-fork.bats: the lesson of part 1. As in the article's part I,
# the SIGCHLD work runs only once accept has returned the next client, so
# children that end while the daemon waits stay zombies until a client comes.

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
all_gone() {
    local kid
    for kid in "$@"; do gone "$kid" || return 1; done
}

# finished_session PORT: one session that ends with QUIT; CHILD = its child's pid.
finished_session() {
    connect_greeted "$1"
    CHILD=$(field_of "$GREETING" pid)
    send_line "$CONN" QUIT
    read_line "$CONN" && [ "$LINE" = BYE ]
    close_conn "$CONN"
}

@test "part 1: zombies wait while the daemon is idle, and the next client's arrival reaps them all" {
    local k=5 kid
    start_daemon "$ST" -t 0
    hold "$k" "$DPORT"
    close_held
    wait_for "$k zombies under the daemon" all_zombies_of "$DPID" "${KIDS[@]}"
    # Idle for a full second: nothing reaps them (this checks that a state
    # lasts; it waits for nothing).
    sleep 1
    ps -o pid,stat,cmd --ppid "$DPID" # shown when the test fails
    all_zombies_of "$DPID" "${KIDS[@]}"
    [ "$(count_zombies "$DPID")" -eq "$k" ]
    run grep -c 'reaped child' "$DLOG"
    [ "$output" = 0 ]
    # One more client: its arrival reaps all five at once.
    connect_greeted "$DPORT"
    wait_for "the $k zombies reaped" all_gone "${KIDS[@]}"
    wait_for "$k reaped children in the log" log_count_at_least "$DLOG" 'reaped child' "$k"
    for kid in "${KIDS[@]}"; do
        grep -q "reaped child pid=$kid exit=0\$" "$DLOG"
    done
    # The new client's own child serves on; it is no zombie.
    [ "$(count_living "$DPID")" -eq 1 ]
}

@test "part 1: one client after another, each arrival reaps the child before it (50 clients, 1 zombie)" {
    local i
    start_daemon "$ST"
    for i in $(seq 50); do
        finished_session "$DPORT"
        wait_for "child $i to be a zombie" zombie_of "$CHILD" "$DPID"
    done
    # The last child waits for a 51st client that never comes.
    [ "$(count_zombies "$DPID")" -eq 1 ]
    [ "$(count_living "$DPID")" -eq 0 ]
    [ "$(grep -c 'reaped child' "$DLOG")" -eq 49 ]
}

@test "part 1: the zombies vanish when the daemon exits, and it exits 0" {
    local kids=() i kid status=0
    start_daemon "$ST"
    for i in 1 2 3; do
        finished_session "$DPORT"
        wait_for "child $i to be a zombie" zombie_of "$CHILD" "$DPID"
        kids+=("$CHILD")
    done
    # Only the last one waits: the arrivals of clients 2 and 3 reaped 1 and 2.
    all_gone "${kids[0]}" "${kids[1]}"
    zombie_of "${kids[2]}" "$DPID"
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

@test "part 1: started by a parent that ignores SIGCHLD, the lesson still shows (the daemon resets it)" {
    local k=3
    # Inherited SIG_IGN would make the kernel discard every child at once:
    # no zombie, and no lesson. daemon(7): the daemon resets dispositions.
    START_UNDER="$TOOLS_DIR/sigenv -i CHLD --" start_daemon "$ST" -t 0
    hold "$k" "$DPORT"
    close_held
    wait_for "$k zombies under the daemon" all_zombies_of "$DPID" "${KIDS[@]}"
    connect_greeted "$DPORT"
    wait_for "the $k zombies reaped by the next arrival" all_gone "${KIDS[@]}"
}
