#!/bin/bash
# mcast.sh - multicast on Shunt with a kernel publisher in the peer's
# namespace: a receiver (tests/integration/mcast.py, Python's sockets under
# shunt-run) joins and leaves groups as the test tells it, and the kernel
# sends.  Only joined groups are delivered; a leave stops delivery and takes
# the group out of the table (and the port's filter: shunt-stat); joins are
# reported in IGMPv3 as the kernel's side of the wire sees them (TO_EX,
# ALLOW with the source); a Linux bridge snooping IGMPv3 and MLDv2, the
# link's querier, learns the groups from Shunt's answers to its queries and
# forgets one Shunt leaves; IGMPv3 general and group-specific, MLDv2 and
# MLDv1 general, then IGMPv2 general queries crafted with scapy are answered
# in the querier's version (port/mcreport.h); source filters (INCLUDE,
# EXCLUDE) drop what they must, counted; 1,000 groups on one socket each
# deliver.
. "$(dirname "$0")/lib.sh"

MCAST_PY="$top_srcdir/tests/integration/mcast.py"
SHUNT_STAT="$top_builddir/apps/shunt-stat"
port=5000
run_up
peer_if=shp-$TAG

mkfifo "$WORK/cmd"
run_start "$WORK/recv.log" "mcast.py: ready" /usr/bin/python3 "$MCAST_PY" recv "$WORK/cmd" $port
exec 7>"$WORK/cmd"

# tell CMD...: the receiver does CMD and says it is done (or what it got).
tell() {
    local before
    before=$(wc -l <"$WORK/recv.log")
    echo "$*" >&7
    for _ in $(seq 300); do
        [ "$(wc -l <"$WORK/recv.log")" -gt "$before" ] && grep -qE "^(done|got)" \
            <(tail -n +"$((before + 1))" "$WORK/recv.log") && break
        kill -0 "$RUN_PID" 2>/dev/null || fail "the receiver exited: $(cat "$WORK/recv.log")"
        sleep 0.1
    done
    REPLY=$(tail -n +"$((before + 1))" "$WORK/recv.log" | grep -E "^(done|got)" | tail -1)
    [ -n "$REPLY" ] || fail "the receiver did not answer '$*'"
}

publish() {
    peer /usr/bin/python3 "$MCAST_PY" send "$1" "$2" $port "$TOPO_PEER4" >/dev/null || fail "the publisher failed"
}

# received N SECS EXPECTED: the receiver got exactly EXPECTED ("got 3: G=3").
received() {
    tell expect "$1" "$2"
    [ "$REPLY" = "$3" ] || fail "received '$REPLY', expected '$3'"
    echo "ok: $REPLY"
}

stat_line() {
    "$SHUNT_STAT" -P "$RUN_PID" -n 1 | grep "^multicast:" || fail "shunt-stat shows no multicast line"
}

groups_now() {
    stat_line | grep -oE "^multicast: [0-9]+" | grep -oE "[0-9]+"
}

echo "== joined and unjoined groups"
base=$(groups_now)
tell join 239.9.1.1
[ "$(groups_now)" = $((base + 1)) ] || fail "shunt-stat: $(stat_line) after a join"
echo "ok: $(stat_line)"
publish 239.9.1.1 3
publish 239.9.1.2 3
received 6 3 "got 3: 239.9.1.1=3"

echo "== a leave stops delivery and takes the group out"
tell leave 239.9.1.1
[ "$(groups_now)" = "$base" ] || fail "shunt-stat: $(stat_line) after the leave"
publish 239.9.1.1 3
received 3 1 "got 0: "

echo "== joins reported in IGMPv3"
peer /usr/bin/python3 "$MCAST_PY" listen 2 "$peer_if" >"$WORK/listen.log" &
listener=$!
for _ in $(seq 100); do grep -q listening "$WORK/listen.log" && break; sleep 0.1; done
tell join 239.9.1.3
tell ssm 239.9.1.7 "$TOPO_PEER4"
wait $listener || fail "the listener failed: $(cat "$WORK/listen.log")"
out=$(cat "$WORK/listen.log")
grep -qE "^record 4 239.9.1.3$" <<<"$out" || fail "no TO_EX for 239.9.1.3: $out"
grep -qE "^record 5 239.9.1.7 $TOPO_PEER4$" <<<"$out" || fail "no ALLOW for 239.9.1.7: $out"
echo "ok: TO_EX and ALLOW seen, $(grep -c '^report 0x22' <<<"$out") reports"
tell join6 ff15::9

echo "== a Linux bridge's snooping querier learns the groups from Shunt's answers"
# The peer's end goes into a bridge that snoops IGMPv3 and MLDv2 and is the
# link's querier (an implementation that is not Shunt's reads its reports).
# The groups were joined before it existed, so only Shunt's answers to its
# queries can put them in its table; a leave then takes one out (the
# bridge's group-specific queries go unanswered).
bridge_ns=(ip -n "shunt-$TAG")
"${bridge_ns[@]}" link add br-mc type bridge mcast_snooping 1 mcast_querier 1 \
    mcast_igmp_version 3 mcast_mld_version 2 mcast_startup_query_interval 100 \
    mcast_query_interval 200 mcast_query_response_interval 100 mcast_last_member_interval 50 ||
    fail "no bridge with IGMPv3 snooping"
