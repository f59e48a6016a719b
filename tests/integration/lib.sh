# tests/integration/lib.sh - shared by the integration tests: the kernel peer
# in a network namespace (scripts/testbed.sh), a per-test scratch directory,
# assertions, and cleanup on any exit.
#
# A test sources this file, then calls tb_up to get a namespace and a running
# shunt-echo, then asserts with expect/expect_output.  Needs root: without it
# the test is reported SKIP (exit 77), and fails under CI, where every test
# must run.
set -euo pipefail

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/scripts/testbed.sh"

TEST_NAME=$(basename "$0" .sh)
SHUNT_ECHO="$top_builddir/apps/shunt-echo"

if [ "$(id -u)" != 0 ]; then
    echo "$TEST_NAME: needs root (network namespaces, veth, hugepages)" >&2
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi

# A tag unique to this run, short enough for interface names.
TAG=${TEST_NAME:0:5}$$
TAG=${TAG:0:11}
WORK=$(mktemp -d "/tmp/shunt-$TEST_NAME.XXXXXX")

tb_cleanup() {
    shunt_stop >/dev/null 2>&1 || true
    bg_stop_all
    topo_down "$TAG"
    rm -rf "$WORK" "/var/run/dpdk/shunt-$TAG"     # the EAL leaves its run directory
}
trap tb_cleanup EXIT

fail() {
    echo "FAIL: $TEST_NAME: $*" >&2
    fail_snapshot >&2
    # Let the servers finish their logs (counters, summaries) first: SIGINT,
    # and up to 3 s to exit.
    local pid
    for pid in ${SHUNT_PID:-} ${PEER_PID:-}; do
        kill -INT "$pid" 2>/dev/null || continue
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    if [ -f "$WORK/shunt.log" ]; then
        echo "--- shunt log:" >&2
        cat "$WORK/shunt.log" >&2
    fi
    if [ -f "$WORK/peer.log" ]; then
        echo "--- peer log:" >&2
        cat "$WORK/peer.log" >&2
    fi
    exit 1
}

# fail_snapshot: while the stack still runs, what a stall leaves behind:
# Shunt's counters and sockets, and the peer's view of its TCP connections
# (so a failure in CI explains itself; each step bounded, none may fail).
fail_snapshot() {
    [ -d "/var/run/dpdk/shunt-$TAG" ] || return 0
    echo "--- shunt-stat at the failure:"
    timeout 5 "$top_builddir/apps/shunt-stat" -p "shunt-$TAG" -n 1 2>&1 | head -80 || true
    timeout 5 "$top_builddir/apps/shunt-stat" -p "shunt-$TAG" --sockets 2>&1 | head -80 || true
    echo "--- the peer's TCP sockets:"
    timeout 5 ip netns exec "shunt-$TAG" ss -tnio 2>&1 | head -80 || true
}

# tb_up [EXTRA-CONFIG-LINES]: the namespace, and shunt-echo running against it.
tb_up() {
    topo_up "$TAG"
    topo_conf "$TAG" > "$WORK/shunt.conf"
    [ $# -gt 0 ] && printf '%s\n' "$@" >> "$WORK/shunt.conf"
    shunt_start "$WORK/shunt.log" "$SHUNT_ECHO" -c "$WORK/shunt.conf" || fail "shunt-echo did not start"
}

# peer CMD...: run CMD in the peer's namespace.
peer() {
    topo_exec "$TAG" "$@"
}

# expect_output PATTERN CMD...: CMD succeeds and prints a line matching PATTERN.
expect_output() {
    local pattern=$1 out
    shift
    out=$("$@" 2>&1) || fail "'$*' failed: $out"
    grep -qE -- "$pattern" <<<"$out" || fail "'$*' printed no line matching '$pattern': $out"
    echo "ok: $* ~ /$pattern/"
}

# counter NAME: a counter from the summary shunt-echo printed at exit.
counter() {
    grep -oE "(^| )$1[= ][0-9]+" "$WORK/shunt.log" | grep -oE "[0-9]+$" | tail -1
}

# ---- one suite, two paths ---------------------------------------------------
# The echo suites (tcp-echo.sh, ...) run once per path, chosen by SHUNT_PATH:
#   shunt   shunt-echo -c shunt.conf: Shunt on sh-TAG through AF_XDP (default)
#   kernel  shunt-echo --kernel in the root namespace, the host's kernel
#           owning sh-TAG with Shunt's addresses: the reference, so a test
#           that fails here is wrong, not Shunt.
# tests/integration/{kernel,shunt}/*.sh are the wrappers make check runs.
SHUNT_PATH=${SHUNT_PATH:-shunt}
PEER_PY="$top_srcdir/tests/integration/peer.py"
PEER_PID=
BG_PIDS=()

# path_up: the namespace, set up for this path; ECHO_STACK is the part of
# shunt-echo's command line that picks the path.
path_up() {
    case $SHUNT_PATH in
    kernel)
        topo_up_kernel "$TAG" || fail "no kernel-path testbed"
        ECHO_STACK=(--kernel)
        ;;
    shunt)
        topo_up "$TAG"
        topo_conf "$TAG" > "$WORK/shunt.conf"
        ECHO_STACK=(-c "$WORK/shunt.conf")
        ;;
    *)
        fail "SHUNT_PATH is '$SHUNT_PATH': kernel or shunt"
        ;;
    esac
    echo "path: $SHUNT_PATH (shunt-echo ${ECHO_STACK[*]})"
}

