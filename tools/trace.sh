#!/usr/bin/env bash
# tools/trace.sh [-s auto|tracefs|strace] [-S SIGNAL] [-r DIR] [STAGE [K]]
#   (make trace STAGE=part3-signals-bug K=5 [SOURCE=strace] [SIGNAL=RTMIN])
#
# The kernel's own record of a frozen burst: K clients connect, the daemon is
# stopped (SIGSTOP), the K clients close, the K children end, SIGCONT. For the
# daemon's pid and the lesson's signal (SIGCHLD in part 2, SIGUSR2 in parts 3
# and 4) it prints every send, the kernel's verdict on it and every delivery,
# one line each in relative microseconds, then a summary set beside the
# daemon's own report (its counter, its log).
#
# Two sources, one output:
# - as root, the tracepoints signal:signal_generate (whose "res" is the
#   kernel's verdict: 2 = already pending, the lost signal) and
#   signal:signal_deliver, in a private tracefs instance, so the global
#   trace buffer is never touched. tracefs is mounted for the run if it is
#   not mounted; the instance and any mount are removed afterwards, also
#   after Ctrl-C or SIGTERM.
# - otherwise, strace -f of the daemon: the children's kill() calls (or their
#   exits, for SIGCHLD) and the parent's deliveries. strace cannot see the
#   kernel's verdict: the difference is inferred.
#
#   trace.sh --which [tracefs|strace]  prints the source that would be used
#                                      and why (exit 1 if none is usable)
#   trace.sh --leftovers               lists tracefs instances left by a
#                                      killed run (exit 1 if any)
#   -S SIGNAL  follows another signal (SIGNAL=RTMIN after exercise part3-1)
#   -r DIR  keeps the raw record (kernel.trace or strace.log), the daemon's
#           output, its log as reported, and facts (key=value) in DIR, for
#           the tests.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

PREFIX=forkd-trace- # our instances: forkd-trace-<pid of the run>

usage() {
    echo "usage: trace.sh [-s auto|tracefs|strace] [-S SIGNAL] [-r DIR] [STAGE [K]]  (make trace STAGE=part3-signals-bug K=5)" >&2
    exit 2
}
fail() {
    echo "trace: $*" >&2
    exit 1
}

# --- tracefs ------------------------------------------------------------------

TFS=         # the tracefs in use
TFS_MOUNTED= # the mount point we made, if we mounted it
TFS_NOTE=    # how we got it, for the "why" line
INST=        # our instance
WHY_NOT=     # why tracefs cannot be used

# tracefs_open: sets TFS (mounting tracefs in a private directory if it is not
# mounted at /sys/kernel/tracing); WHY_NOT and 1 when it cannot be used.
tracefs_open() {
    local err
    if [ "$(id -u)" -ne 0 ]; then
        WHY_NOT="not root, and the kernel's tracepoints are for root only"
        return 1
    fi
    if [ -d /sys/kernel/tracing/instances ]; then
        TFS=/sys/kernel/tracing
        TFS_NOTE="tracefs already mounted at $TFS"
    else
        # named before it exists, so that a Ctrl-C at any point finds it
        TFS_MOUNTED=/tmp/forkd-tracefs.$$.$SRANDOM
        mkdir -m 700 "$TFS_MOUNTED" || {
            TFS_MOUNTED=
            WHY_NOT="cannot create a mount point in /tmp"
            return 1
        }
        if ! err=$(mount -t tracefs nodev "$TFS_MOUNTED" 2>&1); then
            rmdir "$TFS_MOUNTED"
            TFS_MOUNTED=
            WHY_NOT="tracefs cannot be mounted: ${err:-mount failed}"
            return 1
        fi
        TFS=$TFS_MOUNTED
        TFS_NOTE="tracefs was not mounted: mounted for this run at $TFS, unmounted afterwards"
    fi
    if [ ! -d "$TFS/events/signal/signal_generate" ] || [ ! -d "$TFS/events/signal/signal_deliver" ]; then
        WHY_NOT="this kernel has no signal:signal_generate/signal_deliver tracepoints"
        tracefs_close
        return 1
    fi
}

