# tests/helpers.bash: what every suite loads.
#
# - Daemons run in the foreground on a free port (-p 0); the readiness line
#   gives the port, so no test guesses one or sleeps for a start.
# - Every wait is a poll with a deadline (wait_for), never a fixed sleep.
# - Everything a test starts is remembered and ended by pid in teardown:
#   daemons, their children, stray IPC objects named in their logs.

# The repository: this file is in its tests/ folder (suites may be deeper).
FORKD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Where the daemons are (make sanitize points this at the ASan+UBSan build).
BIN_DIR="${FORKD_BIN_DIR:-$FORKD_ROOT}"
TOOLS_DIR="${FORKD_TOOLS_DIR:-$FORKD_ROOT/build/tools}"
# FORKD_TIME_SCALE: the one knob for a slow machine. Every deadline of the
# suites and the exercise checkers (polls, reads, command caps, loadgen's
# timeouts, and the contract's "within 2 s") is multiplied by it: 1 by
# default; 3 on a VM that is three times slower than it should be. It may
# have a decimal part (1.5). Only deadlines scale: a pace (a byte every
# 400 ms against a 1 s idle timeout) and a period of observation (zombies
# still there after 1 s) keep their value, or the test would change.
TIME_SCALE="${FORKD_TIME_SCALE:-1}"
if [[ ! $TIME_SCALE =~ ^([0-9]+)(\.([0-9]{1,3}))?$ ]] || [ "$TIME_SCALE" = 0 ]; then
    echo "FORKD_TIME_SCALE=$TIME_SCALE: expected a number such as 1, 2 or 2.5" >&2
    return 1
fi
# The C tools (tests/tools) scale their own deadlines by it too.
export FORKD_TIME_SCALE="$TIME_SCALE"
# The scale in thousandths, for bash's integer arithmetic.
TIME_SCALE_MILLI=$((10#${BASH_REMATCH[1]} * 1000 + 10#$(printf '%-3s' "${BASH_REMATCH[3]}" | tr ' ' 0)))
# scaled N: N (milliseconds, or whole seconds) times the scale, rounded up.
scaled() { echo $((($1 * TIME_SCALE_MILLI + 999) / 1000)); }
# capped SECONDS COMMAND...: COMMAND, killed after SECONDS (times the
# scale), and SIGKILLed 2 s later: for a command that should end at once
# but might wrongly start a daemon in the foreground and hang the suite.
capped() {
    local secs=$1
    shift
    timeout -k 2 "$(scaled "$secs")" "$@"
}
# How long a poll waits before it calls the state missing (ms, before the scale).
WAIT_MS="${FORKD_WAIT_MS:-10000}"
# msg KEY ARGS: English or Polish sentences (the exercise checkers' messages).
# shellcheck source=tools/i18n.sh
source "$FORKD_ROOT/tools/i18n.sh"

load_assert_libs() {
    local dir
    for dir in "$FORKD_ROOT/tests/node_modules" /usr/lib/bats /usr/local/lib/bats; do
        if [ -f "$dir/bats-support/load.bash" ] && [ -f "$dir/bats-assert/load.bash" ]; then
            # shellcheck disable=SC1091
            source "$dir/bats-support/load.bash"
            # shellcheck disable=SC1091
            source "$dir/bats-assert/load.bash"
            return 0
        fi
    done
    echo "bats-support and bats-assert are missing: 'make test' fetches them" >&2
    return 1
}
load_assert_libs

# The stages under test: FORKD_STAGES, or every part*/ folder.
stages() {
    if [ -n "${FORKD_STAGES:-}" ]; then
        printf '%s\n' $FORKD_STAGES
        return
    fi
    local d
    for d in "$FORKD_ROOT"/part*/; do
        basename "$d"
    done
}

stage_bin() { echo "$BIN_DIR/$1/daemon"; }

# each_stage FUNCTION: runs FUNCTION STAGE for every stage under test,
# printing "stage: X" first, so that a failure names its stage.
each_stage() {
    local st
    for st in $(stages); do
        echo "stage: $st"
        "$1" "$st"
    done
}

has_limit() { case $1 in part1-* | part2-*) return 1 ;; *) return 0 ;; esac; }

