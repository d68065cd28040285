#!/usr/bin/env bats
# Exercise part1-1 (part1-fork/README.md): the article's own part II fix.
# Set SIGCHLD to SIG_IGN and the kernel discards every child as it ends.
# Passes when no zombie is left even while the daemon is stopped and no
# client comes, and when the price is visible: no exit status is ever
# logged, and at shutdown the pids the daemon kept name nobody.

load checker
setup_file() { build_stages_if_needed; }

msg_en+=(
    [t_burst]='part1-1: a burst of 10 children ending while the daemon is stopped leaves no zombie, with no client to come'
    [t_price]="part1-1: the price: no exit status is ever logged, and at shutdown the daemon's pids name nobody"
    [zombies_stopped]='zombies under the stopped daemon once its 10 clients left'
    [why_stopped]='the daemon cannot run and no client comes: only the kernel can discard them, and it does so for a parent that ignores SIGCHLD (SIG_IGN)'
    [children_left]='children still under the daemon once it runs again'
    [zombies_sessions]='zombies under the daemon after 3 finished sessions'
    [why_sessions]='with SIGCHLD ignored, no child ever becomes a zombie'
    [reaped_lines]="'reaped child' lines in the log (exit statuses the daemon learned)"
    [why_reaped]='with SIGCHLD ignored, waitpid has nothing to collect: how a child ended is lost'
    [exit_status]="the daemon's exit status after SIGTERM"
    [no_kill_enoent]="at shutdown the daemon did not try to SIGTERM its vanished child %s: expected 'kill child pid=%s: No such process' in the log (it still keeps the pids, which now name nobody)"
)
msg_pl+=(
    [t_burst]='part1-1: 10 procesów dzieci kończy się, gdy daemon jest zatrzymany, i nie zostaje żaden zombie, choć nie przyjdzie żaden klient'
    [t_price]='part1-1: cena: daemon nie poznaje już żadnego statusu wyjścia, a przy zamykaniu jego numery pid nie wskazują nikogo'
    [zombies_stopped]='procesy zombie pod zatrzymanym daemonem, gdy rozłączyło się 10 klientów'
    [why_stopped]='daemon nie może działać i nie przyjdzie żaden klient: usunąć je może tylko jądro, a robi to, gdy proces główny ignoruje SIGCHLD (SIG_IGN)'
    [children_left]='procesy dzieci, które zostały pod daemonem, gdy znów działa'
    [zombies_sessions]='procesy zombie pod daemonem po 3 zakończonych sesjach'
    [why_sessions]='gdy SIGCHLD jest ignorowany, żaden proces dziecka nie staje się zombie'
    [reaped_lines]="wiersze 'reaped child' w logu (statusy wyjścia, które poznał daemon)"
    [why_reaped]='gdy SIGCHLD jest ignorowany, waitpid nie ma czego zebrać: to, jak zakończył się proces dziecka, przepada'
    [exit_status]='status wyjścia daemona po SIGTERM'
    [no_kill_enoent]="przy zamykaniu daemon nie próbował wysłać SIGTERM do procesu dziecka %s, który już zniknął: w logu powinno być 'kill child pid=%s: No such process' (daemon wciąż pamięta numery pid, które nie wskazują już nikogo)"
)

all_gone() {
    local kid
    for kid in "$@"; do gone "$kid" || return 1; done
}

@test "$(msg t_burst)" {
    local round
    start_daemon part1-fork -t 0
    for round in $(seq "$ITERS"); do
        hold 10 "$DPORT"
        kill -STOP "$DPID"
        wait_for "daemon stopped" is_stopped "$DPID"
        close_held
        # No client will come and the daemon cannot run: only the kernel can
        # make these children go away.
        if ! within 5000 all_gone "${KIDS[@]}"; then
            show_children
            expect "$(msg zombies_stopped)" "$(count_zombies "$DPID")" 0 "$(msg why_stopped)"
        fi
        kill -CONT "$DPID"
        expect "$(msg children_left)" "$(count_children "$DPID")" 0
    done
}

@test "$(msg t_price)" {
    local kids=() i kid status=0
    start_daemon part1-fork
    for i in 1 2 3; do
        connect_greeted "$DPORT"
        kids+=("$(field_of "$GREETING" pid)")
        send_line "$CONN" QUIT
        read_line "$CONN"
        close_conn "$CONN"
    done
    if ! within 5000 all_gone "${kids[@]}"; then
        expect "$(msg zombies_sessions)" "$(count_zombies "$DPID")" 0 "$(msg why_sessions)"
    fi
    ping_session "$DPORT"
    # waitpid has nothing left to collect: how the children ended is lost.
    expect "$(msg reaped_lines)" "$(grep -c 'reaped child' "$DLOG" || true)" 0 "$(msg why_reaped)"
    kill -TERM "$DPID"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID"
    wait "$DPID" || status=$?
    expect "$(msg exit_status)" "$status" 0
    # It still had the three pids in its table and sent each a SIGTERM:
    # the kernel answered that no such process exists. On a busy machine
    # a pid can be reused by then, and that SIGTERM would hit a stranger:
    # that is why the article's part II signals its process group instead.
    for kid in "${kids[@]}"; do
        if ! grep -q "kill child pid=$kid: No such process" "$DLOG"; then
            cat "$DLOG" >&2
            fail_because no_kill_enoent "$kid" "$kid"
        fi
    done
}
