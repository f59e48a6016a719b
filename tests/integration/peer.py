#!/usr/bin/python3
"""peer.py - the Linux kernel's side of Shunt's integration tests.

Run it in the peer's network namespace.  Each command does one thing to the
echo server (or serves the Shunt client), prints one line saying what it
saw, and exits 0 if that is what a correct peer does, 1 if not, 2 when it
could not even try (bad arguments, no address):

  echo-server PORT            TCP and UDP echo on [::]:PORT until SIGINT/SIGTERM
  tcp-bulk HOST PORT BYTES    send random bytes while reading the echo; sha256 equal
  tcp-many HOST PORT          --conns N connections at once, each echoed intact
  tcp-halfclose HOST PORT BYTES  send all, shut down writing, then read the echo
  tcp-reset HOST PORT         one echo, then close with a reset (SO_LINGER 0)
  tcp-refused HOST PORT       connect is refused (a RST, not silence)
  tcp-keepalive HOST PORT     an idle connection with keepalive survives its probes
  backlog HOST PORT           handshakes complete against a listener that never
                              accepts: at most --backlog + 1, the rest get no SYN-ACK
  udp HOST PORT SIZE...       datagrams of each size echoed intact (or, with
                              --expect-none, not answered at all)
  mcast GROUP PORT            datagrams to GROUP answered by unicast from --expect
                              (or by no one, --expect-none)

Only the standard library: it runs under Debian's /usr/bin/python3.
"""
import argparse
import errno
import hashlib
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time

STALL = 20.0            # seconds without progress before a command gives up
UDP_WAIT = 2.0          # seconds to wait for a datagram's echo
UDP_TRIES = 4
BLOCK = 1 << 20         # the bulk transfer compares its data by 1 MiB blocks

PROG = "peer"


class Fail(Exception):
    """What the peer saw was wrong: exit 1 with this message."""


def say(cmd, msg):
    print(f"{PROG}: {cmd}: {msg}", flush=True)


def err_name(e):
    """ECONNRESET (Connection reset by peer), from an OSError or an errno."""
    code = e.errno if isinstance(e, OSError) else e
    return f"{errno.errorcode.get(code, code)} ({os.strerror(code)})"


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def address(host, port, type_=socket.SOCK_STREAM):
    try:
        family, _, _, _, sa = socket.getaddrinfo(host, port, type=type_)[0]
    except socket.gaierror as e:
        print(f"{PROG}: {host}: {e}", file=sys.stderr)
        sys.exit(2)
    return family, sa


def connect(host, port, timeout=STALL):
    family, sa = address(host, port)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sa)
    except OSError as e:
        s.close()
        raise Fail(f"connect to {host} port {port}: {err_name(e) if e.errno else 'timed out'}")
    return s


class BlockHash:
    """sha256 of a byte stream, whole and per 1 MiB block (to say where two
    streams first differ)."""

    def __init__(self):
        self.whole = hashlib.sha256()
        self.blocks = []
        self.block = hashlib.sha256()
        self.fill = 0
        self.size = 0

    def update(self, data):
        self.whole.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            take = min(len(view), BLOCK - self.fill)
            self.block.update(view[:take])
            self.fill += take
            view = view[take:]
            if self.fill == BLOCK:
                self.blocks.append(self.block.hexdigest())
                self.block, self.fill = hashlib.sha256(), 0

    def finish(self):
        if self.fill:
            self.blocks.append(self.block.hexdigest())
            self.block, self.fill = hashlib.sha256(), 0
        return self

    def first_difference(self, other):
        for i, (a, b) in enumerate(zip(self.blocks, other.blocks)):
            if a != b:
                return f"first difference in bytes {i * BLOCK}..{(i + 1) * BLOCK - 1}"
        return f"{self.size} bytes sent, {other.size} received"


# ---- the echo server ------------------------------------------------------

