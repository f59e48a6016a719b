#!/bin/bash
# doctor.sh - shunt-doctor:
#  - on a crafted /proc and /sys (--root), every check is ok on a well-tuned
#    tree and fires (warn or fail) when one file says otherwise; a failing
#    check makes the exit status 1, warnings do not; what an unprivileged
#    user cannot read is reported, not failed;
#  - on this machine, what it reports agrees with /proc, /sys and uname;
#  - attached to a running shunt-echo: its core, pool, busy turns, drops
#    growing while a peer sends what is not Shunt's; and under shunt-run,
#    the socket the policy left on the kernel, with its reason.
. "$(dirname "$0")/lib.sh"

DOCTOR="$top_builddir/apps/shunt-doctor"
PY=/usr/bin/python3
T="$WORK/tree"                      # the crafted root

# ---- a well-tuned machine, file by file ----------------------------------------
put() {                             # put PATH TEXT: write TEXT to $T/PATH
    mkdir -p "$(dirname "$T/$1")"
    printf '%s\n' "$2" > "$T/$1"
}
good_tree() {
    rm -rf "$T"
    put proc/mounts "nodev /dev/hugepages hugetlbfs rw 0 0
bpf /sys/fs/bpf bpf rw 0 0"
    put proc/cmdline "BOOT_IMAGE=/vmlinuz isolcpus=1 nohz_full=1 rcu_nocbs=1"
    put proc/self/limits "Max open files            65536                65536                files
Max locked memory         unlimited            unlimited            bytes"
    put proc/self/status "CapEff:	0000000000000000"
    put proc/sys/kernel/osrelease "6.1.0-28-amd64"
    put proc/interrupts "           CPU0       CPU1
 24:         10          0   PCI-MSI 524288-edge      eth0-rx-0
 30:          5          0   PCI-MSI 524289-edge      sh0-q0"
    put proc/irq/24/smp_affinity_list 0
    put proc/irq/30/smp_affinity_list 0
    put sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 512
    put sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 500
    put sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages 512
    put sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages 500
    put sys/kernel/mm/transparent_hugepage/enabled "always [madvise] never"
    put sys/devices/system/cpu/online 0-1
    put sys/devices/system/cpu/isolated 1
    put sys/devices/system/cpu/nohz_full 1
    mkdir -p "$T"/sys/devices/system/cpu/cpu{0,1}/node0
    put sys/devices/system/cpu/cpu1/cpufreq/scaling_governor performance
    put sys/devices/system/cpu/cpu1/topology/thread_siblings_list 1
    put sys/devices/system/cpu/cpu1/cpuidle/state0/name POLL
    put sys/devices/system/cpu/cpu1/cpuidle/state0/latency 0
    put sys/devices/system/cpu/cpu1/cpuidle/state0/disable 0
    put sys/devices/system/cpu/cpu1/cpuidle/state1/name C6
    put sys/devices/system/cpu/cpu1/cpuidle/state1/latency 133
    put sys/devices/system/cpu/cpu1/cpuidle/state1/disable 1
    # A PCI port on vfio-pci, and sh0 (native XDP, two queues) for AF_XDP.
    local pci=sys/bus/pci/devices/0000:01:00.0
    mkdir -p "$T/$pci" "$T/sys/bus/pci/drivers/vfio-pci" "$T/sys/bus/pci/drivers/ixgbe" \
        "$T/sys/kernel/iommu_groups/5" "$T/sys/class/net/sh0/queues/rx-0" \
        "$T/sys/class/net/sh0/queues/rx-1" "$T/sys/class/net/sh0/device/msi_irqs/30"
    ln -s ../../../bus/pci/drivers/vfio-pci "$T/$pci/driver"
    put $pci/numa_node 0
    ln -s ../../../../bus/pci/drivers/ixgbe "$T/sys/class/net/sh0/device/driver"
    put sys/class/net/sh0/device/numa_node 0
}
conf() {                            # conf [EXTRA-LINES]: a config using the tree's ports
    {
        echo "eal = -l 1 --file-prefix=doc-$TAG-none -a 0000:01:00.0 --vdev=net_af_xdp0,iface=sh0"
        echo "ip = 10.9.0.2/24"
        echo "mbufs = 8191"
        if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi
    } > "$WORK/tree.conf"
}

