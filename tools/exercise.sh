#!/usr/bin/env bash
# tools/exercise.sh: make solution and make reset.
#
#   exercise.sh solution EX        applies tests/exercises/solutions/EX.patch
#                                  to its stage (make solution EX=part3-1)
#   exercise.sh reset STAGE|EX     puts the stage's files back as they are in
#                                  the last commit (make reset STAGE=... or EX=...)
#   exercise.sh changed [STAGE...]  says which stages differ from the course
#                                  as committed, in which files, and whether
#                                  that is a reference solution (make test
#                                  prints it first and in its summary); exit
#                                  1 if one does, 0 if none
#   exercise.sh counter-test-skipped FILE
#                                  writes FILE, a stand-in for part 4's unit
#                                  test when an exercise changed counter.h
#
# Both refuse to overwrite changes that are not committed, unless FORCE=1,
# except when those changes are exactly a reference solution (what make
# solution made): then nothing of the student's would be lost. With FORCE=1
# the changes overwritten are first saved as a patch in build/exercises/.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
solutions=$root/tests/exercises/solutions
# shellcheck source=tools/i18n.sh
source "$root/tools/i18n.sh"

# shellcheck disable=SC2034 # read by msg (i18n.sh)
declare -A msg_en=(
    [usage_solution]='usage: make solution EX=<exercise> [FORCE=1]; the exercises: %s'
    [usage_reset]='usage: make reset STAGE=<stage> (or EX=<exercise>) [FORCE=1]; the stages: %s; the exercises: %s'
    [no_exercise]='make solution: no exercise %s (the exercises: %s)'
    [no_stage]='make reset: no stage or exercise named %s (the stages: %s; the exercises: %s)'
    [no_git]='make %s: %s is not a git clone (or git is missing): the original files come from git; clone the repository with git'
    [already]='make solution: %s already holds the reference solution of %s; check it with make exercise EX=%s, undo it with make reset EX=%s'
    [refuse_solution]='make solution: %s: changes of yours that are not committed, which the solution would overwrite; keep them (git stash, or git diff > mine.patch), or run make solution EX=%s FORCE=1 (they are then saved in build/exercises/)'
    [refuse_reset]='make reset: %s: changes of yours that are not committed, which the reset would throw away; keep them (git stash, or git diff > mine.patch), or run make reset %s FORCE=1 (they are then saved in build/exercises/)'
    [saved]='make %s: your changes are saved in %s (git apply %s brings them back)'
    [replacing]='make solution: replacing the reference solution of %s, which %s held'
    [not_applying]='make solution: the solution of %s does not apply to %s as committed: %s (was the stage changed in a commit? git log -- %s)'
    [applied]='make solution: the reference solution of %s is in %s (%s); check it with make exercise EX=%s, undo it with make reset EX=%s'
    [clean]='make reset: %s is already as committed; nothing to do'
    [reset_solution]='make reset: %s is back as committed (it held the reference solution of %s)'
    [reset_done]='make reset: %s is back as committed (%s)'
    [untracked]='make reset: left in place, not in git: %s (every .c file of the folder is compiled into the daemon)'
    [changed_solution]='%s differs from the course as committed (%s): it holds the reference solution of exercise %s.'
    [changed_own]='%s differs from the course as committed (%s): changes of yours, not a reference solution.'
    [changed_why]='  Its lesson tests assert the course'"'"'s own behaviour (%s), so some of them fail on purpose while the stage is changed. Check exercise work with make exercise EX=<id> (this stage'"'"'s: %s); make reset STAGE=%s brings the course back.'
    [counter_skip]='counter_test: skipped: part4-shm-semaphore/counter.h no longer declares what tests/tools/counter_test.c uses (an exercise replaced the counter); make reset STAGE=part4-shm-semaphore brings it back'
)
# shellcheck disable=SC2034
declare -A msg_pl=(
    [usage_solution]='użycie: make solution EX=<ćwiczenie> [FORCE=1]; ćwiczenia: %s'
    [usage_reset]='użycie: make reset STAGE=<etap> (albo EX=<ćwiczenie>) [FORCE=1]; etapy: %s; ćwiczenia: %s'
    [no_exercise]='make solution: nie ma ćwiczenia %s (ćwiczenia: %s)'
    [no_stage]='make reset: nie ma etapu ani ćwiczenia %s (etapy: %s; ćwiczenia: %s)'
    [no_git]='make %s: %s nie jest klonem gita (albo nie ma gita): oryginalne pliki pochodzą z gita; sklonuj repozytorium gitem'
    [already]='make solution: %s zawiera już wzorcowe rozwiązanie %s; sprawdź je przez make exercise EX=%s, cofnij przez make reset EX=%s'
    [refuse_solution]='make solution: %s: Twoje niezatwierdzone zmiany, które rozwiązanie by nadpisało; zachowaj je (git stash albo git diff > moje.patch) albo uruchom make solution EX=%s FORCE=1 (zostaną wtedy zapisane w build/exercises/)'
    [refuse_reset]='make reset: %s: Twoje niezatwierdzone zmiany, które reset by wyrzucił; zachowaj je (git stash albo git diff > moje.patch) albo uruchom make reset %s FORCE=1 (zostaną wtedy zapisane w build/exercises/)'
    [saved]='make %s: Twoje zmiany są zapisane w %s (git apply %s je przywróci)'
    [replacing]='make solution: zastępuję wzorcowe rozwiązanie %s, które było w %s'
    [not_applying]='make solution: rozwiązanie %s nie daje się nałożyć na zatwierdzony %s: %s (czy etap zmienił się w jakimś commicie? git log -- %s)'
    [applied]='make solution: wzorcowe rozwiązanie %s jest w %s (%s); sprawdź je przez make exercise EX=%s, cofnij przez make reset EX=%s'
    [clean]='make reset: %s jest już taki jak w ostatnim commicie; nie ma nic do zrobienia'
    [reset_solution]='make reset: %s jest znów taki jak w ostatnim commicie (było w nim wzorcowe rozwiązanie %s)'
    [reset_done]='make reset: %s jest znów taki jak w ostatnim commicie (%s)'
    [untracked]='make reset: zostają na miejscu, poza gitem: %s (każdy plik .c katalogu trafia do daemona)'
    [changed_solution]='%s różni się od kursu z ostatniego commitu (%s): zawiera wzorcowe rozwiązanie ćwiczenia %s.'
    [changed_own]='%s różni się od kursu z ostatniego commitu (%s): to Twoje zmiany, nie wzorcowe rozwiązanie.'
    [changed_why]='  Testy lekcji tego etapu sprawdzają zachowanie samego kursu (%s), więc część z nich celowo nie przechodzi, dopóki etap jest zmieniony. Pracę nad ćwiczeniem sprawdza make exercise EX=<id> (ćwiczenia tego etapu: %s); make reset STAGE=%s przywraca kurs.'
    [counter_skip]='counter_test: pominięty: part4-shm-semaphore/counter.h nie deklaruje już tego, czego używa tests/tools/counter_test.c (ćwiczenie wymieniło licznik); make reset STAGE=part4-shm-semaphore go przywróci'
)

