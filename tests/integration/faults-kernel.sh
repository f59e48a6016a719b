#!/bin/bash
# faults-kernel.sh - faults from the kernel's side of the wire, with the
# Linux kernel as Shunt's peer, in one testbed (shunt-echo on AF_XDP).  This
# kernel has no netem (CONFIG_NET_SCH_NETEM is off), so the wire is a
# bridge in the peer's namespace (scripts/testbed.sh, topo_wire: a fault
# on the peer's own interface is one its TCP sees and hides, at once) and:
#
#   loss 1, 5, 20 %   nftables, numgen random, on each way's ingress hook;
#                     at 1 % the fault stage drops 1 % more of the UDP each
#                     way, so Shunt's own counted drops are in its sum too
#   dup 5 %           nftables `dup to` the bridge's other port, each way
#   reorder 25 %, corrupt 1 %, delay 10 ms +- 5 ms: Shunt's fault stage
#                     (port/faults.h) each way: without netem the kernel
#                     has nothing that does them
#   rate 100 Mbit/s   tbf on each of the bridge's ways out
#   flap              the link to Shunt down for 3 s mid-transfer, then up
#   vanish            the peer's namespace deleted (its veth dies with it)
#                     under an idle connection of Shunt's with keepalive
#
# Under each, a random bulk TCP stream echoed (both directions at once)
# must come back whole, sha256-equal, within peer.py's stall limit; the
# frame balance must hold once the traffic stops (stack/stats.h, through
# shunt-stat); and under loss and duplicates, numbered UDP datagrams must
# add up exactly: sent - echoes received = what nftables dropped + what
# Shunt counted as drops, and echoes beyond one per datagram = the copies
# nftables made.  Corrupted frames Shunt receives are all counted as bad
# checksums (or bad frames), never delivered (the echo stays exact); those
# it sends are thrown away by the peer's kernel, whose checksum-error
# counters rise.  The vanished peer: Shunt's connection fails with
# ETIMEDOUT, and its pcb and demux entry are freed.  How fast each profile
# goes is scripts/bench-faults' business, not this test's.
. "$(dirname "$0")/lib.sh"

command -v nft >/dev/null || { echo "$TEST_NAME: needs nft (apt-get install nftables)" >&2; exit 1; }
SHUNT_STAT="$top_builddir/apps/shunt-stat"
HELP="$top_srcdir/tests/integration/faults-kernel.py"
PY=/usr/bin/python3
DEV=shp-$TAG            # the wire's end at Shunt
UDP_COUNT=2000

topo_up "$TAG"
topo_wire "$TAG"
# IPv4 only: the peer's IPv6 chatter (router solicitations, MLD) would
# land among the drops the exact sums below count.
peer sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ethtool -K "sh-$TAG" tso off gso off gro off 2>/dev/null || true
topo_conf "$TAG" > "$WORK/shunt.conf"
shunt_start "$WORK/shunt.log" "$SHUNT_ECHO" -c "$WORK/shunt.conf" || fail "shunt-echo did not start"
# The peer knows Shunt's address for good: a lost ARP is not TCP's doing.
neigh() { peer ip neigh replace "$TOPO_SHUNT4" dev pin lladdr "$(cat "/sys/class/net/sh-$TAG/address")" nud permanent; }
neigh
peer ping -c 1 -W 2 "$TOPO_SHUNT4" >/dev/null || fail "no ping before the faults"

# snap NAME: shunt-stat --json into $WORK/NAME.json.
snap() {
    "$SHUNT_STAT" -p "shunt-$TAG" --json -n 1 >"$WORK/$1.json" || fail "shunt-stat --json failed (a hang?)"
}
js() { $PY "$HELP" "$@"; }

# faults SPEC|off: Shunt's fault stage, at runtime.
faults() {
    "$SHUNT_STAT" -P "$SHUNT_PID" --faults "$1" >/dev/null || fail "shunt-stat --faults $1 failed"
}

# nft_rules drop|dup PCT: the wire drops or duplicates PCT % of the frames
# each way, UDP and the rest under rules and counters of their own, so the
# UDP check knows exactly what nftables did to its datagrams.  IN is
# Shunt->peer (the ingress of $DEV), OUT peer->Shunt (the ingress of pout).
nft_rules() {
    local verb_in=drop verb_out=drop pct=$2
    [ "$1" = dup ] && verb_in="dup to pout" verb_out="dup to $DEV"
    peer nft delete table netdev kfaults 2>/dev/null || true
    peer nft -f - <<NFT || fail "nft refused the rules"
table netdev kfaults {
    counter udp_in {}
    counter other_in {}
    counter udp_out {}
    counter other_out {}
    chain in {
        type filter hook ingress device $DEV priority 0;
        meta l4proto udp numgen random mod 100 lt $pct counter name udp_in $verb_in
        meta l4proto != udp numgen random mod 100 lt $pct counter name other_in $verb_in
    }
    chain out {
        type filter hook ingress device pout priority 0;
        meta l4proto udp numgen random mod 100 lt $pct counter name udp_out $verb_out
        meta l4proto != udp numgen random mod 100 lt $pct counter name other_out $verb_out
    }
}
NFT
}
nft_off() { peer nft delete table netdev kfaults 2>/dev/null || true; }

