# shellcheck shell=bash
# tools/i18n.sh: what a student reads, in English or in Polish.
# Sourced, not run: by the scripts (doctor, watch, exercise) and, through
# tests/helpers.bash, by the exercise checkers.
#
# The language: FORKD_LANG if it is set (pl or en); else the locale, in the
# order POSIX gives it for messages: LC_ALL, then LC_MESSAGES, then LANG.
# Polish when it starts with "pl" (pl_PL.UTF-8), English otherwise.
#
# Each script keeps its sentences in two associative arrays with the same
# keys, msg_en and msg_pl: a printf format each, its %s filled in order.
#   declare -gA msg_en=([hi]='hello, %s') msg_pl=([hi]='cześć, %s')
#   msg hi world      prints "hello, world" (no newline); msgln adds one
# A key missing from msg_pl falls back to English; a key missing from both
# prints as itself, so a forgotten sentence shows instead of vanishing.

forkd_lang() {
    case ${FORKD_LANG:-${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}} in
    pl*) echo pl ;;
    *) echo en ;;
    esac
}
FORKD_MSG_LANG=$(forkd_lang)
# Declared here (contents kept if a script filled them already), so that a
# lookup in a table a script never filled is a miss, not an error.
# shellcheck disable=SC2034 # filled by the scripts, read by msg
declare -gA msg_en msg_pl

# msg KEY [ARG...]: the sentence KEY in the chosen language, ARGs filled in.
msg() {
    local key=$1 entry="msg_${FORKD_MSG_LANG}[$1]" fallback="msg_en[$1]"
    shift
    # shellcheck disable=SC2059 # the tables hold the formats
    printf -- "${!entry:-${!fallback:-$key}}" "$@"
}

msgln() {
    msg "$@"
    echo
}

# pad WIDTH TEXT: TEXT and spaces up to WIDTH characters. printf's %-8s
# counts bytes, and a Polish letter takes two in UTF-8: the columns would
# slip by one per letter.
pad() {
    local LC_ALL=C text=$2 tail
    tail=${text//[^$'\x80'-$'\xbf']/} # UTF-8 continuation bytes: not characters
    printf '%s%*s' "$text" $(($1 - ${#text} + ${#tail} > 0 ? $1 - ${#text} + ${#tail} : 0)) ''
}