"${bridge_ns[@]}" addr flush dev "$peer_if"
"${bridge_ns[@]}" link set "$peer_if" master br-mc
"${bridge_ns[@]}" addr add "$TOPO_PEER4/24" dev br-mc
"${bridge_ns[@]}" addr add "$TOPO_PEER6/64" dev br-mc nodad
"${bridge_ns[@]}" link set br-mc up
# mdb_has PATTERN SECS: the bridge's table has a line matching PATTERN
# within SECS seconds.
mdb_has() {
    for _ in $(seq $(($2 * 10))); do
        bridge -n "shunt-$TAG" -d mdb show dev br-mc | grep -qE "$1" && return 0
        sleep 0.1
    done
    return 1
}
mdb() { bridge -n "shunt-$TAG" -d mdb show dev br-mc; }
mdb_has "port $peer_if grp 239.9.1.3 .*filter_mode exclude" 15 ||
    fail "the bridge did not learn 239.9.1.3 (EXCLUDE): $(mdb)"
mdb_has "port $peer_if grp 239.9.1.7 src $TOPO_PEER4 " 5 ||
    fail "the bridge did not learn 239.9.1.7 from $TOPO_PEER4: $(mdb)"
mdb_has "port $peer_if grp 239.9.1.7 .*filter_mode include" 5 ||
    fail "the bridge did not learn 239.9.1.7 as INCLUDE: $(mdb)"
mdb_has "port $peer_if grp ff15::9 " 5 || fail "the bridge did not learn ff15::9: $(mdb)"
echo "ok: the bridge's table: $(mdb | grep -cE "port $peer_if grp") entries for Shunt's port"
tell leave 239.9.1.3
for _ in $(seq 50); do
    mdb | grep -qE "grp 239.9.1.3 " || break
    sleep 0.1
done
! mdb | grep -qE "grp 239.9.1.3 " || fail "the bridge kept 239.9.1.3 after the leave: $(mdb)"
mdb_has "port $peer_if grp 239.9.1.7 " 1 || fail "the leave took 239.9.1.7 too: $(mdb)"
echo "ok: a leave takes 239.9.1.3 out of the bridge's table, 239.9.1.7 stays"
tell join 239.9.1.3
# The peer's end as it was: the rest filters at Shunt, not at a bridge.
"${bridge_ns[@]}" link del br-mc
"${bridge_ns[@]}" addr add "$TOPO_PEER4/24" dev "$peer_if"
"${bridge_ns[@]}" addr add "$TOPO_PEER6/64" dev "$peer_if" nodad

echo "== queries answered: IGMPv3, MLDv2, MLDv1, then IGMPv2"
# query KIND WHAT PATTERN...: a KIND query is answered with a line
# matching each PATTERN (WHAT says what they are).
query() {
    local kind=$1 what=$2 pattern
    shift 2
    out=$(peer /usr/bin/python3 "$MCAST_PY" query "$kind" "$peer_if" 239.9.1.3) ||
        fail "the $kind query failed: $out"
    for pattern in "$@"; do
        grep -qE "$pattern" <<<"$out" || fail "no $what to a $kind query ($pattern): $out"
    done
    echo "ok: $kind query answered with $what: $(grep -cE '^report' <<<"$out") reports"
}
query v3 "IS_EX 239.9.1.3 and IS_IN 239.9.1.7 {peer}" "^record 2 239.9.1.3$" \
    "^record 1 239.9.1.7 $TOPO_PEER4$"
query v3group "IS_EX 239.9.1.3" "^record 2 239.9.1.3$"
query mld2 "an MLDv2 IS_EX ff15::9" "^record 2 ff15::9$"
query mld "an MLDv1 report for ff15::9" "^report 131 ff15::9$"
query v2 "an IGMPv2 report for 239.9.1.3" "^report 0x16 239.9.1.3$"

echo "== source filters"
tell ssm 239.9.1.4 "$TOPO_PEER4"
publish 239.9.1.4 3
received 3 3 "got 3: 239.9.1.4=3"
tell ssm 239.9.1.5 10.9.0.77
publish 239.9.1.5 3
received 3 1 "got 0: "
tell join 239.9.1.6
tell block 239.9.1.6 "$TOPO_PEER4"
publish 239.9.1.6 3
received 3 1 "got 0: "

echo "== 1,000 groups on one socket"
tell joinmany 239.10.0.0 1000
[ "$(groups_now)" -ge $((base + 1000)) ] || fail "shunt-stat: $(stat_line) after 1,000 joins"
echo "ok: $(stat_line)"
peer /usr/bin/python3 "$MCAST_PY" sendmany 239.10.0.0 1000 $port "$TOPO_PEER4" >/dev/null || fail "the publisher failed"
tell expect 1000 10
n=$(grep -oE "^got [0-9]+" <<<"$REPLY" | grep -oE "[0-9]+")
[ "$n" = 1000 ] && [ "$(grep -oE '=1( |$)' <<<"$REPLY" | wc -l)" = 1000 ] ||
    fail "1,000 groups: received '${REPLY:0:200}...'"
echo "ok: 1,000 groups, one datagram each"
tell leavemany 239.10.0.0 1000

echo quit >&7
exec 7>&-
wait "$RUN_PID" || fail "the receiver failed: $(cat "$WORK/recv.log")"
filtered=$(grep -oE "source_filtered=[0-9]+" "$WORK/recv.log" | grep -oE "[0-9]+$" | tail -1)
[ "${filtered:-0}" -ge 6 ] || fail "source_filtered ${filtered:-none}, expected at least 6: $(cat "$WORK/recv.log")"
echo "ok: source_filtered $filtered"
echo "mcast: PASS"
