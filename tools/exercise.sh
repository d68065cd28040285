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
#   exercise.sh check EX           make exercise: the checker against your
#                                  working tree; when it passes on work of
#                                  your own (not the reference solution),
#                                  that work is saved for make grade
#   exercise.sh grade              make grade: every exercise's state and
#                                  points, a total and a JSON line; checked
#                                  in temporary copies, never in your tree
#   exercise.sh hint EX [N]        make hint: hint N of 3 (default: the next)
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
    [usage_check]='usage: make exercise EX=<exercise>; the exercises: %s'
    [passed_saved]='make exercise: passed; your work on %s is saved in %s (make grade counts it, also after make reset)'
    [passed_solution]='make exercise: passed with the reference solution of %s (make solution): make grade counts it as passed while it is in place, and does not save it'
    [grade_title]='make grade: every exercise, checked in temporary copies of this repository (your files are not touched)'
    [grade_head]='exercise|stage|points|state'
    [st_passed]='passed'
    [st_passed_ref]='passed (the reference solution)'
    [st_failed]='failed'
    [st_not_started]='not started'
    [st_earlier]='passed earlier (saved by make exercise)'
    [why_no_build]='the stage does not build'
    [why_stale]='saved work no longer applies to this commit'
    [why_unknown]='the checker failed (make exercise EX=%s says why)'
    [grade_total]='Score: %s/%s'
    [no_level]='make grade: the statement of %s in its stage'"'"'s README.md does not say easy, medium or hard'
    [grade_slow]='(checking %s: building and running its checker...)'
    [usage_hint]='usage: make hint EX=<exercise> [N=1|2|3]; the exercises: %s'
    [no_hint]='make hint: no hints for %s'
    [hint_title]='%s, hint %s of 3:'
    [hint_next]='next: make hint EX=%s N=%s'
    [hint_last]='that was the last hint; make solution EX=%s applies the reference solution (make reset EX=%s undoes it)'
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
    [usage_check]='użycie: make exercise EX=<ćwiczenie>; ćwiczenia: %s'
    [passed_saved]='make exercise: zaliczone; Twoja praca nad %s jest zapisana w %s (make grade ją liczy, także po make reset)'
    [passed_solution]='make exercise: zaliczone z wzorcowym rozwiązaniem ćwiczenia %s (make solution): make grade liczy je jako zaliczone, dopóki jest na miejscu, ale go nie zapisuje'
    [grade_title]='make grade: wszystkie ćwiczenia, sprawdzane w tymczasowych kopiach repozytorium (Twoje pliki zostają nietknięte)'
    [grade_head]='ćwiczenie|etap|punkty|stan'
    [st_passed]='zaliczone'
    [st_passed_ref]='zaliczone (wzorcowe rozwiązanie)'
    [st_failed]='niezaliczone'
    [st_not_started]='nierozpoczęte'
    [st_earlier]='zaliczone wcześniej (zapisane przez make exercise)'
    [why_no_build]='etap się nie kompiluje'
    [why_stale]='zapisana praca nie daje się już nałożyć na ten commit'
    [why_unknown]='test sprawdzający nie przeszedł (make exercise EX=%s powie dlaczego)'
    [grade_total]='Wynik: %s/%s'
    [no_level]='make grade: treść ćwiczenia %s w README.md jego etapu nie mówi, czy jest łatwe (easy), średnie (medium) czy trudne (hard)'
    [grade_slow]='(sprawdzam %s: kompiluję i uruchamiam test sprawdzający...)'
    [usage_hint]='użycie: make hint EX=<ćwiczenie> [N=1|2|3]; ćwiczenia: %s'
    [no_hint]='make hint: brak podpowiedzi do %s'
    [hint_title]='%s, podpowiedź %s z 3:'
    [hint_next]='następna: make hint EX=%s N=%s'
    [hint_last]='to była ostatnia podpowiedź; make solution EX=%s nakłada wzorcowe rozwiązanie (make reset EX=%s je cofa)'
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

# --- make exercise, make grade, make hint -------------------------------------

passed_dir=$root/build/exercises/passed
hints_seen=$root/build/exercises/hints
# Points by difficulty, as the exercise's statement in its stage's README
# gives it ("**part3-1 (easy): ..."): easy 1, medium 2, hard 3.
points_of() {
    local level
    level=$(sed -n "s/^[0-9]*\. \*\*$1 (\([a-z]*\)).*/\1/p" "$root/$(patch_stage "$solutions/$1.patch")/README.md")
    case $level in
    easy) echo 1 ;;
    medium) echo 2 ;;
    hard) echo 3 ;;
    *)
        say no_level "$1"
        return 1
        ;;
    esac
}

