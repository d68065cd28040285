#!/usr/bin/env bats
# tests/common.bats: the shared contract of SPEC.md (command line, readiness,
# background mode, pidfile, line protocol, shutdown), checked against every
# stage under test (FORKD_STAGES, or every part*/ folder). Each test loops
# over the stages and prints "stage: X" first, so a failure names its stage.

bats_require_minimum_version 1.5.0
load helpers

setup_file() { build_if_needed; }

# --- command line ------------------------------------------------------------

check_help() {
    run --separate-stderr "$(stage_bin "$1")" --help
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == Usage:* ]]
    [[ $output == *"--port"* ]]
    [ -z "$stderr" ]
    if has_limit "$1"; then [[ $output == *"--max-connections"* ]]; else [[ $output != *"--max-connections"* ]]; fi
    run --separate-stderr "$(stage_bin "$1")" -h
    [ "$status" -eq 0 ]
    [[ ${lines[0]} == Usage:* ]]
}
@test "-h and --help print the usage on stdout and exit 0 (-m only where it exists)" {
    each_stage check_help
}

check_version() {
    run --separate-stderr "$(stage_bin "$1")" --version
    [ "$status" -eq 0 ]
    [[ $output == "$1 (forkd) "[0-9]* ]]
    run --separate-stderr "$(stage_bin "$1")" -V
    [ "$status" -eq 0 ]
    [[ $output == "$1 (forkd) "* ]]
}
@test "-V and --version print the version on stdout and exit 0" {
    each_stage check_version
}

# usage_error STAGE EXPECTED ARGS...: exit 2, one stderr line containing
# EXPECTED and a pointer to --help, nothing on stdout, nothing started.
usage_error() {
    local st=$1 expected=$2
    shift 2
    local pidfile="$BATS_TEST_TMPDIR/usage.pid"
    run --separate-stderr capped 5 "$(stage_bin "$st")" -f -P "$pidfile" "$@"
    echo "args: $* -> status $status, stderr: $stderr"
    [ "$status" -eq 2 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == "$st: "*"$expected"*"--help"* ]]
    [ -z "$output" ]
    [ ! -e "$pidfile" ]
}

check_bad_options() {
    local st=$1
    usage_error "$st" "unknown option '--frobnicate'" --frobnicate
    usage_error "$st" "unknown option '-x'" -x
    usage_error "$st" "invalid port '70000'" -p 70000
    usage_error "$st" "invalid port '65536'" -p 65536
    usage_error "$st" "invalid port 'abc'" -p abc
    usage_error "$st" "invalid port '-1'" --port=-1
    usage_error "$st" "invalid port '+80'" -p +80
    usage_error "$st" "invalid port ' 80'" -p ' 80'
    usage_error "$st" "invalid port '80x'" -p 80x
    usage_error "$st" "invalid port ''" -p ''
    usage_error "$st" "invalid port '99999999999999999999'" -p 99999999999999999999
    usage_error "$st" "needs a value" -p
    usage_error "$st" "invalid idle-timeout '86401'" -t 86401
    usage_error "$st" "invalid idle-timeout 'soon'" --idle-timeout soon
    usage_error "$st" "invalid address 'localhost'" -b localhost
    usage_error "$st" "invalid address '256.1.1.1'" --bind 256.1.1.1
    usage_error "$st" "needs a file name" -P ''
    usage_error "$st" "needs a file name" --log=
    usage_error "$st" "unexpected argument 'extra'" extra
    if has_limit "$st"; then
        usage_error "$st" "invalid max-connections '0'" -m 0
        usage_error "$st" "invalid max-connections 'abc'" -m abc
        usage_error "$st" "invalid max-connections '10001'" --max-connections 10001
        usage_error "$st" "invalid max-connections '-5'" -m -5
    else
        usage_error "$st" "not available in $st" -m 5
        usage_error "$st" "not available in $st" --max-connections=5
    fi
}
@test "a bad option or value: one line on stderr naming it, a usage hint, exit 2, nothing started" {
    each_stage check_bad_options
}

check_good_bounds() {
    local st=$1 args=(-t 0 -b 127.0.0.1)
    has_limit "$st" && args+=(-m 10000)
    start_daemon "$st" "${args[@]}"
    ping_session "$DPORT"
    has_limit "$st" || return 0
    start_daemon "$st" -m 1 -t 86400
    connect_greeted "$DPORT"
    [[ $GREETING == *" active=1 max=1" ]]
}
@test "values at the edges of their ranges are accepted" {
    each_stage check_good_bounds
}

# --- readiness and start-up failures -----------------------------------------

check_readiness() {
    local st=$1
    start_daemon "$st"
    [ "$(wc -l <"$DOUT")" -eq 1 ]
    grep -qx "listening on 127.0.0.1:$DPORT pid=$DPID" "$DOUT"
    [ "$DPORT" -gt 0 ]
    # the log names the stage and the start
    wait_for "start line in log" grep -q "$st\[$DPID\]: start .*127.0.0.1:$DPORT pid=$DPID" "$DLOG"
    ping_session "$DPORT"
}
@test "-p 0: exactly one readiness line with the real port and the daemon's pid" {
    each_stage check_readiness
}

