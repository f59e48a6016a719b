#!/usr/bin/python3
"""soak.py - the load and the watch of scripts/soak, run as the kernel peer
(in the testbed's namespace) against shunt-echo --one-way on Shunt.

For --seconds it keeps, all at once:
  bulk    shunt-echo --kernel clients, one after another: a stream echoed,
          one sent to the server's check port, one from its source port;
          each checks every byte (pattern.h) or has the server check them
  rr      shunt-perf ping-pong, 64-byte requests at --mps a second, one run
          per minute: that minute's p50, p99, p99.9 and max round trip
  churn   --churn threads of short connections, one after another: to the
          echo port (random bytes echoed and compared, the peer closes
          first) and to the source port (a pattern the server sends, then
          closes first)
  udp     datagrams with a sequence number and random bytes to the echo
          port; every echo must be one of those sent, byte for byte
and every 10 s it samples the Shunt process: its RSS (/proc), the mbufs
in use and every lwIP pool's used count (shunt-stat --json).

It fails (exit 1) on any byte that differs, any client that fails, UDP
losing more than --udp-loss-max %, growth of RSS, mbufs in use or a pool's
use after the warm-up beyond the tolerances below, or, once the load has
stopped and the stack is quiet, mbufs in use, pools used (TCP pcbs: less
those in TIME-WAIT) or lwIP's heap not back at what they were before the
load, or the frame balance not holding.  --json FILE writes the samples,
the minutes and the verdict.

Only the standard library: it runs under Debian's /usr/bin/python3.
"""
import argparse
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

PROG = "soak"
SAMPLE_EVERY = 10.0
STALL = 30                      # seconds a client may wait for progress
# Growth allowed after the warm-up: the highest value of the run's second
# half against the highest of its first half (both after the warm-up).  A
# leak sets new highs; traffic's own swings stay within these.
RSS_TOLERANCE = 4 << 20         # bytes
MBUF_TOLERANCE = 0.10           # of the pool
POOL_TOLERANCE = 0.25           # of the first half's high, plus POOL_SLACK of its size
POOL_SLACK = 0.05
# After the load, mbufs in use may differ from the baseline by what the
# AF_XDP port holds in its fill ring, refilled a burst at a time (seen: 2
# apart); the packet tests on net_ring (tests/pkt/test-exhaustion.c) hold
# that count exact.
PORT_SLACK = 32


def say(msg):
    print(f"{PROG}: {msg}", flush=True)


class Run:
    """What the workers share: the deadline, the counts, the failures."""

    def __init__(self, seconds):
        self.start = time.monotonic()
        self.deadline = self.start + seconds
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []

    def going(self):
        return time.monotonic() < self.deadline and not self.failures

    def count(self, what, n=1):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n

    def fail(self, msg):
        with self.lock:
            self.failures.append(msg)
        say("FAIL: " + msg)


# ---- the Shunt process: samples ------------------------------------------------

def stats(a):
    out = subprocess.run([a.stat, "-p", a.prefix, "-n", "1", "--json"], capture_output=True,
                         text=True, timeout=20)
    if out.returncode != 0:
        raise RuntimeError("shunt-stat: " + out.stderr.strip())
    return json.loads(out.stdout)["/shunt/stats"]


def sockets(a):
    out = subprocess.run([a.stat, "-p", a.prefix, "--sockets", "--json"], capture_output=True,
                         text=True, timeout=20)
    if out.returncode != 0:
        raise RuntimeError("shunt-stat --sockets: " + out.stderr.strip())
    return json.loads(out.stdout)["sockets"]


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def time_wait(a):
    return sum(1 for s in sockets(a) if s.get("state") == "TIME-WAIT")


def sample(a, run):
    s = stats(a)
    return {"t": round(time.monotonic() - run.start, 1), "rss": rss(a.pid),
            "time_wait": time_wait(a),
            "mbufs_in_use": s["mbufs"]["in_use"], "mbufs_size": s["mbufs"]["size"],
            "heap_used": s["pools"]["heap_used"],
            "pools": {k: v["used"] for k, v in s["pools"].items() if isinstance(v, dict)},
            "pool_sizes": {k: v["size"] for k, v in s["pools"].items() if isinstance(v, dict)},
            "balance": s["balance"]}


