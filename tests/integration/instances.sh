#!/bin/bash
# instances.sh - a group of two instances (instances = 2, cores = 0,1), one
# process each, on queues 0 and 1 of one port, the Linux kernel as the
# peer.  GROUP_PORT says which port:
#   af_xdp (the default): AF_XDP on a veth with two queues, each instance
#     a DPDK primary of its own (the frames steered are copied);
#   tap (instances-tap.sh): net_tap on a multi-queue tap in the peer's
#     namespace, instance 0 DPDK's primary, which sets up both queues, and
#     instance 1 its secondary, as on a PCI NIC (the mbufs steered move).
# The kernel spreads flows over the queues by its own hash, so each
# instance gets frames of the other's flows: steering (port/steer.h) must
# hand them over.
#   Shunt serves (shunt-echo -c FILE starts both): 5,000 IPv4 connections
#     and 500 IPv6 ones from the kernel, each echoed intact; each accepted
#     by exactly one instance (the instances' counts add up to the
#     connections made, none reset or failed), both serving; UDP from
#     many source ports echoed by both instances; ARP and ND answers
#     reach both (no frame left waiting for a neighbour); one instance
#     killed mid-run: the other goes on serving, and restarted alone
#     (--instance 1) it rejoins and serves the connections that waited.
#   Shunt connects: 2,500 connections from each instance to the kernel's
#     echo server, every byte checked.
. "$(dirname "$0")/lib.sh"

STAT="$top_builddir/apps/shunt-stat"
PREFIX=shunt-$TAG

GROUP_PORT=${GROUP_PORT:-af_xdp}
if [ "$GROUP_PORT" = tap ]; then
    # The tap lives in the peer's namespace, made there before Shunt opens
    # it (net_tap attaches to it by name), so Shunt runs there too.
    topo_down "$TAG"
    ip netns add "shunt-$TAG"
    peer ip link set lo up
    peer ip tuntap add mode tap multi_queue name "sh-$TAG"
    peer ip addr add "$TOPO_PEER4/24" dev "sh-$TAG"
    peer ip addr add "$TOPO_PEER6/64" dev "sh-$TAG" nodad
    peer ethtool -K "sh-$TAG" tx off >/dev/null
    IN_NS=(ip netns exec "shunt-$TAG")
    VDEV=net_tap0,iface=sh-$TAG
else
    TOPO_QUEUES=2 topo_up "$TAG"
    IN_NS=()
    VDEV=net_af_xdp0,iface=sh-$TAG
fi
cat >"$WORK/group.conf" <<CONF
# two instances on sh-$TAG, one per queue
eal = --file-prefix=$PREFIX --no-pci --vdev=$VDEV
ip = $TOPO_SHUNT4/24
gateway = $TOPO_PEER4
ip6 = $TOPO_SHUNT6/64
instances = 2
cores = 0,1
CONF

group_cleanup() {
    if [ -n "${RESTARTED_PID:-}" ]; then
        kill -INT "$RESTARTED_PID" 2>/dev/null || true
        wait "$RESTARTED_PID" 2>/dev/null || true
    fi
    tb_cleanup
    rm -rf "/var/run/dpdk/$PREFIX-0" "/var/run/dpdk/$PREFIX-1" "/var/run/dpdk/$PREFIX.group-lock" \
        "/var/run/dpdk/$PREFIX" "/dev/shm/shunt-steer-$PREFIX" /dev/hugepages/"$PREFIX"-[01]map_* \
        /dev/hugepages/"$PREFIX"map_*
}
trap group_cleanup EXIT

# stat_of I EXPR: a number from instance I's /shunt/stats (a Python
# expression over s).
stat_of() {
    local json value
    for _ in $(seq 5); do      # a loaded machine may keep an answer waiting
        json=$("$STAT" -p "$PREFIX-$1" -n 1 --json 2>&1) &&
            value=$(/usr/bin/python3 -c "import json, sys; s = json.load(sys.stdin)['/shunt/stats']; print($2)" \
                    <<<"$json" 2>/dev/null) && { echo "$value"; return 0; }
        sleep 1
    done
    fail "shunt-stat -p $PREFIX-$1 gave no $2: $json"
}

