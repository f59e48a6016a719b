#!/bin/bash
# ping.sh - the Linux kernel pings Shunt over a veth pair through AF_XDP:
# ping and ping6 answered, 1,000 pings without loss, and 8,000-byte pings,
# fragmented both ways, answered over IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"

tb_up

expect_output " 0% packet loss" peer ping -c 3 -i 0.2 -W 2 "$TOPO_SHUNT4"
expect_output " 0% packet loss" peer ping -6 -c 3 -i 0.2 -W 2 "$TOPO_SHUNT6"
expect_output "^1000 packets transmitted, 1000 received, 0% packet loss" \
    peer ping -c 1000 -i 0.002 -W 2 -q "$TOPO_SHUNT4"
expect_output "^5 packets transmitted, 5 received" peer ping -c 5 -i 0.2 -W 2 -s 8000 "$TOPO_SHUNT4"
expect_output "^5 packets transmitted, 5 received" peer ping -6 -c 5 -i 0.2 -W 2 -s 8000 "$TOPO_SHUNT6"
# The 8,000-byte replies really came back in pieces, as the MTU demands.
expect_output "^8008 bytes from $TOPO_SHUNT4" peer ping -c 1 -W 2 -s 8000 -M dont "$TOPO_SHUNT4"
# A link-local ping finds Shunt by neighbour discovery on its own.
ll=$(grep -oE "ipv6 FE80::[0-9A-F:]+" "$WORK/shunt.log" | cut -d' ' -f2 | tr 'A-F' 'a-f')
[ -n "$ll" ] || fail "shunt-echo did not report its link-local address"
expect_output " 0% packet loss" peer ping -6 -c 2 -i 0.2 -W 2 "$ll%shp-$TAG"

shunt_stop || fail "shunt-echo exited with an error"
rx=$(counter rx)
[ "${rx:-0}" -ge 1020 ] || fail "shunt-echo counted $rx frames received, expected at least 1020"
for c in rx_nombuf tx_nombuf tx_ring_full bad_frame; do
    [ "$(counter $c)" = 0 ] || fail "counter $c is $(counter $c), expected 0"
done
echo "ok: counters: $(grep '^shunt: drops' "$WORK/shunt.log")"