check_default_port() {
    local st=$1 port=$((9000 + ${1:4:1}))
    run "$(stage_bin "$st")" --help
    [[ $output == *"default $port"* ]]
}
@test "each stage's default port is 900N" {
    each_stage check_default_port
}

# strerror's words differ between C libraries: glibc's, then musl's.
IN_USE='(Address already in use|Address in use)'
NOT_HERE='(Cannot assign requested address|Address not available)'
check_address_in_use() {
    local st=$1 pidfile="$BATS_TEST_TMPDIR/inuse.pid" before
    start_daemon "$st"
    before=$(ipc_object_count)
    run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p "$DPORT" -P "$pidfile"
    [ "$status" -eq 1 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr =~ ^"$st: cannot listen on 127.0.0.1:$DPORT: "$IN_USE$ ]]
    [ -z "$output" ]
    [ ! -e "$pidfile" ]
    [ "$(ipc_object_count)" -eq "$before" ]
    # in the background, the launcher reports the daemon's reason the same way
    run --separate-stderr capped 10 "$(stage_bin "$st")" -p "$DPORT" -P "$pidfile"
    [ "$status" -eq 1 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr =~ $IN_USE ]]
    [ ! -e "$pidfile" ]
    [ "$(ipc_object_count)" -eq "$before" ]
    ping_session "$DPORT" # the first one is unharmed
}
@test "address in use: one line naming the cause, exit 1, no pidfile, no IPC object" {
    each_stage check_address_in_use
}

check_unbindable() {
    local st=$1
    run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -b 192.0.2.1
    [ "$status" -eq 1 ]
    [[ $stderr =~ ^"$st: cannot listen on 192.0.2.1:0: "$NOT_HERE$ ]]
}
@test "an address this machine does not have: exit 1 with the reason" {
    each_stage check_unbindable
}

check_bad_logfile() {
    local st=$1
    run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -l "$BATS_TEST_TMPDIR/no/such/dir/log"
    [ "$status" -eq 1 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == "$st: cannot open log file "*"No such file or directory" ]]
}
@test "a log file that cannot be opened: exit 1 with the reason" {
    each_stage check_bad_logfile
}

# --- background mode and the pidfile -----------------------------------------