# Our mount points whose run is gone (forkd-tracefs.<pid of the run>.XXXXXX).
stale_mounts() {
    local m pid
    for m in /tmp/forkd-tracefs.*; do
        [ -d "$m" ] || continue
        pid=${m#/tmp/forkd-tracefs.}
        pid=${pid%%.*}
        [ -d "/proc/$pid" ] || echo "$m" # (kill -0 fails for other users' runs)
    done
}
remove_stale_mounts() {
    local m pid
    for m in $(stale_mounts); do
        pid=${m#/tmp/forkd-tracefs.}
        pid=${pid%%.*}
        if grep -q " $m tracefs " /proc/mounts; then
            remove_instance "$m/instances/$PREFIX$pid"
            umount "$m" || continue
        fi
        rmdir "$m" 2>/dev/null && echo "trace: removed $m, left by a run that was killed" >&2
    done
}

# Our instances whose run is gone (a run killed with SIGKILL cannot clean up).
stale_instances() {
    local d pid
    for d in "$TFS"/instances/"$PREFIX"*; do
        [ -d "$d" ] || continue
        pid=${d##*/"$PREFIX"}
        [ -d "/proc/$pid" ] || echo "$d"
    done
}

remove_instance() { rmdir "$1" 2>/dev/null; }

# tracefs_instance: a private instance, signals filtered later.
tracefs_instance() {
    local d err
    remove_stale_mounts
    for d in $(stale_instances); do
        remove_instance "$d" && echo "trace: removed the tracefs instance ${d##*/}, left by a run that was killed" >&2
    done
    INST=$TFS/instances/$PREFIX$$
    if ! err=$(mkdir "$INST" 2>&1); then
        INST=
        WHY_NOT="cannot create a tracefs instance: $err"
        tracefs_close
        return 1
    fi
    echo 256 >"$INST/buffer_size_kb" 2>/dev/null || true # plenty for a burst
}

tracefs_close() {
    if [ -n "$INST" ] && [ -d "$INST" ]; then
        echo 0 >"$INST/tracing_on" 2>/dev/null || true
        echo 0 >"$INST/events/enable" 2>/dev/null || true
        poll 5000 remove_instance "$INST" || echo "trace: could not remove $INST" >&2
    fi
    INST=
    if [ -n "$TFS_MOUNTED" ]; then
        if grep -q " $TFS_MOUNTED tracefs " /proc/mounts; then
            poll 5000 umount "$TFS_MOUNTED" 2>/dev/null || umount -l "$TFS_MOUNTED" ||
                echo "trace: could not unmount $TFS_MOUNTED" >&2
        fi
        rmdir "$TFS_MOUNTED" 2>/dev/null || true
        TFS_MOUNTED=
    fi
    TFS=
}

# tracefs_usable: can a private instance be made? (made and removed again)
tracefs_usable() {
    tracefs_open || return 1
    tracefs_instance || return 1
    tracefs_close
}

# --- strace -------------------------------------------------------------------

strace_usable() {
    local err
    command -v strace >/dev/null 2>&1 || {
        WHY_NOT="strace is not installed (Debian/Ubuntu: apt-get install strace)"
        return 1
    }
    err=$(strace -f -o /dev/null true 2>&1) || {
        WHY_NOT="strace cannot trace here: ${err:-it failed}"
        return 1
    }
}

# Whatever happens from here on, the instance, the mount, the daemon and the
# temporary files go (set before anything is created).
WORK= source_name=
finish() {
    trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
    [ "$source_name" = strace ] && end_under_strace
    [ -n "$WORK" ] && cleanup_started
    tracefs_close
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap finish EXIT
trap 'echo; echo "trace interrupted: stopping what it started" >&2; exit 130' INT
trap 'echo "trace terminated: stopping what it started" >&2; exit 143' TERM

# strace ignores SIGINT and SIGTERM when it writes to a file, and a SIGKILL
# would leave its tracee running: end the daemon, strace's child, first (it
# ends and reaps its own children); strace follows it out. Launch may have
# been interrupted before strace forked the daemon: wait for that.
end_under_strace() {
    local tracer kid
    [ ${#STARTED_PIDS[@]} -gt 0 ] || return 0
    tracer=${STARTED_PIDS[${#STARTED_PIDS[@]} - 1]}
    poll 5000 child_or_gone "$tracer"
    for kid in $(ps -o pid= --ppid "$tracer" 2>/dev/null); do stop_daemon "$kid"; done
    poll 5000 exited "$tracer"
    wait "$tracer" 2>/dev/null
}
child_or_gone() { exited "$1" || [ -n "$(ps -o pid= --ppid "$1" 2>/dev/null)" ]; }

# --- modes without a burst ----------------------------------------------------

if [ "${1:-}" = --which ]; then
    want=${2:-auto} tracefs_why=
    if [ "$want" != strace ]; then
        if tracefs_usable; then
            echo "tracefs: running as root, and a private tracefs instance can be made"
            exit 0
        fi
        tracefs_why=$WHY_NOT
        [ "$want" = tracefs ] && {
            echo "tracefs unusable: $tracefs_why"
            exit 1
        }
    fi
    if strace_usable; then
        echo "strace: ${tracefs_why:+tracefs unusable ($tracefs_why), and }strace -f can trace a process it starts"
        exit 0
    fi
    echo "none: ${tracefs_why:+tracefs unusable ($tracefs_why); }$WHY_NOT"
    exit 1
fi

if [ "${1:-}" = --leftovers ]; then
    left=$(stale_mounts)
    if tracefs_open; then
        left+=$'\n'$(stale_instances | sed "s|^$TFS/|/sys/kernel/tracing/|")
        tracefs_close
    fi
    left=$(grep . <<<"$left")
    [ -z "$left" ] && exit 0
    echo "left behind by a make trace that was killed (the next make trace as root removes them):" >&2
    echo "$left" >&2
    exit 1
fi

# --- the arguments ------------------------------------------------------------

want=auto sig_name= raw=
while getopts ':s:S:r:' opt; do
    case $opt in
    s) want=$OPTARG ;;
    S) sig_name=$OPTARG ;;
    r) raw=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -le 2 ] || usage
stage=${1:-part3-signals-bug}
k=${2:-5}
case $want in auto | tracefs | strace) ;; *)
    echo "trace: SOURCE must be auto, tracefs or strace, not '$want'" >&2
    exit 2
    ;;
esac
[[ $k =~ ^[0-9]+$ ]] && [ "$k" -ge 1 ] && [ "$k" -le 200 ] || {
    echo "trace: K must be a number of clients from 1 to 200, not '$k'" >&2
    exit 2
}
case $stage in
part1-*)
    echo "trace: $stage has no signal handler to trace (its children stay zombies: make demo STAGE=$stage); try STAGE=part2-zombies or part3-signals-bug" >&2
    exit 2
    ;;
part2-*) default_sig=CHLD limit=() ;;
*) default_sig=USR2 limit=(-m "$k") ;; # -m K: the burst fills the limit exactly
esac
[ -x "$BIN_DIR/$stage/daemon" ] || {
    echo "trace: no stage named $stage (the stages: $(cd "$FORKD_ROOT" && echo part*)); make builds them" >&2
    exit 2
}
sig_name=${sig_name:-$default_sig}
sig_name=${sig_name#SIG}
sig=$(kill -l "$sig_name" 2>/dev/null) && [[ $sig =~ ^[0-9]+$ ]] || {
    echo "trace: no signal named '$sig_name'" >&2
    exit 2
}
SIG=SIG$sig_name

# --- the source ---------------------------------------------------------------

why= note=
if [ "$want" != strace ]; then
    if tracefs_open && tracefs_instance; then
        source_name=tracefs
        why="running as root: the kernel's own record, in a private tracefs instance ($PREFIX$$), so the global trace buffer is untouched"
        note=$TFS_NOTE
    elif [ "$want" = tracefs ]; then
        fail "tracefs unusable: $WHY_NOT"
    else
        why="tracefs unusable: $WHY_NOT"
    fi
fi
if [ -z "$source_name" ]; then
    strace_usable || fail "${why:+$why; }strace unusable: $WHY_NOT"
    source_name=strace
    [ "$want" = strace ] && why="asked for (SOURCE=strace)"
    note="strace shows each send and each delivery; the kernel's verdict on a send is invisible to it, so losses are inferred"
fi

# named before it exists, so that a Ctrl-C at any point finds it
WORK=${TMPDIR:-/tmp}/forkd-trace.$$.$SRANDOM
mkdir -m 700 "$WORK" || {
    WORK=
    fail "cannot create a temporary directory"
}

# mark TEXT: a line in the timeline, at the time it happens.
mark() {
    if [ "$source_name" = tracefs ]; then
        echo "$*" >"$INST/trace_marker"
    else
        printf '%s %s\n' "$EPOCHREALTIME" "$*" >>"$WORK/marks"
    fi
}
frozen() { case $(ps -o stat= -p "$1" 2>/dev/null) in [Tt]*) return 0 ;; esac; return 1; }
# strace_let_go N: N burst children are zombies that strace has let go of. A
# traced child's SIGCHLD goes to strace; its parent's is sent only when strace
# has collected the exit and detached (TracerPid 0).
strace_let_go() {
    local n=0 kid
    for kid in "${KIDS[@]}"; do
        [ "$(awk '/^State:/ { s = $2 } /^TracerPid:/ { t = $2 } END { print s t }' "/proc/$kid/status" 2>/dev/null)" = Z0 ] &&
            n=$((n + 1))
    done
    [ "$n" -eq "$1" ]
}
reaped_lines() { # how many of the burst children the daemon logged as reaped
    local n=0 kid
    for kid in "${KIDS[@]}"; do
        grep -q "reaped child pid=$kid " "$DLOG" && n=$((n + 1))
    done
    echo "$n"
}
reaped_are() { [ "$(reaped_lines)" -eq "$1" ]; }

