#!/usr/bin/env bash
# tools/demo.sh [STAGE]: a narrated tour of the four lessons, each
# stage started on a free port, its lesson made to happen, the evidence
# (ps, the daemon's own counter, ipcs) printed beside the words. Under a
# minute; cleans up after itself, also when interrupted with Ctrl-C.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
# shellcheck source=tools/i18n.sh
source "$(dirname "$0")/i18n.sh"

# What the demo says, in English and in Polish (FORKD_LANG=pl or a Polish
# locale): the evidence it prints (ps, logs, ipcs, the daemon's lines) stays
# as the programs print it.
declare -A msg_en=(
    [interrupted]='demo interrupted: stopping what it started'
    [failed]='demo failed: %s'
    [no_start]='%s did not start'
    [no_connect]='could not connect'
    [no_answer]='no answer'
    [p1_title]='Part 1 (part1-fork): one child per connection; zombies wait for the next client'
    [p1_start]='Daemon pid %s listens on port %s. Five clients connect, then all hang up.'
    [p1_want5]='expected 5 zombies'
    [p1_zombies]='5 clients gone, %s zombies (Z, <defunct>). The SIGCHLD handler only noted the signal;'
    [p1_why]="its waitpid loop runs once accept returns a client, as the article's PHP handler runs after socket_accept."
    [p1_sixth]='A sixth client connects (and stays):'
    [p1_noreap]='the arrival did not reap'
    [p1_reaped]='its arrival ran the loop: %s children reaped at once (the last lines of the log):'
    [p1_stop]='SIGTERM: the daemon ends its children, reaps them and exits (status %s).'
    [p2_title]='Part 2 (part2-zombies): a SIGCHLD handler reaps every child'
    [p2_start]='The same clients, ten this time, all connected at once and closed at once:'
    [p2_serving]='  %s children serving; closing all ten...'
    [p2_survived]='zombies survived'
    [p2_none]='no zombie left: one SIGCHLD, a waitpid(WNOHANG) loop, %s children reaped (the last lines of the log):'
    [p2_trace]="The kernel's own record, ten children ending while the parent is frozen (make trace STAGE=part2-zombies K=10):"
    [p2_notrace]="(make trace, the kernel's record of the merged SIGCHLDs, cannot run here: %s)"
    [trace_failed]='make trace failed'
    [rounds_head]='round|clients closed at once|the daemon'"'"'s counter|real children'
    [round_failed]='a round failed'
    [p3_title]='Part 3 (part3-signals-bug): counting connections with SIGUSR2, and the drift'
    [p3_intro1]='Limit 8. Each child sends SIGUSR2 to the parent when its client is done;'
    [p3_intro2]='the handler decrements. Clients connect, the parent is frozen (SIGSTOP),'
    [p3_intro3]='they all leave, the parent resumes (SIGCONT): their SIGUSR2s were merged into one.'
    [p3_one]='One client connects: %s'
    [p3_second]="a second client gets '%s' while only %s child is running."
    [p3_unreaped]='child not reaped'
    [p3_kill9]="kill -9 of that child (it never signals): '%s' with %s children. Nobody gets in."
    [p3_natural]='Without freezing anything (a C client closing 5 sockets within microseconds):'
    [p3_trace]="The kernel's own record of a frozen burst of 5 (make trace STAGE=part3-signals-bug):"
    [p3_notrace]="(make trace, the kernel's record of the lost SIGUSR2s, cannot run here: %s)"
    [p4_title]='Part 4 (part4-shm-semaphore): the counter in shared memory, under a semaphore'
    [p4_logged]='The daemon logged: %s. The same frozen rounds:'
    [p4_noids]="The daemon logged no 'ipc shm=... sem=...' line (has an exercise changed part 4?). The same frozen rounds:"
    [p4_exact]='exact after every round: no signal carries the count any more.'
    [p4_unreaped]='children not reaped'
    [p4_probe]='probe failed'
    [p4_killed]='a child killed with kill -9: the parent gives its slot back when it reaps it (counter %s).'
    [p4_running]='While it runs, ipcs lists the two objects:'
    [p4_after]='After SIGTERM (status %s):'
    [p4_gone]='shm %s and sem %s are gone: removed with IPC_RMID, nothing outlives the daemon.'
    [p4_left]='IPC objects left behind'
    [p4_noipcs]='(no ids to look for with ipcs: skipped)'
    [p4_natural]='Natural bursts, for comparison with part 3:'
    [ipcs_only]='(only shmid %s and semid %s)'
    [no_stage]='no stage named %s'
    [done]='demo done in %d s'
)
declare -A msg_pl=(
    [interrupted]='demo przerwane: zatrzymuję to, co uruchomiło'
    [failed]='demo nie powiodło się: %s'
    [no_start]='%s nie wystartował'
    [no_connect]='nie udało się połączyć'
    [no_answer]='brak odpowiedzi'
    [p1_title]='Etap 1 (part1-fork): proces dziecka na każde połączenie; zombie czekają na następnego klienta'
    [p1_start]='Daemon (pid %s) nasłuchuje na porcie %s. Łączy się pięciu klientów, potem wszyscy się rozłączają.'
    [p1_want5]='oczekiwano 5 zombie'
    [p1_zombies]='5 klientów odeszło, %s zombie (Z, <defunct>). Procedura obsługi SIGCHLD tylko odnotowała sygnał;'
    [p1_why]='jej pętla waitpid rusza dopiero, gdy accept zwróci klienta, tak jak procedura PHP z artykułu rusza po socket_accept.'
    [p1_sixth]='Łączy się szósty klient (i zostaje):'
    [p1_noreap]='przyjście klienta nie zebrało procesów dzieci'
    [p1_reaped]='jego przyjście uruchomiło pętlę: naraz zebrano %s procesów dzieci (ostatnie linie logu):'
    [p1_stop]='SIGTERM: daemon kończy procesy dzieci, zbiera je i kończy działanie (kod wyjścia %s).'
    [p2_title]='Etap 2 (part2-zombies): procedura obsługi SIGCHLD zbiera każdy proces dziecka'
    [p2_start]='Ci sami klienci, tym razem dziesięciu, wszyscy połączeni naraz i rozłączeni naraz:'
    [p2_serving]='  %s procesów dzieci obsługuje klientów; zamykam wszystkie dziesięć połączeń...'
    [p2_survived]='zombie przetrwały'
    [p2_none]='żadnego zombie: jeden SIGCHLD, pętla waitpid(WNOHANG), zebrano %s procesów dzieci (ostatnie linie logu):'
    [p2_trace]='Zapis prowadzony przez samo jądro: dziesięć procesów dzieci kończy się, gdy proces główny jest zamrożony (make trace STAGE=part2-zombies K=10):'
    [p2_notrace]='(make trace, zapis jądra o zlanych sygnałach SIGCHLD, nie może tu działać: %s)'
    [trace_failed]='make trace nie powiodło się'
    [rounds_head]='runda|klienci rozłączeni naraz|licznik daemona|rzeczywiste procesy dzieci'
    [round_failed]='runda nie powiodła się'
    [p3_title]='Etap 3 (part3-signals-bug): liczenie połączeń sygnałem SIGUSR2 i dryf licznika'
    [p3_intro1]='Limit 8. Każdy proces dziecka po obsłużeniu klienta wysyła SIGUSR2 do procesu głównego;'
    [p3_intro2]='procedura obsługi zmniejsza licznik. Klienci się łączą, proces główny zostaje zamrożony (SIGSTOP),'
    [p3_intro3]='wszyscy odchodzą, proces główny rusza dalej (SIGCONT): ich sygnały SIGUSR2 zlały się w jeden.'
    [p3_one]='Łączy się jeden klient: %s'
    [p3_second]="drugi klient dostaje '%s', choć działa tylko %s proces dziecka."
    [p3_unreaped]='proces dziecka nie został zebrany'
    [p3_kill9]="kill -9 tego procesu dziecka (on nigdy nie wyśle sygnału): '%s' przy %s procesach dzieci. Nikt już nie wejdzie."
    [p3_natural]='Bez zamrażania czegokolwiek (klient w C zamyka 5 gniazd w ciągu mikrosekund):'
    [p3_trace]='Zapis prowadzony przez samo jądro dla zamrożonej serii 5 (make trace STAGE=part3-signals-bug):'
    [p3_notrace]='(make trace, zapis jądra o zgubionych sygnałach SIGUSR2, nie może tu działać: %s)'
    [p4_title]='Etap 4 (part4-shm-semaphore): licznik w pamięci współdzielonej, chroniony semaforem'
    [p4_logged]='Daemon zalogował: %s. Te same zamrożone rundy:'
    [p4_noids]="Daemon nie zalogował linii 'ipc shm=... sem=...' (czy ćwiczenie zmieniło etap 4?). Te same zamrożone rundy:"
    [p4_exact]='licznik dokładny po każdej rundzie: żaden sygnał już go nie przenosi.'
    [p4_unreaped]='procesy dzieci nie zostały zebrane'
    [p4_probe]='próba nie powiodła się'
    [p4_killed]='proces dziecka zabity przez kill -9: proces główny oddaje jego miejsce, gdy go zbiera (licznik %s).'
    [p4_running]='Póki daemon działa, ipcs pokazuje oba obiekty:'
    [p4_after]='Po SIGTERM (kod %s):'
    [p4_gone]='shm %s i sem %s zniknęły: usunięte przez IPC_RMID, nic nie przeżywa daemona.'
    [p4_left]='zostały obiekty IPC'
    [p4_noipcs]='(brak identyfikatorów do szukania przez ipcs: pominięte)'
    [p4_natural]='Naturalne serie, dla porównania z etapem 3:'
    [ipcs_only]='(tylko shmid %s i semid %s)'
    [no_stage]='nie ma etapu %s'
    [done]='demo zakończone w %d s'
)

