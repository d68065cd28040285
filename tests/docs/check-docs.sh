#!/usr/bin/env bash
# tests/docs/check-docs.sh [FILE.md...]: make check-docs. Every fenced shell
# block (```sh, ```bash, ```shell, ```console) of every README*.md (top and
# stage folders, English and Polish) and docs/*.md is run, with the output
# its text promises checked, or reported exempt with its reason. The marking
# is an HTML comment on the line right before the block (README.md,
# "Contributing: commands in the READMEs", explains it):
#
#   <!-- check: run [expect="TEXT"]... [lines="ERE=N"]... [session=NAME]
#               [with='COMMAND'] [with-expect="TEXT"]... [with-lines="ERE=N"]...
#               [set="12345=pid 98351=sem"] [input="PING\nQUIT\n"]
#               [allow="ps"]... [leaves="/tmp/x.log"]... [timeout=SEC] [root]
#               [needs="bpftrace"]... -->     (root, needs: exempt where missing)
#   <!-- check: serve [leaves=...] -->     each line starts a daemon: it must
#                                          listen, answer PING, stop on SIGTERM
#   <!-- check: script tests/docs/x.sh --> x.sh runs it (two terminals, say)
#                                          and holds each of its lines verbatim
#   <!-- check: exempt "the reason" -->
#
# An unmarked block fails. A README.pl.md block needs no marker: it must
# equal its English twin once comments are set aside (the sync check, which
# also counts the headings), and is counted as checked through that twin.
#
# Each runnable unit (a block, or the blocks of one session) runs under
# tests/tools/reaper with a token in its environment; as root, in private
# network and IPC namespaces, so the default ports are free and ipcs sees
# only the recipe's objects. Afterwards nothing may be left: no process
# carrying the token, no System V object, no /tmp path the block names
# (unless leaves= declares it; the check then removes it), nothing in the
# unit's TMPDIR.
#
#   check-docs.sh --sync EN.md PL.md   the sync check of two files only
#   check-docs.sh --list [FILE...]     every block and its marker, nothing run
#   FORKD_DOCS_KEEP=1 check-docs.sh     keeps the blocks as run and their output
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
# shellcheck disable=SC2034 # lib.sh reads it
FORKD_ROOT=$root
# shellcheck source=../../tools/lib.sh
# shellcheck source=tools/lib.sh
source "$root/tools/lib.sh" # poll, now_ms, exited, TOOLS_DIR

SHELL_LANGS=" sh bash shell console "
CODE_LANGS=" sh bash shell console c "

# ---------------------------------------------------------------------------
# Reading Markdown: fences, their info word, the marker on the line before,
# and the headings. One record per line on stdout:
#   B <tab> id <tab> file <tab> line <tab> lang <tab> marked(0/1) <tab> marker
#   H <tab> file <tab> line <tab> level
#   S <tab> file <tab> line                  a marker with no fence after it
#   E <tab> file <tab> message
# Each block's text (its fence's indentation removed) goes to DIR/ID.
EXTRACT='
BEGIN { n = start; inf = 0; prev = ""; prevmk = 0 }
FNR == 1 && NR > 1 {
    if (inf) printf "E\t%s\tunclosed fence\n", lastfile
    if (prevmk) printf "S\t%s\t%d\n", lastfile, lastfnr
    inf = 0; prev = ""; prevmk = 0
}
{ lastfile = FILENAME; lastfnr = FNR }
!inf && /^[ \t]*```/ {
    lead = $0; sub(/```.*$/, "", lead); ind = length(lead)
    info = $0; sub(/^[ \t]*```[ \t]*/, "", info); sub(/[ \t{].*$/, "", info)
    mk = ""
    if (prevmk) { mk = prev; sub(/^[ \t]*<!--[ \t]*check:[ \t]*/, "", mk); sub(/[ \t]*-->[ \t]*$/, "", mk) }
    n++; out = dir "/" n; printf "" > out
    printf "B\t%d\t%s\t%d\t%s\t%d\t%s\n", n, FILENAME, FNR, info, prevmk, mk
    inf = 1; prev = ""; prevmk = 0; next
}
inf && /^[ \t]*```[ \t]*$/ { close(out); inf = 0; next }
inf {
    line = $0; k = 0
    while (k < ind && substr(line, 1, 1) == " ") { line = substr(line, 2); k++ }
    print line > out; next
}
{
    if (prevmk) printf "S\t%s\t%d\n", FILENAME, FNR - 1
    if ($0 ~ /^#+[ \t]/) { h = $0; sub(/[ \t].*$/, "", h); if (length(h) <= 6) printf "H\t%s\t%d\t%d\t%s\n", FILENAME, FNR, length(h), $0 }
    prev = $0
    prevmk = ($0 ~ /^[ \t]*<!--[ \t]*check:.*-->[ \t]*$/)
}
END { if (inf) printf "E\t%s\tunclosed fence\n", lastfile; if (prevmk) printf "S\t%s\t%d\n", lastfile, lastfnr }
'

# The shape of a Markdown file, for the sync check: one line per block of
# text (section number, kind, first line), where the kinds are p (a
# paragraph), list, table, quote and code, and a heading starts a section.
# A translation keeps the shape: paragraph for paragraph, list for list, in
# the same order. Marker comments and one-line italic notes (the language
# links at the top, which differ by design) are not blocks.
STRUCTURE='
function flush() { if (kind != "") printf "%d\t%s\t%d\n", sec, kind, start; kind = ""; lb = 0 }
function begin(k) { kind = k; start = FNR }
BEGIN { sec = 0; kind = ""; inf = 0; lb = 0 }
inf { if ($0 ~ /^[ \t]*```[ \t]*$/) { inf = 0; flush() }; next }
/^[ \t]*```/ { flush(); begin("code"); inf = 1; next }
/^[ \t]*<!--.*-->[ \t]*$/ { next }
/^\*[^ *].*\*[ \t]*$/ && kind == "" { next }
/^[ \t]*$/ { if (kind == "list") lb = 1; else flush(); next }
/^#+[ \t]/ { flush(); sec++; next }
{
    item = ($0 ~ /^[ \t]*([-*+]|[0-9]+\.)[ \t]/)
    # only a bullet or "1." may interrupt a paragraph (CommonMark)
    opens = ($0 ~ /^[ \t]*([-*+]|1\.)[ \t]/)
    indented = ($0 ~ /^(  |\t)/)
    if (kind == "list") {
        if (item || indented || !lb) { lb = 0; next }
        flush()
    }
    if (kind == "p" && opens) flush()
    if (kind == "table" && $0 !~ /^\|/) flush()
    if (kind != "") next
    if ($0 ~ /^\|/) begin("table")
    else if (item) begin("list")
    else if ($0 ~ /^>/) begin("quote")
    else begin("p")
}
END { flush() }
'

# The commands of a shell block, comments set aside: a # that starts a word
# outside quotes ends the line; trailing blanks and empty lines go. In a
# console block only the lines after a "$ " prompt are commands.
STRIP_SH='
function strip(s,   i, c, q, out, prevc, n) {
    q = ""; out = ""; prevc = " "; n = length(s)
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (q == "") {
            if (c == "#" && (prevc == " " || prevc == "\t")) break
            if (c == "\\") { out = out c substr(s, i + 1, 1); i++; prevc = "x"; continue }
            if (c == "\047" || c == "\"") q = c
        } else if (q == "\047") {
            if (c == "\047") q = ""
        } else {
            if (c == "\\") { out = out c substr(s, i + 1, 1); i++; continue }
            if (c == "\"") q = ""
        }
        out = out c; prevc = c
    }
    sub(/[ \t]+$/, "", out); sub(/^[ \t]+/, "", out)
    return out
}
{
    line = $0
    if (console) { if (line !~ /^\$ /) next; line = substr(line, 3) }
    line = strip(line)
    if (line != "") print line
}
'

# A C block, comments set aside (/* */ across lines, //), blanks trimmed.
STRIP_C='
{
    s = $0; out = ""; i = 1; n = length(s)
    while (i <= n) {
        c = substr(s, i, 1); d = substr(s, i, 2)
        if (inc) { if (d == "*/") { inc = 0; i += 2 } else i++; continue }
        if (q != "") {
            out = out c
            if (c == "\\") { out = out substr(s, i + 1, 1); i += 2; continue }
            if (c == q) q = ""
            i++; continue
        }
        if (d == "/*") { inc = 1; i += 2; continue }
        if (d == "//") break
        if (c == "\"" || c == "\047") q = c
        out = out c; i++
    }
    q = ""
    sub(/[ \t]+$/, "", out); sub(/^[ \t]+/, "", out)
    if (out != "") print out
}
'

# normalize LANG FILE: the block's code with comments set aside
normalize() {
    case $1 in
    c) awk "$STRIP_C" "$2" ;;
    console) awk -v console=1 "$STRIP_SH" "$2" ;;
    *) awk -v console=0 "$STRIP_SH" "$2" ;;
    esac
}