# Builds what the suites need, unless a prebuilt tree is named.
build_if_needed() {
    [ -n "${FORKD_BIN_DIR:-}" ] && return 0
    make -s -C "$FORKD_ROOT" all tools >&2
}

# The exercise checkers need the daemons only (a solution may change what
# the C tools are built from, such as part 4's counter.h).
build_stages_if_needed() {
    [ -n "${FORKD_BIN_DIR:-}" ] && return 0
    make -s -C "$FORKD_ROOT" all >&2
}

# hold N PORT: opens N connections; HELD = their descriptors, KIDS = the
# pids from their greetings.
hold() {
    local i
    HELD=() KIDS=()
    for i in $(seq "$1"); do
        connect_greeted "$2"
        HELD+=("$CONN")
        KIDS+=("$(field_of "$GREETING" pid)")
    done
}
close_held() {
    local fd
    for fd in "${HELD[@]}"; do close_conn "$fd"; done
}

# kill_served N PORT: N times, a client connects and its child is killed
# with SIGKILL mid-session (the client then leaves); waits until all are reaped.
kill_served() {
    local i
    for i in $(seq "$1"); do
        connect_greeted "$2"
        kill -KILL "$(field_of "$GREETING" pid)"
        close_conn "$CONN"
    done
    wait_for "every child reaped" no_children "$DPID"
}

# frozen_burst N: with N connections held (hold), stops the daemon, closes
# them all, waits until the N children are zombies, and lets it run again:
# every child ends while one SIGCHLD (and one SIGUSR2) at most is pending.
frozen_burst() {
    kill -STOP "$DPID"
    wait_for "daemon stopped" is_stopped "$DPID"
    close_held
    wait_for "$1 zombies" zombie_count_is "$DPID" "$1"
    kill -CONT "$DPID"
}

now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

# wait_for DESCRIPTION COMMAND [ARGS...]: runs COMMAND until it succeeds;
# fails after WAIT_MS (times the scale), saying what it waited for and what
# it saw instead: the predicates below leave that in SAW; for a grep, the
# end of the file it searched.
wait_for() {
    local what=$1 limit
    shift
    limit=$(scaled "$WAIT_MS")
    local deadline=$(($(now_ms) + limit))
    SAW=
    until "$@"; do
        if (($(now_ms) >= deadline)); then
            echo "timed out after ${limit} ms waiting for: $what; saw: $(last_seen "$@")" >&2
            return 1
        fi
        sleep 0.01
    done
}

# What a failed poll saw: SAW, if its predicate set it; for grep, the last
# lines of the file; otherwise that the command kept failing.
last_seen() {
    if [ -n "$SAW" ]; then
        echo "$SAW"
    elif [ "$1" = grep ] && [ -f "${*: -1}" ]; then
        echo "the last lines of ${*: -1}:"
        tail -n 3 "${*: -1}"
    elif [ "$1" = grep ]; then
        echo "no file ${*: -1}"
    else
        echo "'$*' still failing"
    fi
}

