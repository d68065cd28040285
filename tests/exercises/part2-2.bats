#!/usr/bin/env bats
# Exercise part2-2 (part2-zombies/README.md): log how many children one run
# of the SIGCHLD handler reaped. Passes when a frozen burst of 20 is logged
# as "SIGCHLD reaped 20 children in one call".

load checker
setup_file() { build_stages_if_needed; }

msg_en+=(
    [t_burst]="part2-2: one SIGCHLD, 20 children: 'SIGCHLD reaped 20 children in one call'"
    [t_single]='part2-2: children ending one by one are one per call'
    [not_reaped]='%s children are still under the daemon after SIGCONT, expected none: the handler must still reap every ended child'
    [no_line]="the log has no line 'SIGCHLD reaped N children in one call', expected '%s': %s"
    [wrong_line]="the log says '%s', expected '%s': %s"
    [why_burst]='all 20 children ended while the daemon was stopped, so one SIGCHLD stood for all of them, and one run of the handler reaped them all'
    [why_single]='one client, one child: the handler ran once and reaped one'
)
msg_pl+=(
    [t_burst]="part2-2: jeden SIGCHLD, 20 procesów dzieci: 'SIGCHLD reaped 20 children in one call'"
    [t_single]='part2-2: procesy dzieci kończące się po jednym to jeden na wywołanie'
    [not_reaped]='po SIGCONT pod daemonem wciąż są procesy dzieci (%s), a nie powinno być żadnego: procedura obsługi ma nadal zbierać każdy zakończony proces dziecka'
    [no_line]="w logu nie ma wiersza 'SIGCHLD reaped N children in one call', a powinien być '%s': %s"
    [wrong_line]="log mówi '%s', a powinien '%s': %s"
    [why_burst]='każdy z 20 procesów dzieci zakończył się, gdy daemon był zatrzymany, więc jeden SIGCHLD oznaczał wszystkie, a jedno wywołanie procedury obsługi zebrało je naraz'
    [why_single]='jeden klient, jeden proces dziecka: procedura obsługi zadziałała raz i zebrała jeden'
)

# logged_count N WHY: the log says 'SIGCHLD reaped N children in one call'.
# logged_count N WHY [TIMES]: the log says it TIMES times (1 by default).
logged_count() {
    local wanted="SIGCHLD reaped $1 children in one call" seen
    within 3000 log_count_at_least "$DLOG" "$wanted" "${3:-1}" && return 0
    seen=$(grep -o 'SIGCHLD reaped [0-9]* children in one call' "$DLOG" | sort | uniq -c |
        sed 's/^ *\([0-9]*\) \(.*\)/\2 (x\1)/' | paste -sd ';' -)
    if [ -z "$seen" ]; then
        fail_because no_line "$wanted" "$2"
    else
        fail_because wrong_line "$seen" "$wanted" "$2"
    fi
}

@test "$(msg t_burst)" {
    local round
    start_daemon part2-zombies
    for round in $(seq "$ITERS"); do
        burst_reaped 20
        logged_count 20 "$(msg why_burst)" "$round"
    done
}

@test "$(msg t_single)" {
    start_daemon part2-zombies
    ping_session "$DPORT"
    logged_count 1 "$(msg why_single)"
}