# --- the burst ----------------------------------------------------------------

if [ "$source_name" = tracefs ]; then
    launch -- "$stage" "${limit[@]}" || fail "$stage did not start"
else
    case $sig_name in
    CHLD) calls=none ;;
    *) calls='kill' ;;
    esac
    # strace's names: SIGRT_2 for glibc's SIGRTMIN (34; glibc keeps 32 and 33)
    STRACE_SIG=$SIG
    [ "$sig" -gt 32 ] && STRACE_SIG=SIGRT_$((sig - 32))
    # make sanitize: LeakSanitizer cannot work under ptrace, so it is off here
    asan=()
    [ -n "${ASAN_OPTIONS:-}" ] && asan=(env "ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0" LSAN_OPTIONS=detect_leaks=0)
    launch "${asan[@]}" strace -f -q -ttt -o "$WORK/strace.log" -e "trace=$calls" -e "signal=$sig" -- "$stage" "${limit[@]}" ||
        fail "$stage did not start under strace"
    # launch's pid is strace's, the daemon is strace's child: ended first
    SPID=$DPID
    DPID=$(sed -n 's/^listening on .* pid=\([0-9]*\)$/\1/p' "$DOUT")
    [ -n "$DPID" ] || fail "no pid in the daemon's readiness line"
    STARTED_PIDS=("$DPID" "$SPID")