check_background() {
    local st=$1 pidfile="$BATS_TEST_TMPDIR/$1.pid" log="$BATS_TEST_TMPDIR/$1.log" pid port fd target
    # an extra descriptor (7) that the daemon must not keep
    run --separate-stderr capped 10 "$(stage_bin "$st")" -p 0 -P "$pidfile" -l "$log" 7<"$BATS_TEST_FILENAME"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ $output =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)\ pid=([0-9]+)$ ]]
    port=${BASH_REMATCH[1]} pid=${BASH_REMATCH[2]}
    track_daemon "$pid" "$log"
    [ -z "$stderr" ]
    alive "$pid"
    [ "$(cat "$pidfile")" = "$pid" ]
    # detached: not a session leader, no terminal, working directory /
    [ "$(ps -o sid= -p "$pid" | tr -d ' ')" != "$pid" ]
    [ "$(ps -o tty= -p "$pid" | tr -d ' ')" = "?" ]
    [ "$(readlink "/proc/$pid/cwd")" = / ]
    # 0-2 on /dev/null; nothing inherited (no descriptor on this test file)
    for fd in 0 1 2; do [ "$(readlink "/proc/$pid/fd/$fd")" = /dev/null ]; done
    for fd in /proc/"$pid"/fd/*; do
        target=$(readlink "$fd")
        [ "$target" != "$BATS_TEST_FILENAME" ]
    done
    ping_session "$port"
    wait_for "accept line in the log" grep -q "$st\[$pid\]: accepted 127.0.0.1:" "$log"
    kill -TERM "$pid"
    WAIT_MS=2000 wait_for "background daemon to exit" gone_or_zombie "$pid"
    [ ! -e "$pidfile" ]
    grep -q "$st\[$pid\]: stopped" "$log"
}
@test "background: the launcher exits 0 once the daemon listens; detached, no inherited fd; SIGTERM cleans up" {
    each_stage check_background
}

# Without /proc (macOS, FreeBSD), the daemon closes what it inherited by
# trying every descriptor up to the limit. Run here with /proc hidden from
# the daemon (a tmpfs over it, in a private mount namespace), and checked
# from outside, where /proc still shows its descriptors.
check_background_without_proc() {
    local st=$1 log="$BATS_TEST_TMPDIR/$1.noproc.log" pid fd target
    run --separate-stderr capped 10 $(namespace_prefix mount) --propagation private \
        sh -c 'mount -t tmpfs none /proc && exec "$@"' sh \
        "$(stage_bin "$st")" -p 0 -l "$log" 7<"$BATS_TEST_FILENAME" 200<"$BATS_TEST_FILENAME"
    echo "$output $stderr"
    [ "$status" -eq 0 ]
    pid=${output##*pid=}
    track_daemon "$pid" "$log"
    alive "$pid"
    for fd in /proc/"$pid"/fd/*; do
        target=$(readlink "$fd")
        [ "$target" != "$BATS_TEST_FILENAME" ]
    done
    [ -z "$(ls /proc/"$pid"/fd | grep -xE '7|200')" ]
}
@test "background without /proc: inherited descriptors (7, 200) are closed all the same" {
    local why
    why=$(namespace_unavailable mount) && skip "$why"
    # make sanitize: ASan's leak checker dies without /proc, whatever its
    # options say; make test runs this against the plain build
    [ -z "${ASAN_OPTIONS:-}" ] || skip "AddressSanitizer cannot run without /proc"
    each_stage check_background_without_proc
}

check_pidfile_lock() {
    local st=$1 pidfile="$BATS_TEST_TMPDIR/$1.pid"
    start_daemon "$st" -P "$pidfile"
    [ "$(cat "$pidfile")" = "$DPID" ]
    run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -P "$pidfile"
    [ "$status" -eq 1 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == "$st: already running: pidfile $pidfile is locked by pid $DPID" ]]
    # the same in the background, via the launcher
    run --separate-stderr capped 10 "$(stage_bin "$st")" -p 0 -P "$pidfile"
    [ "$status" -eq 1 ]
    [[ $stderr == *"already running"*"$DPID"* ]]
    # the running instance keeps its pidfile and serves on
    [ "$(cat "$pidfile")" = "$DPID" ]
    ping_session "$DPORT"
    kill -TERM "$DPID"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID"
    [ ! -e "$pidfile" ]
}
@test "pidfile: a second instance is refused with exit 1 and the holder's pid" {
    each_stage check_pidfile_lock
}

check_stale_pidfile() {
    local st=$1 pidfile="$BATS_TEST_TMPDIR/$1.pid"
    echo 999999 >"$pidfile"
    start_daemon "$st" -P "$pidfile"
    [ "$(cat "$pidfile")" = "$DPID" ]
    printf 'garbage without newline' >"$pidfile.2"
    start_daemon "$st" -P "$pidfile.2"
    [ "$(cat "$pidfile.2")" = "$DPID" ]
}
@test "pidfile: a stale file (no live holder) is taken over" {
    each_stage check_stale_pidfile
}

check_relative_paths() {
    local st=$1 pid
    cd "$BATS_TEST_TMPDIR"
    run capped 10 "$(stage_bin "$st")" -p 0 -P rel.pid -l rel.log
    [ "$status" -eq 0 ]
    pid=${output##*pid=}
    track_daemon "$pid" "$BATS_TEST_TMPDIR/rel.log"
    [ "$(cat "$BATS_TEST_TMPDIR/rel.pid")" = "$pid" ]
    grep -q "start $st" "$BATS_TEST_TMPDIR/rel.log"
    kill -TERM "$pid"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$pid"
    [ ! -e "$BATS_TEST_TMPDIR/rel.pid" ]
}
@test "background: relative -P and -l paths are taken from where it was started" {
    each_stage check_relative_paths
}

# The pidfile replaced between the daemon's open and its lock (the instance
# that held it stopped and removed it, a third one made a new one): the
# daemon must not run holding the lock of a file nobody can see. strace
# delays its lock by a second; the test swaps the file in that second.
check_replaced_pidfile() {
    local st=$1 pidfile="$BATS_TEST_TMPDIR/$1.pid" trace="$BATS_TEST_TMPDIR/$1.fcntl" n pid status=0
    # which fcntl call is the lock: counted on a first start, not assumed
    START_UNDER="$UNDER_PTRACE strace -qq -o $trace -e trace=fcntl --" start_daemon "$st" -P "$pidfile"
    pid=$(sed -n 's/.* pid=\([0-9]*\)$/\1/p' "$DOUT")
    kill -TERM "$pid"
    WAIT_MS=2000 wait_for "the first daemon to exit" gone_or_zombie "$DPID"
    n=$(awk '/^fcntl\(/ { n++ } /F_SETLK/ { print n; exit }' "$trace")
    [ -n "$n" ]
    DOUT="$BATS_TEST_TMPDIR/$st.race.out" DLOG="$BATS_TEST_TMPDIR/$st.race.log"
    # shellcheck disable=SC2086 # UNDER_PTRACE is meant to be split
    (run_clean_fds $UNDER_PTRACE strace -qq -o /dev/null -e trace=fcntl -e "inject=fcntl:delay_enter=1000000:when=$n" \
        "$(stage_bin "$st")" -f -p 0 -P "$pidfile") >"$DOUT" 2>"$DLOG" &
    DPID=$!
    DAEMON_PIDS+=("$DPID")
    wait_for "the daemon to create its pidfile" test -e "$pidfile"
    mv "$pidfile" "$pidfile.old"
    echo intruder >"$pidfile"
    wait_for "the daemon to listen" grep -q '^listening on ' "$DOUT"
    pid=$(sed -n 's/.* pid=\([0-9]*\)$/\1/p' "$DOUT")
    echo "pidfile: $(cat "$pidfile"); the old one: $(cat "$pidfile.old")"
    [ "$(cat "$pidfile")" = "$pid" ]
    kill -TERM "$pid"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID"
    wait "$DPID" || status=$?
    [ "$status" -eq 0 ]
    [ ! -e "$pidfile" ]
}
@test "pidfile replaced between open and lock: the daemon locks the file at the path, not the old one" {
    command -v strace >/dev/null || skip "strace is not installed (make doctor)"
    each_stage check_replaced_pidfile
}

# --- descriptors 0-2, the pidfile and the log file, attacked -----------------

# log_port LOG: the port from the daemon's start line in its log.
log_port() { sed -n 's/.*listening on [0-9.]*:\([0-9]*\) pid=.*/\1/p' "$1" | head -n 1; }

