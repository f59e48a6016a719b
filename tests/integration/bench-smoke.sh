#!/bin/bash
# bench-smoke.sh - scripts/bench --quick runs every mode end to end (kernel
# loopback, Shunt over memif, the raw DPDK floor, the kernel peer over veth
# against Shunt and against the kernel) and each run produces numbers, in
# JSON that parses.  No timing is judged: benchmarks are not pass/fail
# tests, and CI machines are noisy.
. "$(dirname "$0")/lib.sh"

bench_out=$WORK/bench
log=$WORK/bench.log
if ! "$top_srcdir/scripts/bench" --quick --no-setup --build "$top_builddir" --out "$bench_out" \
        >"$log" 2>&1 </dev/null; then
    cat "$log" >&2
    fail "scripts/bench --quick failed"
fi
echo "ok: scripts/bench --quick ran every mode"

# Each expected run is there, with a count of what it measured, and a
# latency histogram or a throughput where the mode has one.
/usr/bin/python3 - "$bench_out/results.json" <<'PY' || fail "scripts/bench's results are incomplete"
import json, sys

with open(sys.argv[1]) as f:
    results = json.load(f)
runs = {(r["label"], r["test"], r["proto"], r["size"]): r for r in results["runs"]}
expected = []
for setup in ("kernel-lo", "shunt-memif"):
    expected += [(setup, "ping-pong", "tcp", 64), (setup, "ping-pong", "udp", 64),
                 (setup, "rr", "tcp", 64), (setup, "connrate", "tcp", 64),
                 (setup, "stream", "tcp", 65536), (setup, "stream", "udp", 1472)]
expected += [("floor-memif", "ping-pong", "eth", 64)]
for setup in ("shunt-veth", "kernel-veth"):
    expected += [(setup, "ping-pong", "tcp", 64), (setup, "ping-pong", "udp", 64)]
# The paired round's bulk runs: the kernel's and Shunt's, Shunt's at MTU 9000.
for setup in ("paired-kernel-r1", "paired-shunt-r1"):
    expected += [(setup, "stream", "tcp", 65536), (setup, "rr", "tcp", 64)]
expected += [("paired-jumbo-r1", "stream", "tcp", 65536)]

bad = []
for key in expected:
    r = runs.get(key)
    if r is None:
        bad.append("%s: no result" % "/".join(map(str, key)))
        continue
    if not r["ops"] > 0 or not r["seconds"] > 0:
        bad.append("%s: nothing measured" % "/".join(map(str, key)))
    if r["test"] == "stream":
        if not r["gbit_per_s"] > 0:
            bad.append("%s: no throughput" % "/".join(map(str, key)))
    elif not (r["latency_us"] and r["latency_us"]["samples"] > 0 and r["latency_us"]["p50"] > 0
              and r["percentiles"]):
        bad.append("%s: no latency histogram" % "/".join(map(str, key)))
# The targets, judged on this run: the floor's ratios from the paired round.
targets = {t["target"]: t for t in results["targets"]}
judged = [t for t in targets if t.startswith(("TCP p50 <= 2 x the floor's p50 (paired median)",
                                              "UDP p50 <= 0.1 x the busy-polling kernel's",
                                              "TCP stream, MTU 9000 >= 1.5 x the kernel's (paired median"))]
if len(targets) != 12 or len(judged) != 3 or any(targets[t]["ratio"] is None for t in judged):
    bad.append("the issue's targets are not all judged: %s" % sorted(targets))
for key in ("tcp p50", "udp p50", "tcp p99_9", "udp p99_9"):
    if not results.get("paired_median", {}).get(key, 0) > 0:
        bad.append("no paired ratio %s" % key)
for key in ("shunt stream", "jumbo stream", "shunt rr"):
    if not min(results.get("paired_bulk", {}).get(key, [0])) > 0:
        bad.append("no paired bulk ratio %s" % key)
if not results["env"].get("dpdk") or not results["env"].get("kernel"):
    bad.append("the environment is not stated")
for b in bad:
    print("FAIL: bench-smoke: " + b, file=sys.stderr)
if bad:
    sys.exit(1)
print("ok: %d runs, each with numbers; results.json parses" % len(expected))
PY
for f in results.csv table.txt; do
    [ -s "$bench_out/$f" ] || fail "scripts/bench wrote no $f"
done
grep -q "^environment: " "$bench_out/table.txt" || fail "the table does not state the environment"
echo "ok: results.csv, and table.txt with the environment"
