#!/usr/bin/env bash
# tests/scripts/check-exercises.sh [EX...]: proves every exercise checker
# both ways. For each tests/exercises/EX.bats, in a temporary copy of the
# tree: the checker must FAIL on the untouched stages, and PASS once
# tests/exercises/solutions/EX.patch is applied. A checker that cannot fail
# or cannot pass checks nothing. Then each typical wrong solution,
# tests/exercises/mistakes/EX-*.patch, must make it FAIL with the message
# the patch's "Expect:" line names (in English): a checker that passes a
# mistake, or reports it in words that do not point at it, teaches nothing.
# And every exercise has its three hints, in English and in Polish.
#
# The stages come from the last commit (untouched, whatever is being edited
# in the working tree); the checkers and solutions from the working tree.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# make passes its bats; run by hand, the one make would choose
bats=${BATS:-$("$root/tools/doctor.sh" --bats)}
reaper=${FORKD_TOOLS_DIR:-$root/build/tools}/reaper
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

exercises=("$@")
if [ ${#exercises[@]} -eq 0 ]; then
    for f in "$root"/tests/exercises/*.bats; do exercises+=("$(basename "$f" .bats)"); done
fi

# fresh_copy DIR: the committed tree, with the working tree's exercises.
fresh_copy() {
    mkdir -p "$1"
    if git -C "$root" rev-parse --verify -q HEAD >/dev/null; then
        git -C "$root" archive HEAD | tar -x -C "$1"
    else
        (cd "$root" && tar -c --exclude=./build --exclude=./tests/node_modules .) | tar -x -C "$1"
    fi
    rm -rf "$1/tests/exercises"
    cp -R "$root/tests/exercises" "$1/tests/exercises"
    ln -s "$root/tests/node_modules" "$1/tests/node_modules"
}

# run_checker DIR EX: the checker against DIR's daemons; its output in DIR/EX.out.
run_checker() {
    (cd "$1" && FORKD_BIN_DIR="$1" "$reaper" "$bats" "tests/exercises/$2.bats") >"$1/$2.out" 2>&1
}

# check_mistake EX PATCH: EX's checker fails on PATCH (after the reference
# solution, if its "Applies to:" line says so), for the reason its
# "Expect:" line gives.
check_mistake() {
    local ex=$1 patch=$2 name expect copy
    name=$(basename "$patch" .patch)
    expect=$(sed -n 's/^Expect: //p' "$patch" | head -n 1)
    copy=$tmp/$name
    if [ -z "$expect" ]; then
        echo "$name: BAD: no Expect: line"
        return 1
    fi
    fresh_copy "$copy"
    if grep -q '^Applies to: the stage with the reference solution' "$patch" &&
        ! (cd "$copy" && git apply "$root/tests/exercises/solutions/$ex.patch"); then
        echo "$name: BAD: the reference solution does not apply"
        return 1
    fi
    if ! (cd "$copy" && git apply "$patch") || ! make -s -C "$copy" all >"$copy/build.out" 2>&1; then
        echo "$name: BAD: the mistake does not apply or build"
        cat "$copy/build.out" 2>/dev/null
        return 1
    fi
    if FORKD_LANG=en run_checker "$copy" "$ex"; then
        echo "$name: BAD: the checker passes this mistake"
        return 1
    fi
    if ! grep -qF -- "$expect" "$copy/$ex.out"; then
        echo "$name: BAD: the checker fails, but without saying \"$expect\":"
        cat "$copy/$ex.out"
        return 1
    fi
    echo "$name: ok (fails: \"$expect\")"
    rm -rf "$copy"
}

failed=0
for ex in "${exercises[@]}"; do
    copy=$tmp/$ex
    solution=$root/tests/exercises/solutions/$ex.patch
    started=$(date +%s)
    if [ ! -f "$root/tests/exercises/$ex.bats" ] || [ ! -f "$solution" ]; then
        echo "$ex: missing checker or solution"
        failed=1
        continue
    fi
    fresh_copy "$copy"
    if ! make -s -C "$copy" all >"$copy/build.out" 2>&1; then
        echo "$ex: the untouched tree does not build"
        cat "$copy/build.out"
        failed=1
        continue
    fi
    if run_checker "$copy" "$ex"; then
        echo "$ex: BAD: the checker passes on the untouched stage"
        failed=1
        continue
    fi
    # it must fail for the right reason: tests that ran and failed, not a setup error
    if grep -q 'setup_file failed\|bats warning: Executed' "$copy/$ex.out"; then
        echo "$ex: BAD: the checker could not run on the untouched stage:"
        cat "$copy/$ex.out"
        failed=1
        continue
    fi
    before=$(grep -c '^not ok' "$copy/$ex.out")
    if ! (cd "$copy" && git apply "$solution") || ! make -s -C "$copy" all >"$copy/build.out" 2>&1; then
        echo "$ex: BAD: the solution does not apply or build"
        cat "$copy/build.out"
        failed=1
        continue
    fi
    if ! run_checker "$copy" "$ex"; then
        echo "$ex: BAD: the checker fails with its solution applied:"
        cat "$copy/$ex.out"
        failed=1
        continue
    fi
    echo "$ex: ok (untouched: $before failing test(s); with the solution: all pass) $(($(date +%s) - started)) s"
    rm -rf "$copy"
    for mistake in "$root"/tests/exercises/mistakes/"$ex"-*.patch; do
        [ -f "$mistake" ] || continue
        check_mistake "$ex" "$mistake" || failed=1
    done
    for lang in md pl.md; do
        hints=$root/tests/exercises/hints/$ex.$lang
        if [ "$(grep -c '^## [123]$' "$hints" 2>/dev/null)" != 3 ]; then
            echo "$ex: BAD: $hints does not hold hints 1, 2 and 3"
            failed=1
        fi
    done
done
# make grade, end to end, in a clone of the last commit: all not started;
# the reference solution of part3-1 in place is "passed" and marked so; the
# student's own passing work, saved by make exercise, is "passed earlier"
# once the stage is reset; the working tree is left as it was.
grade_check() {
    local g=$tmp/grade out
    git clone -q "$root" "$g" 2>/dev/null || { echo "grade: BAD: cannot clone $root"; return 1; }
    [ -d "$root/tests/node_modules" ] && ln -s "$root/tests/node_modules" "$g/tests/node_modules"
    out=$(cd "$g" && FORKD_LANG=en make -s grade 2>/dev/null)
    grep -q '^Score: 0/15$' <<<"$out" || { echo "grade: BAD: untouched, expected Score: 0/15:"; echo "$out"; return 1; }
    (cd "$g" && make -s solution EX=part3-1 >/dev/null) || return 1
    out=$(cd "$g" && FORKD_LANG=en make -s grade 2>/dev/null)
    # part3-2, of the same stage, is not started: the change is part3-1's
    grep -q '^part3-1 .* 1/1 *passed (the reference solution)$' <<<"$out" &&
        grep -q '^part3-2 .* 0/2 *not started$' <<<"$out" &&
        grep -q '"id":"part3-1","stage":"part3-signals-bug","state":"passed","points":1,"max":1,"reference_solution":true' <<<"$out" || {
        echo "grade: BAD: with the reference solution of part3-1:"
        echo "$out"
        return 1
    }
    # make exercise passes with the reference solution, and saves nothing
    (cd "$g" && FORKD_LANG=en make -s exercise EX=part3-1 >/dev/null 2>&1) || { echo "grade: BAD: make exercise failed with the reference solution"; return 1; }
    [ ! -e "$g/build/exercises/passed/part3-1.patch" ] || { echo "grade: BAD: make exercise saved the reference solution as the student's work"; return 1; }
    # the student's own work: the solution, with a comment of theirs
    sed -i 's|/\* Exercise part3-1:|/* Mine, part3-1:|' "$g/part3-signals-bug/daemon.c"
    (cd "$g" && FORKD_LANG=en make -s exercise EX=part3-1 >/dev/null 2>&1) || { echo "grade: BAD: make exercise failed on own work"; return 1; }
    [ -f "$g/build/exercises/passed/part3-1.patch" ] || { echo "grade: BAD: make exercise saved nothing"; return 1; }
    (cd "$g" && FORCE=1 make -s reset EX=part3-1 >/dev/null) || return 1
    out=$(cd "$g" && FORKD_LANG=en make -s grade 2>/dev/null)
    grep -q '^part3-1 .* 1/1 *passed earlier' <<<"$out" && grep -q '"state":"passed earlier"' <<<"$out" &&
        [ -z "$(git -C "$g" status --porcelain -- part3-signals-bug)" ] || {
        echo "grade: BAD: after make reset, the saved work should be passed earlier:"
        echo "$out"
        return 1
    }
    echo "grade: ok (untouched 0/15; the reference solution passed, marked and never saved; own work passed earlier after a reset)"
    rm -rf "$g"
}
[ $# -gt 0 ] || grade_check || failed=1

[ "$failed" -eq 0 ] && echo "check-exercises: every checker fails without its solution, passes with it, fails each typical mistake with its message, and has its hints"
exit "$failed"
