#!/bin/bash
# memif.sh - both ends on Shunt: `shunt-run sockperf sr` and `shunt-run
# sockperf ping-pong`, two processes over a net_memif pair (server on core
# 0, client on core 1, each its own --file-prefix), TCP and UDP.  The same
# pair on the kernel's loopback runs beside it for comparison (the numbers
# are printed; speed is the benchmark's business, not this test's).
. "$(dirname "$0")/../lib.sh"

sock="$WORK/memif.sock"
memif_conf() {  # memif_conf FILE CORE ROLE IP
    cat > "$1" <<CONF
eal = -l $2 --file-prefix=shunt-$TAG-$3 --no-pci --vdev=net_memif0,role=$3,socket=$sock
ip = $4/24
CONF
}
memif_conf "$WORK/server.conf" 0 server 10.11.0.1
memif_conf "$WORK/client.conf" 1 client 10.11.0.2
cleanup_memif() { rm -rf "/var/run/dpdk/shunt-$TAG-server" "/var/run/dpdk/shunt-$TAG-client"; }
trap 'cleanup_memif; tb_cleanup' EXIT

pp() {  # pp LOG ARGS...: sockperf ping-pong on Shunt over memif
    local log=$1
    shift
    timeout 60 env ASAN_OPTIONS=detect_leaks=0 "$SHUNT_RUN" -v -c "$WORK/client.conf" \
        sockperf ping-pong -i 10.11.0.1 -p 11111 -t 1 "$@" > "$log" 2>&1 ||
        fail "sockperf ping-pong on Shunt failed: $(cat "$log")"
}

for proto in tcp udp; do
    flag=; [ $proto = tcp ] && flag=--tcp
    bg "$WORK/sr-$proto.log" env ASAN_OPTIONS=detect_leaks=0 "$SHUNT_RUN" -v -c "$WORK/server.conf" \
        sockperf sr $flag -i 0.0.0.0 -p 11111
    RUN_PID=$BG_PID RUN_LOG="$WORK/sr-$proto.log"
    wait_for_line "$RUN_LOG" "listen on" 20 || fail "sockperf sr over memif did not start: $(cat "$RUN_LOG")"
    pp "$WORK/pp-$proto.log" $flag
    expect_in "$WORK/pp-$proto.log" "fd [0-9]+ \($proto\): Shunt, in Shunt's subnet"
    expect_in "$WORK/pp-$proto.log" "Summary: Latency is"
    expect_through_shunt "$WORK/pp-$proto.log" 1000
    run_stop INT
    expect_through_shunt "$WORK/sr-$proto.log" 1000
    grep -E "percentile 50.000|percentile 99.900" "$WORK/pp-$proto.log" | sed "s/^/shunt-memif $proto: /"

    # The same pair on the kernel's loopback.
    bg "$WORK/ksr-$proto.log" taskset -c 0 sockperf sr $flag -i 127.0.0.1 -p 11112
    wait_for_line "$WORK/ksr-$proto.log" "listen on" 10 || fail "the kernel's sockperf sr did not start"
    taskset -c 1 sockperf ping-pong $flag -i 127.0.0.1 -p 11112 -t 1 > "$WORK/kpp-$proto.log" 2>&1 ||
        fail "sockperf on loopback failed"
    grep -E "percentile 50.000|percentile 99.900" "$WORK/kpp-$proto.log" | sed "s/^/kernel-lo $proto: /"
    kill "$BG_PID"
done
echo "memif: PASS"
