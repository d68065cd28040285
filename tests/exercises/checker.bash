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
)
msg_pl+=(
    [saw]='%s: jest %s, a powinno być %s'
    [saw_why]='%s: jest %s, a powinno być %s: %s'
)

# say KEY [ARG...]: one sentence on stderr, which bats shows under a failure.
say() { msgln "$@" >&2; }

# fail_because KEY [ARG...]: says it and fails.
fail_because() {
    say "$@"
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
    return 1
}

# within MS COMMAND [ARG...]: polls COMMAND for up to MS milliseconds,
# quietly: the caller says, in the lesson's words, what was missing.
within() {
    local ms=$1
    shift
    WAIT_MS=$ms wait_for "$*" "$@" 2>/dev/null
}

# The children of the daemon as ps shows them: printed under a failure.
show_children() { ps -o pid,stat,cmd --ppid "$DPID" >&2 || true; }