# nft_count NAME: packets the named counter counted.
nft_count() {
    peer nft list counter netdev kfaults "$1" | grep -oE "packets [0-9]+" | grep -oE "[0-9]+"
}

# bulk BYTES: a random stream echoed, sha256-compared by the peer.
bulk() {
    expect_ok "^peer: tcp-bulk: ok: $1 bytes echoed intact" peer_py tcp-bulk "$TOPO_SHUNT4" 7 "$1"
}

# quiet_balance: once the traffic has stopped, every frame is accounted for.
quiet_balance() {
    sleep 1
    snap quiet
    js balance "$WORK/quiet.json" || fail "frames not accounted for under $PROFILE"
    echo "ok: $PROFILE: the frame balance holds"
}

# udp_exact: numbered datagrams through the echo; what did not come back
# is exactly what nftables dropped (its UDP counters) plus what Shunt
# counted as dropped; with "copies", what nftables copied comes back too.
udp_exact() {
    local copies=${1:-} out sent unique total dropped_nft dropped_shunt
    snap udp0
    local udp_in0=$(nft_count udp_in) udp_out0=$(nft_count udp_out)
    out=$(peer $PY "$HELP" udp "$TOPO_SHUNT4" 7 "$UDP_COUNT") || fail "the UDP peer failed: $out"
    read -r _ sent _ unique _ total <<<"$out"
    snap udp1
    local d_in=$(($(nft_count udp_in) - udp_in0)) d_out=$(($(nft_count udp_out) - udp_out0))
    dropped_shunt=$(js drops "$WORK/udp0.json" "$WORK/udp1.json")
    if [ -z "$copies" ]; then
        dropped_nft=$((d_in + d_out))
        [ $((sent - unique)) = $((dropped_nft + dropped_shunt)) ] ||
            fail "$PROFILE: UDP: sent $sent, $unique came back: $((sent - unique)) missing, but nftables dropped $dropped_nft and Shunt counted $dropped_shunt"
        [ "$total" = "$unique" ] || fail "$PROFILE: UDP: $total echoes of $unique datagrams, with no duplicates asked for"
        [ "$dropped_nft" -gt 0 ] || fail "$PROFILE: nftables dropped no datagram of $sent"
        echo "ok: $PROFILE: UDP: sent $sent, $unique echoed; $((sent - unique)) missing = $dropped_nft dropped by nftables + $dropped_shunt counted by Shunt"
    else
        [ $((sent - unique)) = "$dropped_shunt" ] ||
            fail "$PROFILE: UDP: sent $sent, $unique came back, Shunt counted $dropped_shunt drops"
        # A datagram copied on its way to Shunt is echoed twice; an echo
        # copied on its way back arrives twice.
        [ $((total - unique)) = $((d_in + d_out)) ] ||
            fail "$PROFILE: UDP: $((total - unique)) echoes beyond one each, but nftables copied $d_out to Shunt and $d_in back"
        [ "$d_out" -gt 0 ] && [ "$d_in" -gt 0 ] ||
            fail "$PROFILE: copies made: $d_out to Shunt, $d_in back (both should be some)"
        echo "ok: $PROFILE: UDP: sent $sent, all $unique echoed; $((total - unique)) extra = $d_out copied by nftables to Shunt + $d_in back"
    fi
}

start=$SECONDS

# ---- loss each way, by nftables -------------------------------------------------
declare -A BYTES=([1]=1000000 [5]=400000 [20]=60000)
for pct in 1 5 20; do
    PROFILE="loss $pct %"
    echo "== $PROFILE each way (nftables)"
    nft_rules drop "$pct"
    bulk "${BYTES[$pct]}"
    if [ "$pct" = 1 ]; then
        # Drops of Shunt's own as well, so both terms of the sum are real.
        faults "rx:drop=0.01;tx:drop=0.01"
        udp_exact
        faults off
        [ "$(js drops "$WORK/udp0.json" "$WORK/udp1.json" fault tx_fault)" -gt 0 ] ||
            fail "$PROFILE: the fault stage dropped no datagram"
    else
        udp_exact
    fi
    dropped=$(($(nft_count other_in) + $(nft_count other_out)))
    [ "$dropped" -gt 0 ] || fail "$PROFILE: nftables dropped no TCP frame"
    echo "ok: $PROFILE: nftables dropped $dropped frames of TCP and the rest"
    nft_off
    quiet_balance
