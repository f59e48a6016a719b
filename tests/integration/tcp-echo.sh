#!/bin/bash
# tcp-echo.sh - TCP echo, byte for byte, both ways round:
#   Shunt serves (shunt-echo), the kernel is the client (peer.py):
#     100 MB over IPv4 and 10 MB over IPv6, sent while the echo is read
#     (sha256 compared); 10,000 connections at once; a half-close (the whole
#     echo comes after the client's FIN)
#   Shunt is the client (shunt-echo --client), the kernel serves (peer.py):
#     the same, every byte checked against the regenerated stream
# SHUNT_PATH=kernel|shunt picks the path (see lib.sh).
. "$(dirname "$0")/lib.sh"

path_up

echo "== Shunt serves, the kernel connects"
echo_server
expect_ok "^peer: tcp-bulk: ok: 104857600 bytes" peer_py tcp-bulk "$TOPO_SHUNT4" 7 104857600
expect_ok "^peer: tcp-bulk: ok: 10485760 bytes" peer_py tcp-bulk "$TOPO_SHUNT6" 7 10485760
expect_ok "^peer: tcp-many: ok: 10000 connections" peer_py tcp-many "$TOPO_SHUNT4" 7 --conns 10000 --bytes 1000
expect_ok "^peer: tcp-halfclose: ok" peer_py tcp-halfclose "$TOPO_SHUNT4" 7 100000
expect_ok "^peer: tcp-halfclose: ok" peer_py tcp-halfclose "$TOPO_SHUNT6" 7 100000
shunt_stop || fail "shunt-echo exited with an error"
# Every connection ended by the book: echoed, closed, none reset or failed.
summary=$(server_summary)
grep -qE "tcp: 10004 connections accepted, 10004 closed, 0 reset by the peer, 0 failed" <<<"$summary" ||
    fail "server summary: '$summary', expected 10004 connections accepted and closed, none reset or failed"
echo "ok: $summary"

echo "== Shunt connects, the kernel serves"
peer_start echo-server 7
expect_ok "^shunt-echo: verified 104857600 bytes over 1 connection" \
    echo_client "$TOPO_PEER4" -n 104857600 -m 65536
expect_ok "^shunt-echo: verified 10485760 bytes over 1 connection" echo_client "$TOPO_PEER6" -n 10485760
expect_ok "^shunt-echo: verified 10000000 bytes over 10000 connections" \
    echo_client "$TOPO_PEER4" --conns 10000 -n 1000
# One write and our FIN right behind it: the echo comes after the FIN.
expect_ok "^shunt-echo: verified 100000 bytes over 1 connection" echo_client "$TOPO_PEER4" -n 100000 -m 100000
peer_stop || fail "peer.py echo-server exited with an error"
summary=$(grep "^peer: echo-server: tcp:" "$WORK/peer.log")
grep -qE "tcp: 10003 accepted, 0 reset by the peer, 0 failed" <<<"$summary" ||
    fail "peer summary: '$summary', expected 10003 connections, none reset or failed"
echo "ok: $summary"