class EchoServer:
    """TCP and UDP echo on [::]:port, for the Shunt client.  Like
    shunt-echo: a connection stops being read while 1 MiB of echo waits,
    and after the peer's FIN it sends the rest, then its own FIN."""

    LIMIT = 1 << 20

    def __init__(self, port):
        self.sel = selectors.DefaultSelector()
        self.stats = dict(accepted=0, reset=0, failed=0, bytes=0, datagrams=0)
        self.conns = {}
        self.tcp = self.dual_stack(socket.SOCK_STREAM, port)
        self.tcp.listen(1024)
        self.udp = self.dual_stack(socket.SOCK_DGRAM, port)
        self.sel.register(self.tcp, selectors.EVENT_READ, self.accept)
        self.sel.register(self.udp, selectors.EVENT_READ, self.datagram)

    @staticmethod
    def dual_stack(type_, port):
        s = socket.socket(socket.AF_INET6, type_)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port))
        s.setblocking(False)
        return s

    def accept(self, _mask):
        try:
            s, addr = self.tcp.accept()
        except BlockingIOError:
            return
        s.setblocking(False)
        self.conns[s] = dict(addr=f"[{addr[0]}]:{addr[1]}", buf=bytearray(), eof=False)
        self.stats["accepted"] += 1
        self.sel.register(s, selectors.EVENT_READ, lambda mask, s=s: self.serve(s, mask))

    def drop(self, s, e=None):
        c = self.conns.pop(s)
        if e is not None:
            self.stats["reset" if e.errno == errno.ECONNRESET else "failed"] += 1
            say("echo-server", f"tcp {c['addr']}: {err_name(e)}")
        self.sel.unregister(s)
        s.close()

    def serve(self, s, mask):
        c = self.conns[s]
        try:
            if mask & selectors.EVENT_READ:
                data = s.recv(1 << 16)
                if data:
                    c["buf"] += data
                    self.stats["bytes"] += len(data)
                else:
                    c["eof"] = True
            if c["buf"]:
                n = s.send(c["buf"])
                del c["buf"][:n]
            if c["eof"] and not c["buf"]:
                s.shutdown(socket.SHUT_WR)
                self.drop(s)
                return
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as e:
            self.drop(s, e)
            return
        want = (0 if c["eof"] or len(c["buf"]) >= self.LIMIT else selectors.EVENT_READ) | \
               (selectors.EVENT_WRITE if c["buf"] else 0)
        self.sel.modify(s, want, lambda mask, s=s: self.serve(s, mask))

    def datagram(self, _mask):
        try:
            data, addr = self.udp.recvfrom(65535)
        except BlockingIOError:
            return
        self.stats["datagrams"] += 1
        try:
            self.udp.sendto(data, addr)
        except OSError as e:
            say("echo-server", f"udp sendto {addr[0]}: {err_name(e)}")

    def run(self):
        stop = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.append(1))
        port = self.tcp.getsockname()[1]
        say("echo-server", f"running: tcp and udp echo on [::]:{port}")
        while not stop:
            for key, mask in self.sel.select(timeout=0.1):
                key.data(mask)
        st = self.stats
        say("echo-server", f"tcp: {st['accepted']} accepted, {st['reset']} reset by the peer, "
                           f"{st['failed']} failed, {st['bytes']} bytes echoed; "
                           f"udp: {st['datagrams']} datagrams echoed")
        return 0


# ---- TCP clients ----------------------------------------------------------

def tcp_bulk(a):
    """Send BYTES of random data while reading the echo, so neither side's
    buffers can hold it all; then shut down writing and read to EOF."""
    s = connect(a.host, a.port)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    sent, got = BlockHash(), BlockHash()
    pending = memoryview(b"")
    start = time.monotonic()
    eof = shut = False
    while not eof:
        events = sel.select(timeout=STALL)
        if not events:
            raise Fail(f"stalled for {STALL:.0f} s: {sent.size} bytes sent, {got.size} echoed")
        for _, mask in events:
            try:
                if mask & selectors.EVENT_READ:
                    data = s.recv(1 << 18)
                    if not data:
                        eof = True
                    got.update(data)
                if mask & selectors.EVENT_WRITE and not shut:
                    if not pending:
                        chunk = os.urandom(min(1 << 16, a.bytes - sent.size))
                        sent.update(chunk)
                        pending = memoryview(chunk)
                    if pending:
                        pending = pending[s.send(pending):]
                    if sent.size == a.bytes and not pending:
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ)
                        shut = True
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                raise Fail(f"after {sent.size} bytes sent, {got.size} echoed: {err_name(e)}")
    secs = time.monotonic() - start
    s.close()
    if not shut:
        raise Fail(f"the echo ended after {got.size} bytes, before all {a.bytes} were sent")
    sent.finish()
    got.finish()
    if sent.whole.digest() != got.whole.digest():
        raise Fail(f"the echo differs from what was sent: {sent.first_difference(got)}")
    say("tcp-bulk", f"ok: {a.bytes} bytes echoed intact, sha256 {got.whole.hexdigest()[:16]}..., "
                    f"in {secs:.2f} s ({a.bytes / secs / 1e6 if secs else 0:.1f} MB/s)")


