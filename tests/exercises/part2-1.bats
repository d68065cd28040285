#!/usr/bin/env bats
# Exercise part2-1 (part2-zombies/README.md): break the reaping on purpose,
# one waitpid per SIGCHLD. Passes when the daemon shows the bug: after 20
# children end while it is stopped, most of them stay zombies.

load ../helpers
setup_file() { build_stages_if_needed; }

@test "part2-1: a frozen burst of 20 leaves zombies behind" {
    start_daemon part2-zombies
    hold 20 "$DPORT"
    frozen_burst 20
    # the one SIGCHLD is handled: at least one child is reaped...
    wait_for "the handler to run" log_count_at_least "$DLOG" 'reaped child' 1
    # ...and after a whole session more, the parent has had every chance
    ping_session "$DPORT"
    ps -o pid,stat,cmd --ppid "$DPID" || true # shown if it fails
    [ "$(count_zombies "$DPID")" -ge 10 ]
}
