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

# Each client run below adds the connections it makes as it starts, and each
# server's summary must show that sum: adding or removing a run keeps the
# checks right.
to_shunt=0              # connections peer.py's runs make to shunt-echo
to_peer=0               # connections shunt-echo --client's runs make to peer.py

# conns_of ARGS...: the connections a client run with these arguments makes:
# N for --conns N, else one.
conns_of() {
    local n=1
    while [ $# -gt 0 ]; do
        case $1 in
        --conns) n=$2; shift ;;
        --conns=*) n=${1#--conns=} ;;
        esac
        shift
    done
    echo "$n"
}

# peer_to_shunt PATTERN ARGS...: expect_ok PATTERN peer_py ARGS..., its
# connections counted in to_shunt (for the peer.py commands known here).
peer_to_shunt() {
    local pattern=$1
    shift
    case $1 in
    tcp-bulk|tcp-halfclose) ;;                  # one connection each
    tcp-many)                                   # peer.py's default is not one
        [[ " $* " == *" --conns "* || " $* " == *" --conns="* ]] ||
            fail "peer.py tcp-many: say --conns N, so its connections are counted" ;;
    *) fail "peer_to_shunt: how many connections peer.py $1 makes is not known here" ;;
    esac
    to_shunt=$((to_shunt + $(conns_of "$@")))
    expect_ok "$pattern" peer_py "$@"
}

# shunt_to_peer PATTERN ARGS...: expect_ok PATTERN echo_client ARGS..., its
# connections counted in to_peer.
shunt_to_peer() {
    local pattern=$1
    shift
    to_peer=$((to_peer + $(conns_of "$@")))
    expect_ok "$pattern" echo_client "$@"
}

path_up

echo "== Shunt serves, the kernel connects"
echo_server
peer_to_shunt "^peer: tcp-bulk: ok: 104857600 bytes" tcp-bulk "$TOPO_SHUNT4" 7 104857600
peer_to_shunt "^peer: tcp-bulk: ok: 10485760 bytes" tcp-bulk "$TOPO_SHUNT6" 7 10485760
peer_to_shunt "^peer: tcp-many: ok: 10000 connections" tcp-many "$TOPO_SHUNT4" 7 --conns 10000 --bytes 1000
peer_to_shunt "^peer: tcp-halfclose: ok" tcp-halfclose "$TOPO_SHUNT4" 7 100000
peer_to_shunt "^peer: tcp-halfclose: ok" tcp-halfclose "$TOPO_SHUNT6" 7 100000
shunt_stop || fail "shunt-echo exited with an error"
# Every connection ended by the book: echoed, closed, none reset or failed.
summary=$(server_summary)
grep -qE "tcp: $to_shunt connections accepted, $to_shunt closed, 0 reset by the peer, 0 failed" <<<"$summary" ||
    fail "server summary: '$summary', expected $to_shunt connections (the runs above) accepted and closed, none reset or failed"
echo "ok: $summary"

echo "== Shunt connects, the kernel serves"
peer_start echo-server 7
shunt_to_peer "^shunt-echo: verified 104857600 bytes over 1 connection" \
    "$TOPO_PEER4" -n 104857600 -m 65536
shunt_to_peer "^shunt-echo: verified 10485760 bytes over 1 connection" "$TOPO_PEER6" -n 10485760
shunt_to_peer "^shunt-echo: verified 10000000 bytes over 10000 connections" \
    "$TOPO_PEER4" --conns 10000 -n 1000
# One write and our FIN right behind it: the echo comes after the FIN.
shunt_to_peer "^shunt-echo: verified 100000 bytes over 1 connection" "$TOPO_PEER4" -n 100000 -m 100000
peer_stop || fail "peer.py echo-server exited with an error"
summary=$(grep "^peer: echo-server: tcp:" "$WORK/peer.log")
grep -qE "tcp: $to_peer accepted, 0 reset by the peer, 0 failed" <<<"$summary" ||
    fail "peer summary: '$summary', expected $to_peer connections (the runs above), none reset or failed"
echo "ok: $summary"
