# tools/lib.sh: what the non-bats scripts (demo, valgrind, watch,
# stress, bench) share: starting a daemon on a free port, talking to it with
# bash's /dev/tcp, polling with a deadline, and ending everything by pid.
# Sourced, not run.

FORKD_ROOT=${FORKD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BIN_DIR=${FORKD_BIN_DIR:-$FORKD_ROOT}
TOOLS_DIR=${FORKD_TOOLS_DIR:-$FORKD_ROOT/build/tools}

now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

# poll MS COMMAND...: runs COMMAND until it succeeds; 1 after MS
# milliseconds times FORKD_TIME_SCALE, the slow machine's knob of the suites
# (tests/helpers.bash), which run some of these scripts.
poll() {
    local limit
    limit=$(awk -v ms="$1" -v s="${FORKD_TIME_SCALE:-1}" 'BEGIN { printf "%d", ms * (s >= 1 ? s : 1) + 0.999 }')
    local deadline=$(($(now_ms) + limit))
    shift
    until "$@"; do
        (($(now_ms) < deadline)) || return 1
        sleep 0.01
    done
}

count_children() { ps -o pid= --ppid "$1" 2>/dev/null | grep -c . || true; }
count_zombies() { ps -o stat= --ppid "$1" 2>/dev/null | grep -c '^Z' || true; }
no_children() { [ "$(count_children "$1")" -eq 0 ]; }
no_living() { ! ps -o stat= --ppid "$1" 2>/dev/null | grep -qv '^Z'; } # zombies only, or none
zombies_are() { [ "$(count_zombies "$1")" -eq "$2" ]; }
is_stopped() { [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = T ]; }
exited() { ! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]; }

STARTED_PIDS=()

# launch [PREFIX...] -- STAGE ARGS...: the stage in the foreground on a free
# port, with no inherited descriptor. Sets DPID, DPORT, DLOG, DOUT. PREFIX is
# a command to run it under (valgrind ...), if any.
launch() {
    local prefix=() stage
    while [ "$1" != -- ]; do
        prefix+=("$1")
        shift
    done
    shift
    stage=$1
    shift
    DOUT=$WORK/$stage.out
    DLOG=$WORK/$stage.log
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
        done
        exec "${prefix[@]}" "$BIN_DIR/$stage/daemon" -f -p 0 "$@"
    ) >"$DOUT" 2>"$DLOG" &
    DPID=$!
    STARTED_PIDS+=("$DPID")
    if ! poll 60000 grep -qs '^listening on ' "$DOUT"; then
        echo "$stage did not start:" >&2
        cat "$DLOG" >&2
        return 1
    fi
    DPORT=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\) pid=.*/\1/p' "$DOUT")
}

# stop_daemon PID: SIGCONT + SIGTERM, wait; SIGKILL after 5 s. Sets STOP_STATUS.
stop_daemon() {
    STOP_STATUS=0
    kill -0 "$1" 2>/dev/null || {
        wait "$1" 2>/dev/null || STOP_STATUS=$?
        return 0
    }
    kill -CONT "$1" 2>/dev/null || true
    kill -TERM "$1" 2>/dev/null || true
    poll 5000 exited "$1" || kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || STOP_STATUS=$?
}

# Descriptors of held connections.
HELD=()
hold() { # hold N PORT: opens N connections and reads each greeting (GREETING = the last)
    local i fd
    for ((i = 0; i < $1; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$2" || return 1
        IFS= read -r -t 10 -u "$fd" GREETING || return 1
        GREETING=${GREETING%$'\r'}
        HELD+=("$fd")
    done
}
release_all() { # closes every held connection, as fast as bash can
    local fd
    for fd in "${HELD[@]}"; do exec {fd}>&-; done
    HELD=()
}

# talk PORT LINE...: one connection; sends each LINE, reads one reply each.
# REPLIES gets the greeting and the replies.
talk() {
    local port=$1 fd line reply
    shift
    REPLIES=()
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
    IFS= read -r -t 10 -u "$fd" reply || { exec {fd}>&-; return 1; }
    REPLIES+=("${reply%$'\r'}")
    for line in "$@"; do
        printf '%s\n' "$line" >&"$fd"
        IFS= read -r -t 10 -u "$fd" reply || { exec {fd}>&-; return 1; }
        REPLIES+=("${reply%$'\r'}")
    done
    exec {fd}>&-
}

# field NAME LINE: the number after " NAME=" in LINE.
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $2"; }

# End all started daemons and their children; remove IPC objects their logs name.
cleanup_started() {
    local pid kid log shm sem
    release_all 2>/dev/null || true
    for pid in "${STARTED_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            for kid in $(ps -o pid= --ppid "$pid" 2>/dev/null); do kill -KILL "$kid" 2>/dev/null || true; done
            stop_daemon "$pid"
        fi
    done
    for log in "$WORK"/*.log; do
        [ -f "$log" ] || continue
        while read -r shm sem; do
            awk -v id="$shm" 'NR > 1 && $2 == id { f = 1 } END { exit !f }' /proc/sysvipc/shm && ipcrm -m "$shm" 2>/dev/null
            awk -v id="$sem" 'NR > 1 && $2 == id { f = 1 } END { exit !f }' /proc/sysvipc/sem && ipcrm -s "$sem" 2>/dev/null
        done < <(sed -n 's/.*ipc shm=\([0-9]*\) sem=\([0-9]*\).*/\1 \2/p' "$log")
    done
    STARTED_PIDS=()
    return 0
}
