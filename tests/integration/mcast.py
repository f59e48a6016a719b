#!/usr/bin/python3
"""mcast.py - the two ends of tests/integration/mcast.sh.

recv FIFO PORT        a receiver (run under shunt-run): UDP sockets on PORT,
                      IPv4 and IPv6, taking commands a line at a time from
                      FIFO and printing what they did:
                        join G | leave G | ssm G S | dropssm G S | block G S
                        join6 G | joinmany FIRST N | leavemany FIRST N
                        expect N SECS   read until N datagrams or SECS pass;
                                        prints "got M: G=count ..."
                        quit
send G COUNT PORT IF  the publisher (in the peer's namespace): COUNT
                      datagrams to G out of the interface with address IF,
                      each saying its group
sendmany FIRST N PORT IF   one datagram to each of N groups from FIRST on
query KIND IFACE [G]  a query crafted with scapy on IFACE (v1, v2, v2group,
                      v3, v3group, mld, mld2), then the reports heard
                      within 2 s (below)
listen SECS IFACE     the reports heard on IFACE for SECS, after a line
                      "listening"
Reports print one line each, "report TYPE GROUP" (IGMPv1/v2, MLDv1: the
group the message names; IGMPv3, MLDv2: none), and for IGMPv3 and MLDv2
one more line a group record: "record TYPE GROUP SOURCE...".
"""
import ipaddress
import select
import socket
import struct
import sys
import time


# <linux/in.h>'s, which Python's socket module lacks.
IP_BLOCK_SOURCE = 38
IP_ADD_SOURCE_MEMBERSHIP = 39
IP_DROP_SOURCE_MEMBERSHIP = 40


def say(*words):
    print(*words, flush=True)


def mreq(group, iface="0.0.0.0"):
    return socket.inet_aton(group) + socket.inet_aton(iface)


def mreq_source(group, source):
    # struct ip_mreq_source: group, interface, source
    return socket.inet_aton(group) + socket.inet_aton("0.0.0.0") + socket.inet_aton(source)


def groups_from(first, n):
    base = int(ipaddress.IPv4Address(first))
    return [str(ipaddress.IPv4Address(base + i)) for i in range(n)]


def receiver(fifo, port):
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s4.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)     # 1,000 in a burst
    s4.bind(("0.0.0.0", port))
    s4.setblocking(False)
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s6.bind(("::", port))
    say("mcast.py: ready")
    with open(fifo) as commands:
        for line in commands:
            words = line.split()
            if not words:
                continue
            cmd, args = words[0], words[1:]
            if cmd == "quit":
                break
            if cmd == "join":
                s4.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq(args[0]))
            elif cmd == "leave":
                s4.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreq(args[0]))
            elif cmd == "ssm":
                s4.setsockopt(socket.IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP,
                              mreq_source(args[0], args[1]))
            elif cmd == "dropssm":
                s4.setsockopt(socket.IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP,
                              mreq_source(args[0], args[1]))
            elif cmd == "block":
                s4.setsockopt(socket.IPPROTO_IP, IP_BLOCK_SOURCE,
                              mreq_source(args[0], args[1]))
            elif cmd == "join6":
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                              socket.inet_pton(socket.AF_INET6, args[0]) + struct.pack("@I", 0))
            elif cmd in ("joinmany", "leavemany"):
                opt = socket.IP_ADD_MEMBERSHIP if cmd == "joinmany" else socket.IP_DROP_MEMBERSHIP
                for g in groups_from(args[0], int(args[1])):
                    s4.setsockopt(socket.IPPROTO_IP, opt, mreq(g))
            elif cmd == "expect":
                want, deadline = int(args[0]), time.monotonic() + float(args[1])
                seen = {}
                while sum(seen.values()) < want and time.monotonic() < deadline:
                    try:
                        data = s4.recv(2048)
                    except BlockingIOError:
                        time.sleep(0.001)
                        continue
                    g = data.decode().split()[0]
                    seen[g] = seen.get(g, 0) + 1
                say("got %d:" % sum(seen.values()),
                    " ".join("%s=%d" % kv for kv in sorted(seen.items())))
                continue
            say("done", line.strip())
    say("mcast.py: bye")


def sender(groups, count, port, iface):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface))
    sent = 0
    for g in groups:
        for i in range(count):
            s.sendto(("%s %d" % (g, i)).encode(), (g, port))
            sent += 1
            if sent % 50 == 0:
                time.sleep(0.002)   # a reader in Python keeps up
    say("sent", len(groups) * count)