def tcp_many(a):
    """N connections opened at once (non-blocking connect), each sending its
    own random bytes, shutting down writing and reading the echo to EOF."""
    raise_fd_limit()
    family, sa = address(a.host, a.port)
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(a.conns):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex(sa)
        if rc not in (0, errno.EINPROGRESS):
            raise Fail(f"connection {i}: connect: {err_name(rc)}")
        c = dict(i=i, s=s, out=memoryview(os.urandom(a.bytes)), sent=0, got=bytearray(),
                 connecting=True)
        conns.append(c)
        sel.register(s, selectors.EVENT_WRITE, c)
    done = 0
    start = time.monotonic()
    while done < a.conns:
        events = sel.select(timeout=STALL)
        if not events:
            c = next(c for c in conns if c["s"] is not None)
            state = "still connecting" if c["connecting"] else \
                f"{c['sent']} bytes sent, {len(c['got'])} echoed"
            raise Fail(f"stalled for {STALL:.0f} s with {done} of {a.conns} connections done; "
                       f"connection {c['i']}: {state}")
        for key, mask in events:
            c, s = key.data, key.data["s"]
            try:
                if c["connecting"]:
                    rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if rc:
                        raise Fail(f"connection {c['i']}: connect: {err_name(rc)}")
                    c["connecting"] = False
                    sel.modify(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
                if mask & selectors.EVENT_WRITE and c["sent"] < a.bytes:
                    c["sent"] += s.send(c["out"][c["sent"]:])
                    if c["sent"] == a.bytes:
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ, c)
                if mask & selectors.EVENT_READ:
                    data = s.recv(1 << 16)
                    if data:
                        c["got"] += data
                        continue
                    if c["got"] != c["out"]:
                        raise Fail(f"connection {c['i']}: the echo differs: {len(c['got'])} bytes "
                                   f"back for {a.bytes} sent")
                    sel.unregister(s)
                    s.close()
                    c["s"] = None
                    done += 1
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                raise Fail(f"connection {c['i']}: {err_name(e)}")
    secs = time.monotonic() - start
    say("tcp-many", f"ok: {a.conns} connections at once, each echoed {a.bytes} bytes intact, "
                    f"in {secs:.2f} s")


def tcp_halfclose(a):
    """Send everything and shut down writing before reading anything: the
    server must echo after our FIN, then send its own."""
    s = connect(a.host, a.port)
    data = os.urandom(a.bytes)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = bytearray()
    try:
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        raise Fail(f"no EOF within {STALL:.0f} s after our FIN; {len(got)} of {a.bytes} bytes echoed")
    except OSError as e:
        raise Fail(f"after our FIN, with {len(got)} of {a.bytes} bytes echoed: {err_name(e)}")
    if got != data:
        raise Fail(f"the echo after our FIN differs: {len(got)} bytes back for {a.bytes} sent")
    say("tcp-halfclose", f"ok: {a.bytes} bytes echoed after our FIN, then the server's FIN")


def tcp_reset(a):
    """One echo, so the server has surely accepted, then a reset."""
    s = connect(a.host, a.port)
    s.sendall(b"x")
    if s.recv(1) != b"x":
        raise Fail("no echo of one byte")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    say("tcp-reset", f"ok: connected to {a.host} port {a.port}, echoed one byte, closed with a reset")


