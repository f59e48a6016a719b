#!/bin/bash
# idle.sh - the loop's poll modes (stack/idle.h) on AF_XDP, the kernel as the
# peer: under poll = spin-then-sleep an idle shunt-echo sleeps (well under a
# core: < 20 % of one over a second and a half) and still answers a message
# sent after an idle second, byte for byte, over TCP and UDP; under poll = spin
# (the default) it spins (> 50 % of a core).  The margins are wide: the
# machine is shared, and this checks what each mode does, not how fast.
. "$(dirname "$0")/lib.sh"

# idle_then_echo: over TCP, a message, an idle second, another message (each
# echoed byte for byte); the same over UDP.
idle_then_echo() {
    peer /usr/bin/python3 - "$TOPO_SHUNT4" <<'PY'
import os, socket, sys, time
host = sys.argv[1]
t = socket.create_connection((host, 7), timeout=5)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
for round in range(2):
    msg = os.urandom(64)
    t.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = t.recv(len(msg) - len(got))
        if not chunk:
            sys.exit("tcp: connection closed")
        got += chunk
    if got != msg:
        sys.exit("tcp: echo differs in round %d" % round)
    u.sendto(msg, (host, 7))
    if u.recv(2048) != msg:
        sys.exit("udp: echo differs in round %d" % round)
    if round == 0:
        time.sleep(1.0)
print("idle-echo: ok: tcp and udp echoed byte for byte after an idle second")
PY
}

# below MODE LIMIT: an idle shunt-echo's share of a core is under LIMIT %.
below() {
    local pct
    pct=$(cpu_pct "$SHUNT_PID" 1.5)
    [ "${pct%.*}" -lt "$2" ] || fail "idle under $1, shunt-echo used $pct % of a core (want under $2)"
    echo "ok: idle under $1: $pct % of a core"
}

echo "== poll = spin-then-sleep"
tb_up "poll = spin-then-sleep" "spin_us = 50"
grep -q "wakes the loop by its sockets" "$WORK/shunt.log" ||
    fail "the log does not say the AF_XDP socket wakes the loop"
expect_output "idle-echo: ok" idle_then_echo
sleep 0.5
below spin-then-sleep 20
expect_output "idle-echo: ok" idle_then_echo
shunt_stop || fail "shunt-echo exited with an error"

# sleeps PID SECONDS: how often PID's main thread gave up its core of its
# own accord (a sleep, a blocking call) over the next SECONDS.  A spinning
# loop never does, however many other jobs share the core - unlike its
# share of the core, which they decide.
sleeps() {
    local f=/proc/$1/task/$1/status before after
    before=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$f")
    sleep "$2"
    after=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$f")
    echo $((after - before))
}

echo "== poll = spin"
tb_up
n=$(sleeps "$SHUNT_PID" 1.5)
[ "$n" -lt 5 ] || fail "idle under spin, the loop slept $n times in 1.5 s (want none)"
echo "ok: idle under spin: the loop slept $n times in 1.5 s"
expect_output "idle-echo: ok" idle_then_echo
shunt_stop || fail "shunt-echo exited with an error"
echo "PASS: $TEST_NAME"