alive() { kill -0 "$1" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# A process's state letter (R, S, T, Z...), empty when it does not exist.
proc_state() { ps -o stat= -p "$1" 2>/dev/null | cut -c1; }
# state_is PID LETTER: SAW says what the state was instead.
state_is() {
    local state
    state=$(proc_state "$1")
    SAW="pid $1 in state '${state:-gone}'"
    [ "$state" = "$2" ]
}
is_stopped() { state_is "$1" T; }

# Children of a process: all of them, the zombies, the living.
children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }
count_children() { children_of "$1" | grep -c . || true; }
count_zombies() { ps -o stat= --ppid "$1" 2>/dev/null | grep -c '^Z' || true; }
count_living() { ps -o stat= --ppid "$1" 2>/dev/null | grep -vc '^Z' || true; }
# The predicates a test polls leave what they saw in SAW (wait_for prints it).
# (Poll a function like these, never 'test "$(...)"': that is evaluated once.)
children_seen() {
    SAW="$(count_living "$1") living children and $(count_zombies "$1") zombies under pid $1"
}
no_children() { children_seen "$1" && [ "$(count_children "$1")" -eq 0 ]; }
zombie_count_is() { children_seen "$1" && [ "$(count_zombies "$1")" -eq "$2" ]; }
living_count_is() { children_seen "$1" && [ "$(count_living "$1")" -eq "$2" ]; }
children_at_least() { children_seen "$1" && [ "$(count_children "$1")" -ge "$2" ]; }
parent_is() {
    local ppid
    ppid=$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')
    SAW="pid $1 has parent '${ppid:-none: gone}'"
    [ "$ppid" = "$2" ]
}
# log_count_at_least FILE PATTERN N: at least N lines of FILE match PATTERN.
log_count_at_least() {
    local n
    n=$(grep -c -- "$2" "$1" || true)
    SAW="$n lines matching '$2' in $1"
    [ "$n" -ge "$3" ]
}

# System V objects, read from /proc (ipcs -i exits 0 even for missing ids).
shm_exists() { awk -v id="$1" 'NR > 1 && $2 == id { found = 1 } END { exit !found }' /proc/sysvipc/shm; }
sem_exists() { awk -v id="$1" 'NR > 1 && $2 == id { found = 1 } END { exit !found }' /proc/sysvipc/sem; }
shm_mode() { awk -v id="$1" 'NR > 1 && $2 == id { print $3 }' /proc/sysvipc/shm; }
sem_mode() { awk -v id="$1" 'NR > 1 && $2 == id { print $3 }' /proc/sysvipc/sem; }
shm_attach_count_is() { [ "$(awk -v id="$1" 'NR > 1 && $2 == id { print $7 }' /proc/sysvipc/shm)" = "$2" ]; }
ipc_object_count() { echo $(($(wc -l </proc/sysvipc/shm) + $(wc -l </proc/sysvipc/sem) - 2)); }

# Runs "$@" with every descriptor above 2 closed: bats' fd 3 (or bats waits
# for the daemon forever) and any client socket the test holds (or the
# daemon would keep it open after the test closes it).
run_clean_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    exec "$@"
}

# note TEXT: a line in the suite's output (TAP comment), for what a test
# left out and why, or how it sized itself.
note() { echo "# note: $*" >&3; }

# descriptors_for WANTED SPARE: a test that opens WANTED descriptors at once
# (and SPARE for everything else) raises this test's soft open-files limit
# up to the hard one if it must (no privilege needed: a desktop user has a
# soft 1024 and a hard of 20000 or more); where even the hard limit is too
# small, it sizes itself down and says so. Sets DESCRIPTORS to the number
# it may open. (Not in $(...): the limit would be raised in a subshell.)
descriptors_for() {
    local wanted=$1 spare=$2 soft hard
    soft=$(ulimit -Sn)
    hard=$(ulimit -Hn)
    DESCRIPTORS=$wanted
    [ "$soft" = unlimited ] || [ "$soft" -ge $((wanted + spare)) ] && return 0
    if [ "$hard" = unlimited ] || [ "$hard" -ge $((wanted + spare)) ]; then
        ulimit -Sn $((wanted + spare))
        note "soft open-files limit raised from $soft to $((wanted + spare)) for $wanted connections at once"
    else
        ulimit -Sn "$hard"
        DESCRIPTORS=$((hard - spare))
        note "the hard open-files limit is $hard: $DESCRIPTORS connections at once instead of $wanted"
    fi
}