fi

KIDS=()
for ((i = 0; i < k; i++)); do
    hold 1 "$DPORT" || fail "client $((i + 1)) of $k could not connect"
    KIDS+=("$(field pid "$GREETING")")
done

if [ "$source_name" = tracefs ]; then
    echo "pid == $DPID && sig == $sig" >"$INST/events/signal/signal_generate/filter" || fail "cannot set the filter"
    echo "common_pid == $DPID && sig == $sig" >"$INST/events/signal/signal_deliver/filter" || fail "cannot set the filter"
    echo 1 >"$INST/events/signal/signal_generate/enable" || fail "cannot enable signal_generate"
    echo 1 >"$INST/events/signal/signal_deliver/enable" || fail "cannot enable signal_deliver"
    echo 1 >"$INST/tracing_on"
fi

kill -STOP "$DPID"
poll 5000 frozen "$DPID" || fail "the daemon did not stop"
mark "the parent is frozen (SIGSTOP); its $k clients close"
release_all
poll 10000 zombies_are "$DPID" "$k" || fail "the $k children did not end"
[ "$source_name" = strace ] && { poll 10000 strace_let_go "$k" || fail "strace did not let go of the $k children"; }
mark "$k children ended (zombies); SIGCONT wakes the parent"
kill -CONT "$DPID"
# once every child is reaped, every pending signal has been delivered: the
# SIGCHLD that made the handler reap and any other signal pending with it
# (a handler that reaps once per signal leaves zombies: reported below)
if poll 5000 no_children "$DPID"; then
    poll 5000 reaped_are "$k" # the log follows the handler; report what it says
fi
if [ "$source_name" = tracefs ]; then
    echo 0 >"$INST/tracing_on"
    cat "$INST/trace" >"$WORK/kernel.trace" || fail "cannot read the trace"
    tracefs_close # the instance goes as soon as it has been read
else
    mark "probe"
fi

# The daemon's own report: a new client's greeting (parts 3-4), the log,
# beside the truth just before that client came.
children_after=$(count_children "$DPID")
zombies_after=$(count_zombies "$DPID")
greeting= counter=
if [ ${#limit[@]} -gt 0 ]; then
    talk "$DPORT" QUIT || fail "no answer to a probe"
    greeting=${REPLIES[0]}
    case $greeting in
    BUSY*) counter=$(field active "$greeting") ;;
    *) counter=$(($(field active "$greeting") - 1)) ;;
    esac