# echo_server ARGS...: shunt-echo serving TCP and UDP echo on this path;
# its output goes to $WORK/shunt.log.  Stop it with shunt_stop.
echo_server() {
    shunt_start "$WORK/shunt.log" "$SHUNT_ECHO" "${ECHO_STACK[@]}" "$@" ||
        fail "shunt-echo ${ECHO_STACK[*]} $* did not start"
}

# echo_client ARGS...: shunt-echo as a client on this path (never more than
# 2 minutes).  Only one Shunt program can own sh-TAG: stop the server first.
echo_client() {
    timeout -k 5 120 "$SHUNT_ECHO" "${ECHO_STACK[@]}" --client "$@" </dev/null
}

# peer_py CMD ARGS...: tests/integration/peer.py as the peer, in its
# namespace (never more than 2 minutes).
peer_py() {
    timeout -k 5 120 ip netns exec "shunt-$TAG" /usr/bin/python3 "$PEER_PY" "$@"
}

# peer_start ARGS...: a peer.py server in the background (output in
# $WORK/peer.log), once it says it is running.  Sets PEER_PID.
peer_start() {
    ip netns exec "shunt-$TAG" /usr/bin/python3 "$PEER_PY" "$@" >"$WORK/peer.log" 2>&1 </dev/null &
    PEER_PID=$!
    wait_for_line "$WORK/peer.log" "running" 10 || fail "peer.py $* did not start"
}

# peer_stop: stop it (SIGINT: it prints its summary); returns its status.
peer_stop() {
    [ -n "${PEER_PID:-}" ] || return 0
    kill -INT "$PEER_PID" 2>/dev/null || true
    local rc=0
    wait "$PEER_PID" || rc=$?
    PEER_PID=
    return $rc
}

# bg LOG CMD...: run CMD in the background, output in LOG; its pid is BG_PID.
# Whatever is still running at the end of the test is killed.
bg() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 </dev/null &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

bg_stop_all() {
    peer_stop >/dev/null 2>&1 || true
    local pid
    for pid in "${BG_PIDS[@]}"; do
        { kill "$pid" && wait "$pid"; } 2>/dev/null || true
    done
    BG_PIDS=()
    return 0
}

# wait_for_line FILE PATTERN SECONDS: until FILE has a line matching
# PATTERN (extended regex); 1 if it does not within SECONDS.
wait_for_line() {
    local file=$1 pattern=$2 tenths=$(($3 * 10))
    while ! grep -qE -- "$pattern" "$file" 2>/dev/null; do
        tenths=$((tenths - 1))
        [ $tenths -gt 0 ] || return 1
        sleep 0.1
    done
}

# expect_ok PATTERN CMD...: CMD exits 0 and prints a line matching PATTERN;
# shows that line.
expect_ok() {
    local pattern=$1 out rc=0
    shift
    out=$("$@" 2>&1) || rc=$?
    [ $rc = 0 ] || fail "'$*' exited $rc: $out"
    grep -qE -- "$pattern" <<<"$out" || fail "'$*' printed no line matching '$pattern': $out"
    echo "ok: $(grep -E -- "$pattern" <<<"$out" | head -1)"
}

# expect_error PATTERN CMD...: CMD exits 1 and prints a line matching PATTERN.
expect_error() {
    local pattern=$1 out rc=0
    shift
    out=$("$@" 2>&1) || rc=$?
    [ $rc = 1 ] || fail "'$*' exited $rc, expected 1: $out"
    grep -qE -- "$pattern" <<<"$out" || fail "'$*' printed no line matching '$pattern': $out"
    echo "ok (fails as it must): $(grep -E -- "$pattern" <<<"$out" | head -1)"
}

# server_summary: shunt-echo's closing summary line (after shunt_stop).
server_summary() {
    grep -E "^shunt-echo: tcp: [0-9]+ connections accepted" "$WORK/shunt.log" | tail -1
}

