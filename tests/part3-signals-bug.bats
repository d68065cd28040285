#!/usr/bin/env bats
# tests/part3-signals-bug.bats: the lesson of part 3. A connection counter
# decremented by SIGUSR2 from each child is exact when children end one at a
# time, and drifts when they end together, because standard signals are not
# queued. These tests make the drift happen on purpose, deterministically.

bats_require_minimum_version 1.5.0
load helpers

setup_file() { build_if_needed; }

ST=part3-signals-bug

sigusr2_lines() { grep -c 'SIGUSR2 received' "$DLOG" || true; }
sigusr2_lines_are() { [ "$(sigusr2_lines)" -eq "$1" ]; }
logged_active_is() { [ "$(grep 'SIGUSR2 received' "$DLOG" | tail -n 1 | sed 's/.*active=//')" = "$1" ]; }

@test "part 3: the greeting and the log carry the counter" {
    start_daemon "$ST" -m 4
    connect_greeted "$DPORT"
    [[ $GREETING =~ ^HELLO\ part3-signals-bug\ pid=[0-9]+\ active=1\ max=4$ ]]
    connect_greeted "$DPORT"
    [[ $GREETING == *" active=2 max=4" ]]
    grep -q "accepted 127.0.0.1:[0-9]* child pid=[0-9]* active=2 max=4\$" "$DLOG"
}

@test "part 3: children ending one at a time: the counter is exact (the bug is coalescing, not arithmetic)" {
    local i n
    start_daemon "$ST" -m 5
    hold 3 "$DPORT"
    [[ $GREETING == *" active=3 max=5" ]]
    # close them one by one, each time waiting for its SIGUSR2 to be handled
    for i in 0 1 2; do
        close_conn "${HELD[$i]}"
        wait_for "SIGUSR2 number $((i + 1))" sigusr2_lines_are $((i + 1))
        logged_active_is $((2 - i))
    done
    # 20 more sessions, spread in time: still exact
    for n in $(seq 20); do
        ping_session "$DPORT"
        wait_for "SIGUSR2 number $((n + 3))" sigusr2_lines_are $((n + 3))
    done
    connect_greeted "$DPORT"
    [[ $GREETING == *" active=1 max=5" ]]
}

@test "part 3: frozen burst: 5 children end together, 4 decrements are lost, BUSY with one client connected" {
    local before
    start_daemon "$ST" -m 5
    hold 5 "$DPORT"
    [[ $GREETING == *" active=5 max=5" ]]
    kill -STOP "$DPID"
    wait_for "daemon stopped" is_stopped "$DPID"
    before=$(sigusr2_lines)
    close_held
    # each child sent its SIGUSR2 before ending; all 5 wait as zombies
    wait_for "5 zombies" zombie_count_is "$DPID" 5
    kill -CONT "$DPID"
    wait_for "all reaped" no_children "$DPID"
    # five signals sent, one delivered
    wait_for "the SIGUSR2 line" sigusr2_lines_are $((before + 1))
    logged_active_is 4
    # the only client, yet the daemon counts five
    connect_greeted "$DPORT"
    [ "$GREETING" = "HELLO part3-signals-bug pid=$(field_of "$GREETING" pid) active=5 max=5" ]
    [ "$(count_living "$DPID")" -eq 1 ]
    # "only one process is running, yet no new connections"
    connect "$DPORT"
    read_line "$CONN"
    [ "$LINE" = "BUSY active=5 max=5" ]
    expect_eof "$CONN"
    [ "$(count_living "$DPID")" -eq 1 ]
    grep -q "refused 127.0.0.1:[0-9]* BUSY active=5 max=5\$" "$DLOG"
}

@test "part 3: frozen bursts, 5 rounds: each loses exactly K-1 decrements (K = 2..6)" {
    local k drift=0
    start_daemon "$ST" -m 10000
    for k in 2 3 4 5 6; do
        hold "$k" "$DPORT"
        kill -STOP "$DPID"
        wait_for "daemon stopped" is_stopped "$DPID"
        close_held
        wait_for "$k zombies" zombie_count_is "$DPID" "$k"
        kill -CONT "$DPID"
        wait_for "all reaped" no_children "$DPID"
        drift=$((drift + k - 1))
        connect_greeted "$DPORT"
        [[ $GREETING == *" active=$((drift + 1)) max=10000" ]]
        close_conn "$CONN"
        wait_for "probe reaped" no_children "$DPID"
    done
}

@test "part 3: children killed with SIGKILL never signal: after 3 kills, BUSY with nobody connected" {
    local i kid
    start_daemon "$ST" -m 3
    for i in 1 2 3; do
        connect_greeted "$DPORT"
        [[ $GREETING == *" active=$i max=3" ]]
        kid=$(field_of "$GREETING" pid)
        kill -KILL "$kid"
        wait_for "killed child reaped" grep -q "reaped child pid=$kid signal=9\$" "$DLOG"
        close_conn "$CONN"
    done
    [ "$(count_children "$DPID")" -eq 0 ]
    connect "$DPORT"
    read_line "$CONN"
    [ "$LINE" = "BUSY active=3 max=3" ]
    [ "$(count_children "$DPID")" -eq 0 ]
}