def records(msg, alen):
    """The group records of an IGMPv3 or MLDv2 report (RFC 3376 4.2, RFC 3810 5.2)."""
    conv = socket.AF_INET if alen == 4 else socket.AF_INET6
    off, out = 8, []
    for _ in range(struct.unpack("!H", msg[6:8])[0]):
        rtype, aux, n = msg[off], msg[off + 1], struct.unpack("!H", msg[off + 2:off + 4])[0]
        addrs = [socket.inet_ntop(conv, msg[off + 4 + alen * i:off + 4 + alen * (i + 1)])
                 for i in range(n + 1)]
        out.append("record %d %s" % (rtype, " ".join(addrs)))
        off += 4 + alen * (n + 1) + 4 * aux
    return out


def say_reports(packets, querier):
    from scapy.all import IP, IPv6
    from scapy.layers.inet6 import IPv6ExtHdrHopByHop
    for p in packets:
        if IPv6 in p and IPv6ExtHdrHopByHop in p:
            msg = bytes(p[IPv6ExtHdrHopByHop].payload)
            if msg[:1] in (b"\x83", b"\x84"):
                say("report", msg[0], socket.inet_ntop(socket.AF_INET6, msg[8:24]))
            elif msg[:1] == b"\x8f":
                say("report", 143)
                for r in records(msg, 16):
                    say(r)
        elif IP in p and p[IP].src != querier:
            msg = bytes(p[IP].payload)
            if msg[0] == 0x22:
                say("report", "0x22")
                for r in records(msg, 4):
                    say(r)
            else:
                say("report", "0x%02x" % msg[0], socket.inet_ntoa(msg[4:8]))


def query(kind, iface, group=None):
    from scapy.all import AsyncSniffer, Ether, IP, IPv6, Raw, conf, sendp
    from scapy.contrib.igmp import IGMP
    from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mq
    from scapy.layers.inet6 import ICMPv6MLQuery, IPv6ExtHdrHopByHop, RouterAlert
    conf.verb = 0
    if kind.startswith("mld"):
        q = (Ether(dst="33:33:00:00:00:01") /
             IPv6(src="fe80::1", dst="ff02::1", hlim=1) /
             IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
             ICMPv6MLQuery(mrd=1000))
        if kind == "mld2":          # QRV 2, QQIC 125, no sources: 28 bytes
            q = q / Raw(b"\x02\x7d\x00\x00")
        flt = "ip6"                 # the reports carry a hop-by-hop header
    else:
        dst = group if kind.endswith("group") else "224.0.0.1"
        mac = "01:00:5e:%02x:%02x:%02x" % tuple(
            [int(b) for b in dst.split(".")][1:]) if dst != "224.0.0.1" else "01:00:5e:00:00:01"
        gaddr = group if kind.endswith("group") else "0.0.0.0"
        if kind.startswith("v1"):
            body = IGMP(type=0x11, mrcode=0, gaddr=gaddr)      # 10 s
        elif kind.startswith("v2"):
            body = IGMP(type=0x11, mrcode=10, gaddr=gaddr)     # 1 s
        else:
            body = IGMPv3(type=0x11, mrcode=10) / IGMPv3mq(gaddr=gaddr)
        q = Ether(dst=mac) / IP(src="10.9.0.1", dst=dst, ttl=1, options=[b"\x94\x04\x00\x00"]) / body
        flt = "igmp"
    sniffer = AsyncSniffer(iface=iface, filter=flt, store=True)
    sniffer.start()
    time.sleep(0.3)
    sendp(q, iface=iface)
    time.sleep(11 if kind.startswith("v1") else 2)     # the queries allow 10 s and 1 s
    say_reports(sniffer.stop(), "10.9.0.1")
    say("query done")


def listen(secs, iface):
    from scapy.all import AsyncSniffer, conf
    conf.verb = 0
    sniffer = AsyncSniffer(iface=iface, filter="igmp or ip6", store=True)
    sniffer.start()
    time.sleep(0.3)
    say("listening")
    time.sleep(secs)
    say_reports(sniffer.stop(), None)
    say("listen done")


def main():
    mode = sys.argv[1]
    if mode == "recv":
        receiver(sys.argv[2], int(sys.argv[3]))
    elif mode == "send":
        sender([sys.argv[2]], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif mode == "sendmany":
        sender(groups_from(sys.argv[2], int(sys.argv[3])), 1, int(sys.argv[4]), sys.argv[5])
    elif mode == "listen":
        listen(float(sys.argv[2]), sys.argv[3])
    elif mode == "query":
        query(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        sys.exit("mcast.py: no mode " + mode)


if __name__ == "__main__":
    main()