# doctor_json OUT ARGS...: the report as JSON into OUT; its exit status in RC.
doctor_json() {
    local out=$1
    shift
    RC=0
    "$DOCTOR" --json "$@" > "$out" 2> "$out.err" || RC=$?
}
# level FILE NAME: the level of finding NAME in report FILE (none: absent).
level() {
    $PY - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(next((f["level"] for f in d["findings"] if f["name"] == sys.argv[2]), "none"))
PY
}
measured() {
    $PY - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(next((f["measured"] for f in d["findings"] if f["name"] == sys.argv[2]), ""))
PY
}

# ---- every check ok on the good tree ---------------------------------------------
good_tree
conf
doctor_json "$WORK/good.json" --root "$T" -c "$WORK/tree.conf"
[ "$RC" = 0 ] || fail "good tree: exit status $RC: $(cat "$WORK/good.json" "$WORK/good.json.err")"
$PY - "$WORK/good.json" <<'PY' || fail "good tree: $(cat "$WORK/good.json")"
import json, sys
d = json.load(open(sys.argv[1]))
names = {f["name"]: f for f in d["findings"]}
want = ["config", "hugepages", "hugepages.2048kB", "hugepages.node0.2048kB", "hugetlbfs", "thp",
        "limits.memlock", "limits.nofile", "cpus.isolated", "cpus.nohz_full", "cpus.rcu_nocbs",
        "cpu1.governor", "cpu1.cstates", "cpu1.smt", "irq.kernel", "irq.port", "dpdk",
        "0000:01:00.0.driver", "0000:01:00.0.iommu", "0000:01:00.0.numa", "sh0.exists",
        "sh0.xdp", "sh0.queues", "sh0.numa", "af_xdp.kernel", "af_xdp.bpffs"]
missing = [n for n in want if n not in names]
bad = [(f["name"], f["level"], f["measured"]) for f in d["findings"] if f["level"] != "ok"]
assert not missing and not bad, (missing, bad)
assert all(f["why"] for f in d["findings"]), "a finding without its why"
assert d["worst"] == "ok"
PY
echo "ok: the well-tuned tree: all $($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$WORK/good.json") findings ok, exit 0"

# fires NAME LEVEL WHAT: after the tree was changed, finding NAME is at LEVEL
# (and the exit status follows: 1 for fail, 0 for warn); the tree is then
# made good again.
fires() {
    local name=$1 want=$2 what=$3 got
    doctor_json "$WORK/r.json" --root "$T" -c "$WORK/tree.conf" "${EXTRA[@]}"
    got=$(level "$WORK/r.json" "$name")
    [ "$got" = "$want" ] || fail "$what: $name is '$got', not '$want': $(cat "$WORK/r.json")"
    local rc_want=0
    [ "$want" = fail ] && rc_want=1
    [ "$RC" = "$rc_want" ] || fail "$what: exit status $RC with $name at $want"
    $PY - "$WORK/r.json" "$name" <<'PY' || fail "$what: $name says no fix or why"
import json, sys
f = next(f for f in json.load(open(sys.argv[1]))["findings"] if f["name"] == sys.argv[2])
assert f["why"] and f["measured"] and (f["fix"] or f["level"] == "skip"), f
PY
    echo "ok: $what: $name $want ($(measured "$WORK/r.json" "$name" | cut -c1-90))"
    good_tree
    conf
    EXTRA=()
}
EXTRA=()
H=sys/kernel/mm/hugepages/hugepages-2048kB
C=sys/devices/system/cpu
put $H/free_hugepages 0;                  fires hugepages fail "no free hugepages"
put $H/free_hugepages 5;                  fires hugepages fail "fewer free hugepages than the pool"
put sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages 0
                                          fires hugepages.node0.2048kB warn "none free on the cores' node"
