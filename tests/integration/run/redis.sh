#!/bin/bash
# redis.sh - Debian's redis-server, unchanged, on Shunt under shunt-run
# (Debian's redis.conf; only the bind address, `--save ''`, and what keeps
# it in the foreground changed), against redis-benchmark and redis-cli in
# the peer's namespace, and redis-cli on this host's loopback (the wildcard
# listener's kernel side).  A BGSAVE during load forks a child that closes
# the listeners and exits with the clients' sockets open: no client may
# notice.
. "$(dirname "$0")/../lib.sh"

run_up
ip=$TOPO_SHUNT4
port=16379
cli() { timeout 10 redis-cli -p $port "$@"; }

run_start "$WORK/redis.log" "Ready to accept connections" \
    redis-server /etc/redis/redis.conf --save '' --bind 0.0.0.0 --port $port \
    --protected-mode no --daemonize no --supervised no --logfile '' --dir "$WORK" \
    --pidfile "$WORK/redis.pid"
expect_in "$WORK/redis.log" "fd [0-9]+ \(tcp\): Shunt, the wildcard address"

expect_ok "^PONG$" peer redis-cli -h $ip -p $port ping
expect_ok "^OK$" peer redis-cli -h $ip -p $port set shunt-key through-shunt
expect_ok "^through-shunt$" cli -h 127.0.0.1 get shunt-key          # loopback: the kernel's side
expect_ok "^OK$" cli -h 127.0.0.1 set host-key through-loopback
expect_ok "^through-loopback$" peer redis-cli -h $ip -p $port get host-key

# shunt-stat --sockets lists both sides: Shunt's listener and connection,
# and the kernel's half of the listener with what it accepted.
bg "$WORK/blpop-shunt.log" ip netns exec "shunt-$TAG" redis-cli -h $ip -p $port blpop nothing 3
bg "$WORK/blpop-kernel.log" redis-cli -h 127.0.0.1 -p $port blpop nothing 3
sleep 1
socks=$("$top_builddir/apps/shunt-stat" -p "shunt-$TAG" --sockets) || fail "shunt-stat --sockets failed: $socks"
echo "$socks"
grep -qE "^tcp +ESTAB +[0-9]+ .* $ip:$port +$TOPO_PEER4:[0-9]+ +rtt:" <<<"$socks" || fail "no Shunt connection listed"
grep -qE "^tcp +LISTEN .*\*:$port .* kernel$" <<<"$socks" || fail "the kernel's listener is not listed"
grep -qE "^tcp +ESTAB .* 127.0.0.1:$port +127.0.0.1:[0-9]+ +kernel$" <<<"$socks" ||
    fail "the loopback connection is not listed as the kernel's"
echo "ok: shunt-stat --sockets marks the kernel's sockets"

# Every request answered: the commands the server processed add up.
processed() { cli -h 127.0.0.1 info stats | tr -d '\r' | sed -n 's/^total_commands_processed://p'; }
for pipeline in 1 16; do
    before=$(processed)
    expect_ok "GET: .* requests per second" peer timeout 60 redis-benchmark -h $ip -p $port \
        -t set,get -n 20000 -c 20 -P $pipeline -q
    after=$(processed)
    # 40,000 requests, and the benchmark's own CONFIG GET per client.
    [ $((after - before)) -ge 40000 ] || fail "-P $pipeline: the server processed $((after - before)) commands, not 40000"
    echo "ok: -P $pipeline: $((after - before)) commands processed"
done

# A BGSAVE while clients are busy (50,000 requests outlast the fork and
# the save by a second or more here).
bg "$WORK/bench.log" ip netns exec "shunt-$TAG" timeout 60 redis-benchmark -h $ip -p $port \
    -t set -n 50000 -c 10 -q
bench=$BG_PID
sleep 0.5
expect_ok "Background saving started" cli -h 127.0.0.1 bgsave
for _ in $(seq 100); do
    cli -h 127.0.0.1 info persistence | grep -q "rdb_bgsave_in_progress:0" && break
    sleep 0.1
done
expect_ok "rdb_last_bgsave_status:ok" cli -h 127.0.0.1 info persistence
wait $bench || fail "redis-benchmark failed during BGSAVE: $(cat "$WORK/bench.log")"
expect_in "$WORK/bench.log" "SET: .* requests per second"
grep -qiE "error|reset|closed" "$WORK/bench.log" && fail "a client saw an error during BGSAVE: $(cat "$WORK/bench.log")"
expect_in "$WORK/redis.log" "Background saving terminated with success"
[ -s "$WORK/dump.rdb" ] || fail "BGSAVE wrote no dump.rdb"
expect_ok "^through-shunt$" peer redis-cli -h $ip -p $port get shunt-key

run_stop TERM                           # SIGTERM without SA_RESTART ends its epoll_wait
expect_in "$WORK/redis.log" "Redis is now ready to exit"
expect_through_shunt "$WORK/redis.log" 40000

# Again with I/O threads: they read and write other clients' sockets while
# the main thread runs its loop.
run_start "$WORK/redis-io.log" "Ready to accept connections" \
    redis-server /etc/redis/redis.conf --save '' --bind 0.0.0.0 --port $port \
    --protected-mode no --daemonize no --supervised no --logfile '' --dir "$WORK" \
    --io-threads 2 --io-threads-do-reads yes
expect_in "$WORK/redis-io.log" "fd [0-9]+ \(tcp\): Shunt, the wildcard address"
before=$(processed)
expect_ok "SET: .* requests per second" peer timeout 60 redis-benchmark -h $ip -p $port \
    -t set,get -n 20000 -c 50 -q
after=$(processed)
[ $((after - before)) -ge 40000 ] || fail "with I/O threads: $((after - before)) commands processed, not 40000"
echo "ok: with --io-threads 2: $((after - before)) commands processed"
run_stop TERM
expect_in "$WORK/redis-io.log" "Redis is now ready to exit"
echo "redis: PASS"
