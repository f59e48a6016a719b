#!/bin/bash
# diag.sh - Shunt's own diagnostics on a running shunt-echo facing the kernel:
#  - the capture from the config holds, packet for packet, what tcpdump saw
#    on the peer's end of the wire, and nothing its filter excludes;
#  - shunt-stat starts and stops a capture at runtime, reads the counters
#    (--json) and lists the sockets (--sockets) as ss would;
#  - shunt-echo --capture does the same from the command line;
#  - dpdk-dumpcap attaches to the process through rte_pdump;
#  - shunt-stat --faults starts, shows and stops the fault stage at runtime;
#  - a drop is seen live in the counters, under its cause, and the frames a
#    stalled loop misses are all counted;
#  - the log level from the config holds.
. "$(dirname "$0")/lib.sh"

SHUNT_STAT="$top_builddir/apps/shunt-stat"
PREFIX="shunt-$TAG"
FILTER="ip and (icmp or port 7)"
PY=/usr/bin/python3

topo_up "$TAG"
# The peer's view of the wire, from before Shunt starts to after it stops.
bg "$WORK/tcpdump.log" ip netns exec "shunt-$TAG" tcpdump -i "shp-$TAG" -U -n -s 0 \
    -w "$WORK/wire.pcap" "$FILTER"
TCPDUMP_PID=$BG_PID
wait_for_line "$WORK/tcpdump.log" "listening on" 10 || fail "tcpdump did not start"

topo_conf "$TAG" > "$WORK/shunt.conf"
cat >> "$WORK/shunt.conf" <<CONF
capture = $WORK/shunt.pcap
capture_filter = $FILTER
CONF
shunt_start "$WORK/shunt.log" "$SHUNT_ECHO" -c "$WORK/shunt.conf" || fail "shunt-echo did not start"
wait_for_line "$WORK/shunt.log" "^shunt: capturing to $WORK/shunt.pcap, filter ip and \(icmp or port 7\)$" 5 ||
    fail "no capture announced"

# ---- the scripted exchange, seen by both captures ---------------------------
expect_output " 0% packet loss" peer ping -c 3 -i 0.2 -W 2 "$TOPO_SHUNT4"
expect_output "^hello$" peer sh -c "echo hello | timeout 5 nc -q 1 $TOPO_SHUNT4 7"
expect_output "^datagram$" peer sh -c "echo datagram | timeout 3 nc -u -w 1 $TOPO_SHUNT4 7"
# Traffic the filter excludes: IPv6 pings, and ARP.
expect_output " 0% packet loss" peer ping -6 -c 2 -i 0.2 -W 2 "$TOPO_SHUNT6"

# ---- the config's capture against the wire ---------------------------------
# The wire's capture ends here; starting a capture at runtime closes the
# config's (one capture at a time), so both cover the same exchange.
sleep 0.3
kill -INT "$TCPDUMP_PID" 2>/dev/null || true
wait "$TCPDUMP_PID" 2>/dev/null || true
expect_output "^capture on: $WORK/live.pcap, filter 'icmp'" \
    "$SHUNT_STAT" -P "$SHUNT_PID" --capture start "$WORK/live.pcap" icmp