def sampler(a, run, samples):
    next_at = time.monotonic() + SAMPLE_EVERY
    while time.monotonic() < run.deadline:
        time.sleep(max(0.0, min(next_at, run.deadline) - time.monotonic()))
        if time.monotonic() >= run.deadline:
            break
        # The instance answers telemetry from its loop, and gives up on a
        # question after 1 s: a loop held off its core that long on a
        # loaded machine is not a leak.  Asked again twice, a second apart,
        # and counted; three misses in a row fail the run.
        for attempt in range(3):
            try:
                samples.append(sample(a, run))
                break
            except (RuntimeError, subprocess.TimeoutExpired, KeyError) as e:
                if attempt == 2:
                    run.fail(f"sample: {e}")
                    return
                run.count("samples_retried")
                time.sleep(1)
        next_at += SAMPLE_EVERY


# ---- the load ------------------------------------------------------------------

def snapshot(a):
    """Shunt's TCP connections as they stand, for a failure to explain itself."""
    try:
        for s in sockets(a):
            if s.get("path") == "shunt" and str(s.get("proto", "")).startswith("tcp") and \
                    s.get("state") != "LISTEN":
                say("  socket: " + json.dumps(s, sort_keys=True))
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
        say(f"  sockets: {e}")
    # The peer's side (this script runs in its namespace): why its TCP and
    # IP dropped what they dropped.
    try:
        out = subprocess.run(["nstat", "-az"], capture_output=True, text=True, timeout=5).stdout
        wanted = ("Csum", "Drop", "PAWS", "Prune", "OFO", "Retrans", "SACK", "Discard", "Err")
        say("  peer counters: " + " ".join(
            f"{w[0]}={w[1]}" for w in (l.split() for l in out.splitlines()[1:])
            if len(w) >= 2 and w[1] != "0" and any(k in w[0] for k in wanted)))
    except (OSError, subprocess.TimeoutExpired) as e:
        say(f"  peer counters: {e}")


def client(run, what, cmd, timeout, a=None):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        run.fail(f"{what}: {' '.join(cmd)}: exit {out.returncode}: {(out.stdout + out.stderr).strip()[-400:]}")
        if a is not None:
            snapshot(a)
        return None
    return out.stdout


def bulk(a, run):
    modes = [("echo", []), ("send", ["--send"]), ("receive", ["--receive"])]
    i = 0
    while run.going():
        name, extra = modes[i % len(modes)]
        i += 1
        cmd = [a.echo, "--kernel", "--client", a.host, "-n", str(a.bulk_bytes),
               "--stall", str(STALL)] + extra
        try:
            if client(run, "bulk " + name, cmd, STALL * 4, a) is not None:
                run.count("bulk_bytes", a.bulk_bytes)
                run.count("bulk_transfers")
        except subprocess.TimeoutExpired:
            run.fail(f"bulk {name}: no end within {STALL * 4} s")


def rr(a, run, minutes, tmp):
    while run.going():
        left = run.deadline - time.monotonic()
        if left < 5:
            return
        secs = min(60.0, left)
        path = os.path.join(tmp, "rr.json")
        cmd = [a.perf, "ping-pong", "--kernel", "--tcp", "-p", str(a.port), "-m", "64", "-t", f"{secs:.1f}",
               "--warmup", "0", "--poll", "block", "--mps", str(a.mps), "-q", "--json", path,
               a.host]
        try:
            if client(run, "rr", cmd, secs + STALL * 2, a) is None:
                return
        except subprocess.TimeoutExpired:
            run.fail(f"rr: no end within {secs + STALL * 2:.0f} s")
            return
        with open(path) as f:
            doc = json.load(f)
        lat = doc["latency_us"]
        minutes.append({"minute": len(minutes) + 1, "seconds": round(secs, 1),
                        "round_trips": lat["samples"],
                        "p50_us": lat["p50"], "p99_us": lat["p99"], "p99_9_us": lat["p99_9"],
                        "max_us": lat.get("max", 0)})


def recv_all(s, n):
    got = bytearray()
    while len(got) < n:
        try:
            b = s.recv(min(65536, n - len(got)))
        except socket.timeout:
            raise OSError(f"no progress for {STALL} s after {len(got)} bytes of {n} "
                          f"(local port {s.getsockname()[1]})") from None
        if not b:
            break
        got += b
    return bytes(got)


def pattern(seed, n):
    """pattern.h's stream: splitmix64 words, read a byte at a time (LE)."""
    out = bytearray()
    state = seed
    mask = (1 << 64) - 1
    while len(out) < n:
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out += struct.pack("<Q", z ^ (z >> 31))
    return bytes(out[:n])


