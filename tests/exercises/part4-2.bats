#!/usr/bin/env bats
# Exercise part4-2 (part4-shm-semaphore/README.md): an anonymous shared
# mapping and an unnamed POSIX semaphore; no System V. Passes when starting
# the daemon creates no System V object and no /dev/shm file, and it counts
# exactly through a frozen burst and kill -9s.

load ../helpers
setup_file() { build_stages_if_needed; }

dev_shm_files() { find /dev/shm -maxdepth 1 -type f 2>/dev/null | wc -l; }

@test "part4-2: no System V object, no /dev/shm file" {
    local ipc_before shm_before
    ipc_before=$(ipc_object_count)
    shm_before=$(dev_shm_files)
    start_daemon part4-shm-semaphore -m 5
    ping_session "$DPORT"
    [ "$(ipc_object_count)" -eq "$ipc_before" ]
    [ "$(dev_shm_files)" -eq "$shm_before" ]
}

@test "part4-2: a frozen burst of 5 and three kill -9: the count stays exact" {
    start_daemon part4-shm-semaphore -m 5
    hold 5 "$DPORT"
    frozen_burst 5
    wait_for "every child reaped" no_children "$DPID"
    kill_served 3 "$DPORT"
    connect_greeted "$DPORT"
    [[ $GREETING == *" active=1 max=5" ]]
}
