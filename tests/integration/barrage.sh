#!/bin/bash
# barrage.sh - malformed and hostile frames from the kernel's side
# (tests/integration/barrage.py, scapy): truncated at every header boundary,
# garbage, bad IP headers and options, TTL 0, a land attack, all 256 TCP
# flag combinations at a listening and a closed port, bad data offsets,
# checksums and options, blind RST/SYN/data at a live connection, bad UDP
# lengths, fragments overlapping, oversized, out of order, never completed
# and tiny, ICMP errors at the live connection, ARP and ND spoofing of
# Shunt's own address, and a SYN flood of 100,000 frames from random sources.
# Asserts: shunt-echo neither crashes nor hangs, the connection opened
# before keeps echoing byte for byte, a new one is accepted afterwards, and
# every frame is accounted for (the frame balance holds both ways, read
# through shunt-stat once the traffic has stopped).
. "$(dirname "$0")/lib.sh"

SHUNT_STAT="$top_builddir/apps/shunt-stat"
PY=/usr/bin/python3
$PY -c "import scapy" 2>/dev/null || fail "no scapy for /usr/bin/python3 (scripts/setup installs python3-scapy)"

tb_up
mac=$(cat "/sys/class/net/sh-$TAG/address")
status=0
timeout -k 5 120 ip netns exec "shunt-$TAG" $PY "$top_srcdir/tests/integration/barrage.py" \
    "shp-$TAG" "$mac" 7 9 > "$WORK/barrage.log" 2>&1 || status=$?
cat "$WORK/barrage.log"
kill -0 "$SHUNT_PID" 2>/dev/null || fail "shunt-echo died during the barrage"
[ "$status" = 0 ] || fail "the barrage broke an echo (exit $status)"
sent=$(grep -oE "^sent [0-9]+" "$WORK/barrage.log" | grep -oE "[0-9]+")

# Quiet: nothing more from the peer; let half-open connections and
# reassembly time out of what is held, then read the balance.
sleep 1
stats=$("$SHUNT_STAT" -P "$SHUNT_PID" --json -n 1) || fail "shunt-stat --json failed (a hang?)"
"$SHUNT_STAT" -P "$SHUNT_PID" -n 1 | grep -E "^frames|^  (backlog_full|rx_nombuf|bad_|not_for|no_sock|tcp_|reassembly|lwip) " || true
$PY - "$stats" "$sent" <<'PY' || fail "frames not accounted for"
import json, sys
s = json.loads(sys.argv[1])["/shunt/stats"]
b, d, sent = s["balance"], s["drops"], int(sys.argv[2])
assert b["in"] == 1, f"frames in do not add up: {b}"
assert b["out"] == 1, f"frames out do not add up: {b}"
# Every frame the barrage sent reached Shunt, or was counted missed.
assert s["rx_packets"] + d["rx_nombuf"] >= sent, (s["rx_packets"], d["rx_nombuf"], sent)
print("balance holds:", {k: b[k] for k in ("rx_packets", "consumed", "in_sockets", "held_tcp",
                                           "held_reassembly", "rx_drops", "tx_produced",
                                           "tx_packets", "tx_drops")},
      "backlog_full", d["backlog_full"], "rx_nombuf", d["rx_nombuf"])
PY
shunt_stop || fail "shunt-echo did not stop cleanly"
echo "ok: barrage"
