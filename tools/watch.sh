#!/usr/bin/env bash
# tools/watch.sh STAGE [DAEMON ARGS...]: a live view for workshops.
#
# Starts the stage in the foreground (its default port unless ARGS say
# otherwise; -b 0.0.0.0 lets a class connect; no idle timeout, -t 0, unless
# ARGS give one), then once a second prints the daemon's own count of active
# connections beside the truth: how many of its children are serving and
# how many are zombies. Watch part 3's count drift away from the truth while
# students connect, and part 4's stay on it.
#   make watch STAGE=part3-signals-bug ARGS="-b 0.0.0.0 -m 5"
# Keys: f freezes the daemon (SIGSTOP), t thaws it (SIGCONT), q quits (so
# does Ctrl-C). Frozen, the daemon cannot take a signal: every child that
# ends meanwhile sends its signal into the one pending, and the drift
# happens every time, not only when the hang-ups fall within microseconds.
# The log stays in build/watch/STAGE.log; part 4's IPC ids are printed.
set -uo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tools/i18n.sh
source "$(dirname "$0")/i18n.sh"

# shellcheck disable=SC2034 # read by msg (i18n.sh)
declare -A msg_en=(
    [usage]='usage: make watch STAGE=part3-signals-bug [ARGS="-b 0.0.0.0 -m 5"]; the stages: %s'
    [no_start]='watch: %s did not start:'
    [listening]='%s: %s'
    [log]='log: %s (kept when watch ends)'
    [timeout_none]='idle timeout: none (-t 0): a client may stay silent as long as it likes'
    [timeout_args]='idle timeout: as ARGS say (%s)'
    [ipc]='IPC objects: shared memory segment shmid=%s, semaphore set semid=%s (ipcs -m -s lists them; if the daemon dies by kill -9: ipcrm -m %s -s %s)'
    [ipc_sem]='IPC object: semaphore set semid=%s (ipcs -s lists it; if the daemon dies by kill -9: ipcrm -s %s)'
    [ipc_none]='IPC objects: none logged (no "ipc ..." line in the log)'
    [connect]='connect with: nc %s %s'
    [this_host]='this host'
    [keys]='keys: f freezes the daemon (SIGSTOP), t thaws it (SIGCONT), q quits (or Ctrl-C)'
    [no_keys]='(no terminal: no keys; Ctrl-C or SIGTERM ends the view)'
    [hint_part1]='part 1: zombies pile up while nobody connects; the next client'"'"'s arrival reaps them all'
    [hint_part2]='part 2: no zombie stays, even when many children end while the daemon is frozen'
    [hint_part3]='part 3: everyone connects; f; everyone hangs up at the count of three; t: the count stays above the truth (one signal delivered for many sent)'
    [hint_part4]='part 4: the same game, f, hang up, t: the count stays exact (each child decrements it itself, under the semaphore)'
    [col_time]='time'
    [col_count]="daemon's count"
    [col_serving]='children serving'
    [col_zombies]='zombies'
    [col_drift]='drift'
    [col_state]='daemon'
    [running]='running'
    [frozen]='FROZEN'
    [froze]='-- f: daemon pid %s frozen (SIGSTOP): it cannot take a signal now; hang up, then press t'
    [thawed]='-- t: daemon pid %s thawed (SIGCONT): the signals that waited are delivered, merged'
    [already_frozen]='-- f: the daemon is already frozen; t thaws it'
    [not_frozen]='-- t: the daemon is not frozen'
    [freeze_failed]='-- f: the daemon did not stop within 2 s'
    [stopping]='watch: stopping the daemon (SIGTERM)'
    [stopped]='watch: the daemon stopped, exit status %s'
    [died]='watch: the daemon (pid %s) ended by itself: exit status %s%s'
    [by_signal]=' (killed by signal %s)'
    [orphans]='watch: its children outlive it, adopted by another process, until their clients leave: pids %s'
    [ipc_left]='watch: its IPC objects are left behind: %s; remove them: %s'
    [ipc_removed]='watch: the daemon had to be killed: its IPC objects were removed with ipcrm'
    [log_kept]='watch: the log is kept in %s'
)
# shellcheck disable=SC2034
declare -A msg_pl=(
    [usage]='użycie: make watch STAGE=part3-signals-bug [ARGS="-b 0.0.0.0 -m 5"]; etapy: %s'
    [no_start]='watch: %s nie wystartował:'
    [listening]='%s: %s'
    [log]='log: %s (zostaje po zakończeniu watch)'
    [timeout_none]='timeout bezczynności: brak (-t 0): klient może milczeć, jak długo chce'
    [timeout_args]='timeout bezczynności: jak w ARGS (%s)'
    [ipc]='obiekty IPC: segment pamięci współdzielonej shmid=%s, zbiór semaforów semid=%s (ipcs -m -s je pokaże; gdyby daemon zginął od kill -9: ipcrm -m %s -s %s)'
    [ipc_sem]='obiekt IPC: zbiór semaforów semid=%s (ipcs -s go pokaże; gdyby daemon zginął od kill -9: ipcrm -s %s)'
    [ipc_none]='obiekty IPC: żadne nie są zalogowane (w logu nie ma wiersza "ipc ...")'
    [connect]='połącz się: nc %s %s'
    [this_host]='adres tej maszyny'
    [keys]='klawisze: f zamraża daemona (SIGSTOP), t go odmraża (SIGCONT), q kończy (albo Ctrl-C)'
    [no_keys]='(brak terminala, więc i klawiszy; widok kończy Ctrl-C albo SIGTERM)'
    [hint_part1]='etap 1: procesy zombie gromadzą się, dopóki nikt się nie łączy; przyjście następnego klienta zbiera je wszystkie'
    [hint_part2]='etap 2: nie zostaje żaden zombie, nawet gdy wiele procesów dzieci kończy się, kiedy daemon jest zamrożony'
    [hint_part3]='etap 3: wszyscy się łączą; f; wszyscy rozłączają się na „trzy”; t: licznik zostaje powyżej rzeczywistej liczby klientów (wysłano wiele sygnałów, dotarł jeden)'
    [hint_part4]='etap 4: ta sama zabawa, f, rozłączenie, t: licznik zostaje dokładny (każdy proces dziecka sam go zmniejsza, pod semaforem)'
    [col_time]='czas'
    [col_count]='licznik daemona'
    [col_serving]='obsługują klienta'
    [col_zombies]='zombie'
    [col_drift]='dryf'
    [col_state]='daemon'
    [running]='działa'
    [frozen]='ZAMROŻONY'
    [froze]='-- f: daemon (pid %s) zamrożony (SIGSTOP): teraz nie odbierze żadnego sygnału; rozłączcie się i naciśnij t'
    [thawed]='-- t: daemon (pid %s) odmrożony (SIGCONT): sygnały, które czekały, docierają zlane w jeden'
    [already_frozen]='-- f: daemon jest już zamrożony; t go odmrozi'
    [not_frozen]='-- t: daemon nie jest zamrożony'
    [freeze_failed]='-- f: daemon nie zatrzymał się w ciągu 2 s'
    [stopping]='watch: zatrzymuję daemona (SIGTERM)'
    [stopped]='watch: daemon się zakończył, status wyjścia %s'
    [died]='watch: daemon (pid %s) zakończył się sam: status wyjścia %s%s'
    [by_signal]=' (zabity sygnałem %s)'
    [orphans]='watch: jego procesy dzieci żyją dalej, adoptowane przez inny proces, dopóki ich klienci się nie rozłączą: pid %s'
    [ipc_left]='watch: jego obiekty IPC zostały: %s; usuń je: %s'
    [ipc_removed]='watch: daemona trzeba było zabić: jego obiekty IPC usunięto przez ipcrm'
    [log_kept]='watch: log zostaje w %s'
)