def churn_echo(a, rng):
    """The peer closes first."""
    data = rng.randbytes(rng.randint(1, 8192))
    with socket.create_connection((a.host, a.port), timeout=STALL) as s:
        s.sendall(data)
        got = recv_all(s, len(data))
    if got != data:
        raise ValueError(f"echo: {len(data)} bytes sent, {len(got)} back"
                         f"{', differing' if len(got) == len(data) else ''}")


def churn_source(a, rng, port):
    """The server closes first: it sends what was asked, then FIN.  From
    local port PORT, which comes back only minutes later (churn_ports): the
    server keeps TIME-WAIT for 60 s, and a SYN reopens it only when its
    sequence number is above the old connection's (port/lwip-patches/0006),
    which the kernel's clock-driven ISNs for one 4-tuple are not sure to be
    once minutes have passed."""
    seed, n = rng.getrandbits(63), rng.randint(1, 8192)
    with socket.create_connection((a.host, a.port + 3), timeout=STALL,
                                  source_address=("0.0.0.0", port)) as s:
        s.sendall(struct.pack(">QQ", seed, n))
        got = recv_all(s, n + 1)
    if got != pattern(seed, n):
        raise ValueError(f"source: {n} bytes asked for, {len(got)} came"
                         f"{', differing' if len(got) == n else ''}")


CHURN_PORT_BASE = 20000


def churn_ports(threads):
    """Local ports each churn thread cycles through: a share of those below
    the kernel's ephemeral range, which the other loads' connections take
    (those the peer closes first keep TIME-WAIT, and bind() would fail)."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    per = (low - CHURN_PORT_BASE) // max(threads, 1)
    if per < 1000:
        raise SystemExit(f"soak: the ephemeral ports start at {low}: churn needs 1,000 a thread "
                         f"above {CHURN_PORT_BASE}; raise net.ipv4.ip_local_port_range's low end")
    return per


def churn(a, run, k):
    rng = random.Random(k)
    gap = 1.0 / a.churn_rate
    i = 0
    while run.going():
        t0 = time.monotonic()
        which = churn_echo if rng.random() < 0.5 else churn_source
        try:
            if which is churn_echo:
                churn_echo(a, rng)
            else:
                churn_source(a, rng, CHURN_PORT_BASE + k * a.churn_ports + i % a.churn_ports)
                i += 1
            run.count("churn_" + which.__name__[6:])
        except (OSError, ValueError) as e:
            run.fail(f"churn {which.__name__[6:]}: {e}")
            return
        time.sleep(max(0.0, gap - (time.monotonic() - t0)))


def udp(a, run):
    """Datagrams at --udp-rate a second; the echo must match what was sent."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    s.settimeout(0.002)
    rng = random.Random(7)
    sent = {}
    seq = 0
    gap = 1.0 / a.udp_rate
    next_at = time.monotonic()
    while run.going():
        now = time.monotonic()
        if now >= next_at:
            payload = struct.pack(">Q", seq) + rng.randbytes(rng.randint(0, 1400))
            sent[seq] = payload
            s.send(payload)
            seq += 1
            next_at += gap
        try:
            d = s.recv(2048)
        except socket.timeout:
            continue
        if len(d) < 8 or sent.pop(struct.unpack(">Q", d[:8])[0], None) != d:
            run.fail(f"udp: an echo of {len(d)} bytes matches no datagram sent (or came twice)")
            return
        run.count("udp_echoed")
    end = time.monotonic() + 2
    while sent and time.monotonic() < end:
        try:
            d = s.recv(2048)
        except socket.timeout:
            continue
        if len(d) >= 8 and sent.pop(struct.unpack(">Q", d[:8])[0], None) == d:
            run.count("udp_echoed")
    run.count("udp_sent", seq)
    run.count("udp_lost", len(sent))


# ---- the verdict -----------------------------------------------------------------

