#!/bin/bash
# feed.sh - shunt-feed's A/B arbitration end to end: a kernel publisher in
# the namespace sends 10 groups on each of two lines (two group sets on the
# veth: line A 239.1.0.0.., line B 239.2.0.0..), and shunt-feed handle on
# this path (SHUNT_PATH, see lib.sh) joins all 20 and arbitrates.
#
# This kernel has no netem, so nftables on the publisher's end of the veth
# (egress: after its stack, as a wire loses them) drops by
# the sequence number itself (its lowest 3 bits, the message's byte 15:
# apps/feed/wire.h), different ones on each line:
#   line A drops seq % 8 in {1, 2}, line B drops seq % 8 in {1, 3}
# so of every 8 sequences exactly one is lost on both (a gap), one only on A
# (recovered by B) and one only on B (recovered by A).  The handler must
# deliver every other sequence exactly once, and count exactly those.
# Then a pcap of bursts is replayed (its timing kept) with the drops gone:
# every datagram arrives, and the replay takes as long as the capture.
# Last, the other way round: shunt-feed publish on this path, a kernel
# handler in the namespace gets every message on both lines.
. "$(dirname "$0")/lib.sh"

FEED="$top_builddir/apps/shunt-feed"
K=10
PER=800                         # sequences a group: a multiple of 8
port=$((31000 + $$ % 1000))

path_up
case $SHUNT_PATH in
kernel) FEED_STACK=(--kernel) ;;
shunt)
    FEED_STACK=(-c "$WORK/shunt.conf")
    # Only the nftables drops may lose anything: a ring deep enough for the
    # handler to be off its core (a loaded machine, ASan) for most of a
    # second at this rate, as the kernel's socket buffer is.
    printf 'rx_ring = 8192\nmbufs = 32767\n' >>"$WORK/shunt.conf"
    ;;
esac
LINES=(-g $K -p $port --if-a "$TOPO_SHUNT4")
PEER_LINES=(-g $K -p $port --if-a "$TOPO_PEER4")

# drops_up: the drop rules, their counters at 0.
drops_up() {
    peer nft delete table netdev feedloss 2>/dev/null || true
    peer nft -f - <<NFT || fail "nftables rules for the drops"
table netdev feedloss {
    chain out {
        type filter hook egress device shp-$TAG priority 0;
        ip daddr 239.1.0.0/16 udp dport $port @th,189,3 { 1, 2 } counter drop
        ip daddr 239.2.0.0/16 udp dport $port @th,189,3 { 1, 3 } counter drop
    }
}
NFT
}

# ring_drops: frames Shunt's port lost before the handler could take them
# (rx_nombuf, in the counters it printed at exit); 0 on the kernel path.
ring_drops() {
    if [ "$SHUNT_PATH" = shunt ]; then
        grep -oE "rx_nombuf=[0-9]+" "$WORK/shunt.log" | grep -oE "[0-9]+" | tail -1
    else
        echo 0
    fi
}

# handle JSON ARGS...: shunt-feed handle on this path until 2 s without a
# message (at most 60 s); its report in JSON.
handle_start() {
    local json=$1
    shift
    shunt_start "$WORK/shunt.log" "$FEED" handle "${FEED_STACK[@]}" "${LINES[@]}" --idle 2 -t 60 \
        --json "$json" "$@" || fail "shunt-feed handle did not start"
}

# handle_wait: it stops by itself (--idle); fail if it does not, or fails.
handle_wait() {
    for _ in $(seq 650); do
        running "$SHUNT_PID" || break
        sleep 0.1
    done
    shunt_stop || fail "shunt-feed handle exited with an error"
    cat "$WORK/shunt.log"
}

# publish ARGS...: the kernel publisher in the namespace.
publish() {
    timeout -k 5 60 ip netns exec "shunt-$TAG" "$FEED" publish --kernel "${PEER_LINES[@]}" "$@" </dev/null
}

# check JSON PY: assertions (python) on the handler's report r.
check() {
    /usr/bin/python3 - "$1" "$2" <<'PY' || fail "the handler's report: $(cat "$1")"
import json, sys
r = json.load(open(sys.argv[1]))
t = r["total"]
exec(sys.argv[2])
PY
}

echo "== A/B arbitration, drops by sequence on each line"
# Only the rules may drop: a run in which Shunt's ring overflowed (the
# machine kept the handler off its core for longer than the ring holds;
# Shunt counts each frame) is run again, up to 3 times.
for try in 1 2 3; do
    drops_up
    handle_start "$WORK/ab.json" --per-group
    expect_ok "^shunt-feed publish: sent $((K * PER)) messages .* not sent: A 0, B 0" \
        publish -n $((K * PER)) --mps 5000 --json "$WORK/pub.json"
    handle_wait
    lost=$(ring_drops)
    [ "${lost:-0}" = 0 ] && break
    [ $try = 3 ] && fail "Shunt's ring overflowed in each of 3 runs (rx_nombuf $lost): the handler was held off its core"
    echo "again: Shunt's port lost $lost frames (rx_nombuf) while the handler was off its core"
done
drops=$(peer nft list table netdev feedloss | grep -oE "packets [0-9]+" | grep -oE "[0-9]+" | tr '\n' ' ')
[ "$drops" = "$((K * PER / 4)) $((K * PER / 4)) " ] ||
    fail "nftables dropped '$drops', expected $((K * PER / 4)) on each line"
