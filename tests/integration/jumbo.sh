#!/bin/bash
# jumbo.sh - jumbo frames between two Shunt processes over net_memif
# (stack/dev.c): mtu = 9000 at both ends, the vdev's bsize 9216 (one memif
# descriptor a frame), mbufs of 2,048 bytes, so every full frame is a chain
# of five mbufs as Shunt sends it (port/mbuf.c) and as memif hands it over.
#   - shunt-echo --client sends 10 MB to shunt-echo on Shunt and checks the
#     echo byte for byte: chained frames both ways;
#   - the client's capture holds 9,014-byte frames (8,960-byte segments,
#     the MSS lwIP takes from the netif's MTU) each way;
#   - both ends' frame balances hold, nothing dropped but the two frames
#     the IPv6 start-up sends to no one here;
#   - mtu = 9000 with memif's default bsize is refused, in one line that
#     says which bsize it needs.
. "$(dirname "$0")/lib.sh"

sock="$WORK/memif.sock"
memif_conf() {  # memif_conf FILE CORE ROLE IP BSIZE
    cat > "$1" <<CONF
eal = -l $2 --file-prefix=shunt-$TAG-$3 --no-pci --log-level=lib.eal:error --vdev=net_memif0,role=$3,socket=$sock$5
ip = $4/24
mtu = 9000
CONF
}
memif_conf "$WORK/server.conf" 0 server 10.12.0.1 ,bsize=9216
memif_conf "$WORK/client.conf" 1 client 10.12.0.2 ,bsize=9216
cleanup_memif() { rm -rf "/var/run/dpdk/shunt-$TAG-server" "/var/run/dpdk/shunt-$TAG-client"; }
trap 'cleanup_memif; tb_cleanup' EXIT

bg "$WORK/shunt.log" "$SHUNT_ECHO" -c "$WORK/server.conf" -p 7
SHUNT_PID=$BG_PID
wait_for_line "$WORK/shunt.log" "^shunt-echo: running" 30 || fail "shunt-echo over memif did not start"
grep -q "mtu 9000" "$WORK/shunt.log" || fail "the server's port is not at mtu 9000"

timeout 120 "$SHUNT_ECHO" -c "$WORK/client.conf" --client 10.12.0.1 -p 7 -n 10000000 -m 65536 \
    --capture "$WORK/client.pcap" > "$WORK/client.log" 2>&1 ||
    fail "the client failed: $(cat "$WORK/client.log")"
expect_in "$WORK/client.log" "^shunt-echo: verified 10000000 bytes over 1 connection"

kill -INT "$SHUNT_PID"
wait "$SHUNT_PID" || fail "shunt-echo exited with an error: $(cat "$WORK/shunt.log")"
SHUNT_PID=

# Both ends: every frame accounted for, and no frame the other end could
# not read (a frame glued to the next would be bad_frame, not_for_us or
# bad_checksum).  Up to 3 frames for another host are the other end's
# start-up reports of its solicited-node groups: lwIP's MLDv1 report, and
# Shunt's MLDv2 report and its repeat (port/mcreport.h), to groups this end
# is not in.
for log in "$WORK/client.log" "$WORK/shunt.log"; do
    expect_in "$log" "^shunt: frames in  holds:"
    expect_in "$log" "^shunt: frames out holds:"
    expect_in "$log" "bad_frame=0 .*bad_checksum=0 .*\(total [0-3]\)"
done

# The frames were jumbo: full-sized 9,014-byte frames each way.
python3 - "$WORK/client.pcap" <<'PY' || fail "the capture holds no jumbo frames both ways"
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, sizes = 24, {"out": 0, "in": 0}
client_mac = None
while off + 16 <= len(data):
    _, _, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if orig != 9014 or frame[12:14] != b"\x08\x00":
        continue
    way = "out" if frame[26:30] == bytes([10, 12, 0, 2]) else "in"
    sizes[way] += 1
print("jumbo: 9014-byte frames in the client's capture: %d sent, %d received" % (sizes["out"], sizes["in"]))
sys.exit(0 if sizes["out"] >= 500 and sizes["in"] >= 500 else 1)
PY

# The default bsize (2,048) cannot carry a 9,014-byte frame in one descriptor.
memif_conf "$WORK/small.conf" 1 server 10.12.0.1 ""
rc=0
"$SHUNT_ECHO" -c "$WORK/small.conf" -p 7 > "$WORK/small.log" 2>&1 </dev/null || rc=$?
[ $rc = 1 ] || fail "mtu 9000 with bsize 2048: exit $rc, expected 1: $(cat "$WORK/small.log")"
expect_in "$WORK/small.log" \
    "^shunt: mtu = 9000 in .*: port net_memif0 takes [0-9]+ to 2034 with bsize=2048: give its vdev bsize=9014 or more$"
echo "jumbo: PASS"
