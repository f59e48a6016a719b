#!/bin/bash
# errors.sh - every way shunt-echo can be set up wrong ends the same way: a
# line "shunt: <what is wrong and how to fix it>" on stderr, and a non-zero
# exit (not a crash).
. "$(dirname "$0")/lib.sh"

# must_fail PATTERN CMD...: CMD exits 1 and says a "shunt: " line matching PATTERN.
must_fail() {
    local pattern=$1 rc=0
    shift
    "$@" >"$WORK/out" 2>&1 </dev/null || rc=$?
    [ "$rc" = 1 ] || { cat "$WORK/out" >&2; fail "'$*' exited $rc, expected 1"; }
    grep -qE "^shunt: .*$pattern" "$WORK/out" || { cat "$WORK/out" >&2; fail "'$*' did not say /$pattern/"; }
    echo "ok: $(grep -E "^shunt: .*$pattern" "$WORK/out" | head -1)"
}

conf() {    # conf NAME LINES...: a configuration file in the scratch directory
    local f="$WORK/$1.conf"
    shift
    printf '%s\n' "$@" > "$f"
    echo "$f"
}
prefix="--file-prefix=shunt-$TAG --no-pci --log-level=lib.eal:error"

# No configuration at all.
must_fail "SHUNT_CONFIG" env -u SHUNT_CONFIG "$SHUNT_ECHO"
must_fail "cannot open configuration file /nonexistent" "$SHUNT_ECHO" -c /nonexistent
SHUNT_CONFIG=$(conf env "eal = -l 1 $prefix" "ip = 1.2.3") \
    must_fail "env.conf:2: ip: '1.2.3' is not" "$SHUNT_ECHO"

# Bad values, named by file and line.
must_fail "bad.conf:2: ip: '10.0.0.300/24' is not an IPv4 address/prefix" \
    "$SHUNT_ECHO" -c "$(conf bad "eal = -l 1 $prefix" "ip = 10.0.0.300/24")"
must_fail "key.conf:3: unknown key 'gatway'" \
    "$SHUNT_ECHO" -c "$(conf key "eal = -l 1 $prefix" "ip = 10.0.0.2/24" "gatway = 10.0.0.1")"

# The EAL refuses the eal line: an unknown driver, named.
must_fail "no DPDK driver takes --vdev=net_nosuch0 \(the eal line in .*\): check the driver's name" \
    "$SHUNT_ECHO" -c "$(conf vdev "eal = -l 1 $prefix --vdev=net_nosuch0" "ip = 10.0.0.2/24")"

# The eal line makes no port, or not the one named.
must_fail "no DPDK port: the eal line in .* creates none" \
    "$SHUNT_ECHO" -c "$(conf noport "eal = -l 1 $prefix" "ip = 10.0.0.2/24")"
must_fail "no DPDK port named net_tap0" \
    "$SHUNT_ECHO" -c "$(conf named "eal = -l 1 $prefix --vdev=net_null0" "port = net_tap0" "ip = 10.0.0.2/24")"

# AF_XDP and AF_PACKET on an interface that does not exist.
must_fail "net_af_packet cannot open nosuch$$ either: does the interface exist" \
    "$SHUNT_ECHO" -c "$(conf noif "eal = -l 1 $prefix --vdev=net_af_xdp0,iface=nosuch$$" "ip = 10.0.0.2/24")"

# An MTU the port cannot take.
must_fail "mtu = 9702 in .*port net_null0 cannot take: lower mtu to" \
    "$SHUNT_ECHO" -c "$(conf mtu "eal = -l 1 $prefix --vdev=net_null0" "ip = 10.0.0.2/24" "mtu = 9702")"

# No hugepages: hide the kernel's hugepage counts in a private mount namespace.
good=$(conf good "eal = -l 1 $prefix --vdev=net_null0" "ip = 10.0.0.2/24")
must_fail "no free hugepages: run scripts/setup" \
    unshare -m --propagation private sh -c \
    'mount -t tmpfs none /sys/kernel/mm/hugepages && exec "$0" -c "$1"' "$SHUNT_ECHO" "$good"
must_fail "hugetlbfs is not mounted" \
    unshare -m --propagation private sh -c \
    'awk "\$3 == \"hugetlbfs\" {print \$2}" /proc/mounts | xargs -r umount && exec "$0" -c "$1"' \
    "$SHUNT_ECHO" "$good"

# Two instances with one --file-prefix: the second is told to change it.
shunt_start "$WORK/shunt.log" "$SHUNT_ECHO" -c "$good" || fail "shunt-echo on net_null0 did not start"
must_fail "different --file-prefix" "$SHUNT_ECHO" -c "$good"
shunt_stop || fail "the first instance exited with an error"

# A pool the port would drain: AF_XDP fills its RX queue with 2,048 mbufs.
# A configuration error, so no fallback to net_af_packet either.
topo_up "$TAG"
small=$(conf small "$(topo_conf "$TAG" | grep '^eal')" "ip = 10.9.0.2/24" \
        "mbufs = 2048" "rx_ring = 256" "tx_ring = 256")
must_fail "port net_af_xdp0 keeps 2048 of the 2048 mbufs for itself: raise mbufs in .* to at least" \
    "$SHUNT_ECHO" -c "$small"
grep -q "falling back" "$WORK/out" && fail "an mbuf shortage must not fall back to net_af_packet"
echo "ok: no fallback for a configuration error"