check_closed_std_fds() {
    local st=$1 pidfile="$BATS_TEST_TMPDIR/$1.pid" log="$BATS_TEST_TMPDIR/$1.log" pid port status=0
    # foreground, stdin closed: it serves
    START_UNDER="$FORKD_ROOT/tests/scripts/closing-fds.sh 0 --" start_daemon "$st"
    ping_session "$DPORT"
    # background, stdin and stdout closed: the readiness pipe must not land on
    # 0 or 1, or the launcher reports a failure while the daemon runs on
    run --separate-stderr capped 10 "$FORKD_ROOT/tests/scripts/closing-fds.sh" 0 1 -- \
        "$(stage_bin "$st")" -p 0 -P "$pidfile" -l "$log"
    echo "status=$status stderr=$stderr"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    pid=$(cat "$pidfile")
    track_daemon "$pid" "$log"
    alive "$pid"
    port=$(log_port "$log")
    ping_session "$port"
    kill -TERM "$pid"
    WAIT_MS=2000 wait_for "background daemon to exit" gone_or_zombie "$pid"
    [ ! -e "$pidfile" ]
    # foreground, stdout closed, with a pidfile: the readiness line must not
    # be written into the pidfile
    READY_IN_LOG=1 START_UNDER="$FORKD_ROOT/tests/scripts/closing-fds.sh 1 --" start_daemon "$st" -P "$pidfile"
    [ "$(cat "$pidfile")" = "$DPID" ]
    [ ! -s "$DOUT" ]
    ping_session "$DPORT"
}
@test "descriptors 0-2 closed at start (stdin; stdin and stdout; stdout with a pidfile): it still starts right" {
    each_stage check_closed_std_fds
}

