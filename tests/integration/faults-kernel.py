#!/usr/bin/python3
"""faults-kernel.py - the helpers of faults-kernel.sh that read JSON or
speak UDP (only the standard library: Debian's /usr/bin/python3).

  udp HOST PORT COUNT      (the peer) COUNT numbered datagrams to the echo,
                           paced; prints "sent N unique U total T": the
                           echoes of distinct numbers and all echoes
  get FILE KEY...          a value from shunt-stat --json's /shunt/stats:
                           KEY.KEY... paths, one line each
  drops BEFORE AFTER [CAUSE...]  what those drop causes rose by between
                           two shunt-stat --json files; none named: all but
                           not_for_us (the peer's own multicast, its IPv6
                           neighbour and listener chatter, lands there: a
                           datagram to Shunt's address and MAC cannot)
  balance FILE             exit 1 unless the frame balance holds both ways
"""
import json
import socket
import sys
import time


def stats(path):
    with open(path) as f:
        return json.load(f)["/shunt/stats"]


def get(s, key):
    for part in key.split("."):
        s = s[part]
    return s


def udp(host, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.setblocking(False)
    seen, total = set(), 0

    def drain():
        nonlocal total
        while True:
            try:
                data = s.recv(2048)
            except BlockingIOError:
                return
            total += 1
            seen.add(int.from_bytes(data[:4], "big"))

    for i in range(count):
        s.sendto(i.to_bytes(4, "big") + bytes(196), (host, port))
        if i % 20 == 19:
            time.sleep(0.002)       # paced: no socket's queue overflows
            drain()
    end = time.monotonic() + 1.5    # the last echoes, and those delayed
    while time.monotonic() < end:
        time.sleep(0.01)
        drain()
    print(f"sent {count} unique {len(seen)} total {total}")


def main(argv):
    cmd = argv[1]
    if cmd == "udp":
        udp(argv[2], int(argv[3]), int(argv[4]))
    elif cmd == "get":
        s = stats(argv[2])
        for key in argv[3:]:
            print(get(s, key))
    elif cmd == "drops":
        before, after = stats(argv[2])["drops"], stats(argv[3])["drops"]
        causes = argv[4:] or [c for c in after if c != "not_for_us"]
        print(sum(after[c] - before[c] for c in causes))
    elif cmd == "balance":
        b = stats(argv[2])["balance"]
        if not (b["in"] == 1 and b["out"] == 1):
            sys.exit(f"the frame balance does not hold: {json.dumps(b)}")
    else:
        sys.exit(f"faults-kernel.py: unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