# namespace_prefix KIND...: the unshare(1) command for private namespaces
# of these kinds (mount, ipc): as root, unshare --mount...; as a user,
# inside a user namespace of one's own, where the user is root.
namespace_prefix() {
    local kind args=()
    [ "$(id -u)" -eq 0 ] || args+=(--user --map-root-user)
    for kind in "$@"; do args+=("--$kind"); done
    echo unshare "${args[@]}"
}
# namespace_unavailable KIND...: prints why such namespaces cannot be made
# here (exit 0), or nothing (exit 1) when they can. A container usually
# forbids them (no CAP_SYS_ADMIN, user namespaces off).
namespace_unavailable() {
    local err
    command -v unshare >/dev/null || { echo "unshare is not installed (util-linux)"; return 0; }
    err=$($(namespace_prefix "$@") true 2>&1) && return 1
    echo "private $* namespaces are not allowed here ($(namespace_prefix "$@"): ${err##*: })"
}

# strace_unavailable: prints why strace cannot trace here (exit 0), or
# nothing (exit 1). A container may forbid ptrace (no SYS_PTRACE).
strace_unavailable() {
    local err
    command -v strace >/dev/null || { echo "strace is not installed (make doctor)"; return 0; }
    err=$(strace -qq -o /dev/null true 2>&1) && return 1
    echo "strace cannot trace here: ${err:-strace failed}"
}

# UNDER_PTRACE: the prefix for a daemon run under strace. LeakSanitizer
# (make sanitize) cannot stop the world under ptrace: leak checks off there.
UNDER_PTRACE="env ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 LSAN_OPTIONS=detect_leaks=0"

DAEMON_PIDS=()
DAEMON_LOGS=()
CONN_FDS=()
EXTRA_PIDS=()

# start_daemon STAGE [ARGS...]: the stage in the foreground on a free port.
# Sets DPID, DPORT, DLOG (its stderr, the log) and DOUT (its stdout).
# START_UNDER, if set, is a command (split into words) to start it under.
# READY_IN_LOG=1: for a daemon that will have no stdout, the port is read
# from its start line in the log (stderr) instead.
start_daemon() {
    local stage=$1
    shift
    local n=${#DAEMON_PIDS[@]}
    DOUT="$BATS_TEST_TMPDIR/$stage.$n.out"
    DLOG="$BATS_TEST_TMPDIR/$stage.$n.log"
    # shellcheck disable=SC2086 # START_UNDER is meant to be split
    (run_clean_fds ${START_UNDER:-} "$(stage_bin "$stage")" -f -p 0 "$@") >"$DOUT" 2>"$DLOG" &
    DPID=$!
    DAEMON_PIDS+=("$DPID")
    DAEMON_LOGS+=("$DLOG")
    if [ -n "${READY_IN_LOG:-}" ]; then
        wait_for "$stage to log its start" grep -q 'listening on ' "$DLOG" || return 1
        DPORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\) pid=.*/\1/p' "$DLOG" | head -n 1)
        return 0
    fi
    if ! wait_for "$stage to listen" grep -q '^listening on ' "$DOUT"; then
        cat "$DLOG" >&2
        return 1
    fi
    DPORT=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\) pid=[0-9]*$/\1/p' "$DOUT")
    [ -n "$DPORT" ] || {
        echo "bad readiness line: $(cat "$DOUT")" >&2
        return 1
    }
}

# Remembers a daemon started some other way (background mode) for teardown.
track_daemon() {
    DAEMON_PIDS+=("$1")
    [ -n "${2:-}" ] && DAEMON_LOGS+=("$2")
    return 0
}

# Ends a daemon by pid: SIGCONT (in case a test stopped it) and SIGTERM;
# after 3 s SIGKILL to it and to the children it had.
end_daemon() {
    local pid=$1 kids kid
    alive "$pid" || {
        wait "$pid" 2>/dev/null || true
        return 0
    }
    kids=$(children_of "$pid")
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    if ! WAIT_MS=3000 wait_for "daemon $pid to stop" gone_or_zombie "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        for kid in $kids; do
            kill -KILL "$kid" 2>/dev/null || true
        done
    fi
    wait "$pid" 2>/dev/null || true
}