stage=${1:-}
if [ -z "$stage" ] || [ ! -x "$BIN_DIR/$stage/daemon" ]; then
    msgln usage "$(cd "$FORKD_ROOT" && ls -d part*/ | tr -d / | paste -sd ' ' -)" >&2
    exit 2
fi
shift

# No idle timeout unless ARGS set one: a class is slower than 30 s.
timeout_args=()
user_timeout=
args=("$@")
for i in "${!args[@]}"; do
    case ${args[i]} in
    -t | --idle-timeout) user_timeout="${args[i]} ${args[i + 1]:-}" ;;
    -t* | --idle-timeout=*) user_timeout=${args[i]} ;;
    esac
done
[ -n "$user_timeout" ] || timeout_args=(-t 0)

WORK=$(mktemp -d)
LOGDIR=$FORKD_ROOT/build/watch
mkdir -p "$LOGDIR" || exit 1
DLOG=$LOGDIR/$stage.log
[ -f "$DLOG" ] && mv -f "$DLOG" "$DLOG.1" # the previous run's, one generation
DOUT=$WORK/out
tty_state=
QUITTING=0
STARTED=0
IPC_SHM=
IPC_SEM=
KIDS_SEEN=()

finish() {
    local status left=() rm=()
    [ -n "$tty_state" ] && stty "$tty_state" 2>/dev/null
    if [ "$STARTED" -eq 1 ]; then
        echo
        if [ "$QUITTING" -eq 1 ] || daemon_alive; then
            # we end it: q, or Ctrl-C (which the daemon, in the terminal's
            # process group, may have received and acted on already)
            if daemon_alive; then
                msgln stopping
                end_daemon
            fi
            status=$(daemon_status)
            msgln stopped "$status"
            if [ "$status" -eq 137 ]; then # it had to be killed: its objects are ours to remove
                remove_logged_ipc && msgln ipc_removed
            fi
        else
            # someone else ended it (kill -9 in the workshop): say what is left
            status=$(daemon_status)
            if [ "$status" -gt 128 ]; then
                msgln died "$DPID" "$status" "$(msg by_signal "$(kill -l "$((status - 128))" 2>/dev/null || echo "$((status - 128))")")"
            else
                msgln died "$DPID" "$status" ""
            fi
            report_orphans
            logged_ipc
            [ -n "$IPC_SHM" ] && shm_alive "$IPC_SHM" && left+=("shmid=$IPC_SHM") && rm+=(-m "$IPC_SHM")
            [ -n "$IPC_SEM" ] && sem_alive "$IPC_SEM" && left+=("semid=$IPC_SEM") && rm+=(-s "$IPC_SEM")
            [ ${#left[@]} -eq 0 ] || msgln ipc_left "${left[*]}" "ipcrm ${rm[*]}"
        fi
    fi
    msgln log_kept "$DLOG"
    rm -rf "$WORK"
}

# The daemon runs under a subshell that writes its exit status down (and
# reaps it at once): a daemon killed by a signal is then no job of this
# shell's, whose "Killed" notice would land in the middle of the view.
daemon_status() {
    wait "$WRAPPER" 2>/dev/null
    cat "$WORK/status" 2>/dev/null || echo "?"
}
# SIGCONT (it may be frozen) and SIGTERM; SIGKILL after 5 s.
end_daemon() {
    kill -CONT "$DPID" 2>/dev/null
    kill -TERM "$DPID" 2>/dev/null
    poll 5000 eval '! daemon_alive' || kill -KILL "$DPID" 2>/dev/null
    poll 2000 eval '! daemon_alive'
}
daemon_alive() { kill -0 "$DPID" 2>/dev/null && [ "$(proc_state "$DPID")" != Z ]; }
proc_state() { ps -o stat= -p "$1" 2>/dev/null | cut -c1; }
shm_alive() { awk -v id="$1" 'NR > 1 && $2 == id { f = 1 } END { exit !f }' /proc/sysvipc/shm; }
sem_alive() { awk -v id="$1" 'NR > 1 && $2 == id { f = 1 } END { exit !f }' /proc/sysvipc/sem; }

# The ids the daemon logged, into IPC_SHM and IPC_SEM (part 4: "ipc
# shm=N sem=M"; exercise part4-1: "ipc sem=M" alone); empty when not logged.
logged_ipc() {
    local line
    line=$(grep -o 'ipc shm=[0-9]* sem=[0-9]*\|ipc sem=[0-9]*' "$DLOG" 2>/dev/null | head -n 1)
    IPC_SHM=$(sed -n 's/.*shm=\([0-9]*\).*/\1/p' <<<"$line")
    IPC_SEM=$(sed -n 's/.*sem=\([0-9]*\).*/\1/p' <<<"$line")
}
remove_logged_ipc() {
    logged_ipc
    [ -n "$IPC_SHM" ] && shm_alive "$IPC_SHM" && ipcrm -m "$IPC_SHM"
    [ -n "$IPC_SEM" ] && sem_alive "$IPC_SEM" && ipcrm -s "$IPC_SEM"
    return 0
}

report_orphans() {
    local kid alive=()
    for kid in "${KIDS_SEEN[@]}"; do
        kill -0 "$kid" 2>/dev/null && [ "$(proc_state "$kid")" != Z ] && alive+=("$kid")
    done
    [ ${#alive[@]} -eq 0 ] || msgln orphans "${alive[*]}"
}

(
    "$BIN_DIR/$stage/daemon" -f "${timeout_args[@]}" "$@" -l "$DLOG"
    echo "$?" >"$WORK/status"
) >"$DOUT" 2>&1 3>&- </dev/null &
WRAPPER=$!
trap finish EXIT
# Any end of the view stops the daemon (finish, on EXIT); a reader gone
# (make watch | head) is one too.
trap 'QUITTING=1' INT TERM HUP
trap 'QUITTING=1; exec >/dev/null' PIPE
if ! poll 10000 grep -q '^listening on ' "$DOUT"; then
    msgln no_start "$stage" >&2
    grep -v '^listening on ' "$DOUT" >&2
    # shellcheck disable=SC2046 # one pid, or none
    kill $(ps -o pid= --ppid "$WRAPPER") 2>/dev/null
    wait "$WRAPPER" 2>/dev/null
    exit 1
fi
DPID=$(sed -n 's/^listening on .* pid=\([0-9]*\)$/\1/p' "$DOUT")
STARTED=1
port=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\) .*/\1/p' "$DOUT")
msgln listening "$stage" "$(head -n 1 "$DOUT")"
msgln log "${DLOG#"$FORKD_ROOT"/}"
if [ -n "$user_timeout" ]; then msgln timeout_args "$user_timeout"; else msgln timeout_none; fi
if [[ $stage == part4-* ]]; then
    poll 3000 grep -q 'ipc ' "$DLOG"
    logged_ipc
    if [ -n "$IPC_SHM" ] && [ -n "$IPC_SEM" ]; then
        msgln ipc "$IPC_SHM" "$IPC_SEM" "$IPC_SHM" "$IPC_SEM"
    elif [ -n "$IPC_SEM" ]; then
        msgln ipc_sem "$IPC_SEM" "$IPC_SEM"
    else
        msgln ipc_none
    fi
fi
# -b 0.0.0.0 listens on every address: the class uses this machine's own
addr=$(sed -n 's/^listening on \([0-9.]*\):.*/\1/p' "$DOUT" | head -n 1)
[ "$addr" = 0.0.0.0 ] && addr="<$(msg this_host)>"
msgln connect "$addr" "$port"
case $stage in
part1-*) msgln hint_part1 ;;
part2-*) msgln hint_part2 ;;
part3-*) msgln hint_part3 ;;
part4-*) msgln hint_part4 ;;
esac
if [ -t 0 ]; then
    msgln keys
    tty_state=$(stty -g 2>/dev/null) && stty -echo 2>/dev/null