def growth(samples, warmup):
    """What grew after the warm-up: a list of sentences."""
    late = [s for s in samples if s["t"] >= warmup]
    if len(late) < 2:
        return []
    half = len(late) // 2
    first, second = late[:half], late[half:]
    bad = []

    def check(name, get, slack):
        hi1, hi2 = max(get(s) for s in first), max(get(s) for s in second)
        if hi2 > hi1 + slack:
            bad.append(f"{name} grew: highest {hi1} in the first half after the warm-up, "
                       f"{hi2} in the second (allowed +{slack:.0f})")

    check("RSS", lambda s: s["rss"], RSS_TOLERANCE)
    check("mbufs in use", lambda s: s["mbufs_in_use"], MBUF_TOLERANCE * samples[0]["mbufs_size"])
    for pool in samples[0]["pools"]:
        # TIME-WAIT's pcbs pile up for its first 60 s: the rest must not.
        def used(s, p=pool):
            return s["pools"][p] - (s["time_wait"] if p == "TCP_PCB" else 0)
        hi1 = max(used(s) for s in first)
        check(f"pool {pool}" + (" (less TIME-WAIT)" if pool == "TCP_PCB" else ""), used,
              POOL_TOLERANCE * hi1 + POOL_SLACK * samples[0]["pool_sizes"][pool])
    return bad


def quiet(a, timeout=30):
    """Wait for no connection but listeners and TIME-WAIT; their TIME-WAIT count."""
    end = time.monotonic() + timeout
    while True:
        socks = [s for s in sockets(a) if s.get("path") == "shunt"]
        busy = [s for s in socks if s.get("proto", "").startswith("tcp") and
                s.get("state") not in ("LISTEN", "TIME-WAIT")]
        tw = sum(1 for s in socks if s.get("state") == "TIME-WAIT")
        if not busy or time.monotonic() > end:
            return tw, busy
        time.sleep(0.5)


def expected_pools(baseline, tw):
    """The pools' use once quiet: the baseline's, plus the pcbs in TIME-WAIT
    and, while there are any and there were none before, lwIP's TCP timer
    (tcp_timer_needed() keeps it on while a pcb is active or in TIME-WAIT)."""
    want = dict(baseline["pools"])
    want["TCP_PCB"] += tw
    if tw and baseline["pools"]["TCP_PCB"] == 0:
        want["SYS_TIMEOUT"] += 1
    return want


def recovered(a, baseline):
    """After the load: what did not return to its baseline (sentences)."""
    tw, busy = quiet(a)
    bad = [f"{len(busy)} connection(s) still open 30 s after the load: "
           + ", ".join(f"{s.get('state')} {s.get('peer', '')}" for s in busy[:5])] if busy else []
    time.sleep(1)           # the fault stage's held frames, the delayed ACKs
    end = sample_quiet = None
    for _ in range(20):     # the mempool's caches and the last timers settle
        end = stats(a)
        tw, _ = quiet(a, 0)
        pools = {k: v["used"] for k, v in end["pools"].items() if isinstance(v, dict)}
        sample_quiet = (end["mbufs"]["in_use"], end["pools"]["heap_used"], pools)
        want_pools = expected_pools(baseline, tw)
        if (abs(sample_quiet[0] - baseline["mbufs_in_use"]) <= PORT_SLACK and pools == want_pools and
                sample_quiet[1] == baseline["heap_used"]):
            break
        time.sleep(0.5)
    in_use, heap, pools = sample_quiet
    if abs(in_use - baseline["mbufs_in_use"]) > PORT_SLACK:
        bad.append(f"mbufs in use {in_use}, before the load {baseline['mbufs_in_use']} "
                   f"(allowed: {PORT_SLACK} apart, the port's fill ring)")
    if heap != baseline["heap_used"]:
        bad.append(f"lwIP heap used {heap}, before the load {baseline['heap_used']}")
    want_pools = expected_pools(baseline, tw)
    for pool, used in pools.items():
        if used != want_pools.get(pool, 0):
            bad.append(f"pool {pool}: {used} used, before the load {baseline['pools'].get(pool, 0)}"
                       f", {want_pools.get(pool, 0)} expected with {tw} pcb(s) in TIME-WAIT")
    b = end["balance"]
    if not (b["in"] and b["out"]):
        bad.append("the frame balance does not hold: " + json.dumps(b))
    return bad, {"time_wait": tw, "mbufs_in_use": in_use, "heap_used": heap, "pools": pools,
                 "balance": b}