@test "part 3: a child whose parent died does not send SIGUSR2 to its new parent" {
    local report="$BATS_TEST_TMPDIR/sigusr2.report" watcher kid
    DOUT="$BATS_TEST_TMPDIR/watched.out"
    DLOG="$BATS_TEST_TMPDIR/watched.log"
    (run_clean_fds "$TOOLS_DIR/sigwatch" "$report" "$(stage_bin "$ST")" -f -p 0) >"$DOUT" 2>"$DLOG" &
    watcher=$!
    EXTRA_PIDS+=("$watcher")
    wait_for "daemon under sigwatch to listen" grep -q '^listening on ' "$DOUT"
    DPORT=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\) pid=.*/\1/p' "$DOUT")
    DPID=$(sed -n 's/.* pid=\([0-9]*\)$/\1/p' "$DOUT")
    track_daemon "$DPID"
    connect_greeted "$DPORT"
    kid=$(field_of "$GREETING" pid)
    kill -KILL "$DPID"
    # the child now belongs to sigwatch, the subreaper
    wait_for "child re-parented" parent_is "$kid" "$watcher"
    send_line "$CONN" QUIT
    read_line "$CONN" && [ "$LINE" = BYE ]
    close_conn "$CONN"
    wait_for "child gone" gone "$kid"
    [ ! -s "$report" ]
}

@test "part 3: a stray SIGUSR2 never takes the counter below zero" {
    start_daemon "$ST" -m 2
    kill -USR2 "$DPID"
    wait_for "the SIGUSR2 line" sigusr2_lines_are 1
    logged_active_is 0
    connect_greeted "$DPORT"
    [[ $GREETING == *" active=1 max=2" ]]
}

@test "part 3: drift-rate script reports natural (unfrozen) bursts" {
    run "$FORKD_ROOT/tools/drift-rate.sh" 5 5
    echo "$output"
    [ "$status" -eq 0 ]
    [[ ${lines[-1]} =~ ^part3-signals-bug:\ 5\ rounds\ of\ 5\ simultaneous\ closes:\ [0-9]+\ drifted ]]
    [[ $output == *"part4-shm-semaphore: 5 rounds of 5 simultaneous closes: 0 drifted"* ]]
}

# make trace (tools/trace.sh): the kernel's own record of the burst.
# trace_run SOURCE K: runs it, its raw record kept in RAW; fact NAME reads it.
trace_run() {
    RAW="$BATS_TEST_TMPDIR/raw"
    run "$FORKD_ROOT/tools/trace.sh" -s "$1" -r "$RAW" "$ST" "$2"
    echo "$output"
    [ "$status" -eq 0 ]
}
fact() { sed -n "s/^$1=//p" "$RAW/facts"; }
no_trace_instance_left() {
    run "$FORKD_ROOT/tools/trace.sh" --leftovers
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "part 3: make trace (tracefs): the kernel's res=2 SIGUSR2s are exactly the counter's drift" {
    local why dpid usr2 sent dropped delivered logged
    why=$("$FORKD_ROOT/tools/trace.sh" --which tracefs) || skip "$why"
    trace_run tracefs 5
    dpid=$(fact dpid)
    usr2=$(kill -l USR2)
    # the kernel's record, read raw: each send with its verdict, each delivery
    sent=$(grep -c "signal_generate: sig=$usr2 .* pid=$dpid grp=[01] res=[0-9]*\$" "$RAW/kernel.trace" || true)
    dropped=$(grep -c "signal_generate: sig=$usr2 .* pid=$dpid grp=[01] res=2\$" "$RAW/kernel.trace" || true)
    delivered=$(grep -c "signal_deliver: sig=$usr2 " "$RAW/kernel.trace" || true)
    [ "$sent" -eq 5 ]
    [ "$dropped" -eq 4 ]
    [ "$delivered" -eq 1 ]
    # the daemon's own report: its one handler run left the counter at the
    # drift (no child is left), and the next client is counted on top of it
    logged=$(grep -m 1 'SIGUSR2 received: active=' "$RAW/daemon.log" | sed 's/.*active=//')
    [ "$(fact children)" -eq 0 ]
    [ "$logged" -eq "$dropped" ]
    [[ $(fact greeting) == *" active=$((dropped + 1)) max=5" ]]
    [[ $output == *"summary: 5 SIGUSR2 sent, 1 delivered, 4 dropped as already pending -> the counter says active=4 with 0 children"* ]]
    no_trace_instance_left
}

@test "part 3: make trace (strace): 5 kill() calls, one delivery, the rest lost from the counter" {
    local why dpid kid sends=0 burst_deliveries=0
    why=$("$FORKD_ROOT/tools/trace.sh" --which strace) || skip "$why"
    trace_run strace 5
    [[ $output == *"source: strace -f of the daemon"* ]]
    dpid=$(fact dpid)
    for kid in $(fact kids); do
        grep -q "^$kid  *[0-9.]* kill($dpid, SIGUSR2" "$RAW/strace.log" && sends=$((sends + 1))
        grep -q "^$dpid  *[0-9.]* --- SIGUSR2 {.*si_pid=$kid," "$RAW/strace.log" && burst_deliveries=$((burst_deliveries + 1))
    done
    [ "$sends" -eq 5 ]
    [ "$burst_deliveries" -ge 1 ]
    # every send that was not delivered is a decrement the counter lacks
    [ "$(fact children)" -eq 0 ]
    [ "$(fact counter)" -eq $((sends - burst_deliveries)) ]
}
