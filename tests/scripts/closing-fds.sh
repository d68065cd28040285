#!/usr/bin/env bash
# tests/scripts/closing-fds.sh FD... -- COMMAND [ARG...]: runs COMMAND with
# the given descriptors (0, 1 or 2) closed, as a careless parent might.
set -u
fds=()
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    fds+=("$1")
    shift
done
[ "$#" -ge 2 ] || { echo "usage: closing-fds.sh FD... -- COMMAND [ARG...]" >&2; exit 2; }
shift
for fd in "${fds[@]}"; do
    case $fd in
    0) exec 0<&- ;;
    1) exec 1>&- ;;
    2) exec 2>&- ;;
    *) echo "closing-fds.sh: only 0, 1 or 2, not $fd" >&2; exit 2 ;;
    esac
done
exec "$@"
