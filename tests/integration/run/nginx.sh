#!/bin/bash
# nginx.sh - Debian's nginx, unchanged, on Shunt under shunt-run, in its
# default master + worker mode with Debian's default nginx.conf (only the
# listen address, one worker and the file locations changed): the master,
# as root, opens the listener (FIONBIO, listen() twice, TCP_DEFER_ACCEPT)
# and daemonises; the worker it forks drops to www-data, epoll_waits on the
# inherited listener and serves.  curl in the peer's namespace fetches a
# 10 MiB file byte-exact with `sendfile on` (Debian's default: TCP_CORK,
# writev, sendfile64) and `sendfile off`, and wrk -c 64 loads it.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/integration/run/nginx-conf.sh"

run_up
url="http://$TOPO_SHUNT4:8080"
# nginx daemonises into a session of its own: on any exit, its process
# group (the master and its worker) goes with the test.
master=
trap '[ -n "$master" ] && kill -KILL -- "-$master" 2>/dev/null; tb_cleanup' EXIT

for sendfile in on off; do
    dir="$WORK/nginx-$sendfile"
    nginx_conf "$dir" 8080
    sed -i "s/^\([[:space:]]*\)sendfile on;/\1sendfile $sendfile;/" "$dir/nginx.conf"
    grep -q "sendfile $sendfile;" "$dir/nginx.conf" || fail "no sendfile line in nginx.conf"
    # The launcher's process is the master that daemonises: it returns at once.
    ASAN_OPTIONS=detect_leaks=0 "$SHUNT_RUN" -v -c "$WORK/shunt.conf" nginx -c "$dir/nginx.conf" \
        > "$WORK/nginx-$sendfile.log" 2>&1 || fail "nginx did not start: $(cat "$WORK/nginx-$sendfile.log")"
    wait_for_line "$dir/error.log" "drives the stack now" 20 ||
        { cat "$WORK/nginx-$sendfile.log" "$dir/error.log" >&2; fail "nginx's worker did not take the stack"; }
    master=$(cat "$dir/nginx.pid")
    expect_in "$WORK/nginx-$sendfile.log" "fd [0-9]+ \(tcp\): Shunt, the wildcard address"
    [ "$(ps -o user= --ppid "$master" | sort -u)" = www-data ] || fail "the worker does not run as www-data"

    expect_ok "^200 10485760" peer curl -s -o "$WORK/got.bin" -w "%{http_code} %{size_download}\n" "$url/big.bin"
    cmp "$WORK/got.bin" "$dir/www/big.bin" || fail "sendfile $sendfile: the 10 MiB file came back different"
    echo "ok: sendfile $sendfile: 10 MiB byte-exact"
    expect_ok "hello from nginx" curl -s "http://127.0.0.1:8080/"     # the kernel's side, from this host
    expect_ok "Requests/sec" peer timeout 30 wrk -c 64 -t 1 -d 2 "$url/"
    out=$(peer timeout 30 wrk -c 64 -t 1 -d 1 "$url/")
    grep -qE "Socket errors|Non-2xx" <<<"$out" && fail "wrk saw errors: $out"
    echo "ok: wrk -c 64: $(grep Requests/sec <<<"$out")"

    kill -QUIT "$master"
    for _ in $(seq 100); do running "$master" || break; sleep 0.1; done
    running "$master" && fail "nginx's master did not stop on SIGQUIT"
    master=
    grep -E "\[(alert|emerg|crit)\]" "$dir/error.log" && fail "nginx logged errors"
done
echo "nginx: PASS"
