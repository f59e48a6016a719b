#!/bin/bash
# semantics.sh - what shunt-run promises a program, checked with probe.c (a
# plain socket program, built here without Shunt) and a kernel client in the
# peer's namespace: raw syscalls fail loudly, signals interrupt blocking
# calls as Linux's do, TCP progresses while the program sleeps, forked
# children leave the parent's connections alone, threads share the stack,
# and dup()ed sockets live on.
. "$(dirname "$0")/../lib.sh"

probe="$WORK/probe"
${SHUNT_CC:-cc} -Wall -Wextra -O1 -pthread -o "$probe" "$top_srcdir/tests/integration/run/probe.c" ||
    fail "probe.c does not build"
run_up
port=7100

# client [CONNECT-TIMEOUT] [COUNT]: COUNT connections at once to the probe,
# each sending 64 KiB and reading it back byte for byte.
client() {
    peer timeout 30 /usr/bin/python3 - "$TOPO_SHUNT4" $port "${1:-5}" "${2:-1}" <<'PY'
import socket, sys, threading, os
host, port, ctimeout, count = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
data = os.urandom(65536)
socks = []
for _ in range(count):
    s = socket.create_connection((host, port), timeout=ctimeout)
    s.settimeout(20)
    socks.append(s)
errors = []
def run(s):
    try:
        echo(s)
    except OSError as e:
        errors.append(repr(e))
def echo(s):
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while len(got) < len(data):
        b = s.recv(65536)
        if not b:
            break
        got += b
    if got != data:
        errors.append("echoed %d bytes, not the %d sent" % (len(got), len(data)))
ts = [threading.Thread(target=run, args=(s,)) for s in socks]
[t.start() for t in ts]
[t.join() for t in ts]
print("echo:", "; ".join(errors) if errors else "%d x %d bytes back" % (count, len(data)))
sys.exit(1 if errors else 0)
PY
}

# udp_client: 4 datagrams to the probe's UDP port, each echoed back, then
# "bye".
udp_client() {
    peer timeout 30 /usr/bin/python3 - "$TOPO_SHUNT4" $port <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
sent = [b"datagram %d" % i for i in range(4)]
for d in sent:
    s.sendto(d, (sys.argv[1], int(sys.argv[2])))
got = sorted(s.recv(64) for _ in sent)
s.sendto(b"bye", (sys.argv[1], int(sys.argv[2])))
print("echo:", "4 datagrams back" if got == sorted(sent) else "got %r" % got)
sys.exit(0 if got == sorted(sent) else 1)
PY
}

