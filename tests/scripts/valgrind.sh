#!/usr/bin/env bash
# tests/scripts/valgrind.sh STAGE...: each stage under valgrind memcheck,
# driven by real clients (served sessions, protocol errors, a long line, an
# idle timeout, BUSY refusals, a killed child), then stopped with SIGTERM.
# Fails on any memcheck error or leak (definite, indirect, possible) in the
# parent or in any child, or if the daemon does not exit 0.
set -uo pipefail
source "$(dirname "$0")/../../tools/lib.sh"
command -v valgrind >/dev/null || { echo "make valgrind needs valgrind (apt-get install valgrind)" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'cleanup_started; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
failed=0

drive() { # drive STAGE: the client side of the scenario
    local stage=$1 fd
    talk "$DPORT" PING "ECHO valgrind" "SLEEP 10" "SLEEP x" NOPE QUIT || return 1
    [ "${REPLIES[1]}" = PONG ] && [ "${REPLIES[6]}" = BYE ] || return 1
    exec {fd}<>"/dev/tcp/127.0.0.1/$DPORT"
    IFS= read -r -t 10 -u "$fd" _ && head -c 3000 /dev/zero | tr '\0' x >&"$fd"
    IFS= read -r -t 10 -u "$fd" line && [ "${line%$'\r'}" = "ERR line too long" ] || return 1
    exec {fd}>&-
    printf 'P\0\377\n' | { exec {fd}<>"/dev/tcp/127.0.0.1/$DPORT"; cat >&"$fd"; exec {fd}>&-; }
    # an idle client, closed by the daemon after -t 1
    exec {fd}<>"/dev/tcp/127.0.0.1/$DPORT"
    IFS= read -r -t 10 -u "$fd" _
    IFS= read -r -t 20 -u "$fd" line && [ "${line%$'\r'}" = "ERR idle timeout" ] || return 1
    exec {fd}>&-
    case $stage in part3-* | part4-*)
        # open connections until the parent refuses one (part 3 may have drifted)
        local tries=0
        until talk "$DPORT" && [[ ${REPLIES[0]} == BUSY* ]]; do
            hold 1 "$DPORT" || return 1
            ((++tries < 10)) || return 1
        done
        release_all
        ;;
    esac
    # Part 1 reaps only when a client arrives: there, wait until every child
    # has ended (zombies count as ended); the next client reaps them.
    local settled=no_children
    case $stage in part1-*) settled=no_living ;; esac
    poll 30000 "$settled" "$DPID" || return 1
    hold 1 "$DPORT" || return 1
    kill -KILL "$(field pid "$GREETING")"
    release_all
    poll 30000 "$settled" "$DPID" || return 1
}

for stage in "$@"; do
    args=(-t 1)
    case $stage in part3-* | part4-*) args+=(-m 4) ;; esac
    rm -f "$WORK"/vg.*
    launch valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
        --log-file="$WORK/vg.%p" -- "$stage" "${args[@]}" || { failed=1; continue; }
    if ! drive "$stage"; then
        echo "$stage: the client scenario failed; daemon log:" >&2
        cat "$DLOG" >&2
        failed=1
    fi
    stop_daemon "$DPID"
    logs=("$WORK"/vg.*)
    clean=$(grep -l 'ERROR SUMMARY: 0 errors from 0 contexts' "${logs[@]}" | wc -l)
    # a killed child has no summary (it never reached exit); everything else must be clean
    killed=$(grep -L 'ERROR SUMMARY' "${logs[@]}" | wc -l)
    printf '%s: exit %s, %d processes checked (parent + children), %d clean, %d killed by signal\n' \
        "$stage" "$STOP_STATUS" "${#logs[@]}" "$clean" "$killed"
    if [ "$STOP_STATUS" -ne 0 ] || [ $((clean + killed)) -ne "${#logs[@]}" ] ||
        ! grep -q 'ERROR SUMMARY: 0 errors' "$WORK/vg.$DPID"; then
        grep -L 'ERROR SUMMARY: 0 errors from 0 contexts' "${logs[@]}" | xargs -r cat >&2
        failed=1
    fi
done
[ "$failed" -eq 0 ] && echo "valgrind: no error and no leak in any process"
exit "$failed"
