#!/bin/bash
# bench-feed-smoke.sh - scripts/bench-feed --quick runs end to end: the feed
# at 100k messages/s, 64 bytes, 10 and 500 groups, on the kernel path and
# on Shunt, and every run yields numbers (latency, what was sent and
# delivered) in JSON that parses, or, where the handler could not join all
# groups, n/a with the handler's own reason.  No timing or loss is judged:
# benchmarks are not pass/fail tests, and this machine is shared.
. "$(dirname "$0")/lib.sh"

out=$WORK/bench-feed
"$top_srcdir/scripts/bench-feed" --quick -t 0.5 --build "$top_builddir" --out "$out" \
    >"$WORK/bench-feed.log" 2>&1 </dev/null || { cat "$WORK/bench-feed.log" >&2; fail "scripts/bench-feed --quick failed"; }
/usr/bin/python3 - "$out/feed.json" <<'PY' || { cat "$WORK/bench-feed.log" >&2; fail "bench-feed's results are incomplete"; }
import json, sys
d = json.load(open(sys.argv[1]))
runs = {(r["path"], r["groups"]): r for r in d["runs"]}
bad = []
for key in [("kernel", 10), ("kernel", 500), ("shunt", 10), ("shunt", 500)]:
    r = runs.get(key)
    if r is None:
        bad.append("%s %d groups: no run" % key)
    elif "na" in r:
        # only a handler that could not join every group may be n/a, and it says why
        if "joined" not in r["na"] or key != ("shunt", 500):
            bad.append("%s %d groups: n/a: %s" % (key + (r["na"],)))
    elif not (r["sent"] > 0 and r["delivered"] > 0 and r["p50"] and r["p99_9"] >= r["p50"]):
        bad.append("%s %d groups: no numbers: %s" % (key + (r,)))
for b in bad:
    print("FAIL: bench-feed-smoke: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
grep -qE "^ +10 +64 +100000 " "$out/feed.txt" || fail "feed.txt has no row for 10 groups: $(cat "$out/feed.txt")"
echo "ok: bench-feed --quick: $(grep -cE '^ +[0-9]' "$out/feed.txt") rows, every run with numbers or its reason"
