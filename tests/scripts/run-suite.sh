#!/usr/bin/env bash
# tests/scripts/run-suite.sh [STAGE]: runs the bats suites the way make test
# does, and fails unless the machine is left as it was found.
#
# Without STAGE: every suite in tests/. With STAGE: the shared contract
# (common.bats) and the reliability suite against that stage, plus its own
# suite. FORKD_SUITES="common.bats" runs only the suites it names (make
# musl). The suites run under tests/tools/reaper, which reaps daemons that
# detached and fails the run if any process they started is still alive.
# System V objects are compared before and after.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
# make passes its bats; run by hand, the one make would choose
bats=${BATS:-$("$root/tools/doctor.sh" --bats)}
tools=${FORKD_TOOLS_DIR:-$root/build/tools}
cd "$root/tests" || exit 1

files=()
if [ -n "${1:-}" ]; then
    if [ ! -d "$root/$1" ]; then
        echo "no stage named $1 (the stages: $(cd "$root" && echo part*))" >&2
        exit 2
    fi
    export FORKD_STAGES=$1
    files=(common.bats "$1.bats")
    [ -f stress.bats ] && files+=(stress.bats)
else
    files=(*.bats)
fi
[ -n "${FORKD_SUITES:-}" ] && read -r -a files <<<"$FORKD_SUITES"

# A stage changed on purpose (an exercise in progress) fails some of its
# lesson tests: say so before the suites, and again in the summary.
changed=$("$root/tools/exercise.sh" changed ${1:+"$1"})
if [ -n "$changed" ]; then
    echo "run-suite: note: $changed"
    echo
fi

ipc_ids() { awk 'NR > 1 { print FILENAME, $2 }' /proc/sysvipc/shm /proc/sysvipc/sem | sort; }

before=$(ipc_ids)
started=$(date +%s)
"$tools/reaper" "$bats" "${files[@]}"
status=$?
after=$(ipc_ids)
if [ "$before" != "$after" ]; then
    echo "run-suite: System V objects differ after the suites (before, after):" >&2
    diff <(echo "$before") <(echo "$after") >&2
    status=1
fi
# make trace's tests make private tracefs instances (as root): none may stay
if ! "$root/tools/trace.sh" --leftovers; then
    echo "run-suite: make trace left a tracefs instance behind" >&2
    status=1
fi
echo "run-suite: ${files[*]}: $(($(date +%s) - started)) s, exit $status"
[ -z "$changed" ] || echo "run-suite: note: $changed"
exit $status