# accepted LOG: each instance's accepted connections in LOG, one a line.
accepted() {
    grep -oE "^shunt-echo: tcp: [0-9]+ connections accepted" "$1" | grep -oE "[0-9]+ conn" |
        grep -oE "[0-9]+"
}

echo "== the group serves"
shunt_start "$WORK/shunt.log" "${IN_NS[@]}" "$SHUNT_ECHO" -c "$WORK/group.conf" || fail "the group did not start"
wait_for_line "$WORK/shunt.log" "started 2 instances" 5 || fail "the launcher did not start 2"
for _ in $(seq 200); do
    [ "$(grep -cE '^shunt-echo: running' "$WORK/shunt.log")" = 2 ] && break
    sleep 0.1
done
[ "$(grep -cE '^shunt-echo: running' "$WORK/shunt.log")" = 2 ] || fail "not both instances run"
for i in 0 1; do
    grep -q "instance $i of 2 (core $i) up" "$WORK/shunt.log" || fail "instance $i is not on core $i"
done
echo "ok: two instances, cores 0 and 1, queues 0 and 1"

expect_ok "^peer: tcp-many: ok: 5000 connections" \
    peer_py tcp-many "$TOPO_SHUNT4" 7 --conns 5000 --bytes 1000
expect_ok "^peer: tcp-many: ok: 500 connections" \
    peer_py tcp-many "$TOPO_SHUNT6" 7 --conns 500 --bytes 1000
# UDP: every socket of the peer's is one flow, on one queue: many sockets
# reach both instances.
for _ in $(seq 12); do
    expect_ok "^peer: udp: ok" peer_py udp "$TOPO_SHUNT4" 7 64 1472 --count 2
done
expect_ok "^peer: udp: ok" peer_py udp "$TOPO_SHUNT6" 7 64 1200 --count 2

# Every instance served TCP and UDP, and steered what landed on it for
# the other; no frame is left waiting for a neighbour (each learned the
# peer's ARP and ND answers, whichever queue they came on).
steered=0
for i in 0 1; do
    tcp=$(stat_of $i 's["verdicts"]["tcp_listen"]')
    udp=$(stat_of $i 's["verdicts"]["udp"]')
    waiting=$(stat_of $i 's["balance"]["arp_waiting"]')
    out=$(stat_of $i 's["steer"]["steered_out"] + s["steer"]["neigh_out"]')
    holds=$(stat_of $i 's["balance"]["in"]')
    echo "instance $i: $tcp SYNs to listeners, $udp datagrams, $out frames steered out, $waiting waiting for a neighbour"
    [ "$tcp" -gt 0 ] || fail "instance $i accepted no connection: the kernel's flows never reached its listener"
    [ "$udp" -gt 0 ] || fail "instance $i got no datagram"
    [ "$waiting" = 0 ] || fail "instance $i has $waiting frames waiting for ARP/ND"
    [ "$holds" = 1 ] || fail "instance $i's frame balance does not hold"
    steered=$((steered + out))
done
[ "$steered" -gt 0 ] || fail "no frame was steered: the test did not exercise the steering"
"$STAT" -p "$PREFIX" -n 1

echo "== one instance killed, the other goes on; restarted, it rejoins"
# The launcher names the instances' pids in order.
victim=$(grep -oE "started 2 instances, pids [0-9]+ [0-9]+" "$WORK/shunt.log" | awk '{ print $NF }') || true
[ -n "$victim" ] && running "$victim" ||
    fail "no instance 1 to kill: $(grep -E "started 2 instances" "$WORK/shunt.log")"
kill -KILL "$victim"
wait_for_line "$WORK/shunt.log" "instance 1 \(pid $victim\) was killed by signal 9" 10 ||
    fail "the launcher did not report instance 1's death"