if [ -t 1 ]; then
    B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'
else
    B= G= R= D= N=
fi
WORK=$(mktemp -d)
trap 'cleanup_started; rm -rf "$WORK"' EXIT
trap 'echo; msgln interrupted; exit 130' INT TERM

title() { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
say() { printf '%s\n' "$*"; }
good() { printf '%s=> %s%s\n' "$G" "$*" "$N"; }
bad() { printf '%s=> %s%s\n' "$R" "$*" "$N"; }
shown() { # shown COMMAND...: prints the command, then its output, indented
    printf '  %s$ %s%s\n' "$D" "$*" "$N"
    "$@" 2>&1 | sed 's/^/    /'
}
die() {
    bad "$(msg failed "$*")"
    exit 1
}

part1() {
    title "$(msg p1_title)"
    launch -- part1-fork -t 0 || die "$(msg no_start part1-fork)"
    say "$(msg p1_start "$DPID" "$DPORT")"
    hold 5 "$DPORT" || die "could not connect"
    release_all
    poll 5000 zombies_are "$DPID" 5 || die "$(msg p1_want5)"
    shown ps -o pid,ppid,stat,cmd --ppid "$DPID"
    bad "$(msg p1_zombies "$(count_zombies "$DPID")")"
    bad "$(msg p1_why)"
    say "$(msg p1_sixth)"
    hold 1 "$DPORT" || die "could not connect"
    poll 5000 zombies_are "$DPID" 0 || die "$(msg p1_noreap)"
    shown ps -o pid,ppid,stat,cmd --ppid "$DPID"
    good "$(msg p1_reaped "$(grep -c 'reaped child' "$DLOG")")"
    grep 'reaped child' "$DLOG" | tail -n 3 | sed "s/^/    $D/;s/\$/$N/"
    release_all
    stop_daemon "$DPID"
    good "$(msg p1_stop "$STOP_STATUS")"
}

part2() {
    title "$(msg p2_title)"
    launch -- part2-zombies || die "$(msg no_start part2-zombies)"
    say "$(msg p2_start)"
    hold 10 "$DPORT" || die "could not connect"
    say "$(msg p2_serving "$(count_children "$DPID")")"
    release_all
    poll 5000 no_children "$DPID" || die "$(msg p2_survived)"
    shown ps -o pid,ppid,stat,cmd --ppid "$DPID"
    good "$(msg p2_none "$(grep -c 'reaped child' "$DLOG")")"
    grep 'reaped child' "$DLOG" | tail -n 3 | sed "s/^/    $D/;s/\$/$N/"
    stop_daemon "$DPID"
    local why
    if why=$("$FORKD_ROOT/tools/trace.sh" --which); then
        say "$(msg p2_trace)"
        "$FORKD_ROOT/tools/trace.sh" part2-zombies 10 | sed 's/^/    /' || die "$(msg trace_failed)"
    else
        say "$(msg p2_notrace "${why#none: }")"
    fi
}

# rounds STAGE MAX: frozen bursts until one slot is left (part 3) or for
# the same sizes (part 4); prints the daemon's counter beside the truth.
# COUNTER is the daemon's count with nobody connected (a probe's greeting
# says active=COUNTER+1).
probe_counter() {
    talk "$DPORT" QUIT || return 1
    case ${REPLIES[0]} in
    BUSY*) COUNTER=$(field active "${REPLIES[0]}") ;;
    *) COUNTER=$(($(field active "${REPLIES[0]}") - 1)) ;;
    esac
    poll 5000 no_children "$DPID"
}
rounds() {
    local max=$1 round=0 k=3
    local head
    IFS='|' read -r -a head <<<"$(msg rounds_head)"
    printf '  %s %s %s %s\n' "$(pad 7 "${head[0]}")" "$(pad 26 "${head[1]}")" "$(pad 24 "${head[2]}")" "${head[3]}"
    while :; do
        round=$((round + 1))
        hold "$k" "$DPORT" || return 1
        kill -STOP "$DPID" # freeze the parent: the children end while it cannot run
        poll 5000 is_stopped "$DPID" || return 1
        release_all
        poll 5000 zombies_are "$DPID" "$k" || return 1
        kill -CONT "$DPID"
        poll 5000 no_children "$DPID" || return 1
        probe_counter || return 1
        printf '  %-7s %-26s %-24s %s\n' "$round" "$k" "$COUNTER" "$(count_children "$DPID")"
        [ "$round" -lt 8 ] || break
        [ "$1" = exact ] && [ "$round" -ge 4 ] && break
        [ "$1" != exact ] && [ $((max - COUNTER)) -lt 2 ] && break
        [ "$1" != exact ] && [ $((max - COUNTER)) -lt 3 ] && k=2
    done
}

