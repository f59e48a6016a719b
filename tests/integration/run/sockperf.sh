#!/bin/bash
# sockperf.sh - Debian's sockperf, unchanged, on Shunt under shunt-run:
# `sockperf sr` (TCP, then UDP) serving the kernel's `sockperf ping-pong`
# and `throughput` in the peer's namespace, and `sockperf ping-pong` on
# Shunt against the kernel's `sockperf sr`.  sockperf finds its socket calls
# with dlsym(RTLD_DEFAULT), blocks in accept/recvfrom, and is stopped by
# SIGINT without SA_RESTART: the blocking call must return EINTR.
. "$(dirname "$0")/../lib.sh"

run_up
ip=$TOPO_SHUNT4

for proto in tcp udp; do
    flag=; [ $proto = tcp ] && flag=--tcp
    run_start "$WORK/sr-$proto.log" "listen on" sockperf sr $flag -i 0.0.0.0 -p 11111
    expect_in "$WORK/sr-$proto.log" "fd [0-9]+ \($proto\): Shunt, the wildcard address"
    expect_ok "Summary: Latency is" peer timeout 20 sockperf ping-pong $flag -i $ip -p 11111 -t 1
    expect_ok "Summary: Message Rate is" peer timeout 20 sockperf throughput $flag -i $ip -p 11111 -t 1 -m 512
    run_stop INT                        # the server is blocked in recvfrom: EINTR ends it
    expect_in "$WORK/sr-$proto.log" "^shunt: rx [0-9]+ packets"
    expect_through_shunt "$WORK/sr-$proto.log" 1000
done

# The client on Shunt, the server the kernel's.
bg "$WORK/ksr.log" ip netns exec "shunt-$TAG" sockperf sr --tcp -i "$TOPO_PEER4" -p 11112
wait_for_line "$WORK/ksr.log" "listen on" 10 || fail "the kernel's sockperf sr did not start"
out=$(timeout 30 env ASAN_OPTIONS=detect_leaks=0 "$SHUNT_RUN" -v -c "$WORK/shunt.conf" \
      sockperf ping-pong --tcp -i "$TOPO_PEER4" -p 11112 -t 1 2>&1) || fail "sockperf ping-pong on Shunt failed: $out"
grep -qE "fd [0-9]+ \(tcp\): Shunt, in Shunt's subnet" <<<"$out" || fail "the client's socket was not Shunt's: $out"
grep -qE "Summary: Latency is" <<<"$out" || fail "no latency summary: $out"
echo "$out" > "$WORK/pp.log"
expect_through_shunt "$WORK/pp.log" 1000
echo "sockperf: PASS"
