#!/usr/bin/env bash
# tools/doctor.sh: a pre-flight check of this machine (make doctor).
# One line per check: what is there, what is missing, and the Debian/Ubuntu
# package that brings it. Exits 1 only when something `make demo` or
# `make test` needs is missing; what only the READMEs' recipes use (nc,
# strace, the ports, tracing) is reported, never fatal.
#
# tools/doctor.sh --bats prints the bats that make test would use
# and nothing else: the Makefile asks it, so doctor's report and make's
# choice cannot disagree.
set -u
if [ "${BASH_VERSINFO[0]}" -lt 4 ]; then
    # macOS's bash 3.2 has no associative arrays (and macOS has no /proc)
    echo "doctor: bash ${BASH_VERSION} is too old (this is macOS?): the daemons and tests need Linux; work in a Linux VM" >&2
    exit 1
fi
root=$(cd "$(dirname "$0")/.." && pwd)

# The oldest bats-core the suites run on. Every suite calls
# bats_require_minimum_version, which came in 1.7.0: bats 1.6.0 and 1.5.0
# fail at once with "command not found". Found by running tests/common.bats
# with each release from npm (see the Makefile).
BATS_MIN=1.7.0
BATS_NPM=$root/tests/node_modules/bats/bin/bats

# ---------------------------------------------------------------------------
# Every sentence doctor prints, by key: a printf format, its %s filled in
# order, in English (msg_en) and Polish (msg_pl). tools/i18n.sh
# picks the language (FORKD_LANG, else the locale) and prints them (msg).
declare -A msg_en=(
    [title]='forkd doctor: what make demo and make test need, and what the READMEs use'
    [ok]='ok'
    [missing]='MISSING'
    [absent]='absent'
    [note]='note'
    [pkg]='(sudo apt-get install %s)'

    [compiler]='compiler'
    [compiler_ok]='%s; cc builds a System V IPC program'
    [compiler_none]='no gcc, clang or cc'
    [compiler_broken]='%s is there but cannot build a program using <sys/sem.h> (no C library headers?)'
    [compiler_no_cc]='%s, but no cc, which make uses: run make CC=%s'

    [make]='make'
    [make_none]='no make'

    [tools]='test tools'
    [tools_ok]='%s'
    [tools_none]='missing: %s'

    [proc]='/proc'
    [proc_ok]='Linux %s, /proc and /proc/sysvipc readable'
    [proc_wsl2]='Linux %s under WSL 2: it works like any Linux machine'
    [proc_wsl1]='WSL 1 (%s) is not a Linux kernel: convert the distribution with wsl --set-version NAME 2'
    [proc_macos]='macOS has no /proc, System V limits of its own and no prctl: work in a Linux VM'
    [proc_none]='%s without /proc: the tests and tools read it; use Linux (a VM, or WSL 2 on Windows)'
    [proc_nosysv]='no /proc/sysvipc: this kernel has no System V IPC (CONFIG_SYSVIPC), part 4 cannot run'

    [ipc]='SysV IPC'
    [ipc_ok]='kernel.shmmni=%s, kernel.sem=%s (SEMMSL SEMMNS SEMOPM SEMMNI); in use: %s segments, %s sets'
    [ipc_zero]='kernel.shmmni=%s, kernel.sem=%s: part 4 needs at least one segment and one semaphore set'
    [ipc_full]='kernel.shmmni=%s, kernel.sem=%s, but %s segments and %s sets are in use: remove stale ones with ipcrm'

    [ipcs]='ipcs/ipcrm'

    [bats]='bats'
    [bats_system]='%s %s with bats-support and bats-assert in %s: make test uses it, no npm needed'
    [bats_npm]='the pinned %s in tests/node_modules: make test uses it'
    [bats_fetch]='make test fetches the pinned bats %s with npm %s the first time'
    [bats_none]='no bats %s or newer with bats-support and bats-assert, and no npm to fetch the pinned %s'
    [bats_old]='system bats %s is older than %s, the oldest the suites run on'
    [bats_nolibs]='system bats %s is there, but bats-support and bats-assert are not in /usr/lib/bats'
    [bats_also]='%s; also: %s'

    [nc]='nc'
    [nc_openbsd]='OpenBSD netcat: waits for the server to close after your input; -N closes at the end of input, -q SEC quits SEC seconds after it'
    [nc_traditional]='traditional netcat: -q SEC quits after the end of input; no -N'
    [nc_ncat]='ncat (Nmap): closes its side at the end of input by itself; no -q, no -N'
    [nc_ncat_only]='only ncat (type ncat for nc): it closes its side at the end of input; no -q, no -N'
    [nc_busybox]='only busybox nc (type busybox nc): no -q, no -N'
    [nc_unknown]='%s, a netcat this script does not know: check its -q and -N'
    [nc_none]='no nc: the READMEs talk to the daemons with it'

    [strace]='strace'
    [strace_none]='no strace: the READMEs watch the system calls with it'
    [strace_attach]='%s; strace -p may attach (%s)'
    [strace_noattach]='%s; strace -p may not attach here (%s): start the daemon under strace -f instead'
    [yama_none]='no Yama: any process of your own'
    [yama_0]='ptrace_scope=0: any process of your own'
    [yama_1_root]='ptrace_scope=1, but you are root'
    [yama_1]='ptrace_scope=1: your own descendants only; use sudo strace -p'
    [yama_2_root]='ptrace_scope=2: root only, and you are root'
    [yama_2]='ptrace_scope=2: root only; use sudo strace -p'
    [yama_3]='ptrace_scope=3: nobody, not even root'
    [attach_failed]='tried on a child of this script: %s'

    [ports]='ports'
    [ports_free]='%s free (make run and the READMEs use 900N for stage N; the tests pick free ports)'
    [ports_busy]='in use: %s (make run and the READMEs use 900N for stage N; the tests pick free ports)'
    [port_by]='%s by pid %s (%s)'

    [tracing]='tracing'
    [tracing_ok]='/sys/kernel/tracing is mounted and you are root: the signal:signal_generate tracepoint is usable'
    [tracing_mountable]='you are root and the kernel has tracefs: mount -t tracefs nodev /sys/kernel/tracing makes it usable'
    [tracing_user]='the kernel has tracefs, but reading it needs root (sudo)'
    [tracing_none]='this kernel has no tracefs: no kernel tracepoints'
    [trace_tracefs]="make trace will use the kernel's own record (tracefs; it mounts tracefs for its run if needed)"
    [trace_strace]='make trace will use strace -f (the kernel'"'"'s record needs root)'
    [trace_none]='make trace cannot run here: %s'

    [container]='container'
    [container_in]='inside a container (%s): System V IPC has its own namespace here; tracefs needs root and a container started with --privileged, so make trace uses strace (README.md, "In a container")'
    [bpftrace]='bpftrace'
    [bpftrace_ok]='%s: part 3'"'"'s README reads the same tracepoint with it (as root, tracefs mounted)'
    [bpftrace_none]='no bpftrace: part 3'"'"'s README shows the kernel'"'"'s verdicts with it too, as root (optional: sudo apt-get install bpftrace)'

    [git]='git'
    [git_none]='no git: make check-exercises, make solution and make reset need it'

    [all_here]='doctor: everything make demo and make test need is here'
    [optional_missing]='doctor: for the READMEs'"'"' recipes, you may also want: sudo apt-get install %s'
    [needed_missing]='doctor: make demo or make test cannot run yet: sudo apt-get install %s'
    [needed_fix]='doctor: make demo or make test cannot run yet: see the MISSING lines'
)