def tcp_refused(a):
    family, sa = address(a.host, a.port)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(sa)
    except ConnectionRefusedError:
        say("tcp-refused", f"ok: connect to {a.host} port {a.port}: {err_name(errno.ECONNREFUSED)}")
        return
    except socket.timeout:
        raise Fail(f"connect to {a.host} port {a.port}: no answer in 5 s, expected a reset")
    except OSError as e:
        raise Fail(f"connect to {a.host} port {a.port}: {err_name(e)}, expected ECONNREFUSED")
    raise Fail(f"connect to {a.host} port {a.port} succeeded, expected ECONNREFUSED")


def keepalive_probes():
    """TcpExt TCPKeepAlive of this network namespace: keepalive probes sent."""
    with open("/proc/net/netstat") as f:
        lines = [line.split() for line in f if line.startswith("TcpExt:")]
    return int(dict(zip(lines[0], lines[1]))["TCPKeepAlive"])


def tcp_keepalive(a):
    """Hold an idle connection with keepalive on for --hold seconds: the
    probes go out and are answered (else the connection times out), and the
    connection still echoes afterwards."""
    idle, intvl, cnt = a.keepalive
    s = connect(a.host, a.port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)
    before = keepalive_probes()
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    if sel.select(timeout=a.hold):
        rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        raise Fail(f"the idle connection ended within {a.hold} s: "
                   f"{err_name(rc) if rc else 'the server closed it'}")
    probes = keepalive_probes() - before
    if probes < 2:
        raise Fail(f"{probes} keepalive probes went out in {a.hold} s, expected at least 2")
    s.sendall(b"still there")
    s.settimeout(5)
    if s.recv(64) != b"still there":
        raise Fail("no echo after the keepalive probes")
    say("tcp-keepalive", f"ok: {probes} keepalive probes answered over {a.hold} s idle; echo still works")


def backlog(a):
    """Connect one at a time to a listener that never accepts: the first
    handshakes complete until the queue is full (at most backlog + 1 on
    Linux), after which SYNs go unanswered: no SYN-ACK, no reset."""
    family, sa = address(a.host, a.port)
    held, outcome = [], []
    for i in range(a.attempts):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        held.append(s)      # keep every attempt open until the end
        s.connect_ex(sa)
        sel = selectors.DefaultSelector()
        sel.register(s, selectors.EVENT_WRITE)
        if not sel.select(timeout=a.wait):
            outcome.append("silent")
            continue
        rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        outcome.append("up" if rc == 0 else err_name(rc))
    for s in held:
        s.close()
    up = outcome.count("up")
    summary = " ".join(f"{i}:{o}" for i, o in enumerate(outcome))
    if any(o not in ("up", "silent") for o in outcome):
        raise Fail(f"a SYN was answered by an error, expected silence: {summary}")
    if up < 1 or up > a.backlog + 1:
        raise Fail(f"{up} handshakes completed with backlog {a.backlog}, expected 1..{a.backlog + 1}: {summary}")
    if "up" in outcome[up:]:
        raise Fail(f"a handshake completed after one went unanswered: {summary}")
    say("backlog", f"ok: {up} of {a.attempts} handshakes completed with backlog {a.backlog}; "
                   f"the other {a.attempts - up} got no SYN-ACK within {a.wait} s")


# ---- UDP clients ----------------------------------------------------------

def await_echo(s, data, expect_from, what):
    """Send data, and wait for the same bytes back from expect_from.
    Returns how many times it was sent again."""
    for again in range(UDP_TRIES):
        if again:
            print(f"{PROG}: {what}: no echo in {UDP_WAIT:.0f} s, sending it again", flush=True)
        s.sendto(data, expect_from[1])
        deadline = time.monotonic() + UDP_WAIT
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                back, addr = s.recvfrom(65536)
            except socket.timeout:
                break
            if addr[0] != expect_from[0]:
                raise Fail(f"{what}: an answer from {addr[0]}, expected {expect_from[0]}")
            if back == data:
                return again
            if len(back) != len(data):
                raise Fail(f"{what}: {len(back)} bytes back for {len(data)} sent")
            # else: a late echo of an earlier datagram; keep waiting
    raise Fail(f"{what}: no echo in {UDP_TRIES} tries of {UDP_WAIT:.0f} s")


