#!/usr/bin/env bash
# tests/docs/selftest.sh: proves that check-docs.sh fails when it should.
# Each case is a small Markdown file with one kind of broken recipe (or a
# good one); check-docs.sh runs on it, and its status and report must say
# what went wrong. Run by make check-docs before the READMEs are checked.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/forkd-docs-selftest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0 cases=0

# case NAME WANT_STATUS WANT_TEXT: check-docs.sh on $tmp/NAME.md (and its
# twin); it must exit WANT_STATUS and print WANT_TEXT.
case_() {
    local name=$1 want=$2 text=$3 out status files=("$tmp/$1.md")
    cases=$((cases + 1))
    [ -f "$tmp/$1.pl.md" ] && files+=("$tmp/$1.pl.md")
    out=$(tests/docs/check-docs.sh "${files[@]}" 2>&1)
    status=$?
    if [ "$status" = "$want" ] && grep -qF -- "$text" <<<"$out"; then
        echo "  ok    $name: exit $status, \"$text\""
    else
        echo "  FAIL  $name: exit $status (wanted $want), \"$text\" $(grep -qF -- "$text" <<<"$out" && echo found || echo 'not found'):"
        sed 's/^/        | /' <<<"$out"
        failures=$((failures + 1))
    fi
}
md() { cat >"$tmp/$1.md"; }
fence='```'

md good <<MD
<!-- check: run expect="hello" lines="^h=1" -->
${fence}sh
echo hello                 # a comment
${fence}

<!-- check: exempt "a reason" -->
${fence}sh
rm -rf /
${fence}
MD
case_ good 0 "exempt:   1"

md unmarked <<MD
${fence}sh
echo hello
${fence}
MD
case_ unmarked 1 "unmarked: put <!-- check"

md expect <<MD
<!-- check: run expect="goodbye" -->
${fence}sh
echo hello
${fence}
MD
case_ expect 1 'no "goodbye" in the output'

md lines <<MD
<!-- check: run lines="^x=2" -->
${fence}sh
echo x
${fence}
MD
case_ lines 1 "1 lines match /^x/, expected 2"

md failing <<MD
<!-- check: run expect="after" -->
${fence}sh
ls /nonexistent-forkd
echo after
${fence}
MD
case_ failing 1 "exit status 2 from: ls /nonexistent-forkd"

md allowed <<MD
<!-- check: run allow="ls" expect="after" -->
${fence}sh
ls /nonexistent-forkd
echo after
${fence}
MD
case_ allowed 0 "passed 1"

md leak <<MD
<!-- check: run -->
${fence}sh
sleep 300 &
${fence}
MD
case_ leak 1 "left running:"

md tmpfile <<MD
<!-- check: run -->
${fence}sh
touch /tmp/forkd-docs-selftest.left
${fence}
MD
case_ tmpfile 1 "left /tmp/forkd-docs-selftest.left behind"
[ ! -e /tmp/forkd-docs-selftest.left ] || {
    echo "  FAIL  tmpfile: the check did not remove what the recipe left"
    failures=$((failures + 1))
    rm -f /tmp/forkd-docs-selftest.left
}

# A System V object left behind. Only in a private IPC namespace (root):
# on this machine's own IPC the check reports it but may not remove it.
if [ "$(id -u)" = 0 ] && unshare --ipc true 2>/dev/null; then
md ipc <<MD
<!-- check: run session=s expect="listening on" -->
${fence}sh
./part4-shm-semaphore/daemon -p 0 -l /tmp/forkd-docs-selftest.log   # listening on 127.0.0.1:9004 pid=4242
${fence}

<!-- check: run session=s set="4242=pid" leaves="/tmp/forkd-docs-selftest.log" -->
${fence}sh
kill -9 4242
${fence}
MD
case_ ipc 1 "System V"
else
    echo "  --    ipc: not tried: needs root and unshare --ipc (a private IPC namespace)"
fi

md serve <<MD
<!-- check: serve -->
${fence}sh
./part1-fork/daemon -f -p 0
${fence}

<!-- check: serve -->
${fence}sh
sleep 0.2
${fence}
MD
case_ serve 1 "no listening line from: sleep 0.2"

md with <<MD
<!-- check: run with='./part2-zombies/daemon -f -p 0' -->
${fence}sh
true
${fence}
MD
case_ with 1 "is not a command of any shell block"

cat >"$tmp/drift.sh" <<'SH'
echo one
SH
md script <<MD
<!-- check: script $tmp/drift.sh -->
${fence}sh
echo one
echo two
${fence}
MD
case_ script 1 "does not hold, as a line of its own: echo two"

cat >"$tmp/plays.sh" <<'SH'
# plays both terminals
echo one   # the first
echo two
SH
md console <<MD
<!-- check: run expect="one" lines="^two\$=1" -->
${fence}console
\$ echo one
one
\$ echo two   # a comment
two
${fence}

<!-- check: script $tmp/plays.sh -->
${fence}sh
echo one
echo two
${fence}
MD
case_ console 0 "passed 2"

md stray <<MD
<!-- check: run -->

${fence}sh
echo hello
${fence}
MD
case_ stray 1 "a check marker with no fenced block on the next line"

md twin <<MD
# One

<!-- check: run expect="PONG" -->
${fence}sh
echo PONG   # the answer
${fence}
MD
cat >"$tmp/twin.pl.md" <<MD
# Jeden

${fence}sh
echo PING   # odpowiedź
${fence}
MD
case_ twin 1 "pl: echo PING"

# the same commands, but a paragraph moved: the Polish page reads in
# another order than the English one (issue 19: the "make exercise"
# paragraph had drifted below the exercise list)
md moved <<MD
# One

*Polska wersja: [moved.pl.md](moved.pl.md).*

How to check your work:

- one
- two

The end.
MD
cat >"$tmp/moved.pl.md" <<MD
# Jeden

*English: [moved.md](moved.md).*

*Po polsku: a second note, Polish only.*

- jeden
- dwa

Jak sprawdzić swoją pracę:

Koniec.
MD
case_ moved 1 "shape: the blocks of text differ in kind or order"
cat >"$tmp/moved.pl.md" <<MD
# Jeden

*English: [moved.md](moved.md).*

*Po polsku: a second note, Polish only.*

Jak sprawdzić swoją pracę:

- jeden
- dwa

Koniec.
MD
case_ moved 0 "same headings, blocks of text in order"

echo "selftest: $cases cases, $failures failed"
[ "$failures" = 0 ]
