#!/usr/bin/env bats
# tests/part2-zombies.bats: the lesson of part 2. A SIGCHLD handler that
# loops on waitpid(-1, ..., WNOHANG) leaves no zombie, however many children
# end at once, including the burst that a one-wait-per-signal handler fails.

bats_require_minimum_version 1.5.0
load helpers

setup_file() { build_if_needed; }

ST=part2-zombies


@test "part 2: frozen burst: 20 children end while the daemon is stopped; all are reaped after SIGCONT" {
    local kid
    start_daemon "$ST"
    hold 20 "$DPORT"
    kill -STOP "$DPID"
    wait_for "daemon stopped" is_stopped "$DPID"
    close_held
    # the children end and wait, as zombies, for a parent that cannot run:
    # 20 SIGCHLDs are sent, one stays pending
    wait_for "20 zombies" zombie_count_is "$DPID" 20
    kill -CONT "$DPID"
    wait_for "every zombie reaped" no_children "$DPID"
    for kid in "${KIDS[@]}"; do
        gone "$kid"
        grep -q "reaped child pid=$kid exit=0\$" "$DLOG"
    done
    ping_session "$DPORT"
}

@test "part 2: natural bursts: 10 connections closed at once, 8 rounds, no zombie survives" {
    local round
    start_daemon "$ST"
    for round in $(seq 8); do
        hold 10 "$DPORT"
        close_held
        wait_for "round $round: no child left" no_children "$DPID"
    done
    [ "$(grep -c 'reaped child pid=[0-9]* exit=0$' "$DLOG")" -eq 80 ]
}

@test "part 2: 500 sequential clients: no zombie, and the daemon's descriptors are as before" {
    local before after
    start_daemon "$ST"
    ping_session "$DPORT"
    wait_for "first child reaped" no_children "$DPID"
    before=$(ls "/proc/$DPID/fd" | wc -l)
    run "$TOOLS_DIR/loadgen" -p "$DPORT" -n 500 -c 1 -m quit
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *" ok=500 "* ]]
    wait_for "no child left" no_children "$DPID"
    [ "$(count_zombies "$DPID")" -eq 0 ]
    after=$(ls "/proc/$DPID/fd" | wc -l)
    [ "$before" -eq "$after" ]
}

@test "part 2: the log names each reaped child and how it ended (exit code or signal)" {
    local normal killed
    start_daemon "$ST"
    connect_greeted "$DPORT"
    normal=$(field_of "$GREETING" pid)
    send_line "$CONN" QUIT
    read_line "$CONN"
    connect_greeted "$DPORT"
    killed=$(field_of "$GREETING" pid)
    kill -KILL "$killed"
    wait_for "reaped line for the killed child" grep -q "reaped child pid=$killed signal=9\$" "$DLOG"
    wait_for "reaped line for the normal child" grep -q "reaped child pid=$normal exit=0\$" "$DLOG"
    grep -q "part2-zombies\[$DPID\]: reaped child pid=$normal" "$DLOG"
}

@test "part 2: a child ending while accept waits neither loses a connection nor spins" {
    local ticks_before ticks_after i
    start_daemon "$ST"
    ticks_before=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")
    for i in $(seq 30); do ping_session "$DPORT"; done
    wait_for "no child left" no_children "$DPID"
    ticks_after=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")
    # 30 SIGCHLDs interrupted the wait; the parent used well under a second of CPU
    [ $((ticks_after - ticks_before)) -lt 50 ]
}

# make trace (tools/trace.sh): the kernel's own record of the burst.
@test "part 2: make trace (tracefs): res=2 SIGCHLDs plus delivered ones equal the children reaped" {
    local why raw="$BATS_TEST_TMPDIR/raw" dpid chld sent dropped delivered kid reaped=0
    why=$("$FORKD_ROOT/tools/trace.sh" --which tracefs) || skip "$why"
    run "$FORKD_ROOT/tools/trace.sh" -s tracefs -r "$raw" "$ST" 20
    echo "$output"
    [ "$status" -eq 0 ]
    dpid=$(sed -n 's/^dpid=//p' "$raw/facts")
    chld=$(kill -l CHLD)
    sent=$(grep -c "signal_generate: sig=$chld .* pid=$dpid grp=[01] res=[0-9]*\$" "$raw/kernel.trace" || true)
    dropped=$(grep -c "signal_generate: sig=$chld .* pid=$dpid grp=[01] res=2\$" "$raw/kernel.trace" || true)
    delivered=$(grep -c "signal_deliver: sig=$chld " "$raw/kernel.trace" || true)
    # the daemon's own report: a log line per reaped child of the burst
    for kid in $(sed -n 's/^kids=//p' "$raw/facts"); do
        grep -q "reaped child pid=$kid exit=0\$" "$raw/daemon.log" && reaped=$((reaped + 1))
    done
    # the parent was stopped while all 20 were sent: one pending, 19 merged into it
    [ "$sent" -eq 20 ]
    [ "$dropped" -eq 19 ]
    [ "$delivered" -eq 1 ]
    [ $((dropped + delivered)) -eq "$reaped" ]
    [[ $output == *"summary: 20 children ended, 1 SIGCHLD delivered, 19 dropped, 20 reaped by one handler run: 0 zombies"* ]]
    run "$FORKD_ROOT/tools/trace.sh" --leftovers
    echo "$output"
    [ "$status" -eq 0 ]
}

# The same burst through strace, which anyone may run (tracefs is root's):
# strace sees each child's exit and each SIGCHLD delivered, not the kernel's
# verdict, so the merging is inferred; the reaping is the daemon's own report.
@test "part 2: make trace (strace): 20 children end, one SIGCHLD is delivered, all 20 are reaped" {
    local why raw="$BATS_TEST_TMPDIR/raw" dpid exits delivered
    why=$("$FORKD_ROOT/tools/trace.sh" --which strace) || skip "$why"
    run "$FORKD_ROOT/tools/trace.sh" -s strace -r "$raw" "$ST" 20
    echo "$output"
    [ "$status" -eq 0 ]
    dpid=$(sed -n 's/^dpid=//p' "$raw/facts")
    exits=$(grep -c ' exit ' "$raw/events" || true)
    delivered=$(grep -c " deliver $dpid" "$raw/events" || true)
    [ "$exits" -eq 20 ]
    # the parent was stopped while all 20 ended: one SIGCHLD pending, 19 merged
    [ "$delivered" -eq 1 ]
    [ "$(sed -n 's/^reaped=//p' "$raw/facts")" -eq 20 ]
    [ "$(sed -n 's/^zombies=//p' "$raw/facts")" -eq 0 ]
    [[ $output == *"summary: 20 children ended, $delivered SIGCHLD delivered, so $((20 - delivered)) merged into a pending one (inferred), 20 reaped by "*": 0 zombies"* ]]
}