# probe_case CASE READY-LINE DELAY CLIENT-ARGS...: run the case, let the
# client in DELAY seconds after the probe says READY-LINE, and check both ends.
probe_case() {
    local case=$1 ready=$2 delay=$3
    shift 3
    run_start "$WORK/$case.log" "$ready" "$probe" "$case" $port
    sleep "$delay"
    if [ "${1:-}" = udp ]; then
        expect_ok "datagrams back" udp_client
    elif [ $# -gt 0 ]; then
        expect_ok "bytes back" client "$@"
    fi
    for _ in $(seq 100); do running "$RUN_PID" || break; sleep 0.1; done
    run_stop
    expect_in "$WORK/$case.log" "probe $case: done"
    grep -q "^FAIL" "$WORK/$case.log" && fail "$(grep ^FAIL "$WORK/$case.log")"
    grep "^ok:" "$WORK/$case.log"
    port=$((port + 1))
}

probe_case escape "listening on" 0
# The connection comes after the second alarm, which accept() outlives.
probe_case eintr "waiting for a connection" 2 5
# The handshake must complete while the probe sleeps: a 1 s connect timeout.
probe_case progress "sleeping" 0 1
probe_case fork "listening on" 0 5
expect_in "$WORK/fork.log" "cannot use Shunt's sockets: process [0-9]+ drives the stack"
probe_case threads "listening on" 0 5 2
probe_case dup "listening on" 0 5
# recvmmsg/sendmmsg and receive stamps through the interposer.
probe_case mmsg "listening on" 0 udp
# Under poll = spin-then-sleep, a blocking call sleeps while nothing arrives
# (the stack's lock let go: api/share.c).
cp "$WORK/shunt.conf" "$WORK/spin.conf"
printf 'poll = spin-then-sleep\nspin_us = 0\nprogress_us = 0\n' >> "$WORK/shunt.conf"
probe_case idle "listening on" 0
cp "$WORK/spin.conf" "$WORK/shunt.conf"

# The same program relinked with -Wl,--wrap (pkg-config shunt-wrap, here
# pointed at this build's library) needs no shunt-run.
wrap=$(PKG_CONFIG_PATH="$top_builddir/api" pkg-config --define-variable=libdir="$top_builddir/.libs" \
       --libs shunt-wrap) || fail "pkg-config cannot read shunt-wrap.pc"
# shellcheck disable=SC2086
${SHUNT_CC:-cc} -Wall -Wextra -O1 -pthread -o "$WORK/probe-wrapped" \
    "$top_srcdir/tests/integration/run/probe.c" $wrap || fail "probe.c does not relink with shunt-wrap"
env ASAN_OPTIONS=detect_leaks=0 SHUNT_CONFIG="$WORK/shunt.conf" SHUNT_LOG=debug \
    LD_LIBRARY_PATH="$top_builddir/.libs" "$WORK/probe-wrapped" escape $port > "$WORK/wrapped.log" 2>&1 ||
    fail "the relinked probe failed: $(cat "$WORK/wrapped.log")"
expect_in "$WORK/wrapped.log" "fd [0-9]+ \(tcp\): Shunt, the wildcard address"
expect_in "$WORK/wrapped.log" "a raw read\(\) past the interposer fails with ENOTCONN"
expect_in "$WORK/wrapped.log" "probe escape: done"
# ... and its recvmmsg/sendmmsg, with stamps.
port=$((port + 1))
bg "$WORK/wrapped-mmsg.log" env ASAN_OPTIONS=detect_leaks=0 SHUNT_CONFIG="$WORK/shunt.conf" \
    LD_LIBRARY_PATH="$top_builddir/.libs" "$WORK/probe-wrapped" mmsg $port
wait_for_line "$WORK/wrapped-mmsg.log" "listening on" 20 || fail "the relinked probe did not start: $(cat "$WORK/wrapped-mmsg.log")"
expect_ok "datagrams back" udp_client
wait "$BG_PID" || fail "the relinked probe's mmsg failed: $(cat "$WORK/wrapped-mmsg.log")"
expect_in "$WORK/wrapped-mmsg.log" "each datagram has its SCM_TIMESTAMPNS"
expect_in "$WORK/wrapped-mmsg.log" "probe mmsg: done"

# shunt-run --kernel: the interposer in place, every socket on the kernel.
ASAN_OPTIONS=detect_leaks=0 "$SHUNT_RUN" --kernel -v "$probe" escape $port > "$WORK/kernel.log" 2>&1 ||
    fail "probe on --kernel failed: $(cat "$WORK/kernel.log")"
expect_in "$WORK/kernel.log" "SHUNT_KERNEL=1: every socket on the kernel"
grep -q "Shunt, " "$WORK/kernel.log" && fail "a socket went to Shunt under --kernel"
expect_in "$WORK/kernel.log" "probe escape: done"

# The policy's rules: a kernel rule keeps the listener on the kernel.
echo "kernel = tcp:$port" >> "$WORK/shunt.conf"
ASAN_OPTIONS=detect_leaks=0 "$SHUNT_RUN" -v -c "$WORK/shunt.conf" "$probe" escape $port \
    > "$WORK/rule.log" 2>&1 || fail "probe with a kernel rule failed: $(cat "$WORK/rule.log")"
expect_in "$WORK/rule.log" "fd [0-9]+ \(tcp\): kernel, a kernel rule"
# A rule that is not one stops the program before main(), in one line.
echo "accelerate = tcp:0" >> "$WORK/shunt.conf"
expect_error "accelerate: 'tcp:0' is not a rule" env "$SHUNT_RUN" -c "$WORK/shunt.conf" "$probe" escape $port
echo "semantics: PASS"
