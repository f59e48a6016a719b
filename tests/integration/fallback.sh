#!/bin/bash
# fallback.sh - when AF_XDP cannot start on the interface (here: it is asked
# for a queue the veth does not have), Shunt says so, opens the same
# interface with net_af_packet instead, answers pings through it, and counts
# the frames it misses.
. "$(dirname "$0")/lib.sh"

topo_up "$TAG"
topo_conf "$TAG" | sed "s/iface=sh-$TAG/iface=sh-$TAG,start_queue=5/" > "$WORK/shunt.conf"
shunt_start "$WORK/shunt.log" "$SHUNT_ECHO" -c "$WORK/shunt.conf" || fail "shunt-echo did not start"

grep -q "^shunt: AF_XDP cannot start on sh-$TAG (.*): falling back to net_af_packet" "$WORK/shunt.log" ||
    fail "no fallback message"
grep -q "^shunt: up on port net_af_packet_sh-$TAG" "$WORK/shunt.log" || fail "not up on net_af_packet"
echo "ok: fell back to net_af_packet, and said so"
expect_output " 0% packet loss" peer ping -c 3 -i 0.2 -W 2 "$TOPO_SHUNT4"
expect_output " 0% packet loss" peer ping -6 -c 3 -i 0.2 -W 2 "$TOPO_SHUNT6"
expect_stall_counted
shunt_stop || fail "shunt-echo exited with an error"