say() { msgln "$@" >&2; } # what went wrong
tell() { msgln "$@"; }    # what was done

exercises() { (cd "$solutions" && ls -- *.patch 2>/dev/null | sed 's/\.patch$//' | paste -sd ' ' -); }
stages() { (cd "$root" && ls -d part*/ | tr -d / | paste -sd ' ' -); }

# The files a patch touches, and the stage folder they are in.
patch_files() { (cd "$root" && git apply --numstat "$1" | cut -f3); }
patch_stage() { patch_files "$1" | cut -d/ -f1 | sort -u | head -n 1; }

# Tracked files of PATHS... that differ from the last commit.
changed_files() { git -C "$root" diff --name-only HEAD -- "$@"; }
# A stage's code: what make builds the daemon from. Its README is the
# student's to annotate: neither command touches it.
code_of() { printf '%s\n' "$1/*.c" "$1/*.h" "$1/Makefile"; }

in_git() { git -C "$root" rev-parse --verify -q HEAD >/dev/null 2>&1; }

# holds_solution PATCH: the files PATCH touches are exactly the last
# commit's with PATCH applied, and nothing else of its stage has changed.
holds_solution() {
    local patch=$1 tmp f same=0 code
    mapfile -t code < <(code_of "$(patch_stage "$patch")")
    [ "$(changed_files "${code[@]}" | sort)" = "$(patch_files "$patch" | sort)" ] || return 1
    tmp=$(mktemp -d) || return 1
    while read -r f; do
        mkdir -p "$tmp/$(dirname "$f")"
        git -C "$root" show "HEAD:$f" >"$tmp/$f" 2>/dev/null || rm -f "$tmp/$f"
    done < <(patch_files "$patch")
    if (cd "$tmp" && git apply "$patch" 2>/dev/null); then
        while read -r f; do
            cmp -s "$tmp/$f" "$root/$f" || same=1
        done < <(patch_files "$patch")
    else
        same=1
    fi
    rm -rf "$tmp"
    return "$same"
}

