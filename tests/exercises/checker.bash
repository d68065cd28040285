# tests/exercises/checker.bash: what every exercise checker loads.
#
# tests/helpers.bash (daemons, clients, polls, msg), and the ways a checker
# fails: with one line that says what it saw against what it expected, in
# the lesson's words, in English or Polish (tools/i18n.sh). Each
# checker adds its own sentences to msg_en and msg_pl.

load ../helpers

msg_en+=(
    [saw]='%s: saw %s, expected %s'
    [saw_why]='%s: saw %s, expected %s: %s'
    [hint_next]='stuck? make hint EX=%s N=%s'
    [hint_done]='stuck after all three hints? make solution EX=%s applies the reference solution (make reset EX=%s undoes it)'
)
msg_pl+=(
    [saw]='%s: jest %s, a powinno być %s'
    [saw_why]='%s: jest %s, a powinno być %s: %s'
    [hint_next]='nie wiesz, jak ruszyć dalej? make hint EX=%s N=%s'
    [hint_done]='trzy podpowiedzi nie pomogły? make solution EX=%s nałoży wzorcowe rozwiązanie (make reset EX=%s je cofnie)'
)

# This checker's exercise, from its file name (part3-1.bats: part3-1).
EXERCISE=$(basename "$BATS_TEST_FILENAME" .bats)
# How many rounds a race is run (make exercise ITERS=N): a wrong solution
# must not pass by luck. Three keeps make exercise well under 30 s.
ITERS=${FORKD_ITERS:-3}

# say KEY [ARG...]: one sentence on stderr, which bats shows under a failure.
say() { msgln "$@" >&2; }

# The hint to read next (make hint remembers the last one shown), after a
# failure's sentence. make grade reads the sentence alone (FORKD_NO_HINTS).
say_next_hint() {
    local seen
    [ -z "${FORKD_NO_HINTS:-}" ] || return 0
    seen=$(cat "$FORKD_ROOT/build/exercises/hints/$EXERCISE" 2>/dev/null || echo 0)
    if [ "$seen" -lt 3 ]; then
        say hint_next "$EXERCISE" $((seen + 1))
    else
        say hint_done "$EXERCISE" "$EXERCISE"
    fi
}

# fail_because KEY [ARG...]: says it, names the next hint, and fails.
fail_because() {
    say "$@"
    say_next_hint
    return 1
}

# expect WHAT SAW WANTED [WHY]: nothing if SAW is WANTED; else fails with
# "WHAT: saw SAW, expected WANTED: WHY".
expect() {
    [ "$2" = "$3" ] && return 0
    if [ $# -ge 4 ]; then
        say saw_why "$1" "$2" "$3" "$4"
    else
        say saw "$1" "$2" "$3"
    fi
    say_next_hint
    return 1
}

# within MS COMMAND [ARG...]: polls COMMAND for up to MS milliseconds,
# quietly: the caller says, in the lesson's words, what was missing.
within() {
    local ms=$1
    shift
    WAIT_MS=$ms wait_for "$*" "$@" 2>/dev/null
}

# lone_client_is_first MAX: a client alone is greeted active=1 max=MAX.
# GREETING: what it got (a greeting, a BUSY line, or nothing). Poll it with
# within: signals queued for the parent are handled one per turn of its loop.
lone_client_is_first() {
    GREETING=
    connect "$DPORT"
    read_line "$CONN" || {
        close_conn "$CONN"
        return 1
    }
    GREETING=$LINE
    close_conn "$CONN"
    wait_for "the probe's child reaped" no_children "$DPID" || return 1
    [[ $GREETING == "HELLO "*" active=1 max=$1" ]]
}

# burst_reaped N: N clients held, closed together while the parent is
# stopped (frozen_burst), and every child reaped after SIGCONT; else fails
# with the checker's own not_reaped sentence.
burst_reaped() {
    hold "$1" "$DPORT"
    frozen_burst "$1"
    within 10000 no_children "$DPID" || fail_because not_reaped "$(count_children "$DPID")"
}

# slots_come_back: part 4's count, exact after ITERS frozen bursts of 5 and
# after 3 children killed with kill -9: each time a lone client is first
# (active=1 max=5). Fails with the checker's drift_burst or drift_killed.
slots_come_back() {
    local round
    for round in $(seq "$ITERS"); do
        burst_reaped 5
        within 3000 lone_client_is_first 5 || fail_because drift_burst "$round" "$GREETING"
    done
    kill_served 3 "$DPORT"
    within 3000 lone_client_is_first 5 || fail_because drift_killed "$GREETING"
}

# The children of the daemon as ps shows them: printed under a failure.
show_children() { ps -o pid,stat,cmd --ppid "$DPID" >&2 || true; }