n=$(tshark -r "$WORK/shunt.pcap" 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || fail "tshark cannot read Shunt's capture"
[ "$(tcpdump -nr "$WORK/shunt.pcap" 2>/dev/null | wc -l)" = "$n" ] ||
    fail "tcpdump does not read the $n frames tshark reads in Shunt's capture"
left=$(tshark -r "$WORK/shunt.pcap" -Y "not (ip and (icmp or tcp.port == 7 or udp.port == 7))" 2>/dev/null | wc -l)
[ "$left" = 0 ] || fail "$left frames in the capture that its filter excludes"
$PY - "$WORK/shunt.pcap" "$WORK/wire.pcap" <<'PY' || fail "Shunt's capture and the wire differ"
import struct, sys

def frames(path):
    """The frames of a pcap file, as bytes."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    out, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out

shunt, wire = frames(sys.argv[1]), frames(sys.argv[2])
if sorted(shunt) != sorted(wire):
    only_s = [f.hex()[:80] for f in shunt if f not in wire]
    only_w = [f.hex()[:80] for f in wire if f not in shunt]
    sys.exit(f"{len(shunt)} frames in Shunt's capture, {len(wire)} on the wire;\n"
             f"only in Shunt's: {only_s[:5]}\nonly on the wire: {only_w[:5]}")
print(f"ok: Shunt's capture and tcpdump on the wire agree, packet for packet ({len(shunt)} frames)")
PY


# ---- a capture started at runtime (above), and stopped --------------------------
peer ping -c 2 -i 0.2 -W 2 -q "$TOPO_SHUNT4" >/dev/null
expect_output "^capture on: .* 4 of [0-9]+ frames written" "$SHUNT_STAT" -p "$PREFIX" --capture
expect_output "^capture off$" "$SHUNT_STAT" -p "$PREFIX" --capture stop
n=$(tshark -r "$WORK/live.pcap" 2>/dev/null | wc -l)
[ "$n" = 4 ] || fail "the live capture holds $n frames, want 4 (2 echo requests, 2 replies)"
expect_error "capture filter 'tcp port': " "$SHUNT_STAT" -p "$PREFIX" --capture start "$WORK/x.pcap" "tcp port"
echo "ok: a capture started and stopped at runtime holds exactly the ICMP frames"

# ---- shunt-stat: counters and sockets -----------------------------------------
stats=$("$SHUNT_STAT" -p "$PREFIX" --json -n 1) || fail "shunt-stat --json failed: $stats"
$PY - "$stats" <<'PY' || fail "shunt-stat --json: unexpected reply: $stats"
import json, sys
s = json.loads(sys.argv[1])["/shunt/stats"]
assert s["rx_packets"] >= 12 and s["tx_packets"] >= 10, s
assert set(s["drops"]) >= {"rx_nombuf", "bad_frame", "not_for_us", "bad_checksum", "no_socket",
                           "socket_full", "backlog_full", "tcp_invalid", "tcp_throttled",
                           "tx_ring_full", "lwip"}, s["drops"]
assert "tcp" in s["lwip"] and "TCP_PCB" in s["pools"] and "ipackets" in s["port"], s.keys()
assert s["mbufs"]["in_use"] <= s["mbufs"]["size"]
# AF_XDP registers the pool as one UMEM: in pieces, its last mbufs would lie
# past the UMEM's end and never reach the wire (stack/dev.c's packed_pool).
assert s["mbufs"]["chunks"] == 1, s["mbufs"]
assert set(s["tcp_recovery"]) == {"rtos", "probes", "lost", "recoveries", "sack_bad", "dsacks", "undos", "spurious_rtos"}, s.keys()
PY
echo "ok: shunt-stat --json: counters, drops by cause, lwIP's stats and pools, port stats, TCP recovery"

# A connection the peer holds open, for the socket list, once an echo
# (Shunt's data, acknowledged) has given Shunt a round-trip time.
bg "$WORK/hold.log" ip netns exec "shunt-$TAG" $PY -c "
import socket, time
s = socket.create_connection(('$TOPO_SHUNT4', 7))
s.sendall(b'x'); s.recv(1); time.sleep(0.2); print('connected', flush=True); time.sleep(30)"
HOLD_PID=$BG_PID
wait_for_line "$WORK/hold.log" "connected" 10 || fail "the peer did not connect"
socks=$("$SHUNT_STAT" -p "$PREFIX" --sockets) || fail "shunt-stat --sockets failed: $socks"
echo "$socks"
grep -qE "^tcp +LISTEN +[0-9]+ +0 +[0-9]+ +\*:7 " <<<"$socks" || fail "no TCP listener on :7 listed"
grep -qE "^udp +UNCONN +[0-9]+ .*\*:7 " <<<"$socks" || fail "no UDP socket on :7 listed"
grep -qE "^tcp +ESTAB +[0-9]+ +0 +0 +$TOPO_SHUNT4:7 +$TOPO_PEER4:[0-9]+ +rtt:" <<<"$socks" ||
    fail "the peer's connection is not listed"
echo "ok: shunt-stat --sockets lists the listener, the UDP socket and the connection"
socks=$("$SHUNT_STAT" -p "$PREFIX" --sockets --json) || fail "shunt-stat --sockets --json failed: $socks"
$PY - "$socks" "$TOPO_SHUNT4:7" "$TOPO_PEER4" <<'PY' || fail "shunt-stat --sockets --json: $socks"
import json, sys
socks = json.loads(sys.argv[1])["sockets"]
estab = [s for s in socks if s["state"] == "ESTAB" and s["local"] == sys.argv[2]
         and s["peer"].startswith(sys.argv[3] + ":")]
assert len(estab) == 1 and "cwnd" in estab[0], socks
# Measured to the microsecond: on a veth, well under lwIP's 200 ms tick.
assert 0 < estab[0]["rtt_us"] < 100000, estab[0]
assert any(s["proto"] == "udp" and s["local"].endswith(":7") for s in socks), socks
# The connection's latency: what the peer sent waited in the socket until
# shunt-echo read it, its echo until its frame went to the port.
c = estab[0]
assert c["rx_queued_n"] >= 1 and 0 < c["rx_queued_p50_ns"] <= c["rx_queued_max_ns"] < 10**9, c
assert c["tx_wait_n"] >= 1 and c["tx_wait_p99_ns"] <= c["tx_wait_max_ns"], c
# Its sending side: the echo is acknowledged, nothing is queued.
assert c["snd_in_flight"] == 0 and c["unacked"] == 0 and c["unsent"] == 0, c
assert c["rto_ms"] > 0 and "flags" in c and "persist_backoff" in c, c
PY
echo "ok: shunt-stat --sockets --json is one document with the same sockets, and their latency"


# ---- dpdk-dumpcap, through rte_pdump ----------------------------------------
# A secondary process maps the primary's memory at the same addresses
# (under ASan, Shunt places it where both are free: stack/eal.c).
bg "$WORK/dumpcap.log" dpdk-dumpcap --file-prefix="$PREFIX" -i net_af_xdp0 -f icmp -c 4 \
    -w "$WORK/dump.pcapng"
DUMPCAP_PID=$BG_PID
# It writes its file once attached (its own messages come out at the end).
for _ in $(seq 100); do
    [ -s "$WORK/dump.pcapng" ] || ! kill -0 "$DUMPCAP_PID" 2>/dev/null && break
    sleep 0.1
done
[ -s "$WORK/dump.pcapng" ] || fail "dpdk-dumpcap did not attach: $(cat "$WORK/dumpcap.log")"
sleep 0.5
peer ping -c 3 -i 0.2 -W 2 -q "$TOPO_SHUNT4" >/dev/null
for _ in $(seq 50); do kill -0 "$DUMPCAP_PID" 2>/dev/null || break; sleep 0.1; done
n=$(tshark -r "$WORK/dump.pcapng" -Y icmp 2>/dev/null | wc -l)
[ "$n" -ge 2 ] || fail "dpdk-dumpcap captured $n ICMP frames: $(cat "$WORK/dumpcap.log")"
echo "ok: dpdk-dumpcap captured $n ICMP frames from the running process"

# ---- a drop, live, under its cause -------------------------------------------
# An echo request for an address that is not Shunt's, sent to Shunt's MAC.
mac=$(grep -oE "mac [0-9A-F:]+" "$WORK/shunt.log" | head -1 | cut -d' ' -f2)
peer ip neigh replace 10.9.0.99 lladdr "$mac" dev "shp-$TAG"
peer ping -c 3 -i 0.2 -W 1 -q 10.9.0.99 >/dev/null || true
not_for_us=$("$SHUNT_STAT" -p "$PREFIX" --json -n 1 | $PY -c \
    'import json,sys; print(json.load(sys.stdin)["/shunt/stats"]["drops"]["not_for_us"])')
[ "$not_for_us" -ge 3 ] || fail "3 pings for 10.9.0.99 show as $not_for_us not_for_us drops"
echo "ok: pings for another address counted live as not_for_us ($not_for_us)"
expect_stall_counted

# ---- faults, switched on and off at runtime through telemetry ------------------
expect_output "^faults on: seed=5;rx:drop=1" "$SHUNT_STAT" -p "$PREFIX" --faults "seed=5;rx:drop=1"
peer ping -c 3 -i 0.2 -W 1 -q "$TOPO_SHUNT4" >/dev/null && fail "pings answered through rx:drop=1"
expect_output "^  rx: drop ([3-9]|[1-9][0-9]+) " "$SHUNT_STAT" -p "$PREFIX" --faults
faults=$("$SHUNT_STAT" -p "$PREFIX" --json -n 1 | $PY -c \
    'import json,sys; f=json.load(sys.stdin)["/shunt/stats"]["faults"]; print(f["state"], f["rx"]["drop"])')
[[ $faults =~ ^on\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 3 ] ||
    fail "/shunt/stats shows the faults as '$faults', want on and 3 or more dropped"
expect_output "^faults off" "$SHUNT_STAT" -p "$PREFIX" --faults off
peer ping -c 2 -i 0.2 -W 2 -q "$TOPO_SHUNT4" >/dev/null || fail "pings unanswered once the faults are off"
expect_error "faults: drop=2: a rate" "$SHUNT_STAT" -p "$PREFIX" --faults "rx:drop=2"
echo "ok: faults started, counted and stopped at runtime through shunt-stat --faults"

kill -INT "$HOLD_PID" 2>/dev/null || true
shunt_stop || fail "shunt-echo exited with an error"

# ---- a capture from the application's command line ------------------------------
sed -i '/^capture/d' "$WORK/shunt.conf"
shunt_start "$WORK/cmdline.log" "$SHUNT_ECHO" -c "$WORK/shunt.conf" --capture "$WORK/cmdline.pcap" \
    --capture-filter icmp || fail "shunt-echo --capture did not start"
peer ping -c 2 -i 0.2 -W 2 -q "$TOPO_SHUNT4" >/dev/null
shunt_stop || fail "shunt-echo exited with an error"
n=$(tshark -r "$WORK/cmdline.pcap" 2>/dev/null | wc -l)
[ "$n" = 4 ] || fail "shunt-echo --capture wrote $n frames, want 4"
expect_error "capture filter 'tcp port'" "$SHUNT_ECHO" -c "$WORK/shunt.conf" --capture "$WORK/x.pcap" \
    --capture-filter "tcp port"
echo "ok: shunt-echo --capture FILE --capture-filter EXPR"

# ---- the log level -------------------------------------------------------------
echo "log = error" >> "$WORK/shunt.conf"
shunt_start "$WORK/quiet.log" "$SHUNT_ECHO" -c "$WORK/shunt.conf" || fail "shunt-echo did not start"
shunt_stop || fail "shunt-echo exited with an error"
grep -q "^shunt: up on port" "$WORK/quiet.log" && fail "log = error still logs the info line"
echo "ok: log = error keeps the info lines out"
