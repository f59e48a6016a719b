#!/bin/bash
# tcp-keepalive.sh - TCP keepalive, both ways round:
#   the kernel holds an idle connection to the Shunt server with keepalive
#   1,1,2: Shunt answers the probes, so it survives, and still echoes;
#   the Shunt client holds an idle connection to the kernel server with
#   keepalive 1,1,2: it survives while the peer answers, and once the peer
#   vanishes (its link goes down) the connection fails with ETIMEDOUT.
# SHUNT_PATH=kernel|shunt picks the path (see lib.sh).
. "$(dirname "$0")/lib.sh"

path_up

echo "== Shunt serves, the kernel holds an idle connection with keepalive"
echo_server
expect_ok "^peer: tcp-keepalive: ok" peer_py tcp-keepalive "$TOPO_SHUNT4" 7 --keepalive 1,1,2 --hold 4
shunt_stop || fail "shunt-echo exited with an error"

echo "== Shunt holds an idle connection with keepalive, the kernel serves, then vanishes"
peer_start echo-server 7
bg "$WORK/client.log" timeout -k 5 60 "$SHUNT_ECHO" "${ECHO_STACK[@]}" --client "$TOPO_PEER4" \
    --keepalive 1,1,2 --hold 30
client=$BG_PID
wait_for_line "$WORK/client.log" "^shunt-echo: connected to .*, holding it idle" 20 ||
    fail "the keepalive client did not connect: $(cat "$WORK/client.log")"
# Probes every second after a second idle, 2 unanswered ones end it: after
# 4 s of answered probes it must still be there.
sleep 4
kill -0 "$client" 2>/dev/null || fail "the keepalive client gave up while the peer answered: $(cat "$WORK/client.log")"
echo "ok: the connection survives 4 s of keepalive probes"
peer ip link set dev "shp-$TAG" down
rc=0
wait "$client" || rc=$?
[ $rc = 0 ] || fail "the keepalive client exited $rc: $(cat "$WORK/client.log")"
grep -q "^shunt-echo: keepalive: the connection failed: Connection timed out" "$WORK/client.log" ||
    fail "expected ETIMEDOUT once the peer vanished: $(cat "$WORK/client.log")"
echo "ok: $(grep "keepalive: the connection failed" "$WORK/client.log")"
