#!/bin/bash
# exception.sh - the exception path (exception = yes): Shunt on the veth
# through AF_XDP serves its own sockets (shunt-echo, port 4007), and this
# host's kernel, through the tap Shunt made, serves the rest on the same
# addresses - both at once, each answering once:
#   - a kernel TCP service (socat) and Shunt's echo, 2 MB each at the same
#     time, byte-exact; the tap carries the port's MAC and Shunt's addresses
#   - UDP to a port nobody has: the kernel's port unreachable (ECONNREFUSED)
#   - udp:4007 in exception_ports: the kernel's service answers, not Shunt's echo
#   - an address only the kernel has (ARP for it reaches the kernel)
#   - ping and ping6 answered once, ARP and neighbour solicitation once
#   - to_kernel and from_kernel counted, no drops on the path, and the
#     capture shows the kernel's frames among Shunt's
. "$(dirname "$0")/lib.sh"

topo_up_exception "$TAG" || fail "no exception-path testbed"
# Ports no other test's kernel server takes in the root namespace (a
# wildcard socket there would keep the kernel's services here from binding).
ECHO=4007 KTCP=4080
KIF=k$(printf 'sh-%s' "$TAG")
topo_conf "$TAG" > "$WORK/shunt.conf"
cat >> "$WORK/shunt.conf" <<CONF
exception = yes
exception_ports = udp:$ECHO
capture = $WORK/wire.pcap
CONF
shunt_start "$WORK/shunt.log" "$SHUNT_ECHO" -c "$WORK/shunt.conf" -p "$ECHO" || fail "shunt-echo did not start"
expect_in "$WORK/shunt.log" "exception path: .* on $KIF "

# The kernel's interface: the port's MAC, Shunt's addresses.
[ "$(cat "/sys/class/net/$KIF/address")" = "$(cat "/sys/class/net/sh-$TAG/address")" ] ||
    fail "$KIF has MAC $(cat "/sys/class/net/$KIF/address"), the port $(cat "/sys/class/net/sh-$TAG/address")"
expect_output "$TOPO_SHUNT4/24 .*$TOPO_SHUNT6/64" ip -br addr show dev "$KIF"

# The kernel's services on Shunt's address: TCP echo on $KTCP, and UDP on $ECHO,
# which shunt-echo has too, answering who it is (one datagram).
bg "$WORK/socat-tcp.log" socat -t 30 TCP-LISTEN:$KTCP,bind="$TOPO_SHUNT4",reuseaddr EXEC:cat
bg "$WORK/udp.log" /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$TOPO_SHUNT4', $ECHO))
_, peer = s.recvfrom(100)
s.sendto(b'kernel', peer)"
listening() { ss -ltn | grep -q "$TOPO_SHUNT4:$KTCP " && ss -lun | grep -q "$TOPO_SHUNT4:$ECHO "; }
for _ in $(seq 50); do
    listening && break
    sleep 0.1
done
listening || fail "the kernel's services did not start: $(cat "$WORK/socat-tcp.log" "$WORK/udp.log")"

# Both at once, 2 MB each way, byte-exact.
head -c 2000000 /dev/urandom > "$WORK/data"
peer timeout 30 socat -t 20 - "TCP:$TOPO_SHUNT4:$KTCP" < "$WORK/data" > "$WORK/kernel.out" &
kernel_client=$!
peer timeout 30 socat -t 20 - "TCP:$TOPO_SHUNT4:$ECHO" < "$WORK/data" > "$WORK/shunt.out" &
shunt_client=$!
wait "$kernel_client" || fail "the transfer through the kernel's socat failed"
wait "$shunt_client" || fail "the transfer through shunt-echo failed"
cmp -s "$WORK/data" "$WORK/kernel.out" ||
    fail "the kernel's echo came back as $(stat -c %s "$WORK/kernel.out") bytes, not the 2000000 sent"
cmp -s "$WORK/data" "$WORK/shunt.out" ||
    fail "Shunt's echo came back as $(stat -c %s "$WORK/shunt.out") bytes, not the 2000000 sent"
echo "ok: 2 MB through the kernel's socat (port $KTCP) and Shunt's echo (port $ECHO) at once, byte-exact"

