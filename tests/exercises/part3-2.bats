#!/usr/bin/env bats
# Exercise part3-2 (part3-signals-bug/README.md): count the children you
# reap instead of the signals you receive. Passes when frozen bursts do not
# drift and children killed with kill -9 do not leak their slots.

load checker
setup_file() { build_stages_if_needed; }

msg_en+=(
    [t_exact]='part3-2: 5 children ending together: the next client is active=1'
    [t_killed]='part3-2: 3 children killed with kill -9 do not leak: a client still gets in'
    [t_limit]='part3-2: it still counts: the limit is reached and refused'
    [t_once]='part3-2: with 2 clients connected, a third comes and goes: the next is active=3'
    [twice]="with 2 clients connected, a third came and went, and the next was greeted '%s', expected active=3 max=5: that ending was counted more than once; decrement once per child reaped, and nowhere else (is SIGUSR2 still counted too?)"
    [not_reaped]='%s children are still under the daemon after SIGCONT, expected none: it must still reap every ended child'
    [drift]="after a frozen burst of 5, a lone client got '%s', expected active=1 max=5: %s decrements were lost with the SIGUSR2s that merged; count one per child reaped, one waitpid result each, however many signals merged"
    [refused]="after a frozen burst of 5, a lone client was refused, '%s', expected a greeting with active=1 max=5: the daemon counted none of the 5 endings; decrement once per child reaped"
    [leak]="after 3 children were killed with kill -9 and nobody is connected, a client got '%s', expected active=1 max=3: a killed child sends no SIGUSR2, but waitpid still returns it; decrement there"
    [limit]="with -m 2 and two clients connected, a third got '%s', expected 'BUSY active=2 max=2': the daemon must still count and refuse"
)
msg_pl+=(
    [t_exact]='part3-2: 5 procesów dzieci kończy się naraz: następny klient ma active=1'
    [t_killed]='part3-2: 3 procesy dzieci zabite przez kill -9 nie zajmują miejsc na zawsze: klient wciąż wchodzi'
    [t_limit]='part3-2: licznik wciąż działa: limit zostaje osiągnięty i daemon odmawia'
    [t_once]='part3-2: przy 2 połączonych klientach trzeci przychodzi i odchodzi: następny ma active=3'
    [twice]="przy 2 połączonych klientach trzeci przyszedł i się rozłączył; następny dostał powitanie '%s', a powinien active=3 max=5: to zakończenie zostało policzone więcej niż raz; zmniejszaj licznik raz na każdy zebrany proces dziecka i nigdzie indziej (czy SIGUSR2 też wciąż jest liczony?)"
    [not_reaped]='po SIGCONT pod daemonem wciąż są procesy dzieci (%s), a nie powinno być żadnego: daemon ma nadal zbierać każdy zakończony proces dziecka'
    [drift]="po zamrożonej serii 5 samotny klient dostał '%s', a powinien active=1 max=5: zmniejszenia licznika (%s) przepadły razem z sygnałami SIGUSR2, które się zlały; zmniejszaj licznik raz na każdy zebrany proces dziecka: waitpid zwraca każdy osobno, ile by sygnałów się nie zlało"
    [refused]="po zamrożonej serii 5 samotny klient dostał odmowę, '%s', a powinien powitanie z active=1 max=5: daemon nie policzył żadnego z 5 zakończeń; zmniejszaj licznik raz na każdy zebrany proces dziecka"
    [leak]="po zabiciu 3 procesów dzieci przez kill -9, gdy nikt nie jest połączony, klient dostał '%s', a powinien active=1 max=3: zabity proces dziecka nie wysyła SIGUSR2, ale waitpid i tak go zwraca; tam zmniejszaj licznik"
    [limit]="przy -m 2 i dwóch połączonych klientach trzeci dostał '%s', a powinien 'BUSY active=2 max=2': daemon ma nadal liczyć i odmawiać"
)

@test "$(msg t_exact)" {
    local active round
    start_daemon part3-signals-bug -m 5
    for round in $(seq "$ITERS"); do
        burst_reaped 5
        if ! within 3000 lone_client_is_first 5; then
            [[ $GREETING != BUSY* ]] || fail_because refused "$GREETING"
            active=$(field_of "$GREETING" active)
            fail_because drift "$GREETING" "$((${active:-1} - 1))"
        fi
    done
}

# Two clients stay; a third comes and goes. Its ending must be counted
# once: a decrement per child reaped, and none left on SIGUSR2 as well.
third_is_reaped() { [ "$(count_children "$DPID")" -eq 2 ]; }
@test "$(msg t_once)" {
    start_daemon part3-signals-bug -m 5
    hold 2 "$DPORT"
    ping_session "$DPORT"
    within 10000 third_is_reaped || fail_because not_reaped "$(count_children "$DPID")"
    connect "$DPORT"
    read_line "$CONN" || true
    [[ $LINE == "HELLO "*" active=3 max=5" ]] || fail_because twice "$LINE"
}

@test "$(msg t_killed)" {
    start_daemon part3-signals-bug -m 3
    kill_served 3 "$DPORT"
    connect "$DPORT"
    read_line "$CONN" || true
    [[ $LINE == "HELLO "*" active=1 max=3" ]] || fail_because leak "$LINE"
}

@test "$(msg t_limit)" {
    start_daemon part3-signals-bug -m 2
    hold 2 "$DPORT"
    connect "$DPORT"
    read_line "$CONN" || true
    [ "$LINE" = "BUSY active=2 max=2" ] || fail_because limit "$LINE"
}