echo "ok: nftables dropped $drops on lines A and B"
check "$WORK/ab.json" "
K, PER = $K, $PER
for g in r['per_group']:
    # every sequence 1..PER seen, the last one on both lines
    assert g['last'] == PER, ('last', g)
    assert g['delivered'] == PER - PER // 8, ('delivered: exactly once unless lost on both', g)
    assert g['gaps'] == PER // 8, ('gaps: exactly those lost on both', g)
    assert g['recovered_by'] == [PER // 8, PER // 8], ('recovered by A, by B', g)
    assert g['received'] == [PER * 6 // 8, PER * 6 // 8], ('copies on each line', g)
    assert g['duplicates'] == 0 and g['stale'] == 0 and g['late'] == 0, g
    gl = g['publisher_read_us']
    assert gl['n'] == g['delivered'] and 0 < gl['p50'] <= gl['p99'] <= gl['p99_9'], ('group latency', g)
assert t['delivered'] == K * (PER - PER // 8) and t['gaps'] == K * PER // 8, t
assert r['foreign'] == 0, r
lat = r['latency_us']
assert lat['publisher_read']['n'] == t['delivered'], lat
if r['rx_stamp'] == 'none':
    # the stack gave no RX stamp: said so, and why, and no RX-stamped latency
    assert r['rx_stamp_detail'].startswith('none ('), r['rx_stamp_detail']
    assert lat['publisher_rx'] is None, lat
else:
    assert r['rx_stamp'] == 'SO_TIMESTAMPNS' and r['rx_stamp_detail'] == 'SO_TIMESTAMPNS', r
    assert lat['publisher_rx']['n'] == t['delivered'], lat
print('ok: %d sequences delivered exactly once, %d gaps, recovered %s; rx_stamp %s; read by %s'
      % (t['delivered'], t['gaps'], t['recovered_by'], r['rx_stamp_detail'], r['read']))
"
grep -qE "^shunt-feed handle: group 9: delivered $((PER - PER / 8)), gaps $((PER / 8))," "$WORK/shunt.log" ||
    fail "no per-group line for group 9 in the table"
[ "$SHUNT_PATH" = kernel ] && { grep -q "rx_stamp: SO_TIMESTAMPNS$" "$WORK/shunt.log" ||
    fail "the kernel path gave no RX stamps"; }

echo "== a pcap's bursts replayed with their timing, no drops"
peer nft delete table netdev feedloss
# 5 bursts of 40 datagrams 50 ms apart, to 4 destinations, 100..139 bytes
/usr/bin/python3 - "$WORK/bursts.pcap" <<'PY'
import struct, sys
out = open(sys.argv[1], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b23c4d, 2, 4, 0, 0, 65535, 1))     # ns timestamps, Ethernet
t0 = 1700000000 * 10**9
for burst in range(5):
    for i in range(40):
        n = burst * 40 + i
        payload = bytes(100 + i)
        udp = struct.pack('!HHHH', 40000, 5000 + n % 4, 8 + len(payload), 0) + payload
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), n, 0, 1, 17, 0,
                         bytes([10, 0, 0, 1]), bytes([239, 9, 9, 1])) + udp
        frame = bytes(6) + bytes(6) + b'\x08\x00' + ip
        t = t0 + burst * 50 * 10**6 + i * 1000
        out.write(struct.pack('<IIII', t // 10**9, t % 10**9, len(frame), len(frame)) + frame)
PY
handle_start "$WORK/pcap.json"
expect_ok "^shunt-feed publish: sent 200 messages .* not sent: A 0, B 0" \
    publish --pcap "$WORK/bursts.pcap" --json "$WORK/pcap-pub.json"
handle_wait
/usr/bin/python3 -c "
import json, sys
p = json.load(open('$WORK/pcap-pub.json'))
assert p['seconds'] >= 0.19, ('the replay took less than the capture: 0.2 s', p)
assert p['last_seq'][:4] == [50] * 4 and p['last_seq'][4:] == [0] * 6, ('one group a destination', p)
print('ok: the replay took %.3f s for a capture of 0.200 s' % p['seconds'])" || fail "pcap replay"
check "$WORK/pcap.json" "
assert t['delivered'] == 200 and t['gaps'] == 0 and t['redundant'] == 200, t
print('ok: 200 replayed messages delivered, none lost, each line\'s copy arbitrated')
"

echo "== the publisher on this path, a kernel handler in the namespace"
bg "$WORK/peer-handle.log" ip netns exec "shunt-$TAG" "$FEED" handle --kernel "${PEER_LINES[@]}" \
    --idle 2 -t 60 --json "$WORK/peer.json"
wait_for_line "$WORK/peer-handle.log" "^shunt-feed: running" 10 ||
    fail "the kernel handler did not start: $(cat "$WORK/peer-handle.log")"
expect_ok "^shunt-feed publish: sent 4000 messages .* not sent: A 0, B 0" \
    timeout -k 5 60 "$FEED" publish "${FEED_STACK[@]}" "${LINES[@]}" -n 4000 --mps 4000
wait "$BG_PID" || fail "the kernel handler failed: $(cat "$WORK/peer-handle.log")"
check "$WORK/peer.json" "
assert t['delivered'] == 4000 and t['gaps'] == 0 and t['redundant'] == 4000, t
assert r['rx_stamp'] == 'SO_TIMESTAMPNS', r
print('ok: the kernel handler got all 4000 messages on both lines from the $SHUNT_PATH publisher')
"