# solution_in STAGE: the exercise whose reference solution STAGE holds.
solution_in() {
    local patch
    for patch in "$solutions"/*.patch; do
        [ "$(patch_stage "$patch")" = "$1" ] || continue
        holds_solution "$patch" && { basename "$patch" .patch; return 0; }
    done
    return 1
}

# save_changes WHAT STAGE FILES...: the uncommitted changes, as a patch.
save_changes() {
    local what=$1 stage=$2 file
    shift 2
    mkdir -p "$root/build/exercises" || return 1
    file=build/exercises/$stage-$(date +%Y%m%d-%H%M%S).patch
    git -C "$root" diff HEAD -- "$@" >"$root/$file" || return 1
    tell saved "$what" "$file" "$file"
}

restore() { git -C "$root" checkout -q HEAD -- "$@"; }

solution() {
    local ex=$1 patch stage files changed other why
    if [ -z "$ex" ]; then
        say usage_solution "$(exercises)"
        return 2
    fi
    patch=$solutions/$ex.patch
    if [ ! -f "$patch" ]; then
        say no_exercise "$ex" "$(exercises)"
        return 2
    fi
    in_git || { say no_git solution "$root"; return 1; }
    stage=$(patch_stage "$patch")
    mapfile -t files < <(patch_files "$patch")
    mapfile -t changed < <(changed_files "${files[@]}")
    if [ ${#changed[@]} -gt 0 ]; then
        if holds_solution "$patch"; then
            tell already "$stage" "$ex" "$ex" "$ex"
            return 0
        fi
        if other=$(solution_in "$stage"); then
            tell replacing "$other" "$stage"
        elif [ "${FORCE:-}" = 1 ]; then
            save_changes solution "$stage" "${changed[@]}" || return 1
        else
            say refuse_solution "${changed[*]}" "$ex"
            return 1
        fi
        restore "${changed[@]}" || return 1
    fi
    if ! why=$(cd "$root" && git apply --check "$patch" 2>&1); then
        say not_applying "$ex" "$stage" "${why%%$'\n'*}" "$stage"
        return 1
    fi
    (cd "$root" && git apply "$patch") || return 1
    tell applied "$ex" "$stage" "$(printf '%s\n' "${files[@]##*/}" | paste -sd ' ' -)" "$ex" "$ex"
}

reset() {
    local name=$1 stage how changed untracked ex code
    if [ -z "$name" ]; then
        say usage_reset "$(stages)" "$(exercises)"
        return 2
    fi
    if [ -f "$solutions/$name.patch" ]; then
        stage=$(patch_stage "$solutions/$name.patch")
        how="EX=$name"
    elif [[ $name == part* ]] && [ -d "$root/$name" ]; then
        stage=${name%/}
        how="STAGE=$stage"
    else
        say no_stage "$name" "$(stages)" "$(exercises)"
        return 2
    fi
    in_git || { say no_git reset "$root"; return 1; }
    mapfile -t code < <(code_of "$stage")
    mapfile -t changed < <(changed_files "${code[@]}")
    mapfile -t untracked < <(git -C "$root" ls-files --others --exclude-standard -- "${code[@]}")
    if [ ${#changed[@]} -eq 0 ]; then
        tell clean "$stage"
    elif ex=$(solution_in "$stage"); then
        restore "${changed[@]}" || return 1
        tell reset_solution "$stage" "$ex"
    elif [ "${FORCE:-}" = 1 ]; then
        save_changes reset "$stage" "${changed[@]}" || return 1
        restore "${changed[@]}" || return 1
        tell reset_done "$stage" "${changed[*]}"
    else
        say refuse_reset "${changed[*]}" "$how"
        return 1
    fi
    [ ${#untracked[@]} -eq 0 ] || tell untracked "${untracked[*]}"
    return 0
}

# changed [STAGE...]: for each stage (all by default) whose code differs
# from the last commit, or has a .c file git does not know (make compiles
# every one), two lines: which files, whether they are a reference
# solution, and what that means for make test. Exit 1 if any stage differs.
changed() {
    local stage any=0 files code ex exs
    in_git || return 0
    [ $# -gt 0 ] || set -- $(stages)
    for stage in "$@"; do
        mapfile -t code < <(code_of "$stage")
        files=$( {
            changed_files "${code[@]}"
            git -C "$root" ls-files --others --exclude-standard -- "${code[@]}"
        } | sed "s|^$stage/||" | sort -u | paste -sd ' ' -)
        [ -n "$files" ] || continue
        any=1
        exs=$(for p in "$solutions"/*.patch; do
            [ "$(patch_stage "$p")" = "$stage" ] && basename "$p" .patch
        done | paste -sd ' ' -)
        if ex=$(solution_in "$stage"); then
            tell changed_solution "$stage" "$files" "$ex"
        else
            tell changed_own "$stage" "$files"
        fi
        tell changed_why "tests/$stage.bats" "$exs" "$stage"
    done
    return $((any))
}

# A stand-in for tests/tools/counter_test: says why it did not run and
# exits 77 (skipped), which the part 4 suite reports as a skip.
counter_test_skipped() {
    local out=$1 why
    why=$(msg counter_skip)
    why=${why//\'/}
    printf "#!/bin/sh\n# written by make (tools/exercise.sh)\necho '%s'\nexit 77\n" "$why" >"$out" &&
        chmod +x "$out" && echo "$why" >&2
}

case ${1:-} in
solution) solution "${2:-}" ;;
reset) reset "${2:-}" ;;
changed)
    shift
    changed "$@"
    ;;
counter-test-skipped) counter_test_skipped "$2" ;;
*)
    echo "usage: $0 solution EX | reset STAGE|EX | changed [STAGE...] | counter-test-skipped FILE" >&2
    exit 2
    ;;
esac
