#!/bin/bash
# iperf3.sh - Debian's iperf3, unchanged, on Shunt under shunt-run: the
# server (one IPv6 socket with IPV6_V6ONLY=0 carrying IPv4, listen(INT_MAX),
# select() through the fortified FD_SET, TCP_INFO and TCP_CONGESTION
# queries, connected UDP) against the kernel's iperf3 -c in the peer's
# namespace - TCP both ways, and UDP; then iperf3 -c on Shunt against the
# kernel's iperf3 -s.
. "$(dirname "$0")/../lib.sh"

run_up
ip=$TOPO_SHUNT4

run_start "$WORK/server.log" "Server listening on" iperf3 -s -p 5201 --forceflush
expect_in "$WORK/server.log" "fd [0-9]+ \(tcp\): Shunt, the wildcard address"
expect_ok "receiver" peer timeout 30 iperf3 -c $ip -p 5201 -t 1
expect_ok "receiver" peer timeout 30 iperf3 -c $ip -p 5201 -t 1 -R
expect_ok "\([0-9.]+%\) +receiver" \
    peer timeout 30 iperf3 -c $ip -p 5201 -t 1 -u -b 50M
expect_in "$WORK/server.log" "fd [0-9]+ \(udp\): Shunt, the wildcard address"
run_stop INT
expect_through_shunt "$WORK/server.log" 10000

bg "$WORK/kserver.log" ip netns exec "shunt-$TAG" iperf3 -s -p 5202 -1 --forceflush
wait_for_line "$WORK/kserver.log" "Server listening" 10 || fail "the kernel's iperf3 -s did not start"
out=$(timeout 60 env ASAN_OPTIONS=detect_leaks=0 "$SHUNT_RUN" -v -c "$WORK/shunt.conf" \
      iperf3 -c "$TOPO_PEER4" -p 5202 -t 1 2>&1) || fail "iperf3 -c on Shunt failed: $out"
echo "$out" > "$WORK/client.log"
expect_in "$WORK/client.log" "fd [0-9]+ \(tcp\): Shunt, in Shunt's subnet"
expect_in "$WORK/client.log" "receiver"
expect_through_shunt "$WORK/client.log" 1000
echo "iperf3: PASS"
