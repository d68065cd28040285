#!/usr/bin/env bats
# Exercise part3-1 (part3-signals-bug/README.md): a queued, realtime signal
# instead of SIGUSR2. Passes when a frozen burst of 5 no longer drifts.

load checker
setup_file() { build_stages_if_needed; }

msg_en+=(
    [t_exact]='part3-1: 5 children ending together: the next client is active=1'
    [t_limit]='part3-1: it still counts: the limit is reached and refused'
    [not_reaped]='%s children are still under the daemon after SIGCONT, expected none: it must still reap every ended child'
    [no_greeting]='a lone client after the burst got no greeting at all'
    [drift]='after a frozen burst of 5, a lone client was greeted active=%s, expected active=1: %s of the 5 signals the children sent merged into the one already pending (standard signals are not queued; realtime ones, SIGRTMIN to SIGRTMAX, are)'
    [refused]="after a frozen burst of 5, a lone client was refused, '%s', expected a greeting with active=1: the daemon counted none of the 5 endings; is the new signal handled, and unblocked while the parent waits (removed from srv.wait_mask)?"
    [limit]="with -m 2 and two clients connected, a third got '%s', expected 'BUSY active=2 max=2': the daemon must still count and refuse"
)
msg_pl+=(
    [t_exact]='part3-1: 5 procesów dzieci kończy się naraz: następny klient ma active=1'
    [t_limit]='part3-1: licznik wciąż działa: limit zostaje osiągnięty i daemon odmawia'
    [not_reaped]='po SIGCONT pod daemonem wciąż są procesy dzieci (%s), a nie powinno być żadnego: daemon ma nadal zbierać każdy zakończony proces dziecka'
    [no_greeting]='samotny klient po serii nie dostał żadnego powitania'
    [drift]='po zamrożonej serii 5 samotny klient dostał powitanie z active=%s, a powinno być active=1; %s z 5 sygnałów wysłanych przez procesy dzieci zlało się z tym, który już oczekiwał (sygnały standardowe nie są kolejkowane; sygnały czasu rzeczywistego, od SIGRTMIN do SIGRTMAX, są)'
    [refused]="po zamrożonej serii 5 samotny klient dostał odmowę, '%s', a powinien powitanie z active=1: daemon nie policzył żadnego z 5 zakończeń; czy nowy sygnał ma procedurę obsługi i czy jest odblokowany, gdy proces główny czeka (usunięty z srv.wait_mask)?"
    [limit]="przy -m 2 i dwóch połączonych klientach trzeci dostał '%s', a powinien 'BUSY active=2 max=2': daemon ma nadal liczyć i odmawiać"
)

# The greeting of a lone client says active=1 (retried: the queued signals
# are handled one per turn of the parent's loop). GREETING: the last one.
lone_client_is_first() {
    GREETING=
    connect "$DPORT"
    read_line "$CONN" || return 1
    GREETING=$LINE
    close_conn "$CONN"
    wait_for "probe reaped" no_children "$DPID"
    [[ $GREETING == "HELLO part3-signals-bug pid="*" active=1 max=5" ]]
}

@test "$(msg t_exact)" {
    local active
    start_daemon part3-signals-bug -m 5
    hold 5 "$DPORT"
    frozen_burst 5
    within 10000 no_children "$DPID" || fail_because not_reaped "$(count_children "$DPID")"
    if ! within 3000 lone_client_is_first; then
        [ -n "$GREETING" ] || fail_because no_greeting
        [[ $GREETING != BUSY* ]] || fail_because refused "$GREETING"
        active=$(field_of "$GREETING" active)
        fail_because drift "${active:-?}" "$((${active:-1} - 1))"
    fi
}

@test "$(msg t_limit)" {
    start_daemon part3-signals-bug -m 2
    hold 2 "$DPORT"
    connect "$DPORT"
    read_line "$CONN" || true
    [ "$LINE" = "BUSY active=2 max=2" ] || fail_because limit "$LINE"
}
