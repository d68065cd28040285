#!/usr/bin/env bash
# tests/bench/bench.sh [ROUNDS]: what each stage costs, against the floor of
# its design and against the programs people use instead.
#
# Servers: floor (tests/bench/floor.c: accept, fork, greet, answer, exit,
# reap), the four stages (-m 10000 for parts 3-4, far above the load), and,
# when installed, socat (fork, echo) and tcpserver (ucspi-tcp, fork + exec of
# tests/bench/handler). Each measurement starts a fresh server, warms it up,
# then runs tests/tools/loadgen: sessions of connect, greeting, PING/PONG,
# close, at concurrency 1, 8 and 32. Rounds are interleaved (every server
# once per round, in turn), so a slow moment of the machine hits all alike.
#
# Prints a Markdown table: median sessions/s, p50 and p99 latency, the
# slowest session, and the median of each round's ratio to the floor. Then
# the machine-independent figure beside those noisy ones: system calls per
# session, the server's parent and its children apart (strace -f, 300
# sessions at concurrency 1, start-up and shutdown left out; skipped with a
# note where strace cannot trace). Figures only: nothing here fails for
# being slow. tests/bench/BUDGET.md says where a session's time goes.
set -uo pipefail
source "$(dirname "$0")/../../tools/lib.sh"

ROUNDS=${1:-5}
SESSIONS_C1=${BENCH_SESSIONS_C1:-1000}
SESSIONS=${BENCH_SESSIONS:-3000}
WARMUP=200
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    cleanup_started
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

servers=(floor part1-fork part2-zombies part3-signals-bug part4-shm-semaphore)
notes=()
if command -v socat >/dev/null; then servers+=(socat); else notes+=("socat: not installed, skipped (apt-get install socat)"); fi
if command -v tcpserver >/dev/null; then servers+=(tcpserver); else notes+=("tcpserver: not installed, skipped (apt-get install ucspi-tcp)"); fi

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_server NAME: sets SERVER_PID and PORT.
start_server() {
    local out=$WORK/$1.out port tries
    case $1 in
    floor | part*)
        if [ "$1" = floor ]; then
            "${UNDER[@]}" "$TOOLS_DIR/floor" 0 >"$out" 2>"$WORK/$1.log" 3>&- &
        else
            local limit=()
            case $1 in part3-* | part4-*) limit=(-m 10000) ;; esac
            rm -f "$WORK/$1.log"
            "${UNDER[@]}" "$BIN_DIR/$1/daemon" -f -p 0 "${limit[@]}" -l "$WORK/$1.log" >"$out" 2>&1 3>&- &
        fi
        SERVER_PID=$!
        poll 10000 grep -q '^listening on ' "$out" || return 1
        PORT=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\) pid=.*/\1/p' "$out")
        ;;
    socat | tcpserver)
        for tries in 1 2 3 4 5; do
            port=$((20000 + RANDOM % 30000))
            if [ "$1" = socat ]; then
                "${UNDER[@]}" socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,max-children=64,backlog=1024" PIPE 2>"$WORK/$1.log" 3>&- &
            else
                "${UNDER[@]}" tcpserver -c 64 -b 1024 -H -R -l 0 127.0.0.1 "$port" "$TOOLS_DIR/handler" 2>"$WORK/$1.log" 3>&- &
            fi
            SERVER_PID=$!
            if poll 5000 port_answers "$port"; then
                PORT=$port
                return 0
            fi
            kill "$SERVER_PID" 2>/dev/null
            wait "$SERVER_PID" 2>/dev/null
        done
        return 1
        ;;
    esac
}

stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
}

# measure NAME CONCURRENCY: one loadgen run; appends "round name c rate p50 p99 max busy errors" to results.
measure() {
    local name=$1 c=$2 n=$SESSIONS mode=close out
    [ "$c" -eq 1 ] && n=$SESSIONS_C1
    [ "$name" = socat ] && mode=echo
    start_server "$name" || {
        echo "bench: $name did not start" >&2
        return 1
    }
    "$TOOLS_DIR/loadgen" -p "$PORT" -n "$WARMUP" -c "$c" -m "$mode" >/dev/null
    out=$("$TOOLS_DIR/loadgen" -p "$PORT" -n "$n" -c "$c" -m "$mode" -t 10000)
    stop_server
    echo "$ROUND $name $c $(sed -n 's/.* busy=\([0-9]*\) errors=\([0-9]*\) .* rate=\([0-9]*\)\/s p50_us=\([0-9]*\) p99_us=\([0-9]*\) max_us=\([0-9]*\).*/\3 \4 \5 \6 \1 \2/p' <<<"$out")" >>"$WORK/results"
}