done

# ---- duplicates: nftables one way, the fault stage the other ------------------------
PROFILE="dup 5 %"
echo "== $PROFILE each way (nftables dup to)"
nft_rules dup 5
bulk 1000000
udp_exact copies
[ $(($(nft_count other_in) + $(nft_count other_out))) -gt 0 ] || fail "$PROFILE: nftables copied no TCP frame"
nft_off
quiet_balance

# ---- the fault stage: reordering, corruption, delay with jitter ----------------------
PROFILE="reorder 25 %"
echo "== $PROFILE each way (the fault stage)"
faults "rx:reorder=0.25,hold=3;tx:reorder=0.25,hold=3"
bulk 1000000
snap f
echo "ok: $PROFILE: reordered rx $(js get "$WORK/f.json" faults.rx.reorder), tx $(js get "$WORK/f.json" faults.tx.reorder)"
faults off
quiet_balance

PROFILE="corrupt 1 %"
echo "== $PROFILE each way (the fault stage)"
nstat_sum() {
    peer nstat -az TcpInCsumErrors UdpInCsumErrors IpExtInCsumErrors |
        awk '$1 ~ /CsumErrors/ { n += $2 } END { print n + 0 }'
}
csum0=$(nstat_sum)
snap c0
faults "rx:corrupt=0.01;tx:corrupt=0.01"
bulk 1000000
snap c1
faults off
# IPv4's header checksum is checked before its address, and the stage
# leaves the Ethernet header alone: a damaged frame is one of these two.
bad=$(js drops "$WORK/c0.json" "$WORK/c1.json" bad_checksum bad_frame)
rx_bad=$(js get "$WORK/c1.json" faults.rx.corrupt) tx_bad=$(js get "$WORK/c1.json" faults.tx.corrupt)
[ "$rx_bad" -gt 0 ] && [ "$tx_bad" -gt 0 ] || fail "$PROFILE: corrupted rx $rx_bad, tx $tx_bad frames (both should be some)"
[ "$bad" = "$rx_bad" ] ||
    fail "$PROFILE: the fault stage corrupted $rx_bad frames on the way in, Shunt counted $bad as bad"
csum=$(($(nstat_sum) - csum0))
[ "$csum" -gt 0 ] && [ "$csum" -le "$tx_bad" ] ||
    fail "$PROFILE: the peer's kernel counted $csum checksum errors for $tx_bad corrupted frames"
echo "ok: $PROFILE: $rx_bad corrupted on the way in, all $bad counted as bad, none delivered; $tx_bad on the way out, $csum refused by the peer's checksums"
quiet_balance

PROFILE="delay 10 ms +- 5 ms"
echo "== $PROFILE each way (the fault stage; jitter reorders, as netem's does)"
faults "rx:delay=1,delay_us=10000,jitter_us=5000,limit=4096;tx:delay=1,delay_us=10000,jitter_us=5000,limit=4096"
rtt=$(peer ping -c 3 -i 0.2 -q "$TOPO_SHUNT4" | sed -nE 's|^rtt [^=]*= ([0-9.]+)/.*|\1|p')
# At least 5 ms each way, whatever the load (which may add, never take away).
awk -v r="${rtt:-0}" 'BEGIN { exit !(r >= 10) }' || fail "$PROFILE: ping's minimum round trip ${rtt:-?} ms (10 or more expected)"
echo "ok: $PROFILE: ping's minimum round trip $rtt ms"
bulk 1000000
faults off
quiet_balance

# ---- a rate limit ------------------------------------------------------------------
PROFILE="rate 100 Mbit/s"
echo "== $PROFILE each way (tbf on each of the bridge's ways out)"
rate_on() {
    local dev
    for dev in "$DEV" pout; do
        peer tc qdisc replace dev "$dev" root tbf rate 100mbit burst 64kb latency 50ms || fail "tbf refused"
    done
}
rate_off() {
    peer tc qdisc del dev "$DEV" root 2>/dev/null || true
    peer tc qdisc del dev pout root 2>/dev/null || true
}
rate_on
bulk 4000000
for dev in "$DEV" pout; do
    sent=$(peer tc -s qdisc show dev "$dev" | grep -oE "Sent [0-9]+ bytes" | head -1 | grep -oE "[0-9]+")
    [ "${sent:-0}" -ge 4000000 ] || fail "$PROFILE: tbf on $dev sent ${sent:-no} bytes of a 4 MB stream"