put proc/mounts "bpf /sys/fs/bpf bpf rw 0 0"; fires hugetlbfs fail "hugetlbfs not mounted"
put proc/mounts "nodev /dev/hugepages hugetlbfs rw 0 0"; fires af_xdp.bpffs warn "bpffs not mounted"
conf "eal = -l 1 --no-huge --vdev=net_af_xdp0,iface=sh0"
sed -i '1d' "$WORK/tree.conf";            fires hugepages warn "--no-huge"
put sys/kernel/mm/transparent_hugepage/enabled "[always] madvise never"; fires thp warn "THP always"
put proc/self/limits "Max locked memory         65536                65536                bytes"
                                          fires limits.memlock warn "64 KiB of locked memory"
put proc/self/limits "Max open files            1024                 1024                 files"
                                          fires limits.nofile warn "1024 descriptors"
put $C/isolated "";                       fires cpus.isolated warn "core not isolated"
put $C/nohz_full "(null)";                fires cpus.nohz_full warn "no nohz_full"
put proc/cmdline "isolcpus=1 nohz_full=1"; fires cpus.rcu_nocbs warn "no rcu_nocbs"
put $C/cpu1/cpufreq/scaling_governor powersave; fires cpu1.governor warn "powersave governor"
put $C/cpu1/cpuidle/state1/disable 0;     fires cpu1.cstates warn "C6 on"
put $C/cpu1/topology/thread_siblings_list 0-1; fires cpu1.smt warn "sibling not isolated"
put proc/irq/24/smp_affinity_list 0-1;    fires irq.kernel warn "a kernel NIC's IRQ on the core"
put proc/irq/30/smp_affinity_list 1;      fires irq.port warn "the port's IRQ on the core"
put sys/bus/pci/devices/0000:01:00.0/numa_node 1; fires 0000:01:00.0.numa warn "port on another node"
rm "$T/sys/bus/pci/devices/0000:01:00.0/driver"
ln -s ../../../bus/pci/drivers/ixgbe "$T/sys/bus/pci/devices/0000:01:00.0/driver"
                                          fires 0000:01:00.0.driver fail "PCI port on a kernel driver"
rm "$T/sys/bus/pci/devices/0000:01:00.0/driver"; fires 0000:01:00.0.driver fail "PCI port unbound"
rmdir "$T/sys/kernel/iommu_groups/5";     fires 0000:01:00.0.iommu fail "vfio-pci without an IOMMU"
rm "$T/sys/class/net/sh0/device/driver"
ln -s ../../../../bus/pci/drivers/e1000 "$T/sys/class/net/sh0/device/driver"
                                          fires sh0.xdp warn "a driver without native XDP"
conf "queue = 2";                         fires sh0.queues fail "the queue the config names is not there"
rm -r "$T/sys/class/net/sh0";             fires sh0.exists fail "no such interface"
put proc/sys/kernel/osrelease 4.14.0;     fires af_xdp.kernel fail "Linux 4.14"
put proc/sys/kernel/osrelease 5.1.0;      fires af_xdp.kernel warn "Linux 5.1"
sed -i 's/net_af_xdp0/net_af_packet0/' "$WORK/tree.conf"; fires sh0.exists warn "AF_PACKET"
sed -i 's/-l 1 //' "$WORK/tree.conf";     fires cpus warn "no cores named"
EXTRA=(-p "doc-$TAG-none");               fires instance fail "no instance of that prefix"

# The config is read by the stack's own parser: its one-line error, word
# for word as shunt-echo gives it.
conf
sed -i 's|^ip = .*|ip = 10.0.0.300/24|' "$WORK/tree.conf"
cp "$WORK/tree.conf" "$WORK/bad.conf"
fires config fail "a bad config line"
doctor_json "$WORK/r.json" --root "$T" -c "$WORK/bad.conf"
err=$(sh -c "'$SHUNT_ECHO' -c '$WORK/bad.conf' 2>&1; true" | sed -n "s/^shunt: \(.*bad.conf:2: ip: .*\)/\1/p") && [ -n "$err" ] ||
    fail "shunt-echo gave no error for the bad config"
[ "$(measured "$WORK/r.json" config)" = "$err" ] ||
    fail "the config's error is not the parser's: '$(measured "$WORK/r.json" config)', shunt-echo: '$err'"
echo "ok: the config's error is the stack's own: $err"

