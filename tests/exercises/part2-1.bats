#!/usr/bin/env bats
# Exercise part2-1 (part2-zombies/README.md): break the reaping on purpose,
# one waitpid per SIGCHLD. Passes when the daemon shows the bug: after 20
# children end while it is stopped, most of them stay zombies.

load checker
setup_file() { build_stages_if_needed; }

msg_en+=(
    [t_bug]='part2-1: a frozen burst of 20 leaves zombies behind'
    [no_handler]="no 'reaped child' line in the log after SIGCONT: the SIGCHLD handler did not run, or it reaps nothing at all"
    [zombies]='zombies left after a frozen burst of 20 and one more session: %s, expected at least 10: 20 children ended while the daemon was stopped, so one SIGCHLD stood for all of them, and the handler still reaped them all; make it call waitpid once per signal (the while in on_sigchld becomes an if), still with WNOHANG: a handler must never wait for a child that is still running'
)
msg_pl+=(
    [t_bug]='part2-1: zamrożona seria 20 zostawia procesy zombie'
    [no_handler]="po SIGCONT w logu nie ma wiersza 'reaped child': procedura obsługi SIGCHLD nie zadziałała albo nie zbiera niczego"
    [zombies]='po zamrożonej serii 20 i jeszcze jednej sesji zostało procesów zombie: %s, a powinno co najmniej 10: 20 procesów dzieci zakończyło się, gdy daemon był zatrzymany, więc jeden SIGCHLD oznaczał je wszystkie, a procedura obsługi i tak zebrała wszystkie; niech wywołuje waitpid raz na sygnał (while w on_sigchld zmienia się w if), nadal z WNOHANG: procedura obsługi nigdy nie może czekać na proces dziecka, który jeszcze działa'
)

@test "$(msg t_bug)" {
    local zombies
    start_daemon part2-zombies
    hold 20 "$DPORT"
    frozen_burst 20
    # the one SIGCHLD is handled: at least one child is reaped...
    within 5000 log_count_at_least "$DLOG" 'reaped child' 1 || fail_because no_handler
    # ...and after a whole session more, the parent has had every chance
    ping_session "$DPORT"
    zombies=$(count_zombies "$DPID")
    if [ "$zombies" -lt 10 ]; then
        show_children
        fail_because zombies "$zombies"
    fi
}
