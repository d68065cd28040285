#!/usr/bin/env bash
# tests/scripts/stress.sh [STAGE]: the reliability suite (tests/stress.bats)
# in its long form, with its figures: 30,000 sessions per stage instead of
# 5,000 (part 1 stays at a few hundred: it keeps every child as a zombie).
# Prints each test's figures and a summary table. Not run by CI.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bats=${BATS:-$root/tests/node_modules/bats/bin/bats}
tools=${FORKD_TOOLS_DIR:-$root/build/tools}
[ -n "${1:-}" ] && export FORKD_STAGES=$1
export FORKD_STRESS_SESSIONS=${FORKD_STRESS_SESSIONS:-30000}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$tools/reaper" "$bats" --show-output-of-passing-tests "$root/tests/stress.bats" | tee "$out"
status=${PIPESTATUS[0]}

echo
echo "Figures (make stress, $(nproc) cores, $FORKD_STRESS_SESSIONS sessions at concurrency 32 for parts 2-4):"
echo
echo "| stage | sessions | served | refused (BUSY) | errors | time ms | p99 µs | slowest µs | most serving | most zombies | CPU ticks in 2 s of EMFILE |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
awk '
    /^# stage: / { stage = $3 }
    /^# (part[0-9][^:]*): sessions=/ && !seen[$2]++ {
        st = $2; sub(":", "", st)
        for (i = 3; i <= NF; i++) { split($i, kv, "="); f[st, kv[1]] = kv[2] }
    }
    /at most .* children serving/ { st = $2; sub(":", "", st); serving[st] = $5 }
    /at most .* zombies at once/ { st = $2; sub(":", "", st); zombies[st] = $5 }
    /CPU over 2 s of EMFILE/ { st = $2; sub(":", "", st); cpu[st] = $9 }
    END {
        n = split("part1-fork part2-zombies part3-signals-bug part4-shm-semaphore", order, " ")
        for (i = 1; i <= n; i++) {
            st = order[i]
            if (!((st, "sessions") in f)) continue
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", st, f[st, "sessions"], f[st, "ok"], f[st, "busy"], f[st, "errors"], f[st, "elapsed_ms"], f[st, "p99_us"], f[st, "max_us"], (st in serving) ? serving[st] : "-", (st in zombies) ? zombies[st] : "(by design)", (st in cpu) ? cpu[st] : "-"
        }
    }' "$out"
exit "$status"