known_exercise() { [ -n "$1" ] && [ -f "$solutions/$1.patch" ] && [ -f "$root/tests/exercises/$1.bats" ]; }

# The code of a stage that differs from the last commit, as a patch: the
# tracked files, and any .c file git does not know (make compiles it).
stage_diff() {
    local stage=$1 f code
    mapfile -t code < <(code_of "$stage")
    git -C "$root" diff HEAD -- "${code[@]}"
    git -C "$root" ls-files --others --exclude-standard -- "${code[@]}" | while read -r f; do
        git -C "$root" diff --no-index -- /dev/null "$f"
    done
    return 0
}

check() {
    local ex=$1 stage status file
    known_exercise "$ex" || {
        say usage_check "$(exercises)"
        return 2
    }
    (cd "$root" && "${FORKD_TOOLS_DIR:-$root/build/tools}/reaper" "${BATS:-bats}" "tests/exercises/$ex.bats")
    status=$?
    [ "$status" -eq 0 ] && in_git || return "$status"
    stage=$(patch_stage "$solutions/$ex.patch")
    if holds_solution "$solutions/$ex.patch"; then
        tell passed_solution "$ex"
        return 0
    fi
    [ -n "$(stage_diff "$stage")" ] || return 0
    mkdir -p "$passed_dir" || return 1
    file=$passed_dir/$ex.patch
    {
        echo "# make exercise EX=$ex passed on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "# applies to commit $(git -C "$root" rev-parse HEAD)"
        stage_diff "$stage"
    } >"$file" || return 1
    tell passed_saved "$stage" "${file#"$root"/}"
}

# A temporary copy of the committed tree (its checkers included), with
# tests/node_modules shared; prints its path.
grade_tree() {
    local dir
    dir=$(mktemp -d "$grade_tmp/tree.XXXXXX") || return 1
    git -C "$root" archive HEAD | tar -x -C "$dir" || return 1
    [ -d "$root/tests/node_modules" ] && ln -s "$root/tests/node_modules" "$dir/tests/node_modules"
    echo "$dir"
}

# Overlays the working tree's code of stage onto tree.
overlay_stage() {
    local tree=$1 stage=$2 f code
    mapfile -t code < <(code_of "$stage")
    { changed_files "${code[@]}"; git -C "$root" ls-files --others --exclude-standard -- "${code[@]}"; } |
        while read -r f; do
            if [ -e "$root/$f" ]; then cp "$root/$f" "$tree/$f"; else rm -f "$tree/$f"; fi
        done
}

# run_in TREE EX: builds TREE and runs EX's checker there (in English, so
# that the reason can be read back); 0 when it passes. WHY: the first line
# of its reason otherwise.
run_in() {
    local tree=$1 ex=$2 out
    WHY=
    if ! make -s -C "$tree" all "$tree/build/tools/reaper" >"$tree/build.out" 2>&1; then
        WHY=$(msg why_no_build)
        return 1
    fi
    out=$(cd "$tree" && FORKD_BIN_DIR=$tree FORKD_TOOLS_DIR=$tree/build/tools FORKD_LANG=$FORKD_MSG_LANG \
        FORKD_NO_HINTS=1 "$tree/build/tools/reaper" "${BATS:-bats}" "tests/exercises/$ex.bats" 2>&1) && return 0
    # the checker's own sentence: not bats' trace of the failing line, nor
    # the ps listing a checker prints before it
    WHY=$(sed -n 's/^# *//p' <<<"$out" | grep -v '^(from function\|^in test file\|^from function\|^`\|^PID \|^[0-9][0-9]* [A-Z]' | head -n 1)
    [ -n "$WHY" ] || WHY=$(msg why_unknown "$ex")
    return 1
}

# other_solution_held EX STAGE: STAGE holds the reference solution of
# another of its exercises.
other_solution_held() {
    local other
    for other in $(exercises); do
        [ "$other" != "$1" ] && [ "$(patch_stage "$solutions/$other.patch")" = "$2" ] &&
            holds_solution "$solutions/$other.patch" && return 0
    done
    return 1
}