done
echo "ok: $PROFILE: through tbf both ways"

# ---- the link down for 3 s mid-transfer, under the same limit (so it is mid-transfer) --
PROFILE="flap"
echo "== $PROFILE: the peer's link down 3 s mid-transfer"
bg "$WORK/flap.log" timeout -k 5 120 ip netns exec "shunt-$TAG" $PY "$PEER_PY" tcp-bulk "$TOPO_SHUNT4" 7 16000000
flap=$BG_PID
sleep 0.5
running "$flap" || fail "$PROFILE: the transfer was over before the link went down: $(cat "$WORK/flap.log")"
peer ip link set "$DEV" down
sleep 3
running "$flap" || fail "$PROFILE: the transfer ended while the link was down: $(cat "$WORK/flap.log")"
peer ip link set "$DEV" up
neigh
rc=0
wait "$flap" || rc=$?
[ $rc = 0 ] && grep -q "^peer: tcp-bulk: ok: 16000000 bytes echoed intact" "$WORK/flap.log" ||
    fail "$PROFILE: the transfer did not survive the flap (exit $rc): $(cat "$WORK/flap.log")"
echo "ok: $PROFILE: $(cat "$WORK/flap.log")"
rate_off
quiet_balance
shunt_stop || fail "shunt-echo did not stop cleanly"

# ---- the peer vanishes under an idle connection ---------------------------------------
PROFILE="vanish"
echo "== $PROFILE: the peer's namespace deleted under Shunt's connection (keepalive 1,1,2)"
# The peer accepts and holds the connection; its socket lingers 0 s, so
# when it is killed nothing of it stays behind to keep the namespace
# alive (an orphaned socket retransmitting its FIN would, for minutes).
ip netns exec "shunt-$TAG" $PY -c '
import socket, struct, time
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 7))
l.listen(1)
print("peer: running", flush=True)
c, _ = l.accept()
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
l.close()
print("peer: accepted", flush=True)
time.sleep(120)' >"$WORK/peer.log" 2>&1 </dev/null &
PEER_PID=$!
wait_for_line "$WORK/peer.log" "running" 10 || fail "$PROFILE: the peer did not start"
bg "$WORK/client.log" timeout -k 5 60 "$SHUNT_ECHO" -c "$WORK/shunt.conf" --client "$TOPO_PEER4" \
    --keepalive 1,1,2 --hold 30 --linger 20
client=$BG_PID
wait_for_line "$WORK/client.log" "^shunt-echo: connected to .*, holding it idle" 20 ||
    fail "$PROFILE: the client did not connect: $(cat "$WORK/client.log")"
snap v0
[ "$(js get "$WORK/v0.json" pools.TCP_PCB.used)" = 1 ] && [ "$(js get "$WORK/v0.json" demux.connections)" -ge 1 ] ||
    fail "$PROFILE: connected, but pcbs $(js get "$WORK/v0.json" pools.TCP_PCB.used), demux $(js get "$WORK/v0.json" demux.connections)"
# Down first, so the peer's close sends nothing; then the namespace goes.
peer ip link set "$DEV" down
kill -KILL "$PEER_PID"; wait "$PEER_PID" 2>/dev/null || true; PEER_PID=
ip netns del "shunt-$TAG"
for _ in $(seq 100); do [ -e "/sys/class/net/sh-$TAG" ] || break; sleep 0.1; done
[ -e "/sys/class/net/sh-$TAG" ] && fail "$PROFILE: Shunt's veth outlived the peer's namespace"
wait_for_line "$WORK/client.log" "^shunt-echo: closed; lingering" 20 ||
    fail "$PROFILE: the connection did not fail: $(cat "$WORK/client.log")"
grep -q "^shunt-echo: keepalive: the connection failed: Connection timed out" "$WORK/client.log" ||
    fail "$PROFILE: expected ETIMEDOUT: $(cat "$WORK/client.log")"
snap v1
[ "$(js get "$WORK/v1.json" pools.TCP_PCB.used)" = 0 ] && [ "$(js get "$WORK/v1.json" demux.connections)" = 0 ] ||
    fail "$PROFILE: after the failure, pcbs $(js get "$WORK/v1.json" pools.TCP_PCB.used), demux $(js get "$WORK/v1.json" demux.connections)"
js balance "$WORK/v1.json" || fail "$PROFILE: frames not accounted for"
echo "ok: $PROFILE: ETIMEDOUT; the pcb and the demux entry freed, the frame balance holds"
kill -INT "$client" 2>/dev/null || true
wait "$client" 2>/dev/null || true

echo "ok: faults-kernel: every profile in $((SECONDS - start)) s"