def udp(a):
    family, sa = address(a.host, a.port, socket.SOCK_DGRAM)
    s = socket.socket(family, socket.SOCK_DGRAM)
    if a.expect_none:
        for size in a.sizes:
            for _ in range(a.count):
                s.sendto(os.urandom(size), sa)
        s.settimeout(UDP_WAIT)
        try:
            back, addr = s.recvfrom(65536)
        except socket.timeout:
            say("udp", f"ok: {a.count} datagrams each of {', '.join(map(str, a.sizes))} bytes: "
                       f"no answer in {UDP_WAIT:.0f} s, as expected")
            return
        raise Fail(f"{addr[0]} answered with {len(back)} bytes; expected no answer")
    again = 0
    for size in a.sizes:
        for i in range(a.count):
            again += await_echo(s, os.urandom(size), (sa[0], sa), f"datagram {i} of {size} bytes")
    say("udp", f"ok: {a.count} datagrams each of {', '.join(map(str, a.sizes))} bytes echoed intact "
               f"by {a.host}, {again} sent again")


def mcast(a):
    """Datagrams to a multicast group, sent from --source out of its
    interface; a member echoes them by unicast to us."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.source, 0))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(a.source))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    group = (a.group, a.port)
    if a.expect_none:
        for i in range(a.count):
            s.sendto(os.urandom(64), group)
        s.settimeout(UDP_WAIT)
        try:
            _, addr = s.recvfrom(65536)
        except socket.timeout:
            say("mcast", f"ok: {a.count} datagrams to {a.group}: no answer in {UDP_WAIT:.0f} s, "
                         f"as no one joined it")
            return
        raise Fail(f"{addr[0]} answered datagrams to {a.group}, a group it did not join")
    again = 0
    for i in range(a.count):
        again += await_echo(s, os.urandom(a.size), (a.expect, group), f"datagram {i} to {a.group}")
    say("mcast", f"ok: {a.count} datagrams of {a.size} bytes to {a.group} echoed by {a.expect}, "
                 f"{again} sent again")


# ---- command line ---------------------------------------------------------

def main():
    p = argparse.ArgumentParser(prog="peer.py", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def command(name, fn, *positional):
        c = sub.add_parser(name)
        c.set_defaults(fn=fn)
        for arg in positional:
            c.add_argument(arg, type=int if arg in ("port", "bytes") else str)
        return c

    command("echo-server", None, "port")
    command("tcp-bulk", tcp_bulk, "host", "port", "bytes")
    c = command("tcp-many", tcp_many, "host", "port")
    c.add_argument("--conns", type=int, default=1000)
    c.add_argument("--bytes", type=int, default=1000, help="per connection")
    command("tcp-halfclose", tcp_halfclose, "host", "port", "bytes")
    command("tcp-reset", tcp_reset, "host", "port")
    command("tcp-refused", tcp_refused, "host", "port")
    c = command("tcp-keepalive", tcp_keepalive, "host", "port")
    c.add_argument("--keepalive", type=lambda v: tuple(map(int, v.split(","))), default=(1, 1, 2),
                   metavar="IDLE,INTVL,CNT")
    c.add_argument("--hold", type=float, default=4.0, help="seconds to stay idle")
    c = command("backlog", backlog, "host", "port")
    c.add_argument("--backlog", type=int, required=True)
    c.add_argument("--attempts", type=int, required=True)
    c.add_argument("--wait", type=float, default=1.0, help="seconds to wait for each handshake")
    c = command("udp", udp, "host", "port")
    c.add_argument("sizes", type=int, nargs="+")
    c.add_argument("--count", type=int, default=3, help="datagrams of each size")
    c.add_argument("--expect-none", action="store_true", help="no one must answer")
    c = command("mcast", mcast, "group", "port")
    c.add_argument("--source", required=True, help="our address; its interface sends")
    c.add_argument("--expect", help="who must echo")
    c.add_argument("--expect-none", action="store_true", help="no one must answer")
    c.add_argument("--size", type=int, default=100)
    c.add_argument("--count", type=int, default=3)
    a = p.parse_args()
    if a.cmd == "mcast" and bool(a.expect) == a.expect_none:
        p.error("mcast needs --expect ADDR or --expect-none")

    if a.cmd == "echo-server":
        raise_fd_limit()
        return EchoServer(a.port).run()
    try:
        a.fn(a)
    except Fail as e:
        say(a.cmd, f"FAIL: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