declare -A msg_pl=(
    [title]='forkd doctor: czego potrzebują make demo i make test, a czego używają README'
    [ok]='ok'
    [missing]='BRAK'
    [absent]='brak'
    [note]='uwaga'
    [pkg]='(sudo apt-get install %s)'

    [compiler]='kompilator'
    [compiler_ok]='%s; cc buduje program z System V IPC'
    [compiler_none]='nie ma gcc, clang ani cc'
    [compiler_broken]='%s jest, ale nie zbuduje programu z <sys/sem.h> (brak nagłówków biblioteki C?)'
    [compiler_no_cc]='%s, ale nie ma cc, którego używa make: uruchom make CC=%s'

    [make]='make'
    [make_none]='nie ma make'

    [tools]='narzędzia'
    [tools_ok]='%s'
    [tools_none]='brakuje: %s'

    [proc]='/proc'
    [proc_ok]='Linux %s, /proc i /proc/sysvipc dają się czytać'
    [proc_wsl2]='Linux %s w WSL 2: działa jak każdy Linux'
    [proc_wsl1]='WSL 1 (%s) nie jest jądrem Linuksa: przestaw dystrybucję poleceniem wsl --set-version NAZWA 2'
    [proc_macos]='macOS nie ma /proc ani prctl, a limity System V ma własne: pracuj w maszynie wirtualnej z Linuksem'
    [proc_none]='%s bez /proc: testy i narzędzia go czytają; użyj Linuksa (maszyny wirtualnej albo WSL 2 w Windows)'
    [proc_nosysv]='nie ma /proc/sysvipc: to jądro nie ma System V IPC (CONFIG_SYSVIPC), etap 4 nie zadziała'

    [ipc]='SysV IPC'
    [ipc_ok]='kernel.shmmni=%s, kernel.sem=%s (SEMMSL SEMMNS SEMOPM SEMMNI); w użyciu: segmenty: %s, zbiory semaforów: %s'
    [ipc_zero]='kernel.shmmni=%s, kernel.sem=%s: etap 4 potrzebuje co najmniej jednego segmentu i jednego zbioru semaforów'
    [ipc_full]='kernel.shmmni=%s, kernel.sem=%s, ale w użyciu jest już tyle obiektów (segmenty: %s, zbiory semaforów: %s), że nowy się nie zmieści: usuń stare poleceniem ipcrm'

    [ipcs]='ipcs/ipcrm'

    [bats]='bats'
    [bats_system]='%s %s, z bats-support i bats-assert w %s: make test go użyje, npm niepotrzebny'
    [bats_npm]='przypięty %s w tests/node_modules: make test go użyje'
    [bats_fetch]='make test za pierwszym razem pobierze przypiętego bats %s przez npm %s'
    [bats_none]='nie ma bats %s lub nowszego z bats-support i bats-assert ani npm, które pobrałoby przypiętego %s'
    [bats_old]='systemowy bats %s jest starszy niż %s, najstarsza wersja, na której działają testy'
    [bats_nolibs]='systemowy bats %s jest, ale w /usr/lib/bats nie ma bats-support i bats-assert'
    [bats_also]='%s; poza tym: %s'

    [nc]='nc'
    [nc_openbsd]='netcat z OpenBSD: po końcu Twoich danych czeka, aż serwer zamknie połączenie; -N zamyka je na końcu danych, -q SEK kończy SEK sekund później'
    [nc_traditional]='tradycyjny netcat: -q SEK kończy po końcu danych; nie ma -N'
    [nc_ncat]='ncat (z Nmapa): sam zamyka swoją stronę na końcu danych; nie ma -q ani -N'
    [nc_ncat_only]='tylko ncat (wpisuj ncat zamiast nc): sam zamyka swoją stronę na końcu danych; nie ma -q ani -N'
    [nc_busybox]='tylko nc z busyboksa (wpisuj busybox nc): nie ma -q ani -N'
    [nc_unknown]='%s, netcat, którego ten skrypt nie zna: sprawdź, czy ma -q i -N'
    [nc_none]='nie ma nc: README rozmawiają nim z daemonami'

    [strace]='strace'
    [strace_none]='nie ma strace: README śledzą nim wywołania systemowe'
    [strace_attach]='%s; strace -p może się podłączyć (%s)'
    [strace_noattach]='%s; strace -p nie może się tu podłączyć (%s): uruchom daemona od razu pod strace -f'
    [yama_none]='nie ma Yamy: do każdego własnego procesu'
    [yama_0]='ptrace_scope=0: do każdego własnego procesu'
    [yama_1_root]='ptrace_scope=1, ale jesteś rootem'
    [yama_1]='ptrace_scope=1: tylko do procesów, które sam uruchomi; użyj sudo strace -p'
    [yama_2_root]='ptrace_scope=2: tylko root, a jesteś rootem'
    [yama_2]='ptrace_scope=2: tylko root; użyj sudo strace -p'
    [yama_3]='ptrace_scope=3: nikt, nawet root'
    [attach_failed]='próba na procesie dziecka tego skryptu: %s'

    [ports]='porty'
    [ports_free]='wolne: %s (make run i README używają portu 900N dla etapu N; testy wybierają wolne porty)'
    [ports_busy]='zajęte: %s (make run i README używają portu 900N dla etapu N; testy wybierają wolne porty)'
    [port_by]='%s przez pid %s (%s)'

    [tracing]='tracefs'
    [tracing_ok]='/sys/kernel/tracing jest zamontowany, a Ty jesteś rootem: punkt śledzenia signal:signal_generate jest dostępny'
    [tracing_mountable]='jesteś rootem, a jądro ma tracefs: mount -t tracefs nodev /sys/kernel/tracing go udostępni'
    [tracing_user]='jądro ma tracefs, ale do czytania go trzeba roota (sudo)'
    [tracing_none]='to jądro nie ma tracefs: żadnych punktów śledzenia jądra'
    [trace_tracefs]='make trace użyje zapisu prowadzonego przez samo jądro (tracefs; w razie potrzeby sam go zamontuje na czas działania)'
    [trace_strace]='make trace użyje strace -f (zapis jądra wymaga uprawnień roota)'
    [trace_none]='make trace nie może tu działać: %s'

    [container]='kontener'
    [container_in]='wewnątrz kontenera (%s): System V IPC ma tu własną przestrzeń nazw; tracefs wymaga roota i kontenera uruchomionego z --privileged, więc make trace użyje strace (README.pl.md, „W kontenerze”)'
    [bpftrace]='bpftrace'
    [bpftrace_ok]='%s: README etapu 3 odczytuje za jego pomocą ten sam punkt śledzenia (jako root, z zamontowanym tracefs)'
    [bpftrace_none]='nie ma bpftrace: README etapu 3 pokazuje za jego pomocą także werdykty jądra, jako root (opcjonalnie: sudo apt-get install bpftrace)'

    [git]='git'
    [git_none]='nie ma gita: make check-exercises, make solution i make reset go potrzebują'

    [all_here]='doctor: jest wszystko, czego potrzebują make demo i make test'
    [optional_missing]='doctor: do przepisów z README przydadzą się jeszcze: sudo apt-get install %s'
    [needed_missing]='doctor: make demo lub make test jeszcze nie zadziała: sudo apt-get install %s'
    [needed_fix]='doctor: make demo lub make test jeszcze nie zadziała: zobacz wiersze BRAK'
)

