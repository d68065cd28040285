#!/usr/bin/env bash
# tests/docs/bpftrace.sh: the bpftrace recipe of part3-signals-bug/README.md
# ("The same evidence with bpftrace"), played the way a reader plays it with
# three terminals: the daemon, the three clients frozen and hung up, and
# bpftrace in the third. Run by make check-docs as root where bpftrace is
# installed (the block's marker says so). bpftrace needs tracefs and a
# memlock limit of a few MB: tracefs is mounted here in a private mount
# namespace if the machine has not mounted it (the machine's mounts are left
# alone), and the limit is raised for this script only.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1

if [ -z "${FORKD_BPF_NS:-}" ]; then
    # the whole recipe in a private mount namespace, with tracefs mounted
    exec unshare --mount --propagation private env FORKD_BPF_NS=1 bash "$0" "$@"
fi
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing || exit 1
ulimit -l 8192 || exit 1
# As root, sudo is not needed (and may not be installed): the README's line runs as is.
# (exec: run in the background, the function's subshell becomes bpftrace)
command -v sudo >/dev/null || sudo() { exec "$@"; }

source "$root/tools/lib.sh" # poll
tmp=$(mktemp -d) || exit 1
dpid= tracer=
cleanup() {
    [ -n "$tracer" ] && stop_tracer
    [ -n "$dpid" ] && kill -CONT "$dpid" 2>/dev/null && kill -TERM "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# the first terminal: the daemon, as in "Watch it" (a free port here)
part3-signals-bug/daemon -f -p 0 -m 3 -t 0 >"$tmp/out" 2>"$tmp/log" 3>&- &
dpid=$!
poll 10000 grep -q '^listening on ' "$tmp/out" || exit 1
port=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\) pid=.*/\1/p' "$tmp/out")
pid=$(sed -n 's/.* pid=\([0-9]*\)$/\1/p' "$tmp/out")

# the third terminal: the README's line
{
sudo bpftrace -e 'tracepoint:signal:signal_generate /args->pid == $1 && args->sig == 12/ { printf("child %d: res=%d\n", pid, args->result); }' "$pid"
} >"$tmp/trace" 2>&1 &
tracer=$!
# attached: bpftrace holds the tracepoint's perf event open (its own output
# is buffered in a file, so "Attaching 1 probe..." shows only at the end)
# (a real sudo runs bpftrace as its child, maybe under the group's subshell)
tracers() {
    local p=$1
    echo "$p"
    for p in $(cat "/proc/$p/task/$p/children" 2>/dev/null); do tracers "$p"; done
}
attached() {
    local p
    for p in $(tracers "$tracer"); do
        ls -l "/proc/$p/fd" 2>/dev/null | grep -q 'perf_event' && return 0
    done
    return 1
}
# Ctrl-C, as the reader ends it: to bpftrace (and sudo, which passes it on)
stop_tracer() {
    kill -INT $(tracers "$tracer") 2>/dev/null
    wait "$tracer" 2>/dev/null
}
poll 60000 attached || { cat "$tmp/trace"; exit 1; }

# the second terminal: three clients, the parent frozen, all three hang up
exec 3<>"/dev/tcp/127.0.0.1/$port" 4<>"/dev/tcp/127.0.0.1/$port" 5<>"/dev/tcp/127.0.0.1/$port"
head -n 1 <&3 && head -n 1 <&4 && head -n 1 <&5 || exit 1
kill -STOP "$dpid"
poll 5000 is_stopped "$dpid" || exit 1
exec 3>&- 4>&- 5>&-
poll 10000 zombies_are "$dpid" 3 || exit 1
kill -CONT "$dpid"
poll 10000 grep -q 'SIGUSR2 received' "$tmp/log" || exit 1
stop_tracer
tracer=
cat "$tmp/trace"
# the kernel's verdicts: the first SIGUSR2 made pending, the next two merged
[ "$(grep -c '^child [0-9]*: res=0$' "$tmp/trace")" -eq 1 ] &&
    [ "$(grep -c '^child [0-9]*: res=2$' "$tmp/trace")" -eq 2 ]
