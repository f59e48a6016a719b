# scripts/testbed.sh - a kernel peer for Shunt, and a Shunt program to face
# it: a network namespace joined to the host by a veth pair.  Source it, then:
#
#     topo_up TAG                   # netns shunt-TAG; Shunt takes sh-TAG,
#                                   # the peer has shp-TAG (TOPO_QUEUES=N:
#                                   # N queues each end)
#     topo_conf TAG > shunt.conf    # a stack configuration for sh-TAG
#     shunt_start LOG CMD...        # start a Shunt program, wait until it runs
#     topo_exec TAG ping ...        # run something as the peer
#     topo_drop TAG PCT             # the peer's veth drops PCT% each way
#     cpu_pct PID SECONDS           # the share of a core PID uses, in %
#     shunt_stop                    # stop it (SIGINT): it prints its counters
#     topo_down TAG
#
# For the kernel path (shunt-echo --kernel), topo_up_kernel TAG instead of
# topo_up gives sh-TAG Shunt's addresses in the host's own kernel.
#
# TAG is at most 11 characters, unique per test so tests can run side by side.
# The peer answers as 10.9.0.1/24 and fd00:9::1/64; Shunt is meant to be
# 10.9.0.2 and fd00:9::2.  Needs root.

TOPO_PEER4=10.9.0.1
TOPO_PEER6=fd00:9::1
TOPO_SHUNT4=10.9.0.2
TOPO_SHUNT6=fd00:9::2

topo_up() {
    local tag=$1 ns=shunt-$1 ours=sh-$1 peer=shp-$1
    topo_down "$tag"
    ip netns add "$ns"
    # TOPO_QUEUES=N: N RX and TX queues each end (the kernel spreads flows
    # over them), for a group of instances, one a queue.
    local queues=()
    [ -n "${TOPO_QUEUES:-}" ] && queues=(numtxqueues "$TOPO_QUEUES" numrxqueues "$TOPO_QUEUES")
    ip link add "$ours" "${queues[@]}" type veth peer name "$peer" "${queues[@]}"
    ip link set "$peer" netns "$ns"
    # Shunt owns its end: keep the host's IPv6 (router solicitations, MLD) off it.
    sysctl -qw "net.ipv6.conf.$ours.disable_ipv6=1"
    ip link set "$ours" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$TOPO_PEER4/24" dev "$peer"
    ip -n "$ns" addr add "$TOPO_PEER6/64" dev "$peer" nodad
    ip -n "$ns" link set "$peer" up
    # The kernel would hand Shunt frames with checksums left to a NIC.
    ip netns exec "$ns" ethtool -K "$peer" tx off >/dev/null
}

# topo_up_kernel TAG - the same pair for the kernel path: the host's kernel
# keeps sh-TAG, with Shunt's addresses (10.9.0.2, fd00:9::2) and IPv6 on, so
# a program on kernel sockets in the root namespace faces the peer over the
# very same veth.  Those addresses live in the root namespace, so only one
# such pair may exist at a time: this waits for a lock that is held until
# the calling shell exits.
topo_up_kernel() {
    local tag=$1 ours=sh-$1
    exec {TOPO_KERNEL_LOCK}>>/run/lock/shunt-testbed-kernel.lock
    flock -w 600 "$TOPO_KERNEL_LOCK" ||
        { echo "testbed: another kernel-path testbed held the lock for 600 s" >&2; return 1; }
    local stale
    stale=$(ip -o addr show to "$TOPO_SHUNT4/32" | awk '{print $2}')
    if [ -n "$stale" ]; then
        echo "testbed: $TOPO_SHUNT4 is already on $stale in the root namespace;" \
             "a testbed left behind? remove it: topo_down ${stale#sh-}" >&2
        return 1
    fi
    topo_up "$tag"
    topo_give_kernel "$tag"
}

