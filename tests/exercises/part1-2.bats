#!/usr/bin/env bats
# Exercise part1-2 (part1-fork/README.md): the double fork. Passes when the
# process that serves a client is not the daemon's child, and no zombie
# stays under the daemon.

load checker
setup_file() { build_stages_if_needed; }

msg_en+=(
    [t_grandchild]='part1-2: the server process is a grandchild, adopted by someone else'
    [t_no_zombie]='part1-2: after 10 clients, no zombie under the daemon'
    [server_gone]='the greeting names pid %s as the process serving the client, but no such process runs while the client is still connected'
    [server_is_child]="the process serving the client (pid %s) is the daemon's own child (its parent is the daemon, pid %s), expected a grandchild: the child should fork again and _exit at once, so that init or a subreaper adopts the grandchild"
    [quit]="QUIT got '%s', expected BYE"
    [children_left]='after 10 finished sessions, the daemon still has children: %s (zombies among them: %s), expected none: the daemon should waitpid() for each short-lived middle child as soon as it has forked it'
)
msg_pl+=(
    [t_grandchild]='part1-2: klienta obsługuje wnuk daemona, adoptowany przez inny proces'
    [t_no_zombie]='part1-2: po 10 klientach pod daemonem nie zostaje żaden zombie'
    [server_gone]='powitanie podaje pid %s jako proces obsługujący klienta, ale taki proces nie działa, choć klient jest wciąż połączony'
    [server_is_child]='proces obsługujący klienta (pid %s) jest procesem dziecka samego daemona (jego rodzicem jest daemon, pid %s), a powinien być wnukiem: proces dziecka ma wywołać fork jeszcze raz i od razu _exit, żeby wnuka adoptował init albo subreaper'
    [quit]="na QUIT przyszło '%s', a powinno BYE"
    [children_left]='po 10 zakończonych sesjach daemon ma wciąż procesy dzieci: %s (w tym zombie: %s), a nie powinien mieć żadnego: daemon ma wywołać waitpid() dla każdego krótko żyjącego procesu dziecka zaraz po jego utworzeniu'
)

@test "$(msg t_grandchild)" {
    local server parent
    start_daemon part1-fork
    connect_greeted "$DPORT"
    server=$(field_of "$GREETING" pid)
    alive "$server" || fail_because server_gone "$server"
    parent=$(ps -o ppid= -p "$server" | tr -d ' ')
    [ "$parent" != "$DPID" ] || fail_because server_is_child "$server" "$DPID"
    send_line "$CONN" QUIT
    read_line "$CONN" || true
    [ "$LINE" = BYE ] || fail_because quit "$LINE"
}

@test "$(msg t_no_zombie)" {
    local i
    start_daemon part1-fork
    for i in $(seq 10); do ping_session "$DPORT"; done
    if ! within 3000 no_children "$DPID"; then
        show_children
        fail_because children_left "$(count_children "$DPID")" "$(count_zombies "$DPID")"
    fi
}