part3() {
    title "$(msg p3_title)"
    launch -- part3-signals-bug -m 8 || die "$(msg no_start part3-signals-bug)"
    say "$(msg p3_intro1)"
    say "$(msg p3_intro2)"
    say "$(msg p3_intro3)"
    rounds 8 || die "$(msg round_failed)"
    hold 1 "$DPORT" || die "$(msg no_connect)"
    say "$(msg p3_one "$GREETING")"
    talk "$DPORT" || die "$(msg no_answer)"
    bad "$(msg p3_second "${REPLIES[0]}" "$(count_children "$DPID")")"
    kill -KILL "$(field pid "$GREETING")"
    release_all
    poll 5000 no_children "$DPID" || die "$(msg p3_unreaped)"
    talk "$DPORT" || die "$(msg no_answer)"
    bad "$(msg p3_kill9 "${REPLIES[0]}" "$(count_children "$DPID")")"
    stop_daemon "$DPID"
    say "$(msg p3_natural)"
    "$FORKD_ROOT/tools/drift-rate.sh" 20 5 part3-signals-bug | sed 's/^/    /'
    local why
    if why=$("$FORKD_ROOT/tools/trace.sh" --which); then
        say "$(msg p3_trace)"
        "$FORKD_ROOT/tools/trace.sh" part3-signals-bug 5 | sed 's/^/    /' || die "$(msg trace_failed)"
    else
        say "$(msg p3_notrace "${why#none: }")"
    fi
}

# ipcs_of SHMID SEMID: ipcs -m -s, only the headers and these two objects.
ipcs_of() {
    printf '  %s$ ipcs -m -s   %s%s\n' "$D" "$(msg ipcs_only "$1" "$2")" "$N"
    ipcs -m -s | awk -v s="$1" -v m="$2" '
        /^------/ { sect = /Shared/ ? "m" : "s"; print; next }
        /^key/ { print; next }
        (sect == "m" && $2 == s) || (sect == "s" && $2 == m)' | sed 's/^/    /'
}

part4() {
    title "$(msg p4_title)"
    launch -- part4-shm-semaphore -m 8 || die "$(msg no_start part4-shm-semaphore)"
    local ids shm sem
    ids=$(sed -n 's/.*\(ipc shm=[0-9]* sem=[0-9]*\).*/\1/p' "$DLOG")
    shm=$(field shm "$ids") sem=$(field sem "$ids")
    if [ -n "$ids" ]; then say "$(msg p4_logged "$ids")"; else say "$(msg p4_noids)"; fi
    rounds exact || die "$(msg round_failed)"
    good "$(msg p4_exact)"
    hold 2 "$DPORT" || die "$(msg no_connect)"
    kill -KILL "$(field pid "$GREETING")"
    release_all
    poll 5000 no_children "$DPID" || die "$(msg p4_unreaped)"
    probe_counter || die "$(msg p4_probe)"
    good "$(msg p4_killed "$COUNTER")"
    if [ -z "$ids" ]; then
        stop_daemon "$DPID"
        say "$(msg p4_noipcs)"
    else
        say "$(msg p4_running)"
        ipcs_of "$shm" "$sem"
        stop_daemon "$DPID"
        say "$(msg p4_after "$STOP_STATUS")"
        ipcs_of "$shm" "$sem"
        if ! awk -v s="$shm" 'NR > 1 && $2 == s { f = 1 } END { exit !f }' /proc/sysvipc/shm &&
            ! awk -v m="$sem" 'NR > 1 && $2 == m { f = 1 } END { exit !f }' /proc/sysvipc/sem; then
            good "$(msg p4_gone "$shm" "$sem")"
        else
            die "$(msg p4_left)"
        fi
    fi
    say "$(msg p4_natural)"
    "$FORKD_ROOT/tools/drift-rate.sh" 20 5 part4-shm-semaphore | sed 's/^/    /'
}

started=$(now_ms)
stages=("${@:-part1-fork part2-zombies part3-signals-bug part4-shm-semaphore}")
for stage in ${stages[*]}; do
    case $stage in
    part1-fork) part1 ;;
    part2-zombies) part2 ;;
    part3-signals-bug) part3 ;;
    part4-shm-semaphore) part4 ;;
    *) die "$(msg no_stage "$stage")" ;;
    esac
done
printf '\n%s%s%s\n' "$B" "$(msg done $((($(now_ms) - started) / 1000)))" "$N"
