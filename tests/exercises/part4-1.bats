#!/usr/bin/env bats
# Exercise part4-1 (part4-shm-semaphore/README.md): the counting semaphore
# with SEM_UNDO is the counter; no shared memory. Passes when the daemon
# creates no segment, logs "ipc sem=N", counts exactly through a frozen
# burst and kill -9s, and removes its semaphore when it stops.

load checker
setup_file() { build_stages_if_needed; }

msg_en+=(
    [t_objects]="part4-1: no shared memory segment; one semaphore, logged as 'ipc sem=N'"
    [t_exact]='part4-1: a frozen burst of 5 and three kill -9: the count stays exact'
    [t_removed]='part4-1: SIGTERM removes the semaphore'
    [segments]='shared memory segments the daemon created'
    [why_segments]='the semaphore alone is the counter now: no shmget, no shmat'
    [no_ipc_line]="no line 'ipc sem=N' in the log, expected the semaphore's id logged at start (the log has: %s)"
    [no_sem]="the log names semaphore %s, but /proc/sysvipc/sem has no such id"
    [not_reaped]='%s children are still under the daemon, expected none: it must still reap every ended child'
    [drift_burst]="after a frozen burst of 5 children that ended normally (round %s), a lone client got '%s', expected active=1 max=5: their slots did not come back; here nothing but the kernel gives a slot back, when the child that adopted it with SEM_UNDO ends (normally or not)"
    [drift_killed]="after 3 children killed with kill -9 and nobody connected, a client got '%s', expected active=1 max=5: a child adopts its slot with SEM_UNDO, and the kernel returns it however the child ends"
    [busy]="with -m 5 and 5 clients connected, the next got '%s', expected 'BUSY active=5 max=5': a slot is taken with semop(-1, IPC_NOWAIT), and EAGAIN means BUSY"
    [not_stopped]='the daemon did not exit within %s ms of SIGTERM'
    [sem_left]='the semaphore %s still exists after the daemon stopped on SIGTERM, expected it removed: semctl(IPC_RMID) at exit, or it stays until reboot or ipcrm'
    [none]='nothing'
)
msg_pl+=(
    [t_objects]="part4-1: żadnego segmentu pamięci współdzielonej; jeden semafor, zalogowany jako 'ipc sem=N'"
    [t_exact]='part4-1: zamrożona seria 5 i trzy kill -9: licznik zostaje dokładny'
    [t_removed]='part4-1: SIGTERM usuwa semafor'
    [segments]='segmenty pamięci współdzielonej utworzone przez daemona'
    [why_segments]='licznikiem jest teraz sam semafor: bez shmget i bez shmat'
    [no_ipc_line]="w logu nie ma wiersza 'ipc sem=N', a przy starcie powinien się tam znaleźć identyfikator semafora (log ma: %s)"
    [no_sem]="log podaje semafor %s, ale w /proc/sysvipc/sem nie ma takiego identyfikatora"
    [not_reaped]='pod daemonem wciąż są procesy dzieci (%s), a nie powinno być żadnego: daemon ma nadal zbierać każdy zakończony proces dziecka'
    [drift_burst]="po zamrożonej serii 5 procesów dzieci zakończonych normalnie (runda %s) samotny klient dostał '%s', a powinien active=1 max=5: ich miejsca nie wróciły; tu miejsce oddaje tylko jądro, gdy kończy się (normalnie czy nie) proces dziecka, który przejął je z SEM_UNDO"
    [drift_killed]="po zabiciu 3 procesów dzieci przez kill -9, gdy nikt nie był połączony, klient dostał '%s', a powinien active=1 max=5: proces dziecka przejmuje swoje miejsce z SEM_UNDO, a jądro zwraca je niezależnie od tego, jak proces dziecka się zakończy"
    [busy]="przy -m 5 i 5 połączonych klientach następny dostał '%s', a powinien 'BUSY active=5 max=5': miejsce zajmuje semop(-1, IPC_NOWAIT), a EAGAIN oznacza BUSY"
    [not_stopped]='daemon nie zakończył się w ciągu %s ms od SIGTERM'
    [sem_left]='semafor %s wciąż istnieje po zatrzymaniu daemona przez SIGTERM, a powinien zniknąć: semctl(IPC_RMID) przy wyjściu, inaczej zostaje do restartu systemu albo ipcrm'
    [none]='nic'
)

SEMID=
sem_from_log() {
    local seen
    if ! within 3000 grep -q 'ipc sem=[0-9]' "$DLOG"; then
        seen=$(grep -o 'ipc .*' "$DLOG" | head -n 1)
        fail_because no_ipc_line "${seen:-$(msg none)}"
        return 1
    fi
    SEMID=$(sed -n 's/.*ipc sem=\([0-9]*\).*/\1/p' "$DLOG" | head -n 1)
}
teardown() {
    teardown_daemons
    [ -n "$SEMID" ] && sem_exists "$SEMID" && ipcrm -s "$SEMID"
    return 0
}
# Segments created by a process: column 5 of /proc/sysvipc/shm is the creator's pid.
segments_of() { awk -v pid="$1" 'NR > 1 && $5 == pid' /proc/sysvipc/shm | wc -l; }

@test "$(msg t_objects)" {
    start_daemon part4-shm-semaphore -m 5
    expect "$(msg segments)" "$(segments_of "$DPID")" 0 "$(msg why_segments)"
    sem_from_log
    sem_exists "$SEMID" || fail_because no_sem "$SEMID"
}

@test "$(msg t_exact)" {
    start_daemon part4-shm-semaphore -m 5
    sem_from_log
    slots_come_back
    hold 5 "$DPORT"
    connect "$DPORT"
    read_line "$CONN" || true
    [ "$LINE" = "BUSY active=5 max=5" ] || fail_because busy "$LINE"
}

@test "$(msg t_removed)" {
    start_daemon part4-shm-semaphore
    sem_from_log
    kill -TERM "$DPID"
    within 2000 gone_or_zombie "$DPID" || fail_because not_stopped "$(scaled 2000)"
    ! sem_exists "$SEMID" || fail_because sem_left "$SEMID"
}