else
    msgln no_keys
fi

# The daemon's own count: part 4 keeps it in shared memory; part 3 logs it
# at every change (each accept, each SIGUSR2 handled, each refusal).
logged_ipc
daemon_count() {
    case $stage in
    part4-*)
        if [ -n "$IPC_SHM" ]; then "$TOOLS_DIR/shmpeek" "$IPC_SHM" 2>/dev/null || echo "?"; else echo "?"; fi
        ;;
    part3-*) grep -o 'active=[0-9]*' "$DLOG" | tail -n 1 | cut -d= -f2 | grep . || echo 0 ;;
    *) echo "-" ;;
    esac
}
# Children holding a socket: serving a client; SERVING gets how many. Their
# pids are remembered, to name the orphans if the daemon dies (kill -9).
count_serving() {
    local kid fd
    SERVING=0
    for kid in $(ps -o pid= --ppid "$DPID" 2>/dev/null); do
        for fd in /proc/"$kid"/fd/*; do
            if [[ $(readlink "$fd" 2>/dev/null) == socket:* ]]; then
                SERVING=$((SERVING + 1))
                [[ " ${KIDS_SEEN[*]} " == *" $kid "* ]] || KIDS_SEEN+=("$kid")
                break
            fi
        done
    done
}

row() {
    local count zombies drift=- state
    count=$(daemon_count)
    count_serving
    zombies=$(count_zombies "$DPID")
    [[ $count =~ ^[0-9]+$ ]] && drift=$((count - SERVING))
    if is_stopped "$DPID"; then state=$(msg frozen); else state=$(msg running); fi
    printf '%s %s %s %s %s %s\n' "$(pad 9 "$1")" "$(pad 16 "$count")" "$(pad 18 "$SERVING")" \
        "$(pad 8 "$zombies")" "$(pad 6 "$drift")" "$state"
}

freeze() {
    if is_stopped "$DPID"; then
        msgln already_frozen
    elif kill -STOP "$DPID" 2>/dev/null && poll 2000 is_stopped "$DPID"; then
        msgln froze "$DPID"
    else
        msgln freeze_failed
    fi
}
thaw() {
    if ! is_stopped "$DPID"; then
        msgln not_frozen
        return
    fi
    kill -CONT "$DPID" 2>/dev/null
    poll 2000 eval '! is_stopped "$DPID"'
    msgln thawed "$DPID"
}

printf '%s %s %s %s %s %s\n' "$(pad 9 "$(msg col_time)")" "$(pad 16 "$(msg col_count)")" \
    "$(pad 18 "$(msg col_serving)")" "$(pad 8 "$(msg col_zombies)")" "$(pad 6 "$(msg col_drift)")" \
    "$(msg col_state)"
while [ "$QUITTING" -eq 0 ] && daemon_alive; do
    row "$(date +%H:%M:%S)"
    key=
    if [ -n "$tty_state" ]; then
        # the refresh period of the display, cut short by a key
        IFS= read -rsn1 -t 1 key || true
    else
        sleep 1
    fi
    case $key in
    f | F) freeze ;;
    t | T) thaw ;;
    q | Q) QUITTING=1 ;;
    esac
done