echo "ok: instance 1 killed; the launcher says so"
# While it is down, the flows the kernel puts on queue 1 wait (their SYNs
# go again); those on queue 0 are served at once.
bg "$WORK/during.log" ip netns exec "shunt-$TAG" /usr/bin/python3 "$PEER_PY" tcp-many \
    "$TOPO_SHUNT4" 7 --conns 400 --bytes 1000
during=$BG_PID
sleep 2
before=$(stat_of 0 's["verdicts"]["tcp_listen"]')
[ "$before" -gt 0 ] || fail "instance 0 stopped serving"
"${IN_NS[@]}" "$SHUNT_ECHO" -c "$WORK/group.conf" --instance 1 >"$WORK/restarted.log" 2>&1 </dev/null &
RESTARTED_PID=$!
wait_for_line "$WORK/restarted.log" "^shunt-echo: running" 20 || {
    cat "$WORK/restarted.log" >&2; fail "instance 1 did not restart"; }
grep -q "instance 1 of 2 (core 1) up" "$WORK/restarted.log" || fail "the restart is not instance 1 on core 1"
wait "$during" || { cat "$WORK/during.log" >&2; fail "connections made while instance 1 was down did not all complete"; }
grep -qE "^peer: tcp-many: ok: 400 connections" "$WORK/during.log" || fail "$(cat "$WORK/during.log")"
echo "ok: $(cat "$WORK/during.log")"
expect_ok "^peer: tcp-many: ok: 1000 connections" \
    peer_py tcp-many "$TOPO_SHUNT4" 7 --conns 1000 --bytes 1000
[ "$(stat_of 1 's["verdicts"]["tcp_listen"]')" -gt 0 ] || fail "the restarted instance 1 serves nothing"
"$STAT" -p "$PREFIX" -n 1

kill -INT "$RESTARTED_PID"
wait "$RESTARTED_PID" || { cat "$WORK/restarted.log" >&2; fail "the restarted instance 1 exited with an error"; }
RESTARTED_PID=
shunt_stop || true              # the launcher reports the killed instance's status
# Every connection the peer made was accepted by exactly one instance:
# instance 0's count, the killed instance 1's (lost with it), and the
# restarted one's add up to no more than were made, and none was reset.
n0=$(accepted "$WORK/shunt.log")
n1=$(accepted "$WORK/restarted.log")
grep -qE "^shunt-echo: tcp: [0-9]+ connections accepted, [0-9]+ closed, 0 reset by the peer, 0 failed" \
    "$WORK/shunt.log" || fail "instance 0 saw resets or failures: $(server_summary)"
grep -qE "^shunt-echo: tcp: [0-9]+ connections accepted, [0-9]+ closed, 0 reset by the peer, 0 failed" \
    "$WORK/restarted.log" || fail "the restarted instance saw resets or failures"
echo "ok: instance 0 accepted $n0, the restarted instance 1 $n1, none reset or failed"
[ "$n1" -gt 0 ] || fail "the restarted instance accepted nothing"
made=$((5000 + 500 + 400 + 1000))
[ $((n0 + n1)) -le $made ] || fail "$((n0 + n1)) connections accepted for $made made: some twice"
[ "$n0" -ge $((made / 8)) ] || fail "instance 0 accepted only $n0 of $made"

echo "== the group connects"
peer_start echo-server 7
out=$(timeout -k 5 120 "${IN_NS[@]}" "$SHUNT_ECHO" -c "$WORK/group.conf" --client "$TOPO_PEER4" --conns 2500 \
          -n 1000 </dev/null 2>&1) || { echo "$out" >&2; fail "the group's clients failed"; }
[ "$(grep -cE '^shunt-echo: verified 2500000 bytes over 2500 connections' <<<"$out")" = 2 ] ||
    { echo "$out" >&2; fail "not both instances verified their 2,500 connections"; }
echo "ok: each instance verified 2,500,000 bytes over 2,500 connections"
peer_stop || fail "the peer's echo server failed"
echo "PASS: $TEST_NAME"
