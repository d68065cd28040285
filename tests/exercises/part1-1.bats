#!/usr/bin/env bats
# Exercise part1-1 (part1-fork/README.md): the article's own part II fix.
# Set SIGCHLD to SIG_IGN and the kernel discards every child as it ends.
# Passes when no zombie is left even while the daemon is stopped and no
# client comes, and when the price is visible: no exit status is ever
# logged, and at shutdown the pids the daemon kept name nobody.

load ../helpers
setup_file() { build_stages_if_needed; }

all_gone() {
    local kid
    for kid in "$@"; do gone "$kid" || return 1; done
}

# expect WHAT SAW WANTED: fails with one line in the lesson's words.
expect() {
    [ "$2" = "$3" ] && return 0
    echo "$1: saw $2, expected $3" >&2
    return 1
}

@test "part1-1: a burst of 10 children ending while the daemon is stopped leaves no zombie, with no client to come" {
    start_daemon part1-fork -t 0
    hold 10 "$DPORT"
    kill -STOP "$DPID"
    wait_for "daemon stopped" is_stopped "$DPID"
    close_held
    # No client will come and the daemon cannot run: only the kernel can
    # make these children go away.
    if ! WAIT_MS=5000 wait_for "the 10 children to vanish" all_gone "${KIDS[@]}" 2>/dev/null; then
        ps -o pid,stat,cmd --ppid "$DPID" || true
        expect "zombies under the stopped daemon (is SIGCHLD ignored?)" "$(count_zombies "$DPID")" 0
    fi
    kill -CONT "$DPID"
    expect "children left under the daemon" "$(count_children "$DPID")" 0
}

@test "part1-1: the price: no exit status is ever logged, and at shutdown the daemon's pids name nobody" {
    local kids=() i kid status=0
    start_daemon part1-fork
    for i in 1 2 3; do
        connect_greeted "$DPORT"
        kids+=("$(field_of "$GREETING" pid)")
        send_line "$CONN" QUIT
        read_line "$CONN"
        close_conn "$CONN"
    done
    if ! WAIT_MS=5000 wait_for "the 3 children to vanish" all_gone "${kids[@]}" 2>/dev/null; then
        expect "zombies under the daemon after 3 finished sessions" "$(count_zombies "$DPID")" 0
    fi
    ping_session "$DPORT"
    # waitpid has nothing left to collect: how the children ended is lost.
    expect "'reaped child' lines in the log (exit statuses the daemon learned)" \
        "$(grep -c 'reaped child' "$DLOG" || true)" 0
    kill -TERM "$DPID"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID"
    wait "$DPID" || status=$?
    expect "the daemon's exit status after SIGTERM" "$status" 0
    # It still had the three pids in its table and sent each a SIGTERM:
    # the kernel answered that no such process exists. On a busy machine
    # a pid can be reused by then, and that SIGTERM would hit a stranger:
    # that is why the article's part II signals its process group instead.
    for kid in "${kids[@]}"; do
        if ! grep -q "kill child pid=$kid: No such process" "$DLOG"; then
            cat "$DLOG" >&2
            echo "the daemon did not try to SIGTERM its vanished child $kid at shutdown: expected 'kill child pid=$kid: No such process' in the log" >&2
            return 1
        fi
    done
}
