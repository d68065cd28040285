#!/usr/bin/env bash
# tests/scripts/demo.sh [STAGE]: a narrated tour of the four lessons, each
# stage started on a free port, its lesson made to happen, the evidence
# (ps, the daemon's own counter, ipcs) printed beside the words. Under a
# minute; cleans up after itself, also when interrupted with Ctrl-C.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

if [ -t 1 ]; then
    B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'
else
    B= G= R= D= N=
fi
WORK=$(mktemp -d)
trap 'cleanup_started; rm -rf "$WORK"' EXIT
trap 'echo; echo "demo interrupted: stopping what it started"; exit 130' INT TERM

title() { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
say() { printf '%s\n' "$*"; }
good() { printf '%s=> %s%s\n' "$G" "$*" "$N"; }
bad() { printf '%s=> %s%s\n' "$R" "$*" "$N"; }
shown() { # shown COMMAND...: prints the command, then its output, indented
    printf '  %s$ %s%s\n' "$D" "$*" "$N"
    "$@" 2>&1 | sed 's/^/    /'
}
die() {
    bad "demo failed: $*"
    exit 1
}

part1() {
    title "Part 1 (part1-fork): one child per connection; zombies wait for the next client"
    launch -- part1-fork -t 0 || die "part1-fork did not start"
    say "Daemon pid $DPID listens on port $DPORT. Five clients connect, then all hang up."
    hold 5 "$DPORT" || die "could not connect"
    release_all
    poll 5000 zombies_are "$DPID" 5 || die "expected 5 zombies"
    shown ps -o pid,ppid,stat,cmd --ppid "$DPID"
    bad "5 clients gone, $(count_zombies "$DPID") zombies (Z, <defunct>). The SIGCHLD handler only noted the signal;"
    bad "its waitpid loop runs once accept returns a client, as the article's PHP handler runs after socket_accept."
    say "A sixth client connects (and stays):"
    hold 1 "$DPORT" || die "could not connect"
    poll 5000 zombies_are "$DPID" 0 || die "the arrival did not reap"
    shown ps -o pid,ppid,stat,cmd --ppid "$DPID"
    good "its arrival ran the loop: $(grep -c 'reaped child' "$DLOG") children reaped at once (from the log):"
    grep 'reaped child' "$DLOG" | tail -n 3 | sed "s/^/    $D/;s/\$/$N/"
    release_all
    stop_daemon "$DPID"
    good "SIGTERM: the daemon ends its children, reaps them and exits (status $STOP_STATUS)."
}

part2() {
    title "Part 2 (part2-zombies): a SIGCHLD handler reaps every child"
    launch -- part2-zombies || die "part2-zombies did not start"
    say "The same ten clients, this time all connected at once and closed at once:"
    hold 10 "$DPORT" || die "could not connect"
    say "  $(count_children "$DPID") children serving; closing all ten..."
    release_all
    poll 5000 no_children "$DPID" || die "zombies survived"
    shown ps -o pid,ppid,stat,cmd --ppid "$DPID"
    good "no zombie left: one SIGCHLD, a waitpid(WNOHANG) loop, $(grep -c 'reaped child' "$DLOG") children reaped (from the log):"
    grep 'reaped child' "$DLOG" | tail -n 3 | sed "s/^/    $D/;s/\$/$N/"
    stop_daemon "$DPID"
    local why
    if why=$("$FORKD_ROOT/tests/scripts/trace.sh" --which); then
        say "The kernel's own record, ten children ending while the parent is frozen (make trace STAGE=part2-zombies K=10):"
        "$FORKD_ROOT/tests/scripts/trace.sh" part2-zombies 10 | sed 's/^/    /' || die "make trace failed"
    else
        say "(make trace, the kernel's record of the merged SIGCHLDs, cannot run here: ${why#none: })"
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
    printf '  %-7s %-22s %-24s %s\n' round "clients closed at once" "the daemon's counter" "real children"
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
        printf '  %-7s %-22s %-24s %s\n' "$round" "$k" "$COUNTER" "$(count_children "$DPID")"
        [ "$round" -lt 8 ] || break
        [ "$1" = exact ] && [ "$round" -ge 4 ] && break
        [ "$1" != exact ] && [ $((max - COUNTER)) -lt 2 ] && break
        [ "$1" != exact ] && [ $((max - COUNTER)) -lt 3 ] && k=2
    done
}

part3() {
    title "Part 3 (part3-signals-bug): counting connections with SIGUSR2, and the drift"
    launch -- part3-signals-bug -m 8 || die "part3-signals-bug did not start"
    say "Limit 8. Each child sends SIGUSR2 to the parent when its client is done;"
    say "the handler decrements. Clients connect, the parent is frozen (SIGSTOP),"
    say "they all leave, the parent resumes (SIGCONT): their SIGUSR2s were merged into one."
    rounds 8 || die "a round failed"
    hold 1 "$DPORT" || die "could not connect"
    say "One client connects: $GREETING"
    talk "$DPORT" || die "no answer"
    bad "a second client gets '${REPLIES[0]}' while only $(count_children "$DPID") child is running."
    kill -KILL "$(field pid "$GREETING")"
    release_all
    poll 5000 no_children "$DPID" || die "child not reaped"
    talk "$DPORT" || die "no answer"
    bad "kill -9 of that child (it never signals): '${REPLIES[0]}' with $(count_children "$DPID") children. Nobody gets in."
    stop_daemon "$DPID"
    say "Without freezing anything (a C client closing 5 sockets within microseconds):"
    "$FORKD_ROOT/tests/scripts/drift-rate.sh" 20 5 part3-signals-bug | sed 's/^/    /'
    local why
    if why=$("$FORKD_ROOT/tests/scripts/trace.sh" --which); then
        say "The kernel's own record of a frozen burst of 5 (make trace STAGE=part3-signals-bug):"
        "$FORKD_ROOT/tests/scripts/trace.sh" part3-signals-bug 5 | sed 's/^/    /' || die "make trace failed"
    else
        say "(make trace, the kernel's record of the lost SIGUSR2s, cannot run here: ${why#none: })"
    fi
}

# ipcs_of SHMID SEMID: ipcs -m -s, only the headers and these two objects.
ipcs_of() {
    printf '  %s$ ipcs -m -s   (only shmid %s and semid %s)%s\n' "$D" "$1" "$2" "$N"
    ipcs -m -s | awk -v s="$1" -v m="$2" '
        /^------/ { sect = /Shared/ ? "m" : "s"; print; next }
        /^key/ { print; next }
        (sect == "m" && $2 == s) || (sect == "s" && $2 == m)' | sed 's/^/    /'
}

part4() {
    title "Part 4 (part4-shm-semaphore): the counter in shared memory, under a semaphore"
    launch -- part4-shm-semaphore -m 8 || die "part4-shm-semaphore did not start"
    local ids shm sem
    ids=$(sed -n 's/.*\(ipc shm=[0-9]* sem=[0-9]*\).*/\1/p' "$DLOG")
    shm=$(field shm "$ids") sem=$(field sem "$ids")
    say "The daemon logged: $ids. The same frozen rounds:"
    rounds exact || die "a round failed"
    good "exact after every round: no signal carries the count any more."
    hold 2 "$DPORT" || die "could not connect"
    kill -KILL "$(field pid "$GREETING")"
    release_all
    poll 5000 no_children "$DPID" || die "children not reaped"
    probe_counter || die "probe failed"
    good "a child killed with kill -9: the parent gives its slot back when it reaps it (counter $COUNTER)."
    say "While it runs, ipcs lists the two objects:"
    ipcs_of "$shm" "$sem"
    stop_daemon "$DPID"
    say "After SIGTERM (status $STOP_STATUS):"
    ipcs_of "$shm" "$sem"
    if ! awk -v s="$shm" 'NR > 1 && $2 == s { f = 1 } END { exit !f }' /proc/sysvipc/shm &&
        ! awk -v m="$sem" 'NR > 1 && $2 == m { f = 1 } END { exit !f }' /proc/sysvipc/sem; then
        good "shm $shm and sem $sem are gone: removed with IPC_RMID, nothing outlives the daemon."
    else
        die "IPC objects left behind"
    fi
    say "Natural bursts, for comparison with part 3:"
    "$FORKD_ROOT/tests/scripts/drift-rate.sh" 20 5 part4-shm-semaphore | sed 's/^/    /'
}

started=$(now_ms)
stages=("${@:-part1-fork part2-zombies part3-signals-bug part4-shm-semaphore}")
for stage in ${stages[*]}; do
    case $stage in
    part1-fork) part1 ;;
    part2-zombies) part2 ;;
    part3-signals-bug) part3 ;;
    part4-shm-semaphore) part4 ;;
    *) die "no stage named $stage" ;;
    esac
done
printf '\n%sdemo done in %d s%s\n' "$B" $((($(now_ms) - started) / 1000)) "$N"
