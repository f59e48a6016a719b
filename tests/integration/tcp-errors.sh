#!/bin/bash
# tcp-errors.sh - TCP when things go wrong, both ways round:
#   a reset from the kernel client: the Shunt server sees ECONNRESET and goes
#   on serving; a reset from the Shunt client: the kernel server sees it
#   connection refused: to a Shunt port nobody listens on, and from a kernel one
#   non-blocking connect (and its refusal, reported through SO_ERROR)
#   listen backlog overflow: a Shunt listener that never accepts completes
#   at most backlog + 1 handshakes; later SYNs get no answer at all
# SHUNT_PATH=kernel|shunt picks the path (see lib.sh).
. "$(dirname "$0")/lib.sh"

path_up

echo "== Shunt serves, the kernel connects"
echo_server
expect_ok "^peer: tcp-reset: ok" peer_py tcp-reset "$TOPO_SHUNT4" 7
wait_for_line "$WORK/shunt.log" "^shunt-echo: tcp .*: Connection reset by peer" 5 ||
    fail "shunt-echo did not see the reset (ECONNRESET) within 5 s"
echo "ok: $(grep "Connection reset by peer" "$WORK/shunt.log")"
# ... and goes on serving.
expect_ok "^peer: tcp-halfclose: ok" peer_py tcp-halfclose "$TOPO_SHUNT4" 7 1000
expect_ok "^peer: tcp-refused: ok" peer_py tcp-refused "$TOPO_SHUNT4" 9
expect_ok "^peer: tcp-refused: ok" peer_py tcp-refused "$TOPO_SHUNT6" 9
# peer.py connects without blocking, and checks SO_ERROR.
expect_ok "^peer: tcp-many: ok: 10 connections" peer_py tcp-many "$TOPO_SHUNT4" 7 --conns 10 --bytes 100000
shunt_stop || fail "shunt-echo exited with an error"
summary=$(server_summary)
grep -qE "tcp: 12 connections accepted, 12 closed, 1 reset by the peer, 0 failed" <<<"$summary" ||
    fail "server summary: '$summary', expected 12 connections accepted and closed, 1 reset"
echo "ok: $summary"

echo "== a Shunt listener with backlog 2 that never accepts"
echo_server --no-accept -b 2
expect_ok "^peer: backlog: ok" peer_py backlog "$TOPO_SHUNT4" 7 --backlog 2 --attempts 6 --wait 1
shunt_stop || fail "shunt-echo exited with an error"
grep -qE "tcp: 0 connections accepted" <<<"$(server_summary)" || fail "shunt-echo accepted with --no-accept"

echo "== Shunt connects, the kernel serves"
peer_start echo-server 7
expect_ok "^shunt-echo: connected to .*, closed with a reset" echo_client "$TOPO_PEER4" --abort
wait_for_line "$WORK/peer.log" "^peer: echo-server: tcp .*: ECONNRESET" 5 ||
    fail "the kernel server did not see the reset (ECONNRESET) within 5 s"
echo "ok: $(grep ECONNRESET "$WORK/peer.log")"
expect_error "connect: Connection refused" echo_client "$TOPO_PEER4" -p 9
expect_error "connect: Connection refused" echo_client "$TOPO_PEER6" -p 9
expect_error "connect: Connection refused" echo_client "$TOPO_PEER4" -p 9 --nonblock-connect
expect_ok "^shunt-echo: verified 1000000 bytes over 10 connections" \
    echo_client "$TOPO_PEER4" --nonblock-connect --conns 10 -n 100000
expect_ok "^shunt-echo: verified 1000000 bytes over 1 connection" \
    echo_client "$TOPO_PEER6" --nonblock-connect -n 1000000
peer_stop || fail "peer.py echo-server exited with an error"
summary=$(grep "^peer: echo-server: tcp:" "$WORK/peer.log")
grep -qE "tcp: 12 accepted, 1 reset by the peer, 0 failed" <<<"$summary" ||
    fail "peer summary: '$summary', expected 12 connections, 1 reset"
echo "ok: $summary"
