#!/bin/bash
# clients.sh - Debian's curl and wrk, unchanged, on Shunt under shunt-run,
# against the kernel's nginx in the peer's namespace: curl (non-blocking
# connect, poll() with a socketpair beside the socket, SO_ERROR) fetches a
# 10 MiB file byte-exact; wrk (all socket work on a worker thread, FIONREAD
# after every read) loads the server.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/integration/run/nginx-conf.sh"

run_up
dir="$WORK/nginx"
nginx_conf "$dir" "$TOPO_PEER4:8081"
bg "$WORK/nginx.log" ip netns exec "shunt-$TAG" nginx -c "$dir/nginx.conf" -g "daemon off;"
for _ in $(seq 100); do peer curl -s -o /dev/null "http://$TOPO_PEER4:8081/" && break; sleep 0.1; done
url="http://$TOPO_PEER4:8081"

shunt_run() {
    timeout 60 env ASAN_OPTIONS=detect_leaks=0 "$SHUNT_RUN" -v -c "$WORK/shunt.conf" "$@"
}

shunt_run curl -s -o "$WORK/got.bin" -w "%{http_code} %{size_download}\n" "$url/big.bin" \
    > "$WORK/curl.log" 2>&1 || fail "curl on Shunt failed: $(cat "$WORK/curl.log")"
expect_in "$WORK/curl.log" "fd [0-9]+ \(tcp\): Shunt, in Shunt's subnet"
expect_in "$WORK/curl.log" "^200 10485760"
cmp "$WORK/got.bin" "$dir/www/big.bin" || fail "curl's 10 MiB came back different"
echo "ok: curl: 10 MiB byte-exact"
expect_through_shunt "$WORK/curl.log" 1000

shunt_run wrk -c 16 -t 1 -d 2 "$url/" > "$WORK/wrk.log" 2>&1 || fail "wrk on Shunt failed: $(cat "$WORK/wrk.log")"
expect_in "$WORK/wrk.log" "fd [0-9]+ \(tcp\): Shunt, in Shunt's subnet"
expect_in "$WORK/wrk.log" "Requests/sec"
grep -qE "Socket errors|Non-2xx" "$WORK/wrk.log" && fail "wrk saw errors: $(cat "$WORK/wrk.log")"
expect_through_shunt "$WORK/wrk.log" 1000
echo "clients: PASS"