# Unprivileged, an unreadable file is reported, not failed.
chmod -R a+rX "$WORK"
chmod 700 "$T/sys/devices/system/cpu/cpu1/cpufreq"
runuser -u nobody -- "$DOCTOR" --json --root "$T" -c "$WORK/tree.conf" > "$WORK/u.json" ||
    fail "unprivileged: exit status $? for an unreadable file: $(cat "$WORK/u.json")"
[ "$(level "$WORK/u.json" cpu1.governor)" = skip ] || fail "unprivileged: $(cat "$WORK/u.json")"
measured "$WORK/u.json" cpu1.governor | grep -q "could not read .*scaling_governor: Permission denied" ||
    fail "unprivileged: no word of what could not be read"
echo "ok: unprivileged: $(measured "$WORK/u.json" cpu1.governor)"
good_tree

# ---- this machine: the findings agree with /proc and /sys ------------------------------
topo_up "$TAG"
topo_conf "$TAG" > "$WORK/shunt.conf"
# Other tests start and stop instances meanwhile: free hugepages may move
# between two reads, so the free count is compared with reads before and after.
agree() {
    local b a
    b=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)
    doctor_json "$WORK/m.json" -c "$WORK/shunt.conf"
    a=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)
    $PY - "$WORK/m.json" "$b" "$a" "$(uname -r)" "sh-$TAG" <<'PY'
import glob, json, os, re, sys
d = json.load(open(sys.argv[1]))
before, after, release, iface = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
f = {x["name"]: x for x in d["findings"]}
def read(p):
    return open(p).read().strip()
for dir in glob.glob("/sys/kernel/mm/hugepages/hugepages-*kB"):
    kb = re.search(r"(\d+)kB", dir).group(1)
    m = re.match(r"(\d+) reserved, (\d+) free", f["hugepages.%skB" % kb]["measured"])
    assert int(m.group(1)) == int(read(dir + "/nr_hugepages")), (kb, m.group(0))
    free = int(read(dir + "/free_hugepages"))
    if kb == "2048":
        assert min(before, after) <= int(m.group(2)) <= max(before, after), (m.group(0), before, after)
    else:
        assert int(m.group(2)) == free, (kb, m.group(0))
gov = "/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor"
if os.path.exists(gov):
    assert f["cpu1.governor"]["measured"] == read(gov), f["cpu1.governor"]
else:
    assert f["cpu1.governor"]["measured"].startswith("no cpufreq"), f["cpu1.governor"]
assert f["af_xdp.kernel"]["measured"] == "Linux " + release, f["af_xdp.kernel"]
assert f["thp"]["measured"] == read("/sys/kernel/mm/transparent_hugepage/enabled"), f["thp"]
iso = read("/sys/devices/system/cpu/isolated")
assert ("isolated: " + iso) in f["cpus.isolated"]["measured"] or \
       ("isolated: '%s'" % iso) in f["cpus.isolated"]["measured"], f["cpus.isolated"]
q = len(glob.glob("/sys/class/net/%s/queues/rx-*" % iface))
assert f[iface + ".queues"]["measured"].startswith("%d RX queues" % q), f[iface + ".queues"]
assert f[iface + ".xdp"]["measured"] == "driver veth: native XDP", f[iface + ".xdp"]
mounted = any(l.split()[2] == "hugetlbfs" for l in open("/proc/mounts"))
assert (f["hugetlbfs"]["level"] == "ok") == mounted, f["hugetlbfs"]
PY
}
tries=0
until agree; do
    tries=$((tries + 1))
    [ $tries -lt 3 ] || fail "this machine: the report disagrees with /proc and /sys: $(cat "$WORK/m.json")"
done
echo "ok: this machine: hugepages, governor, kernel, THP, isolation, queues, XDP mode agree with /proc, /sys and uname"