# UDP: a port nobody has is refused by the kernel; an excepted port is the
# kernel's although Shunt's echo has it (its TCP echo there stayed Shunt's).
expect_ok "^refused$" peer /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(('$TOPO_SHUNT4', 9999))
s.send(b'anyone?')
try:
    s.recv(100)
    print('answered')
except ConnectionRefusedError:
    print('refused')"
expect_ok "^kernel$" peer /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b'who?', ('$TOPO_SHUNT4', $ECHO))
print(s.recv(100).decode().strip())"

# An address only the kernel has: its ARP request and the ping reach it.
ip addr add "${TOPO_SHUNT4%.*}.3/32" dev "$KIF"
expect_output "^3 packets transmitted, 3 received" peer ping -c 3 -i 0.2 -W 2 "${TOPO_SHUNT4%.*}.3"

# Shunt's addresses are answered once: ping, ping6, ARP, neighbour solicitation.
for target in "$TOPO_SHUNT4" "$TOPO_SHUNT6"; do
    out=$(peer ping -c 5 -i 0.2 -W 2 "$target" 2>&1) || fail "ping $target: $out"
    grep -q "^5 packets transmitted, 5 received" <<<"$out" || fail "ping $target: $out"
    ! grep -q "DUP!" <<<"$out" || fail "ping $target was answered twice: $out"
    echo "ok: ping $target: 5 answers, none twice"
done
expect_ok "^arp 1 nd 1$" peer /usr/bin/python3 -c "
from scapy.all import ARP, Ether, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6, get_if_hwaddr, conf, in6_getnsma, in6_getnsmac, inet_pton, inet_ntop, socket, srp
conf.verb = 0
iface = 'shp-$TAG'
arp, _ = srp(Ether(dst='ff:ff:ff:ff:ff:ff') / ARP(pdst='$TOPO_SHUNT4'), iface=iface, timeout=1, multi=True)
group = in6_getnsma(inet_pton(socket.AF_INET6, '$TOPO_SHUNT6'))
ns = (Ether(dst=in6_getnsmac(group)) / IPv6(src='$TOPO_PEER6', dst=inet_ntop(socket.AF_INET6, group)) /
      ICMPv6ND_NS(tgt='$TOPO_SHUNT6') / ICMPv6NDOptSrcLLAddr(lladdr=get_if_hwaddr(iface)))
nd, _ = srp(ns, iface=iface, timeout=1, multi=True, filter='icmp6')
print('arp', len(arp), 'nd', len([a for _, a in nd if ICMPv6ND_NA in a]))" 2>&1

# Counted both ways, nothing dropped on the path; lwIP answered no one.
"$top_builddir/apps/shunt-stat" -p "shunt-$TAG" --json -n 1 > "$WORK/stats.json" ||
    fail "shunt-stat failed"
expect_ok "^ok" /usr/bin/python3 -c "
import json
s = json.load(open('$WORK/stats.json'))['/shunt/stats']
d = s['drops']
assert s['to_kernel'] > 1400 and s['from_kernel'] > 1400, (s['to_kernel'], s['from_kernel'])
assert d['kernel_full'] == d['kernel_down'] == d['kernel_nombuf'] == d['tx_ring_full'] == d['no_socket'] == 0, d
b = s['balance']    # every frame accounted for, the kernel's too (stack/stats.h)
assert b['in'] == 1 and b['out'] == 1, b
assert b['to_kernel'] == s['to_kernel'] and b['from_kernel'] == s['from_kernel'] and b['kernel_copies'] > 0, b
print('ok: to_kernel', s['to_kernel'], 'from_kernel', s['from_kernel'], 'kernel copies', b['kernel_copies'],
      'no drops on the path, the balance holds')"
shunt_stop || fail "shunt-echo exited with an error"
expect_in "$WORK/shunt.log" "^shunt: exception path: to_kernel [1-9][0-9]* packets .* from_kernel [1-9][0-9]* packets"

# The capture holds the kernel's frames among Shunt's, both ways.
for dir in "dst port $KTCP" "src port $KTCP"; do
    n=$(tcpdump -nr "$WORK/wire.pcap" "tcp and $dir" 2>/dev/null | wc -l)
    [ "$n" -gt 100 ] || fail "the capture has $n frames with tcp $dir"
    echo "ok: the capture has $n frames with tcp $dir (the kernel's service)"
done