fi
[ -n "$greeting" ] && poll 5000 no_children "$DPID" # the probe's child
reaped=$(reaped_lines)
cp "$DLOG" "$WORK/report.log" # the log as reported (stopping it reaps any zombie)
stop_daemon "$DPID"
if [ "$source_name" = strace ]; then
    poll 5000 exited "$SPID" || fail "strace did not end with the daemon"
    wait "$SPID" # its log is complete
fi

# --- the timeline -------------------------------------------------------------

# Events, one per line: MICROSECONDS KIND PID TEXT (KIND: mark, send, res, deliver).
events() {
    if [ "$source_name" = tracefs ]; then
        sed -n 's/^ *.*-\([0-9]\{1,\}\) \{1,\}\[[0-9]\{1,\}\] \{1,\}[^ ]\{1,\} \{1,\}\([0-9]\{1,\}\)\.\([0-9]\{6\}\): \([a-z_]\{1,\}\): \(.*\)$/\2\3 \4 \1 \5/p' "$WORK/kernel.trace" |
            while read -r t ev pid rest; do
                case $ev in
                tracing_mark_write) echo "$t mark $pid $rest" ;;
                signal_generate) echo "$t res $pid $(sed -n 's/.* res=\([0-9]*\).*/\1/p' <<<"$rest")" ;;
                signal_deliver) echo "$t deliver $pid" ;;
                esac
            done
    else
        local probe
        probe=$(sed -n 's/^\([0-9]*\)\.\([0-9]*\) probe$/\1\2/p' "$WORK/marks")
        {
            sed -n 's/^\([0-9]*\)\.\([0-9]\{6\}\) \(.*\)$/\1\2 mark 0 \3/p' "$WORK/marks" | grep -v ' probe$'
            sed -n 's/^\([0-9]*\) \{1,\}\([0-9]*\)\.\([0-9]\{6\}\) \(.*\)$/\2\3 \1 \4/p' "$WORK/strace.log" |
                while read -r t pid rest; do
                    [ "$t" -lt "$probe" ] || continue # the probe's own signals
                    case $rest in
                    "kill($DPID, $STRACE_SIG)"* | "kill($DPID, $STRACE_SIG <unfinished"*) echo "$t send $pid" ;;
                    "+++ exited with "* | "+++ killed by "*)
                        [ "$sig_name" = CHLD ] && [ "$pid" != "$DPID" ] && echo "$t exit $pid ${rest#+++ }"
                        ;;
                    "--- $STRACE_SIG "*)
                        [ "$pid" = "$DPID" ] && echo "$t deliver $pid $(sed -n 's/.*si_pid=\([0-9]*\).*/\1/p' <<<"$rest")"
                        ;;
                    esac
                done
        } | sort -n -s -k1,1
    fi
}

verdict() {
    case $1 in
    0) echo "res=0 TRACE_SIGNAL_DELIVERED: queued, now pending" ;;
    1) echo "res=1 TRACE_SIGNAL_IGNORED: ignored" ;;
    2) echo "res=2 TRACE_SIGNAL_ALREADY_PENDING: DROPPED, one is already pending" ;;
    3) echo "res=3 TRACE_SIGNAL_OVERFLOW_FAIL: refused, the queue is full (EAGAIN)" ;;
    4) echo "res=4 TRACE_SIGNAL_LOSE_INFO: pending bit only, its siginfo lost (queue full)" ;;
    *) echo "res=$1 (unknown)" ;;
    esac
}

