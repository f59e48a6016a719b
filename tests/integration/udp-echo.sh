#!/bin/bash
# udp-echo.sh - UDP echo, both ways round, with datagrams of 1, 1472 (a full
# Ethernet frame), 8000 (fragmented) and 65,507 bytes (the most IPv4 carries:
# 45 fragments), over IPv4 and IPv6 (on Shunt, up to its documented IPv6
# limit, and that limit itself); and multicast: datagrams from a kernel
# sender to a group Shunt joined (IP_ADD_MEMBERSHIP) are echoed back by
# unicast, datagrams to a group it did not join are not.
# SHUNT_PATH=kernel|shunt picks the path (see lib.sh).
. "$(dirname "$0")/lib.sh"

path_up
group=239.9.0.1
# Every datagram must come back the first time ("0 sent again"): the link is
# idle and local, and the kernel path loses none.

# check_server_summary N: shunt-echo, stopped, echoed at least N datagrams
# (more if some were lost and sent again) and failed to send none.
check_server_summary() {
    local summary n
    summary=$(server_summary)
    n=$(grep -oE "udp: [0-9]+ datagrams" <<<"$summary" | grep -oE "[0-9]+")
    [ "${n:-0}" -ge "$1" ] || fail "server summary: '$summary', expected at least $1 datagrams echoed"
    grep -q ", 0 not$" <<<"$summary" || fail "server summary: '$summary': some echoes were not sent"
    echo "ok: $summary"
}

echo "== Shunt serves, the kernel sends"
# The interface address names the veth for the kernel path, whose own route
# to the group would be elsewhere; Shunt has only the one interface.
echo_server --join "$group,$TOPO_SHUNT4"
expect_ok "^peer: udp: ok: 3 datagrams each of 1, 1472, 8000, 65507 bytes.*, 0 sent again$" \
    peer_py udp "$TOPO_SHUNT4" 7 1 1472 8000 65507 --count 3
expect_ok "^peer: udp: ok: 3 datagrams each of 1, 1452, 8000 bytes.*, 0 sent again$" \
    peer_py udp "$TOPO_SHUNT6" 7 1 1452 8000 --count 3
expect_ok "^peer: mcast: ok: 3 datagrams.*, 0 sent again$" \
    peer_py mcast "$group" 7 --source "$TOPO_PEER4" --expect "$TOPO_SHUNT4" --count 3
expect_ok "^peer: mcast: ok: 3 datagrams to 239.9.0.2: no answer" \
    peer_py mcast 239.9.0.2 7 --source "$TOPO_PEER4" --expect-none --count 3
shunt_stop || fail "shunt-echo exited with an error"
check_server_summary 24    # 12 + 9 unicast, 3 multicast

echo "== Shunt sends, the kernel serves"
peer_start echo-server 7
for size in 1 1472 8000 65507; do
    expect_ok "^shunt-echo: verified $((size * 3)) bytes in 3 datagrams of $size bytes.*, 0 sent again$" \
        echo_client "$TOPO_PEER4" --udp -m "$size" -n $((size * 3))
done
for size in 1 1452 8000; do
    expect_ok "^shunt-echo: verified $((size * 3)) bytes in 3 datagrams of $size bytes.*, 0 sent again$" \
        echo_client "$TOPO_PEER6" --udp -m "$size" -n $((size * 3))
done

echo "== the largest datagrams over IPv6, both ways"
# Linux carries up to 65,527 bytes over IPv6.  Shunt, on purpose (README:
# "Where Shunt differs from Linux"), at most 65,487, because lwIP counts a
# whole packet in 16 bits: sendto says EMSGSIZE beyond it, and a bigger
# datagram arriving is dropped and counted (too_big), not a crash.
if [ "$SHUNT_PATH" = shunt ]; then
    big6=65487
    expect_error "sendto: Message too long" echo_client "$TOPO_PEER6" --udp -m 65488 -n 65488
else
    big6=65507
fi
expect_ok "^shunt-echo: verified $((big6 * 3)) bytes in 3 datagrams of $big6 bytes.*, 0 sent again$" \
    echo_client "$TOPO_PEER6" --udp -m $big6 -n $((big6 * 3))
peer_stop || fail "peer.py echo-server exited with an error"
echo_server
expect_ok "^peer: udp: ok: 3 datagrams each of $big6 bytes.*, 0 sent again$" peer_py udp "$TOPO_SHUNT6" 7 $big6 --count 3
if [ "$SHUNT_PATH" = shunt ]; then
    expect_ok "^peer: udp: ok: 1 datagrams each of 65507 bytes: no answer" \
        peer_py udp "$TOPO_SHUNT6" 7 65507 --count 1 --expect-none
    # ... and Shunt still serves.
    expect_ok "^peer: udp: ok: 1 datagrams each of 8000 bytes.*, 0 sent again$" peer_py udp "$TOPO_SHUNT6" 7 8000 --count 1
fi
shunt_stop || fail "shunt-echo exited with an error"
check_server_summary 3
if [ "$SHUNT_PATH" = shunt ]; then
    [ "$(counter too_big)" -ge 1 ] || fail "the 65,507-byte IPv6 datagram was not counted too_big"
    echo "ok: too_big=$(counter too_big)"
fi
