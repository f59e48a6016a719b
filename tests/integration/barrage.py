#!/usr/bin/python3
"""barrage.py - malformed and hostile frames at Shunt, from the peer's namespace.

  barrage.py IFACE SHUNT_MAC PORT CLOSED_PORT

Run in the peer's namespace against shunt-echo (TCP and UDP echo on PORT,
nothing on CLOSED_PORT).  Before the barrage it opens a TCP connection to
PORT; after each kind of frame that connection must still echo byte for
byte.  Then a SYN flood of --flood frames from random sources, during which
a legitimate client tries to connect (it says whether it did).  At the end
a new connection must be accepted and echo.  Prints one line per kind,
"sent N" with the total, and exits 0 if every echo came back intact.

scapy builds the frames; they go out in bulk on one raw AF_PACKET socket
(scapy's own sendp costs a system call and a Python object per frame: the
SYN flood alone would take minutes).
"""
import argparse
import errno
import os
import random
import socket
import struct
import sys
import threading
import time

from scapy.all import (ARP, ICMP, IP, IPv6, TCP, UDP, Ether, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr,
                       Raw, fragment)
from scapy.layers.inet import IPOption_Router_Alert, IPOption_NOP

SHUNT4, SHUNT6, PEER4, PEER6 = "10.9.0.2", "fd00:9::2", "10.9.0.1", "fd00:9::1"


def echo_ok(sock, size=1024):
    """One round of echo on sock, byte for byte."""
    data = os.urandom(size)
    sock.sendall(data)
    got = b""
    while len(got) < size:
        chunk = sock.recv(size - len(got))
        if not chunk:
            return False
        got += chunk
    return got == data


