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
query KIND IFACE [G]  a query crafted with scapy on IFACE (v2, v2group,
                      v3, v3group, mld), then the reports heard within
                      2 s, one line each: "report TYPE GROUP"
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


def query(kind, iface, group=None):
    from scapy.all import AsyncSniffer, Ether, IP, IPv6, Raw, conf, sendp
    from scapy.contrib.igmp import IGMP
    from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mq
    from scapy.layers.inet6 import (ICMPv6MLQuery, ICMPv6MLReport, IPv6ExtHdrHopByHop,
                                    RouterAlert)
    conf.verb = 0
    if kind == "mld":
        q = (Ether(dst="33:33:00:00:00:01") /
             IPv6(src="fe80::1", dst="ff02::1", hlim=1) /
             IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
             ICMPv6MLQuery(mrd=1000))
        flt = "ip6"                 # the reports carry a hop-by-hop header
    else:
        dst = group if kind.endswith("group") else "224.0.0.1"
        mac = "01:00:5e:%02x:%02x:%02x" % tuple(
            [int(b) for b in dst.split(".")][1:]) if dst != "224.0.0.1" else "01:00:5e:00:00:01"
        gaddr = group if kind.endswith("group") else "0.0.0.0"
        if kind.startswith("v2"):
            body = IGMP(type=0x11, mrcode=10, gaddr=gaddr)     # 1 s
        else:
            body = IGMPv3(type=0x11, mrcode=10) / IGMPv3mq(gaddr=gaddr)
        q = Ether(dst=mac) / IP(src="10.9.0.1", dst=dst, ttl=1, options=[b"\x94\x04\x00\x00"]) / body
        flt = "igmp"
    sniffer = AsyncSniffer(iface=iface, filter=flt, store=True)
    sniffer.start()
    time.sleep(0.3)
    sendp(q, iface=iface)
    time.sleep(2)                   # the queries allow 1 s
    for p in sniffer.stop():
        if kind == "mld":
            if ICMPv6MLReport in p:
                say("report", 131, p[ICMPv6MLReport].mladdr)
            elif p.haslayer(Raw) and IPv6 in p and bytes(p[Raw])[:1] == b"\x8f":
                say("report", 143, "v2")
            continue
        if IP in p and p[IP].src != "10.9.0.1":
            raw = bytes(p[IP].payload)
            say("report", "0x%02x" % raw[0], socket.inet_ntoa(raw[4:8]))
    say("query done")


def main():
    mode = sys.argv[1]
    if mode == "recv":
        receiver(sys.argv[2], int(sys.argv[3]))
    elif mode == "send":
        sender([sys.argv[2]], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif mode == "sendmany":
        sender(groups_from(sys.argv[2], int(sys.argv[3])), 1, int(sys.argv[4]), sys.argv[5])
    elif mode == "query":
        query(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        sys.exit("mcast.py: no mode " + mode)


if __name__ == "__main__":
    main()