events >"$WORK/events"
[ -n "$raw" ] && {
    mkdir -p "$raw" || fail "cannot create $raw"
    cp "$WORK"/*.trace "$WORK"/strace.log "$raw"/ 2>/dev/null
    cp "$DOUT" "$raw/daemon.out" && cp "$WORK/report.log" "$raw/daemon.log"
    cp "$WORK/events" "$raw/events"
    printf '%s\n' "source=$source_name" "stage=$stage" "k=$k" "sig=$sig" "dpid=$DPID" \
        "kids=${KIDS[*]}" "greeting=$greeting" "counter=$counter" "children=$children_after" \
        "zombies=$zombies_after" "reaped=$reaped" >"$raw/facts"
}

echo "trace: $stage, K=$k clients close while the daemon (pid $DPID) is frozen; following $SIG to it"
if [ "$source_name" = tracefs ]; then
    echo "source: the kernel's tracepoints signal:signal_generate and signal:signal_deliver"
else
    echo "source: strace -f of the daemon"
fi
echo "  why: $why"
echo "  $note"
echo
t0=$(awk '$2 == "mark" { print $1; exit }' "$WORK/events")
# shellcheck disable=SC2034 # res0 is counted like the others (eval)
sent=0 delivered=0 res0=0 res1=0 res2=0 res3=0 res4=0
while read -r t kind pid rest; do
    rel=$(printf '%+9d us' $((t - t0)))
    case $kind in
    mark) echo "$rel  -- $rest" ;;
    res)
        sent=$((sent + 1))
        case $rest in [0-4]) eval "res$rest=\$((res$rest + 1))" ;; esac
        printf '%s  child %-7s %s -> %s  %s\n' "$rel" "$pid" "$SIG" "$DPID" "$(verdict "$rest")"
        ;;
    send)
        sent=$((sent + 1))
        printf '%s  child %-7s kill(%s, %s) = 0\n' "$rel" "$pid" "$DPID" "$SIG"
        ;;
    exit)
        sent=$((sent + 1))
        printf '%s  child %-7s %s: the kernel sends %s to %s\n' "$rel" "$pid" "${rest% +++}" "$SIG" "$DPID"
        ;;
    deliver)
        delivered=$((delivered + 1))
        printf '%s  parent %-6s %s delivered: the handler runs%s\n' "$rel" "$pid" "$SIG" "${rest:+ (siginfo of child $rest)}"
        ;;
    esac
done <"$WORK/events"
[ "$sent$delivered" = 00 ] && echo "              (no $SIG to pid $DPID at all)"
echo

# --- the summary --------------------------------------------------------------

runs=$([ "$delivered" -eq 1 ] && echo "one handler run" || echo "$delivered handler runs")
drift=$((${counter:-0} - children_after))
if [ "$sig_name" = CHLD ]; then
    echo "the daemon's report: its log names $reaped of the $k children as reaped; ps shows $zombies_after zombies"
else
    echo "the daemon's report: the next client is greeted \"$greeting\": it counted $counter before that client, while $children_after children were running"
fi
if [ "$source_name" = tracefs ]; then
    others=
    [ "$res1" -gt 0 ] && others+=", $res1 ignored"
    [ "$res3" -gt 0 ] && others+=", $res3 refused for a full queue"
    [ "$res4" -gt 0 ] && others+=", $res4 made pending without their siginfo (queue full)"
    if [ "$sig_name" = CHLD ]; then
        echo "summary: $k children ended, $delivered $SIG delivered, $res2 dropped$others, $reaped reaped by $runs: $zombies_after zombies"
        if [ "$zombies_after" -gt 0 ]; then
            echo "  $zombies_after zombies: $delivered SIGCHLD stood for $k children, and the handler reaped $reaped"
        elif [ "$reaped" -eq $((res2 + delivered)) ]; then
            echo "  $reaped reaped = $res2 dropped + $delivered delivered: the handler's waitpid loop reaps every ended child, however many SIGCHLDs merged"
        else
            echo "  $reaped reaped, $res2 dropped, $delivered delivered"
        fi
    elif [ "$sent" -eq 0 ]; then
        echo "summary: $k children ended, no $SIG sent at all -> the counter says active=$counter with $children_after children$([ "$drift" -eq 0 ] && echo ": exact")"
    else
        echo "summary: $sent $SIG sent, $delivered delivered, $res2 dropped as already pending$others -> the counter says active=$counter with $children_after children"
        if [ "$res2" -eq 0 ] && [ "$drift" -eq 0 ]; then
            echo "  nothing dropped, nothing missing: the count is exact"
        elif [ "$res2" -eq "$drift" ]; then
            echo "  $res2 dropped by the kernel = $drift too many in the counter: each lost signal is a lost decrement"
        else
            echo "  $((sent - delivered)) of the $sent never reached the handler as signals of their own; the counter is off by $drift"
        fi
    fi
else
    lost=$((sent > delivered ? sent - delivered : 0))
    if [ "$sig_name" = CHLD ]; then
        echo "summary: $k children ended, $delivered $SIG delivered, so $lost merged into a pending one (inferred), $reaped reaped by $runs: $zombies_after zombies"
    elif [ "$sent" -eq 0 ]; then
        echo "summary: $k children ended, no $SIG sent at all -> the counter says active=$counter with $children_after children$([ "$drift" -eq 0 ] && echo ": exact")"
    else
        echo "summary: $sent $SIG sent, $delivered delivered, so $lost lost (inferred: each kill() returned 0) -> the counter says active=$counter with $children_after children"
    fi
fi
exit 0