# Gone, or a zombie of this shell (a daemon that exited but is not yet waited for).
gone_or_zombie() { gone "$1" || state_is "$1" Z; }

# Removes IPC objects named in daemon logs that outlived their daemon.
remove_stray_ipc() {
    local log shm sem
    for log in "${DAEMON_LOGS[@]}"; do
        [ -f "$log" ] || continue
        while read -r shm sem; do
            shm_exists "$shm" && ipcrm -m "$shm" 2>/dev/null
            sem_exists "$sem" && ipcrm -s "$sem" 2>/dev/null
        done < <(sed -n 's/.*ipc shm=\([0-9]*\) sem=\([0-9]*\).*/\1 \2/p' "$log")
    done
    return 0
}

close_all_conns() {
    local fd
    for fd in "${CONN_FDS[@]}"; do
        # (braces: "exec ... 2>/dev/null" would silence stderr for good)
        { exec {fd}>&-; } 2>/dev/null || true
    done
    CONN_FDS=()
}

teardown_daemons() {
    local pid
    close_all_conns
    for pid in "${EXTRA_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for pid in "${DAEMON_PIDS[@]}"; do
        end_daemon "$pid"
    done
    remove_stray_ipc
}

teardown() { teardown_daemons; }

# --- talking to a daemon over bash's /dev/tcp ---------------------------------

# connect PORT: opens a connection; CONN is its descriptor.
connect() {
    exec {CONN}<>"/dev/tcp/127.0.0.1/$1"
    CONN_FDS+=("$CONN")
}

# read_line FD: one line (without \r\n) into LINE; fails on EOF or after
# 5 s (times the scale). READ_TIMEOUT=0.4 sets a pace instead: not scaled.
read_line() {
    LINE=
    IFS= read -r -t "${READ_TIMEOUT:-$(scaled 5)}" -u "$1" LINE || return 1
    LINE=${LINE%$'\r'}
}

# connect_greeted PORT: connects and reads the greeting into GREETING.
connect_greeted() {
    connect "$1"
    read_line "$CONN" || {
        echo "no greeting from port $1" >&2
        return 1
    }
    GREETING=$LINE
}

send_line() { printf '%s\n' "$2" >&"$1"; }

# expect_eof FD: the daemon closed the connection cleanly (EOF, not reset).
expect_eof() {
    local rest rc=0
    IFS= read -r -t "$(scaled 5)" -u "$1" rest || rc=$?
    # read returns 1 at a clean EOF; >128 on timeout; a reset shows as an error
    [ "$rc" -eq 1 ] && [ -z "$rest" ]
}

close_conn() {
    local fd=$1 i
    exec {fd}>&-
    for i in "${!CONN_FDS[@]}"; do
        [ "${CONN_FDS[$i]}" = "$fd" ] && unset 'CONN_FDS[i]'
    done
    return 0
}

# Field of a greeting or BUSY line: field_of "HELLO x pid=5 active=2" pid -> 5
field_of() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<" $1"; }

# One complete session: greeting, PING/PONG, QUIT/BYE, EOF.
ping_session() {
    local port=$1 fd
    exec {fd}<>"/dev/tcp/127.0.0.1/$port"
    read_line "$fd" && [[ $LINE == HELLO* ]] || {
        exec {fd}>&-
        return 1
    }
    send_line "$fd" PING
    read_line "$fd" && [ "$LINE" = PONG ] || {
        exec {fd}>&-
        return 1
    }
    send_line "$fd" QUIT
    read_line "$fd" && [ "$LINE" = BYE ] || {
        exec {fd}>&-
        return 1
    }
    exec {fd}>&-
}
