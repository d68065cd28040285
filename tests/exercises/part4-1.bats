#!/usr/bin/env bats
# Exercise part4-1 (part4-shm-semaphore/README.md): the counting semaphore
# with SEM_UNDO is the counter; no shared memory. Passes when the daemon
# creates no segment, logs "ipc sem=N", counts exactly through a frozen
# burst and kill -9s, and removes its semaphore when it stops.

load ../helpers
setup_file() { build_stages_if_needed; }

SEMID=
sem_from_log() {
    WAIT_MS=3000 wait_for "the ipc line" grep -q 'ipc sem=[0-9]*' "$DLOG"
    SEMID=$(sed -n 's/.*ipc sem=\([0-9]*\).*/\1/p' "$DLOG" | head -n 1)
}
teardown() {
    teardown_daemons
    [ -n "$SEMID" ] && sem_exists "$SEMID" && ipcrm -s "$SEMID"
    return 0
}
# Segments created by a process: column 5 of /proc/sysvipc/shm is the creator's pid.
segments_of() { awk -v pid="$1" 'NR > 1 && $5 == pid' /proc/sysvipc/shm | wc -l; }

@test "part4-1: no shared memory segment; one semaphore, logged as 'ipc sem=N'" {
    start_daemon part4-shm-semaphore -m 5
    [ "$(segments_of "$DPID")" -eq 0 ]
    sem_from_log
    sem_exists "$SEMID"
}

@test "part4-1: a frozen burst of 5 and three kill -9: the count stays exact" {
    start_daemon part4-shm-semaphore -m 5
    sem_from_log
    hold 5 "$DPORT"
    frozen_burst 5
    wait_for "every child reaped" no_children "$DPID"
    kill_served 3 "$DPORT"
    connect_greeted "$DPORT"
    [[ $GREETING == *" active=1 max=5" ]]
    hold 4 "$DPORT"
    connect "$DPORT"
    read_line "$CONN"
    [ "$LINE" = "BUSY active=5 max=5" ]
}

@test "part4-1: SIGTERM removes the semaphore" {
    start_daemon part4-shm-semaphore
    sem_from_log
    kill -TERM "$DPID"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID"
    run sem_exists "$SEMID"
    [ "$status" -ne 0 ]
}