check_pidfile_attacks() {
    local st=$1 dir="$BATS_TEST_TMPDIR/$1" mode
    mkdir -p "$dir"
    # a symbolic link: refused, its target untouched
    echo precious >"$dir/target"
    ln -s "$dir/target" "$dir/link.pid"
    run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -P "$dir/link.pid"
    [ "$status" -eq 1 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [ "$stderr" = "$st: refusing pidfile $dir/link.pid: it is a symbolic link" ]
    [ "$(cat "$dir/target")" = precious ]
    # a file of another user: refused, untouched. Only root can give a
    # file away (chown); a user checks a pidfile it may not write instead
    # (root may write any file, so that check is the user's alone)
    echo 4242 >"$dir/other.pid"
    if [ "$(id -u)" -eq 0 ]; then
        chown nobody "$dir/other.pid"
        run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -P "$dir/other.pid"
        [ "$status" -eq 1 ]
        [[ $stderr == "$st: refusing pidfile $dir/other.pid: owned by uid "*", not by this user"* ]]
    else
        chmod 444 "$dir/other.pid"
        run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -P "$dir/other.pid"
        [ "$status" -eq 1 ]
        [ "${#stderr_lines[@]}" -eq 1 ]
        [ "$stderr" = "$st: cannot open pidfile $dir/other.pid: Permission denied" ]
    fi
    [ "$(cat "$dir/other.pid")" = 4242 ]
    # a FIFO: refused at once, not hung on
    mkfifo "$dir/fifo.pid"
    run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -P "$dir/fifo.pid"
    [ "$status" -eq 1 ]
    [ "$stderr" = "$st: refusing pidfile $dir/fifo.pid: not a regular file" ]
    # the holder is named by the lock, whatever the file says
    start_daemon "$st" -P "$dir/held.pid"
    echo 1 >"$dir/held.pid"
    run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -P "$dir/held.pid"
    [ "$status" -eq 1 ]
    [ "$stderr" = "$st: already running: pidfile $dir/held.pid is locked by pid $DPID" ]
    # mode 0644 whatever the caller's umask, in the foreground and the background
    umask 077
    start_daemon "$st" -P "$dir/fg.pid" -l "$dir/fg.log" || { umask 022; return 1; }
    umask 022
    [ "$(stat -c %a "$dir/fg.pid")" = 644 ]
    [ "$(stat -c %a "$dir/fg.log")" = 640 ]
    run capped 10 bash -c 'umask 077 && exec "$0" -p 0 -P "$1" -l "$2"' "$(stage_bin "$st")" "$dir/bg.pid" "$dir/bg.log"
    [ "$status" -eq 0 ]
    track_daemon "${output##*pid=}" "$dir/bg.log"
    [ "$(stat -c %a "$dir/bg.pid")" = 644 ]
    [ "$(stat -c %a "$dir/bg.log")" = 640 ]
}
@test "pidfile: a symlink, another user's file or a FIFO is refused; the lock names the holder; mode 0644 under any umask" {
    [ "$(id -u)" -eq 0 ] || note "not root: another user's pidfile needs chown; checked instead: a pidfile this user may not write"
    each_stage check_pidfile_attacks
}

check_logfile_attacks() {
    local st=$1 dir="$BATS_TEST_TMPDIR/$1"
    mkdir -p "$dir"
    echo precious >"$dir/target"
    ln -s "$dir/target" "$dir/link.log"
    run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -l "$dir/link.log"
    [ "$status" -eq 1 ]
    [ "$stderr" = "$st: refusing log file $dir/link.log: it is a symbolic link" ]
    [ "$(cat "$dir/target")" = precious ]
    # a FIFO with no reader would block open(2) forever: in the foreground
    # and through the launcher, a prompt refusal instead
    mkfifo "$dir/fifo.log"
    run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -l "$dir/fifo.log"
    [ "$status" -eq 1 ]
    [ "$stderr" = "$st: refusing log file $dir/fifo.log: not a regular file" ]
    run --separate-stderr capped 10 "$(stage_bin "$st")" -p 0 -l "$dir/fifo.log"
    [ "$status" -eq 1 ]
    [ "$stderr" = "$st: refusing log file $dir/fifo.log: not a regular file" ]
    run --separate-stderr capped 10 "$(stage_bin "$st")" -f -p 0 -l "$dir"
    [ "$status" -eq 1 ]
    [[ $stderr == "$st: "*"log file $dir"* ]]
}
@test "log file: a symlink, a FIFO or a directory is refused with one line, never hung on" {
    each_stage check_logfile_attacks
}

# --- the line protocol -------------------------------------------------------

check_protocol() {
    local st=$1 started elapsed raw
    start_daemon "$st"
    connect_greeted "$DPORT"
    [[ $GREETING =~ ^HELLO\ $st\ pid=([0-9]+)( active=1 max=10)?$ ]]
    if has_limit "$st"; then [ -n "${BASH_REMATCH[2]}" ]; else [ -z "${BASH_REMATCH[2]}" ]; fi
    # the pid is the child's, a child of the daemon
    [ "$(ps -o ppid= -p "${BASH_REMATCH[1]}" | tr -d ' ')" = "$DPID" ]
    send_line "$CONN" PING
    read_line "$CONN" && [ "$LINE" = PONG ]
    send_line "$CONN" "ECHO hello  world "
    read_line "$CONN" && [ "$LINE" = "hello  world " ]
    send_line "$CONN" ECHO
    read_line "$CONN" && [ "$LINE" = "" ]
    started=$(now_ms)
    send_line "$CONN" "SLEEP 200"
    read_line "$CONN" && [ "$LINE" = OK ]
    elapsed=$(($(now_ms) - started))
    [ "$elapsed" -ge 200 ]
    send_line "$CONN" "SLEEP 0"
    read_line "$CONN" && [ "$LINE" = OK ]
    local bad
    for bad in "SLEEP" "SLEEP " "SLEEP abc" "SLEEP 60001" "SLEEP -1" "SLEEP 1 2" "SLEEP +5" "SLEEP 99999999999"; do
        send_line "$CONN" "$bad"
        read_line "$CONN" && [ "$LINE" = "ERR bad argument" ]
    done
    for bad in "" "ping" "PING " "HELLO" "ECHOX" "SLEEPY 1" "QUIT now"; do
        send_line "$CONN" "$bad"
        read_line "$CONN" && [ "$LINE" = "ERR unknown command" ]
    done
    # CRLF: the \r is not part of the command, nor of what ECHO sends back
    printf 'PING\r\n' >&"$CONN"
    read_line "$CONN" && [ "$LINE" = PONG ]
    printf 'ECHO crlf\r\n' >&"$CONN"
    IFS= read -r -t "$(scaled 5)" -u "$CONN" raw && [ "$raw" = crlf ]
    # several commands in one packet, answered in order
    printf 'PING\nECHO a\nECHO b\n' >&"$CONN"
    read_line "$CONN" && [ "$LINE" = PONG ]
    read_line "$CONN" && [ "$LINE" = a ]
    read_line "$CONN" && [ "$LINE" = b ]
    send_line "$CONN" QUIT
    read_line "$CONN" && [ "$LINE" = BYE ]
    expect_eof "$CONN"
}
@test "protocol: greeting, PING, ECHO, SLEEP, errors, CRLF, pipelining, QUIT" {
    each_stage check_protocol
}

check_long_lines() {
    local st=$1 max fd
    start_daemon "$st"
    # exactly 1024 bytes before the newline: accepted (ECHO + space + 1019)
    max=$(printf 'x%.0s' $(seq 1019))
    connect_greeted "$DPORT"
    printf 'ECHO %s\n' "$max" >&"$CONN"
    read_line "$CONN" && [ "$LINE" = "$max" ]
    # 1024 bytes and CRLF: still accepted
    printf 'ECHO %s\r\n' "$max" >&"$CONN"
    read_line "$CONN" && [ "$LINE" = "$max" ]
    # 1025 bytes: refused, then a clean close
    printf 'ECHO %sy\n' "$max" >&"$CONN"
    read_line "$CONN" && [ "$LINE" = "ERR line too long" ]
    expect_eof "$CONN"
    # no newline at all, and the client keeps sending: refused, clean close
    connect_greeted "$DPORT"
    fd=$CONN
    head -c 200000 /dev/zero | tr '\0' 'z' >&"$fd"
    read_line "$fd" && [ "$LINE" = "ERR line too long" ]
    expect_eof "$fd"
    ping_session "$DPORT"
}
@test "protocol: 1024-byte lines pass, longer ones get 'ERR line too long' and a clean close" {
    each_stage check_long_lines
}

check_binary() {
    local st=$1
    start_daemon "$st"
    connect_greeted "$DPORT"
    printf 'P\0ING\n\377\376\001garbage\n' >&"$CONN"
    read_line "$CONN" && [ "$LINE" = "ERR unknown command" ]
    read_line "$CONN" && [ "$LINE" = "ERR unknown command" ]
    printf 'ECHO a\0b\n' >&"$CONN"
    [ "$(head -c 4 <&"$CONN" | od -An -tx1 | tr -d ' ')" = "6100620a" ]
    send_line "$CONN" PING
    read_line "$CONN" && [ "$LINE" = PONG ]
}
@test "protocol: binary bytes and NULs are data: unknown commands, echoed as sent" {
    each_stage check_binary
}

check_vanishing_clients() {
    local st=$1 i fd child
    start_daemon "$st"
    for i in 1 2 3; do
        connect_greeted "$DPORT"
        child=$(field_of "$GREETING" pid)
        printf 'PIN' >&"$CONN" # half a line, then gone
        close_conn "$CONN"
        wait_for "child $child to end" gone_or_zombie "$child"
    done
    # a client that resets the connection in the middle of a long reply
    connect_greeted "$DPORT"
    child=$(field_of "$GREETING" pid)
    printf 'ECHO %s\n' "$(printf 'r%.0s' $(seq 1000))" >&"$CONN"
    close_conn "$CONN"
    wait_for "child $child to end" gone_or_zombie "$child"
    ping_session "$DPORT"
}
@test "protocol: half lines and vanished clients end their child and nothing else" {
    each_stage check_vanishing_clients
}

check_idle_timeout() {
    local st=$1 started elapsed i
    start_daemon "$st" -t 1
    # silence: closed with a reason after about a second
    connect_greeted "$DPORT"
    started=$(now_ms)
    read_line "$CONN" && [ "$LINE" = "ERR idle timeout" ]
    elapsed=$(($(now_ms) - started))
    [ "$elapsed" -ge 900 ]
    expect_eof "$CONN"
    # activity resets the clock: 6 commands 400 ms apart outlive 1 s
    connect_greeted "$DPORT"
    for i in 1 2 3 4 5 6; do
        READ_TIMEOUT=0.4 read_line "$CONN" && false # nothing must come meanwhile
        send_line "$CONN" PING
        read_line "$CONN" && [ "$LINE" = PONG ]
    done
    # a running SLEEP is not silence
    send_line "$CONN" "SLEEP 1500"
    read_line "$CONN" && [ "$LINE" = OK ]
    send_line "$CONN" QUIT
    read_line "$CONN" && [ "$LINE" = BYE ]
}
@test "protocol: the idle timeout closes a silent client; activity and SLEEP are not silence" {
    each_stage check_idle_timeout
}

# A client that sends and never reads its replies: the child's writes fill
# both socket buffers and block. The idle timeout bounds a blocked write too
# (SO_SNDTIMEO, which the child's socket inherits from the listening one):
# the child gives up and ends instead of waiting forever.
check_client_that_never_reads() {
    local st=$1 kid writer
    start_daemon "$st" -t 1
    connect_greeted "$DPORT"
    kid=$(field_of "$GREETING" pid)
    # 20 MB of ECHO lines of 1000 bytes, no reply ever read
    yes "ECHO $(printf 'x%.0s' $(seq 995))" | head -n 20000 >&"$CONN" 2>/dev/null &
    writer=$!
    EXTRA_PIDS+=("$writer")
    wait_for "the child to give up its blocked writes after 1 s" gone_or_zombie "$kid"
    close_conn "$CONN"
    kill "$writer" 2>/dev/null || true
    wait "$writer" 2>/dev/null || true
    alive "$DPID"
}
@test "protocol: a client that never reads its replies cannot hold a child (the timeout bounds writes too)" {
    each_stage check_client_that_never_reads
}

check_no_idle_timeout() {
    local st=$1
    start_daemon "$st" -t 0
    connect_greeted "$DPORT"
    if READ_TIMEOUT=1.5 read_line "$CONN"; then false; fi # nothing comes, not even a timeout line
    send_line "$CONN" PING
    read_line "$CONN" && [ "$LINE" = PONG ]
}
@test "protocol: -t 0 never closes a silent client" {
    each_stage check_no_idle_timeout
}

# --- signals and shutdown ----------------------------------------------------

# stop_with SIGNAL STAGE: clients busy (one in SLEEP), then SIGNAL: exit 0
# within 2 s, no child left, pidfile gone, part 4's IPC objects gone, the
# test's own process group unharmed.
stop_with() {
    local sig=$1 st=$2 pidfile="$BATS_TEST_TMPDIR/$2.pid" kids sentinel started status=0 kid ids=""
    start_daemon "$st" -P "$pidfile"
    ids=$(sed -n 's/.*ipc shm=\([0-9]*\) sem=\([0-9]*\).*/\1 \2/p' "$DLOG")
    sleep 1000 & # a bystander in the daemon's process group
    sentinel=$!
    EXTRA_PIDS+=("$sentinel")
    connect_greeted "$DPORT"
    send_line "$CONN" "SLEEP 60000"
    connect_greeted "$DPORT"
    ping_session "$DPORT"
    wait_for "2 children at least" children_at_least "$DPID" 2
    kids=$(children_of "$DPID")
    started=$(now_ms)
    kill "-$sig" "$DPID"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID"
    wait "$DPID" || status=$?
    [ "$status" -eq 0 ]
    [ $(($(now_ms) - started)) -lt "$(scaled 2000)" ]
    for kid in $kids; do gone "$kid"; done
    [ ! -e "$pidfile" ]
    alive "$sentinel"
    grep -q "shutdown on $sig" "$DLOG"
    grep -q "stopped" "$DLOG"
    # each child ended on the parent's SIGTERM itself, none needed the SIGKILL
    grep -q 'reaped child pid=[0-9]* signal=15$' "$DLOG"
    grep -q 'still running after' "$DLOG" && return 1
    if [ -n "$ids" ]; then
        set -- $ids
        ! shm_exists "$1" || return 1
        ! sem_exists "$2" || return 1
    fi
}
stop_with_term() { stop_with SIGTERM "$1"; }
stop_with_int() { stop_with SIGINT "$1"; }
stop_with_hup() { stop_with SIGHUP "$1"; }
stop_with_quit() { stop_with SIGQUIT "$1"; }
@test "SIGTERM: children ended and reaped, pidfile removed, exit 0 within 2 s, only own children signalled" {
    each_stage stop_with_term
}
@test "SIGINT: the same clean shutdown" {
    each_stage stop_with_int
}
@test "SIGHUP (the terminal went away): the same clean shutdown, IPC objects removed" {
    each_stage stop_with_hup
}
@test "SIGQUIT (Ctrl-\\): the same clean shutdown, IPC objects removed" {
    each_stage stop_with_quit
}

# SIGUSR1 everywhere, SIGUSR2 where it is no lesson: one log line, no harm.
check_ignored_signals() {
    local st=$1 sig sigs=USR1
    [ "$st" = part3-signals-bug ] || sigs="USR1 USR2"
    start_daemon "$st"
    for sig in $sigs; do
        kill "-$sig" "$DPID"
        wait_for "'ignored SIG$sig' in the log" grep -q "ignored SIG$sig " "$DLOG"
        alive "$DPID"
        ping_session "$DPORT"
    done
    [ "$(grep -c 'ignored SIG' "$DLOG")" -eq "$(wc -w <<<"$sigs")" ]
}
@test "SIGUSR1 (and SIGUSR2 but in part 3) is ignored with one log line, never fatal" {
    each_stage check_ignored_signals
}

# Signal masks from /proc/PID/status (hex), as numbers.
sig_mask() { printf '%d' "0x$(awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status")"; }
sig_bit() { echo $((1 << ($1 - 1))); }
# SigIgn without signals 32-34, which the C library keeps for itself (glibc
# and musl refuse sigaction on them): a parent may leave them ignored, as
# glibc's posix_spawn does for make's recipes, and no daemon can reset them.
sig_ignored() { echo $(($(sig_mask "$1" SigIgn) & ~(7 << 31))); }
mask_is() { [ "$(sig_mask "$1" "$2")" -eq "$3" ]; }
check_inherited_signals() {
    local st=$1 pidfile="$BATS_TEST_TMPDIR/$1.pid" status=0 child
    # what a careless launcher leaves: nohup's SIGHUP, a background job's
    # SIGINT and SIGQUIT, an ignored SIGCHLD, blocked SIGTERM and SIGALRM
    START_UNDER="$TOOLS_DIR/sigenv -i HUP -i INT -i QUIT -i CHLD -i ALRM -b TERM -b ALRM --" \
        start_daemon "$st" -P "$pidfile" -t 0
    # ignored now: SIGPIPE (13) only; waiting in pselect, nothing blocked
    # (outside pselect only its own signals are, which /proc cannot catch)
    [ "$(sig_ignored "$DPID")" -eq "$(sig_bit 13)" ]
    wait_for "the daemon waiting with no signal blocked" mask_is "$DPID" SigBlk 0
    connect_greeted "$DPORT"
    child=$(field_of "$GREETING" pid)
    [ "$(sig_mask "$child" SigBlk)" -eq 0 ]
    [ "$(sig_ignored "$child")" -eq "$(sig_bit 13)" ]
    close_conn "$CONN"
    kill -HUP "$DPID"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID"
    wait "$DPID" || status=$?
    [ "$status" -eq 0 ]
    grep -q "shutdown on SIGHUP" "$DLOG"
    [ ! -e "$pidfile" ]
}
@test "inherited signal dispositions and mask are reset at start (daemon(7)); SIGHUP stops it though nohup ignored it" {
    each_stage check_inherited_signals
}

# accept(2) errors that accept(2) calls transient, injected by strace into
# the daemon's first accept: the client stays queued, the next accept takes
# it, and the daemon lives on. (Without strace allowed to attach: no test.)
check_transient_accept_errors() {
    local st=$1 err pid status=0
    for err in ENONET ETIMEDOUT EHOSTDOWN ENOSR EPROTO; do
        START_UNDER="$UNDER_PTRACE strace -f -qq -o /dev/null -e trace=accept,accept4 -e inject=accept,accept4:error=$err:when=1 --" \
            start_daemon "$st"
        pid=$(sed -n 's/.* pid=\([0-9]*\)$/\1/p' "$DOUT") # the daemon, not strace
        connect_greeted "$DPORT"
        [[ $GREETING == "HELLO $st pid="* ]]
        close_conn "$CONN"
        alive "$pid"
        ! grep -q fatal "$DLOG" || { cat "$DLOG"; return 1; }
        kill -TERM "$pid"
        WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID" # strace ends with it
        wait "$DPID" || status=$?
        [ "$status" -eq 0 ]
    done
}
@test "accept errors that accept(2) lists as transient (ENONET, ETIMEDOUT, EHOSTDOWN, ENOSR, EPROTO) do not stop the daemon" {
    command -v strace >/dev/null || skip "strace is not installed (make doctor)"
    each_stage check_transient_accept_errors
}

# A pending signal must not wait for the queue of clients to drain: pselect
# does not deliver it when the listening socket is ready at once, so a
# daemon relying on pselect alone would serve every queued client first.
#
# Deterministic: the daemon is stopped while it works through a queue of 300
# clients, at a moment it is not inside pselect (read from
# /proc/PID/syscall), so a SIGTERM sent then stays pending with its signals
# blocked. Resumed, it must handle it before the next client, not after the
# last one.
answered() { grep -c 'accepted\|refused' "$DLOG" || true; }
syscall_nr() { cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null; }
in_a_syscall() { [[ $(syscall_nr "$1") =~ ^[0-9]+$ ]]; }

# stop_mid_queue WAIT_NR TOTAL: stops the daemon outside the syscall it waits
# in (WAIT_NR), with clients still queued; fails if the queue drained first.
stop_mid_queue() {
    local try
    for try in $(seq 100); do
        kill -STOP "$DPID"
        wait_for "daemon stopped" is_stopped "$DPID"
        [ "$(answered)" -lt "$2" ] || return 1
        [ "$(syscall_nr "$DPID")" != "$1" ] && return 0
        kill -CONT "$DPID"
    done
    return 1
}

check_signal_with_queue() {
    local st=$1 status=0 attempt wait_nr at_stop served i queue=$QUEUE
    for attempt in 1 2 3 4 5; do
        start_daemon "$st" $(has_limit "$st" && echo -m 1000)
        wait_for "daemon waiting for clients" in_a_syscall "$DPID"
        wait_nr=$(syscall_nr "$DPID")
        kill -STOP "$DPID"
        wait_for "daemon stopped" is_stopped "$DPID"
        for i in $(seq "$queue"); do connect "$DPORT"; done
        kill -CONT "$DPID"
        stop_mid_queue "$wait_nr" "$queue" && break
        # it drained the whole queue before it could be caught: again
        close_all_conns
        end_daemon "$DPID"
        [ "$attempt" -lt 5 ] || {
            echo "$st: could not stop the daemon in the middle of its queue"
            return 1
        }
    done
    at_stop=$(answered)
    kill -TERM "$DPID" # pending: outside pselect, the daemon's signals are blocked
    kill -CONT "$DPID"
    WAIT_MS=2000 wait_for "daemon to exit" gone_or_zombie "$DPID"
    wait "$DPID" || status=$?
    [ "$status" -eq 0 ]
    served=$(($(answered) - at_stop))
    echo "$st: stopped with $((queue - at_stop)) clients queued; served $served more before SIGTERM"
    close_all_conns # this test's descriptors back before the next stage
    [ "$served" -le 2 ]
}
@test "a signal that arrives while clients queue is handled at once, not after the queue drains" {
    # 300 queued clients are 300 descriptors of this shell at once
    descriptors_for 300 100
    QUEUE=$DESCRIPTORS
    each_stage check_signal_with_queue
}