# expect_stall_counted: while shunt-echo is stopped (SIGSTOP, as a loop held
# up would be), the peer sends it 5,000 datagrams, more than its port's rings
# hold.  Once it runs again, every frame the peer sent is either received or
# counted as rx_nombuf: no frame is lost uncounted.
expect_stall_counted() {
    local stat="$top_builddir/apps/shunt-stat" tx0 tx0b tx1 tx2 before after
    local sent="/sys/class/net/shp-$TAG/statistics/tx_packets"
    local count='import json, sys; s = json.load(sys.stdin)["/shunt/stats"]; print(s["rx_packets"] + s["drops"]["rx_nombuf"], s["drops"]["rx_nombuf"])'

    # The peer's own kernel may send a frame of its own (a neighbour probe)
    # at any moment, so each count is read before and after Shunt's.
    tx0=$(peer cat "$sent")
    before=($("$stat" -p "shunt-$TAG" --json -n 1 | /usr/bin/python3 -c "$count")) ||
        fail "shunt-stat failed"
    tx0b=$(peer cat "$sent")
    kill -STOP "$SHUNT_PID"
    peer /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5000):
    s.sendto(b'x' * 64, ('$TOPO_SHUNT4', 7))" || { kill -CONT "$SHUNT_PID"; fail "the peer could not send"; }
    kill -CONT "$SHUNT_PID"
    sleep 1
    # What Shunt counted lies between what the peer had sent before and after.
    tx1=$(peer cat "$sent")
    after=($("$stat" -p "shunt-$TAG" --json -n 1 | /usr/bin/python3 -c "$count")) ||
        fail "shunt-stat failed"
    tx2=$(peer cat "$sent")
    local counted=$((after[0] - before[0])) missed=$((after[1] - before[1]))
    [ "$missed" -gt 0 ] || fail "a stalled loop missed no frames (rx_nombuf $missed)"
    [ "$counted" -ge $((tx1 - tx0b)) ] && [ "$counted" -le $((tx2 - tx0)) ] ||
        fail "the peer sent $((tx1 - tx0b)) to $((tx2 - tx0)) frames, Shunt received or counted $counted"
    echo "ok: a stalled loop: the peer sent $((tx1 - tx0b)) to $((tx2 - tx0)) frames, $((counted - missed)) received, $missed counted as rx_nombuf"
}

# ---- unmodified programs under shunt-run --------------------------------------
# run_up [EXTRA-CONFIG-LINES]: the namespace, and Shunt's config for
# shunt-run in $WORK/shunt.conf.
SHUNT_RUN="$top_builddir/apps/shunt-run"
run_up() {
    topo_up "$TAG"
    topo_conf "$TAG" > "$WORK/shunt.conf"
    [ $# -gt 0 ] && printf '%s\n' "$@" >> "$WORK/shunt.conf"
    return 0
}

# run_start LOG PATTERN CMD...: CMD under `shunt-run -v` in the background
# (RUN_PID), once LOG has a line matching PATTERN.  The programs are not
# ours: under AddressSanitizer their own leaks are not reported.
run_start() {
    local log=$1 pattern=$2
    shift 2
    bg "$log" env ASAN_OPTIONS=detect_leaks=0 "$SHUNT_RUN" -v -c "$WORK/shunt.conf" "$@"
    RUN_PID=$BG_PID
    RUN_LOG=$log
    wait_for_line "$log" "$pattern" 20 || { cat "$log" >&2; fail "$* did not start"; }
    echo "started: shunt-run $*"
}

# run_stop [SIGNAL]: stop it (SIGTERM) within 20 s, or fail.
run_stop() {
    local pid=$RUN_PID
    kill -"${1:-TERM}" "$pid" 2>/dev/null || true
    for _ in $(seq 200); do
        running "$pid" || break
        sleep 0.1
    done
    running "$pid" && { cat "$RUN_LOG" >&2; fail "pid $pid did not stop within 20 s"; }
    wait "$pid" 2>/dev/null || true
}

# expect_in FILE PATTERN: FILE has a line matching PATTERN; shows it.
expect_in() {
    grep -qE -- "$2" "$1" || { cat "$1" >&2; fail "$1 has no line matching '$2'"; }
    echo "ok: $(grep -E -- "$2" "$1" | head -1)"
}

# shunt_rx LOG: the packets Shunt received, from the counters it printed at exit.
shunt_rx() {
    grep -oE "^shunt: rx [0-9]+ packets" "$1" | grep -oE "[0-9]+" | tail -1
}

# expect_through_shunt LOG MIN: the program's traffic went through Shunt's
# port: at least MIN packets received there.
expect_through_shunt() {
    local rx
    rx=$(shunt_rx "$1")
    [ -n "$rx" ] && [ "$rx" -ge "$2" ] || { cat "$1" >&2; fail "Shunt received ${rx:-no} packets, expected at least $2"; }
    echo "ok: Shunt's port received $rx packets (at least $2)"
}