# ---- a running instance ---------------------------------------------------------------
shunt_start "$WORK/shunt.log" "$SHUNT_ECHO" -c "$WORK/shunt.conf" || fail "shunt-echo did not start"
doctor_json "$WORK/i.json" -p "shunt-$TAG" -i 0.3
[ "$(level "$WORK/i.json" instance)" = ok ] || fail "instance: $(cat "$WORK/i.json" "$WORK/i.json.err")"
$PY - "$WORK/i.json" "$SHUNT_PID" <<'PY' || fail "instance: $(cat "$WORK/i.json")"
import json, re, sys
d = json.load(open(sys.argv[1]))
f = {x["name"]: x for x in d["findings"]}
assert d["pid"] == int(sys.argv[2]), d["pid"]
assert re.match(r"lcore 1 on cpu 1; isolated: ", f["instance.lcore"]["measured"]), f["instance.lcore"]
m = re.match(r"(\d+) free of 16383", f["instance.mbufs"]["measured"])
assert m and f["instance.mbufs"]["level"] == "ok", f["instance.mbufs"]
assert re.match(r"[\d.]+% of \d+ turns in 0.3 s", f["instance.busy"]["measured"]), f["instance.busy"]
assert f["instance.kernel_sockets"]["measured"] == "0 on the kernel", f["instance.kernel_sockets"]
assert "driver net_af_xdp" in f["instance.offloads"]["measured"], f["instance.offloads"]
assert f["instance.numa"]["level"] == "ok", f["instance.numa"]
assert f["instance.dpdk"]["level"] == "ok", f["instance.dpdk"]
assert re.match(r"software \(driver net_af_xdp has no RTE_ETH_RX_OFFLOAD_TIMESTAMP\): the TSC "
                r"line's last error -?\d+ ns", f["instance.timestamps"]["measured"]), f["instance.timestamps"]
PY
echo "ok: instance: $(measured "$WORK/i.json" instance.lcore | cut -c1-40); $(measured "$WORK/i.json" instance.busy)"
# Drops growing now: pings for an address that is not Shunt's, while it looks.
peer ip neigh replace 10.9.0.99 lladdr "$(cat /sys/class/net/sh-$TAG/address)" dev "shp-$TAG"
bg "$WORK/ping.log" ip netns exec "shunt-$TAG" ping -i 0.05 -c 60 10.9.0.99
doctor_json "$WORK/i.json" -p "shunt-$TAG" -i 1
[ "$(level "$WORK/i.json" instance.drops)" = warn ] || fail "no drops growing: $(cat "$WORK/i.json")"
measured "$WORK/i.json" instance.drops | grep -qE "not_for_us \+[1-9]" ||
    fail "drops growing, but not not_for_us: $(measured "$WORK/i.json" instance.drops)"
echo "ok: instance: drops $(measured "$WORK/i.json" instance.drops)"
# Without a config file, the instance's own EAL arguments name its cores and port.
doctor_json "$WORK/i.json" -P "$SHUNT_PID" -i 0.1
[ "$(level "$WORK/i.json" "sh-$TAG.xdp")" = ok ] && [ "$(level "$WORK/i.json" cpu1.smt)" != none ] ||
    fail "-P without a config: the instance's eal arguments were not used: $(cat "$WORK/i.json")"
echo "ok: instance by pid, its EAL arguments from /eal/params"
shunt_stop >/dev/null

# Under shunt-run: a socket to loopback stays on the kernel, and says why.
cat > "$WORK/two.py" <<'PY'
import socket, sys, time
k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
k.connect(("127.0.0.1", 9))                         # loopback: the kernel's
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("0.0.0.0", 7100)); s.listen(8)              # the wildcard: Shunt's
print("ready fd %d" % k.fileno(), flush=True)
time.sleep(30)
PY
run_start "$WORK/run.log" "^ready fd" "$PY" "$WORK/two.py"
kfd=$(sed -n 's/^ready fd //p' "$WORK/run.log")
doctor_json "$WORK/k.json" -p "shunt-$TAG" -i 0.1
[ "$(level "$WORK/k.json" instance.kernel_sockets)" = warn ] &&
    measured "$WORK/k.json" instance.kernel_sockets | grep -q "^1 on the kernel: fd $kfd: loopback$" ||
    fail "kernel sockets: $(measured "$WORK/k.json" instance.kernel_sockets) $(cat "$WORK/k.json.err")"
echo "ok: under shunt-run: $(measured "$WORK/k.json" instance.kernel_sockets)"
run_stop
