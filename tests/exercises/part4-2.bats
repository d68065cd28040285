#!/usr/bin/env bats
# Exercise part4-2 (part4-shm-semaphore/README.md): an anonymous shared
# mapping and an unnamed POSIX semaphore; no System V. Passes when starting
# the daemon creates no System V object and no /dev/shm file, and it counts
# exactly through a frozen burst and kill -9s.

load checker
setup_file() { build_stages_if_needed; }

msg_en+=(
    [t_objects]='part4-2: no System V object, no /dev/shm file'
    [t_exact]='part4-2: a frozen burst of 5 and three kill -9: the count stays exact'
    [sysv]='System V objects (segments and semaphore sets) created while the daemon started and served a client'
    [why_sysv]='the counter and its lock belong in an anonymous shared mapping, mmap(MAP_SHARED | MAP_ANONYMOUS), made before any fork'
    [dev_shm]='new files in /dev/shm'
    [why_dev_shm]='shm_open and sem_open name a file there; sem_init on a semaphore inside the mapping does not'
    [not_reaped]='%s children are still under the daemon, expected none: it must still reap every ended child'
    [drift_burst]="after a frozen burst of 5 children that ended normally (round %s), a lone client got '%s', expected active=1 max=5: the slots they gave back did not all reach the counter the parent reads; is the counter's memory shared between the parent and its children?"
    [drift_killed]="after 3 children killed with kill -9 and nobody connected, a client got '%s', expected active=1 max=5: a child killed by a signal never gives its slot back itself: the parent must, when it reaps it"
)
msg_pl+=(
    [t_objects]='part4-2: żadnego obiektu System V, żadnego pliku w /dev/shm'
    [t_exact]='part4-2: zamrożona seria 5 i trzy kill -9: licznik zostaje dokładny'
    [sysv]='obiekty System V (segmenty i zbiory semaforów) utworzone, gdy daemon startował i obsłużył klienta'
    [why_sysv]='licznik i jego blokada należą do anonimowego odwzorowania współdzielonego, mmap(MAP_SHARED | MAP_ANONYMOUS), utworzonego przed pierwszym fork'
    [dev_shm]='nowe pliki w /dev/shm'
    [why_dev_shm]='shm_open i sem_open tworzą tam plik z nazwą; sem_init na semaforze wewnątrz odwzorowania nie tworzy żadnego'
    [not_reaped]='pod daemonem wciąż są procesy dzieci (%s), a nie powinno być żadnego: daemon ma nadal zbierać każdy zakończony proces dziecka'
    [drift_burst]="po zamrożonej serii 5 procesów dzieci zakończonych normalnie (runda %s) samotny klient dostał '%s', a powinien active=1 max=5: nie wszystkie oddane przez nie miejsca dotarły do licznika odczytywanego przez proces główny; czy pamięć licznika jest współdzielona między procesem głównym a procesami dzieci?"
    [drift_killed]="po zabiciu 3 procesów dzieci przez kill -9, gdy nikt nie był połączony, klient dostał '%s', a powinien active=1 max=5: proces dziecka zabity sygnałem sam nie odda miejsca: musi to zrobić proces główny, gdy go zbiera"
)

dev_shm_files() { find /dev/shm -maxdepth 1 -type f 2>/dev/null | sort; }
# The System V objects now: "shm ID CREATOR" and "sem ID" lines (semaphore
# sets have no creator pid in /proc).
sysv_objects() {
    awk 'NR > 1 { print "shm", $2, $5 }' /proc/sysvipc/shm
    awk 'NR > 1 { print "sem", $2 }' /proc/sysvipc/sem
}
# new_sysv_objects BEFORE: how many objects appeared since BEFORE, counting
# segments only if the daemon created them (other tests may run meanwhile).
new_sysv_objects() {
    comm -13 <(sort <<<"$1") <(sysv_objects | sort) |
        awk -v pid="$DPID" '$1 == "sem" || $3 == pid' | wc -l
}

@test "$(msg t_objects)" {
    local ipc_before shm_before
    ipc_before=$(sysv_objects)
    shm_before=$(dev_shm_files)
    start_daemon part4-shm-semaphore -m 5
    ping_session "$DPORT"
    expect "$(msg sysv)" "$(new_sysv_objects "$ipc_before")" 0 "$(msg why_sysv)"
    expect "$(msg dev_shm)" "$(comm -13 <(echo "$shm_before") <(dev_shm_files) | grep -c . || true)" 0 \
        "$(msg why_dev_shm)"
}

@test "$(msg t_exact)" {
    start_daemon part4-shm-semaphore -m 5
    slots_come_back
}
