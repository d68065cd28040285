#!/usr/bin/env bash
# tools/drift-rate.sh [ROUNDS] [K] [STAGE...]: how often natural
# bursts (K connections closed within microseconds, nothing frozen) make the
# counter drift, per stage. Reports figures; asserts nothing (the tests
# assert only the frozen, deterministic form of the drift).
#
# Each stage runs with -m 10000 so the drift never reaches the limit. Default:
# 100 rounds of 5, parts 3 and 4.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=${FORKD_TOOLS_DIR:-$root/build/tools}
bin=${FORKD_BIN_DIR:-$root}
rounds=${1:-100}
k=${2:-5}
shift $(($# > 2 ? 2 : $#))
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(part4-shm-semaphore part3-signals-bug)

tmp=$(mktemp -d)
daemon=
cleanup() {
    if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
        kill -TERM "$daemon"
        wait "$daemon" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

for stage in "${stages[@]}"; do
    "$bin/$stage/daemon" -f -p 0 -m 10000 >"$tmp/out" 2>"$tmp/log" 3>&- &
    daemon=$!
    for _ in $(seq 500); do
        grep -q '^listening on ' "$tmp/out" && break
        kill -0 "$daemon" 2>/dev/null || { cat "$tmp/log" >&2; exit 1; }
        sleep 0.01
    done
    port=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\) pid=.*/\1/p' "$tmp/out")
    summary=$("$tools/burst" -p "$port" -d "$daemon" -k "$k" -r "$rounds" -q)
    kill -TERM "$daemon"
    wait "$daemon" || true
    daemon=
    drifted=$(sed -n 's/.*drifted_rounds=\([0-9]*\).*/\1/p' <<<"$summary")
    lost=$(sed -n 's/.*lost_decrements=\([0-9]*\).*/\1/p' <<<"$summary")
    echo "$stage: $rounds rounds of $k simultaneous closes: $drifted drifted ($((100 * drifted / rounds))%), $lost decrements lost"
done