class Barrage:
    def __init__(self, args):
        self.args = args
        self.raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.raw.bind((args.iface, 0))
        self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
        self.eth = Ether(dst=args.mac)
        self.sent = 0
        self.live = socket.create_connection((SHUNT4, args.port), timeout=10)
        self.live.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.lport = self.live.getsockname()[1]
        self.ok = True

    def send(self, frames):
        for f in frames:
            b = f if isinstance(f, bytes) else bytes(f)
            while True:
                try:
                    self.raw.send(b)
                    break
                except OSError as e:     # the veth's queue is full: let it drain
                    if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                        raise
                    time.sleep(0.001)
            self.sent += 1

    def kind(self, name, frames):
        frames = list(frames)
        self.send(frames)
        time.sleep(0.05)
        alive = echo_ok(self.live)
        self.ok &= alive
        print(f"{name}: {len(frames)} frames, live connection {'echoes' if alive else 'BROKEN'}",
              flush=True)

    # ---- the kinds --------------------------------------------------------------

    def ip4(self, **kw):
        return self.eth / IP(src=PEER4, dst=SHUNT4, **kw)

    def truncated(self):
        whole = [bytes(self.ip4() / TCP(dport=self.args.port, flags="S") / Raw(b"x" * 20)),
                 bytes(self.ip4() / UDP(dport=self.args.port) / Raw(b"x" * 20)),
                 bytes(self.ip4() / ICMP() / Raw(b"x" * 20)),
                 bytes(self.eth / IPv6(src=PEER6, dst=SHUNT6) / TCP(dport=self.args.port)),
                 bytes(self.eth / ARP(pdst=SHUNT4, psrc=PEER4))]
        # Every length from the Ethernet header (the kernel sends nothing
        # shorter) to the whole: each header boundary and between.
        return [w[:n] for w in whole for n in range(14, len(w))]

    def garbage(self):
        rnd = random.Random(12)
        frames = [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(14, 1514))) for _ in range(300)]
        # Garbage behind a valid Ethernet header for Shunt, of each type it reads.
        for etype in (0x0800, 0x86DD, 0x0806):
            for _ in range(100):
                frames.append(bytes(Ether(dst=self.args.mac, type=etype)) +
                              bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 200))))
        return frames

    def bad_ip(self):
        t = TCP(dport=self.args.port, flags="S")
        frames = [self.ip4(version=v) / t for v in (0, 1, 5, 6, 7, 15)]
        frames += [self.ip4(ihl=h) / t for h in (0, 1, 4, 6, 15)]
        frames += [self.ip4(len=n) / t for n in (0, 1, 19, 20, 39, 41, 1500, 65535)]
        frames += [self.ip4(chksum=c) / t for c in (0, 1, 0xffff)]
        frames += [self.ip4(options=[IPOption_Router_Alert()]) / ICMP(),
                   self.ip4(options=[IPOption_NOP()] * 40) / ICMP(),
                   self.ip4(options=b"\x44\x28" + b"\x00" * 38) / ICMP()]      # timestamp, 40 bytes
        frames += [self.ip4(ttl=0) / ICMP(), self.ip4(ttl=0) / TCP(dport=self.args.port, flags="S")]
        frames += [self.eth / IP(src=SHUNT4, dst=SHUNT4) /               # land
                   TCP(sport=self.args.port, dport=self.args.port, flags="S")] * 3
        frames += [self.ip4(proto=p) / Raw(b"x" * 20) for p in (0, 2, 41, 47, 50, 132, 255)]
        return frames

    def flags(self):
        base = random.Random(3).randrange(1 << 32)
        return [self.ip4() / TCP(sport=40000 + f, dport=port, flags=f, seq=base + f, ack=base)
                for port in (self.args.port, self.args.closed) for f in range(256)]

    def bad_tcp(self):
        p = self.args.port
        frames = [self.ip4() / TCP(dport=p, flags="S", dataofs=d) for d in (0, 1, 4, 6, 15)]
        frames += [self.ip4() / TCP(dport=p, flags="S", chksum=c) for c in (0, 1, 0xffff)]
        frames += [self.ip4() / TCP(sport=41000 + i, dport=p, flags="S", options=o)
                   for i, o in enumerate([[("MSS", 0)], [("WScale", 200)], [("MSS", 1)],
                                          [("MSS", 1460)] * 5, [("WScale", 14)] * 5,
                                          [("SAckOK", b"")] * 3, [("Timestamp", (0, 0))] * 3,
                                          [("SAck", (1, 2, 3, 4, 5, 6, 7, 8))]])]
        # Options cut short, of length 0 or 1, or running past the header.
        for raw in (b"\x02", b"\x02\x00\x00\x00", b"\x02\x01\x00\x00", b"\x03\x02\x00\x00",
                    b"\x08\x0a\x00\x00", b"\x05\xff\x00\x00", b"\xfe\x28\x00\x00"):
            # One word of options, as the header's data offset (6) says.
            frames.append(self.ip4() / TCP(sport=41100, dport=p, flags="S", dataofs=6) / Raw(raw))
        return frames

    def blind(self):
        rnd = random.Random(5)
        at = dict(sport=self.lport, dport=self.args.port)
        frames = []
        for _ in range(50):
            seq, ack = rnd.randrange(1 << 32), rnd.randrange(1 << 32)
            frames += [self.ip4() / TCP(flags="R", seq=seq, **at),
                       self.ip4() / TCP(flags="RA", seq=seq, ack=ack, **at),
                       self.ip4() / TCP(flags="S", seq=seq, **at),
                       self.ip4() / TCP(flags="PA", seq=seq, ack=ack, **at) / Raw(b"blind data"),
                       self.ip4() / TCP(flags="FA", seq=seq, ack=ack, **at)]
        return frames

    def bad_udp(self):
        p = self.args.port
        return ([self.ip4() / UDP(dport=p, len=n) / Raw(b"x" * 16) for n in (0, 1, 7, 8, 23, 25, 65535)] +
                [self.ip4() / UDP(dport=p, chksum=c) / Raw(b"x" * 16) for c in (1, 0xffff)])

    def fragments(self):
        big = self.ip4(id=7000) / UDP(dport=self.args.port) / Raw(b"u" * 3000)
        frames = []
        parts = fragment(big, fragsize=800)
        frames += list(reversed(parts))                             # out of order, complete
        frames += parts[:-1]                                        # never completed
        tiny = fragment(self.ip4(id=7001) / TCP(dport=self.args.port, flags="S"), fragsize=8)
        frames += tiny                                              # tiny: the TCP header split
        # Overlapping: the second fragment starts inside the first.
        payload = bytes(UDP(dport=self.args.port) / Raw(b"o" * 64))
        frames += [self.ip4(id=7002, flags="MF", frag=0, proto=17) / Raw(payload[:48]),
                   self.ip4(id=7002, frag=4, proto=17) / Raw(payload[32:])]
        # Oversized: offsets that end past 65,535 bytes.
        frames += [self.ip4(id=7003, flags="MF", frag=8189, proto=17) / Raw(b"z" * 1000),
                   self.ip4(id=7003, frag=8191, proto=17) / Raw(b"z" * 1000)]
        frames += [self.eth / IPv6(src=PEER6, dst=SHUNT6) / f for f in
                   (bytes.fromhex("11000001deadbeef") + b"v" * 64,     # a lone first part
                    bytes.fromhex("1100fff8deadbeef") + b"v" * 64)]    # an offset at the end
        for f in frames[-2:]:
            f[IPv6].nh = 44
        return frames

    def icmp_errors(self):
        quote = IP(src=SHUNT4, dst=PEER4) / TCP(sport=self.args.port, dport=self.lport,
                                                 seq=random.randrange(1 << 32))
        return [self.ip4() / ICMP(type=t, code=c) / bytes(quote)[:28]
                for t, c in ((3, 0), (3, 1), (3, 2), (3, 3), (3, 4), (11, 0), (12, 0), (4, 0), (5, 1))]

    def spoofing(self):
        other = "02:00:00:00:99:99"
        return ([Ether(dst="ff:ff:ff:ff:ff:ff", src=other) /
                 ARP(op=op, hwsrc=other, psrc=SHUNT4, pdst=SHUNT4) for op in (1, 2)] +
                [Ether(dst=self.args.mac, src=other) / ARP(op=2, hwsrc=other, psrc=SHUNT4,
                                                           hwdst=self.args.mac, pdst=SHUNT4)] +
                [Ether(dst="33:33:00:00:00:01", src=other) /
                 IPv6(src="fe80::99", dst="ff02::1") /
                 ICMPv6ND_NA(tgt=SHUNT6, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=other)])

    # ---- the flood ------------------------------------------------------------------

    def flood(self, n):
        """n SYNs from random addresses and ports; a client connects meanwhile."""
        tmpl = bytearray(bytes(self.ip4() / TCP(dport=self.args.port, flags="S", window=1024)))
        rnd = random.Random(9)
        result = {}

        def client():
            time.sleep(0.2)
            t0 = time.time()
            try:
                s = socket.create_connection((SHUNT4, self.args.port), timeout=5)
                result["echo"] = echo_ok(s)
                s.close()
            except OSError as e:
                result["error"] = e.strerror or str(e)
            result["secs"] = time.time() - t0

        th = threading.Thread(target=client)
        th.start()
        t0 = time.time()
        for _ in range(n):
            src = struct.pack("!I", rnd.randrange(0x0b000000, 0xdf000000))
            tmpl[26:30] = src
            tmpl[24:26] = b"\0\0"
            tmpl[24:26] = struct.pack("!H", checksum(tmpl[14:34]))
            tmpl[34:36] = struct.pack("!H", rnd.randrange(1024, 65536))
            tmpl[38:42] = struct.pack("!I", rnd.randrange(1 << 32))
            tmpl[50:52] = b"\0\0"
            pseudo = tmpl[26:34] + b"\0\x06\0\x14"
            tmpl[50:52] = struct.pack("!H", checksum(pseudo + tmpl[34:54]))
            self.send([bytes(tmpl)])
        secs = time.time() - t0
        th.join()
        how = ("connected and echoed" if result.get("echo") else
               f"failed: {result.get('error', 'echo differs')}")
        print(f"syn flood: {n} frames in {secs:.1f} s; a client during it {how} "
              f"after {result['secs']:.1f} s", flush=True)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("mac")
    ap.add_argument("port", type=int)
    ap.add_argument("closed", type=int)
    ap.add_argument("--flood", type=int, default=100000)
    args = ap.parse_args()
    b = Barrage(args)
    for name in ("truncated", "garbage", "bad_ip", "flags", "bad_tcp", "blind", "bad_udp",
                 "fragments", "icmp_errors", "spoofing"):
        b.kind(name, getattr(b, name)())
    b.flood(args.flood)
    time.sleep(0.5)
    alive = echo_ok(b.live)
    print(f"after the flood: live connection {'echoes' if alive else 'BROKEN'}", flush=True)
    b.live.close()
    try:
        s = socket.create_connection((SHUNT4, args.port), timeout=10)
        fresh = echo_ok(s)
        s.close()
    except OSError as e:
        print(f"a new connection: {e}", flush=True)
        fresh = False
    print(f"a new connection afterwards: {'echoes' if fresh else 'FAILED'}", flush=True)
    print(f"sent {b.sent}", flush=True)
    return 0 if b.ok and alive and fresh else 1


if __name__ == "__main__":
    sys.exit(main())
