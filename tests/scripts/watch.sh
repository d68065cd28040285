#!/usr/bin/env bash
# tests/scripts/watch.sh STAGE [DAEMON ARGS...]: a live view for workshops.
#
# Starts the stage in the foreground (its default port unless ARGS say
# otherwise; -b 0.0.0.0 lets a class connect), then once a second prints the
# daemon's own count of active connections beside the truth: how many of its
# children are serving and how many are zombies. Watch part 3's count drift
# away from the truth while students connect, and part 4's stay on it.
#   make watch STAGE=part3-signals-bug ARGS="-b 0.0.0.0 -m 5"
# Ctrl-C stops the daemon and the view.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

stage=${1:-}
[ -n "$stage" ] && [ -x "$BIN_DIR/$stage/daemon" ] || {
    echo "usage: make watch STAGE=part3-signals-bug [ARGS=\"-b 0.0.0.0 -m 5\"]" >&2
    exit 2
}
shift
WORK=$(mktemp -d)
trap 'cleanup_started; rm -rf "$WORK"' EXIT
trap 'echo; exit 0' INT TERM

DOUT=$WORK/out
DLOG=$WORK/log
"$BIN_DIR/$stage/daemon" -f "$@" -l "$DLOG" >"$DOUT" 2>&1 3>&- &
DPID=$!
STARTED_PIDS+=("$DPID")
if ! poll 10000 grep -q '^listening on ' "$DOUT"; then
    cat "$DOUT" >&2
    exit 1
fi
echo "$stage: $(head -n 1 "$DOUT"); log in $DLOG"
echo "connect with: nc <this host> $(sed -n 's/^listening on [0-9.]*:\([0-9]*\) .*/\1/p' "$DOUT")   (Ctrl-C here to stop)"
case $stage in
part1-*) echo "part 1: zombies pile up while nobody connects; the next client's arrival reaps them all" ;;
esac
shm=$(sed -n 's/.*ipc shm=\([0-9]*\) .*/\1/p' "$DLOG")

# The daemon's own count: part 4 keeps it in shared memory; part 3 logs it
# at every change (each accept, each SIGUSR2 handled).
daemon_count() {
    case $stage in
    part4-*) "$TOOLS_DIR/shmpeek" "$shm" 2>/dev/null || echo "?" ;;
    part3-*) grep -o 'active=[0-9]*' "$DLOG" | tail -n 1 | cut -d= -f2 | grep . || echo 0 ;;
    *) echo "-" ;;
    esac
}
serving() { # children holding a socket: serving a client
    local n=0 kid fd
    for kid in $(ps -o pid= --ppid "$DPID" 2>/dev/null); do
        for fd in /proc/"$kid"/fd/*; do
            [[ $(readlink "$fd" 2>/dev/null) == socket:* ]] && { n=$((n + 1)); break; }
        done
    done
    echo "$n"
}

printf '%-9s %-16s %-18s %s\n' time "daemon's count" "children serving" zombies
while kill -0 "$DPID" 2>/dev/null; do
    printf '%-9s %-16s %-18s %s\n' "$(date +%H:%M:%S)" "$(daemon_count)" "$(serving)" "$(count_zombies "$DPID")"
    sleep 1 # the refresh period of the display, not a wait for a state
done