# shellcheck source=tools/i18n.sh
source "$root/tools/i18n.sh"

# ---------------------------------------------------------------------------
# Which bats make test uses.

bats_version() { "$1" --version 2>/dev/null | sed -n 's/^Bats \([0-9][0-9.]*\).*/\1/p'; }

# version_at_least HAVE WANT
version_at_least() { [ "$(printf '%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

# Where tests/helpers.bash finds Debian's (or a hand-installed) bats-support
# and bats-assert.
system_bats_libs() {
    local d
    for d in /usr/lib/bats /usr/local/lib/bats; do
        if [ -f "$d/bats-support/load.bash" ] && [ -f "$d/bats-assert/load.bash" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

# The bats on PATH if it is recent enough and its helpers are installed.
system_bats() {
    local b v
    b=$(command -v bats) || return 1
    v=$(bats_version "$b")
    [ -n "$v" ] && version_at_least "$v" "$BATS_MIN" && system_bats_libs >/dev/null && echo "$b"
}

choose_bats() { system_bats || echo "$BATS_NPM"; }

if [ "${1:-}" = --bats ]; then
    choose_bats
    exit 0
fi

# ---------------------------------------------------------------------------
# The report.

needed_pkgs=() optional_pkgs=() failed=0

# line STATUS CHECK DETAIL: one line of the report.
line() { printf '  %s %s %s\n' "$(pad 8 "$(msg "$1")")" "$(pad 11 "$(msg "$2")")" "$3"; }
ok() { line ok "$1" "$2"; }
note() { line note "$1" "$2"; }
# needed CHECK DETAIL PACKAGE...: something make demo or make test needs.
needed() {
    local check=$1 detail=$2
    shift 2
    [ $# -gt 0 ] && detail="$detail $(msg pkg "$*")"
    line missing "$check" "$detail"
    needed_pkgs+=("$@")
    failed=1
}
# optional CHECK DETAIL PACKAGE...: something only the READMEs' recipes use.
optional() {
    local check=$1 detail=$2
    shift 2
    [ $# -gt 0 ] && detail="$detail $(msg pkg "$*")"
    line absent "$check" "$detail"
    optional_pkgs+=("$@")
}

have() { command -v "$1" >/dev/null 2>&1; }

check_compiler() {
    local found=() c
    have gcc && found+=("gcc $(gcc -dumpfullversion 2>/dev/null)")
    have clang && found+=("clang $(clang --version 2>/dev/null | sed -n '1s/.*version \([0-9.]*\).*/\1/p')")
    if [ ${#found[@]} -eq 0 ] && ! have cc; then
        needed compiler "$(msg compiler_none)" build-essential
        return
    fi
    [ ${#found[@]} -eq 0 ] && found=(cc)
    local list
    list=$(printf '%s, ' "${found[@]}")
    list=${list%, }
    if ! have cc; then
        c=gcc
        have gcc || c=clang
        needed compiler "$(msg compiler_no_cc "$list" "$c")" build-essential
        return
    fi
    # the headers the daemons need, from the C library's development package
    if printf '#include <sys/sem.h>\n#include <sys/shm.h>\nint main(void) { return 0; }\n' |
        cc -x c -o /dev/null - >/dev/null 2>&1; then
        ok compiler "$(msg compiler_ok "$list")"
    else
        needed compiler "$(msg compiler_broken "cc")" build-essential
    fi
}

check_make() {
    if have make; then
        ok make "$(make --version 2>/dev/null | head -n 1)"
    else
        needed make "$(msg make_none)" make
    fi
}

# The commands the suites and the demo run, and their packages.
check_tools() {
    local -A pkg=([ps]=procps [timeout]=coreutils [setpriv]=util-linux [prlimit]=util-linux
        [unshare]=util-linux [awk]=mawk [sed]=sed [seq]=coreutils [mktemp]=coreutils)
    local cmd there=() gone=() pkgs=()
    for cmd in ps timeout setpriv prlimit unshare awk sed seq mktemp; do
        if have "$cmd"; then
            there+=("$cmd")
        else
            gone+=("$cmd")
            pkgs+=("${pkg[$cmd]}")
        fi
    done
    if [ ${#gone[@]} -eq 0 ]; then
        ok tools "$(msg tools_ok "${there[*]}")"
    else
        mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
        needed tools "$(msg tools_none "${gone[*]}")" "${pkgs[@]}"
    fi
}

check_proc() {
    local kernel os release
    kernel=$(uname -s)
    release=$(uname -r)
    if [ "$kernel" = Darwin ]; then
        needed proc "$(msg proc_macos)"
        return
    fi
    if [ ! -r /proc/self/stat ]; then
        needed proc "$(msg proc_none "$kernel")"
        return
    fi
    os=$(cat /proc/sys/kernel/osrelease 2>/dev/null)
    case $os in
    *microsoft-standard* | *WSL2*)
        ok proc "$(msg proc_wsl2 "$release")"
        ;;
    *Microsoft*)
        needed proc "$(msg proc_wsl1 "$os")"
        return
        ;;
    *)
        ok proc "$(msg proc_ok "$release")"
        ;;
    esac
    if [ ! -r /proc/sysvipc/shm ] || [ ! -r /proc/sysvipc/sem ]; then
        needed proc "$(msg proc_nosysv)"
    fi
}

check_ipc() {
    [ -r /proc/sysvipc/shm ] || return 0 # said by check_proc
    local shmmni sem semmni shm_used sem_used
    shmmni=$(cat /proc/sys/kernel/shmmni 2>/dev/null || echo 0)
    sem=$(tr -s ' \t' ' ' </proc/sys/kernel/sem 2>/dev/null)
    semmni=${sem##* }
    shm_used=$(($(wc -l </proc/sysvipc/shm) - 1))
    sem_used=$(($(wc -l </proc/sysvipc/sem) - 1))
    if [ "${shmmni:-0}" -lt 1 ] || [ "${semmni:-0}" -lt 1 ]; then
        needed ipc "$(msg ipc_zero "$shmmni" "$sem")"
    elif [ "$shm_used" -ge "$shmmni" ] || [ "$sem_used" -ge "$semmni" ]; then
        needed ipc "$(msg ipc_full "$shmmni" "$sem" "$shm_used" "$sem_used")"
    else
        ok ipc "$(msg ipc_ok "$shmmni" "$sem" "$shm_used" "$sem_used")"
    fi
}

check_ipcs() {
    if have ipcs && have ipcrm; then
        ok ipcs "$(ipcs -V 2>/dev/null | head -n 1)"
    else
        needed ipcs "$(msg tools_none "$(have ipcs || printf 'ipcs ')$(have ipcrm || printf 'ipcrm')")" util-linux
    fi
}

check_bats() {
    local sys v libs chosen npm_v detail=
    sys=$(command -v bats 2>/dev/null)
    if [ -n "$sys" ]; then
        v=$(bats_version "$sys")
        if ! version_at_least "${v:-0}" "$BATS_MIN"; then
            detail=$(msg bats_old "${v:-?}" "$BATS_MIN")
        elif ! system_bats_libs >/dev/null; then
            detail=$(msg bats_nolibs "$v")
        fi
    fi
    chosen=$(choose_bats)
    npm_v=$(sed -n 's/.*"bats": "\([^"]*\)".*/\1/p' "$root/tests/package.json")
    if [ "$chosen" != "$BATS_NPM" ]; then
        libs=$(system_bats_libs)
        ok bats "$(msg bats_system "$chosen" "$(bats_version "$chosen")" "$libs")"
    elif [ -x "$BATS_NPM" ]; then
        ok bats "$(msg bats_npm "bats $(bats_version "$BATS_NPM")")${detail:+; $detail}"
    elif have npm; then
        ok bats "$(msg bats_fetch "$npm_v" "$(npm --version 2>/dev/null)")${detail:+; $detail}"
    else
        needed bats "$(msg bats_none "$BATS_MIN" "$npm_v")${detail:+; $detail}" bats bats-support bats-assert
    fi
}

# The flavour of nc decides which options the READMEs' recipes may use.
check_nc() {
    local help
    if ! have nc; then
        if have ncat; then
            note nc "$(msg nc_ncat_only) $(msg pkg netcat-openbsd)"
        elif have busybox && busybox nc --help >/dev/null 2>&1; then
            note nc "$(msg nc_busybox) $(msg pkg netcat-openbsd)"
        else
            optional nc "$(msg nc_none)" netcat-openbsd
        fi
        return
    fi
    help=$( (nc -h; nc --version) </dev/null 2>&1 | head -n 5)
    case $help in
    *OpenBSD*) ok nc "$(msg nc_openbsd)" ;;
    *"[v1.10"*) ok nc "$(msg nc_traditional)" ;;
    *Ncat*) ok nc "$(msg nc_ncat)" ;;
    *BusyBox*) note nc "$(msg nc_busybox) $(msg pkg netcat-openbsd)" ;;
    *) note nc "$(msg nc_unknown "$(command -v nc)")" ;;
    esac
}

check_strace() {
    if ! have strace; then
        optional strace "$(msg strace_none)" strace
        return
    fi
    local version scope why target out
    version=$(strace -V 2>/dev/null | sed -n '1s/.* version \([0-9.]*\).*/strace \1/p')
    scope=$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo none)
    case $scope:$(id -u) in
    none:*) why=$(msg yama_none) ;;
    0:*) why=$(msg yama_0) ;;
    1:0) why=$(msg yama_1_root) ;;
    1:*) why=$(msg yama_1) ;;
    2:0) why=$(msg yama_2_root) ;;
    2:*) why=$(msg yama_2) ;;
    *) why=$(msg yama_3) ;;
    esac
    # Try it: attach to a child of this script, as strace -p in another
    # terminal would (a sibling, not strace's own descendant).
    sleep 5 &
    target=$!
    out=$(timeout 0.5 strace -qq -e trace=none -p "$target" 2>&1)
    local rc=$?
    kill "$target" 2>/dev/null
    wait "$target" 2>/dev/null
    if [ "$rc" -eq 124 ]; then
        ok strace "$(msg strace_attach "$version" "$why")"
    else
        note strace "$(msg strace_noattach "$version" "$why; $(msg attach_failed "${out%%$'\n'*}")")"
    fi
}

