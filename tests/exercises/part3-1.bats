#!/usr/bin/env bats
# Exercise part3-1 (part3-signals-bug/README.md): a queued, realtime signal
# instead of SIGUSR2. Passes when frozen bursts of 5 no longer drift (ITERS
# rounds), and the new signal is blocked wherever the parent works outside
# its wait, as the daemon's other signals are (a handler that could run
# between the limit check and active++ would pass a burst by luck).

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
    [t_blocked]='part3-1: the new signal is blocked while the parent works outside its wait'
    [no_rt]='the parent catches no realtime signal (SigCgt in /proc/PID/status): install a handler for SIGRTMIN with sigaction'
    [not_caught]='could not catch the parent outside its wait in 100 tries, with 100 clients queued'
    [unblocked]='signal %s is not blocked while the parent works outside its wait (SigBlk of the parent stopped in system call %s): its handler could run between the limit check and active++; block it with sigprocmask(SIG_BLOCK) like the other signals, and take it out of srv.wait_mask only'
)
msg_pl+=(
    [t_exact]='part3-1: 5 procesów dzieci kończy się naraz: następny klient ma active=1'
    [t_limit]='part3-1: licznik wciąż działa: limit zostaje osiągnięty i daemon odmawia'
    [not_reaped]='po SIGCONT pod daemonem wciąż są procesy dzieci (%s), a nie powinno być żadnego: daemon ma nadal zbierać każdy zakończony proces dziecka'
    [no_greeting]='samotny klient po serii nie dostał żadnego powitania'
    [drift]='po zamrożonej serii 5 samotny klient dostał powitanie z active=%s, a powinno być active=1; %s z 5 sygnałów wysłanych przez procesy dzieci zlało się z tym, który już oczekiwał (sygnały standardowe nie są kolejkowane; sygnały czasu rzeczywistego, od SIGRTMIN do SIGRTMAX, są)'
    [refused]="po zamrożonej serii 5 samotny klient dostał odmowę, '%s', a powinien powitanie z active=1: daemon nie policzył żadnego z 5 zakończeń; czy nowy sygnał ma procedurę obsługi i czy jest odblokowany, gdy proces główny czeka (usunięty ze srv.wait_mask)?"
    [limit]="przy -m 2 i dwóch połączonych klientach trzeci dostał '%s', a powinien 'BUSY active=2 max=2': daemon ma nadal liczyć i odmawiać"
    [t_blocked]='part3-1: nowy sygnał jest zablokowany, gdy proces główny pracuje poza czekaniem'
    [no_rt]='proces główny nie przechwytuje żadnego sygnału czasu rzeczywistego (SigCgt w /proc/PID/status): zainstaluj procedurę obsługi SIGRTMIN przez sigaction'
    [not_caught]='w 100 próbach, przy 100 klientach w kolejce, nie udało się przyłapać procesu głównego poza czekaniem'
    [unblocked]='sygnał %s nie jest zablokowany, gdy proces główny pracuje poza czekaniem (SigBlk procesu zatrzymanego w wywołaniu systemowym %s): jego procedura obsługi mogłaby się uruchomić między sprawdzeniem limitu a active++; zablokuj go przez sigprocmask(SIG_BLOCK) jak pozostałe sygnały i usuń go tylko ze srv.wait_mask'
)

@test "$(msg t_exact)" {
    local active round
    start_daemon part3-signals-bug -m 5
    for round in $(seq "$ITERS"); do
        burst_reaped 5
        if ! within 3000 lone_client_is_first 5; then
            [ -n "$GREETING" ] || fail_because no_greeting
            [[ $GREETING != BUSY* ]] || fail_because refused "$GREETING"
            active=$(field_of "$GREETING" active)
            fail_because drift "${active:-?}" "$((${active:-1} - 1))"
        fi
    done
}

# The signals a process catches and blocks (/proc/PID/status, a hex mask:
# bit N-1 for signal N), and the system call it sits in.
sigmask() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
syscall_nr() { cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null; }
has_signal() { (((16#$1 >> ($2 - 1)) & 1)); }
in_a_syscall() { [[ $(syscall_nr "$1") =~ ^[0-9]+$ ]]; }

@test "$(msg t_blocked)" {
    local caught rt sig wait_nr try nr blocked=
    start_daemon part3-signals-bug -m 10000 -t 0
    # the realtime signals it catches: the exercise's new one among them
    caught=$(sigmask "$DPID" SigCgt)
    for sig in $(seq "$(kill -l RTMIN)" "$(kill -l RTMAX)"); do
        has_signal "$caught" "$sig" && rt+=" $sig"
    done
    [ -n "$rt" ] || fail_because no_rt
    # idle, it waits in pselect: that system call's number
    wait_for "the daemon to wait for clients" in_a_syscall "$DPID"
    wait_nr=$(syscall_nr "$DPID")
    # a queue of clients keeps it working (100 connections made while it
    # is stopped); stop it again and again until it is caught outside the
    # wait, where its normal mask applies
    kill -STOP "$DPID"
    wait_for "daemon stopped" is_stopped "$DPID"
    for try in $(seq 100); do connect "$DPORT"; done
    kill -CONT "$DPID"
    for try in $(seq 100); do
        kill -STOP "$DPID"
        wait_for "daemon stopped" is_stopped "$DPID"
        nr=$(syscall_nr "$DPID")
        if [ "$nr" != "$wait_nr" ]; then
            blocked=$(sigmask "$DPID" SigBlk)
            kill -CONT "$DPID"
            break
        fi
        kill -CONT "$DPID"
    done
    close_all_conns
    [ -n "$blocked" ] || fail_because not_caught
    for sig in $rt; do
        has_signal "$blocked" "$sig" || fail_because unblocked "SIG$(kill -l "$sig")" "$nr"
    done
}

@test "$(msg t_limit)" {
    start_daemon part3-signals-bug -m 2
    hold 2 "$DPORT"
    connect "$DPORT"
    read_line "$CONN" || true
    [ "$LINE" = "BUSY active=2 max=2" ] || fail_because limit "$LINE"
}