is_shell() { [[ $SHELL_LANGS == *" $1 "* ]]; }
twin_of() { # README.pl.md -> README.md; docs/x.pl.md -> docs/x.md
    case $1 in
    *.pl.md) echo "${1%.pl.md}.md" ;;
    *) return 1 ;;
    esac
}

# ---------------------------------------------------------------------------
# Markers: "VERB word key=value key=\"value\" key='value' \"reason\"".
# Sets M_VERB, M_WORDS (bare words), M_REASON, M_ERR and, per key, the array
# MK_<key> (dashes as underscores) of its values, in order.
MARKER_KEYS=(expect lines session with with_expect with_lines set input allow leaves timeout needs)
# shellcheck disable=SC2034 # filled and read through namerefs (MK_$key)
MK_expect=() MK_lines=() MK_session=() MK_with=() MK_with_expect=() MK_with_lines=()
# shellcheck disable=SC2034
MK_set=() MK_input=() MK_allow=() MK_leaves=() MK_timeout=() MK_needs=()
parse_marker() {
    local s=$1 key val
    M_VERB='' M_REASON='' M_ERR=''
    M_WORDS=()
    for key in "${MARKER_KEYS[@]}"; do declare -ga "MK_$key=()"; done
    s=${s#"${s%%[![:space:]]*}"}
    M_VERB=${s%%[[:space:]]*}
    s=${s:${#M_VERB}}
    while :; do
        s=${s#"${s%%[![:space:]]*}"}
        [ -n "$s" ] || break
        if [[ $s =~ ^([a-z-]+)=\"([^\"]*)\"(.*)$ ]] || [[ $s =~ ^([a-z-]+)=\'([^\']*)\'(.*)$ ]] ||
            [[ $s =~ ^([a-z-]+)=([^[:space:]\"\']+)(.*)$ ]]; then
            key=${BASH_REMATCH[1]//-/_} val=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
            if [[ " ${MARKER_KEYS[*]} " != *" $key "* ]]; then
                M_ERR="unknown option ${BASH_REMATCH[1]}="
                return 1
            fi
            local -n added=MK_$key
            added+=("$val")
            unset -n added
        elif [[ $s =~ ^\"([^\"]*)\"(.*)$ ]]; then
            M_REASON=${BASH_REMATCH[1]} s=${BASH_REMATCH[2]}
        elif [[ $s =~ ^([^[:space:]=\"\']+)(.*)$ ]]; then
            M_WORDS+=("${BASH_REMATCH[1]}") s=${BASH_REMATCH[2]}
        else
            M_ERR="cannot read: $s"
            return 1
        fi
    done
    case $M_VERB in
    run | serve) ;;
    script) [ ${#M_WORDS[@]} -ge 1 ] || M_ERR="script needs a path" ;;
    exempt) [ -n "$M_REASON" ] || M_ERR='exempt needs a "reason"' ;;
    '') M_ERR="empty marker" ;;
    *) M_ERR="unknown verb $M_VERB (run, serve, script, exempt)" ;;
    esac
    local w
    for w in "${M_WORDS[@]}"; do
        case $M_VERB:$w in
        *:root | script:*) ;;
        *) M_ERR="unknown word $w" ;;
        esac
    done
    [ -z "$M_ERR" ]
}
has_word() {
    local w
    for w in "${M_WORDS[@]}"; do [ "$w" = "$1" ] && return 0; done
    return 1
}

# ---------------------------------------------------------------------------
# Running: daemons, sessions, leftovers. These run inside a unit (--unit).

LISTEN_RE='listening on ([0-9.]+):([0-9]+) pid=([0-9]+)'

# start_cmd COMMAND OUT: COMMAND in its own session, as a terminal would
# start it, until it prints its listening line. Sets SPID (the command),
# DPID, DADDR, DPORT (the daemon, from that line).
start_cmd() {
    SPID='' DPID='' DADDR='' DPORT=''
    setsid bash -c "$1" >"$2" 2>&1 </dev/null &
    SPID=$!
    local deadline=$(($(now_ms) + 60000)) # make may build first
    until [[ $(cat "$2") =~ $LISTEN_RE ]]; do
        if ! kill -0 "$SPID" 2>/dev/null || (($(now_ms) > deadline)); then
            return 1
        fi
        sleep 0.02
    done
    DADDR=${BASH_REMATCH[1]} DPORT=${BASH_REMATCH[2]} DPID=${BASH_REMATCH[3]}
    [ "$DADDR" != 0.0.0.0 ] || DADDR=127.0.0.1
}

# stop_cmd: SIGTERM to the daemon by its pid (SIGCONT too: it may be
# stopped), then wait for it and for the command. Sets STATUS (the
# command's exit status), or returns 1 if either is still there.
stop_cmd() {
    STATUS=
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
        kill -CONT "$DPID" 2>/dev/null
        kill -TERM "$DPID" 2>/dev/null
    fi
    [ -z "$DPID" ] || poll 10000 exited "$DPID" || return 1
    # a command that never printed its listening line has no daemon pid
    [ -n "$DPID" ] || exited "$SPID" || kill_tree "$SPID"
    poll 10000 exited "$SPID" || return 1
    wait "$SPID"
    STATUS=$?
}

# ping_daemon: HELLO, PING -> PONG, QUIT -> BYE, over bash's /dev/tcp
ping_daemon() {
    local greet='' pong='' bye=''
    exec 9<>"/dev/tcp/$DADDR/$DPORT" || return 1
    read -t 5 -r greet <&9 && printf 'PING\n' >&9 && read -t 5 -r pong <&9 &&
        printf 'QUIT\n' >&9 && read -t 5 -r bye <&9
    exec 9>&-
    [[ $greet == HELLO* && $pong == PONG && $bye == BYE ]]
}

result() { # ID pass|fail [REASON]
    printf '%s\t%s\n' "$2" "${3:-}" >"$UNIT/result.$1"
}

# check_output ID OUTFILE: the expect= and lines= of block ID against OUTFILE.
# Prints the first unmet promise.
check_output() {
    local e re n got
    for e in "${EXPECT[@]}"; do
        grep -qF -- "$e" "$2" || {
            echo "no \"$e\" in the output"
            return 1
        }
    done
    for e in "${LINES[@]}"; do
        re=${e%=*} n=${e##*=}
        got=$(grep -cE -- "$re" "$2")
        [ "$got" -eq "$n" ] || {
            echo "$got lines match /$re/, expected $n"
            return 1
        }
    done
}

# harvest NAME: the latest value of NAME printed so far in this session
# (the first terminal's output, then each block's): pid, shm, sem, child.
harvest() {
    local re f line v=
    case $1 in
    pid) re='listening on [0-9.]+:[0-9]+ pid=([0-9]+)' ;;
    shm) re='shm=([0-9]+)' ;;
    sem) re='sem=([0-9]+)' ;;
    child) re='HELLO [^ ]+ pid=([0-9]+)' ;;
    *) return 1 ;;
    esac
    for f in "$UNIT/with.out" "${SEEN[@]}"; do
        [ -f "$f" ] || continue
        while IFS= read -r line; do
            [[ $line =~ $re ]] && v=${BASH_REMATCH[1]}
        done <"$f"
    done
    [ -n "$v" ] && echo "$v"
}

# subst TEXT: TEXT with each placeholder of SUBS ("12345=pid 98351=sem")
# that it holds, as a whole number, replaced by its harvested value. A
# placeholder with no value yet: a line in $UNIT/subst.err, status 1.
subst() {
    local t=$1 subs lit name val
    for subs in "${SUBS[@]}"; do
        for lit in $subs; do
            name=${lit#*=} lit=${lit%%=*}
            [[ $t =~ (^|[^0-9])$lit([^0-9]|$) ]] || continue
            val=$(harvest "$name") || {
                echo "nothing printed a $name before this block (for $lit)" >>"$UNIT/subst.err"
                return 1
            }
            [ "$val" != "$lit" ] || continue
            t=$(sed -E ":a; s/(^|[^0-9])$lit([^0-9]|\$)/\1$val\2/; ta" <<<"$t")
        done
    done
    printf '%s' "$t"
}

# kill_tree PID: PID and its descendants, by pid, children first
kill_tree() {
    local kid
    for kid in $(cat /proc/"$1"/task/*/children 2>/dev/null); do kill_tree "$kid"; done
    kill -KILL "$1" 2>/dev/null
}

# The processes that carry this unit's token (FORKD_DOCS_UNIT), this shell
# and its ancestors (timeout, reaper) aside, into TOKEN_PIDS. No subshell
# here: it would carry the token too.
scan_token() {
    local f pid
    TOKEN_PIDS=()
    env -u FORKD_DOCS_UNIT grep -lzx "FORKD_DOCS_UNIT=$FORKD_DOCS_UNIT" /proc/[0-9]*/environ >"$SCAN_FILE" 2>/dev/null
    while IFS= read -r f; do
        pid=${f#/proc/} pid=${pid%/environ}
        [[ " $$ ${ANCESTORS:-} " == *" $pid "* ]] || TOKEN_PIDS+=("$pid")
    done <"$SCAN_FILE"
}
no_token_pids() {
    scan_token
    [ ${#TOKEN_PIDS[@]} -eq 0 ]
}

# leftovers: after the unit, nothing of it may be running, and in its own
# IPC namespace no System V object may be left. Prints what was found.
leftovers() {
    local p found=0
    if ! poll 3000 no_token_pids; then
        for p in "${TOKEN_PIDS[@]}"; do
            echo "left running: $(ps -o pid=,args= -p "$p" 2>/dev/null || echo "$p")"
            kill -KILL "$p" 2>/dev/null
        done
        found=1
    fi
    if [ "${FORKD_DOCS_IPCNS:-0}" = 1 ]; then
        if [ -n "$(awk 'FNR > 1' /proc/sysvipc/shm /proc/sysvipc/sem)" ]; then
            echo "left System V objects:"
            ipcs -m -s | grep '^0x'
            found=1
        fi
    fi
    return $found
}

# A session: the first terminal (with=), if any, then each block sourced in
# turn by one bash, the second terminal, fed through a FIFO. Failing
# commands are recorded by an ERR trap, not fatal: ps with nothing to show
# exits 1 and that can be the point (allow=).
unit_session() {
    local id n=0 errf text deadline failed why status shpid i
    SEEN=() SUBS=()
    # shellcheck source=/dev/null
    source "$UNIT/unit"
    if [ -n "$WITH" ]; then
        if ! start_cmd "$WITH" "$UNIT/with.out"; then
            for id in "${BLOCKS[@]}"; do
                result "$id" fail "the first terminal's command did not print its listening line: $WITH"
            done
            cp "$UNIT/with.out" "$UNIT/out.${BLOCKS[0]}"
            stop_cmd
            return
        fi
    fi
    mkfifo "$UNIT/fifo"
    bash --norc --noprofile -u <"$UNIT/fifo" >"$UNIT/shell.out" 2>&1 &
    shpid=$!
    exec 8>"$UNIT/fifo"
    printf 'set -E\ncd %q\n' "$root" >&8
    failed=
    for id in "${BLOCKS[@]}"; do
        n=$((n + 1))
        if [ -n "$failed" ]; then
            result "$id" fail "not run: $failed"
            continue
        fi
        # shellcheck source=/dev/null
        source "$UNIT/spec.$id"
        # The block as written, and its promises, each placeholder of set=
        # (this block's or an earlier one's) replaced by the value this
        # session printed (12345 -> the daemon's pid...).
        SUBS+=("${SET[@]}")
        : >"$UNIT/subst.err"
        text=$(subst "$(cat "$UNIT/code.$id")")
        for i in "${!EXPECT[@]}"; do EXPECT[i]=$(subst "${EXPECT[i]}"); done
        for i in "${!LINES[@]}"; do LINES[i]=$(subst "${LINES[i]}"); done
        if [ -s "$UNIT/subst.err" ]; then
            result "$id" fail "set=: $(cat "$UNIT/subst.err")"
            failed="block $n of the session failed"
            continue
        fi
        printf '%s\n' "$text" >"$UNIT/run.$id"
        printf '%b' "$INPUT" >"$UNIT/in.$id"
        errf=$UNIT/err.$id
        : >"$errf"
        printf '%s\n' \
            "trap 'printf \"%s\\t%s\\n\" \"\$?\" \"\$BASH_COMMAND\" >>$errf' ERR" \
            "source $UNIT/run.$id >$UNIT/out.$id 2>&1 <$UNIT/in.$id" \
            "trap - ERR" \
            "echo done >$UNIT/done.$id" >&8
        SEEN+=("$UNIT/out.$id")
        why=
        deadline=$(($(now_ms) + TIMEOUT * 1000))
        while [ ! -f "$UNIT/done.$id" ]; do
            if ! kill -0 "$shpid" 2>/dev/null; then
                why="the shell ended: $(tail -n 1 "$UNIT/shell.out")"
                break
            fi
            if (($(now_ms) > deadline)); then
                why="timed out after $TIMEOUT s"
                kill_tree "$shpid"
                break
            fi
            sleep 0.01
        done
        if [ -n "$why" ]; then
            result "$id" fail "$why"
            failed="block $n of the session failed"
            continue
        fi
        # A command that failed, unless allow= names it (source itself
        # reports the status of the block's last command: not counted twice).
        why=$(awk -F '\t' -v allow="${ALLOW[*]}" '
            $2 ~ /^source / { next }
            {
                n = split(allow, a, " "); ok = 0
                for (i = 1; i <= n; i++) if (index($2, a[i]) == 1) ok = 1
                if (!ok) { printf "exit status %s from: %s", $1, $2; exit }
            }' "$errf")
        if [ -z "$why" ] && why=$(check_output "$id" "$UNIT/out.$id"); then
            result "$id" pass
        else
            result "$id" fail "$why"
        fi
    done
    exec 8>&-
    poll 5000 exited "$shpid" || kill_tree "$shpid"
    wait "$shpid" 2>/dev/null
    if [ -n "$WITH" ]; then
        EXPECT=() LINES=()
        for i in "${WITH_EXPECT[@]}"; do EXPECT+=("$(subst "$i")"); done
        for i in "${WITH_LINES[@]}"; do LINES+=("$(subst "$i")"); done
        if why=$(check_output with "$UNIT/with.out"); then :; else
            id=${BLOCKS[-1]}
            grep -q '^pass' "$UNIT/result.$id" && result "$id" fail "first terminal: $why"
        fi
        stop_cmd || echo "the first terminal's command did not stop" >>"$UNIT/with.out"
    fi
}

# serve: each command line starts a daemon (in the foreground, or one that
# detaches): it must print its listening line, answer PING, and stop on a
# SIGTERM to the pid it printed, with the command's exit status 0.
unit_serve() {
    local id cmd why=
    # shellcheck source=/dev/null
    source "$UNIT/unit"
    id=${BLOCKS[0]}
    : >"$UNIT/out.$id"
    while IFS= read -r cmd; do
        echo "\$ $cmd" >>"$UNIT/out.$id"
        if ! start_cmd "$cmd" "$UNIT/cmd.out"; then
            why="no listening line from: $cmd"
        elif ! ping_daemon; then
            why="$cmd: listening, but PING did not get PONG"
        fi
        stop_cmd || why=${why:-"$cmd: still running 10 s after SIGTERM to pid $DPID"}
        cat "$UNIT/cmd.out" >>"$UNIT/out.$id"
        [ -n "$why" ] || [ "$STATUS" = 0 ] || why="$cmd: exit status $STATUS after SIGTERM"
        [ -z "$why" ] || break
    done <"$UNIT/cmds.$id"
    if [ -n "$why" ]; then result "$id" fail "$why"; else result "$id" pass; fi
}

unit_script() {
    local id status
    # shellcheck source=/dev/null
    source "$UNIT/unit"
    [[ $SCRIPT == /* ]] || SCRIPT=$root/$SCRIPT
    timeout -k 5 "$TIMEOUT" bash "$SCRIPT" >"$UNIT/script.out" 2>&1 </dev/null
    status=$?
    for id in "${BLOCKS[@]}"; do
        cp "$UNIT/script.out" "$UNIT/out.$id"
        if [ "$status" = 0 ]; then result "$id" pass; else result "$id" fail "$SCRIPT: exit status $status"; fi
    done
}

if [ "${1:-}" = --unit ]; then
    UNIT=$2 SCAN_FILE=$2/scan ANCESTORS=
    p=$PPID
    while [ "$p" -gt 1 ]; do
        ANCESTORS+=" $p"
        p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status")
    done
    # shellcheck source=/dev/null
    source "$UNIT/unit"
    case $KIND in
    session) unit_session ;;
    serve) unit_serve ;;
    script) unit_script ;;
    esac
    # not in a subshell: a subshell would carry the token itself
    leftovers >"$UNIT/leftovers"
    exit 0
fi

# ---------------------------------------------------------------------------
level_of() { # "## Title" -> 2; nothing -> 0
    local h=${1%%[!#]*}
    echo ${#h}
}

# The sync check: a README.pl.md has the headings of its README.md (as many,
# at the same levels, in the same order) and the same shell and C blocks
# once comments are set aside. Prints what differs; 1 if anything does.
sync_check() {
    local en=$1 pl=$2 dir=$WORK/blocks bad=0 i
    local -a enb plb
    local -a enh plh
    mapfile -t enh < <(awk -F '\t' -v f="$en" '$1 == "H" && $2 == f { print $3 "\t" $5 }' "$WORK/index")
    mapfile -t plh < <(awk -F '\t' -v f="$pl" '$1 == "H" && $2 == f { print $3 "\t" $5 }' "$WORK/index")
    for ((i = 0; i < ${#enh[@]} || i < ${#plh[@]}; i++)); do
        local eh=${enh[i]:-} ph=${plh[i]:-}
        if [ "$(level_of "${eh#*$'\t'}")" != "$(level_of "${ph#*$'\t'}")" ]; then
            echo "  headings: $pl has ${#plh[@]}, $en ${#enh[@]}; the first that differs in place or level:"
            echo "    en:${eh%%$'\t'*}: ${eh#*$'\t'}"
            echo "    pl:${ph%%$'\t'*}: ${ph#*$'\t'}"
            bad=1
            break
        fi
    done
    # the shape: the same kinds of blocks in the same order, section by section
    local shape
    if ! shape=$(diff <(awk "$STRUCTURE" "$en" | cut -f1,2) <(awk "$STRUCTURE" "$pl" | cut -f1,2)); then
        local first enl pll
        first=$(sed -n 's/^\([0-9]*\)[acd,0-9]*$/\1/p' <<<"$shape" | head -n 1)
        enl=$(awk "$STRUCTURE" "$en" | sed -n "${first}p")
        pll=$(awk "$STRUCTURE" "$pl" | sed -n "${first}p")
        echo "  shape: the blocks of text differ in kind or order (paragraph, list, table, quote, code), from block $first on:"
        echo "    en:${enl##*$'\t'}: a ${enl#*$'\t'}" | sed 's/\t[0-9]*$//'
        echo "    pl:${pll##*$'\t'}: a ${pll#*$'\t'}" | sed 's/\t[0-9]*$//'
        bad=1
    fi
    mapfile -t enb < <(awk -F '\t' -v f="$en" -v langs="$CODE_LANGS" '$1 == "B" && $3 == f && index(langs, " " $5 " ") { print $2 "\t" $4 "\t" $5 }' "$WORK/index")
    mapfile -t plb < <(awk -F '\t' -v f="$pl" -v langs="$CODE_LANGS" '$1 == "B" && $3 == f && index(langs, " " $5 " ") { print $2 "\t" $4 "\t" $5 }' "$WORK/index")
    if [ ${#enb[@]} -ne ${#plb[@]} ]; then
        echo "  $pl: ${#plb[@]} shell and C blocks, $en: ${#enb[@]}"
        bad=1
    fi
    for ((i = 0; i < ${#enb[@]} && i < ${#plb[@]}; i++)); do
        local eid eline elang pid pline plang
        IFS=$'\t' read -r eid eline elang <<<"${enb[i]}"
        IFS=$'\t' read -r pid pline plang <<<"${plb[i]}"
        if [ "$elang" != "$plang" ] ||
            ! diff <(normalize "$elang" "$dir/$eid") <(normalize "$plang" "$dir/$pid") >/dev/null; then
            echo "  $pl:$pline (\`\`\`$plang) differs from $en:$eline (\`\`\`$elang), comments aside:"
            diff <(normalize "$elang" "$dir/$eid") <(normalize "$plang" "$dir/$pid") |
                sed -n 's/^</    en:/p; s/^>/    pl:/p'
            bad=1
        fi
    done
    return $bad
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/forkd-check-docs.XXXXXX") || exit 1
# FORKD_DOCS_KEEP=1 keeps each unit's files (its blocks as run, their output)
if [ "${FORKD_DOCS_KEEP:-0}" = 1 ]; then
    trap 'echo "check-docs: kept $WORK"' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK/blocks"

extract() { awk -v dir="$WORK/blocks" -v start=0 "$EXTRACT" "$@" >"$WORK/index"; }

if [ "${1:-}" = --sync ]; then
    [ $# -eq 3 ] || {
        echo "usage: check-docs.sh --sync EN.md PL.md" >&2
        exit 2
    }
    extract "$2" "$3"
    if sync_check "$2" "$3"; then
        echo "sync: $3 matches $2 (headings, blocks of text in order, shell and C blocks, comments aside)"
        exit 0
    fi
    echo "sync: $3 differs from $2"
    exit 1
fi

list_only=0
if [ "${1:-}" = --list ]; then
    list_only=1
    shift
fi
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    shopt -s nullglob
    files=(README*.md part*/README*.md docs/*.md)
    shopt -u nullglob
fi
for f in "${files[@]}"; do
    [ -f "$f" ] || {
        echo "check-docs: no file $f" >&2
        exit 2
    }
done
# A Polish file is read with its English twin, for the sync check.
all=("${files[@]}")
for f in "${files[@]}"; do
    t=$(twin_of "$f") && [ -f "$t" ] && [[ " ${all[*]} " != *" $t "* ]] && all+=("$t")
done
extract "${all[@]}"

if [ "$list_only" = 1 ]; then
    awk -F '\t' -v langs="$SHELL_LANGS" '$1 == "B" && index(langs, " " $5 " ") { printf "%s:%s\t%s\t%s\n", $3, $4, $5, ($6 ? $7 : "(unmarked)") }' "$WORK/index"
    exit 0
fi

# ---------------------------------------------------------------------------
# Every shell block of the files asked for: its verdict, or its unit.
declare -A B_FILE B_LINE B_LANG B_MARKED B_MARKER VERDICT REASON
ORDER=()
while IFS=$'\t' read -r kind id file line lang marked marker; do
    [ "$kind" = B ] || continue
    B_FILE[$id]=$file B_LINE[$id]=$line B_LANG[$id]=$lang B_MARKED[$id]=$marked B_MARKER[$id]=$marker
    is_shell "$lang" && [[ " ${files[*]} " == *" $file "* ]] && ORDER+=("$id")
done <"$WORK/index"

shell_ids_of() { # FILE: the ids of its shell blocks, in order
    awk -F '\t' -v f="$1" -v langs="$SHELL_LANGS" '$1 == "B" && $3 == f && index(langs, " " $5 " ") { print $2 }' "$WORK/index"
}
# Every command line of the shell blocks of FILE (and its twin): what a
# with= must be one of.
commands_of() {
    local id
    for id in $(shell_ids_of "$1"); do normalize "${B_LANG[$id]}" "$WORK/blocks/$id"; done
}

declare -A TWIN_OF UNIT_OF
UNITS=()

fail_block() { # ID REASON
    VERDICT[$1]=fail REASON[$1]=$2
}

# Polish twins: the n-th shell block of README.pl.md is checked through the
# n-th of README.md when, comments aside, they are the same.
for id in "${ORDER[@]}"; do
    file=${B_FILE[$id]}
    twin=$(twin_of "$file") && [ -f "$twin" ] || continue
    mapfile -t mine < <(shell_ids_of "$file")
    mapfile -t theirs < <(shell_ids_of "$twin")
    for i in "${!mine[@]}"; do [ "${mine[i]}" = "$id" ] && break; done
    t=${theirs[i]:-}
    if [ -z "$t" ]; then
        fail_block "$id" "no English twin: $twin has only ${#theirs[@]} shell blocks"
    elif ! diff <(normalize "${B_LANG[$id]}" "$WORK/blocks/$id") <(normalize "${B_LANG[$t]}" "$WORK/blocks/$t") >/dev/null; then
        fail_block "$id" "differs from its English twin $twin:${B_LINE[$t]} (see sync)"
    elif [ "${B_MARKED[$id]}" = 1 ] && [ "${B_MARKER[$id]}" != "${B_MARKER[$t]}" ]; then
        fail_block "$id" "its marker differs from its English twin's ($twin:${B_LINE[$t]})"
    else
        VERDICT[$id]=twin TWIN_OF[$id]="$twin:${B_LINE[$t]}"
    fi
done

# The others: their marker says what to do.
for id in "${ORDER[@]}"; do
    [ -z "${VERDICT[$id]:-}" ] || continue
    file=${B_FILE[$id]}
    if [ "${B_MARKED[$id]}" != 1 ]; then
        fail_block "$id" "unmarked: put <!-- check: run|serve|script|exempt ... --> on the line before it"
        continue
    fi
    if ! parse_marker "${B_MARKER[$id]}"; then
        fail_block "$id" "bad marker: $M_ERR"
        continue
    fi
    if [ "$M_VERB" = exempt ]; then
        VERDICT[$id]=exempt REASON[$id]=$M_REASON
        continue
    fi
    if has_word root && [ "$(id -u)" != 0 ]; then
        VERDICT[$id]=exempt REASON[$id]="needs root: run make check-docs as root to check it"
        continue
    fi
    missing=
    for need in "${MK_needs[@]}"; do
        command -v "$need" >/dev/null 2>&1 || missing+=" $need"
    done
    if [ -n "$missing" ]; then
        VERDICT[$id]=exempt REASON[$id]="needs${missing}, not installed here (make doctor says which package)"
        continue
    fi
    # The unit it belongs to: its own, or its session's, or its script's.
    case $M_VERB in
    run) key="session:$file:${MK_session[0]:-#$id}" ;;
    serve) key="serve:$id" ;;
    script) key="script:${M_WORDS[0]}" ;;
    esac
    if [ -z "${UNIT_OF[$key]:-}" ]; then
        u=$WORK/unit.${#UNITS[@]}
        mkdir -p "$u"
        UNIT_OF[$key]=$u
        UNITS+=("$u")
        : >"$u/blocks"
    fi
    u=${UNIT_OF[$key]}
    echo "$id" >>"$u/blocks"
    # what runs: the block; of a console block, the commands after "$ "
    if [ "${B_LANG[$id]}" = console ]; then
        sed -n 's/^\$ //p' "$WORK/blocks/$id" >"$u/code.$id"
    else
        cp "$WORK/blocks/$id" "$u/code.$id"
    fi
    {
        printf 'KIND=%q\n' "${M_VERB/run/session}"
        printf 'TIMEOUT=%q\n' "${MK_timeout[0]:-30}"
    } >>"$u/unit.kind"
    for k in expect lines set allow; do
        declare -n vals=MK_$k
        printf '%s=(' "${k^^}"
        [ ${#vals[@]} -eq 0 ] || printf '%q ' "${vals[@]}"
        echo ')'
        unset -n vals
    done >"$u/spec.$id"
    printf 'INPUT=%q\nTIMEOUT=%q\n' "${MK_input[0]:-}" "${MK_timeout[0]:-30}" >>"$u/spec.$id"
    printf '%s\n' "${MK_leaves[@]}" | grep . >>"$u/leaves"
    case $M_VERB in
    run)
        if [ -n "${MK_with[0]:-}" ]; then
            # The first terminal's command must be one the README shows.
            twin=$(twin_of "$file") || twin=
            if ! { commands_of "$file"; [ -z "$twin" ] || commands_of "$twin"; } | grep -qxF -- "${MK_with[0]}"; then
                fail_block "$id" "with='${MK_with[0]}' is not a command of any shell block of $file"
            fi
            if [ -f "$u/with" ] && [ "$(cat "$u/with")" != "${MK_with[0]}" ]; then
                fail_block "$id" "session ${MK_session[0]}: a second with= (${MK_with[0]})"
            fi
            printf '%s' "${MK_with[0]}" >"$u/with"
        fi
        printf '%s\n' "${MK_with_expect[@]}" | grep . >>"$u/with_expect"
        printf '%s\n' "${MK_with_lines[@]}" | grep . >>"$u/with_lines"
        ;;
    serve)
        normalize "${B_LANG[$id]}" "$WORK/blocks/$id" >"$u/cmds.$id"
        ;;
    script)
        s=${M_WORDS[0]}
        printf 'SCRIPT=%q\n' "$s" >>"$u/unit.kind"
        if [ ! -f "$s" ]; then
            fail_block "$id" "no script $s"
        else
            # The script must hold each of the block's commands as a line of
            # its own, comments aside: what it runs is what the README says.
            missing=$(grep -vxF -f <(awk -v console=0 "$STRIP_SH" "$s") <(normalize "${B_LANG[$id]}" "$WORK/blocks/$id") | head -n 1)
            [ -z "$missing" ] || fail_block "$id" "$s does not hold, as a line of its own: $missing"
        fi
        ;;
    esac
done

# ---------------------------------------------------------------------------
# Running the units. As root, each in private network and IPC namespaces.
isolate=()
# FORKD_DOCS_ISOLATE=0: this machine's ports and IPC even as root (as a user)
if [ "${FORKD_DOCS_ISOLATE:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
    command -v ip >/dev/null && unshare --net --ipc true 2>/dev/null; then
    isolate=(unshare --net --ipc -- bash -c 'ip link set lo up || exit 1; exec "$@"' isolate)
    isolation="private network and IPC namespaces: the default ports are free, ipcs shows only the recipe's objects"
elif [ "${FORKD_DOCS_ISOLATE:-1}" = 1 ]; then
    isolation="on this machine's ports 9001-9004 and IPC (as root: in private namespaces)"
else
    isolation="on this machine's ports 9001-9004 and IPC (FORKD_DOCS_ISOLATE=0)"
fi
ipc_ids() { awk 'FNR > 1 { print FILENAME, $2 }' /proc/sysvipc/shm /proc/sysvipc/sem | sort; }

unit_no=0
run_unit() {
    local u=$1 id ids paths p t why status token
    mapfile -t ids <"$u/blocks"
    # A unit whose block already failed its static checks does not run.
    for id in "${ids[@]}"; do
        [ "${VERDICT[$id]:-}" = fail ] || continue
        for t in "${ids[@]}"; do
            [ -n "${VERDICT[$t]:-}" ] || fail_block "$t" "not run: ${B_FILE[$id]}:${B_LINE[$id]}, of the same unit, failed"
        done
        return 0
    done
    unit_no=$((unit_no + 1))
    token=forkd-docs-$$-$unit_no
    # unit: what --unit reads
    {
        grep '^KIND=' "$u/unit.kind" | head -n 1
        grep '^SCRIPT=' "$u/unit.kind" | head -n 1
        printf 'TIMEOUT=%q\n' "$(sed -n 's/^TIMEOUT=//p' "$u/unit.kind" | sort -n | tail -n 1)"
        printf 'BLOCKS=(%s)\n' "${ids[*]}"
        printf 'WITH=%q\n' "$(cat "$u/with" 2>/dev/null)"
        WITH_EXPECT=() WITH_LINES=()
        [ -f "$u/with_expect" ] && mapfile -t WITH_EXPECT <"$u/with_expect"
        [ -f "$u/with_lines" ] && mapfile -t WITH_LINES <"$u/with_lines"
        declare -p WITH_EXPECT WITH_LINES | sed 's/^declare -a //'
    } >"$u/unit"
    # shellcheck source=/dev/null
    source "$u/unit"
    # The /tmp paths the unit names: none may exist before (the recipe would
    # overwrite a reader's file), none may be left after, but leaves=.
    paths=$(cat "$u"/code.* "$u/with" 2>/dev/null | grep -oE '/tmp/[A-Za-z0-9._-]+' | sort -u)
    for p in $paths; do
        if [ -e "$p" ]; then
            for id in "${ids[@]}"; do fail_block "$id" "$p exists already: the recipe would overwrite it"; done
            return 0
        fi
    done
    if [ ${#isolate[@]} -eq 0 ]; then
        for p in $(cat "$u"/code.* "$u/with" 2>/dev/null | grep -oE '\b900[1-4]\b' | sort -u); do
            if ss -Hltn "sport = :$p" | grep -q .; then
                for id in "${ids[@]}"; do fail_block "$id" "port $p is in use here: stop what listens there (make doctor names it)"; done
                return 0
            fi
        done
        before=$(ipc_ids)
    fi
    mkdir -p "$u/tmp"
    t=$(((${#ids[@]} + 1) * TIMEOUT + 30))
    env FORKD_DOCS_UNIT="$token" FORKD_DOCS_IPCNS=$((${#isolate[@]} > 0)) TMPDIR="$u/tmp" \
        timeout -k 5 "$t" "$TOOLS_DIR/reaper" "${isolate[@]}" "$0" --unit "$u" >"$u/driver.out" 2>&1
    status=$?
    why=
    [ "$status" = 0 ] || why="the unit's driver ended with status $status: $(tail -n 3 "$u/driver.out" | tr '\n' ' ')"
    [ ! -s "$u/leftovers" ] || why="$(tr '\n' ' ' <"$u/leftovers")"
    # what a killed driver could not sweep
    FORKD_DOCS_UNIT=$token SCAN_FILE=$u/scan
    scan_token
    for p in "${TOKEN_PIDS[@]}"; do
        why="left running: $(ps -o pid=,args= -p "$p")"
        kill -KILL "$p" 2>/dev/null
    done
    if [ ${#isolate[@]} -eq 0 ] && [ "$before" != "$(ipc_ids)" ]; then
        why="System V objects differ after it: $(diff <(echo "$before") <(ipc_ids) | grep '^[<>]' | tr '\n' ' ')"
    fi
    for p in $paths; do
        if grep -qxF -- "$p" "$u/leaves" 2>/dev/null; then
            [ -e "$p" ] || why="leaves=$p, but the recipe did not leave it"
            rm -rf -- "$p"
        elif [ -e "$p" ]; then
            why="left $p behind"
            rm -rf -- "$p"
        fi
    done
    if [ -n "$(ls -A "$u/tmp")" ]; then
        why="left in its TMPDIR: $(ls -A "$u/tmp" | tr '\n' ' ')"
    fi
    for id in "${ids[@]}"; do
        if [ ! -f "$u/result.$id" ]; then
            fail_block "$id" "${why:-no result (see $u/driver.out)}"
        elif [ -n "$why" ]; then
            fail_block "$id" "$why"
        else
            IFS=$'\t' read -r VERDICT[$id] REASON[$id] <"$u/result.$id"
        fi
        [ -f "$u/out.$id" ] && cp "$u/out.$id" "$WORK/out.$id"
    done
}

started=$(now_ms)
echo "check-docs: ${#ORDER[@]} shell blocks in ${#files[@]} files; runs $isolation"
for u in "${UNITS[@]}"; do
    run_unit "$u"
done

# ---------------------------------------------------------------------------
# The report: one line per block, then the counts.
declare -A EXEMPT_BY
n_run=0 n_pass=0 n_fail=0 n_exempt=0 n_twin=0 n_unmarked=0
for id in "${ORDER[@]}"; do
    where="${B_FILE[$id]}:${B_LINE[$id]}"
    case ${VERDICT[$id]:-fail} in
    pass)
        n_run=$((n_run + 1)) n_pass=$((n_pass + 1))
        printf '  ok      %s: %s\n' "$where" "${B_MARKER[$id]%% *}"
        ;;
    exempt)
        n_exempt=$((n_exempt + 1))
        EXEMPT_BY[${REASON[$id]}]=$((${EXEMPT_BY[${REASON[$id]}]:-0} + 1))
        printf '  exempt  %s: %s\n' "$where" "${REASON[$id]}"
        ;;
    twin)
        n_twin=$((n_twin + 1))
        printf '  twin    %s: checked through its English twin %s\n' "$where" "${TWIN_OF[$id]}"
        ;;
    *)
        n_fail=$((n_fail + 1))
        [[ ${REASON[$id]:-} == unmarked* ]] && n_unmarked=$((n_unmarked + 1))
        [ -f "$WORK/out.$id" ] && n_run=$((n_run + 1))
        printf '  FAIL    %s: %s\n' "$where" "${REASON[$id]:-no verdict}"
        if [ -f "$WORK/out.$id" ]; then
            echo "          its output (last lines):"
            tail -n 12 "$WORK/out.$id" | sed 's/^/          | /'
        fi
        ;;
    esac
done

# Markers that mark no block, fences never closed: the Markdown is broken.
n_broken=0
while IFS=$'\t' read -r kind file line rest; do
    [[ " ${files[*]} " == *" $file "* ]] || continue
    case $kind in
    S) echo "  FAIL    $file:$line: a check marker with no fenced block on the next line" ;;
    E) echo "  FAIL    $file: $line" ;;
    *) continue ;;
    esac
    n_broken=$((n_broken + 1))
done <"$WORK/index"

# The sync check, for every Polish file asked for (or whose twin was).
n_sync=0 n_sync_bad=0
for f in "${all[@]}"; do
    t=$(twin_of "$f") && [ -f "$t" ] || continue
    n_sync=$((n_sync + 1))
    if out=$(sync_check "$t" "$f" 2>&1); then
        echo "  sync    $f: same headings, blocks of text in order, shell and C blocks as $t"
    else
        n_sync_bad=$((n_sync_bad + 1))
        echo "  SYNC    $f differs from $t:"
        echo "$out"
    fi
done

echo
echo "check-docs: ${#ORDER[@]} shell blocks, $(((($(now_ms) - started) + 500) / 1000)) s"
echo "  run:      $n_run, passed $n_pass"
echo "  exempt:   $n_exempt"
for r in "${!EXEMPT_BY[@]}"; do
    printf '%s\t%s\n' "${EXEMPT_BY[$r]}" "$r"
done | sort -rn | while IFS=$'\t' read -r c r; do printf '    %3d  %s\n' "$c" "$r"; done
echo "  checked through their English twin: $n_twin"
echo "  failed:   $n_fail (unmarked: $n_unmarked)$([ "$n_broken" = 0 ] || echo "; and $n_broken broken markers or fences")"
echo "  sync:     $n_sync Polish files, $n_sync_bad differ"
if [ "$n_fail" -gt 0 ] || [ "$n_sync_bad" -gt 0 ] || [ "$n_broken" -gt 0 ]; then
    echo "check-docs: FAILED"
    exit 1
fi
echo "check-docs: every block ran and passed, is exempt with its reason, or is its English twin's copy"