def report(samples, minutes, run):
    say("samples (every 10 s): t  RSS MiB  mbufs in use  TCP_PCB  TCP_SEG  PBUF  heap KiB")
    for s in samples:
        p = s["pools"]
        say(f"  {s['t']:6.0f} {s['rss'] / 1048576:8.1f} {s['mbufs_in_use']:12} "
            f"{p.get('TCP_PCB', 0):8} {p.get('TCP_SEG', 0):8} {p.get('PBUF', 0):5} "
            f"{s['heap_used'] / 1024:9.0f}")
    say("request/response, 64 bytes, per minute: minute  round trips  p50  p99  p99.9  max (us)")
    for m in minutes:
        say(f"  {m['minute']:4} {m['round_trips']:12} {m['p50_us']:6.0f} {m['p99_us']:7.0f} "
            f"{m['p99_9_us']:8.0f} {m['max_us']:8.0f}")
    c = run.counts
    say(f"bulk: {c.get('bulk_transfers', 0)} transfers, {c.get('bulk_bytes', 0) / 1e6:.0f} MB checked; "
        f"churn: {c.get('churn_echo', 0)} peer-closed + {c.get('churn_source', 0)} server-closed "
        f"connections; udp: {c.get('udp_echoed', 0)} of {c.get('udp_sent', 0)} datagrams echoed "
        f"intact, {c.get('udp_lost', 0)} lost; samples asked again: {c.get('samples_retried', 0)}")


def main():
    p = argparse.ArgumentParser(description="scripts/soak's load and watch (see the top of the file)")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=7)
    p.add_argument("--prefix", required=True, help="the Shunt process's EAL --file-prefix")
    p.add_argument("--pid", type=int, required=True, help="the Shunt process, for its RSS")
    p.add_argument("--build", required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--warmup", type=float, default=20, help="seconds before growth is judged")
    p.add_argument("--bulk-bytes", type=int, default=4000000)
    p.add_argument("--mps", type=int, default=1000)
    p.add_argument("--churn", type=int, default=2, help="churn threads")
    p.add_argument("--churn-rate", type=float, default=20, help="connections a second each")
    p.add_argument("--udp-rate", type=float, default=500)
    p.add_argument("--udp-loss-max", type=float, default=10, help="%% of the datagrams")
    p.add_argument("--json")
    a = p.parse_args()
    a.churn_ports = churn_ports(a.churn)
    a.echo = os.path.join(a.build, "apps", "shunt-echo")
    a.perf = os.path.join(a.build, "apps", "shunt-perf")
    a.stat = os.path.join(a.build, "apps", "shunt-stat")

    run = Run(0)
    baseline = sample(a, run)
    run = Run(a.seconds)
    baseline["t"] = 0
    samples, minutes = [baseline], []
    with tempfile.TemporaryDirectory(prefix="shunt-soak.") as tmp:
        workers = [threading.Thread(target=bulk, args=(a, run)),
                   threading.Thread(target=rr, args=(a, run, minutes, tmp)),
                   threading.Thread(target=udp, args=(a, run)),
                   threading.Thread(target=sampler, args=(a, run, samples))]
        workers += [threading.Thread(target=churn, args=(a, run, k)) for k in range(a.churn)]
        say(f"{a.seconds:.0f} s of bulk, request/response, churn and UDP against {a.host}")
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    report(samples, minutes, run)
    bad = list(run.failures)
    c = run.counts
    if c.get("udp_sent", 0) and 100 * c.get("udp_lost", 0) / c["udp_sent"] > a.udp_loss_max:
        bad.append(f"udp: {c['udp_lost']} of {c['udp_sent']} lost, more than {a.udp_loss_max} %")
    for what in ("bulk_transfers", "churn_echo", "churn_source", "udp_echoed"):
        if not c.get(what) and not run.failures:
            bad.append(f"no {what.replace('_', ' ')} at all")
    if not minutes and not run.failures:
        bad.append("no request/response minute completed")
    bad += growth(samples, a.warmup)
    try:
        more, end = recovered(a, baseline)
    except (RuntimeError, subprocess.TimeoutExpired, KeyError) as e:
        more, end = [f"after the load: {e}"], {}
    bad += more
    if end:
        say(f"after the load: {end['mbufs_in_use']} mbufs in use (before {baseline['mbufs_in_use']}), "
            f"TCP_PCB {end['pools'].get('TCP_PCB')} with {end['time_wait']} in TIME-WAIT "
            f"(before {baseline['pools'].get('TCP_PCB')}), heap {end['heap_used']} (before "
            f"{baseline['heap_used']}); balance in {'holds' if end['balance']['in'] else 'FAILS'}, "
            f"out {'holds' if end['balance']['out'] else 'FAILS'}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seconds": a.seconds, "samples": samples, "minutes": minutes,
                       "counts": c, "after": end, "failures": bad}, f, indent=1)
    for b in bad:
        say("FAIL: " + b)
    if bad:
        return 1
    say("passed: byte-exact throughout, memory flat, back to the baseline after the load")
    return 0


if __name__ == "__main__":
    sys.exit(main())