# Listening TCP ports 9001-9004, from /proc/net/tcp{,6}: no ss or lsof needed.
check_ports() {
    local port hex inode pid busy=() free=() f
    for port in 9001 9002 9003 9004; do
        printf -v hex '%04X' "$port"
        # local_address is ADDR:PORT in hex; st 0A is LISTEN; column 10 the inode
        inode=$(awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10; exit }' \
            /proc/net/tcp /proc/net/tcp6 2>/dev/null)
        if [ -z "$inode" ]; then
            free+=("$port")
            continue
        fi
        pid=
        for f in /proc/[0-9]*/fd/*; do
            if [ "$(readlink "$f" 2>/dev/null)" = "socket:[$inode]" ]; then
                pid=${f#/proc/}
                pid=${pid%%/*}
                break
            fi
        done
        if [ -n "$pid" ]; then
            busy+=("$(msg port_by "$port" "$pid" "$(ps -o args= -p "$pid" 2>/dev/null | cut -c1-40)")")
        else
            busy+=("$port")
        fi
    done
    if [ ${#busy[@]} -eq 0 ]; then
        ok ports "$(msg ports_free "${free[*]}")"
    else
        local list
        list=$(printf '%s, ' "${busy[@]}")
        note ports "$(msg ports_busy "${list%, }")"
    fi
}

# Kernel tracepoints (signal:signal_generate shows a lost SIGUSR2). Nothing
# is mounted here: tracefs listed in /proc/filesystems means mountable.
check_tracing() {
    if ! grep -qw tracefs /proc/filesystems 2>/dev/null; then
        note tracing "$(msg tracing_none)"
    elif [ "$(id -u)" -ne 0 ]; then
        note tracing "$(msg tracing_user)"
    elif [ -d /sys/kernel/tracing/events/signal ]; then
        ok tracing "$(msg tracing_ok)"
    else
        note tracing "$(msg tracing_mountable)"
    fi
    # make trace decides for itself (tracefs as root, else strace): ask it
    local source
    source=$("$(dirname "$0")/trace.sh" --which 2>&1) || true
    case $source in
    tracefs:*) note tracing "$(msg trace_tracefs)" ;;
    strace:*) note tracing "$(msg trace_strace)" ;;
    *) note tracing "$(msg trace_none "${source#*: }")" ;;
    esac
}

# Inside a container the tracing lines below read differently: say so first.
container_name() {
    if [ -n "${FORKD_CONTAINER:-}" ]; then
        echo "the course's development container"
    elif [ -f /run/.containerenv ]; then
        echo "podman"
    elif [ -f /.dockerenv ]; then
        echo "docker"
    else
        return 1
    fi
}
check_container() {
    local name
    name=$(container_name) && note container "$(msg container_in "$name")"
    return 0
}

# Optional, and large (it brings LLVM): a note, never a package to install.
check_bpftrace() {
    if have bpftrace; then
        ok bpftrace "$(msg bpftrace_ok "$(bpftrace --version 2>/dev/null | head -n 1)")"
    else
        note bpftrace "$(msg bpftrace_none)"
    fi
}

check_git() {
    if have git; then
        ok git "$(git --version)"
    else
        optional git "$(msg git_none)" git
    fi
}

msg title
echo
check_compiler
check_make
check_tools
check_proc
check_ipc
check_ipcs
check_bats
check_nc
check_strace
check_ports
check_container
check_tracing
check_bpftrace
check_git

if [ "$failed" -ne 0 ]; then
    if [ ${#needed_pkgs[@]} -gt 0 ]; then
        msg needed_missing "$(printf '%s\n' "${needed_pkgs[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//')"
    else
        msg needed_fix
    fi
    echo
else
    msg all_here
    echo
fi
if [ ${#optional_pkgs[@]} -gt 0 ]; then
    msg optional_missing "$(printf '%s\n' "${optional_pkgs[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//')"
    echo
fi
exit "$failed"