# What runs the server: nothing, or strace (syscalls below).
UNDER=(env)

# syscalls NAME: one line, "NAME PARENT CHILDREN", the system calls per
# session of the server's first process and of all the others (its
# children, and what they exec), counted by strace -f between two instants:
# after a warm-up, and before the shutdown.
SC_SESSIONS=${BENCH_SYSCALL_SESSIONS:-300}
syscalls() {
    local name=$1 trace=$WORK/$1.strace mode=close t0 t1 server
    [ "$name" = socat ] && mode=echo
    UNDER=(strace -f -qq -ttt -o "$trace")
    start_server "$name" || {
        UNDER=(env)
        return 1
    }
    UNDER=(env)
    server=$(cat "/proc/$SERVER_PID/task/$SERVER_PID/children") # strace's child: the server
    "$TOOLS_DIR/loadgen" -p "$PORT" -n 50 -c 1 -m "$mode" >/dev/null
    t0=$EPOCHREALTIME
    "$TOOLS_DIR/loadgen" -p "$PORT" -n "$SC_SESSIONS" -c 1 -m "$mode" >/dev/null
    t1=$EPOCHREALTIME
    kill -TERM "$server" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null # strace ends with its tracee
    SERVER_PID=
    # a call cut in two by a signal ("<... resumed>") counts once; signal
    # deliveries and exits (--- and +++ lines) are not calls
    awk -v t0="${t0/,/.}" -v t1="${t1/,/.}" -v p="$server" -v n="$SC_SESSIONS" -v name="$name" '
        $2 + 0 < t0 || $2 + 0 > t1 || $3 ~ /^(---|\+\+\+|<\.\.\.)/ { next }
        { if ($1 == p) parent++; else child++ }
        END { printf "%s %.1f %.1f\n", name, parent / n, child / n }' "$trace"
    rm -f "$trace"
}

started=$(now_ms)
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    for c in 1 8 32; do
        for s in "${servers[@]}"; do
            measure "$s" "$c" || exit 1
        done
    done
    echo "bench: round $ROUND of $ROUNDS done ($((($(now_ms) - started) / 1000)) s)" >&2
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo
echo "Machine: $(nproc) cores, ${cpu:-unknown CPU}, Linux $(uname -r); $ROUNDS interleaved rounds;"
echo "sessions per measurement: $SESSIONS_C1 at concurrency 1, $SESSIONS at 8 and 32 (after $WARMUP warm-up)."
echo
# Medians over rounds; the ratio is the median of each round's rate / floor's rate.
awk -v servers="${servers[*]}" '
    function median(list, n,    a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { key = $2 " " $3; rate[key] = rate[key] " " $4; p50[key] = p50[key] " " $5; p99[key] = p99[key] " " $6
      if ($7 > worst[key]) worst[key] = $7; busy[key] += $8; err[key] += $9; r[$1 " " key] = $4 }
    END {
        print "| server | concurrency | sessions/s | p50 µs | p99 µs | slowest µs | x floor |"
        print "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        n = split(servers, s, " ")
        for (c = 1; c <= 32; c *= (c == 1 ? 8 : 4)) {
            for (i = 1; i <= n; i++) {
                key = s[i] " " c; ratios = ""
                for (k in r) { split(k, f, " "); if (f[2] == s[i] && f[3] == c) ratios = ratios " " r[k] / r[f[1] " floor " c] }
                flag = (busy[key] || err[key]) ? sprintf(" (busy %d, errors %d)", busy[key], err[key]) : ""
                printf "| %s | %d | %.0f | %.0f | %.0f | %d | %.2f%s |\n", s[i], c, median(rate[key]), median(p50[key]), median(p99[key]), worst[key], median(ratios), flag
            }
        }
    }' "$WORK/results"
echo
if err=$(strace -f -qq -o /dev/null true 2>&1); then
    echo "System calls per session (strace -f, $SC_SESSIONS sessions at concurrency 1):"
    echo
    echo "| server | parent | children | total |"
    echo "| --- | ---: | ---: | ---: |"
    for s in "${servers[@]}"; do
        syscalls "$s" | awk '{ printf "| %s | %s | %s | %.1f |\n", $1, $2, $3, $2 + $3 }'
    done
else
    notes+=("system calls per session: not counted, strace cannot trace here (${err:-not installed}; apt-get install strace)")
fi
for n in "${notes[@]}"; do echo; echo "Note: $n"; done
echo
echo "socat runs in echo mode (PIPE): one round trip per session instead of two (greeting, then PING)."
