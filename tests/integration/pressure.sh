#!/bin/bash
# pressure.sh - sockets that never read must not starve the port.  Forty
# connections wait, unaccepted, while their peers send all their windows
# will take; the pool (4,095 mbufs) could not hold that much.  Shunt moves
# the data out of its mbufs once the pool runs low, so the stack still
# receives and sends: pings are answered, mbufs stay free, and the port
# never once fails to get one.  (Frames may still be lost while the loop
# copies: forty windows are more than the port's ring holds; they count as
# rx_nombuf, and TCP sends them again.)
. "$(dirname "$0")/lib.sh"

SHUNT_STAT="$top_builddir/apps/shunt-stat"
tb_up "mbufs = 4095" "rx_ring = 256" "tx_ring = 256"
# shunt-echo keeps listening but never accepts (tb_up started it plain:
# restart it so).
shunt_stop || fail "shunt-echo exited with an error"
shunt_start "$WORK/shunt.log" "$SHUNT_ECHO" -c "$WORK/shunt.conf" --no-accept -b 100 ||
    fail "shunt-echo --no-accept did not start"

peer /usr/bin/python3 - "$TOPO_SHUNT4" <<'PY' || fail "the peer's senders failed"
import socket, sys, threading, time

def push():
    s = socket.create_connection((sys.argv[1], 7), timeout=5)
    s.settimeout(3)
    end = time.time() + 3
    try:
        while time.time() < end:
            s.send(b"x" * 65536)
    except socket.timeout:
        pass                            # the window closed: as it should
    threading.Event().wait(1)

threads = [threading.Thread(target=push) for _ in range(40)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("senders done")
PY

stats=$("$SHUNT_STAT" -p "shunt-$TAG" --json -n 1) || fail "shunt-stat failed: $stats"
/usr/bin/python3 - "$stats" <<'PY' || fail "pool starved: $stats"
import json, sys
s = json.loads(sys.argv[1])["/shunt/stats"]
free, heap = s["mbufs"]["free"], s["pools"]["heap_used"]
print(f"mbufs free {free} of {s['mbufs']['size']}, {heap} bytes of waiting data in lwIP's heap")
assert free >= 512, "the pool ran dry"
assert heap >= 4 << 20, "the data did not move out of the mbufs"
assert s["port"]["rx_nombuf"] == 0, f"the port failed {s['port']['rx_nombuf']} times to get an mbuf"
PY
expect_output " 0% packet loss" peer ping -c 3 -i 0.2 -W 2 "$TOPO_SHUNT4"
shunt_stop || fail "shunt-echo exited with an error"
echo "ok: the port kept its mbufs ($(counter rx_nombuf) frames lost at its ring while the loop copied)"