# topo_give_kernel TAG - the host's kernel takes Shunt's addresses on sh-TAG
# (under a lock that keeps them its own: topo_up_kernel's, or
# topo_up_exception's with that testbed's addresses).
topo_give_kernel() {
    local ours=sh-$1
    sysctl -qw "net.ipv6.conf.$ours.disable_ipv6=0"
    ip addr add "$TOPO_SHUNT4/24" dev "$ours"
    ip addr add "$TOPO_SHUNT6/64" dev "$ours" nodad
}

# topo_up_exception TAG - topo_up for Shunt with its exception path on
# (exception = yes): Shunt gives its addresses to a kernel interface in the
# root namespace, so this testbed takes addresses of its own (TOPO_*:
# 10.9.128.0/24, fd00:9:80::/64) that no kernel-path testbed (10.9.0.0/24)
# routes, and one runs at a time: it waits for a lock held until the
# calling shell exits.
topo_up_exception() {
    exec {TOPO_EXCEPTION_LOCK}>>/run/lock/shunt-testbed-exception.lock
    flock -w 600 "$TOPO_EXCEPTION_LOCK" ||
        { echo "testbed: another exception-path testbed held the lock for 600 s" >&2; return 1; }
    TOPO_PEER4=10.9.128.1 TOPO_SHUNT4=10.9.128.2
    TOPO_PEER6=fd00:9:80::1 TOPO_SHUNT6=fd00:9:80::2
    topo_up "$1"
}

topo_down() {
    local tag=$1
    ip link del "sh-$tag" 2>/dev/null || true
    ip netns del "shunt-$tag" 2>/dev/null || true
}

# topo_exec TAG CMD... - run CMD as the peer.
topo_exec() {
    local tag=$1
    shift
    ip netns exec "shunt-$tag" "$@"
}

# topo_drop TAG PCT - nftables in the peer's namespace drops PCT% of the
# frames at random each way (tenths work: 0.1; 0 drops none), in place of
# what it dropped before; each rule counts its drops (nft list table netdev
# loss: chain in, Shunt -> peer; chain out, peer -> Shunt).  This kernel
# has no netem; the rules go with the namespace.  With topo_wire (do it:
# loss.sh, the soak and bench-loss do) both drops are a wire's, on ingress
# hooks; without it the peer's drops are on its own egress hook, which its
# TCP sees and resends at once (see topo_wire): not a loss that way.
topo_drop() {
    local tag=$1 pct=$2 dev=shp-$1 from_peer per_mille
    per_mille=$(awk -v p="$pct" 'BEGIN { printf "%d", p * 10 + 0.5 }')
    topo_exec "$tag" nft delete table netdev loss 2>/dev/null || true
    [ "$per_mille" = 0 ] && return 0
    if topo_exec "$tag" ip link show pin >/dev/null 2>&1; then
        from_peer="type filter hook ingress device pout priority 0;"
    else
        from_peer="type filter hook egress device $dev priority 0;"
    fi
    topo_exec "$tag" nft -f - <<NFT
table netdev loss {
    chain in { type filter hook ingress device $dev priority 0; numgen random mod 1000 lt $per_mille counter drop; }
    chain out { $from_peer numgen random mod 1000 lt $per_mille counter drop; }
}
NFT
}