grade() {
    local ex stage state why pts max total=0 maxsum=0 json= tree saved ref label h1 h2 h3 h4
    local -A stage_tree=()
    in_git || { say no_git grade "$root"; return 1; }
    grade_tmp=$(mktemp -d "${TMPDIR:-/tmp}/forkd-grade.XXXXXX") || return 1
    trap 'rm -rf "$grade_tmp"' EXIT
    tell grade_title
    echo
    IFS='|' read -r h1 h2 h3 h4 <<<"$(msg grade_head)"
    printf '%s  %s  %s  %s\n' "$(pad 9 "$h1")" "$(pad 20 "$h2")" "$(pad 7 "$h3")" "$h4" >"$grade_tmp/table"
    for ex in $(exercises); do
        stage=$(patch_stage "$solutions/$ex.patch")
        max=$(points_of "$ex") || return 1
        state=not_started why= ref=
        saved=$passed_dir/$ex.patch
        # a stage changed: this exercise's work, unless the change is
        # another exercise's reference solution (then this one is not started)
        if [ -n "$(stage_diff "$stage")" ] && ! other_solution_held "$ex" "$stage"; then
            echo "$(msg grade_slow "$ex")" >&2
            if [ -z "${stage_tree[$stage]:-}" ]; then
                tree=$(grade_tree) || return 1
                overlay_stage "$tree" "$stage"
                stage_tree[$stage]=$tree
            fi
            if run_in "${stage_tree[$stage]}" "$ex"; then
                state=passed
                holds_solution "$solutions/$ex.patch" && ref=1
            else
                state=failed
                why=$WHY
            fi
        fi
        if [ "$state" != passed ] && [ -f "$saved" ]; then
            echo "$(msg grade_slow "$ex")" >&2
            tree=$(grade_tree) || return 1
            if ! (cd "$tree" && git apply "$saved" 2>/dev/null); then
                [ "$state" = failed ] || { state=failed why=$(msg why_stale); }
            elif run_in "$tree" "$ex"; then
                state=earlier why=
            elif [ "$state" != failed ]; then
                state=failed why=$WHY
            fi
        fi
        pts=0
        case $state in passed | earlier) pts=$max ;; esac
        total=$((total + pts)) maxsum=$((maxsum + max))
        case $state in
        passed) label=$(msg "$([ -n "$ref" ] && echo st_passed_ref || echo st_passed)") ;;
        earlier) label=$(msg st_earlier) ;;
        failed) label="$(msg st_failed): $why" ;;
        *) label=$(msg st_not_started) ;;
        esac
        printf '%s  %s  %s  %s\n' "$(pad 9 "$ex")" "$(pad 20 "$stage")" "$(pad 7 "$pts/$max")" "$label" >>"$grade_tmp/table"
        json+="${json:+,}{\"id\":\"$ex\",\"stage\":\"$stage\",\"state\":\"$(sed 's/_/ /; s/^earlier$/passed earlier/' <<<"$state")\",\"points\":$pts,\"max\":$max${ref:+,\"reference_solution\":true}}"
    done
    cat "$grade_tmp/table"
    echo
    tell grade_total "$total" "$maxsum"
    printf '{"score":%s,"max":%s,"exercises":[%s]}\n' "$total" "$maxsum" "$json"
}

hint() {
    local ex=$1 n=${2:-} file last
    known_exercise "$ex" || {
        say usage_hint "$(exercises)"
        return 2
    }
    file=$root/tests/exercises/hints/$ex.md
    [ "$FORKD_MSG_LANG" = pl ] && [ -f "$root/tests/exercises/hints/$ex.pl.md" ] && file=$root/tests/exercises/hints/$ex.pl.md
    [ -f "$file" ] || { say no_hint "$ex"; return 1; }
    last=$(cat "$hints_seen/$ex" 2>/dev/null || echo 0)
    if [ -z "$n" ]; then
        n=$((last + 1))
        [ "$n" -le 3 ] || n=3
    fi
    [[ $n =~ ^[123]$ ]] || { say usage_hint "$(exercises)"; return 2; }
    tell hint_title "$ex" "$n"
    # the section's lines, without the blank ones around them
    awk -v n="$n" '/^## / { on = ($2 == n); next } on && /./ { while (blank-- > 0) print ""; blank = 0; print; seen = 1; next }
                   on && seen { blank++ }' "$file"
    if [ "$n" -gt "$last" ]; then
        mkdir -p "$hints_seen" && echo "$n" >"$hints_seen/$ex"
    fi
    if [ "$n" -lt 3 ]; then tell hint_next "$ex" $((n + 1)); else tell hint_last "$ex" "$ex"; fi
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
check) check "${2:-}" ;;
grade) grade ;;
hint) hint "${2:-}" "${3:-}" ;;
counter-test-skipped) counter_test_skipped "$2" ;;
*)
    echo "usage: $0 solution EX | reset STAGE|EX | changed [STAGE...] | check EX | grade | hint EX [N] | counter-test-skipped FILE" >&2
    exit 2
    ;;
esac