# topo_wire TAG - a wire inside the peer's namespace that nftables and tc
# can hurt the way a real one hurts, each way.  A fault on the peer's own
# interface is not one: a frame its egress hook drops is refused to the
# sender (NET_XMIT_DROP), so the kernel's TCP sends it again at once and
# counts no loss, and its TCP hands that hook GSO packets of many segments.
# So the peer's addresses move to pin, one end of a second veth pair, whose
# other end pout is bridged with shp-TAG; then every hook below is an
# ingress hook or a qdisc on the bridge's way out, which the sender never
# sees, and the peer sends one segment per frame:
#     peer -> Shunt   ingress of pout (then the bridge, out of shp-TAG: tbf
#                     on shp-TAG limits this way)
#     Shunt -> peer   ingress of shp-TAG (then the bridge, out of pout: tbf
#                     on pout limits this way)
# `dup to` on either ingress hook, to the bridge's other port, duplicates
# that way.  After topo_up TAG, before anything talks.
topo_wire() {
    local tag=$1 ns=shunt-$1 peer=shp-$1
    ip -n "$ns" addr flush dev "$peer"
    ip -n "$ns" link add pin type veth peer name pout
    ip -n "$ns" link add br0 type bridge
    ip -n "$ns" link set br0 type bridge stp_state 0 forward_delay 0
    # The bridge itself must not answer for the peer's addresses (Linux's
    # ARP answers for any of the host's on any interface): a frame to its
    # MAC would reach the peer's stack without crossing pout and pin.
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.br0.arp_ignore=1 net.ipv6.conf.br0.disable_ipv6=1
    ip -n "$ns" link set "$peer" master br0
    ip -n "$ns" link set pout master br0
    ip -n "$ns" addr add "$TOPO_PEER4/24" dev pin
    ip -n "$ns" addr add "$TOPO_PEER6/64" dev pin nodad
    local dev
    for dev in pin pout "$peer"; do
        ip netns exec "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null
        ip -n "$ns" link set "$dev" gso_max_segs 1
        ip -n "$ns" link set "$dev" up
    done
    ip -n "$ns" link set br0 up
}

# topo_conf TAG [CORE] - a stack configuration for Shunt on sh-TAG: AF_XDP,
# pinned to CORE (default 1), addresses 10.9.0.2/24 and fd00:9::2/64.
topo_conf() {
    local tag=$1 core=${2:-1}
    cat <<CONF
# Shunt on sh-$tag, facing the kernel in netns shunt-$tag
eal = -l $core --file-prefix=shunt-$tag --no-pci --vdev=net_af_xdp0,iface=sh-$tag
ip = $TOPO_SHUNT4/24
gateway = $TOPO_PEER4
ip6 = $TOPO_SHUNT6/64
CONF
}

# shunt_start LOG CMD... - run CMD in the background with its output in LOG,
# and wait until it says it is running.  Sets SHUNT_PID.
shunt_start() {
    local log=$1
    shift
    : >"$log"   # exists before the program starts, for the grep below
    "$@" >"$log" 2>&1 </dev/null &
    SHUNT_PID=$!
    for _ in $(seq 200); do
        # "prog: running", not any line that says running (libbpf's do)
        grep -qE '^[[:alnum:]_-]+: running' "$log" && return 0
        if ! kill -0 "$SHUNT_PID" 2>/dev/null; then
            echo "testbed: $* exited before it ran:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "testbed: $* did not start within 20 s:" >&2
    cat "$log" >&2
    return 1
}

# running PID - whether PID is still running (an exited child that has not
# been waited for is a zombie: gone, for this question).
running() {
    local state
    state=$(sed -E 's/^.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# cpu_pct PID SECONDS - the share of one core PID used over the next
# SECONDS, in % with one decimal (utime + stime of /proc/PID/stat, in clock
# ticks: 10 ms each here, so measure a second or more).
cpu_pct() {
    local pid=$1 secs=$2 before after
    before=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")
    sleep "$secs"
    after=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")
    awk -v d=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$secs" \
        'BEGIN { printf "%.1f\n", 100 * d / hz / s }'
}

# shunt_stop - stop the program shunt_start started; returns its status.
# One that does not stop within 20 s of SIGINT is killed, and that fails.
shunt_stop() {
    [ -n "${SHUNT_PID:-}" ] || return 0
    local pid=$SHUNT_PID rc=0
    SHUNT_PID=
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 200); do
        running "$pid" || break
        sleep 0.1
    done
    if running "$pid"; then
        echo "testbed: pid $pid did not stop within 20 s of SIGINT: killed" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" || rc=$?
    return $rc
}
